import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Clients built once per container. Adaptive retry: ListSecrets is limited to 100 requests/s per
 * account and Region and shared with every other tool listing secrets; the SDK's adaptive mode backs
 * off on ThrottlingException and rate-limits the following calls itself.
 */
export function createComplianceClients(tracer: Tracer | undefined, endpoint?: string): { secretsManager: SecretsManagerClient; securityHub: SecurityHubClient } {
  const secretsManager = new SecretsManagerClient({ retryMode: 'adaptive', maxAttempts: 8, ...(endpoint ? { endpoint } : {}) });
  const securityHub = new SecurityHubClient({ retryMode: 'adaptive', maxAttempts: 8 });
  return tracer
    ? { secretsManager: tracer.captureAWSv3Client(secretsManager), securityHub: tracer.captureAWSv3Client(securityHub) }
    : { secretsManager, securityHub };
}
