// Contract: CreateSecret, DescribeSecret, GetSecretValue, tags, DeleteSecret / RestoreSecret.
// Versions and labels: versions.contract.test.ts. ListSecrets: list.contract.test.ts.

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { arnPattern, catchError, expectError, forEachTarget, itDeviates, token, uniqueName } from './targets';

const DAY_MS = 86_400_000;
const NOT_FOUND_MESSAGE = "Secrets Manager can't find the specified secret.";

function sortedTags(tags: Tag[] | undefined): Tag[] {
  return [...(tags ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? ''));
}

function expectNear(actual: Date | undefined, expectedMs: number, toleranceMs: number): void {
  expect(actual).toBeInstanceOf(Date);
  expect(Math.abs((actual?.getTime() ?? Number.NaN) - expectedMs)).toBeLessThanOrEqual(toleranceMs);
}

forEachTarget((t) => {
  /** moto answers ResourceNotFoundException with HTTP 404; AWS uses 400 for every Secrets Manager error. */
  const notFoundStatus = (): number => (t.isMoto ? 404 : 400);

  describe('CreateSecret', () => {
    it('creates a string secret: ARN format, Name, VersionId; the value reads back as AWSCURRENT', async () => {
      const name = uniqueName('create-string');
      const res = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 's3cr3t-string' }));
      expect(res.Name).toBe(name);
      expect(res.ARN).toMatch(arnPattern(t.target, name));
      expect(res.VersionId).toEqual(expect.any(String));
      expect(res.VersionId?.length).toBeGreaterThanOrEqual(32);
      expect(res.VersionId?.length).toBeLessThanOrEqual(64);

      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      expect(got.ARN).toBe(res.ARN);
      expect(got.Name).toBe(name);
      expect(got.VersionId).toBe(res.VersionId);
      expect(got.SecretString).toBe('s3cr3t-string');
      expect(got.SecretBinary).toBeUndefined();
      expect(got.VersionStages).toEqual(['AWSCURRENT']);
      expect(got.CreatedDate).toBeInstanceOf(Date);
    });

    it('creates a binary secret and returns the same bytes', async () => {
      const name = uniqueName('create-binary');
      const bytes = Uint8Array.from([0, 1, 2, 127, 128, 254, 255]);
      const res = await t.client.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes }));
      expect(res.ARN).toMatch(arnPattern(t.target, name));
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      expect(got.SecretString).toBeUndefined();
      expect(Array.from(got.SecretBinary ?? [])).toEqual(Array.from(bytes));
      expect(got.VersionStages).toEqual(['AWSCURRENT']);
    });

    it('stores Description and Tags', async () => {
      const name = uniqueName('create-tags');
      const tags = [
        { Key: 'team', Value: 'payments' },
        { Key: 'env', Value: 'prod' },
      ];
      await t.client.send(
        new CreateSecretCommand({ Name: name, SecretString: 'x', Description: 'Primary DB credentials', Tags: tags }),
      );
      const described = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(described.Description).toBe('Primary DB credentials');
      expect(sortedTags(described.Tags)).toEqual(sortedTags(tags));
    });

    it('is idempotent for the same ClientRequestToken and the same value (same version)', async () => {
      const name = uniqueName('create-idem');
      const tk = token();
      const first = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: tk }));
      expect(first.VersionId).toBe(tk);
      const again = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: tk }));
      expect(again.ARN).toBe(first.ARN);
      expect(again.Name).toBe(name);
      expect(again.VersionId).toBe(tk);
      const described = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(described.VersionIdsToStages).toEqual({ [tk]: ['AWSCURRENT'] });
    });

    it('rejects the same ClientRequestToken with a different value: ResourceExistsException', async () => {
      const name = uniqueName('create-idem-diff');
      const tk = token();
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: tk }));
      await expectError(
        t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v2', ClientRequestToken: tk })),
        { name: 'ResourceExistsException', status: 400 },
      );
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      expect(got.SecretString).toBe('v1');
    });

    it('rejects a duplicate name (new token): ResourceExistsException', async () => {
      const name = uniqueName('create-dup');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
      await expectError(t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v2' })), {
        name: 'ResourceExistsException',
        status: 400,
        message: `The operation failed because the secret ${name} already exists.`,
      });
    });

    it('creates a secret without a value: no VersionId, and GetSecretValue finds no AWSCURRENT value', async () => {
      const name = uniqueName('create-empty');
      const res = await t.client.send(new CreateSecretCommand({ Name: name }));
      expect(res.ARN).toMatch(arnPattern(t.target, name));
      expect(res.VersionId).toBeUndefined();
      const described = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(Object.keys(described.VersionIdsToStages ?? {})).toEqual([]);
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
        message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      });
    });
  });

  describe('DescribeSecret', () => {
    it('returns the fields of a fresh secret, and no rotation/deletion fields', async () => {
      const name = uniqueName('describe');
      const before = Date.now();
      const created = await t.client.send(
        new CreateSecretCommand({ Name: name, SecretString: 'x', Description: 'describe me' }),
      );
      const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(d.ARN).toBe(created.ARN);
      expect(d.Name).toBe(name);
      expect(d.Description).toBe('describe me');
      // moto keeps whole seconds, hence the slack.
      expectNear(d.CreatedDate, before, 5_000);
      expectNear(d.LastChangedDate, before, 5_000);
      expect(d.VersionIdsToStages).toEqual({ [created.VersionId ?? '']: ['AWSCURRENT'] });
      expect(d.RotationEnabled).toBeUndefined();
      expect(d.RotationLambdaARN).toBeUndefined();
      expect(d.LastRotatedDate).toBeUndefined();
      expect(d.NextRotationDate).toBeUndefined();
      expect(d.DeletedDate).toBeUndefined();
      expect(d.KmsKeyId).toBeUndefined();
      expect(d.OwningService).toBeUndefined();
    });

    it('finds the secret by name, by full ARN and by partial ARN (no random suffix)', async () => {
      const name = uniqueName('describe-arn');
      const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      const arn = created.ARN ?? '';
      const partialArn = arn.slice(0, -7);
      expect(partialArn.endsWith(`:secret:${name}`)).toBe(true);
      for (const id of [name, arn, partialArn]) {
        const d = await t.client.send(new DescribeSecretCommand({ SecretId: id }));
        expect(d.ARN, `SecretId ${id}`).toBe(arn);
        expect(d.Name).toBe(name);
        const got = await t.client.send(new GetSecretValueCommand({ SecretId: id }));
        expect(got.SecretString).toBe('x');
      }
    });

    itDeviates(t, '22 (ResourceNotFoundException is HTTP 404)', 'a missing secret: ResourceNotFoundException, HTTP 400, message', async () => {
      const name = uniqueName('describe-missing');
      await expectError(t.client.send(new DescribeSecretCommand({ SecretId: name })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
        message: NOT_FOUND_MESSAGE,
      });
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
        message: NOT_FOUND_MESSAGE,
      });
    });

    itDeviates(t, '15 (LastAccessedDate never set)', 'LastAccessedDate is set (day resolution) once the value has been read', async () => {
      const name = uniqueName('describe-accessed');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      const unread = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(unread.LastAccessedDate).toBeUndefined();
      await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      const read = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      if (t.isMoto) {
        expect(read.LastAccessedDate).toBeUndefined();
      } else {
        const now = Date.now();
        const startOfUtcDay = now - (now % DAY_MS);
        expect(read.LastAccessedDate).toBeInstanceOf(Date);
        expect(read.LastAccessedDate?.getTime()).toBeGreaterThanOrEqual(startOfUtcDay);
        expect(read.LastAccessedDate?.getTime()).toBeLessThanOrEqual(now);
      }
    });
  });

  describe('GetSecretValue', () => {
    /** v1 (AWSPREVIOUS) and v2 (AWSCURRENT). */
    async function twoVersions(label: string): Promise<{ name: string; v1: string; v2: string }> {
      const name = uniqueName(label);
      const v1 = token();
      const v2 = token();
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'value-1', ClientRequestToken: v1 }));
      await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'value-2', ClientRequestToken: v2 }));
      return { name, v1, v2 };
    }

    it('returns AWSCURRENT by default', async () => {
      const { name, v2 } = await twoVersions('get-default');
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      expect(got.SecretString).toBe('value-2');
      expect(got.VersionId).toBe(v2);
      expect(got.VersionStages).toEqual(['AWSCURRENT']);
    });

    it('returns a version by VersionId, by VersionStage, and by both when they agree', async () => {
      const { name, v1, v2 } = await twoVersions('get-select');
      const byId = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1 }));
      expect(byId.SecretString).toBe('value-1');
      expect(byId.VersionStages).toEqual(['AWSPREVIOUS']);
      const byStage = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
      expect(byStage.VersionId).toBe(v1);
      expect(byStage.SecretString).toBe('value-1');
      const current = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }));
      expect(current.VersionId).toBe(v2);
      const both = await t.client.send(
        new GetSecretValueCommand({ SecretId: name, VersionId: v2, VersionStage: 'AWSCURRENT' }),
      );
      expect(both.SecretString).toBe('value-2');
    });

    itDeviates(t, '19 (mismatch is HTTP 404)', 'VersionId and VersionStage that disagree: a client error, no value', async () => {
      const { name, v1 } = await twoVersions('get-mismatch');
      const call = t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1, VersionStage: 'AWSCURRENT' }));
      if (t.isMoto) {
        await expectError(call, {
          name: 'InvalidRequestException',
          status: 404,
          message: 'You provided a VersionStage that is not associated to the provided VersionId.',
        });
      } else {
        // The AWS error code for this case is unverified (emulators use InvalidRequestException or
        // ResourceNotFoundException), so either is accepted; the status must be AWS's 400.
        const err = await catchError(call);
        expect(['InvalidRequestException', 'ResourceNotFoundException'], err.message).toContain(err.name);
        expect(err.status).toBe(400);
      }
    });

    itDeviates(t, '22/23 (404; generic message for an unknown label)', 'an unknown VersionStage: ResourceNotFoundException naming the label', async () => {
      const { name } = await twoVersions('get-unknown-stage');
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'NOSUCHLABEL' })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
        message: t.isMoto
          ? NOT_FOUND_MESSAGE
          : "Secrets Manager can't find the specified secret value for staging label: NOSUCHLABEL",
      });
    });

    itDeviates(t, '22 (ResourceNotFoundException is HTTP 404)', 'an unknown VersionId: ResourceNotFoundException naming the VersionId', async () => {
      const { name } = await twoVersions('get-unknown-id');
      const missing = token();
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: missing })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
        message: `Secrets Manager can't find the specified secret value for VersionId: ${missing}`,
      });
    });
  });

  describe('TagResource / UntagResource', () => {
    it('adds, overwrites and removes tags', async () => {
      const name = uniqueName('tags');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x', Tags: [{ Key: 'a', Value: '1' }] }));
      await t.client.send(
        new TagResourceCommand({
          SecretId: name,
          Tags: [
            { Key: 'b', Value: '2' },
            { Key: 'a', Value: 'one' },
          ],
        }),
      );
      let d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(sortedTags(d.Tags)).toEqual([
        { Key: 'a', Value: 'one' },
        { Key: 'b', Value: '2' },
      ]);
      await t.client.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['a', 'not-there'] }));
      d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(sortedTags(d.Tags)).toEqual([{ Key: 'b', Value: '2' }]);
      await t.client.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['b'] }));
      d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(d.Tags ?? []).toEqual([]);
    });

    itDeviates(t, '22 (ResourceNotFoundException is HTTP 404)', 'tagging a missing secret: ResourceNotFoundException', async () => {
      const name = uniqueName('tags-missing');
      await expectError(t.client.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'a', Value: '1' }] })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
      });
      await expectError(t.client.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['a'] })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
      });
    });
  });

  describe('DeleteSecret / RestoreSecret', () => {
    it('schedules deletion 30 days out by default; DescribeSecret shows DeletedDate', async () => {
      const name = uniqueName('delete-default');
      const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      const now = Date.now();
      const res = await t.client.send(new DeleteSecretCommand({ SecretId: name }));
      expect(res.ARN).toBe(created.ARN);
      expect(res.Name).toBe(name);
      expectNear(res.DeletionDate, now + 30 * DAY_MS, 60_000);
      const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expectNear(d.DeletedDate, res.DeletionDate?.getTime() ?? Number.NaN, 2_000);
    });

    it('honours RecoveryWindowInDays 7 and 30', async () => {
      for (const days of [7, 30]) {
        const name = uniqueName(`delete-window-${days}`);
        await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
        const now = Date.now();
        const res = await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: days }));
        expectNear(res.DeletionDate, now + days * DAY_MS, 60_000);
      }
    });

    it('rejects RecoveryWindowInDays outside 7–30: InvalidParameterException, secret untouched', async () => {
      const name = uniqueName('delete-window-bad');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      for (const days of [6, 31]) {
        await expectError(t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: days })), {
          name: 'InvalidParameterException',
          status: 400,
          message: /RecoveryWindowInDays value must be between 7 and 30 days \(inclusive\)/,
        });
      }
      const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(d.DeletedDate).toBeUndefined();
    });

    it('rejects ForceDeleteWithoutRecovery together with RecoveryWindowInDays: InvalidParameterException', async () => {
      const name = uniqueName('delete-both');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      await expectError(
        t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
        {
          name: 'InvalidParameterException',
          status: 400,
          message: /You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays/,
        },
      );
    });

    it('ForceDeleteWithoutRecovery removes the secret at once; the name can be reused', async () => {
      const name = uniqueName('delete-force');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      const now = Date.now();
      const res = await t.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      expect(res.Name).toBe(name);
      expectNear(res.DeletionDate, now, 60_000);
      await expectError(t.client.send(new DescribeSecretCommand({ SecretId: name })), {
        name: 'ResourceNotFoundException',
      });
      const again = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'y' }));
      expect(again.ARN).toMatch(arnPattern(t.target, name));
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      expect(got.SecretString).toBe('y');
    });

    it('a secret scheduled for deletion: GetSecretValue and a second DeleteSecret give InvalidRequestException', async () => {
      const name = uniqueName('delete-then-read');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name })), {
        name: 'InvalidRequestException',
        status: 400,
        message: /marked (for deletion|deleted)/,
      });
      await expectError(t.client.send(new DeleteSecretCommand({ SecretId: name })), {
        name: 'InvalidRequestException',
        status: 400,
      });
    });

    itDeviates(t, '24 (PutSecretValue accepted on a deleted secret)', 'a secret scheduled for deletion: PutSecretValue gives InvalidRequestException', async () => {
      const name = uniqueName('delete-then-put');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
      const put = t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'y' }));
      if (t.isMoto) {
        const res = await put;
        expect(res.VersionStages).toEqual(['AWSCURRENT']);
      } else {
        await expectError(put, { name: 'InvalidRequestException', status: 400 });
      }
    });

    itDeviates(t, '25 (ResourceExistsException instead)', 'CreateSecret with the name of a secret scheduled for deletion: InvalidRequestException', async () => {
      const name = uniqueName('delete-then-create');
      await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
      await expectError(t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'y' })), {
        name: t.isMoto ? 'ResourceExistsException' : 'InvalidRequestException',
        status: 400,
        message: t.isMoto
          ? `The operation failed because the secret ${name} already exists.`
          : "You can't create this secret because a secret with this name is already scheduled for deletion.",
      });
    });

    it('RestoreSecret cancels the deletion and the value is readable again', async () => {
      const name = uniqueName('restore');
      const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'keep-me' }));
      await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
      const res = await t.client.send(new RestoreSecretCommand({ SecretId: name }));
      expect(res.ARN).toBe(created.ARN);
      expect(res.Name).toBe(name);
      const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(d.DeletedDate).toBeUndefined();
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      expect(got.SecretString).toBe('keep-me');
    });

    itDeviates(t, '22 (ResourceNotFoundException is HTTP 404)', 'RestoreSecret / DeleteSecret of a missing secret: ResourceNotFoundException', async () => {
      const name = uniqueName('restore-missing');
      await expectError(t.client.send(new RestoreSecretCommand({ SecretId: name })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
      });
      await expectError(t.client.send(new DeleteSecretCommand({ SecretId: name })), {
        name: 'ResourceNotFoundException',
        status: notFoundStatus(),
      });
    });
  });
});
