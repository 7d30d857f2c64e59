import { randomUUID } from 'node:crypto';
import { ApiError, invalidParameter, notFound } from '../errors';
import { optionalBoolean, optionalInteger, optionalString, optionalStringList, requiredString, type Body } from '../input';
import type { StoredSecret, StoredVersion } from '../model';
import { pageOf } from '../pagination';
import { AWSCURRENT, attachStage, pendingRotationVersion, requireVersion, sameValue, versionWithStage } from '../store';
import { compact, epochSeconds } from '../views';
import { CLIENT_REQUEST_TOKEN, SECRET_ID, type OperationContext } from './context';
import { readSecretValue } from './secrets';

const STAGE = { min: 1, max: 256 };
const ROTATION_TOKEN = { min: 36, max: 256, pattern: /^[a-zA-Z0-9-]+$/ };

/** LastAccessedDate has day resolution: AWS stores midnight UTC of the day of access. */
const accessDay = (now: Date): Date => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));

function selectVersion(secret: StoredSecret, versionId: string | undefined, stage: string | undefined): StoredVersion {
  if (versionId !== undefined) {
    const version = secret.versions.get(versionId);
    if (!version) throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    if (stage !== undefined && !version.stages.has(stage)) {
      throw notFound('You provided a VersionStage that is not associated to the provided VersionId.');
    }
    return version;
  }
  const label = stage ?? AWSCURRENT;
  const version = versionWithStage(secret, label);
  if (!version) throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${label}`);
  return version;
}

export function getSecretValue(body: Body, { store, clock }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID));
  const versionId = optionalString(body, 'VersionId', CLIENT_REQUEST_TOKEN);
  const stage = optionalString(body, 'VersionStage', STAGE);
  const version = selectVersion(secret, versionId, stage);
  // The value-less AWSPENDING stub that RotateSecret registers has no value to return yet.
  if (version.secretString === undefined && version.secretBinary === undefined) {
    throw notFound(
      versionId !== undefined
        ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`
        : `Secrets Manager can't find the specified secret value for staging label: ${stage ?? AWSCURRENT}`,
    );
  }
  const day = accessDay(clock.now());
  secret.lastAccessedDate = day;
  version.lastAccessedDate = day;
  return compact({
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    SecretString: version.secretString,
    SecretBinary: version.secretBinary?.toString('base64'),
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdDate),
  });
}

export function putSecretValue(body: Body, { store, clock, rotations }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID));
  const token = optionalString(body, 'ClientRequestToken', CLIENT_REQUEST_TOKEN) ?? randomUUID();
  const { secretString, secretBinary } = readSecretValue(body);
  if (secretString === undefined && secretBinary === undefined) {
    throw invalidParameter('You must provide either SecretString or SecretBinary.');
  }
  const stages = optionalStringList(body, 'VersionStages', { min: 1, max: 20 }) ?? [AWSCURRENT];
  const rotationToken = optionalString(body, 'RotationToken', ROTATION_TOKEN);
  if (rotationToken !== undefined) rotations.checkRotationToken(secret, rotationToken);

  const now = clock.now();
  let version = secret.versions.get(token);
  if (version && (version.secretString !== undefined || version.secretBinary !== undefined)) {
    // A version's value never changes: the same token with the same value is a retry, anything else a conflict.
    if (!sameValue(version, secretString, secretBinary)) {
      throw new ApiError('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
  }
  if (!version) {
    version = { versionId: token, createdDate: now, stages: new Set() };
    secret.versions.set(token, version);
  }
  // Filling the value-less stub keeps its CreatedDate: it is the same version.
  Object.assign(version, compact({ secretString, secretBinary }));

  // A new AWSCURRENT written while a rotation is pending on another version abandons that rotation.
  const pending = pendingRotationVersion(secret);
  if (stages.includes(AWSCURRENT) && pending && pending !== version) rotations.abandon(secret, pending);

  for (const stage of stages) attachStage(secret, stage, version);
  secret.lastChangedDate = now;
  return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
}

export function updateSecretVersionStage(body: Body, { store, clock }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID));
  const stage = requiredString(body, 'VersionStage', STAGE);
  const removeFrom = optionalString(body, 'RemoveFromVersionId', CLIENT_REQUEST_TOKEN);
  const moveTo = optionalString(body, 'MoveToVersionId', CLIENT_REQUEST_TOKEN);
  const holder = versionWithStage(secret, stage);

  if (removeFrom !== undefined) {
    requireVersion(secret, removeFrom);
    if (holder?.versionId !== removeFrom) {
      throw invalidParameter(`The staging label ${stage} is currently not attached to version ${removeFrom}, so you can't remove it.`);
    }
  }
  if (moveTo !== undefined) {
    const target = requireVersion(secret, moveTo);
    if (holder && holder !== target && removeFrom !== holder.versionId) {
      throw invalidParameter(
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }
    attachStage(secret, stage, target);
  } else if (removeFrom !== undefined) {
    if (stage === AWSCURRENT) {
      throw invalidParameter(`You can only move staging label ${AWSCURRENT} to a different secret version. It can't be completely removed.`);
    }
    holder?.stages.delete(stage);
  } else {
    throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
  }
  secret.lastChangedDate = clock.now();
  return { ARN: secret.arn, Name: secret.name };
}

export function listSecretVersionIds(body: Body, { store }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID));
  const maxResults = optionalInteger(body, 'MaxResults', 1, 100);
  const nextToken = optionalString(body, 'NextToken', { min: 1, max: 4096 });
  const includeDeprecated = optionalBoolean(body, 'IncludeDeprecated') ?? false;
  const versions = [...secret.versions.values()].filter((v) => includeDeprecated || v.stages.size > 0);
  const page = pageOf(versions, maxResults ?? 100, nextToken, `versions:${secret.arn}`);
  return compact({
    ARN: secret.arn,
    Name: secret.name,
    Versions: page.items.map((v) =>
      compact({
        VersionId: v.versionId,
        VersionStages: [...v.stages],
        LastAccessedDate: epochSeconds(v.lastAccessedDate),
        CreatedDate: epochSeconds(v.createdDate),
        KmsKeyIds: [secret.kmsKeyId ?? 'DefaultEncryptionKey'],
      }),
    ),
    NextToken: page.nextToken,
  });
}
