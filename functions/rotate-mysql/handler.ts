import { mysqlEngine } from '../../shared/engines/mysql';
import { createRotationHandler } from '../../shared/runtime/rotation';

/** Rotates MySQL, Aurora MySQL and MariaDB credentials: single user, alternating users, or a pre-created pair. */
export const handler = createRotationHandler(mysqlEngine);
