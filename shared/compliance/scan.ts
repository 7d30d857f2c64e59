// The scan: ListSecrets page by page (100 per page, secrets scheduled for deletion included), each
// page evaluated and handed to the outputs before the next is requested, so memory does not grow
// with the number of secrets. Nothing else is called per secret.

import { ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CHECK_IDS, type CheckId, type Severity } from './checks';
import { evaluateSecret, type SecretEvaluation } from './evaluate';
import type { Policy } from './policy';

export interface ScanSummary {
  /** The instant every secret was judged at (ISO 8601). */
  evaluatedAt: string;
  /** ListSecrets requests answered (SDK retries of a throttled request are not counted again). */
  listSecretsCalls: number;
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
}

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
    secrets: { total: 0, evaluated: 0, replica: 0, exempt: 0, deleted: 0, managed: 0, compliant: 0, nonCompliant: 0 },
    ...emptyCounts(),
    durationMs: 0,
  };
}

/**
 * Scans every secret of the client's Region: ⌈N/100⌉ ListSecrets calls for N secrets (one call when
 * there are none). Throttling is left to the client's retry strategy (adaptive, see clients.ts).
 */
export async function scanSecrets(client: SecretsManagerClient, policy: Policy, options: ScanOptions): Promise<ScanSummary> {
  const started = performance.now();
  const now = options.now.getTime();
  const summary = newSummary(options.now);
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListSecretsCommand({ MaxResults: options.pageSize ?? 100, IncludePlannedDeletion: true, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    summary.listSecretsCalls++;
    const entries = page.SecretList ?? [];
    const evaluations = new Array<SecretEvaluation>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const evaluation = evaluateSecret(entries[i] as (typeof entries)[number], policy, now);
      evaluations[i] = evaluation;
      tally(summary, evaluation);
    }
    if (options.onPage) await options.onPage(evaluations);
    // A page may be empty and still carry a NextToken: stop only when the token is gone.
    nextToken = page.NextToken;
  } while (nextToken);
  summary.durationMs = Math.round(performance.now() - started);
  return summary;
}
