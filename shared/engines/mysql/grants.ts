// Copying what a user holds to another user, from SHOW GRANTS.
//
// Each row of SHOW GRANTS FOR base is parsed into (privileges on an object | roles | default role),
// the grantee being found at the END of the row: the server quotes the account it was asked
// about in a known way (`user`@`host` on MySQL 8 and MariaDB; 'user'@'host' on MySQL 5.7, which
// does not escape quotes in it), and only a small grammar can follow it (IDENTIFIED ..., REQUIRE
// ..., WITH GRANT OPTION / ADMIN OPTION / resource limits). So database, table, column and role
// names that contain `%`, quotes, backquotes or " TO " are never split apart (AWS's template
// splits on ' TO ', which breaks them and drops WITH GRANT OPTION). The object and privilege text
// is the server's own, properly quoted; it is kept verbatim.
//
// planGrantSync compares that model with the clone's and returns the statements that make the
// clone hold exactly the same, in an order that never takes away something the clone keeps:
//   1. GRANT what is missing (privileges, GRANT OPTION, roles, ADMIN OPTION);
//   2. MySQL 8 partial revokes (REVOKE ... ON db.*), and lifting the clone's extra ones;
//   3. the default role (MariaDB; MySQL 8 default roles are read from mysql.default_roles by the caller);
//   4. REVOKE what the base no longer has (privileges, GRANT OPTION, roles).
// Two cases cannot avoid a short gap and are re-granted at once: the clone holds ALL PRIVILEGES
// on an object where the base holds only some (REVOKE ALL, then GRANT the base's), and on MySQL
// a role the clone holds WITH ADMIN OPTION that the base holds without it (MySQL has no
// REVOKE ADMIN OPTION FOR; MariaDB has).

import { EngineError } from '../errors';
import { ENGINE_NAME, quoteAccount, type Account } from './sql';

export type GrantRow =
  | { kind: 'privileges'; verb: 'GRANT' | 'REVOKE'; on: string; items: string[]; grantOption: boolean }
  | { kind: 'roles'; roles: string[]; adminOption: boolean }
  | { kind: 'default-role'; role: string };

const LITERAL = String.raw`'(?:[^'\\]|\\[\s\S]|'')*'`;
const REQUIRE_ITEM = String.raw`(?:SUBJECT|ISSUER|CIPHER) ${LITERAL}`;
/** What may follow the grantee in a SHOW GRANTS row (MySQL 5.7-9.x, MariaDB 10.x-11.x). */
const TAIL = new RegExp(
  '^' +
    String.raw`(?: IDENTIFIED (?:BY PASSWORD ${LITERAL}|VIA [\s\S]*?|WITH [\s\S]*?))?` +
    String.raw`(?: REQUIRE (?:NONE|SSL|X509|${REQUIRE_ITEM}(?:(?: AND)? ${REQUIRE_ITEM})*))?` +
    String.raw`( WITH(?: GRANT OPTION| ADMIN OPTION| MAX_[A-Z_]+ [0-9.]+)+)?` +
    '$',
);

/** The ways a server may print `account` in SHOW GRANTS. */
function granteeForms(account: Account): string[] {
  const single = (escape: (s: string) => string): string => `'${escape(account.user)}'@'${escape(account.host)}'`;
  const forms = [
    quoteAccount(account),
    single((s) => s),
    single((s) => s.replace(/'/g, "''")),
    single((s) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")),
  ];
  return [...new Set(forms)];
}

const CONNECTOR: ReadonlyArray<[prefix: string, connector: string]> = [
  ['GRANT ', ' TO '],
  ['REVOKE ', ' FROM '],
  ['SET DEFAULT ROLE ', ' FOR '],
];

/** Splits a row into the part before the grantee and the WITH clause after it. */
function splitAtGrantee(row: string, account: Account): { prefix: string; head: string; withClause: string } {
  const entry = CONNECTOR.find(([prefix]) => row.startsWith(prefix));
  if (entry !== undefined) {
    const [prefix, connector] = entry;
    let best: { at: number; withClause: string } | undefined;
    for (const form of granteeForms(account)) {
      const needle = `${connector}${form}`;
      for (let at = row.lastIndexOf(needle); at >= prefix.length; at = row.lastIndexOf(needle, at - 1)) {
        const match = TAIL.exec(row.slice(at + needle.length));
        if (match) {
          if (best === undefined || at > best.at) best = { at, withClause: match[1] ?? '' };
          break;
        }
      }
    }
    if (best !== undefined) return { prefix, head: row.slice(prefix.length, best.at), withClause: best.withClause };
  }
  throw new EngineError(
    'unsupported',
    `Cannot copy this SHOW GRANTS row of ${quoteAccount(account)}: ${JSON.stringify(row.slice(0, 300))}. ` +
      'Copy it to the alternate user by hand, or report the server version and the row.',
    { engine: ENGINE_NAME },
  );
}

/**
 * Splits `text` at top-level occurrences of `separator` (outside backquotes, quotes and
 * parentheses). Returns the pieces, untrimmed.
 */
export function splitTopLevel(text: string, separator: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let quote: '`' | "'" | '"' | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\' && quote !== '`') i += 1;
      else if (c === quote) {
        if (text[i + 1] === quote) i += 1;
        else quote = undefined;
      }
      continue;
    }
    if (c === '`' || c === "'" || c === '"') quote = c;
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (depth === 0 && text.startsWith(separator, i)) {
      pieces.push(text.slice(start, i));
      start = i + separator.length;
      i = start - 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces;
}

/** `SELECT, UPDATE (`a`, `b`)` → ['SELECT', 'UPDATE (`a`)', 'UPDATE (`b`)'], without USAGE. */
export function splitPrivileges(list: string): string[] {
  const items: string[] = [];
  for (const raw of splitTopLevel(list, ',')) {
    const item = raw.trim().replace(/\s+/g, ' ');
    const columns = /^([A-Z_ ]+?) ?\((.*)\)$/s.exec(item);
    if (columns) {
      for (const column of splitTopLevel(columns[2] ?? '', ',')) items.push(`${columns[1]} (${column.trim()})`);
    } else if (item !== '' && item !== 'USAGE') {
      items.push(item);
    }
  }
  return items;
}

/** One SHOW GRANTS row of `account`, as data. Throws EngineError('unsupported') for a row it cannot read. */
export function parseGrantRow(row: string, account: Account): GrantRow {
  const { prefix, head, withClause } = splitAtGrantee(row.trim(), account);
  if (prefix === 'SET DEFAULT ROLE ') return { kind: 'default-role', role: head.trim() };
  const parts = splitTopLevel(head, ' ON ');
  if (parts.length === 1) {
    if (prefix === 'REVOKE ') throw new EngineError('unsupported', `Cannot read the revoke row ${JSON.stringify(row.slice(0, 300))}.`, { engine: ENGINE_NAME });
    const roles = splitTopLevel(head, ',').map((r) => r.trim()).filter((r) => r !== '');
    return { kind: 'roles', roles, adminOption: withClause.includes('ADMIN OPTION') };
  }
  const [privileges = '', ...rest] = parts;
  return {
    kind: 'privileges',
    verb: prefix === 'REVOKE ' ? 'REVOKE' : 'GRANT',
    on: rest.join(' ON ').trim(),
    items: splitPrivileges(privileges),
    grantOption: withClause.includes('GRANT OPTION'),
  };
}

/** What an account holds, merged by object. */
export interface GrantModel {
  /** GRANT rows by object ('*.*', '`db`.*', 'FUNCTION `db`.`f`', ...). */
  privileges: Map<string, { items: Set<string>; grantOption: boolean }>;
  /** MySQL 8 partial revokes by object. */
  partialRevokes: Map<string, Set<string>>;
  /** Role (as the server prints it) → WITH ADMIN OPTION. */
  roles: Map<string, boolean>;
  /** MariaDB's default role (SET DEFAULT ROLE row), if any. */
  defaultRole: string | undefined;
}

export function grantModel(rows: readonly string[], account: Account): GrantModel {
  const model: GrantModel = { privileges: new Map(), partialRevokes: new Map(), roles: new Map(), defaultRole: undefined };
  for (const row of rows) {
    const grant = parseGrantRow(row, account);
    if (grant.kind === 'default-role') model.defaultRole = grant.role;
    else if (grant.kind === 'roles') {
      for (const role of grant.roles) model.roles.set(role, (model.roles.get(role) ?? false) || grant.adminOption);
    } else if (grant.verb === 'REVOKE') {
      const set = model.partialRevokes.get(grant.on) ?? new Set<string>();
      grant.items.forEach((item) => set.add(item));
      model.partialRevokes.set(grant.on, set);
    } else {
      const entry = model.privileges.get(grant.on) ?? { items: new Set<string>(), grantOption: false };
      grant.items.forEach((item) => entry.items.add(item));
      entry.grantOption ||= grant.grantOption;
      model.privileges.set(grant.on, entry);
    }
  }
  return model;
}

const ALL = 'ALL PRIVILEGES';
const isColumnItem = (item: string): boolean => item.endsWith(')');

/** Items of `held` that `wanted` does not cover (ALL PRIVILEGES covers every non-column privilege). */
function extraItems(held: Set<string>, wanted: Set<string> | undefined): string[] {
  return [...held].filter((item) => !(wanted?.has(item) ?? false) && !(wanted?.has(ALL) === true && item !== ALL && !isColumnItem(item)));
}

export interface SyncOptions {
  /** MariaDB can revoke only the ADMIN OPTION of a role; MySQL cannot. */
  mariaDb: boolean;
}

/**
 * The statements that make `clone` hold exactly what `base` holds (see the file comment for the
 * order). Both models come from SHOW GRANTS; an empty list means they already agree.
 */
export function planGrantSync(base: GrantModel, clone: GrantModel, cloneAccount: Account, options: SyncOptions): string[] {
  const to = quoteAccount(cloneAccount);
  const grants: string[] = [];
  const revokes: string[] = [];
  const grantOn = (on: string, items: Iterable<string>, grantOption: boolean): string => {
    const list = [...items];
    return `GRANT ${list.length > 0 ? list.join(', ') : 'USAGE'} ON ${on} TO ${to}${grantOption ? ' WITH GRANT OPTION' : ''}`;
  };

  // 1. Privileges and GRANT OPTION the clone lacks.
  for (const [on, wanted] of base.privileges) {
    const held = clone.privileges.get(on);
    const missing = [...wanted.items].filter((item) => !(held?.items.has(item) ?? false));
    const optionMissing = wanted.grantOption && !(held?.grantOption ?? false);
    if (missing.length > 0 || optionMissing) grants.push(grantOn(on, missing, wanted.grantOption));
  }
  // 2. Partial revokes (MySQL 8 with partial_revokes): the base's, and lifting the clone's extra ones.
  for (const [on, items] of base.partialRevokes) {
    const missing = [...items].filter((item) => !(clone.partialRevokes.get(on)?.has(item) ?? false));
    if (missing.length > 0) grants.push(`REVOKE ${missing.join(', ')} ON ${on} FROM ${to}`);
  }
  for (const [on, items] of clone.partialRevokes) {
    const extra = [...items].filter((item) => !(base.partialRevokes.get(on)?.has(item) ?? false));
    if (extra.length > 0) grants.push(grantOn(on, extra, false));
  }
  // Roles the clone lacks (or lacks ADMIN OPTION on).
  for (const [role, admin] of base.roles) {
    const held = clone.roles.get(role);
    if (held === undefined || (admin && !held)) grants.push(`GRANT ${role} TO ${to}${admin ? ' WITH ADMIN OPTION' : ''}`);
  }
  // 3. MariaDB's default role.
  if (base.defaultRole !== clone.defaultRole) grants.push(`SET DEFAULT ROLE ${base.defaultRole ?? 'NONE'} FOR ${to}`);

  // 4. What the base does not hold (any more).
  for (const [role, admin] of clone.roles) {
    const wanted = base.roles.get(role);
    if (wanted === undefined) revokes.push(`REVOKE ${role} FROM ${to}`);
    else if (admin && !wanted) {
      if (options.mariaDb) revokes.push(`REVOKE ADMIN OPTION FOR ${role} FROM ${to}`);
      else revokes.push(`REVOKE ${role} FROM ${to}`, `GRANT ${role} TO ${to}`);
    }
  }
  for (const [on, held] of clone.privileges) {
    const wanted = base.privileges.get(on);
    const extra = extraItems(held.items, wanted?.items);
    if (extra.length > 0) {
      revokes.push(`REVOKE ${extra.join(', ')} ON ${on} FROM ${to}`);
      // REVOKE ALL PRIVILEGES took the base's privileges on this object too: give them back at once.
      if (extra.includes(ALL) && wanted !== undefined && wanted.items.size > 0) revokes.push(grantOn(on, wanted.items, false));
    }
    if (held.grantOption && !(wanted?.grantOption ?? false)) revokes.push(`REVOKE GRANT OPTION ON ${on} FROM ${to}`);
  }
  return [...grants, ...revokes];
}

/**
 * Whether `held` (one account's grants) holds anything `bound` does not: a privilege (ALL covers
 * the rest), GRANT OPTION, a role or its ADMIN OPTION, or the lack of one of `bound`'s partial
 * revokes. USAGE is no privilege. The guard that keeps the admin from changing a user more
 * privileged than the one a secret rotates.
 */
export function grantsExceed(held: GrantModel, bound: GrantModel): boolean {
  for (const [on, entry] of held.privileges) {
    const wanted = bound.privileges.get(on);
    if (extraItems(entry.items, wanted?.items).some((item) => item !== 'USAGE')) return true;
    if (entry.grantOption && !(wanted?.grantOption ?? false)) return true;
  }
  for (const [role, admin] of held.roles) {
    const wanted = bound.roles.get(role);
    if (wanted === undefined || (admin && !wanted)) return true;
  }
  for (const [on, items] of bound.partialRevokes) {
    if ([...items].some((item) => !(held.partialRevokes.get(on)?.has(item) ?? false))) return true;
  }
  return false;
}
