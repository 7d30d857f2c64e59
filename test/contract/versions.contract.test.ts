// Contract: PutSecretValue, UpdateSecretVersionStage, ListSecretVersionIds and the staging labels.

import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { expectError, forEachTarget, itDeviates, sleep, token, uniqueName } from './targets';

/** VersionIdsToStages with every label list sorted, for order-independent comparison. */
async function stagesOf(client: SecretsManagerClient, secretId: string): Promise<Record<string, string[]>> {
  const d = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  const out: Record<string, string[]> = {};
  for (const [id, stages] of Object.entries(d.VersionIdsToStages ?? {})) out[id] = [...stages].sort();
  return out;
}

/** Which versions carry `label`, according to DescribeSecret. */
async function versionsWithLabel(client: SecretsManagerClient, secretId: string, label: string): Promise<string[]> {
  const stages = await stagesOf(client, secretId);
  return Object.entries(stages)
    .filter(([, labels]) => labels.includes(label))
    .map(([id]) => id)
    .sort();
}

forEachTarget((t) => {
  async function create(label: string, value = 'value-1'): Promise<{ name: string; arn: string; v1: string }> {
    const name = uniqueName(label);
    const v1 = token();
    const res = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: value, ClientRequestToken: v1 }));
    return { name, arn: res.ARN ?? '', v1 };
  }

  async function put(secretId: string, value: string, stages?: string[]): Promise<string> {
    const id = token();
    const res = await t.client.send(
      new PutSecretValueCommand({ SecretId: secretId, SecretString: value, ClientRequestToken: id, VersionStages: stages }),
    );
    expect(res.VersionId).toBe(id);
    return id;
  }

  async function readStage(secretId: string, stage: string): Promise<string | undefined> {
    const got = await t.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
    return got.SecretString;
  }

  describe('PutSecretValue', () => {
    it('makes the new version AWSCURRENT and the old one AWSPREVIOUS; response fields', async () => {
      const { name, arn, v1 } = await create('put-current');
      const v2 = token();
      const res = await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'value-2', ClientRequestToken: v2 }));
      expect(res.ARN).toBe(arn);
      expect(res.Name).toBe(name);
      expect(res.VersionId).toBe(v2);
      expect(res.VersionStages).toEqual(['AWSCURRENT']);
      expect(await stagesOf(t.client, name)).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
      expect(await readStage(name, 'AWSCURRENT')).toBe('value-2');
      expect(await readStage(name, 'AWSPREVIOUS')).toBe('value-1');
    });

    it('accepts SecretBinary', async () => {
      const { name } = await create('put-binary');
      const bytes = Uint8Array.from([9, 8, 7, 0, 255]);
      const res = await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretBinary: bytes }));
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: res.VersionId }));
      expect(Array.from(got.SecretBinary ?? [])).toEqual(Array.from(bytes));
      expect(got.SecretString).toBeUndefined();
    });

    itDeviates(t, '13 (unlabelled versions listed with [])', 'a third value leaves the first version unlabelled; DescribeSecret lists labelled versions only', async () => {
      const { name, v1 } = await create('put-third');
      const v2 = await put(name, 'value-2');
      const v3 = await put(name, 'value-3');
      const expected: Record<string, string[]> = { [v2]: ['AWSPREVIOUS'], [v3]: ['AWSCURRENT'] };
      if (t.isMoto) expected[v1] = [];
      expect(await stagesOf(t.client, name)).toEqual(expected);
      // An unlabelled (deprecated) version can still be read by VersionId.
      const old = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1 }));
      expect(old.SecretString).toBe('value-1');
      expect(old.VersionStages ?? []).toEqual([]);
    });

    it("with VersionStages ['AWSPENDING'] does not move AWSCURRENT", async () => {
      const { name, v1 } = await create('put-pending');
      const v2 = token();
      const res = await t.client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: 'pending', ClientRequestToken: v2, VersionStages: ['AWSPENDING'] }),
      );
      expect(res.VersionStages).toEqual(['AWSPENDING']);
      expect(await stagesOf(t.client, name)).toEqual({ [v1]: ['AWSCURRENT'], [v2]: ['AWSPENDING'] });
      expect(await readStage(name, 'AWSCURRENT')).toBe('value-1');
      expect(await readStage(name, 'AWSPENDING')).toBe('pending');
    });

    it('is idempotent for the same token and the same value', async () => {
      const { name, v1 } = await create('put-idem');
      const v2 = token();
      const first = await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'value-2', ClientRequestToken: v2 }));
      const again = await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'value-2', ClientRequestToken: v2 }));
      expect(again.VersionId).toBe(first.VersionId);
      expect(again.ARN).toBe(first.ARN);
      expect(await stagesOf(t.client, name)).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
      expect(await readStage(name, 'AWSCURRENT')).toBe('value-2');
    });

    it('rejects the same token with a different value: ResourceExistsException (version is immutable)', async () => {
      const { name } = await create('put-idem-diff');
      const v2 = await put(name, 'value-2');
      await expectError(
        t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'other', ClientRequestToken: v2 })),
        { name: 'ResourceExistsException', status: 400 },
      );
      expect(await readStage(name, 'AWSCURRENT')).toBe('value-2');
    });

    itDeviates(t, '12 (AWSPENDING versions are mutable)', 'rejects the same token with a different value on an AWSPENDING version', async () => {
      const { name } = await create('put-pending-mutate');
      const pending = await put(name, 'pending-1', ['AWSPENDING']);
      const again = t.client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: 'pending-2', ClientRequestToken: pending, VersionStages: ['AWSPENDING'] }),
      );
      if (t.isMoto) {
        await again;
        expect(await readStage(name, 'AWSPENDING')).toBe('pending-2');
      } else {
        await expectError(again, { name: 'ResourceExistsException', status: 400 });
        expect(await readStage(name, 'AWSPENDING')).toBe('pending-1');
      }
    });

    itDeviates(t, '10 (plain read does not follow the AWSCURRENT label)', 'GetSecretValue without VersionId/VersionStage follows the AWSCURRENT label', async () => {
      const { name, v1 } = await create('put-follow-current');
      const v2 = await put(name, 'value-2');
      await t.client.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v2 }),
      );
      expect(await readStage(name, 'AWSCURRENT')).toBe('value-1');
      const plain = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      if (t.isMoto) {
        expect(plain.VersionId).toBe(v2);
        expect(plain.SecretString).toBe('value-2');
      } else {
        expect(plain.VersionId).toBe(v1);
        expect(plain.SecretString).toBe('value-1');
        expect(plain.VersionStages).toEqual(['AWSCURRENT']);
      }
    });

    itDeviates(t, '22 (ResourceNotFoundException is HTTP 404)', 'a missing secret: ResourceNotFoundException', async () => {
      await expectError(t.client.send(new PutSecretValueCommand({ SecretId: uniqueName('put-missing'), SecretString: 'x' })), {
        name: 'ResourceNotFoundException',
        status: t.isMoto ? 404 : 400,
      });
    });
  });

  describe('UpdateSecretVersionStage', () => {
    it('moves AWSCURRENT with RemoveFromVersionId; AWSPREVIOUS follows to the old version', async () => {
      const { name, arn, v1 } = await create('stage-move');
      const v2 = await put(name, 'value-2', ['AWSPENDING']);
      const res = await t.client.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v2, RemoveFromVersionId: v1 }),
      );
      expect(res.ARN).toBe(arn);
      expect(res.Name).toBe(name);
      const stages = await stagesOf(t.client, name);
      expect(stages[v1]).toEqual(['AWSPREVIOUS']);
      expect(stages[v2]).toContain('AWSCURRENT');
      expect(stages[v2]).not.toContain('AWSPREVIOUS');
      expect(await readStage(name, 'AWSCURRENT')).toBe('value-2');
      expect(await readStage(name, 'AWSPREVIOUS')).toBe('value-1');
    });

    it('moving AWSCURRENT back takes AWSPREVIOUS off the target version', async () => {
      const { name, v1 } = await create('stage-back');
      const v2 = await put(name, 'value-2');
      await t.client.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v2 }),
      );
      expect(await versionsWithLabel(t.client, name, 'AWSCURRENT')).toEqual([v1]);
      expect(await versionsWithLabel(t.client, name, 'AWSPREVIOUS')).toEqual([v2]);
    });

    it('refuses to move AWSCURRENT without RemoveFromVersionId: InvalidParameterException naming the current version', async () => {
      const { name, v1 } = await create('stage-no-remove');
      const v2 = await put(name, 'value-2', ['AWSPENDING']);
      await expectError(
        t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v2 })),
        {
          name: 'InvalidParameterException',
          status: 400,
          message: new RegExp(`AWSCURRENT is currently attached to version ${v1}.*explicitly reference that version in RemoveFromVersionId`, 'i'),
        },
      );
      expect(await versionsWithLabel(t.client, name, 'AWSCURRENT')).toEqual([v1]);
    });

    itDeviates(t, '11 (a label can end up on two versions)', 'refuses to move a custom label attached elsewhere without RemoveFromVersionId', async () => {
      const { name } = await create('stage-custom-twice');
      const va = await put(name, 'value-a', ['LABEL_A']);
      const vb = await put(name, 'value-b', ['LABEL_B']);
      const move = t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'LABEL_A', MoveToVersionId: vb }));
      if (t.isMoto) {
        await move;
        expect(await versionsWithLabel(t.client, name, 'LABEL_A')).toEqual([va, vb].sort());
      } else {
        await expectError(move, {
          name: 'InvalidParameterException',
          status: 400,
          message: new RegExp(`LABEL_A is currently attached to version ${va}.*RemoveFromVersionId`, 'i'),
        });
        expect(await versionsWithLabel(t.client, name, 'LABEL_A')).toEqual([va]);
      }
    });

    it('custom labels: readable by VersionStage and movable with RemoveFromVersionId', async () => {
      const { name, v1 } = await create('stage-custom');
      const va = await put(name, 'value-a', ['BLUE']);
      expect(await readStage(name, 'BLUE')).toBe('value-a');
      const vb = await put(name, 'value-b', ['GREEN']);
      await t.client.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'BLUE', MoveToVersionId: vb, RemoveFromVersionId: va }),
      );
      expect(await readStage(name, 'BLUE')).toBe('value-b');
      expect(await versionsWithLabel(t.client, name, 'BLUE')).toEqual([vb]);
      const stages = await stagesOf(t.client, name);
      expect(stages[vb]).toEqual(['BLUE', 'GREEN']);
      // Custom labels never touch AWSCURRENT / AWSPREVIOUS.
      expect(await versionsWithLabel(t.client, name, 'AWSCURRENT')).toEqual([v1]);
      expect(await versionsWithLabel(t.client, name, 'AWSPREVIOUS')).toEqual([]);
    });

    it('removes a label with RemoveFromVersionId alone; the version stays readable by VersionId', async () => {
      const { name } = await create('stage-remove');
      const vx = await put(name, 'value-x', ['LABEL_X']);
      await t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'LABEL_X', RemoveFromVersionId: vx }));
      expect(await versionsWithLabel(t.client, name, 'LABEL_X')).toEqual([]);
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'LABEL_X' })), {
        name: 'ResourceNotFoundException',
      });
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: vx }));
      expect(got.SecretString).toBe('value-x');
    });

    itDeviates(t, '22 (ResourceNotFoundException is HTTP 404)', 'a missing secret: ResourceNotFoundException', async () => {
      await expectError(
        t.client.send(new UpdateSecretVersionStageCommand({ SecretId: uniqueName('stage-missing'), VersionStage: 'X', MoveToVersionId: token() })),
        { name: 'ResourceNotFoundException', status: t.isMoto ? 404 : 400 },
      );
    });
  });

  describe('ListSecretVersionIds', () => {
    itDeviates(t, '14a (ARN is the secret name; NextToken "")', 'returns the secret ARN and Name, and the labelled versions', async () => {
      const { name, arn, v1 } = await create('versions-arn');
      const v2 = await put(name, 'value-2');
      const res = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
      expect(res.Name).toBe(name);
      expect(res.ARN).toBe(t.isMoto ? name : arn);
      const versions = Object.fromEntries((res.Versions ?? []).map((v) => [v.VersionId ?? '', [...(v.VersionStages ?? [])].sort()]));
      expect(versions).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
      // moto sends NextToken "" instead of leaving it out.
      expect(res.NextToken).toBe(t.isMoto ? '' : undefined);
    });

    itDeviates(t, "14b (every CreatedDate is 'now')", "CreatedDate of an old version is its creation time, not 'now'", async () => {
      const { name, v1 } = await create('versions-created');
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1 }));
      const createdMs = got.CreatedDate?.getTime() ?? Number.NaN;
      await sleep(1_100); // moto keeps whole seconds: cross a second boundary
      const res = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
      const entry = (res.Versions ?? []).find((v) => v.VersionId === v1);
      const listedMs = entry?.CreatedDate?.getTime() ?? Number.NaN;
      if (t.isMoto) {
        expect(listedMs - createdMs).toBeGreaterThanOrEqual(1_000);
      } else {
        expect(Math.abs(listedMs - createdMs)).toBeLessThan(1_000);
      }
    });

    itDeviates(t, '26 (IncludeDeprecated ignored: unlabelled versions always listed)', 'lists unlabelled versions only with IncludeDeprecated', async () => {
      const { name, v1 } = await create('versions-deprecated');
      const v2 = await put(name, 'value-2');
      const v3 = await put(name, 'value-3');
      const ids = async (includeDeprecated?: boolean): Promise<string[]> => {
        const res = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: includeDeprecated }));
        return (res.Versions ?? []).map((v) => v.VersionId ?? '').sort();
      };
      expect(await ids(true)).toEqual([v1, v2, v3].sort());
      expect(await ids()).toEqual((t.isMoto ? [v1, v2, v3] : [v2, v3]).sort());
      const all = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
      const deprecated = (all.Versions ?? []).find((v) => v.VersionId === v1);
      expect(deprecated?.VersionStages ?? []).toEqual([]);
    });

    itDeviates(t, '28 (HTTP 500 with an HTML page)', 'a missing secret: ResourceNotFoundException', async () => {
      await expectError(t.client.send(new ListSecretVersionIdsCommand({ SecretId: uniqueName('versions-missing') })), {
        name: t.isMoto ? 'SyntaxError' : 'ResourceNotFoundException',
        status: t.isMoto ? 500 : 400,
      });
    });
  });
});
