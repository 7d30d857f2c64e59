// The breach's Secrets Manager writes paced to their quotas, against the sandbox enforcing those
// quotas (RotateSecret; PutSecretValue + UpdateSecretVersionStage combined) over HTTP.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../local/secrets-manager';
import { createClient } from '../../../shared/aws/clients';
import { BreachSecretsApi, DEFAULT_BREACH_PACING, mapBounded, readBreachPacing, runBreach, type BreachDeps } from '../../../shared/breach';
import { FakeEngine } from '../../support/fake-engine';
import { referenceRotation } from '../../support/reference-rotation';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate';

let sandbox: Sandbox;
let client: SecretsManagerClient;
beforeEach(async () => {
  sandbox = await startSandbox({ rotation: { retryDelayMs: 0 } });
  client = createClient(SecretsManagerClient, { endpoint: sandbox.endpoint });
});
afterEach(async () => {
  client.destroy();
  await sandbox.close();
});

/** Calls of these operations the sandbox saw: answered, throttled, arrival times. */
function seen(operations: string[]): { ok: number; throttled: number; at: number[] } {
  const calls = sandbox.calls.filter((c) => operations.includes(c.operation));
  return { ok: calls.filter((c) => c.status === 200).length, throttled: calls.filter((c) => c.errorCode === 'ThrottlingException').length, at: calls.filter((c) => c.status === 200).map((c) => c.at.getTime()) };
}

/** The most calls within any `windowMs`. */
function busiest(at: number[], windowMs: number): number {
  const sorted = [...at].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('breach pacing settings', () => {
  it('default to a safe fraction of the 50/s quotas: 10 RotateSecret/s, 10 writes/s; 1–50 from the environment', () => {
    expect(DEFAULT_BREACH_PACING).toEqual({ rotationsPerSecond: 10, writesPerSecond: 10 });
    expect(readBreachPacing({})).toEqual(DEFAULT_BREACH_PACING);
    expect(readBreachPacing({ BREACH_ROTATIONS_PER_SECOND: '5', BREACH_WRITES_PER_SECOND: '25' })).toEqual({ rotationsPerSecond: 5, writesPerSecond: 25 });
    expect(() => readBreachPacing({ BREACH_WRITES_PER_SECOND: '80' })).toThrow(/BREACH_WRITES_PER_SECOND must be a whole number from 1 to 50.*50 per second/);
    expect(() => readBreachPacing({ BREACH_ROTATIONS_PER_SECOND: 'fast' })).toThrow(/BREACH_ROTATIONS_PER_SECOND/);
  });
});

describe('the breach over many secrets with the sandbox enforcing the quotas', () => {
  it('RotateSecret paced: 24 secrets at concurrency 20 against a 10/s quota, none throttled, every leaked password dead', async () => {
    const engine = new FakeEngine();
    // A rotation function that sets the new password in the fake database at setSecret.
    sandbox.functions.register(
      FN,
      referenceRotation(sandbox.endpoint, {
        beforeStep: async (event, sm) => {
          if (event.Step !== 'setSecret') return;
          const pending = await sm.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }));
          const value = JSON.parse(pending.SecretString ?? '{}') as { username: string; password: string };
          engine.users.set(value.username, value.password);
        },
      }),
    );
    const arns = sandbox.seed(
      Array.from({ length: 24 }, (_, i) => {
        engine.users.set(`app${i}`, `leaked-${i}`);
        return {
          name: `breach/${i}`,
          rotationEnabled: true,
          rotationLambdaArn: FN,
          rotationRules: { AutomaticallyAfterDays: 30 },
          secretString: JSON.stringify({ engine: 'postgres', host: 'db', port: 5432, username: `app${i}`, password: `leaked-${i}` }),
        };
      }),
    );
    sandbox.faults.add({ operation: 'RotateSecret', kind: 'throttle', perSecond: 10, burst: 3 });
    const lines: Array<Record<string, unknown>> = [];
    const deps: BreachDeps = {
      secrets: new BreachSecretsApi(client, readBreachPacing({})),
      engineFor: (e) => (e === 'postgres' ? engine : undefined),
      db: { connectTimeoutMs: 1000 },
      log: { info: (m, ...e) => lines.push({ m, ...Object.assign({}, ...e) }), error: (m, ...e) => lines.push({ m, level: 'error', ...Object.assign({}, ...e) }) },
      pollIntervalMs: 20,
    };
    const report = await runBreach({ reason: 'INC-1: pacing', secretIds: arns, endSessions: false, concurrency: 20 }, deps);
    expect(report.secrets.filter((s) => s.status !== 'ok').map((s) => s.error)).toEqual([]);
    for (let i = 0; i < 24; i++) expect(engine.users.get(`app${i}`)).not.toBe(`leaked-${i}`);
    const rotations = seen(['RotateSecret']);
    expect(rotations).toMatchObject({ ok: 24, throttled: 0 });
    // Paced at 10/s: 24 calls span at least (24 - 1) / 10 s, never more than 10 + 1 in a second.
    expect(Math.max(...rotations.at) - Math.min(...rotations.at)).toBeGreaterThanOrEqual(2000);
    expect(busiest(rotations.at, 1000)).toBeLessThanOrEqual(12);
    expect(lines.find((l) => l['action'] === 'finish')).toMatchObject({ pacing: { rotateSecret: { perSecond: 10, throttles: 0 }, writes: { perSecond: 10, throttles: 0 } } });
  }, 60_000);

  it('unpaced, the same concurrency trips the RotateSecret quota', async () => {
    sandbox.functions.register(FN, referenceRotation(sandbox.endpoint));
    const arns = sandbox.seed(Array.from({ length: 20 }, (_, i) => ({ name: `burst/${i}`, rotationEnabled: true, rotationLambdaArn: FN, rotationRules: { AutomaticallyAfterDays: 30 } })));
    sandbox.faults.add({ operation: 'RotateSecret', kind: 'throttle', perSecond: 10, burst: 3 });
    // One attempt each (no SDK retries to wait for): the point is only that the quota bites.
    const once = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 1 });
    const api = new BreachSecretsApi(once, { rotationsPerSecond: 10_000, writesPerSecond: 10_000 });
    await mapBounded(arns, 20, (arn) => api.rotate(arn).catch(() => undefined));
    expect(seen(['RotateSecret']).throttled).toBeGreaterThan(0);
    expect(api.pacing().rotateSecret.throttles).toBe(seen(['RotateSecret']).throttled);
    once.destroy();
  }, 60_000);

  it('UpdateSecretVersionStage paced: 30 stuck versions cleaned up at concurrency 20 against a 20/s write quota, none throttled', async () => {
    const pending = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const specs = Array.from({ length: 30 }, (_, i) => ({ name: `stuck/${i}`, versions: [{ stages: ['AWSCURRENT'], secretString: 'x' }, { versionId: pending(i), stages: ['AWSPENDING'] }] }));
    const arns = sandbox.seed(specs);
    sandbox.faults.add({ operation: ['PutSecretValue', 'UpdateSecretVersionStage'], kind: 'throttle', perSecond: 20, burst: 4 });
    const api = new BreachSecretsApi(client, { rotationsPerSecond: 10, writesPerSecond: 20 });
    await mapBounded(arns, 20, (arn, i) => api.removePending(arn, pending(i)));
    const writes = seen(['PutSecretValue', 'UpdateSecretVersionStage']);
    expect(writes).toMatchObject({ ok: 30, throttled: 0 });
    expect(Math.max(...writes.at) - Math.min(...writes.at)).toBeGreaterThanOrEqual(1300);
    expect(api.pacing().writes).toMatchObject({ calls: 30, throttles: 0 });
    for (const [i, arn] of arns.entries()) expect((await api.describe(arn)).versions[pending(i)]).toBeUndefined();

    // Unpaced, the same clean-up trips the quota.
    const again = sandbox.seed(specs.map((s) => ({ ...s, name: `${s.name}-again` })));
    const once = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 1 });
    const unpaced = new BreachSecretsApi(once, { rotationsPerSecond: 10, writesPerSecond: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await mapBounded(again, 20, (arn, i) => unpaced.removePending(arn, pending(i)).catch(() => undefined));
    expect(seen(['UpdateSecretVersionStage']).throttled).toBeGreaterThan(0);
    once.destroy();
  }, 60_000);
});
