// The evaluation: a pure function from one ListSecrets entry, the policy and "now" to the secret's
// findings. No I/O, no clock, no per-secret API call. README "Compliance checks" is the
// specification; the unit tests walk every boundary.

import type { SecretListEntry } from '@aws-sdk/client-secrets-manager';
import type { CheckId, Severity } from './checks';
import type { ClassPolicy, CompiledPrefixRule, Policy } from './policy';
import { scheduleShape } from '../schedule';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface Finding {
  checkId: CheckId;
  severity: Severity;
  secretArn: string;
  secretName: string;
  /** One sentence saying why, with the figures that decided it. */
  reason: string;
}

/**
 * - `evaluated`: a primary secret in this Region, checked against its policy;
 * - `replica`: PrimaryRegion is another Region; only the key check applies here (the primary is checked where it lives);
 * - `exempt`: a valid exemption tag; no check applies except policy-tag-invalid;
 * - `deleted`: scheduled for deletion (DeletedDate); nothing applies, earlier findings resolve.
 */
export type SecretStatus = 'evaluated' | 'replica' | 'exempt' | 'deleted';

export interface SecretEvaluation {
  arn: string;
  name: string;
  status: SecretStatus;
  /** Policy class applied (absent for deleted secrets). */
  className?: string;
  /** OwningService, when another service manages the secret. */
  owningService?: string;
  /** `/{env}/{team}/…` names, as parsed from the name. */
  env?: string;
  team?: string;
  exemption?: { reason: string; expires: string };
  findings: Finding[];
}

const AWSCURRENT = 'AWSCURRENT';
const AWSPENDING = 'AWSPENDING';
const AWS_MANAGED_KEY = /(^|[:/])alias\/aws\/secretsmanager$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ENV_TEAM = /^\/([^/]+)\/([^/]+)\//;

const time = (date: Date | undefined): number | undefined => {
  if (date === undefined) return undefined;
  const t = date.getTime();
  return Number.isNaN(t) ? undefined : t;
};

const days = (ms: number): string => `${(ms / DAY_MS).toFixed(1)} days`;
const iso = (t: number): string => new Date(t).toISOString();

/** AWSPENDING on a version that does not also carry AWSCURRENT: a rotation under way or stuck. */
export function pendingVersionId(versions: Record<string, string[]> | undefined): string | undefined {
  if (!versions) return undefined;
  for (const id in versions) {
    const stages = versions[id];
    if (stages && stages.includes(AWSPENDING) && !stages.includes(AWSCURRENT)) return id;
  }
  return undefined;
}

/** Region of an ARN (`arn:partition:service:region:account:…`). */
function arnRegion(arn: string): string {
  const a = arn.indexOf(':', 4);
  const b = arn.indexOf(':', a + 1);
  const c = arn.indexOf(':', b + 1);
  return a < 0 || b < 0 || c < 0 ? '' : arn.slice(b + 1, c);
}

interface Limits {
  className: string;
  rotationRequired: boolean;
  maxIntervalDays: number;
  maxAgeDays: number;
  requiredTags: readonly string[];
}

function matchPrefix(policy: Policy, name: string): CompiledPrefixRule | undefined {
  for (const rule of policy.prefixes) if (rule.matcher.test(name)) return rule;
  return undefined;
}

/** Exemption end: the end of the named UTC day (an exemption "until 2026-03-31" covers all of the 31st). */
function exemptionEnd(text: string): number | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = Date.UTC(y, mo - 1, d);
  const check = new Date(start);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  return start + DAY_MS;
}

/**
 * Evaluates one ListSecrets entry. `now` is epoch milliseconds, fixed for a whole scan so that every
 * secret is judged at the same instant.
 */
export function evaluateSecret(entry: SecretListEntry, policy: Policy, now: number): SecretEvaluation {
  const arn = entry.ARN ?? '';
  const name = entry.Name ?? '';
  if (entry.DeletedDate !== undefined) return { arn, name, status: 'deleted', findings: [] };

  const findings: Finding[] = [];
  const { checks, tagKeys } = policy;

  // One pass over the tags for the four compliance tags.
  let typeTag: string | undefined;
  let maxAgeTag: string | undefined;
  let reasonTag: string | undefined;
  let expiresTag: string | undefined;
  const tags = entry.Tags;
  if (tags) {
    for (const tag of tags) {
      const key = tag.Key;
      if (key === tagKeys.secretType) typeTag = tag.Value ?? '';
      else if (key === tagKeys.maxAgeDays) maxAgeTag = tag.Value ?? '';
      else if (key === tagKeys.exemptionReason) reasonTag = tag.Value ?? '';
      else if (key === tagKeys.exemptionExpires) expiresTag = tag.Value ?? '';
    }
  }

  const result: SecretEvaluation = { arn, name, status: 'evaluated', findings };
  const owningService = entry.OwningService;
  if (owningService) result.owningService = owningService;
  const envTeam = ENV_TEAM.exec(name);
  if (envTeam) {
    result.env = envTeam[1] as string;
    result.team = envTeam[2] as string;
  }
  const replica = entry.PrimaryRegion !== undefined && entry.PrimaryRegion !== arnRegion(arn);

  // Exemption: both tags, a reason, a real date, not too far out, not passed.
  let exempt = false;
  if (reasonTag !== undefined || expiresTag !== undefined) {
    const reason = (reasonTag ?? '').trim();
    const end = expiresTag === undefined ? undefined : exemptionEnd(expiresTag.trim());
    if (reason === '' || expiresTag === undefined) {
      flag(result, policy, 'policy-tag-invalid', `Exemption ignored: it needs both ${tagKeys.exemptionReason} (a non-empty reason) and ${tagKeys.exemptionExpires} (YYYY-MM-DD).`);
    } else if (end === undefined) {
      flag(result, policy, 'policy-tag-invalid', `Exemption ignored: ${tagKeys.exemptionExpires} is ${JSON.stringify(expiresTag)}, not a date written YYYY-MM-DD.`);
    } else if (end - now > (policy.maxExemptionDays + 1) * DAY_MS) {
      flag(result, policy, 'policy-tag-invalid', `Exemption ignored: it runs to ${expiresTag}, more than the ${policy.maxExemptionDays} days ahead the policy allows.`);
    } else if (now >= end) {
      flag(result, policy, 'exemption-expired', `Exemption "${reason}" expired at the end of ${expiresTag} UTC; the secret is evaluated without it.`);
    } else {
      exempt = true;
      result.exemption = { reason, expires: expiresTag.trim() };
    }
  }

  if (replica) {
    // Replicas: the primary's Region checks rotation, age, use and tags; only the Region's own key is a fact here.
    result.status = exempt ? 'exempt' : 'replica';
    findings.length = 0;
    if (!exempt) checkKey(entry, policy, owningService !== undefined, result);
    return result;
  }

  // Class: secret-type tag, else the owning service's class, else a prefix rule's, else the default.
  const rule = matchPrefix(policy, name);
  let cls: ClassPolicy | undefined;
  if (typeTag !== undefined) {
    cls = policy.classes.get(typeTag.trim());
    if (!cls) flag(result, policy, 'policy-tag-invalid', `${tagKeys.secretType} is ${JSON.stringify(typeTag)}, which names no policy class (known: ${[...policy.classes.keys()].join(', ')}).`);
  }
  if (!cls && owningService) cls = policy.classes.get(policy.owningServices.get(owningService) ?? policy.owningServices.get('*') ?? '');
  if (!cls && rule?.class !== undefined) cls = policy.classes.get(rule.class);
  cls ??= policy.classes.get(policy.defaultClass) as ClassPolicy;

  const limits: Limits = {
    className: cls.name,
    rotationRequired: rule?.rotationRequired ?? cls.rotationRequired,
    maxIntervalDays: rule?.maxIntervalDays ?? cls.maxIntervalDays,
    maxAgeDays: rule?.maxAgeDays ?? cls.maxAgeDays,
    requiredTags: cls.requiredTags,
  };
  if (maxAgeTag !== undefined) {
    const value = maxAgeTag.trim();
    const n = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= 1000)) {
      flag(result, policy, 'policy-tag-invalid', `${tagKeys.maxAgeDays} is ${JSON.stringify(maxAgeTag)}, not a whole number of days from 1 to 1000; the class limit of ${limits.maxAgeDays} days applies.`);
    } else if (n > limits.maxAgeDays && !policy.allowTagLoosening) {
      flag(result, policy, 'policy-tag-invalid', `${tagKeys.maxAgeDays} is ${n}, looser than the ${limits.maxAgeDays} days of class ${cls.name}; tags may only tighten the policy, so ${limits.maxAgeDays} applies.`);
    } else {
      limits.maxAgeDays = n;
      limits.maxIntervalDays = Math.min(limits.maxIntervalDays, n);
    }
  }
  result.className = cls.name;

  if (exempt) {
    result.status = 'exempt';
    // Only the tag problems found above remain: an exemption covers every other check.
    return result;
  }

  const created = time(entry.CreatedDate);
  const rotationEnabled = entry.RotationEnabled === true;
  const rules = entry.RotationRules;

  if (limits.rotationRequired) {
    const isNew = created !== undefined && now - created < policy.newSecretGraceDays * DAY_MS;
    if (!rotationEnabled && !isNew) {
      flag(result, policy, 'rotation-disabled', `Rotation is not enabled; class ${limits.className} requires rotation at least every ${limits.maxIntervalDays} days.`);
    }
    if (rotationEnabled) {
      const shape = scheduleShape(rules);
      if (!shape) {
        const described = rules ? JSON.stringify(rules) : 'no RotationRules';
        flag(result, policy, 'rotation-interval', `The rotation interval cannot be determined from ${described}; class ${limits.className} allows at most ${limits.maxIntervalDays} days.`);
      } else if (shape.intervalHours > limits.maxIntervalDays * 24) {
        const schedule = rules?.ScheduleExpression ?? `AutomaticallyAfterDays ${rules?.AutomaticallyAfterDays ?? '?'}`;
        flag(result, policy, 'rotation-interval', `${schedule} rotates every ${(shape.intervalHours / 24).toFixed(1)} days at most; class ${limits.className} allows ${limits.maxIntervalDays}.`);
      }
    }
    const lastRotated = time(entry.LastRotatedDate);
    const anchor = lastRotated ?? created;
    if (anchor !== undefined && now - anchor > limits.maxAgeDays * DAY_MS) {
      const since = lastRotated !== undefined ? `last rotated ${iso(lastRotated)}` : `never rotated, created ${iso(anchor)}`;
      flag(result, policy, 'rotation-age', `Not rotated for ${days(now - anchor)} (${since}); the maximum age is ${limits.maxAgeDays} days.`);
    }
  }

  if (rotationEnabled) {
    const next = time(entry.NextRotationDate);
    if (next !== undefined && now - next > policy.rotationMissedGraceHours * HOUR_MS) {
      flag(result, policy, 'rotation-missed', `NextRotationDate ${iso(next)} passed ${days(now - next)} ago and the secret has not rotated since.`);
    }
  }

  const pending = pendingVersionId(entry.SecretVersionsToStages);
  if (pending !== undefined) {
    const changed = time(entry.LastChangedDate) ?? time(entry.LastRotatedDate) ?? created;
    const windowHours = scheduleShape(rules)?.windowHours ?? policy.stuckWindowHours;
    if (changed !== undefined && now - changed > windowHours * HOUR_MS) {
      flag(result, policy, 'rotation-stuck', `AWSPENDING is on version ${pending}, not on AWSCURRENT, and the secret has not changed since ${iso(changed)}, longer than its ${windowHours}-hour rotation window.`);
    }
  }

  const accessed = time(entry.LastAccessedDate);
  const useAnchor = accessed ?? created;
  if (useAnchor !== undefined) {
    // LastAccessedDate is a date (day resolution): count whole UTC days.
    const idleDays = Math.floor(now / DAY_MS) - Math.floor(useAnchor / DAY_MS);
    if (idleDays > policy.unusedDays) {
      const since = accessed !== undefined ? `last read on ${iso(accessed).slice(0, 10)}` : `never read, created ${iso(useAnchor).slice(0, 10)}`;
      flag(result, policy, 'unused', `Not read in this Region for ${idleDays} days (${since}); the limit is ${policy.unusedDays}.`);
    }
  }

  checkKey(entry, policy, owningService !== undefined, result);

  if (checks['required-tags'].enabled) {
    const required = mergedRequiredTags(policy.requiredTags, limits.requiredTags, rule?.requiredTags);
    if (required.length > 0) {
      const missing: string[] = [];
      for (const key of required) if (!hasTagValue(tags, key)) missing.push(key);
      if (missing.length > 0) flag(result, policy, 'required-tags', `Missing or empty required tag${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}.`);
    }
  }
  return result;
}

/** Records a finding if the check is switched on. (A plain function, not a closure: evaluation is the hot path.) */
function flag(result: SecretEvaluation, policy: Policy, checkId: CheckId, reason: string): void {
  const settings = policy.checks[checkId];
  if (settings.enabled) result.findings.push({ checkId, severity: settings.severity, secretArn: result.arn, secretName: result.name, reason });
}

function hasTagValue(tags: SecretListEntry['Tags'], key: string): boolean {
  if (!tags) return false;
  for (const tag of tags) if (tag.Key === key && tag.Value !== undefined && tag.Value !== '') return true;
  return false;
}

function checkKey(entry: SecretListEntry, policy: Policy, managed: boolean, result: SecretEvaluation): void {
  if (!policy.checks.cmk.enabled || (managed && !policy.cmkIncludeManaged)) return;
  const key = entry.KmsKeyId;
  if (key === undefined || key === '' || AWS_MANAGED_KEY.test(key)) {
    flag(result, policy, 'cmk', 'Encrypted with the AWS managed key aws/secretsmanager, not a customer managed key.');
  } else if (policy.cmkAllowedKeyIds && !policy.cmkAllowedKeyIds.has(key)) {
    flag(result, policy, 'cmk', `Encrypted with ${key}, which is not one of the policy's allowed keys.`);
  }
}

const EMPTY: readonly string[] = [];
function mergedRequiredTags(a: readonly string[], b: readonly string[], c: readonly string[] | undefined): readonly string[] {
  if (b.length === 0 && (c === undefined || c.length === 0)) return a;
  if (a.length === 0 && (c === undefined || c.length === 0)) return b;
  return [...new Set([...a, ...b, ...(c ?? EMPTY)])];
}
