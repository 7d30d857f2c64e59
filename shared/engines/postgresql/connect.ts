// The PostgreSQL driver (pg) under the shared connection layer (../connection.ts): one pg.Client
// per verb, its settings, how the server refuses a login (SQLSTATE class 28), and how its errors
// are classified by SQLSTATE. Lifecycle, TLS, budget and the other failures are shared.

import type pg from 'pg';
// pg's error class lives in pg-protocol (pg.DatabaseError is this class): classifying an error
// needs it, never the rest of the driver.
import { DatabaseError } from 'pg-protocol';
import { connectionsFor, requirePassword, validateTarget, type Driver, type Failure } from '../connection';
import type { EngineError } from '../errors';
import { clientTlsOptions } from '../tls';
import type { ConnectionTarget, Credential } from '../types';
import { ENGINE_NAME, assertRoleName } from './sql';

export { LoginRejected, type FailureContext } from '../connection';

export const DEFAULT_PORT = 5432;
export const DEFAULT_DBNAME = 'postgres';

/** Server-side limit for each statement (statement_timeout). */
export const STATEMENT_TIMEOUT_MS = 10_000;
/** Server-side limit for waiting on a lock, e.g. a role another session is altering (lock_timeout). */
export const LOCK_TIMEOUT_MS = 5_000;
/** Client-side limit for any query's answer, in case the server or network stops answering. */
export const QUERY_TIMEOUT_MS = 15_000;
/** Shown in pg_stat_activity, so DBAs can tell rotation sessions apart. */
export const APPLICATION_NAME = 'credential-rotation';

/**
 * The driver, loaded on the first connection, not at import: createSecret never connects, and a
 * cold container should not pay for what its step does not use (bench/cold.ts).
 */
let driverModule: typeof pg | undefined;
async function loadDriver(): Promise<typeof pg> {
  return (driverModule ??= (await import('pg')).default);
}

/** A database error from the server (it carries a SQLSTATE). */
export function isDatabaseError(error: unknown): error is pg.DatabaseError {
  return error instanceof DatabaseError && typeof error.code === 'string';
}

/** SQLSTATE class 28 (invalid authorization specification): the server refused this login. */
export function isLoginRejection(error: unknown): error is pg.DatabaseError {
  return isDatabaseError(error) && (error.code ?? '').startsWith('28');
}

/** The server's message with its DETAIL and HINT, which say what exactly went wrong. */
export function serverMessage(error: pg.DatabaseError): string {
  return [error.message, error.detail, error.hint].filter((part) => part !== undefined && part !== '').join(' ');
}

/** The pg.Client settings for a target: everything explicit, so no PG* environment variable leaks in. */
export function clientConfig(target: ConnectionTarget, who: Credential): pg.ClientConfig {
  validateTarget(driver, target);
  assertRoleName(who.username, 'username');
  requirePassword(ENGINE_NAME, who);
  return {
    host: target.host,
    port: target.port,
    database: target.dbname ?? DEFAULT_DBNAME,
    user: who.username,
    password: who.password,
    ssl: clientTlsOptions(target.host, target.tls, ENGINE_NAME),
    connectionTimeoutMillis: target.connectTimeoutMs,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    lock_timeout: LOCK_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    application_name: APPLICATION_NAME,
  };
}

async function open(target: ConnectionTarget, who: Credential): Promise<pg.Client> {
  const config = clientConfig(target, who);
  const client = new (await loadDriver()).Client(config);
  // A connection the server ends (e.g. pg_terminate_backend) emits 'error' on the client; unheard,
  // that would crash the process. The failure still reaches the pending query or connect().
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/** SQLSTATE classes and codes: the server's errors, by what they mean for the verb. */
function databaseError(error: unknown, failure: Failure): EngineError | undefined {
  if (!isDatabaseError(error)) return undefined;
  const sqlstate = error.code ?? '';
  const text = serverMessage(error);
  const reported = `${sqlstate}: ${text}`;
  const cause = { sqlstate };
  if (sqlstate.startsWith('28')) return failure.refused(sqlstate, text, cause);
  if (sqlstate === '57014' || sqlstate === '55P03') {
    return failure.make(
      'timeout',
      `a statement on ${failure.where} was cancelled (${reported}): it ran past the statement timeout ` +
        `(${STATEMENT_TIMEOUT_MS} ms) or waited past the lock timeout (${LOCK_TIMEOUT_MS} ms), probably behind ` +
        'another session that holds a lock on the role. Retry later.',
      cause,
    );
  }
  if (sqlstate === '42501') return failure.privilege(reported, cause);
  if (sqlstate === '53300' || sqlstate.startsWith('08') || sqlstate.startsWith('57P')) {
    return failure.busy(reported, 'if it persists, check max_connections, the role connection limit and the server state.', cause);
  }
  if (sqlstate === '3D000') return failure.unknownDatabase(`${text} (${sqlstate})`, cause);
  return failure.reported(reported, cause);
}

const driver: Driver<pg.Client> = {
  engine: ENGINE_NAME,
  server: 'PostgreSQL',
  defaultDbName: DEFAULT_DBNAME,
  verbSeparator: ': ',
  queryTimeoutMs: QUERY_TIMEOUT_MS,
  advice: {
    connectTimeout: 'a dropped connection looks like this. Raise the connect timeout if the server is just slow.',
    queryTimeout: 'locks on the roles',
    loginRefused:
      'The password is wrong, the role does not exist or may not log in, or pg_hba.conf rejects it: check the credential in its secret.',
    grants: 'the engine documentation',
  },
  // pg's own messages for a server that will not do TLS, a connect/read timeout, a dropped connection.
  signs: {
    noTls: { message: /^(The server does not support SSL connections|There was an error establishing an SSL connection)/ },
    timeout: { message: /^(timeout expired|Query read timeout|Connection terminated due to connection timeout)/ },
    connectionLost: { message: /^Connection terminated/ },
  },
  open,
  close: (client) => client.end(),
  session: (client) => client,
  loginRejection: (error) => {
    if (!isLoginRejection(error)) return undefined;
    const sqlstate = error.code ?? '28000';
    return { code: sqlstate, label: sqlstate, detail: serverMessage(error), cause: { sqlstate } };
  },
  serverError: databaseError,
};

export const { connect, withConnection, asLogin, toEngineError, describeTarget } = connectionsFor(driver);
