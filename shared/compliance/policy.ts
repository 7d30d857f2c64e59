// The rotation policy: built-in defaults, overridden by a JSON document from the environment
// (COMPLIANCE_POLICY) and then by the `policy` member of the function's input. Everything is
// validated up front and compiled into lookup structures, so evaluating a secret does no parsing
// of the policy and an invalid policy fails before any secret is read.

import { CHECK_IDS, CHECKS, SEVERITIES, type CheckId, type Severity } from './checks';
import { PolicyError } from './errors';

/** A class of secrets and the rotation it must have. */
export interface ClassPolicy {
  name: string;
  /** When false, rotation-disabled, rotation-interval and rotation-age do not apply. */
  rotationRequired: boolean;
  /** Longest rotation schedule allowed, in days. */
  maxIntervalDays: number;
  /** Longest time since the last successful rotation (or creation), in days. */
  maxAgeDays: number;
  requiredTags: string[];
}

export interface PrefixRule {
  /** Name prefix; `*` stands for one whole path segment, e.g. `/prod/*\/db/`. */
  prefix: string;
  class?: string;
  rotationRequired?: boolean;
  maxIntervalDays?: number;
  maxAgeDays?: number;
  requiredTags?: string[];
}

export interface CompiledPrefixRule extends PrefixRule {
  matcher: RegExp;
  specificity: number;
}

export interface TagKeys {
  secretType: string;
  maxAgeDays: string;
  exemptionReason: string;
  exemptionExpires: string;
}

export interface CheckSettings {
  enabled: boolean;
  severity: Severity;
}

export interface Policy {
  defaultClass: string;
  classes: ReadonlyMap<string, ClassPolicy>;
  /** Most specific first. */
  prefixes: readonly CompiledPrefixRule[];
  /** OwningService → class; `*` for any other owning service. */
  owningServices: ReadonlyMap<string, string>;
  tagKeys: TagKeys;
  /** May a max-age tag raise the limit above the class's? Off by default: teams tighten, never loosen. */
  allowTagLoosening: boolean;
  /** A secret younger than this is not flagged for rotation-disabled. */
  newSecretGraceDays: number;
  /** An exemption may not run further than this into the future. */
  maxExemptionDays: number;
  checks: Readonly<Record<CheckId, CheckSettings>>;
  rotationMissedGraceHours: number;
  /** Rotation window assumed for rotation-stuck when the secret's rules give none. */
  stuckWindowHours: number;
  unusedDays: number;
  cmkAllowedKeyIds: ReadonlySet<string> | undefined;
  cmkIncludeManaged: boolean;
  requiredTags: readonly string[];
}

/** The document format: every member optional; see README "Compliance policy". */
export interface PolicyDocument {
  defaultClass?: string;
  classes?: Record<string, Partial<Omit<ClassPolicy, 'name'>>>;
  prefixes?: PrefixRule[];
  owningServices?: Record<string, string>;
  tagKeys?: Partial<TagKeys>;
  allowTagLoosening?: boolean;
  newSecretGraceDays?: number;
  maxExemptionDays?: number;
  requiredTags?: string[];
  checks?: Partial<Record<CheckId, Record<string, unknown>>>;
}

export const DEFAULT_POLICY_DOCUMENT = {
  defaultClass: 'default',
  classes: {
    default: { rotationRequired: true, maxIntervalDays: 90, maxAgeDays: 90, requiredTags: [] },
    database: { rotationRequired: true, maxIntervalDays: 30, maxAgeDays: 90, requiredTags: [] },
    'api-key': { rotationRequired: true, maxIntervalDays: 90, maxAgeDays: 90, requiredTags: [] },
    static: { rotationRequired: false, maxIntervalDays: 1000, maxAgeDays: 1000, requiredTags: [] },
    'managed-database': { rotationRequired: true, maxIntervalDays: 30, maxAgeDays: 90, requiredTags: [] },
    managed: { rotationRequired: false, maxIntervalDays: 1000, maxAgeDays: 1000, requiredTags: [] },
  },
  prefixes: [],
  owningServices: { rds: 'managed-database', '*': 'managed' },
  tagKeys: {
    secretType: 'compliance:secret-type',
    maxAgeDays: 'compliance:max-age-days',
    exemptionReason: 'compliance:exemption-reason',
    exemptionExpires: 'compliance:exemption-expires',
  },
  allowTagLoosening: false,
  newSecretGraceDays: 7,
  maxExemptionDays: 365,
  requiredTags: [],
  checks: {
    'rotation-missed': { graceHours: 2 },
    'rotation-stuck': { windowHours: 24 },
    unused: { days: 90 },
    cmk: { enabled: false, includeManaged: false },
  },
} satisfies PolicyDocument;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Collects every problem with its JSON path, so one error lists them all. */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

function unknownKeys(p: Problems, path: string, value: Json, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) p.add(`${path}.${key}`, `unknown member (allowed: ${allowed.join(', ')})`);
}

function int(p: Problems, path: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    p.add(path, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

function bool(p: Problems, path: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    p.add(path, `must be true or false, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

function str(p: Problems, path: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    p.add(path, `must be a non-empty string, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

function tagKey(p: Problems, path: string, value: unknown): string | undefined {
  const key = str(p, path, value);
  if (key === undefined) return undefined;
  if (key.length > 128 || key.toLowerCase().startsWith('aws:')) {
    p.add(path, `must be a tag key of 1–128 characters not starting with "aws:", got ${JSON.stringify(key)}`);
    return undefined;
  }
  return key;
}

function tagKeyList(p: Problems, path: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    p.add(path, 'must be a list of tag keys');
    return undefined;
  }
  const keys = value.map((v, i) => tagKey(p, `${path}[${i}]`, v)).filter((k): k is string => k !== undefined);
  return [...new Set(keys)];
}

const CLASS_MEMBERS = ['rotationRequired', 'maxIntervalDays', 'maxAgeDays', 'requiredTags'] as const;
const PREFIX_MEMBERS = ['prefix', 'class', ...CLASS_MEMBERS] as const;
const TOP_MEMBERS = [
  'defaultClass',
  'classes',
  'prefixes',
  'owningServices',
  'tagKeys',
  'allowTagLoosening',
  'newSecretGraceDays',
  'maxExemptionDays',
  'requiredTags',
  'checks',
] as const;
const CHECK_MEMBERS: Record<CheckId, readonly string[]> = {
  'rotation-disabled': [],
  'rotation-interval': [],
  'rotation-age': [],
  'rotation-missed': ['graceHours'],
  'rotation-stuck': ['windowHours'],
  unused: ['days'],
  cmk: ['allowedKeyIds', 'includeManaged'],
  'required-tags': [],
  'exemption-expired': [],
  'policy-tag-invalid': [],
};

/** A JSON-ish document, or a string holding one (as an environment variable does). */
function asDocument(p: Problems, source: string, raw: unknown): Json | undefined {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      p.add(source, `is not valid JSON (${(err as Error).message})`);
      return undefined;
    }
  }
  if (!isObject(value)) {
    p.add(source, 'must be a JSON object');
    return undefined;
  }
  return value;
}

/** Layer `over` on `base`: nested maps (classes, checks, owningServices, tagKeys) merge by key and field; lists and scalars replace. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (key === 'classes' || key === 'checks') {
      if (isObject(current) && isObject(value)) {
        const merged: Json = { ...current };
        for (const [name, entry] of Object.entries(value)) {
          const prior = merged[name];
          merged[name] = isObject(prior) && isObject(entry) ? { ...prior, ...entry } : entry;
        }
        out[key] = merged;
        continue;
      }
    } else if ((key === 'owningServices' || key === 'tagKeys') && isObject(current) && isObject(value)) {
      out[key] = { ...current, ...value };
      continue;
    }
    out[key] = value;
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compilePrefix(p: Problems, path: string, prefix: string): { matcher: RegExp; specificity: number } | undefined {
  const segments = prefix.split('/');
  if (segments.some((s) => s.includes('*') && s !== '*')) {
    p.add(path, `"*" must stand for a whole path segment (e.g. "/prod/*/"), got ${JSON.stringify(prefix)}`);
    return undefined;
  }
  const source = segments.map((s) => (s === '*' ? '[^/]+' : escapeRegExp(s))).join('/');
  return { matcher: new RegExp(`^${source}`), specificity: prefix.replace(/\*/g, '').length };
}

/**
 * Builds the policy from the defaults and each document in turn (later ones win), or throws a
 * PolicyError that lists every problem found. `sources` name the documents in messages.
 */
export function compilePolicy(documents: { source: string; document: unknown }[] = []): Policy {
  const p = new Problems();
  let merged: Json = DEFAULT_POLICY_DOCUMENT as unknown as Json;
  for (const { source, document } of documents) {
    if (document === undefined) continue;
    const doc = asDocument(p, source, document);
    if (!doc) continue;
    unknownKeys(p, source, doc, TOP_MEMBERS);
    if (doc['checks'] !== undefined && !isObject(doc['checks'])) p.add(`${source}.checks`, 'must be an object keyed by check id');
    if (doc['classes'] !== undefined && !isObject(doc['classes'])) p.add(`${source}.classes`, 'must be an object keyed by class name');
    merged = merge(merged, doc);
  }
  if (p.list.length > 0) throw new PolicyError(p.list);

  const path = 'policy';
  // Classes
  const classes = new Map<string, ClassPolicy>();
  const rawClasses = isObject(merged['classes']) ? merged['classes'] : {};
  for (const [name, raw] of Object.entries(rawClasses)) {
    const at = `${path}.classes.${name}`;
    if (!isObject(raw)) {
      p.add(at, 'must be an object');
      continue;
    }
    unknownKeys(p, at, raw, CLASS_MEMBERS);
    const rotationRequired = bool(p, `${at}.rotationRequired`, raw['rotationRequired']);
    const maxIntervalDays = int(p, `${at}.maxIntervalDays`, raw['maxIntervalDays'], 1, 1000);
    const maxAgeDays = int(p, `${at}.maxAgeDays`, raw['maxAgeDays'], 1, 1000);
    const requiredTags = tagKeyList(p, `${at}.requiredTags`, raw['requiredTags']) ?? [];
    const missing = [
      rotationRequired === undefined && raw['rotationRequired'] === undefined ? 'rotationRequired' : undefined,
      maxIntervalDays === undefined && raw['maxIntervalDays'] === undefined ? 'maxIntervalDays' : undefined,
      maxAgeDays === undefined && raw['maxAgeDays'] === undefined ? 'maxAgeDays' : undefined,
    ].filter((m): m is string => m !== undefined);
    if (missing.length > 0) p.add(at, `a new class needs ${missing.join(', ')}`);
    if (maxIntervalDays !== undefined && maxAgeDays !== undefined && maxIntervalDays > maxAgeDays) {
      p.add(at, `maxIntervalDays (${maxIntervalDays}) cannot exceed maxAgeDays (${maxAgeDays}): such a schedule could never keep the secret within its maximum age`);
    }
    if (rotationRequired !== undefined && maxIntervalDays !== undefined && maxAgeDays !== undefined) {
      classes.set(name, { name, rotationRequired, maxIntervalDays, maxAgeDays, requiredTags });
    }
  }
  const known = (at: string, name: unknown): string | undefined => {
    const value = str(p, at, name);
    if (value !== undefined && !rawClasses[value]) p.add(at, `names no class (known: ${Object.keys(rawClasses).join(', ')})`);
    return value;
  };
  const defaultClass = known(`${path}.defaultClass`, merged['defaultClass']) ?? 'default';

  // Prefix rules
  const prefixes: CompiledPrefixRule[] = [];
  const rawPrefixes = merged['prefixes'];
  if (!Array.isArray(rawPrefixes)) p.add(`${path}.prefixes`, 'must be a list');
  else {
    rawPrefixes.forEach((raw: unknown, i) => {
      const at = `${path}.prefixes[${i}]`;
      if (!isObject(raw)) {
        p.add(at, 'must be an object');
        return;
      }
      unknownKeys(p, at, raw, PREFIX_MEMBERS);
      const prefix = str(p, `${at}.prefix`, raw['prefix']);
      if (prefix === undefined) {
        if (raw['prefix'] === undefined) p.add(`${at}.prefix`, 'is required');
        return;
      }
      const compiled = compilePrefix(p, `${at}.prefix`, prefix);
      const rule: CompiledPrefixRule = { prefix, matcher: compiled?.matcher ?? /$^/, specificity: compiled?.specificity ?? 0 };
      const cls = raw['class'] === undefined ? undefined : known(`${at}.class`, raw['class']);
      const rotationRequired = bool(p, `${at}.rotationRequired`, raw['rotationRequired']);
      const maxIntervalDays = int(p, `${at}.maxIntervalDays`, raw['maxIntervalDays'], 1, 1000);
      const maxAgeDays = int(p, `${at}.maxAgeDays`, raw['maxAgeDays'], 1, 1000);
      const requiredTags = tagKeyList(p, `${at}.requiredTags`, raw['requiredTags']);
      if (cls !== undefined) rule.class = cls;
      if (rotationRequired !== undefined) rule.rotationRequired = rotationRequired;
      if (maxIntervalDays !== undefined) rule.maxIntervalDays = maxIntervalDays;
      if (maxAgeDays !== undefined) rule.maxAgeDays = maxAgeDays;
      if (requiredTags !== undefined) rule.requiredTags = requiredTags;
      if (prefixes.some((r) => r.prefix === prefix)) p.add(`${at}.prefix`, `${JSON.stringify(prefix)} is listed twice`);
      prefixes.push(rule);
    });
  }
  // Stable sort: most specific first; equal specificity keeps document order.
  prefixes.sort((a, b) => b.specificity - a.specificity);

  // Owning services
  const owningServices = new Map<string, string>();
  const rawOwning = merged['owningServices'];
  if (!isObject(rawOwning)) p.add(`${path}.owningServices`, 'must be an object mapping an OwningService to a class');
  else {
    for (const [service, cls] of Object.entries(rawOwning)) {
      const value = known(`${path}.owningServices.${service}`, cls);
      if (value !== undefined) owningServices.set(service, value);
    }
  }

  // Tag keys
  const rawTagKeys = isObject(merged['tagKeys']) ? merged['tagKeys'] : {};
  unknownKeys(p, `${path}.tagKeys`, rawTagKeys, ['secretType', 'maxAgeDays', 'exemptionReason', 'exemptionExpires']);
  const tk = (name: keyof TagKeys): string => tagKey(p, `${path}.tagKeys.${name}`, rawTagKeys[name]) ?? name;
  const tagKeys: TagKeys = { secretType: tk('secretType'), maxAgeDays: tk('maxAgeDays'), exemptionReason: tk('exemptionReason'), exemptionExpires: tk('exemptionExpires') };
  if (new Set(Object.values(tagKeys)).size !== 4) p.add(`${path}.tagKeys`, 'the four tag keys must differ');

  // Checks
  const rawChecks = isObject(merged['checks']) ? merged['checks'] : {};
  const checks = {} as Record<CheckId, CheckSettings>;
  for (const name of Object.keys(rawChecks)) {
    if (!(CHECK_IDS as readonly string[]).includes(name)) p.add(`${path}.checks.${name}`, `is not a check (known: ${CHECK_IDS.join(', ')})`);
  }
  const setting = (id: CheckId): Json => {
    const raw = rawChecks[id];
    if (raw === undefined) return {};
    if (!isObject(raw)) {
      p.add(`${path}.checks.${id}`, 'must be an object');
      return {};
    }
    unknownKeys(p, `${path}.checks.${id}`, raw, ['enabled', 'severity', ...CHECK_MEMBERS[id]]);
    return raw;
  };
  for (const id of CHECK_IDS) {
    const raw = setting(id);
    const enabled = bool(p, `${path}.checks.${id}.enabled`, raw['enabled']) ?? true;
    let severity = CHECKS[id].severity;
    if (raw['severity'] !== undefined) {
      if (typeof raw['severity'] === 'string' && (SEVERITIES as readonly string[]).includes(raw['severity'])) severity = raw['severity'] as Severity;
      else p.add(`${path}.checks.${id}.severity`, `must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(raw['severity'])}`);
    }
    checks[id] = { enabled, severity };
  }
  const cmk = setting('cmk');
  let cmkAllowedKeyIds: Set<string> | undefined;
  if (cmk['allowedKeyIds'] !== undefined) {
    const list = cmk['allowedKeyIds'];
    if (!Array.isArray(list) || list.length === 0 || list.some((k) => typeof k !== 'string' || k.length === 0)) {
      p.add(`${path}.checks.cmk.allowedKeyIds`, 'must be a non-empty list of KMS key ARNs (as ListSecrets reports KmsKeyId)');
    } else cmkAllowedKeyIds = new Set(list as string[]);
  }

  const policy: Policy = {
    defaultClass,
    classes,
    prefixes,
    owningServices,
    tagKeys,
    allowTagLoosening: bool(p, `${path}.allowTagLoosening`, merged['allowTagLoosening']) ?? false,
    newSecretGraceDays: int(p, `${path}.newSecretGraceDays`, merged['newSecretGraceDays'], 0, 365) ?? 7,
    maxExemptionDays: int(p, `${path}.maxExemptionDays`, merged['maxExemptionDays'], 1, 3650) ?? 365,
    checks,
    rotationMissedGraceHours: int(p, `${path}.checks.rotation-missed.graceHours`, setting('rotation-missed')['graceHours'], 0, 720) ?? 2,
    stuckWindowHours: int(p, `${path}.checks.rotation-stuck.windowHours`, setting('rotation-stuck')['windowHours'], 1, 720) ?? 24,
    unusedDays: int(p, `${path}.checks.unused.days`, setting('unused')['days'], 1, 3650) ?? 90,
    cmkAllowedKeyIds,
    cmkIncludeManaged: bool(p, `${path}.checks.cmk.includeManaged`, cmk['includeManaged']) ?? false,
    requiredTags: tagKeyList(p, `${path}.requiredTags`, merged['requiredTags']) ?? [],
  };
  if (p.list.length > 0) throw new PolicyError(p.list);
  return policy;
}

/** The policy for this invocation: defaults, then COMPLIANCE_POLICY from the environment, then the input's `policy`. */
export function loadPolicy(env: Record<string, string | undefined>, input?: unknown): Policy {
  const fromEnv = env['COMPLIANCE_POLICY'];
  return compilePolicy([
    { source: 'COMPLIANCE_POLICY', document: fromEnv === undefined || fromEnv.trim() === '' ? undefined : fromEnv },
    { source: 'input.policy', document: input },
  ]);
}
