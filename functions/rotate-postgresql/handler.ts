import { postgresql } from '../../shared/engines/postgresql';
import { createRotationHandler } from '../../shared/runtime/rotation';

/** Rotates PostgreSQL (and Aurora PostgreSQL) credentials: single user, alternating users, or a pre-created pair. */
export const handler = createRotationHandler(postgresql);
