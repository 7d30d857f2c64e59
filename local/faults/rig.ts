// The reliability rig: the local Secrets Manager sandbox, the real rotation handlers, real
// databases reached through a fault-injecting TCP proxy, and a fault plan applied step by step.
// After every rotation it checks the promises the suite sells (nobody is locked out, nothing is
// left half-rotated) and, at the end, that no password leaked into any log.
//
// Used by the integration tests under test/integration/reliability and by bench/chaos.ts.

import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { databaseAccess } from '../databases';
import { startSandbox, type RotationEvent, type RotationStep, type Sandbox } from '../secrets-manager';
import { TcpProxy } from './tcp-proxy';

export type RigEngine = 'postgresql' | 'mariadb';
export type Strategy = 'single' | 'alternating' | 'pair';
export const STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

/** What the rig needs to know about a running server (local/databases' DatabaseServer fits). */
export interface RigDatabase {
  engine: RigEngine;
  hostname: string;
  port: number;
  adminUser: string;
  adminPassword: string;
  database: string;
  logFile: string;
}

/**
 * One fault, aimed at one step of a rotation. `deliveries` is how many deliveries of that step it
 * hits (default 1, which the sandbox's whole-rotation retry absorbs); `Infinity` hits every
 * attempt, so the rotation is left pending until the fault is gone and it is retried.
 */
export type Fault = (
  | { type: 'sm-throttle' | 'sm-5xx'; step: RotationStep; /** Secrets Manager calls that fail while the step runs. */ calls: number; operation?: string }
  | { type: 'db-reset'; step: RotationStep; /** Bytes relayed before the cut; 0 cuts on accept. */ afterBytes: number }
  | { type: 'db-timeout' | 'db-down'; step: RotationStep }
  | { type: 'crash-before' | 'crash-after' | 'twice' | 'concurrent'; step: RotationStep }
  | { type: 'race'; step?: undefined }
) & { deliveries?: number };

export const describeFault = (f: Fault): string => {
  const where = f.step ? `@${f.step}` : '';
  const extra = f.type === 'db-reset' ? `(${f.afterBytes}B)` : f.type === 'sm-throttle' || f.type === 'sm-5xx' ? `(${f.calls} calls${f.operation ? ` ${f.operation}` : ''})` : '';
  const times = f.deliveries === undefined || f.deliveries === 1 ? '' : f.deliveries === Infinity ? ' persistent' : ` x${f.deliveries}`;
  return `${f.type}${extra}${where}${times}`;
};

/** A rotated secret with the users behind it. */
export interface Subject {
  engine: RigEngine;
  strategy: Strategy;
  arn: string;
  rotations: number;
}

export interface RotationReport {
  outcome: 'succeeded' | 'failed' | 'abandoned';
  /** The sandbox's own retries did not finish it: retryPendingRotation was needed. */
  retriedPending: boolean;
  /** Fault applications (one per hit step delivery, plus Secrets Manager faults that fired). */
  faultsInjected: number;
  /** Broken promises, each a sentence; empty is good. Lockouts start with "lockout:". */
  violations: string[];
  /**
   * The service recorded the rotation as failed, yet nothing is pending and AWSCURRENT moved to a
   * new version: finishSecret had done its work when the failure came (a crash after it, every time).
   */
  completedDespiteFailure: boolean;
  /** Single user between setSecret and finishSecret: the old password no longer works (inherent to the strategy). */
  singleUserWindow: boolean;
}

export interface EngineRig {
  engine: RigEngine;
  lambdaArn: string;
  db: RigDatabase;
  proxy: TcpProxy;
  /** The handler as imported (not wrapped). */
  handler: (event: unknown) => Promise<unknown>;
  /** SQL as the server's admin, directly (not through the proxy): `$1` on PostgreSQL, `?` on MariaDB. */
  admin<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Logs in directly (not through the proxy). false only for a refused password. */
  canLogin(username: string, password: string): Promise<boolean>;
  /** Creates a login user; the password reaches the server only as a verifier/hash (so logs stay clean). */
  createUser(username: string, password: string): Promise<void>;
  userExists(username: string): Promise<boolean>;
  /** A secret value for this engine pointing at the proxy (host localhost, which the certificate covers). */
  secretValue(username: string, password: string, extra?: Record<string, unknown>): Record<string, unknown>;
  adminArn: string;
}

export interface RigOptions {
  databases: readonly RigDatabase[];
  caFile: string;
  caPem: string;
  connectTimeoutMs?: number;
  maxAttempts?: number;
  retryDelayMs?: number;
  /** Keep the handler's log lines off the terminal (they are captured either way). Default true. */
  quiet?: boolean;
}

export const LAMBDA_ARN: Record<RigEngine, string> = {
  postgresql: 'arn:aws:lambda:us-east-1:123456789012:function:reliability-rotate-postgresql',
  mariadb: 'arn:aws:lambda:us-east-1:123456789012:function:reliability-rotate-mysql',
};

interface ActiveFault {
  fault: Fault;
  hits: number;
}

const versionWith = (stages: Record<string, string[]>, stage: string): string | undefined => Object.entries(stages).find(([, s]) => s.includes(stage))?.[0];
/** The version a rotation is still under way to: AWSPENDING without AWSCURRENT (AWS's rule). */
const pendingRotation = (stages: Record<string, string[]>): string | undefined =>
  Object.entries(stages).find(([, s]) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT'))?.[0];

export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

export const randomName = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;
const randomPassword = (): string => `Rig-${randomBytes(12).toString('base64url')}`;

export class Rig {
  readonly output: string[] = [];
  /** Every secret the rig created (for the leak canary). */
  readonly secretArns: string[] = [];
  /** Passwords the rig itself set (initial users). */
  readonly initialPasswords: string[] = [];
  readonly engines = new Map<RigEngine, EngineRig>();
  faultsInjected = 0;
  private active: ActiveFault[] = [];
  private restoreOutput: (() => void)[] = [];
  private readonly rawWrite: (text: string) => void;

  private constructor(
    readonly sandbox: Sandbox,
    readonly client: SecretsManagerClient,
  ) {
    const write = process.stdout.write.bind(process.stdout);
    this.rawWrite = (text) => void write(text);
  }

  static async start(options: RigOptions): Promise<Rig> {
    const sandbox = await startSandbox({ rotation: { maxAttempts: options.maxAttempts ?? 3, retryDelayMs: options.retryDelayMs ?? 1 } });
    // The handlers build their clients and read DB_TLS_CA_FILE at their first invocation.
    const env: Record<string, string> = {
      ...sandbox.env(),
      DB_TLS_CA_FILE: options.caFile,
      DB_CONNECT_TIMEOUT_MS: String(options.connectTimeoutMs ?? 1000),
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 1 });
    const rig = new Rig(sandbox, client);
    rig.restoreOutput.push(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    rig.captureOutput(options.quiet ?? true);
    for (const db of options.databases) {
      const engineRig = await rig.addEngine(db, options.caPem);
      rig.engines.set(db.engine, engineRig);
    }
    return rig;
  }

  /** Print to the real stdout (the handler's output is captured). */
  print(line: string): void {
    this.rawWrite(`${line}\n`);
  }

  engine(engine: RigEngine): EngineRig {
    const e = this.engines.get(engine);
    if (!e) throw new Error(`The rig has no ${engine} database`);
    return e;
  }

  private captureOutput(quiet: boolean): void {
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        this.output.push(String(chunk));
        return quiet && !process.env['SHOW_HANDLER_LOGS'] ? true : (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
      this.restoreOutput.push(() => {
        stream.write = write;
      });
    }
  }

  private async addEngine(db: RigDatabase, caPem: string): Promise<EngineRig> {
    const { handler } =
      db.engine === 'postgresql' ? await import('../../functions/rotate-postgresql/handler') : await import('../../functions/rotate-mysql/handler');
    const proxy = await TcpProxy.start({ target: { host: '127.0.0.1', port: db.port } });
    const access = databaseAccess(db, caPem);
    const lambdaArn = LAMBDA_ARN[db.engine];
    const secretValue = (username: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
      db.engine === 'postgresql'
        ? { engine: 'postgres', host: 'localhost', port: proxy.port, username, password, dbname: 'postgres', ...extra }
        : { engine: 'mariadb', host: 'localhost', port: proxy.port, username, password, ...extra };
    const adminArn = await this.createSecret(randomName(`admin-${db.engine}`), secretValue(db.adminUser, db.adminPassword), false);
    const engineRig: EngineRig = {
      engine: db.engine,
      lambdaArn,
      db,
      proxy,
      handler,
      ...access,
      secretValue,
      adminArn,
    };
    this.sandbox.functions.register(lambdaArn, (event) => this.deliver(engineRig, event), { timeoutMs: 30_000 });
    return engineRig;
  }

  async createSecret(name: string, value: Record<string, unknown> | string, track = true): Promise<string> {
    const out = await this.client.send(new CreateSecretCommand({ Name: name, SecretString: typeof value === 'string' ? value : JSON.stringify(value) }));
    if (track) this.secretArns.push(out.ARN!);
    return out.ARN!;
  }

  /** A fresh user (or pair) and its secret, ready to rotate. */
  async newSubject(engine: RigEngine, strategy: Strategy): Promise<Subject> {
    const e = this.engine(engine);
    const base = randomName(strategy === 'pair' ? 'rp' : strategy === 'alternating' ? 'ra' : 'rs');
    const password = randomPassword();
    this.initialPasswords.push(password);
    let value: Record<string, unknown>;
    if (strategy === 'pair') {
      const other = `${base}_b`;
      const otherPassword = randomPassword();
      this.initialPasswords.push(otherPassword);
      await e.createUser(`${base}_a`, password);
      await e.createUser(other, otherPassword);
      const pair = { masterarn: e.adminArn, usernames: [`${base}_a`, other] };
      // The pair bootstrap: the other user's credential first (it becomes AWSPREVIOUS, the proof
      // of control the strategy asks for), then the current one.
      const arn = await this.createSecret(randomName(`secret-${engine}-${strategy}`), e.secretValue(other, otherPassword, pair));
      await this.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(e.secretValue(`${base}_a`, password, pair)) }));
      return { engine, strategy, arn, rotations: 0 };
    } else {
      await e.createUser(base, password);
      value = e.secretValue(base, password, strategy === 'alternating' ? { masterarn: e.adminArn } : {});
    }
    const arn = await this.createSecret(randomName(`secret-${engine}-${strategy}`), value);
    return { engine, strategy, arn, rotations: 0 };
  }

  /** Runs one step delivery through the active fault plan. */
  private async deliver(e: EngineRig, event: RotationEvent): Promise<void> {
    const hitting = this.active.filter((a) => a.fault.step === event.Step && a.hits < (a.fault.deliveries ?? 1));
    const ruleIds: number[] = [];
    let proxyDown = false;
    const smBefore = this.sandbox.faults.injected.length;
    try {
      for (const a of hitting) {
        a.hits++;
        this.faultsInjected++;
        const f = a.fault;
        switch (f.type) {
          case 'sm-throttle':
          case 'sm-5xx':
            ruleIds.push(this.sandbox.faults.add({ operation: f.operation ?? '*', kind: f.type === 'sm-throttle' ? 'throttle' : 'server-error', times: f.calls }));
            break;
          case 'db-reset':
            e.proxy.setStanding({ kind: 'reset', afterBytes: f.afterBytes });
            break;
          case 'db-timeout':
            e.proxy.setStanding({ kind: 'blackhole' });
            break;
          case 'db-down':
            await e.proxy.down();
            proxyDown = true;
            break;
          case 'crash-before':
            throw new InjectedCrash(`injected crash before ${event.Step}`);
          default:
            break;
        }
      }
      const types = new Set(hitting.map((a) => a.fault.type));
      if (types.has('concurrent')) await Promise.all([e.handler(event), e.handler(event)]);
      else {
        await e.handler(event);
        if (types.has('twice')) await e.handler(event);
      }
      if (types.has('crash-after')) throw new InjectedCrash(`injected crash after ${event.Step}`);
    } finally {
      for (const id of ruleIds) this.sandbox.faults.remove(id);
      e.proxy.clearFaults();
      if (proxyDown) await e.proxy.up();
      // Secrets Manager faults that fired beyond the one counted for the delivery.
      this.faultsInjected += Math.max(0, this.sandbox.faults.injected.length - smBefore - (ruleIds.length > 0 ? 1 : 0));
    }
  }

  private lastOutcome(arn: string, since: number): 'succeeded' | 'failed' | 'abandoned' | undefined {
    const last = this.sandbox.rotations.events
      .slice(since)
      .filter((ev) => ev.secretArn === arn && (ev.eventName === 'RotationSucceeded' || ev.eventName === 'RotationFailed' || ev.eventName === 'RotationAbandoned'))
      .at(-1)?.eventName;
    return last === 'RotationSucceeded' ? 'succeeded' : last === 'RotationAbandoned' ? 'abandoned' : last === 'RotationFailed' ? 'failed' : undefined;
  }

  /**
   * Rotate `subject` once under `faults`. If the sandbox's own retries leave it pending, check the
   * pending-state promises, remove the faults and retry the pending rotation (as AWS's next try would).
   */
  async rotate(subject: Subject, faults: readonly Fault[] = []): Promise<RotationReport> {
    const e = this.engine(subject.engine);
    const since = this.sandbox.rotations.events.length;
    const injectedBefore = this.faultsInjected;
    this.active = faults.filter((f) => f.type !== 'race').map((fault) => ({ fault, hits: 0 }));
    const violations: string[] = [];
    const currentBefore = versionWith(await this.stages(subject.arn), 'AWSCURRENT');
    const rules = subject.rotations === 0 ? { RotationRules: { AutomaticallyAfterDays: 30 } } : {};
    try {
      if (faults.some((f) => f.type === 'race')) {
        // Two rotations started at once on one secret, each with its own token: exactly one may run.
        this.faultsInjected++;
        const tokens = [randomUUID(), randomUUID()];
        const results = await Promise.allSettled(
          tokens.map((token) => this.client.send(new RotateSecretCommand({ SecretId: subject.arn, RotationLambdaARN: e.lambdaArn, ClientRequestToken: token, ...rules }))),
        );
        const accepted = results.filter((r) => r.status === 'fulfilled').length;
        if (accepted !== 1) violations.push(`race: ${accepted} of 2 concurrent RotateSecret calls were accepted (expected exactly 1)`);
        for (const r of results) {
          // The loser is told a rotation is running; a Secrets Manager fault the plan injected (rules apply to every caller) may answer it first.
          if (r.status === 'fulfilled') continue;
          const reason = String(r.reason);
          const expected = /previous rotation isn't complete/.test(reason) || (faults.some((f) => f.type.startsWith('sm-')) && /InternalServiceError|ThrottlingException|Rate exceeded/.test(reason));
          if (!expected) violations.push(`race: unexpected refusal ${reason}`);
        }
      } else {
        await this.client.send(new RotateSecretCommand({ SecretId: subject.arn, RotationLambdaARN: e.lambdaArn, ...rules }));
      }
      await this.sandbox.settle();
      subject.rotations++;
      let outcome = this.lastOutcome(subject.arn, since) ?? 'failed';
      let retriedPending = false;
      let singleUserWindow = false;
      let completedDespiteFailure = false;
      const afterStages = await this.stages(subject.arn);
      if (outcome !== 'succeeded' && pendingRotation(afterStages) === undefined && versionWith(afterStages, 'AWSCURRENT') !== currentBefore) {
        completedDespiteFailure = true;
      } else if (outcome !== 'succeeded') {
        const pending = await this.check(subject, 'pending');
        violations.push(...pending.violations);
        singleUserWindow = pending.singleUserWindow;
        this.active = [];
        retriedPending = true;
        outcome = await this.sandbox.retryPendingRotation(subject.arn);
        await this.sandbox.settle();
      }
      if (outcome !== 'succeeded' && !completedDespiteFailure) violations.push(`incomplete: the rotation of ${subject.arn} did not complete after the faults were removed (${outcome})`);
      violations.push(...(await this.check(subject, 'complete')).violations);
      return { outcome, retriedPending, faultsInjected: this.faultsInjected - injectedBefore, violations, singleUserWindow, completedDespiteFailure };
    } finally {
      this.active = [];
    }
  }

  /**
   * Starts a rotation of `subject` and leaves it in flight after step `after`: the next step crashes
   * on its delivery (one attempt, no retry), so the secret holds AWSPENDING as it does between two
   * step invocations of the service. Returns the pending version id (the rotation's token).
   */
  async leavePending(subject: Subject, after: Exclude<RotationStep, 'finishSecret'>, token: string = randomUUID()): Promise<string> {
    const e = this.engine(subject.engine);
    const next = STEPS[STEPS.indexOf(after) + 1]!;
    const options = this.sandbox.rotations.options;
    const savedAttempts = options.maxAttempts;
    this.active = [{ fault: { type: 'crash-before', step: next, deliveries: Infinity }, hits: 0 }];
    options.maxAttempts = 1;
    try {
      const rules = subject.rotations === 0 ? { RotationRules: { AutomaticallyAfterDays: 30 } } : {};
      await this.client.send(new RotateSecretCommand({ SecretId: subject.arn, RotationLambdaARN: e.lambdaArn, ClientRequestToken: token, ...rules }));
      await this.sandbox.settle();
      subject.rotations++;
    } finally {
      this.active = [];
      options.maxAttempts = savedAttempts;
    }
    return token;
  }

  async stages(arn: string): Promise<Record<string, string[]>> {
    return (await this.client.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages ?? {};
  }

  async value(arn: string, stage: string): Promise<{ username: string; password: string } & Record<string, unknown>> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
    return JSON.parse(out.SecretString!) as { username: string; password: string } & Record<string, unknown>;
  }

  /**
   * The promises, checked against the database and the secret.
   * - complete: exactly one AWSCURRENT; no AWSPENDING on any other version (AWS accepts it beside
   *   AWSCURRENT, where a finished rotation may leave it until the service's clean-up); AWSCURRENT logs in; for
   *   alternating users and pairs AWSPREVIOUS logs in too.
   * - pending (a rotation left failed): AWSCURRENT is unchanged in place; for alternating users
   *   and pairs it still logs in. A single user may be between setSecret and finishSecret, where
   *   only the pending password works (the strategy's inherent window; AWS's too): then the pending one must.
   */
  async check(subject: Subject, phase: 'pending' | 'complete'): Promise<{ violations: string[]; singleUserWindow: boolean }> {
    const e = this.engine(subject.engine);
    const violations: string[] = [];
    const stages = await this.stages(subject.arn);
    const withStage = (stage: string) => Object.entries(stages).filter(([, s]) => s.includes(stage)).map(([id]) => id);
    const currentIds = withStage('AWSCURRENT');
    if (currentIds.length !== 1) violations.push(`${currentIds.length} versions hold AWSCURRENT`);
    const pendingIds = withStage('AWSPENDING').filter((id) => !currentIds.includes(id));
    if (phase === 'complete' && pendingIds.length > 0) violations.push(`AWSPENDING left on ${pendingIds.join(', ')} after the rotation completed`);
    const current = await this.value(subject.arn, 'AWSCURRENT');
    const currentOk = await e.canLogin(current.username, current.password);
    let singleUserWindow = false;
    if (!currentOk) {
      if (phase === 'pending' && subject.strategy === 'single' && pendingIds.length === 1) {
        const pending = await this.client.send(new GetSecretValueCommand({ SecretId: subject.arn, VersionId: pendingIds[0] })).then(
          (o) => (o.SecretString ? (JSON.parse(o.SecretString) as { username: string; password: string }) : undefined),
          () => undefined,
        );
        if (pending && (await e.canLogin(pending.username, pending.password))) singleUserWindow = true;
        else violations.push(`lockout: neither AWSCURRENT nor AWSPENDING of single user "${current.username}" logs in (${phase})`);
      } else {
        violations.push(`lockout: AWSCURRENT ("${current.username}") does not log in (${phase}, ${subject.strategy})`);
      }
    }
    if (phase === 'complete' && subject.strategy !== 'single' && withStage('AWSPREVIOUS').length === 1) {
      const previous = await this.value(subject.arn, 'AWSPREVIOUS');
      if (!(await e.canLogin(previous.username, previous.password))) {
        violations.push(`lockout: AWSPREVIOUS ("${previous.username}") does not log in after an ${subject.strategy} rotation`);
      }
      if (previous.username === current.username) violations.push(`AWSPREVIOUS and AWSCURRENT are the same user "${current.username}" (${subject.strategy})`);
    }
    return { violations, singleUserWindow };
  }

  /** Every password any version of the given secrets holds (all versions, by VersionId). */
  async allPasswords(arns: readonly string[] = this.secretArns): Promise<string[]> {
    const found = new Set<string>(this.initialPasswords);
    for (const arn of arns) {
      const { Versions = [] } = await this.client.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }));
      for (const v of Versions) {
        const s = await this.client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: v.VersionId })).then(
          (o) => o.SecretString,
          () => undefined,
        );
        if (!s) continue;
        try {
          const parsed = JSON.parse(s) as { password?: unknown };
          if (typeof parsed.password === 'string' && parsed.password.length >= 8) found.add(parsed.password);
        } catch {
          // not JSON: hostile input; nothing generated
        }
      }
    }
    return [...found];
  }

  /** Where a password must never appear: handler output, recorded errors, the servers' statement/general logs. */
  private haystacks(extra: readonly string[]): [string, string][] {
    return [
      ['handler output', this.output.join('')],
      ['rotation events', this.sandbox.rotations.events.map((ev) => ev.errorMessage ?? '').join('\n')],
      ['invocation errors', this.sandbox.rotations.invocations.map((i) => i.error ?? '').join('\n')],
      ...[...this.engines.values()].map((e): [string, string] => [`${e.engine} log ${e.db.logFile}`, readFileSync(e.db.logFile, 'utf8')]),
      ...extra.map((h, i): [string, string] => [`extra ${i}`, h]),
    ];
  }

  /**
   * The leak canary: no password in the database servers' statement/general logs, the handlers'
   * output, or any error message the sandbox recorded; not as text, base64 or URL-encoded.
   */
  async leaks(extraHaystacks: readonly string[] = []): Promise<{ passwords: number; haystackBytes: number; findings: string[] }> {
    const passwords = await this.allPasswords();
    const haystacks = this.haystacks(extraHaystacks);
    const findings: string[] = [];
    for (const password of passwords) {
      const forms = new Set([password, Buffer.from(password).toString('base64'), Buffer.from(password).toString('base64url'), encodeURIComponent(password)]);
      for (const [name, text] of haystacks) {
        for (const form of forms) if (text.includes(form)) findings.push(`a password (${form === password ? 'as text' : 'encoded'}) appears in ${name}`);
      }
    }
    return { passwords: passwords.length, haystackBytes: haystacks.reduce((n, [, t]) => n + t.length, 0), findings };
  }

  /**
   * leaks() in one pass over each haystack, for long runs (leaks() costs passwords × bytes): every
   * form of every password is indexed by its first 8 characters and each position of a haystack is
   * looked up once. Same passwords, haystacks, forms and findings as leaks().
   */
  async leaksIndexed(extraHaystacks: readonly string[] = []): Promise<{ passwords: number; haystackBytes: number; findings: string[] }> {
    const passwords = await this.allPasswords();
    const haystacks = this.haystacks(extraHaystacks);
    const K = 8;
    const index = new Map<string, { form: string; plain: boolean }[]>();
    const short: { form: string; plain: boolean }[] = [];
    for (const password of passwords) {
      const forms = new Set([password, Buffer.from(password).toString('base64'), Buffer.from(password).toString('base64url'), encodeURIComponent(password)]);
      for (const form of forms) {
        const entry = { form, plain: form === password };
        if (form.length < K) short.push(entry);
        else index.set(form.slice(0, K), [...(index.get(form.slice(0, K)) ?? []), entry]);
      }
    }
    const findings: string[] = [];
    for (const [name, text] of haystacks) {
      const found = new Set<{ form: string; plain: boolean }>();
      for (let i = 0; i + K <= text.length; i++) {
        const candidates = index.get(text.slice(i, i + K));
        if (candidates) for (const c of candidates) if (text.startsWith(c.form, i)) found.add(c);
      }
      for (const c of short) if (text.includes(c.form)) found.add(c);
      for (const c of found) findings.push(`a password (${c.plain ? 'as text' : 'encoded'}) appears in ${name}`);
    }
    return { passwords: passwords.length, haystackBytes: haystacks.reduce((n, [, t]) => n + t.length, 0), findings };
  }

  async close(): Promise<void> {
    this.client.destroy();
    await this.sandbox.close();
    for (const e of this.engines.values()) await e.proxy.close();
    for (const restore of this.restoreOutput) restore();
    this.restoreOutput = [];
  }
}

