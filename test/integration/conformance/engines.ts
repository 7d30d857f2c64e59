// The engine conformance suite's registration list: one entry per engine under test. Every file in
// this folder runs each of its cases for every entry here (rotation.test.ts: the three strategies
// through the sandbox's RotateSecret, the template format, steps delivered twice, bad input, an
// unreachable database, the AWSPREVIOUS fallback, the leak canary; faults-*.test.ts: the fault
// matrix of ../reliability/matrix.ts; breach.test.ts: the breach response and its verbs), and so
// do the reliability files that take their engines from here (hostile input, TLS, tenant safety,
// pair confused deputy, chaos).
//
// ADDING AN ENGINE = ONE ENTRY IN `ENGINES_UNDER_TEST` below (its adapter in shared/engines/ and
// its function in functions/ exist; its test server is one that test/integration/global-setup.ts
// starts and local/databases + local/faults/rig.ts know). What only one engine does (PostgreSQL
// ownership and settings, MySQL account hosts and grants...) goes in a file of its own, next to
// test/integration/rotation/postgresql-specific.test.ts and mysql-specific.test.ts.

import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { DatabaseAccess } from '../../../local/databases';
import { mysqlEngine } from '../../../shared/engines/mysql';
import { quoteAccount, quoteIdentifier } from '../../../shared/engines/mysql/sql';
import { postgresql } from '../../../shared/engines/postgresql';
import type { Engine } from '../../../shared/engines/types';
import { MYSQL_LAMBDA, mysqlSecret, PG_LAMBDA, pgSecret, type HarnessEngine, type RotationWiring } from '../rotation/harness';

type AdminSql = Pick<DatabaseAccess, 'admin'>;
type Server = { hostname: string; port: number };

/** A session held open as some user (the breach response must end it). */
export interface OpenSession {
  /** Whether the session still answers a query (ask before closing it: a closed client always answers false). */
  alive(): Promise<boolean>;
  close(): Promise<void>;
}

/** What an engine does that others may not; the suite expects exactly these. */
export interface Capabilities {
  /** endSessions honours `openedBefore` (it can tell when a session was opened); else it refuses the filter. */
  sessionsByAge: boolean;
  /** One user name has several accounts (MySQL `'app'@'%'`, `'app'@'10.0.%'`): the breach response handles the others. */
  accountsPerName: boolean;
  /** Setting a password keeps the old one working until finishSecret discards it (MySQL 8.0.14+ RETAIN CURRENT PASSWORD). */
  dualPasswords: boolean;
}

export interface EngineUnderTest extends RotationWiring {
  /** As test titles name it. */
  name: string;
  /** The test server (global-setup) it runs against: also the harness's and the fault rig's engine key. */
  server: HarnessEngine;
  /** The adapter its function rotates with; it must be in shared/engines/registry.ts. */
  adapter: Engine;
  /** A secret value in the shape AWS's rotation templates use for this engine. */
  secret(db: Server, username: string, password: string, extra?: Record<string, unknown>): Record<string, unknown>;
  /** The database a secret's "dbname" names for `username` (created and granted as the admin where needed). */
  databaseFor(h: AdminSql, username: string): Promise<string>;
  /** Users whose names start with `prefix`, with their stored password hashes, as text: "nothing changed" is this unchanged. */
  usersSnapshot(h: AdminSql, prefix: string): Promise<string>;
  /** Lets `username` create users and set their passwords: an admin other than the server's own. */
  makeUserAdmin(h: AdminSql, username: string): Promise<void>;
  /** Opens a session as the user over verified TLS and keeps it open. */
  openSession(db: Server & { database: string }, caPem: string, username: string, password: string): Promise<OpenSession>;
  /** The server log must match these: it really records the statements that set passwords (as hashes), so the leak canary searches a real record. */
  logRecordsPasswords: RegExp[];
  capabilities: Capabilities;
}

const session = (query: () => Promise<unknown>, end: () => Promise<unknown>): OpenSession => ({
  alive: () => query().then(() => true, () => false),
  close: () => end().then(() => undefined, () => undefined),
});

export const ENGINES_UNDER_TEST: readonly EngineUnderTest[] = [
  {
    name: 'postgresql',
    server: 'postgresql',
    lambdaArn: PG_LAMBDA,
    loadHandler: () => import('../../../functions/rotate-postgresql/handler'),
    adapter: postgresql,
    secret: pgSecret,
    databaseFor: async () => 'postgres',
    usersSnapshot: async (h, prefix) => JSON.stringify(await h.admin('SELECT rolname, rolpassword FROM pg_authid WHERE starts_with(rolname, $1) ORDER BY 1', [prefix])),
    makeUserAdmin: async (h, username) => void (await h.admin(`ALTER ROLE "${username.replace(/"/g, '""')}" CREATEROLE`)),
    async openSession(db, caPem, username, password) {
      const c = new Client({ host: db.hostname, port: db.port, user: username, password, database: db.database, ssl: { ca: caPem } });
      c.on('error', () => undefined); // the server ending the session must not crash the test
      await c.connect();
      return session(() => c.query('SELECT 1'), () => c.end());
    },
    logRecordsPasswords: [/ALTER ROLE .* PASSWORD 'SCRAM-SHA-256\$4096:/],
    capabilities: { sessionsByAge: true, accountsPerName: false, dualPasswords: false },
  },
  {
    name: 'mysql',
    server: 'mariadb',
    lambdaArn: MYSQL_LAMBDA,
    loadHandler: () => import('../../../functions/rotate-mysql/handler'),
    adapter: mysqlEngine,
    secret: mysqlSecret,
    async databaseFor(h, username) {
      const db = `${username}_db`.slice(0, 64);
      await h.admin(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(db)}`);
      await h.admin(`GRANT ALL ON ${quoteIdentifier(db)}.* TO ${quoteAccount({ user: username, host: '%' })}`);
      return db;
    },
    usersSnapshot: async (h, prefix) =>
      JSON.stringify(await h.admin('SELECT User, Host, authentication_string FROM mysql.user WHERE LEFT(User, ?) = ? ORDER BY 1, 2', [prefix.length, prefix])),
    makeUserAdmin: async (h, username) => void (await h.admin(`GRANT CREATE USER ON *.* TO ${quoteAccount({ user: username, host: '%' })}`)),
    async openSession(db, caPem, username, password) {
      const c = await mysql.createConnection({ host: db.hostname, port: db.port, user: username, password, ssl: { ca: caPem } });
      c.on('error', () => undefined);
      return session(() => c.query('SELECT 1'), () => c.end());
    },
    logRecordsPasswords: [/SET PASSWORD = '\*[0-9A-F]{40}'/, /ALTER USER .* IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/],
    // MariaDB has no dual passwords (MySQL 8.0.14+ has: a MySQL 8 entry would say true).
    capabilities: { sessionsByAge: false, accountsPerName: true, dualPasswords: false },
  },
];

/** The entry whose test server is `server`. */
export function engineOn(server: HarnessEngine): EngineUnderTest {
  const found = ENGINES_UNDER_TEST.find((e) => e.server === server);
  if (!found) throw new Error(`No engine under test runs on the ${server} test server`);
  return found;
}

/** The test servers the registered engines run on, for the fault rig. */
export const SERVERS: readonly HarnessEngine[] = ENGINES_UNDER_TEST.map((e) => e.server);
