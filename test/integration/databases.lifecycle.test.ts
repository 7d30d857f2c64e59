// The launchers clean up after themselves: stop() removes the server and its directory, a failed
// start leaves nothing behind, a test run killed by a signal stops its servers on the way out, and
// one killed outright (SIGKILL) has its servers reaped by the next run.

import { spawn } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRunDir,
  createTestCertificates,
  reapAbandonedRuns,
  RUN_DIR_PREFIX,
  startMariaDb,
  startPostgres,
  type DatabaseServer,
  type RunDir,
  type TestCertificates,
} from '../../local/databases';

const LAUNCHERS_MODULE = fileURLToPath(new URL('../../local/databases/index.ts', import.meta.url));

let certificateDir: RunDir;
let certificates: TestCertificates;

beforeAll(async () => {
  certificateDir = await createRunDir('tls');
  certificates = await createTestCertificates(certificateDir.path);
});

afterAll(async () => {
  await certificateDir?.remove();
});

/** True if something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Run directories (full paths) whose owner file names `pid`. */
async function runDirsOwnedBy(pid: number): Promise<string[]> {
  const names = (await readdir(tmpdir())).filter((name) => name.startsWith(RUN_DIR_PREFIX));
  const owned: string[] = [];
  for (const name of names) {
    const owner = await readFile(join(tmpdir(), name, 'owner.json'), 'utf8').catch(() => '');
    if (owner.includes(`"pid":${pid},`)) owned.push(join(tmpdir(), name));
  }
  return owned;
}

describe.each([
  ['PostgreSQL', () => startPostgres({ certificates })],
  ['MariaDB', () => startMariaDb({ certificates })],
] as const)('%s launcher', (_engine, start) => {
  it('stop() ends the server, frees its port and deletes its directory; a second stop() is harmless', async () => {
    const server: DatabaseServer = await start();
    expect(await isListening(server.port)).toBe(true);
    expect(await exists(server.dataDir)).toBe(true);

    await server.stop();
    expect(await isListening(server.port)).toBe(false);
    expect(await exists(server.dataDir)).toBe(false);
    await expect(server.stop()).resolves.toBeUndefined();
  });
});

describe('a failed start', () => {
  it('reports the server log and leaves no directory behind', async () => {
    const before = await runDirsOwnedBy(process.pid);
    const failure = startPostgres({ certificates, extraConfig: { shared_buffers: 'not-a-size' } });
    await expect(failure).rejects.toThrow(/did not start[\s\S]*invalid value for parameter "shared_buffers"/);
    expect(await runDirsOwnedBy(process.pid)).toEqual(before);
  });
});

/** A separate Node process that starts a server and prints its port and data dir. */
function startServerInChildProcess(engine: 'postgresql' | 'mariadb') {
  const starter = engine === 'postgresql' ? 'startPostgres' : 'startMariaDb';
  const script = `
    const launchers = require(${JSON.stringify(LAUNCHERS_MODULE)});
    (async () => {
      const dir = await launchers.createRunDir('tls');
      const certificates = await launchers.createTestCertificates(dir.path);
      const server = await launchers.${starter}({ certificates });
      process.stdout.write(JSON.stringify({ port: server.port, dataDir: server.dataDir }) + '\\n');
      setInterval(() => {}, 1000);
    })().catch((error) => { console.error(error); process.exit(1); });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = new Promise<{ port: number; dataDir: string }>((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(JSON.parse(output) as { port: number; dataDir: string });
    });
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    void exited.then(() => reject(new Error(`the child process exited before starting a server:\n${errors}`)));
  });
  return { child, started, exited };
}

describe('a test run that dies', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops its servers on %s', async (signal) => {
    const { child, started, exited } = startServerInChildProcess('mariadb');
    const server = await started;
    child.kill(signal);
    await exited;
    expect(await isListening(server.port)).toBe(false);
    expect(await exists(server.dataDir)).toBe(false);
  });

  it('has its servers reaped by the next run when killed with SIGKILL, and not before', async () => {
    const { child, started, exited } = startServerInChildProcess('postgresql');
    const server = await started;
    const runDir = dirname(server.dataDir);

    // While its owner lives, a run directory is not abandoned, whoever looks.
    expect(await reapAbandonedRuns()).not.toContain(runDir);
    expect(await isListening(server.port)).toBe(true);

    child.kill('SIGKILL');
    await exited;
    // No hook ran in the dead process: its server is orphaned but still up.
    expect(await isListening(server.port)).toBe(true);

    expect(await reapAbandonedRuns()).toContain(runDir);
    expect(await isListening(server.port)).toBe(false);
    expect(await exists(runDir)).toBe(false);
  });
});
