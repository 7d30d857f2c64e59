/**
 * `npm start`: the suite's main job on the local sandbox. Starts a throwaway PostgreSQL and
 * MariaDB with TLS and the local Secrets Manager, creates a single-user and an alternating-users
 * secret for each, rotates each three times through the real rotation handlers, proves the new
 * credentials log in (and, for single user, that the old one no longer does), and prints a short report.
 */
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createRunDir, createTestCertificates, databaseAccess, startMariaDb, startPostgres, type DatabaseServer } from './databases';
import { printComplianceTable } from './demo-compliance';
import { startSandbox } from './secrets-manager';

const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql';
const MYSQL_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql';
const ROTATIONS = 3;

interface Credential {
  username: string;
  password: string;
}

async function main(): Promise<void> {
  const began = performance.now();
  const certDir = await createRunDir('demo-tls');
  const certificates = await createTestCertificates(certDir.path);
  const [db, mariadb] = await Promise.all([startPostgres({ certificates, logStatements: true }), startMariaDb({ certificates, generalLog: true })]);
  const sandbox = await startSandbox();
  try {
    // The real handler, reaching the sandbox through the same variables it reads in Lambda.
    Object.assign(process.env, sandbox.env(), { DB_TLS_CA_FILE: certificates.caFile, POWERTOOLS_LOG_LEVEL: 'WARN' });
    const { handler } = await import('../functions/rotate-postgresql/handler');
    sandbox.functions.register(LAMBDA, (event) => handler(event));
    const { handler: mysqlHandler } = await import('../functions/rotate-mysql/handler');
    sandbox.functions.register(MYSQL_LAMBDA, (event) => mysqlHandler(event));
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint });

    const pgAccess = databaseAccess(db, certificates.caPem);
    const mariadbAccess = databaseAccess(mariadb, certificates.caPem);
    const canLogin = (c: Credential, engine: Engine): Promise<boolean> =>
      engine === 'mariadb' ? mariadbAccess.canLogin(c.username, c.password, 'shop') : pgAccess.canLogin(c.username, c.password);
    await pgAccess.createUser('orders_app', 'demo-initial-1');
    await pgAccess.createUser('billing_app', 'demo-initial-2');

    const secret = (username: string, password: string, extra: object = {}): string =>
      JSON.stringify({ engine: 'postgres', host: db.hostname, port: db.port, username, password, dbname: db.database, ...extra });
    const adminArn = (await client.send(new CreateSecretCommand({ Name: 'demo/admin', SecretString: secret(db.adminUser, db.adminPassword) }))).ARN!;
    const secrets: Array<{ label: string; engine: Engine; lambda: string; arn: string }> = [
      { label: 'single user', engine: 'postgresql', lambda: LAMBDA, arn: (await client.send(new CreateSecretCommand({ Name: 'demo/orders-app', SecretString: secret('orders_app', 'demo-initial-1') }))).ARN! },
      { label: 'alternating users', engine: 'postgresql', lambda: LAMBDA, arn: (await client.send(new CreateSecretCommand({ Name: 'demo/billing-app', SecretString: secret('billing_app', 'demo-initial-2', { masterarn: adminArn }) }))).ARN! },
      ...(await mariadbSecrets(mariadb, client)),
    ];
    const read = async (arn: string, stage: string): Promise<Credential> => {
      const out = await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
      return JSON.parse(out.SecretString!) as Credential;
    };

    console.log(
      `Local sandbox: PostgreSQL ${/^[\d.]+/.exec(db.version)?.[0] ?? ''} (TLS, verified) on ${db.hostname}:${db.port}; ` +
        `MariaDB ${/^[\d.]+/.exec(mariadb.version)?.[0] ?? ''} (TLS, verified) on ${mariadb.hostname}:${mariadb.port}; Secrets Manager on ${sandbox.endpoint}\n`,
    );
    let failures = 0;
    for (const { label, engine, lambda, arn } of secrets) {
      console.log(`${engine === 'mariadb' ? 'MariaDB' : 'PostgreSQL'} ${label} — ${arn.split(':').pop()}`);
      for (let i = 1; i <= ROTATIONS; i++) {
        const before = await read(arn, 'AWSCURRENT');
        const started = performance.now();
        await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambda, RotationRules: { AutomaticallyAfterDays: 30 } }));
        await sandbox.settle();
        const ms = performance.now() - started;
        const outcome = sandbox.rotations.events.filter((e) => e.secretArn === arn).at(-1)?.eventName;
        const current = await read(arn, 'AWSCURRENT');
        const currentOk = await canLogin(current, engine);
        const oldOk = await canLogin(before, engine);
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
    // The scheduled compliance scan's view of the same secrets, plus three an estate usually has:
    // an API key nobody rotated for 200 days, a rotation that failed and is overdue, and an
    // RDS-managed master secret (rotated by RDS, so not flagged).
    const daysAgo = (days: number): Date => new Date(sandbox.clock.now().getTime() - days * 86_400_000);
    sandbox.seed([
      { name: 'demo/legacy-api-key', createdDate: daysAgo(200), secretString: '{"apiKey":"demo"}', tags: [{ Key: 'compliance:secret-type', Value: 'api-key' }] },
      {
        name: 'demo/reporting-db',
        createdDate: daysAgo(120),
        lastRotatedDate: daysAgo(75),
        rotationEnabled: true,
        rotationLambdaArn: LAMBDA,
        rotationRules: { AutomaticallyAfterDays: 30 },
        nextRotationDate: daysAgo(45),
        secretString: '{"engine":"postgres","host":"reporting.internal","username":"reports","password":"demo"}',
      },
      { name: 'rds!db-3f1c2d5e-demo', owningService: 'rds', createdDate: daysAgo(300), lastAccessedDate: daysAgo(1), lastRotatedDate: daysAgo(3), rotationEnabled: true, rotationRules: { AutomaticallyAfterDays: 7 }, nextRotationDate: daysAgo(-4), secretString: '{"username":"master","password":"demo"}' },
    ]);
    await printComplianceTable(sandbox);
    // Breach drill: the PostgreSQL alternating-users and MariaDB single-user credentials leak.
    const leakedOk = await breachDrill(sandbox.endpoint, [secrets[1]!, secrets[2]!], canLogin, db, certificates.caPem);
    process.exitCode = failures === 0 && leakedOk ? 0 : 1;
  } finally {
    await sandbox.close();
    await Promise.all([stopQuietly(db), stopQuietly(mariadb)]);
    await certDir.remove();
  }
}

type Engine = 'postgresql' | 'mariadb';

/**
 * A leaked credential, the breach response, and proof: the leaked password no longer logs in, and
 * the attacker's session opened with it (PostgreSQL) is gone.
 */
async function breachDrill(
  endpoint: string,
  leakedSecrets: Array<{ engine: Engine; arn: string }>,
  canLogin: (c: Credential, engine: Engine) => Promise<boolean>,
  db: DatabaseServer,
  caPem: string,
): Promise<boolean> {
  const client = new SecretsManagerClient({ endpoint });
  const leaked = await Promise.all(
    leakedSecrets.map(async (s) => ({ ...s, cred: JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: s.arn }))).SecretString!) as Credential })),
  );
  const pgLeak = leaked.find((l) => l.engine === 'postgresql')!;
  const attacker = new pg.Client({ host: db.hostname, port: db.port, user: pgLeak.cred.username, password: pgLeak.cred.password, database: db.database, ssl: { ca: caPem } });
  attacker.on('error', () => undefined);
  await attacker.connect();
  console.log(`\nBreach drill: ${leaked.map((l) => `${l.cred.username} (${l.engine})`).join(' and ')} leaked; an attacker holds a session as ${pgLeak.cred.username}.`);
  const { createBreachDeps } = await import('../shared/runtime/breach');
  const { runBreach } = await import('../shared/breach');
  const { breachTable } = await import('./cli');
  const report = await runBreach({ reason: 'demo drill: credentials pasted in a public channel', secretIds: leaked.map((l) => l.arn) }, createBreachDeps({ log: { info: () => undefined, error: () => undefined }, client }));
  console.log(breachTable(report));
  const stillWorking = (await Promise.all(leaked.map((l) => canLogin(l.cred, l.engine)))).filter(Boolean).length;
  const sessionAlive = await attacker.query('SELECT 1').then(() => true, () => false);
  await attacker.end().catch(() => undefined);
  client.destroy();
  console.log(`Leaked credentials that still log in: ${stillWorking}/${leaked.length}; attacker session alive: ${sessionAlive ? 'YES' : 'no'}.`);
  return report.failed === 0 && stillWorking === 0 && !sessionAlive;
}

/** Two MariaDB users with a few grants (TLS required), and their secrets in AWS's MySQL template format. */
async function mariadbSecrets(mariadb: DatabaseServer, client: SecretsManagerClient): Promise<Array<{ label: string; engine: Engine; lambda: string; arn: string }>> {
  const admin = await mysql.createConnection({ host: mariadb.hostname, port: mariadb.port, user: mariadb.adminUser, password: mariadb.adminPassword, ssl: { ca: mariadb.caPem, verifyIdentity: true } });
  try {
    await admin.query('CREATE DATABASE shop');
    for (const [user, password] of [['inventory_app', 'demo-initial-3'], ['payments_app', 'demo-initial-4']] as const) {
      await admin.query(`CREATE USER \`${user}\`@'%' IDENTIFIED BY '${password}' REQUIRE SSL`);
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON shop.* TO \`${user}\`@'%'`);
    }
  } finally {
    await admin.end();
  }
  const secret = (username: string, password: string, extra: object = {}): string =>
    JSON.stringify({ engine: 'mariadb', host: mariadb.hostname, port: mariadb.port, username, password, dbname: 'shop', ...extra });
  const adminArn = (await client.send(new CreateSecretCommand({ Name: 'demo/mariadb-admin', SecretString: secret(mariadb.adminUser, mariadb.adminPassword) }))).ARN!;
  return [
    { label: 'single user', engine: 'mariadb', lambda: MYSQL_LAMBDA, arn: (await client.send(new CreateSecretCommand({ Name: 'demo/inventory-app', SecretString: secret('inventory_app', 'demo-initial-3') }))).ARN! },
    { label: 'alternating users', engine: 'mariadb', lambda: MYSQL_LAMBDA, arn: (await client.send(new CreateSecretCommand({ Name: 'demo/payments-app', SecretString: secret('payments_app', 'demo-initial-4', { masterarn: adminArn }) }))).ARN! },
  ];
}

async function stopQuietly(db: DatabaseServer): Promise<void> {
  await db.stop().catch((err: unknown) => console.error(`could not stop ${db.engine}:`, err));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
