import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../../shared/rotation/errors';
import { parseRotationEvent } from '../../../shared/rotation/event';

const base = { Step: 'createSecret', SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf', ClientRequestToken: 'c6b1f2a0-1111-4222-8333-444455556666' };

describe('parseRotationEvent', () => {
  it('parses the event Secrets Manager sends, with and without RotationToken', () => {
    expect(parseRotationEvent(base)).toEqual({ step: 'createSecret', secretId: base.SecretId, token: base.ClientRequestToken });
    expect(parseRotationEvent({ ...base, RotationToken: 'rt-1234' })).toMatchObject({ rotationToken: 'rt-1234' });
  });

  it.each([
    ['create_secret', 'createSecret'],
    ['set_secret', 'setSecret'],
    ['test_secret', 'testSecret'],
    ['finish_secret', 'finishSecret'],
    ['finishSecret', 'finishSecret'],
  ])('accepts the step spelling %s', (Step, step) => {
    expect(parseRotationEvent({ ...base, Step }).step).toBe(step);
  });

  it.each([
    ['not an object', 'createSecret', /JSON object/],
    ['an array', [base], /JSON object/],
    ['null', null, /JSON object/],
    ['an unknown step', { ...base, Step: 'dropTables' }, /Unknown rotation step "dropTables"/],
    ['a prototype member as step', { ...base, Step: 'constructor' }, /Unknown rotation step/],
    ['no SecretId', { Step: 'setSecret', ClientRequestToken: 't' }, /no SecretId/],
    ['no ClientRequestToken', { Step: 'setSecret', SecretId: 's' }, /no ClientRequestToken/],
    ['a number as SecretId', { ...base, SecretId: 7 }, /SecretId must be/],
    ['an empty token', { ...base, ClientRequestToken: '' }, /ClientRequestToken must be/],
    ['non-ASCII in the token', { ...base, ClientRequestToken: 'tökén' }, /printable ASCII/],
    ['a newline in SecretId', { ...base, SecretId: 'a\nb' }, /printable ASCII/],
    ['an over-long RotationToken', { ...base, RotationToken: 'x'.repeat(2049) }, /RotationToken/],
  ])('refuses %s with a clear error', (_what, event, message) => {
    expect(() => parseRotationEvent(event)).toThrow(InvalidEventError);
    expect(() => parseRotationEvent(event)).toThrow(message);
  });
});
