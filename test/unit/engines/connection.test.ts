// The shared connection layer (shared/engines/connection.ts) with a fake driver: the lifecycle
// (always closed, the notBefore gate, the caller's refusal passed through), a refused login as an
// answer, and the classification every engine shares.

import { describe, expect, it } from 'vitest';
import { connectionsFor, validateTarget, type Driver } from '../../../shared/engines/connection';
import { ChangeRefused, EngineError } from '../../../shared/engines/errors';
import type { ConnectionTarget } from '../../../shared/engines/types';
import { thrown } from '../../support/thrown';

const target: ConnectionTarget = { host: 'db.example.com', port: 1234, tls: { kind: 'verify' }, connectTimeoutMs: 5_000 };
const who = { username: 'app', password: 's3cret-pw' };

interface FakeConnection {
  id: number;
  closed: boolean;
}

class Refusal extends Error {}

function fakeDriver(openError?: unknown) {
  const log: string[] = [];
  const driver: Driver<FakeConnection, string> = {
    engine: 'fake',
    server: 'Fake',
    defaultDbName: 'main',
    verbSeparator: ': ',
    queryTimeoutMs: 15_000,
    advice: { connectTimeout: 'raise it.', queryTimeout: 'locks', loginRefused: 'Check the credential.', grants: 'the docs' },
    signs: { noTls: { message: /^no tls/ }, timeout: { codes: ['FAKE_TIMEOUT'] }, connectionLost: { codes: ['FAKE_LOST'] } },
    async open() {
      log.push('open');
      if (openError !== undefined) throw openError;
      return { id: 1, closed: false };
    },
    close(connection) {
      log.push('close');
      connection.closed = true;
      throw new Error('ignored');
    },
    session: (connection) => `session ${connection.id}`,
    loginRejection: (error) =>
      error instanceof Refusal ? { code: 'R1', label: 'R1 (28000)', detail: error.message, cause: { sqlstate: '28000' } } : undefined,
    serverError: (error, failure) =>
      error instanceof Error && error.message === 'denied' ? failure.privilege('42501: denied', { sqlstate: '42501' }) : undefined,
  };
  return { driver, log, layer: connectionsFor(driver) };
}

const context = { verb: 'verb', target, user: 'app', secrets: ['s3cret-pw'] };

describe('withConnection', () => {
  it('runs nothing before notBefore resolves, and always closes', async () => {
    const { layer, log } = fakeDriver();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = layer.withConnection('verb', target, who, [], async (session) => {
      log.push(`work on ${session}`);
      return 7;
    }, gate);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(log).toEqual(['open']);
    release();
    expect(await running).toBe(7);
    expect(log).toEqual(['open', 'work on session 1', 'close']);
  });

  it('throws a rejected notBefore as it is, after closing, without running anything', async () => {
    const { layer, log } = fakeDriver();
    const precondition = new Error('AWSCURRENT does not log in');
    const failed = layer.withConnection('verb', target, who, [], async () => log.push('work'), Promise.reject(precondition));
    await expect(failed).rejects.toBe(precondition);
    expect(log).toEqual(['open', 'close']);
  });

  it("passes the caller's refusal through, and classifies every other failure", async () => {
    const { layer, log } = fakeDriver();
    const refusal = new Error('not allowed');
    await expect(layer.withConnection('verb', target, who, [], () => Promise.reject(new ChangeRefused(refusal)))).rejects.toBe(refusal);
    const denied = await layer.withConnection('verb', target, who, [], () => Promise.reject(new Error('denied'))).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(EngineError);
    expect((denied as EngineError).code).toBe('privilege');
    expect((denied as EngineError).message).toBe(
      'verb: "app" lacks a privilege on Fake at db.example.com:1234/main (42501: denied). Grant it what the step needs ' +
        '(see the docs for the grants each strategy requires).',
    );
    expect(log.filter((entry) => entry === 'close')).toHaveLength(2);
  });

  it('turns a refused login into an auth error without the password', async () => {
    const { layer } = fakeDriver(new Refusal('denied for s3cret-pw'));
    const error = await layer.withConnection('verb', target, who, [], async () => 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'EngineError', code: 'auth', sqlstate: '28000' });
    expect((error as EngineError).message).not.toContain('s3cret-pw');
    expect((error as EngineError).message).toMatch(/refused the login of "app" \(R1: denied for \[redacted\]\)\. Check the credential\.$/);
  });
});

describe('asLogin', () => {
  it('answers rejected for a refused login, with the scrubbed reason', async () => {
    const { layer, log } = fakeDriver(new Refusal('no for s3cret-pw'));
    expect(await layer.asLogin(target, who, context, async () => undefined)).toEqual({
      ok: false,
      reason: 'rejected',
      detail: 'R1 (28000): no for [redacted]',
    });
    expect(log).toEqual(['open']);
  });

  it("is ok unless the work answers otherwise, and closes", async () => {
    const { layer, log } = fakeDriver();
    expect(await layer.asLogin(target, who, context, async () => undefined)).toEqual({ ok: true });
    const answer = { ok: false, reason: 'rejected', detail: 'secondary' } as const;
    expect(await layer.asLogin(target, who, context, async () => answer)).toBe(answer);
    expect(log).toEqual(['open', 'close', 'open', 'close']);
  });

  it('throws every other connect failure as an EngineError', async () => {
    const { layer } = fakeDriver(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await expect(layer.asLogin(target, who, context, async () => undefined)).rejects.toMatchObject({
      code: 'unreachable',
      driverCode: 'ECONNREFUSED',
    });
  });
});

describe('toEngineError', () => {
  const { layer } = fakeDriver();
  const classify = (error: unknown, phase: 'connect' | 'query' = 'query') => layer.toEngineError(error, context, phase);
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

  it.each([
    [new Error('no tls here'), 'tls'],
    [coded('CERT_HAS_EXPIRED'), 'tls'],
    [coded('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls'],
    [coded('ETIMEDOUT'), 'timeout'],
    [coded('FAKE_TIMEOUT'), 'timeout'],
    [coded('ENOTFOUND'), 'unreachable'],
    [coded('FAKE_LOST'), 'unreachable'],
    [new Error('something else'), 'query'],
  ])('classifies %s as %s, with the verb first', (error, code) => {
    const engineError = classify(error);
    expect(engineError.code).toBe(code);
    expect(engineError.engine).toBe('fake');
    expect(engineError.message).toMatch(/^verb: /);
  });

  it('says which timeout ran out', () => {
    expect(classify(coded('ETIMEDOUT'), 'connect').message).toMatch(/within 5000 ms .*raise it\.$/);
    expect(classify(coded('ETIMEDOUT'), 'query').message).toMatch(/within 15000 ms .*server load and locks\.$/);
  });

  it('scrubs the secrets from errors that are already EngineErrors, and keeps the others as they are', () => {
    const clean = new EngineError('invalid', 'fine', { engine: 'fake' });
    expect(classify(clean)).toBe(clean);
    expect(classify(new EngineError('query', 'echo s3cret-pw', { engine: 'fake' })).message).toBe('echo [redacted]');
  });
});

describe('validateTarget', () => {
  it('names the target and every problem', () => {
    const error = thrown(EngineError, () => validateTarget({ engine: 'fake' }, { ...target, port: 0, connectTimeoutMs: 0 }));
    expect(error.code).toBe('invalid');
    expect(error.message).toBe(
      'Invalid connection target db.example.com:0: port must be 1-65535; connectTimeoutMs must be a positive integer (0 would mean no limit).',
    );
  });
});
