// The hostile input corpus: malformed events and secret values, wrong types, huge values, names
// built to break out of SQL quoting, and masterarn/host mismatches meant to make the admin act on
// another database or user (confused deputy). Each case, on PostgreSQL and on MariaDB, must get
// a clear error naming the field, carry no secret, and change nothing: the users under the case
// prefix (names and password hashes) are unchanged, the victim's own password still logs in, and
// the secret's AWSCURRENT is where it was.

import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineRig, Rig, RigEngine } from '../../../local/faults/rig';
import { ENGINES_UNDER_TEST, SERVERS, type EngineUnderTest } from '../conformance/engines';
import { startTestRig } from './rig';

let rig: Rig;
const prefix = `hx${randomBytes(3).toString('hex')}`;
const victims = new Map<RigEngine, { username: string; password: string }>();
const admins = new Map<RigEngine, Record<string, string>>();

beforeAll(async () => {
  rig = await startTestRig(SERVERS, { maxAttempts: 1 });
  for (const engine of SERVERS) {
    const e = rig.engine(engine);
    const victim = { username: `${prefix}_victim`, password: `Victim-${randomBytes(9).toString('base64url')}` };
    await e.createUser(victim.username, victim.password);
    victims.set(engine, victim);
    const adminValue = (host: string | undefined, port: number | undefined) => {
      const v: Record<string, unknown> = { ...e.secretValue(e.db.adminUser, e.db.adminPassword) };
      if (host === undefined) delete v['host'];
      else v['host'] = host;
      if (port !== undefined) v['port'] = port;
      return v;
    };
    admins.set(engine, {
      good: e.adminArn,
      elsewhere: await rig.createSecret(`${prefix}-admin-elsewhere-${engine}`, adminValue('other-db.internal', e.proxy.port)),
      noHost: await rig.createSecret(`${prefix}-admin-nohost-${engine}`, adminValue(undefined, undefined)),
      otherPort: await rig.createSecret(`${prefix}-admin-otherport-${engine}`, adminValue('localhost', e.db.port)),
      ipSpelling: await rig.createSecret(`${prefix}-admin-ip-${engine}`, adminValue('127.0.0.1', e.proxy.port)),
    });
  }
});
afterAll(async () => {
  await rig?.close();
});

/** Users under the case prefix, with their password hashes: "nothing changed" is this snapshot unchanged. */
const snapshot = (entry: EngineUnderTest, e: EngineRig): Promise<string> => entry.usersSnapshot(e, prefix);
/** An `engine` value another engine's function rotates (so this one must refuse it). */
const foreignTo = (entry: EngineUnderTest): string => ENGINES_UNDER_TEST.find((other) => other !== entry)?.adapter.engineValues[0] ?? 'oracle';

type Ctx = { e: EngineRig; victim: { username: string; password: string }; admin: Record<string, string>; other: string };
interface SecretCase {
  name: string;
  value: (c: Ctx) => Record<string, unknown> | string;
  error: RegExp;
}

const base = (c: Ctx, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...c.e.secretValue(c.victim.username, c.victim.password), ...extra });
const without = (c: Ctx, key: string): Record<string, unknown> => {
  const v = base(c);
  delete v[key];
  return v;
};
const alt = (c: Ctx, username: string, extra: Record<string, unknown> = {}) => base(c, { username, password: 'irrelevant-Pw-1', masterarn: c.admin['good'], ...extra });

const secretCases: SecretCase[] = [
  // Malformed values and wrong types.
  { name: 'not JSON', value: () => 'host=db user=app password=x', error: /not valid JSON/ },
  { name: 'a JSON array', value: () => '[]', error: /must be a JSON object/ },
  { name: 'a JSON string', value: () => '"text"', error: /must be a JSON object/ },
  { name: 'JSON null', value: () => 'null', error: /must be a JSON object/ },
  { name: 'a JSON number', value: () => '42', error: /must be a JSON object/ },
  { name: 'an empty object', value: () => ({}), error: /lacks "engine"/ },
  { name: 'engine a number', value: (c) => base(c, { engine: 5 }), error: /invalid "engine"/ },
  { name: 'engine of the other handler', value: (c) => base(c, { engine: c.other }), error: /"engine"/ },
  { name: 'no host', value: (c) => without(c, 'host'), error: /lacks "host"/ },
  { name: 'host a number', value: (c) => base(c, { host: 123 }), error: /invalid "host"/ },
  { name: 'host with a space and a command', value: (c) => base(c, { host: 'localhost; rm -rf /' }), error: /invalid "host"/ },
  { name: 'host of 300 characters', value: (c) => base(c, { host: 'a'.repeat(300) }), error: /invalid "host"/ },
  { name: 'no username', value: (c) => without(c, 'username'), error: /lacks "username"/ },
  { name: 'username a number', value: (c) => base(c, { username: 42 }), error: /invalid "username"/ },
  { name: 'username empty', value: (c) => base(c, { username: '' }), error: /invalid "username"/ },
  { name: 'no password', value: (c) => without(c, 'password'), error: /lacks "password"/ },
  { name: 'password an object', value: (c) => base(c, { password: { x: 1 } }), error: /invalid "password"/ },
  { name: 'port a word', value: (c) => base(c, { port: 'fifty' }), error: /invalid "port"/ },
  { name: 'port 70000', value: (c) => base(c, { port: 70000 }), error: /invalid "port"/ },
  { name: 'port -1', value: (c) => base(c, { port: -1 }), error: /invalid "port"/ },
  { name: 'port 1.5', value: (c) => base(c, { port: 1.5 }), error: /invalid "port"/ },
  { name: 'ssl "maybe"', value: (c) => base(c, { ssl: 'maybe' }), error: /invalid "ssl"/ },
  { name: 'rotationstrategy unknown', value: (c) => base(c, { rotationstrategy: 'chaos' }), error: /invalid "rotationstrategy"/ },
  { name: 'usernames with one name', value: (c) => base(c, { usernames: [c.victim.username], masterarn: c.admin['good'] }), error: /invalid "usernames"/ },
  { name: 'usernames twice the same', value: (c) => base(c, { usernames: [c.victim.username, c.victim.username], masterarn: c.admin['good'] }), error: /invalid "usernames"/ },
  { name: 'username not among usernames', value: (c) => base(c, { usernames: [`${prefix}_a`, `${prefix}_b`], masterarn: c.admin['good'] }), error: /"username" that is not one of its "usernames"/ },
  { name: 'masterarn a number', value: (c) => base(c, { masterarn: 7 }), error: /invalid "masterarn"/ },
  { name: 'alternating without masterarn', value: (c) => base(c, { rotationstrategy: 'alternating' }), error: /lacks "masterarn"/ },
  { name: 'dbname a number', value: (c) => base(c, { dbname: 42 }), error: /invalid "dbname"/ },
  // Huge values.
  { name: 'username of 20,000 characters (alternating)', value: (c) => alt(c, `${prefix}${'u'.repeat(20_000)}`), error: /"username"|longer than this engine's/ },
  { name: 'password of 60,000 characters', value: (c) => base(c, { password: `P${'w'.repeat(60_000)}` }), error: /Neither the AWSCURRENT nor the AWSPREVIOUS password/ },
  // Names built to break out of quoting (single user: the login is refused, nothing runs).
  { name: "username with a quote and DROP", value: (c) => base(c, { username: `${prefix}x'; DROP USER '${c.victim.username}'; --` }), error: /Neither the AWSCURRENT|username/ },
  { name: 'username with a double quote and semicolon', value: (c) => base(c, { username: `${prefix}x"; DROP ROLE "${c.victim.username}"; --` }), error: /Neither the AWSCURRENT|username/ },
  { name: 'username with backslashes', value: (c) => base(c, { username: `${prefix}x\\'\\"\\\\` }), error: /Neither the AWSCURRENT|username/ },
  { name: 'username with a backquote', value: (c) => base(c, { username: `${prefix}x\`; DROP USER \`${c.victim.username}\`; --` }), error: /Neither the AWSCURRENT|username/ },
  { name: 'username with % (a MySQL host wildcard)', value: (c) => base(c, { username: `${prefix}%` }), error: /Neither the AWSCURRENT|username/ },
  { name: 'username in unicode', value: (c) => base(c, { username: `${prefix}ü用户😀` }), error: /Neither the AWSCURRENT|username/ },
  { name: 'dbname with quotes and a semicolon', value: (c) => base(c, { dbname: `postgres"; DROP DATABASE x; --'` }), error: /dbname|database/i },
  // The same names with an admin at hand (alternating): the AWSCURRENT guard stops the admin first.
  { name: 'alternating: username with a double quote and DROP', value: (c) => alt(c, `${prefix}a"; DROP ROLE "${c.victim.username}"; --`), error: /refusing to use the admin credential|username/ },
  { name: 'alternating: username with a backquote and DROP', value: (c) => alt(c, `${prefix}a\`; DROP USER \`${c.victim.username}\`; --`), error: /refusing to use the admin credential|username/ },
  { name: "alternating: username with a quote and a backslash", value: (c) => alt(c, `${prefix}a\\'; DROP USER '${c.victim.username}'; --`), error: /refusing to use the admin credential|username/ },
  // Confused deputy: make the admin act on someone else's user, or on another server.
  { name: "alternating on the victim's name with a wrong password (clone the victim)", value: (c) => alt(c, c.victim.username), error: /refusing to use the admin credential/ },
  { name: 'masterarn: the admin of another host', value: (c) => base(c, { masterarn: c.admin['elsewhere'] }), error: /must name the admin of the same server/ },
  { name: 'masterarn: an admin secret with no host', value: (c) => base(c, { masterarn: c.admin['noHost'] }), error: /has no "host"/ },
  { name: 'masterarn: the admin of the same host on another port', value: (c) => base(c, { masterarn: c.admin['otherPort'] }), error: /must name the admin of the same server/ },
  { name: 'masterarn: the same server spelled as an IP address', value: (c) => base(c, { masterarn: c.admin['ipSpelling'] }), error: /must name the admin of the same server/ },
  { name: 'masterarn: a secret that does not exist', value: (c) => base(c, { masterarn: `${c.admin['good']!.slice(0, -6)}nope00` }), error: /admin secret/ },
  { name: 'masterarn: the rotated user names the admin itself', value: (c) => base(c, { username: c.e.db.adminUser, password: 'not-the-admin-pw', masterarn: c.admin['good'] }), error: /refusing to use the admin credential|Neither/ },
];

for (const entry of ENGINES_UNDER_TEST) {
  const engine = entry.server;
  describe(`${entry.name}: hostile secret values`, () => {
    it.each(secretCases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
      const e = rig.engine(engine);
      const ctx: Ctx = { e, victim: victims.get(engine)!, admin: admins.get(engine)!, other: foreignTo(entry) };
      const value = testCase.value(ctx);
      const before = await snapshot(entry, e);
      const arn = await rig.createSecret(`${prefix}-case-${randomBytes(4).toString('hex')}`, value);
      const stagesBefore = await rig.stages(arn);
      await rig.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: e.lambdaArn }));
      await rig.sandbox.settle();

      const failures = rig.sandbox.rotations.events.filter((ev) => ev.secretArn === arn && ev.eventName === 'RotationFailed');
      expect(failures.length).toBeGreaterThan(0);
      const message = failures[0]!.errorMessage ?? '';
      expect(message).toMatch(testCase.error);
      // Bounded: the fixed text plus the (hostile) user name, which messages quote, at most twice.
      expect(message.length).toBeLessThan(2_000 + 2 * (typeof value === 'object' && typeof value['username'] === 'string' ? value['username'].length : 0));
      const secrets = [ctx.victim.password, e.db.adminPassword, typeof value === 'object' && typeof value['password'] === 'string' ? value['password'] : ''].filter((s) => s.length >= 8);
      for (const s of secrets) expect(message).not.toContain(s);

      // Nothing changed: the users, the victim's login, AWSCURRENT.
      expect(await snapshot(entry, e)).toBe(before);
      expect(await e.canLogin(ctx.victim.username, ctx.victim.password)).toBe(true);
      const stagesAfter = await rig.stages(arn);
      const current = (s: Record<string, string[]>) => Object.entries(s).find(([, v]) => v.includes('AWSCURRENT'))?.[0];
      expect(current(stagesAfter)).toBe(current(stagesBefore));
    });
  });

  describe(`${entry.name}: hostile events (refused before any call)`, () => {
    it.each([
      ['a string', 'createSecret', /must be a JSON object/],
      ['null', null, /must be a JSON object/],
      ['an array', [], /must be a JSON object/],
      ['an empty object', {}, /has no Step/],
      ['an unknown Step', { Step: 'dropSecret', SecretId: 'x', ClientRequestToken: 'y' }, /Unknown rotation step/],
      ['Step a number', { Step: 5, SecretId: 'x', ClientRequestToken: 'y' }, /Step must be/],
      ['SecretId of 3,000 characters', { Step: 'createSecret', SecretId: 's'.repeat(3000), ClientRequestToken: 'y' }, /SecretId must be/],
      ['ClientRequestToken with a newline', { Step: 'createSecret', SecretId: 'x', ClientRequestToken: 'a\nb' }, /ClientRequestToken must be/],
      ['ClientRequestToken in unicode', { Step: 'createSecret', SecretId: 'x', ClientRequestToken: 'tökén' }, /ClientRequestToken must be/],
      ['RotationToken a number', { Step: 'createSecret', SecretId: 'x', ClientRequestToken: 'y', RotationToken: 7 }, /RotationToken must be/],
      ['a prototype-polluting Step', JSON.parse('{"Step":"__proto__","SecretId":"x","ClientRequestToken":"y"}') as unknown, /Unknown rotation step/],
    ] as const)('%s', async (_name, event, message) => {
      const e = rig.engine(engine);
      const before = await snapshot(entry, e);
      const calls = rig.sandbox.calls.length;
      await expect(e.handler(event)).rejects.toThrow(message);
      expect(rig.sandbox.calls.length).toBe(calls); // refused at the edge: not one Secrets Manager call
      expect(await snapshot(entry, e)).toBe(before);
    });
  });
}
