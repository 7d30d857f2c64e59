/**
 * Compliance figures, printed (never asserted):
 * - full scans of 10,000, 100,000 and 1,000,000 secrets on the sandbox endpoint, the sandbox
 *   enforcing ListSecrets' quota (100 calls/s, token bucket) and the scanner pacing itself to it
 *   (COMPLIANCE_LIST_SECRETS_PER_SECOND, default 100): wall time against the quota's floor
 *   (⌈N/100⌉ calls at 100/s), ListSecrets calls, throttles seen, the scanner's peak RSS and its RSS
 *   over the scan. The scanner is the function's own path (runCompliance: finding log lines on, to
 *   /dev/null; metrics and Security Hub off) in a child process, so its memory is its own (the
 *   sandbox, holding every secret in memory, stays in this process). Secrets are seeded straight
 *   into the store, 10,000 at a time.
 * - the sandbox's capacity: ListSecrets pages a second with nothing pacing the client.
 * - pure evaluation throughput over fabricated ListSecrets entries.
 * Targets: 1,000,000 secrets ≤ 1.2 × the 100 s floor (120 s), peak RSS ≤ 256 MB, no throttling;
 * evaluation ≥ 500,000 secrets/s. BENCH_COMPLIANCE_SIZES=10000,100000 for a shorter run.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { spawn } from 'node:child_process';
import { startSandbox, type SeedSecret } from '../local/secrets-manager';
import { Pacer } from '../shared/aws/pacer';
import { compilePolicy, evaluateSecret, runCompliance, scanSecrets } from '../shared/compliance';
import { createComplianceClients } from '../shared/runtime/compliance';

const DAY = 86_400_000;
const SIZES = (process.env['BENCH_COMPLIANCE_SIZES'] ?? '10000,100000,1000000').split(',').map(Number);
/** The quota the sandbox enforces on ListSecrets, as AWS does (calls/s). */
const QUOTA = 100;
const POLICY = { requiredTags: ['owner'], checks: { cmk: { enabled: true } } };

/** A mixed population: rotated and not, old, stuck, exempt, RDS-managed, replicas, tagged or not. */
function population(n: number, start: number, now: number): SeedSecret[] {
  const out: SeedSecret[] = [];
  for (let i = start; i < start + n; i++) {
    const kind = i % 10;
    const s: SeedSecret = {
      name: `/${i % 2 ? 'prod' : 'dev'}/team${i % 50}/secret-${i}`,
      createdDate: new Date(now - (30 + (i % 400)) * DAY),
      lastAccessedDate: new Date(now - (i % 120) * DAY),
      rotationEnabled: kind !== 0,
      rotationRules: kind === 3 ? { ScheduleExpression: 'cron(0 16 1,15 * ? *)' } : { AutomaticallyAfterDays: kind === 4 ? 120 : 30 },
      lastRotatedDate: new Date(now - (i % 150) * DAY),
      nextRotationDate: new Date(now + ((i % 40) - 10) * DAY),
      tags: i % 7 === 0 ? [] : [{ Key: 'owner', Value: `team${i % 50}` }, { Key: 'compliance:secret-type', Value: i % 3 ? 'database' : 'api-key' }],
    };
    if (kind === 5) s.versions = [{ stages: ['AWSCURRENT'], secretString: 'x' }, { stages: ['AWSPENDING'] }];
    if (kind === 6) s.owningService = 'rds';
    if (kind === 7) s.primaryRegion = 'eu-west-1';
    if (kind === 8) s.tags = [...(s.tags ?? []), { Key: 'compliance:exemption-reason', Value: 'vendor' }, { Key: 'compliance:exemption-expires', Value: new Date(now + 30 * DAY).toISOString().slice(0, 10) }];
    if (kind !== 9) s.kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/bench';
    out.push(s);
  }
  return out;
}

interface ChildResult {
  ms: number;
  calls: number;
  throttles: number;
  lowestPerSecond: number;
  total: number;
  nonCompliant: number;
  findings: number;
  maxRssMb: number;
  /** RSS every second of the scan, MB. */
  rssMb: number[];
  /** The scanner's CPU time (user + system) per page, ms. */
  cpuMsPerPage: number;
}

/** Child: the function's scan against the endpoint (finding lines, WARN, to stderr: /dev/null); figures, or the error, over IPC. */
async function child(endpoint: string, nowIso: string, mode: string): Promise<void> {
  const send = (message: object): Promise<void> => new Promise((resolve) => process.send!(message, () => resolve()));
  try {
    await send(await childScan(endpoint, nowIso, mode));
  } catch (err) {
    await send({ error: err instanceof Error ? err.stack : String(err) });
  }
  process.disconnect();
}

async function childScan(endpoint: string, nowIso: string, mode: string): Promise<ChildResult> {
  const rssMb: number[] = [];
  const sampler = setInterval(() => rssMb.push(Math.round(process.memoryUsage.rss() / 1_048_576)), 1000);
  const clients = createComplianceClients(undefined, endpoint);
  const started = performance.now();
  const cpu = process.cpuUsage();
  let result: Omit<ChildResult, 'ms' | 'maxRssMb' | 'rssMb' | 'cpuMsPerPage'>;
  if (mode === 'capacity') {
    // Unpaced, for at most 3,000 pages: how many pages a second the sandbox answers.
    const stop = new Error('enough');
    let calls = 0;
    await scanSecrets(clients.secretsManager, compilePolicy([]), { now: new Date(nowIso), pacer: new Pacer({ perSecond: 1e9, burst: 1e9 }), onPage: () => { if (++calls >= 3000) throw stop; } }).catch((err: unknown) => { if (err !== stop) throw err; });
    result = { calls, throttles: 0, lowestPerSecond: 0, total: calls * 100, nonCompliant: 0, findings: 0 };
  } else {
    const { summary } = await runCompliance(
      {},
      {
        env: { COMPLIANCE_POLICY: JSON.stringify(POLICY), COMPLIANCE_METRICS: 'false', COMPLIANCE_SECURITY_HUB: 'false', COMPLIANCE_LOG_FINDINGS: 'true', COMPLIANCE_LIST_SECRETS_PER_SECOND: process.env['COMPLIANCE_LIST_SECRETS_PER_SECOND'] },
        ...clients,
        logger: new Logger({ serviceName: 'compliance-bench', logLevel: 'INFO' }),
        metrics: new Metrics({ namespace: 'Bench', serviceName: 'compliance-bench' }),
        now: () => new Date(nowIso),
      },
    );
    result = {
      calls: summary.listSecretsCalls,
      throttles: summary.throttles,
      lowestPerSecond: summary.pacing.lowestPerSecond,
      total: summary.secrets.total,
      nonCompliant: summary.secrets.nonCompliant,
      findings: Object.values(summary.byCheck).reduce((a, b) => a + b, 0),
    };
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  return { ...result, ms, maxRssMb: process.resourceUsage().maxRSS / 1024, rssMb, cpuMsPerPage: (used.user + used.system) / 1000 / Math.max(1, result.calls) };
}

function runChild(endpoint: string, nowIso: string, mode: 'scan' | 'capacity'): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [require.resolve('tsx/cli'), __filename, '--child', endpoint, nowIso, mode], {
      // The finding lines (≈ 400 bytes each, on stderr as Powertools writes WARN) and the summary line to /dev/null; the figures over IPC.
      stdio: ['ignore', 'ignore', process.env['BENCH_CHILD_STDERR'] ? 'inherit' : 'ignore', 'ipc'],
      env: { ...process.env, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIABENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_DEV: 'false' },
    });
    let figures: (ChildResult & { error?: string }) | undefined;
    proc.on('message', (m: ChildResult & { error?: string }) => (figures = m));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code === 0 && figures && !figures.error) resolve(figures);
      else reject(new Error(`scan child exited with ${code}: ${figures?.error ?? '(no figures)'}`));
    });
  });
}

async function scans(): Promise<void> {
  console.log(`\nCompliance scan on the sandbox endpoint, which enforces ListSecrets' quota (${QUOTA} calls/s); the scanner paces itself to it`);
  console.log('(scanner: the function\'s runCompliance in a child process, finding lines written to /dev/null; 2-core VM shared with other work: timings are noisy)');
  console.log('secrets     seeded in   wall s   floor s   wall/floor   ListSecrets calls   throttles   peak RSS MB   RSS over the scan MB (min–max, after 5 s)   findings   scanner CPU/page   sandbox busy');
  const sandbox = await startSandbox();
  try {
    const now = sandbox.clock.now().getTime();
    const nowIso = new Date(now).toISOString();
    let seeded = 0;
    for (const size of SIZES) {
      const seedStarted = performance.now();
      for (let at = seeded; at < size; at += 10_000) sandbox.seed(population(Math.min(10_000, size - at), at, now));
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      seeded = size;
      const quota = sandbox.faults.add({ operation: 'ListSecrets', kind: 'throttle', perSecond: QUOTA });
      const before = sandbox.calls.length;
      const elu = performance.eventLoopUtilization();
      const r = await runChild(sandbox.endpoint, nowIso, 'scan');
      const busy = performance.eventLoopUtilization(elu);
      sandbox.faults.remove(quota);
      const calls = sandbox.calls.slice(before).filter((c) => c.operation === 'ListSecrets');
      const answered = calls.filter((c) => c.status === 200).length;
      const throttled = calls.filter((c) => c.errorCode === 'ThrottlingException').length;
      const floor = Math.ceil(size / 100) / QUOTA;
      const steady = r.rssMb.slice(5);
      const range = steady.length > 0 ? `${Math.min(...steady)}–${Math.max(...steady)}` : '-';
      console.log(
        [
          String(size).padEnd(10),
          `${seedSeconds.toFixed(1)} s`.padStart(10),
          (r.ms / 1000).toFixed(1).padStart(8),
          floor.toFixed(1).padStart(9),
          `${((r.ms / 1000) / floor).toFixed(3)}×`.padStart(12),
          `${answered} (${Math.ceil(size / 100)})`.padStart(19),
          `${throttled} (scanner saw ${r.throttles})`.padStart(11),
          r.maxRssMb.toFixed(0).padStart(13),
          range.padStart(44),
          String(r.findings).padStart(10),
          `${r.cpuMsPerPage.toFixed(2)} ms`.padStart(18),
          `${(busy.active / 1000).toFixed(1)} s (${((busy.active * 100) / r.ms).toFixed(0)}%)`.padStart(14),
        ].join(' '),
      );
      if (r.total !== size) console.log(`  !! the scan saw ${r.total} secrets, not ${size}`);
    }
    // What the sandbox can serve at this size, unpaced and without the quota: it must stay well above 100 pages/s.
    const elu = performance.eventLoopUtilization();
    const cap = await runChild(sandbox.endpoint, nowIso, 'capacity');
    const busy = performance.eventLoopUtilization(elu);
    console.log(
      `Sandbox capacity with ${seeded} secrets stored, nothing pacing the client: ${(cap.calls / (cap.ms / 1000)).toFixed(0)} ListSecrets pages/s (${cap.calls} pages in ${(cap.ms / 1000).toFixed(1)} s; sandbox ${((busy.active / cap.calls)).toFixed(2)} ms of event loop per page, the rest is the SDK client)`,
    );
  } finally {
    await sandbox.close();
  }
}

function evaluation(): void {
  const now = Date.UTC(2026, 0, 15, 12);
  const policy = compilePolicy([{ source: 'bench', document: { requiredTags: ['owner'], checks: { cmk: { enabled: true } }, prefixes: [{ prefix: '/prod/', class: 'database' }, { prefix: '/prod/*/api/', class: 'api-key' }] } }]);
  const entries: SecretListEntry[] = population(100_000, 0, now).map((s, i) => ({
    ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${s.name}-AbCdEf`,
    Name: s.name,
    ...(s.kmsKeyId ? { KmsKeyId: s.kmsKeyId } : {}),
    RotationEnabled: s.rotationEnabled,
    RotationRules: s.rotationRules,
    CreatedDate: new Date(s.createdDate as Date),
    LastChangedDate: new Date(now - (i % 5) * DAY),
    LastRotatedDate: new Date(s.lastRotatedDate as Date),
    LastAccessedDate: new Date(s.lastAccessedDate as Date),
    NextRotationDate: new Date(s.nextRotationDate as Date),
    Tags: s.tags,
    ...(s.owningService ? { OwningService: s.owningService } : {}),
    PrimaryRegion: s.primaryRegion ?? 'us-east-1',
    SecretVersionsToStages: i % 10 === 5 ? { a: ['AWSCURRENT'], b: ['AWSPENDING'] } : { a: ['AWSCURRENT'], b: ['AWSPREVIOUS'] },
  }));
  let findings = 0;
  for (const e of entries) findings += evaluateSecret(e, policy, now).findings.length; // warm-up
  const rounds = 5;
  const started = performance.now();
  for (let r = 0; r < rounds; r++) for (const e of entries) findings += evaluateSecret(e, policy, now).findings.length;
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nPure evaluation: ${((rounds * entries.length) / seconds / 1000).toFixed(0)}k secrets/s (${rounds} × ${entries.length} fabricated entries, ${(findings / ((rounds + 1) * entries.length)).toFixed(2)} findings per secret)`);
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--child');
  if (at >= 0) return child(process.argv[at + 1] ?? '', process.argv[at + 2] ?? new Date().toISOString(), process.argv[at + 3] ?? 'scan');
  evaluation();
  await scans();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
