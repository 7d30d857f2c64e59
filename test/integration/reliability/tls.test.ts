// TLS against the run's servers: verified by default; a wrong CA or a wrong host name fails
// closed (and changes nothing); "ssl": false is the only way to plaintext, and it logs a warning.
// The handler reads DB_TLS_CA_FILE once per module instance: the wrong-CA rig imports a fresh
// instance (vi.resetModules) with DB_TLS_CA_FILE naming the unrelated CA.

import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { Rig } from '../../../local/faults/rig';
import { TcpProxy } from '../../../local/faults/tcp-proxy';
import { EngineError } from '../../../shared/engines/errors';
import type { ConnectionTarget } from '../../../shared/engines/types';
import { ENGINES_UNDER_TEST, SERVERS, type EngineUnderTest } from '../conformance/engines';
import { serverInfo } from '../rotation/harness';
import { startTestRig } from './rig';

/** Every engine of the conformance suite, as [name, entry] rows for it.each. */
const engines = ENGINES_UNDER_TEST.map((e): [string, EngineUnderTest] => [e.name, e]);

describe('engine level', () => {
  it.each(engines)('%s: verified with the run CA; the wrong CA and a wrong host name fail closed with code "tls"', async (_name, { server, adapter: engine }) => {
    const db = serverInfo(server);
    const tls = inject('tls');
    const admin = { username: db.adminUser, password: db.adminPassword };
    const target = (host: string, port: number, ca: string): ConnectionTarget => ({ host, port, tls: { kind: 'verify', ca }, connectTimeoutMs: 3000 });
    expect(await engine.checkLogin(target('localhost', db.port, tls.caPem), admin)).toEqual({ ok: true });
    expect(await engine.checkLogin(target('127.0.0.1', db.port, tls.caPem), admin)).toEqual({ ok: true });
    await expect(engine.checkLogin(target('localhost', db.port, tls.otherCaPem), admin)).rejects.toMatchObject({ name: 'EngineError', code: 'tls' });
    // 127.0.0.2 is loopback too, but not in the certificate.
    const proxy = await TcpProxy.start({ target: { host: '127.0.0.1', port: db.port }, listenHost: '127.0.0.2' });
    try {
      const error = await engine.checkLogin(target('127.0.0.2', proxy.port, tls.caPem), admin).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('tls');
      expect((error as EngineError).message).not.toContain(db.adminPassword);
    } finally {
      await proxy.close();
    }
  });
});

describe('handler level', () => {
  let good: Rig;
  beforeAll(async () => {
    good = await startTestRig(SERVERS, { maxAttempts: 1 });
  });
  afterAll(async () => {
    await good?.close();
  });

  it.each(engines)('%s: a wrong host name fails closed; nothing changes', async (name, { server: engine }) => {
    const e = good.engine(engine);
    const proxy = await TcpProxy.start({ target: { host: '127.0.0.1', port: e.db.port }, listenHost: '127.0.0.2' });
    try {
      const subject = await good.newSubject(engine, 'single');
      const current = await good.value(subject.arn, 'AWSCURRENT');
      const arn = await good.createSecret(`tls-wrong-host-${name}-${Date.now()}`, { ...current, host: '127.0.0.2', port: proxy.port });
      await good.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: e.lambdaArn }));
      await good.sandbox.settle();
      const failed = good.sandbox.rotations.events.filter((ev) => ev.secretArn === arn && ev.eventName === 'RotationFailed');
      expect(failed[0]?.errorMessage).toMatch(/TLS|certificate|tls/);
      expect(await e.canLogin(current.username, current.password)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it.each(engines)('%s: "ssl": false is plaintext and logs a warning; the default never is', async (name, { server: engine }) => {
    const e = good.engine(engine);
    const subject = await good.newSubject(engine, 'single');
    const from = good.output.length;
    e.proxy.stats.firstClientChunks.length = 0;
    expect((await good.rotate(subject)).violations).toEqual([]);
    const isPgSslRequest = (b: Buffer) => b.length >= 8 && b.readUInt32BE(4) === 80877103;
    if (engine === 'postgresql') expect(e.proxy.stats.firstClientChunks.every(isPgSslRequest)).toBe(true);
    expect(good.output.slice(from).join('')).not.toMatch(/TLS is off/);

    const plain = await good.newSubject(engine, 'single');
    const value = await good.value(plain.arn, 'AWSCURRENT');
    const arn = await good.createSecret(`tls-off-${name}-${Date.now()}`, { ...value, ssl: false });
    e.proxy.stats.firstClientChunks.length = 0;
    await good.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: e.lambdaArn, RotationRules: { AutomaticallyAfterDays: 30 } }));
    await good.sandbox.settle();
    expect(good.output.slice(from).join('')).toMatch(/TLS is off for this database/);
    if (engine === 'postgresql') {
      expect(e.proxy.stats.firstClientChunks.some((b) => !isPgSslRequest(b))).toBe(true); // a plaintext StartupMessage went over the wire
      expect(good.sandbox.rotations.events.filter((ev) => ev.secretArn === arn).at(-1)?.eventName).toBe('RotationSucceeded');
    }
  });
});

describe('handler level, wrong CA (DB_TLS_CA_FILE names an unrelated CA)', () => {
  let rig: Rig;
  beforeAll(async () => {
    vi.resetModules();
    rig = await startTestRig(SERVERS, { caFile: inject('tls').otherCaFile, maxAttempts: 1 });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it.each(engines)('%s: every strategy fails closed with a TLS error; nobody is locked out', async (_name, { server: engine }) => {
    for (const strategy of ['single', 'alternating'] as const) {
      const subject = await rig.newSubject(engine, strategy);
      const before = await rig.value(subject.arn, 'AWSCURRENT');
      await rig.client.send(new RotateSecretCommand({ SecretId: subject.arn, RotationLambdaARN: rig.engine(engine).lambdaArn, RotationRules: { AutomaticallyAfterDays: 30 } }));
      await rig.sandbox.settle();
      const failed = rig.sandbox.rotations.events.filter((ev) => ev.secretArn === subject.arn && ev.eventName === 'RotationFailed');
      expect(failed[0]?.errorMessage).toMatch(/TLS|certificate/);
      expect((await rig.value(subject.arn, 'AWSCURRENT')).password).toBe(before.password);
      expect(await rig.engine(engine).canLogin(before.username, before.password)).toBe(true);
    }
  });
});
