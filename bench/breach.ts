/**
 * Breach response over 100 secrets on the sandbox (`npx tsx bench/breach.ts`; BREACH_SECRETS=n to
 * change the count): PostgreSQL and MariaDB, single-user and alternating-users secrets, one open
 * session per leaked credential. Rotates through the real rotation handlers, then checks every
 * leaked credential independently (a fresh login) and every session. Prints figures; target ≤ 60 s.
 */
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createBreachDeps } from '../shared/runtime/breach';
import { mapBounded, runBreach } from '../shared/breach';
import { nativePasswordHash } from '../shared/engines/mysql/passwords';
import { createRunDir, createTestCertificates, startMariaDb, startPostgres, type DatabaseServer } from '../local/databases';
import { startSandbox } from '../local/secrets-manager';

const COUNT = Number(process.env['BREACH_SECRETS'] ?? 100);
const CONCURRENCY = Number(process.env['BREACH_CONCURRENCY'] ?? 5);
const PG_FN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql';
const MYSQL_FN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql';

interface Cred {
  username: string;
  password: string;
}

async function main(): Promise<void> {
  const certDir = await createRunDir('bench-breach-tls');
  const certificates = await createTestCertificates(certDir.path);
  const [pgDb, maria] = await Promise.all([startPostgres({ certificates }), startMariaDb({ certificates })]);
  const sandbox = await startSandbox({ rotation: { retryDelayMs: 0 } });
  const sessions: Array<{ alive: () => Promise<boolean>; close: () => Promise<void> }> = [];
  try {
    Object.assign(process.env, sandbox.env(), { DB_TLS_CA_FILE: certificates.caFile, POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_TRACE_ENABLED: 'false' });
    const { handler: pgHandler } = await import('../functions/rotate-postgresql/handler');
    const { handler: mysqlHandler } = await import('../functions/rotate-mysql/handler');
    sandbox.functions.register(PG_FN, (e) => pgHandler(e));
    sandbox.functions.register(MYSQL_FN, (e) => mysqlHandler(e));
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 8, retryMode: 'adaptive' });

    const pgAdmin = new pg.Client({ host: pgDb.hostname, port: pgDb.port, user: pgDb.adminUser, password: pgDb.adminPassword, database: pgDb.database, ssl: { ca: certificates.caPem } });
    await pgAdmin.connect();
    const myAdmin = await mysql.createConnection({ host: maria.hostname, port: maria.port, user: maria.adminUser, password: maria.adminPassword, ssl: { ca: certificates.caPem } });
    const secretOf = (db: DatabaseServer, username: string, password: string, extra: object = {}) =>
      JSON.stringify({ engine: db.engine === 'postgresql' ? 'postgres' : 'mariadb', host: db.hostname, port: db.port, username, password, ...(db.engine === 'postgresql' ? { dbname: db.database } : {}), ...extra });
    const pgAdminArn = (await client.send(new CreateSecretCommand({ Name: 'bench/pg-admin', SecretString: secretOf(pgDb, pgDb.adminUser, pgDb.adminPassword) }))).ARN!;
    const myAdminArn = (await client.send(new CreateSecretCommand({ Name: 'bench/maria-admin', SecretString: secretOf(maria, maria.adminUser, maria.adminPassword) }))).ARN!;

    // Set-up: COUNT secrets, a quarter of each kind, each rotated once (rotation configured).
    const setupStarted = performance.now();
    const specs = Array.from({ length: COUNT }, (_, i) => ({ i, db: i % 2 === 0 ? pgDb : maria, alternating: i % 4 >= 2 }));
    const userOf = ({ i, alternating }: { i: number; alternating: boolean }) => `bench_${alternating ? 'alt' : 'one'}_${i}`;
    for (const spec of specs) {
      if (spec.db.engine === 'postgresql') await pgAdmin.query(`CREATE ROLE "${userOf(spec)}" LOGIN PASSWORD 'bench-initial-${spec.i}'`);
      else await myAdmin.query(`CREATE USER '${userOf(spec)}'@'%' IDENTIFIED BY PASSWORD '${nativePasswordHash(`bench-initial-${spec.i}`)}'`);
    }
    const arns = await mapBounded(specs, 10, async ({ i, db, alternating }) => {
      const user = userOf({ i, alternating });
      const extra = alternating ? { masterarn: db.engine === 'postgresql' ? pgAdminArn : myAdminArn } : {};
      const arn = (await client.send(new CreateSecretCommand({ Name: `bench/breach/${i}`, SecretString: secretOf(db, user, `bench-initial-${i}`, extra), Tags: [{ Key: 'incident', Value: 'bench' }] }))).ARN!;
      await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: db.engine === 'postgresql' ? PG_FN : MYSQL_FN, RotationRules: { AutomaticallyAfterDays: 30 } }));
      return arn;
    });
    await sandbox.settle();
    const leaked = new Map<string, Cred & { db: DatabaseServer }>();
    for (const [k, arn] of arns.entries()) {
      const value = JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString!) as Cred;
      leaked.set(arn, { ...value, db: specs[k]!.db });
    }
    // The attacker's sessions, opened with each leaked credential.
    for (const cred of leaked.values()) sessions.push(await openSession(cred.db, cred, certificates.caPem));
    const setupMs = performance.now() - setupStarted;

    const callsBefore = sandbox.calls.length;
    const deps = { ...createBreachDeps({ log: { info: () => undefined, error: () => undefined }, client }), pollIntervalMs: 50 };
    const started = performance.now();
    const report = await runBreach({ reason: 'bench: 100 leaked credentials', selector: { tag: { key: 'incident', value: 'bench' } }, concurrency: CONCURRENCY }, deps);
    const breachMs = performance.now() - started;

    // Independent proof: fresh logins with every leaked credential, and every attacker session.
    const stillWorking = (await mapBounded([...leaked.values()], 10, (c) => canLogin(c.db, c, certificates.caPem))).filter(Boolean).length;
    const sessionsAlive = (await mapBounded(sessions, 10, (s) => s.alive())).filter(Boolean).length;

    const calls = sandbox.calls.slice(callsBefore);
    const byOp = new Map<string, number>();
    for (const c of calls) byOp.set(c.operation, (byOp.get(c.operation) ?? 0) + 1);
    const durations = report.secrets.map((s) => s.durationMs).sort((a, b) => a - b);
    const pct = (p: number) => durations[Math.min(durations.length - 1, Math.floor((p / 100) * durations.length))] ?? 0;
    console.log(`Breach response over ${COUNT} secrets (PostgreSQL + MariaDB, single + alternating), concurrency ${CONCURRENCY}, sandbox`);
    console.log(`  set-up (users, secrets, first rotation, ${sessions.length} attacker sessions): ${(setupMs / 1000).toFixed(1)} s`);
    console.log(`  breach response: ${(breachMs / 1000).toFixed(1)} s (target ≤ 60 s) — ${report.succeeded} ok, ${report.failed} failed`);
    console.log(`  per secret: p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${durations.at(-1) ?? 0} ms`);
    console.log(`  rotations: ${byOp.get('RotateSecret') ?? 0}; Secrets Manager calls: ${calls.length} (${[...byOp].sort().map(([k, v]) => `${k} ${v}`).join(', ')})`);
    console.log(`  leaked credentials still logging in: ${stillWorking}/${leaked.size}; attacker sessions still alive: ${sessionsAlive}/${sessions.length}`);
    for (const s of report.secrets.filter((x) => x.status === 'failed').slice(0, 5)) console.log(`  FAILED ${s.secretId}: ${s.error}`);
    if (report.failed > 0 || stillWorking > 0 || sessionsAlive > 0) process.exitCode = 1;
    await pgAdmin.end();
    await myAdmin.end();
    client.destroy();
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await sandbox.close();
    await Promise.all([pgDb.stop(), maria.stop()]);
    await certDir.remove();
  }
}

async function openSession(db: DatabaseServer, c: Cred, ca: string): Promise<{ alive: () => Promise<boolean>; close: () => Promise<void> }> {
  if (db.engine === 'postgresql') {
    const s = new pg.Client({ host: db.hostname, port: db.port, user: c.username, password: c.password, database: db.database, ssl: { ca } });
    s.on('error', () => undefined);
    await s.connect();
    return { alive: () => s.query('SELECT 1').then(() => true, () => false), close: () => s.end().catch(() => undefined) };
  }
  const s = await mysql.createConnection({ host: db.hostname, port: db.port, user: c.username, password: c.password, ssl: { ca } });
  s.on('error', () => undefined);
  return { alive: () => s.query('SELECT 1').then(() => true, () => false), close: () => s.end().catch(() => undefined) };
}

async function canLogin(db: DatabaseServer, c: Cred, ca: string): Promise<boolean> {
  try {
    const s = await openSession(db, c, ca);
    const ok = await s.alive();
    await s.close();
    return ok;
  } catch {
    return false;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
