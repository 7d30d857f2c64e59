import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { databaseAccess } from '../../../local/databases';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../local/secrets-manager';
import type { DatabaseConnectionInfo } from '../provided';

export const PG_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql';
export const MYSQL_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql';

/** A test server the integration global setup starts (test/integration/global-setup.ts). */
export type HarnessEngine = 'postgresql' | 'mariadb';

/** Which real database and which real rotation function a harness wires together. */
export interface RotationWiring {
  /** The test server the function rotates users of. */
  server: HarnessEngine;
  /** The Lambda ARN the handler is registered under in the sandbox. */
  lambdaArn: string;
  /** The function's real handler module (functions/<name>/handler.ts). */
  loadHandler(): Promise<{ handler: (event: unknown) => Promise<unknown> }>;
}

/** Everything a rotation integration test needs: the real database, the sandbox, the real handler wired to it. */
export interface Harness {
  engine: HarnessEngine;
  /** The Lambda ARN the handler is registered under in the sandbox. */
  lambdaArn: string;
  sandbox: Sandbox;
  client: SecretsManagerClient;
  db: DatabaseConnectionInfo;
  handler: (event: unknown) => Promise<unknown>;
  /** Lines the handler logged (Powertools writes to stdout), for leak checks. */
  output: string[];
  /** Runs SQL as the server's admin: `$1` parameters on PostgreSQL, `?` on MariaDB. */
  admin<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  canLogin(username: string, password: string, dbname?: string): Promise<boolean>;
  /** A login user whose password reaches the server only as a verifier/hash (so the logs stay clean). */
  createUser(username: string, password: string): Promise<void>;
  userExists(username: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The PostgreSQL harness (the name the PostgreSQL tests use). */
export type PostgresHarness = Harness;

export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

/** The connection details global-setup provides for a test server. */
export const serverInfo = (server: HarnessEngine): DatabaseConnectionInfo => (server === 'postgresql' ? inject('postgres') : inject('mariadb'));

/** Start a sandbox, point the real handler at it through the environment, and register it for rotations. */
export async function startHarness(wiring: RotationWiring, options: SandboxOptions = {}): Promise<Harness> {
  const engine = wiring.server;
  const db = serverInfo(engine);
  const tls = inject('tls');
  const sandbox = await startSandbox({ rotation: { retryDelayMs: 1, ...options.rotation }, ...options });
  Object.assign(process.env, sandbox.env(), { DB_TLS_CA_FILE: tls.caFile, DB_CONNECT_TIMEOUT_MS: '3000', POWERTOOLS_LOG_LEVEL: 'INFO' });
  const { handler } = await wiring.loadHandler();
  const lambdaArn = wiring.lambdaArn;

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
    ...access,
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
  return values.flatMap((s) => {
    try {
      const password = (JSON.parse(s ?? 'null') as { password?: unknown } | null)?.password;
      return typeof password === 'string' ? [password] : [];
    } catch {
      return []; // not JSON: a bad-input case, nothing generated
    }
  });
}

/** RotateSecret (through the harness's function unless `lambdaArn` says otherwise), then wait until the rotation ends. */
export async function rotate(h: Harness, arn: string, { lambdaArn = h.lambdaArn, rules = true }: { lambdaArn?: string; rules?: boolean } = {}): Promise<void> {
  await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambdaArn, ...(rules ? { RotationRules: { AutomaticallyAfterDays: 30 } } : {}) }));
  await h.sandbox.settle();
}

/** How the last rotation of the secret ended, as the sandbox recorded it. */
export function lastOutcome(h: Harness, arn: string): string | undefined {
  return h.sandbox.rotations.events.filter((e) => e.secretArn === arn && (e.eventName === 'RotationSucceeded' || e.eventName === 'RotationFailed')).at(-1)?.eventName;
}

/** The error of the last failed rotation of the secret (to show when a rotation that should succeed did not). */
export function lastFailure(h: Harness, arn: string): string | undefined {
  return h.sandbox.rotations.events.filter((e) => e.secretArn === arn && e.eventName === 'RotationFailed').at(-1)?.errorMessage;
}

/**
 * The leak canary: every password of every version of `arns`, plus `initialPasswords` (those the
 * test gave its users, as hashes), searched for as text, base64, base64url and URL-encoded in the
 * server's statement/general log, the handler's output, the sandbox's recorded errors and
 * `moreHaystacks`. Returns
 * the findings (empty is good) and how many passwords were searched for.
 */
export async function leakCanary(
  h: Harness,
  arns: readonly string[],
  initialPasswords: readonly string[] = [],
  moreHaystacks: ReadonlyArray<[name: string, text: string]> = [],
): Promise<{ passwords: number; findings: string[] }> {
  const passwords = new Set(initialPasswords);
  for (const arn of arns) for (const password of await allPasswords(h, arn)) passwords.add(password);
  const haystacks: [string, string][] = [
    [`the ${h.engine} log`, readFileSync(h.db.logFile, 'utf8')],
    ['handler output', h.output.join('')],
    ['rotation errors', h.sandbox.rotations.events.map((e) => e.errorMessage ?? '').join('\n')],
    ...moreHaystacks,
  ];
  const findings: string[] = [];
  const searched = [...passwords].filter((p) => p.length >= 8); // shorter ones are test placeholders ('p', 'x')
  for (const password of searched) {
    const forms = new Set([password, Buffer.from(password).toString('base64'), Buffer.from(password).toString('base64url'), encodeURIComponent(password)]);
    for (const [name, text] of haystacks) for (const form of forms) if (text.includes(form)) findings.push(`a password (${form === password ? 'as text' : 'encoded'}) appears in ${name}`);
  }
  return { passwords: searched.length, findings };
}
