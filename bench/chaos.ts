/**
 * The chaos run (`npx tsx bench/chaos.ts [--rotations 1000] [--seed 1] [--engines postgresql,mariadb] [--verbose]`):
 * starts a PostgreSQL 15 (log_statement=all) and a MariaDB (general log) with TLS, the local
 * Secrets Manager sandbox and the real rotation handlers behind a fault-injecting TCP proxy, then
 * runs N rotations across engines and strategies with faults drawn from the fault matrix by a
 * seeded PRNG (the same seed draws the same fault plan), checking the invariants after every
 * rotation and the leak canary at the end. Exits 1 on any lockout, incomplete rotation, other
 * broken invariant, or leak.
 */
import { Command } from 'commander';
import { runChaos } from '../local/faults/chaos';
import { exitWith, withBenchRig } from '../local/faults/bench-rig';
import type { RigEngine } from '../local/faults/rig';

const program = new Command()
  .option('--rotations <n>', 'rotations to run', '1000')
  .option('--seed <n>', 'PRNG seed (the fault plan is reproducible from it)', '1')
  .option('--engines <list>', 'comma-separated: postgresql,mariadb', 'postgresql,mariadb')
  .option('--persistent-rate <p>', 'chance a fault outlasts every attempt', '0.1')
  .option('--exhaust-throttles', 'also throttle past the SDK retries now and then (slow)', false)
  .option('--verbose', 'print every rotation', false)
  .parse();
const opts = program.opts<{ rotations: string; seed: string; engines: string; persistentRate: string; exhaustThrottles: boolean; verbose: boolean }>();
const rotations = Number(opts.rotations);
const seed = Number(opts.seed);
const engines = opts.engines.split(',').map((e) => e.trim()) as RigEngine[];
if (!Number.isInteger(rotations) || rotations < 1 || !Number.isInteger(seed) || engines.some((e) => e !== 'postgresql' && e !== 'mariadb')) {
  console.error('usage: tsx bench/chaos.ts [--rotations N] [--seed N] [--engines postgresql,mariadb]');
  process.exit(2);
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIASANDBOXCHAOS0000';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'sandbox';

async function main(): Promise<number> {
  return withBenchRig(engines, {}, async (r, servers) => {
    r.print(`chaos: ${rotations} rotations, seed ${seed}, engines ${engines.join(', ')} (${servers.map((s) => `${s.engine} ${s.version}`).join('; ')})`);
    const summary = await runChaos(r, {
      rotations,
      seed,
      engines,
      persistentRate: Number(opts.persistentRate),
      exhaustThrottles: opts.exhaustThrottles,
      onRotation: (i, line) => {
        if (opts.verbose || line.includes('VIOLATIONS')) r.print(line);
        else if ((i + 1) % 100 === 0) r.print(`  ${i + 1} rotations…`);
      },
    });
    const leaks = await r.leaks();
    const out = [
      `rotations:                 ${summary.rotations}`,
      `faults planned / injected: ${summary.faultsPlanned} / ${summary.faultsInjected}`,
      `  by fault:                ${Object.entries(summary.byFault).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `  by engine/strategy:      ${Object.entries(summary.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `left pending, then retried and completed: ${summary.retriedPending}`,
      `failed by the service yet complete (crash after finishSecret): ${summary.completedDespiteFailure}`,
      `single-user window seen while pending (pending password worked): ${summary.singleUserWindows}`,
      `lockouts:                  ${summary.lockouts} (must be 0)`,
      `incomplete rotations left: ${summary.incomplete} (must be 0)`,
      `other violations:          ${summary.violations.length - summary.lockouts - summary.incomplete}`,
      `leak canary:               ${leaks.findings.length} findings over ${leaks.passwords} passwords and ${(leaks.haystackBytes / 1e6).toFixed(1)} MB of logs (must be 0)`,
      `time:                      ${(summary.durationMs / 1000).toFixed(1)} s (${(summary.durationMs / summary.rotations).toFixed(0)} ms per rotation)`,
    ];
    for (const line of out) r.print(line);
    for (const v of summary.violations.slice(0, 20)) r.print(`VIOLATION ${v}`);
    for (const f of leaks.findings.slice(0, 20)) r.print(`LEAK ${f}`);
    return summary.violations.length === 0 && leaks.findings.length === 0 ? 0 : 1;
  });
}

exitWith(main);
