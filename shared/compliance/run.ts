// One compliance run, wired from its parts: policy and settings first (an invalid one fails before
// any secret is read), then the scan with the chosen outputs fed page by page, then the summary.
// A run whose input brings its own policy is a what-if scan: no Security Hub, no metrics (see
// resolveOutputs in config.ts).

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { Pacer } from '../aws/pacer';
import { arnParts, defaultProductArn } from './asff';
import { parseComplianceInput, readComplianceConfig, resolveOutputs, type OutputSwitches, type SkippedOutput } from './config';
import { InvalidInputError } from './errors';
import { logFindings, publishMetrics } from './outputs';
import { loadPolicy } from './policy';
import { scanSecrets, type ScanSummary } from './scan';
import { SecurityHubPublisher, type SecurityHubResult } from './security-hub';

export interface RunDependencies {
  env: Record<string, string | undefined>;
  secretsManager: SecretsManagerClient;
  securityHub: SecurityHubClient;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  /** Any ARN of the function's account and Region (the Lambda context's invokedFunctionArn): names the default product ARN. */
  identityArn?: string;
  sleep?: (ms: number) => Promise<void>;
}

export interface RunResult {
  summary: ScanSummary;
  /** `deployed`: the defaults and COMPLIANCE_POLICY. `what-if`: the input brought its own policy. */
  policy: 'deployed' | 'what-if';
  /** The outputs this run wrote. */
  outputs: OutputSwitches;
  /** What Security Hub did, or, for a what-if scan, that it was left alone. */
  securityHub?: SecurityHubResult | SkippedOutput;
  /** Present for a what-if scan: no metrics were written. */
  metrics?: SkippedOutput;
}

export async function runCompliance(event: unknown, deps: RunDependencies): Promise<RunResult> {
  const input = parseComplianceInput(event);
  const config = readComplianceConfig(deps.env);
  const policy = loadPolicy(deps.env, input.policy);
  const { outputs, whatIf } = resolveOutputs(config, input);
  const skipped: SkippedOutput | undefined = whatIf ? { skipped: whatIf.reason } : undefined;
  const mark: Record<string, string> = whatIf ? { scan: 'what-if' } : {};
  if (whatIf) {
    deps.logger.warn('What-if compliance scan: the input brings its own policy, so Security Hub findings are neither imported nor archived and no metrics are written', {
      scan: 'what-if',
      reason: whatIf.reason,
      securityHub: 'skipped',
      metrics: 'skipped',
      ...(whatIf.suppressed.length > 0 ? { switchedOff: whatIf.suppressed } : {}),
      remedy: 'Change the deployed policy (COMPLIANCE_POLICY) to change what the scheduled scan reports.',
    });
  }
  const now = deps.now();

  let publisher: SecurityHubPublisher | undefined;
  if (outputs.securityHub) {
    let productArn = config.securityHubProductArn;
    if (!productArn && deps.identityArn) {
      const { partition, region, accountId } = arnParts(deps.identityArn);
      productArn = defaultProductArn(partition, region, accountId);
    }
    if (!productArn) throw new InvalidInputError('Security Hub output is on but the product ARN is unknown: set SECURITY_HUB_PRODUCT_ARN or run in Lambda.');
    publisher = new SecurityHubPublisher({
      client: deps.securityHub,
      productArn,
      policy,
      now,
      importsPerSecond: config.securityHubImportsPerSecond,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      onBatchFailure: (failures) => deps.logger.error('Security Hub refused findings', { count: failures.length, failures: failures.slice(0, 10) }),
    });
    await publisher.loadActive();
  }

  let summary: ScanSummary;
  try {
    summary = await scanSecrets(deps.secretsManager, policy, {
      now,
      pacer: new Pacer({ perSecond: config.listSecretsPerSecond }),
      onPage: async (evaluations) => {
        if (outputs.logFindings) logFindings(deps.logger, evaluations, mark);
        if (publisher) await publisher.addPage(evaluations);
      },
    });
  } catch (err) {
    // Send what was found, but resolve nothing: a partial listing must not close findings.
    if (publisher) await publisher.finish({ complete: false }).catch(() => undefined);
    throw err;
  }
  const securityHub = publisher ? await publisher.finish({ complete: true }) : skipped;
  if (outputs.metrics) publishMetrics(deps.metrics, summary, policy);
  const result: RunResult = {
    summary,
    policy: whatIf ? 'what-if' : 'deployed',
    outputs,
    ...(securityHub ? { securityHub } : {}),
    ...(skipped ? { metrics: skipped } : {}),
  };
  deps.logger.info('Compliance scan finished', { ...mark, ...result });
  return result;
}
