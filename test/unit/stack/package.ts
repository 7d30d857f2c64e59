import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** The repository root (serverless.yml's folder). */
export const root = join(__dirname, '..', '..', '..');
const serverlessBin = join(root, 'node_modules', '.bin', 'serverless');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs the project's `serverless` (osls) offline with a hard timeout: `invoke local` never exits
 * after a handler load error (toolchain reference), so a hang must become a failure, not a stuck
 * suite. Each run gets its own esbuild work folder under .esbuild/ (git-ignored) so concurrent
 * runs (other test files, `npm run bench`) do not overwrite each other's bundles.
 */
export function runServerless(args: string[], timeoutMs = 120_000): Promise<RunResult> {
  const workFolder = join('.esbuild', `test-${process.pid}-${randomBytes(4).toString('hex')}`);
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      serverlessBin,
      args,
      {
        cwd: root,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          SLS_ESBUILD_WORK_FOLDER: workFolder,
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
      (error, stdout, stderr) => {
        rmSync(join(root, workFolder), { recursive: true, force: true });
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, signal: error?.signal ?? null, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

export interface Packaged {
  dir: string;
  template: CfnTemplate;
  remove(): void;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: string;
  DependsOn?: string | string[];
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Conditions?: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
}

/** `serverless package` into a temporary folder; returns the update-stack template. */
export async function packageStack(extraArgs: string[] = []): Promise<Packaged> {
  const dir = mkdtempSync(join(tmpdir(), 'stack-package-'));
  const run = await runServerless(['package', '--package', dir, '--stage', 'ci', '--region', 'eu-west-1', ...extraArgs]);
  if (run.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`serverless package failed (code ${run.code}, signal ${run.signal}, ${Math.round(run.ms)} ms):\n${run.stdout}\n${run.stderr}`);
  }
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as CfnTemplate;
  return { dir, template, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  /** Offset of the entry's local file header. */
  localHeader: number;
}

/** A zip archive's central directory (no dependency needed). */
function centralDirectory(zip: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory record)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      localHeader: zip.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** File names in a zip archive, from its central directory. */
export function zipEntries(zip: Buffer): string[] {
  return centralDirectory(zip).map((e) => e.name);
}

/** One file's bytes from a zip archive (stored or deflated, as `serverless package` writes them). */
export function zipEntry(zip: Buffer, name: string): Buffer {
  const entry = centralDirectory(zip).find((e) => e.name === name);
  if (!entry) throw new Error(`${name} is not in the zip archive`);
  const at = entry.localHeader;
  if (zip.readUInt32LE(at) !== 0x04034b50) throw new Error('corrupt zip local header');
  const data = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const body = zip.subarray(data, data + entry.compressedSize);
  if (entry.method === 8) return inflateRawSync(body);
  if (entry.method === 0) return Buffer.from(body);
  throw new Error(`${name}: zip compression method ${entry.method} is not supported`);
}
