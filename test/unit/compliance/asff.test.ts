import { BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultProductArn, evaluateSecret, findingId, resolvedAsff, SecurityHubPublisher, toAsff } from '../../../shared/compliance';
import { ALL_ON, ARN, DAY, NOW, entry, policy } from './fixtures';

const PRODUCT = defaultProductArn('aws', 'us-east-1', '123456789012');
const NOW_ISO = new Date(NOW).toISOString();
const REQUIRED = ['AwsAccountId', 'CreatedAt', 'Description', 'GeneratorId', 'Id', 'ProductArn', 'Resources', 'SchemaVersion', 'Severity', 'Title', 'Types', 'UpdatedAt'];

describe('ASFF mapping', () => {
  it('an active finding carries the twelve required attributes, a stable id and FAILED compliance', () => {
    const evaluation = evaluateSecret(entry({ RotationEnabled: false, OwningService: undefined }), policy(), NOW);
    const finding = evaluation.findings[0]!;
    const asff = toAsff(finding, evaluation, { productArn: PRODUCT, now: NOW_ISO });
    for (const field of REQUIRED) expect(asff, field).toHaveProperty(field);
    expect(asff).toMatchObject({
      SchemaVersion: '2018-10-08',
      Id: `${ARN}/rotation-disabled`,
      ProductArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      GeneratorId: 'secrets-compliance/rotation-disabled',
      AwsAccountId: '123456789012',
      Types: ['Software and Configuration Checks/AWS Security Best Practices'],
      CreatedAt: NOW_ISO,
      UpdatedAt: NOW_ISO,
      Severity: { Label: 'MEDIUM' },
      Title: 'Secrets Manager secret should have automatic rotation enabled',
      Resources: [{ Type: 'AwsSecretsManagerSecret', Id: ARN, Partition: 'aws', Region: 'us-east-1', Details: { AwsSecretsManagerSecret: { Name: '/prod/payments/db' } } }],
      Compliance: { Status: 'FAILED' },
      RecordState: 'ACTIVE',
      FindingProviderFields: { Severity: { Label: 'MEDIUM' } },
      ProductFields: { 'secrets-compliance/check': 'rotation-disabled', 'secrets-compliance/class': 'default', 'secrets-compliance/env': 'prod', 'secrets-compliance/team': 'payments' },
    });
    expect(asff.Description).toMatch(/^Rotation is not enabled/);
    expect(asff.Description!.length).toBeLessThanOrEqual(1024);
  });
  it('keeps CreatedAt from first sight', () => {
    const evaluation = evaluateSecret(entry({ RotationEnabled: false }), policy(), NOW);
    expect(toAsff(evaluation.findings[0]!, evaluation, { productArn: PRODUCT, now: NOW_ISO, createdAt: '2025-01-01T00:00:00.000Z' })).toMatchObject({ CreatedAt: '2025-01-01T00:00:00.000Z', UpdatedAt: NOW_ISO });
  });
  it('a resolved finding is ARCHIVED and PASSED, with the same id', () => {
    const asff = resolvedAsff(ARN, 'rotation-age', 'MEDIUM', { productArn: PRODUCT, now: NOW_ISO, createdAt: '2025-01-01T00:00:00.000Z' });
    for (const field of REQUIRED) expect(asff).toHaveProperty(field);
    expect(asff).toMatchObject({ Id: findingId(ARN, 'rotation-age'), RecordState: 'ARCHIVED', Compliance: { Status: 'PASSED' }, CreatedAt: '2025-01-01T00:00:00.000Z' });
  });
});

describe('SecurityHubPublisher', () => {
  const hub = mockClient(SecurityHubClient);
  beforeEach(() => {
    hub.reset();
    hub.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => ({ SuccessCount: input.Findings.length, FailedCount: 0, FailedFindings: [] }));
  });
  const P = policy(ALL_ON);
  const noSleep = async (): Promise<void> => undefined;
  const many = (n: number) => Array.from({ length: n }, (_, i) => evaluateSecret(entry({ ARN: `${ARN}${i}`, RotationEnabled: false }), P, NOW));

  it('imports in batches of at most 100, sending each full batch before the next page', async () => {
    hub.on(GetFindingsCommand).resolves({ Findings: [] });
    const publisher = new SecurityHubPublisher({ client: new SecurityHubClient({}), productArn: PRODUCT, policy: P, now: new Date(NOW), sleep: noSleep });
    await publisher.loadActive();
    await publisher.addPage(many(150));
    expect(hub.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
    await publisher.addPage(many(100).map((e, i) => ({ ...e, arn: `x${i}`, findings: e.findings.map((f) => ({ ...f, secretArn: `${f.secretArn}-b` })) })));
    const result = await publisher.finish({ complete: true });
    const sizes = hub.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings?.length);
    expect(sizes).toEqual([100, 100, 50]);
    expect(result).toEqual({ previouslyActive: 0, imported: 250, archived: 0, failed: 0, batches: 3 });
  });

  it('reads the active findings (paged, filtered to this product and generator), keeps CreatedAt, archives what was not reproduced', async () => {
    const old = '2025-06-01T00:00:00.000Z';
    hub
      .on(GetFindingsCommand)
      .resolvesOnce({ Findings: [{ Id: `${ARN}0/rotation-disabled`, CreatedAt: old, UpdatedAt: old } as AwsSecurityFinding], NextToken: 't' })
      .resolvesOnce({ Findings: [{ Id: `${ARN}/with/slash-x/rotation-age`, CreatedAt: old, UpdatedAt: old } as AwsSecurityFinding] });
    const publisher = new SecurityHubPublisher({ client: new SecurityHubClient({}), productArn: PRODUCT, policy: P, now: new Date(NOW), sleep: noSleep });
    await publisher.loadActive();
    const reads = hub.commandCalls(GetFindingsCommand);
    expect(reads).toHaveLength(2);
    expect(reads[0]!.args[0].input.Filters).toEqual({
      ProductArn: [{ Value: PRODUCT, Comparison: 'EQUALS' }],
      GeneratorId: [{ Value: 'secrets-compliance/', Comparison: 'PREFIX' }],
      RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
    });
    expect(reads[1]!.args[0].input.NextToken).toBe('t');
    await publisher.addPage(many(1));
    const result = await publisher.finish({ complete: true });
    const sent = hub.commandCalls(BatchImportFindingsCommand).flatMap((c) => c.args[0].input.Findings ?? []);
    expect(sent.map((f) => [f.Id, f.RecordState, f.CreatedAt, f.UpdatedAt])).toEqual([
      [`${ARN}0/rotation-disabled`, 'ACTIVE', old, NOW_ISO],
      [`${ARN}/with/slash-x/rotation-age`, 'ARCHIVED', old, NOW_ISO],
    ]);
    expect(result).toMatchObject({ previouslyActive: 2, archived: 1, imported: 2 });
  });

  it('archives nothing after an incomplete scan', async () => {
    hub.on(GetFindingsCommand).resolves({ Findings: [{ Id: `${ARN}9/unused`, CreatedAt: NOW_ISO, UpdatedAt: NOW_ISO } as AwsSecurityFinding] });
    const publisher = new SecurityHubPublisher({ client: new SecurityHubClient({}), productArn: PRODUCT, policy: P, now: new Date(NOW), sleep: noSleep });
    await publisher.loadActive();
    expect(await publisher.finish({ complete: false })).toMatchObject({ archived: 0, batches: 0 });
  });

  it('moves UpdatedAt strictly forward past a later stored value', async () => {
    const later = new Date(NOW + DAY).toISOString();
    hub.on(GetFindingsCommand).resolves({ Findings: [{ Id: `${ARN}0/rotation-disabled`, CreatedAt: later, UpdatedAt: later } as AwsSecurityFinding] });
    const publisher = new SecurityHubPublisher({ client: new SecurityHubClient({}), productArn: PRODUCT, policy: P, now: new Date(NOW), sleep: noSleep });
    await publisher.loadActive();
    await publisher.addPage(many(1));
    await publisher.finish({ complete: true });
    expect(hub.commandCalls(BatchImportFindingsCommand)[0]!.args[0].input.Findings?.[0]?.UpdatedAt).toBe(new Date(NOW + DAY + 1).toISOString());
  });

  it('paces imports below the rate limit and reports refused findings', async () => {
    hub.on(GetFindingsCommand).resolves({ Findings: [] });
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 99, FailedCount: 1, FailedFindings: [{ Id: 'x', ErrorCode: 'InvalidInput', ErrorMessage: 'bad' }] });
    const sleeps: number[] = [];
    const failures: unknown[] = [];
    const publisher = new SecurityHubPublisher({
      client: new SecurityHubClient({}),
      productArn: PRODUCT,
      policy: P,
      now: new Date(NOW),
      importsPerSecond: 5,
      sleep: async (ms) => void sleeps.push(ms),
      onBatchFailure: (f) => failures.push(...f),
    });
    await publisher.addPage(many(300));
    await publisher.finish({ complete: true });
    // Three batches: the first goes at once, each later one waits its turn (about 200 ms apart at 5/s).
    expect(sleeps).toHaveLength(2);
    expect(sleeps.every((ms) => ms > 150 && ms <= 400)).toBe(true);
    expect(failures).toHaveLength(3);
    expect(publisher.result).toMatchObject({ imported: 297, failed: 3 });
  });
});
