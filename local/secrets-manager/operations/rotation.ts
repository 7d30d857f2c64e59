import { randomUUID } from 'node:crypto';
import { ApiError, invalidRequest } from '../errors';
import { isLambdaArn } from '../functions';
import { optionalBoolean, optionalString, requiredString, type Body } from '../input';
import type { RotationRules, StoredSecret } from '../model';
import { nextRotationDate, validateRotationRules } from '../rotation-schedule';
import { AWSCURRENT, AWSPENDING, pendingRotationVersion, versionWithStage } from '../store';
import { compact } from '../views';
import { CLIENT_REQUEST_TOKEN, SECRET_ID, type OperationContext } from './context';

const cannotInvoke = (arn: string): ApiError =>
  new ApiError(
    'AccessDeniedException',
    `Secrets Manager cannot invoke the specified Lambda function ${arn}. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.`,
  );

function readRules(body: Body): RotationRules | undefined {
  const raw = body['RotationRules'];
  if (raw === undefined || raw === null) return undefined;
  return validateRotationRules(raw);
}

export async function rotateSecret(body: Body, ctx: OperationContext): Promise<unknown> {
  const { store, clock, rotations } = ctx;
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID));
  const token = optionalString(body, 'ClientRequestToken', CLIENT_REQUEST_TOKEN) ?? randomUUID();
  const lambdaArn = optionalString(body, 'RotationLambdaARN', { max: 2048 });
  const rules = readRules(body);
  const immediately = optionalBoolean(body, 'RotateImmediately') ?? true;

  // Everything is checked before anything changes, so a refused call leaves no partial state.
  const effectiveLambda = lambdaArn ?? secret.rotationLambdaArn;
  if (effectiveLambda === undefined) {
    throw invalidRequest('No Lambda rotation function ARN is associated with this secret.');
  }
  if (!isLambdaArn(effectiveLambda) || !ctx.rotations.canInvoke(effectiveLambda)) throw cannotInvoke(effectiveLambda);
  const pending = pendingRotationVersion(secret);
  if (pending) {
    // The caller's own retry of this very rotation is idempotent.
    if (pending.versionId === token) return { ARN: secret.arn, Name: secret.name, VersionId: token };
    throw invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.");
  }
  if (rotations.isRotating(secret)) throw invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.");
  if (secret.versions.has(token)) {
    throw new ApiError('ResourceExistsException', `A version with ClientRequestToken ${token} already exists for this secret.`);
  }
  const current = versionWithStage(secret, AWSCURRENT);
  if (!immediately && !current?.secretString && !current?.secretBinary) {
    throw invalidRequest('The secret has no AWSCURRENT value to test rotation with.');
  }

  configureRotation(secret, effectiveLambda, rules, clock.now());
  const now = clock.now();
  if (immediately) {
    // The value-less AWSPENDING stub, registered before the function is first invoked.
    secret.versions.set(token, { versionId: token, createdDate: now, stages: new Set([AWSPENDING]) });
    const done = rotations.start(secret, token);
    if (rotations.options.mode === 'sync') await done;
  } else {
    secret.versions.set(token, {
      versionId: token,
      createdDate: now,
      stages: new Set([AWSPENDING]),
      ...compact({ secretString: current?.secretString, secretBinary: current?.secretBinary }),
    });
    const done = rotations.startTest(secret, token);
    if (rotations.options.mode === 'sync') await done;
  }
  return { ARN: secret.arn, Name: secret.name, VersionId: token };
}

function configureRotation(secret: StoredSecret, lambdaArn: string, rules: RotationRules | undefined, now: Date): void {
  secret.rotationLambdaArn = lambdaArn;
  if (rules) secret.rotationRules = rules;
  if (rules || secret.rotationEnabled === undefined || secret.rotationEnabled === false) {
    if (secret.rotationRules) {
      secret.rotationEnabled = true;
      secret.nextRotationDate = nextRotationDate(secret.rotationRules, now);
    }
  }
  secret.lastChangedDate = now;
}

export function cancelRotateSecret(body: Body, { store, clock }: OperationContext): unknown {
  const secret = store.get(requiredString(body, 'SecretId', SECRET_ID));
  secret.rotationEnabled = false;
  delete secret.nextRotationDate;
  secret.lastChangedDate = clock.now();
  // AWS leaves a dangling AWSPENDING in place; its VersionId is returned so the caller can clean up.
  const pending = pendingRotationVersion(secret);
  return compact({ ARN: secret.arn, Name: secret.name, VersionId: pending?.versionId });
}
