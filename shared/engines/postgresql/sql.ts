// SQL text for the PostgreSQL engine. Values always travel as bind parameters, except where
// PostgreSQL takes none: utility statements (ALTER ROLE, CREATE ROLE, GRANT) cannot have
// parameters, so the few values they carry are built here as literals:
//   - role and other identifiers: always double-quoted, `"` doubled (quoteIdentifier);
//   - the password verifier: checked to be a SCRAM verifier (base64, digits, '$', ':' only) first;
//   - role-setting values copied from the catalog: escaped with pg's escapeLiteral (E'' when needed;
//     from pg/lib/utils, which is pg.escapeLiteral without loading the whole driver).
// Names are validated before they are quoted: non-empty, no NUL, at most 63 UTF-8 bytes (longer
// names would be silently truncated by the server, naming a different role).

import { escapeLiteral } from 'pg/lib/utils';
import { EngineError } from '../errors';
import { isScramVerifier } from './scram';

export const ENGINE_NAME = 'postgresql';
/** NAMEDATALEN - 1. */
export const MAX_IDENTIFIER_BYTES = 63;

/** Throws EngineError('invalid') unless `name` can be a role name without truncation or surprises. */
export function assertRoleName(name: string, what: string): void {
  const problem =
    name.length === 0
      ? 'is empty'
      : name.includes('\0')
        ? 'contains a NUL character'
        : Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES
          ? `is ${Buffer.byteLength(name, 'utf8')} bytes long; PostgreSQL role names have at most ${MAX_IDENTIFIER_BYTES} (UTF-8 bytes)`
          : undefined;
  if (problem !== undefined) {
    throw new EngineError('invalid', `The ${what} ${JSON.stringify(name)} ${problem}: fix the username.`, {
      engine: ENGINE_NAME,
    });
  }
}

/** A double-quoted identifier (exact case, any characters). */
export function quoteIdentifier(name: string): string {
  if (name.includes('\0')) {
    throw new EngineError('invalid', 'An identifier contains a NUL character.', { engine: ENGINE_NAME });
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal (pg's escapeLiteral: quotes doubled, E'' with doubled backslashes when needed). */
export function quoteLiteral(text: string): string {
  if (text.includes('\0')) {
    throw new EngineError('invalid', 'A string value contains a NUL character.', { engine: ENGINE_NAME });
  }
  return escapeLiteral(text);
}

/** The verifier as a literal, after checking it is nothing but a SCRAM-SHA-256 verifier. */
export function verifierLiteral(verifier: string): string {
  if (!isScramVerifier(verifier)) {
    // Never echo the value: it is (or was meant to be) a password verifier.
    throw new EngineError('invalid', 'Refusing to put a value that is not a SCRAM-SHA-256 verifier into SQL.', {
      engine: ENGINE_NAME,
    });
  }
  return `'${verifier}'`;
}

export function alterRolePasswordSql(role: string, verifier: string): string {
  return `ALTER ROLE ${quoteIdentifier(role)} PASSWORD ${verifierLiteral(verifier)}`;
}

// ---------------------------------------------------------------------------------------------
// Role attributes of the alternate user

/** The attributes alignAlternateUser reads from pg_roles for the base and the alternate user. */
export interface RoleAttributes {
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolconnlimit: number;
}

/**
 * What the alternate user must look like: a plain login role that inherits (so it passes the base's
 * CONNECT grants at login) with the base's connection limit. Everything else the base is allowed
 * (SUPERUSER, CREATEDB, CREATEROLE, BYPASSRLS) reaches the alternate's sessions through
 * `SET role = base`, so the alternate itself holds none of it.
 */
export function desiredAlternateAttributes(base: RoleAttributes): RoleAttributes {
  return {
    rolsuper: false,
    rolinherit: true,
    rolcreaterole: false,
    rolcreatedb: false,
    rolcanlogin: true,
    rolreplication: false,
    rolbypassrls: false,
    rolconnlimit: base.rolconnlimit,
  };
}

const ATTRIBUTE_KEYWORDS: ReadonlyArray<[keyof Omit<RoleAttributes, 'rolconnlimit'>, string, string]> = [
  ['rolsuper', 'SUPERUSER', 'NOSUPERUSER'],
  ['rolinherit', 'INHERIT', 'NOINHERIT'],
  ['rolcreaterole', 'CREATEROLE', 'NOCREATEROLE'],
  ['rolcreatedb', 'CREATEDB', 'NOCREATEDB'],
  ['rolcanlogin', 'LOGIN', 'NOLOGIN'],
  ['rolreplication', 'REPLICATION', 'NOREPLICATION'],
  ['rolbypassrls', 'BYPASSRLS', 'NOBYPASSRLS'],
];

/**
 * Role options that turn `current` into `desired`: only the ones that differ, because a
 * non-superuser may not even mention SUPERUSER, REPLICATION or BYPASSRLS, and a CREATEROLE admin
 * on PostgreSQL 16 may only change what it holds itself. Without `current` (a new role): every
 * option that differs from CREATE ROLE's defaults.
 */
export function roleOptionsSql(desired: RoleAttributes, current: RoleAttributes | undefined): string[] {
  const defaults: RoleAttributes = current ?? {
    rolsuper: false,
    rolinherit: true,
    rolcreaterole: false,
    rolcreatedb: false,
    rolcanlogin: false,
    rolreplication: false,
    rolbypassrls: false,
    rolconnlimit: -1,
  };
  const options: string[] = [];
  for (const [key, yes, no] of ATTRIBUTE_KEYWORDS) {
    if (desired[key] !== defaults[key]) options.push(desired[key] ? yes : no);
  }
  if (desired.rolconnlimit !== defaults.rolconnlimit) {
    if (!Number.isInteger(desired.rolconnlimit)) {
      throw new EngineError('query', 'pg_roles.rolconnlimit is not an integer.', { engine: ENGINE_NAME });
    }
    options.push(`CONNECTION LIMIT ${desired.rolconnlimit}`);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Per-role settings (ALTER ROLE ... SET), copied from the base user to the alternate user

/** One `name=value` entry of pg_db_role_setting.setconfig, with the database it applies in (null: all). */
export interface RoleSetting {
  database: string | null;
  name: string;
  value: string;
}

/** Splits a setconfig entry `name=value` (the value may contain '='). */
export function parseSettingEntry(entry: string): { name: string; value: string } {
  const at = entry.indexOf('=');
  if (at <= 0) {
    throw new EngineError('query', `Unexpected role setting entry in pg_db_role_setting: ${JSON.stringify(entry)}.`, {
      engine: ENGINE_NAME,
    });
  }
  return { name: entry.slice(0, at), value: entry.slice(at + 1) };
}

/**
 * Settings whose stored value is a list of identifiers, each double-quoted by the server when
 * needed ("GUC_LIST_QUOTE"). They must be set back element by element. The same list pg_dump
 * uses (variable_is_guc_list_quote): the server does not expose this flag.
 */
const LIST_QUOTE_SETTINGS = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

/**
 * Splits a stored GUC list (`a, "b c", "$user"`) into its elements, undoing the server's
 * identifier quoting (like pg_dump's SplitGUCList). Throws on a malformed list.
 */
export function splitSettingList(value: string): string[] {
  const elements: string[] = [];
  let i = 0;
  const skipSpaces = (): void => {
    while (i < value.length && /\s/.test(value[i] ?? '')) i += 1;
  };
  skipSpaces();
  if (i === value.length) return elements;
  for (;;) {
    let element = '';
    if (value[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= value.length) throw malformedList(value);
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            element += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        element += value[i];
        i += 1;
      }
    } else {
      const start = i;
      while (i < value.length && value[i] !== ',' && !/\s/.test(value[i] ?? '')) i += 1;
      element = value.slice(start, i);
      if (element === '') throw malformedList(value);
    }
    elements.push(element);
    skipSpaces();
    if (i === value.length) return elements;
    if (value[i] !== ',') throw malformedList(value);
    i += 1;
    skipSpaces();
  }
}

function malformedList(value: string): EngineError {
  return new EngineError('query', `Cannot parse the stored setting list ${JSON.stringify(value)}.`, {
    engine: ENGINE_NAME,
  });
}

/** A setting name as SQL: each dotted part quoted (custom settings look like `ext.name`). */
export function settingNameSql(name: string): string {
  const parts = name.split('.');
  if (parts.some((part) => part.length === 0)) {
    throw new EngineError('query', `Unexpected setting name ${JSON.stringify(name)}.`, { engine: ENGINE_NAME });
  }
  return parts.map(quoteIdentifier).join('.');
}

function inDatabaseSql(database: string | null): string {
  return database === null ? '' : ` IN DATABASE ${quoteIdentifier(database)}`;
}

/** `ALTER ROLE role [IN DATABASE db] SET name TO value`, value(s) as literals (pg_dump's way). */
export function setRoleSettingSql(role: string, setting: RoleSetting): string {
  const name = setting.name.toLowerCase();
  const values = LIST_QUOTE_SETTINGS.has(name) ? splitSettingList(setting.value) : [setting.value];
  // An empty list (search_path = '') is stored as "" and comes back as one empty element.
  const valueSql = values.length === 0 ? "''" : values.map(quoteLiteral).join(', ');
  return `ALTER ROLE ${quoteIdentifier(role)}${inDatabaseSql(setting.database)} SET ${settingNameSql(setting.name)} TO ${valueSql}`;
}

/** `ALTER ROLE role [IN DATABASE db] RESET ALL`. */
export function resetRoleSettingsSql(role: string, database: string | null): string {
  return `ALTER ROLE ${quoteIdentifier(role)}${inDatabaseSql(database)} RESET ALL`;
}
