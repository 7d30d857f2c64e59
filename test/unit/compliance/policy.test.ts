import { describe, expect, it } from 'vitest';
import { compilePolicy, loadPolicy, PolicyError } from '../../../shared/compliance';

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error('expected a PolicyError');
};
const compile = (document: unknown) => compilePolicy([{ source: 'doc', document }]);

describe('policy defaults', () => {
  it('database 30/90, api keys 90/90, default 90/90, RDS-managed secrets as managed-database', () => {
    const p = compilePolicy();
    expect(p.classes.get('database')).toMatchObject({ rotationRequired: true, maxIntervalDays: 30, maxAgeDays: 90 });
    expect(p.classes.get('api-key')).toMatchObject({ maxIntervalDays: 90, maxAgeDays: 90 });
    expect(p.classes.get('default')).toMatchObject({ maxIntervalDays: 90, maxAgeDays: 90 });
    expect(p.owningServices.get('rds')).toBe('managed-database');
    expect(p.checks.cmk.enabled).toBe(false);
    expect(p.checks['rotation-stuck']).toEqual({ enabled: true, severity: 'HIGH' });
    expect([p.newSecretGraceDays, p.maxExemptionDays, p.unusedDays, p.rotationMissedGraceHours, p.stuckWindowHours]).toEqual([7, 365, 90, 2, 24]);
  });
});

describe('layering: defaults, then the environment, then the input', () => {
  it('classes and checks merge field by field; lists replace', () => {
    const p = loadPolicy(
      { COMPLIANCE_POLICY: JSON.stringify({ classes: { database: { maxIntervalDays: 14 } }, requiredTags: ['owner'], checks: { unused: { days: 30 } } }) },
      { classes: { database: { maxAgeDays: 60 } }, requiredTags: ['team'], checks: { unused: { enabled: false } } },
    );
    expect(p.classes.get('database')).toMatchObject({ maxIntervalDays: 14, maxAgeDays: 60, rotationRequired: true });
    expect(p.requiredTags).toEqual(['team']);
    expect(p.unusedDays).toBe(30);
    expect(p.checks.unused.enabled).toBe(false);
  });
  it('an empty COMPLIANCE_POLICY is no document', () => {
    expect(loadPolicy({ COMPLIANCE_POLICY: '  ' }).defaultClass).toBe('default');
  });
  it('prefix rules sorted most specific first', () => {
    const p = compile({ prefixes: [{ prefix: '/prod/' }, { prefix: '/prod/*/db/' }, { prefix: '/prod/payments/' }] });
    expect(p.prefixes.map((r) => r.prefix)).toEqual(['/prod/payments/', '/prod/*/db/', '/prod/']);
  });
});

describe('invalid policy: every problem, with its path, before anything is evaluated', () => {
  it('bad JSON in the environment', () => {
    expect(problems(() => loadPolicy({ COMPLIANCE_POLICY: '{nope' }))[0]).toMatch(/^COMPLIANCE_POLICY: is not valid JSON/);
  });
  it('not an object', () => {
    expect(problems(() => compile([1]))).toEqual(['doc: must be a JSON object']);
  });
  it('lists every problem at once', () => {
    const list = problems(() =>
      compile({
        defaultClass: 'nope',
        colour: 'red',
        classes: { database: { maxAgeDays: 0 }, fresh: { maxAgeDays: 10 }, wide: { rotationRequired: true, maxIntervalDays: 100, maxAgeDays: 90 } },
        prefixes: [{ prefix: '/prod*/', class: 'ghost' }, { class: 'database' }],
        owningServices: { rds: 'ghost' },
        tagKeys: { maxAgeDays: 'aws:max' },
        checks: { 'rotation-age': { severity: 'SEVERE' }, nope: {}, unused: { days: 0, enabled: 'yes' }, cmk: { allowedKeyIds: [] } },
        newSecretGraceDays: -1,
      }),
    );
    expect(list).toEqual([
      'doc.colour: unknown member (allowed: defaultClass, classes, prefixes, owningServices, tagKeys, allowTagLoosening, newSecretGraceDays, maxExemptionDays, requiredTags, checks)',
    ]);
    const second = problems(() =>
      compile({
        defaultClass: 'nope',
        classes: { database: { maxAgeDays: 0 }, fresh: { maxAgeDays: 10 }, wide: { rotationRequired: true, maxIntervalDays: 100, maxAgeDays: 90 } },
        prefixes: [{ prefix: '/prod*/', class: 'ghost' }, { class: 'database' }],
        owningServices: { rds: 'ghost' },
        tagKeys: { maxAgeDays: 'aws:max' },
        checks: { 'rotation-age': { severity: 'SEVERE' }, nope: {}, unused: { days: 0, enabled: 'yes' }, cmk: { allowedKeyIds: [] } },
        newSecretGraceDays: -1,
      }),
    );
    expect(second).toEqual(
      expect.arrayContaining([
        'policy.classes.database.maxAgeDays: must be a whole number from 1 to 1000, got 0',
        'policy.classes.fresh: a new class needs rotationRequired, maxIntervalDays',
        'policy.classes.wide: maxIntervalDays (100) cannot exceed maxAgeDays (90): such a schedule could never keep the secret within its maximum age',
        expect.stringMatching(/^policy\.defaultClass: names no class/),
        'policy.prefixes[0].prefix: "*" must stand for a whole path segment (e.g. "/prod/*/"), got "/prod*/"',
        expect.stringMatching(/^policy\.prefixes\[0\]\.class: names no class/),
        'policy.prefixes[1].prefix: is required',
        expect.stringMatching(/^policy\.owningServices\.rds: names no class/),
        'policy.tagKeys.maxAgeDays: must be a tag key of 1–128 characters not starting with "aws:", got "aws:max"',
        expect.stringMatching(/^policy\.checks\.nope: is not a check/),
        'policy.checks.rotation-age.severity: must be one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL, got "SEVERE"',
        'policy.checks.unused.enabled: must be true or false, got "yes"',
        'policy.checks.unused.days: must be a whole number from 1 to 3650, got 0',
        'policy.checks.cmk.allowedKeyIds: must be a non-empty list of KMS key ARNs (as ListSecrets reports KmsKeyId)',
        'policy.newSecretGraceDays: must be a whole number from 0 to 365, got -1',
      ]),
    );
    expect(second).toHaveLength(15);
  });
  it('a check member that belongs to another check is refused', () => {
    expect(problems(() => compile({ checks: { cmk: { days: 3 } } }))[0]).toMatch(/^policy\.checks\.cmk\.days: unknown member/);
  });
  it('the message says what is wrong', () => {
    expect(() => compile({ newSecretGraceDays: 'x' })).toThrow('Invalid compliance policy: policy.newSecretGraceDays: must be a whole number from 0 to 365, got "x"');
  });
});
