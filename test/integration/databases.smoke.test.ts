// The test databases behave like the real thing where rotation depends on it: logins need the
// right password, TLS is verified against the run's CA and host name and fails closed otherwise,
// and a changed password takes effect at once.

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import mysql, { type ConnectionOptions, type RowDataPacket } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const tls = inject('tls');

/** Node's codes for "the server's certificate does not chain to a CA you trust". */
const UNTRUSTED_CERTIFICATE_CODES = [
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
];
/** Node's messages for those codes: mysql2 replaces the code with HANDSHAKE_SSL_ERROR but keeps them. */
const UNTRUSTED_CERTIFICATE_MESSAGE =
  /unable to verify the first certificate|unable to get local issuer certificate|self[- ]signed certificate in certificate chain/;
const WRONG_HOST_NAME_MESSAGE = /does not match certificate's altnames/;

function randomSecret(): string {
  return randomBytes(18).toString('base64url');
}

function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** The error `action` fails with; the test fails if it succeeds. */
async function failureOf(action: () => Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await action();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a failure, but the action succeeded');
}

describe('PostgreSQL test server', () => {
  const server = inject('postgres');

  /** Verified TLS to 'localhost', the way the rotation functions will connect. */
  function clientConfig(overrides: pg.ClientConfig = {}): pg.ClientConfig {
    return {
      host: server.hostname,
      port: server.port,
      user: server.adminUser,
      password: server.adminPassword,
      database: server.database,
      ssl: { ca: server.caPem, servername: server.hostname },
      connectionTimeoutMillis: 10_000,
      ...overrides,
    };
  }

  async function login(overrides: pg.ClientConfig = {}): Promise<pg.Client> {
    const client = new pg.Client(clientConfig(overrides));
    await client.connect();
    return client;
  }

  async function loginAndLeave(overrides: pg.ClientConfig = {}): Promise<void> {
    await (await login(overrides)).end();
  }

  async function sessionSsl(client: pg.Client): Promise<{ ssl: boolean; version: string | null }> {
    const result = await client.query<{ ssl: boolean; version: string | null }>(
      'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    const row = result.rows[0];
    if (row === undefined) throw new Error('pg_stat_ssl has no row for this session');
    return row;
  }

  let admin: pg.Client;
  beforeAll(async () => {
    admin = await login();
  });
  afterAll(async () => {
    await admin?.end();
  });

  it('logs in over TLS verified against the run CA for localhost, and the session is encrypted', async () => {
    const client = await login();
    try {
      const ssl = await sessionSsl(client);
      expect(ssl.ssl).toBe(true);
      expect(ssl.version).toMatch(/^TLSv1\.[23]$/);
    } finally {
      await client.end();
    }
  });

  it('refuses a wrong password', async () => {
    const error = await failureOf(() => loginAndLeave({ password: `${server.adminPassword}-wrong` }));
    expect(error.code).toBe('28P01');
  });

  it('fails closed when the client trusts an unrelated CA', async () => {
    const error = await failureOf(() => loginAndLeave({ ssl: { ca: tls.otherCaPem, servername: server.hostname } }));
    expect(UNTRUSTED_CERTIFICATE_CODES).toContain(error.code);
  });

  it('fails closed when the host name is not in the certificate', async () => {
    const error = await failureOf(() =>
      loginAndLeave({ host: server.host, ssl: { ca: server.caPem, servername: 'not-in-the-certificate.test' } }),
    );
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('uses plaintext only when the client does not ask for TLS (still with a checked password)', async () => {
    const client = await login({ ssl: false });
    try {
      expect((await sessionSsl(client)).ssl).toBe(false);
    } finally {
      await client.end();
    }
    const error = await failureOf(() => loginAndLeave({ ssl: false, password: 'wrong' }));
    expect(error.code).toBe('28P01');
  });

  it('applies a password change at once: the old password is refused, the new one works', async () => {
    const user = uniqueName('smoke_user');
    const oldPassword = randomSecret();
    const newPassword = randomSecret();
    const role = admin.escapeIdentifier(user);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD ${admin.escapeLiteral(oldPassword)}`);
    try {
      await loginAndLeave({ user, password: oldPassword });
      await admin.query(`ALTER ROLE ${role} PASSWORD ${admin.escapeLiteral(newPassword)}`);

      const error = await failureOf(() => loginAndLeave({ user, password: oldPassword }));
      expect(error.code).toBe('28P01');
      const client = await login({ user, password: newPassword });
      try {
        const result = await client.query<{ current_user: string }>('SELECT current_user');
        expect(result.rows[0]?.current_user).toBe(user);
      } finally {
        await client.end();
      }
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('writes the statements to its log file', async () => {
    const marker = uniqueName('smoke_marker');
    await admin.query(`SELECT '${marker}' AS marker`);
    expect(await readFile(server.logFile, 'utf8')).toContain(marker);
  });
});

describe('MariaDB test server', () => {
  const server = inject('mariadb');

  /** Verified TLS to 'localhost'. mysql2 checks the host name only with verifyIdentity: true. */
  function connectionOptions(overrides: ConnectionOptions = {}): ConnectionOptions {
    return {
      host: server.hostname,
      port: server.port,
      user: server.adminUser,
      password: server.adminPassword,
      database: server.database,
      ssl: { ca: server.caPem, verifyIdentity: true },
      connectTimeout: 10_000,
      ...overrides,
    };
  }

  async function login(overrides: ConnectionOptions = {}): Promise<mysql.Connection> {
    return mysql.createConnection(connectionOptions(overrides));
  }

  async function loginAndLeave(overrides: ConnectionOptions = {}): Promise<void> {
    await (await login(overrides)).end();
  }

  async function sslCipher(connection: mysql.Connection): Promise<string> {
    const [rows] = await connection.query<RowDataPacket[]>("SHOW STATUS LIKE 'Ssl_cipher'");
    const value: unknown = rows[0]?.Value;
    if (typeof value !== 'string') throw new Error('SHOW STATUS returned no Ssl_cipher');
    return value;
  }

  /** A TCP connection to the server whatever `host` says, so the TLS name check sees that name. */
  function streamToServer(): () => ReturnType<typeof connect> {
    return () => connect(server.port, server.host);
  }

  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await login();
  });
  afterAll(async () => {
    await admin?.end();
  });

  it('logs in over TLS verified against the run CA for localhost, and the session is encrypted', async () => {
    const connection = await login();
    try {
      expect(await sslCipher(connection)).not.toBe('');
    } finally {
      await connection.end();
    }
  });

  it('refuses a wrong password', async () => {
    const error = await failureOf(() => loginAndLeave({ password: `${server.adminPassword}-wrong` }));
    expect(error.code).toBe('ER_ACCESS_DENIED_ERROR');
  });

  it('fails closed when the client trusts an unrelated CA', async () => {
    const error = await failureOf(() => loginAndLeave({ ssl: { ca: tls.otherCaPem, verifyIdentity: true } }));
    expect(error.code).toBe('HANDSHAKE_SSL_ERROR');
    expect(error.message).toMatch(UNTRUSTED_CERTIFICATE_MESSAGE);
  });

  it('fails closed when the host name is not in the certificate (with verifyIdentity)', async () => {
    const error = await failureOf(() =>
      loginAndLeave({ host: 'not-in-the-certificate.test', stream: streamToServer() }),
    );
    expect(error.code).toBe('HANDSHAKE_SSL_ERROR');
    expect(error.message).toMatch(WRONG_HOST_NAME_MESSAGE);
  });

  it('does not check the host name without verifyIdentity (a mysql2 default to remember)', async () => {
    await expect(
      loginAndLeave({ host: 'not-in-the-certificate.test', stream: streamToServer(), ssl: { ca: server.caPem } }),
    ).resolves.toBeUndefined();
  });

  it('uses plaintext only when the client does not ask for TLS (still with a checked password)', async () => {
    const connection = await login({ ssl: undefined });
    try {
      expect(await sslCipher(connection)).toBe('');
    } finally {
      await connection.end();
    }
    const error = await failureOf(() => loginAndLeave({ ssl: undefined, password: 'wrong' }));
    expect(error.code).toBe('ER_ACCESS_DENIED_ERROR');
  });

  it('applies a password change at once: the old password is refused, the new one works', async () => {
    const user = uniqueName('smoke_user');
    const oldPassword = randomSecret();
    const newPassword = randomSecret();
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', oldPassword]);
    try {
      await loginAndLeave({ user, password: oldPassword, database: undefined });
      await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [user, '%', newPassword]);

      const error = await failureOf(() => loginAndLeave({ user, password: oldPassword, database: undefined }));
      expect(error.code).toBe('ER_ACCESS_DENIED_ERROR');
      const connection = await login({ user, password: newPassword, database: undefined });
      try {
        const [rows] = await connection.query<RowDataPacket[]>('SELECT CURRENT_USER() AS user');
        expect(rows[0]?.user).toBe(`${user}@%`);
      } finally {
        await connection.end();
      }
    } finally {
      await admin.query('DROP USER IF EXISTS ?@?', [user, '%']);
    }
  });

  it('writes the statements to its general log', async () => {
    const marker = uniqueName('smoke_marker');
    await admin.query('SELECT ? AS marker', [marker]);
    expect(await readFile(server.logFile, 'utf8')).toContain(marker);
  });
});
