// Which server is on the other end, from `SELECT VERSION()`, and what that means for the
// statements the engine sends. AWS's template tests the first character of the version ("8"),
// which sends MySQL 9.x down the PASSWORD() branch that 8.0.11 removed; here every field is parsed.
//
// | VERSION() looks like                 | server                 | own password (single user)                                   | admin sets a password                     |
// |--------------------------------------|------------------------|--------------------------------------------------------------|-------------------------------------------|
// | 10.11.6-MariaDB, 11.4.2-MariaDB-log  | MariaDB 10.2+, 11.x    | SET PASSWORD = '<native hash>'                               | ALTER USER a IDENTIFIED BY PASSWORD '<h>' |
// | 5.7.44-log, 5.7.mysql_aurora.2.11.2  | MySQL 5.7.6+, Aurora 2 | ALTER USER USER() IDENTIFIED BY '<pw>'                       | ALTER USER a IDENTIFIED BY '<pw>'         |
// | 8.0.13+, 8.4.x, 9.x                  | MySQL 8.0.13+          | ... IDENTIFIED BY '<pw>' REPLACE '<current>'                 | ALTER USER a IDENTIFIED BY '<pw>'         |
// | 8.0.14+, 8.4.x, 9.x, 8.0.mysql_aurora.3.* | MySQL 8.0.14+, Aurora 3 | with { dualPassword: true }: ... REPLACE '<current>' RETAIN CURRENT PASSWORD, then DISCARD OLD PASSWORD after finishSecret (when the user holds APPLICATION_PASSWORD_ADMIN) | same |
//
// Older servers (MySQL before 5.7.6, MariaDB before 10.2) lack ALTER USER and are refused.

import { EngineError } from '../errors';
import { ENGINE_NAME } from './sql';

export type Flavor = 'mysql' | 'aurora-mysql' | 'mariadb';

export interface ServerVersion {
  flavor: Flavor;
  major: number;
  minor: number;
  patch: number;
  /** Aurora's own version (e.g. '3.05.2'); its MySQL patch level is not in VERSION(). */
  aurora?: string;
  /** VERSION() as the server said it. */
  text: string;
}

/** Aurora MySQL 3.01 is based on MySQL 8.0.23, Aurora 2.x on 5.7.12: the lowest patch level of each line. */
const AURORA_BASE_PATCH: Record<string, number> = { '2': 12, '3': 23 };

export function parseServerVersion(text: string): ServerVersion {
  const trimmed = text.trim();
  if (/mariadb/i.test(trimmed)) {
    // MariaDB 10.x sends '5.5.5-10.x.y-MariaDB' in the handshake (for old replication clients); VERSION() does not.
    const m = /^(?:5\.5\.5-)?(\d+)\.(\d+)\.(\d+)/.exec(trimmed);
    if (m) return { flavor: 'mariadb', major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text };
  } else {
    const aurora = /^(\d+)\.(\d+)\.mysql_aurora\.(\d+)\.(\d+)(?:\.(\d+))?/.exec(trimmed);
    if (aurora) {
      const line = aurora[3] ?? '';
      return {
        flavor: 'aurora-mysql',
        major: Number(aurora[1]),
        minor: Number(aurora[2]),
        patch: AURORA_BASE_PATCH[line] ?? 0,
        aurora: [aurora[3], aurora[4], aurora[5]].filter((part) => part !== undefined).join('.'),
        text,
      };
    }
    const m = /^(\d+)\.(\d+)\.(\d+)(?:[-+~_ .].*)?$/.exec(trimmed);
    if (m) return { flavor: 'mysql', major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text };
  }
  throw new EngineError(
    'unsupported',
    `Cannot tell which server this is from its version ${JSON.stringify(text.slice(0, 80))}: expected MySQL ` +
      '(e.g. 8.0.36), Aurora MySQL (8.0.mysql_aurora.3.05.2) or MariaDB (10.11.6-MariaDB).',
    { engine: ENGINE_NAME },
  );
}

/** a >= b, comparing major.minor.patch. */
export function atLeast(v: ServerVersion, major: number, minor: number, patch: number): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

/** What the engine may do on a server. */
export interface ServerProfile {
  version: ServerVersion;
  isMariaDb: boolean;
  /** Longest user name, in characters. */
  maxUserNameChars: number;
  /** MariaDB: passwords are sent as mysql_native_password hashes computed here; MySQL: as text (see index.ts). */
  sendsNativeHash: boolean;
  /** MySQL 8.0.13+: `REPLACE '<current>'` when a user changes its own password. */
  replaceCurrent: boolean;
  /** MySQL 8.0.14+ (and Aurora 3): dual passwords (RETAIN CURRENT PASSWORD / DISCARD OLD PASSWORD). */
  dualPassword: boolean;
  /** Roles: MySQL 8 roles are accounts (`r`@`%`) with default roles in mysql.default_roles; MariaDB roles are names. */
  roles: 'mysql' | 'mariadb' | 'none';
}

export function describeServer(v: ServerVersion): string {
  if (v.flavor === 'mariadb') return `MariaDB ${v.major}.${v.minor}.${v.patch}`;
  if (v.flavor === 'aurora-mysql') return `Aurora MySQL ${v.aurora ?? ''} (MySQL ${v.major}.${v.minor} compatible)`;
  return `MySQL ${v.major}.${v.minor}.${v.patch}`;
}

/** The profile of a supported server; EngineError('unsupported') for servers without ALTER USER. */
export function serverProfile(version: ServerVersion): ServerProfile {
  if (version.flavor === 'mariadb') {
    if (!atLeast(version, 10, 2, 0)) throw tooOld(version, 'MariaDB 10.2');
    return { version, isMariaDb: true, maxUserNameChars: 80, sendsNativeHash: true, replaceCurrent: false, dualPassword: false, roles: 'mariadb' };
  }
  if (!atLeast(version, 5, 7, 6)) throw tooOld(version, 'MySQL 5.7.6');
  return {
    version,
    isMariaDb: false,
    maxUserNameChars: 32,
    sendsNativeHash: false,
    replaceCurrent: atLeast(version, 8, 0, 13),
    dualPassword: atLeast(version, 8, 0, 14),
    roles: version.major >= 8 ? 'mysql' : 'none',
  };
}

function tooOld(version: ServerVersion, minimum: string): EngineError {
  return new EngineError(
    'unsupported',
    `The server is ${describeServer(version)}; this engine needs ${minimum} or later (ALTER USER). Upgrade the server.`,
    { engine: ENGINE_NAME },
  );
}
