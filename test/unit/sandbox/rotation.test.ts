import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSandbox, type RotationEvent, type Sandbox } from '../../../local/secrets-manager';
import { referenceRotation, type ReferenceRotationHooks } from '../../support/reference-rotation';

const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-test';

let sandbox: Sandbox;
let client: SecretsManagerClient;

beforeEach(async () => {
  sandbox = await startSandbox({ rotation: { retryDelayMs: 1 } });
  client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await sandbox.close();
});

async function createSecret(value: object = { username: 'app', password: 'initial-pw' }): Promise<{ arn: string; versionId: string }> {
  const out = await client.send(new CreateSecretCommand({ Name: `rot-${randomUUID().slice(0, 8)}`, SecretString: JSON.stringify(value) }));
  return { arn: out.ARN!, versionId: out.VersionId! };
}

function useReference(hooks: ReferenceRotationHooks = {}): void {
  sandbox.functions.register(LAMBDA, referenceRotation(sandbox.endpoint, hooks));
}

const describe_ = (arn: string) => client.send(new DescribeSecretCommand({ SecretId: arn }));
const stagesOf = async (arn: string) => (await describe_(arn)).VersionIdsToStages ?? {};

describe('RotateSecret orchestration', () => {
  it('registers a value-less AWSPENDING stub, then invokes the four steps in order, each with the real event shape', async () => {
    const seen: { event: RotationEvent; stages: Record<string, string[]>; pendingReadError?: string }[] = [];
    useReference({
      beforeStep: async (event, c) => {
        const stages = (await c.send(new DescribeSecretCommand({ SecretId: event.SecretId }))).VersionIdsToStages ?? {};
        let pendingReadError: string | undefined;
        if (event.Step === 'createSecret') {
          pendingReadError = await c
            .send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }))
            .then(() => 'none', (err: Error) => err.name);
        }
        seen.push({ event, stages, ...(pendingReadError ? { pendingReadError } : {}) });
      },
    });
    const { arn, versionId: original } = await createSecret();
    const token = randomUUID();
    const out = await client.send(
      new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA, ClientRequestToken: token, RotationRules: { AutomaticallyAfterDays: 30 } }),
    );
    expect(out.VersionId).toBe(token);
    await sandbox.settle();

    expect(seen.map((s) => s.event.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    for (const { event } of seen) {
      expect(event).toEqual({ Step: event.Step, SecretId: arn, ClientRequestToken: token, RotationToken: expect.stringMatching(/^[a-zA-Z0-9-]{36,256}$/) });
    }
    expect(seen[0]?.stages[token]).toEqual(['AWSPENDING']);
    expect(seen[0]?.pendingReadError).toBe('ResourceNotFoundException');

    const stages = await stagesOf(arn);
    expect(stages).toEqual({ [token]: ['AWSCURRENT'], [original]: ['AWSPREVIOUS'] });
    const meta = await describe_(arn);
    expect(meta.RotationEnabled).toBe(true);
    expect(meta.RotationLambdaARN).toBe(LAMBDA);
    expect(meta.LastRotatedDate).toBeInstanceOf(Date);
    expect(meta.NextRotationDate!.getTime()).toBeGreaterThan(meta.LastRotatedDate!.getTime() + 29 * 86_400_000);
    expect(sandbox.rotations.events.map((e) => e.eventName)).toEqual(['RotationStarted', 'RotationSucceeded']);
  });

  it('cleans up an AWSPENDING label that a template-style finishSecret leaves on AWSCURRENT, so the next rotation may start', async () => {
    useReference({ templateStyleFinish: true });
    const { arn } = await createSecret();
    for (let i = 0; i < 3; i++) {
      await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA }));
      await sandbox.settle();
    }
    const stages = Object.values(await stagesOf(arn)).flat().sort();
    expect(stages).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    expect(sandbox.rotations.events.filter((e) => e.eventName === 'RotationSucceeded')).toHaveLength(3);
  });

  it('retries the whole rotation after a failed step and succeeds on a later attempt with the same token', async () => {
    let failures = 1;
    useReference({
      beforeStep: (event) => {
        if (event.Step === 'setSecret' && failures-- > 0) throw new Error('database unreachable');
      },
    });
    const { arn } = await createSecret();
    const { VersionId } = await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA }));
    await sandbox.settle();
    const steps = sandbox.rotations.invocations.map((i) => `${i.attempt}:${i.event.Step}`);
    expect(steps).toEqual(['1:createSecret', '1:setSecret', '2:createSecret', '2:setSecret', '2:testSecret', '2:finishSecret']);
    expect(new Set(sandbox.rotations.invocations.map((i) => i.event.ClientRequestToken))).toEqual(new Set([VersionId]));
    const names = sandbox.rotations.events.map((e) => e.eventName);
    expect(names).toEqual(['RotationStarted', 'RotationFailed', 'RotationSucceeded']);
    expect(sandbox.rotations.events[1]?.errorMessage).toContain('during setSecret step');
  });

  it('leaves a rotation that keeps failing pending, refuses a new one, and completes it on the next retry', async () => {
    let broken = true;
    useReference({
      beforeStep: (event) => {
        if (broken && event.Step === 'testSecret') throw new Error('login failed');
      },
    });
    const { arn, versionId: original } = await createSecret();
    const { VersionId: token } = await client.send(
      new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 7 } }),
    );
    await sandbox.settle();
    expect(sandbox.rotations.events.filter((e) => e.eventName === 'RotationFailed')).toHaveLength(3);
    expect(await stagesOf(arn)).toEqual({ [original]: ['AWSCURRENT'], [token!]: ['AWSPENDING'] });
    expect((await describe_(arn)).LastRotatedDate).toBeUndefined();

    await expect(client.send(new RotateSecretCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining("previous rotation isn't complete"),
    });

    broken = false;
    await expect(sandbox.retryPendingRotation(arn)).resolves.toBe('succeeded');
    expect(await stagesOf(arn)).toEqual({ [token!]: ['AWSCURRENT'], [original]: ['AWSPREVIOUS'] });
  });

  it('counts a finishSecret that does not move AWSCURRENT as a failure', async () => {
    useReference({ skipFinish: true });
    const { arn } = await createSecret();
    await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA }));
    await sandbox.settle();
    const failed = sandbox.rotations.events.filter((e) => e.eventName === 'RotationFailed');
    expect(failed).toHaveLength(3);
    expect(failed[0]?.errorMessage).toContain('is not AWSCURRENT');
    expect((await describe_(arn)).LastRotatedDate).toBeUndefined();
  });

  it('abandons a rotation when a new AWSCURRENT is written meanwhile', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    useReference({
      beforeStep: async (event) => {
        if (event.Step === 'setSecret') await gate;
      },
    });
    const { arn } = await createSecret();
    const { VersionId: token } = await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA }));
    await vi.waitFor(() => expect(sandbox.rotations.invocations.some((i) => i.event.Step === 'createSecret')).toBe(true));
    const put = await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: '{"username":"app","password":"manual"}' }));
    release();
    await sandbox.settle();
    expect(sandbox.rotations.events.map((e) => e.eventName)).toContain('RotationAbandoned');
    const stages = await stagesOf(arn);
    expect(stages[put.VersionId!]).toEqual(['AWSCURRENT']);
    expect(stages[token!]).toBeUndefined();
  });

  it('refuses without changing anything when no function is configured or it cannot be invoked', async () => {
    const { arn } = await createSecret();
    const before = await describe_(arn);
    await expect(client.send(new RotateSecretCommand({ SecretId: arn }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await expect(
      client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:missing', RotationRules: { AutomaticallyAfterDays: 1 } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    const after = await describe_(arn);
    expect(after.VersionIdsToStages).toEqual(before.VersionIdsToStages);
    expect(after.RotationEnabled).toBeUndefined();
    expect(after.RotationLambdaARN).toBeUndefined();
  });

  it('RotateImmediately=false runs only testSecret against a pending copy of the current value, then removes it', async () => {
    const steps: string[] = [];
    let pendingValue: string | undefined;
    useReference({
      beforeStep: async (event, c) => {
        steps.push(event.Step);
        const v = await c.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionStage: 'AWSPENDING' }));
        pendingValue = v.SecretString;
      },
    });
    const { arn, versionId } = await createSecret({ username: 'app', password: 'keep-me' });
    await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA, RotateImmediately: false, RotationRules: { AutomaticallyAfterDays: 10 } }));
    await sandbox.settle();
    expect(steps).toEqual(['testSecret']);
    expect(JSON.parse(pendingValue!)).toEqual({ username: 'app', password: 'keep-me' });
    expect(await stagesOf(arn)).toEqual({ [versionId]: ['AWSCURRENT'] });
    expect(sandbox.rotations.events.map((e) => e.eventName)).toEqual(['TestRotationStarted', 'TestRotationSucceeded']);
    expect((await describe_(arn)).RotationEnabled).toBe(true);
  });

  it('accepts on PutSecretValue only a RotationToken it issued for that secret', async () => {
    const { arn } = await createSecret();
    await expect(
      client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'x', VersionStages: ['AWSPENDING'], RotationToken: randomUUID() })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('rotates when the schedule comes due on the sandbox clock, and not before', async () => {
    useReference();
    const { arn } = await createSecret();
    await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 } }));
    await sandbox.settle();
    const first = await describe_(arn);
    sandbox.clock.advanceDays(10);
    expect(await sandbox.runDueRotations()).toEqual([]);
    sandbox.clock.advanceDays(25);
    expect(await sandbox.runDueRotations()).toEqual(['succeeded']);
    const second = await describe_(arn);
    expect(second.LastRotatedDate!.getTime()).toBeGreaterThan(first.LastRotatedDate!.getTime() + 34 * 86_400_000);
    expect(second.NextRotationDate!.getTime()).toBeGreaterThan(second.LastRotatedDate!.getTime());
  });

  it('CancelRotateSecret turns rotation off and reports a dangling AWSPENDING for clean-up', async () => {
    useReference({ beforeStep: (e) => { if (e.Step === 'setSecret') throw new Error('no'); } });
    const { arn } = await createSecret();
    const { VersionId } = await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 5 } }));
    await sandbox.settle();
    const out = await client.send(new CancelRotateSecretCommand({ SecretId: arn }));
    expect(out.VersionId).toBe(VersionId);
    const meta = await describe_(arn);
    expect(meta.RotationEnabled).toBe(false);
    expect(meta.NextRotationDate).toBeUndefined();
  });
});

describe('sync mode', () => {
  it('answers RotateSecret only after the rotation has ended', async () => {
    const syncSandbox = await startSandbox({ rotation: { mode: 'sync' } });
    const c = new SecretsManagerClient({ endpoint: syncSandbox.endpoint, maxAttempts: 1 });
    try {
      syncSandbox.functions.register(LAMBDA, referenceRotation(syncSandbox.endpoint));
      const created = await c.send(new CreateSecretCommand({ Name: 'sync-secret', SecretString: '{"password":"a"}' }));
      const { VersionId } = await c.send(new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: LAMBDA }));
      const meta = await c.send(new DescribeSecretCommand({ SecretId: created.ARN }));
      expect(meta.VersionIdsToStages?.[VersionId!]).toEqual(['AWSCURRENT']);
    } finally {
      c.destroy();
      await syncSandbox.close();
    }
  });
});
