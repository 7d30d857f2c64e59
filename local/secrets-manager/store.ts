import { randomBytes } from 'node:crypto';
import type { SandboxClock } from './clock';
import { invalidParameter, markedForDeletion, notFound } from './errors';
import type { StoredSecret, StoredVersion } from './model';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Random bytes drawn 6 at a time from a pool: seeding 1,000,000 secrets must not make 1,000,000 randomBytes calls. */
let pool = Buffer.alloc(0);
let poolAt = 0;

/** AWS appends a hyphen and six random characters to the name to make the ARN unique. */
function arnSuffix(): string {
  if (poolAt + 6 > pool.length) {
    pool = randomBytes(6 * 1024);
    poolAt = 0;
  }
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[(pool[poolAt++] as number) % SUFFIX_ALPHABET.length];
  return suffix;
}

/**
 * The secrets of one account and region, and the label bookkeeping AWS does on them.
 * Every method runs to completion synchronously, so each API call is atomic.
 */
export class SecretStore {
  private readonly secrets = new Map<string, StoredSecret>(); // by ARN, in creation order
  /** The same secrets by name (names are unique in a Region): CreateSecret, seed() and lookups by name stay O(1) at 1,000,000 secrets. */
  private readonly byName = new Map<string, StoredSecret>();
  /** Secrets that were scheduled for deletion: the purge visits these, not the whole store, on every call. */
  private readonly deleting = new Set<StoredSecret>();
  /** `secrets` as an array, kept between calls: listing 100,000 secrets page by page must not copy them per page. */
  private ordered: StoredSecret[] | undefined;

  constructor(
    readonly region: string,
    readonly accountId: string,
    private readonly clock: SandboxClock,
  ) {}

  arnFor(name: string): string {
    return `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${arnSuffix()}`;
  }

  add(secret: StoredSecret): void {
    this.secrets.set(secret.arn, secret);
    this.byName.set(secret.name, secret);
    if (secret.deletedDate) this.deleting.add(secret);
    this.ordered = undefined;
  }

  remove(secret: StoredSecret): void {
    this.secrets.delete(secret.arn);
    if (this.byName.get(secret.name) === secret) this.byName.delete(secret.name);
    this.deleting.delete(secret);
    this.ordered = undefined;
  }

  /** DeleteSecret with a recovery window: the secret stays, listed with its DeletedDate, until `at`. (RestoreSecret just clears deletedDate.) */
  scheduleDeletion(secret: StoredSecret, at: Date): void {
    secret.deletedDate = at;
    this.deleting.add(secret);
  }

  /** All secrets, oldest first, after dropping those whose recovery window has run out. Read-only: do not mutate. */
  all(): readonly StoredSecret[] {
    this.purgeExpiredDeletions();
    this.ordered ??= [...this.secrets.values()];
    return this.ordered;
  }

  findByName(name: string): StoredSecret | undefined {
    this.purgeExpiredDeletions();
    return this.byName.get(name);
  }

  /** SecretId may be a full ARN, a name, or a partial ARN (the ARN without its random suffix). */
  find(secretId: string): StoredSecret | undefined {
    this.purgeExpiredDeletions();
    const exact = this.secrets.get(secretId) ?? this.byName.get(secretId);
    if (exact) return exact;
    // A partial ARN is arn:…:secret:<name>: the secret of that name, if its ARN is that plus the suffix.
    const at = secretId.indexOf(':secret:');
    const named = at >= 0 ? this.byName.get(secretId.slice(at + ':secret:'.length)) : undefined;
    return named && named.arn.slice(0, -7) === secretId ? named : undefined;
  }

  /** The secret, or AWS's not-found error; `allowDeleted` for the calls that work on secrets scheduled for deletion. */
  get(secretId: string, { allowDeleted = false } = {}): StoredSecret {
    const secret = this.find(secretId);
    if (!secret) throw notFound();
    if (secret.deletedDate && !allowDeleted) throw markedForDeletion();
    return secret;
  }

  private purgeExpiredDeletions(): void {
    if (this.deleting.size === 0) return;
    const now = this.clock.now().getTime();
    for (const secret of this.deleting) {
      if (!secret.deletedDate) this.deleting.delete(secret); // restored
      else if (secret.deletedDate.getTime() <= now) this.remove(secret);
    }
  }
}

export function versionWithStage(secret: StoredSecret, stage: string): StoredVersion | undefined {
  for (const version of secret.versions.values()) if (version.stages.has(stage)) return version;
  return undefined;
}

export function requireVersion(secret: StoredSecret, versionId: string): StoredVersion {
  const version = secret.versions.get(versionId);
  if (!version) throw invalidParameter(`Secrets Manager can't find the specified secret version: ${versionId}`);
  return version;
}

/**
 * Attach `stage` to `target`, taking it off whichever version had it: a label lives on one
 * version only. Moving AWSCURRENT hands AWSPREVIOUS to the version that held AWSCURRENT.
 */
export function attachStage(secret: StoredSecret, stage: string, target: StoredVersion): void {
  const holder = versionWithStage(secret, stage);
  if (holder === target) return;
  holder?.stages.delete(stage);
  target.stages.add(stage);
  if (stage === AWSCURRENT && holder) {
    versionWithStage(secret, AWSPREVIOUS)?.stages.delete(AWSPREVIOUS);
    holder.stages.add(AWSPREVIOUS);
  }
}

/** True while a rotation is under way or stuck: AWSPENDING on a version that is not AWSCURRENT. */
export function pendingRotationVersion(secret: StoredSecret): StoredVersion | undefined {
  const pending = versionWithStage(secret, AWSPENDING);
  return pending && !pending.stages.has(AWSCURRENT) ? pending : undefined;
}

export function sameValue(version: StoredVersion, secretString: string | undefined, secretBinary: Buffer | undefined): boolean {
  if (secretString !== undefined) return version.secretString === secretString;
  if (secretBinary !== undefined) return version.secretBinary !== undefined && version.secretBinary.equals(secretBinary);
  return false;
}

/** Labelled versions only, as DescribeSecret and ListSecrets show them. */
export function versionsToStages(secret: StoredSecret): Record<string, string[]> | undefined {
  const entries = [...secret.versions.values()].filter((v) => v.stages.size > 0).map((v): [string, string[]] => [v.versionId, [...v.stages]]);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
