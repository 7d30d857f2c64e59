// The adversarial-tenant run: one deployment serves many teams with one admin credential per
// database server, and the attacker is a tenant. It may write its own secrets (any JSON: username,
// password, host, port, dbname, masterarn, usernames, rotationstrategy, ssl, engine), plant an
// AWSPENDING version with a value of its choice, start rotations of its own secrets, and invoke the
// rotation functions directly (any step, any SecretId the function can read, any token). It knows
// only its own users' passwords (and those of a few `<victim>_clone` users a DBA created, which it
// controls). Each attempt is drawn by a seeded PRNG (one per attempt: `seed` and the attempt number
// replay it alone), and after EVERY attempt the invariant is checked on that engine's population:
//
//   (a) the admin's password still logs in;
//   (b) every user the attacker has not proven control of keeps exactly the password its legit
//       secret holds: each legit secret's AWSCURRENT logs in (and, at rest, an alternating user's or
//       pair's AWSPREVIOUS), no legit secret holds a password the attacker chose or read, the
//       victims in no secret still log in with their initial passwords, and no secret the attacker
//       can read holds a working password of a user it does not control;
//   (c) the attacker leaves no legit secret stuck: a rotation left in flight is completed by the
//       service's reattempt, and the next legit rotation of a touched secret (and, every few
//       attempts, of one more) completes.
//
// Logins are the authority. To keep an attempt cheap, a login proven earlier is not repeated while
// the user's stored credential row (pg_authid / mysql.global_priv: verifier or hash, login flag,
// expiry, lock, connection limit) is byte-identical to the row it was proven against — the server answers
// a login from that row alone. Every `sweepEvery` attempts and at the end, every login is redone.
// After a violation the population is repaired (stages and passwords set back by the server's own
// admin) so later attempts start from the same state; if that fails it is rebuilt.
//
// Used by test/integration/reliability/adversarial-tenant.test.ts and bench/adversary.ts.

import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { nativePasswordHash } from '../../shared/engines/mysql/passwords';
import { quoteAccount } from '../../shared/engines/mysql/sql';
import { scramSha256Verifier } from '../../shared/engines/postgresql/scram';
import { seededRandom } from './chaos';
import { STEPS, randomName, type EngineRig, type Rig, type RigEngine, type Strategy, type Subject } from './rig';

export const ATTEMPT_KINDS = [
  'secret-rotate',
  'controlled-clone',
  'own-secret-planted',
  'direct-at-rest',
  'direct-mid-rotation',
  'plant-on-victim',
  'shared-base',
  'during-legit-rotation',
] as const;
export type AttemptKind = (typeof ATTEMPT_KINDS)[number];

/** Kinds whose attempt goes through RotateSecret and the sandbox's orchestration. */
export const FULL_ROTATION_KINDS: readonly AttemptKind[] = ['secret-rotate', 'controlled-clone', 'shared-base', 'during-legit-rotation'];

// Cheap direct invocations are drawn often; attempts that rotate are ~40% (≥ 100 of the CI's 500).
export const DEFAULT_WEIGHTS: Record<AttemptKind, number> = {
  'secret-rotate': 20,
  'controlled-clone': 8,
  'own-secret-planted': 12,
  'direct-at-rest': 29,
  'direct-mid-rotation': 8,
  'plant-on-victim': 8,
  'shared-base': 6,
  'during-legit-rotation': 8,
};

export interface AdversaryOptions {
  attempts: number;
  seed: number;
  engines: readonly RigEngine[];
  /** Only these attempt numbers (1-based), each drawn exactly as in the full run, on a fresh population. */
  only?: readonly number[];
  /** Relative weights of the attempt kinds (defaults above). */
  weights?: Partial<Record<AttemptKind, number>>;
  /** One extra legit rotation (round robin) every N attempts per engine, beyond the touched secrets. Default 4. */
  legitRotationEvery?: number;
  /** Redo every login (no row cache), on every engine, every N attempts. Default 25. */
  sweepEvery?: number;
  onAttempt?: (attempt: number, line: string) => void;
}

export type ViolationCategory = 'admin' | 'victim-password' | 'attacker-knows' | 'attacker-obtained' | 'stuck' | 'state';

/** Categories about availability (a secret stuck or not logging in), as opposed to credentials learnt or changed. */
const AVAILABILITY: ReadonlySet<ViolationCategory> = new Set(['stuck', 'victim-password', 'state']);

export interface AdversarySummary {
  seed: number;
  attempts: number;
  byKind: Record<string, Record<string, number>>;
  /** Attempts in which every attacker action was refused. */
  refused: number;
  /** Attempts in which an attacker action was carried out, harmlessly (its own users, or a legit step). */
  acceptedHarmless: number;
  /** Refusals by the error the function threw (or the rotation failed with). */
  refusalReasons: Record<string, number>;
  /** Attempts with at least one violation. */
  attemptsWithViolations: number;
  /**
   * Attempts whose only harm was to the availability of the very secret the attacker wrote
   * (plant-on-victim: a stuck or abandoned rotation, an AWSPREVIOUS that no longer logs in). A
   * writer of a secret can always break it (PutSecretValue a wrong AWSCURRENT), so this is out of
   * the tenant-safety invariant (THREATS.md, known limits); credentials it learns or changes are not.
   */
  writerDenialOfService: number;
  violationsByKind: Record<string, number>;
  violationsByCategory: Record<string, number>;
  /** Every violation: "seed S attempt #N kind (engine; variant): what". */
  violations: string[];
  /** RotateSecret calls the attacker's attempts made (attacker secrets, contested legit ones). */
  fullRotations: number;
  /** Rotations of legit secrets the invariant's part (c) ran (plus the service's reattempts). */
  legitRotations: number;
  logins: number;
  loginsSkipped: number;
  repairs: number;
  rebuilds: number;
  /** Time spent per kind (attempt, the service's reattempts, the invariant, part (c), repairs). */
  msByKind: Record<string, number>;
  /** Exceptions in the harness itself (not the function's refusals); must be empty. */
  harnessErrors: string[];
  durationMs: number;
}

type Cred = { username: string; password: string };
type Stages = Record<string, string[]>;

interface Expected {
  currentId: string;
  previousId?: string;
}

interface LegitSecret extends Subject {
  name: string;
  expected: Expected;
}

interface World {
  engine: RigEngine;
  e: EngineRig;
  prefix: string;
  admin: Cred & { arn: string };
  /** single, alternating, pair. */
  legit: LegitSecret[];
  /** Legit secrets of this attempt only (shared-base): checked, then retired. */
  extra: LegitSecret[];
  /** Victims in no secret: `${p}_v1` and `${p}_atk_clone` (a pre-existing user named like the attacker's clone). */
  loose: Cred[];
  /** The attacker's own users and the `<victim>_clone` users it controls. */
  own: Cred[];
  controlled: Cred[];
  controlledNames: Set<string>;
  /** Passwords the attacker wrote itself, and every password it knows (wrote or read). */
  written: Set<string>;
  known: Set<string>;
  /** Versions the attacker wrote on legit secrets. */
  planted: Set<string>;
  /** Secrets the attacker wrote (it can read them). */
  attackerSecrets: string[];
  /** user -> password -> credential row against which that login was proven. */
  verified: Map<string, Map<string, string>>;
  nextLegit: number;
  attemptsHere: number;
}

interface Action {
  ok: boolean;
  reason?: string;
  /** A write of the attacker's to Secrets Manager, not an action of the rotation function. */
  write?: boolean;
}

interface AttemptResult {
  variant: string;
  actions: Action[];
  touched: LegitSecret[];
  attackerSecrets: string[];
  fullRotations: number;
  /** Violations seen by the attempt itself (e.g. a legit rotation it contested that did not complete). */
  violations: { category: ViolationCategory; what: string }[];
}

const AWSCURRENT = 'AWSCURRENT';
const AWSPENDING = 'AWSPENDING';
const AWSPREVIOUS = 'AWSPREVIOUS';
const RULES = { RotationRules: { AutomaticallyAfterDays: 30 } };
const STEP_SPELLINGS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret', 'create_secret', 'set_secret', 'test_secret', 'finish_secret'] as const;

const holder = (stages: Stages, stage: string): string | undefined => Object.entries(stages).find(([, s]) => s.includes(stage))?.[0];
const holders = (stages: Stages, stage: string): string[] => Object.entries(stages).filter(([, s]) => s.includes(stage)).map(([id]) => id);
const pendingOf = (stages: Stages): string | undefined => Object.entries(stages).find(([, s]) => s.includes(AWSPENDING) && !s.includes(AWSCURRENT))?.[0];
const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const chance = (r: () => number, p: number): boolean => r() < p;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const errorName = (error: unknown): string => (error instanceof Error ? error.name : typeof error);

/** A per-attempt seed, so that attempt N draws the same whether or not attempts 1..N-1 ran. */
function attemptSeed(seed: number, attempt: number): number {
  let h = (seed ^ Math.imul(attempt, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A UUID-shaped token drawn from the attempt's PRNG. */
function drawToken(r: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

function drawKind(r: () => number, weights: Record<AttemptKind, number>): AttemptKind {
  const total = ATTEMPT_KINDS.reduce((n, k) => n + weights[k], 0);
  let x = r() * total;
  for (const k of ATTEMPT_KINDS) {
    x -= weights[k];
    if (x < 0) return k;
  }
  return ATTEMPT_KINDS[ATTEMPT_KINDS.length - 1]!;
}

/** "Error when executing lambda … during setSecret step: GuardError: …" -> "GuardError@setSecret". */
function failureReason(message: string | undefined): string {
  const m = /during (\w+) step: (\w+)/.exec(message ?? '');
  return m ? `${m[2]}@${m[1]}` : 'RotationFailed';
}

export class Adversary {
  private readonly worlds = new Map<RigEngine, World>();
  private readonly values = new Map<string, Record<string, unknown> | undefined>();
  private readonly summary: AdversarySummary;
  private readonly weights: Record<AttemptKind, number>;

  constructor(
    private readonly rig: Rig,
    private readonly options: AdversaryOptions,
  ) {
    this.weights = { ...DEFAULT_WEIGHTS, ...options.weights };
    this.summary = {
      seed: options.seed,
      attempts: 0,
      byKind: {},
      refused: 0,
      acceptedHarmless: 0,
      refusalReasons: {},
      attemptsWithViolations: 0,
      writerDenialOfService: 0,
      violationsByKind: {},
      violationsByCategory: {},
      violations: [],
      fullRotations: 0,
      legitRotations: 0,
      logins: 0,
      loginsSkipped: 0,
      repairs: 0,
      rebuilds: 0,
      harnessErrors: [],
      msByKind: {},
      durationMs: 0,
    };
  }

  async run(): Promise<AdversarySummary> {
    const started = performance.now();
    const { options, summary } = this;
    for (const engine of options.engines) this.worlds.set(engine, await this.buildWorld(engine));
    const numbers = options.only ?? Array.from({ length: options.attempts }, (_, i) => i + 1);
    const sweepEvery = options.sweepEvery ?? 25;
    for (const [index, n] of numbers.entries()) {
      await this.attempt(n);
      if ((index + 1) % sweepEvery === 0 || index === numbers.length - 1) {
        for (const world of this.worlds.values()) {
          const found = await this.check(world, [], true);
          for (const v of found) this.record(`seed ${options.seed} full sweep after attempt #${n} (${world.engine}): ${v.what}`, v.category, 'sweep');
          if (found.length > 0) await this.repair(world);
        }
      }
    }
    summary.durationMs = Math.round(performance.now() - started);
    return summary;
  }

  private record(sentence: string, category: ViolationCategory, kind: string): void {
    this.summary.violations.push(sentence);
    this.summary.violationsByCategory[category] = (this.summary.violationsByCategory[category] ?? 0) + 1;
    this.summary.violationsByKind[kind] = (this.summary.violationsByKind[kind] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- one attempt

  private async attempt(n: number): Promise<void> {
    const { options, summary } = this;
    const r = seededRandom(attemptSeed(options.seed, n));
    const engine = pick(r, options.engines);
    const kind = drawKind(r, this.weights);
    const world = this.worlds.get(engine)!;
    const began = performance.now();
    try {
      await this.attemptOn(n, world, kind, r);
    } finally {
      summary.msByKind[kind] = (summary.msByKind[kind] ?? 0) + Math.round(performance.now() - began);
    }
  }

  private async attemptOn(n: number, world: World, kind: AttemptKind, r: () => number): Promise<void> {
    const { options, summary } = this;
    const engine = world.engine;
    world.attemptsHere++;
    summary.attempts++;
    (summary.byKind[kind] ??= {})[engine] = (summary.byKind[kind]![engine] ?? 0) + 1;

    let result: AttemptResult;
    try {
      result = await this.run1(kind, world, r);
    } catch (error) {
      const message = `attempt #${n} ${kind} (${engine}): ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      summary.harnessErrors.push(message);
      options.onAttempt?.(n, `#${n} ${engine} ${kind} HARNESS ERROR ${message}`);
      await this.rig.sandbox.settle();
      await this.repair(world);
      return;
    }
    summary.fullRotations += result.fullRotations;
    world.attackerSecrets.push(...result.attackerSecrets);

    // The service's reattempt of anything left in flight on a legit secret, then the invariant.
    const found = [...result.violations];
    for (const s of world.legit) {
      const pending = pendingOf(await this.rig.stages(s.arn));
      if (pending === undefined) continue;
      if (!result.touched.includes(s)) result.touched.push(s);
      const done = await this.legitRotate(world, s);
      if (done !== 'ok') found.push({ category: done.category, what: `the service's reattempt of the rotation in flight on legit ${s.strategy} secret ${s.name} ${done.what}` });
    }
    found.push(...(await this.check(world, result.attackerSecrets, false)));
    // (c): the next legit rotation of what the attempt touched, and every few attempts of one more.
    if (found.length === 0) {
      const next = new Set(result.touched.filter((s) => world.legit.includes(s)));
      if (world.attemptsHere % (options.legitRotationEvery ?? 4) === 0) next.add(world.legit[world.nextLegit++ % world.legit.length]!);
      for (const s of next) {
        const done = await this.legitRotate(world, s);
        if (done !== 'ok') found.push({ category: done.category, what: `the next legit rotation of ${s.strategy} secret ${s.name} ${done.what}` });
        else found.push(...(await this.check(world, [], false)));
      }
    }
    world.extra = [];

    // A writer of a legit secret can always break that secret's availability; only what it does to
    // credentials (learning, changing, reaching other users) counts against the invariant.
    const writerDos =
      kind === 'plant-on-victim'
        ? found.filter((v) => AVAILABILITY.has(v.category) && result.touched.some((t) => v.what.includes(` ${t.name}`)))
        : [];
    if (writerDos.length > 0) {
      found.splice(0, found.length, ...found.filter((v) => !writerDos.includes(v)));
      summary.writerDenialOfService++;
      if (found.length === 0) await this.repair(world);
    }

    const byFunction = result.actions.filter((a) => !a.write);
    const refused = byFunction.length > 0 && byFunction.every((a) => !a.ok);
    const outcome =
      found.length > 0
        ? `VIOLATION ${found.map((v) => v.what).join('; ')}`
        : refused
          ? `refused (${[...new Set(result.actions.map((a) => a.reason))].join(', ')})`
          : 'accepted, harmless';
    if (found.length > 0) {
      summary.attemptsWithViolations++;
      for (const v of found) this.record(`seed ${options.seed} attempt #${n} ${kind} (${engine}; ${result.variant}): ${v.what}`, v.category, kind);
      await this.repair(world);
    } else if (refused) {
      summary.refused++;
      for (const a of byFunction) if (a.reason) summary.refusalReasons[a.reason] = (summary.refusalReasons[a.reason] ?? 0) + 1;
    } else {
      summary.acceptedHarmless++;
    }
    options.onAttempt?.(n, `#${n} ${engine} ${kind} [${result.variant}] -> ${outcome}`);
  }

  private run1(kind: AttemptKind, w: World, r: () => number): Promise<AttemptResult> {
    switch (kind) {
      case 'secret-rotate':
        return this.secretRotate(w, r);
      case 'controlled-clone':
        return this.controlledClone(w, r);
      case 'own-secret-planted':
        return this.ownSecretPlanted(w, r);
      case 'direct-at-rest':
        return this.directAtRest(w, r);
      case 'direct-mid-rotation':
        return this.directMidRotation(w, r);
      case 'plant-on-victim':
        return this.plantOnVictim(w, r);
      case 'shared-base':
        return this.sharedBase(w, r);
      case 'during-legit-rotation':
        return this.duringLegitRotation(w, r);
    }
  }

  // ---------------------------------------------------------------- the population

  private password(): string {
    const p = `Adv-${randomBytes(12).toString('base64url')}`;
    this.rig.initialPasswords.push(p);
    return p;
  }

  private async buildWorld(engine: RigEngine): Promise<World> {
    const { rig } = this;
    const e = rig.engine(engine);
    const prefix = randomName('adv');
    const cred = (suffix: string): Cred => ({ username: `${prefix}_${suffix}`, password: this.password() });
    const adm = cred('adm');
    const [ls, la, lpa, lpb, v1, atkCloneVictim, atk, atk2] = ['ls', 'la', 'lpa', 'lpb', 'v1', 'atk_clone', 'atk', 'atk2'].map(cred) as [Cred, Cred, Cred, Cred, Cred, Cred, Cred, Cred];
    const controlled = ['v1_clone', 'ls_clone', 'adm_clone', 'lpa_clone'].map(cred);
    await Promise.all([adm, ls, la, lpa, lpb, v1, atkCloneVictim, atk, atk2, ...controlled].map((c) => e.createUser(c.username, c.password)));
    // The platform admin of this population: may create users and set any password, like an RDS master.
    if (engine === 'postgresql') await e.admin(`ALTER ROLE "${adm.username}" CREATEROLE`);
    else await e.admin(`GRANT ALL PRIVILEGES ON *.* TO ${quoteAccount({ user: adm.username, host: '%' })} WITH GRANT OPTION`);
    const adminArn = await rig.createSecret(`${prefix}-admin`, e.secretValue(adm.username, adm.password));

    const legit = async (strategy: Strategy, name: string, arn: string): Promise<LegitSecret> => {
      const stages = await rig.stages(arn);
      const previousId = holder(stages, AWSPREVIOUS);
      return { engine, strategy, arn, rotations: 0, name, expected: { currentId: holder(stages, AWSCURRENT)!, ...(previousId ? { previousId } : {}) } };
    };
    const single = await legit('single', `${prefix}-single`, await rig.createSecret(`${prefix}-single`, e.secretValue(ls.username, ls.password)));
    const alternating = await legit(
      'alternating',
      `${prefix}-alternating`,
      await rig.createSecret(`${prefix}-alternating`, e.secretValue(la.username, la.password, { masterarn: adminArn })),
    );
    const pairFields = { masterarn: adminArn, usernames: [lpa.username, lpb.username] };
    const pairArn = await rig.createSecret(`${prefix}-pair`, e.secretValue(lpb.username, lpb.password, pairFields));
    await rig.client.send(new PutSecretValueCommand({ SecretId: pairArn, SecretString: JSON.stringify(e.secretValue(lpa.username, lpa.password, pairFields)) }));
    const pair = await legit('pair', `${prefix}-pair`, pairArn);

    const world: World = {
      engine,
      e,
      prefix,
      admin: { ...adm, arn: adminArn },
      legit: [single, alternating, pair],
      extra: [],
      loose: [v1, atkCloneVictim],
      own: [atk, atk2],
      controlled,
      controlledNames: new Set([atk, atk2, ...controlled].map((c) => c.username).concat(`${atk2.username}_clone`)),
      written: new Set(),
      known: new Set([atk, atk2, ...controlled].map((c) => c.password)),
      planted: new Set(),
      attackerSecrets: [],
      verified: new Map(),
      nextLegit: 0,
      attemptsHere: 0,
    };
    // At rest as a team would have it: the alternating secret rotated once (AWSCURRENT the clone, AWSPREVIOUS the base).
    const done = await this.legitRotate(world, alternating);
    if (done !== 'ok') throw new Error(`adversary: the initial rotation of ${alternating.name} failed: ${done.what}`);
    const found = await this.check(world, [], true);
    if (found.length > 0) throw new Error(`adversary: a fresh population on ${engine} breaks the invariant: ${found.map((v) => v.what).join('; ')}`);
    return world;
  }

  /** The names of the users whose passwords the attacker must not learn or change. */
  private victimNames(w: World): string[] {
    const p = w.prefix;
    return [w.admin.username, `${p}_ls`, `${p}_la`, `${p}_la_clone`, `${p}_lpa`, `${p}_lpb`, `${p}_v1`, `${p}_atk_clone`];
  }

  // ---------------------------------------------------------------- Secrets Manager helpers

  private async versionValue(arn: string, versionId: string): Promise<Record<string, unknown> | undefined> {
    const key = `${arn}\u0000${versionId}`;
    if (this.values.has(key)) return this.values.get(key);
    const value = await this.rig.client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: versionId })).then(
      (o) => {
        try {
          const parsed = o.SecretString === undefined ? undefined : (JSON.parse(o.SecretString) as unknown);
          return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
        } catch {
          return undefined;
        }
      },
      () => undefined,
    );
    // A value-less stub may be filled later; only values are cached (versions never change once written).
    if (value !== undefined) this.values.set(key, value);
    return value;
  }

  private async credOf(arn: string, versionId: string): Promise<Cred | undefined> {
    const v = await this.versionValue(arn, versionId);
    return v && typeof v['username'] === 'string' && typeof v['password'] === 'string' ? { username: v['username'], password: v['password'] } : undefined;
  }

  private async attackerSecret(w: World, name: string, value: Record<string, unknown>, before?: Record<string, unknown>): Promise<string> {
    for (const v of [value, before]) if (v && typeof v['password'] === 'string') this.attackerWrote(w, v['password']);
    const arn = await this.rig.createSecret(`${w.prefix}-atk-${name}-${randomBytes(3).toString('hex')}`, before ?? value);
    if (before) await this.rig.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(value) }));
    return arn;
  }

  private attackerWrote(w: World, password: string): void {
    w.written.add(password);
    w.known.add(password);
    this.rig.initialPasswords.push(password);
  }

  /** PutSecretValue of an AWSPENDING version the attacker chose (on its own secret or, plant-on-victim, a victim's). */
  private async plant(w: World, arn: string, token: string, value: Record<string, unknown>, onLegit: boolean): Promise<Action> {
    if (typeof value['password'] === 'string') this.attackerWrote(w, value['password']);
    try {
      await this.rig.client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: JSON.stringify(value), VersionStages: [AWSPENDING] }));
      if (onLegit) w.planted.add(token);
      return { ok: true, write: true };
    } catch (error) {
      return { ok: false, reason: `PutSecretValue ${errorName(error)}`, write: true };
    }
  }

  /** The attacker invokes the rotation function directly. */
  private async invoke(e: EngineRig, step: string, secretId: string, token: string, rotationToken?: string): Promise<Action> {
    try {
      await e.handler({ Step: step, SecretId: secretId, ClientRequestToken: token, ...(rotationToken ? { RotationToken: rotationToken } : {}) });
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: `${errorName(error)}@${step}` };
    }
  }

  /** RotateSecret of an attacker's secret through the sandbox, to the end. */
  private async attackerRotate(arn: string, lambdaArn: string, token?: string): Promise<Action> {
    const since = this.rig.sandbox.rotations.events.length;
    try {
      await this.rig.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambdaArn, ...(token ? { ClientRequestToken: token } : {}), ...RULES }));
    } catch (error) {
      return { ok: false, reason: `RotateSecret ${errorName(error)}` };
    }
    await this.rig.sandbox.settle();
    return this.outcome(arn, since);
  }

  private outcome(arn: string, since: number): Action {
    const events = this.rig.sandbox.rotations.events.slice(since).filter((ev) => ev.secretArn === arn);
    if (events.some((ev) => ev.eventName === 'RotationSucceeded')) return { ok: true };
    const failed = events.filter((ev) => ev.eventName === 'RotationFailed').at(-1);
    return { ok: false, reason: failed ? failureReason(failed.errorMessage) : 'RotationAbandoned' };
  }

  /**
   * The legit side's next rotation: the service's reattempt of a rotation in flight, else a new
   * RotateSecret; reattempted (as the service does) up to twice. On success the secret's expected
   * state becomes the new one, unless the version now current is one the attacker wrote.
   */
  private async legitRotate(w: World, s: LegitSecret): Promise<'ok' | { category: ViolationCategory; what: string }> {
    const { rig } = this;
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const since = rig.sandbox.rotations.events.length;
      const before = await rig.stages(s.arn);
      const pending = pendingOf(before);
      this.summary.legitRotations++;
      if (pending !== undefined) {
        await rig.sandbox.retryPendingRotation(s.arn);
      } else {
        await rig.client.send(new RotateSecretCommand({ SecretId: s.arn, RotationLambdaARN: w.e.lambdaArn, ...(s.rotations === 0 ? RULES : {}) }));
      }
      await rig.sandbox.settle();
      s.rotations++;
      const outcome = this.outcome(s.arn, since);
      const after = await rig.stages(s.arn);
      if (outcome.ok && pendingOf(after) === undefined) {
        const currentId = holder(after, AWSCURRENT)!;
        if (w.planted.has(currentId)) return { category: 'attacker-knows', what: `completed to version ${currentId}, which the attacker wrote` };
        const previousId = holder(after, AWSPREVIOUS);
        s.expected = { currentId, ...(previousId ? { previousId } : {}) };
        return 'ok';
      }
      last = outcome.reason ?? 'failed';
    }
    return { category: 'stuck', what: `did not complete after 3 attempts (${last})` };
  }

  // ---------------------------------------------------------------- the invariant

  /** user -> its credential rows (one per MariaDB host), for every user whose name starts with the population's prefix. */
  private async credentialRows(w: World): Promise<Map<string, string>> {
    const rows =
      w.engine === 'postgresql'
        ? await w.e.admin<{ u: string; f: string }>(
            "SELECT rolname AS u, concat_ws('|', rolpassword, rolcanlogin, rolvaliduntil, rolconnlimit) AS f FROM pg_authid WHERE starts_with(rolname, $1)",
            [`${w.prefix}_`],
          )
        : await w.e.admin<{ u: string; f: string }>(
            // global_priv's JSON holds plugin, hash, lock, expiry and limits (MariaDB 10.4+).
            "SELECT User AS u, CONCAT_WS('|', Host, Priv) AS f FROM mysql.global_priv WHERE LEFT(User, ?) = ?",
            [w.prefix.length + 1, `${w.prefix}_`],
          );
    const byUser = new Map<string, string[]>();
    for (const row of rows) byUser.set(row.u, [...(byUser.get(row.u) ?? []), String(row.f)]);
    return new Map([...byUser].map(([u, fs]) => [u, fs.sort().join('\n')]));
  }

  /** This login was proven against the user's credential row as it is now. */
  private proven(w: World, rows: Map<string, string>, cred: Cred): boolean {
    const row = rows.get(cred.username);
    return row !== undefined && w.verified.get(cred.username)?.get(cred.password) === row;
  }

  private async canLogin(w: World, cred: Cred): Promise<boolean> {
    this.summary.logins++;
    try {
      return await w.e.canLogin(cred.username, cred.password);
    } catch {
      await sleep(50);
      return w.e.canLogin(cred.username, cred.password);
    }
  }

  /**
   * The invariant on one population. `attackerSecrets`: the secrets the attempt wrote, whose
   * versions are searched for working passwords of users the attacker does not control.
   */
  private async check(w: World, attackerSecrets: readonly string[], full: boolean): Promise<{ category: ViolationCategory; what: string }[]> {
    const { rig } = this;
    const found: { category: ViolationCategory; what: string }[] = [];
    if (full) w.verified.clear();
    const rows = await this.credentialRows(w);
    const must: { cred: Cred; what: string; category: ViolationCategory }[] = [
      { cred: w.admin, what: `the admin "${w.admin.username}" no longer logs in with the password of its secret`, category: 'admin' },
    ];
    for (const s of [...w.legit, ...w.extra]) {
      const stages = await rig.stages(s.arn);
      const currents = holders(stages, AWSCURRENT);
      if (currents.length !== 1) {
        found.push({ category: 'state', what: `legit secret ${s.name} has ${currents.length} AWSCURRENT versions` });
        continue;
      }
      const currentId = currents[0]!;
      const atRest = pendingOf(stages) === undefined;
      const check = async (stage: string, versionId: string): Promise<void> => {
        const cred = await this.credOf(s.arn, versionId);
        if (!cred) {
          found.push({ category: 'victim-password', what: `${stage} of legit ${s.strategy} secret ${s.name} is no credential (version ${versionId})` });
          return;
        }
        if (w.planted.has(versionId)) found.push({ category: 'attacker-knows', what: `${stage} of legit ${s.strategy} secret ${s.name} is version ${versionId}, which the attacker wrote` });
        else if (w.known.has(cred.password)) found.push({ category: 'attacker-knows', what: `${stage} of legit ${s.strategy} secret ${s.name} holds a password the attacker knows (user "${cred.username}")` });
        must.push({ cred, what: `${stage} of legit ${s.strategy} secret ${s.name} (user "${cred.username}") does not log in`, category: 'victim-password' });
      };
      await check(AWSCURRENT, currentId);
      const previousId = holder(stages, AWSPREVIOUS);
      if (atRest && s.strategy !== 'single' && previousId) await check(AWSPREVIOUS, previousId);
    }
    for (const c of w.loose) must.push({ cred: c, what: `victim "${c.username}" (in no secret) no longer logs in with its initial password`, category: 'victim-password' });

    await Promise.all(
      must.map(async ({ cred, what, category }) => {
        if (this.proven(w, rows, cred)) {
          this.summary.loginsSkipped++;
          return;
        }
        if (await this.canLogin(w, cred)) {
          const row = rows.get(cred.username);
          if (row !== undefined) {
            const byPassword = w.verified.get(cred.username) ?? new Map<string, string>();
            byPassword.set(cred.password, row);
            w.verified.set(cred.username, byPassword);
          }
        } else {
          found.push({ category, what });
        }
      }),
    );

    // What the attacker can read: no working password of a user it does not control.
    const readable: Cred[] = [];
    for (const arn of attackerSecrets) {
      const { Versions = [] } = await rig.client.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }));
      for (const v of Versions) {
        const cred = await this.credOf(arn, v.VersionId!);
        if (cred) readable.push(cred);
      }
    }
    const victims = new Set(this.victimNames(w));
    for (const cred of readable) {
      if (w.controlledNames.has(cred.username)) continue;
      // A different password proven against an unchanged row cannot log in.
      const row = rows.get(cred.username);
      const byPassword = w.verified.get(cred.username);
      if (row !== undefined && byPassword && [...byPassword].some(([pw, r]) => r === row && pw !== cred.password)) {
        this.summary.loginsSkipped++;
        continue;
      }
      if (await this.canLogin(w, cred)) {
        found.push({
          category: 'attacker-obtained',
          what: `a secret the attacker wrote now holds a working password of ${victims.has(cred.username) ? 'victim' : 'user'} "${cred.username}"`,
        });
      }
    }
    for (const cred of readable) w.known.add(cred.password);
    return found;
  }

  /** Sets the population back to its expected state: legit secrets' stages, then every expected password. */
  private async repair(w: World): Promise<void> {
    const { rig } = this;
    this.summary.repairs++;
    await rig.sandbox.settle();
    for (const s of w.legit) {
      const stages = await rig.stages(s.arn);
      for (const id of holders(stages, AWSPENDING)) {
        await rig.client.send(new UpdateSecretVersionStageCommand({ SecretId: s.arn, VersionStage: AWSPENDING, RemoveFromVersionId: id }));
      }
      const current = holder(stages, AWSCURRENT);
      if (current !== s.expected.currentId) {
        await rig.client.send(
          new UpdateSecretVersionStageCommand({ SecretId: s.arn, VersionStage: AWSCURRENT, MoveToVersionId: s.expected.currentId, ...(current ? { RemoveFromVersionId: current } : {}) }),
        );
      }
      const previous = holder(await rig.stages(s.arn), AWSPREVIOUS);
      if (previous !== s.expected.previousId) {
        if (s.expected.previousId) {
          await rig.client.send(
            new UpdateSecretVersionStageCommand({ SecretId: s.arn, VersionStage: AWSPREVIOUS, MoveToVersionId: s.expected.previousId, ...(previous ? { RemoveFromVersionId: previous } : {}) }),
          );
        } else if (previous) {
          await rig.client.send(new UpdateSecretVersionStageCommand({ SecretId: s.arn, VersionStage: AWSPREVIOUS, RemoveFromVersionId: previous }));
        }
      }
    }
    const expected: Cred[] = [w.admin, ...w.loose, ...w.own, ...w.controlled];
    for (const s of w.legit) {
      // A single user's AWSPREVIOUS is its old password, dead by design.
      for (const id of [s.expected.currentId, s.strategy === 'single' ? undefined : s.expected.previousId]) {
        const cred = id ? await this.credOf(s.arn, id) : undefined;
        if (cred) expected.push(cred);
      }
    }
    const rows = await this.credentialRows(w);
    const broken = await Promise.all(expected.map(async (cred) => (this.proven(w, rows, cred) || (await this.canLogin(w, cred)) ? undefined : cred)));
    for (const cred of broken) if (cred) await this.setPassword(w, cred);
    // Rows changed by the repair are logged in again; the others were just proven.
    const found = await this.check(w, [], false);
    if (found.length > 0) {
      this.summary.rebuilds++;
      this.options.onAttempt?.(0, `REBUILD ${w.engine}: the repair left ${found.map((v) => v.what).join('; ')}`);
      this.worlds.set(w.engine, await this.buildWorld(w.engine));
    }
  }

  /** As the server's own admin (never attacked), from a verifier/hash so that no log sees the password. */
  private async setPassword(w: World, cred: Cred): Promise<void> {
    if (w.engine === 'postgresql') {
      const exists = await w.e.userExists(cred.username);
      const name = `"${cred.username.replace(/"/g, '""')}"`;
      await w.e.admin(`${exists ? 'ALTER' : 'CREATE'} ROLE ${name} LOGIN PASSWORD '${scramSha256Verifier(cred.password)}'`);
      return;
    }
    const hosts = await w.e.admin<{ Host: string }>('SELECT Host FROM mysql.user WHERE User = ?', [cred.username]);
    if (hosts.length === 0) return w.e.createUser(cred.username, cred.password);
    for (const { Host } of hosts) {
      await w.e.admin(`ALTER USER ${quoteAccount({ user: cred.username, host: Host })} IDENTIFIED BY PASSWORD '${nativePasswordHash(cred.password)}' ACCOUNT UNLOCK`);
    }
  }

  // ---------------------------------------------------------------- what the attacker writes

  /** A credential the attacker may put in a secret: one it knows, or a victim's name with a password it made up. */
  private drawCredential(w: World, r: () => number): { cred: Cred; what: string } {
    const x = r();
    if (x < 0.3) {
      const c = pick(r, w.own);
      return { cred: c, what: 'own user' };
    }
    if (x < 0.55) {
      const c = pick(r, w.controlled);
      return { cred: c, what: `controlled ${c.username.slice(w.prefix.length + 1)}` };
    }
    const name = pick(r, this.victimNames(w));
    const password = chance(r, 0.5) ? pick(r, w.own).password : this.password();
    return { cred: { username: name, password }, what: `victim ${name.slice(w.prefix.length + 1)} with a made-up password` };
  }

  private otherEngine(w: World): World | undefined {
    return [...this.worlds.values()].find((o) => o.engine !== w.engine);
  }

  private drawMasterarn(w: World, r: () => number): { masterarn?: string; what: string } {
    const x = r();
    if (x < 0.5) return { masterarn: w.admin.arn, what: 'masterarn platform admin' };
    if (x < 0.6) return { masterarn: w.e.adminArn, what: 'masterarn server admin' };
    if (x < 0.75) {
      const s = pick(r, w.legit);
      return { masterarn: s.arn, what: `masterarn another team's ${s.strategy} secret` };
    }
    if (x < 0.8) return { masterarn: this.otherEngine(w)?.admin.arn ?? w.admin.arn, what: "masterarn the other server's admin" };
    if (x < 0.85) return { masterarn: `${w.prefix}-admin`, what: 'masterarn admin by name' };
    return { what: 'no masterarn' };
  }

  /** The connection fields: the proxy as localhost, or the same server as 127.0.0.1, directly, or another server. */
  private drawEndpoint(w: World, r: () => number, base: Record<string, unknown>): string[] {
    const notes: string[] = [];
    const x = r();
    if (x < 0.15) {
      base['host'] = '127.0.0.1';
      notes.push('host 127.0.0.1');
    } else if (x < 0.25) {
      base['port'] = w.e.db.port;
      notes.push('direct server port');
    } else if (x < 0.3) {
      base['port'] = String(base['port']);
      notes.push('port as text');
    } else if (x < 0.35) {
      base['port'] = this.otherEngine(w)?.e.proxy.port ?? 1;
      notes.push("the other server's port");
    }
    const y = r();
    if (y < 0.1) {
      base['ssl'] = false;
      notes.push('ssl false');
    } else if (y < 0.15) {
      base['ssl'] = 'false';
      notes.push('ssl "false"');
    } else if (y < 0.2) {
      base['ssl'] = true;
      notes.push('ssl true');
    }
    const z = r();
    if (z < 0.08) {
      if (w.engine === 'postgresql') base['dbname'] = 'template1';
      else base['dbname'] = 'mysql';
      notes.push(`dbname ${String(base['dbname'])}`);
    } else if (z < 0.12) {
      base['dbname'] = 'nope';
      notes.push('dbname nope');
    } else if (z < 0.16) {
      delete base['dbname'];
      notes.push('no dbname');
    }
    if (chance(r, 0.1)) {
      base['engine'] = w.engine === 'postgresql' ? pick(r, ['aurora-postgresql', 'mysql']) : pick(r, ['mysql', 'aurora-mysql', 'postgres']);
      notes.push(`engine ${String(base['engine'])}`);
    }
    return notes;
  }

  /** A secret value as the attacker would write it. */
  private drawValue(w: World, r: () => number): { value: Record<string, unknown>; notes: string[]; cred: Cred } {
    const { cred, what } = this.drawCredential(w, r);
    const notes = [what];
    const value = w.e.secretValue(cred.username, cred.password);
    const strategy = pick(r, [undefined, undefined, 'single', 'alternating', 'pair'] as const);
    if (strategy) {
      value['rotationstrategy'] = strategy;
      notes.push(`strategy ${strategy}`);
    }
    const { masterarn, what: m } = this.drawMasterarn(w, r);
    if (masterarn && (strategy !== 'single' || chance(r, 0.3))) {
      value['masterarn'] = masterarn;
      notes.push(m);
    }
    if (strategy === 'pair' || chance(r, 0.15)) {
      const other = chance(r, 0.7) ? pick(r, this.victimNames(w)) : pick(r, [...w.own, ...w.controlled]).username;
      const pair = other === cred.username ? [cred.username, `${cred.username}_b`] : chance(r, 0.5) ? [cred.username, other] : [other, cred.username];
      value['usernames'] = pair;
      notes.push(`usernames [${pair.map((u) => u.slice(w.prefix.length + 1)).join(', ')}]`);
    }
    notes.push(...this.drawEndpoint(w, r, value));
    return { value, notes, cred };
  }

  // ---------------------------------------------------------------- the attempt kinds

  /** 1. A secret written by the attacker, rotated through RotateSecret. */
  private async secretRotate(w: World, r: () => number): Promise<AttemptResult> {
    const { value, notes } = this.drawValue(w, r);
    let before: Record<string, unknown> | undefined;
    if (chance(r, 0.3)) {
      // A version first, so that it becomes AWSPREVIOUS: the "proof" the pair strategy looks for.
      const other = chance(r, 0.5) ? pick(r, this.victimNames(w)) : pick(r, [...w.own, ...w.controlled]).username;
      const known = [...w.own, ...w.controlled].find((c) => c.username === other);
      before = { ...value, username: other, password: known?.password ?? pick(r, w.own).password };
      notes.push(`AWSPREVIOUS ${other.slice(w.prefix.length + 1)}`);
    }
    const lambda = chance(r, 0.08) ? (this.otherEngine(w)?.e.lambdaArn ?? w.e.lambdaArn) : w.e.lambdaArn;
    if (lambda !== w.e.lambdaArn) notes.push("the other engine's function");
    const arn = await this.attackerSecret(w, 'rot', value, before);
    const action = await this.attackerRotate(arn, lambda);
    return { variant: notes.join(', '), actions: [action], touched: [], attackerSecrets: [arn], fullRotations: 1, violations: [] };
  }

  /** 2. AWSCURRENT = `X_clone`, which the attacker controls, with an admin: hoping the admin resets X. */
  private async controlledClone(w: World, r: () => number): Promise<AttemptResult> {
    const clone = pick(r, w.controlled);
    const base = clone.username.slice(0, -'_clone'.length);
    const notes = [`AWSCURRENT ${clone.username.slice(w.prefix.length + 1)}`];
    const value = w.e.secretValue(clone.username, clone.password);
    const x = r();
    const ownSecret = w.legit.find((s) => s.strategy !== 'alternating' && (s.name.endsWith('-single') ? `${w.prefix}_ls` === base : `${w.prefix}_lpa` === base));
    if (x < 0.6) {
      value['masterarn'] = w.admin.arn;
      notes.push('masterarn platform admin');
    } else if (x < 0.8 && ownSecret) {
      value['masterarn'] = ownSecret.arn;
      notes.push("masterarn the victim's own secret");
    } else {
      value['masterarn'] = w.e.adminArn;
      notes.push('masterarn server admin');
    }
    if (chance(r, 0.5)) {
      value['rotationstrategy'] = 'alternating';
      notes.push('strategy alternating');
    }
    const arn = await this.attackerSecret(w, 'clone', value);
    const action = await this.attackerRotate(arn, w.e.lambdaArn);
    return { variant: notes.join(', '), actions: [action], touched: [], attackerSecrets: [arn], fullRotations: 1, violations: [] };
  }

  /** Its own secret, an AWSPENDING version it chose, and the steps invoked directly. */
  private async ownSecretPlanted(w: World, r: () => number): Promise<AttemptResult> {
    const current = pick(r, [...w.own, ...w.controlled]);
    const notes = [`AWSCURRENT ${current.username.slice(w.prefix.length + 1)}`];
    const value = w.e.secretValue(current.username, current.password);
    const strategy = pick(r, ['alternating', 'alternating', 'pair', 'single'] as const);
    let pendingUser: string;
    if (strategy === 'single') {
      pendingUser = current.username;
    } else {
      value['masterarn'] = chance(r, 0.8) ? w.admin.arn : w.e.adminArn;
      if (strategy === 'pair') {
        pendingUser = pick(r, this.victimNames(w));
        value['usernames'] = [current.username, pendingUser];
      } else {
        pendingUser = current.username.endsWith('_clone') ? current.username.slice(0, -'_clone'.length) : `${current.username}_clone`;
      }
    }
    notes.push(`strategy ${strategy}`);
    if (chance(r, 0.2)) {
      pendingUser = pick(r, this.victimNames(w));
      notes.push('pending names another user');
    }
    const arn = await this.attackerSecret(w, 'plant', value);
    const token = drawToken(r);
    const pending: Record<string, unknown> = { ...value, username: pendingUser, password: this.password() };
    if (chance(r, 0.3)) {
      pending['ssl'] = chance(r, 0.5) ? false : true;
      notes.push(`pending ssl ${String(pending['ssl'])}`);
    }
    if (chance(r, 0.15)) {
      notes.push(...this.drawEndpoint(w, r, pending).map((n) => `pending ${n}`));
    }
    notes.push(`pending ${pendingUser.slice(w.prefix.length + 1)}`);
    const actions: Action[] = [await this.plant(w, arn, token, pending, false)];
    const steps = chance(r, 0.7) ? ['setSecret', 'testSecret', 'finishSecret'] : [pick(r, ['testSecret', 'finishSecret']), pick(r, STEPS)];
    for (const step of steps) actions.push(await this.invoke(w.e, step, arn, token));
    notes.push(`steps ${steps.join(',')}`);
    return { variant: notes.join(', '), actions, touched: [], attackerSecrets: [arn], fullRotations: 0, violations: [] };
  }

  /** 3a. Direct step invocations on victims' secrets at rest, with any token. */
  private async directAtRest(w: World, r: () => number): Promise<AttemptResult> {
    const x = r();
    let secretId: string;
    let what: string;
    let target: LegitSecret | undefined;
    if (x < 0.65) {
      target = pick(r, w.legit);
      secretId = target.arn;
      what = `legit ${target.strategy}`;
    } else if (x < 0.75) {
      secretId = w.admin.arn;
      what = 'platform admin secret';
    } else if (x < 0.82) {
      secretId = w.e.adminArn;
      what = 'server admin secret';
    } else if (x < 0.9 && this.otherEngine(w)) {
      const s = pick(r, this.otherEngine(w)!.legit);
      secretId = s.arn;
      what = `the other engine's legit ${s.strategy}`;
    } else {
      target = pick(r, w.legit);
      secretId = target.name;
      what = `legit ${target.strategy} by name`;
    }
    const stages = await this.rig.stages(secretId);
    const tokens: [string, string][] = [
      ['random token', drawToken(r)],
      ['AWSCURRENT version', holder(stages, AWSCURRENT) ?? drawToken(r)],
      ['AWSPREVIOUS version', holder(stages, AWSPREVIOUS) ?? drawToken(r)],
    ];
    const own = w.attackerSecrets.at(-1);
    if (own) tokens.push(['a version of its own secret', holder(await this.rig.stages(own), AWSCURRENT) ?? drawToken(r)]);
    const actions: Action[] = [];
    const notes = [what];
    for (let i = 0, count = 1 + Math.floor(r() * 3); i < count; i++) {
      const step = pick(r, STEP_SPELLINGS);
      const [tokenWhat, token] = pick(r, tokens);
      const rotationToken = chance(r, 0.3) ? drawToken(r) : undefined;
      actions.push(await this.invoke(w.e, step, secretId, token, rotationToken));
      notes.push(`${step} with ${tokenWhat}${rotationToken ? ' + forged RotationToken' : ''}`);
    }
    // Not "touched": a refused step changes nothing, and the check sees any stage it did change.
    void target;
    return { variant: notes.join(', '), actions, touched: [], attackerSecrets: [], fullRotations: 0, violations: [] };
  }

  /** 3b. A legit rotation in flight (left after createSecret, setSecret or testSecret); the attacker invokes steps with its token. */
  private async directMidRotation(w: World, r: () => number): Promise<AttemptResult> {
    const s = pick(r, w.legit);
    const after = pick(r, ['createSecret', 'setSecret', 'testSecret'] as const);
    const token = await this.rig.leavePending(s, after, drawToken(r));
    const current = holder(await this.rig.stages(s.arn), AWSCURRENT)!;
    const notes = [`legit ${s.strategy} in flight after ${after}`];
    const actions: Action[] = [];
    for (let i = 0, count = 1 + Math.floor(r() * 2); i < count; i++) {
      const step = pick(r, ['finishSecret', 'finishSecret', 'testSecret', 'setSecret', 'createSecret'] as const);
      const y = r();
      const [tokenWhat, t] = y < 0.75 ? ['its token', token] : y < 0.9 ? ['a random token', drawToken(r)] : ['the AWSCURRENT version', current];
      actions.push(await this.invoke(w.e, step, s.arn, t));
      notes.push(`${step} with ${tokenWhat}`);
    }
    return { variant: notes.join(', '), actions, touched: [s], attackerSecrets: [], fullRotations: 0, violations: [] };
  }

  /** 3c. PutSecretValue of an AWSPENDING version of its choice on a victim's secret, then steps invoked directly. */
  private async plantOnVictim(w: World, r: () => number): Promise<AttemptResult> {
    const s = pick(r, w.legit);
    const notes = [`legit ${s.strategy}`];
    if (chance(r, 0.25)) {
      const after = pick(r, ['createSecret', 'setSecret'] as const);
      await this.rig.leavePending(s, after, drawToken(r));
      notes.push(`in flight after ${after}`);
    }
    const stages = await this.rig.stages(s.arn);
    const current = await this.versionValue(s.arn, holder(stages, AWSCURRENT)!);
    const currentUser = String(current?.['username']);
    const p = w.prefix;
    // The user the strategy rotates to next, as the attacker can work out from the (non-secret) names.
    const next =
      s.strategy === 'single' ? currentUser : s.strategy === 'alternating' ? (currentUser.endsWith('_clone') ? currentUser.slice(0, -6) : `${currentUser}_clone`) : currentUser === `${p}_lpa` ? `${p}_lpb` : `${p}_lpa`;
    const username = chance(r, 0.75) ? next : pick(r, [...this.victimNames(w), ...w.own.map((c) => c.username)]);
    // Everything but the password is public (host, port, strategy fields); the attacker writes its own password.
    const value: Record<string, unknown> = { ...(current ?? w.e.secretValue(username, '')), username, password: this.password() };
    notes.push(`pending ${username.slice(p.length + 1)}`);
    if (chance(r, 0.2)) notes.push(...this.drawEndpoint(w, r, value).map((n) => `pending ${n}`));
    const token = drawToken(r);
    const actions: Action[] = [await this.plant(w, s.arn, token, value, true)];
    const steps = chance(r, 0.6) ? ['setSecret', 'testSecret', 'finishSecret'] : [pick(r, ['setSecret', 'testSecret', 'finishSecret']), pick(r, STEPS)];
    for (const step of steps) actions.push(await this.invoke(w.e, step, s.arn, token));
    notes.push(`steps ${steps.join(',')}`);
    return { variant: notes.join(', '), actions, touched: [s], attackerSecrets: [], fullRotations: 0, violations: [] };
  }

  /** 4a. Two legit-looking alternating secrets on one base user, rotated at once or interleaved. */
  private async sharedBase(w: World, r: () => number): Promise<AttemptResult> {
    const { rig } = this;
    const base: Cred = { username: `${w.prefix}_sh${randomBytes(3).toString('hex')}`, password: this.password() };
    await w.e.createUser(base.username, base.password);
    const value = w.e.secretValue(base.username, base.password, { masterarn: w.admin.arn });
    const mk = async (i: number): Promise<LegitSecret> => {
      const name = `${w.prefix}-shared${i}-${randomBytes(3).toString('hex')}`;
      const arn = await rig.createSecret(name, value);
      return { engine: w.engine, strategy: 'alternating', arn, rotations: 0, name, expected: { currentId: holder(await rig.stages(arn), AWSCURRENT)! } };
    };
    const s1 = await mk(1);
    const s2 = await mk(2);
    w.extra = [s1, s2];
    // Only orders in which neither rotation changes a user the other secret alone proved control
    // of: once the first secret rotates back to the base user (its second rotation), the second
    // secret's copy of the base password dies whatever the function does (one user, two secrets).
    const mode = pick(r, ['at once', 'interleaved', 'one after the other'] as const);
    const since = rig.sandbox.rotations.events.length;
    const start = (s: LegitSecret) => rig.client.send(new RotateSecretCommand({ SecretId: s.arn, RotationLambdaARN: w.e.lambdaArn, ...RULES })).then(() => s.rotations++);
    if (mode === 'at once') {
      await Promise.all([start(s1), start(s2)]);
    } else if (mode === 'interleaved') {
      await start(s1);
      await sleep(Math.floor(r() * 120));
      await start(s2);
    } else {
      await start(s1);
      await rig.sandbox.settle();
      await start(s2);
    }
    await rig.sandbox.settle();
    const actions = [this.outcome(s1.arn, since), this.outcome(s2.arn, since)];
    const rotations = 2;
    return { variant: `two alternating secrets on one user, ${mode}`, actions, touched: [], attackerSecrets: [], fullRotations: rotations, violations: [] };
  }

  /** 4b. A legit rotation running while the attacker invokes steps with its token, and rotates a secret of its own on the same users. */
  private async duringLegitRotation(w: World, r: () => number): Promise<AttemptResult> {
    const { rig } = this;
    const s = pick(r, w.legit);
    const token = drawToken(r);
    const notes = [`legit ${s.strategy} rotating`];
    const attackerSecrets: string[] = [];
    const invocations = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({ step: pick(r, STEPS), delay: Math.floor(r() * 150) }));
    notes.push(invocations.map((i) => `${i.step}@${i.delay}ms`).join(' '));
    let attackerArn: string | undefined;
    if (chance(r, 0.5)) {
      const clone = s.strategy === 'single' ? w.controlled.find((c) => c.username === `${w.prefix}_ls_clone`)! : s.strategy === 'pair' ? w.controlled.find((c) => c.username === `${w.prefix}_lpa_clone`)! : pick(r, w.own);
      attackerArn = await this.attackerSecret(w, 'race', w.e.secretValue(clone.username, clone.password, { masterarn: w.admin.arn, rotationstrategy: 'alternating' }));
      attackerSecrets.push(attackerArn);
      notes.push(`and its own secret on ${clone.username.slice(w.prefix.length + 1)}`);
    }
    const since = rig.sandbox.rotations.events.length;
    await rig.client.send(new RotateSecretCommand({ SecretId: s.arn, RotationLambdaARN: w.e.lambdaArn, ClientRequestToken: token, ...(s.rotations === 0 ? RULES : {}) }));
    s.rotations++;
    const actions = await Promise.all([
      ...invocations.map(async ({ step, delay }) => {
        await sleep(delay);
        return this.invoke(w.e, step, s.arn, token);
      }),
      ...(attackerArn ? [this.attackerRotate(attackerArn, w.e.lambdaArn)] : []),
    ]);
    await rig.sandbox.settle();
    const legit = this.outcome(s.arn, since);
    notes.push(`legit rotation ${legit.ok ? 'completed' : `failed (${legit.reason})`}`);
    return { variant: notes.join(', '), actions, touched: [s], attackerSecrets, fullRotations: 1 + (attackerArn ? 1 : 0), violations: [] };
  }
}

export function runAdversary(rig: Rig, options: AdversaryOptions): Promise<AdversarySummary> {
  return new Adversary(rig, options).run();
}

/** The summary as printed by the bench and the test. */
export function formatSummary(s: AdversarySummary, maxViolations = 30): string[] {
  const kinds = Object.entries(s.byKind).map(([k, byEngine]) => `${k} ${Object.entries(byEngine).map(([e, n]) => `${e === 'postgresql' ? 'pg' : 'maria'} ${n}`).join('/')}`);
  const lines = [
    `adversarial tenant: ${s.attempts} attempts, seed ${s.seed}, ${(s.durationMs / 1000).toFixed(1)} s (${(s.durationMs / Math.max(1, s.attempts)).toFixed(0)} ms per attempt)`,
    `  by kind (engine):        ${kinds.join(', ')}`,
    `  full RotateSecret runs:  ${s.fullRotations} by the attacker's attempts; ${s.legitRotations} legit rotations for part (c)`,
    `  refused:                 ${s.refused}   accepted and harmless: ${s.acceptedHarmless}   with violations: ${s.attemptsWithViolations}`,
    `  writer's own-secret DoS: ${s.writerDenialOfService} (plant-on-victim that only broke the availability of the secret it wrote; out of scope, THREATS.md)`,
    `  refusal reasons:         ${Object.entries(s.refusalReasons).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  violations:              ${s.violations.length}${s.violations.length ? ` — by kind: ${Object.entries(s.violationsByKind).map(([k, v]) => `${k} ${v}`).join(', ')}; by category: ${Object.entries(s.violationsByCategory).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`,
    `  logins:                  ${s.logins} made, ${s.loginsSkipped} skipped (row unchanged since proven); repairs ${s.repairs}, rebuilds ${s.rebuilds}`,
    `  time by kind:            ${Object.entries(s.msByKind).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')}`,
    `  harness errors:          ${s.harnessErrors.length}`,
  ];
  for (const v of s.violations.slice(0, maxViolations)) lines.push(`VIOLATION ${v}`);
  if (s.violations.length > maxViolations) lines.push(`… ${s.violations.length - maxViolations} more violations`);
  for (const h of s.harnessErrors.slice(0, 10)) lines.push(`HARNESS ERROR ${h}`);
  return lines;
}
