import type { SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { compilePolicy, type Policy, type PolicyDocument } from '../../../shared/compliance';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
/** Noon UTC, so that whole-day arithmetic and instant arithmetic differ visibly. */
export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
export const ago = (ms: number): Date => new Date(NOW - ms);
export const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/payments/db-AbCdEf';

/** A compliant primary secret: rotation every 30 days, rotated a day ago, read today, CMK, next rotation ahead. */
export function entry(overrides: Partial<SecretListEntry> = {}): SecretListEntry {
  return {
    ARN,
    Name: '/prod/payments/db',
    KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1111-2222',
    RotationEnabled: true,
    RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotate',
    RotationRules: { AutomaticallyAfterDays: 30 },
    CreatedDate: ago(400 * DAY),
    LastChangedDate: ago(DAY),
    LastRotatedDate: ago(DAY),
    LastAccessedDate: new Date(Date.UTC(2026, 0, 15)),
    NextRotationDate: new Date(NOW + 29 * DAY),
    PrimaryRegion: 'us-east-1',
    SecretVersionsToStages: { v2: ['AWSCURRENT'], v1: ['AWSPREVIOUS'] },
    ...overrides,
  };
}

export const policy = (doc?: PolicyDocument): Policy => compilePolicy(doc ? [{ source: 'test', document: doc }] : []);

/** Every check switched on (cmk is off by default). */
export const ALL_ON: PolicyDocument = { checks: { cmk: { enabled: true } } };
