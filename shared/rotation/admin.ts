// The admin ("master") credential, handled in one place for rotation and breach: reading and
// parsing the admin secret, finding its server (the secret's host, or the RDS API for an
// RDS-managed admin secret), the confused-deputy check that it administers the very server a
// rotated secret names, and the TLS the admin connects with (never weaker than that secret asks).

import { GuardError } from './errors';
import { parseHost, parseObject, parsePort, parseTls, optionalText, requiredText, type DatabaseSecret, type TlsPreference } from './secret';

/** The admin ("master") secret: only username and password are required (RDS-managed ones have no more). */
export interface AdminSecret {
  username: string;
  password: string;
  host?: string;
  port?: number;
  engine?: string;
  tls: TlsPreference;
}

export function parseAdminSecret(secretString: string | undefined, what: string): AdminSecret {
  const raw = parseObject(secretString, what);
  const host = raw['host'] === undefined ? undefined : parseHost(raw, what);
  const port = parsePort(raw, what);
  const engine = optionalText(raw, 'engine', what);
  return {
    username: requiredText(raw, 'username', what),
    password: requiredText(raw, 'password', what),
    tls: parseTls(raw, what),
    ...(host === undefined ? {} : { host }),
    ...(port === undefined ? {} : { port }),
    ...(engine === undefined ? {} : { engine }),
  };
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

/** Where and how the admin acts for a rotated secret. */
export interface AdminAccess {
  arn: string;
  /** The admin secret, with host, port and engine from the RDS API when it had none. */
  secret: AdminSecret;
  /** Where the admin connects: the rotated secret's host, or its own host when that one is an RDS alias. */
  home: { host: string; port: number };
  /** Never weaker than the rotated secret asks: plaintext only if both say so. */
  tls: TlsPreference;
  /** Other host names of the admin's instance or cluster the RDS API confirmed. */
  aliases: string[];
  /** The admin secret named its host itself (not found through the RDS API). */
  storedHost: boolean;
}

/**
 * Reads the admin secret `arn` (its AWSCURRENT value through `read`), resolves its server and checks
 * that it administers the server `rotated` names. Throws InvalidSecretError or GuardError.
 */
export async function loadAdmin(
  arn: string,
  rotated: DatabaseSecret,
  read: (arn: string) => Promise<string | undefined>,
  lookup?: AdminEndpointLookup,
): Promise<AdminAccess> {
  const stored = parseAdminSecret(await read(arn), `The admin secret ${arn}`);
  const { admin, aliases } = await resolveAdminHost(stored, arn, lookup, rotated.host);
  const home = checkAdminHost(admin, rotated, arn, aliases);
  const tls: TlsPreference = admin.tls === 'plaintext' && rotated.tls === 'plaintext' ? 'plaintext' : 'verify';
  return { arn, secret: admin, home, tls, aliases, storedHost: stored.host !== undefined };
}
