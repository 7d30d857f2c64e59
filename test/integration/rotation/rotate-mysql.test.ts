// The MySQL handler (functions/rotate-mysql) through the sandbox's RotateSecret, against the real
// MariaDB of the integration global setup (TLS verified, general log on). Mirrors
// rotate-postgresql.test.ts, plus what is particular to MySQL: account hosts other than '%',
// WITH GRANT OPTION, grants that must stay identical between the user and its clone, and names
// with quotes, backquotes and '%'.

import { CancelRotateSecretCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativePasswordHash } from '../../../shared/engines/mysql/passwords';
import { quoteAccount, quoteIdentifier, type Account } from '../../../shared/engines/mysql/sql';
import { allPasswords, createSecret, mysqlSecret, secretValue, stages, startMysqlHarness, uniqueName, type Harness } from './harness';

let h: Harness;
const rotatedSecrets: string[] = [];

beforeAll(async () => {
  h = await startMysqlHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Creates an account; the password reaches the server only as its hash, so the general log stays clean. */
async function createUser(name: string, password: string, host = '%', extra = ''): Promise<void> {
  await h.admin(`CREATE USER ${quoteAccount({ user: name, host })} IDENTIFIED BY PASSWORD '${nativePasswordHash(password)}' ${extra}`);
}

async function rotate(arn: string, lambda = h.lambdaArn): Promise<void> {
  await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambda, RotationRules: { AutomaticallyAfterDays: 30 } }));
  await h.sandbox.settle();
}

function lastOutcome(arn: string): string | undefined {
  const events = h.sandbox.rotations.events.filter((e) => e.secretArn === arn && (e.eventName === 'RotationSucceeded' || e.eventName === 'RotationFailed'));
  return events.at(-1)?.eventName;
}

function lastFailure(arn: string): string | undefined {
  return h.sandbox.rotations.events.filter((e) => e.secretArn === arn && e.eventName === 'RotationFailed').at(-1)?.errorMessage;
}

/** SHOW GRANTS with the grantee and the password hash taken out, so two accounts can be compared. */
async function grantsOf(account: Account): Promise<string[]> {
  const rows = await h.admin<Record<string, string>>(`SHOW GRANTS FOR ${quoteAccount(account)}`);
  return rows
    .map((row) => String(Object.values(row)[0]))
    .map((grant) => grant.split(quoteAccount(account)).join('<grantee>').replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''))
    .sort();
}

async function accountsOf(user: string): Promise<string[]> {
  const rows = await h.admin<{ Host: string }>('SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host', [user]);
  return rows.map((r) => r.Host);
}

describe('single user', () => {
  it('rotates three times: the new password logs in, the old one is refused, the user stays the same', async () => {
    const user = uniqueName('single');
    await createUser(user, 'initial-password-1');
    const arn = await createSecret(h, uniqueName('single-secret'), mysqlSecret(h.db, user, 'initial-password-1'));
    rotatedSecrets.push(arn);
    let previous = 'initial-password-1';
    for (let i = 0; i < 3; i++) {
      await rotate(arn);
      expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
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

  it("changes the password of the account the user logs in as ('app'@'127.0.0.1'), not another one", async () => {
    const user = uniqueName('local');
    await createUser(user, 'local-initial', '127.0.0.1');
    await createUser(user, 'other-host-pw', '10.9.8.7');
    const arn = await createSecret(h, uniqueName('local-secret'), mysqlSecret(h.db, user, 'local-initial'));
    rotatedSecrets.push(arn);
    await rotate(arn);
    expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
    expect(await h.canLogin(user, (await secretValue(h, arn)).password)).toBe(true);
    const [other] = await h.admin<{ pw: string }>("SELECT authentication_string AS pw FROM mysql.user WHERE User = ? AND Host = '10.9.8.7'", [user]);
    expect(other?.pw).toBe(nativePasswordHash('other-host-pw'));
  });
});

describe('alternating users', () => {
  it('alternates between the user and its clone; grants stay identical after each rotation; a revoked grant leaves the clone', async () => {
    const user = uniqueName('alt');
    const db = uniqueName('alt%db TO x');
    await createUser(user, 'alt-initial-pw', '%', 'REQUIRE SSL WITH MAX_USER_CONNECTIONS 20');
    await h.admin(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await h.admin(`CREATE TABLE ${quoteIdentifier(db)}.t (id int)`);
    await h.admin(`GRANT SELECT, INSERT, DELETE ON ${quoteIdentifier(db)}.* TO ${quoteAccount({ user, host: '%' })}`);
    await h.admin(`GRANT SELECT (id) ON ${quoteIdentifier(db)}.t TO ${quoteAccount({ user, host: '%' })}`);
    const adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const arn = await createSecret(h, uniqueName('alt-secret'), mysqlSecret(h.db, user, 'alt-initial-pw', { masterarn: adminArn }));
    rotatedSecrets.push(arn);

    const base = { user, host: '%' };
    const clone = { user: `${user}_clone`, host: '%' };
    const seenUsers: string[] = [];
    for (let i = 0; i < 3; i++) {
      if (i === 2) await h.admin(`REVOKE DELETE ON ${quoteIdentifier(db)}.* FROM ${quoteAccount(base)}`);
      await rotate(arn);
      expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
      const current = await secretValue(h, arn);
      const previous = await secretValue(h, arn, 'AWSPREVIOUS');
      seenUsers.push(current.username);
      expect(current.masterarn).toBe(adminArn);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
      expect(await h.canLogin(previous.username, previous.password)).toBe(true);
      expect(current.username).not.toBe(previous.username);
      if (i !== 1) expect(await grantsOf(clone)).toEqual(await grantsOf(base)); // rotation 2 only sets the base's password
    }
    expect(seenUsers).toEqual([`${user}_clone`, user, `${user}_clone`]);
    const cloneGrants = (await grantsOf(clone)).join('\n');
    expect(cloneGrants).toContain(`GRANT SELECT, INSERT ON ${quoteIdentifier(db)}.* TO <grantee>`);
    expect(cloneGrants).not.toContain('DELETE');
    expect(cloneGrants).toMatch(/REQUIRE SSL WITH MAX_USER_CONNECTIONS 20/);
  });

  it("creates the clone on the host of the account the user logs in as ('app'@'127.0.0.1' beside 'app'@'%')", async () => {
    const user = uniqueName('hosted');
    await createUser(user, 'hosted-pw', '127.0.0.1');
    await createUser(user, 'wildcard-pw', '%'); // another account of the same name: the server prefers 127.0.0.1
    await h.admin(`GRANT SELECT ON mysql.db TO ${quoteAccount({ user, host: '127.0.0.1' })}`);
    const adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const arn = await createSecret(h, uniqueName('hosted-secret'), mysqlSecret(h.db, user, 'hosted-pw', { masterarn: adminArn }));
    rotatedSecrets.push(arn);
    for (let i = 0; i < 2; i++) {
      await rotate(arn);
      expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
      const current = await secretValue(h, arn);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
    }
    expect(await accountsOf(`${user}_clone`)).toEqual(['127.0.0.1']);
    expect(await grantsOf({ user: `${user}_clone`, host: '127.0.0.1' })).toEqual(await grantsOf({ user, host: '127.0.0.1' }));
  });

  it('copies WITH GRANT OPTION, and rotates such a user again and again (AWS issue #90)', async () => {
    const user = uniqueName('granter');
    const db = uniqueName('granter_db');
    await createUser(user, 'granter-pw');
    await h.admin(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await h.admin(`GRANT SELECT, UPDATE ON ${quoteIdentifier(db)}.* TO ${quoteAccount({ user, host: '%' })} WITH GRANT OPTION`);
    const adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const arn = await createSecret(h, uniqueName('granter-secret'), mysqlSecret(h.db, user, 'granter-pw', { masterarn: adminArn }));
    rotatedSecrets.push(arn);
    for (let i = 0; i < 3; i++) {
      await rotate(arn);
      expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
    }
    const cloneGrants = await grantsOf({ user: `${user}_clone`, host: '%' });
    expect(cloneGrants).toEqual(await grantsOf({ user, host: '%' }));
    expect(cloneGrants.join('\n')).toMatch(/WITH GRANT OPTION/);
  });
});

describe('hostile names', () => {
  it("rotates users whose names hold quotes, backquotes and '%', both strategies", async () => {
    const user = `${uniqueName("o'k`x")}%"`;
    const db = uniqueName("db'`%");
    await createUser(user, 'hostile-pw');
    await h.admin(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await h.admin(`GRANT SELECT ON ${quoteIdentifier(db)}.* TO ${quoteAccount({ user, host: '%' })}`);
    const adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const alt = await createSecret(h, uniqueName('hostile-alt'), mysqlSecret(h.db, user, 'hostile-pw', { masterarn: adminArn }));
    rotatedSecrets.push(alt);
    for (let i = 0; i < 3; i++) {
      await rotate(alt);
      expect(lastOutcome(alt), lastFailure(alt)).toBe('RotationSucceeded');
      const current = await secretValue(h, alt);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
    }
    expect(await grantsOf({ user: `${user}_clone`, host: '%' })).toEqual(await grantsOf({ user, host: '%' }));

    const single = await createSecret(h, uniqueName('hostile-single'), mysqlSecret(h.db, `${user}_clone`, (await secretValue(h, alt)).password));
    rotatedSecrets.push(single);
    await rotate(single);
    expect(lastOutcome(single), lastFailure(single)).toBe('RotationSucceeded');
    expect(await h.canLogin(`${user}_clone`, (await secretValue(h, single)).password)).toBe(true);
  });
});

describe('pre-created pair', () => {
  it('alternates between two users the team created, creating no clone', async () => {
    const blue = uniqueName('blue');
    const green = uniqueName('green');
    await createUser(blue, 'blue-initial');
    await createUser(green, 'green-initial');
    const adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
    // Bootstrap: green's credential first (it becomes AWSPREVIOUS, the proof this secret controls green), then blue's.
    const pair = { masterarn: adminArn, usernames: [blue, green] };
    const arn = await createSecret(h, uniqueName('pair-secret'), mysqlSecret(h.db, green, 'green-initial', pair));
    await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(mysqlSecret(h.db, blue, 'blue-initial', pair)) }));
    rotatedSecrets.push(arn);
    const users: string[] = [];
    for (let i = 0; i < 3; i++) {
      await rotate(arn);
      expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
      const current = await secretValue(h, arn);
      users.push(current.username);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
    }
    expect(users).toEqual([green, blue, green]);
    expect(await h.admin('SELECT 1 FROM mysql.user WHERE User IN (?, ?)', [`${blue}_clone`, `${green}_clone`])).toEqual([]);
  });

  it("refuses to set the other user's password without proof of control (confused deputy)", async () => {
    const mine = uniqueName('mine');
    const victim = uniqueName('victim');
    await createUser(mine, 'mine-initial');
    await createUser(victim, 'victim-initial');
    const adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const arn = await createSecret(h, uniqueName('pair-deputy'), mysqlSecret(h.db, mine, 'mine-initial', { masterarn: adminArn, usernames: [mine, victim] }));
    await rotate(arn);
    expect(lastOutcome(arn)).toBe('RotationFailed');
    expect(await h.canLogin(victim, 'victim-initial')).toBe(true);
    expect((await secretValue(h, arn)).username).toBe(mine);
  });
});

describe("a secret in AWS's template format", () => {
  it('rotates unchanged and stays in that format (every key kept, same types)', async () => {
    const user = uniqueName('awsfmt');
    const db = uniqueName('awsfmt_db');
    await createUser(user, 'aws-format-pw');
    await h.admin(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await h.admin(`GRANT ALL ON ${quoteIdentifier(db)}.* TO ${quoteAccount({ user, host: '%' })}`);
    const original = { engine: 'mysql', host: h.db.hostname, username: user, password: 'aws-format-pw', dbname: db, port: h.db.port, proxyHost: 'proxy.example.internal', ssl: true };
    const arn = await createSecret(h, uniqueName('aws-format'), original);
    rotatedSecrets.push(arn);
    await rotate(arn);
    expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
    const rotated = await secretValue(h, arn);
    expect(Object.keys(rotated)).toEqual(Object.keys(original));
    expect({ ...rotated, password: 'x' }).toEqual({ ...original, password: 'x' });
  });
});

describe('each step delivered twice', () => {
  it('completes the rotation with the same result', async () => {
    const twice = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql-twice';
    h.sandbox.functions.register(twice, async (event) => {
      await h.handler(event);
      await h.handler(event);
    });
    const user = uniqueName('twice');
    await createUser(user, 'twice-initial');
    const adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
    for (const value of [mysqlSecret(h.db, user, 'twice-initial'), mysqlSecret(h.db, user, 'twice-initial', { masterarn: adminArn })]) {
      if (value['masterarn']) await h.admin(`ALTER USER ${quoteAccount({ user, host: '%' })} IDENTIFIED BY PASSWORD '${nativePasswordHash('twice-initial')}'`);
      const arn = await createSecret(h, uniqueName('twice-secret'), value);
      rotatedSecrets.push(arn);
      for (let i = 0; i < 3; i++) {
        await rotate(arn, twice);
        expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
        const current = await secretValue(h, arn);
        expect(await h.canLogin(current.username, current.password)).toBe(true);
      }
    }
  });
});

describe('secrets stay secret', () => {
  it("no password of any rotated secret appears in the server's general log or the handler's output", async () => {
    expect(rotatedSecrets.length).toBeGreaterThan(0);
    const generalLog = readFileSync(h.db.logFile, 'utf8');
    expect(generalLog).toMatch(/SET PASSWORD = '\*[0-9A-F]{40}'/); // the log really records the statements
    expect(generalLog).toMatch(/ALTER USER .* IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/);
    const output = h.output.join('');
    expect(output).toMatch(/Rotation step succeeded/);
    for (const arn of rotatedSecrets) {
      for (const password of await allPasswords(h, arn)) {
        if (/initial|-pw$/.test(password)) continue; // set by the test itself
        for (const form of [password, Buffer.from(password).toString('base64'), encodeURIComponent(password)]) {
          expect(generalLog).not.toContain(form);
          expect(output).not.toContain(form);
        }
      }
    }
  });
});

describe('bad input: a clear error, nothing changed', () => {
  async function expectRefused(value: Record<string, unknown> | string, message: RegExp): Promise<void> {
    const secretArn = await createSecret(h, uniqueName('bad-secret'), value);
    const before = await stages(h, secretArn);
    await h.client.send(new RotateSecretCommand({ SecretId: secretArn, RotationLambdaARN: h.lambdaArn }));
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
    ['no host', { engine: 'mysql', username: 'u', password: 'p' }, /lacks "host"/],
    ['no username', { engine: 'mariadb', host: 'localhost', password: 'p' }, /lacks "username"/],
    ['no password', { engine: 'aurora-mysql', host: 'localhost', username: 'u' }, /lacks "password"/],
    ['a PostgreSQL secret', { engine: 'postgres', host: 'localhost', username: 'u', password: 'p' }, /rotates mysql or aurora-mysql or mariadb/],
    ['a port that is not a port', { engine: 'mysql', host: 'localhost', username: 'u', password: 'p', port: 'fifty' }, /invalid "port"/],
    ['alternating users without masterarn', { engine: 'mysql', host: 'localhost', username: 'u', password: 'p', rotationstrategy: 'alternating' }, /lacks "masterarn"/],
  ])('%s', async (_what, value, message) => {
    await expectRefused(value, message);
  });

  it('masterarn pointing at the admin of another server', async () => {
    const user = uniqueName('deputy');
    await createUser(user, 'deputy-pw');
    const adminArn = await createSecret(h, uniqueName('admin-elsewhere'), mysqlSecret({ hostname: 'other-db.internal', port: h.db.port }, h.db.adminUser, h.db.adminPassword));
    await expectRefused(mysqlSecret(h.db, user, 'deputy-pw', { masterarn: adminArn }), /must name the admin of the same server/);
    expect(await accountsOf(`${user}_clone`)).toEqual([]);
    expect(await h.canLogin(user, 'deputy-pw')).toBe(true);
  });

  it('a clone name longer than MySQL/MariaDB allows is refused before anything is created', async () => {
    const user = `long_${'x'.repeat(70)}`; // 75 + '_clone' > 80
    await expectRefused(mysqlSecret(h.db, user, 'p', { masterarn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:any' }), /longer than this engine's 80-byte limit/);
  });

  it('an unreachable database fails within the connect timeout', async () => {
    const started = Date.now();
    await expectRefused(mysqlSecret({ hostname: 'localhost', port: 1 }, 'nobody', 'nopw'), /unreachable|ECONNREFUSED|connect/i);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a wrong current password with no working previous one: a clear error, the user unchanged', async () => {
    const user = uniqueName('wrongpw');
    await createUser(user, 'the-real-pw');
    await expectRefused(mysqlSecret(h.db, user, 'not-the-real-pw'), /Neither the AWSCURRENT nor the AWSPREVIOUS password/);
    expect(await h.canLogin(user, 'the-real-pw')).toBe(true);
  });

  it('a wrong current password falls back to a working AWSPREVIOUS, as the templates do', async () => {
    const user = uniqueName('fallback');
    await createUser(user, 'previous-pw');
    const arn = await createSecret(h, uniqueName('fallback-secret'), mysqlSecret(h.db, user, 'previous-pw'));
    await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(mysqlSecret(h.db, user, 'never-applied-pw')) }));
    await rotate(arn);
    expect(lastOutcome(arn), lastFailure(arn)).toBe('RotationSucceeded');
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
      await createUser(user, 'direct-pw');
      const arn = await createSecret(h, uniqueName('direct-secret'), mysqlSecret(h.db, user, 'direct-pw'));
      const token = '00000000-0000-4000-8000-000000000abc';
      await expect(h.handler({ Step: 'setSecret', SecretId: arn, ClientRequestToken: token })).rejects.toThrow(/is not a version of secret/);
      const put = await h.client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(mysqlSecret(h.db, user, 'x')), VersionStages: ['CUSTOM'] }));
      await expect(h.handler({ Step: 'setSecret', SecretId: arn, ClientRequestToken: put.VersionId })).rejects.toThrow(/is not AWSPENDING/);
      await h.client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: h.lambdaArn, RotationRules: { AutomaticallyAfterDays: 3 } }));
      await h.sandbox.settle();
      await h.client.send(new CancelRotateSecretCommand({ SecretId: arn }));
      const current = await stages(h, arn);
      const currentVersion = Object.entries(current).find(([, v]) => v.includes('AWSCURRENT'))![0];
      await expect(h.handler({ Step: 'createSecret', SecretId: arn, ClientRequestToken: currentVersion })).rejects.toThrow(/Rotation is not enabled/);
      expect(await h.canLogin(user, (await secretValue(h, arn)).password)).toBe(true);
    });
  });
});
