// The sandbox enforcing an API quota (a throttle rule with perSecond): only the calls above the rate
// are refused, as AWS does, so client-side pacing can be tested for real. And the store's indexes
// that let it hold 1,000,000 secrets.

import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, ListSecretsCommand, RestoreSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../local/secrets-manager';
import { FaultInjector } from '../../../local/secrets-manager/faults';

/** An injector on a fake millisecond clock. */
function injector(): { faults: FaultInjector; clock: { t: number } } {
  const clock = { t: 0 };
  return { faults: new FaultInjector(Math.random, () => clock.t), clock };
}
const throttled = (faults: FaultInjector, operation: string): boolean => faults.decide(operation).error?.code === 'ThrottlingException';

describe('a quota: throttle with perSecond', () => {
  it('lets `burst` calls through at once, then one per 1/perSecond; refused calls use no allowance', () => {
    const { faults, clock } = injector();
    faults.add({ operation: 'ListSecrets', kind: 'throttle', perSecond: 100, burst: 3 });
    expect([1, 2, 3, 4, 5].map(() => throttled(faults, 'ListSecrets'))).toEqual([false, false, false, true, true]);
    clock.t += 10;
    expect(throttled(faults, 'ListSecrets')).toBe(false);
    expect(throttled(faults, 'ListSecrets')).toBe(true);
    // Sustained: at 100/s exactly, nothing is refused; at 125/s, one in five.
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      clock.t += 10;
      if (throttled(faults, 'ListSecrets')) refused++;
    }
    expect(refused).toBe(0);
    for (let i = 0; i < 1000; i++) {
      clock.t += 8;
      if (throttled(faults, 'ListSecrets')) refused++;
    }
    expect(refused).toBeGreaterThanOrEqual(190);
    expect(refused).toBeLessThanOrEqual(210);
    // Other operations are not counted.
    expect(throttled(faults, 'DescribeSecret')).toBe(false);
  });

  it('the default burst is a tenth of a second of calls', () => {
    const { faults } = injector();
    faults.add({ operation: 'ListSecrets', kind: 'throttle', perSecond: 100 });
    const out = Array.from({ length: 12 }, () => throttled(faults, 'ListSecrets'));
    expect(out.filter((t) => !t)).toHaveLength(10);
  });

  it('several operations can share one quota (PutSecretValue + UpdateSecretVersionStage)', () => {
    const { faults, clock } = injector();
    faults.add({ operation: ['PutSecretValue', 'UpdateSecretVersionStage'], kind: 'throttle', perSecond: 50, burst: 2 });
    expect(throttled(faults, 'PutSecretValue')).toBe(false);
    expect(throttled(faults, 'UpdateSecretVersionStage')).toBe(false);
    expect(throttled(faults, 'PutSecretValue')).toBe(true);
    expect(throttled(faults, 'GetSecretValue')).toBe(false);
    clock.t += 20;
    expect(throttled(faults, 'UpdateSecretVersionStage')).toBe(false);
  });

  it('times bounds the refusals; a quota only goes on a throttle rule', () => {
    const { faults } = injector();
    faults.add({ operation: 'RotateSecret', kind: 'throttle', perSecond: 1, burst: 1, times: 2 });
    expect([1, 2, 3, 4].map(() => throttled(faults, 'RotateSecret'))).toEqual([false, true, true, false]);
    expect(() => faults.add({ operation: 'X', kind: 'latency', perSecond: 5 })).toThrow(/throttle/);
    expect(() => faults.add({ operation: 'X', kind: 'throttle', perSecond: 0 })).toThrow(/positive/);
    expect(() => faults.add({ operation: 'X', kind: 'throttle', burst: 3 })).toThrow(/perSecond/);
  });
});

describe('the sandbox over HTTP', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('a quota set through /_sandbox/faults throttles the SDK above the rate', async () => {
    const res = await fetch(`${sandbox.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ operation: ['ListSecrets'], kind: 'throttle', perSecond: 1, burst: 2 }) });
    expect(res.status).toBe(200);
    const bad = await fetch(`${sandbox.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ operation: 'ListSecrets', kind: 'latency', perSecond: 1 }) });
    expect(bad.status).toBe(400);
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 1 });
    await client.send(new ListSecretsCommand({}));
    await client.send(new ListSecretsCommand({}));
    await expect(client.send(new ListSecretsCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
    sandbox.faults.clear();
    client.destroy();
  });

  it('lookups by ARN, name and partial ARN, and scheduled deletions, through the store indexes', async () => {
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 1 });
    const arns = sandbox.seed(Array.from({ length: 2000 }, (_, i) => ({ name: `idx/${i}` })));
    const arn = arns[1234]!;
    for (const id of [arn, 'idx/1234', arn.slice(0, -7)]) {
      expect((await client.send(new DescribeSecretCommand({ SecretId: id }))).ARN).toBe(arn);
    }
    await expect(client.send(new DescribeSecretCommand({ SecretId: `${arn.slice(0, -7)}x` }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(() => sandbox.seed([{ name: 'idx/7' }])).toThrow(/already exists/);
    // A deletion with a recovery window stays listed until it runs out; a restored one stays for good.
    await client.send(new DeleteSecretCommand({ SecretId: 'idx/1', RecoveryWindowInDays: 7 }));
    await client.send(new DeleteSecretCommand({ SecretId: 'idx/2', RecoveryWindowInDays: 7 }));
    await client.send(new RestoreSecretCommand({ SecretId: 'idx/2' }));
    sandbox.clock.advanceDays(8);
    await expect(client.send(new DescribeSecretCommand({ SecretId: 'idx/1' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(client.send(new DescribeSecretCommand({ SecretId: 'idx/2' }))).resolves.toMatchObject({ Name: 'idx/2' });
    await expect(client.send(new CreateSecretCommand({ Name: 'idx/1', SecretString: 'again' }))).resolves.toMatchObject({ Name: 'idx/1' });
    sandbox.clock.reset();
    client.destroy();
  });
});
