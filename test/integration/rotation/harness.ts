import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { databaseAccess } from '../../../local/databases';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../local/secrets-manager';

export const PG_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql';
export const MYSQL_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql';

/** Which real database and which real handler a harness wires together. */
export type HarnessEngine = 'postgresql' | 'mariadb';

/** Everything a rotation integration test needs: the real database, the sandbox, the real handler wired to it. */
export interface Harness {
  engine: HarnessEngine;
  /** The Lambda ARN the handler is registered under in the sandbox. */
  lambdaArn: string;
  sandbox: Sandbox;
  client: SecretsManagerClient;
  db: ReturnType<typeof inject<'postgres'>>;
  handler: (event: unknown) => Promise<unknown>;
  /** Lines the handler logged (Powertools writes to stdout), for leak checks. */
  output: string[];
  /** Runs SQL as the server's admin: `$1` parameters on PostgreSQL, `?` on MariaDB. */
  admin<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  canLogin(username: string, password: string, dbname?: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The PostgreSQL harness (the name the PostgreSQL tests use). */
export type PostgresHarness = Harness;

export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

/** Start a sandbox, point the real handler at it through the environment, and register it for rotations. */
export async function startPostgresHarness(options: SandboxOptions = {}): Promise<Harness> {
  return startHarness('postgresql', options);
}

/** The same for MariaDB and the MySQL handler (functions/rotate-mysql). */
export async function startMysqlHarness(options: SandboxOptions = {}): Promise<Harness> {
  return startHarness('mariadb', options);
}

export async function startHarness(engine: HarnessEngine, options: SandboxOptions = {}): Promise<Harness> {
  const db = engine === 'postgresql' ? inject('postgres') : inject('mariadb');
  const tls = inject('tls');
  const sandbox = await startSandbox({ rotation: { retryDelayMs: 1, ...options.rotation }, ...options });
  Object.assign(process.env, sandbox.env(), { DB_TLS_CA_FILE: tls.caFile, DB_CONNECT_TIMEOUT_MS: '3000', POWERTOOLS_LOG_LEVEL: 'INFO' });
  const { handler } =
    engine === 'postgresql' ? await import('../../../functions/rotate-postgresql/handler') : await import('../../../functions/rotate-mysql/handler');
  const lambdaArn = engine === 'postgresql' ? PG_LAMBDA : MYSQL_LAMBDA;

  const output: string[] = [];
  const capture = (stream: NodeJS.WriteStream) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      output.push(String(chunk));
      // Kept, not echoed: set SHOW_HANDLER_LOGS=1 to see the handler's log lines while debugging.
      return process.env['SHOW_HANDLER_LOGS'] ? (write as (...a: unknown[]) => boolean)(chunk, ...rest) : true;
    }) as typeof stream.write;
    return () => {
      stream.write = write;
    };
  };
  const restore = [capture(process.stdout), capture(process.stderr)];

  sandbox.functions.register(lambdaArn, (event) => handler(event), { timeoutMs: 20_000 });
  const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 1 });
  const access = databaseAccess(db, tls.caPem, { connectTimeoutMs: 3000 });

  return {
    engine,
    lambdaArn,
    sandbox,
    client,
    db,
    handler,
    output,
    admin: access.admin,
    canLogin: access.canLogin,
    async close() {
      client.destroy();
      await sandbox.close();
      for (const r of restore) r();
    },
  };
}


/** A secret in the exact shape AWS's MySQL/MariaDB templates use (dbname is optional there). */
export function mysqlSecret(db: { hostname: string; port: number }, username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { engine: 'mariadb', host: db.hostname, port: db.port, username, password, ...extra };
}

/** A secret in the exact shape AWS's PostgreSQL templates use. */
export function pgSecret(db: { hostname: string; port: number }, username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { engine: 'postgres', host: db.hostname, port: db.port, username, password, dbname: 'postgres', ...extra };
}

export async function createSecret(h: Harness, name: string, value: Record<string, unknown> | string): Promise<string> {
  const out = await h.client.send(new CreateSecretCommand({ Name: name, SecretString: typeof value === 'string' ? value : JSON.stringify(value) }));
  return out.ARN!;
}

export async function secretValue(h: Harness, arn: string, stage = 'AWSCURRENT'): Promise<Record<string, unknown> & { username: string; password: string }> {
  const out = await h.client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
  return JSON.parse(out.SecretString!) as Record<string, unknown> & { username: string; password: string };
}

export async function stages(h: Harness, arn: string): Promise<Record<string, string[]>> {
  return (await h.client.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages ?? {};
}

/** Every password any version of the secret has held, for leak checks. */
export async function allPasswords(h: Harness, arn: string): Promise<string[]> {
  const { Versions = [] } = await h.client.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }));
  const values = await Promise.all(
    Versions.map((v) => h.client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: v.VersionId })).then((o) => o.SecretString, () => undefined)),
  );
  return values.flatMap((s) => (s ? [(JSON.parse(s) as { password: string }).password] : []));
}
