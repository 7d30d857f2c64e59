// The PostgreSQL engine against the real PostgreSQL 15 server of the integration global setup
// (TLS with the run's CA, SCRAM passwords, log_statement = all). Role names carry a random suffix:
// the server is shared with other test files.

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EngineError } from '../../../shared/engines/errors';
import { postgresql } from '../../../shared/engines/postgresql';
import { scramSha256Verifier } from '../../../shared/engines/postgresql/scram';
import type { ConnectionTarget, Credential } from '../../../shared/engines/types';

const server = inject('postgres');
const tlsMaterial = inject('tls');

const CONNECT_TIMEOUT_MS = 5_000;

/** Every plaintext password given to the engine: none may ever show up in the server log. */
const plaintextPasswords: string[] = [];

function newPassword(): string {
  const password = `${randomBytes(18).toString('base64url')}!x`;
  plaintextPasswords.push(password);
  return password;
}

function suffix(): string {
  return randomBytes(4).toString('hex');
}

function target(overrides: Partial<ConnectionTarget> = {}): ConnectionTarget {
  return {
    host: server.hostname,
    port: server.port,
    dbname: server.database,
    tls: { kind: 'verify', ca: server.caPem },
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    ...overrides,
  };
}

const admin: Credential = { username: server.adminUser, password: server.adminPassword };

/** A raw pg client for setting up and inspecting, over verified TLS. */
async function rawClient(who: Credential, database = server.database): Promise<pg.Client> {
  const client = new pg.Client({
    host: server.hostname,
    port: server.port,
    user: who.username,
    password: who.password,
    database,
    ssl: { ca: server.caPem },
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined); // terminated sessions (endSessions tests)
  await client.connect();
  return client;
}

async function asUser<T>(who: Credential, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await rawClient(who);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
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

async function listenOn(server: net.Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

let adminClient: pg.Client;
const createdRoles = new Set<string>();

/** Creates a LOGIN role through the engine (so its password is sent as a verifier only). */
async function createLoginRole(name: string, extra = ''): Promise<Credential> {
  await adminClient.query(`CREATE ROLE ${adminClient.escapeIdentifier(name)} LOGIN ${extra}`);
  createdRoles.add(name);
  const credential = { username: name, password: newPassword() };
  await postgresql.setPasswordAsAdmin(target(), admin, name, credential.password);
  return credential;
}

/** Waits until pg_stat_activity lists exactly `count` sessions of `username` (ended ones linger briefly). */
async function waitForSessions(username: string, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const result = await adminClient.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1',
      [username],
    );
    if (result.rows[0]?.n === count) return;
    if (Date.now() > deadline) throw new Error(`${username} has ${result.rows[0]?.n} sessions, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function roleExists(name: string): Promise<boolean> {
  const result = await adminClient.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  return result.rowCount === 1;
}

/** Everything alignAlternateUser decides about a role, except the password. */
async function roleState(name: string): Promise<unknown> {
  const role = await adminClient.query(
    `SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
            rolbypassrls, rolconnlimit, rolvaliduntil
       FROM pg_roles WHERE rolname = $1`,
    [name],
  );
  const memberships = await adminClient.query(
    `SELECT r.rolname AS role, m.admin_option FROM pg_auth_members m
       JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
      WHERE u.rolname = $1 ORDER BY 1`,
    [name],
  );
  const settings = await adminClient.query(
    `SELECT s.setdatabase, s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
      WHERE r.rolname = $1 ORDER BY 1`,
    [name],
  );
  return { role: role.rows, memberships: memberships.rows, settings: settings.rows };
}

beforeAll(async () => {
  adminClient = await rawClient(admin);
});

afterAll(async () => {
  // Best effort: the server is thrown away after the run anyway.
  for (const role of createdRoles) {
    const quoted = adminClient.escapeIdentifier(role);
    await adminClient.query(`DROP OWNED BY ${quoted} CASCADE`).catch(() => undefined);
    await adminClient.query(`DROP ROLE IF EXISTS ${quoted}`).catch(() => undefined);
  }
  await adminClient?.end();
});

describe('postgresql engine: checkLogin and connections', () => {
  it('describes PostgreSQL', () => {
    expect(postgresql.name).toBe('postgresql');
    expect(postgresql.defaultPort).toBe(5432);
    expect(postgresql.defaultDbName).toBe('postgres');
    expect(postgresql.maxUsernameLength).toBe(63);
    expect(postgresql.defaultExcludeCharacters).toBe(':/@"\'\\');
  });

  it('accepts a right password over verified TLS', async () => {
    await expect(postgresql.checkLogin(target(), admin)).resolves.toEqual({ ok: true });
  });

  it('reports a wrong password or an unknown role as rejected, with the server reason', async () => {
    const wrong = await postgresql.checkLogin(target(), { ...admin, password: 'not-the-password' });
    expect(wrong).toMatchObject({ ok: false, reason: 'rejected' });
    expect(wrong.ok === false && wrong.detail).toMatch(/^28P01: password authentication failed/);

    const unknown = await postgresql.checkLogin(target(), { username: `nobody_${suffix()}`, password: 'whatever' });
    expect(unknown).toMatchObject({ ok: false, reason: 'rejected' });
  });

  it('reports a role that may not log in as rejected (28000)', async () => {
    const user = await createLoginRole(`nologin_${suffix()}`);
    await adminClient.query(`ALTER ROLE ${adminClient.escapeIdentifier(user.username)} NOLOGIN`);
    const result = await postgresql.checkLogin(target(), user);
    expect(result).toMatchObject({ ok: false, reason: 'rejected' });
    expect(result.ok === false && result.detail).toMatch(/^28000: /);
  });

  it('throws unreachable, quickly, for a closed port', async () => {
    const probe = net.createServer();
    const port = await listenOn(probe, '127.0.0.1');
    await new Promise((resolve) => probe.close(resolve));

    const started = Date.now();
    const error = await engineFailure(() => postgresql.checkLogin(target({ port }), admin));
    expect(error.code).toBe('unreachable');
    expect(error.driverCode).toBe('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS);
  });

  it('throws timeout within the connect timeout when the server never answers', async () => {
    const silent = net.createServer(() => undefined);
    const port = await listenOn(silent, '127.0.0.1');
    try {
      const started = Date.now();
      const error = await engineFailure(() => postgresql.checkLogin(target({ port, connectTimeoutMs: 300 }), admin));
      expect(error.code).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      silent.close();
    }
  });

  it('fails closed (tls) when the CA is not the one that signed the server certificate', async () => {
    // The server also accepts plaintext logins: a fall-back would have succeeded.
    const error = await engineFailure(() =>
      postgresql.checkLogin(target({ tls: { kind: 'verify', ca: tlsMaterial.otherCaPem } }), admin),
    );
    expect(error.code).toBe('tls');
    expect(error.message).toMatch(/Plaintext is never tried/);
  });

  it("fails closed (tls) without a CA bundle: Node's default roots do not include the test CA", async () => {
    const error = await engineFailure(() => postgresql.checkLogin(target({ tls: { kind: 'verify' } }), admin));
    expect(error.code).toBe('tls');
  });

  it('fails closed (tls) when the host is not in the certificate', async (context) => {
    // A TCP forwarder on another loopback address: same server, but 127.0.0.2 is not in the
    // certificate (localhost, 127.0.0.1). Linux routes all of 127/8 to the loopback interface.
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
      const error = await engineFailure(() => postgresql.checkLogin(target({ host: '127.0.0.2', port }), admin));
      expect(error.code).toBe('tls');
      expect(error.driverCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      forwarder.close();
    }
  });

  it('fails closed (tls) when the server refuses TLS, instead of going plaintext', async () => {
    // Answers the SSLRequest with 'N' (no TLS), as a server without ssl = on does.
    const noTls = net.createServer((socket) => socket.end('N'));
    const port = await listenOn(noTls, '127.0.0.1');
    try {
      const error = await engineFailure(() => postgresql.checkLogin(target({ port }), admin));
      expect(error.code).toBe('tls');
    } finally {
      noTls.close();
    }
  });

  it('connects in plaintext only when the target says so', async () => {
    await expect(postgresql.checkLogin(target({ tls: { kind: 'plaintext' } }), admin)).resolves.toEqual({ ok: true });
  });

  it('also verifies IP addresses against the certificate (127.0.0.1 is in it)', async () => {
    await expect(postgresql.checkLogin(target({ host: server.host }), admin)).resolves.toEqual({ ok: true });
  });

  it('throws a query error for a database that does not exist', async () => {
    const error = await engineFailure(() => postgresql.checkLogin(target({ dbname: `nodb_${suffix()}` }), admin));
    expect(error.code).toBe('query');
    expect(error.sqlstate).toBe('3D000');
  });

  it('throws auth (not a result) when an admin verb cannot log in', async () => {
    const error = await engineFailure(() =>
      postgresql.setPasswordAsAdmin(target(), { username: admin.username, password: 'wrong' }, admin.username, newPassword()),
    );
    expect(error.code).toBe('auth');
    expect(error.sqlstate).toBe('28P01');
  });

  it('answers rejected, changing nothing, when setOwnPassword cannot log in', async () => {
    const user = await createLoginRole(`rejected_${suffix()}`);
    const result = await postgresql.setOwnPassword(target(), { ...user, password: 'wrong' }, newPassword());
    expect(result).toMatchObject({ ok: false, reason: 'rejected', detail: expect.stringMatching(/^28P01/) });
    expect(await postgresql.checkLogin(target(), user)).toEqual({ ok: true });
  });
});

describe('postgresql engine: SCRAM verifiers', () => {
  it('computes the verifier PostgreSQL computes for the same password and salt', async () => {
    const role = `scram_probe_${suffix()}`;
    const password = `probe-${randomBytes(12).toString('hex')}`;
    // Plaintext only here, with statement logging off for this session (superuser).
    await asUser(admin, async (client) => {
      await client.query("SET log_statement = 'none'");
      await client.query(`CREATE ROLE ${client.escapeIdentifier(role)} PASSWORD ${client.escapeLiteral(password)}`);
    });
    createdRoles.add(role);
    const stored = await adminClient.query<{ rolpassword: string }>(
      'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
      [role],
    );
    const verifier = stored.rows[0]?.rolpassword ?? '';
    const salt = Buffer.from(verifier.split('$')[1]?.split(':')[1] ?? '', 'base64');
    expect(scramSha256Verifier(password, { salt })).toBe(verifier);
  });

  it('stores the verifier as is, and the password logs in', async () => {
    const user = await createLoginRole(`scram_login_${suffix()}`);
    const stored = await adminClient.query<{ rolpassword: string }>(
      'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
      [user.username],
    );
    expect(stored.rows[0]?.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    await expect(postgresql.checkLogin(target(), user)).resolves.toEqual({ ok: true });
  });
});

describe('postgresql engine: setOwnPassword and setPasswordAsAdmin', () => {
  it('changes the own password: the old one is refused, the new one works', async () => {
    const user = await createLoginRole(`single_${suffix()}`);
    const next = newPassword();
    expect(await postgresql.setOwnPassword(target(), user, next)).toEqual({ ok: true });
    expect(await postgresql.checkLogin(target(), user)).toMatchObject({ ok: false, reason: 'rejected' });
    expect(await postgresql.checkLogin(target(), { ...user, password: next })).toEqual({ ok: true });
  });

  it('changes the login role own password even when its sessions switch to another role', async () => {
    const owner = `owner_${suffix()}`;
    await adminClient.query(`CREATE ROLE ${adminClient.escapeIdentifier(owner)}`);
    createdRoles.add(owner);
    const user = await createLoginRole(`switching_${suffix()}`);
    const quotedUser = adminClient.escapeIdentifier(user.username);
    await adminClient.query(`GRANT ${adminClient.escapeIdentifier(owner)} TO ${quotedUser}`);
    await adminClient.query(`ALTER ROLE ${quotedUser} SET role = ${adminClient.escapeLiteral(owner)}`);

    const next = newPassword();
    await postgresql.setOwnPassword(target(), user, next);
    expect(await postgresql.checkLogin(target(), { ...user, password: next })).toEqual({ ok: true });
  });

  it('lets the admin set another user password', async () => {
    const user = await createLoginRole(`byadmin_${suffix()}`);
    const next = newPassword();
    await postgresql.setPasswordAsAdmin(target(), admin, user.username, next);
    expect(await postgresql.checkLogin(target(), user)).toMatchObject({ ok: false });
    expect(await postgresql.checkLogin(target(), { ...user, password: next })).toEqual({ ok: true });
  });

  it('reports a missing role as a query error and a non-CREATEROLE admin as a privilege error', async () => {
    const missing = await engineFailure(() =>
      postgresql.setPasswordAsAdmin(target(), admin, `missing_${suffix()}`, newPassword()),
    );
    expect(missing.code).toBe('query');
    expect(missing.sqlstate).toBe('42704');

    const weakAdmin = await createLoginRole(`weak_admin_${suffix()}`);
    const victim = await createLoginRole(`victim_${suffix()}`);
    const denied = await engineFailure(() =>
      postgresql.setPasswordAsAdmin(target(), weakAdmin, victim.username, newPassword()),
    );
    expect(denied.code).toBe('privilege');
    expect(denied.message).toContain('CREATEROLE');
    expect(await postgresql.checkLogin(target(), victim)).toEqual({ ok: true });
  });
});

describe('postgresql engine: alignAlternateUser', () => {
  /** A base user owning a schema with a table, like an application user. */
  async function createBaseUser(name: string): Promise<{ base: Credential; schema: string }> {
    const base = await createLoginRole(name, 'CONNECTION LIMIT 7');
    const schema = `app_${suffix()}`;
    const quotedSchema = adminClient.escapeIdentifier(schema);
    await adminClient.query(`CREATE SCHEMA ${quotedSchema} AUTHORIZATION ${adminClient.escapeIdentifier(name)}`);
    await adminClient.query(
      `ALTER ROLE ${adminClient.escapeIdentifier(name)} SET search_path = ${adminClient.escapeLiteral(schema)}, public`,
    );
    await asUser(base, async (client) => {
      await client.query(`CREATE TABLE ${quotedSchema}.base_table (id int)`);
      await client.query(`INSERT INTO ${quotedSchema}.base_table VALUES (1)`);
    });
    return { base, schema };
  }

  it('creates the clone: it logs in, acts as the base role, and objects stay usable both ways', async () => {
    const baseName = `app_${suffix()}`;
    const { base, schema } = await createBaseUser(baseName);
    const q = (name: string): string => adminClient.escapeIdentifier(name);
    const clone: Credential = { username: `${baseName}_clone`, password: newPassword() };
    createdRoles.add(clone.username);

    await postgresql.alignAlternateUser(target(), admin, baseName, clone);
    expect(await postgresql.checkLogin(target(), clone)).toEqual({ ok: true });

    await asUser(clone, async (client) => {
      const who = await client.query<{ current_user: string; session_user: string; search_path: string }>(
        'SELECT current_user, session_user, current_setting($1) AS search_path',
        ['search_path'],
      );
      expect(who.rows[0]).toEqual({ current_user: baseName, session_user: clone.username, search_path: `${schema}, public` });
      // A table the base created: readable and writable, unqualified thanks to the copied search_path.
      await client.query('INSERT INTO base_table VALUES (2)');
      expect((await client.query('SELECT id FROM base_table ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
      await client.query(`CREATE TABLE ${q(schema)}.clone_table (id int)`);
      await client.query(`INSERT INTO ${q(schema)}.clone_table VALUES (10)`);
    });

    // What the clone created belongs to the base (AWS issues #56, #175).
    const owner = await adminClient.query<{ tableowner: string }>(
      'SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = $2',
      [schema, 'clone_table'],
    );
    expect(owner.rows[0]?.tableowner).toBe(baseName);
    await asUser(base, async (client) => {
      await client.query('INSERT INTO clone_table VALUES (11)');
      await client.query('ALTER TABLE clone_table ADD COLUMN note text'); // only the owner may
      expect((await client.query('SELECT id FROM clone_table ORDER BY id')).rows).toEqual([{ id: 10 }, { id: 11 }]);
    });

    // Attributes: a plain login with the base's connection limit; privileges come from the base.
    const role = await adminClient.query(
      'SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolinherit, rolconnlimit FROM pg_roles WHERE rolname = $1',
      [clone.username],
    );
    expect(role.rows[0]).toEqual({
      rolcanlogin: true,
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolinherit: true,
      rolconnlimit: 7,
    });
  });

  it('runs nothing until notBefore resolves, and nothing at all when it rejects', async () => {
    const baseName = `gated_${suffix()}`;
    await createLoginRole(baseName);
    const clone: Credential = { username: `${baseName}_clone`, password: newPassword() };
    createdRoles.add(clone.username);
    const refusal = new Error('AWSCURRENT does not log in');
    await expect(postgresql.alignAlternateUser(target(), admin, baseName, clone, { notBefore: Promise.reject(refusal) })).rejects.toBe(refusal);
    await expect(postgresql.setPasswordAsAdmin(target(), admin, baseName, newPassword(), { notBefore: Promise.reject(refusal) })).rejects.toBe(refusal);
    expect(await roleExists(clone.username)).toBe(false);

    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const aligning = postgresql.alignAlternateUser(target(), admin, baseName, clone, { notBefore: gate });
    await new Promise((resolve) => setTimeout(resolve, 100)); // connected by now, waiting at the gate
    expect(await roleExists(clone.username)).toBe(false);
    open();
    await aligning;
    expect(await postgresql.checkLogin(target(), clone)).toEqual({ ok: true });
  });

  it('gives the clone what is granted to the base later, without another alignment', async () => {
    const baseName = `grantee_${suffix()}`;
    await createBaseUser(baseName);
    const clone: Credential = { username: `${baseName}_clone`, password: newPassword() };
    createdRoles.add(clone.username);
    await postgresql.alignAlternateUser(target(), admin, baseName, clone);

    const table = `admin_table_${suffix()}`;
    await adminClient.query(`CREATE TABLE public.${table} (v text)`);
    await adminClient.query(`INSERT INTO public.${table} VALUES ('visible')`);
    const denied = await asUser(clone, (client) => client.query(`SELECT v FROM public.${table}`).catch((e: Error) => e));
    expect(denied).toBeInstanceOf(Error);
    await adminClient.query(`GRANT SELECT ON public.${table} TO ${adminClient.escapeIdentifier(baseName)}`);
    const rows = await asUser(clone, (client) => client.query(`SELECT v FROM public.${table}`));
    expect(rows.rows).toEqual([{ v: 'visible' }]);
    await adminClient.query(`DROP TABLE public.${table}`);
  });

  it('is idempotent: a second call only changes the password, a third with the same password changes nothing', async () => {
    const baseName = `idem_${suffix()}`;
    await createBaseUser(baseName);
    const first: Credential = { username: `${baseName}_clone`, password: newPassword() };
    createdRoles.add(first.username);

    await postgresql.alignAlternateUser(target(), admin, baseName, first);
    const afterFirst = await roleState(first.username);

    const second = { ...first, password: newPassword() };
    await postgresql.alignAlternateUser(target(), admin, baseName, second);
    expect(await roleState(first.username)).toEqual(afterFirst);
    expect(await postgresql.checkLogin(target(), first)).toMatchObject({ ok: false, reason: 'rejected' });
    expect(await postgresql.checkLogin(target(), second)).toEqual({ ok: true });

    await postgresql.alignAlternateUser(target(), admin, baseName, second);
    expect(await roleState(first.username)).toEqual(afterFirst);
    expect(await postgresql.checkLogin(target(), second)).toEqual({ ok: true });
  });

  it('repairs a clone made the old way (AWS template): attributes, membership and settings', async () => {
    const baseName = `legacy_${suffix()}`;
    await createBaseUser(baseName);
    const cloneName = `${baseName}_clone`;
    const quotedClone = adminClient.escapeIdentifier(cloneName);
    await adminClient.query(`CREATE ROLE ${quotedClone} LOGIN CREATEDB NOINHERIT`);
    createdRoles.add(cloneName);
    await adminClient.query(`ALTER ROLE ${quotedClone} SET work_mem = '8MB'`);

    const clone: Credential = { username: cloneName, password: newPassword() };
    await postgresql.alignAlternateUser(target(), admin, baseName, clone);
    const fresh: Credential = { username: `${baseName}_fresh`, password: newPassword() };
    createdRoles.add(fresh.username);
    await postgresql.alignAlternateUser(target(), admin, baseName, fresh);

    // Same state as a clone the engine created from scratch (names aside).
    const normalise = (state: unknown): string =>
      JSON.stringify(state).split(cloneName).join('X').split(fresh.username).join('X');
    expect(normalise(await roleState(cloneName))).toBe(normalise(await roleState(fresh.username)));
    await asUser(clone, async (client) => {
      expect((await client.query('SELECT current_user AS u')).rows[0]).toEqual({ u: baseName });
    });
  });

  it('mirrors a role the base itself switches to (ALTER ROLE base SET role)', async () => {
    const owner = `shared_owner_${suffix()}`;
    await adminClient.query(`CREATE ROLE ${adminClient.escapeIdentifier(owner)}`);
    createdRoles.add(owner);
    const baseName = `via_owner_${suffix()}`;
    await createLoginRole(baseName);
    await adminClient.query(`GRANT ${adminClient.escapeIdentifier(owner)} TO ${adminClient.escapeIdentifier(baseName)}`);
    await adminClient.query(
      `ALTER ROLE ${adminClient.escapeIdentifier(baseName)} SET role = ${adminClient.escapeLiteral(owner)}`,
    );
    const clone: Credential = { username: `${baseName}_clone`, password: newPassword() };
    createdRoles.add(clone.username);
    await postgresql.alignAlternateUser(target(), admin, baseName, clone);
    await asUser(clone, async (client) => {
      expect((await client.query('SELECT current_user AS u')).rows[0]).toEqual({ u: owner });
    });
  });

  it('works for a CREATEROLE admin that is not a superuser (PostgreSQL 15 rules)', async () => {
    const roleAdmin = await createLoginRole(`role_admin_${suffix()}`, 'CREATEROLE');
    const baseName = `managed_${suffix()}`;
    await createBaseUser(baseName);
    const clone: Credential = { username: `${baseName}_clone`, password: newPassword() };
    createdRoles.add(clone.username);
    await postgresql.alignAlternateUser(target(), roleAdmin, baseName, clone);
    await asUser(clone, async (client) => {
      expect((await client.query('SELECT current_user AS u')).rows[0]).toEqual({ u: baseName });
    });
  });

  it('names the missing grant and leaves nothing behind when the admin may not grant the base role', async () => {
    // On PostgreSQL 15 a CREATEROLE admin may create the clone but not grant a superuser role;
    // the same step fails on PostgreSQL 16+ without ADMIN OPTION on the base.
    const roleAdmin = await createLoginRole(`role_admin_${suffix()}`, 'CREATEROLE');
    const baseName = `super_${suffix()}`;
    await createLoginRole(baseName, 'SUPERUSER');
    const clone: Credential = { username: `${baseName}_clone`, password: newPassword() };

    const error = await engineFailure(() => postgresql.alignAlternateUser(target(), roleAdmin, baseName, clone));
    expect(error.code).toBe('privilege');
    expect(error.message).toContain(`GRANT "${baseName}" TO "${roleAdmin.username}" WITH ADMIN OPTION`);
    // One transaction: the clone created before the failing GRANT was rolled back.
    expect(await roleExists(clone.username)).toBe(false);
  });

  it('names the grant needed to copy a superuser-only setting of the base, and succeeds once granted', async () => {
    const roleAdmin = await createLoginRole(`role_admin_${suffix()}`, 'CREATEROLE');
    const baseName = `quiet_${suffix()}`;
    await createLoginRole(baseName);
    await adminClient.query(`ALTER ROLE ${adminClient.escapeIdentifier(baseName)} SET log_min_duration_statement = '5s'`);
    const clone: Credential = { username: `${baseName}_clone`, password: newPassword() };
    createdRoles.add(clone.username);

    const error = await engineFailure(() => postgresql.alignAlternateUser(target(), roleAdmin, baseName, clone));
    expect(error.code).toBe('privilege');
    expect(error.message).toContain(`GRANT SET ON PARAMETER log_min_duration_statement TO "${roleAdmin.username}"`);
    expect(await roleExists(clone.username)).toBe(false);

    await adminClient.query(
      `GRANT SET ON PARAMETER log_min_duration_statement TO ${adminClient.escapeIdentifier(roleAdmin.username)}`,
    );
    await postgresql.alignAlternateUser(target(), roleAdmin, baseName, clone);
    const settings = await adminClient.query<{ setconfig: string[] }>(
      `SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1`,
      [clone.username],
    );
    expect(settings.rows[0]?.setconfig.sort()).toEqual(['log_min_duration_statement=5s', `role=${baseName}`]);
  });

  it('refuses an alternate equal to the base or to the admin, and a missing base', async () => {
    const baseName = `guard_${suffix()}`;
    await createLoginRole(baseName);
    const same = await engineFailure(() =>
      postgresql.alignAlternateUser(target(), admin, baseName, { username: baseName, password: newPassword() }),
    );
    expect(same.code).toBe('invalid');
    const adminItself = await engineFailure(() =>
      postgresql.alignAlternateUser(target(), admin, baseName, { username: admin.username, password: newPassword() }),
    );
    expect(adminItself.code).toBe('invalid');
    const missing = await engineFailure(() =>
      postgresql.alignAlternateUser(target(), admin, `missing_${suffix()}`, {
        username: `missing_${suffix()}_clone`,
        password: newPassword(),
      }),
    );
    expect(missing.code).toBe('invalid');
    expect(await postgresql.checkLogin(target(), admin)).toEqual({ ok: true });
  });

  it('refuses names over 63 bytes instead of letting the server truncate them', async () => {
    const error = await engineFailure(() =>
      postgresql.alignAlternateUser(target(), admin, 'b', { username: `${'é'.repeat(32)}`, password: newPassword() }),
    );
    expect(error.code).toBe('invalid');
    expect(error.message).toMatch(/64 bytes/);
  });
});

describe('postgresql engine: hostile usernames', () => {
  const hostileNames = [
    'quote"inside',
    "apos'trophe",
    'with space',
    'back\\slash',
    'semi;colon',
    'ünïcødé-名前',
    'x"; DROP ROLE postgres; --',
    "y'); DROP ROLE postgres; --",
    'CamelCase',
    '$1 %s ?',
  ];

  it.each(hostileNames)('runs every verb for %j without injecting anything', async (hostile) => {
    const tag = suffix();
    const baseName = `${hostile}_${tag}`;

    const base = await createLoginRole(baseName);
    expect(await postgresql.checkLogin(target(), base)).toEqual({ ok: true });
    const rotated = { ...base, password: newPassword() };
    await postgresql.setOwnPassword(target(), base, rotated.password);
    expect(await postgresql.checkLogin(target(), rotated)).toEqual({ ok: true });

    const clone: Credential = { username: `${baseName}_clone`, password: newPassword() };
    createdRoles.add(clone.username);
    await postgresql.alignAlternateUser(target(), admin, baseName, clone);
    await asUser(clone, async (client) => {
      expect((await client.query('SELECT current_user AS u')).rows[0]).toEqual({ u: baseName });
    });

    const session = await rawClient(clone);
    await waitForSessions(clone.username, 1);
    expect(await postgresql.endSessions(target(), admin, clone.username)).toBe(1);
    await session.end().catch(() => undefined);

    // Exactly the two roles were added, under their exact names, and the admin is intact.
    const tagged = await adminClient.query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE strpos(rolname, $1) > 0 ORDER BY rolname',
      [tag],
    );
    expect(tagged.rows.map((row) => row.rolname).sort()).toEqual([baseName, clone.username].sort());
    const adminRole = await adminClient.query('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [admin.username]);
    expect(adminRole.rows[0]).toEqual({ rolsuper: true });
  });
});

describe('postgresql engine: endSessions', () => {
  it('ends the open sessions of the user and returns how many', async () => {
    const user = await createLoginRole(`sessions_${suffix()}`);
    const session = await rawClient(user);
    try {
      await waitForSessions(user.username, 1);
      expect(await postgresql.endSessions(target(), admin, user.username)).toBe(1);
      await expect(session.query('SELECT 1')).rejects.toThrow();
      await waitForSessions(user.username, 0);
      expect(await postgresql.endSessions(target(), admin, user.username)).toBe(0);
    } finally {
      await session.end().catch(() => undefined);
    }
  });

  it('only ends sessions opened before openedBefore', async () => {
    const user = await createLoginRole(`older_${suffix()}`);
    const session = await rawClient(user);
    try {
      await waitForSessions(user.username, 1);
      const started = await adminClient.query<{ backend_start: Date }>(
        'SELECT backend_start FROM pg_stat_activity WHERE usename = $1',
        [user.username],
      );
      const backendStart = started.rows[0]?.backend_start;
      if (backendStart === undefined) throw new Error('session not found in pg_stat_activity');

      expect(await postgresql.endSessions(target(), admin, user.username, new Date(backendStart.getTime() - 1_000))).toBe(0);
      expect((await session.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

      expect(await postgresql.endSessions(target(), admin, user.username, new Date(Date.now() + 1_000))).toBe(1);
      await expect(session.query('SELECT 1')).rejects.toThrow();
    } finally {
      await session.end().catch(() => undefined);
    }
  });

  it("never ends the admin's own session", async () => {
    // A dedicated superuser: ending the shared admin's sessions would disturb other test files.
    const selfAdmin = await createLoginRole(`self_admin_${suffix()}`, 'SUPERUSER');
    await waitForSessions(selfAdmin.username, 0);
    expect(await postgresql.endSessions(target(), selfAdmin, selfAdmin.username)).toBe(0);
    const other = await rawClient(selfAdmin);
    try {
      await waitForSessions(selfAdmin.username, 1);
      expect(await postgresql.endSessions(target(), selfAdmin, selfAdmin.username)).toBe(1);
      await expect(other.query('SELECT 1')).rejects.toThrow();
    } finally {
      await other.end().catch(() => undefined);
    }
  });

  it('names the grant a non-privileged admin needs', async () => {
    const weakAdmin = await createLoginRole(`weak_${suffix()}`);
    const user = await createLoginRole(`target_${suffix()}`);
    const session = await rawClient(user);
    try {
      await waitForSessions(user.username, 1);
      const error = await engineFailure(() => postgresql.endSessions(target(), weakAdmin, user.username));
      expect(error.code).toBe('privilege');
      expect(error.message).toContain('pg_signal_backend');
      const hidden = await engineFailure(() =>
        postgresql.endSessions(target(), weakAdmin, user.username, new Date(Date.now() + 1_000)),
      );
      expect(hidden.code).toBe('privilege');
      expect(hidden.message).toContain('pg_read_all_stats');
      expect((await session.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await session.end().catch(() => undefined);
    }
  });
});

describe('postgresql engine: the server log', () => {
  it('never contains a plaintext password, only verifiers (runs last)', async () => {
    expect(plaintextPasswords.length).toBeGreaterThan(10);
    const log = await readFile(server.logFile, 'utf8');
    // Statement logging is on and caught the engine's password changes...
    expect(log).toMatch(/ALTER ROLE .* PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(log).toMatch(/CREATE ROLE .* PASSWORD 'SCRAM-SHA-256\$4096:/);
    // ...but none of the passwords themselves.
    const leaked = plaintextPasswords.filter((password) => log.includes(password));
    expect(leaked).toEqual([]);
  });
});
