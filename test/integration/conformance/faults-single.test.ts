// Engine conformance, faults (1 of 2): the fault matrix of ../reliability/matrix.ts for single
// users, on every engine of ./engines.ts, then the leak canary. The other half (alternating users,
// pre-created pairs) is faults-alternating.test.ts: two files, so the halves can run in parallel.
import { defineMatrix } from '../reliability/matrix';
import { ENGINES_UNDER_TEST } from './engines';

defineMatrix(ENGINES_UNDER_TEST, ['single']);
