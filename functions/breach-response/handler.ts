import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { createRdsAdminLookup, createRdsClient, rdsResourceOfSecret, resetMasterPassword } from '../../shared/aws/rds';
import { BreachSecretsApi, runBreach, type AuditLog, type BreachDeps, type BreachReport, type EngineChoice, type RunBreachOptions } from '../../shared/breach';
import { mysqlEngine } from '../../shared/engines/mysql';
import { postgresql } from '../../shared/engines/postgresql';
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
      await resetMasterPassword(rdsClient(), resource, managed ? { managed: true } : { managed: false, password: admin.password });
      return `${managed ? 'RotateMasterUserPassword' : 'MasterUserPassword set to the stored admin password'} on RDS ${resource.kind} ${resource.id}`;
    },
  };
}

const serviceName = 'breach-response';
const logger = new Logger({ serviceName });
const tracer = new Tracer({ serviceName });
let deps: BreachDeps | undefined;

/**
 * On-demand breach response (serverless invoke, the console, or an EventBridge rule):
 * `{"reason", "secretIds" | "selector", "endSessions"?, "dryRun"?, "concurrency"?, "rotationTimeoutMs"?, "breakGlass"?}`.
 * An invalid request fails the invocation before any secret is read. Per-secret failures do not:
 * the report lists them (`failed` > 0), so that an asynchronous invocation is not retried whole.
 */
export async function handler(event: unknown, context?: Context, options: RunBreachOptions = {}): Promise<BreachReport> {
  if (context) logger.addContext(context);
  try {
    deps ??= createBreachDeps({ log: logger, tracer });
    const report = await runBreach(event, deps, options);
    if (report.failed > 0) logger.error('Breach response left secrets unprotected', { failed: report.secrets.filter((s) => s.status === 'failed').map((s) => s.secretId) });
    return report;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    logger.error('Breach response failed', { errorName: error.name, errorMessage: error.message });
    throw error;
  }
}
