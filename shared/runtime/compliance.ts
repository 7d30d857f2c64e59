import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { createClient } from '../aws/clients';

/**
 * The compliance scan's clients, built once per container (ListSecrets' 100 calls/s and Security
 * Hub's 10 imports/s: the one adaptive retry policy; the scan paces ListSecrets itself).
 * The Secrets Manager client makes only ListSecrets calls. Its SDK logger middleware is taken out:
 * with no logger configured it still copies every response through the sensitive-data filter
 * (a whole page of 100 secrets per call), about a sixth of the scanner's CPU per page.
 */
export function createComplianceClients(tracer: Tracer | undefined, endpoint?: string): { secretsManager: SecretsManagerClient; securityHub: SecurityHubClient } {
  const secretsManager = createClient(SecretsManagerClient, { endpoint });
  secretsManager.middlewareStack.remove('loggerMiddleware');
  return { secretsManager: tracer ? tracer.captureAWSv3Client(secretsManager) : secretsManager, securityHub: createClient(SecurityHubClient, { tracer }) };
}
