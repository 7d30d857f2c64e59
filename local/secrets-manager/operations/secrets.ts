import { randomUUID } from 'node:crypto';
import { ApiError, invalidParameter, invalidRequest, validation } from '../errors';
import { isBody, optionalBlob, optionalBoolean, optionalInteger, optionalString, optionalStringList, requiredString, type Body } from '../input';
import type { StoredSecret, StoredVersion, Tag } from '../model';
import { AWSCURRENT, sameValue } from '../store';
import { compact, describeView, epochSeconds } from '../views';
import { CLIENT_REQUEST_TOKEN, SECRET_ID, SECRET_STRING_MAX, type OperationContext } from './context';

const NAME = { min: 1, max: 512, pattern: /^[a-zA-Z0-9/_+=.@-]+$/ };
const MAX_TAGS = 50;

export function readTags(body: Body, member = 'Tags'): Tag[] | undefined {
  const raw = body[member];
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw validation(`Value at 'tags' failed to satisfy constraint: Member must be a list`);
  return raw.map((entry): Tag => {
    if (!isBody(entry)) throw validation(`Value at 'tags' failed to satisfy constraint: Member must be a list of Tag`);
    const Key = requiredString(entry, 'Key', { min: 1, max: 128 });
    const Value = optionalString(entry, 'Value', { min: 0, max: 256 }) ?? '';
    return { Key, Value };
  });
}

/** Add or replace tags by key, as TagResource and CreateSecret do. */
function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(existing.map((t) => [t.Key, t]));
  for (const tag of added) {
    if (tag.Key.startsWith('aws:')) throw invalidParameter(`Tag keys that start with "aws:" are reserved for AWS use: ${tag.Key}`);
    byKey.set(tag.Key, { ...tag });
  }
  if (byKey.size > MAX_TAGS) throw invalidParameter(`A secret can have at most ${MAX_TAGS} tags.`);
  return [...byKey.values()];
}

export function readSecretValue(body: Body): { secretString?: string; secretBinary?: Buffer } {
  const secretString = optionalString(body, 'SecretString', { min: 1, max: SECRET_STRING_MAX });
  const secretBinary = optionalBlob(body, 'SecretBinary');
  if (secretString !== undefined && secretBinary !== undefined) {
    throw invalidParameter('You can\'t specify both a binary secret value and a string secret value in the same secret.');
  }
  if (secretBinary !== undefined && secretBinary.length > SECRET_STRING_MAX) {
    throw validation(`Value at 'secretBinary' failed to satisfy constraint: Member must have length less than or equal to ${SECRET_STRING_MAX}`);
  }
  return compact({ secretString, secretBinary });
}

export function createSecret(body: Body, { store, clock }: OperationContext): unknown {
  const name = requiredString(body, 'Name', NAME);
  const token = optionalString(body, 'ClientRequestToken', CLIENT_REQUEST_TOKEN);
  const description = optionalString(body, 'Description', { max: 2048 });
  const kmsKeyId = optionalString(body, 'KmsKeyId', { max: 2048 });
  const tags = readTags(body) ?? [];
  const { secretString, secretBinary } = readSecretValue(body);
  if (body['AddReplicaRegions'] !== undefined) throw invalidRequest('The sandbox does not replicate secrets to other regions.');

  const existing = store.findByName(name);
  if (existing?.deletedDate) {
    throw invalidRequest(`You can't create this secret because a secret with this name is already scheduled for deletion.`);
  }
  if (existing) {
    // A retried CreateSecret (same token, same value) is answered as the first one was.
    const version = token === undefined ? undefined : existing.versions.get(token);
    if (version && sameValue(version, secretString, secretBinary)) return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
    throw new ApiError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
  }

  const now = clock.now();
  const secret: StoredSecret = {
    arn: store.arnFor(name),
    name,
    tags: mergeTags([], tags),
    createdDate: now,
    lastChangedDate: now,
    primaryRegion: store.region,
    versions: new Map(),
    ...compact({ description, kmsKeyId }),
  };
  let versionId: string | undefined;
  if (secretString !== undefined || secretBinary !== undefined) {
    versionId = token ?? randomUUID();
    const version: StoredVersion = { versionId, createdDate: now, stages: new Set([AWSCURRENT]), ...compact({ secretString, secretBinary }) };
    secret.versions.set(versionId, version);
  }
  store.add(secret);
  return compact({ ARN: secret.arn, Name: secret.name, VersionId: versionId });
}

export function describeSecret(body: Body, { store }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID), { allowDeleted: true });
  return describeView(secret);
}

export function deleteSecret(body: Body, { store, clock }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID), { allowDeleted: true });
  // The API model sets no bounds; the service itself refuses windows outside 7–30 days.
  const windowDays = optionalInteger(body, 'RecoveryWindowInDays', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (windowDays !== undefined && (windowDays < 7 || windowDays > 30)) {
    throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
  }
  const force = optionalBoolean(body, 'ForceDeleteWithoutRecovery') ?? false;
  if (force && windowDays !== undefined) {
    throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
  }
  if (secret.deletedDate) throw invalidRequest(`You can't perform this operation on the secret because it was already scheduled for deletion.`);
  const now = clock.now();
  if (force) {
    store.remove(secret);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now) };
  }
  store.scheduleDeletion(secret, new Date(now.getTime() + (windowDays ?? 30) * 86_400_000));
  secret.lastChangedDate = now;
  return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(secret.deletedDate) };
}

export function restoreSecret(body: Body, { store, clock }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID), { allowDeleted: true });
  if (secret.deletedDate) {
    delete secret.deletedDate;
    secret.lastChangedDate = clock.now();
  }
  return { ARN: secret.arn, Name: secret.name };
}

export function tagResource(body: Body, { store, clock }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID));
  const tags = readTags(body);
  if (tags === undefined) throw validation(`Value null at 'tags' failed to satisfy constraint: Member must not be null`);
  secret.tags = mergeTags(secret.tags, tags);
  secret.lastChangedDate = clock.now();
  return {};
}

export function untagResource(body: Body, { store, clock }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID));
  const keys = optionalStringList(body, 'TagKeys');
  if (keys === undefined) throw validation(`Value null at 'tagKeys' failed to satisfy constraint: Member must not be null`);
  secret.tags = secret.tags.filter((t) => !keys.includes(t.Key));
  secret.lastChangedDate = clock.now();
  return {};
}
