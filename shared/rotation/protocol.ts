import type { ConnectionTarget, Engine } from '../engines/types';
import { generatePassword } from '../password/generate';
import { passwordRules, type RotationConfig } from './config';
import { GuardError, InvalidSecretError, LoginError, PrecheckError } from './errors';
import type { RotationRequest } from './event';
import { loadAdmin, type AdminEndpointLookup } from './admin';
import { parseDatabaseSecret, withCredential, type DatabaseSecret, type TlsPreference } from './secret';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, versionWith, type SecretMetadata, type SecretsApi } from './secrets-api';
import { pendingMismatch, pendingUsername, setPendingPassword } from './strategies';
import { PROOF_FIELD, hasValidProof, pendingProof } from './proof';
import { connectionTarget } from './target';

/** What the protocol logs through: Powertools Logger fits; so does console. */
export interface Log {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface RotationContext {
  secrets: SecretsApi;
  engine: Engine;
  config: RotationConfig;
  log: Log;
  /** Finds host, port and engine of an admin secret that has only username and password (RDS-managed). */
  adminEndpoint?: AdminEndpointLookup;
}

export type StepResult = 'done' | 'already-current';

/**
 * One step of a rotation, written once for every engine and strategy. Each step is idempotent:
 * Secrets Manager retries whole rotations, and a step may arrive twice.
 */
export async function runStep(request: RotationRequest, ctx: RotationContext): Promise<StepResult> {
  // The values a step needs are fetched alongside DescribeSecret, not after it: one round trip, not two.
  const reads = startReads(request, ctx);
  const meta = await ctx.secrets.describe(request.secretId);
  if (precheck(meta, request) === 'already-current') {
    // A finishSecret retried after AWSCURRENT moved still owes the engine's own finishing touch.
    // Not while another rotation is under way: its setSecret may have kept AWSCURRENT's password
    // as the retained old one (MySQL dual passwords), and discarding it would lock AWSCURRENT out.
    const another = Object.entries(meta.versions).some(([id, stages]) => id !== request.token && stages.includes(AWSPENDING));
    if (request.step === 'finishSecret' && ctx.engine.finishOwnPassword && !another) {
      await finishOwnPassword(await loadCurrent(meta.arn, reads, ctx), ctx);
    }
    ctx.log.info('Version is already AWSCURRENT; nothing to do', { step: request.step, versionId: request.token });
    return 'already-current';
  }
  const run = { createSecret, setSecret, testSecret, finishSecret }[request.step];
  await run(request, meta, reads, ctx);
  return 'done';
}

/** SecretString reads started before the pre-check; only awaited once it has passed. */
interface Reads {
  current: () => Promise<string | undefined>;
  pending: () => Promise<string | undefined>;
}

function needs(step: RotationRequest['step']): { current: boolean; pending: boolean } {
  // finishSecret checks the pending credential against AWSCURRENT and the server before it moves anything.
  return {
    createSecret: { current: true, pending: true },
    setSecret: { current: true, pending: true },
    testSecret: { current: false, pending: true },
    finishSecret: { current: true, pending: true },
  }[step];
}

function startReads({ step, secretId, token }: RotationRequest, ctx: RotationContext): Reads {
  const need = needs(step);
  const early = (needed: boolean, read: () => Promise<string | undefined>): (() => Promise<string | undefined>) => {
    if (!needed) return read;
    const started = read();
    started.catch(() => undefined); // a pre-check failure must not leave an unhandled rejection behind
    return () => started;
  };
  return {
    current: early(need.current, () => ctx.secrets.value(secretId, AWSCURRENT)),
    pending: early(need.pending, () => ctx.secrets.value(secretId, AWSPENDING, token)),
  };
}

/** The ladder AWS's templates climb before every step. */
function precheck(meta: SecretMetadata, { secretId, token }: RotationRequest): 'proceed' | 'already-current' {
  if (meta.rotationEnabled === false) {
    throw new PrecheckError(`Rotation is not enabled for secret ${meta.arn}: turn it on (RotateSecret with rules) before rotating.`);
  }
  const stages = meta.versions[token];
  if (!stages) throw new PrecheckError(`ClientRequestToken ${token} is not a version of secret ${secretId}: start rotations with RotateSecret.`);
  if (stages.includes(AWSCURRENT)) return 'already-current';
  if (!stages.includes(AWSPENDING)) {
    throw new PrecheckError(`Version ${token} of secret ${secretId} is not AWSPENDING: it is not the version being rotated to.`);
  }
  return 'proceed';
}

async function loadCurrent(arn: string, reads: Reads, ctx: RotationContext): Promise<DatabaseSecret> {
  return parseDatabaseSecret(await reads.current(), ctx.engine, `The AWSCURRENT version of ${arn}`);
}

async function loadPending(arn: string, token: string, reads: Reads, ctx: RotationContext): Promise<DatabaseSecret> {
  const value = await reads.pending();
  if (value === undefined) throw new PrecheckError(`Version ${token} of ${arn} has no value yet: createSecret must run before this step.`);
  return parseDatabaseSecret(value, ctx.engine, `The AWSPENDING version ${token} of ${arn}`);
}

function targetOf(secret: { host: string; port: number; dbname?: string }, tls: TlsPreference, ctx: RotationContext): ConnectionTarget {
  return connectionTarget(secret, tls, ctx.engine, ctx.config);
}

async function createSecret(request: RotationRequest, meta: SecretMetadata, reads: Reads, ctx: RotationContext): Promise<void> {
  const current = await loadCurrent(meta.arn, reads, ctx);
  const stored = await reads.pending();
  if (stored !== undefined) {
    // A retry: keep the password already generated for this token, after checking it is well-formed.
    parseDatabaseSecret(stored, ctx.engine, `The AWSPENDING version ${request.token} of ${meta.arn}`);
    ctx.log.info('createSecret: pending value already stored for this token', { versionId: request.token });
    return;
  }
  const username = pendingUsername(current, ctx.engine);
  let password: string;
  let fields: Record<string, string> = {};
  if (ctx.engine.issuer) {
    // The target issues the credential; what the stages still hold must survive the making of room.
    const previous = await loadPrevious(meta.arn, ctx);
    const inUse = [current.raw, ...(previous ? [previous.raw] : [])];
    const issued = await ctx.engine.issuer.issue(targetOf(current, current.tls, ctx), username, inUse);
    password = issued.password;
    fields = issued.fields ?? {};
  } else {
    // Generated here, with GetRandomPassword's rules: one Secrets Manager round trip less.
    password = generatePassword(passwordRules(ctx.config.password));
  }
  const proof = pendingProof(current.password, meta.arn, request.token, { ...current, username, password });
  const value = withCredential(current, username, password, { ...fields, [PROOF_FIELD]: proof });
  await ctx.secrets.putPending(meta.arn, request.token, value, request.rotationToken);
  ctx.log.info('createSecret: stored a new pending credential', { versionId: request.token, username, strategy: current.strategy });
}

/** Refuses a pending version that is not what createSecret made of AWSCURRENT (confused-deputy guard). */
function checkPendingMatchesCurrent(pending: DatabaseSecret, current: DatabaseSecret, arn: string, ctx: RotationContext): void {
  const mismatch = pendingMismatch(pending, current, ctx.engine);
  if (!mismatch) return;
  if (mismatch.kind === 'user') {
    throw new GuardError(`The AWSPENDING version of ${arn} is for user "${pending.username}", but the ${current.strategy} strategy rotates "${mismatch.expected}".`);
  }
  const what = {
    database: 'name different databases: they must be the same engine, host, port and dbname.',
    // Else AWSPENDING's "ssl" would decide how AWSCURRENT's password travels.
    ssl: 'differ in "ssl": a rotation keeps the TLS choice of AWSCURRENT. Start a new rotation.',
    strategy: 'differ in strategy, "masterarn" or "usernames": a rotation keeps those of AWSCURRENT. Start a new rotation.',
  }[mismatch.kind];
  throw new GuardError(`The AWSPENDING and AWSCURRENT versions of ${arn} ${what}`);
}

/** AWSPREVIOUS, when it exists and parses: an old, malformed version is no way in. */
async function loadPrevious(arn: string, ctx: RotationContext): Promise<DatabaseSecret | undefined> {
  const value = await ctx.secrets.value(arn, AWSPREVIOUS);
  if (value === undefined) return undefined;
  try {
    return parseDatabaseSecret(value, ctx.engine, `The AWSPREVIOUS version of ${arn}`);
  } catch (err) {
    if (err instanceof InvalidSecretError) return undefined;
    throw err;
  }
}

async function setSecret(request: RotationRequest, meta: SecretMetadata, reads: Reads, ctx: RotationContext): Promise<void> {
  const [current, pending] = await Promise.all([loadCurrent(meta.arn, reads, ctx), loadPending(meta.arn, request.token, reads, ctx)]);
  checkPendingMatchesCurrent(pending, current, meta.arn, ctx);
  if (ctx.engine.issuer) {
    ctx.log.info('setSecret: the credential was issued by the target at createSecret; nothing to set', { username: pending.username });
    return;
  }
  const target = targetOf(pending, pending.tls, ctx);
  if (!hasValidProof(pending, current.password, meta.arn, request.token)) {
    await refuseUnprovenPending(request, meta, pending, target, ctx);
    return;
  }
  if (pending.tls === 'plaintext') ctx.log.warn('TLS is off for this database ("ssl": false in the secret); credentials cross the network unencrypted', { host: pending.host });

  let previous: Promise<DatabaseSecret | undefined> | undefined;
  const how = await setPendingPassword({
    engine: ctx.engine,
    target,
    owner: meta.arn,
    current,
    pending,
    previous: () => (previous ??= loadPrevious(meta.arn, ctx)),
    admin: async () => {
      const admin = await loadAdmin(current.masterarn!, current, (arn) => ctx.secrets.value(arn, AWSCURRENT), ctx.adminEndpoint);
      return { secret: admin.secret, target: targetOf({ ...current, ...admin.home }, admin.tls, ctx) };
    },
  });
  ctx.log.info('setSecret: pending password set', { username: pending.username, how });
}

/**
 * A pending value this function's createSecret did not write (planted by a secret writer, or left
 * by an older release): no password is ever set to it. If it already logs in, nothing needs
 * setting (an older release's setSecret did it); otherwise AWSPENDING is taken off it — its password
 * never took effect, so nothing is lost — and the next rotation starts afresh.
 */
async function refuseUnprovenPending(request: RotationRequest, meta: SecretMetadata, pending: DatabaseSecret, target: ConnectionTarget, ctx: RotationContext): Promise<void> {
  if ((await ctx.engine.checkLogin(target, pending)).ok) {
    ctx.log.warn('setSecret: the pending value carries no proof of this function, but already logs in; nothing changed', { username: pending.username });
    return;
  }
  await ctx.secrets.removePending(meta.arn, request.token);
  throw new GuardError(
    `The AWSPENDING version ${request.token} of ${meta.arn} was not written by this rotation function's createSecret (no valid "${PROOF_FIELD}"): refusing to set a password chosen by whoever wrote it. AWSPENDING was taken off that version; the next rotation starts afresh.`,
  );
}

async function testSecret(request: RotationRequest, meta: SecretMetadata, reads: Reads, ctx: RotationContext): Promise<void> {
  const pending = await loadPending(meta.arn, request.token, reads, ctx);
  const result = await ctx.engine.checkLogin(targetOf(pending, pending.tls, ctx), pending);
  if (!result.ok) {
    throw new LoginError(`The AWSPENDING credential (user "${pending.username}") does not log in to ${pending.host}:${pending.port}: setSecret did not take effect.`);
  }
  ctx.log.info('testSecret: the pending credential logs in', { username: pending.username });
}

async function finishSecret(request: RotationRequest, meta: SecretMetadata, reads: Reads, ctx: RotationContext): Promise<void> {
  // AWSCURRENT moves only to a credential that matches it and logs in now: a finishSecret sent
  // directly, for a version whose password was never set, must not lock the applications out.
  const [current, pending] = await Promise.all([loadCurrent(meta.arn, reads, ctx), loadPending(meta.arn, request.token, reads, ctx)]);
  checkPendingMatchesCurrent(pending, current, meta.arn, ctx);
  const login = await ctx.engine.checkLogin(targetOf(pending, pending.tls, ctx), pending);
  if (!login.ok) {
    throw new LoginError(
      `The AWSPENDING credential (user "${pending.username}") does not log in to ${pending.host}:${pending.port}, so AWSCURRENT stays where it is: run the rotation from createSecret (RotateSecret) instead of sending finishSecret alone.`,
    );
  }
  const currentVersion = versionWith(meta.versions, AWSCURRENT);
  // AWSPENDING stays beside AWSCURRENT until Secrets Manager's own clean-up after the rotation:
  // AWS accepts that state (the next RotateSecret proceeds), so it costs no call of ours.
  await ctx.secrets.moveCurrent(meta.arn, request.token, currentVersion);
  ctx.log.info('finishSecret: AWSCURRENT moved', { versionId: request.token, previousVersionId: currentVersion });
  await finishOwnPassword(pending, ctx);
  if (ctx.engine.issuer?.retire) {
    // The new AWSCURRENT and AWSPREVIOUS stay; what neither holds is retired after the overlap.
    const retired = await ctx.engine.issuer.retire(targetOf(pending, pending.tls, ctx), pending.username, [pending.raw, current.raw]);
    ctx.log.info('finishSecret: retired what no stage holds', { outcome: retired });
  }
}

/** Single user: let the engine end the transition of the user's own password (e.g. MySQL's retained old password). */
async function finishOwnPassword(secret: DatabaseSecret, ctx: RotationContext): Promise<void> {
  if (secret.strategy !== 'single' || !ctx.engine.finishOwnPassword) return;
  const outcome = await ctx.engine.finishOwnPassword(targetOf(secret, secret.tls, ctx), secret);
  ctx.log.info('finishSecret: own password transition finished', { username: secret.username, outcome: String(outcome) });
}
