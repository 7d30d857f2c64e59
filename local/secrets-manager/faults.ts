import { ApiError } from './errors';

/**
 * Faults tests inject into chosen operations: throttling and server errors as AWS sends them
 * (the SDK retries both), or added latency. A `throttle` rule with `perSecond` is a quota instead:
 * it refuses only the calls above the rate, as AWS enforces its API quotas.
 */
export type FaultKind = 'throttle' | 'server-error' | 'latency';

export interface FaultRule {
  /** An operation name such as `GetSecretValue`, several sharing one rule (a combined quota), or `*` for every operation. */
  operation: string | readonly string[];
  kind: FaultKind;
  /** How many matching calls it hits before it expires; unlimited when absent. */
  times?: number;
  /** Let this many matching calls through first. */
  after?: number;
  /** Chance (0–1) that a matching call is hit; 1 when absent. */
  probability?: number;
  /** For `latency`: the delay added to each hit call. */
  delayMs?: number;
  /**
   * For `throttle`: a quota. The matching calls (all the rule's operations together) are let
   * through at `perSecond` on average and at most `burst` at once; the calls above are refused
   * with ThrottlingException and use no allowance. A token bucket, refilled in real time (not the
   * sandbox clock).
   */
  perSecond?: number;
  /** For a quota: the bucket's size. Default: a tenth of a second's calls, at least 1 (AWS does not publish its own). */
  burst?: number;
}

interface ActiveRule extends FaultRule {
  id: number;
  seen: number;
  hits: number;
  /** For a quota: calls it may still let through, as of `refilledAt`. */
  tokens: number;
  refilledAt: number;
}

export type FaultDecision = { error?: ApiError; delayMs: number };

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;
  /** Faults applied so far, per operation: tests check a fault really fired. */
  readonly injected: { operation: string; kind: FaultKind }[] = [];

  constructor(
    private readonly random: () => number = Math.random,
    /** Milliseconds, for quotas. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(rule: FaultRule): number {
    if (rule.probability !== undefined && (rule.probability < 0 || rule.probability > 1)) {
      throw new Error(`Fault probability must be between 0 and 1, got ${rule.probability}`);
    }
    if (rule.perSecond !== undefined && !(rule.kind === 'throttle' && rule.perSecond > 0)) {
      throw new Error(`A quota (perSecond) is a positive rate on a throttle rule, got ${rule.perSecond} on ${rule.kind}`);
    }
    if (rule.burst !== undefined && !(rule.perSecond !== undefined && rule.burst >= 1)) throw new Error(`burst (at least 1) goes with perSecond, got ${rule.burst}`);
    const id = this.nextId++;
    const burst = rule.perSecond === undefined ? 0 : (rule.burst ?? Math.max(1, Math.floor(rule.perSecond / 10)));
    this.rules.push({ ...rule, ...(rule.perSecond !== undefined ? { burst } : {}), id, seen: 0, hits: 0, tokens: burst, refilledAt: this.now() });
    return id;
  }

  remove(id: number): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
  }

  /** Decide what happens to one call of `operation`. */
  decide(operation: string): FaultDecision {
    let delayMs = 0;
    for (const rule of this.rules) {
      if (!matches(rule.operation, operation)) continue;
      if (rule.times !== undefined && rule.hits >= rule.times) continue;
      rule.seen++;
      if (rule.seen <= (rule.after ?? 0)) continue;
      if (rule.perSecond !== undefined && this.withinQuota(rule)) continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      rule.hits++;
      this.injected.push({ operation, kind: rule.kind });
      if (rule.kind === 'latency') delayMs += rule.delayMs ?? 0;
      else return { error: faultError(rule.kind), delayMs };
    }
    return { delayMs };
  }

  /** Takes one call's allowance from a quota rule's bucket, if there is one. */
  private withinQuota(rule: ActiveRule): boolean {
    const now = this.now();
    const burst = rule.burst as number;
    rule.tokens = Math.min(burst, rule.tokens + ((now - rule.refilledAt) / 1000) * (rule.perSecond as number));
    rule.refilledAt = now;
    if (rule.tokens < 1) return false;
    rule.tokens -= 1;
    return true;
  }
}

function matches(ruleOperation: FaultRule['operation'], operation: string): boolean {
  if (typeof ruleOperation === 'string') return ruleOperation === '*' || ruleOperation === operation;
  return ruleOperation.includes(operation);
}

function faultError(kind: Exclude<FaultKind, 'latency'>): ApiError {
  return kind === 'throttle'
    ? new ApiError('ThrottlingException', 'Rate exceeded', 400)
    : new ApiError('InternalServiceError', 'An error occurred on the server side.', 500);
}
