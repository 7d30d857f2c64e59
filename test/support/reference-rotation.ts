import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { RotationEvent } from '../../local/secrets-manager';

/**
 * A database-free rotation function following AWS's generic template step by step, used to
 * exercise the sandbox's orchestration. `hooks` let a test fail or observe a step.
 */
export interface ReferenceRotationHooks {
  beforeStep?: (event: RotationEvent, client: SecretsManagerClient) => Promise<void> | void;
  /** Leave AWSPENDING on the new version after finishSecret, as AWS's templates do. */
  templateStyleFinish?: boolean;
  /** Skip moving AWSCURRENT in finishSecret (a broken function). */
  skipFinish?: boolean;
}

export function referenceRotation(endpoint: string, hooks: ReferenceRotationHooks = {}) {
  const client = new SecretsManagerClient({ endpoint, maxAttempts: 1 });
  return async (event: RotationEvent): Promise<void> => {
    const { SecretId, ClientRequestToken: token, Step } = event;
    await hooks.beforeStep?.(event, client);
    const meta = await client.send(new DescribeSecretCommand({ SecretId }));
    if (meta.RotationEnabled === false) throw new Error('rotation is not enabled');
    const stages = meta.VersionIdsToStages?.[token];
    if (!stages) throw new Error('token is not a version of the secret');
    if (stages.includes('AWSCURRENT')) return;
    if (!stages.includes('AWSPENDING')) throw new Error('token is not AWSPENDING');

    switch (Step) {
      case 'createSecret': {
        try {
          await client.send(new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' }));
          return;
        } catch (err) {
          if (!(err instanceof ResourceNotFoundException)) throw err;
        }
        const current = await client.send(new GetSecretValueCommand({ SecretId, VersionStage: 'AWSCURRENT' }));
        const { RandomPassword } = await client.send(new GetRandomPasswordCommand({ PasswordLength: 24, ExcludePunctuation: true }));
        const value = { ...(JSON.parse(current.SecretString ?? '{}') as object), password: RandomPassword };
        await client.send(
          new PutSecretValueCommand({
            SecretId,
            ClientRequestToken: token,
            SecretString: JSON.stringify(value),
            VersionStages: ['AWSPENDING'],
            RotationToken: event.RotationToken,
          }),
        );
        return;
      }
      case 'setSecret':
      case 'testSecret':
        return;
      case 'finishSecret': {
        if (hooks.skipFinish) return;
        const currentVersion = Object.entries(meta.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
        await client.send(
          new UpdateSecretVersionStageCommand({ SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: currentVersion }),
        );
        if (!hooks.templateStyleFinish) {
          await client.send(new UpdateSecretVersionStageCommand({ SecretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
        }
        return;
      }
    }
  };
}
