import { postgresql } from '../../shared/engines/postgresql';
import { createRotationHandler } from '../../shared/rotation/handler';

/** Rotates PostgreSQL (and Aurora PostgreSQL) credentials: single user, alternating users, or a pre-created pair. */
export const handler = createRotationHandler({
  serviceName: 'rotate-postgresql',
  engine: postgresql,
  contract: { engines: ['postgres', 'aurora-postgresql'], defaultPort: 5432 },
});
