import { BreachInputError } from './errors';

/** Which secrets a breach response covers: explicit ids/ARNs, or a selector (tag and/or name prefix). */
export type SecretSelection = { secretIds: string[] } | { selector: { tag?: { key: string; value: string }; namePrefix?: string } };

export interface BreachRequest {
  selection: SecretSelection;
  /** Why: written on every audit line. */
  reason: string;
  /**
   * What the request says about who asked ("claimedBy", or the older "requestedBy"): free text
   * nobody verified, reported as a claim and never as the requester.
   */
  claimedBy?: string;
  /**
   * The requester as the runner established it (runBreach sets it from its `requester`: a
   * verified ARN, or "unverified (why)"); never read from the request. Every audit line carries it.
   */
  requestedBy?: string;
  /** End the leaked user's sessions opened before the rotation (default true). */
  endSessions: boolean;
  /** Report what would be done; change nothing (default false). */
  dryRun: boolean;
  /** Secrets handled at once (default 5, at most 20: each uses RotateSecret and 2–3 value writes, 50/s quotas). */
  concurrency: number;
  /** Budget for one rotation to complete, in ms (default 120 000). */
  rotationTimeoutMs: number;
  /** Reset an RDS master password (ModifyDBInstance/ModifyDBCluster) if the stored admin credential no longer logs in. */
  breakGlass: boolean;
}

export const DEFAULT_CONCURRENCY = 5;
export const MAX_CONCURRENCY = 20;
const MAX_SECRETS = 1000;
const KNOWN = new Set(['secretIds', 'selector', 'reason', 'claimedBy', 'requestedBy', 'endSessions', 'dryRun', 'concurrency', 'rotationTimeoutMs', 'breakGlass', '_comment']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bool(obj: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new BreachInputError(`"${key}" must be true or false.`);
  return v;
}

function int(obj: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BreachInputError(`"${key}" must be a whole number from ${min} to ${max}.`);
  return v;
}

function selection(obj: Record<string, unknown>): SecretSelection {
  const ids = obj['secretIds'];
  const selector = obj['selector'];
  if ((ids === undefined) === (selector === undefined)) {
    throw new BreachInputError('Name the secrets with exactly one of "secretIds" (ids or ARNs) or "selector" ({"tag": {"key","value"}} and/or {"namePrefix"}).');
  }
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_SECRETS || !ids.every((s): s is string => typeof s === 'string' && s.trim().length > 0 && s.length <= 2048)) {
      throw new BreachInputError(`"secretIds" must list 1 to ${MAX_SECRETS} secret ids or ARNs (non-empty strings).`);
    }
    return { secretIds: [...new Set(ids)] };
  }
  if (!isObject(selector)) throw new BreachInputError('"selector" must be an object: {"tag": {"key": "…", "value": "…"}} and/or {"namePrefix": "…"}.');
  const unknown = Object.keys(selector).filter((k) => k !== 'tag' && k !== 'namePrefix');
  if (unknown.length > 0) throw new BreachInputError(`"selector" has unknown keys: ${unknown.join(', ')} (use "tag" and/or "namePrefix").`);
  const out: { tag?: { key: string; value: string }; namePrefix?: string } = {};
  const tag = selector['tag'];
  if (tag !== undefined) {
    if (!isObject(tag) || typeof tag['key'] !== 'string' || tag['key'].length === 0 || typeof tag['value'] !== 'string') {
      throw new BreachInputError('"selector.tag" must be {"key": "<non-empty>", "value": "<text>"}.');
    }
    out.tag = { key: tag['key'], value: tag['value'] };
  }
  const prefix = selector['namePrefix'];
  if (prefix !== undefined) {
    if (typeof prefix !== 'string' || prefix.length === 0) throw new BreachInputError('"selector.namePrefix" must be a non-empty string.');
    out.namePrefix = prefix;
  }
  if (!out.tag && !out.namePrefix) throw new BreachInputError('"selector" must name a tag or a name prefix: an empty selector would match every secret.');
  return { selector: out };
}

/**
 * Who the request says asked: "claimedBy", or "requestedBy" as older requests name it. Either is
 * only a claim: whoever may invoke the function can write anything there.
 */
function claim(event: Record<string, unknown>): string | undefined {
  const present = (['claimedBy', 'requestedBy'] as const).filter((key) => event[key] !== undefined);
  if (present.length > 1) throw new BreachInputError('Give "claimedBy" or "requestedBy", not both: both are the same unverified claim of who asked.');
  const key = present[0];
  if (key === undefined) return undefined;
  const value = event[key];
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 2048) {
    throw new BreachInputError(`"${key}" must be a string of 1 to 2048 characters (who you say asked; it is recorded as an unverified claim).`);
  }
  return value.trim();
}

/** Validate a breach request at the edge: a wrong request fails before any secret is read. */
export function parseBreachRequest(event: unknown): BreachRequest {
  if (!isObject(event)) throw new BreachInputError('The breach request must be a JSON object with "reason" and "secretIds" or "selector".');
  const unknown = Object.keys(event).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new BreachInputError(`The breach request has unknown keys: ${unknown.join(', ')}.`);
  const reason = event['reason'];
  if (typeof reason !== 'string' || reason.trim().length === 0 || reason.length > 1000) {
    throw new BreachInputError('"reason" is required: say why (e.g. the incident id), up to 1000 characters. It is written on every audit line.');
  }
  const claimedBy = claim(event);
  return {
    selection: selection(event),
    reason: reason.trim(),
    ...(claimedBy !== undefined ? { claimedBy } : {}),
    endSessions: bool(event, 'endSessions', true),
    dryRun: bool(event, 'dryRun', false),
    concurrency: int(event, 'concurrency', DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY),
    rotationTimeoutMs: int(event, 'rotationTimeoutMs', 120_000, 1_000, 900_000),
    breakGlass: bool(event, 'breakGlass', false),
  };
}
