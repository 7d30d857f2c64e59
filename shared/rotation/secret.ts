import type { Engine } from '../engines/types';
import { InvalidSecretError } from './errors';

/**
 * The secret JSON contract of AWS's rotation templates:
 * `{engine, host, username, password, dbname?, port?, ssl?, masterarn?}` plus any other keys,
 * which are kept exactly as they are. Ours adds two optional keys: `rotationstrategy`
 * ("single" | "alternating" | "pair") and, for a pre-created pair, `usernames: [a, b]`.
 */
export type Strategy = 'single' | 'alternating' | 'pair';
export type TlsPreference = 'verify' | 'plaintext';

export interface DatabaseSecret {
  engine: string;
  host: string;
  port: number;
  username: string;
  password: string;
  dbname?: string;
  tls: TlsPreference;
  masterarn?: string;
  strategy: Strategy;
  /** For the pre-created pair: both users, in the secret's order. */
  usernames?: [string, string];
  /** The parsed JSON object, so that writing back keeps unknown keys untouched. */
  raw: Record<string, unknown>;
}

/** What parsing needs of the engine: the `engine` values it rotates and its default port. */
export type EngineContract = Pick<Engine, 'engineValues' | 'defaultPort'>;

const MAX_USERNAME_CHARS = 128;

export function parseObject(secretString: string | undefined, what: string): Record<string, unknown> {
  if (secretString === undefined) throw new InvalidSecretError('SecretString', `${what} has no SecretString: store the credential as JSON text.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new InvalidSecretError('SecretString', `${what} is not valid JSON: store {"engine","host","username","password",...}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidSecretError('SecretString', `${what} must be a JSON object, not ${Array.isArray(parsed) ? 'an array' : typeof parsed}.`);
  }
  return parsed as Record<string, unknown>;
}

export function requiredText(obj: Record<string, unknown>, key: string, what: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidSecretError(key, `${what} ${value === undefined ? 'lacks' : 'has an invalid'} "${key}": it must be a non-empty string.`);
  }
  return value;
}

export function optionalText(obj: Record<string, unknown>, key: string, what: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new InvalidSecretError(key, `${what} has an invalid "${key}": it must be a non-empty string.`);
  return value;
}

export function parsePort(obj: Record<string, unknown>, what: string): number | undefined {
  const value = obj['port'];
  if (value === undefined || value === null) return undefined;
  // AWS's templates cast with int(), so "5432" is as good as 5432.
  const port = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidSecretError('port', `${what} has an invalid "port": it must be a whole number from 1 to 65535.`);
  }
  return port;
}

/**
 * TLS is verified unless the secret says `"ssl": false` (or "false"). Unlike AWS's templates, a
 * missing `ssl` never means "try TLS, then fall back to plaintext".
 */
export function parseTls(obj: Record<string, unknown>, what: string): TlsPreference {
  const value = obj['ssl'];
  if (value === undefined || value === null || value === true) return 'verify';
  if (value === false) return 'plaintext';
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true' ? 'verify' : 'plaintext';
  throw new InvalidSecretError('ssl', `${what} has an invalid "ssl": use true or false (TLS with verification is the default).`);
}

export function parseHost(obj: Record<string, unknown>, what: string): string {
  const host = requiredText(obj, 'host', what);
  if (/\s/.test(host) || host.length > 253) throw new InvalidSecretError('host', `${what} has an invalid "host": a host name or IP address without spaces.`);
  return host;
}

function parseStrategy(obj: Record<string, unknown>, what: string): { strategy: Strategy; usernames?: [string, string] } {
  const declared = obj['rotationstrategy'];
  const rawPair = obj['usernames'];
  let usernames: [string, string] | undefined;
  if (rawPair !== undefined && rawPair !== null) {
    if (
      !Array.isArray(rawPair) || rawPair.length !== 2 ||
      !rawPair.every((u): u is string => typeof u === 'string' && u.length > 0) || rawPair[0] === rawPair[1]
    ) {
      throw new InvalidSecretError('usernames', `${what} has an invalid "usernames": list the two distinct pre-created users, e.g. ["app_blue", "app_green"].`);
    }
    usernames = [String(rawPair[0]), String(rawPair[1])];
  }
  if (declared !== undefined && declared !== 'single' && declared !== 'alternating' && declared !== 'pair') {
    throw new InvalidSecretError('rotationstrategy', `${what} has an invalid "rotationstrategy": use "single", "alternating" or "pair".`);
  }
  const strategy: Strategy = declared ?? (usernames ? 'pair' : obj['masterarn'] !== undefined ? 'alternating' : 'single');
  if (strategy === 'pair' && !usernames) {
    throw new InvalidSecretError('usernames', `${what} uses the pre-created pair strategy but lacks "usernames": list both users.`);
  }
  return usernames ? { strategy, usernames } : { strategy };
}

/** Parse and validate a rotated secret's value. `what` names it in errors, e.g. "The AWSPENDING version". */
export function parseDatabaseSecret(secretString: string | undefined, contract: EngineContract, what: string): DatabaseSecret {
  const raw = parseObject(secretString, what);
  const engine = requiredText(raw, 'engine', what);
  if (!contract.engineValues.includes(engine)) {
    throw new InvalidSecretError('engine', `${what} has "engine": "${engine.slice(0, 40)}", but this function rotates ${contract.engineValues.join(' or ')}.`);
  }
  const host = parseHost(raw, what);
  const username = requiredText(raw, 'username', what);
  // No engine takes names this long (PostgreSQL 63 bytes, MySQL 32, MariaDB 80); refusing here keeps
  // a hostile name out of every later message and log line.
  if (username.length > MAX_USERNAME_CHARS) {
    throw new InvalidSecretError('username', `${what} has a "username" of ${username.length} characters; database user names are at most ${MAX_USERNAME_CHARS}.`);
  }
  const password = requiredText(raw, 'password', what);
  const dbname = optionalText(raw, 'dbname', what);
  const masterarn = optionalText(raw, 'masterarn', what);
  const { strategy, usernames } = parseStrategy(raw, what);
  if (strategy !== 'single' && !masterarn) {
    throw new InvalidSecretError('masterarn', `${what} uses the ${strategy} strategy but lacks "masterarn": name the admin secret that may change the other user.`);
  }
  if (usernames && !usernames.includes(username)) {
    throw new InvalidSecretError('username', `${what} has a "username" that is not one of its "usernames".`);
  }
  return {
    engine,
    host,
    port: parsePort(raw, what) ?? contract.defaultPort,
    username,
    password,
    tls: parseTls(raw, what),
    strategy,
    raw,
    ...(dbname === undefined ? {} : { dbname }),
    ...(masterarn === undefined ? {} : { masterarn }),
    ...(usernames === undefined ? {} : { usernames }),
  };
}

/** The same secret JSON with a new user and password (and an issuer's fields); every other key stays as it was. */
export function withCredential(secret: DatabaseSecret, username: string, password: string, fields: Record<string, string> = {}): string {
  return JSON.stringify({ ...secret.raw, ...fields, username, password });
}
