// The MySQL/MariaDB engine without a server: version detection with real VERSION() strings,
// password hashes and statements, quoting, and the MySQL 8 dual-password path, against a
// simulated MySQL 8.0 account that answers as the server does (error numbers and messages as
// recorded in MySQL 8.0's error reference: MySQL 8 is not installable here).

import { beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/engines/errors';
import { finishOwnPasswordOn, mysqlEngine, setOwnPasswordOn } from '../../../shared/engines/mysql';
import { accountStatement, requireClause } from '../../../shared/engines/mysql/alternate';
import { connectionOptions, toEngineError, type Session } from '../../../shared/engines/mysql/connect';
import { FACTS_SQL, chooseHost, forgetAccounts, rememberAccount, type Facts } from '../../../shared/engines/mysql/facts';
import { DISCARD_OLD_PASSWORD_SQL, identifiedBy, nativePasswordHash, ownPasswordSql } from '../../../shared/engines/mysql/passwords';
import { describeServer, parseServerVersion, serverProfile } from '../../../shared/engines/mysql/server';
import { assertUserName, literalModeOf, parseAccountText, quoteAccount, quoteIdentifier, quoteLiteral } from '../../../shared/engines/mysql/sql';
import type { ConnectionTarget } from '../../../shared/engines/types';
import { thrown } from '../../support/thrown';

const target: ConnectionTarget = { host: 'db.example.com', port: 3306, tls: { kind: 'verify' }, connectTimeoutMs: 5000 };
const profileOf = (version: string) => serverProfile(parseServerVersion(version));
const DEFAULT_MODE = literalModeOf('STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION');
const NO_BACKSLASH = literalModeOf('ANSI_QUOTES,NO_BACKSLASH_ESCAPES');

describe('engine description', () => {
  it('describes MySQL: port 3306, no default database, AWS-compatible excluded characters, 80-byte names', () => {
    expect(mysqlEngine.name).toBe('mysql');
    expect(mysqlEngine.defaultPort).toBe(3306);
    expect(mysqlEngine.defaultDbName).toBeUndefined();
    expect(mysqlEngine.maxUsernameLength).toBe(80);
    expect(mysqlEngine.defaultExcludeCharacters).toBe('/@"\'\\');
  });
});

describe('parseServerVersion', () => {
  it.each([
    ['5.7.44-log', 'mysql', [5, 7, 44]],
    ['5.7.44', 'mysql', [5, 7, 44]],
    ['8.0.36', 'mysql', [8, 0, 36]],
    ['8.0.36-0ubuntu0.22.04.1', 'mysql', [8, 0, 36]],
    ['8.0.35-google', 'mysql', [8, 0, 35]],
    ['8.4.3', 'mysql', [8, 4, 3]],
    ['9.1.0', 'mysql', [9, 1, 0]],
    ['9.0.1-commercial', 'mysql', [9, 0, 1]],
    ['10.0.1', 'mysql', [10, 0, 1]],
    ['5.7.mysql_aurora.2.11.2', 'aurora-mysql', [5, 7, 12]],
    ['8.0.mysql_aurora.3.05.2', 'aurora-mysql', [8, 0, 23]],
    ['10.11.19-MariaDB-0+deb12u1', 'mariadb', [10, 11, 19]],
    ['10.6.16-MariaDB-log', 'mariadb', [10, 6, 16]],
    ['10.4.32-MariaDB', 'mariadb', [10, 4, 32]],
    ['11.4.2-MariaDB-ubu2404', 'mariadb', [11, 4, 2]],
    ['11.8.2-MariaDB-log', 'mariadb', [11, 8, 2]],
    ['5.5.5-10.11.6-MariaDB', 'mariadb', [10, 11, 6]],
  ])('%s', (text, flavor, [major, minor, patch]) => {
    expect(parseServerVersion(text)).toMatchObject({ flavor, major, minor, patch, text });
  });

  it('keeps Aurora its own version', () => {
    expect(parseServerVersion('8.0.mysql_aurora.3.05.2').aurora).toBe('3.05.2');
    expect(describeServer(parseServerVersion('8.0.mysql_aurora.3.05.2'))).toBe('Aurora MySQL 3.05.2 (MySQL 8.0 compatible)');
  });

  it('refuses strings it cannot read', () => {
    for (const text of ['', 'PostgreSQL 15.4', 'eight']) {
      expect(thrown(EngineError, () => parseServerVersion(text)).code).toBe('unsupported');
    }
  });
});

describe('serverProfile: the version matrix', () => {
  it.each([
    // version, hash?, REPLACE?, dual?, roles, max name
    ['10.11.19-MariaDB-0+deb12u1', true, false, false, 'mariadb', 80],
    ['11.4.2-MariaDB', true, false, false, 'mariadb', 80],
    ['5.7.44-log', false, false, false, 'none', 32],
    ['5.7.mysql_aurora.2.11.2', false, false, false, 'none', 32],
    ['8.0.12', false, false, false, 'mysql', 32],
    ['8.0.13', false, true, false, 'mysql', 32],
    ['8.0.14', false, true, true, 'mysql', 32],
    ['8.0.mysql_aurora.3.05.2', false, true, true, 'mysql', 32],
    ['8.4.3', false, true, true, 'mysql', 32],
    ['9.1.0', false, true, true, 'mysql', 32],
  ])('%s', (version, hash, replace, dual, roles, maxChars) => {
    expect(profileOf(version)).toMatchObject({ sendsNativeHash: hash, replaceCurrent: replace, dualPassword: dual, roles, maxUserNameChars: maxChars });
  });

  it('refuses servers without ALTER USER (MySQL before 5.7.6, MariaDB before 10.2)', () => {
    for (const version of ['5.6.51-log', '5.7.5-m15', '10.1.48-MariaDB']) {
      const error = thrown(EngineError, () => profileOf(version));
      expect(error.code).toBe('unsupported');
      expect(error.message).toMatch(/Upgrade the server/);
    }
  });
});

describe('password statements', () => {
  it('computes mysql_native_password hashes as the server does (PASSWORD())', () => {
    // Values PASSWORD() / SHOW GRANTS returned on MariaDB 10.11 for the same passwords.
    expect(nativePasswordHash('password')).toBe('*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19');
    expect(nativePasswordHash('pw1')).toBe('*2B602296A79E0A8784ACC5C88D92E46588CCA3C3');
    expect(nativePasswordHash('x')).toBe('*B69027D44F6E5EDC07F1AEAD1477967B16F28227');
  });

  it('MariaDB: only the hash reaches the server, for the user itself and for the admin', () => {
    const profile = profileOf('10.11.6-MariaDB');
    const change = { newPassword: "n'ew\\pw", currentPassword: 'old', retainCurrent: true };
    expect(ownPasswordSql(profile, DEFAULT_MODE, change)).toBe(`SET PASSWORD = '${nativePasswordHash("n'ew\\pw")}'`);
    expect(identifiedBy(profile, DEFAULT_MODE, 'secret')).toBe(`IDENTIFIED BY PASSWORD '${nativePasswordHash('secret')}'`);
  });

  it('MySQL: never PASSWORD() (removed in 8.0.11, which AWS sends to 9.x); REPLACE from 8.0.13; RETAIN from 8.0.14', () => {
    const change = { newPassword: 'new', currentPassword: 'old', retainCurrent: true };
    expect(ownPasswordSql(profileOf('5.7.44'), DEFAULT_MODE, change)).toBe("ALTER USER USER() IDENTIFIED BY 'new'");
    expect(ownPasswordSql(profileOf('8.0.13'), DEFAULT_MODE, change)).toBe("ALTER USER USER() IDENTIFIED BY 'new' REPLACE 'old'");
    expect(ownPasswordSql(profileOf('9.1.0'), DEFAULT_MODE, change)).toBe("ALTER USER USER() IDENTIFIED BY 'new' REPLACE 'old' RETAIN CURRENT PASSWORD");
    expect(ownPasswordSql(profileOf('9.1.0'), DEFAULT_MODE, { ...change, retainCurrent: false })).toBe("ALTER USER USER() IDENTIFIED BY 'new' REPLACE 'old'");
    expect(identifiedBy(profileOf('8.4.3'), DEFAULT_MODE, 'pw')).toBe("IDENTIFIED BY 'pw'");
    expect(DISCARD_OLD_PASSWORD_SQL).toBe('ALTER USER USER() DISCARD OLD PASSWORD');
  });
});

describe('quoting', () => {
  it('backquotes names and accounts, doubling backquotes; % and quotes stay as they are', () => {
    expect(quoteIdentifier('a`b')).toBe('`a``b`');
    expect(quoteAccount({ user: "o'k`%", host: '10.0.%' })).toBe("`o'k``%`@`10.0.%`");
    expect(thrown(EngineError, () => quoteIdentifier('a\0b')).code).toBe('invalid');
  });

  it('quotes values for the session sql_mode: backslashes doubled only when they are escapes', () => {
    expect(quoteLiteral("it's a \\ test", DEFAULT_MODE)).toBe("'it''s a \\\\ test'");
    expect(quoteLiteral("it's a \\ test", NO_BACKSLASH)).toBe("'it''s a \\ test'");
    expect(thrown(EngineError, () => quoteLiteral('a\0', DEFAULT_MODE)).code).toBe('invalid');
  });

  it('checks user names against the server limit, in characters', () => {
    expect(() => assertUserName('x'.repeat(32), 'username', 32, 'MySQL 8.0.36')).not.toThrow();
    expect(thrown(EngineError, () => assertUserName('x'.repeat(33), 'username', 32, 'MySQL 8.0.36')).message).toMatch(/33 characters long; MySQL 8.0.36 user names have at most 32/);
    expect(() => assertUserName('é'.repeat(80), 'username', 80, 'MariaDB')).not.toThrow();
    expect(thrown(EngineError, () => assertUserName('', 'username', 80, 'MariaDB')).code).toBe('invalid');
  });

  it('splits CURRENT_USER() at the last @', () => {
    expect(parseAccountText('us@er@10.0.%')).toEqual({ user: 'us@er', host: '10.0.%' });
  });
});

describe('the account host', () => {
  beforeEach(() => forgetAccounts());

  it('takes the account the user was seen logging in as, else its only account, else refuses', () => {
    expect(chooseHost(target, 'app', ['localhost'], 'v')).toBe('localhost');
    expect(thrown(EngineError, () => chooseHost(target, 'app', ['%', '10.0.%'], 'v')).message).toMatch(/several hosts \('%', '10.0.%'\)/);
    rememberAccount(target, { user: 'app', host: '10.0.%' });
    expect(chooseHost(target, 'app', ['%', '10.0.%'], 'v')).toBe('10.0.%');
    // Another server's logins do not count, nor a host that no longer exists.
    expect(() => chooseHost({ ...target, port: 3307 }, 'app', ['%', '10.0.%'], 'v')).toThrow(EngineError);
    expect(chooseHost(target, 'app', ['%'], 'v')).toBe('%');
    expect(thrown(EngineError, () => chooseHost(target, 'ghost', [], 'v')).message).toMatch(/has no account/);
  });
});

describe('the clone account statement', () => {
  const facts = (version: string): Facts => ({ profile: profileOf(version), mode: DEFAULT_MODE, account: { user: 'admin', host: '%' } });
  const row = {
    user: 'app',
    host: '10.0.%',
    plugin: 'caching_sha2_password',
    sslType: 'SPECIFIED',
    sslCipher: '',
    x509Issuer: "/CN=it's CA",
    x509Subject: '/CN=app',
    limits: { maxQuestions: '0', maxUpdates: '5', maxConnections: '0', maxUserConnections: '10' },
  };
  const clone = { user: 'app_clone', host: '10.0.%' };

  it('copies the TLS requirement exactly', () => {
    expect(requireClause({ ...row, sslType: '' }, DEFAULT_MODE)).toBe('NONE');
    expect(requireClause({ ...row, sslType: 'ANY' }, DEFAULT_MODE)).toBe('SSL');
    expect(requireClause({ ...row, sslType: 'X509' }, DEFAULT_MODE)).toBe('X509');
    expect(requireClause(row, DEFAULT_MODE)).toBe("ISSUER '/CN=it''s CA' AND SUBJECT '/CN=app'");
  });

  it("creates on MySQL with the base's plugin, password, REQUIRE and limits in one statement", () => {
    expect(accountStatement(facts('8.0.36'), { user: 'app', host: '10.0.%' }, row, clone, undefined, 'pw')).toBe(
      "CREATE USER `app_clone`@`10.0.%` IDENTIFIED WITH caching_sha2_password BY 'pw' REQUIRE ISSUER '/CN=it''s CA' AND SUBJECT '/CN=app' " +
        'WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 5 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 10',
    );
    expect(accountStatement(facts('8.0.36'), { user: 'app', host: '10.0.%' }, row, clone, row, 'pw')).toMatch(/^ALTER USER `app_clone`@`10.0.%` IDENTIFIED BY 'pw' REQUIRE/);
  });

  it('alters on MariaDB with the hash only', () => {
    const sql = accountStatement(facts('10.11.6-MariaDB'), { user: 'app', host: '10.0.%' }, { ...row, sslType: 'ANY' }, clone, row, 'pw');
    expect(sql).toBe(`ALTER USER \`app_clone\`@\`10.0.%\` IDENTIFIED BY PASSWORD '${nativePasswordHash('pw')}' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 5 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 10`);
    expect(sql).not.toContain("'pw'");
  });
});

// ---------------------------------------------------------------------------------------------
// MySQL 8 dual passwords against a simulated account

/** A server error shaped as mysql2 reports it. */
function serverError(errno: number, code: string, sqlState: string, sqlMessage: string): Error {
  return Object.assign(new Error(sqlMessage), { errno, code, sqlState, sqlMessage });
}

/**
 * One MySQL 8.0.36 account `app`@`%`, behaving as the server documents: a login works with the
 * primary or the secondary password; REPLACE must name the primary (3891 otherwise); RETAIN and
 * DISCARD on one's own account need APPLICATION_PASSWORD_ADMIN (1227 otherwise).
 */
class SimulatedMysql8 {
  secondary: string | undefined;
  readonly statements: string[] = [];
  constructor(
    public primary: string,
    readonly applicationPasswordAdmin: boolean,
  ) {}

  login(password: string): Session | undefined {
    if (password !== this.primary && password !== this.secondary) return undefined;
    return {
      rows: async (sql) => {
        this.statements.push(sql);
        if (sql === FACTS_SQL) return [['8.0.36', 'app@%', 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION']];
        throw new Error(`unexpected query ${sql}`);
      },
      run: async (sql) => {
        this.statements.push(sql);
        const noPrivilege = serverError(1227, 'ER_SPECIFIC_ACCESS_DENIED_ERROR', '42000', 'Access denied; you need (at least one of) the APPLICATION_PASSWORD_ADMIN privilege(s) for this operation');
        if (sql === DISCARD_OLD_PASSWORD_SQL) {
          if (!this.applicationPasswordAdmin) throw noPrivilege;
          this.secondary = undefined;
          return;
        }
        const m = /^ALTER USER USER\(\) IDENTIFIED BY '([^']*)'(?: REPLACE '([^']*)')?( RETAIN CURRENT PASSWORD)?$/.exec(sql);
        if (!m) throw new Error(`unexpected statement ${sql}`);
        if (m[2] !== undefined && m[2] !== this.primary) {
          throw serverError(3891, 'ER_INCORRECT_CURRENT_PASSWORD', 'HY000', 'Incorrect current password. Specify the correct password which has to be replaced.');
        }
        if (m[3] !== undefined && !this.applicationPasswordAdmin) throw noPrivilege;
        this.secondary = m[3] !== undefined ? this.primary : this.secondary;
        this.primary = m[1] ?? '';
      },
    };
  }
}

describe('MySQL 8 dual passwords (simulated server)', () => {
  const app = (password: string) => ({ username: 'app', password });
  const DUAL = { dualPassword: true };

  it('is off unless the engine is created with dualPassword: the plain change (with REPLACE)', async () => {
    const server = new SimulatedMysql8('old', true);
    expect(await setOwnPasswordOn(server.login('old')!, target, app('old'), 'new')).toEqual({ ok: true });
    expect(server.statements.at(-1)).toBe("ALTER USER USER() IDENTIFIED BY 'new' REPLACE 'old'");
    expect(server.login('old')).toBeUndefined();
  });

  it('keeps the old password working until finishOwnPassword, then only the new one works', async () => {
    const server = new SimulatedMysql8('old', true);
    expect(await setOwnPasswordOn(server.login('old')!, target, app('old'), 'new', DUAL)).toEqual({ ok: true });
    expect(server.statements.at(-1)).toBe("ALTER USER USER() IDENTIFIED BY 'new' REPLACE 'old' RETAIN CURRENT PASSWORD");
    expect(server.login('old')).toBeDefined();
    expect(server.login('new')).toBeDefined();

    expect(await finishOwnPasswordOn(server.login('new')!)).toBe('discarded');
    expect(server.login('old')).toBeUndefined();
    expect(server.login('new')).toBeDefined();
  });

  it('a retried setSecret logging in with the retained password answers rejected and keeps both passwords', async () => {
    const server = new SimulatedMysql8('old', true);
    await setOwnPasswordOn(server.login('old')!, target, app('old'), 'new', DUAL);
    // The retry: AWSCURRENT ('old') still logs in, as the secondary password.
    const retry = await setOwnPasswordOn(server.login('old')!, target, app('old'), 'new', DUAL);
    expect(retry).toMatchObject({ ok: false, reason: 'rejected', detail: expect.stringMatching(/^3891: .*secondary/) });
    expect([server.primary, server.secondary]).toEqual(['new', 'old']);
  });

  it('without APPLICATION_PASSWORD_ADMIN: the plain change, and finishOwnPassword has nothing to do', async () => {
    const server = new SimulatedMysql8('old', false);
    expect(await setOwnPasswordOn(server.login('old')!, target, app('old'), 'new', DUAL)).toEqual({ ok: true });
    expect(server.statements.filter((s) => s.startsWith('ALTER'))).toEqual([
      "ALTER USER USER() IDENTIFIED BY 'new' REPLACE 'old' RETAIN CURRENT PASSWORD",
      "ALTER USER USER() IDENTIFIED BY 'new' REPLACE 'old'",
    ]);
    expect(server.login('old')).toBeUndefined();
    expect(await finishOwnPasswordOn(server.login('new')!)).toBe('nothing-to-do');
  });

  it('on MariaDB: the plain change, and no DISCARD is sent', async () => {
    const statements: string[] = [];
    const session: Session = {
      rows: async (sql) => (statements.push(sql), [['10.11.6-MariaDB', 'app@%', 'STRICT_TRANS_TABLES']]),
      run: async (sql) => void statements.push(sql),
    };
    expect(await setOwnPasswordOn(session, target, app('old'), 'new', DUAL)).toEqual({ ok: true });
    expect(await finishOwnPasswordOn(session)).toBe('nothing-to-do');
    expect(statements).toEqual([FACTS_SQL, `SET PASSWORD = '${nativePasswordHash('new')}'`, FACTS_SQL]);
  });

  // An in-place upgrade behind the same endpoint (MariaDB or MySQL 8.0.13 -> 8.0.14+): the memo of
  // "no dual passwords here" must not outlive it, or the retained old password is never discarded.
  it('forgets that a server had no dual passwords as soon as a login sees that it has them', async () => {
    const upgraded = { ...target, host: 'upgraded.example.com', connectTimeoutMs: 100 };
    const before: Session = { rows: async () => [['8.0.13', 'app@%', '']], run: async () => undefined };
    await setOwnPasswordOn(before, upgraded, app('old'), 'new', DUAL);
    await expect(mysqlEngine.finishOwnPassword(upgraded, app('new'))).resolves.toBe('nothing-to-do');
    const after: Session = { rows: async () => [['8.0.36', 'app@%', '']], run: async () => undefined };
    await setOwnPasswordOn(after, upgraded, app('new'), 'newer', DUAL);
    // Now it must connect to discard (here: a host that does not resolve, so the attempt fails).
    await expect(mysqlEngine.finishOwnPassword(upgraded, app('newer'))).rejects.toThrow(EngineError);
  });

  it('refuses to change a password when the session is another account', async () => {
    const session: Session = { rows: async () => [['8.0.36', 'proxy@%', '']], run: async () => undefined };
    expect((await setOwnPasswordOn(session, target, app('old'), 'new').catch((e: unknown) => e)) as EngineError).toBeInstanceOf(EngineError);
  });
});

describe('connections and failures', () => {
  it('verifies TLS with the host name; plaintext only when asked; no LOCAL INFILE', () => {
    const options = connectionOptions({ ...target, tls: { kind: 'verify' } }, { username: 'app', password: 'pw' });
    expect(options.ssl).toEqual({ rejectUnauthorized: true, minVersion: 'TLSv1.2', servername: 'db.example.com', verifyIdentity: true });
    expect(options.connectTimeout).toBe(5000);
    expect(options.flags).toContain('-LOCAL_FILES');
    expect(options.stream).toBeUndefined();
    // IP targets: the socket is opened by the engine so that node:tls checks the IP (mysql2 would check 'localhost').
    expect(typeof connectionOptions({ ...target, host: '10.0.0.5' }, { username: 'app', password: 'pw' }).stream).toBe('function');
    expect(connectionOptions({ ...target, tls: { kind: 'plaintext' } }, { username: 'app', password: 'pw' }).ssl).toBeUndefined();
  });

  it('classifies server and driver errors, and never shows the passwords', () => {
    const context = { verb: 'v', target, user: 'app', secrets: ['hunter2', nativePasswordHash('hunter2')] };
    const classify = (error: unknown) => toEngineError(error, context, 'query');
    expect(classify(serverError(1227, 'ER_SPECIFIC_ACCESS_DENIED_ERROR', '42000', 'Access denied')).code).toBe('privilege');
    expect(classify(serverError(1040, 'ER_CON_COUNT_ERROR', '08004', 'Too many connections')).code).toBe('unreachable');
    expect(classify(serverError(1205, 'ER_LOCK_WAIT_TIMEOUT', 'HY000', 'Lock wait timeout')).code).toBe('timeout');
    expect(classify(serverError(3159, 'ER_SECURE_TRANSPORT_REQUIRED', 'HY000', 'Connections using insecure transport are prohibited')).code).toBe('tls');
    expect(classify(Object.assign(new Error('Server does not support secure connection'), { code: 'HANDSHAKE_NO_SSL_SUPPORT' })).code).toBe('tls');
    expect(classify(Object.assign(new Error('cert'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })).code).toBe('tls');
    expect(classify(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).code).toBe('unreachable');
    expect(classify(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })).code).toBe('timeout');
    const leaky = classify(serverError(1064, 'ER_PARSE_ERROR', '42000', `syntax error near 'hunter2' and '${nativePasswordHash('hunter2')}'`));
    expect(leaky.code).toBe('query');
    expect(leaky.message).not.toContain('hunter2');
    expect(leaky.message).not.toContain(nativePasswordHash('hunter2'));
  });
});
