// The MySQL engine against the real MariaDB 10.11 of the integration global setup (TLS with the
// run's CA, general log on). User names carry a random suffix: the server is shared with other files.

import mysql from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { EngineError } from '../../../shared/engines/errors';
import { mysqlEngine } from '../../../shared/engines/mysql';
import { forgetAccounts } from '../../../shared/engines/mysql/facts';
import { nativePasswordHash } from '../../../shared/engines/mysql/passwords';
import { quoteAccount, quoteIdentifier, type Account } from '../../../shared/engines/mysql/sql';
import type { ConnectionTarget, Credential } from '../../../shared/engines/types';

const server = inject('mariadb');
const tlsMaterial = inject('tls');
const CONNECT_TIMEOUT_MS = 5_000;

/** Every plaintext password given to the engine: none may ever show up in the general log. */
const plaintextPasswords: string[] = [];
function newPassword(): string {
  const password = `${randomBytes(18).toString('base64url')}!%'x`;
  plaintextPasswords.push(password);
  return password;
}
const suffix = (): string => randomBytes(4).toString('hex');

function target(overrides: Partial<ConnectionTarget> = {}): ConnectionTarget {
  return { host: server.hostname, port: server.port, tls: { kind: 'verify', ca: server.caPem }, connectTimeoutMs: CONNECT_TIMEOUT_MS, ...overrides };
}
const admin: Credential = { username: server.adminUser, password: server.adminPassword };

let adminConnection: mysql.Connection;
async function sql<T = Record<string, unknown>>(statement: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await adminConnection.query(statement, params);
  return (Array.isArray(rows) ? rows : []) as T[];
}

/** An account whose password reaches the server only as a hash. */
async function createAccount(user: string, host = '%', extra = ''): Promise<Credential> {
  const password = newPassword();
  await sql(`CREATE USER ${quoteAccount({ user, host })} IDENTIFIED BY PASSWORD '${nativePasswordHash(password)}' ${extra}`);
  return { username: user, password };
}

async function grantsOf(account: Account): Promise<string[]> {
  const rows = await sql<Record<string, string>>(`SHOW GRANTS FOR ${quoteAccount(account)}`);
  return rows
    .map((row) => String(Object.values(row)[0]).split(quoteAccount(account)).join('<grantee>').replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''))
    .sort();
}

async function engineFailure(action: () => Promise<unknown>): Promise<EngineError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof EngineError) return error;
    throw error;
  }
  throw new Error('expected an EngineError, but the action succeeded');
}

async function listenOn(listener: net.Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, host, () => resolve());
  });
  return (listener.address() as net.AddressInfo).port;
}

/** A MySQL protocol v10 greeting without the CLIENT_SSL capability, as a server without TLS sends. */
function greetingWithoutTls(): Buffer {
  const u16 = (n: number) => Buffer.from([n & 0xff, n >> 8]);
  const payload = Buffer.concat([
    Buffer.from([10]),
    Buffer.from('5.7.44-no-tls\0'),
    Buffer.from([1, 0, 0, 0]),
    Buffer.alloc(8, 0x41),
    Buffer.from([0]),
    u16(0x0001 | 0x0200 | 0x8000), // LONG_PASSWORD | PROTOCOL_41 | SECURE_CONNECTION, no SSL (0x0800)
    Buffer.from([0x21]),
    u16(0x0002),
    u16(0x0008), // PLUGIN_AUTH
    Buffer.from([21]),
    Buffer.alloc(10),
    Buffer.alloc(12, 0x42),
    Buffer.from([0]),
    Buffer.from('mysql_native_password\0'),
  ]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, 0, 0]), payload]);
}

beforeAll(async () => {
  adminConnection = await mysql.createConnection({
    host: server.hostname,
    port: server.port,
    user: admin.username,
    password: admin.password,
    ssl: { ca: server.caPem, verifyIdentity: true },
  });
});
afterAll(async () => {
  await adminConnection?.end();
});
beforeEach(() => forgetAccounts());

describe('mysql engine: checkLogin and connections', () => {
  it('accepts a right password over verified TLS, by host name and by IP address', async () => {
    await expect(mysqlEngine.checkLogin(target(), admin)).resolves.toEqual({ ok: true });
    await expect(mysqlEngine.checkLogin(target({ host: server.host }), admin)).resolves.toEqual({ ok: true });
  });

  it('reports a wrong password or an unknown user as rejected, with the server reason and no password', async () => {
    const wrong = await mysqlEngine.checkLogin(target(), { ...admin, password: 'not-the-password' });
    expect(wrong).toMatchObject({ ok: false, reason: 'rejected', detail: expect.stringMatching(/^1045 \(28000\): Access denied/) });
    expect(JSON.stringify(wrong)).not.toContain('not-the-password');
    expect(await mysqlEngine.checkLogin(target(), { username: `nobody_${suffix()}`, password: 'x' })).toMatchObject({ ok: false, reason: 'rejected' });
  });

  it('throws unreachable, quickly, for a closed port', async () => {
    const probe = net.createServer();
    const port = await listenOn(probe, '127.0.0.1');
    await new Promise((resolve) => probe.close(resolve));
    const started = Date.now();
    const error = await engineFailure(() => mysqlEngine.checkLogin(target({ port }), admin));
    expect(error.code).toBe('unreachable');
    expect(error.driverCode).toBe('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS);
  });

  it('throws timeout within the connect timeout when the server never answers', async () => {
    const silent = net.createServer(() => undefined);
    const port = await listenOn(silent, '127.0.0.1');
    try {
      const started = Date.now();
      const error = await engineFailure(() => mysqlEngine.checkLogin(target({ port, connectTimeoutMs: 300 }), admin));
      expect(error.code).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      silent.close();
    }
  });

  it('fails closed (tls) with the wrong CA, and without a CA bundle', async () => {
    // The server also accepts plaintext logins: a fall-back would have succeeded.
    const wrongCa = await engineFailure(() => mysqlEngine.checkLogin(target({ tls: { kind: 'verify', ca: tlsMaterial.otherCaPem } }), admin));
    expect(wrongCa.code).toBe('tls');
    expect(wrongCa.message).toMatch(/Plaintext is never tried/);
    expect((await engineFailure(() => mysqlEngine.checkLogin(target({ tls: { kind: 'verify' } }), admin))).code).toBe('tls');
  });

  it('fails closed (tls) when the host is not in the certificate', async (context) => {
    const forwarder = net.createServer((inbound) => {
      const outbound = net.connect(server.port, server.host);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
      inbound.pipe(outbound).pipe(inbound);
    });
    let port: number;
    try {
      port = await listenOn(forwarder, '127.0.0.2');
    } catch {
      context.skip('cannot listen on 127.0.0.2 on this system');
      return;
    }
    try {
      const error = await engineFailure(() => mysqlEngine.checkLogin(target({ host: '127.0.0.2', port }), admin));
      expect(error.code).toBe('tls');
      expect(error.driverCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      forwarder.close();
    }
  });

  it('fails closed (tls) when the server does not offer TLS, instead of going plaintext', async () => {
    const noTls = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write(greetingWithoutTls());
    });
    const port = await listenOn(noTls, '127.0.0.1');
    try {
      const error = await engineFailure(() => mysqlEngine.checkLogin(target({ port }), admin));
      expect(error.code).toBe('tls');
      expect(error.message).toMatch(/did not accept TLS/);
    } finally {
      noTls.close();
    }
  });

  it('connects in plaintext only when the target says so', async () => {
    await expect(mysqlEngine.checkLogin(target({ tls: { kind: 'plaintext' } }), admin)).resolves.toEqual({ ok: true });
  });

  it('throws a query error for a database that does not exist, auth when an admin verb cannot log in', async () => {
    const noDb = await engineFailure(() => mysqlEngine.checkLogin(target({ dbname: `nodb_${suffix()}` }), admin));
    expect(noDb.code).toBe('query');
    expect(noDb.message).toMatch(/Fix "dbname"/);
    const auth = await engineFailure(() => mysqlEngine.setPasswordAsAdmin(target(), { ...admin, password: 'wrong' }, admin.username, newPassword()));
    expect(auth.code).toBe('auth');
  });
});

describe('mysql engine: passwords', () => {
  it('setOwnPassword: the old password is refused, the new one works; a wrong one answers rejected and changes nothing', async () => {
    const user = await createAccount(`own_${suffix()}`);
    const next = newPassword();
    expect(await mysqlEngine.setOwnPassword(target(), { ...user, password: 'wrong' }, next)).toMatchObject({ ok: false, reason: 'rejected' });
    expect(await mysqlEngine.checkLogin(target(), user)).toEqual({ ok: true });
    expect(await mysqlEngine.setOwnPassword(target(), user, next)).toEqual({ ok: true });
    expect(await mysqlEngine.checkLogin(target(), user)).toMatchObject({ ok: false });
    expect(await mysqlEngine.checkLogin(target(), { ...user, password: next })).toEqual({ ok: true });
    expect(await mysqlEngine.finishOwnPassword(target(), { ...user, password: next })).toBe('nothing-to-do'); // MariaDB: no dual passwords
  });

  it("setPasswordAsAdmin sets the password of the user's only account, or of the one it was seen logging in as", async () => {
    const name = `adm_${suffix()}`;
    const local = await createAccount(name, '127.0.0.1');
    await mysqlEngine.setPasswordAsAdmin(target(), admin, name, (local.password = newPassword()));
    expect(await mysqlEngine.checkLogin(target(), local)).toEqual({ ok: true });

    const other = await createAccount(name, '10.1.2.3');
    forgetAccounts();
    const ambiguous = await engineFailure(() => mysqlEngine.setPasswordAsAdmin(target(), admin, name, newPassword()));
    expect(ambiguous.code).toBe('invalid');
    expect(ambiguous.message).toMatch(/several hosts \('10.1.2.3', '127.0.0.1'\)|several hosts \('127.0.0.1', '10.1.2.3'\)/);
    expect(await mysqlEngine.checkLogin(target(), local)).toEqual({ ok: true }); // seen logging in as 127.0.0.1
    await mysqlEngine.setPasswordAsAdmin(target(), admin, name, (local.password = newPassword()));
    expect(await mysqlEngine.checkLogin(target(), local)).toEqual({ ok: true });
    const [row] = await sql<{ pw: string }>("SELECT authentication_string AS pw FROM mysql.user WHERE User = ? AND Host = '10.1.2.3'", [name]);
    expect(row?.pw).toBe(nativePasswordHash(other.password));
    expect((await engineFailure(() => mysqlEngine.setPasswordAsAdmin(target(), admin, `ghost_${suffix()}`, newPassword()))).message).toMatch(/has no account/);
  });
});

describe('mysql engine: alignAlternateUser', () => {
  it('creates the clone with everything the base holds: grants, GRANT OPTION, role, default role, TLS requirement, limits', async () => {
    const name = `base_${suffix()}'\`%`;
    const db = `db_${suffix()} TO %\``;
    const role = `role_${suffix()}`;
    await createAccount(name, '%', "REQUIRE ISSUER '/CN=it''s a CA' AND SUBJECT '/CN=app' WITH MAX_QUERIES_PER_HOUR 100 MAX_USER_CONNECTIONS 7");
    const base = { user: name, host: '%' };
    await sql(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await sql(`CREATE TABLE ${quoteIdentifier(db)}.t (a int, b int)`);
    await sql(`CREATE ROLE ${quoteIdentifier(role)}`);
    await sql(`GRANT SELECT ON mysql.db TO ${quoteIdentifier(role)}`);
    await sql(`GRANT ${quoteIdentifier(role)} TO ${quoteAccount(base)}`);
    await sql(`SET DEFAULT ROLE ${quoteIdentifier(role)} FOR ${quoteAccount(base)}`);
    await sql(`GRANT SELECT, INSERT ON ${quoteIdentifier(db)}.* TO ${quoteAccount(base)} WITH GRANT OPTION`);
    await sql(`GRANT UPDATE (a, b) ON ${quoteIdentifier(db)}.t TO ${quoteAccount(base)}`);
    await sql(`GRANT PROCESS ON *.* TO ${quoteAccount(base)}`);

    const clone = { username: `${name}_clone`, password: newPassword() };
    await mysqlEngine.alignAlternateUser(target(), admin, name, clone);
    const cloneGrants = await grantsOf({ user: clone.username, host: '%' });
    expect(cloneGrants).toEqual(await grantsOf(base));
    expect(cloneGrants.join('\n')).toMatch(/REQUIRE ISSUER '\/CN=it''s a CA' SUBJECT '\/CN=app'|REQUIRE ISSUER/);
    const [limits] = await sql<{ q: number; c: number }>('SELECT max_questions AS q, max_user_connections AS c FROM mysql.user WHERE User = ?', [clone.username]);
    expect(limits).toEqual({ q: 100, c: 7 });
  });

  it('is idempotent, takes a new password, and removes what the base lost and the clone gained', async () => {
    const name = `idem_${suffix()}`;
    const db = `idem_db_${suffix()}`;
    await createAccount(name);
    const base = { user: name, host: '%' };
    await sql(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await sql(`GRANT SELECT, INSERT, DELETE ON ${quoteIdentifier(db)}.* TO ${quoteAccount(base)} WITH GRANT OPTION`);
    const clone = { username: `${name}_clone`, password: newPassword() };
    const cloneAccount = { user: clone.username, host: '%' };
    await mysqlEngine.alignAlternateUser(target(), admin, name, clone);
    await mysqlEngine.alignAlternateUser(target(), admin, name, clone);
    expect(await mysqlEngine.checkLogin(target(), clone)).toEqual({ ok: true });

    await sql(`REVOKE DELETE, GRANT OPTION ON ${quoteIdentifier(db)}.* FROM ${quoteAccount(base)}`);
    await sql(`GRANT ALL ON mysql.* TO ${quoteAccount(cloneAccount)}`);
    clone.password = newPassword();
    await mysqlEngine.alignAlternateUser(target(), admin, name, clone);
    expect(await grantsOf(cloneAccount)).toEqual(await grantsOf(base));
    expect((await grantsOf(cloneAccount)).join('\n')).not.toMatch(/DELETE|GRANT OPTION|`mysql`/);
    expect(await mysqlEngine.checkLogin(target(), clone)).toEqual({ ok: true });
  });

  it("creates the clone on the base account's host; with several accounts, on the one the base logs in as", async () => {
    const name = `hosts_${suffix()}`;
    const local = await createAccount(name, '127.0.0.1');
    await createAccount(name, '%');
    await sql(`GRANT SELECT ON mysql.user TO ${quoteAccount({ user: name, host: '127.0.0.1' })}`);
    const clone = { username: `${name}_clone`, password: newPassword() };
    expect((await engineFailure(() => mysqlEngine.alignAlternateUser(target(), admin, name, clone))).message).toMatch(/several hosts/);
    expect(await mysqlEngine.checkLogin(target(), local)).toEqual({ ok: true });
    await mysqlEngine.alignAlternateUser(target(), admin, name, clone);
    expect((await sql<{ Host: string }>('SELECT Host FROM mysql.user WHERE User = ?', [clone.username])).map((r) => r.Host)).toEqual(['127.0.0.1']);
    expect(await grantsOf({ user: clone.username, host: '127.0.0.1' })).toEqual(await grantsOf({ user: name, host: '127.0.0.1' }));
  });

  it('runs nothing until notBefore resolves, and nothing at all when it rejects', async () => {
    const name = `gate_${suffix()}`;
    await createAccount(name);
    const clone = { username: `${name}_clone`, password: newPassword() };
    const refused = new Error('AWSCURRENT does not log in');
    await expect(mysqlEngine.alignAlternateUser(target(), admin, name, clone, { notBefore: Promise.reject(refused) })).rejects.toBe(refused);
    expect(await sql('SELECT 1 FROM mysql.user WHERE User = ?', [clone.username])).toEqual([]);
  });

  it('refuses an alternate equal to the base or the admin, and names too long for the server', async () => {
    expect((await engineFailure(() => mysqlEngine.alignAlternateUser(target(), admin, 'x', { username: 'x', password: 'p' }))).code).toBe('invalid');
    expect((await engineFailure(() => mysqlEngine.alignAlternateUser(target(), admin, 'x', { username: admin.username, password: 'p' }))).code).toBe('invalid');
    const long = await engineFailure(() => mysqlEngine.alignAlternateUser(target(), admin, 'y'.repeat(80), { username: `${'y'.repeat(80)}_clone`, password: 'p' }));
    expect(long.message).toMatch(/86 characters long; MariaDB 10.11.\d+ user names have at most 80/);
  });
});

describe('mysql engine: endSessions', () => {
  it("ends the user's sessions, never the admin's own; refuses an age filter it cannot apply", async () => {
    const user = await createAccount(`sess_${suffix()}`);
    const sessions = await Promise.all(
      [1, 2].map(() => mysql.createConnection({ host: server.hostname, port: server.port, user: user.username, password: user.password, ssl: { ca: server.caPem } })),
    );
    for (const s of sessions) s.on('error', () => undefined);
    expect(await mysqlEngine.endSessions(target(), admin, user.username)).toBe(2);
    expect(await mysqlEngine.endSessions(target(), admin, user.username)).toBe(0);
    expect(await mysqlEngine.endSessions(target(), admin, admin.username)).toBeGreaterThanOrEqual(1); // the test's own admin connection, not the engine's
    expect((await engineFailure(() => mysqlEngine.endSessions(target(), admin, user.username, new Date()))).code).toBe('unsupported');
    for (const s of sessions) s.destroy();
    adminConnection.destroy();
    adminConnection = await mysql.createConnection({ host: server.hostname, port: server.port, user: admin.username, password: admin.password, ssl: { ca: server.caPem } });
  });
});

describe('mysql engine: the general log', () => {
  it('never contains a plaintext password, only hashes (runs last)', async () => {
    const log = await readFile(server.logFile, 'utf8');
    expect(log).toMatch(/IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/);
    for (const password of plaintextPasswords) {
      for (const form of [password, Buffer.from(password).toString('base64'), encodeURIComponent(password)]) expect(log).not.toContain(form);
    }
  });
});
