// Scratch directories for throwaway database servers, and the clean-up that stops them from
// outliving the test run that made them.
//
// Every run directory sits in the OS temp dir under RUN_DIR_PREFIX and holds an owner file naming
// the Node process that created it. Three layers of clean-up use that:
//   1. stop() on the server (the normal path);
//   2. exit / SIGINT / SIGTERM / SIGHUP hooks in this process, for failed or interrupted runs;
//   3. reapAbandonedRuns() at the next start, for owners that died without running any hook
//      (SIGKILL, OOM, a crashed machine session).
// Processes are found through /proc by the run directory in their command line (the servers get
// the data directory as an argument), so a server launched a moment before a crash is still found.
// Linux only, like the Debian server binaries these launchers use.

import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Recognisable prefix of every run directory; the reaper only looks at these. */
export const RUN_DIR_PREFIX = 'rotation-testdb-';

const OWNER_FILE = 'owner.json';

/** A run directory that was just made but has no owner file yet is left alone for this long. */
const UNOWNED_GRACE_MS = 60_000;

/** How long a server gets to exit after its stop signal before it is killed outright. */
const STOP_GRACE_MS = 3_000;

export interface RunDir {
  /** Absolute path of the directory. */
  path: string;
  /** Stops whatever still runs from the directory, then deletes it. Idempotent. */
  remove(): Promise<void>;
}

interface Owner {
  pid: number;
  /** Kernel start time of the owner; tells a live owner from a new process that reuses its pid. */
  startTime: string | null;
  label: string;
  createdAt: string;
}

// ---------------------------------------------------------------------------------------------
// Creating and removing run directories

/** Paths of the run directories this process made and has not removed yet. */
const liveRunDirs = new Set<string>();

/**
 * Makes a fresh run directory `<tmp>/rotation-testdb-<label>-XXXXXX` owned by this process and
 * arms the exit hooks, so the directory and its servers go away even if the caller never stops them.
 */
export async function createRunDir(label: string): Promise<RunDir> {
  if (!/^[a-z0-9-]+$/.test(label)) {
    throw new Error(`createRunDir: label "${label}" must be lowercase letters, digits and dashes`);
  }
  const path = await mkdtemp(join(tmpdir(), `${RUN_DIR_PREFIX}${label}-`));
  const owner: Owner = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    label,
    createdAt: new Date().toISOString(),
  };
  await writeFile(join(path, OWNER_FILE), `${JSON.stringify(owner)}\n`);
  liveRunDirs.add(path);
  armExitHooks();
  return { path, remove: () => removeRunDir(path) };
}

async function removeRunDir(path: string): Promise<void> {
  await stopProcessesUsing(path);
  await rm(path, { recursive: true, force: true });
  liveRunDirs.delete(path);
  if (liveRunDirs.size === 0) disarmExitHooks();
}

// ---------------------------------------------------------------------------------------------
// Clean-up when this process ends early

const HOOKED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksArmed = false;

function armExitHooks(): void {
  if (hooksArmed) return;
  hooksArmed = true;
  process.on('exit', removeLiveRunDirsSync);
  // Prepended so the servers are gone before another handler (vitest's, for one) calls
  // process.exit(), and so we can still see whether such a handler exists (see onSignal).
  for (const signal of HOOKED_SIGNALS) process.prependListener(signal, onSignal);
}

function disarmExitHooks(): void {
  if (!hooksArmed) return;
  hooksArmed = false;
  process.off('exit', removeLiveRunDirsSync);
  for (const signal of HOOKED_SIGNALS) process.off(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  removeLiveRunDirsSync();
  disarmExitHooks();
  // Listening to a signal switches off Node's default "terminate". If nobody else handles it,
  // raise it again so Ctrl-C still ends the process; otherwise leave the exit to that handler.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** Synchronous because 'exit' handlers cannot wait for promises. */
function removeLiveRunDirsSync(): void {
  for (const path of liveRunDirs) {
    try {
      stopProcessesUsingSync(path);
      rmSync(path, { recursive: true, force: true });
    } catch (error) {
      process.stderr.write(`could not clean up test database run dir ${path}: ${String(error)}\n`);
    }
  }
  liveRunDirs.clear();
}

// ---------------------------------------------------------------------------------------------
// Reaping what crashed runs left behind

let reapedOnce: Promise<string[]> | undefined;

/** reapAbandonedRuns(), once per process: the launchers call this before every start. */
export function reapAbandonedRunsOnce(): Promise<string[]> {
  reapedOnce ??= reapAbandonedRuns();
  return reapedOnce;
}

/**
 * Stops the servers of run directories whose owning process is gone and deletes the directories.
 * Directories of live owners (other test runs on this machine) are left alone.
 * Returns the paths it removed.
 */
export async function reapAbandonedRuns(): Promise<string[]> {
  const base = tmpdir();
  const names = (await readdir(base)).filter((name) => name.startsWith(RUN_DIR_PREFIX));
  const reaped: string[] = [];
  for (const name of names) {
    const path = join(base, name);
    if (liveRunDirs.has(path) || !(await isAbandoned(path))) continue;
    await stopProcessesUsing(path);
    await rm(path, { recursive: true, force: true });
    reaped.push(path);
  }
  return reaped;
}

async function isAbandoned(path: string): Promise<boolean> {
  const owner = await readOwner(path);
  if (owner === undefined) {
    // No owner file: either being created right now or a crash inside createRunDir.
    const info = await stat(path).catch(() => undefined);
    return info !== undefined && Date.now() - info.mtimeMs > UNOWNED_GRACE_MS;
  }
  return !isOwnerAlive(owner);
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(path, OWNER_FILE), 'utf8'));
    return isOwner(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isOwner(value: unknown): value is Owner {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.pid === 'number' &&
    (typeof record.startTime === 'string' || record.startTime === null)
  );
}

function isOwnerAlive(owner: Owner): boolean {
  if (!isProcessRunning(owner.pid)) return false;
  const startTime = processStartTime(owner.pid);
  return owner.startTime === null || startTime === null || startTime === owner.startTime;
}

// ---------------------------------------------------------------------------------------------
// Processes

interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** Processes whose command line mentions something inside `dir` (for example `-D <dir>/data`). */
function processesUsing(dir: string): ProcessInfo[] {
  const needle = `${dir}/`;
  const found: ProcessInfo[] = [];
  for (const entry of listProcDir()) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const argv = readCommandLine(pid);
    if (argv.some((arg) => arg.includes(needle))) found.push({ pid, argv });
  }
  return found;
}

function listProcDir(): string[] {
  try {
    return readdirSync('/proc');
  } catch {
    return []; // not Linux: only stop() and the servers' own shutdown remain
  }
}

function readCommandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return []; // exited meanwhile
  }
}

/**
 * A PostgreSQL postmaster gets SIGQUIT (immediate shutdown): it takes its backends down and
 * releases its shared memory, which SIGKILL would leak. Everything else (mariadbd, initdb,
 * runuser) holds nothing worth saving in a throwaway directory, so it is killed outright.
 */
function stopSignalFor(info: ProcessInfo): NodeJS.Signals {
  const program = basename(info.argv[0] ?? '');
  return program === 'postgres' || program === 'postmaster' ? 'SIGQUIT' : 'SIGKILL';
}

function signalAll(infos: ProcessInfo[], signal?: NodeJS.Signals): void {
  for (const info of infos) {
    try {
      process.kill(info.pid, signal ?? stopSignalFor(info));
    } catch {
      // already gone
    }
  }
}

async function stopProcessesUsing(dir: string): Promise<void> {
  const infos = processesUsing(dir);
  if (infos.length === 0) return;
  signalAll(infos);
  if (await waitUntil(() => infos.every((info) => !isProcessRunning(info.pid)), STOP_GRACE_MS)) return;
  signalAll(infos, 'SIGKILL');
  await waitUntil(() => infos.every((info) => !isProcessRunning(info.pid)), STOP_GRACE_MS);
}

function stopProcessesUsingSync(dir: string): void {
  const infos = processesUsing(dir);
  if (infos.length === 0) return;
  signalAll(infos);
  if (waitUntilSync(() => infos.every((info) => !isProcessRunning(info.pid)), STOP_GRACE_MS)) return;
  signalAll(infos, 'SIGKILL');
  waitUntilSync(() => infos.every((info) => !isProcessRunning(info.pid)), STOP_GRACE_MS);
}

/**
 * True while the process exists and is not a zombie. Zombies count as gone: a killed server
 * whose parent has not reaped it yet holds no files or ports any more.
 */
function isProcessRunning(pid: number): boolean {
  const stat = readProcStat(pid);
  // A zombie leader is not enough: in a threaded server (mariadbd) the main thread can be a zombie
  // while other threads still hold the listening socket. Gone means no live thread is left.
  if (stat !== undefined) return (stat.state !== 'Z' && stat.state !== 'X') || liveThreads(pid) > 0;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Threads of `pid` that are not zombies (0 once the whole process has exited). */
function liveThreads(pid: number): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  return tids.filter((tid) => {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }).length;
}

function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

/** Fields of /proc/<pid>/stat; the command name may contain spaces, so parse after its ')'. */
function readProcStat(pid: number): { state: string; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const startTime = fields[19];
  return state === undefined || startTime === undefined ? undefined : { state, startTime };
}

// ---------------------------------------------------------------------------------------------
// Small utilities shared by the launchers

/** Polls `check` every `intervalMs` until it is true (returns true) or `timeoutMs` passes (false). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function waitUntilSync(check: () => boolean, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    Atomics.wait(sleeper, 0, 0, 10);
  }
}

/**
 * The last lines of a log file, for error messages, with any `redact` strings masked; a note
 * instead if the file cannot be read.
 */
export async function readLogTail(path: string, opts: { lines?: number; redact?: string[] } = {}): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return `(could not read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  for (const secret of opts.redact ?? []) if (secret !== '') text = text.split(secret).join('***');
  return text.trimEnd().split('\n').slice(-(opts.lines ?? 25)).join('\n') || '(the log is empty)';
}

/** True once a spawned child has exited or been killed. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** What a failed execFile said: its stderr if it wrote any, else the error message. */
export function describeExecError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const stderr = (error as Error & { stderr?: unknown }).stderr;
  return typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : error.message;
}
