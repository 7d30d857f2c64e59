// Copying grants from SHOW GRANTS (shared/engines/mysql/grants.ts): rows as MySQL 5.7, 8.x and
// MariaDB 10.x print them, with hostile names, and the statements that align a clone.

import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/engines/errors';
import { grantModel, parseGrantRow, planGrantSync, splitPrivileges } from '../../../shared/engines/mysql/grants';
import type { Account } from '../../../shared/engines/mysql/sql';
import { thrown } from '../../support/thrown';

const app: Account = { user: 'app', host: '%' };
const hostile: Account = { user: "a'b`c% TO x", host: '10.0.%' };
const HOSTILE = "`a'b``c% TO x`@`10.0.%`";

describe('parseGrantRow', () => {
  it('reads privileges, the object and WITH GRANT OPTION, whatever the names hold', () => {
    expect(parseGrantRow("GRANT SELECT, INSERT ON `we%ird TO db`.* TO `a'b``c% TO x`@`10.0.%` WITH GRANT OPTION", hostile)).toEqual({
      kind: 'privileges',
      verb: 'GRANT',
      on: '`we%ird TO db`.*',
      items: ['SELECT', 'INSERT'],
      grantOption: true,
    });
  });

  it('finds the grantee at the end even when an object name spells the grantee out', () => {
    const row = "GRANT SELECT ON `x TO ``app``@``%```.* TO `app`@`%`";
    expect(parseGrantRow(row, app)).toMatchObject({ on: '`x TO ``app``@``%```.*', items: ['SELECT'], grantOption: false });
  });

  it('is not fooled by a REQUIRE SUBJECT that repeats the grantee', () => {
    const row = "GRANT USAGE ON *.* TO `app`@`%` REQUIRE SUBJECT '/CN=x TO `app`@`%`' WITH MAX_USER_CONNECTIONS 3";
    expect(parseGrantRow(row, app)).toEqual({ kind: 'privileges', verb: 'GRANT', on: '*.*', items: [], grantOption: false });
  });

  it("reads MariaDB's global row (password hash, REQUIRE, limits) and IDENTIFIED VIA", () => {
    const row = `GRANT PROCESS ON *.* TO ${HOSTILE} IDENTIFIED BY PASSWORD '*B69027D44F6E5EDC07F1AEAD1477967B16F28227' REQUIRE SSL WITH GRANT OPTION MAX_QUERIES_PER_HOUR 10`;
    expect(parseGrantRow(row, hostile)).toMatchObject({ on: '*.*', items: ['PROCESS'], grantOption: true });
    const via = "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED VIA mysql_native_password USING '*B69027D44F6E5EDC07F1AEAD1477967B16F28227' OR unix_socket";
    expect(parseGrantRow(via, app)).toMatchObject({ on: '*.*', items: [] });
  });

  it("reads MySQL 5.7's unescaped 'user'@'host' grantee", () => {
    expect(parseGrantRow("GRANT SELECT ON `db`.* TO 'o'k'@'localhost'", { user: "o'k", host: 'localhost' })).toMatchObject({
      on: '`db`.*',
      items: ['SELECT'],
    });
  });

  it('splits column privileges per column and keeps MySQL 8 dynamic privileges', () => {
    expect(parseGrantRow('GRANT SELECT (`a`, `b,c`), UPDATE (`a`) ON `db`.`t` TO `app`@`%`', app)).toMatchObject({
      items: ['SELECT (`a`)', 'SELECT (`b,c`)', 'UPDATE (`a`)'],
    });
    expect(parseGrantRow('GRANT BACKUP_ADMIN,BINLOG_ADMIN ON *.* TO `app`@`%` WITH GRANT OPTION', app)).toMatchObject({
      items: ['BACKUP_ADMIN', 'BINLOG_ADMIN'],
      grantOption: true,
    });
    expect(splitPrivileges('USAGE')).toEqual([]);
  });

  it('reads roles (MySQL 8 and MariaDB), WITH ADMIN OPTION, default roles, partial revokes and PROXY', () => {
    expect(parseGrantRow('GRANT `r1`@`%`,`r ``2`@`localhost` TO `app`@`%` WITH ADMIN OPTION', app)).toEqual({
      kind: 'roles',
      roles: ['`r1`@`%`', '`r ``2`@`localhost`'],
      adminOption: true,
    });
    expect(parseGrantRow(`GRANT \`r1\` TO ${HOSTILE}`, hostile)).toEqual({ kind: 'roles', roles: ['`r1`'], adminOption: false });
    expect(parseGrantRow(`SET DEFAULT ROLE \`r1\` FOR ${HOSTILE}`, hostile)).toEqual({ kind: 'default-role', role: '`r1`' });
    expect(parseGrantRow('REVOKE INSERT ON `mysql`.* FROM `app`@`%`', app)).toMatchObject({ verb: 'REVOKE', on: '`mysql`.*', items: ['INSERT'] });
    expect(parseGrantRow("GRANT PROXY ON ''@'' TO `app`@`%` WITH GRANT OPTION", app)).toMatchObject({ on: "''@''", items: ['PROXY'], grantOption: true });
  });

  it('refuses a row it cannot read, or one for another account, instead of guessing', () => {
    expect(thrown(EngineError, () => parseGrantRow('GRANT SELECT ON `db`.* TO `other`@`%`', app)).code).toBe('unsupported');
    expect(thrown(EngineError, () => parseGrantRow('CREATE USER `app`@`%`', app)).code).toBe('unsupported');
  });
});

describe('planGrantSync', () => {
  const clone: Account = { user: "a'b`c% TO x_clone", host: '10.0.%' };
  const CLONE = "`a'b``c% TO x_clone`@`10.0.%`";
  const rowsFor = (grantee: string, rows: string[]): string[] => rows.map((r) => r.replace(/\{\}/g, grantee));
  const model = (account: Account, grantee: string, rows: string[]) => grantModel(rowsFor(grantee, rows), account);

  const baseRows = [
    'GRANT PROCESS ON *.* TO {} IDENTIFIED BY PASSWORD \'*B69027D44F6E5EDC07F1AEAD1477967B16F28227\' REQUIRE SSL',
    'GRANT SELECT, INSERT ON `we%ird TO db`.* TO {} WITH GRANT OPTION',
    'GRANT UPDATE (`user`) ON `mysql`.`user` TO {}',
    'GRANT `r1` TO {}',
    'SET DEFAULT ROLE `r1` FOR {}',
  ];

  it('copies everything to a new clone, names and quoting unchanged, grants before the default role', () => {
    const plan = planGrantSync(model(hostile, HOSTILE, baseRows), model(clone, CLONE, []), clone, { mariaDb: true });
    expect(plan).toEqual([
      `GRANT PROCESS ON *.* TO ${CLONE}`,
      `GRANT SELECT, INSERT ON \`we%ird TO db\`.* TO ${CLONE} WITH GRANT OPTION`,
      `GRANT UPDATE (\`user\`) ON \`mysql\`.\`user\` TO ${CLONE}`,
      `GRANT \`r1\` TO ${CLONE}`,
      `SET DEFAULT ROLE \`r1\` FOR ${CLONE}`,
    ]);
  });

  it('does nothing when the clone already holds the same', () => {
    expect(planGrantSync(model(hostile, HOSTILE, baseRows), model(clone, CLONE, baseRows), clone, { mariaDb: true })).toEqual([]);
  });

  it('revokes what the base lost, after granting what it gained', () => {
    const now = [
      'GRANT PROCESS ON *.* TO {}',
      'GRANT SELECT, DELETE ON `we%ird TO db`.* TO {}',
    ];
    const plan = planGrantSync(model(hostile, HOSTILE, now), model(clone, CLONE, baseRows), clone, { mariaDb: true });
    expect(plan).toEqual([
      `GRANT DELETE ON \`we%ird TO db\`.* TO ${CLONE}`,
      `SET DEFAULT ROLE NONE FOR ${CLONE}`,
      `REVOKE \`r1\` FROM ${CLONE}`,
      `REVOKE INSERT ON \`we%ird TO db\`.* FROM ${CLONE}`,
      `REVOKE GRANT OPTION ON \`we%ird TO db\`.* FROM ${CLONE}`,
      `REVOKE UPDATE (\`user\`) ON \`mysql\`.\`user\` FROM ${CLONE}`,
    ]);
  });

  it('gives the base privileges back at once when taking ALL PRIVILEGES away', () => {
    const plan = planGrantSync(
      model(app, '`app`@`%`', ['GRANT SELECT ON `db`.* TO {}']),
      model({ user: 'app_clone', host: '%' }, '`app_clone`@`%`', ['GRANT ALL PRIVILEGES ON `db`.* TO {}']),
      { user: 'app_clone', host: '%' },
      { mariaDb: false },
    );
    expect(plan).toEqual([
      'GRANT SELECT ON `db`.* TO `app_clone`@`%`',
      'REVOKE ALL PRIVILEGES ON `db`.* FROM `app_clone`@`%`',
      'GRANT SELECT ON `db`.* TO `app_clone`@`%`',
    ]);
    // ...and treats the clone's individual privileges as covered when the base has ALL.
    expect(
      planGrantSync(
        model(app, '`app`@`%`', ['GRANT ALL PRIVILEGES ON `db`.* TO {}']),
        model({ user: 'app_clone', host: '%' }, '`app_clone`@`%`', ['GRANT ALL PRIVILEGES ON `db`.* TO {}']),
        { user: 'app_clone', host: '%' },
        { mariaDb: false },
      ),
    ).toEqual([]);
  });

  it('removes an ADMIN OPTION the base lacks: MariaDB in place, MySQL by revoking and granting the role', () => {
    const base = model(app, '`app`@`%`', ['GRANT `r`@`%` TO {}']);
    const cloneModel = model({ user: 'app_clone', host: '%' }, '`app_clone`@`%`', ['GRANT `r`@`%` TO {} WITH ADMIN OPTION']);
    const target = { user: 'app_clone', host: '%' };
    expect(planGrantSync(base, cloneModel, target, { mariaDb: true })).toEqual(['REVOKE ADMIN OPTION FOR `r`@`%` FROM `app_clone`@`%`']);
    expect(planGrantSync(base, cloneModel, target, { mariaDb: false })).toEqual(['REVOKE `r`@`%` FROM `app_clone`@`%`', 'GRANT `r`@`%` TO `app_clone`@`%`']);
  });

  it('copies MySQL 8 partial revokes and lifts the clone extra ones', () => {
    const base = model(app, '`app`@`%`', ['GRANT SELECT, INSERT ON *.* TO {}', 'REVOKE INSERT ON `mysql`.* FROM {}']);
    const cloneModel = model({ user: 'app_clone', host: '%' }, '`app_clone`@`%`', ['GRANT SELECT, INSERT ON *.* TO {}', 'REVOKE SELECT ON `sys`.* FROM {}']);
    expect(planGrantSync(base, cloneModel, { user: 'app_clone', host: '%' }, { mariaDb: false })).toEqual([
      'REVOKE INSERT ON `mysql`.* FROM `app_clone`@`%`',
      'GRANT SELECT ON `sys`.* TO `app_clone`@`%`',
    ]);
  });
});
