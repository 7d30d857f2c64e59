// The MySQL / MariaDB engine (also Aurora MySQL): a few verbs, each one database operation over
// one verified connection. Servers are told apart by SELECT VERSION() (server.ts has the matrix).
//
// Passwords: on MariaDB only ever sent as mysql_native_password hashes computed here, so the
// plaintext never reaches the general log, slow log or binlog. On MySQL they are sent as text
// (IDENTIFIED BY), which MySQL itself rewrites to <secret> in those logs; a precomputed hash
// would need the CREATE USER privilege even for one's own account (see passwords.ts).
//
// Single user on MySQL 8.0.14+ (and Aurora MySQL 3): dual passwords, when the engine is created
// with { dualPassword: true }. setOwnPassword keeps the old password working as the secondary one
// (RETAIN CURRENT PASSWORD) when the user holds APPLICATION_PASSWORD_ADMIN, and finishOwnPassword
// drops it (DISCARD OLD PASSWORD) once AWSCURRENT has moved. Without that privilege, and on
// MariaDB, the change is the plain one. The rotation core calls finishOwnPassword after
// finishSecret (and again on a retried finishSecret), so the old password does not outlive it.
//
// Identifiers and accounts are always backquoted; the few values are quoted for the session's
// sql_mode (see sql.ts); MySQL takes no bind parameters in account statements.

import type { AdminActionOptions, ConnectionTarget, Credential, Engine, LoginResult } from '../types';
import { EngineError, askCaller } from '../errors';
import { alignOnSession, checkAlignmentNames } from './alternate';
import { replaceLeakedPasswordOn } from './accounts';
import { grantModel, grantsExceed } from './grants';
import { DEFAULT_PORT, asLogin, isServerError, withConnection, type FailureContext, type Session } from './connect';
import { accountRowsSql, chooseHost, readFacts, rememberAccount, toAccountRow, type Facts } from './facts';
import { DISCARD_OLD_PASSWORD_SQL, identifiedBy, ownPasswordSql, passwordSecrets } from './passwords';
import { describeServer } from './server';
import { ENGINE_NAME, assertUserName, parseAccountText, quoteAccount, quoteLiteral } from './sql';

/** Longest user name the core lets through, in bytes: MariaDB's 80. MySQL's 32 characters are checked per server. */
export const MAX_USERNAME_LENGTH = 80;

/** ER_SPECIFIC_ACCESS_DENIED_ERROR: e.g. RETAIN CURRENT PASSWORD without APPLICATION_PASSWORD_ADMIN. */
const ER_SPECIFIC_ACCESS_DENIED = 1227;
/** ER_INCORRECT_CURRENT_PASSWORD: REPLACE '<current>' is not the primary password. */
const ER_INCORRECT_CURRENT_PASSWORD = 3891;
/** ER_NO_SUCH_THREAD: the session ended by itself before KILL. */
const ER_NO_SUCH_THREAD = 1094;
/** ER_KILL_DENIED_ERROR. */
const ER_KILL_DENIED = 1095;

/** The finishSecret hook this engine offers beyond `Engine` (see the README's proposal). */
export interface OwnPasswordFinisher {
  /**
   * As the user itself, after AWSCURRENT moved to `who`'s password (single user): drop what
   * setOwnPassword kept for the transition (MySQL 8.0.14+: the retained old password). Idempotent;
   * 'nothing-to-do' on servers without dual passwords.
   */
  finishOwnPassword(target: ConnectionTarget, who: Credential): Promise<'discarded' | 'nothing-to-do'>;
}

export type MysqlEngine = Engine & Required<Pick<Engine, 'finishOwnPassword'>> & OwnPasswordFinisher;

export interface MysqlEngineOptions {
  /** MySQL 8.0.14+ single user: RETAIN CURRENT PASSWORD in setOwnPassword (needs finishOwnPassword after finishSecret). */
  dualPassword?: boolean;
}

/**
 * Servers without dual-password support (MariaDB, MySQL before 8.0.14) as the LAST login of this
 * container to them saw it, by host:port: finishOwnPassword then skips the connection it would
 * only spend to learn there is nothing to do. Every login updates it either way, so an in-place
 * upgrade behind the same endpoint is seen at the next login (finishSecret logs in with the
 * pending credential just before it asks).
 */
const withoutDualPasswords = new Set<string>();
const serverKey = (target: ConnectionTarget): string => `${target.host}:${target.port}`;

function noteServer(target: ConnectionTarget, facts: Facts): void {
  rememberAccount(target, facts.account);
  if (facts.profile.dualPassword) withoutDualPasswords.delete(serverKey(target));
  else withoutDualPasswords.add(serverKey(target));
  if (withoutDualPasswords.size > 1_000) withoutDualPasswords.delete(withoutDualPasswords.values().next().value as string);
}

/** setOwnPassword on a session logged in as `who` (exported for unit tests against recorded server answers). */
export async function setOwnPasswordOn(
  session: Session,
  target: ConnectionTarget,
  who: Credential,
  newPassword: string,
  options: MysqlEngineOptions = {},
): Promise<LoginResult> {
  const facts = await readFacts(session);
  noteServer(target, facts);
  if (facts.account.user !== who.username) {
    throw new EngineError(
      'query',
      `setOwnPassword refused: logged in as "${who.username}" but the server reports the account ${quoteAccount(facts.account)}; not changing any password.`,
      { engine: ENGINE_NAME },
    );
  }
  const change = { newPassword, currentPassword: who.password, retainCurrent: options.dualPassword === true && facts.profile.dualPassword };
  try {
    await session.run(ownPasswordSql(facts.profile, facts.mode, change));
    return { ok: true };
  } catch (error) {
    if (!isServerError(error)) throw error;
    if (error.errno === ER_INCORRECT_CURRENT_PASSWORD) {
      // The session logged in with the retained (secondary) password: the primary was changed
      // already (a retried setSecret). Changing it again would discard the password AWSCURRENT holds.
      return { ok: false, reason: 'rejected', detail: `${error.errno}: this password is the account's retained secondary password, not its primary one` };
    }
    if (error.errno === ER_SPECIFIC_ACCESS_DENIED && change.retainCurrent) {
      // No APPLICATION_PASSWORD_ADMIN: the plain change, as on servers without dual passwords.
      await session.run(ownPasswordSql(facts.profile, facts.mode, { ...change, retainCurrent: false }));
      return { ok: true };
    }
    throw error;
  }
}

async function showGrantsOf(session: Session, account: { user: string; host: string }): Promise<string[]> {
  return (await session.rows(`SHOW GRANTS FOR ${quoteAccount(account)}`)).map((row) => String(row[0] ?? ''));
}

/** finishOwnPassword on a session logged in as the user with its new password. */
export async function finishOwnPasswordOn(session: Session): Promise<'discarded' | 'nothing-to-do'> {
  const facts = await readFacts(session);
  if (!facts.profile.dualPassword) return 'nothing-to-do';
  try {
    await session.run(DISCARD_OLD_PASSWORD_SQL);
    return 'discarded';
  } catch (error) {
    // Without APPLICATION_PASSWORD_ADMIN no old password was retained (setOwnPassword fell back).
    if (isServerError(error) && error.errno === ER_SPECIFIC_ACCESS_DENIED) return 'nothing-to-do';
    throw error;
  }
}

export function createMysqlEngine(options: MysqlEngineOptions = {}): MysqlEngine {
  return {
    name: ENGINE_NAME,
    engineValues: ['mysql', 'aurora-mysql', 'mariadb'],
    defaultPort: DEFAULT_PORT,
    maxUsernameLength: MAX_USERNAME_LENGTH,
    // As AWS's MySQL template: '/' '@' for URLs, quotes and backslash for shells and SQL.
    defaultExcludeCharacters: '/@"\'\\',
    marksAlternates: false,

    checkLogin(target: ConnectionTarget, who: Credential): Promise<LoginResult> {
      const context: FailureContext = { verb: 'checkLogin', target, user: who.username, secrets: [who.password] };
      // The same round trip as SELECT 1, and it keeps what finishOwnPassword and the admin verbs rely on fresh.
      return asLogin(target, who, context, async (session) => {
        noteServer(target, await readFacts(session));
      });
    },

    setOwnPassword(target: ConnectionTarget, who: Credential, newPassword: string): Promise<LoginResult> {
      const context: FailureContext = {
        verb: 'setOwnPassword',
        target,
        user: who.username,
        secrets: [...passwordSecrets(who.password), ...passwordSecrets(newPassword)],
      };
      // A refused login is an answer, not a failure: the caller tries another credential.
      return asLogin(target, who, context, (session) => setOwnPasswordOn(session, target, who, newPassword, options));
    },

    async finishOwnPassword(target: ConnectionTarget, who: Credential): Promise<'discarded' | 'nothing-to-do'> {
      if (options.dualPassword !== true || withoutDualPasswords.has(serverKey(target))) return 'nothing-to-do';
      return withConnection('finishOwnPassword', target, who, passwordSecrets(who.password), (session) => finishOwnPasswordOn(session));
    },

    async alignAlternateUser(
      target: ConnectionTarget,
      admin: Credential,
      baseUsername: string,
      alternate: Credential,
      options: AdminActionOptions = {},
    ): Promise<void> {
      checkAlignmentNames(admin, baseUsername, alternate);
      await withConnection(
        'alignAlternateUser',
        target,
        admin,
        passwordSecrets(alternate.password),
        (session) => alignOnSession(session, target, baseUsername, alternate, options),
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
      await withConnection(
        'setPasswordAsAdmin',
        target,
        admin,
        passwordSecrets(newPassword),
        async (session) => {
          const facts = await readFacts(session);
          assertUserName(username, 'username', facts.profile.maxUserNameChars, describeServer(facts.profile.version));
          const reference = options.reference ?? username;
          const rows = (await session.rows(accountRowsSql([username, reference], facts))).map(toAccountRow);
          const host = chooseHost(target, username, rows.filter((r) => r.user === username).map((r) => r.host), 'setPasswordAsAdmin');
          if (options.authorize) {
            const account = { user: username, host };
            let exceeds = false;
            if (reference !== username) {
              const referenceHost = chooseHost(target, reference, rows.filter((r) => r.user === reference).map((r) => r.host), 'setPasswordAsAdmin');
              const referenceAccount = { user: reference, host: referenceHost };
              const [held, bound] = await Promise.all([showGrantsOf(session, account), showGrantsOf(session, referenceAccount)]);
              exceeds = grantsExceed(grantModel(held, account), grantModel(bound, referenceAccount));
            }
            await askCaller(options.authorize, { username, exists: true, isAdmin: facts.account.user === username, exceedsReference: exceeds, madeByRotation: false });
          }
          try {
            await session.run(`ALTER USER ${quoteAccount({ user: username, host })} ${identifiedBy(facts.profile, facts.mode, newPassword)}`);
          } catch (error) {
            if (!isServerError(error) || error.errno !== ER_SPECIFIC_ACCESS_DENIED) throw error;
            throw new EngineError(
              'privilege',
              `setPasswordAsAdmin: the admin "${admin.username}" may not change the password of "${username}" (${error.sqlMessage ?? error.message}). ` +
                'It needs the CREATE USER privilege (or UPDATE on the mysql schema): GRANT CREATE USER ON *.* TO <admin>;',
              { engine: ENGINE_NAME, cause: { sqlstate: error.sqlState ?? '', driverCode: error.code } },
            );
          }
        },
        options.notBefore,
      );
    },

    async endSessions(target: ConnectionTarget, admin: Credential, username: string, openedBefore?: Date): Promise<number> {
      if (openedBefore !== undefined) {
        throw new EngineError(
          'unsupported',
          'endSessions: MySQL and MariaDB do not record when a connection was opened (PROCESSLIST.TIME is the time in the ' +
            'current state), so sessions cannot be picked by age. Call it without openedBefore to end them all.',
          { engine: ENGINE_NAME },
        );
      }
      return withConnection('endSessions', target, admin, [], async (session) => {
        const facts = await readFacts(session);
        assertUserName(username, 'username', facts.profile.maxUserNameChars, describeServer(facts.profile.version));
        const ids = (
          await session.rows(`SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ${quoteLiteral(username, facts.mode)} AND ID <> CONNECTION_ID()`)
        ).map((row) => String(row[0]));
        if (ids.length === 0) {
          // Without PROCESS the admin sees only its own sessions: 0 would be a silent lie.
          const grantee = quoteLiteral(`'${facts.account.user}'@'${facts.account.host}'`, facts.mode);
          const [row] = await session.rows(
            `SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${grantee} AND PRIVILEGE_TYPE IN ('PROCESS', 'SUPER')`,
          );
          if (Number(row?.[0] ?? 0) === 0) {
            throw new EngineError(
              'privilege',
              `endSessions: the admin "${admin.username}" cannot see the sessions of other users. Grant it: GRANT PROCESS ON *.* TO <admin>;`,
              { engine: ENGINE_NAME },
            );
          }
        }
        let ended = 0;
        for (const id of ids) {
          if (!/^\d+$/.test(id)) continue;
          try {
            await session.run(`KILL CONNECTION ${id}`);
            ended += 1;
          } catch (error) {
            if (isServerError(error) && error.errno === ER_NO_SUCH_THREAD) continue;
            if (!isServerError(error) || error.errno !== ER_KILL_DENIED) throw error;
            // Amazon RDS: the master user ends other users' sessions through this procedure.
            try {
              await session.run(`CALL mysql.rds_kill(${id})`);
              ended += 1;
            } catch {
              throw new EngineError(
                'privilege',
                `endSessions: the admin "${admin.username}" may not end the sessions of "${username}" (${error.sqlMessage ?? error.message}). ` +
                  'It needs CONNECTION_ADMIN (MySQL 8), CONNECTION ADMIN (MariaDB 10.5+) or SUPER; on Amazon RDS, mysql.rds_kill.',
                { engine: ENGINE_NAME, cause: { sqlstate: error.sqlState ?? '', driverCode: error.code } },
              );
            }
          }
        }
        return ended;
      });
    },

    replaceLeakedPassword(target: ConnectionTarget, admin: Credential, username: string, leakedPasswords: readonly string[], newPassword: string) {
      const secrets = [...leakedPasswords, newPassword].flatMap(passwordSecrets);
      return withConnection('replaceLeakedPassword', target, admin, secrets, (session) => replaceLeakedPasswordOn(session, username, leakedPasswords, newPassword));
    },
  };
}

/** The engine the rotate-mysql handler uses: dual passwords where the server has them (MySQL 8.0.14+). */
export const mysqlEngine: MysqlEngine = createMysqlEngine({ dualPassword: true });
