// alignAlternateUser for MySQL and MariaDB: `<base>_clone`@`<base's host>` is created or updated,
// as the admin, so that it holds exactly what the base account holds.
//
// End state, the same however often it runs:
//   1. the clone account exists on the base account's host (the host of the account the base
//      user authenticates as, see facts.ts — not always '%': AWS issue #101), with the new
//      password (on MariaDB sent as a mysql_native_password hash), the base's TLS requirement
//      (REQUIRE NONE/SSL/X509/ISSUER/SUBJECT/CIPHER), its resource limits (MAX_*), and on MySQL
//      the base's authentication plugin — all in one CREATE USER / ALTER USER statement;
//   2. its grants equal the base's (SHOW GRANTS of both compared; see grants.ts): every privilege
//      and WITH GRANT OPTION, roles WITH ADMIN OPTION, MariaDB's default role and MySQL 8's
//      default roles (mysql.default_roles), MySQL 8 partial revokes. What the base lost since the
//      last rotation is revoked from the clone, after everything it keeps was granted.
// Not copied: account locking, password expiry/history/reuse policies, failed-login tracking,
// MariaDB's authentication plugins other than mysql_native_password (the clone gets that one).
//
// The admin needs CREATE USER, SELECT on mysql.user (and mysql.default_roles on MySQL 8), and
// every privilege it copies WITH GRANT OPTION (roles: WITH ADMIN OPTION), as RDS's master user has.
// MySQL DDL commits on its own, so a failure halfway leaves a partly aligned clone; the retry
// (Secrets Manager retries the rotation) finishes the job.

import { EngineError } from '../errors';
import { askCaller } from '../errors';
import type { AdminActionOptions, ConnectionTarget, Credential } from '../types';
import { isServerError, type Session } from './connect';
import { accountRowsSql, chooseHost, readFacts, toAccountRow, type AccountRow, type Facts } from './facts';
import { grantModel, planGrantSync } from './grants';
import { identifiedBy } from './passwords';
import { describeServer } from './server';
import { ENGINE_NAME, assertUserName, quoteAccount, quoteLiteral, type Account, type LiteralMode } from './sql';

const ER_CANNOT_USER = 1396;
/** Plugins whose `IDENTIFIED WITH plugin BY 'password'` takes a password (MySQL). */
const PASSWORD_PLUGINS = new Set(['mysql_native_password', 'caching_sha2_password', 'sha256_password']);

export function checkAlignmentNames(admin: Credential, baseUsername: string, alternate: Credential): void {
  if (alternate.username === baseUsername) throw invalid(`The alternate user must differ from the base user ("${baseUsername}").`);
  if (alternate.username === admin.username) {
    throw invalid(`The alternate user "${alternate.username}" is the admin user itself: refusing to turn the admin into a copy of "${baseUsername}".`);
  }
}

/** Runs the alignment on an admin session (see the file comment). */
export async function alignOnSession(
  session: Session,
  target: ConnectionTarget,
  baseUsername: string,
  alternate: Credential,
  options: AdminActionOptions = {},
): Promise<void> {
  const facts = await readFacts(session);
  const server = describeServer(facts.profile.version);
  assertUserName(baseUsername, 'base username', facts.profile.maxUserNameChars, server);
  assertUserName(alternate.username, 'alternate username', facts.profile.maxUserNameChars, server);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await alignOnce(session, facts, target, baseUsername, alternate, options);
      return;
    } catch (error) {
      // Another run created the clone between our read and our CREATE USER: read again and alter it.
      if (attempt === 1 && error instanceof StepFailure && error.step === 'create' && isServerError(error.cause) && error.cause.errno === ER_CANNOT_USER) continue;
      throw error instanceof StepFailure ? error.explain(baseUsername, alternate.username) : error;
    }
  }
}

async function alignOnce(
  session: Session,
  facts: Facts,
  target: ConnectionTarget,
  baseUsername: string,
  alternate: Credential,
  options: AdminActionOptions,
): Promise<void> {
  const rows = (await session.rows(accountRowsSql([baseUsername, alternate.username], facts))).map(toAccountRow);
  const host = chooseHost(target, baseUsername, rows.filter((r) => r.user === baseUsername).map((r) => r.host), 'alignAlternateUser');
  const base: Account = { user: baseUsername, host };
  const clone: Account = { user: alternate.username, host };
  const baseRow = rows.find((r) => r.user === base.user && r.host === host)!;
  const cloneRow = rows.find((r) => r.user === clone.user && r.host === host);
  if (facts.account.user === clone.user && facts.account.host === host) throw invalid(`The alternate account ${quoteAccount(clone)} is the admin's own account.`);
  const baseModel = grantModel(await showGrants(session, base), base);
  const cloneModel = grantModel(cloneRow === undefined ? [] : await showGrants(session, clone), clone);

  // 0. The caller decides, from what the admin sees of the alternate, whether it may be created or changed.
  // MySQL and MariaDB keep no marker of which secret made an account, so madeByRotation is never claimed.
  if (options.authorize) {
    await askCaller(options.authorize, {
      username: clone.user,
      exists: cloneRow !== undefined,
      isAdmin: facts.account.user === clone.user,
      // The alignment below revokes whatever the clone holds beyond the base: afterwards it holds exactly the base's grants.
      exceedsReference: false,
      madeByRotation: false,
    });
  }

  // 1. The account, with its password, TLS requirement, limits (and on MySQL the base's plugin).
  const accountSql = accountStatement(facts, base, baseRow, clone, cloneRow, alternate.password);
  await step(session, cloneRow === undefined ? 'create' : 'alter', accountSql);

  // 2. Grants (CREATE and ALTER USER leave them as they were read).
  const plan = planGrantSync(baseModel, cloneModel, clone, { mariaDb: facts.profile.isMariaDb });
  for (const sql of plan) await step(session, 'grant', sql);
  if (facts.profile.roles === 'mysql') await alignDefaultRoles(session, facts.mode, base, clone);
}

/** CREATE USER or ALTER USER for the clone: password, REQUIRE and WITH limits in one statement. */
export function accountStatement(
  facts: Facts,
  base: Account,
  baseRow: AccountRow,
  clone: Account,
  cloneRow: AccountRow | undefined,
  password: string,
): string {
  let identified = identifiedBy(facts.profile, facts.mode, password);
  if (!facts.profile.sendsNativeHash && PASSWORD_PLUGINS.has(baseRow.plugin) && baseRow.plugin !== cloneRow?.plugin) {
    identified = identified.replace(/^IDENTIFIED BY /, `IDENTIFIED WITH ${baseRow.plugin} BY `);
  }
  const require = `REQUIRE ${requireClause(baseRow, facts.mode)}`;
  const { maxQuestions, maxUpdates, maxConnections, maxUserConnections } = baseRow.limits;
  for (const value of [maxQuestions, maxUpdates, maxConnections, maxUserConnections]) {
    if (!/^\d+$/.test(value)) throw invalid(`Unexpected resource limit ${JSON.stringify(value)} on ${quoteAccount(base)}.`);
  }
  const limits =
    `WITH MAX_QUERIES_PER_HOUR ${maxQuestions} MAX_UPDATES_PER_HOUR ${maxUpdates} ` +
    `MAX_CONNECTIONS_PER_HOUR ${maxConnections} MAX_USER_CONNECTIONS ${maxUserConnections}`;
  return `${cloneRow === undefined ? 'CREATE' : 'ALTER'} USER ${quoteAccount(clone)} ${identified} ${require} ${limits}`;
}

/** mysql.user's ssl_* columns as a REQUIRE clause. */
export function requireClause(row: Pick<AccountRow, 'sslType' | 'sslCipher' | 'x509Issuer' | 'x509Subject'>, mode: LiteralMode): string {
  switch (row.sslType) {
    case '':
      return 'NONE';
    case 'ANY':
      return 'SSL';
    case 'X509':
      return 'X509';
    case 'SPECIFIED': {
      const parts = [
        ...(row.sslCipher ? [`CIPHER ${quoteLiteral(row.sslCipher, mode)}`] : []),
        ...(row.x509Issuer ? [`ISSUER ${quoteLiteral(row.x509Issuer, mode)}`] : []),
        ...(row.x509Subject ? [`SUBJECT ${quoteLiteral(row.x509Subject, mode)}`] : []),
      ];
      return parts.length > 0 ? parts.join(' AND ') : 'X509';
    }
    default:
      throw invalid(`Unknown ssl_type ${JSON.stringify(row.sslType)} in mysql.user.`);
  }
}

async function showGrants(session: Session, account: Account): Promise<string[]> {
  const rows = await session.rows(`SHOW GRANTS FOR ${quoteAccount(account)}`);
  return rows.map((row) => String(row[0] ?? ''));
}

/** MySQL 8: default roles are not in SHOW GRANTS; they live in mysql.default_roles. */
async function alignDefaultRoles(session: Session, mode: LiteralMode, base: Account, clone: Account): Promise<void> {
  const rows = await session.rows(
    `SELECT USER, DEFAULT_ROLE_USER, DEFAULT_ROLE_HOST FROM mysql.default_roles WHERE HOST = ${quoteLiteral(base.host, mode)} ` +
      `AND USER IN (${quoteLiteral(base.user, mode)}, ${quoteLiteral(clone.user, mode)})`,
  );
  const rolesOf = (user: string): string[] =>
    rows.filter((r) => String(r[0]) === user).map((r) => quoteAccount({ user: String(r[1]), host: String(r[2]) })).sort();
  const wanted = rolesOf(base.user);
  if (wanted.join(',') !== rolesOf(clone.user).join(',')) {
    await step(session, 'grant', `SET DEFAULT ROLE ${wanted.length > 0 ? wanted.join(', ') : 'NONE'} TO ${quoteAccount(clone)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Failures

type Step = 'create' | 'alter' | 'grant';

class StepFailure extends Error {
  constructor(
    readonly step: Step,
    override readonly cause: unknown,
    /** The statement, when it holds no password (grant statements). */
    readonly statement: string | undefined,
  ) {
    super(`alignAlternateUser step ${step} failed`);
  }

  /** A privilege failure becomes an EngineError naming what the admin lacks; anything else passes through. */
  explain(base: string, alternate: string): unknown {
    const error = this.cause;
    if (!isServerError(error) || ![1044, 1045, 1142, 1143, 1227, 1410].includes(error.errno)) return error;
    const what =
      this.step === 'grant'
        ? `copy a grant of "${base}" to "${alternate}" (${this.statement ?? ''}): it needs that privilege WITH GRANT OPTION (roles: WITH ADMIN OPTION)`
        : `${this.step === 'create' ? 'create' : 'alter'} the account of "${alternate}": it needs the CREATE USER privilege (GRANT CREATE USER ON *.* TO <admin>)`;
    return new EngineError('privilege', `alignAlternateUser: the admin may not ${what} (server: ${error.errno} ${error.sqlMessage ?? error.message}).`, {
      engine: ENGINE_NAME,
      cause: { sqlstate: error.sqlState ?? '', driverCode: error.code },
    });
  }
}

async function step(session: Session, name: Step, sql: string): Promise<void> {
  try {
    await session.run(sql);
  } catch (error) {
    throw new StepFailure(name, error, name === 'grant' ? sql : undefined);
  }
}

function invalid(message: string): EngineError {
  return new EngineError('invalid', `alignAlternateUser: ${message}`, { engine: ENGINE_NAME });
}
