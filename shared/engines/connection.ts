// What every engine's connection shares: one connection per verb (no pool: a rotation step is a
// handful of statements), always ended; the target checks and the connect budget; the notBefore
// gate; a refused login as the answer `rejected`; and every failure turned into an EngineError that
// says what failed and what to do, never with a password in it.
//
// An engine supplies a Driver: how its library opens and closes a connection, how its server says
// "this login is refused", how to classify the server's own errors (SQLSTATE, errno), and the few
// words its messages need. Its connect.ts binds the generic functions to it (`connectionsFor`).

import { ChangeRefused, EngineError, scrubSecrets, type EngineErrorCode } from './errors';
import type { ConnectionTarget, Credential, LoginResult } from './types';

/** What a failure happened during, for its message. */
export interface FailureContext {
  /** The verb, e.g. 'alignAlternateUser'. */
  verb: string;
  target: ConnectionTarget;
  /** The user the verb connected as. */
  user: string;
  /** Passwords, verifiers and hashes that must not appear in any message. */
  secrets: readonly string[];
}

/** What an EngineError keeps of the underlying failure. */
export interface FailureCause {
  sqlstate?: string;
  driverCode?: string;
}

/** The server's refusal of a login, as a driver reads it from the error. */
export interface Refusal {
  /** How messages name it: the SQLSTATE (PostgreSQL '28P01'), the errno (MySQL '1045'). */
  code: string;
  /** How checkLogin's `rejected` detail names it, before the server's text: '28P01', '1045 (28000)'. */
  label: string;
  /** The server's message. */
  detail: string;
  cause: FailureCause;
}

/** A driver's own sign of a failure: one of its error codes, or its message. */
export interface Sign {
  codes?: readonly string[];
  message?: RegExp;
}

/** What a driver's `serverError` builds its EngineError with. */
export interface Failure {
  context: FailureContext;
  /** The server, as messages name it: 'PostgreSQL at db:5432/postgres'. */
  where: string;
  /** An EngineError for the verb: its message prefixed with the verb, the context's secrets scrubbed. */
  make(code: EngineErrorCode, message: string, cause: FailureCause): EngineError;
  /** 'auth': the server refused the login (`code`: how the server named the refusal). */
  refused(code: string, detail: string, cause: FailureCause): EngineError;
  /** 'privilege': the connected user lacks a grant (`reported`: the server's code and text). */
  privilege(reported: string, cause: FailureCause): EngineError;
  /** 'unreachable': the server is full, starting or stopping; `advice` says what to check. */
  busy(reported: string, advice: string, cause: FailureCause): EngineError;
  /** 'query': the database named in the secret does not exist. */
  unknownDatabase(reported: string, cause: FailureCause): EngineError;
  /** 'query': any other error the server reported. */
  reported(reported: string, cause: FailureCause): EngineError;
}

/**
 * The driver specifics of an engine. `Connection` is what the library opens and closes; `Session`
 * is what the verbs run statements on (the connection itself unless the engine wraps it).
 */
export interface Driver<Connection, Session = Connection> {
  /** Engine name, as in EngineError.engine: 'postgresql'. */
  readonly engine: string;
  /** How messages name the server, before " at host:port/db": 'PostgreSQL', 'the database'. */
  readonly server: string;
  /** Database named in messages when the target names none (none: host:port only). */
  readonly defaultDbName?: string;
  /** Between the verb and the message: ': ' or ' failed: '. */
  readonly verbSeparator: string;
  /** Client-side limit for a statement's answer, in milliseconds. */
  readonly queryTimeoutMs: number;
  /** The engine's words in the shared messages. */
  readonly advice: {
    /** After "Check that the function's network can reach the server (security groups, routes); ". */
    connectTimeout: string;
    /** What to check, besides the server load, when a statement gets no answer. */
    queryTimeout: string;
    /** Why a login may be refused and what to do (after the server's reason). */
    loginRefused: string;
    /** Where the grants each strategy needs are written down. */
    grants: string;
  };
  /** The driver's own signs, besides Node's network and certificate codes (shared below). */
  readonly signs: {
    /** The server would not do TLS. */
    noTls: Sign;
    /** TLS failed. */
    tlsFailure?: Sign;
    timeout: Sign;
    /** The connection was dropped. */
    connectionLost: Sign;
  };

  /**
   * A connection, authenticated as `who` over the target's TLS mode, within target.connectTimeoutMs.
   * On failure: cleans up and throws what the library threw (or an EngineError for bad input).
   */
  open(target: ConnectionTarget, who: Credential): Promise<Connection>;
  /** Ends the connection; may throw, which is ignored. */
  close(connection: Connection): Promise<unknown> | void;
  session(connection: Connection): Session;
  /** The server's refusal of this user/password, when `error` is one. */
  loginRejection(error: unknown): Refusal | undefined;
  /** An EngineError for an error the server reported (SQLSTATE, errno); undefined for any other error. */
  serverError(error: unknown, failure: Failure): EngineError | undefined;
  /** The error code to classify by, when the library's own code hides a more precise one. */
  refineCode?(code: string | undefined, message: string): string | undefined;
}

/** Raised by connect(): a login the server refused, kept apart for checkLogin's result. */
export class LoginRejected extends Error {
  override readonly name = 'LoginRejected';
  constructor(
    /** Its detail is scrubbed of the context's secrets. */
    readonly refusal: Refusal,
  ) {
    super(refusal.detail);
  }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

/** The shared connection functions bound to one engine's driver, as its connect.ts exports them. */
export function connectionsFor<C, S>(driver: Driver<C, S>) {
  /**
   * A connected connection (the caller closes it). A login the server refused throws LoginRejected;
   * any other failure throws an EngineError.
   */
  async function connect(target: ConnectionTarget, who: Credential, context: FailureContext): Promise<C> {
    try {
      return await driver.open(target, who);
    } catch (error) {
      const refusal = driver.loginRejection(error);
      if (refusal !== undefined) throw new LoginRejected({ ...refusal, detail: scrubSecrets(refusal.detail, context.secrets) });
      throw toEngineError(error, context, 'connect');
    }
  }

  /**
   * Opens a verified connection as `who`, runs `work` (once `notBefore` has resolved), and always
   * ends the connection. Every failure, a refused login included (code 'auth'), is thrown as an
   * EngineError; a rejected `notBefore` is thrown as it is, and so is the refusal of the caller's
   * `authorize` (ChangeRefused).
   */
  async function withConnection<T>(
    verb: string,
    target: ConnectionTarget,
    who: Credential,
    extraSecrets: readonly string[],
    work: (session: S, context: FailureContext) => Promise<T>,
    notBefore?: Promise<unknown>,
  ): Promise<T> {
    const context: FailureContext = { verb, target, user: who.username, secrets: [who.password, ...extraSecrets] };
    // Handled here from the start: it may reject while we are still connecting.
    notBefore?.catch(() => undefined);
    const connection = await connect(target, who, context).catch((error: unknown) => {
      throw toEngineError(error, context, 'connect');
    });
    if (notBefore) {
      // Connected, but nothing is run until the caller's precondition holds; if it fails, its error stands.
      try {
        await notBefore;
      } catch (error) {
        await closeQuietly(connection);
        throw error;
      }
    }
    try {
      return await work(driver.session(connection), context);
    } catch (error) {
      if (error instanceof ChangeRefused) throw error.refusal;
      throw toEngineError(error, context, 'query');
    } finally {
      await closeQuietly(connection);
    }
  }

  /**
   * Connects as `who` and runs `work`: a login the server refuses is the answer `rejected`, not an
   * error; every other failure is thrown as an EngineError. The connection is always ended.
   * `work` may itself answer `rejected` (e.g. the session's password is not the primary one).
   */
  async function asLogin(
    target: ConnectionTarget,
    who: Credential,
    context: FailureContext,
    work: (session: S) => Promise<LoginResult | void>,
  ): Promise<LoginResult> {
    let connection: C;
    try {
      connection = await connect(target, who, context);
    } catch (error) {
      if (error instanceof LoginRejected) {
        return { ok: false, reason: 'rejected', detail: `${error.refusal.label}: ${error.refusal.detail}` };
      }
      throw toEngineError(error, context, 'connect');
    }
    try {
      return (await work(driver.session(connection))) ?? { ok: true };
    } catch (error) {
      throw toEngineError(error, context, 'query');
    } finally {
      await closeQuietly(connection);
    }
  }

  async function closeQuietly(connection: C): Promise<void> {
    try {
      await driver.close(connection);
    } catch {
      // Nothing is owed back: the connection is gone either way.
    }
  }

  /** Turns any failure into an EngineError with a message that says what failed and what to do. */
  function toEngineError(error: unknown, context: FailureContext, phase: 'connect' | 'query'): EngineError {
    return classify(driver, error, context, phase);
  }

  return {
    connect,
    withConnection,
    asLogin,
    toEngineError,
    describeTarget: (target: ConnectionTarget): string => describeTarget(driver, target),
  };
}

// ---------------------------------------------------------------------------------------------
// Targets and credentials

/** Throws EngineError('invalid') for a target a driver would fill in from defaults or the environment. */
export function validateTarget(driver: Pick<Driver<unknown>, 'engine' | 'defaultDbName'>, target: ConnectionTarget): void {
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
    throw new EngineError('invalid', `Invalid connection target ${describeTarget(driver, target)}: ${problems.join('; ')}.`, {
      engine: driver.engine,
    });
  }
}

/** Throws EngineError('invalid') for an empty password (a driver would try none, or the environment's). */
export function requirePassword(engine: string, who: Credential): void {
  if (who.password.length === 0) {
    throw new EngineError('invalid', `The password for "${who.username}" is empty.`, { engine });
  }
}

/** host:port/dbname, with the default database when the engine has one. */
export function describeTarget(driver: Pick<Driver<unknown>, 'defaultDbName'>, target: ConnectionTarget): string {
  const dbname = target.dbname ?? driver.defaultDbName;
  return `${target.host}:${target.port}${dbname === undefined ? '' : `/${dbname}`}`;
}

// ---------------------------------------------------------------------------------------------
// Classifying failures

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL', 'EPIPE',
]);

/** OpenSSL certificate verification codes as Node reports them (besides ERR_TLS_* / ERR_SSL_*). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'EPROTO',
]);

/** Any failure as an EngineError with a message that says what failed and what to do. */
function classify<C, S>(
  driver: Driver<C, S>,
  error: unknown,
  context: FailureContext,
  phase: 'connect' | 'query',
): EngineError {
  if (error instanceof EngineError) {
    const scrubbed = scrubSecrets(error.message, context.secrets);
    if (scrubbed === error.message) return error;
    return new EngineError(error.code, scrubbed, {
      engine: error.engine,
      cause: { sqlstate: error.sqlstate, driverCode: error.driverCode },
    });
  }
  const failure = failureFor(driver, context);
  const { where, make } = failure;
  if (error instanceof LoginRejected) {
    const { code, detail, cause } = error.refusal;
    return failure.refused(code, detail, cause);
  }
  const fromServer = driver.serverError(error, failure);
  if (fromServer !== undefined) return fromServer;

  const message = error instanceof Error ? error.message : String(error);
  const rawCode = errorCode(error);
  const driverCode = driver.refineCode ? driver.refineCode(rawCode, message) : rawCode;
  const cause = driverCode === undefined ? {} : { driverCode };
  const detail = driverCode === undefined || message.includes(driverCode) ? message : `${driverCode}: ${message}`;
  const { signs } = driver;

  if (shows(signs.noTls, driverCode, message)) {
    return make(
      'tls',
      `${where} did not accept TLS (${detail}). Enable TLS on the server; only if plaintext is acceptable, ` +
        'say so explicitly in the secret ("ssl": false). Plaintext is never tried instead.',
      cause,
    );
  }
  if (isTlsFailure(driverCode) || shows(signs.tlsFailure, driverCode, message)) {
    return make(
      'tls',
      `TLS with ${where} failed (${detail}). Check that the CA bundle holds the CA that signed the server ` +
        `certificate and that "${context.target.host}" is a name (or IP address) in that certificate; ` +
        'connect with the endpoint name the certificate was issued for. Plaintext is never tried instead.',
      cause,
    );
  }
  if (driverCode === 'ETIMEDOUT' || shows(signs.timeout, driverCode, message)) {
    return make(
      'timeout',
      phase === 'connect'
        ? `${where} did not complete connection, TLS handshake and login within ${context.target.connectTimeoutMs} ms ` +
            `(${detail}). Check that the function's network can reach the server (security groups, routes); ` +
            driver.advice.connectTimeout
        : `${where} did not answer a statement within ${driver.queryTimeoutMs} ms (${detail}). Retry; if it persists, ` +
            `check the server load and ${driver.advice.queryTimeout}.`,
      cause,
    );
  }
  if ((driverCode !== undefined && NETWORK_CODES.has(driverCode)) || shows(signs.connectionLost, driverCode, message)) {
    return make(
      'unreachable',
      `${phase === 'connect' ? 'cannot connect to' : 'lost the connection to'} ${where} (${detail}). Check the host ` +
        'and port in the secret, that the server is running, and that the network lets the function reach it.',
      cause,
    );
  }
  return make('query', `unexpected failure talking to ${where} as "${context.user}" (${detail}).`, cause);
}

function failureFor<C, S>(driver: Driver<C, S>, context: FailureContext): Failure {
  const where = `${driver.server} at ${describeTarget(driver, context.target)}`;
  const user = context.user;
  const make = (code: EngineErrorCode, message: string, cause: FailureCause): EngineError =>
    new EngineError(code, `${context.verb}${driver.verbSeparator}${message}`, {
      engine: driver.engine,
      cause,
      secrets: context.secrets,
    });
  return {
    context,
    where,
    make,
    refused: (code, detail, cause) =>
      make('auth', `${where} refused the login of "${user}" (${code}: ${detail}). ${driver.advice.loginRefused}`, cause),
    privilege: (reported, cause) =>
      make(
        'privilege',
        `"${user}" lacks a privilege on ${where} (${reported}). Grant it what the step needs ` +
          `(see ${driver.advice.grants} for the grants each strategy requires).`,
        cause,
      ),
    busy: (reported, advice, cause) =>
      make('unreachable', `${where} is not accepting this connection now (${reported}). Retry later; ${advice}`, cause),
    unknownDatabase: (reported, cause) => make('query', `${where}: ${reported}. Fix "dbname" in the secret.`, cause),
    reported: (reported, cause) => make('query', `${where} reported an error as "${user}" (${reported}).`, cause),
  };
}

function shows(sign: Sign | undefined, code: string | undefined, message: string): boolean {
  if (sign === undefined) return false;
  return (code !== undefined && (sign.codes ?? []).includes(code)) || (sign.message?.test(message) ?? false);
}

function isTlsFailure(code: string | undefined): boolean {
  if (code === undefined) return false;
  return CERTIFICATE_CODES.has(code) || /^ERR_(TLS|SSL)_/.test(code);
}

/** The error's `code` property, when it is a non-empty string. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}
