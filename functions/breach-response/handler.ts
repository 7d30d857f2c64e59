import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { runBreach, type BreachDeps, type BreachReport, type RunBreachOptions } from '../../shared/breach';
import { lambdaInvokeRequester } from '../../shared/breach/requester';
import { createBreachDeps } from '../../shared/runtime/breach';

const serviceName = 'breach-response';
const logger = new Logger({ serviceName });
const tracer = new Tracer({ serviceName });
let deps: BreachDeps | undefined;

/**
 * On-demand breach response (serverless invoke, the console, or an EventBridge rule):
 * `{"reason", "secretIds" | "selector", "claimedBy"?, "endSessions"?, "dryRun"?, "concurrency"?, "rotationTimeoutMs"?, "breakGlass"?}`.
 * An invalid request fails the invocation before any secret is read. Per-secret failures do not:
 * the report lists them (`failed` > 0), so that an asynchronous invocation is not retried whole.
 */
export async function handler(event: unknown, context?: Context, options: RunBreachOptions = {}): Promise<BreachReport> {
  if (context) logger.addContext(context);
  try {
    deps ??= createBreachDeps({ log: logger, tracer });
    // A direct invoke carries no caller identity: the requester is recorded as unverified (with
    // where CloudTrail has it), and the event's requestedBy/claimedBy stays a claim.
    const report = await runBreach(event, deps, { ...options, requester: lambdaInvokeRequester(context) });
    if (report.failed > 0) logger.error('Breach response left secrets unprotected', { failed: report.secrets.filter((s) => s.status === 'failed').map((s) => s.secretId) });
    return report;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    logger.error('Breach response failed', { errorName: error.name, errorMessage: error.message });
    throw error;
  }
}
