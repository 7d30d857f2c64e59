#!/usr/bin/env node
// `npm test`: type-check, then every vitest project (unit, contract against the sandbox and
// moto_server, integration against real databases), then one closing line
// `N passed, N failed, N skipped` that CI reads (it does not read vitest's own summary).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const report = join(root, '.vitest-report.json');
const extraArgs = process.argv.slice(2);

const typecheck = spawnSync(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
const typecheckFailed = typecheck.status !== 0;
if (typecheckFailed) console.error('typecheck: failed (see the errors above)');

rmSync(report, { force: true });
const vitest = spawnSync(
  bin('vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extraArgs],
  { cwd: root, stdio: 'inherit' },
);

let passed = 0;
let failed = typecheckFailed ? 1 : 0;
let skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  // A file that failed to load (or a failing hook) has no failed tests but did fail.
  failed += r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed')).length;
} else {
  failed += 1;
  console.error('vitest wrote no report: it failed before running tests');
}
if (vitest.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
