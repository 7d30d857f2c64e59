import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../local/secrets-manager';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());

const raw = (target: string | undefined, body: string, method = 'POST') =>
  fetch(sandbox.endpoint, {
    method,
    headers: { 'content-type': 'application/x-amz-json-1.1', ...(target ? { 'x-amz-target': target } : {}) },
    ...(method === 'POST' ? { body } : {}),
  });

describe('AWS JSON 1.1 protocol', () => {
  it('answers an unknown operation with UnknownOperationException in the AWS error shape', async () => {
    const res = await raw('secretsmanager.StealSecrets', '{}');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException', message: expect.stringContaining('StealSecrets') });
  });

  it('does not treat Object.prototype members as operations', async () => {
    const res = await raw('secretsmanager.toString', '{}');
    expect((await res.json()) as object).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers a body that is not JSON with SerializationException', async () => {
    const res = await raw('secretsmanager.ListSecrets', '{not json');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('answers a member of the wrong JSON type with SerializationException naming the member', async () => {
    const res = await raw('secretsmanager.CreateSecret', JSON.stringify({ Name: 42 }));
    expect(await res.json()).toMatchObject({ __type: 'SerializationException', message: expect.stringContaining("'Name'") });
  });

  it('answers a constraint violation with ValidationException naming the member', async () => {
    const res = await raw('secretsmanager.CreateSecret', JSON.stringify({ Name: 'bad name with spaces' }));
    expect(await res.json()).toMatchObject({ __type: 'ValidationException', message: expect.stringContaining("'name'") });
  });

  it('serves the unmodified SDK through AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => {
    const saved = process.env['AWS_ENDPOINT_URL_SECRETS_MANAGER'];
    process.env['AWS_ENDPOINT_URL_SECRETS_MANAGER'] = sandbox.endpoint;
    const client = new SecretsManagerClient({});
    try {
      const created = await client.send(new CreateSecretCommand({ Name: 'via-env', SecretString: 'v' }));
      expect((await client.send(new GetSecretValueCommand({ SecretId: created.ARN }))).SecretString).toBe('v');
    } finally {
      client.destroy();
      if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_SECRETS_MANAGER'];
      else process.env['AWS_ENDPOINT_URL_SECRETS_MANAGER'] = saved;
    }
  });
});

describe('clock', () => {
  it('creates secrets in the past and lets time pass', async () => {
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint });
    sandbox.clock.set('2026-05-07T12:00:00Z');
    const created = await client.send(new CreateSecretCommand({ Name: 'old-secret', SecretString: 's' }));
    sandbox.clock.reset();
    const meta = await client.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    expect(meta.CreatedDate?.toISOString().slice(0, 16)).toBe('2026-05-07T12:00');

    sandbox.clock.set('2026-06-01T08:30:00Z');
    await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    sandbox.clock.reset();
    // LastAccessedDate keeps only the day, as AWS does.
    expect((await client.send(new DescribeSecretCommand({ SecretId: created.ARN }))).LastAccessedDate?.toISOString()).toBe(
      '2026-06-01T00:00:00.000Z',
    );
    client.destroy();
  });

  it('is controllable over HTTP', async () => {
    const set = await fetch(`${sandbox.endpoint}/_sandbox/clock`, { method: 'POST', body: JSON.stringify({ set: '2030-01-01T00:00:00Z', freeze: true }) });
    expect(await set.json()).toEqual({ now: '2030-01-01T00:00:00.000Z' });
    const advanced = await fetch(`${sandbox.endpoint}/_sandbox/clock`, { method: 'POST', body: JSON.stringify({ advanceDays: 200 }) });
    expect(await advanced.json()).toEqual({ now: '2030-07-20T00:00:00.000Z' });
    await fetch(`${sandbox.endpoint}/_sandbox/clock`, { method: 'POST', body: JSON.stringify({ reset: true }) });
    expect(Math.abs(sandbox.clock.now().getTime() - Date.now())).toBeLessThan(1000);
  });
});

describe('fault injection', () => {
  it('throttles a chosen operation a given number of times; the SDK sees ThrottlingException once its retries run out', async () => {
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 2 });
    const created = await client.send(new CreateSecretCommand({ Name: 'throttled', SecretString: 's' }));
    const id = sandbox.faults.add({ operation: 'GetSecretValue', kind: 'throttle', times: 2 });
    await expect(client.send(new GetSecretValueCommand({ SecretId: created.ARN }))).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400, attempts: 2 },
    });
    // The rule is spent: the next call goes through, and other operations were never touched.
    await expect(client.send(new GetSecretValueCommand({ SecretId: created.ARN }))).resolves.toMatchObject({ SecretString: 's' });
    await expect(client.send(new DescribeSecretCommand({ SecretId: created.ARN }))).resolves.toBeDefined();
    sandbox.faults.remove(id);
    client.destroy();
  });

  it('lets the SDK retry through a transient 5xx', async () => {
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 3 });
    const created = await client.send(new CreateSecretCommand({ Name: 'flaky', SecretString: 's' }));
    sandbox.faults.add({ operation: 'DescribeSecret', kind: 'server-error', times: 1 });
    const out = await client.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    expect(out.$metadata.attempts).toBe(2);
    const failed = sandbox.calls.filter((c) => c.operation === 'DescribeSecret' && c.status === 500);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.errorCode).toBe('InternalServiceError');
    client.destroy();
  });

  it('adds latency, and can skip the first calls', async () => {
    const client = new SecretsManagerClient({ endpoint: sandbox.endpoint, maxAttempts: 1 });
    sandbox.faults.add({ operation: 'ListSecrets', kind: 'latency', delayMs: 150, after: 1, times: 1 });
    const fast = performance.now();
    await client.send(new ListSecretsCommand({}));
    const firstMs = performance.now() - fast;
    const slow = performance.now();
    await client.send(new ListSecretsCommand({}));
    const secondMs = performance.now() - slow;
    expect(secondMs).toBeGreaterThanOrEqual(145);
    expect(firstMs).toBeLessThan(secondMs);
    expect(sandbox.faults.injected.filter((f) => f.kind === 'latency')).toHaveLength(1);
    client.destroy();
  });

  it('accepts rules over HTTP and refuses malformed ones', async () => {
    const bad = await fetch(`${sandbox.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ operation: '*', kind: 'explode' }) });
    expect(bad.status).toBe(400);
    const good = await fetch(`${sandbox.endpoint}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ operation: 'TagResource', kind: 'server-error' }) });
    expect(await good.json()).toMatchObject({ id: expect.any(Number) });
    const res = await raw('secretsmanager.TagResource', JSON.stringify({ SecretId: 'x', Tags: [] }));
    expect(res.status).toBe(500);
    await fetch(`${sandbox.endpoint}/_sandbox/faults`, { method: 'DELETE' });
    const after = await raw('secretsmanager.TagResource', JSON.stringify({ SecretId: 'x', Tags: [] }));
    expect(after.status).toBe(400); // back to the real answer: no such secret
  });
});
