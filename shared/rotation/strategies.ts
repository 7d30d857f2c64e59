import type { ConnectionTarget, Credential, Engine } from '../engines/types';
import { GuardError, InvalidSecretError, LoginError } from './errors';
import type { AdminSecret, DatabaseSecret } from './secret';

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

export interface SetPasswordInput {
  engine: Engine;
  target: ConnectionTarget;
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
  // A pre-created pair: the admin will set the OTHER user's password, so the writer of the secret
  // must also prove control of that user (else any user of the server could be named in "usernames").
  const guards = current.strategy === 'pair' ? Promise.all([currentLogsIn, provePairControl(input)]) : currentLogsIn;
  guards.catch(() => undefined); // awaited below, whatever happens first
  try {
    const admin = await input.admin();
    const options = { notBefore: guards };
    // The pending user is the one applications are not using; setting its password again on a retry is harmless.
    if (current.strategy === 'alternating' && pending.username.endsWith(CLONE_SUFFIX)) {
      await engine.alignAlternateUser(admin.target, credential(admin.secret), current.username, credential(pending), options);
    } else {
      await engine.setPasswordAsAdmin(admin.target, credential(admin.secret), pending.username, pending.password, options);
    }
  } catch (error) {
    await guards; // a failed guard is the error worth reporting
    throw error;
  }
  return 'as-admin';
}

/**
 * Pair strategy: the pending user's last credential (AWSPREVIOUS) must log in — or, on a retried
 * setSecret, its pending one already does. The first rotation of a pair therefore needs the other
 * user's credential stored as AWSPREVIOUS (PutSecretValue it, then the current one).
 */
async function provePairControl({ engine, target, pending, previous }: SetPasswordInput): Promise<void> {
  const last = await previous();
  if (last && last.username === pending.username && last.host === pending.host && last.port === pending.port) {
    if ((await engine.checkLogin(target, credential(last))).ok) return;
  }
  if ((await engine.checkLogin(target, credential(pending))).ok) return;
  throw new GuardError(
    `Pre-created pair: AWSPREVIOUS holds no working credential of "${pending.username}", so there is no proof that this secret controls that user; refusing to change its password. Store its current credential as AWSPREVIOUS (PutSecretValue it, then the AWSCURRENT one) and rotate again.`,
  );
}

/** Where an admin secret that holds only username and password administers (RDS-managed admin secrets). */
export interface AdminEndpoint {
  host: string;
  port: number;
  engine: string;
  /** Other host names of the same instance or cluster (reader and custom endpoints, members, read replicas). */
  aliases: string[];
  /** The RDS instance or cluster, for messages and break-glass. */
  resource: { kind: 'instance' | 'cluster'; id: string };
}

/**
 * Finds the endpoint of an admin secret from outside the secret (the RDS API): from its tags, or,
 * when `adminHost` is given, from that RDS host name. Undefined when neither names an RDS resource.
 */
export type AdminEndpointLookup = (adminSecretId: string, adminHost?: string) => Promise<AdminEndpoint | undefined>;

/**
 * An admin secret without host gets it from `lookup` (RDS-managed admin secrets), as AWS's templates
 * do. An admin secret whose host differs from the rotated secret's asks `lookup` about that host,
 * so a reader endpoint or read replica of the admin's instance or cluster is accepted (AWS's
 * templates do the same). Returns the accepted aliases of the admin's server.
 */
export async function resolveAdminHost(
  admin: AdminSecret,
  adminArn: string,
  lookup?: AdminEndpointLookup,
  rotatedHost?: string,
): Promise<{ admin: AdminSecret; aliases: string[] }> {
  if (!lookup) return { admin, aliases: [] };
  if (admin.host !== undefined) {
    if (rotatedHost === undefined || admin.host === rotatedHost) return { admin, aliases: [] };
    // A failed lookup only means no aliases: the guard then refuses the mismatch, as without RDS.
    const endpoint = await lookup(adminArn, admin.host).catch(() => undefined);
    // Only aliases of the very server the admin secret names: the admin's host must be its endpoint.
    return { admin, aliases: endpoint && endpoint.host === admin.host ? endpoint.aliases : [] };
  }
  const endpoint = await lookup(adminArn);
  if (!endpoint) return { admin, aliases: [] };
  return { admin: { ...admin, host: endpoint.host, port: endpoint.port, engine: endpoint.engine }, aliases: endpoint.aliases };
}

/**
 * The admin must administer the same database server the rotated secret names (confused-deputy
 * guard). `aliases` are other names of the admin's server verified through the RDS API (reader
 * endpoints, read replicas): a rotated secret may name one of them, and the admin then acts on
 * its own host. Returns where the admin connects.
 */
export function checkAdminHost(admin: AdminSecret, current: DatabaseSecret, adminArn: string, aliases: readonly string[] = []): { host: string; port: number } {
  if (admin.host === undefined) {
    throw new GuardError(
      `The admin secret ${adminArn} has no "host", so it cannot be matched to ${current.host}: add host and port to it, or, for an RDS-managed admin secret, let the RDS lookup find them (tag aws:rds:primaryDBInstanceArn or aws:rds:primaryDBClusterArn).`,
    );
  }
  if (admin.host === current.host && (admin.port === undefined || admin.port === current.port)) return { host: current.host, port: current.port };
  if (aliases.includes(current.host) && admin.port !== undefined) return { host: admin.host, port: admin.port };
  throw new GuardError(
    `The admin secret ${adminArn} is for ${admin.host}:${admin.port ?? current.port}, not ${current.host}:${current.port}: "masterarn" must name the admin of the same server.`,
  );
}
