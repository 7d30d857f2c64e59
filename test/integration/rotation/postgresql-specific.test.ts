// What only PostgreSQL does, through the real rotate-postgresql function and the sandbox's
// RotateSecret against the real server. The cases every engine shares (strategies, format, bad
// input, faults, breach) are in ../conformance/; the PostgreSQL adapter's own verbs (role
// attributes, memberships, settings, the privilege messages of a non-superuser admin) in
// ../engines/postgresql.test.ts.

import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { engineOn } from '../conformance/engines';
import { createSecret, lastFailure, lastOutcome, leakCanary, pgSecret, rotate, secretValue, startHarness, uniqueName, type Harness } from './harness';

let h: Harness;
const arns: string[] = [];
const initialPasswords: string[] = [];

beforeAll(async () => {
  h = await startHarness(engineOn('postgresql'));
});
afterAll(async () => {
  await h?.close();
});

describe('alternating users: ownership', () => {
  it('the clone acts as the base role: what either user creates is owned by the base, and usable by the other', async () => {
    const user = uniqueName('alt');
    const schema = uniqueName('alt_schema');
    initialPasswords.push('Alt-initial-pw-1');
    await h.createUser(user, 'Alt-initial-pw-1');
    await h.admin(`CREATE SCHEMA "${schema}" AUTHORIZATION "${user}"`);
    const adminArn = await createSecret(h, uniqueName('admin'), pgSecret(h.db, h.db.adminUser, h.db.adminPassword));
    const arn = await createSecret(h, uniqueName('alt-secret'), pgSecret(h.db, user, 'Alt-initial-pw-1', { masterarn: adminArn }));
    arns.push(arn);

    for (let i = 0; i < 3; i++) {
      await rotate(h, arn);
      expect(lastOutcome(h, arn), lastFailure(h, arn)).toBe('RotationSucceeded');
      const current = await secretValue(h, arn);
      const previous = await secretValue(h, arn, 'AWSPREVIOUS');
      const table = `"${schema}"."t${i}"`;
      await asUser(current, `CREATE TABLE ${table} (id int); INSERT INTO ${table} VALUES (${i})`);
      expect(await asUser(previous, `SELECT id FROM ${table}`)).toEqual([{ id: i }]);
      const [owner] = await h.admin<{ owner: string }>(`SELECT tableowner AS owner FROM pg_tables WHERE schemaname = $1 AND tablename = $2`, [schema, `t${i}`]);
      expect(owner?.owner).toBe(user);
    }
  });
});

describe('leak canary (runs last)', () => {
  it("no password of this file's secrets appears in the statement log, the handler's output or an error", async () => {
    const result = await leakCanary(h, arns, initialPasswords);
    expect(result.passwords).toBeGreaterThanOrEqual(4);
    expect(result.findings).toEqual([]);
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
