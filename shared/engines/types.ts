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

/**
 * What the admin's connection sees of the user it is about to change, read before anything is
 * changed. The rotation core decides from it whether the change is allowed (see `authorize`).
 */
export interface UserFacts {
  username: string;
  exists: boolean;
  /** The admin's own user (the session's login user). */
  isAdmin: boolean;
  /**
   * After the change it would still hold an attribute, role membership or privilege that the
   * reference user (the user the secret rotates: the base of an alternate, the current user of a
   * pair) does not hold. What the change itself takes away (an alignment revoking what the base
   * lost) does not count.
   */
  exceedsReference: boolean;
  /**
   * It is an alternate that rotation made from the reference user for this very secret
   * (`owner`): PostgreSQL checks membership in the base and the marker comment naming the
   * secret. Always false on engines that cannot mark a user (see `Engine.marksAlternates`).
   */
  madeByRotation: boolean;
}

export interface AdminActionOptions {
  /**
   * The admin may connect at once, but runs nothing until this resolves; if it rejects, nothing
   * is run and its error is thrown. Lets a guard (AWSCURRENT logs in) overlap the admin's login.
   */
  notBefore?: Promise<unknown>;
  /**
   * Called with what the admin sees of the user about to change, after `notBefore` and before
   * any change; a rejection refuses the change (nothing is changed) and is thrown as it is. The
   * rotation core always passes it: the rule of who may be changed lives there, once.
   */
  authorize?: (facts: UserFacts) => Promise<void>;
  /** The secret the change is for (its ARN): named in the marker of an alternate user the admin makes. */
  owner?: string;
  /** setPasswordAsAdmin: the user whose privileges bound the change (facts.exceedsReference); the user itself when absent. */
  reference?: string;
}

/** A credential the target system issued itself (an access key, an API token). */
export interface IssuedCredential {
  /** The secret part, stored as the secret's `password`. */
  password: string;
  /** Other fields stored beside it in the pending version, e.g. { "accesskeyid": "AKIA…" }. */
  fields?: Record<string, string>;
}

/** The fields of a stored version (its parsed SecretString), as an issuer sees them. */
export type StoredFields = Readonly<Record<string, unknown>>;

/**
 * For engines whose target issues credentials (Vault's NewUser returning credentials is the model):
 * createSecret asks the target for a new credential in place of a password the core generates;
 * setSecret has nothing left to do; finishSecret lets the engine retire what no stage holds.
 */
export interface CredentialIssuer {
  /**
   * Issue a new credential for `username`. Called once per rotation token: a retried createSecret
   * keeps what it stored. `inUse` are the versions the secret's stages still hold (AWSCURRENT,
   * AWSPREVIOUS): to make room the engine may remove only something it issued that none of them holds.
   */
  issue(target: ConnectionTarget, username: string, inUse: readonly StoredFields[]): Promise<IssuedCredential>;
  /**
   * After finishSecret moved AWSCURRENT: retire (deactivate, delete) what no version in `inUse`
   * (the new AWSCURRENT and AWSPREVIOUS) holds, after the overlap. Idempotent; returns what it did, for the log.
   */
  retire?(target: ConnectionTarget, username: string, inUse: readonly StoredFields[]): Promise<string>;
}

export interface Engine {
  /** Engine name as used in logs and messages, e.g. 'postgresql'. */
  readonly name: string;
  /** The secret's `engine` values this engine rotates (as AWS's templates spell them), e.g. ['postgres', 'aurora-postgresql']. */
  readonly engineValues: readonly string[];
  readonly defaultPort: number;
  /** Database used when the target names none. */
  readonly defaultDbName?: string;
  /** Longest username the engine accepts, in UTF-8 BYTES (PostgreSQL: 63). */
  readonly maxUsernameLength: number;
  /** Characters GetRandomPassword should leave out by default for this engine. */
  readonly defaultExcludeCharacters: string;
  /**
   * Whether alignAlternateUser marks the alternate it makes with the secret it is for, so that a
   * later rotation of the same secret can recognise it (UserFacts.madeByRotation). Without a
   * marker, an existing alternate is changed only when the secret holds a working credential of it.
   */
  readonly marksAlternates: boolean;

  /** Optional: the target issues credentials itself (see CredentialIssuer); PostgreSQL and MySQL take generated passwords. */
  readonly issuer?: CredentialIssuer;

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

  /**
   * Optional: engines where one user name has several accounts (MySQL/MariaDB `'app'@'%'` and
   * `'app'@'10.0.%'`), of which a rotation changes one. As the admin, after a breach: every other
   * account named `username` whose stored password is provably one of `leakedPasswords` (its stored
   * hash equals theirs) gets `newPassword`, so the leaked password stops working there too and
   * applications on those hosts keep working. An account holding anything else is never touched;
   * one whose stored form cannot be compared (e.g. caching_sha2_password) is reported as
   * unverified. Never the admin's own account. Engines with one user per name (PostgreSQL) omit it.
   */
  replaceLeakedPassword?(
    target: ConnectionTarget,
    admin: Credential,
    username: string,
    leakedPasswords: readonly string[],
    newPassword: string,
  ): Promise<LeakedPasswordAccounts>;
}

/** What replaceLeakedPassword found, as account names (`'app'@'%'`): never a password or hash. */
export interface LeakedPasswordAccounts {
  /** Held a leaked password; now hold the new one. */
  replaced: string[];
  /** Already hold the new password (the account the rotation changed). */
  current: string[];
  /** Hold another password: not provably the secret's, left untouched. */
  untouched: string[];
  /** Their stored password cannot be compared here (plugin named): left untouched, to be checked by hand. */
  unverified: string[];
}
