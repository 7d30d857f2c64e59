// SCRAM-SHA-256 verifiers computed client-side (RFC 5802 / RFC 7677), in PostgreSQL's format:
//
//   SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>
//
// PostgreSQL stores a password given in this form as is (`ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'`),
// whatever password_encryption says. So the plaintext never reaches the server: not its statement
// log, not pg_stat_statements, not an audit extension. Only the verifier does, which is what
// pg_authid holds anyway.
//
// SASLprep: PostgreSQL (pg_saslprep, server and libpq) uses a pure-ASCII password as it is, with no
// normalisation, and so does this module: for ASCII passwords the verifier is exactly the one the
// server would compute. Non-ASCII passwords are REJECTED (EngineError 'unsupported'): PostgreSQL
// would apply SASLprep (map non-ASCII spaces to U+0020, drop "mapped to nothing" characters, NFKC,
// and fall back to the raw bytes when a prohibited character appears), and clients disagree on
// that (libpq follows it, node-pg applies only the mapping and NFKC, older drivers send raw bytes),
// so such a password would work for some clients and not others. Passwords from
// GetRandomPassword are always ASCII.

import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { EngineError } from '../errors';

/** PostgreSQL's default (scram_iterations, configurable from PostgreSQL 16; 4096 before). */
export const SCRAM_ITERATIONS = 4096;
/** PostgreSQL's salt length (SCRAM_DEFAULT_SALT_LEN). */
export const SCRAM_SALT_BYTES = 16;

const KEY_BYTES = 32; // SHA-256 output

/**
 * The shape of every verifier this module produces (and of PostgreSQL's): nothing but the prefix,
 * digits, base64 characters, '$' and ':'. Checked before a verifier is put into SQL text.
 */
export const SCRAM_VERIFIER_PATTERN =
  /^SCRAM-SHA-256\$[1-9][0-9]{0,9}:[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/;

export interface ScramVerifierOptions {
  /** Fixed salt (tests and known vectors only); a fresh random 16-byte salt otherwise. */
  salt?: Buffer;
  iterations?: number;
}

/** The SCRAM-SHA-256 verifier of `password`, as PostgreSQL stores it. */
export function scramSha256Verifier(password: string, opts: ScramVerifierOptions = {}): string {
  const salt = opts.salt ?? randomBytes(SCRAM_SALT_BYTES);
  const iterations = opts.iterations ?? SCRAM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new EngineError('invalid', `SCRAM iterations must be a positive integer, not ${iterations}.`, {
      engine: 'postgresql',
    });
  }
  if (salt.length === 0) {
    throw new EngineError('invalid', 'The SCRAM salt must not be empty.', { engine: 'postgresql' });
  }
  const keys = scramKeys(saslPrep(password), salt, iterations);
  return (
    `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}` +
    `$${keys.storedKey.toString('base64')}:${keys.serverKey.toString('base64')}`
  );
}

export interface ScramKeys {
  saltedPassword: Buffer;
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** RFC 5802 section 3, with SHA-256: the keys derived from an already prepared password. */
export function scramKeys(preparedPassword: string, salt: Buffer, iterations: number): ScramKeys {
  const saltedPassword = pbkdf2Sync(Buffer.from(preparedPassword, 'utf8'), salt, iterations, KEY_BYTES, 'sha256');
  const clientKey = hmac(saltedPassword, 'Client Key');
  return {
    saltedPassword,
    clientKey,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(saltedPassword, 'Server Key'),
  };
}

/**
 * SASLprep as PostgreSQL applies it, for the passwords this module accepts: ASCII is used as is.
 * Empty passwords and NUL are refused (PostgreSQL cannot store or send them); non-ASCII is refused
 * (see the file comment).
 */
export function saslPrep(password: string): string {
  if (password.length === 0) {
    throw new EngineError('invalid', 'The password is empty: PostgreSQL does not accept empty passwords.', {
      engine: 'postgresql',
    });
  }
  if (password.includes('\0')) {
    throw new EngineError('invalid', 'The password contains a NUL character, which PostgreSQL cannot take.', {
      engine: 'postgresql',
    });
  }
  if (!isAscii(password)) {
    throw new EngineError(
      'unsupported',
      'The password contains non-ASCII characters. PostgreSQL normalises those with SASLprep and ' +
        'client drivers do not all agree with it, so the password could work for some clients and not ' +
        'others: use an ASCII password (GetRandomPassword produces only ASCII).',
      { engine: 'postgresql' },
    );
  }
  return password;
}

/** True when `text` has the exact shape of a SCRAM-SHA-256 verifier (safe to embed in SQL). */
export function isScramVerifier(text: string): boolean {
  return SCRAM_VERIFIER_PATTERN.test(text);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    if (text.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}
