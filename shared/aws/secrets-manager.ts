import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The Secrets Manager client, built once per container and traced. `endpoint` is AWS's
 * SECRETS_MANAGER_ENDPOINT when set; otherwise the SDK resolves it (including
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, which points it at the local sandbox).
 */
export function createSecretsManagerClient(tracer: Tracer, endpoint?: string): SecretsManagerClient {
  // Adaptive retry backs off on ThrottlingException, which rotation storms can trigger.
  const client = new SecretsManagerClient({ retryMode: 'adaptive', maxAttempts: 5, ...(endpoint ? { endpoint } : {}) });
  return tracer.captureAWSv3Client(client);
}
