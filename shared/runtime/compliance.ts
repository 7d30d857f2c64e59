import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { createClient } from '../aws/clients';

/** The compliance scan's clients, built once per container (ListSecrets' 100 calls/s and Security Hub's 10 imports/s: the one adaptive retry policy). */
export function createComplianceClients(tracer: Tracer | undefined, endpoint?: string): { secretsManager: SecretsManagerClient; securityHub: SecurityHubClient } {
  return { secretsManager: createClient(SecretsManagerClient, { tracer, endpoint }), securityHub: createClient(SecurityHubClient, { tracer }) };
}
