// Settings of the compliance function, read from the environment in one place, and the function's
// input: an EventBridge scheduled event (whose `detail` may carry an input) or the input itself when
// invoked on demand. Outputs can be switched by either; the input wins, except that an input with
// its own policy makes the run a what-if scan (resolveOutputs): whoever may invoke the function
// must not be able to close Security Hub findings, or write the deployed policy's metrics, with a
// policy of their own.

import { envFlag, envInteger, type Env } from '../config/env';
import { InvalidInputError } from './errors';

export interface OutputSwitches {
  /** A structured log line per finding (the summary line is always written). */
  logFindings: boolean;
  /** EMF metrics: non-compliant count per check, plus totals. */
  metrics: boolean;
  /** Findings imported into Security Hub (ASFF), resolved ones archived. */
  securityHub: boolean;
}

export interface ComplianceConfig {
  outputs: OutputSwitches;
  /** Overrides the account's default product ARN (arn:…:securityhub:<region>:<account>:product/<account>/default). */
  securityHubProductArn?: string;
  /** BatchImportFindings requests per second (1–10). */
  securityHubImportsPerSecond: number;
  /** ListSecrets calls per second the scan paces itself to (1–100; the quota is 100 per account and Region, shared with every other caller). */
  listSecretsPerSecond: number;
  secretsManagerEndpoint?: string;
}

export interface ComplianceInput {
  policy?: unknown;
  outputs?: Partial<OutputSwitches>;
}

const flag = (env: Env, name: string, fallback: boolean): boolean => envFlag(env, name, fallback, (message) => new InvalidInputError(message));

export function readComplianceConfig(env: Env): ComplianceConfig {
  const rate = env['SECURITY_HUB_IMPORTS_PER_SECOND'];
  const perSecond = rate === undefined || rate === '' ? 8 : Number(rate);
  if (!(perSecond >= 1 && perSecond <= 10)) {
    throw new InvalidInputError(`SECURITY_HUB_IMPORTS_PER_SECOND must be from 1 to 10 (Security Hub's limit is 10 per second), got "${rate}".`);
  }
  const productArn = env['SECURITY_HUB_PRODUCT_ARN'];
  const endpoint = env['SECRETS_MANAGER_ENDPOINT'];
  return {
    outputs: {
      logFindings: flag(env, 'COMPLIANCE_LOG_FINDINGS', true),
      metrics: flag(env, 'COMPLIANCE_METRICS', true),
      securityHub: flag(env, 'COMPLIANCE_SECURITY_HUB', false),
    },
    securityHubImportsPerSecond: perSecond,
    listSecretsPerSecond: envInteger(env, 'COMPLIANCE_LIST_SECRETS_PER_SECOND', 100, 1, 100, (message) => new InvalidInputError(`${message} (ListSecrets' quota is 100 calls per second per account and Region)`)),
    ...(productArn ? { securityHubProductArn: productArn } : {}),
    ...(endpoint ? { secretsManagerEndpoint: endpoint } : {}),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The input: `{ policy?, outputs? }`, given directly (on demand, or as an EventBridge rule's constant
 * input) or as the `detail` of a `Scheduled Event`. Anything else is refused with the reason.
 */
export function parseComplianceInput(event: unknown): ComplianceInput {
  if (event === undefined || event === null) return {};
  if (!isObject(event)) throw new InvalidInputError('The input must be a JSON object: an EventBridge scheduled event or { "policy"?, "outputs"? }.');
  let input: Record<string, unknown> = event;
  if (event['source'] === 'aws.events' || event['detail-type'] === 'Scheduled Event') {
    const detail = event['detail'];
    if (detail !== undefined && !isObject(detail)) throw new InvalidInputError('The scheduled event\'s detail must be an object.');
    input = detail ?? {};
  }
  const unknown = Object.keys(input).filter((k) => k !== 'policy' && k !== 'outputs');
  if (unknown.length > 0) throw new InvalidInputError(`Unknown input member${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')} (allowed: policy, outputs).`);
  const result: ComplianceInput = {};
  if (input['policy'] !== undefined) result.policy = input['policy'];
  const outputs = input['outputs'];
  if (outputs !== undefined) {
    if (!isObject(outputs)) throw new InvalidInputError('outputs must be an object such as { "securityHub": false }.');
    const switches: Partial<OutputSwitches> = {};
    for (const [key, value] of Object.entries(outputs)) {
      if (key !== 'logFindings' && key !== 'metrics' && key !== 'securityHub') {
        throw new InvalidInputError(`outputs.${key} is not an output (allowed: logFindings, metrics, securityHub).`);
      }
      if (typeof value !== 'boolean') throw new InvalidInputError(`outputs.${key} must be true or false.`);
      switches[key] = value;
    }
    result.outputs = switches;
  }
  return result;
}

/** Why a run is a what-if scan. Today one reason: the input brought its own `policy`. */
export type WhatIfReason = 'on-demand policy';

/** An output a what-if scan does not write: said in the result (`securityHub`, `metrics`) and the log. */
export interface SkippedOutput {
  skipped: WhatIfReason;
}

export interface ResolvedOutputs {
  /** The outputs this run writes. */
  outputs: OutputSwitches;
  /** Present for a what-if scan: the outputs it does not write although switched on, and why. */
  whatIf?: { reason: WhatIfReason; suppressed: Array<'securityHub' | 'metrics'> };
}

/**
 * The outputs of one run. With the deployed policy (defaults and COMPLIANCE_POLICY), the input's
 * switches win over the environment's. With a policy in the input, any policy, looser or tighter,
 * the run is a what-if scan: its findings are not the deployed policy's, so it never imports or
 * archives Security Hub findings (a complete scan archives every active finding it does not
 * reproduce) and never writes the NonCompliantSecrets metrics alarms watch, whatever the input's
 * `outputs` say. Its log lines are still written, marked `scan: "what-if"`.
 */
export function resolveOutputs(config: ComplianceConfig, input: ComplianceInput): ResolvedOutputs {
  const requested: OutputSwitches = { ...config.outputs, ...input.outputs };
  if (input.policy === undefined) return { outputs: requested };
  const suppressed = (['securityHub', 'metrics'] as const).filter((output) => requested[output]);
  return { outputs: { ...requested, securityHub: false, metrics: false }, whatIf: { reason: 'on-demand policy', suppressed } };
}
