// The fault matrix, run for every engine of the conformance suite (test/integration/conformance/
// faults-single.test.ts and faults-alternating.test.ts: one file per group of strategies, so that
// where vitest runs several files at once the two halves run in parallel).
//
// For each engine, strategy, step and fault, one rotation through the real handler, the sandbox's real
// orchestration and a real database behind a fault-injecting proxy. After each: AWSCURRENT logs
// in; for alternating users and pairs AWSPREVIOUS too; the rotation completes (by the sandbox's
// own retry, or by retryPendingRotation once the fault is gone); no AWSPENDING is left. While a
// rotation is left pending, AWSCURRENT of alternating users still logs in (rig.check). At the end,
// the leak canary over everything the file did.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFault, STEPS, type Fault, type Rig, type RigEngine, type Strategy, type Subject } from '../../../local/faults/rig';
import type { RotationStep } from '../../../local/secrets-manager';
import type { EngineUnderTest } from '../conformance/engines';
import { startTestRig } from './rig';

/**
 * Steps that open database connections. (finishSecret connects only for a MySQL 8.0.14+ single
 * user, to discard the retained password; on MariaDB and PostgreSQL it does not.)
 */
export const dbSteps = (_engine: RigEngine, _strategy: Strategy): RotationStep[] => ['setSecret', 'testSecret'];

/** RELIABILITY_FULL=1: also throttle every step past the SDK's retries (each such cell costs 8–20 s of SDK back-off). */
const FULL = ['1', 'true', 'yes'].includes(process.env['RELIABILITY_FULL'] ?? '');

/**
 * Faults for one step, each on the step's first delivery (absorbed by the sandbox's
 * whole-rotation retry). `throttleFails`: throttle enough calls to exhaust the SDK's 5 attempts
 * (slow: the SDK backs off ~0.5–8 s per retry on throttling), else one call (absorbed by the SDK).
 */
export function stepFaults(step: RotationStep, throttleFails: boolean): Fault[] {
  return [
    throttleFails ? { type: 'sm-throttle', step, calls: 5, operation: 'DescribeSecret' } : { type: 'sm-throttle', step, calls: 1 },
    { type: 'sm-5xx', step, calls: 6 }, // more than the SDK's 5 attempts: the step fails
    { type: 'sm-5xx', step, calls: 2 }, // absorbed by the SDK's own retries
    { type: 'db-reset', step, afterBytes: 0 }, // refused-like: reset on accept
    { type: 'db-reset', step, afterBytes: 1000 }, // mid TLS handshake
    { type: 'db-reset', step, afterBytes: 3100 }, // after login: the statement, or its answer, is lost
    { type: 'db-timeout', step },
    { type: 'db-down', step },
    { type: 'crash-before', step },
    { type: 'crash-after', step },
    { type: 'twice', step },
    { type: 'concurrent', step },
  ];
}

/** Faults that outlast every attempt: the rotation is left pending, checked, and retried once the fault is gone. */
export function persistentFaults(engine: RigEngine, strategy: Strategy): Fault[] {
  return [
    // Secrets Manager down for a whole step (each cell costs ~2.5 s of SDK back-off: two steps in CI, all four with RELIABILITY_FULL=1).
    ...(FULL ? STEPS : (['setSecret', 'finishSecret'] as const)).map((step): Fault => ({ type: 'sm-5xx', step, calls: 1000, deliveries: Infinity })),
    ...STEPS.map((step): Fault => ({ type: 'crash-before', step, deliveries: Infinity })),
    ...STEPS.filter((s) => s !== 'finishSecret').map((step): Fault => ({ type: 'crash-after', step, deliveries: Infinity })),
    ...dbSteps(engine, strategy).flatMap((step): Fault[] => [
      { type: 'db-reset', step, afterBytes: 1000, deliveries: Infinity },
      { type: 'db-down', step, deliveries: Infinity },
    ]),
  ];
}

/** The cells of one engine and strategy (single user or alternating users): every step's faults, the persistent ones, a race, two faults in one rotation. */
export function strategyCells(engine: RigEngine, strategy: 'single' | 'alternating', throttleFails: boolean): Fault[][] {
  return [
    ...STEPS.flatMap((step) => stepFaults(step, FULL && throttleFails).map((f) => [f])),
    // Throttling past the SDK's retries fails the step like sm-5xx(6) does; one cell in CI, every step with RELIABILITY_FULL=1.
    ...(!FULL && throttleFails ? [[{ type: 'sm-throttle', step: 'setSecret', calls: 5, operation: 'DescribeSecret' } as const]] : []),
    ...persistentFaults(engine, strategy).map((f) => [f]),
    [{ type: 'race' }],
    // Two faults in one rotation: the first attempt loses its database, the second crashes after finishSecret's move.
    [{ type: 'db-reset', step: 'setSecret', afterBytes: 3100 }, { type: 'crash-after', step: 'finishSecret' }],
  ];
}

/** The pre-created pair's cells (its faults at the steps where the pair differs from alternating users). */
export const PAIR_CELLS: Fault[][] = [
  [{ type: 'db-reset', step: 'setSecret', afterBytes: 1000, deliveries: Infinity }],
  [{ type: 'db-reset', step: 'setSecret', afterBytes: 3100 }],
  [{ type: 'crash-after', step: 'setSecret', deliveries: Infinity }],
  [{ type: 'crash-after', step: 'finishSecret' }],
  [{ type: 'race' }],
  [{ type: 'concurrent', step: 'setSecret' }],
  [{ type: 'twice', step: 'finishSecret' }],
];

/**
 * The matrix for `strategies` on every engine of `engines`, through one rig (the real handlers
 * behind the fault-injecting proxy), then the leak canary over everything the file did. The slow
 * cell (throttling past the SDK's retries) goes to single users on every other engine and to
 * alternating users on the rest, so that each file gets some.
 */
export function defineMatrix(engines: readonly EngineUnderTest[], strategies: readonly Strategy[]): void {
  let rig: Rig;
  const subjects = new Map<string, Subject>();
  const key = (e: EngineUnderTest, strategy: Strategy) => `${e.server}/${strategy}`;

  beforeAll(async () => {
    rig = await startTestRig(engines.map((e) => e.server));
    for (const e of engines) {
      // The rig imports each server's handler itself: it must be the very module the entry registers.
      expect(rig.engine(e.server).handler, `${e.name}: the rig's handler`).toBe((await e.loadHandler()).handler);
      for (const strategy of strategies) subjects.set(key(e, strategy), await rig.newSubject(e.server, strategy));
    }
  });
  afterAll(async () => {
    await rig?.close();
  });

  for (const [index, e] of engines.entries()) {
    const throttleFailsFor: Strategy = index % 2 === 0 ? 'single' : 'alternating';
    for (const strategy of strategies) {
      if (strategy === 'pair') {
        describe(`${e.name} / pre-created pair`, () => {
          it.each(PAIR_CELLS)('%j', async (...faults) => {
            const report = await rig.rotate(subjects.get(key(e, 'pair'))!, faults);
            expect(report.violations).toEqual([]);
            expect(report.outcome).toBe('succeeded');
          });
        });
        continue;
      }
      describe(`${e.name} / ${strategy}`, () => {
        const cells = strategyCells(e.server, strategy, strategy === throttleFailsFor);
        it.each(cells.map((faults) => [faults.map(describeFault).join(' + '), faults] as const))('%s', async (_name, faults) => {
          const report = await rig.rotate(subjects.get(key(e, strategy))!, faults);
          expect(report.violations).toEqual([]);
          expect(report.outcome).toBe('succeeded');
          expect(report.faultsInjected).toBeGreaterThan(0);
          if (faults.some((f) => f.deliveries === Infinity)) expect(report.retriedPending || report.completedDespiteFailure).toBe(true);
        });
      });
    }
  }

  describe(`leak canary (${engines.map((e) => e.name).join(', ')})`, () => {
    it('no password generated or stored in this file appears in a server log, the handler output or any error', async () => {
      const result = await rig.leaks();
      expect(result.passwords).toBeGreaterThan(50 * engines.length);
      expect(rig.output.join('')).toMatch(/Rotation step failed/); // the faults really made steps fail, and that was logged
      expect(result.findings).toEqual([]);
    });
  });
}
