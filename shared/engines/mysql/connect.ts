// Connections for the MySQL/MariaDB engine: one mysql2 connection per verb (no pool: a rotation
// step is a handful of statements), always closed, and every failure turned into an EngineError
// that says what failed and what to do.
//
// Login classification (checkLogin's `rejected`): the server's refusals of this user/password —
// 1045 ER_ACCESS_DENIED_ERROR (wrong password, unknown user, no account for this client host),
// 1698 ER_ACCESS_DENIED_NO_PASSWORD_ERROR, 1862 ER_MUST_CHANGE_PASSWORD_LOGIN (expired),
// 3118 / 4151 ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL / MariaDB), 3955 (MySQL 8 FAILED_LOGIN_ATTEMPTS
// lock). Everything else is an EngineError: network ('unreachable'), TLS ('tls'), timeouts,
// 1044 no access to the named database ('privilege'), 1049 unknown database ('query'),
// 1040 / 1203 / 1226 too many connections ('unreachable'), 3159 the server requires TLS ('tls').

import mysql from 'mysql2';
import net from 'node:net';
import tls from 'node:tls';
import { ChangeRefused, EngineError, scrubSecrets, type EngineErrorCode } from '../errors';
import { clientTlsOptions } from '../tls';
import type { ConnectionTarget, Credential, LoginResult } from '../types';
import { ENGINE_NAME } from './sql';

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

/** What a failure happened during, for its message. */
export interface FailureContext {
  verb: string;
  target: ConnectionTarget;
  /** The user the verb connected as. */
  user: string;
  /** Passwords and hashes that must not appear in any message. */
  secrets: readonly string[];
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

/** Raised by connect(): a login the server refused, kept apart for checkLogin's result. */
export class LoginRejected extends Error {
  override readonly name = 'LoginRejected';
  constructor(
    readonly errno: number,
    readonly sqlstate: string,
    /** The server's message, scrubbed. */
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * Opens a verified connection as `who`, runs `work` (once `notBefore` has resolved), and always
 * closes the connection. Every failure, a refused login included (code 'auth'), is thrown as an
 * EngineError; a rejected `notBefore` is thrown as it is.
 */
export async function withConnection<T>(
  verb: string,
  target: ConnectionTarget,
  who: Credential,
  extraSecrets: readonly string[],
  work: (session: Session, context: FailureContext) => Promise<T>,
  notBefore?: Promise<unknown>,
): Promise<T> {
  const context: FailureContext = { verb, target, user: who.username, secrets: [who.password, ...extraSecrets] };
  notBefore?.catch(() => undefined); // awaited below, once connected; a rejection must not go unhandled meanwhile
  const connection = await connect(target, who, context).catch((error: unknown) => {
    throw toEngineError(error, context, 'connect');
  });
  try {
    if (notBefore) await notBefore; // connected, but nothing runs until the caller's precondition holds
  } catch (error) {
    close(connection);
    throw error;
  }
  try {
    return await work(sessionOf(connection), context);
  } catch (error) {
    if (error instanceof ChangeRefused) throw error.refusal;
    throw toEngineError(error, context, 'query');
  } finally {
    close(connection);
  }
}

/**
 * Connects as `who` and runs `work`: a login the server refuses is the answer `rejected`, not an
 * error; every other failure is thrown as an EngineError. The connection is always closed.
 * `work` may itself answer `rejected` (e.g. the session's password is not the primary one).
 */
export async function asLogin(
  target: ConnectionTarget,
  who: Credential,
  context: FailureContext,
  work: (session: Session) => Promise<LoginResult | void>,
): Promise<LoginResult> {
  let connection: mysql.Connection;
  try {
    connection = await connect(target, who, context);
  } catch (error) {
    if (error instanceof LoginRejected) return { ok: false, reason: 'rejected', detail: `${error.errno} (${error.sqlstate}): ${error.detail}` };
    throw toEngineError(error, context, 'connect');
  }
  try {
    return (await work(sessionOf(connection))) ?? { ok: true };
  } catch (error) {
    throw toEngineError(error, context, 'query');
  } finally {
    close(connection);
  }
}

/**
 * A connected mysql2 connection (the caller closes it). A login the server refused throws
 * LoginRejected; any other failure is thrown as it came (toEngineError classifies it).
 */
export function connect(target: ConnectionTarget, who: Credential, context: FailureContext): Promise<mysql.Connection> {
  const connection = mysql.createConnection(connectionOptions(target, who));
  return new Promise((resolve, reject) => {
    const failed = (error: unknown): void => {
      connection.destroy();
      if (isLoginRejection(error)) {
        reject(new LoginRejected(error.errno, error.sqlState ?? '28000', scrubSecrets(error.sqlMessage ?? error.message, context.secrets)));
      } else {
        reject(error);
      }
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

/** mysql2's settings for a target: everything explicit. */
export function connectionOptions(target: ConnectionTarget, who: Credential): mysql.ConnectionOptions {
  validateTarget(target);
  if (who.username.length === 0 || who.username.includes('\0')) {
    throw new EngineError('invalid', 'The username is empty or contains a NUL character.', { engine: ENGINE_NAME });
  }
  if (who.password.length === 0) {
    throw new EngineError('invalid', `The password for "${who.username}" is empty.`, { engine: ENGINE_NAME });
  }
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

function validateTarget(target: ConnectionTarget): void {
  const problems: string[] = [];
  if (target.host.length === 0 || target.host.startsWith('/')) problems.push('host must be a host name or IP address');
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65_535) problems.push('port must be 1-65535');
  if (!Number.isInteger(target.connectTimeoutMs) || target.connectTimeoutMs < 1) {
    problems.push('connectTimeoutMs must be a positive integer');
  }
  if (target.dbname !== undefined && (target.dbname.length === 0 || target.dbname.includes('\0'))) {
    problems.push('dbname must be a non-empty name');
  }
  if (problems.length > 0) {
    throw new EngineError('invalid', `Invalid connection target ${describeTarget(target)}: ${problems.join('; ')}.`, { engine: ENGINE_NAME });
  }
}

export function describeTarget(target: ConnectionTarget): string {
  return `${target.host}:${target.port}${target.dbname === undefined ? '' : `/${target.dbname}`}`;
}

// ---------------------------------------------------------------------------------------------
// Classifying failures

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL', 'EPIPE', 'PROTOCOL_CONNECTION_LOST',
]);

/** OpenSSL certificate verification codes as Node reports them (besides ERR_TLS_* / ERR_SSL_*). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED',
  'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'HOSTNAME_MISMATCH', 'EPROTO', 'HANDSHAKE_SSL_ERROR',
]);

const PRIVILEGE_ERRNOS = new Set([1044, 1142, 1143, 1227, 1410, 3530]);
const BUSY_ERRNOS = new Set([1040, 1203, 1226, 1053, 1077, 1078, 1079, 1080, 1152, 1927]);
const TIMEOUT_ERRNOS = new Set([1205, 3024, 1969]);

/** Turns any failure into an EngineError with a message that says what failed and what to do. */
export function toEngineError(error: unknown, context: FailureContext, phase: 'connect' | 'query'): EngineError {
  if (error instanceof EngineError) {
    const scrubbed = scrubSecrets(error.message, context.secrets);
    if (scrubbed === error.message) return error;
    return new EngineError(error.code, scrubbed, { engine: error.engine, cause: { sqlstate: error.sqlstate, driverCode: error.driverCode } });
  }
  const where = `the database at ${describeTarget(context.target)}`;
  const make = (code: EngineErrorCode, message: string, cause: { sqlstate?: string; driverCode?: string }): EngineError =>
    // Not `${verb}: `: the scrubber would take 'setOwnPassword: "user"' for a password pair.
    new EngineError(code, `${context.verb} failed: ${message}`, { engine: ENGINE_NAME, cause, secrets: context.secrets });

  if (error instanceof LoginRejected) {
    return make('auth', loginRefusedMessage(where, context.user, error.errno, error.detail), { sqlstate: error.sqlstate, driverCode: String(error.errno) });
  }
  if (isServerError(error)) return serverError(error, context, where, make);

  const message = error instanceof Error ? error.message : String(error);
  // mysql2 overwrites node:tls's code with HANDSHAKE_SSL_ERROR; the host-name case is worth keeping apart.
  const rawCode = errorCode(error);
  const driverCode = rawCode === 'HANDSHAKE_SSL_ERROR' && /does not match certificate's altnames/.test(message) ? 'ERR_TLS_CERT_ALTNAME_INVALID' : rawCode;
  const cause = driverCode === undefined ? {} : { driverCode };
  const detail = driverCode === undefined || message.includes(driverCode) ? message : `${driverCode}: ${message}`;

  if (driverCode === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return make(
      'tls',
      `${where} did not accept TLS (${detail}). Enable TLS on the server; only if plaintext is acceptable, ` +
        'say so explicitly in the secret ("ssl": false). Plaintext is never tried instead.',
      cause,
    );
  }
  if (driverCode !== undefined && (CERTIFICATE_CODES.has(driverCode) || /^ERR_(TLS|SSL)_/.test(driverCode))) {
    return make(
      'tls',
      `TLS with ${where} failed (${detail}). Check that the CA bundle holds the CA that signed the server ` +
        `certificate and that "${context.target.host}" is a name (or IP address) in that certificate; ` +
        'connect with the endpoint name the certificate was issued for. Plaintext is never tried instead.',
      cause,
    );
  }
  if (driverCode === 'ETIMEDOUT' || driverCode === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    return make(
      'timeout',
      phase === 'connect'
        ? `${where} did not complete connection, TLS handshake and login within ${context.target.connectTimeoutMs} ms ` +
            `(${detail}). Check that the function's network can reach the server (security groups, routes); ` +
            'raise the connect timeout if the server is just slow.'
        : `${where} did not answer a statement within ${QUERY_TIMEOUT_MS} ms (${detail}). Retry; if it persists, ` +
            'check the server load and metadata locks on the grant tables.',
      cause,
    );
  }
  if (driverCode !== undefined && NETWORK_CODES.has(driverCode)) {
    return make(
      'unreachable',
      `${phase === 'connect' ? 'cannot connect to' : 'lost the connection to'} ${where} (${detail}). Check the host ` +
        'and port in the secret, that the server is running, and that the network lets the function reach it.',
      cause,
    );
  }
  return make('query', `unexpected failure talking to ${where} as "${context.user}" (${detail}).`, cause);
}

function serverError(
  error: ServerError,
  context: FailureContext,
  where: string,
  make: (code: EngineErrorCode, message: string, cause: { sqlstate?: string; driverCode?: string }) => EngineError,
): EngineError {
  const text = `${error.errno} ${error.code}: ${error.sqlMessage ?? error.message}`;
  const cause = { sqlstate: error.sqlState ?? '', driverCode: error.code };
  if (LOGIN_REJECTED.has(error.errno)) return make('auth', loginRefusedMessage(where, context.user, error.errno, error.sqlMessage ?? error.message), cause);
  if (error.errno === 3159) {
    return make('tls', `${where} requires TLS for this account (${text}); the secret says "ssl": false. Remove it.`, cause);
  }
  if (error.errno === 1049) return make('query', `${where}: ${text}. Fix "dbname" in the secret.`, cause);
  if (PRIVILEGE_ERRNOS.has(error.errno)) {
    return make(
      'privilege',
      `"${context.user}" lacks a privilege on ${where} (${text}). Grant it what the step needs ` +
        '(see the README for the grants each strategy requires).',
      cause,
    );
  }
  if (BUSY_ERRNOS.has(error.errno)) {
    return make('unreachable', `${where} is not accepting this connection now (${text}). Retry later; check max_connections and the account's MAX_USER_CONNECTIONS.`, cause);
  }
  if (TIMEOUT_ERRNOS.has(error.errno)) {
    return make('timeout', `a statement on ${where} ran out of time (${text}), probably behind another session's lock. Retry later.`, cause);
  }
  return make('query', `${where} reported an error as "${context.user}" (${text}).`, cause);
}

function loginRefusedMessage(where: string, user: string, errno: number, detail: string): string {
  return (
    `${where} refused the login of "${user}" (${errno}: ${detail}). The password is wrong, the account does not ` +
    'exist for this client host, is locked, or its password expired: check the credential in its secret.'
  );
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}
