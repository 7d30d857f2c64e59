import type { Operation } from './context';
import { listSecrets } from './list';
import { getRandomPassword } from './password';
import { cancelRotateSecret, rotateSecret } from './rotation';
import { createSecret, deleteSecret, describeSecret, restoreSecret, tagResource, untagResource } from './secrets';
import { getSecretValue, listSecretVersionIds, putSecretValue, updateSecretVersionStage } from './values';

export type { Operation, OperationContext } from './context';

/** The Secrets Manager operations the sandbox answers, by their X-Amz-Target name. */
export const operations: Readonly<Record<string, Operation>> = {
  CreateSecret: createSecret,
  DescribeSecret: describeSecret,
  GetSecretValue: getSecretValue,
  PutSecretValue: putSecretValue,
  UpdateSecretVersionStage: updateSecretVersionStage,
  ListSecrets: listSecrets,
  ListSecretVersionIds: listSecretVersionIds,
  GetRandomPassword: getRandomPassword,
  RotateSecret: rotateSecret,
  CancelRotateSecret: cancelRotateSecret,
  TagResource: tagResource,
  UntagResource: untagResource,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
};
