// Findings in the AWS Security Finding Format, as BatchImportFindings takes them. All twelve
// attributes the user guide lists as required are always sent (the API model marks only ten).

import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { CHECKS, type CheckId, type Severity } from './checks';
import type { Finding, SecretEvaluation } from './evaluate';

export const SCHEMA_VERSION = '2018-10-08';
export const GENERATOR_PREFIX = 'secrets-compliance/';
const TYPES = ['Software and Configuration Checks/AWS Security Best Practices'];
const RESOURCE_TYPE = 'AwsSecretsManagerSecret';
const MAX_DESCRIPTION = 1024;

export interface AsffContext {
  productArn: string;
  /** ISO time of this scan: UpdatedAt, and CreatedAt for a finding seen for the first time. */
  now: string;
  /** CreatedAt of the finding when Security Hub already holds it (so it stays fixed at first sight). */
  createdAt?: string;
}

/** The stable finding id: re-importing it updates the same finding. */
export const findingId = (secretArn: string, checkId: CheckId): string => `${secretArn}/${checkId}`;

/** The check id at the end of a finding id (secret names may contain "/", check ids do not). */
export function checkIdOf(id: string): { secretArn: string; checkId: CheckId } | undefined {
  const slash = id.lastIndexOf('/');
  const checkId = id.slice(slash + 1);
  if (slash < 0 || !(checkId in CHECKS)) return undefined;
  return { secretArn: id.slice(0, slash), checkId: checkId as CheckId };
}

/** `arn:partition:service:region:account:…` */
export function arnParts(arn: string): { partition: string; region: string; accountId: string } {
  const [, partition = 'aws', , region = '', accountId = ''] = arn.split(':', 5);
  return { partition, region, accountId };
}

/** The default product ARN of an account's own (custom) integration. */
export const defaultProductArn = (partition: string, region: string, accountId: string): string =>
  `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function base(secretArn: string, checkId: CheckId, severity: Severity, ctx: AsffContext): AwsSecurityFinding {
  const { partition, region, accountId } = arnParts(secretArn);
  const check = CHECKS[checkId];
  return {
    SchemaVersion: SCHEMA_VERSION,
    Id: findingId(secretArn, checkId),
    ProductArn: ctx.productArn,
    GeneratorId: `${GENERATOR_PREFIX}${checkId}`,
    AwsAccountId: accountId,
    Types: TYPES,
    CreatedAt: ctx.createdAt ?? ctx.now,
    UpdatedAt: ctx.now,
    Severity: { Label: severity },
    Title: check.title,
    Description: check.description,
    Resources: [{ Type: RESOURCE_TYPE, Id: secretArn, Partition: partition as 'aws', Region: region }],
    FindingProviderFields: { Severity: { Label: severity }, Types: TYPES },
    Remediation: { Recommendation: { Text: check.remediation } },
  };
}

/** An active, failed finding for a non-compliant secret. */
export function toAsff(finding: Finding, evaluation: SecretEvaluation, ctx: AsffContext): AwsSecurityFinding {
  const asff = base(finding.secretArn, finding.checkId, finding.severity, ctx);
  asff.Description = clip(`${finding.reason} ${CHECKS[finding.checkId].description}`, MAX_DESCRIPTION);
  asff.Compliance = { Status: 'FAILED' };
  asff.RecordState = 'ACTIVE';
  const resource = asff.Resources?.[0];
  if (resource) resource.Details = { AwsSecretsManagerSecret: { Name: evaluation.name } };
  const fields: Record<string, string> = { 'secrets-compliance/check': finding.checkId };
  if (evaluation.className !== undefined) fields['secrets-compliance/class'] = evaluation.className;
  if (evaluation.owningService !== undefined) fields['secrets-compliance/owning-service'] = evaluation.owningService;
  if (evaluation.env !== undefined) fields['secrets-compliance/env'] = evaluation.env;
  if (evaluation.team !== undefined) fields['secrets-compliance/team'] = evaluation.team;
  asff.ProductFields = fields;
  return asff;
}

/** The same finding, resolved: the secret is compliant again, exempt, deleted or gone. */
export function resolvedAsff(secretArn: string, checkId: CheckId, severity: Severity, ctx: AsffContext): AwsSecurityFinding {
  const asff = base(secretArn, checkId, severity, ctx);
  asff.Description = clip(`Resolved: the secret no longer fails this check (compliant, exempted, scheduled for deletion or deleted). ${CHECKS[checkId].description}`, MAX_DESCRIPTION);
  asff.Compliance = { Status: 'PASSED' };
  asff.RecordState = 'ARCHIVED';
  return asff;
}
