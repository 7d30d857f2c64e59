// Client-side pacing to an API quota: a token bucket whose rate backs off when the service throttles.
//
// Secrets Manager's quotas are per account and Region and shared by every caller (ListSecrets
// 100/s; RotateSecret 50/s; PutSecretValue + UpdateSecretVersionStage 50/s combined). The SDK's
// adaptive retry mode reacts only after a ThrottlingException; a pacer keeps a long job (a scan of
// 1,000,000 secrets, a breach over hundreds) under the quota in the first place:
// - `take()` before every attempt: at most `perSecond` calls a second on average, at most `burst`
//   at once after a quiet spell. Concurrent callers queue for successive slots.
// - `throttled()` on every ThrottlingException: the rate halves (at most once per `cooldownMs`, so a
//   burst of refusals of calls already in flight counts once; never below `minPerSecond`), the
//   bucket is emptied, and the rate climbs back by `recoveryPerSecond` each second (additive
//   increase, multiplicative decrease). Until it is back at the ceiling there are no bursts.
// `pacedBy(pacer)` plugs a pacer into one SDK command, below the retry middleware, so SDK retries are
// paced too and every throttled attempt reaches the pacer.

import type { AbsoluteLocation, FinalizeRequestHandlerOptions, Pluggable } from '@smithy/types';

export interface PacerOptions {
  /** The ceiling: calls per second while nothing is throttled. */
  perSecond: number;
  /** Calls that may go at once after a quiet spell (the bucket's size). Default: 1/20 s of calls, at least 1. */
  burst?: number;
  /** The floor of the back-off. Default: perSecond / 32. */
  minPerSecond?: number;
  /** How fast the rate climbs back after a throttle, in calls/s per second. Default: perSecond / 10 (half to full in 5 s). */
  recoveryPerSecond?: number;
  /** Throttles closer together than this halve the rate once. Default 500 ms. */
  cooldownMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PacerStats {
  /** The ceiling. */
  limitPerSecond: number;
  /** The rate now (below the ceiling for a while after a throttle). */
  perSecond: number;
  /** The lowest rate the back-off reached. */
  lowestPerSecond: number;
  /** Calls let through (every attempt, SDK retries included). */
  calls: number;
  /** Throttled attempts reported. */
  throttles: number;
  /** Times the rate was lowered (halved, or down to the floor). */
  backoffs: number;
  /** Total time callers waited for a slot. */
  waitedMs: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Pacer {
  readonly limitPerSecond: number;
  private readonly burst: number;
  private readonly floor: number;
  private readonly recovery: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private rate: number;
  /** Available slots; negative: slots already promised to callers still waiting. */
  private tokens: number;
  private updatedAt: number;
  private lastBackoffAt = Number.NEGATIVE_INFINITY;
  private lowest: number;
  private calls = 0;
  private throttles = 0;
  private backoffs = 0;
  private waitedMs = 0;

  constructor(options: PacerOptions) {
    if (!(options.perSecond > 0 && Number.isFinite(options.perSecond))) throw new Error(`Pacer: perSecond must be a positive number, got ${options.perSecond}`);
    this.limitPerSecond = options.perSecond;
    this.burst = Math.max(1, options.burst ?? Math.floor(options.perSecond / 20));
    this.floor = Math.min(options.perSecond, options.minPerSecond ?? options.perSecond / 32);
    this.recovery = options.recoveryPerSecond ?? options.perSecond / 10;
    this.cooldownMs = options.cooldownMs ?? 500;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? defaultSleep;
    this.rate = options.perSecond;
    this.lowest = options.perSecond;
    this.tokens = this.burst;
    this.updatedAt = this.now();
  }

  /** The rate now, calls per second. */
  get perSecond(): number {
    this.refill(this.now());
    return this.rate;
  }

  /** Waits for a slot. Call once per attempt, just before it is sent. */
  async take(): Promise<void> {
    this.refill(this.now());
    this.calls++;
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens / this.rate) * 1000;
    this.waitedMs += waitMs;
    await this.sleep(waitMs);
  }

  /** The service refused an attempt with throttling: slow down. */
  throttled(): void {
    const now = this.now();
    this.refill(now);
    this.throttles++;
    this.tokens = Math.min(this.tokens, 0);
    if (now - this.lastBackoffAt < this.cooldownMs) return;
    this.lastBackoffAt = now;
    if (this.rate <= this.floor) return;
    this.rate = Math.max(this.floor, this.rate / 2);
    this.lowest = Math.min(this.lowest, this.rate);
    this.backoffs++;
  }

  stats(): PacerStats {
    return {
      limitPerSecond: this.limitPerSecond,
      perSecond: round(this.perSecond),
      lowestPerSecond: round(this.lowest),
      calls: this.calls,
      throttles: this.throttles,
      backoffs: this.backoffs,
      waitedMs: Math.round(this.waitedMs),
    };
  }

  private refill(now: number): void {
    const seconds = (now - this.updatedAt) / 1000;
    if (seconds <= 0) return;
    this.updatedAt = now;
    // Backing off (below the ceiling), no bursts: one call at a time, 1/rate apart.
    this.tokens = Math.min(this.rate < this.limitPerSecond ? 1 : this.burst, this.tokens + seconds * this.rate);
    if (this.rate < this.limitPerSecond) this.rate = Math.min(this.limitPerSecond, this.rate + seconds * this.recovery);
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** Error names AWS services use for throttling (not LimitExceededException: in Secrets Manager that is a resource quota). */
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException', 'SlowDown']);

export function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } } | undefined;
  return e !== undefined && e !== null && (THROTTLING.has(e.name ?? '') || e.$metadata?.httpStatusCode === 429 || e.$retryable?.throttling === true);
}

const PACER_STEP: FinalizeRequestHandlerOptions & AbsoluteLocation & { name: string; override: true } = {
  step: 'finalizeRequest',
  // Low priority in the finalizeRequest step runs inside the retry middleware (priority high): once per attempt.
  priority: 'low',
  name: 'quotaPacer',
  override: true,
};

/**
 * A plugin for one command (`command.middlewareStack.use(pacedBy(pacer))`): every attempt,
 * SDK retries included, waits for the pacer, and every throttled attempt slows it down.
 */
// The plugin fits any command: it touches neither input nor output.
export function pacedBy(pacer: Pacer): Pluggable<any, any> {
  return {
    applyToStack(stack) {
      stack.add(
        (next) => async (args) => {
          await pacer.take();
          try {
            return await next(args);
          } catch (err) {
            if (isThrottling(err)) pacer.throttled();
            throw err;
          }
        },
        PACER_STEP,
      );
    },
  };
}
