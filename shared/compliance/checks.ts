// The checks: stable ids (they end every Security Hub finding id, so never rename one), default
// severities and the text the findings carry. The rules themselves are in evaluate.ts; README
// "Compliance checks" states each one precisely.

export const CHECK_IDS = [
  'rotation-disabled',
  'rotation-interval',
  'rotation-age',
  'rotation-missed',
  'rotation-stuck',
  'unused',
  'cmk',
  'required-tags',
  'exemption-expired',
  'policy-tag-invalid',
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

export type Severity = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export const SEVERITIES: readonly Severity[] = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

export interface CheckInfo {
  id: CheckId;
  severity: Severity;
  title: string;
  description: string;
  remediation: string;
  /** The nearest Security Hub control or Config rule, for readers who know those. */
  analogue?: string;
}

export const CHECKS: Readonly<Record<CheckId, CheckInfo>> = {
  'rotation-disabled': {
    id: 'rotation-disabled',
    severity: 'MEDIUM',
    title: 'Secrets Manager secret should have automatic rotation enabled',
    description: 'The rotation policy requires this secret to rotate automatically, but RotationEnabled is not true.',
    remediation: 'Configure automatic rotation (RotateSecret with a rotation function and RotationRules), or tag the secret with an exemption that carries a reason and an expiry date.',
    analogue: 'SecretsManager.1 / secretsmanager-rotation-enabled-check',
  },
  'rotation-interval': {
    id: 'rotation-interval',
    severity: 'MEDIUM',
    title: 'Secrets Manager secret rotation schedule should be within the allowed interval',
    description: 'The rotation schedule (AutomaticallyAfterDays or ScheduleExpression) rotates less often than the policy allows, or cannot be understood.',
    remediation: 'Shorten the rotation schedule to at most the allowed number of days.',
    analogue: 'SecretsManager.1 with maximumAllowedRotationFrequency',
  },
  'rotation-age': {
    id: 'rotation-age',
    severity: 'MEDIUM',
    title: 'Secrets Manager secret should have been rotated within the maximum age',
    description: 'The secret has not been rotated successfully within the maximum age the policy allows (counted from LastRotatedDate, or from CreatedDate when it has never rotated).',
    remediation: 'Rotate the secret now (RotateSecret), then find out why scheduled rotation did not keep it fresh.',
    analogue: 'SecretsManager.4 / secretsmanager-secret-periodic-rotation',
  },
  'rotation-missed': {
    id: 'rotation-missed',
    severity: 'MEDIUM',
    title: 'Secrets Manager secret with rotation enabled should rotate as scheduled',
    description: 'Rotation is enabled but NextRotationDate is in the past: the scheduled rotation did not happen or failed.',
    remediation: 'Look for RotationFailed events and the rotation function logs; fix the cause and rotate again.',
    analogue: 'SecretsManager.2 / secretsmanager-scheduled-rotation-success-check',
  },
  'rotation-stuck': {
    id: 'rotation-stuck',
    severity: 'HIGH',
    title: 'Secrets Manager secret should not have a rotation stuck in progress',
    description: 'AWSPENDING is on a version other than AWSCURRENT and the secret has not changed for longer than its rotation window: every later rotation will be refused until the pending version is cleared or completed.',
    remediation: 'Fix the rotation function, then retry the rotation, or remove AWSPENDING with UpdateSecretVersionStage (RemoveFromVersionId=<pending version>).',
  },
  unused: {
    id: 'unused',
    severity: 'MEDIUM',
    title: 'Unused Secrets Manager secrets should be removed',
    description: 'The secret has not been read in this Region for longer than the policy allows (LastAccessedDate, or CreatedDate when it has never been read).',
    remediation: 'Confirm nothing uses the secret and delete it, or exempt it with a reason and an expiry date.',
    analogue: 'SecretsManager.3 / secretsmanager-secret-unused',
  },
  cmk: {
    id: 'cmk',
    severity: 'LOW',
    title: 'Secrets Manager secret should be encrypted with a customer managed KMS key',
    description: 'The secret is encrypted with the AWS managed key aws/secretsmanager (KmsKeyId absent), or with a key not on the policy\'s allowed list.',
    remediation: 'Re-encrypt the secret with a customer managed key (UpdateSecret with KmsKeyId).',
    analogue: 'secretsmanager-using-cmk',
  },
  'required-tags': {
    id: 'required-tags',
    severity: 'LOW',
    title: 'Secrets Manager secret should carry the required tags',
    description: 'One or more tag keys the policy requires are missing or empty.',
    remediation: 'Add the missing tags (TagResource).',
    analogue: 'SecretsManager.5',
  },
  'exemption-expired': {
    id: 'exemption-expired',
    severity: 'MEDIUM',
    title: 'Secrets Manager secret compliance exemption has expired',
    description: 'The secret carries an exemption whose expiry date has passed; it is evaluated as if it had none.',
    remediation: 'Bring the secret into policy and remove the exemption tags, or renew the exemption with a new reason and expiry date.',
  },
  'policy-tag-invalid': {
    id: 'policy-tag-invalid',
    severity: 'LOW',
    title: 'Secrets Manager secret compliance tags should be valid',
    description: 'A compliance tag on the secret cannot be honoured (malformed, unknown class, or looser than the policy allows); the secret is evaluated without it.',
    remediation: 'Correct or remove the tag named in the finding.',
  },
};

/** Checks that concern rotation: not evaluated on replicas, nor for classes that need no rotation. */
export const ROTATION_CHECKS: ReadonlySet<CheckId> = new Set<CheckId>([
  'rotation-disabled',
  'rotation-interval',
  'rotation-age',
  'rotation-missed',
  'rotation-stuck',
]);
