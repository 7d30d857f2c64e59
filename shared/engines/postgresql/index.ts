// The PostgreSQL engine: a few verbs, each one database operation over one verified connection.
//
// Passwords are only ever sent to the server as SCRAM-SHA-256 verifiers computed here
// (`ALTER ROLE "x" PASSWORD 'SCRAM-SHA-256$4096:...'`), so the plaintext never appears in the
// server's statement log. Identifiers are always quoted, values are bind parameters except where
// PostgreSQL takes none (utility statements; see sql.ts).
//
// checkLogin classification: SQLSTATE class 28 (28P01 invalid_password: wrong password, unknown
// role under password/SCRAM auth, expired VALID UNTIL; 28000 invalid_authorization_specification:
// role may not log in, role does not exist under non-password auth, pg_hba.conf rejects it) is
// `rejected`: the server was reached over the verified channel and gave a definite answer about
// this credential. The server's message (without the password) is in `detail`; subcases cannot be
// told apart reliably since server messages may be translated. Everything else throws an
// EngineError: network ('unreachable'), TLS ('tls'), timeouts ('timeout'), missing database,
// too many connections, server starting or shutting down.

import type { AdminActionOptions, ConnectionTarget, Credential, Engine, LoginResult } from '../types';
import { EngineError } from '../errors';
import { alignOnConnection, prepareAlignment } from './alternate';
import { authorizeChange } from './guard';
import { DEFAULT_DBNAME, DEFAULT_PORT, asLogin, isDatabaseError, withConnection, type FailureContext } from './connect';
import { scramSha256Verifier } from './scram';
import { ADMIN_OPTION_VERSION, requireScramSupport, serverFacts } from './server';
import { ENGINE_NAME, MAX_IDENTIFIER_BYTES, alterRolePasswordSql, assertRoleName, quoteIdentifier } from './sql';

export const postgresql: Engine = {
  name: ENGINE_NAME,
  engineValues: ['postgres', 'aurora-postgresql'],
  defaultPort: DEFAULT_PORT,
  defaultDbName: DEFAULT_DBNAME,
  maxUsernameLength: MAX_IDENTIFIER_BYTES,
  // As AWS's template: ':' for .pgpass, '/' '@' for URLs, quotes and backslash for shells and SQL.
  defaultExcludeCharacters: ':/@"\'\\',
  marksAlternates: true,

  checkLogin(target: ConnectionTarget, who: Credential): Promise<LoginResult> {
    const context: FailureContext = { verb: 'checkLogin', target, user: who.username, secrets: [who.password] };
    return asLogin(target, who, context, async (client) => {
      await client.query('SELECT 1');
    });
  },

  setOwnPassword(target: ConnectionTarget, who: Credential, newPassword: string): Promise<LoginResult> {
    const verifier = scramSha256Verifier(newPassword);
    const context: FailureContext = { verb: 'setOwnPassword', target, user: who.username, secrets: [who.password, newPassword, verifier] };
    // A refused login is an answer, not a failure: the caller tries another credential.
    return asLogin(target, who, context, async (client) => {
      // Act as the login role itself even if its settings switch the session to another role
      // (ALTER ROLE ... SET role): a role may change only its own password.
      await client.query('SET ROLE NONE');
      const facts = await serverFacts(client);
      requireScramSupport(facts);
      if (facts.sessionUser !== who.username) {
        throw new EngineError(
          'query',
          `setOwnPassword: logged in as "${who.username}" but the server reports session user "${facts.sessionUser}"; not changing any password.`,
          { engine: ENGINE_NAME },
        );
      }
      await client.query(alterRolePasswordSql(who.username, verifier));
    });
  },

  async alignAlternateUser(
    target: ConnectionTarget,
    admin: Credential,
    baseUsername: string,
    alternate: Credential,
    options: AdminActionOptions = {},
  ): Promise<void> {
    const { verifier, secrets } = prepareAlignment(admin, baseUsername, alternate);
    await withConnection(
      'alignAlternateUser',
      target,
      admin,
      secrets,
      (client) => alignOnConnection(client, admin, baseUsername, alternate.username, verifier, options),
      options.notBefore,
    );
  },

  async setPasswordAsAdmin(
    target: ConnectionTarget,
    admin: Credential,
    username: string,
    newPassword: string,
    options: AdminActionOptions = {},
  ): Promise<void> {
    assertRoleName(username, 'username');
    const verifier = scramSha256Verifier(newPassword);
    await withConnection('setPasswordAsAdmin', target, admin, [newPassword, verifier], async (client) => {
      const facts = await serverFacts(client);
      requireScramSupport(facts);
      await authorizeChange(client, username, options.reference ?? username, options);
      try {
        await client.query(alterRolePasswordSql(username, verifier));
      } catch (error) {
        if (!isDatabaseError(error) || error.code !== '42501') throw error;
        const q = quoteIdentifier;
        throw new EngineError(
          'privilege',
          `setPasswordAsAdmin: the admin "${admin.username}" may not change the password of "${username}" (${error.message}). ` +
            (facts.version >= ADMIN_OPTION_VERSION
              ? `On PostgreSQL 16 and later it needs CREATEROLE and ADMIN OPTION on the role: GRANT ${q(username)} TO ${q(admin.username)} WITH ADMIN OPTION;`
              : `It needs CREATEROLE: ALTER ROLE ${q(admin.username)} CREATEROLE;`) +
            ' Only a superuser may change the password of a superuser.',
          { engine: ENGINE_NAME, cause: { sqlstate: '42501' } },
        );
      }
    }, options.notBefore);
  },

  async endSessions(target: ConnectionTarget, admin: Credential, username: string, openedBefore?: Date): Promise<number> {
    assertRoleName(username, 'username');
    if (openedBefore !== undefined && Number.isNaN(openedBefore.getTime())) {
      throw new EngineError('invalid', 'endSessions: openedBefore is an invalid date.', { engine: ENGINE_NAME });
    }
    return withConnection('endSessions', target, admin, [], async (client) => {
      if (openedBefore !== undefined) {
        // Without pg_read_all_stats (or membership in the role) backend_start of other roles'
        // sessions reads as NULL: the age filter would silently spare them.
        const hidden = await client.query<{ hidden: number }>(
          `SELECT count(*)::int AS hidden FROM pg_catalog.pg_stat_activity
            WHERE usename = $1 AND pid <> pg_backend_pid() AND backend_start IS NULL`,
          [username],
        );
        if ((hidden.rows[0]?.hidden ?? 0) > 0) {
          throw new EngineError(
            'privilege',
            `endSessions: the admin "${admin.username}" cannot see when the sessions of "${username}" started. ` +
              `Grant it: GRANT pg_read_all_stats TO ${quoteIdentifier(admin.username)};`,
            { engine: ENGINE_NAME },
          );
        }
      }
      // MATERIALIZED: pick the sessions first, so the planner cannot call pg_terminate_backend on
      // rows before the other conditions have filtered them.
      const ended = await client
        .query<{ ended: number }>(
          `WITH targets AS MATERIALIZED (
             SELECT pid FROM pg_catalog.pg_stat_activity
              WHERE usename = $1 AND pid <> pg_backend_pid()
                AND ($2::timestamptz IS NULL OR backend_start < $2::timestamptz)
           )
           SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid))::int AS ended FROM targets`,
          [username, openedBefore ?? null],
        )
        .catch((error: unknown) => {
          if (!isDatabaseError(error) || error.code !== '42501') throw error;
          throw new EngineError(
            'privilege',
            `endSessions: the admin "${admin.username}" may not end the sessions of "${username}" (${error.message}). ` +
              `Grant it: GRANT pg_signal_backend TO ${quoteIdentifier(admin.username)}; ` +
              '(sessions of superusers can only be ended by a superuser).',
            { engine: ENGINE_NAME, cause: { sqlstate: '42501' } },
          );
        });
      return ended.rows[0]?.ended ?? 0;
    });
  },
};
