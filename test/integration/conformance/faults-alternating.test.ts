// Engine conformance, faults (2 of 2): the fault matrix of ../reliability/matrix.ts for alternating
// users and pre-created pairs, on every engine of ./engines.ts, then the leak canary. Single users:
// faults-single.test.ts.
import { defineMatrix } from '../reliability/matrix';
import { ENGINES_UNDER_TEST } from './engines';

defineMatrix(ENGINES_UNDER_TEST, ['alternating', 'pair']);
