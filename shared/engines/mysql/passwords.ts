// How a password reaches the server, per server (see the table in server.ts).
//
// MariaDB: always as a mysql_native_password hash computed here ('*' + upper hex of
// SHA1(SHA1(password))), so the plaintext never appears in the general log, slow log or binlog
// (MariaDB writes statements there as they were sent).
// MySQL 5.7/8.x/9.x: as text in IDENTIFIED BY. MySQL accepts a precomputed hash only with
// `IDENTIFIED WITH plugin AS '<hash>'`, which needs the CREATE USER privilege even for one's own
// account, and caching_sha2_password hashes carry a salt and binary bytes the server generates.
// MySQL rewrites these statements itself before logging them (general log, slow log, binlog
// show `IDENTIFIED BY <secret>`), unless the server runs with --log-raw.

import { createHash } from 'node:crypto';
import type { ServerProfile } from './server';
import { nativeHashLiteral, quoteLiteral, type LiteralMode } from './sql';

/** mysql_native_password's stored form: '*' + upper-case hex of SHA1(SHA1(UTF-8 password)). */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}

/** The forms of a password that must never appear in a message: the text and, on MariaDB, its hash. */
export function passwordSecrets(password: string): string[] {
  return [password, nativePasswordHash(password)];
}

/** `IDENTIFIED BY ...` for CREATE USER / ALTER USER run by the admin. */
export function identifiedBy(profile: ServerProfile, mode: LiteralMode, password: string): string {
  return profile.sendsNativeHash
    ? `IDENTIFIED BY PASSWORD ${nativeHashLiteral(nativePasswordHash(password))}`
    : `IDENTIFIED BY ${quoteLiteral(password, mode)}`;
}

export interface OwnPasswordChange {
  newPassword: string;
  /** The password the session logged in with. */
  currentPassword: string;
  /** Keep the current password as the secondary one (MySQL 8.0.14+ dual passwords). */
  retainCurrent: boolean;
}

/**
 * The statement a user runs to change its own password. No privilege is needed, except for
 * RETAIN CURRENT PASSWORD (APPLICATION_PASSWORD_ADMIN). On MariaDB, `ALTER USER CURRENT_USER()`
 * would need CREATE USER, so it is `SET PASSWORD = '<hash>'` (the hash form of SET PASSWORD).
 * On MySQL 8.0.13+, `REPLACE '<current>'` makes the server check that the session's password is
 * the primary one: a session that logged in with a retained (secondary) password is refused
 * (ER_INCORRECT_CURRENT_PASSWORD) instead of discarding the primary.
 */
export function ownPasswordSql(profile: ServerProfile, mode: LiteralMode, change: OwnPasswordChange): string {
  if (profile.sendsNativeHash) return `SET PASSWORD = ${nativeHashLiteral(nativePasswordHash(change.newPassword))}`;
  let sql = `ALTER USER USER() IDENTIFIED BY ${quoteLiteral(change.newPassword, mode)}`;
  if (profile.replaceCurrent) sql += ` REPLACE ${quoteLiteral(change.currentPassword, mode)}`;
  if (change.retainCurrent && profile.dualPassword) sql += ' RETAIN CURRENT PASSWORD';
  return sql;
}

/** Ends dual-password mode for the session's own account (MySQL 8.0.14+). */
export const DISCARD_OLD_PASSWORD_SQL = 'ALTER USER USER() DISCARD OLD PASSWORD';
