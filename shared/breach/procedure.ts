import { EngineError } from '../engines/errors';
import type { ConnectionTarget, Credential, Engine } from '../engines/types';
import { parseAdminSecret, parseDatabaseSecret, type AdminSecret, type DatabaseSecret, type EngineContract, type TlsPreference } from '../rotation/secret';
import { checkAdminHost, resolveAdminHost, type AdminEndpointLookup } from '../rotation/strategies';
import { BreachStepError } from './errors';
import type { BreachRequest } from './input';
import { planBreach, refusal, type BreachAction } from './plan';
import type { BreachSecretInfo, BreachSecretsApi } from './secrets';

/** What the breach procedure logs through (Powertools Logger fits). One line per action: the audit trail. */
export interface AuditLog {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface EngineChoice {
  engine: Engine;
  contract: EngineContract;
}

export interface BreachDeps {
  secrets: BreachSecretsApi;
  /** The engine adapter for a secret's `engine` field, or undefined when none handles it. */
  engineFor(engineField: string): EngineChoice | undefined;
  db: { connectTimeoutMs: number; caBundle?: string };
  log: AuditLog;
  /** RDS-managed admin secrets (username and password only): host, port and engine from the RDS API. */
  adminEndpoint?: AdminEndpointLookup;
  /** Break-glass: reset the RDS master password of the admin secret's instance/cluster; returns what was done. */
  resetAdmin?: (adminArn: string, admin: AdminSecret) => Promise<string>;
  /** First DescribeSecret poll interval while waiting for a rotation (doubles up to 2 s). Default 100 ms. */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type ActionOutcome = 'done' | 'planned' | 'failed';

export interface ActionRecord {
  action: BreachAction | 'read-current';
  outcome: ActionOutcome;
  startedAt: string;
  durationMs: number;
  detail?: string;
}

export interface SecretReport {
  secretId: string;
  name?: string;
  status: 'ok' | 'failed' | 'dry-run';
  strategy?: string;
  engine?: string;
  /** The user of the leaked (AWSCURRENT at the start) credential: a name, never a password. */
  leakedUser?: string;
  actions: ActionRecord[];
  notes: string[];
  error?: string;
  failedAction?: string;
  durationMs: number;
}

const AWSCURRENT = 'AWSCURRENT';
const AWSPENDING = 'AWSPENDING';
const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const credential = (s: { username: string; password: string }): Credential => ({ username: s.username, password: s.password });

/**
 * The breach procedure for one secret: settle a stuck rotation, rotate (twice for two users),
 * end the leaked user's sessions, and prove the leaked credential is dead. Never throws: the
 * report says what was done and what failed. The leaked credential (AWSCURRENT at the start) is
 * kept in memory only, to verify that it no longer logs in; it is never logged or returned.
 */
export async function respondToBreach(target: BreachSecretInfo | string, request: BreachRequest, deps: BreachDeps): Promise<SecretReport> {
  const began = performance.now();
  const report: SecretReport = { secretId: typeof target === 'string' ? target : target.arn, status: 'ok', actions: [], notes: [], durationMs: 0 };
  const sleep = deps.sleep ?? defaultSleep;

  const step = async <T>(action: ActionRecord['action'], run: () => Promise<{ value: T; detail?: string }>): Promise<T> => {
    const startedAt = new Date();
    const t0 = performance.now();
    try {
      const { value, detail } = await run();
      record(action, 'done', startedAt, t0, detail);
      return value;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      record(action, 'failed', startedAt, t0, message);
      throw err instanceof BreachStepError ? err : new BreachStepError(action, message);
    }
  };
  const record = (action: ActionRecord['action'], outcome: ActionOutcome, startedAt: Date, t0: number, detail?: string): void => {
    const entry: ActionRecord = { action, outcome, startedAt: startedAt.toISOString(), durationMs: Math.round(performance.now() - t0), ...(detail ? { detail } : {}) };
    report.actions.push(entry);
    const audit = {
      audit: 'breach-response',
      secretId: report.secretId,
      action,
      outcome,
      reason: request.reason,
      ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
      dryRun: request.dryRun,
      durationMs: entry.durationMs,
      ...(detail ? { detail } : {}),
    };
    if (outcome === 'failed') deps.log.error('Breach action failed', audit);
    else deps.log.info('Breach action', audit);
  };

  try {
    const meta = typeof target === 'string' ? await deps.secrets.describe(target) : target;
    report.secretId = meta.arn;
    report.name = meta.name;
    const refused = refusal(meta);
    if (refused) throw new BreachStepError('describe', refused);

    // The leaked credential: AWSCURRENT as it is now, before anything moves.
    const { leaked, choice } = await step<{ leaked: DatabaseSecret | undefined; choice: EngineChoice | undefined }>('read-current', async () => {
      const value = await deps.secrets.value(meta.arn, AWSCURRENT);
      if (meta.owningService) return { value: { leaked: undefined, choice: undefined }, detail: `owned by ${meta.owningService}` };
      const engineField = engineOf(value, meta.arn);
      const found = deps.engineFor(engineField);
      if (!found) throw new BreachStepError('read-current', `Secret ${meta.arn} has "engine": "${engineField.slice(0, 40)}", which no engine adapter of this function handles.`);
      const parsed = parseDatabaseSecret(value, found.contract, `The AWSCURRENT version of ${meta.arn}`);
      return { value: { leaked: parsed, choice: found }, detail: `user ${parsed.username}, ${parsed.strategy} strategy` };
    });
    report.strategy = leaked?.strategy ?? 'managed';
    if (choice) report.engine = choice.engine.name;
    if (leaked) report.leakedUser = leaked.username;

    const plan = planBreach(meta, leaked?.strategy ?? 'managed', { endSessions: request.endSessions });
    report.notes.push(...plan.notes);
    if (request.dryRun) {
      for (const action of plan.actions) {
        record(action, 'planned', new Date(), performance.now(), action === 'settle-pending' ? `AWSPENDING on ${plan.stuckVersions.join(', ')}` : undefined);
      }
      report.status = 'dry-run';
      return report;
    }

    if (plan.actions.includes('settle-pending')) {
      await step('settle-pending', async () => {
        for (const version of plan.stuckVersions) await deps.secrets.removePending(meta.arn, version);
        return { value: undefined, detail: `removed AWSPENDING from ${plan.stuckVersions.join(', ')} (a failed or unfinished rotation)` };
      });
    }

    let completedAt = new Date();
    for (const action of plan.actions.filter((a): a is 'rotate' | 'rotate-again' => a === 'rotate' || a === 'rotate-again')) {
      completedAt = await step(action, async () => {
        const versionId = await rotateWhenFree(meta.arn, request.rotationTimeoutMs, deps, sleep);
        const done = await waitForRotation(meta.arn, versionId, request.rotationTimeoutMs, deps, sleep);
        return { value: done, detail: `version ${versionId} is AWSCURRENT` };
      });
    }
    if (!leaked || !choice) return report;

    const current = parseDatabaseSecret(await deps.secrets.value(meta.arn, AWSCURRENT), choice.contract, `The new AWSCURRENT version of ${meta.arn}`);
    const targetOf = (s: { host: string; port: number; dbname?: string }, tls: TlsPreference): ConnectionTarget => {
      const dbname = s.dbname ?? choice.engine.defaultDbName;
      return {
        host: s.host,
        port: s.port,
        ...(dbname === undefined ? {} : { dbname }),
        tls: tls === 'plaintext' ? { kind: 'plaintext' } : { kind: 'verify', ...(deps.db.caBundle ? { ca: deps.db.caBundle } : {}) },
        connectTimeoutMs: deps.db.connectTimeoutMs,
      };
    };

    if (plan.actions.includes('end-sessions')) {
      await step('end-sessions', async () => {
        const ended = await endLeakedSessions(leaked, current, completedAt, targetOf, deps, request.breakGlass, request.rotationTimeoutMs, sleep);
        return { value: undefined, detail: ended };
      });
    }

    await step('verify', async () => {
      const dead = await choice.engine.checkLogin(targetOf(leaked, leaked.tls), credential(leaked));
      if (dead.ok) throw new BreachStepError('verify', `The leaked credential of user "${leaked.username}" STILL logs in to ${leaked.host}:${leaked.port}: change its password by hand now.`);
      const alive = await choice.engine.checkLogin(targetOf(current, current.tls), credential(current));
      if (!alive.ok) throw new BreachStepError('verify', `The new AWSCURRENT credential (user "${current.username}") does not log in: ${alive.detail}. Applications will fail until it does.`);
      return { value: undefined, detail: `leaked credential refused (${dead.detail}); AWSCURRENT (user ${current.username}) logs in` };
    });
  } catch (err) {
    report.status = 'failed';
    report.error = err instanceof Error ? err.message : String(err);
    report.failedAction = err instanceof BreachStepError ? err.action : 'unknown';
    if (err instanceof BreachStepError && err.action === 'describe') {
      deps.log.error('Breach action failed', { audit: 'breach-response', secretId: report.secretId, action: 'describe', outcome: 'failed', reason: request.reason, detail: report.error });
    }
  } finally {
    report.durationMs = Math.round(performance.now() - began);
  }
  return report;
}

function engineOf(value: string | undefined, arn: string): string {
  try {
    const engine = (JSON.parse(value ?? '') as { engine?: unknown }).engine;
    if (typeof engine === 'string' && engine.length > 0) return engine;
  } catch {
    // reported below
  }
  throw new BreachStepError('read-current', `The AWSCURRENT version of ${arn} is not a JSON object with "engine": the breach response needs it to pick the database adapter.`);
}

/**
 * RotateSecret, retried while Secrets Manager still counts the previous rotation as running (its
 * function has moved AWSCURRENT but not yet returned): "A previous rotation isn't complete".
 */
async function rotateWhenFree(arn: string, timeoutMs: number, deps: BreachDeps, sleep: (ms: number) => Promise<void>): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = deps.pollIntervalMs ?? 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await deps.secrets.rotate(arn);
    } catch (err) {
      const busy = err instanceof Error && err.name === 'InvalidRequestException' && /previous rotation isn.t complete/i.test(err.message);
      if (!busy || Date.now() >= deadline) throw err;
      await sleep(wait);
    }
  }
}

/** Poll DescribeSecret until the rotation's version is AWSCURRENT and no other version is AWSPENDING. */
export async function waitForRotation(
  arn: string,
  versionId: string,
  timeoutMs: number,
  deps: Pick<BreachDeps, 'secrets' | 'pollIntervalMs'>,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<Date> {
  const deadline = Date.now() + timeoutMs;
  let interval = deps.pollIntervalMs ?? 100;
  for (;;) {
    const { versions } = await deps.secrets.describe(arn);
    const stages = versions[versionId];
    const pendingElsewhere = Object.entries(versions).some(([id, s]) => id !== versionId && s.includes(AWSPENDING));
    if (stages?.includes(AWSCURRENT) && !pendingElsewhere) return new Date();
    if (!stages) throw new BreachStepError('rotate', `The rotation of ${arn} was abandoned (version ${versionId} is gone): a new value was written meanwhile. Run the breach response again.`);
    if (Date.now() >= deadline) {
      throw new BreachStepError(
        'rotate',
        `The rotation of ${arn} did not complete within ${Math.round(timeoutMs / 1000)} s (version ${versionId}: ${stages.join(', ') || 'no stage'}): see the rotation function's logs; the leaked credential may still work.`,
      );
    }
    await sleep(interval);
    interval = Math.min(interval * 2, 2000);
  }
}

/**
 * End the leaked user's sessions opened before the rotation completed (the attacker's, and stale
 * ones), as the admin named by `masterarn`, or, without one, as the user itself with its new
 * password (PostgreSQL and MySQL both let a user end its own sessions). MySQL/MariaDB cannot tell
 * when a session was opened: there every session of the leaked user is ended.
 */
async function endLeakedSessions(
  leaked: DatabaseSecret,
  current: DatabaseSecret,
  completedAt: Date,
  targetOf: (s: { host: string; port: number; dbname?: string }, tls: TlsPreference) => ConnectionTarget,
  deps: BreachDeps,
  breakGlass: boolean,
  timeoutMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<string> {
  const choice = deps.engineFor(current.engine);
  if (!choice) throw new BreachStepError('end-sessions', `No engine adapter for "${current.engine}".`);
  const { engine } = choice;
  let actor: Credential = credential(current);
  let tls: TlsPreference = current.tls;
  const adminArn = current.masterarn;
  let adminSecret: AdminSecret | undefined;
  const loadAdmin = async (arn: string): Promise<void> => {
    const stored = parseAdminSecret(await deps.secrets.value(arn, AWSCURRENT), `The admin secret ${arn}`);
    const { admin, aliases } = await resolveAdminHost(stored, arn, deps.adminEndpoint, current.host);
    // Confused-deputy guard, as in rotation: the admin's password only goes to its own server.
    checkAdminHost(admin, current, arn, aliases);
    adminSecret = admin;
    actor = credential(admin);
    tls = admin.tls === 'plaintext' && current.tls === 'plaintext' ? 'plaintext' : 'verify';
  };
  if (adminArn) await loadAdmin(adminArn);
  const selfEnding = adminArn === undefined;

  const end = async (): Promise<string> => {
    // Sessions live where the rotated secret's host points (a replica has its own).
    const target = targetOf(current, tls);
    try {
      const n = await engine.endSessions(target, actor, leaked.username, completedAt);
      return `ended ${n} session(s) of ${leaked.username} opened before ${completedAt.toISOString()}`;
    } catch (err) {
      if (!(err instanceof EngineError) || err.code !== 'unsupported') throw err;
    }
    try {
      const n = await engine.endSessions(target, actor, leaked.username);
      return `ended all ${n} other session(s) of ${leaked.username} (${engine.name} cannot tell when a session was opened)`;
    } catch (err) {
      // A user that ends its own sessions sees them all without PROCESS; "none visible" is the truth there.
      if (selfEnding && err instanceof EngineError && err.code === 'privilege') return `no other session of ${leaked.username} was open`;
      throw err;
    }
  };

  try {
    return await end();
  } catch (err) {
    if (!(err instanceof EngineError) || err.code !== 'auth' || !adminArn || !adminSecret) throw err;
    if (!breakGlass || !deps.resetAdmin) {
      throw new BreachStepError('end-sessions', `The admin credential ${adminArn} no longer logs in (${err.message}). Re-run with breakGlass to reset the RDS master password, or fix it by hand.`);
    }
    const what = await deps.resetAdmin(adminArn, adminSecret);
    // RDS applies the new master password within a minute or so: retry with the (re-read) admin secret.
    const deadline = Date.now() + timeoutMs;
    for (let wait = 2000; ; wait = Math.min(wait * 2, 15_000)) {
      try {
        await loadAdmin(adminArn);
        return `${await end()} (after break-glass: ${what})`;
      } catch (retry) {
        if (!(retry instanceof EngineError) || retry.code !== 'auth' || Date.now() >= deadline) throw retry;
        await sleep(wait);
      }
    }
  }
}
