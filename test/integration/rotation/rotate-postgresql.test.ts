import { CancelRotateSecretCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  allPasswords,
  createSecret,
  PG_LAMBDA,
  pgSecret,
  secretValue,
  stages,
  startPostgresHarness,
  uniqueName,
  type PostgresHarness,
} from './harness';

let h: PostgresHarness;
const rotatedSecrets: string[] = [];

beforeAll(async () => {
  h = await startPostgresHarness();
});
afterAll(async () => {
  await h?.close();
});

async function createUser(name: string, password: string): Promise<void> {
  // The password reaches the server in plaintext here only in test set-up, for the initial users.
  await h.admin(`CREATE ROLE "${name}" LOGIN PASSWORD '${password}'`);
}

async function rotate(arn: string, rules = true): Promise<void> {
  await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: PG_LAMBDA, ...(rules ? { RotationRules: { AutomaticallyAfterDays: 30 } } : {}) }));
  await h.sandbox.settle();
}

function lastOutcome(arn: string): string | undefined {
  return h.sandbox.rotations.events.filter((e) => e.secretArn === arn && (e.eventName === 'RotationSucceeded' || e.eventName === 'RotationFailed')).at(-1)?.eventName;
}

describe('single user', () => {
  it('rotates three times: the new password logs in, the old one is refused, the user stays the same', async () => {
    const user = uniqueName('single');
    await createUser(user, 'initial-password-1');
    const arn = await createSecret(h, uniqueName('single-secret'), pgSecret(h.db, user, 'initial-password-1'));
    rotatedSecrets.push(arn);
    let previous = 'initial-password-1';
    for (let i = 0; i < 3; i++) {
      await rotate(arn);
      expect(lastOutcome(arn)).toBe('RotationSucceeded');
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
});

describe('alternating users', () => {
  it('alternates between the user and its clone; AWSCURRENT and AWSPREVIOUS both log in; objects stay usable by both', async () => {
    const user = uniqueName('alt');
    const schema = uniqueName('alt_schema');
    await createUser(user, 'alt-initial-pw');
    await h.admin(`CREATE SCHEMA "${schema}" AUTHORIZATION "${user}"`);
    const adminArn = await createSecret(h, uniqueName('admin'), pgSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const arn = await createSecret(h, uniqueName('alt-secret'), pgSecret(h.db, user, 'alt-initial-pw', { masterarn: adminArn }));
    rotatedSecrets.push(arn);

    const seenUsers: string[] = [];
    for (let i = 0; i < 3; i++) {
      await rotate(arn);
      expect(lastOutcome(arn)).toBe('RotationSucceeded');
      const current = await secretValue(h, arn);
      const previous = await secretValue(h, arn, 'AWSPREVIOUS');
      seenUsers.push(current.username);
      expect(current.masterarn).toBe(adminArn);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
      expect(await h.canLogin(previous.username, previous.password)).toBe(true);
      expect(current.username).not.toBe(previous.username);

      // Whoever logs in can use what the other created: the clone acts as the base role.
      const table = `"${schema}"."t${i}"`;
      await asUser(current, `CREATE TABLE ${table} (id int); INSERT INTO ${table} VALUES (${i})`);
      const rows = await asUser(previous, `SELECT id FROM ${table}`);
      expect(rows).toEqual([{ id: i }]);
      const [owner] = await h.admin<{ owner: string }>(`SELECT tableowner AS owner FROM pg_tables WHERE schemaname = $1 AND tablename = $2`, [schema, `t${i}`]);
      expect(owner?.owner).toBe(user);
    }
    expect(seenUsers).toEqual([`${user}_clone`, user, `${user}_clone`]);
  });
});

describe('pre-created pair', () => {
  it('alternates between two users the team created, creating no clone', async () => {
    const blue = uniqueName('blue');
    const green = uniqueName('green');
    await createUser(blue, 'blue-initial');
    await createUser(green, 'green-initial');
    const adminArn = await createSecret(h, uniqueName('admin'), pgSecret(h.db, h.db.adminUser, h.db.adminPassword));
    // Bootstrap: green's credential first (it becomes AWSPREVIOUS, the proof this secret controls green), then blue's.
    const pair = { masterarn: adminArn, usernames: [blue, green] };
    const arn = await createSecret(h, uniqueName('pair-secret'), pgSecret(h.db, green, 'green-initial', pair));
    await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(pgSecret(h.db, blue, 'blue-initial', pair)) }));
    rotatedSecrets.push(arn);
    const users: string[] = [];
    for (let i = 0; i < 3; i++) {
      await rotate(arn);
      expect(lastOutcome(arn)).toBe('RotationSucceeded');
      const current = await secretValue(h, arn);
      users.push(current.username);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
      const previous = await secretValue(h, arn, 'AWSPREVIOUS');
      expect(await h.canLogin(previous.username, previous.password)).toBe(true);
    }
    expect(users).toEqual([green, blue, green]);
    const clones = await h.admin(`SELECT 1 FROM pg_roles WHERE rolname IN ($1, $2)`, [`${blue}_clone`, `${green}_clone`]);
    expect(clones).toEqual([]);
  });

  it("refuses to set the other user's password without proof of control (confused deputy)", async () => {
    const mine = uniqueName('mine');
    const victim = uniqueName('victim');
    await createUser(mine, 'mine-initial');
    await createUser(victim, 'victim-initial');
    const adminArn = await createSecret(h, uniqueName('admin'), pgSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const arn = await createSecret(h, uniqueName('pair-deputy'), pgSecret(h.db, mine, 'mine-initial', { masterarn: adminArn, usernames: [mine, victim] }));
    await rotate(arn);
    expect(lastOutcome(arn)).toBe('RotationFailed');
    expect(await h.canLogin(victim, 'victim-initial')).toBe(true);
    expect((await secretValue(h, arn)).username).toBe(mine);
  });
});

describe("a secret in AWS's template format", () => {
  it('rotates unchanged and stays in that format (every key kept, same types)', async () => {
    const user = uniqueName('awsfmt');
    await createUser(user, 'aws-format-pw');
    const original = { engine: 'postgres', host: h.db.hostname, username: user, password: 'aws-format-pw', dbname: 'postgres', port: h.db.port, proxyHost: 'proxy.example.internal', ssl: true };
    const arn = await createSecret(h, uniqueName('aws-format'), original);
    rotatedSecrets.push(arn);
    await rotate(arn);
    expect(lastOutcome(arn)).toBe('RotationSucceeded');
    const rotated = await secretValue(h, arn);
    expect(Object.keys(rotated)).toEqual(Object.keys(original));
    expect({ ...rotated, password: 'x' }).toEqual({ ...original, password: 'x' });
  });
});

describe('each step delivered twice', () => {
  it('completes the rotation with the same result', async () => {
    const twice = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql-twice';
    h.sandbox.functions.register(twice, async (event) => {
      await h.handler(event);
      await h.handler(event);
    });
    const user = uniqueName('twice');
    await createUser(user, 'twice-initial');
    const adminArn = await createSecret(h, uniqueName('admin'), pgSecret(h.db, h.db.adminUser, h.db.adminPassword));
    for (const value of [pgSecret(h.db, user, 'twice-initial'), pgSecret(h.db, user, 'twice-initial', { masterarn: adminArn })]) {
      if (value['masterarn']) await h.admin(`ALTER ROLE "${user}" PASSWORD 'twice-initial'`);
      const arn = await createSecret(h, uniqueName('twice-secret'), value);
      rotatedSecrets.push(arn);
      for (let i = 0; i < 2; i++) {
        await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: twice }));
        await h.sandbox.settle();
        expect(lastOutcome(arn)).toBe('RotationSucceeded');
        const current = await secretValue(h, arn);
        expect(await h.canLogin(current.username, current.password)).toBe(true);
      }
    }
  });
});

describe('secrets stay secret', () => {
  it("no password of any rotated secret appears in the server's statement log or the handler's output", async () => {
    expect(rotatedSecrets.length).toBeGreaterThan(0);
    const statementLog = readFileSync(h.db.logFile, 'utf8');
    expect(statementLog).toMatch(/ALTER ROLE/); // the log really records statements
    const output = h.output.join('');
    expect(output).toMatch(/Rotation step succeeded/);
    for (const arn of rotatedSecrets) {
      for (const password of await allPasswords(h, arn)) {
        if (password.endsWith('-initial') || password.endsWith('-pw') || password.includes('initial')) continue; // set by the test itself
        for (const form of [password, Buffer.from(password).toString('base64'), encodeURIComponent(password)]) {
          expect(statementLog).not.toContain(form);
          expect(output).not.toContain(form);
        }
      }
    }
  });
});

describe('bad input: a clear error, nothing changed', () => {
  async function expectRefused(value: Record<string, unknown> | string, message: RegExp, setup?: (arn: string) => Promise<void>): Promise<void> {
    const secretArn = await createSecret(h, uniqueName('bad-secret'), value);
    await setup?.(secretArn);
    const before = await stages(h, secretArn);
    await h.client.send(new RotateSecretCommand({ SecretId: secretArn, RotationLambdaARN: PG_LAMBDA }));
    await h.sandbox.settle();
    const failures = h.sandbox.rotations.events.filter((e) => e.secretArn === secretArn && e.eventName === 'RotationFailed');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]?.errorMessage).toMatch(message);
    const after = await stages(h, secretArn);
    const currentVersion = (s: Record<string, string[]>) => Object.entries(s).find(([, v]) => v.includes('AWSCURRENT'))?.[0];
    expect(currentVersion(after)).toBe(currentVersion(before));
  }

  it.each([
    ['a value that is not JSON', 'host=db user=app', /not valid JSON/],
    ['a JSON array', '[]', /must be a JSON object/],
    ['no host', { engine: 'postgres', username: 'u', password: 'p' }, /lacks "host"/],
    ['no username', { engine: 'postgres', host: 'localhost', password: 'p' }, /lacks "username"/],
    ['no password', { engine: 'postgres', host: 'localhost', username: 'u' }, /lacks "password"/],
    ['a MySQL secret', { engine: 'mysql', host: 'localhost', username: 'u', password: 'p' }, /rotates postgres or aurora-postgresql/],
    ['a port that is not a port', { engine: 'postgres', host: 'localhost', username: 'u', password: 'p', port: 'fifty' }, /invalid "port"/],
    ['alternating users without masterarn', { engine: 'postgres', host: 'localhost', username: 'u', password: 'p', rotationstrategy: 'alternating' }, /lacks "masterarn"/],
  ])('%s', async (_what, value, message) => {
    await expectRefused(value, message);
  });

  it('masterarn pointing at the admin of another server', async () => {
    const user = uniqueName('deputy');
    await createUser(user, 'deputy-pw');
    const adminArn = await createSecret(h, uniqueName('admin-elsewhere'), pgSecret({ hostname: 'other-db.internal', port: h.db.port }, h.db.adminUser, h.db.adminPassword));
    await expectRefused(pgSecret(h.db, user, 'deputy-pw', { masterarn: adminArn }), /must name the admin of the same server/);
    expect(await h.admin(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [`${user}_clone`])).toEqual([]);
    expect(await h.canLogin(user, 'deputy-pw')).toBe(true);
  });

  it('an unreachable database fails within the connect timeout', async () => {
    const started = Date.now();
    await expectRefused(pgSecret({ hostname: 'localhost', port: 1 }, 'nobody', 'nopw'), /unreachable|ECONNREFUSED|connect/i);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a wrong current password with no working previous one: a clear error, the user unchanged', async () => {
    const user = uniqueName('wrongpw');
    await createUser(user, 'the-real-pw');
    await expectRefused(pgSecret(h.db, user, 'not-the-real-pw'), /Neither the AWSCURRENT nor the AWSPREVIOUS password/);
    expect(await h.canLogin(user, 'the-real-pw')).toBe(true);
  });

  it('a wrong current password falls back to a working AWSPREVIOUS, as the templates do', async () => {
    const user = uniqueName('fallback');
    await createUser(user, 'previous-pw');
    const arn = await createSecret(h, uniqueName('fallback-secret'), pgSecret(h.db, user, 'previous-pw'));
    await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(pgSecret(h.db, user, 'never-applied-pw')) }));
    await rotate(arn);
    expect(lastOutcome(arn)).toBe('RotationSucceeded');
    const current = await secretValue(h, arn);
    expect(await h.canLogin(user, current.password)).toBe(true);
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
      await createUser(user, 'direct-pw');
      const arn = await createSecret(h, uniqueName('direct-secret'), pgSecret(h.db, user, 'direct-pw'));
      const token = '00000000-0000-4000-8000-000000000abc';
      await expect(h.handler({ Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toThrow(/is not a version of secret/);
      const put = await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(pgSecret(h.db, user, 'x')), VersionStages: ['CUSTOM'] }));
      await expect(h.handler({ Step: 'setSecret', SecretId: arn, ClientRequestToken: put.VersionId })).rejects.toThrow(/is not AWSPENDING/);
      await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: PG_LAMBDA, RotationRules: { AutomaticallyAfterDays: 3 } }));
      await h.sandbox.settle();
      await h.client.send(new CancelRotateSecretCommand({ SecretId: arn }));
      const current = (await stages(h, arn));
      const currentVersion = Object.entries(current).find(([, v]) => v.includes('AWSCURRENT'))![0];
      await expect(h.handler({ Step: 'createSecret', SecretId: arn, ClientRequestToken: currentVersion })).rejects.toThrow(/Rotation is not enabled/);
      expect(await h.canLogin(user, (await secretValue(h, arn)).password)).toBe(true);
    });
  });
});

async function asUser(cred: { username: string; password: string }, sql: string): Promise<Record<string, unknown>[]> {
  const c = new Client({ host: h.db.hostname, port: h.db.port, user: cred.username, password: cred.password, database: 'postgres', ssl: { ca: inject('tls').caPem } });
  await c.connect();
  try {
    const result: unknown = await c.query(sql);
    const last = (Array.isArray(result) ? result.at(-1) : result) as { rows?: Record<string, unknown>[] } | undefined;
    return last?.rows ?? [];
  } finally {
    await c.end();
  }
}
