/**
 * `npm run bench`: rotation speed and size figures, printed (never asserted).
 * - warm rotation time per strategy: median of N full rotations (RotateSecret → four steps →
 *   AWSCURRENT moved), through the real handler against the sandbox and a real PostgreSQL;
 * - Secrets Manager calls and database connections per rotation;
 * - each function's deployable zip from `serverless package`, and the cold import time of its
 *   bundle (median over fresh node processes).
 */
import { CreateSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import pg from 'pg';
import { createRunDir, createTestCertificates, startPostgres } from '../local/databases';
import { startSandbox } from '../local/secrets-manager';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 25);
const IMPORT_RUNS = Number(process.env['BENCH_IMPORT_RUNS'] ?? 15);
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql';
const FUNCTIONS = [{ name: 'rotate-postgresql', slsName: 'rotatePostgresql', entry: 'functions/rotate-postgresql/handler.ts' }];
const root = join(__dirname, '..');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Count database connections by wrapping pg.Client#connect, which every engine verb goes through. */
let connections = 0;
const originalConnect = pg.Client.prototype.connect;
pg.Client.prototype.connect = function (this: pg.Client, ...args: unknown[]) {
  connections++;
  return (originalConnect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.connect;

async function rotationFigures(): Promise<void> {
  const certDir = await createRunDir('bench-tls');
  const certificates = await createTestCertificates(certDir.path);
  const db = await startPostgres({ certificates });
  const sandbox = await startSandbox({ rotation: { retryDelayMs: 0 } });
  try {
    Object.assign(process.env, sandbox.env(), { DB_TLS_CA_FILE: certificates.caFile, POWERTOOLS_LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'ERROR', POWERTOOLS_TRACE_ENABLED: 'false' });
    const { handler } = await import('../functions/rotate-postgresql/handler');
    sandbox.functions.register(LAMBDA, (event) => handler(event));
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint });
    const admin = new pg.Client({ host: db.hostname, port: db.port, user: db.adminUser, password: db.adminPassword, database: db.database, ssl: { ca: certificates.caPem } });
    await admin.connect();
    await admin.query(`CREATE ROLE bench_single LOGIN PASSWORD 'bench-1'; CREATE ROLE bench_alt LOGIN PASSWORD 'bench-2'`);
    await admin.end();
    const value = (username: string, password: string, extra: object = {}) =>
      JSON.stringify({ engine: 'postgres', host: db.hostname, port: db.port, username, password, dbname: db.database, ...extra });
    const adminArn = (await client.send(new CreateSecretCommand({ Name: 'bench/admin', SecretString: value(db.adminUser, db.adminPassword) }))).ARN!;
    const cases = [
      { strategy: 'single user', arn: (await client.send(new CreateSecretCommand({ Name: 'bench/single', SecretString: value('bench_single', 'bench-1') }))).ARN! },
      { strategy: 'alternating users', arn: (await client.send(new CreateSecretCommand({ Name: 'bench/alt', SecretString: value('bench_alt', 'bench-2', { masterarn: adminArn }) }))).ARN! },
    ];

    console.log(`\nWarm rotation through the real handler (sandbox + PostgreSQL 15 with verified TLS), median of ${RUNS} after 3 warm-up rotations`);
    console.log('strategy             median ms   p90 ms   SM calls/rotation   DB connections/rotation');
    for (const { strategy, arn } of cases) {
      const times: number[] = [];
      let calls = 0;
      let conns = 0;
      for (let i = 0; i < RUNS + 3; i++) {
        const callsBefore = sandbox.calls.length;
        const connsBefore = connections;
        const started = performance.now();
        await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA }));
        await sandbox.settle();
        const ms = performance.now() - started;
        const outcome = sandbox.rotations.events.at(-1)?.eventName;
        if (outcome !== 'RotationSucceeded') throw new Error(`${strategy}: rotation ${i} ended with ${outcome}`);
        if (i >= 3) {
          times.push(ms);
          // Minus the benchmark's own RotateSecret call: what the rotation function itself made.
          calls = sandbox.calls.length - callsBefore - 1;
          conns = connections - connsBefore;
        }
      }
      const sorted = [...times].sort((a, b) => a - b);
      const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
      console.log(`${strategy.padEnd(20)} ${median(times).toFixed(1).padStart(9)} ${p90.toFixed(1).padStart(8)} ${String(calls).padStart(19)} ${String(conns).padStart(25)}`);
    }
    client.destroy();
  } finally {
    await sandbox.close();
    await db.stop();
    await certDir.remove();
  }
}

async function bundleFigures(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'bench-bundle-'));
  try {
    // The deployable artifacts themselves: `serverless package` (offline) into a scratch folder.
    const packageDir = join(out, 'package');
    execFileSync(join(root, 'node_modules', '.bin', 'serverless'), ['package', '--package', packageDir], {
      cwd: root,
      stdio: 'ignore',
      timeout: 120_000,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
    });
    console.log(`\nBundles: zip from \`serverless package\` (esbuild, CJS, minified); cold import = require() of the same bundle, median of ${IMPORT_RUNS} fresh node processes`);
    console.log('function              bundle KB   zipped KB   cold import ms');
    for (const fn of FUNCTIONS) {
      const outfile = join(out, `${fn.name}.js`);
      await build({ entryPoints: [join(root, fn.entry)], bundle: true, minify: true, platform: 'node', target: 'node22', format: 'cjs', outfile, logLevel: 'error' });
      const bytes = statSync(outfile).size;
      const zipped = statSync(join(packageDir, `${fn.slsName}.zip`)).size;
      const script = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
      const imports: number[] = [];
      for (let i = 0; i < IMPORT_RUNS + 1; i++) {
        const ms = Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, AWS_REGION: 'us-east-1' } }).toString());
        if (i > 0) imports.push(ms); // the first run warms the OS file cache
      }
      console.log(`${fn.name.padEnd(20)} ${(bytes / 1024).toFixed(1).padStart(10)} ${(zipped / 1024).toFixed(1).padStart(11)} ${median(imports).toFixed(1).padStart(16)}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`bench: node ${process.version}, ${new Date().toISOString()}`);
  await rotationFigures();
  await bundleFigures();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
