import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  ResourceNotFoundException,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BreachInputError, BreachSecretsApi, mapBounded, parseBreachRequest, planBreach, runBreach, type BreachDeps } from '../../../shared/breach';
import { EngineError } from '../../../shared/engines/errors';
import type { AdminEndpointLookup } from '../../../shared/rotation/admin';
import type { Engine } from '../../../shared/engines/types';
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
  // The fake engine, with the optional verb of engines that have several accounts per user name.
  let engine: FakeEngine & Pick<Engine, 'replaceLeakedPassword'>;
  let lines: Array<Record<string, unknown>>;
  type Version = { stages: string[]; value?: Record<string, unknown>; created: Date };
  let secrets: Map<string, { versions: Map<string, Version>; rotates: boolean; onDescribe?: () => void }>;
  let n = 0;

  const secretValue = (username: string, password: string, extra: object = {}) => ({ engine: 'postgres', host: 'db', port: 5432, username, password, ...extra });
  const add = (name: string, value: Record<string, unknown>, rotates = true) =>
    secrets.set(name, { versions: new Map([['v0', { stages: ['AWSCURRENT'], value, created: new Date(Date.now() - 86_400_000) }]]), rotates });

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
    sm.on(DescribeSecretCommand).callsFake(({ SecretId }: { SecretId: string }) => {
      get(SecretId).onDescribe?.();
      return {
      ARN: SecretId,
      Name: SecretId,
      RotationEnabled: true,
      RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotate',
      VersionIdsToStages: Object.fromEntries([...get(SecretId).versions].map(([id, v]) => [id, [...v.stages]])),
      };
    });
    const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value.", $metadata: {} });
    sm.on(GetSecretValueCommand).callsFake(({ SecretId, VersionStage, VersionId }: { SecretId: string; VersionStage?: string; VersionId?: string }) => {
      const s = get(SecretId);
      const v = VersionId !== undefined ? s.versions.get(VersionId) : [...s.versions.values()].find((x) => x.stages.includes(VersionStage ?? 'AWSCURRENT'));
      if (!v?.value) throw notFound();
      return { SecretString: JSON.stringify(v.value) };
    });
    sm.on(ListSecretVersionIdsCommand).callsFake(({ SecretId }: { SecretId: string }) => ({
      Versions: [...get(SecretId).versions].map(([id, v]) => ({ VersionId: id, VersionStages: [...v.stages], CreatedDate: v.created })),
    }));
    sm.on(UpdateSecretVersionStageCommand).callsFake(
      ({ SecretId, VersionStage, RemoveFromVersionId, MoveToVersionId }: { SecretId: string; VersionStage: string; RemoveFromVersionId?: string; MoveToVersionId?: string }) => {
        const s = get(SecretId);
        if (RemoveFromVersionId) {
          const v = s.versions.get(RemoveFromVersionId)!;
          v.stages = v.stages.filter((x) => x !== VersionStage);
          if (VersionStage === 'AWSCURRENT' && MoveToVersionId) v.stages = [...v.stages.filter((x) => x !== 'AWSPREVIOUS'), 'AWSPREVIOUS'];
        }
        if (MoveToVersionId) {
          if (VersionStage === 'AWSCURRENT') for (const [id, v] of s.versions) if (id !== RemoveFromVersionId) v.stages = v.stages.filter((x) => x !== 'AWSPREVIOUS');
          s.versions.get(MoveToVersionId)!.stages.push(VersionStage);
        }
        return {};
      },
    );
    // A rotation as the rotation function would do it: alternate the user, set its password in the fake database.
    sm.on(RotateSecretCommand).callsFake(({ SecretId }: { SecretId: string }) => {
      const s = get(SecretId);
      if ([...s.versions.values()].some((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'))) {
        throw Object.assign(new Error("A previous rotation isn't complete. That rotation will be reattempted."), { name: 'InvalidRequestException' });
      }
      const id = `v${++n}`;
      if (!s.rotates) {
        s.versions.set(id, { stages: ['AWSPENDING'], created: new Date() });
        return { VersionId: id };
      }
      const cur = [...s.versions.values()].find((x) => x.stages.includes('AWSCURRENT'))!;
      const value = { ...cur.value! };
      if (value['masterarn']) value['username'] = value['username'] === 'app' ? 'app_clone' : 'app';
      value['password'] = `new-pw-${n}`;
      if (engine.users.get(String(cur.value!['username'])) !== cur.value!['password']) {
        // As the rotation function: AWSCURRENT must log in first; else the rotation fails and stays pending.
        s.versions.set(id, { stages: ['AWSPENDING'], value, created: new Date() });
        return { VersionId: id };
      }
      engine.users.set(String(value['username']), String(value['password']));
      for (const v of s.versions.values()) v.stages = v.stages.filter((x) => x !== 'AWSPREVIOUS');
      cur.stages = ['AWSPREVIOUS'];
      s.versions.set(id, { stages: ['AWSCURRENT'], value, created: new Date() });
      return { VersionId: id };
    });
    sm.on(ListSecretsCommand).callsFake(() => ({ SecretList: [...secrets.keys()].map((k) => ({ ARN: k, Name: k, RotationLambdaARN: 'fn', Tags: [{ Key: 'team', Value: k.startsWith('orders') ? 'orders' : 'x' }] })) }));
  });

  const deps = (): BreachDeps => ({
    secrets: new BreachSecretsApi(new SecretsManagerClient({ region: 'us-east-1' })),
    engineFor: (e) => (e === 'postgres' ? engine : undefined),
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

  const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 20)));
  const stuck = (name: string, id: string, value: Record<string, unknown> | undefined, ageMs: number) => {
    secrets.get(name)!.versions.set(id, { stages: ['AWSPENDING'], ...(value ? { value } : {}), created: new Date(Date.now() - ageMs) });
  };
  const stripCalls = () =>
    sm.commandCalls(UpdateSecretVersionStageCommand).filter((c) => c.args[0].input.VersionStage === 'AWSPENDING').map((c) => c.args[0].input.RemoveFromVersionId);
  const currentValue = (name: string) => [...secrets.get(name)!.versions.values()].find((v) => v.stages.includes('AWSCURRENT'))!.value!;

  describe('settle-pending', () => {
    it('a stuck version whose password took effect (setSecret ran, finishSecret never did) is completed, not stripped', async () => {
      add('orders/single', secretValue('app', 'leaked-pw'));
      stuck('orders/single', 'v-stuck', secretValue('app', 'stuck-pw'), 3_600_000);
      engine.users.set('app', 'stuck-pw'); // the only working password is in the stuck version
      const report = await runBreach({ reason: 'r', secretIds: ['orders/single'], rotationTimeoutMs: 1000 }, { ...deps(), sleep: realSleep });
      expect(report.failed, report.secrets[0]!.error).toBe(0);
      const settle = report.secrets[0]!.actions.find((a) => a.action === 'settle-pending')!;
      expect(settle.detail).toMatch(/v-stuck: completed/);
      expect(stripCalls()).toEqual(['v-stuck']);
      const current = currentValue('orders/single');
      expect(engine.users.get('app')).toBe(current['password']);
      expect(['leaked-pw', 'stuck-pw']).not.toContain(current['password']);
      expect(JSON.stringify(report) + JSON.stringify(lines)).not.toMatch(/leaked-pw|stuck-pw|new-pw/);
    });

    it.each([
      ['has no value', undefined],
      ['does not log in', secretValue('app', 'never-set-pw')],
      ['names another user', secretValue('admin', 'admin-pw')],
      ['names another host', secretValue('app', 'leaked-pw', { host: 'elsewhere' })],
    ])('a stuck version that %s is stripped, never made AWSCURRENT', async (_what, value) => {
      add('orders/single', secretValue('app', 'leaked-pw'));
      stuck('orders/single', 'v-stuck', value, 3_600_000);
      const report = await runBreach({ reason: 'r', secretIds: ['orders/single'] }, deps());
      expect(report.failed, report.secrets[0]!.error).toBe(0);
      expect(report.secrets[0]!.actions.find((a) => a.action === 'settle-pending')!.detail).toMatch(/v-stuck: AWSPENDING removed/);
      expect(secrets.get('orders/single')!.versions.get('v-stuck')!.stages).toEqual([]);
      expect(currentValue('orders/single')['username']).toBe('app');
      expect(engine.users.get('admin')).toBe('admin-pw');
    });

    it('a young pending version (a rotation still running) is waited for, not stripped', async () => {
      add('orders/single', secretValue('app', 'leaked-pw'));
      stuck('orders/single', 'v-running', secretValue('app', 'running-pw'), 0);
      let polls = 0;
      secrets.get('orders/single')!.onDescribe = () => {
        const s = secrets.get('orders/single')!;
        const running = s.versions.get('v-running')!;
        if (!running.stages.includes('AWSPENDING') || ++polls < 4) return;
        // The scheduled rotation finishes by itself: setSecret, then finishSecret.
        engine.users.set('app', 'running-pw');
        s.versions.get('v0')!.stages = ['AWSPREVIOUS'];
        running.stages = ['AWSCURRENT'];
      };
      const report = await runBreach({ reason: 'r', secretIds: ['orders/single'], rotationTimeoutMs: 60_000 }, deps());
      expect(report.failed, report.secrets[0]!.error).toBe(0);
      expect(stripCalls()).toEqual([]);
      expect(report.secrets[0]!.actions.find((a) => a.action === 'settle-pending')!.detail).toMatch(/v-running: finished by itself/);
      expect(['leaked-pw', 'running-pw']).not.toContain(engine.users.get('app'));
    });

    it('a pending version that stays pending past the wait is then settled', async () => {
      add('orders/single', secretValue('app', 'leaked-pw'));
      stuck('orders/single', 'v-slow', secretValue('app', 'never-set-pw'), 900);
      const report = await runBreach({ reason: 'r', secretIds: ['orders/single'], rotationTimeoutMs: 1000 }, { ...deps(), sleep: realSleep });
      expect(report.failed, report.secrets[0]!.error).toBe(0);
      expect(report.secrets[0]!.actions.find((a) => a.action === 'settle-pending')!.detail).toMatch(/v-slow: AWSPENDING removed/);
    });
  });

  describe('end-sessions and other accounts', () => {
    const lookup =
      (aliases: string[]): AdminEndpointLookup =>
      async (_id, host) => ({ host: host ?? 'db', port: 5432, engine: 'postgres', aliases, resource: { kind: 'cluster', id: 'c1' } });

    it('ends the sessions of both users on every host the RDS lookup knows; an unreachable one is reported, not fatal', async () => {
      add('admin', { username: 'admin', password: 'admin-pw', host: 'db', port: 5432 });
      add('orders/app', secretValue('app', 'leaked-pw', { masterarn: 'admin' }));
      const ended: string[] = [];
      engine.endSessions = async (target, admin, username) => {
        ended.push(`${username}@${target.host}:${target.port} as ${admin.username}`);
        if (target.host === 'replica-1') throw new EngineError('unreachable', 'connect ECONNREFUSED replica-1:5432', { engine: 'fake' });
        return 1;
      };
      const report = await runBreach({ reason: 'r', secretIds: ['orders/app'] }, { ...deps(), adminEndpoint: lookup(['db-ro', 'replica-1', 'db']) });
      const secret = report.secrets[0]!;
      // Each host once (db is the secret's, the admin's and an alias); the unreachable one is given up after its first refusal.
      expect([...ended].sort()).toEqual(
        [...['app', 'app_clone'].flatMap((u) => ['db', 'db-ro'].map((h) => `${u}@${h}:5432 as admin`)), 'app@replica-1:5432 as admin'].sort(),
      );
      expect(secret).toMatchObject({ status: 'failed', failedAction: 'end-sessions' });
      expect(secret.error).toMatch(/replica-1:5432/);
      const endSessions = secret.actions.find((a) => a.action === 'end-sessions')!;
      expect(endSessions.outcome).toBe('failed');
      expect(endSessions.detail).toMatch(/db-ro:5432: ended/);
      // The other steps still ran.
      expect(secret.actions.find((a) => a.action === 'verify')!.outcome).toBe('done');
    });

    it('single user: ends its own sessions on the secret\'s host and its replicas', async () => {
      add('orders/single', secretValue('app', 'leaked-pw'));
      const ended: string[] = [];
      engine.endSessions = async (target, who, username) => {
        ended.push(`${username}@${target.host} as ${who.username}`);
        return 0;
      };
      const report = await runBreach({ reason: 'r', secretIds: ['orders/single'] }, { ...deps(), adminEndpoint: lookup(['db-replica']) });
      expect(report.failed, report.secrets[0]!.error).toBe(0);
      expect(ended.sort()).toEqual(['app@db as app', 'app@db-replica as app']);
    });

    it('engines with several accounts per user name: the other accounts holding a leaked password get the new one, as the admin', async () => {
      add('admin', { username: 'admin', password: 'admin-pw', host: 'db', port: 5432 });
      add('orders/app', secretValue('app', 'leaked-pw', { masterarn: 'admin' }));
      secrets.get('orders/app')!.versions.set('vp', { stages: ['AWSPREVIOUS'], value: secretValue('app_clone', 'old-clone-pw', { masterarn: 'admin' }), created: new Date(0) });
      const calls: Array<{ host: string; admin: string; username: string; leaked: readonly string[]; replacement: string }> = [];
      engine.replaceLeakedPassword = async (target, admin, username, leaked, replacement) => {
        calls.push({ host: target.host, admin: admin.username, username, leaked, replacement });
        return { replaced: username === 'app' ? ["'app'@'%'"] : [], current: [`'${username}'@'10.0.0.1'`], untouched: ["'app'@'10.%'"], unverified: [] };
      };
      const report = await runBreach({ reason: 'r', secretIds: ['orders/app'] }, deps());
      const secret = report.secrets[0]!;
      expect(report.failed, secret.error).toBe(0);
      expect(secret.actions.map((a) => a.action)).toEqual(['read-current', 'rotate', 'rotate-again', 'other-accounts', 'end-sessions', 'verify']);
      expect(calls).toEqual([
        { host: 'db', admin: 'admin', username: 'app', leaked: ['leaked-pw'], replacement: engine.users.get('app') },
        { host: 'db', admin: 'admin', username: 'app_clone', leaked: ['old-clone-pw'], replacement: engine.users.get('app_clone') },
      ]);
      expect(secret.actions.find((a) => a.action === 'other-accounts')!.detail).toMatch(/app: replaced 'app'@'%'/);
      expect(JSON.stringify(report) + JSON.stringify(lines)).not.toMatch(/leaked-pw|admin-pw|new-pw|old-clone-pw/);
    });

    it('a single-user secret has no admin to check other accounts: the report says so', async () => {
      add('orders/single', secretValue('app', 'leaked-pw'));
      engine.replaceLeakedPassword = async () => {
        throw new Error('not to be called');
      };
      const report = await runBreach({ reason: 'r', secretIds: ['orders/single'] }, deps());
      expect(report.failed, report.secrets[0]!.error).toBe(0);
      expect(report.secrets[0]!.notes.join(' ')).toMatch(/other accounts of the user name are not checked/);
    });
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
