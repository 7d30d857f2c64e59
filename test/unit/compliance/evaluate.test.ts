import { describe, expect, it } from 'vitest';
import { evaluateSecret, type CheckId } from '../../../shared/compliance';
import { ALL_ON, ARN, DAY, HOUR, NOW, ago, entry, policy } from './fixtures';

const P = policy(ALL_ON);
const ids = (e: Parameters<typeof evaluateSecret>[0], p = P, now = NOW): CheckId[] => evaluateSecret(e, p, now).findings.map((f) => f.checkId).sort();

describe('evaluateSecret: the compliant baseline', () => {
  it('has no finding', () => {
    const result = evaluateSecret(entry(), P, NOW);
    expect(result).toMatchObject({ arn: ARN, status: 'evaluated', className: 'default', env: 'prod', team: 'payments', findings: [] });
  });
});

describe('rotation-disabled', () => {
  it('flags RotationEnabled false or absent on a secret older than the grace period', () => {
    expect(ids(entry({ RotationEnabled: false, CreatedDate: ago(8 * DAY), LastRotatedDate: undefined, NextRotationDate: undefined }))).toEqual(['rotation-disabled']);
    expect(ids(entry({ RotationEnabled: undefined, CreatedDate: ago(8 * DAY), LastRotatedDate: undefined, NextRotationDate: undefined }))).toEqual(['rotation-disabled']);
  });
  it('grace: younger than 7 days is not flagged; exactly 7 days is', () => {
    const young = (age: number) => entry({ RotationEnabled: false, CreatedDate: ago(age), LastRotatedDate: undefined, NextRotationDate: undefined, LastAccessedDate: undefined });
    expect(ids(young(7 * DAY - 1))).toEqual([]);
    expect(ids(young(7 * DAY))).toEqual(['rotation-disabled']);
  });
  it('does not apply to a class that needs no rotation', () => {
    expect(ids(entry({ RotationEnabled: false, Tags: [{ Key: 'compliance:secret-type', Value: 'static' }] }))).toEqual([]);
  });
  it('can be switched off', () => {
    expect(ids(entry({ RotationEnabled: false }), policy({ checks: { 'rotation-disabled': { enabled: false } } }))).toEqual([]);
  });
  it('RotationRules left over after rotation was turned off do not count as enabled (Steampipe\'s mistake)', () => {
    expect(ids(entry({ RotationEnabled: false, RotationRules: { AutomaticallyAfterDays: 30 }, CreatedDate: ago(30 * DAY) }))).toEqual(['rotation-disabled']);
  });
});

describe('rotation-interval', () => {
  it('AutomaticallyAfterDays: at the limit passes, one day more fails (default class: 90)', () => {
    expect(ids(entry({ RotationRules: { AutomaticallyAfterDays: 90 } }))).toEqual([]);
    expect(ids(entry({ RotationRules: { AutomaticallyAfterDays: 91 } }))).toEqual(['rotation-interval']);
  });
  it('database class allows 30', () => {
    const db = (days: number) => entry({ RotationRules: { AutomaticallyAfterDays: days }, Tags: [{ Key: 'compliance:secret-type', Value: 'database' }] });
    expect(ids(db(30))).toEqual([]);
    expect(ids(db(31))).toEqual(['rotation-interval']);
  });
  it('schedule expressions: rate in days and hours, cron with the longest gap', () => {
    const db = (ScheduleExpression: string) => entry({ RotationRules: { ScheduleExpression }, Tags: [{ Key: 'compliance:secret-type', Value: 'database' }] });
    expect(ids(db('rate(30 days)'))).toEqual([]);
    expect(ids(db('rate(31 days)'))).toEqual(['rotation-interval']);
    expect(ids(db('rate(4 hours)'))).toEqual([]);
    expect(ids(db('cron(0 16 1,15 * ? *)'))).toEqual([]); // gap 17 days at most
    expect(ids(db('cron(0 0 1 * ? *)'))).toEqual(['rotation-interval']); // 31 days from 1 Jan to 1 Feb
    expect(ids(db('cron(0 0 ? * MON *)'))).toEqual([]);
    expect(ids(db('cron(0 0 1 1/2 ? *)'))).toEqual(['rotation-interval']);
  });
  it('the expression wins over a stale AutomaticallyAfterDays', () => {
    expect(ids(entry({ RotationRules: { AutomaticallyAfterDays: 7, ScheduleExpression: 'rate(120 days)' } }))).toEqual(['rotation-interval']);
  });
  it('an expression it cannot read is reported, not guessed', () => {
    const result = evaluateSecret(entry({ RotationRules: { ScheduleExpression: 'cron(15 0 * * ? *)' } }), P, NOW);
    expect(result.findings.map((f) => f.checkId)).toEqual(['rotation-interval']);
    expect(result.findings[0]?.reason).toMatch(/cannot be determined/);
    expect(ids(entry({ RotationRules: undefined }))).toEqual(['rotation-interval']);
  });
  it('not evaluated while rotation is off', () => {
    expect(ids(entry({ RotationEnabled: false, RotationRules: { AutomaticallyAfterDays: 400 } }))).toEqual(['rotation-disabled']);
  });
});

describe('rotation-age', () => {
  const rotated = (ms: number) => entry({ LastRotatedDate: ago(ms), RotationRules: { AutomaticallyAfterDays: 30 }, NextRotationDate: new Date(NOW + DAY) });
  it('from LastRotatedDate: exactly the maximum age passes, a millisecond more fails', () => {
    expect(ids(rotated(90 * DAY))).toEqual([]);
    expect(ids(rotated(90 * DAY + 1))).toEqual(['rotation-age']);
  });
  it('never rotated: counted from CreatedDate (the grace period for new secrets is the maximum age itself)', () => {
    const never = (ms: number) => entry({ LastRotatedDate: undefined, CreatedDate: ago(ms), NextRotationDate: new Date(NOW + DAY) });
    expect(ids(never(90 * DAY))).toEqual([]);
    expect(ids(never(90 * DAY + 1))).toEqual(['rotation-age']);
    expect(evaluateSecret(never(100 * DAY), P, NOW).findings[0]?.reason).toMatch(/never rotated, created/);
  });
  it('a max-age tag tightens the limit and the interval with it', () => {
    const tagged = (ms: number) => entry({ LastRotatedDate: ago(ms), Tags: [{ Key: 'compliance:max-age-days', Value: '20' }] });
    expect(ids(tagged(20 * DAY))).toEqual(['rotation-interval']); // AutomaticallyAfterDays 30 > 20
    expect(ids(tagged(20 * DAY + 1))).toEqual(['rotation-age', 'rotation-interval']);
  });
  it('a looser max-age tag is refused unless the policy allows it', () => {
    const loose = entry({ LastRotatedDate: ago(100 * DAY), Tags: [{ Key: 'compliance:max-age-days', Value: '120' }] });
    expect(ids(loose)).toEqual(['policy-tag-invalid', 'rotation-age']);
    expect(ids(loose, policy({ ...ALL_ON, allowTagLoosening: true }))).toEqual([]);
  });
  it('a malformed max-age tag is reported and ignored', () => {
    for (const value of ['0', '1001', 'ten', '', '30d', '-5', '3.5']) {
      expect(ids(entry({ Tags: [{ Key: 'compliance:max-age-days', Value: value }] }))).toEqual(['policy-tag-invalid']);
    }
  });
});

describe('rotation-missed', () => {
  const next = (ms: number) => entry({ NextRotationDate: ago(ms) });
  it('NextRotationDate passed by more than the 2-hour grace', () => {
    expect(ids(next(2 * HOUR))).toEqual([]);
    expect(ids(next(2 * HOUR + 1))).toEqual(['rotation-missed']);
    expect(ids(next(-HOUR))).toEqual([]);
  });
  it('grace is configurable, 0 included', () => {
    const p = policy({ checks: { 'rotation-missed': { graceHours: 0 } } });
    expect(ids(next(0), p)).toEqual([]);
    expect(ids(next(1), p)).toEqual(['rotation-missed']);
  });
  it('not applicable when rotation is off (NotApplicable in Config terms)', () => {
    expect(ids(entry({ RotationEnabled: false, NextRotationDate: ago(10 * DAY), Tags: [{ Key: 'compliance:secret-type', Value: 'static' }] }))).toEqual([]);
  });
  it('applies to classes that do not require rotation when rotation is on', () => {
    expect(ids(entry({ NextRotationDate: ago(DAY), Tags: [{ Key: 'compliance:secret-type', Value: 'static' }] }))).toEqual(['rotation-missed']);
  });
});

describe('rotation-stuck', () => {
  const stuck = (changedAgo: number, rules: Record<string, unknown> = { AutomaticallyAfterDays: 30 }) =>
    entry({ LastChangedDate: ago(changedAgo), RotationRules: rules, SecretVersionsToStages: { v2: ['AWSCURRENT'], v1: ['AWSPREVIOUS'], v3: ['AWSPENDING'] } });
  it('AWSPENDING off AWSCURRENT, unchanged for longer than the window (24 h for a days schedule)', () => {
    expect(ids(stuck(24 * HOUR))).toEqual([]);
    expect(ids(stuck(24 * HOUR + 1))).toEqual(['rotation-stuck']);
  });
  it('window from Duration, and 1 h for an hourly schedule', () => {
    expect(ids(stuck(3 * HOUR, { AutomaticallyAfterDays: 30, Duration: '3h' }))).toEqual([]);
    expect(ids(stuck(3 * HOUR + 1, { AutomaticallyAfterDays: 30, Duration: '3h' }))).toEqual(['rotation-stuck']);
    expect(ids(stuck(HOUR + 1, { ScheduleExpression: 'rate(4 hours)' }))).toEqual(['rotation-stuck']);
    expect(ids(stuck(HOUR + 1, { ScheduleExpression: 'cron(0 0/6 * * ? *)' }))).toEqual(['rotation-stuck']);
  });
  it('without rules (rotation cancelled) the policy window applies', () => {
    const e = entry({ RotationEnabled: false, RotationRules: undefined, LastChangedDate: ago(25 * HOUR), SecretVersionsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }, Tags: [{ Key: 'compliance:secret-type', Value: 'static' }] });
    expect(ids(e)).toEqual(['rotation-stuck']);
    expect(ids(e, policy({ checks: { 'rotation-stuck': { windowHours: 48 } } }))).toEqual([]);
  });
  it('AWSPENDING on the AWSCURRENT version is normal', () => {
    expect(ids(entry({ LastChangedDate: ago(100 * DAY), LastRotatedDate: ago(10 * DAY), SecretVersionsToStages: { v2: ['AWSCURRENT', 'AWSPENDING'] } }))).toEqual([]);
  });
});

describe('unused', () => {
  const accessed = (date: Date | undefined, created = ago(400 * DAY)) => entry({ LastAccessedDate: date, CreatedDate: created });
  it('counts whole UTC days (LastAccessedDate has day resolution): 90 days passes, 91 fails', () => {
    expect(ids(accessed(new Date(Date.UTC(2025, 9, 17))))).toEqual([]); // 90 days before 2026-01-15
    expect(ids(accessed(new Date(Date.UTC(2025, 9, 16))))).toEqual(['unused']);
  });
  it('never read: counted from the creation day', () => {
    expect(ids(accessed(undefined, new Date(Date.UTC(2025, 9, 17, 23, 59))))).toEqual([]);
    expect(ids(accessed(undefined, new Date(Date.UTC(2025, 9, 16, 23, 59)))).filter((c) => c === 'unused')).toEqual(['unused']);
  });
  it('limit configurable and check switchable', () => {
    const e = accessed(ago(10 * DAY));
    expect(ids(e, policy({ checks: { unused: { days: 9 } } }))).toEqual(['unused']);
    expect(ids(accessed(ago(100 * DAY)), policy({ checks: { unused: { enabled: false } } }))).toEqual([]);
  });
});

describe('cmk', () => {
  it('absent KmsKeyId, or the aws/secretsmanager alias, is the AWS managed key', () => {
    expect(ids(entry({ KmsKeyId: undefined }))).toEqual(['cmk']);
    expect(ids(entry({ KmsKeyId: 'alias/aws/secretsmanager' }))).toEqual(['cmk']);
    expect(ids(entry({ KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager' }))).toEqual(['cmk']);
    expect(ids(entry({ KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager-not' }))).toEqual([]);
  });
  it('off by default', () => {
    expect(ids(entry({ KmsKeyId: undefined }), policy())).toEqual([]);
  });
  it('allowed key list', () => {
    const p = policy({ checks: { cmk: { enabled: true, allowedKeyIds: ['arn:aws:kms:us-east-1:123456789012:key/ok'] } } });
    expect(ids(entry({ KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/ok' }), p)).toEqual([]);
    expect(ids(entry(), p)).toEqual(['cmk']);
  });
  it('managed secrets are skipped unless includeManaged', () => {
    const rds = entry({ OwningService: 'rds', KmsKeyId: undefined });
    expect(ids(rds)).toEqual([]);
    expect(ids(rds, policy({ checks: { cmk: { enabled: true, includeManaged: true } } }))).toEqual(['cmk']);
  });
});

describe('required-tags', () => {
  const p = policy({ requiredTags: ['owner'], classes: { database: { requiredTags: ['data-classification'] } }, prefixes: [{ prefix: '/prod/', requiredTags: ['cost-center'] }] });
  it('global, class and prefix keys add up; empty values count as missing', () => {
    const e = entry({ Tags: [{ Key: 'owner', Value: '' }, { Key: 'compliance:secret-type', Value: 'database' }] });
    const [finding] = evaluateSecret(e, p, NOW).findings;
    expect(finding?.checkId).toBe('required-tags');
    expect(finding?.reason).toBe('Missing or empty required tags: owner, data-classification, cost-center.');
    expect(ids(entry({ Tags: [{ Key: 'owner', Value: 'a' }, { Key: 'compliance:secret-type', Value: 'database' }, { Key: 'data-classification', Value: 'x' }, { Key: 'cost-center', Value: '1' }] }), p)).toEqual([]);
  });
  it('no required keys, no finding', () => {
    expect(ids(entry({ Tags: undefined }))).toEqual([]);
  });
});

describe('exemptions', () => {
  const exempt = (reason: string | undefined, expires: string | undefined, extra: Partial<Parameters<typeof entry>[0]> = {}) =>
    entry({
      RotationEnabled: false,
      Tags: [
        ...(reason === undefined ? [] : [{ Key: 'compliance:exemption-reason', Value: reason }]),
        ...(expires === undefined ? [] : [{ Key: 'compliance:exemption-expires', Value: expires }]),
      ],
      ...extra,
    });
  it('a valid exemption covers every check through the end of its expiry day (UTC)', () => {
    const result = evaluateSecret(exempt('third-party token', '2026-01-15'), P, NOW);
    expect(result).toMatchObject({ status: 'exempt', exemption: { reason: 'third-party token', expires: '2026-01-15' }, findings: [] });
    expect(evaluateSecret(exempt('x', '2026-01-15'), P, Date.UTC(2026, 0, 16) - 1).status).toBe('exempt');
  });
  it('expired from the first instant of the next day: a finding, and the secret is evaluated without it', () => {
    expect(ids(exempt('x', '2026-01-14'))).toEqual(['exemption-expired', 'rotation-disabled']);
    expect(ids(exempt('x', '2026-01-15'), P, Date.UTC(2026, 0, 16))).toEqual(['exemption-expired', 'rotation-disabled']);
  });
  it('needs both a reason and a real date', () => {
    for (const [reason, expires] of [['', '2026-02-01'], ['  ', '2026-02-01'], ['x', undefined], [undefined, '2026-02-01'], ['x', '2026-02-30'], ['x', '01/02/2026'], ['x', 'never']] as const) {
      expect(ids(exempt(reason, expires))).toEqual(['policy-tag-invalid', 'rotation-disabled']);
    }
  });
  it('may not run further ahead than maxExemptionDays (365): today + 365 is allowed, + 366 is not', () => {
    expect(evaluateSecret(exempt('x', '2027-01-15'), P, NOW).status).toBe('exempt');
    expect(ids(exempt('x', '2027-01-16'))).toEqual(['policy-tag-invalid', 'rotation-disabled']);
  });
  it('other tag problems are still reported on an exempt secret', () => {
    const e = exempt('x', '2026-02-01');
    e.Tags?.push({ Key: 'compliance:max-age-days', Value: 'soon' });
    expect(evaluateSecret(e, P, NOW)).toMatchObject({ status: 'exempt', findings: [{ checkId: 'policy-tag-invalid' }] });
  });
  it('tag keys are configurable', () => {
    const p = policy({ tagKeys: { exemptionReason: 'why', exemptionExpires: 'until' } });
    const e = entry({ RotationEnabled: false, Tags: [{ Key: 'why', Value: 'vendor' }, { Key: 'until', Value: '2026-03-01' }] });
    expect(evaluateSecret(e, p, NOW).status).toBe('exempt');
  });
});

describe('classes: tag, owning service, prefix, default', () => {
  const p = policy({
    ...ALL_ON,
    classes: { 'short-lived': { rotationRequired: true, maxIntervalDays: 7, maxAgeDays: 14 } },
    prefixes: [
      { prefix: '/prod/', class: 'database' },
      { prefix: '/prod/*/api/', class: 'api-key' },
      { prefix: '/dev/', rotationRequired: false },
    ],
  });
  const cls = (e: Parameters<typeof entry>[0]) => evaluateSecret(entry(e), p, NOW).className;
  it('most specific prefix wins; * is one segment', () => {
    expect(cls({ Name: '/prod/payments/db' })).toBe('database');
    expect(cls({ Name: '/prod/payments/api/stripe' })).toBe('api-key');
    expect(cls({ Name: '/prod/api/x' })).toBe('database');
    expect(cls({ Name: 'prod/payments/db' })).toBe('default');
  });
  it('the secret-type tag beats the prefix; an unknown type is reported and ignored', () => {
    expect(cls({ Name: '/prod/x/y', Tags: [{ Key: 'compliance:secret-type', Value: 'short-lived' }] })).toBe('short-lived');
    const r = evaluateSecret(entry({ Name: '/prod/x/y', Tags: [{ Key: 'compliance:secret-type', Value: 'nope' }] }), p, NOW);
    expect(r.className).toBe('database');
    expect(r.findings.map((f) => f.checkId)).toEqual(['policy-tag-invalid']);
  });
  it('prefix rules override class fields', () => {
    expect(ids(entry({ Name: '/dev/x/y', RotationEnabled: false, NextRotationDate: undefined }), p)).toEqual([]);
  });
  it('RDS-managed: class managed-database, counted as managed, same rotation rules; a Lambda is not required', () => {
    const rds = entry({ Name: 'rds!db-1234', OwningService: 'rds', RotationLambdaARN: undefined, RotationRules: { ScheduleExpression: 'rate(7 days)' }, KmsKeyId: undefined });
    expect(evaluateSecret(rds, p, NOW)).toMatchObject({ className: 'managed-database', owningService: 'rds', findings: [] });
  });
  it('other owning services need no rotation by default', () => {
    const other = entry({ OwningService: 'events', RotationEnabled: false, RotationRules: undefined, LastRotatedDate: undefined, NextRotationDate: undefined });
    expect(evaluateSecret(other, p, NOW)).toMatchObject({ className: 'managed', findings: [] });
  });
});

describe('replicas and deleted secrets', () => {
  it('a replica (PrimaryRegion elsewhere) is checked only for its own key', () => {
    const replica = entry({ PrimaryRegion: 'eu-west-1', RotationEnabled: false, LastAccessedDate: undefined, CreatedDate: ago(900 * DAY), KmsKeyId: undefined });
    expect(evaluateSecret(replica, P, NOW)).toMatchObject({ status: 'replica', findings: [{ checkId: 'cmk' }] });
    expect(evaluateSecret(replica, policy(), NOW)).toMatchObject({ status: 'replica', findings: [] });
  });
  it('scheduled for deletion: no finding, status deleted', () => {
    expect(evaluateSecret(entry({ DeletedDate: ago(0), RotationEnabled: false }), P, NOW)).toEqual({ arn: ARN, name: '/prod/payments/db', status: 'deleted', findings: [] });
  });
});

describe('severities and the finding shape', () => {
  it('default severities and overrides', () => {
    const e = entry({ RotationEnabled: false, SecretVersionsToStages: { a: ['AWSCURRENT'], b: ['AWSPENDING'] }, LastChangedDate: ago(30 * DAY), LastRotatedDate: undefined, CreatedDate: ago(30 * DAY) });
    expect(evaluateSecret(e, P, NOW).findings.map((f) => [f.checkId, f.severity])).toEqual([
      ['rotation-disabled', 'MEDIUM'],
      ['rotation-stuck', 'HIGH'],
    ]);
    const p = policy({ checks: { 'rotation-disabled': { severity: 'HIGH' } } });
    expect(evaluateSecret(e, p, NOW).findings[0]).toEqual({
      checkId: 'rotation-disabled',
      severity: 'HIGH',
      secretArn: ARN,
      secretName: '/prod/payments/db',
      reason: 'Rotation is not enabled; class default requires rotation at least every 90 days.',
    });
  });
});
