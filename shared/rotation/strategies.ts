import type { AdminActionOptions, ConnectionTarget, Credential, Engine, UserFacts } from '../engines/types';
import { GuardError, InvalidSecretError, LoginError } from './errors';
import type { AdminSecret } from './admin';
import type { DatabaseSecret } from './secret';

/**
 * How each strategy picks the pending user and changes its password.
 * - single: the user changes its own password (AWS's single-user templates).
 * - alternating: two users, `<name>` and `<name>_clone`; the admin creates or aligns the one not
 *   in use, so the credential applications hold keeps working (AWS's multi-user templates).
 * - pair: two users the team created itself, named in `usernames`; the admin only sets passwords.
 */
const CLONE_SUFFIX = '_clone';

export function alternateUsername(username: string, maxBytes: number): string {
  if (username.endsWith(CLONE_SUFFIX) && username.length > CLONE_SUFFIX.length) return username.slice(0, -CLONE_SUFFIX.length);
  const alternate = `${username}${CLONE_SUFFIX}`;
  if (Buffer.byteLength(alternate, 'utf8') > maxBytes) {
    throw new InvalidSecretError(
      'username',
      `The alternate user for "${username}" would be "${alternate}", longer than this engine's ${maxBytes}-byte limit: shorten the user name or use the pair strategy.`,
    );
  }
  return alternate;
}

export function pendingUsername(current: DatabaseSecret, engine: Engine): string {
  switch (current.strategy) {
    case 'single':
      return current.username;
    case 'alternating':
      return alternateUsername(current.username, engine.maxUsernameLength);
    case 'pair': {
      const [a, b] = current.usernames!;
      return current.username === a ? b : a;
    }
  }
}

/** Why a pending version is not what createSecret makes of AWSCURRENT (see pendingMismatch). */
export type PendingMismatch =
  | { kind: 'database' }
  | { kind: 'ssl' }
  | { kind: 'strategy' }
  | { kind: 'user'; expected: string };

/**
 * Whether `pending` is what createSecret makes of `current`: the same engine and server (host,
 * port, dbname), the same TLS choice, the same strategy (masterarn, usernames) and the user the
 * strategy rotates to. The confused-deputy check of setSecret, finishSecret and the breach's settle.
 */
export function pendingMismatch(pending: DatabaseSecret, current: DatabaseSecret, engine: Engine): PendingMismatch | undefined {
  if (pending.engine !== current.engine || pending.host !== current.host || pending.port !== current.port || (pending.dbname ?? null) !== (current.dbname ?? null)) {
    return { kind: 'database' };
  }
  if (pending.tls !== current.tls) return { kind: 'ssl' };
  if (pending.strategy !== current.strategy || pending.masterarn !== current.masterarn || JSON.stringify(pending.usernames ?? null) !== JSON.stringify(current.usernames ?? null)) {
    return { kind: 'strategy' };
  }
  const expected = pendingUsername(current, engine);
  return pending.username === expected ? undefined : { kind: 'user', expected };
}

export interface SetPasswordInput {
  engine: Engine;
  target: ConnectionTarget;
  /** The secret being rotated (its ARN): the owner an alternate user is marked for. */
  owner: string;
  current: DatabaseSecret;
  pending: DatabaseSecret;
  /** Loads the admin credential (alternating and pair strategies only). */
  admin: () => Promise<{ secret: AdminSecret; target: ConnectionTarget }>;
  /** Loads AWSPREVIOUS, when it exists and parses. */
  previous: () => Promise<DatabaseSecret | undefined>;
}

const credential = (s: { username: string; password: string }): Credential => ({ username: s.username, password: s.password });

export type SetOutcome = 'as-current' | 'already-set' | 'as-previous' | 'as-admin';

/**
 * Change the pending user's password to the pending one, as the strategy says. Safe to repeat:
 * a retried setSecret finds the password already set, or sets the same one again.
 */
export async function setPendingPassword(input: SetPasswordInput): Promise<SetOutcome> {
  const { engine, target, current, pending } = input;
  if (current.strategy === 'single') {
    // One connection in the common case: log in with AWSCURRENT and change the password there.
    if ((await engine.setOwnPassword(target, credential(current), pending.password)).ok) return 'as-current';
    // A retry after the change took effect: the pending password is the one that works now.
    if ((await engine.checkLogin(target, credential(pending))).ok) return 'already-set';
    // As AWS's templates: the current password may not be set yet if the last rotation failed after setSecret.
    const previous = await input.previous();
    if (previous && previous.username === pending.username && previous.host === pending.host && previous.port === pending.port) {
      if ((await engine.setOwnPassword(target, credential(previous), pending.password)).ok) return 'as-previous';
    }
    throw new LoginError(
      `Neither the AWSCURRENT nor the AWSPREVIOUS password of user "${pending.username}" logs in to ${pending.host}:${pending.port}: set a working password in AWSCURRENT, then rotate again.`,
    );
  }

  // Before the admin acts, prove the caller holds a working credential for this very database.
  // The admin secret is read and the admin logs in meanwhile; it runs nothing until the check passed.
  const currentLogsIn = engine.checkLogin(target, credential(current)).then((result) => {
    if (!result.ok) {
      throw new LoginError(
        `The AWSCURRENT credential (user "${current.username}") does not log in to ${current.host}:${current.port}; refusing to use the admin credential. Fix AWSCURRENT, then rotate again.`,
      );
    }
  });
  currentLogsIn.catch(() => undefined); // awaited by the engine (notBefore) or below
  const aligning = current.strategy === 'alternating' && pending.username.endsWith(CLONE_SUFFIX);
  // Started now, beside the admin's login, unless the engine can usually recognise its own alternate.
  const proof = once(() => holdsCredentialOf(input));
  if (!(aligning && engine.marksAlternates)) proof().catch(() => undefined);
  try {
    const admin = await input.admin();
    if (admin.secret.username === pending.username) throw refusal(input, 'admin');
    const options: AdminActionOptions = {
      notBefore: currentLogsIn,
      owner: input.owner,
      reference: current.strategy === 'pair' ? current.username : pending.username,
      authorize: (facts) => mayChange(facts, input, proof),
    };
    // The pending user is the one applications are not using; setting its password again on a retry is harmless.
    if (aligning) {
      await engine.alignAlternateUser(admin.target, credential(admin.secret), current.username, credential(pending), options);
    } else {
      await engine.setPasswordAsAdmin(admin.target, credential(admin.secret), pending.username, pending.password, options);
    }
  } catch (error) {
    await currentLogsIn; // a failed guard is the error worth reporting
    throw error;
  }
  return 'as-admin';
}

/**
 * The rule of who the admin credential may change, written once for every engine and strategy.
 * Given what the admin sees of the user about to change (`facts`, read before any change):
 * - never the admin's own user, nor a user holding more than the user the secret rotates;
 * - a user that does not exist yet may be created (the alternate of a proven base user);
 * - an existing user only if the secret proves it controls it now: a credential of that user in
 *   this secret logs in (AWSPREVIOUS, or on a retry the pending one), or it is an alternate that
 *   rotation made from this base for this very secret (engines that can mark one).
 * AWSCURRENT logging in (the notBefore gate) proves control of the user the secret names.
 */
export async function mayChange(facts: UserFacts, input: SetPasswordInput, proof: () => Promise<boolean>): Promise<void> {
  if (facts.isAdmin) throw refusal(input, 'admin');
  if (!facts.exists) return;
  if (facts.exceedsReference) throw refusal(input, 'privileged');
  if (facts.madeByRotation) return;
  if (await proof()) return;
  throw refusal(input, 'unproven');
}

function refusal({ current, pending, owner }: SetPasswordInput, why: 'admin' | 'privileged' | 'unproven'): GuardError {
  const user = `"${pending.username}"`;
  if (why === 'admin') {
    return new GuardError(`Refusing to change ${user}: it is the admin's own user. The admin credential never changes itself through a rotated secret; fix "username"/"usernames" of ${owner}.`);
  }
  if (why === 'privileged') {
    const bound = current.strategy === 'pair' ? current.username : current.strategy === 'alternating' && pending.username.endsWith(CLONE_SUFFIX) ? current.username : pending.username;
    return new GuardError(
      `Refusing to change ${user}: it holds attributes, roles or privileges that "${bound}" does not, and the admin never changes a user more privileged than the one a secret rotates. Give both users the same privileges, or rotate ${user} with its own secret.`,
    );
  }
  const bootstrap = `store its current credential as AWSPREVIOUS (PutSecretValue it, then the AWSCURRENT one) and rotate again`;
  if (current.strategy === 'pair') {
    return new GuardError(
      `Pre-created pair: AWSPREVIOUS holds no working credential of ${user}, so there is no proof that this secret controls that user; refusing to change its password. To bootstrap the pair, ${bootstrap}.`,
    );
  }
  if (pending.username.endsWith(CLONE_SUFFIX)) {
    return new GuardError(
      `Alternating users: ${user} already exists, but this secret holds no working credential of it (AWSPREVIOUS) and rotation did not make it for this secret; refusing to take it over (another secret or team may use it). If it is this secret's alternate, ${bootstrap}; otherwise drop or rename it, or use the pair strategy.`,
    );
  }
  return new GuardError(
    `Alternating users: AWSCURRENT is "${current.username}", so this rotation would reset ${user}, but AWSPREVIOUS holds no working credential of ${user}: no proof that this secret controls it; refusing. If ${user} is this secret's base user, ${bootstrap}.`,
  );
}

/**
 * Whether this secret holds a working credential of the pending user: its AWSPREVIOUS (same user
 * and server) logs in, or — on a retried setSecret — its pending one already does.
 */
async function holdsCredentialOf({ engine, target, pending, previous }: SetPasswordInput): Promise<boolean> {
  const last = await previous();
  if (last && last.username === pending.username && last.host === pending.host && last.port === pending.port && (last.dbname ?? null) === (pending.dbname ?? null)) {
    if ((await engine.checkLogin(target, credential(last))).ok) return true;
  }
  return (await engine.checkLogin(target, credential(pending))).ok;
}

/** A promise-returning function that runs at most once. */
function once<T>(run: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => (started ??= run());
}
