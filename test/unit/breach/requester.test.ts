/**
 * Who asked for a breach response. The request's free text ("requestedBy", "claimedBy") is a claim
 * and is reported as one; the requester is what the runner established itself: the operator's own
 * identity from STS (CLI against AWS), or, for a direct Lambda invoke and the sandbox, "unverified"
 * with where to look instead.
 */
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/breach-response/handler';
import { main } from '../../../local/cli';
import { BreachInputError, BreachSecretsApi, parseBreachRequest, runBreach, type BreachDeps, type BreachReport } from '../../../shared/breach';
import { operatorRequester } from '../../../shared/breach/requester';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/orders/app-AbCdEf';
const FORGED = 'arn:aws:iam::123456789012:role/SecurityResponder';
const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/PlatformOperator/alice';

const sm = mockClient(SecretsManagerClient);
const sts = mockClient(STSClient);

beforeEach(() => {
  sm.reset();
  sts.reset();
  sm.on(DescribeSecretCommand).resolves({
    ARN,
    Name: 'prod/orders/app',
    RotationEnabled: true,
    RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotate',
    VersionIdsToStages: { v1: ['AWSCURRENT'] },
  });
  sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [{ VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: new Date() }] });
  sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ engine: 'postgres', host: 'db', port: 5432, username: 'app', password: 'leaked-pw' }) });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: OPERATOR, Account: '123456789012', UserId: 'AROAEXAMPLE:alice' });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Every place a report or audit line could present someone as the requester. */
function requesterFields(report: BreachReport, lines: Record<string, unknown>[]): unknown[] {
  return [(report as unknown as Record<string, unknown>)['requestedBy'], report.requester, ...lines.map((l) => l['requestedBy'])];
}

describe('parseBreachRequest: who asked is a claim', () => {
  it('keeps the free text as claimedBy ("requestedBy" is read as the same claim) and never as the requester', () => {
    expect(parseBreachRequest({ reason: 'r', secretIds: ['a'], claimedBy: 'alice' })).toMatchObject({ claimedBy: 'alice' });
    const legacy = parseBreachRequest({ reason: 'r', secretIds: ['a'], requestedBy: FORGED });
    expect(legacy.claimedBy).toBe(FORGED);
    expect(legacy.requestedBy).toBeUndefined();
  });
  it('refuses both at once, and a non-string', () => {
    expect(() => parseBreachRequest({ reason: 'r', secretIds: ['a'], claimedBy: 'a', requestedBy: 'b' })).toThrow(BreachInputError);
    expect(() => parseBreachRequest({ reason: 'r', secretIds: ['a'], claimedBy: 7 })).toThrow(/"claimedBy" must be a string/);
  });
});

describe('runBreach: the requester comes from the runner, never from the event', () => {
  const deps = (lines: Record<string, unknown>[]): BreachDeps => ({
    secrets: new BreachSecretsApi(new SecretsManagerClient({ region: 'us-east-1' })),
    engineFor: () => undefined,
    db: { connectTimeoutMs: 1000 },
    log: { info: (m, ...e) => lines.push({ m, ...Object.assign({}, ...e) }), error: (m, ...e) => lines.push({ m, ...Object.assign({}, ...e) }) },
  });

  it('a forged requestedBy in the event is reported as an unverified claim', async () => {
    const lines: Record<string, unknown>[] = [];
    const report = await runBreach({ reason: 'INC-1', secretIds: [ARN], dryRun: true, requestedBy: FORGED }, deps(lines));
    expect(report.claimedBy).toBe(FORGED);
    expect(report.requester).toMatchObject({ verified: false });
    expect(requesterFields(report, lines).filter((v) => JSON.stringify(v ?? null).includes(FORGED))).toEqual([]);
    expect(lines.find((l) => l['action'] === 'start')).toMatchObject({ claimedBy: FORGED, requestedBy: expect.stringMatching(/^unverified \(/) });
  });

  it('a verified requester given by the runner is on the report and on every audit line', async () => {
    const lines: Record<string, unknown>[] = [];
    const requester = { verified: true as const, arn: OPERATOR, account: '123456789012', via: 'sts:GetCallerIdentity' as const };
    const report = await runBreach({ reason: 'INC-1', secretIds: [ARN], dryRun: true, claimedBy: 'alice' }, deps(lines), { requester });
    expect(report.requester).toEqual(requester);
    const audit = lines.filter((l) => l['audit'] === 'breach-response' && l['action'] !== 'describe');
    expect(audit.length).toBeGreaterThan(1);
    for (const line of audit) expect(line['requestedBy'], JSON.stringify(line)).toBe(OPERATOR);
  });
});

describe('the Lambda function: a direct invoke carries no caller identity', () => {
  it('records the requester as unverified, points to CloudTrail\'s Invoke data event, and keeps the event\'s text a claim', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const context = { awsRequestId: 'c0ffee00-1111-2222-3333-444455556666', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:credential-rotation-prod-breachResponse', functionName: 'credential-rotation-prod-breachResponse' } as Context;
    const report = await handler({ reason: 'INC-2', secretIds: [ARN], dryRun: true, requestedBy: FORGED }, context);
    vi.restoreAllMocks();
    expect(report.claimedBy).toBe(FORGED);
    expect(report.requester.verified).toBe(false);
    const why = report.requester.verified ? '' : report.requester.why;
    expect(why).toMatch(/direct Lambda invoke/);
    expect(why).toMatch(/CloudTrail/);
    expect(why).toContain('c0ffee00-1111-2222-3333-444455556666');
    const lines = out.flatMap((s) => s.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['audit'] === 'breach-response').length).toBeGreaterThan(1);
    expect(requesterFields(report, lines).filter((v) => JSON.stringify(v ?? null).includes(FORGED))).toEqual([]);
    expect(sts.calls()).toHaveLength(0); // the function's own role is not the requester
  });
});

describe('credrot breach: the operator\'s own identity, from STS', () => {
  async function credrot(...args: string[]): Promise<{ code: number; report: BreachReport; stderr: string }> {
    let stdout = '';
    let stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    const code = await main(args);
    vi.restoreAllMocks();
    return { code, report: JSON.parse(stdout) as BreachReport, stderr };
  }

  it('against AWS: the requester is the GetCallerIdentity ARN; --requested-by is only a claim', async () => {
    const { code, report } = await credrot('--region', 'us-east-1', '--json', 'breach', '--reason', 'INC-3', '--dry-run', '--requested-by', FORGED, ARN);
    expect(code).toBe(0);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    expect(report.requester).toEqual({ verified: true, arn: OPERATOR, account: '123456789012', via: 'sts:GetCallerIdentity' });
    expect(report.claimedBy).toBe(FORGED);
    expect((report as unknown as Record<string, unknown>)['requestedBy']).toBeUndefined();
  });

  it('against the sandbox endpoint (no STS there): works, and says the requester is unverified (sandbox)', async () => {
    const { code, report } = await credrot('--endpoint', 'http://127.0.0.1:4566', '--region', 'us-east-1', '--json', 'breach', '--reason', 'INC-4', '--dry-run', '--claimed-by', 'alice', ARN);
    expect(code).toBe(0);
    expect(sts.calls()).toHaveLength(0);
    expect(report.requester).toMatchObject({ verified: false, why: expect.stringMatching(/^sandbox/) });
    expect(report.claimedBy).toBe('alice');
  });

  it('STS unreachable: the breach still runs, the requester is unverified with the reason, and stderr says so', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
    const { code, report, stderr } = await credrot('--region', 'us-east-1', '--json', 'breach', '--reason', 'INC-5', '--dry-run', ARN);
    expect(code).toBe(0);
    expect(report.total).toBe(1);
    expect(report.requester).toMatchObject({ verified: false, why: expect.stringMatching(/GetCallerIdentity failed: connect ETIMEDOUT/) });
    expect(stderr).toMatch(/unverified/);
  });
});

describe('operatorRequester', () => {
  it('a custom endpoint is never verified, STS is not asked', async () => {
    const ask = vi.fn();
    expect(await operatorRequester({ endpoint: 'http://127.0.0.1:4566', callerIdentity: ask })).toEqual({ verified: false, why: 'sandbox: Secrets Manager endpoint http://127.0.0.1:4566 is not AWS, and has no STS' });
    expect(ask).not.toHaveBeenCalled();
  });
  it('an answer without an ARN is not a verified identity', async () => {
    expect(await operatorRequester({ callerIdentity: async () => ({ Account: '1' }) })).toMatchObject({ verified: false, why: expect.stringMatching(/no ARN/) });
  });
});
