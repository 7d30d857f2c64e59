// Engine conformance, rotation: every engine of ./engines.ts through its real rotation function,
// the sandbox's RotateSecret and its real test server (TLS verified, statement/general log on).
// The three strategies, the template format kept, each step delivered twice, bad input refused
// with nothing changed, an unreachable database, the AWSPREVIOUS fallback, a single user left
// between setSecret and finishSecret, and, last, the leak canary over everything the file did.
// What one engine alone does: ../rotation/postgresql-specific.test.ts, mysql-specific.test.ts.

import { CancelRotateSecretCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../../shared/engines/registry';
import {
  createSecret,
  lastFailure,
  lastOutcome,
  leakCanary,
  rotate,
  secretValue,
  stages,
  startHarness,
  uniqueName,
  type Harness,
} from '../rotation/harness';
import { ENGINES_UNDER_TEST, SERVERS } from './engines';

it('every engine of shared/engines/registry.ts is registered for conformance, each on a test server of its own', () => {
  expect(ENGINES.filter((engine) => !ENGINES_UNDER_TEST.some((e) => e.adapter === engine)).map((engine) => engine.name)).toEqual([]);
  for (const e of ENGINES_UNDER_TEST) expect(ENGINES).toContain(e.adapter);
  expect(new Set(SERVERS).size).toBe(SERVERS.length);
});

const versionWith = (s: Record<string, string[]>, stage: string) => Object.entries(s).find(([, v]) => v.includes(stage))?.[0];
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(ENGINES_UNDER_TEST.map((e) => [e.name, e] as const))('%s', (_name, entry) => {
  let h: Harness;
  let adminArn: string;
  /** Every secret this block made (not the admin's), and every password it gave a user: the leak canary's haystack needles. */
  const arns: string[] = [];
  const initialPasswords: string[] = [];

  beforeAll(async () => {
    h = await startHarness(entry);
    adminArn = await createSecret(h, uniqueName('admin'), entry.secret(h.db, h.db.adminUser, h.db.adminPassword));
  });
  afterAll(async () => {
    await h?.close();
  });

  const secretOf = (username: string, password: string, extra: Record<string, unknown> = {}) => entry.secret(h.db, username, password, extra);
  const newSecret = async (prefix: string, value: Record<string, unknown> | string): Promise<string> => {
    const arn = await createSecret(h, uniqueName(prefix), value);
    arns.push(arn);
    return arn;
  };
  /** A user with a fresh password (sent to the server as a hash); returns the password. */
  const newUser = async (username: string): Promise<string> => {
    const password = `Initial-${randomBytes(9).toString('base64url')}`;
    initialPasswords.push(password);
    await h.createUser(username, password);
    return password;
  };
  const expectSucceeded = (arn: string) => expect(lastOutcome(h, arn), lastFailure(h, arn)).toBe('RotationSucceeded');

  describe('single user', () => {
    it('rotates three times: the new password logs in, the old one is refused, the user stays the same', async () => {
      const user = uniqueName('single');
      let previous = await newUser(user);
      const arn = await newSecret('single-secret', secretOf(user, previous));
      for (let i = 0; i < 3; i++) {
        await rotate(h, arn);
        expectSucceeded(arn);
        const current = await secretValue(h, arn);
        expect(current.username).toBe(user);
        expect(current.password).not.toBe(previous);
        expect(current.password).toHaveLength(32);
        expect(await h.canLogin(user, current.password)).toBe(true);
        expect(await h.canLogin(user, previous)).toBe(false);
        expect(Object.values(await stages(h, arn)).flat().sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
        previous = current.password;
      }
    });

    it(`left between setSecret and finishSecret: the pending password logs in, AWSCURRENT ${entry.capabilities.dualPasswords ? 'too (dual passwords)' : 'no longer'}; the retry completes`, async () => {
      const stopping = `${entry.lambdaArn}-stops-after-set`;
      let stop = true;
      h.sandbox.functions.register(stopping, async (event) => {
        if (stop && event.Step === 'testSecret') throw new Error('stopped after setSecret');
        return h.handler(event);
      });
      const user = uniqueName('window');
      const initial = await newUser(user);
      const arn = await newSecret('window-secret', secretOf(user, initial));
      await rotate(h, arn, { lambdaArn: stopping });
      expect(lastOutcome(h, arn)).toBe('RotationFailed');
      const pending = await secretValue(h, arn, 'AWSPENDING');
      expect(await h.canLogin(user, pending.password)).toBe(true);
      expect(await h.canLogin(user, initial)).toBe(entry.capabilities.dualPasswords);

      stop = false; // the fault is gone: the service's next attempt completes the rotation
      expect(await h.sandbox.retryPendingRotation(arn)).toBe('succeeded');
      await h.sandbox.settle();
      expect((await secretValue(h, arn)).password).toBe(pending.password);
      expect(await h.canLogin(user, initial)).toBe(false);
      expect(Object.values(await stages(h, arn)).flat()).not.toContain('AWSPENDING');
    });
  });

  describe('alternating users', () => {
    it('alternates between the user and its clone; AWSCURRENT and AWSPREVIOUS both log in; masterarn is kept', async () => {
      const user = uniqueName('alt');
      const arn = await newSecret('alt-secret', secretOf(user, await newUser(user), { masterarn: adminArn }));
      const seenUsers: string[] = [];
      for (let i = 0; i < 3; i++) {
        await rotate(h, arn);
        expectSucceeded(arn);
        const current = await secretValue(h, arn);
        const previous = await secretValue(h, arn, 'AWSPREVIOUS');
        seenUsers.push(current.username);
        expect(current.masterarn).toBe(adminArn);
        expect(await h.canLogin(current.username, current.password)).toBe(true);
        expect(await h.canLogin(previous.username, previous.password)).toBe(true);
        expect(current.username).not.toBe(previous.username);
      }
      expect(seenUsers).toEqual([`${user}_clone`, user, `${user}_clone`]);
    });
  });

  describe('pre-created pair', () => {
    it('alternates between two users the team created, creating no clone; AWSCURRENT and AWSPREVIOUS both log in', async () => {
      const blue = uniqueName('blue');
      const green = uniqueName('green');
      const bluePassword = await newUser(blue);
      const greenPassword = await newUser(green);
      // Bootstrap: green's credential first (it becomes AWSPREVIOUS, the proof this secret controls green), then blue's.
      const pair = { masterarn: adminArn, usernames: [blue, green] };
      const arn = await newSecret('pair-secret', secretOf(green, greenPassword, pair));
      await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(secretOf(blue, bluePassword, pair)) }));
      const users: string[] = [];
      for (let i = 0; i < 3; i++) {
        await rotate(h, arn);
        expectSucceeded(arn);
        const current = await secretValue(h, arn);
        users.push(current.username);
        expect(await h.canLogin(current.username, current.password)).toBe(true);
        const previous = await secretValue(h, arn, 'AWSPREVIOUS');
        expect(await h.canLogin(previous.username, previous.password)).toBe(true);
      }
      expect(users).toEqual([green, blue, green]);
      expect(await h.userExists(`${blue}_clone`)).toBe(false);
      expect(await h.userExists(`${green}_clone`)).toBe(false);
    });

    it("refuses to set the other user's password without proof of control (confused deputy)", async () => {
      const mine = uniqueName('mine');
      const victim = uniqueName('victim');
      const minePassword = await newUser(mine);
      const victimPassword = await newUser(victim);
      const arn = await newSecret('pair-deputy', secretOf(mine, minePassword, { masterarn: adminArn, usernames: [mine, victim] }));
      await rotate(h, arn);
      expect(lastOutcome(h, arn)).toBe('RotationFailed');
      expect(await h.canLogin(victim, victimPassword)).toBe(true);
      expect((await secretValue(h, arn)).username).toBe(mine);
    });
  });

  describe("a secret in AWS's template format", () => {
    it('rotates and stays in that format (every key kept, same types; only the proof of createSecret added)', async () => {
      const user = uniqueName('awsfmt');
      const password = await newUser(user);
      const dbname = await entry.databaseFor(h, user);
      const original = { engine: entry.adapter.engineValues[0], host: h.db.hostname, username: user, password, dbname, port: h.db.port, proxyHost: 'proxy.example.internal', ssl: true };
      const arn = await newSecret('aws-format', original);
      await rotate(h, arn);
      expectSucceeded(arn);
      const rotated = await secretValue(h, arn);
      expect(Object.keys(rotated)).toEqual([...Object.keys(original), 'rotationproof']);
      const { rotationproof, ...rest } = rotated;
      expect(rotationproof).toMatch(/^v1\.[\w-]{43}$/);
      expect({ ...rest, password: 'x' }).toEqual({ ...original, password: 'x' });
    });
  });

  describe('each step delivered twice', () => {
    it('completes the rotation with the same result, single user and alternating users', async () => {
      const twice = `${entry.lambdaArn}-twice`;
      h.sandbox.functions.register(twice, async (event) => {
        await h.handler(event);
        await h.handler(event);
      });
      for (const extra of [{}, { masterarn: adminArn }]) {
        const user = uniqueName('twice');
        const arn = await newSecret('twice-secret', secretOf(user, await newUser(user), extra));
        for (let i = 0; i < 3; i++) {
          await rotate(h, arn, { lambdaArn: twice });
          expectSucceeded(arn);
          const current = await secretValue(h, arn);
          expect(await h.canLogin(current.username, current.password)).toBe(true);
        }
      }
    });
  });

  describe('bad input: a clear error, nothing changed', () => {
    /** Rotating `value` fails with `message`; AWSCURRENT stays; the users under `prefix` (names, password hashes) are unchanged. */
    async function expectRefused(value: Record<string, unknown> | string, message: RegExp, prefix?: string): Promise<void> {
      const secretArn = await newSecret('bad-secret', value);
      const before = await stages(h, secretArn);
      const usersBefore = prefix ? await entry.usersSnapshot(h, prefix) : undefined;
      await h.client.send(new RotateSecretCommand({ SecretId: secretArn, RotationLambdaARN: entry.lambdaArn }));
      await h.sandbox.settle();
      const failures = h.sandbox.rotations.events.filter((e) => e.secretArn === secretArn && e.eventName === 'RotationFailed');
      expect(failures.length).toBeGreaterThan(0);
      expect(failures[0]?.errorMessage).toMatch(message);
      expect(versionWith(await stages(h, secretArn), 'AWSCURRENT')).toBe(versionWith(before, 'AWSCURRENT'));
      if (prefix) expect(await entry.usersSnapshot(h, prefix)).toBe(usersBefore);
    }

    // Each accepted `engine` value in turn, so that every spelling reaches the check that follows.
    const values = entry.adapter.engineValues;
    const as = (i: number, fields: Record<string, unknown>) => ({ engine: values[i % values.length], ...fields });
    const foreign = ENGINES_UNDER_TEST.find((other) => other !== entry)?.adapter.engineValues[0] ?? 'oracle';
    it.each([
      ['a value that is not JSON', 'host=db user=app', /not valid JSON/],
      ['a JSON array', '[]', /must be a JSON object/],
      ['no host', as(0, { username: 'u', password: 'p' }), /lacks "host"/],
      ['no username', as(1, { host: 'localhost', password: 'p' }), /lacks "username"/],
      ['no password', as(2, { host: 'localhost', username: 'u' }), /lacks "password"/],
      [`a secret of another engine ("${foreign}")`, { engine: foreign, host: 'localhost', username: 'u', password: 'p' }, new RegExp(`rotates ${escape(values.join(' or '))}`)],
      ['a port that is not a port', as(0, { host: 'localhost', username: 'u', password: 'p', port: 'fifty' }), /invalid "port"/],
      ['alternating users without masterarn', as(0, { host: 'localhost', username: 'u', password: 'p', rotationstrategy: 'alternating' }), /lacks "masterarn"/],
    ])('%s', async (_what, value, message) => {
      await expectRefused(value, message);
    });

    it('masterarn pointing at the admin of another server: no clone, the user unchanged', async () => {
      const user = uniqueName('deputy');
      const password = await newUser(user);
      const elsewhere = await createSecret(h, uniqueName('admin-elsewhere'), entry.secret({ hostname: 'other-db.internal', port: h.db.port }, h.db.adminUser, h.db.adminPassword));
      await expectRefused(secretOf(user, password, { masterarn: elsewhere }), /must name the admin of the same server/, user);
      expect(await h.userExists(`${user}_clone`)).toBe(false);
      expect(await h.canLogin(user, password)).toBe(true);
    });

    it(`a clone name longer than the engine allows (${entry.adapter.maxUsernameLength} bytes) is refused before anything is created`, async () => {
      const user = `long_${'x'.repeat(entry.adapter.maxUsernameLength - 7)}`; // fits; with '_clone' it does not
      await expectRefused(
        secretOf(user, 'p', { masterarn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:any' }),
        new RegExp(`longer than this engine's ${entry.adapter.maxUsernameLength}-byte limit`),
        user,
      );
    });

    it('an unreachable database fails within the connect timeout', async () => {
      const started = Date.now();
      await expectRefused(entry.secret({ hostname: 'localhost', port: 1 }, 'nobody', 'nopw'), /unreachable|ECONNREFUSED|connect/i);
      expect(Date.now() - started).toBeLessThan(20_000);
    });

    it('a wrong current password with no working previous one: a clear error, the user unchanged', async () => {
      const user = uniqueName('wrongpw');
      const password = await newUser(user);
      await expectRefused(secretOf(user, 'not-the-real-pw'), /Neither the AWSCURRENT nor the AWSPREVIOUS password/, user);
      expect(await h.canLogin(user, password)).toBe(true);
    });

    it('a wrong current password falls back to a working AWSPREVIOUS, as the templates do', async () => {
      const user = uniqueName('fallback');
      const arn = await newSecret('fallback-secret', secretOf(user, await newUser(user)));
      await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(secretOf(user, 'never-applied-pw')) }));
      await rotate(h, arn);
      expectSucceeded(arn);
      expect(await h.canLogin(user, (await secretValue(h, arn)).password)).toBe(true);
    });

    describe('events the handler refuses before touching anything', () => {
      it.each([
        ['an unknown Step', { Step: 'dropSecret', SecretId: 'x', ClientRequestToken: 'y' }, /Unknown rotation step/],
        ['a malformed event', 'createSecret', /must be a JSON object/],
      ])('%s', async (_what, event, message) => {
        await expect(h.handler(event)).rejects.toThrow(message);
      });

      it('a token that is not a version, or not AWSPENDING, and a secret with rotation disabled', async () => {
        const user = uniqueName('direct');
        const arn = await newSecret('direct-secret', secretOf(user, await newUser(user)));
        const token = '00000000-0000-4000-8000-000000000abc';
        await expect(h.handler({ Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toThrow(/is not a version of secret/);
        const put = await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(secretOf(user, 'custom-stage-pw')), VersionStages: ['CUSTOM'] }));
        await expect(h.handler({ Step: 'setSecret', SecretId: arn, ClientRequestToken: put.VersionId })).rejects.toThrow(/is not AWSPENDING/);
        await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: entry.lambdaArn, RotationRules: { AutomaticallyAfterDays: 3 } }));
        await h.sandbox.settle();
        await h.client.send(new CancelRotateSecretCommand({ SecretId: arn }));
        const currentVersion = versionWith(await stages(h, arn), 'AWSCURRENT');
        await expect(h.handler({ Step: 'createSecret', SecretId: arn, ClientRequestToken: currentVersion })).rejects.toThrow(/Rotation is not enabled/);
        expect(await h.canLogin(user, (await secretValue(h, arn)).password)).toBe(true);
      });
    });
  });

  describe('leak canary (runs last)', () => {
    it("no password of any secret above, nor any the users were given, appears in the server's log, the handler's output or an error", async () => {
      const log = readFileSync(h.db.logFile, 'utf8');
      for (const statement of entry.logRecordsPasswords) expect(log).toMatch(statement); // the log really records password changes
      expect(h.output.join('')).toMatch(/Rotation step succeeded/);
      const result = await leakCanary(h, arns, initialPasswords);
      expect(result.passwords).toBeGreaterThanOrEqual(30);
      expect(result.findings).toEqual([]);
    });
  });
});
