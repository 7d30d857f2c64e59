// Regression (found by this suite): the pre-created pair strategy let whoever can write a secret
// make the admin set the password of ANY user on the server, and read it from the secret, by naming
// that user in "usernames". The strategy now asks for proof of control of the other user (its
// AWSPREVIOUS credential, or on a retry its pending one, must log in); these cases must be refused
// with that user untouched.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomName, type Rig } from '../../../local/faults/rig';
import { ENGINES_UNDER_TEST, SERVERS } from '../conformance/engines';
import { startTestRig } from './rig';

let rig: Rig;
beforeAll(async () => {
  rig = await startTestRig(SERVERS, { maxAttempts: 1 });
});
afterAll(async () => {
  await rig?.close();
});

describe.each(ENGINES_UNDER_TEST.map((e) => [e.name, e] as const))('%s: pair strategy naming a user the writer does not control', (_name, entry) => {
  const engine = entry.server;
  it("another team's user: its password must not change", async () => {
    const e = rig.engine(engine);
    const attacker = { username: randomName('pairatk'), password: 'Attacker-known-pw-1' };
    const victim = { username: randomName('pairvic'), password: 'Victim-secret-pw-1' };
    await e.createUser(attacker.username, attacker.password);
    await e.createUser(victim.username, victim.password);
    const arn = await rig.createSecret(
      randomName('pair-deputy'),
      e.secretValue(attacker.username, attacker.password, { masterarn: e.adminArn, usernames: [attacker.username, victim.username] }),
    );
    await rig.rotate({ engine, strategy: 'pair', arn, rotations: 0 });
    // Refused: the victim untouched, its password not readable from the secret.
    expect(await e.canLogin(victim.username, victim.password)).toBe(true);
    const current = await rig.value(arn, 'AWSCURRENT');
    expect(current.username).not.toBe(victim.username);
  });

  it('the admin account itself: the admin secret must stay valid', async () => {
    const e = rig.engine(engine);
    const dba = { username: randomName('pairdba'), password: 'Dba-initial-pw-1' };
    await e.createUser(dba.username, dba.password);
    await entry.makeUserAdmin(e, dba.username);
    const dbaArn = await rig.createSecret(randomName('dba-admin'), e.secretValue(dba.username, dba.password));
    const attacker = { username: randomName('pairatk'), password: 'Attacker-known-pw-2' };
    await e.createUser(attacker.username, attacker.password);
    const arn = await rig.createSecret(
      randomName('pair-self'),
      e.secretValue(attacker.username, attacker.password, { masterarn: dbaArn, usernames: [attacker.username, dba.username] }),
    );
    await rig.rotate({ engine, strategy: 'pair', arn, rotations: 0 });
    // Refused: no proof of control of the admin's own account, so the admin secret still logs in.
    expect(await e.canLogin(dba.username, dba.password)).toBe(true);
  });
});
