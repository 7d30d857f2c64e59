import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  ResourceNotFoundException,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type Filter,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Pacer, pacedBy, type PacerStats } from '../aws/pacer';
import { envInteger, type Env } from '../config/env';
import { BreachInputError, BreachStepError } from './errors';
import type { SecretSelection } from './input';

/**
 * How fast the breach writes. Secrets Manager's quotas (per account and Region, shared with every
 * other caller): RotateSecret + CancelRotateSecret 50/s; PutSecretValue + UpdateSecret +
 * UpdateSecretVersionStage (+ replication calls) 50/s combined. Each RotateSecret makes the
 * rotation function write at least twice (PutSecretValue in createSecret, UpdateSecretVersionStage
 * in finishSecret) against that same write quota, where the breach cannot pace them: pacing
 * RotateSecret bounds them. The defaults, 10 RotateSecret/s (≈ 20 writes/s by the rotation
 * functions) and 10 writes/s of the breach's own, keep a breach at no more than 30 of the 50
 * writes a second, whatever its size, leaving the rest to the account's scheduled rotations.
 */
export interface BreachPacing {
  /** RotateSecret calls per second (BREACH_ROTATIONS_PER_SECOND, 1–50, default 10). */
  rotationsPerSecond: number;
  /** PutSecretValue + UpdateSecretVersionStage calls per second, together (BREACH_WRITES_PER_SECOND, 1–50, default 10). */
  writesPerSecond: number;
}

export const DEFAULT_BREACH_PACING: BreachPacing = { rotationsPerSecond: 10, writesPerSecond: 10 };

export function readBreachPacing(env: Env): BreachPacing {
  const fail = (message: string): Error => new BreachInputError(`${message} (Secrets Manager allows 50 per second per account and Region, shared with every other caller).`);
  return {
    rotationsPerSecond: envInteger(env, 'BREACH_ROTATIONS_PER_SECOND', DEFAULT_BREACH_PACING.rotationsPerSecond, 1, 50, fail),
    writesPerSecond: envInteger(env, 'BREACH_WRITES_PER_SECOND', DEFAULT_BREACH_PACING.writesPerSecond, 1, 50, fail),
  };
}

export interface BreachSecretInfo {
  arn: string;
  name: string;
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
  owningService?: string;
  lastRotatedDate?: Date;
  versions: Record<string, string[]>;
  deleted: boolean;
}

const info = (out: {
  ARN?: string | undefined;
  Name?: string | undefined;
  RotationEnabled?: boolean | undefined;
  RotationLambdaARN?: string | undefined;
  OwningService?: string | undefined;
  LastRotatedDate?: Date | undefined;
  DeletedDate?: Date | undefined;
  VersionIdsToStages?: Record<string, string[]> | undefined;
  SecretVersionsToStages?: Record<string, string[]> | undefined;
}): BreachSecretInfo => ({
  arn: out.ARN ?? '',
  name: out.Name ?? '',
  rotationEnabled: out.RotationEnabled === true,
  ...(out.RotationLambdaARN ? { rotationLambdaArn: out.RotationLambdaARN } : {}),
  ...(out.OwningService ? { owningService: out.OwningService } : {}),
  ...(out.LastRotatedDate ? { lastRotatedDate: out.LastRotatedDate } : {}),
  versions: out.VersionIdsToStages ?? out.SecretVersionsToStages ?? {},
  deleted: out.DeletedDate !== undefined,
});

/**
 * The Secrets Manager calls the breach procedure makes, and nothing else. Never logs or returns more
 * than it must. Its writes are paced (every attempt, SDK retries included) and back off on throttling.
 */
export class BreachSecretsApi {
  private readonly rotations: Pacer;
  private readonly writes: Pacer;

  constructor(
    private readonly client: SecretsManagerClient,
    pacing: BreachPacing = DEFAULT_BREACH_PACING,
  ) {
    this.rotations = new Pacer({ perSecond: pacing.rotationsPerSecond });
    this.writes = new Pacer({ perSecond: pacing.writesPerSecond });
  }

  /** The pacers' figures: calls, throttles seen, the lowest rate the back-off reached, time waited. */
  pacing(): { rotateSecret: PacerStats; writes: PacerStats } {
    return { rotateSecret: this.rotations.stats(), writes: this.writes.stats() };
  }

  async describe(secretId: string): Promise<BreachSecretInfo> {
    try {
      return info(await this.client.send(new DescribeSecretCommand({ SecretId: secretId })));
    } catch (err) {
      if (err instanceof ResourceNotFoundException) throw new BreachStepError('describe', `Secret ${secretId} was not found in this account and Region: check the id or ARN.`);
      throw err;
    }
  }

  /** ListSecrets with the selector as server-side filters (tag key + value, name prefix). */
  async select(selection: Extract<SecretSelection, { selector: unknown }>['selector']): Promise<BreachSecretInfo[]> {
    const filters: Filter[] = [];
    if (selection.tag) filters.push({ Key: 'tag-key', Values: [selection.tag.key] }, { Key: 'tag-value', Values: [selection.tag.value] });
    if (selection.namePrefix) filters.push({ Key: 'name', Values: [selection.namePrefix] });
    const found: BreachSecretInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListSecretsCommand({ Filters: filters, MaxResults: 100, ...(token ? { NextToken: token } : {}) }));
      for (const entry of page.SecretList ?? []) {
        // tag-key and tag-value match independently on the server: keep only secrets with that exact pair.
        if (selection.tag && !(entry.Tags ?? []).some((t) => t.Key === selection.tag!.key && t.Value === selection.tag!.value)) continue;
        if (selection.namePrefix && !(entry.Name ?? '').startsWith(selection.namePrefix)) continue;
        found.push(info(entry));
      }
      token = page.NextToken;
    } while (token);
    if (found.length === 0) throw new BreachInputError(`The selector ${JSON.stringify(selection)} matches no secret in this account and Region: nothing was changed.`);
    return found;
  }

  async value(secretId: string, stage: string): Promise<string | undefined> {
    try {
      return (await this.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))).SecretString;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  /** One version's value (GetSecretValue by VersionId); undefined when it has none (a stub) or is gone. */
  async versionValue(secretId: string, versionId: string): Promise<string | undefined> {
    try {
      return (await this.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }))).SecretString;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  /** When each labelled version was created (ListSecretVersionIds, every page). */
  async versionCreatedDates(secretId: string): Promise<Record<string, Date>> {
    const created: Record<string, Date> = {};
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListSecretVersionIdsCommand({ SecretId: secretId, MaxResults: 100, ...(token ? { NextToken: token } : {}) }));
      for (const v of page.Versions ?? []) if (v.VersionId && v.CreatedDate) created[v.VersionId] = v.CreatedDate;
      token = page.NextToken;
    } while (token);
    return created;
  }

  /** Move AWSCURRENT from `fromVersionId` to `versionId` (finishSecret's move; the old version becomes AWSPREVIOUS). */
  async moveCurrent(secretId: string, versionId: string, fromVersionId: string): Promise<void> {
    const command = new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: versionId, RemoveFromVersionId: fromVersionId });
    command.middlewareStack.use(pacedBy(this.writes));
    await this.client.send(command);
  }

  /** Take AWSPENDING off a version that is not AWSCURRENT: the clean-up AWS documents for a failed rotation. */
  async removePending(secretId: string, versionId: string): Promise<void> {
    const command = new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: versionId });
    command.middlewareStack.use(pacedBy(this.writes));
    await this.client.send(command);
  }

  /** RotateSecret with the stored configuration; returns the new version id. */
  async rotate(secretId: string): Promise<string> {
    const command = new RotateSecretCommand({ SecretId: secretId, RotateImmediately: true });
    command.middlewareStack.use(pacedBy(this.rotations));
    const out = await this.client.send(command);
    if (!out.VersionId) throw new BreachStepError('rotate', `RotateSecret on ${secretId} returned no VersionId.`);
    return out.VersionId;
  }
}
