// What only MySQL/MariaDB does, through the real rotate-mysql function and the sandbox's
// RotateSecret (and the breach response) against the real MariaDB: accounts of one name on several
// hosts, grants that must stay identical between the user and its clone (column grants, WITH GRANT
// OPTION, REQUIRE and limits, a revoked grant), names with quotes, backquotes and '%'. The cases
// every engine shares are in ../conformance/; the MySQL adapter's own verbs in ../engines/mysql.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBreach } from '../../../shared/breach';
import { nativePasswordHash } from '../../../shared/engines/mysql/passwords';
import { quoteAccount, quoteIdentifier, type Account } from '../../../shared/engines/mysql/sql';
import { createBreachDeps } from '../../../shared/runtime/breach';
import { engineOn } from '../conformance/engines';
import { createSecret, lastFailure, lastOutcome, leakCanary, mysqlSecret, rotate, secretValue, startHarness, uniqueName, type Harness } from './harness';

let h: Harness;
let adminArn: string;
const arns: string[] = [];
const initialPasswords: string[] = [];

beforeAll(async () => {
  h = await startHarness(engineOn('mariadb'));
  adminArn = await createSecret(h, uniqueName('admin'), mysqlSecret(h.db, h.db.adminUser, h.db.adminPassword));
});
afterAll(async () => {
  await h?.close();
});

/** Creates an account; the password reaches the server only as its hash, so the general log stays clean. */
async function createUser(name: string, password: string, host = '%', extra = ''): Promise<void> {
  initialPasswords.push(password);
  await h.admin(`CREATE USER ${quoteAccount({ user: name, host })} IDENTIFIED BY PASSWORD '${nativePasswordHash(password)}' ${extra}`);
}

async function newSecret(prefix: string, value: Record<string, unknown>): Promise<string> {
  const arn = await createSecret(h, uniqueName(prefix), value);
  arns.push(arn);
  return arn;
}

async function rotateOk(arn: string): Promise<void> {
  await rotate(h, arn);
  expect(lastOutcome(h, arn), lastFailure(h, arn)).toBe('RotationSucceeded');
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

const hashOf = async (user: string, host: string): Promise<string | undefined> =>
  (await h.admin<{ h: string }>('SELECT authentication_string AS h FROM mysql.user WHERE User = ? AND Host = ?', [user, host]))[0]?.h;

describe('accounts of one name on several hosts', () => {
  it("single user: changes the password of the account the user logs in as ('app'@'127.0.0.1'), not another one", async () => {
    const user = uniqueName('local');
    await createUser(user, 'Local-initial-pw', '127.0.0.1');
    await createUser(user, 'Other-host-pw-1', '10.9.8.7');
    const arn = await newSecret('local-secret', mysqlSecret(h.db, user, 'Local-initial-pw'));
    await rotateOk(arn);
    expect(await h.canLogin(user, (await secretValue(h, arn)).password)).toBe(true);
    expect(await hashOf(user, '10.9.8.7')).toBe(nativePasswordHash('Other-host-pw-1'));
  });

  it("alternating users: creates the clone on the host of the account the user logs in as ('app'@'127.0.0.1' beside 'app'@'%')", async () => {
    const user = uniqueName('hosted');
    await createUser(user, 'Hosted-initial-pw', '127.0.0.1');
    await createUser(user, 'Wildcard-pw-1', '%'); // another account of the same name: the server prefers 127.0.0.1
    await h.admin(`GRANT SELECT ON mysql.db TO ${quoteAccount({ user, host: '127.0.0.1' })}`);
    const arn = await newSecret('hosted-secret', mysqlSecret(h.db, user, 'Hosted-initial-pw', { masterarn: adminArn }));
    for (let i = 0; i < 2; i++) {
      await rotateOk(arn);
      const current = await secretValue(h, arn);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
    }
    expect(await accountsOf(`${user}_clone`)).toEqual(['127.0.0.1']);
    expect(await grantsOf({ user: `${user}_clone`, host: '127.0.0.1' })).toEqual(await grantsOf({ user, host: '127.0.0.1' }));
  });

  it("breach: an account of the same name that still takes the leaked password gets the new one; one with another password, and another user, are untouched", async () => {
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
    const [arn] = h.sandbox.seed([
      {
        name: uniqueName('breach-accounts'),
        rotationEnabled: true,
        rotationLambdaArn: h.lambdaArn,
        rotationRules: { AutomaticallyAfterDays: 30 },
        versions: [{ stages: ['AWSCURRENT'], secretString: JSON.stringify(mysqlSecret(h.db, user, 'acc-leaked-pw', { masterarn: adminArn })) }],
      },
    ]);
    arns.push(arn!);
    initialPasswords.push('acc-leaked-pw', 'acc-other-pw');
    const log = { info: () => undefined, error: () => undefined };

    const report = await runBreach({ reason: 'INC-7 accounts', secretIds: [arn!] }, { ...createBreachDeps({ log, client: h.client }), pollIntervalMs: 20 });
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
});

describe('grants kept identical between the user and its clone', () => {
  it('after each rotation, with column grants, REQUIRE SSL and limits, on a database with an odd name; a revoked grant leaves the clone', async () => {
    const user = uniqueName('alt');
    const db = uniqueName('alt%db TO x');
    await createUser(user, 'Alt-initial-pw-1', '%', 'REQUIRE SSL WITH MAX_USER_CONNECTIONS 20');
    await h.admin(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await h.admin(`CREATE TABLE ${quoteIdentifier(db)}.t (id int)`);
    await h.admin(`GRANT SELECT, INSERT, DELETE ON ${quoteIdentifier(db)}.* TO ${quoteAccount({ user, host: '%' })}`);
    await h.admin(`GRANT SELECT (id) ON ${quoteIdentifier(db)}.t TO ${quoteAccount({ user, host: '%' })}`);
    const arn = await newSecret('alt-secret', mysqlSecret(h.db, user, 'Alt-initial-pw-1', { masterarn: adminArn }));

    const base = { user, host: '%' };
    const clone = { user: `${user}_clone`, host: '%' };
    for (let i = 0; i < 3; i++) {
      if (i === 2) await h.admin(`REVOKE DELETE ON ${quoteIdentifier(db)}.* FROM ${quoteAccount(base)}`);
      await rotateOk(arn);
      if (i !== 1) expect(await grantsOf(clone)).toEqual(await grantsOf(base)); // rotation 2 only sets the base's password
    }
    const cloneGrants = (await grantsOf(clone)).join('\n');
    expect(cloneGrants).toContain(`GRANT SELECT, INSERT ON ${quoteIdentifier(db)}.* TO <grantee>`);
    expect(cloneGrants).not.toContain('DELETE');
    expect(cloneGrants).toMatch(/REQUIRE SSL WITH MAX_USER_CONNECTIONS 20/);
  });

  it('copies WITH GRANT OPTION, and rotates such a user again and again (AWS issue #90)', async () => {
    const user = uniqueName('granter');
    const db = uniqueName('granter_db');
    await createUser(user, 'Granter-initial-pw');
    await h.admin(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await h.admin(`GRANT SELECT, UPDATE ON ${quoteIdentifier(db)}.* TO ${quoteAccount({ user, host: '%' })} WITH GRANT OPTION`);
    const arn = await newSecret('granter-secret', mysqlSecret(h.db, user, 'Granter-initial-pw', { masterarn: adminArn }));
    for (let i = 0; i < 3; i++) await rotateOk(arn);
    const cloneGrants = await grantsOf({ user: `${user}_clone`, host: '%' });
    expect(cloneGrants).toEqual(await grantsOf({ user, host: '%' }));
    expect(cloneGrants.join('\n')).toMatch(/WITH GRANT OPTION/);
  });

  it("rotates users whose names hold quotes, backquotes and '%', both strategies", async () => {
    const user = `${uniqueName("o'k`x")}%"`;
    const db = uniqueName("db'`%");
    await createUser(user, 'Hostile-initial-pw');
    await h.admin(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await h.admin(`GRANT SELECT ON ${quoteIdentifier(db)}.* TO ${quoteAccount({ user, host: '%' })}`);
    const alt = await newSecret('hostile-alt', mysqlSecret(h.db, user, 'Hostile-initial-pw', { masterarn: adminArn }));
    for (let i = 0; i < 3; i++) {
      await rotateOk(alt);
      const current = await secretValue(h, alt);
      expect(await h.canLogin(current.username, current.password)).toBe(true);
    }
    expect(await grantsOf({ user: `${user}_clone`, host: '%' })).toEqual(await grantsOf({ user, host: '%' }));

    const single = await newSecret('hostile-single', mysqlSecret(h.db, `${user}_clone`, (await secretValue(h, alt)).password));
    await rotateOk(single);
    expect(await h.canLogin(`${user}_clone`, (await secretValue(h, single)).password)).toBe(true);
  });
});

describe('leak canary (runs last)', () => {
  it("no password of this file's secrets appears in the general log, the handler's output or an error", async () => {
    const result = await leakCanary(h, arns, initialPasswords);
    expect(result.passwords).toBeGreaterThanOrEqual(20);
    expect(result.findings).toEqual([]);
  });
});
