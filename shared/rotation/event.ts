import { InvalidEventError } from './errors';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/** A validated rotation event, as Secrets Manager sends it to a rotation function. */
export interface RotationRequest {
  step: RotationStep;
  secretId: string;
  token: string;
  /** Present in current events; passed on to PutSecretValue for assumed-role and cross-account rotation. */
  rotationToken?: string;
}

const STEPS: Record<string, RotationStep> = {
  createSecret: 'createSecret',
  setSecret: 'setSecret',
  testSecret: 'testSecret',
  finishSecret: 'finishSecret',
  // The current "Rotation by Lambda function" page spells them this way; accept both.
  create_secret: 'createSecret',
  set_secret: 'setSecret',
  test_secret: 'testSecret',
  finish_secret: 'finishSecret',
};

const PRINTABLE_ASCII = /^[ -~]+$/;
const MAX_FIELD = 2048;

function field(event: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const value = event[name];
  if (value === undefined || value === null) {
    if (required) throw new InvalidEventError(`The rotation event has no ${name}: expected {Step, SecretId, ClientRequestToken, RotationToken?}.`);
    return undefined;
  }
  if (typeof value !== 'string' || value.length > MAX_FIELD || !PRINTABLE_ASCII.test(value)) {
    throw new InvalidEventError(`The rotation event's ${name} must be a non-empty string of printable ASCII (at most ${MAX_FIELD} characters).`);
  }
  return value;
}

/** Parse the Lambda event once, at the edge; anything else is refused before any call is made. */
export function parseRotationEvent(raw: unknown): RotationRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidEventError('The rotation event must be a JSON object {Step, SecretId, ClientRequestToken, RotationToken?}.');
  }
  const event = raw as Record<string, unknown>;
  const stepName = field(event, 'Step', true)!;
  const step = Object.hasOwn(STEPS, stepName) ? STEPS[stepName] : undefined;
  if (!step) {
    throw new InvalidEventError(`Unknown rotation step "${stepName}": expected createSecret, setSecret, testSecret or finishSecret.`);
  }
  const secretId = field(event, 'SecretId', true)!;
  const token = field(event, 'ClientRequestToken', true)!;
  const rotationToken = field(event, 'RotationToken', false);
  return rotationToken === undefined ? { step, secretId, token } : { step, secretId, token, rotationToken };
}
