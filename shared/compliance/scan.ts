// The scan: ListSecrets page by page (100 per page, secrets scheduled for deletion included), paced
// to the ListSecrets quota. Each page is evaluated and handed to the outputs while the next one is
// on its way (one request ahead, never more), and only counters are kept, so memory does not grow
// with the number of secrets: at most two pages are held at once. Nothing else is called per secret.

import { ListSecretsCommand, type ListSecretsCommandOutput, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Pacer, pacedBy } from '../aws/pacer';
import { CHECK_IDS, type CheckId, type Severity } from './checks';
import { evaluateSecret, type SecretEvaluation } from './evaluate';
import type { Policy } from './policy';

export interface ScanSummary {
  /** The instant every secret was judged at (ISO 8601). */
  evaluatedAt: string;
  /** ListSecrets requests answered (SDK retries of a throttled request are not counted again). */
  listSecretsCalls: number;
  /** ListSecrets attempts refused with throttling (each retried by the SDK, and the pacer slowed down). */
  throttles: number;
  /** The pacing: the configured rate, the lowest the back-off reached, the time spent waiting for a slot. */
  pacing: { limitPerSecond: number; lowestPerSecond: number; backoffs: number; waitedMs: number };
  secrets: {
    /** Every entry ListSecrets returned: each counted once, in exactly one of the four statuses. */
    total: number;
    evaluated: number;
    replica: number;
    exempt: number;
    deleted: number;
    /** Of the above, those with an OwningService (e.g. RDS-managed). */
    managed: number;
    compliant: number;
    nonCompliant: number;
  };
  /** Non-compliant secrets per check (a secret counts once per check it fails). */
  byCheck: Record<CheckId, number>;
  bySeverity: Record<Severity, number>;
  durationMs: number;
}

export interface ScanOptions {
  /** The instant to judge at; the sandbox's clock in tests, the real time otherwise. */
  now: Date;
  /** Called with each page's evaluations, awaited before the next page is requested. */
  onPage?: (evaluations: SecretEvaluation[]) => Promise<void> | void;
  /** 1–100; 100 unless a test wants small pages. */
  pageSize?: number;
  /** Paces the ListSecrets attempts (SDK retries included) and backs off on throttling. Default: 100 calls/s, the quota. */
  pacer?: Pacer;
}

/** Secrets Manager's ListSecrets quota, per account and Region (not adjustable). */
export const LIST_SECRETS_QUOTA_PER_SECOND = 100;

export function emptyCounts(): Pick<ScanSummary, 'byCheck' | 'bySeverity'> {
  return {
    byCheck: Object.fromEntries(CHECK_IDS.map((id) => [id, 0])) as Record<CheckId, number>,
    bySeverity: { INFORMATIONAL: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
  };
}

/** Adds one secret's evaluation to the running summary. */
export function tally(summary: ScanSummary, evaluation: SecretEvaluation): void {
  const s = summary.secrets;
  s.total++;
  s[evaluation.status]++;
  if (evaluation.owningService !== undefined) s.managed++;
  if (evaluation.status === 'deleted') return;
  if (evaluation.findings.length === 0) s.compliant++;
  else s.nonCompliant++;
  for (const finding of evaluation.findings) {
    summary.byCheck[finding.checkId]++;
    summary.bySeverity[finding.severity]++;
  }
}

export function newSummary(now: Date): ScanSummary {
  return {
    evaluatedAt: now.toISOString(),
    listSecretsCalls: 0,
    throttles: 0,
    pacing: { limitPerSecond: 0, lowestPerSecond: 0, backoffs: 0, waitedMs: 0 },
    secrets: { total: 0, evaluated: 0, replica: 0, exempt: 0, deleted: 0, managed: 0, compliant: 0, nonCompliant: 0 },
    ...emptyCounts(),
    durationMs: 0,
  };
}

/**
 * Scans every secret of the client's Region: ⌈N/100⌉ ListSecrets calls for N secrets (one call when
 * there are none), at most the pacer's rate. The next page is requested as soon as a page arrives,
 * and the page is evaluated and handed to `onPage` while it travels: the scan runs at the quota's
 * pace as long as evaluating and writing out a page takes less than the time between two calls.
 * Throttling backs the pacer off and is retried by the client's retry strategy (adaptive, see
 * clients.ts).
 */
export async function scanSecrets(client: SecretsManagerClient, policy: Policy, options: ScanOptions): Promise<ScanSummary> {
  const started = performance.now();
  const now = options.now.getTime();
  const summary = newSummary(options.now);
  const pacer = options.pacer ?? new Pacer({ perSecond: LIST_SECRETS_QUOTA_PER_SECOND });
  const before = pacer.stats();
  const request = (nextToken: string | undefined): Promise<ListSecretsCommandOutput> => {
    const command = new ListSecretsCommand({ MaxResults: options.pageSize ?? 100, IncludePlannedDeletion: true, ...(nextToken ? { NextToken: nextToken } : {}) });
    command.middlewareStack.use(pacedBy(pacer));
    const sent = client.send(command);
    sent.catch(() => undefined); // awaited below; not an unhandled rejection while the previous page is written out
    return sent;
  };
  try {
    let next: Promise<ListSecretsCommandOutput> | undefined = request(undefined);
    while (next) {
      const page: ListSecretsCommandOutput = await next;
      summary.listSecretsCalls++;
      // A page may be empty and still carry a NextToken: stop only when the token is gone.
      next = page.NextToken ? request(page.NextToken) : undefined;
      // Let the request go out (the SDK's middleware runs on promise callbacks) before this page's
      // evaluation and outputs, which are synchronous: the service then works while we do.
      if (next) await new Promise((resolve) => setImmediate(resolve));
      const entries = page.SecretList ?? [];
      const evaluations = new Array<SecretEvaluation>(entries.length);
      for (let i = 0; i < entries.length; i++) {
        const evaluation = evaluateSecret(entries[i] as (typeof entries)[number], policy, now);
        evaluations[i] = evaluation;
        tally(summary, evaluation);
      }
      if (options.onPage) await options.onPage(evaluations);
    }
  } finally {
    const after = pacer.stats();
    summary.throttles = after.throttles - before.throttles;
    summary.pacing = { limitPerSecond: after.limitPerSecond, lowestPerSecond: after.lowestPerSecond, backoffs: after.backoffs - before.backoffs, waitedMs: after.waitedMs - before.waitedMs };
    summary.durationMs = Math.round(performance.now() - started);
  }
  return summary;
}
