import { DescribeSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../local/cli';
import { engineOn } from '../conformance/engines';
import { createSecret, PG_LAMBDA, pgSecret, secretValue, startHarness, uniqueName, type PostgresHarness } from '../rotation/harness';

// The operator CLI end to end: against the sandbox endpoint (--endpoint), the real rotation
// handler and a real PostgreSQL, as an operator would run it.
let h: PostgresHarness;
beforeAll(async () => {
  h = await startHarness(engineOn('postgresql'));
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Runs `credrot …` in-process; returns its exit code and what it wrote to stdout. */
async function credrot(...args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const code = await main(['--endpoint', h.sandbox.endpoint, '--region', 'us-east-1', ...args]);
  vi.restoreAllMocks();
  process.exitCode = undefined;
  // The rotation handler runs in this process too: its Powertools log lines are not the CLI's output.
  return { code, stdout: stdout.split('\n').filter((line) => !line.startsWith('{"level"')).join('\n') };
}

async function rotatedSecret(): Promise<{ arn: string; user: string }> {
  const user = uniqueName('cli');
  await h.admin(`CREATE ROLE "${user}" LOGIN PASSWORD 'cli-initial-pw'`);
  const arn = await createSecret(h, uniqueName('cli-secret'), pgSecret(h.db, user, 'cli-initial-pw'));
  await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: PG_LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 } }));
  await h.sandbox.settle();
  return { arn, user };
}

describe('credrot against the sandbox', () => {
  it('rotate: waits for the rotation, and the new AWSCURRENT logs in', async () => {
    const { arn, user } = await rotatedSecret();
    const before = await secretValue(h, arn);
    const { code, stdout } = await credrot('--json', 'rotate', arn);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { versionId: string; status: string };
    expect(result.status).toBe('ok');
    const after = await secretValue(h, arn);
    expect(after.password).not.toBe(before.password);
    expect((await h.client.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages?.[result.versionId]).toEqual(['AWSCURRENT']);
    expect(await h.canLogin(user, after.password)).toBe(true);
    expect(stdout).not.toContain(after.password);
  });

  it('breach --dry-run: reports the plan and changes nothing; an unknown secret fails with exit 1', async () => {
    const { arn, user } = await rotatedSecret();
    const before = await secretValue(h, arn);
    const dry = await credrot('--json', 'breach', '--reason', 'drill', '--dry-run', arn);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, total: 1, failed: 0 });
    expect(await secretValue(h, arn)).toEqual(before);
    expect(await h.canLogin(user, before.password)).toBe(true);

    const unknown = await credrot('--json', 'breach', '--reason', 'drill', 'no-such-secret');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ failed: 1 });
  });

  it('breach: the leaked password stops working and the report says so', async () => {
    const { arn, user } = await rotatedSecret();
    const leaked = await secretValue(h, arn);
    const { code, stdout } = await credrot('--json', 'breach', '--reason', 'INC-CLI', arn);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ total: 1, succeeded: 1, failed: 0 });
    expect(await h.canLogin(user, leaked.password)).toBe(false);
    expect(await h.canLogin(user, (await secretValue(h, arn)).password)).toBe(true);
    expect(stdout).not.toContain(leaked.password);
  });

  it('scan: exit 1 and the summary when a secret is outside the policy', async () => {
    h.sandbox.seed([{ name: uniqueName('cli-stale'), createdDate: new Date(Date.now() - 200 * 86_400_000), secretString: '{"k":"v"}' }]);
    const { code, stdout } = await credrot('--json', 'scan');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ secrets: { nonCompliant: expect.any(Number) } });
    expect((JSON.parse(stdout) as { secrets: { nonCompliant: number } }).secrets.nonCompliant).toBeGreaterThan(0);
  });
});
