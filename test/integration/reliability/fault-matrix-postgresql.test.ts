// The fault matrix on PostgreSQL (cells: see matrix.ts).
import { defineMatrix } from './matrix';

defineMatrix('postgresql', 'single');
