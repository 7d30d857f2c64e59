/**
 * The breach response end to end: the real rotation handlers registered with the sandbox, the
 * breach procedure driving RotateSecret and the engine adapters against real PostgreSQL and
 * MariaDB (TLS verified).
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBreachDeps } from '../../../shared/runtime/breach';
import { BreachInputError, runBreach, type BreachDeps } from '../../../shared/breach';
import { nativePasswordHash } from '../../../shared/engines/mysql/passwords';
import { quoteAccount } from '../../../shared/engines/mysql/sql';
import { createSecret, mysqlSecret, pgSecret, secretValue, stages, startHarness, uniqueName, type Harness, type HarnessEngine } from '../rotation/harness';

interface Session {
  alive(): Promise<boolean>;
  close(): Promise<void>;
}

describe.each<HarnessEngine>(['postgresql', 'mariadb'])('breach response on %s', (engine) => {
  let h: Harness;
  let deps: BreachDeps;
  const audit: Array<Record<string, unknown>> = [];
  const log = {
    info: (message: string, ...extra: Record<string, unknown>[]) => audit.push({ message, ...Object.assign({}, ...extra) }),
    error: (message: string, ...extra: Record<string, unknown>[]) => audit.push({ message, level: 'error', ...Object.assign({}, ...extra) }),
  };
  const tls = inject('tls');

  beforeAll(async () => {
    h = await startHarness(engine);
    deps = { ...createBreachDeps({ log, client: h.client }), pollIntervalMs: 20 };
  });
  afterAll(async () => {
    await h?.close();
  });

  const secretOf = (user: string, password: string, extra: Record<string, unknown> = {}) =>
    engine === 'postgresql' ? pgSecret(h.db, user, password, { dbname: h.db.database, ...extra }) : mysqlSecret(h.db, user, password, extra);

  async function createUser(name: string, password: string): Promise<void> {
    if (engine === 'postgresql') await h.admin(`CREATE ROLE "${name}" LOGIN PASSWORD '${password}'`);
    else await h.admin(`CREATE USER ${quoteAccount({ user: name, host: '%' })} IDENTIFIED BY PASSWORD '${nativePasswordHash(password)}'`);
  }

  async function openSession(username: string, password: string): Promise<Session> {
    if (engine === 'postgresql') {
      const c = new Client({ host: h.db.hostname, port: h.db.port, user: username, password, database: h.db.database, ssl: { ca: tls.caPem } });
      c.on('error', () => undefined);
      await c.connect();
      return { alive: () => c.query('SELECT 1').then(() => true, () => false), close: () => c.end().catch(() => undefined) };
    }
    const c = await mysql.createConnection({ host: h.db.hostname, port: h.db.port, user: username, password, ssl: { ca: tls.caPem } });
    c.on('error', () => undefined);
    return { alive: () => c.query('SELECT 1').then(() => true, () => false), close: () => c.end().catch(() => undefined) };
  }

  /** A secret with rotation configured (one ordinary rotation done), as a team would have it. */
  async function rotatedSecret(kind: 'single' | 'alternating'): Promise<string> {
    const user = uniqueName(`br_${kind.slice(0, 3)}`);
    await createUser(user, 'initial-pw-1');
    const extra = kind === 'alternating' ? { masterarn: await createSecret(h, uniqueName('admin'), secretOf(h.db.adminUser, h.db.adminPassword)) } : {};
    const arn = await createSecret(h, uniqueName(`breach-${kind}`), secretOf(user, 'initial-pw-1', extra));
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
      expect(secret!.actions.map((a) => a.action)).toEqual(
        kind === 'single'
          ? ['read-current', 'rotate', 'end-sessions', 'verify']
          : ['read-current', 'rotate', 'rotate-again', ...(engine === 'mariadb' ? ['other-accounts'] : []), 'end-sessions', 'verify'],
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

  const hashOf = async (user: string, host: string): Promise<string | undefined> =>
    (await h.admin<{ h: string }>('SELECT authentication_string AS h FROM mysql.user WHERE User = ? AND Host = ?', [user, host]))[0]?.h;

  it.runIf(engine === 'mariadb')("MySQL/MariaDB: an account of the same name that still takes the leaked password gets the new one; one with another password, and another user, are untouched", async () => {
    // Logins from this test arrive from the admin's client host: the account for that host is the one
    // the rotation changes (the most specific match); 'u'@'%' is never used from here, so only
    // mysql.user can show whether it still holds the leaked password.
    const [{ u: who }] = (await h.admin<{ u: string }>('SELECT USER() AS u')) as [{ u: string }];
    const clientHost = who.slice(who.lastIndexOf('@') + 1);
    const user = uniqueName('br_acc');
    const bystander = uniqueName('br_by');
    const leakedHash = nativePasswordHash('acc-leaked-pw');
    const otherHash = nativePasswordHash('acc-other-pw');
    for (const [name, host, hash] of [
      [user, clientHost, leakedHash],
      [user, '%', leakedHash],
      [user, '10.99.%', otherHash],
      [bystander, '%', leakedHash],
    ] as const) {
      await h.admin(`CREATE USER ${quoteAccount({ user: name, host })} IDENTIFIED BY PASSWORD '${hash}'`);
    }
    const adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const [arn] = h.sandbox.seed([
      {
        name: uniqueName('breach-accounts'),
        rotationEnabled: true,
        rotationLambdaArn: h.lambdaArn,
        rotationRules: { AutomaticallyAfterDays: 30 },
        versions: [{ stages: ['AWSCURRENT'], secretString: JSON.stringify(mysqlSecret(h.db, user, 'acc-leaked-pw', { masterarn: adminArn })) }],
      },
    ]);

    const report = await runBreach({ reason: 'INC-7 accounts', secretIds: [arn!] }, deps);
    expect(report.failed, JSON.stringify(report.secrets)).toBe(0);
    const current = await secretValue(h, arn!);
    expect(current.username).toBe(user);
    const newHash = nativePasswordHash(current.password);
    expect(await hashOf(user, clientHost)).toBe(newHash); // the rotated account
    expect(await hashOf(user, '%')).toBe(newHash); // held the leaked password: proven the secret's, now the new one
    expect(await hashOf(user, '10.99.%')).toBe(otherHash); // another password: not the secret's, untouched
    expect(await hashOf(bystander, '%')).toBe(leakedHash); // another user: untouched
    const detail = report.secrets[0]!.actions.find((a) => a.action === 'other-accounts')!.detail!;
    expect(detail).toContain(`'${user}'@'%'`);
    expect(detail).toContain('untouched');
    const text = JSON.stringify(report);
    for (const secret of ['acc-leaked-pw', current.password, leakedHash.slice(1), newHash.slice(1)]) expect(text).not.toContain(secret);
  });

  it('dry run reports the plan and changes nothing', async () => {
    const arn = await rotatedSecret('alternating');
    const leaked = await secretValue(h, arn);
    const before = await stages(h, arn);
    const writesBefore = h.sandbox.calls.filter((c) => c.operation === 'RotateSecret' || c.operation === 'UpdateSecretVersionStage').length;

    const report = await runBreach({ reason: 'drill', secretIds: [arn], dryRun: true }, deps);
    expect(report.secrets[0]!.status).toBe('dry-run');
    expect(report.secrets[0]!.actions.filter((a) => a.outcome === 'planned').map((a) => a.action)).toEqual(
      ['rotate', 'rotate-again', ...(engine === 'mariadb' ? ['other-accounts'] : []), 'end-sessions', 'verify'],
    );
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
});
