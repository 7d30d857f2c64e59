// SQL text for the MySQL/MariaDB engine. MySQL takes no bind parameters in account statements
// (CREATE/ALTER USER, GRANT, REVOKE, SET PASSWORD, SHOW GRANTS), so the few values they carry are
// built here, and nothing else builds SQL:
//   - account names: always `user`@`host` with backquotes doubled (identifier quoting, which the
//     server reads the same whatever its sql_mode, unlike string literals);
//   - string values: single-quoted with quotes doubled, and backslashes doubled unless the session
//     runs with NO_BACKSLASH_ESCAPES (the caller learns that from the server first), NUL refused;
//   - password hashes: checked to be nothing but a mysql_native_password hash first.
// Names are validated before they are quoted: non-empty, no NUL, not longer than the server allows
// (longer names are refused by the server, or truncated by old ones, naming another account).

import { EngineError } from '../errors';

export const ENGINE_NAME = 'mysql';

/** An account: MySQL identifies a user by name AND the host pattern it connects from. */
export interface Account {
  user: string;
  host: string;
}

/** `name` as a backquoted identifier (any characters but NUL; backquotes doubled). */
export function quoteIdentifier(name: string): string {
  if (name.includes('\0')) {
    throw new EngineError('invalid', 'A name contains a NUL character.', { engine: ENGINE_NAME });
  }
  return `\`${name.replace(/`/g, '``')}\``;
}

/** `user`@`host`, the form every account statement accepts. */
export function quoteAccount(account: Account): string {
  return `${quoteIdentifier(account.user)}@${quoteIdentifier(account.host)}`;
}

/** How the session reads string literals: with NO_BACKSLASH_ESCAPES a backslash is an ordinary character. */
export interface LiteralMode {
  noBackslashEscapes: boolean;
}

/** `text` as a string literal for a session in `mode`. */
export function quoteLiteral(text: string, mode: LiteralMode): string {
  if (text.includes('\0')) {
    throw new EngineError('invalid', 'A string value contains a NUL character.', { engine: ENGINE_NAME });
  }
  const escaped = mode.noBackslashEscapes ? text : text.replace(/\\/g, '\\\\');
  return `'${escaped.replace(/'/g, "''")}'`;
}

/** Whether a sql_mode value switches backslash escapes off. */
export function literalModeOf(sqlMode: string): LiteralMode {
  return { noBackslashEscapes: sqlMode.toUpperCase().split(',').includes('NO_BACKSLASH_ESCAPES') };
}

const NATIVE_HASH = /^\*[0-9A-F]{40}$/;

/** A mysql_native_password hash as a literal, after checking it is nothing else. */
export function nativeHashLiteral(hash: string): string {
  if (!NATIVE_HASH.test(hash)) {
    // Never echo the value: it is (or was meant to be) a password hash.
    throw new EngineError('invalid', 'Refusing to put a value that is not a mysql_native_password hash into SQL.', {
      engine: ENGINE_NAME,
    });
  }
  return `'${hash}'`;
}

/**
 * Throws EngineError('invalid') unless `name` can be a user name on a server that allows
 * `maxChars` characters (MySQL 5.7.8+ and 8.x: 32; MariaDB: 80).
 */
export function assertUserName(name: string, what: string, maxChars: number, server: string): void {
  const length = [...name].length;
  const problem =
    name.length === 0
      ? 'is empty'
      : name.includes('\0')
        ? 'contains a NUL character'
        : length > maxChars
          ? `is ${length} characters long; ${server} user names have at most ${maxChars}`
          : undefined;
  if (problem !== undefined) {
    throw new EngineError('invalid', `The ${what} ${JSON.stringify(name)} ${problem}: fix the username.`, {
      engine: ENGINE_NAME,
    });
  }
}

/** Splits CURRENT_USER()'s `user@host` (the host never contains '@'; the user may). */
export function parseAccountText(text: string): Account {
  const at = text.lastIndexOf('@');
  if (at < 0) throw new EngineError('query', `Unexpected account name from the server: ${JSON.stringify(text)}.`, { engine: ENGINE_NAME });
  return { user: text.slice(0, at), host: text.slice(at + 1) };
}
