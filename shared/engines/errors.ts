// Errors raised by engine adapters. Every message says what failed and what to do about it, and
// never contains a password: messages are scrubbed of the secrets the caller names and of the
// usual shapes a driver could echo one in (connection strings, PASSWORD '...', password=...).

export type EngineErrorCode =
  /** No connection: refused, DNS failure, network unreachable, connection dropped, server starting up or full. */
  | 'unreachable'
  /** TLS could not be set up or verified (wrong CA, host name not in the certificate, no TLS on the server). */
  | 'tls'
  /** Connect, statement or lock timeout. */
  | 'timeout'
  /** The server refused the login of a verb's connecting user (checkLogin reports this as a result instead). */
  | 'auth'
  /** The connected user may not do what the verb needs; the message names the grant that is missing. */
  | 'privilege'
  /** The server cannot do what is asked (e.g. too old for SCRAM verifiers) or the input cannot be handled safely. */
  | 'unsupported'
  /** The request itself is wrong (empty or too long name, alternate user equal to the base user, ...). */
  | 'invalid'
  /** Any other failure reported by the database. */
  | 'query';

export interface EngineErrorOptions {
  /** Engine name, e.g. 'postgresql'. */
  engine: string;
  /** SQLSTATE or driver/OS error code of the underlying failure, when there is one. */
  cause?: { sqlstate?: string; driverCode?: string };
  /** Secrets to remove from the message (passwords, verifiers) in case anything echoed them. */
  secrets?: readonly string[];
}

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  readonly engine: string;
  /** The database's SQLSTATE, when the server answered with an error. */
  readonly sqlstate: string | undefined;
  /** Driver or OS error code (ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID, ...), when there is one. */
  readonly driverCode: string | undefined;

  constructor(code: EngineErrorCode, message: string, opts: EngineErrorOptions) {
    super(scrubSecrets(message, opts.secrets ?? []));
    this.code = code;
    this.engine = opts.engine;
    this.sqlstate = opts.cause?.sqlstate;
    this.driverCode = opts.cause?.driverCode;
  }
}

/**
 * The caller's `authorize` callback refused a change (AdminActionOptions): carried through the
 * engine's error handling untouched, and thrown to the caller as the refusal it made.
 */
export class ChangeRefused extends Error {
  override readonly name = 'ChangeRefused';
  constructor(readonly refusal: unknown) {
    super('The change was refused by the caller.');
  }
}

/** Runs the caller's decision; a refusal comes back as ChangeRefused so that no layer reclassifies it. */
export async function askCaller<T>(decide: (facts: T) => Promise<void>, facts: T): Promise<void> {
  try {
    await decide(facts);
  } catch (error) {
    throw new ChangeRefused(error);
  }
}

const REDACTED = '[redacted]';

/**
 * Removes `secrets` (exact occurrences) and anything that looks like an embedded password:
 * credentials in URLs, `PASSWORD '...'` in echoed SQL, `password=...` / `password: ...` pairs.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
    scrubbed = scrubbed.split(secret).join(REDACTED);
  }
  return scrubbed
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@]*@/gi, `$1${REDACTED}@`)
    .replace(/(\bpassword\s+)(E?'(?:[^']|'')*'?)/gi, `$1'${REDACTED}'`)
    .replace(/(\bpassword["']?\s*[=:]\s*)("[^"]*"?|'[^']*'?|[^\s,;&)}]+)/gi, `$1${REDACTED}`);
}
