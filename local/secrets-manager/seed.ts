// Secrets the API cannot make: owned by another service, replicas of another Region, dated in the
// past, with rotation state already set or a rotation stuck half-way. For tests and the benchmark;
// the store's invariant (each staging label on at most one version) is checked, not assumed.

import { randomUUID } from 'node:crypto';
import type { SandboxClock } from './clock';
import type { RotationRules, StoredSecret, StoredVersion, Tag } from './model';
import { AWSCURRENT, type SecretStore } from './store';

export interface SeedVersion {
  versionId?: string;
  /** Staging labels; each may appear on one version only. */
  stages: string[];
  /** Absent for a value-less AWSPENDING stub. */
  secretString?: string;
  createdDate?: Date | string;
  lastAccessedDate?: Date | string;
}

export interface SeedSecret {
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags?: Tag[];
  /** Default: the sandbox clock's now. */
  createdDate?: Date | string;
  /** Default: createdDate. */
  lastChangedDate?: Date | string;
  lastAccessedDate?: Date | string;
  lastRotatedDate?: Date | string;
  nextRotationDate?: Date | string;
  deletedDate?: Date | string;
  rotationEnabled?: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRules;
  /** e.g. 'rds'; the aws:secretsmanager:owningService tag is added as AWS does. */
  owningService?: string;
  /** Default: the sandbox's Region. Another Region makes this a replica. */
  primaryRegion?: string;
  /** Default: one AWSCURRENT version holding `secretString` (or a placeholder). */
  versions?: SeedVersion[];
  secretString?: string;
}

const date = (value: Date | string | undefined, what: string, name: string): Date | undefined => {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`seed: ${name}: ${what} is not a date: ${String(value)}`);
  return d;
};

/** Adds the secrets to the store (no API call, no event) and returns their ARNs, in order. */
export function seedSecrets(store: SecretStore, clock: SandboxClock, secrets: readonly SeedSecret[]): string[] {
  const names = new Set<string>();
  const now = clock.now();
  const arns: string[] = [];
  for (const spec of secrets) {
    const { name } = spec;
    if (!name || names.has(name) || store.findByName(name)) throw new Error(`seed: a secret named ${JSON.stringify(name)} already exists (or the name is empty)`);
    names.add(name);
    const createdDate = date(spec.createdDate, 'createdDate', name) ?? now;
    const versions = new Map<string, StoredVersion>();
    const labelled = new Set<string>();
    const specs = spec.versions ?? [{ stages: [AWSCURRENT], secretString: spec.secretString ?? `seeded:${name}` }];
    for (const v of specs) {
      const versionId = v.versionId ?? randomUUID();
      if (versions.has(versionId)) throw new Error(`seed: ${name}: version ${versionId} is listed twice`);
      for (const stage of v.stages) {
        if (labelled.has(stage)) throw new Error(`seed: ${name}: label ${stage} is on more than one version`);
        labelled.add(stage);
      }
      const version: StoredVersion = { versionId, createdDate: date(v.createdDate, 'version createdDate', name) ?? createdDate, stages: new Set(v.stages) };
      if (v.secretString !== undefined) version.secretString = v.secretString;
      const accessed = date(v.lastAccessedDate, 'version lastAccessedDate', name);
      if (accessed) version.lastAccessedDate = accessed;
      versions.set(versionId, version);
    }
    const tags: Tag[] = (spec.tags ?? []).map((t) => ({ ...t }));
    if (spec.owningService && !tags.some((t) => t.Key === 'aws:secretsmanager:owningService')) {
      tags.push({ Key: 'aws:secretsmanager:owningService', Value: spec.owningService });
    }
    const secret: StoredSecret = {
      arn: store.arnFor(name),
      name,
      tags,
      createdDate,
      lastChangedDate: date(spec.lastChangedDate, 'lastChangedDate', name) ?? createdDate,
      primaryRegion: spec.primaryRegion ?? store.region,
      versions,
    };
    if (spec.description !== undefined) secret.description = spec.description;
    if (spec.kmsKeyId !== undefined) secret.kmsKeyId = spec.kmsKeyId;
    if (spec.rotationEnabled !== undefined) secret.rotationEnabled = spec.rotationEnabled;
    if (spec.rotationLambdaArn !== undefined) secret.rotationLambdaArn = spec.rotationLambdaArn;
    if (spec.rotationRules !== undefined) secret.rotationRules = { ...spec.rotationRules };
    if (spec.owningService !== undefined) secret.owningService = spec.owningService;
    const optionalDates = { lastAccessedDate: spec.lastAccessedDate, lastRotatedDate: spec.lastRotatedDate, nextRotationDate: spec.nextRotationDate, deletedDate: spec.deletedDate };
    for (const [key, value] of Object.entries(optionalDates) as [keyof typeof optionalDates, Date | string | undefined][]) {
      const d = date(value, key, name);
      if (d) secret[key] = d;
    }
    store.add(secret);
    arns.push(secret.arn);
  }
  return arns;
}
