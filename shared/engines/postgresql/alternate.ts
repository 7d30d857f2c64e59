// alignAlternateUser for PostgreSQL: the alternate user (`<base>_clone`) becomes a login that acts
// as the base role, which fixes the ownership problem of AWS's template (issues #56, #175: objects
// the clone created were owned by the clone and unusable by the base user).
//
// End state, reached in one transaction (role DDL is transactional in PostgreSQL) and the same
// however often it runs:
//   1. the alternate role exists: LOGIN, INHERIT, no SUPERUSER/CREATEDB/CREATEROLE/REPLICATION/
//      BYPASSRLS of its own, the base's CONNECTION LIMIT, and the new password, sent as a SCRAM
//      verifier (never the plaintext);
//   2. it is a member of the base role (GRANT "base" TO "alternate"; on PostgreSQL 16 explicitly
//      WITH INHERIT TRUE, SET TRUE);
//   3. its per-role settings mirror the base's (role-wide and per database), plus
//      `ALTER ROLE "alternate" SET role = 'base'` unless the base sets a role itself (then that is
//      mirrored). Its sessions therefore start as the base role: current_user is the base, whatever
//      they create is owned by the base, and they have exactly the base's privileges and
//      attributes (SET ROLE to a role brings its SUPERUSER/CREATEDB/CREATEROLE/BYPASSRLS along).
//      INHERIT is kept so that the login itself passes CONNECT grants made to the base.
// Not copied: VALID UNTIL (a password expiry: the base's, possibly past, would make the freshly
// rotated password born expired; the alternate keeps whatever it has, none when created);
// REPLICATION (checked on the login role by walsenders: rotate replication users single-user);
// grants made directly to the alternate are not revoked (its sessions do not use them unless they
// RESET ROLE). Objects an older clone created and still owns are left alone: move them with
// `REASSIGN OWNED BY "alternate" TO "base"` once, per database.
//
// Privileges the admin needs: CREATEROLE (to create/alter the alternate) and, on PostgreSQL 16+,
// ADMIN OPTION on the base role (to grant membership in it) and on the alternate (which a CREATEROLE
// admin gets automatically for roles it creates). Missing ones raise EngineError('privilege') that
// names the GRANT to run. Statements are only issued when something differs, so a run over an
// aligned pair needs nothing beyond the password change.

import type pg from 'pg';
import { EngineError } from '../errors';
import type { AdminActionOptions, Credential } from '../types';
import { isDatabaseError, serverMessage } from './connect';
import { alternateMarker, authorizeChange, commentOnRoleSql } from './guard';
import { scramSha256Verifier } from './scram';
import { ADMIN_OPTION_VERSION, requireScramSupport, serverFacts, type ServerFacts } from './server';
import {
  ENGINE_NAME,
  assertRoleName,
  desiredAlternateAttributes,
  parseSettingEntry,
  quoteIdentifier,
  resetRoleSettingsSql,
  roleOptionsSql,
  setRoleSettingSql,
  verifierLiteral,
  type RoleAttributes,
  type RoleSetting,
} from './sql';

/** SQLSTATEs of a concurrent run of the same alignment; the transaction is retried once. */
const RACE_SQLSTATES = new Set(['42710', '23505', '40001', '40P01']);

/** Checks the names, then returns the secrets (password, verifier) that messages must not show. */
export function prepareAlignment(
  admin: Credential,
  baseUsername: string,
  alternate: Credential,
): { verifier: string; secrets: string[] } {
  assertRoleName(baseUsername, 'base username');
  assertRoleName(alternate.username, 'alternate username');
  if (alternate.username === baseUsername) {
    throw invalid(`The alternate user must differ from the base user ("${baseUsername}").`);
  }
  if (alternate.username === admin.username) {
    throw invalid(
      `The alternate user "${alternate.username}" is the admin user itself: refusing to turn the admin into a copy of "${baseUsername}".`,
    );
  }
  const verifier = scramSha256Verifier(alternate.password);
  return { verifier, secrets: [alternate.password, verifier] };
}

/** Runs the alignment on an admin connection (see the file comment). */
export async function alignOnConnection(
  client: pg.Client,
  admin: Credential,
  baseUsername: string,
  alternateUsername: string,
  verifier: string,
  options: AdminActionOptions = {},
): Promise<void> {
  const facts = await serverFacts(client);
  requireScramSupport(facts);
  for (let attempt = 1; ; attempt += 1) {
    await client.query('BEGIN');
    try {
      await alignInTransaction(client, facts, baseUsername, alternateUsername, verifier, options);
      await client.query('COMMIT');
      return;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const cause = error instanceof StepFailure ? error.cause : error;
      if (attempt === 1 && isDatabaseError(cause) && RACE_SQLSTATES.has(cause.code ?? '')) continue;
      throw error instanceof StepFailure ? explainStepFailure(error, facts, admin.username, baseUsername, alternateUsername) : error;
    }
  }
}

async function alignInTransaction(
  client: pg.Client,
  facts: ServerFacts,
  base: string,
  alternate: string,
  verifier: string,
  options: AdminActionOptions,
): Promise<void> {
  const baseRole = await readRole(client, base);
  if (baseRole === undefined) {
    throw invalid(`The base role "${base}" does not exist on the server: check the username in the current secret.`);
  }
  // The caller decides, from what the admin sees of the alternate, whether it may be created or changed.
  const seen = await authorizeChange(client, alternate, base, options, true);
  const alternateRole = await readRole(client, alternate);
  if (alternateRole !== undefined && (await isMember(client, base, alternate))) {
    throw invalid(
      `The base role "${base}" is a member of "${alternate}", so "${alternate}" cannot become a member of "${base}" ` +
        `(membership loops are not allowed). Revoke it first: REVOKE ${quoteIdentifier(alternate)} FROM ${quoteIdentifier(base)};`,
    );
  }

  // 1. The login role, with its new password.
  const desired = desiredAlternateAttributes(baseRole);
  const roleOptions = [...roleOptionsSql(desired, alternateRole), `PASSWORD ${verifierLiteral(verifier)}`].join(' ');
  if (alternateRole === undefined) {
    await step(client, 'create', `CREATE ROLE ${quoteIdentifier(alternate)} WITH ${roleOptions}`);
  } else {
    await step(client, 'alter', `ALTER ROLE ${quoteIdentifier(alternate)} WITH ${roleOptions}`);
  }

  // 2. Membership in the base role, with the right to SET ROLE to it and to inherit from it.
  if (!(await hasUsableMembership(client, facts, base, alternate))) {
    const grant = `GRANT ${quoteIdentifier(base)} TO ${quoteIdentifier(alternate)}`;
    await step(client, 'grant', facts.version >= ADMIN_OPTION_VERSION ? `${grant} WITH INHERIT TRUE, SET TRUE` : grant);
  }

  // 2b. The marker that lets the next rotation of this secret recognise its alternate.
  if (options.owner !== undefined && seen?.madeByRotation !== true) {
    await step(client, 'alter', commentOnRoleSql(alternate, alternateMarker(base, options.owner)));
  }

  // 3. Settings: the base's, plus `role = base` so that sessions act as the base role.
  const baseSettings = await readSettings(client, base);
  const wanted = baseSettings.some((s) => s.database === null && s.name.toLowerCase() === 'role')
    ? baseSettings
    : [...baseSettings, { database: null, name: 'role', value: base }];
  const current = alternateRole === undefined ? [] : await readSettings(client, alternate);
  for (const database of scopesThatDiffer(wanted, current)) {
    if (current.some((s) => s.database === database)) {
      await step(client, 'settings', resetRoleSettingsSql(alternate, database));
    }
    for (const setting of wanted.filter((s) => s.database === database)) {
      await step(client, 'settings', setRoleSettingSql(alternate, setting), setting);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Catalog reads

async function readRole(client: pg.Client, name: string): Promise<RoleAttributes | undefined> {
  const result = await client.query<RoleAttributes>(
    `SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit
       FROM pg_catalog.pg_roles WHERE rolname = $1`,
    [name],
  );
  return result.rows[0];
}

/** Whether `member` is a member of `role`, directly or not. */
async function isMember(client: pg.Client, member: string, role: string): Promise<boolean> {
  const result = await client.query<{ member: boolean }>(
    `SELECT pg_catalog.pg_has_role(m.oid, r.oid, 'MEMBER') AS member
       FROM pg_catalog.pg_roles m, pg_catalog.pg_roles r WHERE m.rolname = $1 AND r.rolname = $2`,
    [member, role],
  );
  return result.rows[0]?.member === true;
}

/** A direct membership of `alternate` in `base` that inherits and (PostgreSQL 16+) allows SET ROLE. */
async function hasUsableMembership(client: pg.Client, facts: ServerFacts, base: string, alternate: string): Promise<boolean> {
  const options = facts.version >= ADMIN_OPTION_VERSION ? 'AND m.inherit_option AND m.set_option' : '';
  const result = await client.query(
    `SELECT 1 FROM pg_catalog.pg_auth_members m
       JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
       JOIN pg_catalog.pg_roles u ON u.oid = m.member
      WHERE r.rolname = $1 AND u.rolname = $2 ${options}`,
    [base, alternate],
  );
  return (result.rowCount ?? 0) > 0;
}

/** The role's settings, role-wide (database null) and per database; orphans of dropped databases skipped. */
async function readSettings(client: pg.Client, role: string): Promise<RoleSetting[]> {
  const result = await client.query<{ database: string | null; setconfig: string[] | null }>(
    `SELECT CASE WHEN s.setdatabase = 0 THEN NULL ELSE d.datname::text END AS database, s.setconfig
       FROM pg_catalog.pg_db_role_setting s
       JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
       LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
      WHERE r.rolname = $1 AND (s.setdatabase = 0 OR d.oid IS NOT NULL)`,
    [role],
  );
  return result.rows.flatMap((row) =>
    (row.setconfig ?? []).map((entry) => ({ database: row.database, ...parseSettingEntry(entry) })),
  );
}

/** The scopes (null = role-wide, else a database) whose settings differ between the two lists. */
function scopesThatDiffer(wanted: RoleSetting[], current: RoleSetting[]): Array<string | null> {
  const scopes = new Set([...wanted, ...current].map((s) => s.database));
  const key = (s: RoleSetting): string => `${s.name.toLowerCase()}=${s.value}`;
  const inScope = (list: RoleSetting[], scope: string | null): string => list.filter((s) => s.database === scope).map(key).sort().join('\n');
  return [...scopes].filter((scope) => inScope(wanted, scope) !== inScope(current, scope));
}

// ---------------------------------------------------------------------------------------------
// Failures

export type Step = 'create' | 'alter' | 'grant' | 'settings';

class StepFailure extends Error {
  constructor(
    readonly step: Step,
    override readonly cause: unknown,
    readonly setting?: RoleSetting,
  ) {
    super(`alignAlternateUser step ${step} failed`);
  }
}

async function step(client: pg.Client, name: Step, sql: string, setting?: RoleSetting): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    throw new StepFailure(name, error, setting);
  }
}

/** A privilege failure becomes an EngineError naming the grant to run; anything else passes through. */
function explainStepFailure(failure: StepFailure, facts: ServerFacts, admin: string, base: string, alternate: string): unknown {
  const error = failure.cause;
  if (!isDatabaseError(error) || error.code !== '42501') return error;
  const advice = privilegeAdvice(failure.step, facts.version, { admin, base, alternate }, failure.setting?.name);
  return new EngineError('privilege', `alignAlternateUser: ${advice} (server: ${serverMessage(error)})`, {
    engine: ENGINE_NAME,
    cause: { sqlstate: '42501' },
  });
}

/** What the admin lacks for a step that failed with 42501, and the statement that fixes it. */
export function privilegeAdvice(
  step: Step,
  version: number,
  names: { admin: string; base: string; alternate: string },
  settingName?: string,
): string {
  const q = quoteIdentifier;
  const { admin, base, alternate } = names;
  const pg16 = version >= ADMIN_OPTION_VERSION;
  switch (step) {
    case 'create':
      return (
        `The admin "${admin}" may not create the alternate role "${alternate}". ` +
        `Give it CREATEROLE (as a superuser): ALTER ROLE ${q(admin)} CREATEROLE;`
      );
    case 'alter':
      return pg16
        ? `The admin "${admin}" may not alter the existing role "${alternate}". On PostgreSQL 16 and later a ` +
            'CREATEROLE admin needs ADMIN OPTION on it (it has that only for roles it created itself). ' +
            `Run as a superuser: GRANT ${q(alternate)} TO ${q(admin)} WITH ADMIN OPTION;`
        : `The admin "${admin}" may not alter the existing role "${alternate}". It needs CREATEROLE ` +
            `(ALTER ROLE ${q(admin)} CREATEROLE;), and only a superuser may alter a superuser role.`;
    case 'grant':
      return pg16
        ? `The admin "${admin}" may not grant membership in "${base}". On PostgreSQL 16 and later a CREATEROLE ` +
            'admin needs ADMIN OPTION on the base role. Run as a superuser (or a role holding ADMIN OPTION on it): ' +
            `GRANT ${q(base)} TO ${q(admin)} WITH ADMIN OPTION;`
        : `The admin "${admin}" may not grant membership in "${base}". It needs CREATEROLE (and only a superuser ` +
            `may grant a superuser role) or ADMIN OPTION on it: GRANT ${q(base)} TO ${q(admin)} WITH ADMIN OPTION;`;
    case 'settings': {
      const name = settingName ?? 'a setting';
      const allow =
        version >= 150_000
          ? `Allow it (as a superuser): GRANT SET ON PARAMETER ${name} TO ${q(admin)};` +
            (pg16 ? ` and make sure it holds ADMIN OPTION on ${q(alternate)};` : '')
          : 'Only a superuser may set it.';
      return (
        `The admin "${admin}" may not copy the base role's setting "${name}" to "${alternate}". ${allow} ` +
        `Or remove the setting from "${base}".`
      );
    }
  }
}

function invalid(message: string): EngineError {
  return new EngineError('invalid', `alignAlternateUser: ${message}`, { engine: ENGINE_NAME });
}
