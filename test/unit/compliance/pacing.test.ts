// The scan paced to the ListSecrets quota, against the sandbox enforcing that quota over HTTP
// (a token bucket: only the calls above the rate are refused, with ThrottlingException).

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SeedSecret } from '../../../local/secrets-manager';
import { Pacer } from '../../../shared/aws/pacer';
import { compilePolicy, readComplianceConfig, scanSecrets } from '../../../shared/compliance';
import { createComplianceClients } from '../../../shared/runtime/compliance';

const SECRETS = 15_000; // 150 pages
const DAY = 86_400_000;

let sandbox: Sandbox;
let client: SecretsManagerClient;

beforeAll(async () => {
  sandbox = await startSandbox();
  client = createComplianceClients(undefined, sandbox.endpoint).secretsManager;
  const now = sandbox.clock.now().getTime();
  const secrets: SeedSecret[] = Array.from({ length: SECRETS }, (_, i) => ({
    name: `/pace/${i}`,
    createdDate: new Date(now - 100 * DAY),
    rotationEnabled: i % 2 === 0,
    rotationRules: { AutomaticallyAfterDays: 30 },
    lastRotatedDate: new Date(now - (i % 60) * DAY),
    lastAccessedDate: new Date(now),
  }));
  sandbox.seed(secrets);
});
afterAll(() => sandbox.close());
afterEach(() => sandbox.faults.clear());

/** The ListSecrets calls the sandbox saw from `from` on: answered and throttled, with their arrival times. */
function listCalls(from: number): { ok: number; throttled: number; at: number[] } {
  const calls = sandbox.calls.slice(from).filter((c) => c.operation === 'ListSecrets');
  return { ok: calls.filter((c) => c.status === 200).length, throttled: calls.filter((c) => c.errorCode === 'ThrottlingException').length, at: calls.map((c) => c.at.getTime()) };
}

/** The most calls that arrived within any `windowMs`. */
function busiest(at: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i]! - at[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

const policy = compilePolicy();

describe('the scan, paced to the ListSecrets quota', () => {
  it('with the sandbox enforcing 100 calls/s, no throttling gets through: 150 pages at the quota, every secret once', async () => {
    sandbox.faults.add({ operation: 'ListSecrets', kind: 'throttle', perSecond: 100, burst: 20 });
    const from = sandbox.calls.length;
    // The function's own settings: COMPLIANCE_LIST_SECRETS_PER_SECOND unset is 100.
    const pacer = new Pacer({ perSecond: readComplianceConfig({}).listSecretsPerSecond });
    const started = performance.now();
    const summary = await scanSecrets(client, policy, { now: sandbox.clock.now(), pacer });
    const seconds = (performance.now() - started) / 1000;
    const calls = listCalls(from);
    expect(summary.secrets.total).toBe(SECRETS);
    expect(summary.listSecretsCalls).toBe(150);
    expect(calls).toMatchObject({ ok: 150, throttled: 0 });
    expect(summary.throttles).toBe(0);
    expect(summary.pacing).toMatchObject({ limitPerSecond: 100, lowestPerSecond: 100, backoffs: 0 });
    // Paced, not merely lucky: (150 - a burst of 5) calls at 100/s take at least 1.45 s; never more than 100 + burst in a second.
    expect(seconds).toBeGreaterThanOrEqual(1.4);
    expect(busiest(calls.at, 1000)).toBeLessThanOrEqual(106);
  }, 30_000);

  it('unpaced, a listing trips a quota the scan paced to it never trips', async () => {
    // 3,000 secrets (30 pages) and a quota of 40/s: an unpaced client (a few ms a page here) goes well above it.
    const small = await startSandbox();
    try {
      small.seed(Array.from({ length: 3000 }, (_, i) => ({ name: `/small/${i}` })));
      const smallClient = createComplianceClients(undefined, small.endpoint).secretsManager;
      const throttledCalls = (from: number) => small.calls.slice(from).filter((c) => c.errorCode === 'ThrottlingException').length;
      small.faults.add({ operation: 'ListSecrets', kind: 'throttle', perSecond: 40, burst: 4 });
      const paced = await scanSecrets(smallClient, policy, { now: small.clock.now(), pacer: new Pacer({ perSecond: 40 }) });
      expect(paced.secrets.total).toBe(3000);
      expect(throttledCalls(0)).toBe(0);

      await new Promise((resolve) => setTimeout(resolve, 200)); // the quota's bucket refills
      const from = small.calls.length;
      const unpaced = await scanSecrets(smallClient, policy, { now: small.clock.now(), pacer: new Pacer({ perSecond: 100_000, burst: 100_000 }) }).catch((err: unknown) => err);
      const tripped = throttledCalls(from);
      expect(tripped).toBeGreaterThan(0);
      // The SDK's adaptive retries may still carry it through; or a page runs out of attempts.
      if (unpaced instanceof Error) expect(unpaced.name).toBe('ThrottlingException');
      else expect((unpaced as { throttles: number }).throttles).toBe(tripped);
    } finally {
      await small.close();
    }
  }, 60_000);

  it('a throttle burst slows the pacer down, and the scan still finishes', async () => {
    // Two refusals in a row of the 121st request: retried, each attempt reported to the pacer. Standard
    // retries here (no SDK rate limiter), so the spacing after the burst is the pacer's alone.
    const standard = new SecretsManagerClient({ endpoint: sandbox.endpoint, retryMode: 'standard', maxAttempts: 5 });
    sandbox.faults.add({ operation: 'ListSecrets', kind: 'throttle', after: 120, times: 2 });
    const from = sandbox.calls.length;
    const pacer = new Pacer({ perSecond: 100 });
    const summary = await scanSecrets(standard, policy, { now: sandbox.clock.now(), pacer });
    const calls = listCalls(from);
    expect(summary.secrets.total).toBe(SECRETS);
    expect(calls).toMatchObject({ ok: 150, throttled: 2 });
    expect(summary.throttles).toBe(2);
    expect(summary.pacing.backoffs).toBeGreaterThanOrEqual(1);
    expect(summary.pacing.lowestPerSecond).toBeLessThanOrEqual(50);
    // Before the burst, 100/s: 20 calls in about 0.19 s. After it, slower while the rate climbs back
    // from ≤ 50/s (+10/s each second, the SDK's retry delays included): at most ~75/s, at least 0.25 s.
    const sent = sandbox.calls.slice(from).filter((c) => c.operation === 'ListSecrets');
    const first = sent.findIndex((c) => c.errorCode === 'ThrottlingException');
    const last = sent.findLastIndex((c) => c.errorCode === 'ThrottlingException');
    const span = (list: typeof sent): number => list.at(-1)!.at.getTime() - list[0]!.at.getTime();
    const before = sent.slice(first - 20, first);
    const after = sent.slice(last + 1, last + 21);
    expect(after).toHaveLength(20);
    expect(span(before)).toBeLessThan(250);
    expect(span(after)).toBeGreaterThanOrEqual(250);
    standard.destroy();
  }, 60_000);
});

describe('COMPLIANCE_LIST_SECRETS_PER_SECOND', () => {
  it('defaults to the quota, 100; 1–100 accepted', () => {
    expect(readComplianceConfig({}).listSecretsPerSecond).toBe(100);
    expect(readComplianceConfig({ COMPLIANCE_LIST_SECRETS_PER_SECOND: '60' }).listSecretsPerSecond).toBe(60);
    expect(() => readComplianceConfig({ COMPLIANCE_LIST_SECRETS_PER_SECOND: '150' })).toThrow(/COMPLIANCE_LIST_SECRETS_PER_SECOND must be a whole number from 1 to 100.*quota is 100/);
    expect(() => readComplianceConfig({ COMPLIANCE_LIST_SECRETS_PER_SECOND: '0' })).toThrow(/from 1 to 100/);
  });
});
