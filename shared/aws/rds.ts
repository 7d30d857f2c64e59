import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type DBInstance,
  RDSClient,
} from '@aws-sdk/client-rds';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AdminEndpoint, AdminEndpointLookup } from '../rotation/admin';
import { createClient } from './clients';

/**
 * RDS integration, as AWS's multi-user templates do it: an admin secret managed by RDS
 * (`rds!db-…`, `rds!cluster-…`) holds only username and password; its tags name the instance
 * (`aws:rds:primaryDBInstanceArn`) or cluster (`aws:rds:primaryDBClusterArn`) it administers, and
 * the RDS API gives host, port and engine. Reader endpoints, custom endpoints, member instances
 * and read replicas of that instance or cluster are returned as `aliases`: a rotated secret may
 * name any of them as its host (the admin then acts on the writer).
 */
const INSTANCE_TAG = 'aws:rds:primarydbinstancearn';
const CLUSTER_TAG = 'aws:rds:primarydbclusterarn';
const MAX_ARN = 256;

export class RdsLookupError extends Error {
  override readonly name = 'RdsLookupError';
}

export interface RdsResource {
  kind: 'instance' | 'cluster';
  /** ARN or identifier, as DescribeDBInstances/DescribeDBClusters accept it. */
  id: string;
}

/** The RDS instance or cluster an admin secret's tags name, or undefined when it names none. */
export async function rdsResourceOfSecret(secrets: SecretsManagerClient, secretId: string): Promise<RdsResource | undefined> {
  const { Tags = [] } = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  for (const [tag, kind] of [[INSTANCE_TAG, 'instance'], [CLUSTER_TAG, 'cluster']] as const) {
    const value = Tags.find((t) => t.Key?.toLowerCase() === tag)?.Value;
    if (value === undefined) continue;
    if (value.length === 0 || value.length > MAX_ARN) throw new RdsLookupError(`The tag ${tag} of ${secretId} is empty or longer than ${MAX_ARN} characters.`);
    return { kind, id: value };
  }
  return undefined;
}

const endpointOf = (i: DBInstance): string[] => (i.Endpoint?.Address ? [i.Endpoint.Address] : []);

async function instanceEndpoint(rds: RDSClient, id: string): Promise<AdminEndpoint> {
  const { DBInstances = [] } = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  const db = DBInstances[0];
  if (!db?.Endpoint?.Address || db.Endpoint.Port === undefined || !db.Engine) throw new RdsLookupError(`RDS instance ${id} has no endpoint yet (status ${db?.DBInstanceStatus ?? 'unknown'}).`);
  const replicas = db.ReadReplicaDBInstanceIdentifiers ?? [];
  const aliases: string[] = [];
  if (replicas.length > 0) {
    const out = await rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-instance-id', Values: replicas }] }));
    aliases.push(...(out.DBInstances ?? []).flatMap(endpointOf));
  }
  return { host: db.Endpoint.Address, port: db.Endpoint.Port, engine: db.Engine, aliases, resource: { kind: 'instance', id } };
}

async function clusterEndpoint(rds: RDSClient, id: string): Promise<AdminEndpoint> {
  const { DBClusters = [] } = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
  const cluster = DBClusters[0];
  if (!cluster?.Endpoint || cluster.Port === undefined || !cluster.Engine) throw new RdsLookupError(`RDS cluster ${id} has no endpoint yet (status ${cluster?.Status ?? 'unknown'}).`);
  const aliases = [cluster.ReaderEndpoint, ...(cluster.CustomEndpoints ?? [])].filter((h): h is string => typeof h === 'string' && h.length > 0);
  const members = (cluster.DBClusterMembers ?? []).map((m) => m.DBInstanceIdentifier).filter((m): m is string => typeof m === 'string');
  if (members.length > 0) {
    const out = await rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-instance-id', Values: members }] }));
    aliases.push(...(out.DBInstances ?? []).flatMap(endpointOf));
  }
  return { host: cluster.Endpoint, port: cluster.Port, engine: cluster.Engine, aliases, resource: { kind: 'cluster', id } };
}

/** Host, port, engine and accepted aliases of the RDS instance or cluster named by the admin secret's tags. */
export async function describeRdsResource(rds: RDSClient, resource: RdsResource): Promise<AdminEndpoint> {
  return resource.kind === 'instance' ? instanceEndpoint(rds, resource.id) : clusterEndpoint(rds, resource.id);
}

/**
 * The RDS instance or cluster an RDS endpoint host name belongs to, as AWS's templates read it:
 * the first label is the identifier; `<id>.cluster-<hash>.<region>.rds.amazonaws.com` is a cluster's
 * writer endpoint. Undefined for hosts that are not RDS endpoints (CNAMEs, proxies, other servers).
 */
export function rdsResourceOfHost(host: string): RdsResource | undefined {
  const labels = host.toLowerCase().split('.');
  if (labels.length < 5 || !/\.rds\.amazonaws\.com(\.cn)?$/.test(host.toLowerCase())) return undefined;
  const [id, second] = labels;
  if (!id || !second) return undefined;
  return { kind: second.startsWith('cluster-') && !second.startsWith('cluster-ro-') ? 'cluster' : 'instance', id };
}

/** The lookup the rotation core and the breach procedure take as a dependency. */
export function createRdsAdminLookup(deps: { rds: () => RDSClient; secrets: SecretsManagerClient }): AdminEndpointLookup {
  return async (adminSecretId, adminHost) => {
    const resource = adminHost === undefined ? await rdsResourceOfSecret(deps.secrets, adminSecretId) : rdsResourceOfHost(adminHost);
    return resource ? describeRdsResource(deps.rds(), resource) : undefined;
  };
}

/**
 * Break-glass: the stored admin credential no longer logs in. A master password RDS manages
 * (ManageMasterUserPassword) is rotated by RDS (RotateMasterUserPassword); otherwise the master
 * password is set back to the stored one, so that the stored admin credential works again.
 * Applied immediately; RDS takes a short while to apply it (the caller waits for a login).
 */
export async function resetMasterPassword(rds: RDSClient, resource: RdsResource, change: { managed: true } | { managed: false; password: string }): Promise<void> {
  const password = change.managed ? { RotateMasterUserPassword: true } : { MasterUserPassword: change.password };
  if (resource.kind === 'instance') {
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: resource.id, ApplyImmediately: true, ...password }));
  } else {
    await rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: resource.id, ApplyImmediately: true, ...password }));
  }
}

/** The RDS client (adaptive retries), traced when a tracer is given; built only when needed. */
export function createRdsClient(tracer?: Tracer, region?: string): RDSClient {
  return createClient(RDSClient, { tracer, region });
}
