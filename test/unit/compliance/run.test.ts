import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, parseComplianceInput, PolicyError, readComplianceConfig, runCompliance, type RunDependencies } from '../../../shared/compliance';
import { ARN, DAY, NOW, entry } from './fixtures';

const sm = mockClient(SecretsManagerClient);
const hub = mockClient(SecurityHubClient);
let stdout: string[];

function deps(env: Record<string, string> = {}): RunDependencies & { logger: Logger } {
  const logger = new Logger({ serviceName: 'test', logLevel: 'ERROR' });
  return {
    env,
    secretsManager: new SecretsManagerClient({}),
    securityHub: new SecurityHubClient({}),
    logger,
    metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
    now: () => new Date(NOW),
    identityArn: 'arn:aws:lambda:us-east-1:123456789012:function:compliance-scan',
    sleep: async () => undefined,
  };
}

beforeEach(() => {
  sm.reset();
  hub.reset();
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  // Two pages: 100 secrets, then 1.
  const page = (n: number, start: number) => Array.from({ length: n }, (_, i) => entry({ ARN: `${ARN}-${start + i}`, Name: `s${start + i}`, RotationEnabled: (start + i) % 2 === 0 }));
  sm.on(ListSecretsCommand).resolvesOnce({ SecretList: page(100, 0), NextToken: 'p2' }).resolvesOnce({ SecretList: page(1, 100) });
  hub.on(GetFindingsCommand).resolves({ Findings: [] });
  hub.on(BatchImportFindingsCommand).callsFake((input: { Findings: unknown[] }) => ({ SuccessCount: input.Findings.length, FailedCount: 0 }));
});
afterEach(() => vi.restoreAllMocks());

const lines = (): Record<string, unknown>[] => stdout.flatMap((s) => s.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('runCompliance', () => {
  it('pages ListSecrets with MaxResults 100 and IncludePlannedDeletion, logs each finding and a summary, publishes EMF per check', async () => {
    const d = deps();
    const warn = vi.spyOn(d.logger, 'warn').mockImplementation(() => undefined);
    const info = vi.spyOn(d.logger, 'info').mockImplementation(() => undefined);
    const { summary } = await runCompliance({}, d);
    const calls = sm.commandCalls(ListSecretsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([{ MaxResults: 100, IncludePlannedDeletion: true }, { MaxResults: 100, IncludePlannedDeletion: true, NextToken: 'p2' }]);
    expect(summary).toMatchObject({ listSecretsCalls: 2, secrets: { total: 101, evaluated: 101, compliant: 51, nonCompliant: 50 } });
    expect(summary.byCheck['rotation-disabled']).toBe(50);
    expect(warn).toHaveBeenCalledTimes(50);
    expect(warn.mock.calls[0]).toEqual(['Secret out of policy', expect.objectContaining({ checkId: 'rotation-disabled', severity: 'MEDIUM', secretName: 's1', policyClass: 'default' })]);
    expect(info).toHaveBeenCalledWith('Compliance scan finished', expect.objectContaining({ summary: expect.objectContaining({ secrets: expect.objectContaining({ total: 101 }) }) }));
    const logged = lines();
    const emf = logged.filter((l) => '_aws' in l);
    const perCheck = emf.filter((l) => 'Check' in l);
    expect(perCheck.find((l) => l['Check'] === 'rotation-disabled')).toMatchObject({ NonCompliantSecrets: 50 });
    expect(perCheck.find((l) => l['Check'] === 'rotation-age')).toMatchObject({ NonCompliantSecrets: 0 });
    expect(perCheck.some((l) => l['Check'] === 'cmk')).toBe(false); // switched off by default
    expect(emf.find((l) => 'SecretsScanned' in l)).toMatchObject({ SecretsScanned: 101, SecretsNonCompliant: 50 });
    expect(hub.calls()).toHaveLength(0); // Security Hub off by default
  });

  it('invalid policy: a clear error before any secret is listed', async () => {
    await expect(runCompliance({ policy: { classes: { database: { maxAgeDays: -1 } } } }, deps())).rejects.toThrow(PolicyError);
    await expect(runCompliance({}, deps({ COMPLIANCE_POLICY: '{' }))).rejects.toThrow(/COMPLIANCE_POLICY: is not valid JSON/);
    expect(sm.commandCalls(ListSecretsCommand)).toHaveLength(0);
  });

  it('Security Hub on (environment): default product ARN from the function ARN, findings imported', async () => {
    const result = await runCompliance({}, deps({ COMPLIANCE_SECURITY_HUB: 'true' }));
    expect(hub.commandCalls(GetFindingsCommand)[0]!.args[0].input.Filters?.ProductArn?.[0]?.Value).toBe('arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default');
    expect(result.securityHub).toMatchObject({ imported: 50, batches: 1 });
  });

  it('outputs switched off by the input', async () => {
    const d = deps({ COMPLIANCE_SECURITY_HUB: 'true' });
    const warn = vi.spyOn(d.logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(d.logger, 'info').mockImplementation(() => undefined);
    await runCompliance({ outputs: { logFindings: false, metrics: false, securityHub: false } }, d);
    const logged = lines();
    expect(warn).not.toHaveBeenCalled();
    expect(logged.filter((l) => '_aws' in l)).toHaveLength(0);
    expect(hub.calls()).toHaveLength(0);
  });

  it('a failed listing resolves nothing in Security Hub', async () => {
    sm.reset();
    sm.on(ListSecretsCommand).rejects(new Error('AccessDenied'));
    hub.on(GetFindingsCommand).resolves({ Findings: [{ Id: `${ARN}-1/rotation-disabled`, CreatedAt: new Date(NOW - DAY).toISOString(), UpdatedAt: new Date(NOW - DAY).toISOString() }] as never });
    await expect(runCompliance({}, deps({ COMPLIANCE_SECURITY_HUB: 'true' }))).rejects.toThrow('AccessDenied');
    expect(hub.commandCalls(BatchImportFindingsCommand)).toHaveLength(0);
  });
});

describe('input and configuration', () => {
  it('accepts the sample events', () => {
    const read = (name: string): unknown => JSON.parse(readFileSync(join(__dirname, '../../../events', name), 'utf8'));
    expect(parseComplianceInput(read('compliance-scan-schedule.json'))).toEqual({});
    expect(parseComplianceInput(read('compliance-scan-on-demand.json'))).toMatchObject({ outputs: { securityHub: false }, policy: { classes: expect.any(Object) } });
  });
  it('a scheduled event may carry the input in detail', () => {
    expect(parseComplianceInput({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: { outputs: { metrics: false } } })).toEqual({ outputs: { metrics: false } });
  });
  it('refuses what it does not know', () => {
    expect(() => parseComplianceInput('scan')).toThrow(InvalidInputError);
    expect(() => parseComplianceInput({ polcy: {} })).toThrow('Unknown input member: polcy (allowed: policy, outputs).');
    expect(() => parseComplianceInput({ outputs: { sns: true } })).toThrow('outputs.sns is not an output');
    expect(() => parseComplianceInput({ outputs: { metrics: 'no' } })).toThrow('outputs.metrics must be true or false.');
  });
  it('environment switches', () => {
    expect(readComplianceConfig({})).toMatchObject({ outputs: { logFindings: true, metrics: true, securityHub: false }, securityHubImportsPerSecond: 8 });
    expect(readComplianceConfig({ COMPLIANCE_SECURITY_HUB: 'yes', COMPLIANCE_METRICS: 'off' }).outputs).toMatchObject({ securityHub: true, metrics: false });
    expect(() => readComplianceConfig({ COMPLIANCE_METRICS: 'maybe' })).toThrow(/COMPLIANCE_METRICS must be true or false/);
    expect(() => readComplianceConfig({ SECURITY_HUB_IMPORTS_PER_SECOND: '20' })).toThrow(/from 1 to 10/);
  });
});
