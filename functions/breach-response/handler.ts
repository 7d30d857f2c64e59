import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { createRdsAdminLookup, createRdsClient, rdsResourceOfSecret, resetMasterPassword } from '../../shared/aws/rds';
import { BreachSecretsApi, runBreach, type AuditLog, type BreachDeps, type BreachReport, type EngineChoice, type RunBreachOptions } from '../../shared/breach';
import { mysqlEngine } from '../../shared/engines/mysql';
import { postgresql } from '../../shared/engines/postgresql';
import { lambdaInvokeRequester } from '../../shared/breach/requester';
import { readRotationConfig } from '../../shared/rotation/config';

/** The engine adapters the breach response drives, by the secret's `engine` field (as the rotation handlers accept them). */
const POSTGRES: EngineChoice = { engine: postgresql, contract: { engines: ['postgres', 'aurora-postgresql'], defaultPort: 5432 } };
const MYSQL: EngineChoice = { engine: mysqlEngine, contract: { engines: ['mysql', 'aurora-mysql', 'mariadb'], defaultPort: 3306 } };
export const breachEngineFor = (engineField: string): EngineChoice | undefined =>
  POSTGRES.contract.engines.includes(engineField) ? POSTGRES : MYSQL.contract.engines.includes(engineField) ? MYSQL : undefined;

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
  let sm = client;
  if (!sm) {
    sm = new SecretsManagerClient({ retryMode: 'adaptive', maxAttempts: 8, ...(config.secretsManagerEndpoint ? { endpoint: config.secretsManagerEndpoint } : {}), ...(region ? { region } : {}) });
    if (tracer) sm = tracer.captureAWSv3Client(sm);
  }
  const secretsClient = sm;
  let rds: ReturnType<typeof createRdsClient> | undefined;
  const rdsClient = (): ReturnType<typeof createRdsClient> => (rds ??= createRdsClient(tracer, region));
  return {
    secrets: new BreachSecretsApi(secretsClient),
    engineFor: breachEngineFor,
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

const serviceName = 'breach-response';
const logger = new Logger({ serviceName });
const tracer = new Tracer({ serviceName });
let deps: BreachDeps | undefined;

/**
 * On-demand breach response (serverless invoke, the console, or an EventBridge rule):
 * `{"reason", "secretIds" | "selector", "claimedBy"?, "endSessions"?, "dryRun"?, "concurrency"?, "rotationTimeoutMs"?, "breakGlass"?}`.
 * An invalid request fails the invocation before any secret is read. Per-secret failures do not:
 * the report lists them (`failed` > 0), so that an asynchronous invocation is not retried whole.
 */
export async function handler(event: unknown, context?: Context, options: RunBreachOptions = {}): Promise<BreachReport> {
  if (context) logger.addContext(context);
  try {
    deps ??= createBreachDeps({ log: logger, tracer });
    // A direct invoke carries no caller identity: the requester is recorded as unverified (with
    // where CloudTrail has it), and the event's requestedBy/claimedBy stays a claim.
    const report = await runBreach(event, deps, { ...options, requester: lambdaInvokeRequester(context) });
    if (report.failed > 0) logger.error('Breach response left secrets unprotected', { failed: report.secrets.filter((s) => s.status === 'failed').map((s) => s.secretId) });
    return report;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    logger.error('Breach response failed', { errorName: error.name, errorMessage: error.message });
    throw error;
  }
}
