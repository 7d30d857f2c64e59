// The adversarial-tenant run, CI size: 500 attempts (ADVERSARY_ATTEMPTS) drawn from a seed
// (ADVERSARY_SEED; ADVERSARY_ONLY=17,42 replays those attempts alone; ADVERSARY_WEIGHTS=kind=w,…) by a tenant that writes its
// own secrets, plants AWSPENDING versions and invokes the rotation functions directly, on
// PostgreSQL and MariaDB. After every attempt: the admin logs in, every user the attacker does not
// control keeps the password its legit secret holds, nothing the attacker can read holds a working
// password of such a user, and legit secrets are not left stuck (local/faults/adversary.ts). Then
// the leak canary. The long run: `npm run adversary -- --attempts 5000 --seed 1`.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { FULL_ROTATION_KINDS, formatSummary, runAdversary } from '../../../local/faults/adversary';
import type { Rig } from '../../../local/faults/rig';
import { startTestRig } from './rig';

let rig: Rig;
beforeAll(async () => {
  rig = await startTestRig(['postgresql', 'mariadb'], { maxAttempts: 1 });
});
afterAll(async () => {
  await rig?.close();
});

it('no attacker attempt changes or reveals a credential it does not control, none leaves a legit secret stuck; no leak', { timeout: 240_000 }, async () => {
  const seed = Number(process.env['ADVERSARY_SEED'] ?? 20261124);
  const attempts = Number(process.env['ADVERSARY_ATTEMPTS'] ?? 500);
  const only = process.env['ADVERSARY_ONLY']?.split(',').map(Number);
  // e.g. ADVERSARY_WEIGHTS=plant-on-victim=0 to look at the other kinds alone (the default draws them all).
  const weights = Object.fromEntries((process.env['ADVERSARY_WEIGHTS'] ?? '').split(',').filter(Boolean).map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])]));
  const summary = await runAdversary(rig, {
    attempts,
    seed,
    engines: ['postgresql', 'mariadb'],
    ...(only ? { only } : {}),
    weights,
    onAttempt: (_n, line) => {
      if (process.env['ADVERSARY_VERBOSE'] || line.includes('VIOLATION') || line.includes('HARNESS')) rig.print(line);
    },
  });
  for (const line of formatSummary(summary, 15)) rig.print(line);
  const leaks = await rig.leaks();
  rig.print(`leak canary: ${leaks.findings.length} findings over ${leaks.passwords} passwords`);
  // The indexed canary the long run (bench/adversary.ts) uses must agree with it.
  const indexed = await rig.leaksIndexed();
  expect(indexed.passwords).toBe(leaks.passwords);
  expect([...indexed.findings].sort()).toEqual([...leaks.findings].sort());

  if (!only) {
    expect(summary.attempts).toBe(attempts);
    const full = FULL_ROTATION_KINDS.reduce((n, k) => n + Object.values(summary.byKind[k] ?? {}).reduce((a, b) => a + b, 0), 0);
    expect(full).toBeGreaterThanOrEqual(Math.min(100, Math.floor(attempts / 5)));
  }
  expect(summary.harnessErrors).toEqual([]);
  expect.soft(leaks.findings).toEqual([]);
  expect(summary.violations, `seed ${seed}: replay one with ADVERSARY_SEED=${seed} ADVERSARY_ONLY=<attempt>`).toEqual([]);
});
