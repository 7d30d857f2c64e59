import { EngineError } from '../engines/errors';
import type { Engine, LoginResult } from '../engines/types';
import { InvalidSecretError } from '../rotation/errors';
import { parseDatabaseSecret, type DatabaseSecret } from '../rotation/secret';
import { pendingMismatch } from '../rotation/strategies';
import { BreachStepError } from './errors';

import type { BreachSecretsApi } from './secrets';

const AWSCURRENT = 'AWSCURRENT';
const AWSPENDING = 'AWSPENDING';

export interface SettleInput {
  arn: string;
  /** Versions holding AWSPENDING without AWSCURRENT (the plan's stuckVersions). */
  versions: readonly string[];
  /** How long a rotation may still be running: a pending version younger than this is waited for. */
  waitMs: number;
  /** AWSCURRENT at the start and its engine; absent for a secret owned by a service (nothing to check). */
  leaked?: DatabaseSecret;
  choice?: Engine;
  /** Logs in with a credential on the database a secret names (the procedure's TLS and timeouts). */
  checkLogin(secret: DatabaseSecret): Promise<LoginResult>;
  secrets: Pick<BreachSecretsApi, 'describe' | 'versionCreatedDates' | 'versionValue' | 'moveCurrent' | 'removePending'>;
  pollIntervalMs: number;
  sleep(ms: number): Promise<void>;
}

export interface Settled {
  /** Per version what was done (never a password). */
  detail: string;
  /** Stuck versions made AWSCURRENT: their credential worked, and may have leaked too. */
  promoted: DatabaseSecret[];
}

/**
 * Settle the rotation in progress or stuck, so that RotateSecret is accepted again, without ever
 * discarding the only working password:
 * 1. A pending version younger than `waitMs` may be a rotation still running: DescribeSecret is
 *    polled until AWSPENDING leaves it (finished, or cleaned up) or it ages past the wait.
 * 2. A version still pending then is stuck. If its value is for the same database and the user
 *    the strategy rotates to, and its credential logs in, its setSecret took effect: the rotation
 *    is completed (AWSCURRENT moved to it, as finishSecret would), so AWSCURRENT logs in again.
 * 3. Otherwise (no value, does not log in, names anything else) its password never took effect
 *    (or it is not ours to trust): AWSPENDING is removed, AWS's documented clean-up.
 * A database that cannot be reached is an error, not a "does not log in": nothing is stripped then.
 */
export async function settlePending(input: SettleInput): Promise<Settled> {
  const { arn, secrets } = input;
  const outcome = new Map<string, string>();
  const promoted: DatabaseSecret[] = [];

  let created: Record<string, Date>;
  try {
    created = await secrets.versionCreatedDates(arn);
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e?.name !== 'AccessDeniedException') throw err;
    throw new BreachStepError(
      'settle-pending',
      `ListSecretVersionIds on ${arn} was denied (${e.message ?? e.name}): the breach response needs secretsmanager:ListSecretVersionIds to tell a running rotation from a stuck one. Nothing was changed.`,
    );
  }
  const began = Date.now();
  const deadline = (v: string): number => (created[v]?.getTime() ?? began) + input.waitMs;

  // 1. Wait for young pending versions.
  let versions = (await secrets.describe(arn)).versions;
  const waitedFrom = Date.now();
  for (let interval = input.pollIntervalMs; ; interval = Math.min(interval * 2, 2000)) {
    for (const v of input.versions) {
      if (outcome.has(v)) continue;
      const stages = versions[v] ?? [];
      if (stages.includes(AWSPENDING) && !stages.includes(AWSCURRENT)) continue;
      const waited = `${Math.round((Date.now() - waitedFrom) / 100) / 10} s`;
      outcome.set(v, stages.includes(AWSCURRENT) ? `finished by itself (now AWSCURRENT, waited ${waited})` : `AWSPENDING taken off by its rotation (waited ${waited})`);
    }
    const young = input.versions.filter((v) => !outcome.has(v) && Date.now() < deadline(v));
    if (young.length === 0) break;
    await input.sleep(Math.max(1, Math.min(interval, Math.min(...young.map(deadline)) - Date.now())));
    versions = (await secrets.describe(arn)).versions;
  }

  // 2-3. What is still pending is stuck: complete it or strip it.
  for (const v of input.versions) {
    if (outcome.has(v)) continue;
    const verdict = await judge(v, input);
    if (verdict.complete) {
      const currentVersion = Object.entries(versions).find(([, stages]) => stages.includes(AWSCURRENT))?.[0];
      if (!currentVersion) throw new BreachStepError('settle-pending', `No version of ${arn} holds AWSCURRENT: fix the secret by hand.`);
      await secrets.moveCurrent(arn, v, currentVersion);
      await secrets.removePending(arn, v);
      promoted.push(verdict.complete);
      outcome.set(v, `completed: its credential logs in (its setSecret took effect), so AWSCURRENT moved to it from ${currentVersion}`);
    } else {
      await secrets.removePending(arn, v);
      outcome.set(v, `AWSPENDING removed: ${verdict.why}`);
    }
  }
  return { detail: input.versions.map((v) => `${v}: ${outcome.get(v)}`).join('; '), promoted };
}

type Verdict = { complete: DatabaseSecret; why?: undefined } | { complete?: undefined; why: string };

/** Whether a stuck version is the rotation the strategy would make, and its password took effect. */
async function judge(versionId: string, input: SettleInput): Promise<Verdict> {
  const { leaked, choice } = input;
  if (!leaked || !choice) return { why: 'the secret is owned by a service, its rotation cannot be checked here' };
  const value = await input.secrets.versionValue(input.arn, versionId);
  if (value === undefined) return { why: 'it has no value (its rotation stopped before createSecret stored one)' };
  let pending: DatabaseSecret;
  try {
    pending = parseDatabaseSecret(value, choice, `Version ${versionId} of ${input.arn}`);
  } catch (err) {
    if (err instanceof InvalidSecretError) return { why: 'its value is not a valid secret for this engine' };
    throw err;
  }
  let mismatch: ReturnType<typeof pendingMismatch>;
  try {
    mismatch = pendingMismatch(pending, leaked, choice);
  } catch (err) {
    if (err instanceof InvalidSecretError) return { why: 'the strategy has no user to rotate to' };
    throw err;
  }
  if (mismatch) {
    return {
      why: {
        database: 'it names another database (engine, host, port or dbname differ from AWSCURRENT)',
        ssl: 'its TLS choice differs from AWSCURRENT',
        strategy: 'its strategy, masterarn or usernames differ from AWSCURRENT',
        user: 'it names another user than the one the strategy rotates to',
      }[mismatch.kind],
    };
  }
  let login: LoginResult;
  try {
    login = await input.checkLogin(pending);
  } catch (err) {
    const message = err instanceof EngineError ? err.message : String(err);
    throw new BreachStepError('settle-pending', `Cannot tell whether version ${versionId} of ${input.arn} holds the working password (${message}); nothing was changed. Fix the connection and run again.`);
  }
  if (!login.ok) return { why: 'its credential does not log in (its password never took effect)' };
  return { complete: pending };
}
