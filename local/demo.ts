/**
 * `npm start`: the suite's main job on the local sandbox. Starts a throwaway PostgreSQL with
 * TLS and the local Secrets Manager, creates a single-user and an alternating-users secret,
 * rotates each three times through the real rotation handler, proves the new credentials log
 * in (and, for single user, that the old one no longer does), and prints a short report.
 */
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { createRunDir, createTestCertificates, startPostgres, type DatabaseServer } from './databases';
import { startSandbox } from './secrets-manager';

const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql';
const ROTATIONS = 3;

interface Credential {
  username: string;
  password: string;
}

async function main(): Promise<void> {
  const began = performance.now();
  const certDir = await createRunDir('demo-tls');
  const certificates = await createTestCertificates(certDir.path);
  const db = await startPostgres({ certificates, logStatements: true });
  const sandbox = await startSandbox();
  try {
    // The real handler, reaching the sandbox through the same variables it reads in Lambda.
    Object.assign(process.env, sandbox.env(), { DB_TLS_CA_FILE: certificates.caFile, POWERTOOLS_LOG_LEVEL: 'WARN' });
    const { handler } = await import('../functions/rotate-postgresql/handler');
    sandbox.functions.register(LAMBDA, (event) => handler(event));
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint });

    const canLogin = async ({ username, password }: Credential): Promise<boolean> => {
      const c = new pg.Client({ host: db.hostname, port: db.port, user: username, password, database: db.database, ssl: { ca: certificates.caPem }, connectionTimeoutMillis: 3000 });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    const admin = new pg.Client({ host: db.hostname, port: db.port, user: db.adminUser, password: db.adminPassword, database: db.database, ssl: { ca: certificates.caPem } });
    await admin.connect();
    await admin.query(`CREATE ROLE "orders_app" LOGIN PASSWORD 'demo-initial-1'; CREATE ROLE "billing_app" LOGIN PASSWORD 'demo-initial-2'`);
    await admin.end();

    const secret = (username: string, password: string, extra: object = {}): string =>
      JSON.stringify({ engine: 'postgres', host: db.hostname, port: db.port, username, password, dbname: db.database, ...extra });
    const adminArn = (await client.send(new CreateSecretCommand({ Name: 'demo/admin', SecretString: secret(db.adminUser, db.adminPassword) }))).ARN!;
    const secrets = [
      { label: 'single user', arn: (await client.send(new CreateSecretCommand({ Name: 'demo/orders-app', SecretString: secret('orders_app', 'demo-initial-1') }))).ARN! },
      { label: 'alternating users', arn: (await client.send(new CreateSecretCommand({ Name: 'demo/billing-app', SecretString: secret('billing_app', 'demo-initial-2', { masterarn: adminArn }) }))).ARN! },
    ];
    const read = async (arn: string, stage: string): Promise<Credential> => {
      const out = await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
      return JSON.parse(out.SecretString!) as Credential;
    };

    console.log(`Local sandbox: ${/PostgreSQL [\d.]+/.exec(db.version)?.[0] ?? 'PostgreSQL'} (TLS, verified) on ${db.hostname}:${db.port}; Secrets Manager on ${sandbox.endpoint}\n`);
    let failures = 0;
    for (const { label, arn } of secrets) {
      console.log(`${label} — ${arn.split(':').pop()}`);
      for (let i = 1; i <= ROTATIONS; i++) {
        const before = await read(arn, 'AWSCURRENT');
        const started = performance.now();
        await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 } }));
        await sandbox.settle();
        const ms = performance.now() - started;
        const outcome = sandbox.rotations.events.filter((e) => e.secretArn === arn).at(-1)?.eventName;
        const current = await read(arn, 'AWSCURRENT');
        const currentOk = await canLogin(current);
        const oldOk = await canLogin(before);
        // Single user: the old password must be dead. Alternating: the old user keeps working until the next rotation.
        const expectedOld = label === 'single user' ? false : true;
        const ok = outcome === 'RotationSucceeded' && currentOk && oldOk === expectedOld;
        if (!ok) failures++;
        console.log(
          `  rotation ${i}: ${ok ? 'ok' : 'FAILED'} in ${ms.toFixed(0).padStart(4)} ms — AWSCURRENT is ${current.username.padEnd(18)} logs in: ${currentOk ? 'yes' : 'NO'}; previous credential (${before.username}) logs in: ${oldOk ? 'yes' : 'no'}`,
        );
      }
    }
    console.log(`\n${failures === 0 ? 'All rotations succeeded' : `${failures} rotation(s) failed`}; passwords never printed. Took ${((performance.now() - began) / 1000).toFixed(1)} s.`);
    client.destroy();
    process.exitCode = failures === 0 ? 0 : 1;
  } finally {
    await sandbox.close();
    await stopQuietly(db);
    await certDir.remove();
  }
}

async function stopQuietly(db: DatabaseServer): Promise<void> {
  await db.stop().catch((err: unknown) => console.error('could not stop PostgreSQL:', err));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
