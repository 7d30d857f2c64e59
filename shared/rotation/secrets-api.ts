import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export interface SecretMetadata {
  arn: string;
  /** Absent when rotation was never configured. */
  rotationEnabled?: boolean;
  versions: Record<string, string[]>;
}

/**
 * The few Secrets Manager calls rotation makes, and nothing else: every call the core makes
 * goes through here, which keeps the count per rotation visible.
 */
export class SecretsApi {
  constructor(private readonly client: SecretsManagerClient) {}

  async describe(secretId: string): Promise<SecretMetadata> {
    const out = await this.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    return {
      arn: out.ARN ?? secretId,
      versions: out.VersionIdsToStages ?? {},
      ...(out.RotationEnabled === undefined ? {} : { rotationEnabled: out.RotationEnabled }),
    };
  }

  /** The SecretString of a version, or undefined when that version has no value (yet). */
  async value(secretId: string, stage: string, versionId?: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage, ...(versionId ? { VersionId: versionId } : {}) }));
      return out.SecretString;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  async putPending(secretId: string, token: string, secretString: string, rotationToken?: string): Promise<void> {
    await this.client.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        SecretString: secretString,
        VersionStages: [AWSPENDING],
        ...(rotationToken ? { RotationToken: rotationToken } : {}),
      }),
    );
  }

  async moveCurrent(secretId: string, toVersion: string, fromVersion: string | undefined): Promise<void> {
    await this.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: AWSCURRENT,
        MoveToVersionId: toVersion,
        ...(fromVersion ? { RemoveFromVersionId: fromVersion } : {}),
      }),
    );
  }

  async removePending(secretId: string, fromVersion: string): Promise<void> {
    await this.client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: AWSPENDING, RemoveFromVersionId: fromVersion }));
  }
}

export const versionWith = (versions: Record<string, string[]>, stage: string): string | undefined =>
  Object.entries(versions).find(([, stages]) => stages.includes(stage))?.[0];
