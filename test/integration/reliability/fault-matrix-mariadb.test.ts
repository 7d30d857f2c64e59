// The fault matrix on MariaDB through the MySQL handler (cells: see matrix.ts).
import { defineMatrix } from './matrix';

defineMatrix('mariadb', 'alternating');
