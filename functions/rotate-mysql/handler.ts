import { mysqlEngine } from '../../shared/engines/mysql';
import { createRotationHandler } from '../../shared/rotation/handler';

/** Rotates MySQL, Aurora MySQL and MariaDB credentials: single user, alternating users, or a pre-created pair. */
export const handler = createRotationHandler({
  serviceName: 'rotate-mysql',
  engine: mysqlEngine,
  contract: { engines: ['mysql', 'aurora-mysql', 'mariadb'], defaultPort: 3306 },
});
