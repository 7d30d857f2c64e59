import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { createClient } from '../aws/clients';
import type { Engine } from '../engines/types';
import type { AdminEndpointLookup } from '../rotation/admin';
import { readRotationConfig, type RotationConfig } from '../rotation/config';
import { parseRotationEvent } from '../rotation/event';
import { runStep, type StepResult } from '../rotation/protocol';
import { SecretsApi } from '../rotation/secrets-api';

export type RotationHandler = (event: unknown, context?: Context) => Promise<{ step: string; result: StepResult }>;

/**
 * A rotation function's handler, for one engine: parse the event at the edge, build the clients
 * once per container, run the step, log what happened (never a secret value) and rethrow failures
 * so that Secrets Manager records the step as failed and retries the rotation.
 */
export function createRotationHandler(engine: Engine): RotationHandler {
  const serviceName = `rotate-${engine.name}`;
  const logger = new Logger({ serviceName });
  const tracer = new Tracer({ serviceName });
  type Parts = { config: RotationConfig; secrets: SecretsApi; adminEndpoint: AdminEndpointLookup };
  let parts: Parts | undefined;

  const setup = (): Parts => {
    if (!parts) {
      const config = readRotationConfig(process.env, { excludeCharacters: engine.defaultExcludeCharacters });
      const client = createClient(SecretsManagerClient, { tracer, endpoint: config.secretsManagerEndpoint });
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
      const result = await runStep(request, { secrets, engine, config, log: logger, adminEndpoint });
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
