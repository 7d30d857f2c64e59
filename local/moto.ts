// Finds and runs moto_server (moto 5.2.x, pre-installed in the image's pyenv Python) as a second,
// independent Secrets Manager implementation for the contract tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

const READY_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_TAIL_CHARS = 4_000;

export interface MotoServer {
  /** e.g. http://127.0.0.1:PORT */
  endpoint: string;
  /** Kills moto_server and resolves once it has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where moto_server is: first on PATH, then the pyenv shim, then any pyenv-installed Python
 * ($HOME/.pyenv, and $PYENV_ROOT when that points elsewhere). Returns undefined when none is found.
 */
export function findMotoServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'moto_server');
    if (isExecutable(candidate)) return candidate;
  }
  const roots = [join(homedir(), '.pyenv')];
  const pyenvRoot = process.env.PYENV_ROOT;
  if (pyenvRoot !== undefined && pyenvRoot !== '' && !roots.includes(pyenvRoot)) roots.push(pyenvRoot);
  for (const root of roots) {
    const shim = join(root, 'shims', 'moto_server');
    if (isExecutable(shim)) return shim;
  }
  for (const root of roots) {
    let versions: string[];
    try {
      versions = readdirSync(join(root, 'versions')).sort().reverse();
    } catch {
      continue;
    }
    for (const version of versions) {
      const candidate = join(root, 'versions', version, 'bin', 'moto_server');
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1, found by binding a throwaway server to port 0. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free loopback port'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Starts moto_server on a random free loopback port and waits (up to 10 s) until
 * `GET /moto-api/` answers. Throws with the tail of moto's stderr if it does not come up.
 * The server is also killed when this Node process exits.
 */
export async function startMotoServer(): Promise<MotoServer> {
  const executable = findMotoServer();
  if (executable === undefined) {
    throw new Error(
      'moto_server not found (looked on PATH, in $HOME/.pyenv/shims and in $HOME/.pyenv/versions/*/bin, and under $PYENV_ROOT)',
    );
  }
  const port = await freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${port}`;

  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });

  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const killOnExit = (): void => {
    if (!hasExited(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('exit', killOnExit);
      if (hasExited(child)) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, STOP_TIMEOUT_MS);
      }
    })();
    return stopping;
  };

  const failure = async (reason: string): Promise<never> => {
    await stop();
    const tail = stderr.trim() === '' ? '(no stderr output)' : stderr.trimEnd();
    throw new Error(`moto_server (${executable}) ${reason}.\n--- tail of moto_server stderr ---\n${tail}`);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError !== undefined) return failure(`could not be started: ${spawnError.message}`);
    if (hasExited(child)) {
      return failure(`exited before becoming ready (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) {
      return failure(`did not answer GET ${endpoint}/moto-api/ within ${READY_TIMEOUT_MS / 1000} s`);
    }
    await sleep(POLL_INTERVAL_MS);
  }

  return { endpoint, stop };
}
