// What the admin sees of a role before it changes it (UserFacts), and the marker that tells an
// alternate made by rotation for one secret from any other role of the same name.
//
// The marker is the role's comment (COMMENT ON ROLE, readable by everyone, settable only by a role
// with CREATEROLE / ADMIN OPTION on it), naming the base role and the secret's ARN. Together with
// membership in the base role (which only a role with power over the base can grant), it lets a
// rotation recognise its own alternate even when the secret holds no working credential of it, and
// tells two secrets that share a base user apart: each may only change an alternate marked for itself.

import type pg from 'pg';
import { askCaller } from '../errors';
import type { AdminActionOptions, UserFacts } from '../types';
import { quoteIdentifier, quoteLiteral } from './sql';

const MARKER_PREFIX = 'credential-rotation: alternate of';

/** The comment an alternate made for `owner` (a secret ARN) from `base` carries. */
export function alternateMarker(base: string, owner: string): string {
  return `${MARKER_PREFIX} ${JSON.stringify(base)} for ${owner}`;
}

export function commentOnRoleSql(role: string, comment: string): string {
  return `COMMENT ON ROLE ${quoteIdentifier(role)} IS ${quoteLiteral(comment)}`;
}

/**
 * One query: does `username` exist, is it the session's own login, does it hold an attribute or a
 * role membership that `reference` lacks, is it a member of `reference`, and its comment.
 * A missing reference role counts as holding nothing.
 */
const USER_FACTS_SQL = `
  WITH t AS (SELECT * FROM pg_catalog.pg_roles WHERE rolname = $1),
       r AS (SELECT * FROM pg_catalog.pg_roles WHERE rolname = $2)
  SELECT EXISTS (SELECT 1 FROM t) AS exists,
         $1 = session_user::text AS is_admin,
         EXISTS (SELECT 1 FROM t LEFT JOIN r ON true
                  WHERE (t.rolsuper AND NOT coalesce(r.rolsuper, false))
                     OR (t.rolcreaterole AND NOT coalesce(r.rolcreaterole, false))
                     OR (t.rolcreatedb AND NOT coalesce(r.rolcreatedb, false))
                     OR (t.rolreplication AND NOT coalesce(r.rolreplication, false))
                     OR (t.rolbypassrls AND NOT coalesce(r.rolbypassrls, false))) AS exceeds_attributes,
         EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN t ON m.member = t.oid
                  WHERE NOT EXISTS (SELECT 1 FROM r WHERE m.roleid = r.oid OR pg_catalog.pg_has_role(r.oid, m.roleid, 'MEMBER'))) AS exceeds_roles,
         EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN t ON m.member = t.oid JOIN r ON m.roleid = r.oid) AS member_of_reference,
         (SELECT pg_catalog.shobj_description(t.oid, 'pg_authid') FROM t) AS comment`;

/**
 * What the admin's session sees of `username`, measured against `reference` (see UserFacts).
 * `resetsAttributes`: the change sets the role's attributes itself (an alignment), so only role
 * memberships, which it does not revoke, can leave the role holding more than the reference.
 */
export async function readUserFacts(
  client: pg.Client,
  username: string,
  reference: string,
  owner: string | undefined,
  resetsAttributes = false,
): Promise<UserFacts> {
  const result = await client.query<{
    exists: boolean;
    is_admin: boolean;
    exceeds_attributes: boolean;
    exceeds_roles: boolean;
    member_of_reference: boolean;
    comment: string | null;
  }>(USER_FACTS_SQL, [username, reference]);
  const row = result.rows[0];
  const exists = row?.exists === true;
  const sameRole = username === reference;
  return {
    username,
    exists,
    isAdmin: row?.is_admin === true,
    exceedsReference: exists && !sameRole && ((!resetsAttributes && row?.exceeds_attributes === true) || row?.exceeds_roles === true),
    madeByRotation:
      exists && !sameRole && owner !== undefined && row?.member_of_reference === true && row.comment === alternateMarker(reference, owner),
  };
}

/** Reads the facts and lets the caller's authorize decide; without one, nothing to check. */
export async function authorizeChange(
  client: pg.Client,
  username: string,
  reference: string,
  options: AdminActionOptions,
  resetsAttributes = false,
): Promise<UserFacts | undefined> {
  if (!options.authorize) return undefined;
  const facts = await readUserFacts(client, username, reference, options.owner, resetsAttributes);
  await askCaller(options.authorize, facts);
  return facts;
}
