import { randomUUID } from 'node:crypto';
import type { SandboxClock } from './clock';
import { ApiError } from './errors';
import type { FunctionRegistry, RotationEvent, RotationStep } from './functions';
import type { StoredSecret, StoredVersion } from './model';
import { nextRotationDate } from './rotation-schedule';
import { AWSCURRENT, AWSPENDING, pendingRotationVersion, type SecretStore } from './store';

const STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

export type RotationEventName =
  | 'RotationStarted'
  | 'RotationSucceeded'
  | 'RotationFailed'
  | 'RotationAbandoned'
  | 'TestRotationStarted'
  | 'TestRotationSucceeded'
  | 'TestRotationFailed';

/** What CloudTrail would record about a rotation, in the order it happened. */
export interface RotationEventRecord {
  eventName: RotationEventName;
  eventTime: Date;
  secretArn: string;
  versionId: string;
  attempt?: number;
  step?: RotationStep;
  errorMessage?: string;
}

/** One call of the rotation function, for tests and benchmarks. */
export interface InvocationRecord {
  secretArn: string;
  lambdaArn: string;
  event: RotationEvent;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  error?: string;
}

export type RotationOutcome = 'succeeded' | 'failed' | 'abandoned';

interface RotationRun {
  secretArn: string;
  token: string;
  rotationToken: string;
  done: Promise<RotationOutcome>;
}

export interface RotationOptions {
  /** How often the whole rotation is attempted before it is left failed (AWS: "multiple times"). */
  maxAttempts: number;
  /** Pause between attempts. */
  retryDelayMs: number;
  /** `async` returns from RotateSecret at once, as AWS does; `sync` answers only after the rotation ends. */
  mode: 'async' | 'sync';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs rotations the way Secrets Manager does: each of the four steps as its own invocation of
 * the secret's rotation function, the whole rotation retried on failure, AWSPENDING cleaned up
 * and the dates stamped only on success.
 */
export class RotationOrchestrator {
  readonly events: RotationEventRecord[] = [];
  readonly invocations: InvocationRecord[] = [];
  private readonly active = new Map<string, RotationRun>(); // by secret ARN
  private readonly issuedRotationTokens = new Map<string, Set<string>>(); // by secret ARN

  constructor(
    private readonly store: SecretStore,
    private readonly clock: SandboxClock,
    private readonly functions: FunctionRegistry,
    readonly options: RotationOptions,
  ) {}

  /** Begin rotating `secret` to version `token` (already registered as the AWSPENDING stub). */
  start(secret: StoredSecret, token: string): Promise<RotationOutcome> {
    const existing = this.active.get(secret.arn);
    if (existing) return existing.done;
    return this.track(secret, token, (rotationToken) => this.rotate(secret, token, rotationToken));
  }

  /** RotateImmediately=false: only testSecret runs, against a pending copy of the current value, which is removed after. */
  startTest(secret: StoredSecret, token: string): Promise<RotationOutcome> {
    return this.track(secret, token, (rotationToken) => this.testRotation(secret, token, rotationToken));
  }

  /** Run `work` as the secret's active rotation, with a RotationToken issued for it. */
  private track(secret: StoredSecret, token: string, work: (rotationToken: string) => Promise<RotationOutcome>): Promise<RotationOutcome> {
    const rotationToken = this.issueRotationToken(secret);
    const run: RotationRun = { secretArn: secret.arn, token, rotationToken, done: Promise.resolve().then(() => work(rotationToken)) };
    this.active.set(secret.arn, run);
    void run.done.finally(() => this.active.delete(secret.arn));
    return run.done;
  }

  canInvoke(lambdaArn: string): boolean {
    return this.functions.has(lambdaArn);
  }

  /**
   * What the service's scheduler does when time passes: reattempt rotations left pending, and start
   * those whose NextRotationDate has come. Returns the outcomes of the rotations it ran.
   */
  async runDue(): Promise<RotationOutcome[]> {
    const now = this.clock.now().getTime();
    const runs: Promise<RotationOutcome>[] = [];
    for (const secret of this.store.all()) {
      if (secret.deletedDate || !secret.rotationEnabled || this.isRotating(secret)) continue;
      if (!secret.rotationLambdaArn || !this.functions.has(secret.rotationLambdaArn)) continue;
      const pending = pendingRotationVersion(secret);
      if (pending) runs.push(this.start(secret, pending.versionId));
      else if (secret.nextRotationDate && secret.nextRotationDate.getTime() <= now) {
        const token = randomUUID();
        secret.versions.set(token, { versionId: token, createdDate: this.clock.now(), stages: new Set([AWSPENDING]) });
        runs.push(this.start(secret, token));
      }
    }
    return Promise.all(runs);
  }

  /** Reattempt the rotation left pending on `secret` (same token), as AWS does on its next try. */
  retryPending(secret: StoredSecret): Promise<RotationOutcome> {
    const pending = pendingRotationVersion(secret);
    if (!pending) throw new Error(`No rotation is pending on ${secret.arn}`);
    return this.start(secret, pending.versionId);
  }

  isRotating(secret: StoredSecret): boolean {
    return this.active.has(secret.arn);
  }

  /** Resolves once no rotation is running. */
  async settle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((r) => r.done));
  }

  /** Wait for the running rotation of one secret, if any. */
  async waitFor(secretArn: string): Promise<RotationOutcome | undefined> {
    return this.active.get(secretArn)?.done;
  }

  /**
   * PutSecretValue with a RotationToken is accepted only with a token Secrets Manager handed to
   * this secret's rotation function; anything else is how a confused or forged call shows.
   */
  checkRotationToken(secret: StoredSecret, rotationToken: string): void {
    if (!this.issuedRotationTokens.get(secret.arn)?.has(rotationToken)) {
      throw new ApiError('AccessDeniedException', 'The rotation token is not valid for this secret.');
    }
  }

  /** A new AWSCURRENT was written during a rotation: AWS drops AWSPENDING and abandons it. */
  abandon(secret: StoredSecret, pending: StoredVersion): void {
    pending.stages.delete(AWSPENDING);
    this.record(secret, 'RotationAbandoned', pending.versionId);
  }

  private issueRotationToken(secret: StoredSecret): string {
    const token = randomUUID();
    const issued = this.issuedRotationTokens.get(secret.arn) ?? new Set<string>();
    issued.add(token);
    this.issuedRotationTokens.set(secret.arn, issued);
    return token;
  }

  private async rotate(secret: StoredSecret, token: string, rotationToken: string): Promise<RotationOutcome> {
    this.record(secret, 'RotationStarted', token);
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(this.options.retryDelayMs);
      const outcome = await this.attempt(secret, token, rotationToken, attempt);
      if (outcome !== 'failed') return outcome;
    }
    // Left as AWS leaves it: AWSPENDING on the stub, LastRotatedDate untouched, NextRotationDate possibly past.
    return 'failed';
  }

  private async attempt(secret: StoredSecret, token: string, rotationToken: string, attempt: number): Promise<RotationOutcome> {
    for (const step of STEPS) {
      if (this.abandoned(secret, token)) return 'abandoned';
      const error = await this.invoke(secret, { Step: step, SecretId: secret.arn, ClientRequestToken: token, RotationToken: rotationToken }, attempt);
      if (error !== undefined) {
        this.record(secret, 'RotationFailed', token, {
          attempt,
          step,
          errorMessage: `Error when executing lambda ${secret.rotationLambdaArn ?? ''} during ${step} step: ${error}`,
        });
        return 'failed';
      }
    }
    const version = secret.versions.get(token);
    if (!version?.stages.has(AWSCURRENT)) {
      this.record(secret, 'RotationFailed', token, {
        attempt,
        step: 'finishSecret',
        errorMessage: `finishSecret returned but version ${token} is not AWSCURRENT`,
      });
      return 'failed';
    }
    this.complete(secret, version);
    return 'succeeded';
  }

  private complete(secret: StoredSecret, version: StoredVersion): void {
    const now = this.clock.now();
    version.stages.delete(AWSPENDING); // the service's own clean-up after success
    secret.lastRotatedDate = now;
    secret.lastChangedDate = now;
    if (secret.rotationEnabled && secret.rotationRules) secret.nextRotationDate = nextRotationDate(secret.rotationRules, now);
    this.record(secret, 'RotationSucceeded', version.versionId);
  }

  private abandoned(secret: StoredSecret, token: string): boolean {
    const version = secret.versions.get(token);
    return !version || (!version.stages.has(AWSPENDING) && !version.stages.has(AWSCURRENT)) || this.store.find(secret.arn) !== secret;
  }

  private async testRotation(secret: StoredSecret, token: string, rotationToken: string): Promise<RotationOutcome> {
    this.record(secret, 'TestRotationStarted', token);
    const error = await this.invoke(secret, { Step: 'testSecret', SecretId: secret.arn, ClientRequestToken: token, RotationToken: rotationToken }, 1);
    secret.versions.get(token)?.stages.delete(AWSPENDING);
    if (error !== undefined) {
      this.record(secret, 'TestRotationFailed', token, { step: 'testSecret', errorMessage: error });
      return 'failed';
    }
    this.record(secret, 'TestRotationSucceeded', token);
    return 'succeeded';
  }

  /** Invoke one step; the error message when it failed. */
  private async invoke(secret: StoredSecret, event: RotationEvent, attempt: number): Promise<string | undefined> {
    const lambdaArn = secret.rotationLambdaArn ?? '';
    const startedAt = this.clock.now();
    const started = performance.now();
    let error: string | undefined;
    try {
      await this.functions.invoke(lambdaArn, event);
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    this.invocations.push({
      secretArn: secret.arn,
      lambdaArn,
      event: { ...event },
      attempt,
      startedAt,
      durationMs: performance.now() - started,
      ...(error === undefined ? {} : { error }),
    });
    return error;
  }

  private record(
    secret: StoredSecret,
    eventName: RotationEventName,
    versionId: string,
    extra: Partial<Pick<RotationEventRecord, 'attempt' | 'step' | 'errorMessage'>> = {},
  ): void {
    this.events.push({ eventName, eventTime: this.clock.now(), secretArn: secret.arn, versionId, ...extra });
  }
}
