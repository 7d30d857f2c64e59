// The chaos run, short (CI) version: 40 rotations across both engines and the three strategies,
// faults drawn by a seeded PRNG from the fault matrix (CHAOS_SEED to reproduce another draw,
// CHAOS_ROTATIONS for more), the invariants checked after each, then the leak canary.
// The full run: `npx tsx bench/chaos.ts --rotations 1000 --seed 1` (see RELIABILITY.md).

import { afterAll, beforeAll, expect, it } from 'vitest';
import { runChaos } from '../../../local/faults/chaos';
import type { Rig } from '../../../local/faults/rig';
import { SERVERS } from '../conformance/engines';
import { startTestRig } from './rig';

let rig: Rig;
beforeAll(async () => {
  rig = await startTestRig(SERVERS);
});
afterAll(async () => {
  await rig?.close();
});

it('no lockout, nothing left incomplete, no broken invariant, no leak', { timeout: 170_000 }, async () => {
  const seed = Number(process.env['CHAOS_SEED'] ?? 20261123);
  const summary = await runChaos(rig, { rotations: Number(process.env['CHAOS_ROTATIONS'] ?? 40), seed, engines: SERVERS, subjectsPerKind: 1 });
  expect(summary.rotations).toBeGreaterThanOrEqual(40);
  expect(summary.faultsInjected).toBeGreaterThan(20);
  expect(summary.violations, `seed ${seed}`).toEqual([]);
  expect(summary.lockouts).toBe(0);
  expect(summary.incomplete).toBe(0);
  const leaks = await rig.leaks();
  expect(leaks.findings).toEqual([]);
});
