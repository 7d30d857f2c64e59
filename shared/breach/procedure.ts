import type { ConnectionTarget, Credential, Engine } from '../engines/types';
import { InvalidSecretError } from '../rotation/errors';
import type { AdminEndpointLookup, AdminSecret } from '../rotation/admin';
import { parseDatabaseSecret, type DatabaseSecret } from '../rotation/secret';
import { pendingUsername } from '../rotation/strategies';
import { connectionTarget, type DatabaseSettings } from '../rotation/target';
import { BreachDatabase } from './database';
import { BreachStepError } from './errors';
import type { BreachRequest } from './input';
import { planBreach, refusal, type BreachAction } from './plan';
import type { BreachSecretInfo, BreachSecretsApi } from './secrets';
import { settlePending } from './settle';

/** What the breach procedure logs through (Powertools Logger fits). One line per action: the audit trail. */
export interface AuditLog {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface BreachDeps {
  secrets: BreachSecretsApi;
  /** The engine adapter for a secret's `engine` field, or undefined when none handles it. */
  engineFor(engineField: string): Engine | undefined;
  db: DatabaseSettings;
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
const AWSPREVIOUS = 'AWSPREVIOUS';
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

  // Failures that do not stop the procedure (a replica that cannot be reached): the secret fails at the end.
  const deferred: BreachStepError[] = [];
  const step = async <T>(action: ActionRecord['action'], run: () => Promise<{ value: T; detail?: string; failures?: string[] }>): Promise<T> => {
    const startedAt = new Date();
    const t0 = performance.now();
    try {
      const { value, detail, failures = [] } = await run();
      record(action, failures.length > 0 ? 'failed' : 'done', startedAt, t0, detail);
      if (failures.length > 0) deferred.push(new BreachStepError(action, failures.join('; ')));
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

    // The leaked credential: AWSCURRENT as it is now, before anything moves; AWSPREVIOUS may have leaked with it.
    const { leaked, choice, previous } = await step<{ leaked: DatabaseSecret | undefined; choice: Engine | undefined; previous: DatabaseSecret | undefined }>('read-current', async () => {
      const value = await deps.secrets.value(meta.arn, AWSCURRENT);
      if (meta.owningService) return { value: { leaked: undefined, choice: undefined, previous: undefined }, detail: `owned by ${meta.owningService}` };
      const engineField = engineOf(value, meta.arn);
      const found = deps.engineFor(engineField);
      if (!found) throw new BreachStepError('read-current', `Secret ${meta.arn} has "engine": "${engineField.slice(0, 40)}", which no engine adapter of this function handles.`);
      const parsed = parseDatabaseSecret(value, found, `The AWSCURRENT version of ${meta.arn}`);
      const before = await readPrevious(meta.arn, parsed, found, deps);
      return { value: { leaked: parsed, choice: found, previous: before }, detail: `user ${parsed.username}, ${parsed.strategy} strategy` };
    });
    report.strategy = leaked?.strategy ?? 'managed';
    if (choice) report.engine = choice.name;
    if (leaked) report.leakedUser = leaked.username;

    const plan = planBreach(meta, leaked?.strategy ?? 'managed', {
      endSessions: request.endSessions,
      accountsPerName: choice?.replaceLeakedPassword !== undefined,
      hasAdmin: leaked?.masterarn !== undefined,
    });
    report.notes.push(...plan.notes);
    if (request.dryRun) {
      for (const action of plan.actions) {
        record(
          action,
          'planned',
          new Date(),
          performance.now(),
          action === 'settle-pending' ? `AWSPENDING on ${plan.stuckVersions.join(', ')}: waited for while younger than ${Math.round(request.rotationTimeoutMs / 1000)} s, then completed if its credential logs in, else removed` : undefined,
        );
      }
      report.status = 'dry-run';
      return report;
    }

    const checkLoginOf = (s: DatabaseSecret) => choice!.checkLogin(targetOf(s, s.tls), credential(s));
    const targetOf = (s: DatabaseSecret, tls: DatabaseSecret['tls']): ConnectionTarget => connectionTarget(s, tls, choice!, deps.db);

    let promoted: DatabaseSecret[] = [];
    if (plan.actions.includes('settle-pending')) {
      promoted = await step('settle-pending', async () => {
        const settled = await settlePending({
          arn: meta.arn,
          versions: plan.stuckVersions,
          waitMs: request.rotationTimeoutMs,
          ...(leaked && choice ? { leaked, choice } : {}),
          checkLogin: checkLoginOf,
          secrets: deps.secrets,
          pollIntervalMs: deps.pollIntervalMs ?? 100,
          sleep,
        });
        return { value: settled.promoted, detail: settled.detail };
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

    const current = parseDatabaseSecret(await deps.secrets.value(meta.arn, AWSCURRENT), choice, `The new AWSCURRENT version of ${meta.arn}`);
    // The users the rotations changed (both, for two users), and every credential of theirs that may
    // have leaked: AWSCURRENT and AWSPREVIOUS at the start, and a stuck version made AWSCURRENT.
    const users = rotatedUsers(leaked, choice);
    const suspects = uniqueCredentials([leaked, ...promoted, ...(previous ? [previous] : [])]);
    const database = new BreachDatabase(deps, choice, meta.arn, current, { breakGlass: request.breakGlass, timeoutMs: request.rotationTimeoutMs, sleep });

    if (plan.actions.includes('other-accounts')) {
      await step('other-accounts', async () => {
        const after = await readPrevious(meta.arn, current, choice, deps);
        const newest = (user: string): string | undefined => [current, after].find((s) => s?.username === user)?.password;
        const work = users.flatMap((username) => {
          const leakedPasswords = suspects.filter((s) => s.username === username).map((s) => s.password);
          const newPassword = newest(username);
          return leakedPasswords.length > 0 && newPassword !== undefined ? [{ username, leaked: leakedPasswords, newPassword }] : [];
        });
        const { detail, unverified } = await database.replaceLeakedPasswords(work);
        if (unverified.length > 0) report.notes.push(`accounts whose password could not be compared, check by hand: ${unverified.join(', ')}`);
        return { value: undefined, detail };
      });
    }

    if (plan.actions.includes('end-sessions')) {
      // Opened before the rotations completed, on every host of the server, for both users of two.
      await step('end-sessions', async () => ({ value: undefined, ...(await database.endSessions(users, completedAt)) }));
    }

    await step('verify', async () => {
      const refused: string[] = [];
      for (const suspect of suspects) {
        const dead = await checkLoginOf(suspect);
        if (dead.ok) {
          throw new BreachStepError('verify', `A leaked credential of user "${suspect.username}" STILL logs in to ${suspect.host}:${suspect.port}: change its password by hand now.`);
        }
        refused.push(dead.detail);
      }
      const alive = await checkLoginOf(current);
      if (!alive.ok) throw new BreachStepError('verify', `The new AWSCURRENT credential (user "${current.username}") does not log in: ${alive.detail}. Applications will fail until it does.`);
      const what = suspects.length === 1 ? 'leaked credential refused' : `all ${suspects.length} possibly leaked credentials refused`;
      return { value: undefined, detail: `${what} (${refused[0]}); AWSCURRENT (user ${current.username}) logs in` };
    });
    if (deferred.length > 0) throw deferred[0];
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

/** AWSPREVIOUS, when it holds a credential of a user this secret rotates, on the same database. */
async function readPrevious(arn: string, like: DatabaseSecret, choice: Engine, deps: BreachDeps): Promise<DatabaseSecret | undefined> {
  const value = await deps.secrets.value(arn, AWSPREVIOUS);
  if (value === undefined) return undefined;
  try {
    const previous = parseDatabaseSecret(value, choice, `The AWSPREVIOUS version of ${arn}`);
    const same = previous.host === like.host && previous.port === like.port && (previous.dbname ?? null) === (like.dbname ?? null);
    return same && rotatedUsers(like, choice).includes(previous.username) ? previous : undefined;
  } catch (err) {
    if (err instanceof InvalidSecretError) return undefined; // an old, malformed version is no credential
    throw err;
  }
}

/** The users a breach's rotations change: the user, and for two users the other one too. */
function rotatedUsers(secret: DatabaseSecret, engine: Engine): string[] {
  if (secret.strategy === 'single') return [secret.username];
  return [...new Set([secret.username, pendingUsername(secret, engine)])];
}

function uniqueCredentials(list: DatabaseSecret[]): DatabaseSecret[] {
  const seen = new Set<string>();
  return list.filter((s) => {
    const key = JSON.stringify([s.username, s.password]);
    return !seen.has(key) && seen.add(key);
  });
}
