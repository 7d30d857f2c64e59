// Direct access to a throwaway server for tests, demos and the fault rig: SQL as its admin, "does
// this password log in?", and users created from a pre-hashed password so that the plaintext never
// reaches the server's statement or general log (the leak checks search those logs).

import mysql from 'mysql2/promise';
import pg from 'pg';
import { nativePasswordHash } from '../../shared/engines/mysql/passwords';
import { quoteAccount } from '../../shared/engines/mysql/sql';
import { scramSha256Verifier } from '../../shared/engines/postgresql/scram';
import type { DatabaseServer } from './index';

export type AccessTarget = Pick<DatabaseServer, 'engine' | 'hostname' | 'port' | 'adminUser' | 'adminPassword' | 'database'>;

export interface DatabaseAccess {
  /** Runs SQL as the server's admin: `$1` parameters on PostgreSQL, `?` on MariaDB. */
  admin<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** True when the server accepts this login over verified TLS, false when it refuses the password. */
  canLogin(username: string, password: string, dbname?: string): Promise<boolean>;
  /** A login user (any host on MariaDB) whose password is sent as a hash. */
  createUser(username: string, password: string): Promise<void>;
  userExists(username: string): Promise<boolean>;
}

/** Access to `server` over TLS verified against `caPem` and the server's host name. */
export function databaseAccess(server: AccessTarget, caPem: string, { connectTimeoutMs = 5000 } = {}): DatabaseAccess {
  return server.engine === 'postgresql' ? postgresAccess(server, caPem, connectTimeoutMs) : mariadbAccess(server, caPem, connectTimeoutMs);
}

interface Driver {
  query(user: string, password: string, dbname: string | undefined, sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  refused(error: unknown): boolean;
}

function access(server: AccessTarget, driver: Driver, createUserSql: (username: string, password: string) => string, userExistsSql: string): DatabaseAccess {
  const admin = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
    (await driver.query(server.adminUser, server.adminPassword, server.database, sql, params)) as T[];
  return {
    admin,
    async canLogin(username, password, dbname) {
      try {
        await driver.query(username, password, dbname, 'SELECT 1', []);
        return true;
      } catch (error) {
        if (driver.refused(error)) return false;
        throw error;
      }
    },
    async createUser(username, password) {
      await admin(createUserSql(username, password));
    },
    async userExists(username) {
      return (await admin(userExistsSql, [username])).length > 0;
    },
  };
}

function postgresAccess(server: AccessTarget, caPem: string, connectTimeoutMs: number): DatabaseAccess {
  const driver: Driver = {
    async query(user, password, dbname, sql, params) {
      const client = new pg.Client({ host: server.hostname, port: server.port, user, password, database: dbname ?? server.database, ssl: { ca: caPem }, connectionTimeoutMillis: connectTimeoutMs });
      client.on('error', () => undefined); // a session ended by the server must not crash the process
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as Record<string, unknown>[];
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    refused: (error) => (error as { code?: string }).code === '28P01',
  };
  return access(
    server,
    driver,
    (username, password) => `CREATE ROLE "${username.replace(/"/g, '""')}" LOGIN PASSWORD '${scramSha256Verifier(password)}'`,
    'SELECT 1 FROM pg_roles WHERE rolname = $1',
  );
}

function mariadbAccess(server: AccessTarget, caPem: string, connectTimeoutMs: number): DatabaseAccess {
  const driver: Driver = {
    async query(user, password, dbname, sql, params) {
      const connection = await mysql.createConnection({
        host: server.hostname,
        port: server.port,
        user,
        password,
        ...(dbname ? { database: dbname } : {}),
        ssl: { ca: caPem, verifyIdentity: true },
        connectTimeout: connectTimeoutMs,
      });
      try {
        const [rows] = await connection.query(sql, params);
        return (Array.isArray(rows) ? rows : []) as Record<string, unknown>[];
      } finally {
        await connection.end().catch(() => undefined);
      }
    },
    refused: (error) => (error as { errno?: number }).errno === 1045,
  };
  return access(
    server,
    driver,
    (username, password) => `CREATE USER ${quoteAccount({ user: username, host: '%' })} IDENTIFIED BY PASSWORD '${nativePasswordHash(password)}'`,
    'SELECT 1 FROM mysql.user WHERE User = ?',
  );
}
