// globalSetup of the `contract` vitest project: starts one moto_server shared by every test file
// (each test uses unique secret names) and provides its endpoint as `motoEndpoint`.
//
// moto_server missing: with CI=true that is a hard failure; elsewhere a loud warning is printed and
// the moto target's tests are skipped (reported as skipped, never as passed). A moto_server that is
// found but does not start is always a failure.

import type { TestProject } from 'vitest/node';
import { findMotoServer, startMotoServer } from '../../local/moto';
import './provided';

function loudWarning(lines: string[]): void {
  const bar = '!'.repeat(78);
  const body = lines.map((line) => `!!  ${line}`).join('\n');
  console.warn(`\n${bar}\n${body}\n${bar}\n`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const isCi = process.env.CI === 'true';
  if (findMotoServer() === undefined) {
    const where = 'Looked on PATH, in $HOME/.pyenv/shims, in $HOME/.pyenv/versions/*/bin and under $PYENV_ROOT.';
    const install = 'Install moto with its server extra, 5.2.x (pip install "moto[server]==5.2.1").';
    if (isCi) {
      throw new Error(
        ['CI=true: moto_server is REQUIRED for the contract tests and was NOT found.', where, install].join('\n'),
      );
    }
    loudWarning([
      'moto_server NOT FOUND: the contract tests will NOT run against moto.',
      where,
      'Every moto test is SKIPPED; only the sandbox is being checked.',
      install,
      '(With CI=true this is a hard failure.)',
    ]);
    project.provide('motoEndpoint', null);
    return async () => {};
  }

  // Found but failing to start is always an error (its stderr tail is in the message).
  const moto = await startMotoServer();
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    await moto.stop();
  };
}
