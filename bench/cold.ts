/**
 * `npm run bench` (last part), or `npx tsx bench/cold.ts`: cold start of each function's SHIPPED
 * bundle, printed (never asserted).
 *
 * The bundles are the .js files inside the zips `serverless package` builds (so what is excluded
 * from them — the AWS SDK clients the Lambda runtime provides — is required from node_modules, as
 * the runtime's /var/runtime/node_modules would serve it). For each rotation step, a FRESH node
 * process requires the bundle and runs that one step through the real handler, against the local
 * Secrets Manager sandbox and a real PostgreSQL / MariaDB (verified TLS): import ms + first-step
 * ms. The other steps of the same rotation run in one long-lived process that loaded the same
 * bundle (the warm step time). Both at the sandbox's own speed and with 20 ms added to every
 * Secrets Manager call (the sandbox's latency fault), so "cold step − warm step" is what a cold
 * container adds to a step (target: ≤ 100 ms at 20 ms). Medians over BENCH_COLD_RUNS fresh
 * processes per step (single-user rotations). The compliance scan and the breach response: import only.
 * Node's own start-up (what Lambda's runtime does before our code) is not counted.
 */
import { CreateSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysqlPromise from 'mysql2/promise';
import pg from 'pg';
import { createRunDir, createTestCertificates, startMariaDb, startPostgres, type DatabaseServer, type TestCertificates } from '../local/databases';
import { startSandbox, type RotationEvent, type RotationStep, type Sandbox } from '../local/secrets-manager';
import { packageStack, zipEntry } from '../test/unit/stack/package';

const RUNS = Number(process.env['BENCH_COLD_RUNS'] ?? 7);
/** Extra node options for the cold processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/cold-prof` to see where a cold step goes. */
const COLD_NODE_ARGS = (process.env['BENCH_COLD_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
/** A folder of <function>/handler.js bundles to measure instead of `serverless package`'s (e.g. unminified esbuild output for profiles). */
const BUNDLES_DIR = process.env['BENCH_COLD_BUNDLES'];
const IMPORT_RUNS = Number(process.env['BENCH_IMPORT_RUNS'] ?? 15);
const LATENCIES_MS = [0, 20];
const STEPS: RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
const root = join(__dirname, '..');

const ROTATORS = [
  { name: 'rotate-postgresql', slsName: 'rotatePostgresql', handler: 'functions/rotate-postgresql/handler.js', engine: 'postgresql' as const },
  { name: 'rotate-mysql', slsName: 'rotateMysql', handler: 'functions/rotate-mysql/handler.js', engine: 'mariadb' as const },
];
const IMPORT_ONLY = [
  { name: 'compliance-scan', slsName: 'complianceScan', handler: 'functions/compliance-scan/handler.js' },
  { name: 'breach-response', slsName: 'breachResponse', handler: 'functions/breach-response/handler.js' },
];

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * The process that runs a bundle. `cold`: require it, run the one event from argv, print
 * {importMs, stepMs}, exit. `warm`: require it once, then run each event sent over IPC.
 * Plain CommonJS run by plain node (no tsx hooks in the measured process).
 */
const WORKER = String.raw`
const [bundle, mode, eventJson] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint()) / 1e6;
if (mode === 'import') {
  const t0 = now();
  require(bundle);
  process.stdout.write(JSON.stringify({ importMs: now() - t0 }));
} else if (mode === 'cold') {
  const t0 = now();
  const { handler } = require(bundle);
  const t1 = now();
  Promise.resolve()
    .then(() => handler(JSON.parse(eventJson)))
    .then(
      () => { process.stdout.write(JSON.stringify({ importMs: t1 - t0, stepMs: now() - t1 })); process.exit(0); },
      (err) => { process.stdout.write(JSON.stringify({ error: String(err && err.stack || err) })); process.exit(1); },
    );
} else {
  const { handler } = require(bundle);
  process.on('message', async (event) => {
    const t0 = now();
    try {
      await handler(event);
      process.send({ stepMs: now() - t0 });
    } catch (err) {
      process.send({ error: String(err && err.stack || err) });
    }
  });
  process.send({ ready: true });
}
`;

interface Shipped {
  name: string;
  zipKb: number;
  bundleKb: number;
  /** The bundle, extracted under <root>/.esbuild/ (git-ignored) so that what it leaves out resolves from node_modules. */
  path: string;
}

/** `serverless package` (offline, as the stack tests run it) and each function's bundle taken out of its zip. */
async function packageBundles(workDir: string): Promise<Map<string, Shipped>> {
  const functions = [...ROTATORS, ...IMPORT_ONLY];
  if (BUNDLES_DIR) {
    return new Map(functions.map((fn) => [fn.name, { name: fn.name, zipKb: NaN, bundleKb: readFileSync(join(BUNDLES_DIR, fn.name, 'handler.js')).length / 1024, path: join(BUNDLES_DIR, fn.name, 'handler.js') }]));
  }
  const packaged = await packageStack();
  try {
    const shipped = new Map<string, Shipped>();
    for (const fn of functions) {
      const zip = readFileSync(join(packaged.dir, `${fn.slsName}.zip`));
      const js = zipEntry(zip, fn.handler);
      mkdirSync(join(workDir, fn.name), { recursive: true });
      const path = join(workDir, fn.name, 'handler.js');
      writeFileSync(path, js);
      shipped.set(fn.name, { name: fn.name, zipKb: zip.length / 1024, bundleKb: js.length / 1024, path });
    }
    return shipped;
  } finally {
    packaged.remove();
  }
}

interface ColdSample {
  importMs: number;
  stepMs: number;
}

function runCold(worker: string, bundle: string, event: RotationEvent, env: NodeJS.ProcessEnv): Promise<ColdSample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...COLD_NODE_ARGS, worker, bundle, 'cold', JSON.stringify(event)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const result = JSON.parse(out) as ColdSample & { error?: string };
        if (code === 0 && !result.error) resolve(result);
        else reject(new Error(`cold ${event.Step} failed (exit ${code}): ${result.error ?? ''}\n${err}`));
      } catch {
        reject(new Error(`cold ${event.Step} failed (exit ${code}): ${out}\n${err}`));
      }
    });
  });
}

/** One long-lived process that loaded the bundle: the warm container. */
class WarmWorker {
  private pending: ((reply: { stepMs?: number; error?: string }) => void) | undefined;
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: { stepMs?: number; error?: string; ready?: boolean }) => {
      if (reply.ready) return;
      const done = this.pending;
      this.pending = undefined;
      done?.(reply);
    });
  }

  static start(worker: string, bundle: string, env: NodeJS.ProcessEnv): Promise<WarmWorker> {
    const child = fork(worker, [bundle, 'warm'], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(new WarmWorker(child)));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`warm worker exited with ${code}`)));
    });
  }

  invoke(event: RotationEvent): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending = (reply) => (reply.error !== undefined ? reject(new Error(reply.error)) : resolve(reply.stepMs!));
      this.child.send(event);
    });
  }

  stop(): void {
    this.child.removeAllListeners('exit');
    this.child.kill();
  }
}

interface Engine {
  db: DatabaseServer;
  /** Creates a fresh single-user secret (and its database user) and returns its ARN. */
  newSecret(client: SecretsManagerClient, n: string): Promise<string>;
}

async function postgresEngine(certificates: TestCertificates): Promise<Engine> {
  const db = await startPostgres({ certificates });
  return {
    db,
    async newSecret(client, n) {
      const admin = new pg.Client({ host: db.hostname, port: db.port, user: db.adminUser, password: db.adminPassword, database: db.database, ssl: { ca: certificates.caPem } });
      await admin.connect();
      await admin.query(`CREATE ROLE cold_${n} LOGIN PASSWORD 'cold-initial'`);
      await admin.end();
      const value = { engine: 'postgres', host: db.hostname, port: db.port, username: `cold_${n}`, password: 'cold-initial', dbname: db.database };
      return (await client.send(new CreateSecretCommand({ Name: `cold/pg-${n}`, SecretString: JSON.stringify(value) }))).ARN!;
    },
  };
}

async function mariadbEngine(certificates: TestCertificates): Promise<Engine> {
  const db = await startMariaDb({ certificates });
  return {
    db,
    async newSecret(client, n) {
      const admin = await mysqlPromise.createConnection({ host: db.hostname, port: db.port, user: db.adminUser, password: db.adminPassword, ssl: { ca: certificates.caPem, verifyIdentity: true } });
      await admin.query(`CREATE USER \`cold_${n}\`@'%' IDENTIFIED BY 'cold-initial' REQUIRE SSL`);
      await admin.end();
      const value = { engine: 'mariadb', host: db.hostname, port: db.port, username: `cold_${n}`, password: 'cold-initial' };
      return (await client.send(new CreateSecretCommand({ Name: `cold/mariadb-${n}`, SecretString: JSON.stringify(value) }))).ARN!;
    },
  };
}

interface StepFigures {
  importMs: number[];
  coldStepMs: number[];
  warmMs: number[];
}

/** Cold and warm figures of one rotation function at one Secrets Manager latency. */
async function measureRotator(fn: (typeof ROTATORS)[number], bundle: Shipped, worker: string, engine: Engine, sandbox: Sandbox, caFile: string, latencyMs: number): Promise<Map<RotationStep, StepFigures>> {
  const lambda = `arn:aws:lambda:us-east-1:123456789012:function:${fn.name}-cold`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...sandbox.env(),
    DB_TLS_CA_FILE: caFile,
    POWERTOOLS_LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'ERROR',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_SERVICE_NAME: fn.name,
  };
  const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox' } });
  const warm = await WarmWorker.start(worker, bundle.path, env);
  const figures = new Map<RotationStep, StepFigures>(STEPS.map((s) => [s, { importMs: [], coldStepMs: [], warmMs: [] }]));
  let coldStep: RotationStep | undefined;
  let record = false;
  sandbox.functions.register(lambda, async (event) => {
    const f = figures.get(event.Step)!;
    if (event.Step === coldStep) {
      const sample = await runCold(worker, bundle.path, event, env);
      f.importMs.push(sample.importMs);
      f.coldStepMs.push(sample.stepMs);
    } else {
      const ms = await warm.invoke(event);
      if (record) f.warmMs.push(ms);
    }
  });
  const fault = latencyMs > 0 ? sandbox.faults.add({ operation: '*', kind: 'latency', delayMs: latencyMs }) : undefined;
  try {
    let n = 0;
    const rotate = async (): Promise<void> => {
      const arn = await engine.newSecret(client, `${latencyMs}_${n++}`);
      await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambda }));
      await sandbox.settle();
      const outcome = sandbox.rotations.events.at(-1)?.eventName;
      if (outcome !== 'RotationSucceeded') throw new Error(`${fn.name}: rotation ended with ${outcome}: ${JSON.stringify(sandbox.rotations.events.at(-1))}`);
    };
    // Warm-up: the warm process's first rotations (its own cold start) are not counted.
    for (let i = 0; i < 3; i++) await rotate();
    record = true;
    for (let i = 0; i < RUNS; i++) {
      for (const step of STEPS) {
        coldStep = step;
        await rotate();
      }
    }
  } finally {
    if (fault !== undefined) sandbox.faults.remove(fault);
    sandbox.functions.unregister(lambda);
    warm.stop();
    client.destroy();
  }
  return figures;
}

function printRotator(fn: (typeof ROTATORS)[number], bundle: Shipped, server: string, byLatency: Map<number, Map<RotationStep, StepFigures>>): void {
  console.log(`\n${fn.name} (zip ${bundle.zipKb.toFixed(1)} KB, bundle ${bundle.bundleKb.toFixed(1)} KB; ${server}, single user): medians of ${RUNS} fresh processes per step, warm = median of ${3 * RUNS}`);
  console.log('SM latency  step           import ms   first step ms   cold total ms   warm step ms   cold − warm ms');
  for (const [latency, figures] of byLatency) {
    for (const step of STEPS) {
      const f = figures.get(step)!;
      const totals = f.importMs.map((ms, i) => ms + f.coldStepMs[i]!);
      const cold = median(totals);
      const warm = median(f.warmMs);
      console.log(
        `${`+${latency} ms`.padEnd(11)} ${step.padEnd(14)} ${median(f.importMs).toFixed(1).padStart(9)} ${median(f.coldStepMs).toFixed(1).padStart(15)} ${cold.toFixed(1).padStart(15)} ${warm.toFixed(1).padStart(14)} ${(cold - warm).toFixed(1).padStart(16)}`,
      );
    }
  }
}

function importFigures(shipped: Map<string, Shipped>, worker: string): void {
  console.log(`\nImport only (require of the shipped bundle in a fresh node process, median of ${IMPORT_RUNS} after one file-cache warm-up)`);
  console.log('function              zip KB   bundle KB   import ms');
  for (const fn of [...ROTATORS, ...IMPORT_ONLY]) {
    const bundle = shipped.get(fn.name)!;
    const times: number[] = [];
    for (let i = 0; i < IMPORT_RUNS + 1; i++) {
      const out = execFileSync(process.execPath, [worker, bundle.path, 'import'], { env: { ...process.env, AWS_REGION: 'us-east-1', POWERTOOLS_TRACE_ENABLED: 'false' } }).toString();
      if (i > 0) times.push((JSON.parse(out) as { importMs: number }).importMs);
    }
    console.log(`${fn.name.padEnd(20)} ${bundle.zipKb.toFixed(1).padStart(7)} ${bundle.bundleKb.toFixed(1).padStart(11)} ${median(times).toFixed(1).padStart(11)}`);
  }
}

async function main(): Promise<void> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  console.log(`bench/cold: node ${process.version}, ${new Date().toISOString()}`);
  const workDir = join(root, '.esbuild', `bench-cold-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  const worker = join(workDir, 'worker.cjs');
  writeFileSync(worker, WORKER);
  const certDir = await createRunDir('bench-cold-tls');
  try {
    const shipped = await packageBundles(workDir);
    importFigures(shipped, worker);
    const certificates = await createTestCertificates(certDir.path);
    for (const fn of ROTATORS) {
      const engine = fn.engine === 'postgresql' ? await postgresEngine(certificates) : await mariadbEngine(certificates);
      const sandbox = await startSandbox({ rotation: { retryDelayMs: 0, maxAttempts: 1 } });
      try {
        const byLatency = new Map<number, Map<RotationStep, StepFigures>>();
        for (const latency of LATENCIES_MS) {
          byLatency.set(latency, await measureRotator(fn, shipped.get(fn.name)!, worker, engine, sandbox, certificates.caFile, latency));
        }
        const version = /^[\d.]+/.exec(engine.db.version)?.[0] ?? '';
        printRotator(fn, shipped.get(fn.name)!, `${fn.engine === 'postgresql' ? 'PostgreSQL' : 'MariaDB'} ${version} with verified TLS`, byLatency);
      } finally {
        await sandbox.close();
        await engine.db.stop();
      }
    }
  } finally {
    await certDir.remove();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
