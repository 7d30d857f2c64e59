// Contract: RotateSecret / CancelRotateSecret where the sandbox and moto can be compared, plus
// moto-only checks that pin down moto's rotation deviations (1–8, 10) so an upgrade is noticed.
//
// The sandbox's rotation orchestration (invoking a Lambda, steps, retries) is covered by the
// sandbox's own tests, not here.
//
// moto needs the rotation Lambda to exist in its own Lambda backend (otherwise RotateSecret gives
// ResourceNotFoundException, see deviation 8), and running one would need Docker. The moto-only
// block therefore switches moto to its Docker-less "simple" Lambda backend (POST /moto-api/config),
// creates an IAM role and a function in moto, and uses that ARN. moto's simple Lambda does nothing
// when invoked, so the tests play the rotation function's steps by hand where needed.

import { randomUUID } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type RotateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { REGION, expectError, forEachTarget, itDeviates, token, uniqueName, type TargetContext } from './targets';

const DAY_MS = 86_400_000;

function fakeAuthorization(service: string): string {
  // moto routes on the credential scope's service name and does not verify signatures.
  return `AWS4-HMAC-SHA256 Credential=AKIACONTRACTTEST0000/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

async function motoCall(endpoint: string, path: string, service: string, init: RequestInit): Promise<string> {
  const res = await fetch(`${endpoint}${path}`, {
    ...init,
    headers: { Authorization: fakeAuthorization(service), ...(init.headers as Record<string, string> | undefined) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto ${service} ${path} -> HTTP ${res.status}: ${text.slice(0, 500)}`);
  return text;
}

/** Creates a do-nothing Lambda function in moto (Docker-less backend) and returns its ARN. */
async function createMotoRotationLambda(endpoint: string): Promise<string> {
  const config = await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  await config.text();
  if (!config.ok) throw new Error(`moto /moto-api/config -> HTTP ${config.status}`);

  const suffix = randomUUID().slice(0, 8);
  const roleName = `contract-rotation-role-${suffix}`;
  const roleXml = await motoCall(endpoint, '/', 'iam', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      Action: 'CreateRole',
      Version: '2010-05-08',
      RoleName: roleName,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }).toString(),
  });
  const roleArn = /<Arn>([^<]+)<\/Arn>/.exec(roleXml)?.[1];
  if (roleArn === undefined) throw new Error(`moto CreateRole: no Arn in ${roleXml.slice(0, 300)}`);

  const fn = await motoCall(endpoint, '/2015-03-31/functions', 'lambda', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      FunctionName: `contract-rotation-${suffix}`,
      Runtime: 'nodejs20.x',
      Role: roleArn,
      Handler: 'index.handler',
      // Never run: moto's simple Lambda backend does not execute the code.
      Code: { ZipFile: Buffer.from('not executed').toString('base64') },
    }),
  });
  const parsed: unknown = JSON.parse(fn);
  const arn = typeof parsed === 'object' && parsed !== null ? (parsed as { FunctionArn?: unknown }).FunctionArn : undefined;
  if (typeof arn !== 'string') throw new Error(`moto CreateFunction: no FunctionArn in ${fn.slice(0, 300)}`);
  return arn;
}

async function stagesOf(t: TargetContext, secretId: string): Promise<Record<string, string[]>> {
  const d = await t.client.send(new DescribeSecretCommand({ SecretId: secretId }));
  const out: Record<string, string[]> = {};
  for (const [id, stages] of Object.entries(d.VersionIdsToStages ?? {})) out[id] = [...stages].sort();
  return out;
}

async function versionsWithLabel(t: TargetContext, secretId: string, label: string): Promise<string[]> {
  return Object.entries(await stagesOf(t, secretId))
    .filter(([, labels]) => labels.includes(label))
    .map(([id]) => id)
    .sort();
}

async function createSecret(t: TargetContext, label: string, value = 'initial'): Promise<{ name: string; v1: string }> {
  const name = uniqueName(label);
  const v1 = token();
  await t.client.send(new CreateSecretCommand({ Name: name, SecretString: value, ClientRequestToken: v1 }));
  return { name, v1 };
}

// ---------------------------------------------------------------------------------------------
// Both targets: what can be compared without running a rotation function.
// ---------------------------------------------------------------------------------------------
forEachTarget((t) => {
  describe('RotateSecret / CancelRotateSecret (comparable)', () => {
    itDeviates(t, '3 (rotates without a Lambda, promoting an empty version)', 'RotateSecret with no Lambda configured or given is rejected', async () => {
      const inputs: Array<Omit<RotateSecretCommandInput, 'SecretId'>> = [{}, { RotationRules: { AutomaticallyAfterDays: 7 } }];
      for (const extra of inputs) {
        const { name, v1 } = await createSecret(t, 'rotate-no-lambda');
        const call = t.client.send(new RotateSecretCommand({ SecretId: name, ...extra }));
        if (t.isMoto) {
          const res = await call;
          expect(await versionsWithLabel(t, name, 'AWSCURRENT')).toEqual([res.VersionId ?? '']);
          expect(await versionsWithLabel(t, name, 'AWSPREVIOUS')).toEqual([v1]);
          await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' })), {
            name: 'ResourceNotFoundException',
          });
        } else {
          await expectError(call, { name: 'InvalidRequestException', status: 400 });
          expect(await stagesOf(t, name)).toEqual({ [v1]: ['AWSCURRENT'] });
          const got = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }));
          expect(got.SecretString).toBe('initial');
          const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
          expect(d.RotationEnabled ?? false).toBe(false);
          expect(d.LastRotatedDate).toBeUndefined();
        }
      }
    });

    itDeviates(t, '22 (ResourceNotFoundException is HTTP 404)', 'RotateSecret / CancelRotateSecret of a missing secret: ResourceNotFoundException', async () => {
      const name = uniqueName('rotate-missing');
      const status = t.isMoto ? 404 : 400;
      await expectError(t.client.send(new RotateSecretCommand({ SecretId: name })), { name: 'ResourceNotFoundException', status });
      await expectError(t.client.send(new CancelRotateSecretCommand({ SecretId: name })), { name: 'ResourceNotFoundException', status });
    });

    it('RotateSecret / CancelRotateSecret of a secret scheduled for deletion: InvalidRequestException', async () => {
      const { name } = await createSecret(t, 'rotate-deleted');
      await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
      await expectError(t.client.send(new RotateSecretCommand({ SecretId: name })), { name: 'InvalidRequestException', status: 400 });
      await expectError(t.client.send(new CancelRotateSecretCommand({ SecretId: name })), { name: 'InvalidRequestException', status: 400 });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// moto only: its rotation deviations, asserted as moto's behaviour.
// ---------------------------------------------------------------------------------------------
forEachTarget((t) => {
  describe('RotateSecret: moto-only deviation checks', () => {
    let lambdaArn = '';

    beforeAll(async () => {
      lambdaArn = await createMotoRotationLambda(t.target.endpoint);
    });

    /** RotateSecret with moto's do-nothing Lambda; returns the new (AWSPENDING) version id. */
    async function rotate(name: string, extra: Omit<RotateSecretCommandInput, 'SecretId'> = {}): Promise<string> {
      const tk = token();
      const res = await t.client.send(
        new RotateSecretCommand({ SecretId: name, RotationLambdaARN: lambdaArn, ClientRequestToken: tk, ...extra }),
      );
      if (extra.RotateImmediately === false) {
        // moto answers with its default (AWSCURRENT) version here; AWS returns the new VersionId.
        expect(res.VersionId).not.toBe(tk);
      } else {
        expect(res.VersionId).toBe(tk);
      }
      return tk;
    }

    /** What a template rotation function does in createSecret and finishSecret. */
    async function finishLikeTemplate(name: string, pending: string, previous: string, alsoDropPending: boolean): Promise<void> {
      await t.client.send(
        new PutSecretValueCommand({ SecretId: name, ClientRequestToken: pending, SecretString: `rotated-${pending}`, VersionStages: ['AWSPENDING'] }),
      );
      await t.client.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: pending, RemoveFromVersionId: previous }),
      );
      if (alsoDropPending) {
        await t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: pending }));
      }
    }

    it('moto needs the Lambda to exist in its Lambda backend: an unknown ARN gives ResourceNotFoundException and leaves partial state [moto deviation 8]', async () => {
      const { name, v1 } = await createSecret(t, 'moto-rotate-unknown-lambda');
      const badArn = `arn:aws:lambda:${REGION}:123456789012:function:contract-does-not-exist`;
      await expectError(
        t.client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: badArn, RotationRules: { AutomaticallyAfterDays: 5 } })),
        { name: 'ResourceNotFoundException', status: 404, message: `Resource not found for ARN '${badArn}'.` },
      );
      const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(d.RotationEnabled).toBe(true);
      expect(d.RotationLambdaARN).toBe(badArn);
      const pending = await versionsWithLabel(t, name, 'AWSPENDING');
      expect(pending).toHaveLength(1);
      expect(pending[0]).not.toBe(v1);
      expect(await versionsWithLabel(t, name, 'AWSCURRENT')).toEqual([v1]);
    });

    it('a completed template-style rotation (AWSPENDING left on AWSCURRENT) blocks the next RotateSecret [moto deviation 1]', async () => {
      const { name, v1 } = await createSecret(t, 'moto-rotate-inverted');
      const p1 = await rotate(name, { RotationRules: { AutomaticallyAfterDays: 30 } });
      await finishLikeTemplate(name, p1, v1, false);
      expect((await stagesOf(t, name))[p1]).toEqual(['AWSCURRENT', 'AWSPENDING']);
      // AWS allows this (AWSPENDING on the AWSCURRENT version is a legal end state); moto refuses.
      await expectError(t.client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: lambdaArn })), {
        name: 'InvalidRequestException',
        status: 400,
        message: 'Previous rotation request is still in progress.',
      });
      // A rotation function that also takes AWSPENDING off (also legal on AWS) avoids it.
      await t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: p1 }));
      const p2 = await rotate(name);
      expect(await versionsWithLabel(t, name, 'AWSPENDING')).toEqual([p2]);
    });

    it('a rotation genuinely in progress is silently restarted instead of refused [moto deviation 1]', async () => {
      const { name, v1 } = await createSecret(t, 'moto-rotate-restart');
      const p1 = await rotate(name);
      expect(await versionsWithLabel(t, name, 'AWSPENDING')).toEqual([p1]);
      // AWS: InvalidRequestException (AWSPENDING sits on a version that is not AWSCURRENT).
      const p2 = await rotate(name);
      expect(await versionsWithLabel(t, name, 'AWSPENDING')).toEqual([p2]);
      expect((await stagesOf(t, name))[p1] ?? []).toEqual([]);
      expect(await versionsWithLabel(t, name, 'AWSCURRENT')).toEqual([v1]);
    });

    it('RotateSecret(SecretId) alone clears RotationLambdaARN and promotes an empty version to AWSCURRENT [moto deviation 2]', async () => {
      const { name, v1 } = await createSecret(t, 'moto-rotate-now');
      const p1 = await rotate(name, { RotationRules: { AutomaticallyAfterDays: 30 } });
      await finishLikeTemplate(name, p1, v1, true);
      const res = await t.client.send(new RotateSecretCommand({ SecretId: name }));
      const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(d.RotationLambdaARN).toBe(''); // AWS keeps the configured Lambda and invokes it
      expect(await versionsWithLabel(t, name, 'AWSCURRENT')).toContain(res.VersionId ?? '');
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' })), {
        name: 'ResourceNotFoundException',
        status: 404,
      });
    });

    it('RotationRules.ScheduleExpression and Duration are ignored: rotation stays disabled [moto deviation 4]', async () => {
      const { name } = await createSecret(t, 'moto-rotate-schedule');
      await rotate(name, { RotationRules: { ScheduleExpression: 'rate(10 days)', Duration: '3h' }, RotateImmediately: false });
      const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      // AWS: RotationEnabled true and RotationRules { ScheduleExpression: 'rate(10 days)', Duration: '3h' }.
      expect(d.RotationEnabled).toBe(false);
      expect(d.RotationRules).toEqual({ AutomaticallyAfterDays: 0 });
      expect(d.NextRotationDate).toBeUndefined();
    });

    it('RotateImmediately=false leaves an AWSPENDING version holding the CreateSecret value, and the response VersionId is not the new version [moto deviation 5]', async () => {
      const { name } = await createSecret(t, 'moto-rotate-test-only', 'original');
      await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'newer' }));
      const pending = await rotate(name, { RotateImmediately: false });
      // AWS runs only testSecret and removes the AWSPENDING test version afterwards.
      expect(await versionsWithLabel(t, name, 'AWSPENDING')).toEqual([pending]);
      const got = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' }));
      expect(got.SecretString).toBe('original');
    });

    it('LastRotatedDate is stamped when RotateSecret is called, before any step has produced a value [moto deviation 6]', async () => {
      const { name, v1 } = await createSecret(t, 'moto-rotate-last-rotated');
      const before = Date.now();
      await rotate(name, { RotationRules: { AutomaticallyAfterDays: 30 } });
      const d = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(d.LastRotatedDate).toBeInstanceOf(Date);
      expect(Math.abs((d.LastRotatedDate?.getTime() ?? 0) - before)).toBeLessThanOrEqual(5_000);
      // ...although nothing was rotated: the pending version has no value, AWSCURRENT is unchanged.
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' })), {
        name: 'ResourceNotFoundException',
      });
      expect(await versionsWithLabel(t, name, 'AWSCURRENT')).toEqual([v1]);
    });

    it('NextRotationDate is call time + AutomaticallyAfterDays and is not recomputed by later rotations [moto deviation 7]', async () => {
      const { name, v1 } = await createSecret(t, 'moto-rotate-next-date');
      const before = Date.now();
      const p1 = await rotate(name, { RotationRules: { AutomaticallyAfterDays: 3 } });
      const d1 = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(Math.abs((d1.NextRotationDate?.getTime() ?? 0) - (before + 3 * DAY_MS))).toBeLessThanOrEqual(5_000);
      expect(d1.RotationEnabled).toBe(true);
      await finishLikeTemplate(name, p1, v1, true);
      await rotate(name);
      const d2 = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(d2.NextRotationDate?.getTime()).toBe(d1.NextRotationDate?.getTime());
    });

    it('after RotateSecret a plain GetSecretValue reads the AWSPENDING stub, not AWSCURRENT [moto deviation 10]', async () => {
      const { name } = await createSecret(t, 'moto-rotate-plain-read');
      const pending = await rotate(name);
      await expectError(t.client.send(new GetSecretValueCommand({ SecretId: name })), { name: 'ResourceNotFoundException' });
      const current = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }));
      expect(current.SecretString).toBe('initial');
      // Once createSecret has stored the pending value, a plain read hands it out.
      await t.client.send(
        new PutSecretValueCommand({ SecretId: name, ClientRequestToken: pending, SecretString: 'not-yet-set', VersionStages: ['AWSPENDING'] }),
      );
      const plain = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      expect(plain.SecretString).toBe('not-yet-set');
      expect(plain.VersionId).toBe(pending);
    });
  });
}, ['moto']);
