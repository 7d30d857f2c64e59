/**
 * Break-glass IAM only covers RDS instances and clusters tagged CredentialRotationBreakGlass=<breach
 * function name>. A database without the tag is refused by IAM; the breach report must then say
 * what is missing and how to fix it, not only "AccessDenied".
 */
import { ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBreachDeps } from '../../../shared/runtime/breach';

const rds = mockClient(RDSClient);
const sm = mockClient(SecretsManagerClient);
const ADMIN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/orders/admin-AbCdEf';
const DB = 'arn:aws:rds:us-east-1:123456789012:db:orders';

beforeEach(() => {
  rds.reset();
  sm.reset();
  sm.on(DescribeSecretCommand).resolves({ ARN: ADMIN, Tags: [{ Key: 'aws:rds:primaryDBInstanceArn', Value: DB }] });
});

describe('break-glass on an RDS instance the role may not modify', () => {
  const deps = () =>
    createBreachDeps({ env: { AWS_LAMBDA_FUNCTION_NAME: 'credential-rotation-prod-breachResponse' }, log: { info: () => undefined, error: () => undefined }, client: new SecretsManagerClient({ region: 'us-east-1' }), region: 'us-east-1' });

  it('names the missing tag and the value to set', async () => {
    rds.on(ModifyDBInstanceCommand).rejects(
      Object.assign(new Error(`User: arn:aws:sts::123456789012:assumed-role/breach/credential-rotation-prod-breachResponse is not authorized to perform: rds:ModifyDBInstance on resource: ${DB} because no identity-based policy allows the rds:ModifyDBInstance action`), { name: 'AccessDenied' }),
    );
    const attempt = deps().resetAdmin!(ADMIN, { username: 'admin', password: 'stored', tls: 'verify' });
    await expect(attempt).rejects.toThrow(/CredentialRotationBreakGlass=credential-rotation-prod-breachResponse/);
    await expect(deps().resetAdmin!(ADMIN, { username: 'admin', password: 'stored', tls: 'verify' })).rejects.toThrow(new RegExp(`RDS instance ${DB}`));
  });

  it('other errors pass unchanged', async () => {
    rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error('DB instance is not in available state'), { name: 'InvalidDBInstanceStateFault' }));
    await expect(deps().resetAdmin!(ADMIN, { username: 'admin', password: 'stored', tls: 'verify' })).rejects.toThrow('DB instance is not in available state');
  });
});
