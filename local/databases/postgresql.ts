// A throwaway PostgreSQL server from the Debian server binaries: scram-sha-256 passwords, TLS
// with the run's certificate, loopback only, durability switched off for speed.
//
// The postmaster is spawned directly as our child (not through pg_ctl), so this process reaps it
// when it stops and can watch it die during startup. As root, initdb and the server run with the
// postgres user's uid/gid (initdb refuses root); Node's spawn drops root's groups as it switches.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, chown, constants, copyFile, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { DatabaseServer } from './index';
import { freeLoopbackPort } from './ports';
import { createRunDir, describeExecError, hasExited, readLogTail, reapAbandonedRunsOnce, waitUntil, type RunDir } from './run-dir';
import type { TestCertificates } from './tls';

const execFileAsync = promisify(execFile);

export interface PostgresOptions {
  certificates: TestCertificates;
  /** Log every statement (log_statement = all) to logFile. */
  logStatements?: boolean;
  /** More server settings (postgresql.conf names), applied last: they win over the defaults here. */
  extraConfig?: Record<string, string>;
}

const PG_LIB_DIR = '/usr/lib/postgresql';
const ADMIN_USER = 'postgres';
const ADMIN_DATABASE = 'postgres';
const BIND_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 30_000;

/** Where the server's files go inside its run directory. */
interface Layout {
  runDir: string;
  dataDir: string;
  logFile: string;
  passwordFile: string;
}

/** The uid/gid the server runs as when we are root; undefined when we run it as ourselves. */
type ServerIdentity = { uid: number; gid: number } | undefined;

export async function startPostgres(opts: PostgresOptions): Promise<DatabaseServer> {
  const binDir = await findPostgresBinDir();
  const identity = await serverIdentity();
  await reapAbandonedRunsOnce();
  const runDir = await createRunDir('postgresql');
  try {
    return await initialiseAndStart(binDir, identity, runDir, opts);
  } catch (error) {
    await runDir.remove();
    throw error;
  }
}

async function initialiseAndStart(
  binDir: string,
  identity: ServerIdentity,
  runDir: RunDir,
  opts: PostgresOptions,
): Promise<DatabaseServer> {
  const layout: Layout = {
    runDir: runDir.path,
    dataDir: join(runDir.path, 'data'),
    logFile: join(runDir.path, 'server.log'),
    passwordFile: join(runDir.path, 'admin-password'),
  };
  await giveTo(identity, layout.runDir);

  const adminPassword = randomBytes(24).toString('base64url');
  await initialiseDataDir(binDir, identity, layout, adminPassword);
  await installTls(identity, layout, opts.certificates);
  await writeFile(join(layout.dataDir, 'pg_hba.conf'), PG_HBA);

  const port = await launch(binDir, identity, layout, opts);
  const version = await checkTlsLogin(port, adminPassword, opts.certificates.caPem, layout.logFile);
  return {
    engine: 'postgresql',
    host: '127.0.0.1',
    hostname: 'localhost',
    port,
    adminUser: ADMIN_USER,
    adminPassword,
    database: ADMIN_DATABASE,
    caFile: opts.certificates.caFile,
    caPem: opts.certificates.caPem,
    dataDir: layout.dataDir,
    logFile: layout.logFile,
    version,
    // SIGQUIT to the postmaster (an immediate shutdown, like `pg_ctl stop -m immediate`), wait
    // for it to exit, delete the directory.
    stop: () => runDir.remove(),
  };
}

// ---------------------------------------------------------------------------------------------
// Binaries and the OS user

async function findPostgresBinDir(): Promise<string> {
  const versions = (await readdir(PG_LIB_DIR).catch(() => []))
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const binDir = join(PG_LIB_DIR, version, 'bin');
    if (await allExecutable(binDir, ['initdb', 'postgres'])) return binDir;
  }
  throw new Error(
    `startPostgres: no PostgreSQL server binaries (initdb, postgres) in ${PG_LIB_DIR}/<version>/bin. ` +
      'Install the server: apt-get install postgresql',
  );
}

async function allExecutable(dir: string, programs: string[]): Promise<boolean> {
  const checks = programs.map((program) => access(join(dir, program), constants.X_OK));
  return (await Promise.allSettled(checks)).every((result) => result.status === 'fulfilled');
}

async function serverIdentity(): Promise<ServerIdentity> {
  if (process.getuid?.() !== 0) return undefined;
  const failure = new Error(
    'startPostgres: running as root needs the "postgres" OS user to run the server (initdb refuses root). ' +
      'apt-get install postgresql creates it.',
  );
  const { stdout } = await execFileAsync('getent', ['passwd', ADMIN_USER]).catch(() => {
    throw failure;
  });
  const [, , uid, gid] = stdout.trim().split(':');
  if (uid === undefined || gid === undefined) throw failure;
  return { uid: Number(uid), gid: Number(gid) };
}

async function giveTo(identity: ServerIdentity, path: string): Promise<void> {
  if (identity) await chown(path, identity.uid, identity.gid);
}

/** Options for running a server binary: as the server's user, in a clean, English environment. */
function processOptions(identity: ServerIdentity): { env: NodeJS.ProcessEnv; uid?: number; gid?: number } {
  // No PG* variables from the caller's shell; LC_ALL so messages (which we match) are English.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8' };
  return identity ? { env, uid: identity.uid, gid: identity.gid } : { env };
}

// ---------------------------------------------------------------------------------------------
// Data directory

async function initialiseDataDir(
  binDir: string,
  identity: ServerIdentity,
  layout: Layout,
  adminPassword: string,
): Promise<void> {
  // initdb reads the superuser password from a file, so it never appears in a command line.
  await writeFile(layout.passwordFile, `${adminPassword}\n`, { mode: 0o600 });
  await giveTo(identity, layout.passwordFile);
  try {
    await execFileAsync(
      join(binDir, 'initdb'),
      [
        '-D', layout.dataDir,
        '-U', ADMIN_USER,
        `--pwfile=${layout.passwordFile}`,
        '--auth=scram-sha-256',
        '--no-sync',
        '--no-instructions',
        '-E', 'UTF8',
        '--locale=C.UTF-8',
      ],
      { ...processOptions(identity), timeout: 60_000 },
    );
  } catch (error) {
    throw new Error(
      `startPostgres: initdb failed in ${layout.dataDir}: ${describeExecError(error)}\n` +
        'If it cannot access the directory: the postgres OS user must be able to reach the temp dir (check TMPDIR).',
    );
  } finally {
    await rm(layout.passwordFile, { force: true });
  }
}

/** The server only accepts a key file it owns with mode 0600, so copy the run's cert and key in. */
async function installTls(identity: ServerIdentity, layout: Layout, certificates: TestCertificates): Promise<void> {
  const certFile = join(layout.dataDir, 'server.crt');
  const keyFile = join(layout.dataDir, 'server.key');
  await copyFile(certificates.serverCertFile, certFile);
  await copyFile(certificates.serverKeyFile, keyFile);
  await chmod(keyFile, 0o600);
  await giveTo(identity, certFile);
  await giveTo(identity, keyFile);
}

/**
 * Every connection must present a password checked with SCRAM: no `trust`, and no unix-socket
 * line at all. TLS and plaintext are both accepted on purpose, so that tests can show a client
 * gets plaintext only when it asks for it and verified TLS when it asks for that.
 */
const PG_HBA = [
  '# Written by local/databases/postgresql.ts for a throwaway test server.',
  '# TYPE    DATABASE USER ADDRESS       METHOD',
  'hostssl   all      all  127.0.0.1/32  scram-sha-256',
  '# Plaintext is allowed deliberately (see postgresql.ts), still with a checked password.',
  'hostnossl all      all  127.0.0.1/32  scram-sha-256',
  '',
].join('\n');

function serverSettings(layout: Layout, port: number, opts: PostgresOptions): Record<string, string> {
  return {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: layout.runDir,
    // Throwaway data: durability costs startup and statement time for nothing.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ssl: 'on',
    ssl_cert_file: 'server.crt',
    ssl_key_file: 'server.key',
    ssl_min_protocol_version: 'TLSv1.2',
    password_encryption: 'scram-sha-256',
    // Logs go to stderr, which is the log file; user@database on session lines helps tests find theirs.
    logging_collector: 'off',
    log_line_prefix: '%m [%p] %q%u@%d ',
    ...(opts.logStatements ? { log_statement: 'all' } : {}),
    ...opts.extraConfig,
  };
}

/** Settings as `-c name=value` arguments: argv goes to the server unparsed, no quoting needed. */
function settingArguments(settings: Record<string, string>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => {
    if (!/^[a-z][a-z0-9_.]*$/i.test(name)) throw new Error(`startPostgres: bad setting name "${name}"`);
    return ['-c', `${name}=${value}`];
  });
}

// ---------------------------------------------------------------------------------------------
// Launch

/** Starts the server on a free port; takes another port if someone grabbed this one meanwhile. */
async function launch(binDir: string, identity: ServerIdentity, layout: Layout, opts: PostgresOptions): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freeLoopbackPort();
    const server = await spawnPostmaster(binDir, identity, layout, serverSettings(layout, port, opts));
    const outcome = await waitForReady(layout.dataDir, server);
    if (outcome === 'ready') return port;

    const tail = await readLogTail(layout.logFile);
    if (outcome === 'exited' && attempt < BIND_ATTEMPTS && /could not bind|Address already in use/i.test(tail)) continue;
    // A server that is still starting is stopped with the run directory (startPostgres' clean-up).
    throw new Error(
      `startPostgres: the server did not start on 127.0.0.1:${port} ` +
        `(${outcome === 'exited' ? `it exited: ${String(server.exitCode ?? server.signalCode)}` : `not ready after ${READY_TIMEOUT_MS} ms`}).\n` +
        `Last lines of the server log ${layout.logFile}:\n${tail}`,
    );
  }
}

async function spawnPostmaster(
  binDir: string,
  identity: ServerIdentity,
  layout: Layout,
  settings: Record<string, string>,
): Promise<ChildProcess> {
  const log = await open(layout.logFile, 'a', 0o640);
  try {
    const child = spawn(join(binDir, 'postgres'), ['-D', layout.dataDir, ...settingArguments(settings)], {
      ...processOptions(identity),
      stdio: ['ignore', log.fd, log.fd],
      // Own process group: a Ctrl-C in the terminal reaches the test runner, whose exit hooks
      // stop the server in order, not the server directly.
      detached: true,
    });
    child.on('error', () => undefined); // only spawn failures, which the pid check below reports
    if (child.pid === undefined) throw new Error(`startPostgres: could not run ${join(binDir, 'postgres')}`);
    // stop() or the exit hooks end it; it must not keep a finished test run alive.
    child.unref();
    return child;
  } finally {
    await log.close();
  }
}

/**
 * Polls the status line of postmaster.pid, which is how `pg_ctl -w` knows the server accepts
 * connections, until it reads "ready" or the server exits.
 */
async function waitForReady(dataDir: string, server: ChildProcess): Promise<'ready' | 'exited' | 'timeout'> {
  let ready = false;
  await waitUntil(async () => {
    ready = await postmasterSaysReady(dataDir, server.pid);
    return ready || hasExited(server);
  }, READY_TIMEOUT_MS);
  return ready ? 'ready' : hasExited(server) ? 'exited' : 'timeout';
}

async function postmasterSaysReady(dataDir: string, pid: number | undefined): Promise<boolean> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const lines = text.split('\n');
  // Line 1 is the postmaster's pid (an old file from another server must not count), line 8 its status.
  return lines[0] === String(pid) && lines[7]?.trim() === 'ready';
}

/**
 * Logs in the way the tests will (TCP, TLS verified against the run's CA for 'localhost', SCRAM)
 * so that a broken certificate or hba setup fails here, with the log, not in a test. Returns the version.
 */
async function checkTlsLogin(port: number, password: string, caPem: string, logFile: string): Promise<string> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: ADMIN_USER,
    password,
    database: ADMIN_DATABASE,
    ssl: { ca: caPem, servername: 'localhost' },
    connectionTimeoutMillis: 10_000,
  });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    const version = result.rows[0]?.server_version;
    if (version === undefined) throw new Error('SHOW server_version returned no row');
    return version;
  } catch (error) {
    throw new Error(
      `startPostgres: the server started but a TLS login as ${ADMIN_USER} failed: ${(error as Error).message}\n` +
        `Last lines of the server log ${logFile}:\n${await readLogTail(logFile)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
