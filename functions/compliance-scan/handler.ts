import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { readComplianceConfig, runCompliance, type RunResult } from '../../shared/compliance';
import { createComplianceClients } from '../../shared/runtime/compliance';

const serviceName = 'compliance-scan';
const logger = new Logger({ serviceName });
const tracer = new Tracer({ serviceName });
const metrics = new Metrics({ serviceName, namespace: process.env['POWERTOOLS_METRICS_NAMESPACE'] ?? 'SecretsCompliance' });
let clients: ReturnType<typeof createComplianceClients> | undefined;

/**
 * Scheduled (EventBridge) or on-demand compliance scan of every secret in the Region. Invalid
 * policy or input fails the invocation before any secret is read.
 */
export async function handler(event: unknown, context?: Context): Promise<RunResult> {
  if (context) logger.addContext(context);
  try {
    clients ??= createComplianceClients(tracer, readComplianceConfig(process.env).secretsManagerEndpoint);
    return await runCompliance(event, {
      env: process.env,
      ...clients,
      logger,
      metrics,
      now: () => new Date(),
      ...(context ? { identityArn: context.invokedFunctionArn } : {}),
    });
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    logger.error('Compliance scan failed', { errorName: error.name, errorMessage: error.message });
    throw error;
  }
}
