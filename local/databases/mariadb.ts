// A throwaway MariaDB server (the stand-in for MySQL on Debian): password logins only, TLS with
// the run's certificate, loopback only, small buffers and no durability, for speed.
//
// Accounts: 'admin'@'%' (ALL PRIVILEGES WITH GRANT OPTION) for the tests, over TCP; root@localhost
// and root@127.0.0.1 share its password; no other account can log in. The passwords are set by
// --init-file, which the server runs before it opens any port.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import type { DatabaseServer } from './index';
import { freeLoopbackPort } from './ports';
import { createRunDir, hasExited, readLogTail, reapAbandonedRunsOnce, waitUntil, type RunDir } from './run-dir';
import type { TestCertificates } from './tls';

export interface MariaDbOptions {
  certificates: TestCertificates;
  /** Record every statement in the general log, which then is logFile. */
  generalLog?: boolean;
}

const ADMIN_USER = 'admin';
const ADMIN_DATABASE = 'mysql';
const BIND_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 30_000;
const INSTALL_HINT = 'Install the server: apt-get install mariadb-server';

/** Where the server's files go inside its run directory. */
interface Layout {
  runDir: string;
  dataDir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  generalLog: string;
  initFile: string;
  /** Its own temporary directory: concurrent servers sharing /tmp trip over each other's temp tables. */
  tmpDir: string;
}

/** The server binary and the scripts that create its system tables. */
interface Installation {
  server: string;
  systemTableScripts: string[];
}

export async function startMariaDb(opts: MariaDbOptions): Promise<DatabaseServer> {
  const installation = await findInstallation();
  await reapAbandonedRunsOnce();
  const runDir = await createRunDir('mariadb');
  try {
    return await initialiseAndStart(installation, runDir, opts);
  } catch (error) {
    await runDir.remove();
    throw error;
  }
}

async function initialiseAndStart(installation: Installation, runDir: RunDir, opts: MariaDbOptions): Promise<DatabaseServer> {
  const layout: Layout = {
    runDir: runDir.path,
    dataDir: join(runDir.path, 'data'),
    socket: join(runDir.path, 'mysqld.sock'),
    pidFile: join(runDir.path, 'mysqld.pid'),
    errorLog: join(runDir.path, 'error.log'),
    generalLog: join(runDir.path, 'general.log'),
    initFile: join(runDir.path, 'init.sql'),
    tmpDir: join(runDir.path, 'tmp'),
  };
  await mkdir(layout.tmpDir, { recursive: true });
  const adminPassword = randomBytes(24).toString('base64url');

  await createSystemTables(installation, layout);
  await writeFile(layout.initFile, initSql(adminPassword), { mode: 0o600 });
  const port = await launch(installation.server, layout, opts.certificates, adminPassword);
  await rm(layout.initFile, { force: true }); // it holds the password in clear

  const version = await checkTlsLogin(port, adminPassword, opts.certificates.caPem, layout.errorLog);
  if (opts.generalLog) await enableGeneralLog(layout, adminPassword);
  return {
    engine: 'mariadb',
    host: '127.0.0.1',
    hostname: 'localhost',
    port,
    adminUser: ADMIN_USER,
    adminPassword,
    database: ADMIN_DATABASE,
    caFile: opts.certificates.caFile,
    caPem: opts.certificates.caPem,
    dataDir: layout.dataDir,
    logFile: opts.generalLog ? layout.generalLog : layout.errorLog,
    version,
    // SIGKILL (the data is thrown away, so no clean shutdown is owed), wait, delete the directory.
    stop: () => runDir.remove(),
  };
}

// ---------------------------------------------------------------------------------------------
// Installation

/** Where Debian's mariadb-server-core puts the server and its bootstrap scripts. */
const SERVER_CANDIDATES = ['/usr/sbin/mariadbd', '/usr/bin/mariadbd', '/usr/local/sbin/mariadbd', '/usr/local/bin/mariadbd'];
const SCRIPT_DIR_CANDIDATES = ['/usr/share/mysql', '/usr/share/mariadb'];

/**
 * The system-table scripts mariadb-install-db feeds to `mariadbd --bootstrap`, minus the help
 * tables (2.4 MB of SQL) and the sys schema (0.6 MB), which no test needs and which make up most
 * of install-db's time: about 0.3 s instead of 0.65 s alone, and much less than its 1.2-1.8 s
 * when PostgreSQL initialises beside it on two cores.
 */
const SYSTEM_TABLE_SCRIPTS = ['mysql_system_tables.sql', 'mysql_performance_tables.sql', 'mysql_system_tables_data.sql'];

async function findInstallation(): Promise<Installation> {
  const server = await firstAccessible(SERVER_CANDIDATES, constants.X_OK);
  const firstScript = await firstAccessible(
    SCRIPT_DIR_CANDIDATES.map((dir) => join(dir, 'mysql_system_tables.sql')),
    constants.R_OK,
  );
  if (server === undefined || firstScript === undefined) {
    throw new Error(
      `startMariaDb: no MariaDB server here (looked for ${SERVER_CANDIDATES.join(', ')} and for ` +
        `mysql_system_tables.sql in ${SCRIPT_DIR_CANDIDATES.join(', ')}). ${INSTALL_HINT}`,
    );
  }
  const scriptDir = dirname(firstScript);
  return { server, systemTableScripts: SYSTEM_TABLE_SCRIPTS.map((name) => join(scriptDir, name)) };
}

async function firstAccessible(paths: string[], mode: number): Promise<string | undefined> {
  for (const path of paths) {
    if (await access(path, mode).then(() => true, () => false)) return path;
  }
  return undefined;
}

/** `--user=root` is how mariadbd agrees to run as root; as anyone else it must be left out. */
function runAsArguments(): string[] {
  return process.getuid?.() === 0 ? ['--user=root'] : [];
}

function cleanEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8' };
}

/** Sizes for a server that holds a few test users: fast to create, small in memory. */
const SMALL_SERVER = ['--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M', '--innodb-log-buffer-size=4M'];

// ---------------------------------------------------------------------------------------------
// System tables and accounts

/** What mariadb-install-db does, without the parts tests never use (see SYSTEM_TABLE_SCRIPTS). */
async function createSystemTables(installation: Installation, layout: Layout): Promise<void> {
  await mkdir(layout.dataDir, { mode: 0o700 });
  const scripts = await Promise.all(installation.systemTableScripts.map((path) => readFile(path, 'utf8')));
  // install-db's preamble: a NULL @auth_root_socket gives root password logins (empty until the
  // init file sets one), not unix_socket logins.
  const sql = ['CREATE DATABASE IF NOT EXISTS mysql;', 'USE mysql;', 'SET @auth_root_socket = NULL;', ...scripts].join('\n');
  const args = [
    '--no-defaults', // must come first: no /etc/mysql settings, and never /var/lib/mysql
    ...runAsArguments(),
    '--bootstrap',
    `--datadir=${layout.dataDir}`,
    `--tmpdir=${layout.tmpDir}`,
    '--log-warnings=0',
    '--enforce-storage-engine=',
    '--max-allowed-packet=8M',
    '--net-buffer-length=16K',
    '--skip-name-resolve',
    ...SMALL_SERVER,
  ];
  const result = await runWithInput(installation.server, args, sql);
  if (result.code !== 0) {
    throw new Error(
      `startMariaDb: creating the system tables in ${layout.dataDir} failed (mariadbd --bootstrap exited: ${String(result.code)}).\n` +
        `Last lines of its output:\n${result.stderr.trimEnd().split('\n').slice(-25).join('\n')}`,
    );
  }
}

/** Runs a program with `input` on its stdin; resolves with its exit code and stderr. */
function runWithInput(program: string, args: string[], input: string): Promise<{ code: number | string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env: cleanEnv(), stdio: ['pipe', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined); // a server that dies early closes stdin; the exit code tells
    child.on('error', (error) => resolve({ code: error.message, stderr: '' }));
    child.on('close', (code, signal) => resolve({ code: code ?? signal ?? 'unknown', stderr: Buffer.concat(stderr).toString('utf8') }));
    child.stdin.end(input);
  });
}

/**
 * Statements the server runs at startup, before it accepts any connection, so no moment exists
 * in which root listens with an empty password. One statement per line, as --init-file wants.
 */
function initSql(password: string): string {
  const secret = `'${password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [
    // The system-table scripts make a passwordless root for every local name (::1, the host
    // name, ...); keep only the two that get a password.
    "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1');",
    "DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '127.0.0.1');",
    'FLUSH PRIVILEGES;',
    `ALTER USER 'root'@'localhost' IDENTIFIED BY ${secret};`,
    `ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY ${secret};`,
    // OR REPLACE: the file runs again if a launch is retried on another port.
    `CREATE OR REPLACE USER '${ADMIN_USER}'@'%' IDENTIFIED BY ${secret};`,
    `GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'%' WITH GRANT OPTION;`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Launch

/** Starts the server on a free port; takes another port if someone grabbed this one meanwhile. */
async function launch(
  serverBinary: string,
  layout: Layout,
  certificates: TestCertificates,
  password: string,
): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freeLoopbackPort();
    const server = spawnServer(serverBinary, serverArguments(layout, port, certificates));
    const outcome = await waitForSocket(layout, server, password);
    if (outcome === 'ready') return port;

    const tail = await readLogTail(layout.errorLog, { redact: [password] });
    if (outcome === 'exited' && attempt < BIND_ATTEMPTS && /Bind on TCP\/IP port|Address already in use/i.test(tail)) continue;
    // A server that is still starting is stopped with the run directory (startMariaDb's clean-up).
    throw new Error(
      `startMariaDb: the server did not start on 127.0.0.1:${port} ` +
        `(${outcome === 'exited' ? `it exited: ${String(server.exitCode ?? server.signalCode)}` : `not ready after ${READY_TIMEOUT_MS} ms`}).\n` +
        `Last lines of the error log ${layout.errorLog}:\n${tail}`,
    );
  }
}

function serverArguments(layout: Layout, port: number, certificates: TestCertificates): string[] {
  return [
    '--no-defaults', // must come first
    ...runAsArguments(),
    `--datadir=${layout.dataDir}`,
    `--tmpdir=${layout.tmpDir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${layout.socket}`,
    `--pid-file=${layout.pidFile}`,
    `--log-error=${layout.errorLog}`,
    `--init-file=${layout.initFile}`,
    '--skip-name-resolve',
    `--ssl-ca=${certificates.caFile}`,
    `--ssl-cert=${certificates.serverCertFile}`,
    `--ssl-key=${certificates.serverKeyFile}`,
    '--tls-version=TLSv1.2,TLSv1.3',
    // Switched on after setup (enableGeneralLog), so the log starts with the tests' statements.
    `--general-log-file=${layout.generalLog}`,
    '--character-set-server=utf8mb4',
    // Throwaway data: durability costs time for nothing.
    '--skip-log-bin',
    '--innodb-flush-log-at-trx-commit=0',
    '--innodb-doublewrite=0',
    '--skip-innodb-adaptive-hash-index',
    '--performance-schema=OFF',
    '--loose-feedback=OFF',
    '--max-connections=100',
    ...SMALL_SERVER,
  ];
}

function spawnServer(serverBinary: string, args: string[]): ChildProcess {
  const child = spawn(serverBinary, args, {
    env: cleanEnv(),
    stdio: 'ignore', // it writes to --log-error
    // Own process group: a Ctrl-C in the terminal reaches the test runner, whose exit hooks
    // stop the server, rather than the server directly.
    detached: true,
  });
  child.on('error', () => undefined); // only spawn failures, which the pid check below reports
  if (child.pid === undefined) throw new Error(`startMariaDb: could not run ${serverBinary}`);
  // stop() or the exit hooks end it; it must not keep a finished test run alive.
  child.unref();
  return child;
}

/**
 * Polls a login as root over the unix socket. The socket opens only after the init file ran, so
 * the first login that works also proves the passwords are set.
 */
async function waitForSocket(layout: Layout, server: ChildProcess, password: string): Promise<'ready' | 'exited' | 'timeout'> {
  let ready = false;
  let failure: Error | undefined;
  await waitUntil(
    async () => {
      if (hasExited(server)) return true;
      const result = await trySocketLogin(layout.socket, password);
      if (result instanceof Error) failure = result;
      ready = result === 'ok';
      return ready || failure !== undefined;
    },
    READY_TIMEOUT_MS,
    25,
  );
  if (failure) {
    throw new Error(
      `startMariaDb: the server is up but root cannot log in over its socket (${failure.message}); ` +
        `did the init file fail? Last lines of the error log ${layout.errorLog}:\n` +
        (await readLogTail(layout.errorLog, { redact: [password] })),
    );
  }
  return ready ? 'ready' : hasExited(server) ? 'exited' : 'timeout';
}

/** 'ok' once root logs in; 'not yet' while the socket is missing or refuses; an Error otherwise. */
async function trySocketLogin(socketPath: string, password: string): Promise<'ok' | 'not yet' | Error> {
  try {
    const connection = await mysql.createConnection({ socketPath, user: 'root', password, connectTimeout: 1_000 });
    await connection.end();
    return 'ok';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT') return 'not yet';
    return new Error(errorSummary(error));
  }
}

/**
 * Logs in the way the tests will (TCP, TLS verified against the run's CA, the admin's password)
 * so that a broken certificate or account fails here, with the log, not in a test. Returns the version.
 */
async function checkTlsLogin(port: number, password: string, caPem: string, errorLog: string): Promise<string> {
  let connection: Connection | undefined;
  try {
    connection = await mysql.createConnection({
      host: '127.0.0.1',
      port,
      user: ADMIN_USER,
      password,
      database: ADMIN_DATABASE,
      ssl: { ca: caPem, verifyIdentity: true },
      connectTimeout: 10_000,
    });
    const [rows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
    const version: unknown = rows[0]?.version;
    if (typeof version !== 'string') throw new Error('SELECT VERSION() returned no row');
    return version;
  } catch (error) {
    throw new Error(
      `startMariaDb: the server started but a TLS login as ${ADMIN_USER} failed: ${errorSummary(error)}\n` +
        `Last lines of the error log ${errorLog}:\n${await readLogTail(errorLog, { redact: [password] })}`,
    );
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

async function enableGeneralLog(layout: Layout, password: string): Promise<void> {
  let connection: Connection | undefined;
  try {
    connection = await mysql.createConnection({ socketPath: layout.socket, user: 'root', password });
    await connection.query('SET GLOBAL general_log = ON');
  } catch (error) {
    throw new Error(`startMariaDb: could not switch the general log on: ${errorSummary(error)}`);
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

/** mysql2 errors carry the SQL text; keep to code and message so no password reaches a report. */
function errorSummary(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return `${code ?? 'error'}: ${(error as Error).message}`;
}
