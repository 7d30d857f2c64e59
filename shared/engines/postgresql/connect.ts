// Connections for the PostgreSQL engine: one pg.Client per verb (no pool: a rotation step is a
// handful of statements), always ended, and every failure turned into an EngineError that says
// what failed and what to do.

import pg from 'pg';
import { ChangeRefused, EngineError, scrubSecrets, type EngineErrorCode } from '../errors';
import { clientTlsOptions } from '../tls';
import type { ConnectionTarget, Credential, LoginResult } from '../types';
import { ENGINE_NAME, assertRoleName } from './sql';

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

/** What a failure happened during, for its message. */
export interface FailureContext {
  /** The verb, e.g. 'alignAlternateUser'. */
  verb: string;
  target: ConnectionTarget;
  /** The user the verb connected as. */
  user: string;
  /** Passwords and verifiers that must not appear in any message. */
  secrets: readonly string[];
}

/** A database error from the server (it carries a SQLSTATE). */
export function isDatabaseError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError && typeof error.code === 'string';
}

/** SQLSTATE class 28 (invalid authorization specification): the server refused this login. */
export function isLoginRejection(error: unknown): error is pg.DatabaseError {
  return isDatabaseError(error) && (error.code ?? '').startsWith('28');
}

/** Raised by connect(): a login the server refused, kept apart for checkLogin's result. */
export class LoginRejected extends Error {
  override readonly name = 'LoginRejected';
  constructor(
    readonly sqlstate: string,
    /** The server's message, scrubbed. */
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * Opens a verified connection as `who`, runs `work` (once `notBefore` has resolved), and always
 * ends the connection. Every failure, a refused login included (code 'auth'), is thrown as an
 * EngineError; a rejected `notBefore` is thrown as it is.
 */
export async function withConnection<T>(
  verb: string,
  target: ConnectionTarget,
  who: Credential,
  extraSecrets: readonly string[],
  work: (client: pg.Client, context: FailureContext) => Promise<T>,
  notBefore?: Promise<unknown>,
): Promise<T> {
  const context: FailureContext = { verb, target, user: who.username, secrets: [who.password, ...extraSecrets] };
  // Handled here from the start: it may reject while we are still connecting.
  notBefore?.catch(() => undefined);
  const client = await connect(target, who, context).catch((error: unknown) => {
    throw toEngineError(error, context, 'connect');
  });
  if (notBefore) {
    // Connected, but nothing is run until the caller's precondition holds; if it fails, its error stands.
    try {
      await notBefore;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }
  try {
    return await work(client, context);
  } catch (error) {
    if (error instanceof ChangeRefused) throw error.refusal;
    throw toEngineError(error, context, 'query');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Connects as `who` and runs `work`: a login the server refuses is the answer `rejected`, not an
 * error; every other failure is thrown as an EngineError. The connection is always ended.
 */
export async function asLogin(
  target: ConnectionTarget,
  who: Credential,
  context: FailureContext,
  work: (client: pg.Client) => Promise<void>,
): Promise<LoginResult> {
  let client: pg.Client;
  try {
    client = await connect(target, who, context);
  } catch (error) {
    if (error instanceof LoginRejected) return { ok: false, reason: 'rejected', detail: `${error.sqlstate}: ${error.detail}` };
    throw error;
  }
  try {
    await work(client);
    return { ok: true };
  } catch (error) {
    throw toEngineError(error, context, 'query');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A connected client (the caller ends it). A login the server refused throws LoginRejected;
 * any other failure throws an EngineError.
 */
export async function connect(target: ConnectionTarget, who: Credential, context: FailureContext): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(target, who));
  // A connection the server ends (e.g. pg_terminate_backend) emits 'error' on the client; unheard,
  // that would crash the process. The failure still reaches the pending query or connect().
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    if (isLoginRejection(error)) {
      throw new LoginRejected(error.code ?? '28000', scrubSecrets(serverMessage(error), context.secrets));
    }
    throw toEngineError(error, context, 'connect');
  }
}

/** The pg.Client settings for a target: everything explicit, so no PG* environment variable leaks in. */
export function clientConfig(target: ConnectionTarget, who: Credential): pg.ClientConfig {
  validateTarget(target);
  assertRoleName(who.username, 'username');
  if (who.password.length === 0) {
    throw new EngineError('invalid', `The password for "${who.username}" is empty.`, { engine: ENGINE_NAME });
  }
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

function validateTarget(target: ConnectionTarget): void {
  const problems: string[] = [];
  if (target.host.length === 0 || target.host.startsWith('/')) problems.push('host must be a host name or IP address');
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65_535) problems.push('port must be 1-65535');
  if (!Number.isInteger(target.connectTimeoutMs) || target.connectTimeoutMs < 1) {
    problems.push('connectTimeoutMs must be a positive integer (0 would mean no limit)');
  }
  if (target.dbname !== undefined && (target.dbname.length === 0 || target.dbname.includes('\0'))) {
    problems.push('dbname must be a non-empty name');
  }
  if (problems.length > 0) {
    throw new EngineError('invalid', `Invalid connection target ${describeTarget(target)}: ${problems.join('; ')}.`, {
      engine: ENGINE_NAME,
    });
  }
}

export function describeTarget(target: ConnectionTarget): string {
  return `${target.host}:${target.port}/${target.dbname ?? DEFAULT_DBNAME}`;
}

// ---------------------------------------------------------------------------------------------
// Classifying failures

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'EPIPE',
]);

/** OpenSSL certificate verification codes as Node reports them (besides ERR_TLS_* / ERR_SSL_*). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

/** pg's own messages for a server that will not do TLS, or a connect/read timeout. */
const PG_NO_TLS = /^(The server does not support SSL connections|There was an error establishing an SSL connection)/;
const PG_TIMEOUT = /^(timeout expired|Query read timeout|Connection terminated due to connection timeout)/;

/** Turns any failure into an EngineError with a message that says what failed and what to do. */
export function toEngineError(error: unknown, context: FailureContext, phase: 'connect' | 'query'): EngineError {
  if (error instanceof EngineError) {
    const scrubbed = scrubSecrets(error.message, context.secrets);
    if (scrubbed === error.message) return error;
    return new EngineError(error.code, scrubbed, {
      engine: error.engine,
      cause: { sqlstate: error.sqlstate, driverCode: error.driverCode },
    });
  }
  const where = `PostgreSQL at ${describeTarget(context.target)}`;
  const make = (code: EngineErrorCode, message: string, cause: { sqlstate?: string; driverCode?: string }): EngineError =>
    new EngineError(code, `${context.verb}: ${message}`, { engine: ENGINE_NAME, cause, secrets: context.secrets });

  if (error instanceof LoginRejected) {
    return make('auth', loginRefusedMessage(where, context.user, error.sqlstate, error.detail), {
      sqlstate: error.sqlstate,
    });
  }
  if (isDatabaseError(error)) return databaseError(error, context, where, make);

  const driverCode = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const cause = driverCode === undefined ? {} : { driverCode };
  const detail = driverCode === undefined || message.includes(driverCode) ? message : `${driverCode}: ${message}`;

  if (PG_NO_TLS.test(message)) {
    return make(
      'tls',
      `${where} did not accept TLS (${detail}). Enable TLS on the server; only if plaintext is acceptable, ` +
        'say so explicitly in the secret ("ssl": false). Plaintext is never tried instead.',
      cause,
    );
  }
  if (isTlsFailure(driverCode)) {
    return make(
      'tls',
      `TLS with ${where} failed (${detail}). Check that the CA bundle holds the CA that signed the server ` +
        `certificate and that "${context.target.host}" is a name (or IP address) in that certificate; ` +
        'connect with the endpoint name the certificate was issued for. Plaintext is never tried instead.',
      cause,
    );
  }
  if (PG_TIMEOUT.test(message) || driverCode === 'ETIMEDOUT') {
    return make(
      'timeout',
      phase === 'connect'
        ? `${where} did not complete connection, TLS handshake and login within ${context.target.connectTimeoutMs} ms ` +
            `(${detail}). Check that the function's network can reach the server (security groups, routes); ` +
            'a dropped connection looks like this. Raise the connect timeout if the server is just slow.'
        : `${where} did not answer a statement within ${QUERY_TIMEOUT_MS} ms (${detail}). Retry; if it persists, ` +
            'check the server load and locks on the roles.',
      cause,
    );
  }
  if ((driverCode !== undefined && NETWORK_CODES.has(driverCode)) || /^Connection terminated/.test(message)) {
    return make(
      'unreachable',
      `${phase === 'connect' ? 'cannot connect to' : 'lost the connection to'} ${where} (${detail}). Check the host ` +
        'and port in the secret, that the server is running, and that the network lets the function reach it.',
      cause,
    );
  }
  return make('query', `unexpected failure talking to ${where} as "${context.user}" (${detail}).`, cause);
}

function databaseError(
  error: pg.DatabaseError,
  context: FailureContext,
  where: string,
  make: (code: EngineErrorCode, message: string, cause: { sqlstate?: string }) => EngineError,
): EngineError {
  const sqlstate = error.code ?? '';
  const text = serverMessage(error);
  const cause = { sqlstate };
  if (sqlstate.startsWith('28')) {
    return make('auth', loginRefusedMessage(where, context.user, sqlstate, text), cause);
  }
  if (sqlstate === '57014' || sqlstate === '55P03') {
    return make(
      'timeout',
      `a statement on ${where} was cancelled (${sqlstate}: ${text}): it ran past the statement timeout ` +
        `(${STATEMENT_TIMEOUT_MS} ms) or waited past the lock timeout (${LOCK_TIMEOUT_MS} ms), probably behind ` +
        'another session that holds a lock on the role. Retry later.',
      cause,
    );
  }
  if (sqlstate === '42501') {
    return make(
      'privilege',
      `"${context.user}" lacks a privilege on ${where} (${sqlstate}: ${text}). Grant it what the step needs ` +
        '(see the engine documentation for the grants each strategy requires).',
      cause,
    );
  }
  if (sqlstate === '53300' || sqlstate.startsWith('08') || sqlstate.startsWith('57P')) {
    return make(
      'unreachable',
      `${where} is not accepting this connection now (${sqlstate}: ${text}). Retry later; if it persists, ` +
        'check max_connections, the role connection limit and the server state.',
      cause,
    );
  }
  if (sqlstate === '3D000') {
    return make('query', `${where}: ${text} (${sqlstate}). Fix "dbname" in the secret.`, cause);
  }
  return make('query', `${where} reported an error as "${context.user}" (${sqlstate}: ${text}).`, cause);
}

function loginRefusedMessage(where: string, user: string, sqlstate: string, detail: string): string {
  return (
    `${where} refused the login of "${user}" (${sqlstate}: ${detail}). The password is wrong, the role does not ` +
    'exist or may not log in, or pg_hba.conf rejects it: check the credential in its secret.'
  );
}

/** The server's message with its DETAIL and HINT, which say what exactly went wrong. */
export function serverMessage(error: pg.DatabaseError): string {
  return [error.message, error.detail, error.hint].filter((part) => part !== undefined && part !== '').join(' ');
}

function isTlsFailure(code: string | undefined): boolean {
  if (code === undefined) return false;
  return CERTIFICATE_CODES.has(code) || /^ERR_(TLS|SSL)_/.test(code);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}
