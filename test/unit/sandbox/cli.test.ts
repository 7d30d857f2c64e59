import { CreateSecretCommand, DescribeSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const OK_FN = 'arn:aws:lambda:us-east-1:123456789012:function:reference';
const FAILING_FN = 'arn:aws:lambda:us-east-1:123456789012:function:failing';

let child: ChildProcess;
let endpoint: string;

beforeAll(async () => {
  const command = `${tsx} ${join(root, 'test/support/reference-rotation-command.ts')}`;
  child = spawn(tsx, [join(root, 'local/secrets-manager/cli.ts'), '--port', '0', '--function', `${OK_FN}=${command}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Keep reading stdout for the life of the child (breaking out of it would close the pipe under it).
  endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${out}`)));
  });
}, 30_000);

afterAll(async () => {
  child.kill('SIGTERM');
  if (child.exitCode === null) await once(child, 'exit');
});

describe('standalone sandbox command', () => {
  it('serves the SDK and rotates through a command function that gets the event on stdin', async () => {
    const client = new SecretsManagerClient({ endpoint, maxAttempts: 1 });
    const created = await client.send(new CreateSecretCommand({ Name: 'cli-secret', SecretString: '{"password":"one"}' }));
    const { VersionId } = await client.send(new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: OK_FN }));
    await fetch(`${endpoint}/_sandbox/settle`, { method: 'POST' });
    const meta = await client.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    expect(meta.VersionIdsToStages?.[VersionId!]).toEqual(['AWSCURRENT']);
    client.destroy();
  }, 30_000);

  it('reports a failing command step with its stderr, after registering it over HTTP', async () => {
    const reg = await fetch(`${endpoint}/_sandbox/functions`, {
      method: 'POST',
      body: JSON.stringify({ arn: FAILING_FN, command: tsx, args: [join(root, 'test/support/reference-rotation-command.ts')], env: { FAIL_STEP: 'setSecret' } }),
    });
    expect(reg.status).toBe(200);
    const client = new SecretsManagerClient({ endpoint, maxAttempts: 1 });
    const created = await client.send(new CreateSecretCommand({ Name: 'cli-failing', SecretString: '{"password":"one"}' }));
    await client.send(new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: FAILING_FN }));
    await fetch(`${endpoint}/_sandbox/settle`, { method: 'POST' });
    const { events } = (await (await fetch(`${endpoint}/_sandbox/events`)).json()) as { events: { eventName: string; secretArn: string; errorMessage?: string }[] };
    const failures = events.filter((e) => e.secretArn === created.ARN && e.eventName === 'RotationFailed');
    expect(failures).toHaveLength(3);
    expect(failures[0]?.errorMessage).toMatch(/during setSecret step: .*failing setSecret as asked/s);
    client.destroy();
  }, 60_000);
});
