import type { StoredSecret } from './model';
import { versionsToStages } from './store';

/** JSON 1.1 sends timestamps as epoch seconds. */
export const epochSeconds = (date: Date | undefined): number | undefined =>
  date === undefined ? undefined : date.getTime() / 1000;

/** Drop undefined members: AWS returns only the fields that hold a value. */
export function compact<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Fields DescribeSecret and ListSecrets share. */
function commonFields(secret: StoredSecret): Record<string, unknown> {
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    RotationEnabled: secret.rotationEnabled,
    RotationLambdaARN: secret.rotationLambdaArn,
    RotationRules: secret.rotationRules && Object.keys(secret.rotationRules).length > 0 ? secret.rotationRules : undefined,
    // LastRotatedDate is null while rotation is off (DescribeSecret docs).
    LastRotatedDate: secret.rotationEnabled ? epochSeconds(secret.lastRotatedDate) : undefined,
    LastChangedDate: epochSeconds(secret.lastChangedDate),
    LastAccessedDate: epochSeconds(secret.lastAccessedDate),
    DeletedDate: epochSeconds(secret.deletedDate),
    NextRotationDate: secret.rotationEnabled ? epochSeconds(secret.nextRotationDate) : undefined,
    Tags: secret.tags.length > 0 ? secret.tags.map((t) => ({ ...t })) : undefined,
    OwningService: secret.owningService,
    CreatedDate: epochSeconds(secret.createdDate),
    PrimaryRegion: secret.primaryRegion,
  };
}

export function describeView(secret: StoredSecret): Record<string, unknown> {
  return compact({ ...commonFields(secret), VersionIdsToStages: versionsToStages(secret) });
}

export function listEntryView(secret: StoredSecret): Record<string, unknown> {
  return compact({ ...commonFields(secret), SecretVersionsToStages: versionsToStages(secret) });
}
