import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  type DescribeDBClustersCommandOutput,
  type DescribeDBInstancesCommandOutput,
} from '@aws-sdk/client-rds';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createRdsAdminLookup, rdsResourceOfHost, rdsResourceOfSecret, RdsLookupError, resetMasterPassword } from '../../../shared/aws/rds';
import type { ConnectionTarget } from '../../../shared/engines/types';
import { readRotationConfig } from '../../../shared/rotation/config';
import { GuardError } from '../../../shared/rotation/errors';
import { runStep } from '../../../shared/rotation/protocol';
import { SecretsApi } from '../../../shared/rotation/secrets-api';
import { checkAdminHost, resolveAdminHost } from '../../../shared/rotation/admin';
import { PROOF_FIELD, pendingProof } from '../../../shared/rotation/proof';
import { FakeEngine } from '../../support/fake-engine';

const rds = mockClient(RDSClient);
const sm = mockClient(SecretsManagerClient);
const ADMIN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-3f2a9c1e-5b7d-4e0f-9a1b-2c3d4e5f6a7b-Ab12Cd';
const CLUSTER_ADMIN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-8e7d6c5b-4a3b-2c1d-0e9f-8a7b6c5d4e3f-Ef34Gh';
const INSTANCE_ARN = 'arn:aws:rds:eu-west-1:123456789012:db:orders-primary';
const CLUSTER_ARN = 'arn:aws:rds:eu-west-1:123456789012:cluster:billing';

// Recorded shapes (trimmed to the fields read; as the SDK returns them, e.g. `aws rds describe-db-instances`).
const ordersPrimary: DescribeDBInstancesCommandOutput = {
  $metadata: { httpStatusCode: 200 },
  DBInstances: [
    {
      DBInstanceIdentifier: 'orders-primary',
      DBInstanceArn: INSTANCE_ARN,
      DBInstanceClass: 'db.t4g.medium',
      Engine: 'postgres',
      EngineVersion: '16.4',
      DBInstanceStatus: 'available',
      MasterUsername: 'postgres',
      Endpoint: { Address: 'orders-primary.c9akciq32.eu-west-1.rds.amazonaws.com', Port: 5432, HostedZoneId: 'Z29XKXDKYMONMX' },
      ReadReplicaDBInstanceIdentifiers: ['orders-replica-1'],
      MasterUserSecret: { SecretArn: ADMIN_ARN, SecretStatus: 'active', KmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c' },
    },
  ],
};
const ordersReplica: DescribeDBInstancesCommandOutput = {
  $metadata: { httpStatusCode: 200 },
  DBInstances: [
    {
      DBInstanceIdentifier: 'orders-replica-1',
      Engine: 'postgres',
      DBInstanceStatus: 'available',
      ReadReplicaSourceDBInstanceIdentifier: 'orders-primary',
      Endpoint: { Address: 'orders-replica-1.c9akciq32.eu-west-1.rds.amazonaws.com', Port: 5432, HostedZoneId: 'Z29XKXDKYMONMX' },
    },
  ],
};
const billingCluster: DescribeDBClustersCommandOutput = {
  $metadata: { httpStatusCode: 200 },
  DBClusters: [
    {
      DBClusterIdentifier: 'billing',
      DBClusterArn: CLUSTER_ARN,
      Engine: 'aurora-mysql',
      EngineVersion: '8.0.mysql_aurora.3.05.2',
      Status: 'available',
      Endpoint: 'billing.cluster-c9akciq32.eu-west-1.rds.amazonaws.com',
      ReaderEndpoint: 'billing.cluster-ro-c9akciq32.eu-west-1.rds.amazonaws.com',
      CustomEndpoints: ['billing-reports.cluster-custom-c9akciq32.eu-west-1.rds.amazonaws.com'],
      Port: 3306,
      MasterUsername: 'admin',
      DBClusterMembers: [
        { DBInstanceIdentifier: 'billing-1', IsClusterWriter: true, DBClusterParameterGroupStatus: 'in-sync', PromotionTier: 1 },
        { DBInstanceIdentifier: 'billing-2', IsClusterWriter: false, DBClusterParameterGroupStatus: 'in-sync', PromotionTier: 1 },
      ],
      MasterUserSecret: { SecretArn: CLUSTER_ADMIN_ARN, SecretStatus: 'active' },
    },
  ],
};
const billingMembers: DescribeDBInstancesCommandOutput = {
  $metadata: { httpStatusCode: 200 },
  DBInstances: [
    { DBInstanceIdentifier: 'billing-1', Engine: 'aurora-mysql', Endpoint: { Address: 'billing-1.c9akciq32.eu-west-1.rds.amazonaws.com', Port: 3306 } },
    { DBInstanceIdentifier: 'billing-2', Engine: 'aurora-mysql', Endpoint: { Address: 'billing-2.c9akciq32.eu-west-1.rds.amazonaws.com', Port: 3306 } },
  ],
};

const tagsOf = (arn: string) =>
  arn === ADMIN_ARN
    ? [{ Key: 'aws:secretsmanager:owningService', Value: 'rds' }, { Key: 'aws:rds:primaryDBInstanceArn', Value: INSTANCE_ARN }]
    : arn === CLUSTER_ADMIN_ARN
      ? [{ Key: 'aws:secretsmanager:owningService', Value: 'rds' }, { Key: 'aws:rds:primaryDBClusterArn', Value: CLUSTER_ARN }]
      : [{ Key: 'team', Value: 'orders' }];

beforeEach(() => {
  rds.reset();
  sm.reset();
  sm.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => ({ ARN: input.SecretId, Tags: tagsOf(input.SecretId) }));
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE_ARN }).resolves(ordersPrimary);
  rds.on(DescribeDBInstancesCommand, { Filters: [{ Name: 'db-instance-id', Values: ['orders-replica-1'] }] }).resolves(ordersReplica);
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: CLUSTER_ARN }).resolves(billingCluster);
  rds.on(DescribeDBInstancesCommand, { Filters: [{ Name: 'db-instance-id', Values: ['billing-1', 'billing-2'] }] }).resolves(billingMembers);
});

const lookup = () => createRdsAdminLookup({ rds: () => new RDSClient({ region: 'eu-west-1' }), secrets: new SecretsManagerClient({ region: 'eu-west-1' }) });

describe('RDS-managed admin secrets: host, port and engine from the instance or cluster named in the tags', () => {
  it('reads the instance or cluster tag (any case), and nothing for other secrets', async () => {
    const client = new SecretsManagerClient({ region: 'eu-west-1' });
    expect(await rdsResourceOfSecret(client, ADMIN_ARN)).toEqual({ kind: 'instance', id: INSTANCE_ARN });
    expect(await rdsResourceOfSecret(client, CLUSTER_ADMIN_ARN)).toEqual({ kind: 'cluster', id: CLUSTER_ARN });
    expect(await rdsResourceOfSecret(client, 'plain-admin')).toBeUndefined();
    sm.on(DescribeSecretCommand).resolves({ Tags: [{ Key: 'AWS:RDS:PRIMARYDBINSTANCEARN', Value: 'x'.repeat(257) }] });
    await expect(rdsResourceOfSecret(client, 'long')).rejects.toThrow(RdsLookupError);
  });

  it('instance: endpoint, port and engine, with its read replicas as accepted hosts', async () => {
    expect(await lookup()(ADMIN_ARN)).toEqual({
      host: 'orders-primary.c9akciq32.eu-west-1.rds.amazonaws.com',
      port: 5432,
      engine: 'postgres',
      aliases: ['orders-replica-1.c9akciq32.eu-west-1.rds.amazonaws.com'],
      resource: { kind: 'instance', id: INSTANCE_ARN },
    });
  });

  it('cluster: writer endpoint, with reader, custom and member endpoints as accepted hosts', async () => {
    const endpoint = await lookup()(CLUSTER_ADMIN_ARN);
    expect(endpoint).toMatchObject({ host: 'billing.cluster-c9akciq32.eu-west-1.rds.amazonaws.com', port: 3306, engine: 'aurora-mysql' });
    expect(endpoint!.aliases).toEqual([
      'billing.cluster-ro-c9akciq32.eu-west-1.rds.amazonaws.com',
      'billing-reports.cluster-custom-c9akciq32.eu-west-1.rds.amazonaws.com',
      'billing-1.c9akciq32.eu-west-1.rds.amazonaws.com',
      'billing-2.c9akciq32.eu-west-1.rds.amazonaws.com',
    ]);
  });

  it('an instance without endpoint yet is a clear error', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE_ARN }).resolves({ DBInstances: [{ DBInstanceIdentifier: 'orders-primary', DBInstanceStatus: 'creating' }] });
    await expect(lookup()(ADMIN_ARN)).rejects.toThrow(/no endpoint yet \(status creating\)/);
  });
});

describe('host guard with the RDS lookup', () => {
  const child = (host: string) => ({ engine: 'postgres', host, port: 5432, username: 'app', password: 'p', tls: 'verify' as const, strategy: 'alternating' as const, raw: {} });
  const admin = { username: 'postgres', password: 'm', tls: 'verify' as const };

  it('a reader endpoint or replica of the admin\'s server is accepted; the admin then acts on its own host', async () => {
    const { admin: resolved, aliases } = await resolveAdminHost(admin, ADMIN_ARN, lookup());
    expect(checkAdminHost(resolved, child('orders-replica-1.c9akciq32.eu-west-1.rds.amazonaws.com'), ADMIN_ARN, aliases)).toEqual({
      host: 'orders-primary.c9akciq32.eu-west-1.rds.amazonaws.com',
      port: 5432,
    });
    expect(checkAdminHost(resolved, child('orders-primary.c9akciq32.eu-west-1.rds.amazonaws.com'), ADMIN_ARN, aliases).host).toBe('orders-primary.c9akciq32.eu-west-1.rds.amazonaws.com');
    expect(() => checkAdminHost(resolved, child('evil.example.com'), ADMIN_ARN, aliases)).toThrow(GuardError);
  });

  it('an admin secret with its own RDS host: a read replica or reader endpoint of that server is accepted, found by host name', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-primary' }).resolves(ordersPrimary);
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'billing' }).resolves(billingCluster);
    const withHost = { ...admin, host: 'orders-primary.c9akciq32.eu-west-1.rds.amazonaws.com', port: 5432 };
    const replica = child('orders-replica-1.c9akciq32.eu-west-1.rds.amazonaws.com');
    const { aliases } = await resolveAdminHost(withHost, 'admin', lookup(), replica.host);
    expect(checkAdminHost(withHost, replica, 'admin', aliases)).toEqual({ host: withHost.host, port: 5432 });

    const clusterAdmin = { ...admin, host: 'billing.cluster-c9akciq32.eu-west-1.rds.amazonaws.com', port: 3306 };
    const reader = { ...child('billing.cluster-ro-c9akciq32.eu-west-1.rds.amazonaws.com'), port: 3306 };
    const fromCluster = await resolveAdminHost(clusterAdmin, 'admin', lookup(), reader.host);
    expect(checkAdminHost(clusterAdmin, reader, 'admin', fromCluster.aliases).host).toBe(clusterAdmin.host);

    // Another server's host stays refused, and no RDS call is made for the same host or non-RDS hosts.
    expect(() => checkAdminHost(withHost, child('billing-1.c9akciq32.eu-west-1.rds.amazonaws.com'), 'admin', aliases)).toThrow(GuardError);
    const calls = rds.commandCalls(DescribeDBInstancesCommand).length;
    await resolveAdminHost(withHost, 'admin', lookup(), withHost.host);
    await resolveAdminHost({ ...admin, host: 'db.internal.example' }, 'admin', lookup(), 'replica.internal.example');
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(calls);
  });

  it('reads instance and cluster identifiers from RDS host names, and nothing from other hosts', () => {
    expect(rdsResourceOfHost('orders-primary.c9akciq32.eu-west-1.rds.amazonaws.com')).toEqual({ kind: 'instance', id: 'orders-primary' });
    expect(rdsResourceOfHost('billing.cluster-c9akciq32.eu-west-1.rds.amazonaws.com')).toEqual({ kind: 'cluster', id: 'billing' });
    expect(rdsResourceOfHost('billing.cluster-ro-c9akciq32.eu-west-1.rds.amazonaws.com')).toEqual({ kind: 'instance', id: 'billing' });
    expect(rdsResourceOfHost('db.example.com')).toBeUndefined();
    expect(rdsResourceOfHost('localhost')).toBeUndefined();
  });

  it('without a lookup (or with a secret that names none) an admin without host is still refused', async () => {
    expect(() => checkAdminHost(admin, child('db'), 'a')).toThrow(/has no "host"/);
    const { admin: same } = await resolveAdminHost(admin, 'plain-admin', lookup());
    expect(same.host).toBeUndefined();
  });

  it('setSecret (alternating) with an RDS-managed admin secret aligns the clone on the writer', async () => {
    const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-app-AbCdEf';
    const TOKEN = 'a1b2c3d4-0000-4000-8000-000000000001';
    const host = 'orders-replica-1.c9akciq32.eu-west-1.rds.amazonaws.com';
    const current = { engine: 'postgres', host, port: 5432, username: 'app', password: 'current-pw', masterarn: ADMIN_ARN };
    // As createSecret wrote it: with the proof keyed by AWSCURRENT's password.
    const clone = { ...current, username: 'app_clone', password: 'new-pw' };
    const pending = { ...clone, [PROOF_FIELD]: pendingProof('current-pw', ARN, TOKEN, { ...clone, tls: 'verify', strategy: 'alternating' }) };
    sm.on(DescribeSecretCommand, { SecretId: ARN }).resolves({ ARN, RotationEnabled: true, VersionIdsToStages: { v0: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
    sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string; VersionStage?: string }) => ({
      SecretString: JSON.stringify(
        input.SecretId === ADMIN_ARN ? { username: 'postgres', password: 'master-pw' } : input.VersionStage === 'AWSPENDING' ? pending : current,
      ),
    }));
    sm.on(PutSecretValueCommand).resolves({});
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const engine = new FakeEngine({ app: 'current-pw', postgres: 'master-pw' });
    const adminTargets: string[] = [];
    const align = engine.alignAlternateUser.bind(engine);
    engine.alignAlternateUser = (target: ConnectionTarget, ...rest) => {
      adminTargets.push(target.host);
      return align(target, ...rest);
    };
    await runStep(
      { step: 'setSecret', secretId: ARN, token: TOKEN },
      {
        secrets: new SecretsApi(new SecretsManagerClient({ region: 'eu-west-1' })),
        engine,
        config: readRotationConfig({}, { excludeCharacters: '' }),
        log: { info: () => undefined, warn: () => undefined },
        adminEndpoint: lookup(),
      },
    );
    expect(engine.users.get('app_clone')).toBe('new-pw');
    expect(adminTargets).toEqual(['orders-primary.c9akciq32.eu-west-1.rds.amazonaws.com']);
  });
});

describe('break-glass master password reset', () => {
  it('managed master secret: RotateMasterUserPassword on the instance, applied immediately', async () => {
    rds.on(ModifyDBInstanceCommand).resolves({});
    await resetMasterPassword(new RDSClient({ region: 'eu-west-1' }), { kind: 'instance', id: INSTANCE_ARN }, { managed: true });
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0]!.args[0].input).toEqual({ DBInstanceIdentifier: INSTANCE_ARN, ApplyImmediately: true, RotateMasterUserPassword: true });
  });

  it('self-managed admin secret: the cluster master password is set back to the stored one', async () => {
    rds.on(ModifyDBClusterCommand).resolves({});
    await resetMasterPassword(new RDSClient({ region: 'eu-west-1' }), { kind: 'cluster', id: CLUSTER_ARN }, { managed: false, password: 'stored-pw' });
    expect(rds.commandCalls(ModifyDBClusterCommand)[0]!.args[0].input).toEqual({ DBClusterIdentifier: CLUSTER_ARN, ApplyImmediately: true, MasterUserPassword: 'stored-pw' });
  });
});
