// The breach procedure's wiring, for the breach-response function, the operator CLI, the demo and
// the benchmark: Secrets Manager, the engines (from the registry), TLS settings, RDS lookup and
// break-glass.

import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createClient } from '../aws/clients';
import { createRdsAdminLookup, createRdsClient, rdsResourceOfSecret, resetMasterPassword } from '../aws/rds';
import { BreachSecretsApi, readBreachPacing, type AuditLog, type BreachDeps } from '../breach';
import { engineFor } from '../engines/registry';
import { readRotationConfig } from '../rotation/config';

export interface BreachDepsOptions {
  env?: NodeJS.ProcessEnv;
  log: AuditLog;
  /** A client already configured (CLI: --region/--profile/--endpoint); otherwise built from the environment. */
  client?: SecretsManagerClient;
  region?: string;
  tracer?: Tracer;
}

/** Wires the breach procedure: Secrets Manager, the engines, TLS settings, RDS lookup and break-glass. */
export function createBreachDeps({ env = process.env, log, client, region, tracer }: BreachDepsOptions): BreachDeps {
  const config = readRotationConfig(env, { excludeCharacters: '' });
  const secretsClient = client ?? createClient(SecretsManagerClient, { tracer, endpoint: config.secretsManagerEndpoint, region });
  let rds: ReturnType<typeof createRdsClient> | undefined;
  const rdsClient = (): ReturnType<typeof createRdsClient> => (rds ??= createRdsClient(tracer, region));
  return {
    secrets: new BreachSecretsApi(secretsClient, readBreachPacing(env)),
    engineFor,
    db: { connectTimeoutMs: config.connectTimeoutMs, ...(config.caBundle ? { caBundle: config.caBundle } : {}) },
    log,
    adminEndpoint: createRdsAdminLookup({ rds: rdsClient, secrets: secretsClient }),
    async resetAdmin(adminArn, admin) {
      const resource = await rdsResourceOfSecret(secretsClient, adminArn);
      if (!resource) throw new Error(`Break-glass needs the admin secret ${adminArn} tagged aws:rds:primaryDBInstanceArn or aws:rds:primaryDBClusterArn.`);
      const managed = /(^|:secret:)rds!/.test(adminArn);
      try {
        await resetMasterPassword(rdsClient(), resource, managed ? { managed: true } : { managed: false, password: admin.password });
      } catch (err) {
        throw breakGlassRefusal(err, resource, env['AWS_LAMBDA_FUNCTION_NAME']);
      }
      return `${managed ? 'RotateMasterUserPassword' : 'MasterUserPassword set to the stored admin password'} on RDS ${resource.kind} ${resource.id}`;
    },
  };
}

/** The tag the stack's break-glass IAM requires on an RDS instance or cluster (serverless.yml, RdsMasterPassword). */
export const BREAK_GLASS_TAG = 'CredentialRotationBreakGlass';

/** An IAM refusal of ModifyDBInstance/ModifyDBCluster, explained: which tag is missing, and on what. */
function breakGlassRefusal(err: unknown, resource: { kind: 'instance' | 'cluster'; id: string }, functionName: string | undefined): unknown {
  const e = err as { name?: string; message?: string };
  const denied = e?.name === 'AccessDenied' || e?.name === 'AccessDeniedException' || /not authorized to perform/i.test(e?.message ?? '');
  if (!denied) return err;
  const value = functionName ?? '<breach function name>';
  return new Error(
    `Break-glass refused by IAM on RDS ${resource.kind} ${resource.id} (${e.message ?? e.name}). The stack's breach role may reset master passwords only of RDS instances and clusters tagged ${BREAK_GLASS_TAG}=${value} (and only with breachBreakGlass=true): ` +
      `if the platform agrees to break-glass on this database, tag it (aws rds add-tags-to-resource --resource-name <its ARN> --tags Key=${BREAK_GLASS_TAG},Value=${value}) and run again; otherwise reset the master password by hand. (From the CLI with operator credentials, the operator's own IAM policy applies instead.)`,
  );
}

