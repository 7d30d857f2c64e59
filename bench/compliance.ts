/**
 * Compliance figures, printed (never asserted):
 * - a full scan of 10,000 and 100,000 secrets on the sandbox endpoint: ListSecrets calls, wall time and
 *   the scanner's peak memory. The scanner runs in a child process so its RSS is its own (the sandbox,
 *   holding every secret in memory, stays in this process). Secrets are seeded straight into the store.
 * - pure evaluation throughput over fabricated ListSecrets entries.
 * Targets (issue 5): 100,000 secrets ≤ 15 s end to end and ≤ 256 MB; evaluation ≥ 500,000 secrets/s.
 */
import type { SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { spawn } from 'node:child_process';
import { startSandbox, type SeedSecret } from '../local/secrets-manager';
import { compilePolicy, evaluateSecret, scanSecrets } from '../shared/compliance';
import { createComplianceClients } from '../shared/runtime/compliance';

const DAY = 86_400_000;
const SIZES = (process.env['BENCH_COMPLIANCE_SIZES'] ?? '10000,100000').split(',').map(Number);

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

/** Child: one scan against the endpoint, figures as one JSON line. */
async function child(endpoint: string, nowIso: string): Promise<void> {
  const { secretsManager } = createComplianceClients(undefined, endpoint);
  const policy = compilePolicy([{ source: 'bench', document: { requiredTags: ['owner'], checks: { cmk: { enabled: true } } } }]);
  const started = performance.now();
  let findings = 0;
  const summary = await scanSecrets(secretsManager, policy, { now: new Date(nowIso), onPage: (page) => page.forEach((e) => (findings += e.findings.length)) });
  const ms = performance.now() - started;
  process.stdout.write(`${JSON.stringify({ ms, calls: summary.listSecretsCalls, total: summary.secrets.total, nonCompliant: summary.secrets.nonCompliant, findings, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

function runChild(endpoint: string, nowIso: string): Promise<{ ms: number; calls: number; total: number; nonCompliant: number; findings: number; maxRssMb: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [require.resolve('tsx/cli'), __filename, '--child', endpoint, nowIso], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIABENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}')) : reject(new Error(`scan child exited with ${code}`))));
  });
}

async function scans(): Promise<void> {
  console.log('\nCompliance scan on the sandbox endpoint (scanner in a child process; ListSecrets 100 per page)');
  console.log('secrets    ListSecrets calls (⌈N/100⌉)   wall s   scanner peak RSS MB   non-compliant   sandbox busy s');
  const sandbox = await startSandbox();
  try {
    const now = sandbox.clock.now().getTime();
    let seeded = 0;
    for (const size of SIZES) {
      const seedStarted = performance.now();
      sandbox.seed(population(size - seeded, seeded, now));
      const seedMs = performance.now() - seedStarted;
      seeded = size;
      const before = sandbox.calls.length;
      const elu = performance.eventLoopUtilization();
      const r = await runChild(sandbox.endpoint, new Date(now).toISOString());
      const busy = performance.eventLoopUtilization(elu);
      const calls = sandbox.calls.slice(before).filter((c) => c.operation === 'ListSecrets');
      // The sandbox runs in this process: its busy event-loop time during the scan is the server's share.
      const serverSeconds = busy.active / 1000;
      console.log(
        `${String(size).padEnd(10)} ${`${calls.length} (${Math.ceil(size / 100)})`.padEnd(29)} ${(r.ms / 1000).toFixed(2).padStart(6)}   ${r.maxRssMb.toFixed(0).padStart(19)}   ${String(r.nonCompliant).padStart(13)}   ${serverSeconds.toFixed(2).padStart(8)} (${((serverSeconds * 1000 * 100) / r.ms).toFixed(0)}% of the wall time; seeded in ${(seedMs / 1000).toFixed(2)} s)`,
      );
    }
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
  if (at >= 0) return child(process.argv[at + 1] ?? '', process.argv[at + 2] ?? new Date().toISOString());
  evaluation();
  await scans();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
