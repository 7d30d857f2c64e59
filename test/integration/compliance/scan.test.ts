// The compliance scan against the sandbox's Secrets Manager endpoint over HTTP: secrets made through
// the API (rotated by a real in-process rotation function, or left failing) and seeded with state
// the API cannot make (RDS-managed, replicas, old dates, stuck AWSPENDING), aged with the sandbox
// clock; pagination counted on the sandbox's call log; throttling injected as faults.

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateSecretCommand, RotateSecretCommand, TagResourceCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSandbox, type Sandbox, type SeedSecret } from '../../../local/secrets-manager';
import { compilePolicy, runCompliance, scanSecrets, type CheckId, type SecretEvaluation } from '../../../shared/compliance';
import { createComplianceClients } from '../../../shared/runtime/compliance';
import { referenceRotation } from '../../support/reference-rotation';

const DAY = 86_400_000;
const GOOD = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-good';
const BROKEN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-broken';
const T0 = '2025-01-01T00:00:00.000Z';

async function collect(client: SecretsManagerClient, sandbox: Sandbox, doc?: unknown): Promise<{ byName: Map<string, SecretEvaluation>; summary: Awaited<ReturnType<typeof scanSecrets>> }> {
  const byName = new Map<string, SecretEvaluation>();
  const policy = compilePolicy(doc === undefined ? [] : [{ source: 'test', document: doc }]);
  const summary = await scanSecrets(client, policy, { now: sandbox.clock.now(), onPage: (page) => page.forEach((e) => byName.set(e.name, e)) });
  return { byName, summary };
}
const checks = (e: SecretEvaluation | undefined): CheckId[] => (e?.findings ?? []).map((f) => f.checkId).sort();
const listCalls = (sandbox: Sandbox) => sandbox.calls.filter((c) => c.operation === 'ListSecrets');

function bulk(n: number, prefix: string, at: Date): SeedSecret[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}/${String(i).padStart(6, '0')}`,
    createdDate: new Date(at.getTime() - 200 * DAY),
    rotationEnabled: i % 3 !== 0,
    rotationRules: { AutomaticallyAfterDays: 30 },
    lastRotatedDate: new Date(at.getTime() - (i % 120) * DAY),
    nextRotationDate: new Date(at.getTime() + DAY),
    lastAccessedDate: at,
    kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
  }));
}

describe('a population aged with the sandbox clock', () => {
  let sandbox: Sandbox;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    sandbox = await startSandbox({ rotation: { mode: 'sync', retryDelayMs: 0 } });
    client = createComplianceClients(undefined, sandbox.endpoint).secretsManager;
    sandbox.functions.register(GOOD, referenceRotation(sandbox.endpoint));
    sandbox.functions.register(
      BROKEN,
      referenceRotation(sandbox.endpoint, {
        beforeStep: (event) => {
          if (event.Step === 'setSecret') throw new Error('database unreachable');
        },
      }),
    );
    sandbox.clock.set(T0);
    sandbox.clock.freeze();
  });
  afterAll(() => sandbox.close());

  it('judges API-made and seeded secrets, then again 60 days later', async () => {
    const create = async (Name: string, Tags?: { Key: string; Value: string }[]) =>
      (await client.send(new CreateSecretCommand({ Name, SecretString: '{"username":"u","password":"p"}', KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k', ...(Tags ? { Tags } : {}) }))).ARN!;
    await create('/prod/orders/rotated', [{ Key: 'compliance:secret-type', Value: 'database' }]);
    await create('/prod/orders/never-rotated');
    await create('/prod/orders/stuck');
    await create('/prod/orders/failing');

    // Day 0: the failing one rotates once successfully, on a 30-day schedule, then its function breaks.
    await client.send(new RotateSecretCommand({ SecretId: '/prod/orders/failing', RotationLambdaARN: GOOD, RotationRules: { AutomaticallyAfterDays: 30 } }));
    sandbox.clock.advanceDays(38);
    // Day 38: a rotation fails at setSecret on every attempt: AWSPENDING stays on a version of its own.
    await client.send(new RotateSecretCommand({ SecretId: '/prod/orders/stuck', RotationLambdaARN: BROKEN, RotationRules: { AutomaticallyAfterDays: 30 } }));
    sandbox.clock.advanceDays(2);
    // Day 40: the good one rotates now; the failing one's next rotation (end of day 30) has passed.
    await client.send(new RotateSecretCommand({ SecretId: '/prod/orders/rotated', RotationLambdaARN: GOOD, RotationRules: { AutomaticallyAfterDays: 30 } }));
    expect(sandbox.rotations.events.filter((e) => e.eventName === 'RotationFailed').length).toBeGreaterThan(0);

    const now = sandbox.clock.now();
    const before = (days: number) => new Date(now.getTime() - days * DAY);
    sandbox.seed([
      { name: 'rds!db-0b7f', owningService: 'rds', rotationEnabled: true, rotationRules: { ScheduleExpression: 'rate(7 days)' }, createdDate: before(300), lastRotatedDate: before(2), nextRotationDate: before(-5), lastAccessedDate: before(0) },
      { name: '/prod/orders/replica', primaryRegion: 'eu-west-1', rotationEnabled: false, createdDate: before(500), kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k' },
      { name: '/prod/vendor/token', tags: [{ Key: 'compliance:exemption-reason', Value: 'vendor rotates it' }, { Key: 'compliance:exemption-expires', Value: '2025-12-31' }], createdDate: before(500) },
      { name: '/prod/vendor/expired', tags: [{ Key: 'compliance:exemption-reason', Value: 'vendor' }, { Key: 'compliance:exemption-expires', Value: '2025-02-01' }], createdDate: before(500), lastAccessedDate: before(1) },
      {
        name: '/prod/orders/seeded-stuck',
        kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
        createdDate: before(200),
        lastChangedDate: before(3),
        lastRotatedDate: before(20),
        rotationEnabled: true,
        rotationRules: { AutomaticallyAfterDays: 30 },
        nextRotationDate: before(-10),
        lastAccessedDate: before(0),
        versions: [{ stages: ['AWSCURRENT'], secretString: 'a' }, { stages: ['AWSPREVIOUS'], secretString: 'b' }, { stages: ['AWSPENDING'] }],
      },
      { name: '/prod/orders/old-db', kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k', tags: [{ Key: 'compliance:secret-type', Value: 'database' }], rotationEnabled: true, rotationRules: { AutomaticallyAfterDays: 60 }, createdDate: before(400), lastRotatedDate: before(100), nextRotationDate: before(40), lastAccessedDate: before(0) },
      { name: '/prod/orders/deleting', rotationEnabled: false, createdDate: before(400), deletedDate: before(-20) },
    ]);
    expect(() => sandbox.seed([{ name: 'dup', versions: [{ stages: ['AWSCURRENT'] }, { stages: ['AWSCURRENT'] }] }])).toThrow(/label AWSCURRENT is on more than one version/);

    const { byName, summary } = await collect(client, sandbox, { checks: { cmk: { enabled: true } } });
    expect(checks(byName.get('/prod/orders/rotated'))).toEqual([]);
    expect(byName.get('/prod/orders/rotated')?.className).toBe('database');
    expect(checks(byName.get('/prod/orders/never-rotated'))).toEqual(['rotation-disabled']);
    expect(checks(byName.get('/prod/orders/stuck'))).toEqual(['rotation-stuck']);
    expect(checks(byName.get('/prod/orders/failing'))).toEqual(['rotation-missed']);
    expect(byName.get('rds!db-0b7f')).toMatchObject({ status: 'evaluated', className: 'managed-database', owningService: 'rds', findings: [] });
    expect(byName.get('/prod/orders/replica')).toMatchObject({ status: 'replica', findings: [] });
    expect(byName.get('/prod/vendor/token')).toMatchObject({ status: 'exempt', findings: [] });
    expect(checks(byName.get('/prod/vendor/expired'))).toEqual(['cmk', 'exemption-expired', 'rotation-age', 'rotation-disabled']);
    expect(checks(byName.get('/prod/orders/seeded-stuck'))).toEqual(['rotation-stuck']);
    expect(checks(byName.get('/prod/orders/old-db'))).toEqual(['rotation-age', 'rotation-interval', 'rotation-missed']);
    expect(byName.get('/prod/orders/deleting')).toMatchObject({ status: 'deleted', findings: [] });
    expect(summary.secrets).toEqual({ total: 11, evaluated: 8, replica: 1, exempt: 1, deleted: 1, managed: 1, compliant: 4, nonCompliant: 6 });

    // 60 days on: the never-rotated secret is now too old and unread; the rotated one missed its schedule
    // (its rotation function read it on day 40, so it is not unused).
    sandbox.clock.advanceDays(60);
    const later = await collect(client, sandbox);
    expect(checks(later.byName.get('/prod/orders/never-rotated'))).toEqual(['rotation-age', 'rotation-disabled', 'unused']);
    expect(checks(later.byName.get('/prod/orders/rotated'))).toEqual(['rotation-missed']);
    // …and once its due rotation has run, it is back within policy.
    await sandbox.runDueRotations();
    const after = await collect(client, sandbox);
    expect(checks(after.byName.get('/prod/orders/rotated'))).toEqual([]);
  });
});

describe('scale: pagination and throttling', () => {
  let sandbox: Sandbox;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    sandbox = await startSandbox();
    client = createComplianceClients(undefined, sandbox.endpoint).secretsManager;
  });
  afterAll(() => sandbox.close());

  it('exactly ⌈N/100⌉ ListSecrets calls, every secret seen once', async () => {
    const now = sandbox.clock.now();
    let total = 0;
    for (const [add, expected] of [[250, 3], [50, 3], [1, 4], [699, 10]] as const) {
      sandbox.seed(bulk(add, `/page/${total}`, now));
      total += add;
      const seen = new Set<string>();
      const callsBefore = listCalls(sandbox).length;
      const summary = await scanSecrets(client, compilePolicy(), { now: sandbox.clock.now(), onPage: (page) => page.forEach((e) => seen.add(e.arn)) });
      expect(listCalls(sandbox).length - callsBefore, `${total} secrets`).toBe(expected);
      expect(summary.listSecretsCalls).toBe(expected);
      expect(Math.ceil(total / 100)).toBe(expected);
      expect(seen.size).toBe(total);
      expect(summary.secrets.total).toBe(total);
    }
  });

  it('throttled pages are retried by the SDK; the scan completes with the same result', async () => {
    const clean = await scanSecrets(client, compilePolicy(), { now: sandbox.clock.now() });
    const callsBefore = listCalls(sandbox).length;
    sandbox.faults.add({ operation: 'ListSecrets', kind: 'throttle', times: 2 });
    const throttled = await scanSecrets(client, compilePolicy(), { now: sandbox.clock.now() });
    const calls = listCalls(sandbox).slice(callsBefore);
    expect(calls.filter((c) => c.errorCode === 'ThrottlingException')).toHaveLength(2);
    expect(calls.filter((c) => c.status === 200)).toHaveLength(10);
    expect(throttled.secrets).toEqual(clean.secrets);
    expect(throttled.byCheck).toEqual(clean.byCheck);
    // Each refused attempt reached the scan's pacer, which backed off.
    expect(clean.throttles).toBe(0);
    expect(throttled.throttles).toBe(2);
    expect(throttled.pacing).toMatchObject({ limitPerSecond: 100, backoffs: expect.any(Number) });
    expect(throttled.pacing.lowestPerSecond).toBeLessThanOrEqual(50);
  });

  it('throttling on a later page as well', async () => {
    const callsBefore = listCalls(sandbox).length;
    sandbox.faults.add({ operation: 'ListSecrets', kind: 'throttle', times: 3, after: 4 });
    const summary = await scanSecrets(client, compilePolicy(), { now: sandbox.clock.now() });
    expect(summary.secrets.total).toBe(1000);
    expect(listCalls(sandbox).slice(callsBefore).filter((c) => c.errorCode === 'ThrottlingException')).toHaveLength(3);
    expect(summary.throttles).toBe(3);
  });
});

describe('the function end to end: sandbox Secrets Manager, Security Hub mocked', () => {
  let sandbox: Sandbox;
  let client: SecretsManagerClient;
  const hub = mockClient(SecurityHubClient);
  /** A tiny Security Hub: findings by id, as BatchImportFindings upserts them. */
  const store = new Map<string, AwsSecurityFinding>();

  beforeAll(async () => {
    sandbox = await startSandbox();
    client = createComplianceClients(undefined, sandbox.endpoint).secretsManager;
    hub.on(GetFindingsCommand).callsFake((input: { Filters?: { RecordState?: { Value?: string }[] } }) => ({
      Findings: [...store.values()].filter((f) => f.RecordState === input.Filters?.RecordState?.[0]?.Value),
    }));
    hub.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => {
      for (const f of input.Findings) {
        const prior = store.get(f.Id!);
        if (prior && (prior.CreatedAt !== f.CreatedAt || Date.parse(f.UpdatedAt!) <= Date.parse(prior.UpdatedAt!))) throw new Error(`bad update of ${f.Id}`);
        store.set(f.Id!, f);
      }
      return { SuccessCount: input.Findings.length, FailedCount: 0 };
    });
  });
  afterAll(() => {
    hub.restore();
    return sandbox.close();
  });
  afterEach(() => vi.restoreAllMocks());

  it('imports findings, then archives the one that was fixed', async () => {
    const now = sandbox.clock.now();
    const [untagged] = sandbox.seed(bulk(120, '/prod/team', now).map((s, i) => ({ ...s, rotationEnabled: true, lastRotatedDate: now, tags: i === 0 ? [] : [{ Key: 'owner', Value: 'x' }] })));
    const logger = new Logger({ serviceName: 'test', logLevel: 'ERROR' });
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    const deps = {
      env: { COMPLIANCE_SECURITY_HUB: 'true', COMPLIANCE_METRICS: 'false', COMPLIANCE_POLICY: JSON.stringify({ requiredTags: ['owner'] }) },
      secretsManager: client,
      securityHub: new SecurityHubClient({}),
      logger,
      metrics: new Metrics({ namespace: 'Test' }),
      now: () => sandbox.clock.now(),
      identityArn: 'arn:aws:lambda:us-east-1:123456789012:function:compliance-scan',
      sleep: async () => undefined,
    };
    const first = await runCompliance({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, deps);
    expect(first.securityHub).toMatchObject({ previouslyActive: 0, imported: 1, archived: 0 });
    expect([...store.keys()]).toEqual([`${untagged}/required-tags`]);

    await client.send(new TagResourceCommand({ SecretId: untagged, Tags: [{ Key: 'owner', Value: 'payments' }] }));
    sandbox.clock.advance(60_000);
    const second = await runCompliance({}, deps);
    expect(second.securityHub).toMatchObject({ previouslyActive: 1, imported: 1, archived: 1 });
    expect(store.get(`${untagged}/required-tags`)).toMatchObject({ RecordState: 'ARCHIVED', Compliance: { Status: 'PASSED' } });
    expect(second.summary.listSecretsCalls).toBe(2);
  });
});
