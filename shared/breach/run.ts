import { parseBreachRequest, type BreachRequest } from './input';
import { respondToBreach, type BreachDeps, type SecretReport } from './procedure';
import { requesterLabel, unverifiedRequester, type Requester } from './requester';
import type { BreachSecretInfo } from './secrets';

export interface BreachReport {
  reason: string;
  /** Who asked, as the runner established it: a verified ARN (STS), or unverified and why. */
  requester: Requester;
  /** What the request said about who asked: an unverified claim. */
  claimedBy?: string;
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  total: number;
  succeeded: number;
  failed: number;
  secrets: SecretReport[];
}

export interface RunBreachOptions {
  /** Called as each secret finishes (CLI progress). */
  onSecret?: (report: SecretReport, done: number, total: number) => void;
  /**
   * Who asked, as the caller of runBreach established it (CLI: STS GetCallerIdentity of the
   * operator's credentials; Lambda: unverified). Never taken from the request. Default: unverified.
   */
  requester?: Requester;
}

/** Run `work` over `items` with at most `limit` at once; results in input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The breach response over every secret the request names: input validated first (a bad request
 * or a selector matching nothing changes nothing), then each secret on its own, at most
 * `concurrency` at once. A secret that fails does not stop the others; the report says which.
 */
export async function runBreach(event: unknown, deps: BreachDeps, options: RunBreachOptions = {}): Promise<BreachReport> {
  const requester = options.requester ?? unverifiedRequester('the caller of runBreach established no identity');
  // The audit lines' requestedBy is the established requester, whatever the request says.
  const request: BreachRequest = { ...parseBreachRequest(event), requestedBy: requesterLabel(requester) };
  const startedAt = new Date();
  const began = performance.now();
  const pacingBefore = deps.secrets.pacing();
  const targets: Array<BreachSecretInfo | string> = 'secretIds' in request.selection ? request.selection.secretIds : await deps.secrets.select(request.selection.selector);
  deps.log.info('Breach response started', {
    audit: 'breach-response',
    action: 'start',
    reason: request.reason,
    requestedBy: request.requestedBy,
    requester,
    ...(request.claimedBy !== undefined ? { claimedBy: request.claimedBy } : {}),
    dryRun: request.dryRun,
    secrets: targets.length,
    concurrency: request.concurrency,
  });
  let done = 0;
  const secrets = await mapBounded(targets, request.concurrency, async (target) => {
    const report = await respondToBreach(target, request, deps);
    options.onSecret?.(report, ++done, targets.length);
    return report;
  });
  const failed = secrets.filter((s) => s.status === 'failed').length;
  const report: BreachReport = {
    reason: request.reason,
    requester,
    ...(request.claimedBy !== undefined ? { claimedBy: request.claimedBy } : {}),
    dryRun: request.dryRun,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - began),
    total: secrets.length,
    succeeded: secrets.length - failed,
    failed,
    secrets,
  };
  const after = deps.secrets.pacing();
  const paced = (name: 'rotateSecret' | 'writes') => ({ perSecond: after[name].limitPerSecond, throttles: after[name].throttles - pacingBefore[name].throttles, lowestPerSecond: after[name].lowestPerSecond });
  deps.log.info('Breach response finished', {
    audit: 'breach-response',
    action: 'finish',
    reason: request.reason,
    requestedBy: request.requestedBy,
    total: report.total,
    failed,
    durationMs: report.durationMs,
    // Throttled attempts of the paced writes during this run (each retried), and the lowest rate the back-off reached.
    pacing: { rotateSecret: paced('rotateSecret'), writes: paced('writes') },
  });
  return report;
}
