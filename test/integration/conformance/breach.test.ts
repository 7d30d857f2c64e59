// Engine conformance, breach: the breach response end to end on every engine of ./engines.ts —
// its real rotation function registered with the sandbox, the breach procedure driving
// RotateSecret and the engine's verbs (end sessions, verify, other accounts of the name where the
// engine has them) against its real test server (TLS verified); then the leak canary.
// MySQL's accounts of one name on several hosts: ../rotation/mysql-specific.test.ts.

import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BreachInputError, runBreach, type BreachDeps } from '../../../shared/breach';
import { createBreachDeps } from '../../../shared/runtime/breach';
import { createSecret, leakCanary, secretValue, stages, startHarness, uniqueName, type Harness } from '../rotation/harness';
import { ENGINES_UNDER_TEST } from './engines';

describe.each(ENGINES_UNDER_TEST.map((e) => [e.name, e] as const))('breach response on %s', (_name, entry) => {
  const { capabilities } = entry;
  let h: Harness;
  let deps: BreachDeps;
  const audit: Array<Record<string, unknown>> = [];
  const log = {
    info: (message: string, ...extra: Record<string, unknown>[]) => audit.push({ message, ...Object.assign({}, ...extra) }),
    error: (message: string, ...extra: Record<string, unknown>[]) => audit.push({ message, level: 'error', ...Object.assign({}, ...extra) }),
  };
  const tls = inject('tls');

  beforeAll(async () => {
    h = await startHarness(entry);
    deps = { ...createBreachDeps({ log, client: h.client }), pollIntervalMs: 20 };
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Every secret this block made, and every password it gave a user: the leak canary's needles. */
  const arns: string[] = [];
  const initialPasswords: string[] = [];
  const secretOf = (user: string, password: string, extra: Record<string, unknown> = {}) => entry.secret(h.db, user, password, extra);
  const openSession = (username: string, password: string) => entry.openSession(h.db, tls.caPem, username, password);
  async function createUser(name: string, password: string): Promise<void> {
    initialPasswords.push(password);
    await h.createUser(name, password); // sent as a verifier/hash: the logs stay clean
  }
  /** The actions the breach response takes on an alternating (or pair) secret, after reading it. */
  const alternatingActions = ['rotate', 'rotate-again', ...(capabilities.accountsPerName ? ['other-accounts'] : []), 'end-sessions', 'verify'];

  /** A secret with rotation configured (one ordinary rotation done), as a team would have it. */
  async function rotatedSecret(kind: 'single' | 'alternating'): Promise<string> {
    const user = uniqueName(`br_${kind.slice(0, 3)}`);
    await createUser(user, 'initial-pw-1');
    const extra = kind === 'alternating' ? { masterarn: await createSecret(h, uniqueName('admin'), secretOf(h.db.adminUser, h.db.adminPassword)) } : {};
    const arn = await createSecret(h, uniqueName(`breach-${kind}`), secretOf(user, 'initial-pw-1', extra));
    arns.push(arn);
    await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: h.lambdaArn, RotationRules: { AutomaticallyAfterDays: 30 } }));
    await h.sandbox.settle();
    return arn;
  }

  for (const kind of ['single', 'alternating'] as const) {
    it(`${kind}: the leaked credential is refused afterwards and its open session is gone`, async () => {
      const arn = await rotatedSecret(kind);
      const leaked = await secretValue(h, arn);
      const previousBefore = kind === 'alternating' ? await secretValue(h, arn, 'AWSPREVIOUS') : undefined;
      const session = await openSession(leaked.username, leaked.password);
      expect(await session.alive()).toBe(true);

      const report = await runBreach({ reason: 'INC-1 test leak', secretIds: [arn] }, deps);
      // Asked before closing our end: a closed client would answer false whatever the server did.
      const survived = await session.alive();
      await session.close();

      expect(report.failed, JSON.stringify(report.secrets)).toBe(0);
      const [secret] = report.secrets;
      expect(secret!.actions.map((a) => a.action)).toEqual(kind === 'single' ? ['read-current', 'rotate', 'end-sessions', 'verify'] : ['read-current', ...alternatingActions]);
      expect(secret!.actions.find((a) => a.action === 'end-sessions')?.detail).toMatch(
        capabilities.sessionsByAge ? /ended 1 session\(s\) of .* opened before / : /ended all 1 other session\(s\) of .* cannot tell when a session was opened/,
      );
      expect(survived).toBe(false);
      expect(await h.canLogin(leaked.username, leaked.password)).toBe(false);
      const current = await secretValue(h, arn);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
      if (previousBefore) {
        // Both users end with passwords the attacker never saw.
        const previous = await secretValue(h, arn, 'AWSPREVIOUS');
        expect([current.password, previous.password]).not.toContain(leaked.password);
        expect([current.password, previous.password]).not.toContain(previousBefore.password);
        expect(current.username).toBe(leaked.username);
      }
      // One audit line per action, with the reason, never a password.
      const lines = audit.filter((a) => a['secretId'] === arn);
      expect(lines.length).toBe(secret!.actions.length);
      for (const line of lines) expect(line['reason']).toBe('INC-1 test leak');
      const text = JSON.stringify(audit) + JSON.stringify(report);
      for (const pw of [leaked.password, current.password]) expect(text).not.toContain(pw);
    });
  }

  it('settles a rotation stuck half-way (AWSPENDING on an empty version), then rotates', async () => {
    const user = uniqueName('br_stuck');
    await createUser(user, 'stuck-initial-pw');
    const [arn] = h.sandbox.seed([
      {
        name: uniqueName('breach-stuck'),
        rotationEnabled: true,
        rotationLambdaArn: h.lambdaArn,
        rotationRules: { AutomaticallyAfterDays: 30 },
        versions: [
          { versionId: 'v-current-0000000000000000000000001', stages: ['AWSCURRENT'], secretString: JSON.stringify(secretOf(user, 'stuck-initial-pw')) },
          // An hour old: older than the settle wait (rotationTimeoutMs), so not a rotation still running.
          { versionId: 'v-stuck-00000000000000000000000001', stages: ['AWSPENDING'], createdDate: new Date(Date.now() - 3_600_000) },
        ],
      },
    ]);
    arns.push(arn!);
    await expect(h.client.send(new RotateSecretCommand({ SecretId: arn! }))).rejects.toThrow(/previous rotation/i);

    const report = await runBreach({ reason: 'INC-2 stuck', secretIds: [arn!] }, deps);
    expect(report.failed, JSON.stringify(report.secrets)).toBe(0);
    expect(report.secrets[0]!.actions.map((a) => a.action)).toEqual(['read-current', 'settle-pending', 'rotate', 'end-sessions', 'verify']);
    expect(await h.canLogin(user, 'stuck-initial-pw')).toBe(false);
    expect(Object.values(await stages(h, arn!)).flat()).not.toContain('AWSPENDING');
  });

  it('single user, setSecret ran but finishSecret never did: the stuck version holds the only working password; it is completed, then rotated', async () => {
    const user = uniqueName('br_half');
    // The database already has the stuck version's password; AWSCURRENT (the leaked one) no longer logs in.
    await createUser(user, 'half-stuck-pw');
    const [arn] = h.sandbox.seed([
      {
        name: uniqueName('breach-half'),
        rotationEnabled: true,
        rotationLambdaArn: h.lambdaArn,
        rotationRules: { AutomaticallyAfterDays: 30 },
        versions: [
          { versionId: 'v-current-0000000000000000000000002', stages: ['AWSCURRENT'], secretString: JSON.stringify(secretOf(user, 'half-leaked-pw')) },
          {
            versionId: 'v-stuck-00000000000000000000000002',
            stages: ['AWSPENDING'],
            secretString: JSON.stringify(secretOf(user, 'half-stuck-pw')),
            createdDate: new Date(Date.now() - 3_600_000),
          },
        ],
      },
    ]);

    arns.push(arn!);
    initialPasswords.push('half-leaked-pw');
    const report = await runBreach({ reason: 'INC-5 half-way', secretIds: [arn!], rotationTimeoutMs: 10_000 }, deps);
    expect(report.failed, JSON.stringify(report.secrets)).toBe(0);
    expect(report.secrets[0]!.actions.find((a) => a.action === 'settle-pending')!.detail).toMatch(/v-stuck-00000000000000000000000002: completed/);
    const current = await secretValue(h, arn!);
    expect(await h.canLogin(current.username, current.password)).toBe(true);
    expect(await h.canLogin(user, 'half-leaked-pw')).toBe(false);
    expect(await h.canLogin(user, 'half-stuck-pw')).toBe(false);
    expect(Object.values(await stages(h, arn!)).flat()).not.toContain('AWSPENDING');
    expect(JSON.stringify(report) + JSON.stringify(audit)).not.toMatch(/half-stuck-pw|half-leaked-pw/);
  });

  it('alternating: an attacker session held open as the AWSPREVIOUS user (which may have leaked too) is gone afterwards', async () => {
    const arn = await rotatedSecret('alternating');
    const leaked = await secretValue(h, arn);
    const previous = await secretValue(h, arn, 'AWSPREVIOUS');
    expect(previous.username).not.toBe(leaked.username);
    const session = await openSession(previous.username, previous.password);
    expect(await session.alive()).toBe(true);

    const report = await runBreach({ reason: 'INC-6 previous', secretIds: [arn] }, deps);
    const survived = await session.alive();
    await session.close();
    expect(report.failed, JSON.stringify(report.secrets)).toBe(0);
    expect(survived).toBe(false);
    expect(await h.canLogin(previous.username, previous.password)).toBe(false);
  });

  it('dry run reports the plan and changes nothing', async () => {
    const arn = await rotatedSecret('alternating');
    const leaked = await secretValue(h, arn);
    const before = await stages(h, arn);
    const writesBefore = h.sandbox.calls.filter((c) => c.operation === 'RotateSecret' || c.operation === 'UpdateSecretVersionStage').length;

    const report = await runBreach({ reason: 'drill', secretIds: [arn], dryRun: true }, deps);
    expect(report.secrets[0]!.status).toBe('dry-run');
    expect(report.secrets[0]!.actions.filter((a) => a.outcome === 'planned').map((a) => a.action)).toEqual(alternatingActions);
    expect(await stages(h, arn)).toEqual(before);
    expect(h.sandbox.calls.filter((c) => c.operation === 'RotateSecret' || c.operation === 'UpdateSecretVersionStage').length).toBe(writesBefore);
    expect(await h.canLogin(leaked.username, leaked.password)).toBe(true);
  });

  it('a bad selector or a selector matching nothing is a clear error; an unknown secret fails alone', async () => {
    await expect(runBreach({ reason: 'x', selector: {} }, deps)).rejects.toThrow(BreachInputError);
    await expect(runBreach({ reason: 'x', selector: { tag: { key: 'team' } } }, deps)).rejects.toThrow(/selector.tag/);
    await expect(runBreach({ reason: 'x', selector: { namePrefix: 'no-such-prefix/' } }, deps)).rejects.toThrow(/matches no secret/);
    await expect(runBreach({ secretIds: ['a'] }, deps)).rejects.toThrow(/"reason" is required/);

    const arn = await rotatedSecret('single');
    const report = await runBreach({ reason: 'INC-3', secretIds: ['does/not/exist', arn] }, deps);
    expect(report.failed).toBe(1);
    expect(report.secrets[0]).toMatchObject({ status: 'failed', failedAction: 'describe' });
    expect(report.secrets[0]!.error).toMatch(/does\/not\/exist was not found/);
    expect(report.secrets[1]!.status).toBe('ok');
  });

  it(`the engine's verbs: endSessions ${capabilities.sessionsByAge ? 'spares sessions opened after openedBefore' : 'refuses an age filter'}, then ends the user's session; other accounts of the name ${capabilities.accountsPerName ? 'are' : 'are not'} handled`, async () => {
    expect(typeof entry.adapter.replaceLeakedPassword === 'function').toBe(capabilities.accountsPerName);
    const user = uniqueName('br_verb');
    const password = `Verb-${randomBytes(9).toString('base64url')}`;
    await createUser(user, password);
    const session = await openSession(user, password);
    const target = { host: h.db.hostname, port: h.db.port, tls: { kind: 'verify', ca: tls.caPem } as const, connectTimeoutMs: 3000 };
    const admin = { username: h.db.adminUser, password: h.db.adminPassword };
    const anHourAgo = new Date(Date.now() - 3_600_000);
    try {
      if (capabilities.sessionsByAge) {
        expect(await entry.adapter.endSessions(target, admin, user, anHourAgo)).toBe(0);
        expect(await session.alive()).toBe(true);
      } else {
        await expect(entry.adapter.endSessions(target, admin, user, anHourAgo)).rejects.toMatchObject({ name: 'EngineError', code: 'unsupported' });
      }
      expect(await entry.adapter.endSessions(target, admin, user)).toBe(1);
      expect(await session.alive()).toBe(false);
      expect(await h.canLogin(admin.username, admin.password)).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('leak canary (runs last): no password of these secrets or users appears in the server log, the handler output, an error or the audit log', async () => {
    const result = await leakCanary(h, arns, initialPasswords, [['the breach audit log', JSON.stringify(audit)]]);
    expect(result.passwords).toBeGreaterThanOrEqual(10);
    expect(result.findings).toEqual([]);
  });
});
