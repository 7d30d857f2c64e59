/**
 * The adversarial-tenant run (`npm run adversary -- [--attempts 5000] [--seed 1] [--engines postgresql,mariadb] [--only 17,42]
 * [--weights plant-on-victim=0] [--sweep-every 1] [--verbose]`):
 * starts a PostgreSQL 15 (log_statement=all) and a MariaDB (general log) with TLS, the local
 * Secrets Manager sandbox and the real rotation handlers, builds per engine a small population
 * (a platform admin, legit single/alternating/pair secrets, victims, the attacker's users), then
 * draws N attacker attempts (local/faults/adversary.ts) and checks the invariant after each, and
 * the leak canary at the end. `--only N,M` replays those attempts of the seed on a fresh
 * population. Exits 1 on any violation, harness error or leak.
 */
import { Command } from 'commander';
import { ATTEMPT_KINDS, formatSummary, runAdversary } from '../local/faults/adversary';
import { exitWith, withBenchRig } from '../local/faults/bench-rig';
import type { RigEngine } from '../local/faults/rig';

const program = new Command()
  .option('--attempts <n>', 'attempts to draw', '5000')
  .option('--seed <n>', 'PRNG seed (attempt N of a seed always draws the same)', '1')
  .option('--engines <list>', 'comma-separated: postgresql,mariadb', 'postgresql,mariadb')
  .option('--only <list>', 'comma-separated attempt numbers to replay (on a fresh population)')
  .option('--legit-rotation-every <n>', 'an extra legit rotation every N attempts per engine', '4')
  .option('--sweep-every <n>', 'redo every login, without the credential-row cache, every N attempts (1: after every attempt)', '25')
  .option('--weights <list>', 'kind=weight,… overriding the default draw (e.g. plant-on-victim=0)')
  .option('--max-violations <n>', 'violations printed in full', '40')
  .option('--verbose', 'print every attempt', false)
  .parse();
const opts = program.opts<{
  attempts: string;
  seed: string;
  engines: string;
  only?: string;
  legitRotationEvery: string;
  sweepEvery: string;
  weights?: string;
  maxViolations: string;
  verbose: boolean;
}>();
const attempts = Number(opts.attempts);
const seed = Number(opts.seed);
const engines = opts.engines.split(',').map((e) => e.trim()) as RigEngine[];
const only = opts.only?.split(',').map((n) => Number(n.trim()));
const weights = Object.fromEntries((opts.weights ?? '').split(',').filter(Boolean).map((kv) => kv.split('=').map((x) => x.trim()))) as Record<string, string>;
if (Object.entries(weights).some(([k, v]) => !(ATTEMPT_KINDS as readonly string[]).includes(k) || !(Number(v) >= 0))) {
  console.error(`--weights: kind=weight with kinds ${ATTEMPT_KINDS.join(', ')}`);
  process.exit(2);
}
if (
  !Number.isInteger(attempts) || attempts < 1 || !Number.isInteger(seed) ||
  engines.some((e) => e !== 'postgresql' && e !== 'mariadb') || only?.some((n) => !Number.isInteger(n) || n < 1)
) {
  console.error('usage: tsx bench/adversary.ts [--attempts N] [--seed N] [--engines postgresql,mariadb] [--only N,M] [--verbose]');
  process.exit(2);
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIASANDBOXADVERSARY';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'sandbox';

async function main(): Promise<number> {
  return withBenchRig(engines, { maxAttempts: 1 }, async (r, servers) => {
    r.print(`adversary: ${only ? `attempts ${only.join(', ')}` : `${attempts} attempts`}, seed ${seed}, engines ${engines.join(', ')} (${servers.map((s) => `${s.engine} ${s.version}`).join('; ')})`);
    const summary = await runAdversary(r, {
      attempts,
      seed,
      engines,
      ...(only ? { only } : {}),
      legitRotationEvery: Number(opts.legitRotationEvery),
      sweepEvery: Number(opts.sweepEvery),
      weights: Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, Number(v)])),
      onAttempt: (n, line) => {
        if (opts.verbose || only || line.includes('VIOLATION') || line.includes('HARNESS')) r.print(line);
        else if (n % 250 === 0) r.print(`  ${n} attempts…`);
      },
    });
    // The rig's leak canary, indexed: leaks() would compare each of tens of thousands of passwords with tens of MB of logs.
    const leaks = await r.leaksIndexed();
    for (const line of formatSummary(summary, Number(opts.maxViolations))) r.print(line);
    r.print(`leak canary:               ${leaks.findings.length} findings over ${leaks.passwords} passwords and ${(leaks.haystackBytes / 1e6).toFixed(1)} MB of logs (must be 0)`);
    for (const f of leaks.findings.slice(0, 20)) r.print(`LEAK ${f}`);
    return summary.violations.length === 0 && summary.harnessErrors.length === 0 && leaks.findings.length === 0 ? 0 : 1;
  });
}

exitWith(main);
