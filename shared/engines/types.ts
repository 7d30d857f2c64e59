// The engine interface: what the rotation core asks of a database, in a few verbs, each one
// database operation. An engine only talks to its database. The core owns the protocol, password
// generation and every Secrets Manager call; it decides which verb runs with which credential.
//
// Adding an engine means one more implementation of `Engine` (shared/engines/<name>/index.ts).

/**
 * How to protect the connection.
 * - `verify`: TLS, with the server certificate checked against `ca` (a PEM bundle; Node's default
 *   roots when omitted) AND the host name checked against the certificate. A failure is an
 *   EngineError with code 'tls'; there is never a fall-back to plaintext.
 * - `plaintext`: no TLS at all. Only when the secret says so explicitly; the caller logs a warning.
 */
export type TlsMode = { kind: 'verify'; ca?: string } | { kind: 'plaintext' };

export interface ConnectionTarget {
  host: string;
  port: number;
  /** Database to connect to; the engine's `defaultDbName` when omitted. */
  dbname?: string;
  tls: TlsMode;
  /** Budget for TCP connect + TLS handshake + authentication, in milliseconds. */
  connectTimeoutMs: number;
}

export interface Credential {
  username: string;
  password: string;
}

/**
 * `rejected`: the server was reached over the requested (verified) channel and refused this
 * user/password. `detail` is the server's reason, safe to log (never contains the password).
 * Anything else (unreachable, TLS failure, timeout, missing database, too many connections)
 * is not an answer about the credential and is thrown as an EngineError instead.
 */
export type LoginResult = { ok: true } | { ok: false; reason: 'rejected'; detail: string };

export interface AdminActionOptions {
  /**
   * The admin may connect at once, but runs nothing until this resolves; if it rejects, nothing
   * is run and its error is thrown. Lets a guard (AWSCURRENT logs in) overlap the admin's login.
   */
  notBefore?: Promise<unknown>;
}

export interface Engine {
  /** Engine name as used in logs and messages, e.g. 'postgresql'. */
  readonly name: string;
  readonly defaultPort: number;
  /** Database used when the target names none. */
  readonly defaultDbName?: string;
  /** Longest username the engine accepts, in UTF-8 BYTES (PostgreSQL: 63). */
  readonly maxUsernameLength: number;
  /** Characters GetRandomPassword should leave out by default for this engine. */
  readonly defaultExcludeCharacters: string;

  /** Logs in as `who` and runs a trivial query. */
  checkLogin(target: ConnectionTarget, who: Credential): Promise<LoginResult>;

  /**
   * As the user itself: change its own password (single-user strategy), in one connection.
   * `rejected` when `who` cannot log in (nothing changed), so the caller can try another credential.
   */
  setOwnPassword(target: ConnectionTarget, who: Credential, newPassword: string): Promise<LoginResult>;

  /**
   * Optional. As the user itself, once finishSecret has moved AWSCURRENT to `who`'s password
   * (single-user strategy): end what setOwnPassword kept for the transition (MySQL 8.0.14+: DISCARD
   * OLD PASSWORD, so the old password stops working). Idempotent.
   */
  finishOwnPassword?(target: ConnectionTarget, who: Credential): Promise<unknown>;

  /**
   * As the admin: create the alternate user if missing, or update it, so that it has the base
   * user's privileges and the alternate's password (alternating-users strategy). Idempotent.
   */
  alignAlternateUser(
    target: ConnectionTarget,
    admin: Credential,
    baseUsername: string,
    alternate: Credential,
    options?: AdminActionOptions,
  ): Promise<void>;

  /** As the admin: set another user's password (pre-created pair strategy, break-glass). */
  setPasswordAsAdmin(
    target: ConnectionTarget,
    admin: Credential,
    username: string,
    newPassword: string,
    options?: AdminActionOptions,
  ): Promise<void>;

  /**
   * As the admin: end the sessions of `username` (only those opened before `openedBefore` when
   * given), never the admin's own. Returns how many were ended.
   */
  endSessions(target: ConnectionTarget, admin: Credential, username: string, openedBefore?: Date): Promise<number>;
}
