// The MySQL/MariaDB driver (mysql2) under the shared connection layer (../connection.ts): one
// connection per verb, its settings, the host check for IP targets, the Session the verbs run
// statements on, and how its errors are classified by errno. Lifecycle, TLS, budget and the other
// failures are shared.
//
// Login classification (checkLogin's `rejected`): the server's refusals of this user/password —
// 1045 ER_ACCESS_DENIED_ERROR (wrong password, unknown user, no account for this client host),
// 1698 ER_ACCESS_DENIED_NO_PASSWORD_ERROR, 1862 ER_MUST_CHANGE_PASSWORD_LOGIN (expired),
// 3118 / 4151 ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL / MariaDB), 3955 (MySQL 8 FAILED_LOGIN_ATTEMPTS
// lock). Everything else is an EngineError: network ('unreachable'), TLS ('tls'), timeouts,
// 1044 no access to the named database ('privilege'), 1049 unknown database ('query'),
// 1040 / 1203 / 1226 too many connections ('unreachable'), 3159 the server requires TLS ('tls').

import type mysql from 'mysql2';
import net from 'node:net';
import tls from 'node:tls';
import { connectionsFor, requirePassword, validateTarget, type Driver, type Failure } from '../connection';
import { EngineError } from '../errors';
import { clientTlsOptions } from '../tls';
import type { ConnectionTarget, Credential } from '../types';
import { ENGINE_NAME } from './sql';

export { LoginRejected, type FailureContext } from '../connection';

export const DEFAULT_PORT = 3306;
/** Client-side limit for any statement's answer (mysql2 closes the connection when it passes). */
export const QUERY_TIMEOUT_MS = 15_000;
/** Shown in performance_schema.session_connect_attrs, so DBAs can tell rotation sessions apart. */
export const PROGRAM_NAME = 'credential-rotation';

/** The little the verbs need from a connection: statements in, rows (as arrays) out. */
export interface Session {
  /** Runs a SELECT or SHOW; each row is an array in column order. */
  rows(sql: string): Promise<unknown[][]>;
  /** Runs a statement that returns no rows. */
  run(sql: string): Promise<void>;
}

/** A server error (it carries an errno and SQLSTATE). */
export interface ServerError extends Error {
  errno: number;
  sqlState?: string;
  sqlMessage?: string;
  code: string;
}

export function isServerError(error: unknown): error is ServerError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServerError>).errno === 'number' &&
    typeof (error as Partial<ServerError>).sqlState === 'string'
  );
}

/** Server error numbers that are a definite "no" to this user/password. */
export const LOGIN_REJECTED = new Set([1045, 1698, 1862, 3118, 3955, 4151]);

export function isLoginRejection(error: unknown): error is ServerError {
  return isServerError(error) && LOGIN_REJECTED.has(error.errno);
}

/** mysql2's settings for a target: everything explicit. */
export function connectionOptions(target: ConnectionTarget, who: Credential): mysql.ConnectionOptions {
  validateTarget(driver, target);
  if (who.username.length === 0 || who.username.includes('\0')) {
    throw new EngineError('invalid', 'The username is empty or contains a NUL character.', { engine: ENGINE_NAME });
  }
  requirePassword(ENGINE_NAME, who);
  const tlsOptions = clientTlsOptions(target.host, target.tls, ENGINE_NAME);
  return {
    host: target.host,
    port: target.port,
    user: who.username,
    password: who.password,
    ...(target.dbname === undefined ? {} : { database: target.dbname }),
    // mysql2 checks the host name only with verifyIdentity (node:tls checks IP addresses itself).
    ssl: tlsOptions === false ? undefined : { ...tlsOptions, verifyIdentity: true },
    ...(tlsOptions !== false && net.isIP(target.host) !== 0 ? { stream: ipSocketFactory(target.host, target.port) } : {}),
    connectTimeout: target.connectTimeoutMs,
    charset: 'utf8mb4_general_ci',
    // No LOAD DATA LOCAL: a hostile server could otherwise ask for local files.
    flags: ['-LOCAL_FILES', '-MULTI_STATEMENTS'],
    multipleStatements: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    connectAttributes: { program_name: PROGRAM_NAME },
  };
}

/**
 * The driver, loaded on the first connection, not at import: createSecret never connects, and a
 * cold container should not pay for what its step does not use (bench/cold.ts). The module object
 * itself (not a copy of its functions), so createConnection is looked up at each call.
 */
let driverModule: typeof mysql | undefined;
async function loadDriver(): Promise<typeof mysql> {
  return (driverModule ??= (await import('mysql2')).default);
}

/** A connected mysql2 connection; on failure it is destroyed and the error thrown as it came. */
async function open(target: ConnectionTarget, who: Credential): Promise<mysql.Connection> {
  const options = connectionOptions(target, who);
  const connection = (await loadDriver()).createConnection(options);
  return new Promise((resolve, reject) => {
    const failed = (error: unknown): void => {
      connection.destroy();
      reject(error);
    };
    connection.once('error', failed);
    connection.once('connect', () => {
      connection.removeListener('error', failed);
      const mismatch = identityMismatch(connection, target);
      if (mismatch !== undefined) {
        failed(mismatch);
        return;
      }
      // A connection the server ends later (KILL, timeout) emits 'error'; unheard, that would
      // crash the process. The failure still reaches the pending statement.
      connection.on('error', () => undefined);
      resolve(connection);
    });
  });
}

/**
 * mysql2 (3.24) checks the certificate against the host only for host names: for an IP address it
 * passes no server name, and node:tls then checks the name 'localhost' instead (net.connect does not
 * record an IP host on the socket). So for IP targets the socket is opened here, with the host
 * recorded where node:tls looks for it, and the identity is checked during the handshake, before
 * any credential is sent. identityMismatch() checks it again after connecting, in case either
 * library changes.
 */
function ipSocketFactory(host: string, port: number): () => net.Socket {
  return () => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    (socket as net.Socket & { _host?: string })._host = host;
    return socket;
  };
}

/** An Error (code ERR_TLS_CERT_ALTNAME_INVALID) when a verified connection's certificate does not name the target host. */
function identityMismatch(connection: mysql.Connection, target: ConnectionTarget): Error | undefined {
  if (target.tls.kind !== 'verify') return undefined;
  const stream = (connection as unknown as { stream?: unknown }).stream;
  if (!(stream instanceof tls.TLSSocket)) {
    return Object.assign(new Error('the connection is not TLS although verified TLS was asked for'), { code: 'ERR_SSL_NOT_TLS' });
  }
  return tls.checkServerIdentity(target.host, stream.getPeerCertificate(true));
}

function sessionOf(connection: mysql.Connection): Session {
  const send = (sql: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      connection.query({ sql, rowsAsArray: true, timeout: QUERY_TIMEOUT_MS }, (error: unknown, result: unknown) => {
        if (error) reject(error);
        else resolve(result);
      });
    });
  return {
    async rows(sql) {
      const result = await send(sql);
      return Array.isArray(result) ? (result as unknown[]).map((row) => (Array.isArray(row) ? (row as unknown[]) : [row])) : [];
    },
    async run(sql) {
      await send(sql);
    },
  };
}

/** Closes without waiting for the server (COM_QUIT is sent; nothing is owed back). */
function close(connection: mysql.Connection): void {
  try {
    connection.end(() => undefined);
  } catch {
    connection.destroy();
  }
}

const PRIVILEGE_ERRNOS = new Set([1044, 1142, 1143, 1227, 1410, 3530]);
const BUSY_ERRNOS = new Set([1040, 1203, 1226, 1053, 1077, 1078, 1079, 1080, 1152, 1927]);
const TIMEOUT_ERRNOS = new Set([1205, 3024, 1969]);

/** Server errors, by errno. */
function serverError(error: unknown, failure: Failure): EngineError | undefined {
  if (!isServerError(error)) return undefined;
  const { where } = failure;
  const text = `${error.errno} ${error.code}: ${error.sqlMessage ?? error.message}`;
  const cause = { sqlstate: error.sqlState ?? '', driverCode: error.code };
  if (LOGIN_REJECTED.has(error.errno)) return failure.refused(String(error.errno), error.sqlMessage ?? error.message, cause);
  if (error.errno === 3159) {
    return failure.make('tls', `${where} requires TLS for this account (${text}); the secret says "ssl": false. Remove it.`, cause);
  }
  if (error.errno === 1049) return failure.unknownDatabase(text, cause);
  if (PRIVILEGE_ERRNOS.has(error.errno)) return failure.privilege(text, cause);
  if (BUSY_ERRNOS.has(error.errno)) return failure.busy(text, "check max_connections and the account's MAX_USER_CONNECTIONS.", cause);
  if (TIMEOUT_ERRNOS.has(error.errno)) {
    return failure.make('timeout', `a statement on ${where} ran out of time (${text}), probably behind another session's lock. Retry later.`, cause);
  }
  return failure.reported(text, cause);
}

const driver: Driver<mysql.Connection, Session> = {
  engine: ENGINE_NAME,
  server: 'the database',
  // Not `${verb}: `: the scrubber would take 'setOwnPassword: "user"' for a password pair.
  verbSeparator: ' failed: ',
  queryTimeoutMs: QUERY_TIMEOUT_MS,
  advice: {
    connectTimeout: 'raise the connect timeout if the server is just slow.',
    queryTimeout: 'metadata locks on the grant tables',
    loginRefused:
      'The password is wrong, the account does not exist for this client host, is locked, or its password expired: check the credential in its secret.',
    grants: 'the README',
  },
  signs: {
    noTls: { codes: ['HANDSHAKE_NO_SSL_SUPPORT'] },
    tlsFailure: { codes: ['HANDSHAKE_SSL_ERROR'] },
    timeout: { codes: ['PROTOCOL_SEQUENCE_TIMEOUT'] },
    connectionLost: { codes: ['PROTOCOL_CONNECTION_LOST'] },
  },
  open,
  close,
  session: sessionOf,
  loginRejection: (error) => {
    if (!isLoginRejection(error)) return undefined;
    const sqlstate = error.sqlState ?? '28000';
    const errno = String(error.errno);
    return { code: errno, label: `${errno} (${sqlstate})`, detail: error.sqlMessage ?? error.message, cause: { sqlstate, driverCode: errno } };
  },
  serverError,
  // mysql2 overwrites node:tls's code with HANDSHAKE_SSL_ERROR; the host-name case is worth keeping apart.
  refineCode: (code, message) =>
    code === 'HANDSHAKE_SSL_ERROR' && /does not match certificate's altnames/.test(message) ? 'ERR_TLS_CERT_ALTNAME_INVALID' : code,
};

export const { connect, withConnection, asLogin, toEngineError, describeTarget } = connectionsFor(driver);
