import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CHECK_IDS, InvalidInputError, parseComplianceInput, PolicyError, readComplianceConfig, resolveOutputs, runCompliance, type RunDependencies } from '../../../shared/compliance';
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

describe('what-if scans: an invocation with its own policy never touches Security Hub or the metrics', () => {
  const ALL_OFF = { checks: Object.fromEntries(CHECK_IDS.map((id) => [id, { enabled: false }])) };
  const ACTIVE = [`${ARN}-1/rotation-disabled`, `${ARN}-3/rotation-disabled`].map((Id) => ({ Id, CreatedAt: new Date(NOW - DAY).toISOString(), UpdatedAt: new Date(NOW - DAY).toISOString() }));
  const archivedIds = (): string[] =>
    hub
      .commandCalls(BatchImportFindingsCommand)
      .flatMap((c) => c.args[0].input.Findings ?? [])
      .filter((f) => f.RecordState === 'ARCHIVED')
      .map((f) => f.Id ?? '');

  beforeEach(() => {
    hub.on(GetFindingsCommand).resolves({ Findings: ACTIVE as never });
  });

  it('the attacker\'s invocation {"policy":{"checks":{…off…}}} archives nothing and imports nothing, and says so', async () => {
    const d = deps({ COMPLIANCE_SECURITY_HUB: 'true' });
    const info = vi.spyOn(d.logger, 'info').mockImplementation(() => undefined);
    const warn = vi.spyOn(d.logger, 'warn').mockImplementation(() => undefined);
    const result = await runCompliance({ policy: ALL_OFF }, d);
    expect(archivedIds()).toEqual([]);
    expect(hub.calls()).toHaveLength(0);
    expect(result.policy).toBe('what-if');
    expect(result.securityHub).toEqual({ skipped: 'on-demand policy' });
    expect(result.outputs.securityHub).toBe(false);
    expect(result.summary.secrets.nonCompliant).toBe(0);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/what-if/i), expect.objectContaining({ securityHub: 'skipped', metrics: 'skipped' }));
    expect(info).toHaveBeenCalledWith('Compliance scan finished', expect.objectContaining({ policy: 'what-if', securityHub: { skipped: 'on-demand policy' } }));
  });

  it('an input cannot switch Security Hub on for its own policy, nor write metrics under it', async () => {
    const d = deps({ COMPLIANCE_SECURITY_HUB: 'false' });
    vi.spyOn(d.logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(d.logger, 'info').mockImplementation(() => undefined);
    const result = await runCompliance({ policy: { checks: { 'rotation-disabled': { enabled: false } } }, outputs: { securityHub: true, metrics: true } }, d);
    expect(hub.calls()).toHaveLength(0);
    expect(result.outputs).toMatchObject({ securityHub: false, metrics: false });
    expect(result.metrics).toEqual({ skipped: 'on-demand policy' });
    // A private policy's counts would sit in the deployed policy's metric stream and feed its alarms.
    expect(lines().filter((l) => '_aws' in l)).toHaveLength(0);
  });

  it('a tightening private policy is a what-if too: its findings are not the deployed policy\'s', async () => {
    const d = deps({ COMPLIANCE_SECURITY_HUB: 'true' });
    vi.spyOn(d.logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(d.logger, 'info').mockImplementation(() => undefined);
    const result = await runCompliance({ policy: { requiredTags: ['owner'] } }, d);
    expect(hub.calls()).toHaveLength(0);
    expect(result.securityHub).toEqual({ skipped: 'on-demand policy' });
  });

  it('a forged scheduled event carrying a policy in detail is a what-if as well', async () => {
    const d = deps({ COMPLIANCE_SECURITY_HUB: 'true' });
    vi.spyOn(d.logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(d.logger, 'info').mockImplementation(() => undefined);
    await runCompliance({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: { policy: ALL_OFF } }, d);
    expect(archivedIds()).toEqual([]);
    expect(hub.calls()).toHaveLength(0);
  });

  it('each finding line of a what-if scan is marked, so log filters on the deployed scan can leave it out', async () => {
    const d = deps();
    const warn = vi.spyOn(d.logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(d.logger, 'info').mockImplementation(() => undefined);
    await runCompliance({ policy: { classes: { default: { maxAgeDays: 90 } } } }, d);
    const findings = warn.mock.calls.filter((c) => c[0] === 'Secret out of policy');
    expect(findings.length).toBe(50);
    for (const [, fields] of findings) expect(fields).toMatchObject({ scan: 'what-if' });
  });

  it('the deployed policy (COMPLIANCE_POLICY) keeps today\'s behaviour: a complete scan archives what was not reproduced', async () => {
    const d = deps({ COMPLIANCE_SECURITY_HUB: 'true', COMPLIANCE_POLICY: JSON.stringify({ checks: { unused: { days: 60 } } }) });
    vi.spyOn(d.logger, 'info').mockImplementation(() => undefined);
    vi.spyOn(d.logger, 'warn').mockImplementation(() => undefined);
    // s1 and s3 have rotation off: their findings are reproduced. An active finding of a secret now compliant is archived.
    hub.on(GetFindingsCommand).resolves({ Findings: [...ACTIVE, { ...ACTIVE[0]!, Id: `${ARN}-2/rotation-disabled` }] as never });
    const result = await runCompliance({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, d);
    expect(result.policy).toBe('deployed');
    expect(archivedIds()).toEqual([`${ARN}-2/rotation-disabled`]);
    expect(result.securityHub).toMatchObject({ previouslyActive: 3, imported: 51, archived: 1 });
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
  it('resolveOutputs: the input switches outputs with the deployed policy; with its own policy Security Hub and metrics stay off', () => {
    const config = readComplianceConfig({ COMPLIANCE_SECURITY_HUB: 'true' });
    expect(resolveOutputs(config, {})).toEqual({ outputs: { logFindings: true, metrics: true, securityHub: true } });
    expect(resolveOutputs(config, { outputs: { securityHub: false } })).toEqual({ outputs: { logFindings: true, metrics: true, securityHub: false } });
    expect(resolveOutputs(readComplianceConfig({}), { outputs: { securityHub: true } }).outputs.securityHub).toBe(true);
    expect(resolveOutputs(config, { policy: {}, outputs: { securityHub: true } })).toEqual({
      outputs: { logFindings: true, metrics: false, securityHub: false },
      whatIf: { reason: 'on-demand policy', suppressed: ['securityHub', 'metrics'] },
    });
  });
  it('environment switches', () => {
    expect(readComplianceConfig({})).toMatchObject({ outputs: { logFindings: true, metrics: true, securityHub: false }, securityHubImportsPerSecond: 8 });
    expect(readComplianceConfig({ COMPLIANCE_SECURITY_HUB: 'yes', COMPLIANCE_METRICS: 'off' }).outputs).toMatchObject({ securityHub: true, metrics: false });
    expect(() => readComplianceConfig({ COMPLIANCE_METRICS: 'maybe' })).toThrow(/COMPLIANCE_METRICS must be true or false/);
    expect(() => readComplianceConfig({ SECURITY_HUB_IMPORTS_PER_SECOND: '20' })).toThrow(/from 1 to 10/);
  });
});
