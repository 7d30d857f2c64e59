// Log and metric outputs. A finding is one WARN line with the fields to search on; the summary is one
// INFO line. Metrics go out as EMF: NonCompliantSecrets per check (dimension Check, zero included so
// alarms see a value every run) and the scan totals.

import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { CHECK_IDS } from './checks';
import type { SecretEvaluation } from './evaluate';
import type { Policy } from './policy';
import type { ScanSummary } from './scan';

/** `mark` is added to every line (a what-if scan's `{ scan: "what-if" }`). */
export function logFindings(logger: Logger, evaluations: SecretEvaluation[], mark: Record<string, string> = {}): void {
  for (const evaluation of evaluations) {
    for (const finding of evaluation.findings) {
      logger.warn('Secret out of policy', {
        ...mark,
        checkId: finding.checkId,
        severity: finding.severity,
        secretArn: finding.secretArn,
        secretName: finding.secretName,
        reason: finding.reason,
        policyClass: evaluation.className,
        ...(evaluation.owningService ? { owningService: evaluation.owningService } : {}),
        ...(evaluation.env ? { env: evaluation.env, team: evaluation.team } : {}),
      });
    }
  }
}

export function publishMetrics(metrics: Metrics, summary: ScanSummary, policy: Policy): void {
  for (const id of CHECK_IDS) {
    if (!policy.checks[id].enabled) continue;
    const single = metrics.singleMetric();
    single.addDimension('Check', id);
    single.addMetric('NonCompliantSecrets', MetricUnit.Count, summary.byCheck[id]);
  }
  metrics.addMetric('SecretsScanned', MetricUnit.Count, summary.secrets.total);
  metrics.addMetric('SecretsNonCompliant', MetricUnit.Count, summary.secrets.nonCompliant);
  metrics.addMetric('SecretsExempt', MetricUnit.Count, summary.secrets.exempt);
  metrics.addMetric('ScanDuration', MetricUnit.Milliseconds, summary.durationMs);
  metrics.publishStoredMetrics();
}
