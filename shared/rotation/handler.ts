import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { createSecretsManagerClient } from '../aws/secrets-manager';
import type { Engine } from '../engines/types';
import { readRotationConfig, type RotationConfig } from './config';
import { parseRotationEvent } from './event';
import { runStep, type StepResult } from './protocol';
import type { EngineContract } from './secret';
import type { AdminEndpointLookup } from './strategies';
import { SecretsApi } from './secrets-api';

export interface RotationHandlerOptions {
  serviceName: string;
  engine: Engine;
  contract: EngineContract;
}

export type RotationHandler = (event: unknown, context?: Context) => Promise<{ step: string; result: StepResult }>;

/**
 * A rotation function's handler: parse the event at the edge, build the clients once per
 * container, run the step, log what happened (never a secret value) and rethrow failures so
 * that Secrets Manager records the step as failed and retries the rotation.
 */
export function createRotationHandler({ serviceName, engine, contract }: RotationHandlerOptions): RotationHandler {
  const logger = new Logger({ serviceName });
  const tracer = new Tracer({ serviceName });
  type Parts = { config: RotationConfig; secrets: SecretsApi; adminEndpoint: AdminEndpointLookup };
  let parts: Parts | undefined;

  const setup = (): Parts => {
    if (!parts) {
      const config = readRotationConfig(process.env, { excludeCharacters: engine.defaultExcludeCharacters });
      const client = createSecretsManagerClient(tracer, config.secretsManagerEndpoint);
      // RDS-managed admin secrets (username and password only): host, port and engine from the RDS
      // API, loaded only when such a secret is met.
      const adminEndpoint: AdminEndpointLookup = async (adminArn) => {
        const { createRdsAdminLookup, createRdsClient } = await import('../aws/rds');
        return createRdsAdminLookup({ rds: () => createRdsClient(tracer), secrets: client })(adminArn);
      };
      parts = { config, secrets: new SecretsApi(client), adminEndpoint };
    }
    return parts;
  };

  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      const request = parseRotationEvent(event);
      logger.appendKeys({ secretId: request.secretId, step: request.step, versionId: request.token });
      const { config, secrets, adminEndpoint } = setup();
      const started = performance.now();
      const result = await runStep(request, { secrets, engine, contract, config, log: logger, adminEndpoint });
      logger.info('Rotation step succeeded', { result, durationMs: Math.round(performance.now() - started) });
      return { step: request.step, result };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      logger.error('Rotation step failed', { errorName: error.name, errorMessage: error.message });
      throw error;
    } finally {
      logger.removeKeys(['secretId', 'step', 'versionId']);
    }
  };
}
