import { ApiError } from './errors';

/**
 * Faults tests inject into chosen operations: throttling and server errors as AWS sends them
 * (the SDK retries both), or added latency.
 */
export type FaultKind = 'throttle' | 'server-error' | 'latency';

export interface FaultRule {
  /** An operation name such as `GetSecretValue`, or `*` for every operation. */
  operation: string;
  kind: FaultKind;
  /** How many matching calls it hits before it expires; unlimited when absent. */
  times?: number;
  /** Let this many matching calls through first. */
  after?: number;
  /** Chance (0–1) that a matching call is hit; 1 when absent. */
  probability?: number;
  /** For `latency`: the delay added to each hit call. */
  delayMs?: number;
}

interface ActiveRule extends FaultRule {
  id: number;
  seen: number;
  hits: number;
}

export type FaultDecision = { error?: ApiError; delayMs: number };

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;
  /** Faults applied so far, per operation: tests check a fault really fired. */
  readonly injected: { operation: string; kind: FaultKind }[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(rule: FaultRule): number {
    if (rule.probability !== undefined && (rule.probability < 0 || rule.probability > 1)) {
      throw new Error(`Fault probability must be between 0 and 1, got ${rule.probability}`);
    }
    const id = this.nextId++;
    this.rules.push({ ...rule, id, seen: 0, hits: 0 });
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
      if (rule.operation !== '*' && rule.operation !== operation) continue;
      if (rule.times !== undefined && rule.hits >= rule.times) continue;
      rule.seen++;
      if (rule.seen <= (rule.after ?? 0)) continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      rule.hits++;
      this.injected.push({ operation, kind: rule.kind });
      if (rule.kind === 'latency') delayMs += rule.delayMs ?? 0;
      else return { error: faultError(rule.kind), delayMs };
    }
    return { delayMs };
  }
}

function faultError(kind: Exclude<FaultKind, 'latency'>): ApiError {
  return kind === 'throttle'
    ? new ApiError('ThrottlingException', 'Rate exceeded', 400)
    : new ApiError('InternalServiceError', 'An error occurred on the server side.', 500);
}
