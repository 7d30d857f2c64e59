// replaceLeakedPassword for MySQL and MariaDB: a user name can have several accounts ('app'@'%',
// 'app'@'10.0.%'); a rotation changes the one the user logs in as. After a breach, the others must
// not keep accepting the leaked password.
//
// Proof of control, per account: its stored mysql_native_password hash ('*' + hex of
// SHA1(SHA1(password))) equals the hash of a password the secret held. Only such an account is
// changed, to the new password (sent as a hash on MariaDB, see passwords.ts), so applications on
// its hosts keep working with the secret's credential. Every other account is left as it is:
//   - another hash: not provably the secret's;
//   - another plugin (MySQL's caching_sha2_password stores a salted hash the server computes,
//     MariaDB's ed25519, unix_socket, ...): cannot be compared here, reported as unverified;
//   - the admin's own account.
// The stored hashes are read into memory, compared here and never returned, logged or sent back.
// The admin needs SELECT on mysql.user and CREATE USER (or UPDATE on mysql), as for rotation.

import type { LeakedPasswordAccounts } from '../types';
import type { Session } from './connect';
import { readFacts, type Facts } from './facts';
import { identifiedBy, nativePasswordHash } from './passwords';
import { describeServer } from './server';
import { assertUserName, quoteAccount, quoteLiteral } from './sql';

const NATIVE_PLUGIN = 'mysql_native_password';

/** The accounts named `username` with their plugin and, for mysql_native_password ones, the stored hash. */
function storedPasswordsSql(username: string, facts: Facts): string {
  const user = quoteLiteral(username, facts.mode);
  // MariaDB before 10.4 keeps a native hash in `Password` and may leave plugin '' for it.
  const hash = facts.profile.isMariaDb
    ? "CASE WHEN plugin IN ('', 'mysql_native_password') THEN IF(authentication_string <> '', authentication_string, Password) ELSE '' END"
    : "CASE WHEN plugin = 'mysql_native_password' THEN authentication_string ELSE '' END";
  return (
    `SELECT User, Host, plugin, CONVERT(${hash} USING utf8mb4) FROM mysql.user WHERE User = ${user}` +
    (facts.profile.isMariaDb ? " AND is_role <> 'Y'" : '')
  );
}

/** An account as people write it, for reports: 'app'@'10.0.%'. */
const shown = (user: string, host: string): string => `'${user}'@'${host}'`;

/** Runs replaceLeakedPassword on an admin session (see the file comment). */
export async function replaceLeakedPasswordOn(
  session: Session,
  username: string,
  leakedPasswords: readonly string[],
  newPassword: string,
): Promise<LeakedPasswordAccounts> {
  const facts = await readFacts(session);
  assertUserName(username, 'username', facts.profile.maxUserNameChars, describeServer(facts.profile.version));
  const leaked = new Set(leakedPasswords.map(nativePasswordHash));
  const fresh = nativePasswordHash(newPassword);
  const result: LeakedPasswordAccounts = { replaced: [], current: [], untouched: [], unverified: [] };
  const text = (v: unknown): string => (v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

  for (const row of await session.rows(storedPasswordsSql(username, facts))) {
    const [user, host, plugin, stored] = [text(row[0]), text(row[1]), text(row[2]), text(row[3]).toUpperCase()];
    if (user !== username) continue;
    const name = shown(user, host);
    if (user === facts.account.user && host === facts.account.host) {
      result.untouched.push(name); // never the admin's own account
    } else if (plugin !== NATIVE_PLUGIN && !(plugin === '' && facts.profile.isMariaDb)) {
      result.unverified.push(`${name} (${plugin || 'no plugin'})`);
    } else if (stored === fresh) {
      result.current.push(name);
    } else if (leaked.has(stored)) {
      await session.run(`ALTER USER ${quoteAccount({ user, host })} ${identifiedBy(facts.profile, facts.mode, newPassword)}`);
      result.replaced.push(name);
    } else {
      result.untouched.push(name);
    }
  }
  return result;
}
