// What the verbs learn from the server before acting, in one round trip: its version (which
// statements it takes), the account the session authenticated as (CURRENT_USER(): the host
// pattern that matched, which may not be '%'), and whether string literals take backslash escapes.
//
// The account each user logs in as is also remembered per server (in this container), from the
// logins of checkLogin and setOwnPassword: the admin verbs use it to pick the right account when a
// user name has accounts for several hosts ('app'@'%' and 'app'@'10.0.%'), because the admin
// cannot see which one matches the user's own logins. The core checks AWSCURRENT's login
// (checkLogin) before an admin verb runs anything (notBefore), so for the base user the account
// is known by then. Without it, a user with exactly one account is unambiguous; several are refused.

import { EngineError } from '../errors';
import type { ConnectionTarget } from '../types';
import type { Session } from './connect';
import { parseServerVersion, serverProfile, type ServerProfile } from './server';
import { ENGINE_NAME, literalModeOf, parseAccountText, quoteLiteral, type Account, type LiteralMode } from './sql';

export interface Facts {
  profile: ServerProfile;
  mode: LiteralMode;
  /** CURRENT_USER(): the account the session authenticated as. */
  account: Account;
}

export const FACTS_SQL = 'SELECT VERSION(), CURRENT_USER(), @@SESSION.sql_mode';

export async function readFacts(session: Session): Promise<Facts> {
  const [row] = await session.rows(FACTS_SQL);
  const [version, account, sqlMode] = row ?? [];
  if (typeof version !== 'string' || typeof account !== 'string') {
    throw new EngineError('query', 'The server returned no version or current user.', { engine: ENGINE_NAME });
  }
  return { profile: serverProfile(parseServerVersion(version)), mode: literalModeOf(String(sqlMode ?? '')), account: parseAccountText(account) };
}

// ---------------------------------------------------------------------------------------------
// Which account a user logs in as

const loggedInAs = new Map<string, string>();
const memoKey = (target: ConnectionTarget, user: string): string => `${target.host}:${target.port}\0${user}`;

/** Remembers the host pattern of the account `user` authenticated as on this server. */
export function rememberAccount(target: ConnectionTarget, account: Account): void {
  loggedInAs.set(memoKey(target, account.user), account.host);
  if (loggedInAs.size > 1_000) loggedInAs.delete(loggedInAs.keys().next().value as string);
}

/** For tests: forget every remembered account. */
export function forgetAccounts(): void {
  loggedInAs.clear();
}

/** SELECT of the accounts named `users` (not roles), with the columns alignment copies. */
export function accountRowsSql(users: readonly string[], facts: Facts): string {
  const names = users.map((user) => quoteLiteral(user, facts.mode)).join(', ');
  return (
    'SELECT User, Host, plugin, ssl_type, CONVERT(ssl_cipher USING utf8mb4), CONVERT(x509_issuer USING utf8mb4), ' +
    'CONVERT(x509_subject USING utf8mb4), max_questions, max_updates, max_connections, max_user_connections ' +
    `FROM mysql.user WHERE User IN (${names})${facts.profile.isMariaDb ? " AND is_role <> 'Y'" : ''}`
  );
}

/** One row of accountRowsSql. */
export interface AccountRow {
  user: string;
  host: string;
  plugin: string;
  sslType: string;
  sslCipher: string;
  x509Issuer: string;
  x509Subject: string;
  limits: { maxQuestions: string; maxUpdates: string; maxConnections: string; maxUserConnections: string };
}

export function toAccountRow(row: unknown[]): AccountRow {
  const text = (i: number): string => (row[i] === null || row[i] === undefined ? '' : Buffer.isBuffer(row[i]) ? (row[i] as Buffer).toString('utf8') : String(row[i]));
  return {
    user: text(0),
    host: text(1),
    plugin: text(2),
    sslType: text(3).toUpperCase(),
    sslCipher: text(4),
    x509Issuer: text(5),
    x509Subject: text(6),
    limits: { maxQuestions: text(7) || '0', maxUpdates: text(8) || '0', maxConnections: text(9) || '0', maxUserConnections: text(10) || '0' },
  };
}

/**
 * The host of the account `user` is rotated as: the one it was seen logging in as, else its only
 * account. EngineError('invalid') when it has none or several and no login was seen.
 */
export function chooseHost(target: ConnectionTarget, user: string, hosts: readonly string[], verb: string): string {
  if (hosts.length === 0) {
    throw new EngineError('invalid', `${verb}: the user "${user}" has no account on the server: check the username in the secret.`, { engine: ENGINE_NAME });
  }
  const seen = loggedInAs.get(memoKey(target, user));
  if (seen !== undefined && hosts.includes(seen)) return seen;
  if (hosts.length === 1) return hosts[0]!;
  throw new EngineError(
    'invalid',
    `${verb}: the user "${user}" has accounts for several hosts (${hosts.map((h) => `'${h}'`).join(', ')}) and none was seen ` +
      'logging in from this function, so the one the secret is for cannot be told. Keep one account per user name, ' +
      'or let the rotation log in as the user first (the alternating strategy checks AWSCURRENT before the admin acts).',
    { engine: ENGINE_NAME },
  );
}
