import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { breachTable, main } from '../../../local/cli';
import type { BreachReport } from '../../../shared/breach';

const sts = mockClient(STSClient);
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe('credrot', () => {
  it('prints a readable summary table', () => {
    const report: BreachReport = {
      reason: 'INC-1',
      requester: { verified: true, arn: 'arn:aws:sts::123456789012:assumed-role/Operator/alice', account: '123456789012', via: 'sts:GetCallerIdentity' },
      claimedBy: 'bob',
      dryRun: false,
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 1234,
      total: 2,
      succeeded: 1,
      failed: 1,
      secrets: [
        {
          secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/orders-AbCdEf',
          status: 'ok',
          strategy: 'alternating',
          actions: ['read-current', 'rotate', 'rotate-again', 'end-sessions', 'verify'].map((action) => ({ action: action as 'rotate', outcome: 'done' as const, startedAt: '', durationMs: 1 })),
          notes: [],
          durationMs: 800,
        },
        { secretId: 'nope', status: 'failed', actions: [], notes: [], error: 'Secret nope was not found', failedAction: 'describe', durationMs: 3 },
      ],
    };
    const text = breachTable(report);
    expect(text).toContain('prod/orders-AbCdEf  OK      alternating  rotate,rotate-again,end-sessions,verify  0.8s');
    expect(text).toContain('nope                FAILED  -');
    expect(text).toContain('Breach response "INC-1": 1/2 ok, 1 failed, 1.2s');
    expect(text).toContain('Requested by: arn:aws:sts::123456789012:assumed-role/Operator/alice; claimed (unverified): bob');
    expect(breachTable({ ...report, requester: { verified: false, why: 'sandbox' }, claimedBy: undefined })).toMatch(/Requested by: unverified \(sandbox\)$/);
  });

  it('exits 2 on a wrong request, before any AWS call', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['breach', 'prod/x'])).toBe(2); // --reason missing
    expect(await main(['breach', '--reason', 'r', '--tag', 'novalue'])).toBe(2);
    expect(await main(['breach', '--reason', 'r', '--concurrency', '99', 'x'])).toBe(2);
    expect(await main(['breach', '--reason', 'r'])).toBe(2); // neither secrets nor selector
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/--tag must be key=value/);
    expect(sts.calls()).toHaveLength(0); // not even STS GetCallerIdentity
  });
});
