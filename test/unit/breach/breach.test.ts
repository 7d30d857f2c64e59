import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BreachInputError, BreachSecretsApi, mapBounded, parseBreachRequest, planBreach, runBreach, type BreachDeps } from '../../../shared/breach';
import { EngineError } from '../../../shared/engines/errors';
import { FakeEngine } from '../../support/fake-engine';

describe('parseBreachRequest', () => {
  it('fills the defaults', () => {
    expect(parseBreachRequest({ reason: ' INC-1 ', secretIds: ['a', 'a', 'b'] })).toEqual({
      selection: { secretIds: ['a', 'b'] },
      reason: 'INC-1',
      endSessions: true,
      dryRun: false,
      concurrency: 5,
      rotationTimeoutMs: 120_000,
      breakGlass: false,
    });
  });

  it.each([
    [null, /JSON object/],
    [{ secretIds: ['a'] }, /"reason" is required/],
    [{ reason: 'r' }, /exactly one of/],
    [{ reason: 'r', secretIds: ['a'], selector: { namePrefix: 'p' } }, /exactly one of/],
    [{ reason: 'r', secretIds: [] }, /"secretIds" must list/],
    [{ reason: 'r', secretIds: [''] }, /"secretIds" must list/],
    [{ reason: 'r', selector: {} }, /empty selector would match every secret/],
    [{ reason: 'r', selector: { tag: { key: '' , value: 'x'} } }, /selector.tag/],
    [{ reason: 'r', selector: { name: 'x' } }, /unknown keys: name/],
    [{ reason: 'r', secretIds: ['a'], concurrency: 100 }, /"concurrency" must be a whole number from 1 to 20/],
    [{ reason: 'r', secretIds: ['a'], dryRun: 'yes' }, /"dryRun" must be true or false/],
    [{ reason: 'r', secretIds: ['a'], force: true }, /unknown keys: force/],
  ])('refuses %j', (event, message) => {
    expect(() => parseBreachRequest(event)).toThrow(BreachInputError);
    expect(() => parseBreachRequest(event)).toThrow(message);
  });

  it('accepts the sample event', async () => {
    const { readFileSync } = await import('node:fs');
    expect(() => parseBreachRequest(JSON.parse(readFileSync('events/breach-request.json', 'utf8')))).not.toThrow();
  });
});

describe('planBreach', () => {
  const meta = (versions: Record<string, string[]>) => ({ arn: 'arn', name: 'n', rotationEnabled: true, rotationLambdaArn: 'fn', versions, deleted: false });
  it('single user: one rotation; two users: two; a stuck AWSPENDING is settled first', () => {
    expect(planBreach(meta({ v1: ['AWSCURRENT'] }), 'single', { endSessions: true }).actions).toEqual(['rotate', 'end-sessions', 'verify']);
    expect(planBreach(meta({ v1: ['AWSCURRENT'] }), 'alternating', { endSessions: false }).actions).toEqual(['rotate', 'rotate-again', 'verify']);
    const stuck = planBreach(meta({ v1: ['AWSCURRENT', 'AWSPENDING'], v2: ['AWSPENDING'] }), 'pair', { endSessions: true });
    expect(stuck).toMatchObject({ actions: ['settle-pending', 'rotate', 'rotate-again', 'end-sessions', 'verify'], stuckVersions: ['v2'] });
  });
  it('a service-managed secret only rotates', () => {
    expect(planBreach({ ...meta({}), owningService: 'rds' }, 'managed', { endSessions: true }).actions).toEqual(['rotate']);
  });
});

describe('mapBounded', () => {
  it('never runs more than the limit at once and keeps the order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(peak).toBe(3);
  });
});

describe('runBreach with a fake engine and a mocked Secrets Manager', () => {
  const sm = mockClient(SecretsManagerClient);
  let engine: FakeEngine;
  let lines: Array<Record<string, unknown>>;
  let secrets: Map<string, { versions: Map<string, { stages: string[]; value?: Record<string, unknown> }>; rotates: boolean }>;
  let n = 0;

  const secretValue = (username: string, password: string, extra: object = {}) => ({ engine: 'postgres', host: 'db', port: 5432, username, password, ...extra });
  const add = (name: string, value: Record<string, unknown>, rotates = true) =>
    secrets.set(name, { versions: new Map([['v0', { stages: ['AWSCURRENT'], value }]]), rotates });

  beforeEach(() => {
    engine = new FakeEngine({ app: 'leaked-pw', admin: 'admin-pw', app_clone: 'old-clone-pw' });
    lines = [];
    secrets = new Map();
    sm.reset();
    const get = (id: string) => {
      const s = secrets.get(id);
      if (!s) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
      return s;
    };
    sm.on(DescribeSecretCommand).callsFake(({ SecretId }: { SecretId: string }) => ({
      ARN: SecretId,
      Name: SecretId,
      RotationEnabled: true,
      RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotate',
      VersionIdsToStages: Object.fromEntries([...get(SecretId).versions].map(([id, v]) => [id, [...v.stages]])),
    }));
    sm.on(GetSecretValueCommand).callsFake(({ SecretId, VersionStage }: { SecretId: string; VersionStage: string }) => {
      const v = [...get(SecretId).versions.values()].find((x) => x.stages.includes(VersionStage));
      return { SecretString: JSON.stringify(v!.value) };
    });
    sm.on(UpdateSecretVersionStageCommand).callsFake(({ SecretId, VersionStage, RemoveFromVersionId }: { SecretId: string; VersionStage: string; RemoveFromVersionId: string }) => {
      const v = get(SecretId).versions.get(RemoveFromVersionId)!;
      v.stages = v.stages.filter((s) => s !== VersionStage);
      return {};
    });
    // A rotation as the rotation function would do it: alternate the user, set its password in the fake database.
    sm.on(RotateSecretCommand).callsFake(({ SecretId }: { SecretId: string }) => {
      const s = get(SecretId);
      const id = `v${++n}`;
      if (!s.rotates) {
        s.versions.set(id, { stages: ['AWSPENDING'] });
        return { VersionId: id };
      }
      const cur = [...s.versions.values()].find((x) => x.stages.includes('AWSCURRENT'))!;
      const value = { ...cur.value! };
      if (value['masterarn']) value['username'] = value['username'] === 'app' ? 'app_clone' : 'app';
      value['password'] = `new-pw-${n}`;
      engine.users.set(String(value['username']), String(value['password']));
      for (const v of s.versions.values()) v.stages = v.stages.filter((x) => x !== 'AWSPREVIOUS');
      cur.stages = ['AWSPREVIOUS'];
      s.versions.set(id, { stages: ['AWSCURRENT'], value });
      return { VersionId: id };
    });
    sm.on(ListSecretsCommand).callsFake(() => ({ SecretList: [...secrets.keys()].map((k) => ({ ARN: k, Name: k, RotationLambdaARN: 'fn', Tags: [{ Key: 'team', Value: k.startsWith('orders') ? 'orders' : 'x' }] })) }));
  });

  const deps = (): BreachDeps => ({
    secrets: new BreachSecretsApi(new SecretsManagerClient({ region: 'us-east-1' })),
    engineFor: (e) => (e === 'postgres' ? { engine, contract: { engines: ['postgres'], defaultPort: 5432 } } : undefined),
    db: { connectTimeoutMs: 1000 },
    log: { info: (m, ...e) => lines.push({ m, ...Object.assign({}, ...e) }), error: (m, ...e) => lines.push({ m, level: 'error', ...Object.assign({}, ...e) }) },
    pollIntervalMs: 1,
    sleep: async () => undefined,
  });

  it('alternating: two rotations, the leaked user\'s sessions ended as the admin, the leaked password refused', async () => {
    add('admin', { username: 'admin', password: 'admin-pw', host: 'db', port: 5432 });
    add('orders/app', secretValue('app', 'leaked-pw', { masterarn: 'admin' }));
    const report = await runBreach({ reason: 'INC-9', secretIds: ['orders/app'] }, deps());
    expect(report).toMatchObject({ total: 1, succeeded: 1, failed: 0 });
    expect(report.secrets[0]!.actions.map((a) => `${a.action}:${a.outcome}`)).toEqual(['read-current:done', 'rotate:done', 'rotate-again:done', 'end-sessions:done', 'verify:done']);
    expect(engine.calls).toContain('endSessions app as admin');
    expect(engine.users.get('app')).not.toBe('leaked-pw');
    expect(engine.users.get('app_clone')).not.toBe('old-clone-pw');
    expect(JSON.stringify(lines)).not.toMatch(/leaked-pw|admin-pw|new-pw/);
    expect(lines.filter((l) => l['action'] && l['secretId'] === 'orders/app').every((l) => l['reason'] === 'INC-9')).toBe(true);
  });

  it('single user: the user ends its own sessions with its new password', async () => {
    add('orders/single', secretValue('app', 'leaked-pw'));
    const report = await runBreach({ reason: 'r', secretIds: ['orders/single'] }, deps());
    expect(report.failed).toBe(0);
    expect(engine.calls).toContain('endSessions app as app');
  });

  it('a rotation that never completes times out; the other secrets are still handled', async () => {
    add('orders/stuck', secretValue('app', 'leaked-pw'), false);
    add('orders/fine', secretValue('app', 'leaked-pw'));
    const report = await runBreach({ reason: 'r', secretIds: ['orders/stuck', 'orders/fine'], rotationTimeoutMs: 1000 }, { ...deps(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) });
    expect(report.failed).toBe(1);
    expect(report.secrets[0]).toMatchObject({ status: 'failed', failedAction: 'rotate' });
    expect(report.secrets[0]!.error).toMatch(/did not complete within 1 s/);
    expect(report.secrets[1]!.status).toBe('ok');
  });

  it('RotateSecret refused while the previous rotation is still finishing is retried', async () => {
    add('orders/app', secretValue('app', 'leaked-pw', { masterarn: 'admin' }));
    add('admin', { username: 'admin', password: 'admin-pw', host: 'db', port: 5432 });
    const rotate = sm.commandCalls(RotateSecretCommand).length;
    let refusedOnce = false;
    const api = new BreachSecretsApi(new SecretsManagerClient({ region: 'us-east-1' }));
    const real = api.rotate.bind(api);
    api.rotate = async (id) => {
      if (!refusedOnce) {
        refusedOnce = true;
        throw Object.assign(new Error("A previous rotation isn't complete. That rotation will be reattempted."), { name: 'InvalidRequestException' });
      }
      return real(id);
    };
    const report = await runBreach({ reason: 'r', secretIds: ['orders/app'] }, { ...deps(), secrets: api });
    expect(report.failed, report.secrets[0]!.error).toBe(0);
    expect(sm.commandCalls(RotateSecretCommand).length - rotate).toBe(2);
  });

  it('the leaked credential still logging in is a failure of verify', async () => {
    add('orders/app', secretValue('app', 'leaked-pw'));
    const d = deps();
    const check = engine.checkLogin.bind(engine);
    engine.checkLogin = async (t, who) => (who.password === 'leaked-pw' ? { ok: true } : check(t, who));
    const report = await runBreach({ reason: 'r', secretIds: ['orders/app'] }, d);
    expect(report.secrets[0]).toMatchObject({ status: 'failed', failedAction: 'verify' });
    expect(report.secrets[0]!.error).toMatch(/STILL logs in/);
  });

  it('an admin that no longer logs in: break-glass only when asked for', async () => {
    add('admin', { username: 'admin', password: 'stale-admin-pw', host: 'db' });
    add('orders/app', secretValue('app', 'leaked-pw', { masterarn: 'admin' }));
    engine.endSessions = async (_t, admin) => {
      if (engine.users.get(admin.username) !== admin.password) throw new EngineError('auth', 'password authentication failed for user "admin"', { engine: 'fake' });
      return 1;
    };
    const resets: string[] = [];
    const d: BreachDeps = { ...deps(), resetAdmin: async (arn, admin) => { resets.push(arn); engine.users.set(admin.username, admin.password); return 'reset'; } };
    const refused = await runBreach({ reason: 'r', secretIds: ['orders/app'] }, d);
    expect(refused.secrets[0]!.error).toMatch(/Re-run with breakGlass/);
    expect(resets).toEqual([]);
    add('orders/app', secretValue('app', engine.users.get('app')!, { masterarn: 'admin' }));
    const report = await runBreach({ reason: 'r', secretIds: ['orders/app'], breakGlass: true }, d);
    expect(report.failed, report.secrets[0]!.error).toBe(0);
    expect(resets).toEqual(['admin']);
    expect(report.secrets[0]!.actions.find((a) => a.action === 'end-sessions')!.detail).toMatch(/after break-glass: reset/);
  });

  it('selects by tag (exact key and value) and dry run changes nothing', async () => {
    add('orders/a', secretValue('app', 'leaked-pw'));
    add('billing/b', secretValue('app', 'leaked-pw'));
    const report = await runBreach({ reason: 'r', selector: { tag: { key: 'team', value: 'orders' } }, dryRun: true }, deps());
    expect(report.secrets.map((s) => [s.secretId, s.status])).toEqual([['orders/a', 'dry-run']]);
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(engine.calls).toEqual([]);
  });
});
