/**
 * Operator CLI: `credrot rotate <secret>`, `credrot breach …`, `credrot scan`, against real AWS
 * (standard credential chain, --region, --profile) or the sandbox (--endpoint). Progress goes to
 * stderr, the summary table (or --json) to stdout; the exit status is non-zero on any failure
 * (1: a secret failed or a finding is open, 2: the request itself is wrong).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createClient } from '../../shared/aws/clients';
import { createBreachDeps } from '../../shared/runtime/breach';
import { BreachInputError, BreachSecretsApi, parseBreachRequest, runBreach, waitForRotation, type BreachReport, type SecretReport } from '../../shared/breach';
import { operatorRequester, requesterLabel, type Requester } from '../../shared/breach/requester';
import { runCompliance } from '../../shared/compliance';

interface GlobalOptions {
  region?: string;
  profile?: string;
  endpoint?: string;
  json?: boolean;
  verbose?: boolean;
}

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function clientOf(g: GlobalOptions): SecretsManagerClient {
  if (g.profile) process.env['AWS_PROFILE'] = g.profile;
  return createClient(SecretsManagerClient, { region: g.region, endpoint: g.endpoint });
}

/** A Secrets Manager endpoint that is not AWS's (the sandbox): --endpoint, or the variables the SDK and the functions read. */
const customEndpoint = (g: GlobalOptions): string | undefined =>
  g.endpoint || process.env['AWS_ENDPOINT_URL_SECRETS_MANAGER'] || process.env['SECRETS_MANAGER_ENDPOINT'] || process.env['AWS_ENDPOINT_URL'] || undefined;

/**
 * The operator, as AWS knows them: STS GetCallerIdentity with the same credentials, profile and
 * Region as the Secrets Manager calls. @aws-sdk/client-sts is loaded only here (the functions never
 * need it). Not asked against the sandbox.
 */
async function operator(g: GlobalOptions): Promise<Requester> {
  return operatorRequester({
    endpoint: customEndpoint(g),
    callerIdentity: async () => {
      if (g.profile) process.env['AWS_PROFILE'] = g.profile;
      const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      const sts = new STSClient({ maxAttempts: 3, ...(g.region ? { region: g.region } : {}) });
      try {
        return await sts.send(new GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(10_000) });
      } finally {
        sts.destroy();
      }
    },
  });
}

/** Audit lines as JSON on stderr with --verbose; otherwise kept quiet (the table says it all). */
function auditLog(g: GlobalOptions): { info: (m: string, ...e: Record<string, unknown>[]) => void; error: (m: string, ...e: Record<string, unknown>[]) => void } {
  const write = (level: string) => (message: string, ...extra: Record<string, unknown>[]) => {
    if (g.verbose) process.stderr.write(`${JSON.stringify({ level, message, ...Object.assign({}, ...extra) })}\n`);
  };
  return { info: write('INFO'), error: write('ERROR') };
}

const positiveInt = (max: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
  return n;
};

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

const shortId = (arn: string): string => arn.replace(/^arn:[^:]+:secretsmanager:[^:]+:\d+:secret:/, '');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export function breachTable(report: BreachReport): string {
  const rows = [['SECRET', 'STATUS', 'STRATEGY', 'ACTIONS', 'TIME', 'ERROR']];
  for (const s of report.secrets) {
    rows.push([
      shortId(s.secretId),
      s.status.toUpperCase(),
      s.strategy ?? '-',
      s.actions.filter((a) => a.action !== 'read-current').map((a) => (a.outcome === 'failed' ? `${a.action}!` : a.action)).join(',') || '-',
      seconds(s.durationMs),
      s.error ?? '',
    ]);
  }
  const head = `${report.dryRun ? 'DRY RUN — nothing changed. ' : ''}Breach response "${report.reason}": ${report.succeeded}/${report.total} ok, ${report.failed} failed, ${seconds(report.durationMs)}`;
  const who = `Requested by: ${requesterLabel(report.requester)}${report.claimedBy !== undefined ? `; claimed (unverified): ${report.claimedBy}` : ''}`;
  return `${table(rows)}\n\n${head}\n${who}`;
}

const progress = (g: GlobalOptions) => (s: SecretReport, done: number, total: number): void => {
  if (!g.json || process.stderr.isTTY) process.stderr.write(`[${done}/${total}] ${s.status.padEnd(7)} ${shortId(s.secretId)} (${seconds(s.durationMs)})${s.error ? ` — ${s.error}` : ''}\n`);
};

export function buildProgram(): Command {
  const program = new Command('credrot')
    .description('Credential rotation suite: rotate, breach response and compliance scan, on AWS or the local sandbox')
    .option('--region <region>', 'AWS Region (default: the standard chain)')
    .option('--profile <profile>', 'AWS shared-config profile')
    .option('--endpoint <url>', 'Secrets Manager endpoint, e.g. the sandbox http://127.0.0.1:4566')
    .option('--json', 'machine-readable output on stdout')
    .option('-v, --verbose', 'audit log lines (JSON) on stderr')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('rotate')
    .description('rotate one secret now (RotateSecret) and wait until it completes')
    .argument('<secret>', 'secret id or ARN')
    .option('--timeout <seconds>', 'wait at most this long', positiveInt(900), 120)
    .action(async (secret: string, opts: { timeout: number }) => {
      const g = program.opts<GlobalOptions>();
      const api = new BreachSecretsApi(clientOf(g));
      const started = performance.now();
      const meta = await api.describe(secret);
      const versionId = await api.rotate(meta.arn);
      process.stderr.write(`rotating ${shortId(meta.arn)} → version ${versionId} …\n`);
      await waitForRotation(meta.arn, versionId, opts.timeout * 1000, { secrets: api });
      const result = { secretId: meta.arn, versionId, status: 'ok', durationMs: Math.round(performance.now() - started) };
      process.stdout.write(g.json ? `${JSON.stringify(result)}\n` : `${shortId(meta.arn)}: version ${versionId} is AWSCURRENT (${seconds(result.durationMs)})\n`);
    });

  program
    .command('breach')
    .description('breach response: settle, rotate (twice for two users), end the leaked user\'s sessions, verify the leaked credential is dead')
    .argument('[secrets...]', 'secret ids or ARNs (or use --tag / --prefix)')
    .requiredOption('--reason <text>', 'why (incident id); written on every audit line')
    .option('--tag <key=value>', 'select the secrets with this tag')
    .option('--prefix <namePrefix>', 'select the secrets whose name starts with this')
    .option('--dry-run', 'report what would be done; change nothing')
    .option('--no-end-sessions', 'leave database sessions open')
    .option('--concurrency <n>', 'secrets at once (1–20)', positiveInt(20), 5)
    .option('--timeout <seconds>', 'budget per rotation', positiveInt(900), 120)
    .option('--break-glass', 'reset an RDS master password if the stored admin credential no longer logs in')
    .option('--claimed-by <who>', 'who you act for (recorded as an unverified claim; the requester is your AWS identity, from STS)')
    .addOption(new Option('--requested-by <who>', 'old name of --claimed-by').hideHelp())
    .action(async (secrets: string[], opts: { reason: string; tag?: string; prefix?: string; dryRun?: boolean; endSessions: boolean; concurrency: number; timeout: number; breakGlass?: boolean; claimedBy?: string; requestedBy?: string }) => {
      const g = program.opts<GlobalOptions>();
      let selector: Record<string, unknown> | undefined;
      if (opts.tag !== undefined || opts.prefix !== undefined) {
        const tag = opts.tag === undefined ? undefined : /^([^=]+)=(.*)$/.exec(opts.tag);
        if (opts.tag !== undefined && !tag) throw new BreachInputError('--tag must be key=value.');
        selector = { ...(tag ? { tag: { key: tag[1], value: tag[2] } } : {}), ...(opts.prefix !== undefined ? { namePrefix: opts.prefix } : {}) };
      }
      // Who you say you act for: a claim. The requester is your AWS identity (STS), below.
      const claimedBy = opts.claimedBy ?? opts.requestedBy ?? process.env['USER'];
      const request = {
        reason: opts.reason,
        ...(secrets.length > 0 ? { secretIds: secrets } : {}),
        ...(selector ? { selector } : {}),
        endSessions: opts.endSessions,
        dryRun: opts.dryRun === true,
        concurrency: opts.concurrency,
        rotationTimeoutMs: opts.timeout * 1000,
        breakGlass: opts.breakGlass === true,
        ...(claimedBy ? { claimedBy } : {}),
      };
      parseBreachRequest(request); // a wrong request fails here, before any AWS call (STS included)
      const deps = createBreachDeps({ log: auditLog(g), client: clientOf(g), ...(g.region ? { region: g.region } : {}) });
      const requester = await operator(g);
      if (!requester.verified) process.stderr.write(`credrot: requester unverified (${requester.why})\n`);
      const report = await runBreach(request, deps, { onSecret: progress(g), requester });
      process.stdout.write(g.json ? `${JSON.stringify(report, null, 2)}\n` : `${breachTable(report)}\n`);
      if (report.failed > 0) process.exitCode = EXIT_FAILED;
    });

  program
    .command('scan')
    .description('compliance scan of every secret (ListSecrets only); no Security Hub or metrics from the CLI')
    .option('--policy <json>', 'policy document (JSON) overriding the defaults')
    .action(async (opts: { policy?: string }) => {
      const g = program.opts<GlobalOptions>();
      const logger = new Logger({ serviceName: 'credrot-scan', logLevel: g.verbose ? 'INFO' : 'ERROR' });
      const policy = opts.policy === undefined ? undefined : (JSON.parse(opts.policy) as unknown);
      const result = await runCompliance(
        { outputs: { logFindings: g.verbose === true, metrics: false, securityHub: false }, ...(policy ? { policy } : {}) },
        { env: process.env, secretsManager: clientOf(g), securityHub: createClient(SecurityHubClient, { region: g.region }), logger, metrics: new Metrics({ namespace: 'credrot', serviceName: 'credrot' }), now: () => new Date() },
      );
      const s = result.summary.secrets;
      process.stdout.write(
        g.json ? `${JSON.stringify(result.summary, null, 2)}\n` : `${table([['TOTAL', 'EVALUATED', 'COMPLIANT', 'NON-COMPLIANT', 'EXEMPT', 'MANAGED'], [s.total, s.evaluated, s.compliant, s.nonCompliant, s.exempt, s.managed].map(String)])}\n`,
      );
      if (s.nonCompliant > 0) process.exitCode = EXIT_FAILED;
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string; name?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code?.startsWith('commander.')) return EXIT_USAGE;
    process.stderr.write(`credrot: ${e.message ?? String(err)}\n`);
    return e.name === 'BreachInputError' ? EXIT_USAGE : EXIT_FAILED;
  }
}

if (process.argv[1] && /local[\\/]cli[\\/]index\.ts$/.test(process.argv[1])) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
