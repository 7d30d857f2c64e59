// The attacker's tests of issue "tenant-safe rotation", against real PostgreSQL and MariaDB through
// the sandbox's RotateSecret and the real handlers. Whoever can write a rotated secret, and whoever
// can invoke the function directly, may be hostile: the admin credential must act only on users the
// secret proves it controls, and no legitimate secret's AWSCURRENT may stop logging in.
//
// Each case failed before the guards in shared/rotation/strategies.ts (mayChange) and
// shared/rotation/protocol.ts (finishSecret's login check) existed.

import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomName, type Rig, type RigEngine } from '../../../local/faults/rig';
import { ENGINES_UNDER_TEST, SERVERS } from '../conformance/engines';
import { startTestRig } from './rig';

const engines = ENGINES_UNDER_TEST.map((e) => [e.name, e.server] as const);

let rig: Rig;
beforeAll(async () => {
  rig = await startTestRig(SERVERS, { maxAttempts: 1 });
});
afterAll(async () => {
  await rig?.close();
});

const rotateOnce = async (engine: RigEngine, arn: string, first = true): Promise<void> => {
  await rig.client.send(
    new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: rig.engine(engine).lambdaArn, ...(first ? { RotationRules: { AutomaticallyAfterDays: 30 } } : {}) }),
  );
  await rig.sandbox.settle();
};

const lastError = (arn: string): string =>
  rig.sandbox.rotations.events.filter((e) => e.secretArn === arn && e.eventName === 'RotationFailed').at(-1)?.errorMessage ?? '';

describe.each(engines)('%s: a secret writer cannot steer the admin', (_name, engine) => {
  it('alternating users, AWSCURRENT "<victim>_clone": the admin does not reset the victim', async () => {
    const e = rig.engine(engine);
    const victim = { username: randomName('victim'), password: 'Victim-secret-pw-1' };
    await e.createUser(victim.username, victim.password);
    // A role named like the victim's alternate, whose password the attacker knows (pre-existing or made by a DBA).
    await e.createUser(`${victim.username}_clone`, 'Attacker-known-pw-1');
    const arn = await rig.createSecret(randomName('steer-base'), e.secretValue(`${victim.username}_clone`, 'Attacker-known-pw-1', { masterarn: e.adminArn }));
    await rotateOnce(engine, arn);
    expect(await e.canLogin(victim.username, victim.password)).toBe(true);
    expect((await rig.value(arn, 'AWSCURRENT')).username).toBe(`${victim.username}_clone`);
    expect(lastError(arn)).toMatch(/no proof that this secret controls it/);
  });

  it('alternating users, AWSCURRENT "<admin>_clone": the admin does not reset itself', async () => {
    const e = rig.engine(engine);
    const adminClone = `${e.db.adminUser}_clone`;
    if (!(await e.userExists(adminClone))) await e.createUser(adminClone, 'Attacker-known-pw-2');
    const arn = await rig.createSecret(randomName('steer-admin'), e.secretValue(adminClone, 'Attacker-known-pw-2', { masterarn: e.adminArn }));
    await rotateOnce(engine, arn);
    expect(await e.canLogin(e.db.adminUser, e.db.adminPassword)).toBe(true);
    expect(lastError(arn)).toMatch(/admin's own user|no proof/);
  });

  it('alternating users: an existing "<name>_clone" that rotation never made for this secret is not taken over', async () => {
    const e = rig.engine(engine);
    const attacker = { username: randomName('atk'), password: 'Attacker-own-pw-3' };
    await e.createUser(attacker.username, attacker.password);
    // Another team's user that happens to carry the attacker's name plus "_clone".
    const bystander = { username: `${attacker.username}_clone`, password: 'Bystander-pw-3' };
    await e.createUser(bystander.username, bystander.password);
    const arn = await rig.createSecret(randomName('takeover'), e.secretValue(attacker.username, attacker.password, { masterarn: e.adminArn }));
    await rotateOnce(engine, arn);
    expect(await e.canLogin(bystander.username, bystander.password)).toBe(true);
    expect(lastError(arn)).toMatch(/refusing to take it over/);
  });

  it('two secrets sharing a base user: the second does not overwrite the first one\'s alternate', async () => {
    const e = rig.engine(engine);
    const app = { username: randomName('shared'), password: 'Shared-base-pw-4' };
    await e.createUser(app.username, app.password);
    const first = await rig.createSecret(randomName('share-a'), e.secretValue(app.username, app.password, { masterarn: e.adminArn }));
    const second = await rig.createSecret(randomName('share-b'), e.secretValue(app.username, app.password, { masterarn: e.adminArn }));
    await rotateOnce(engine, first);
    const a = await rig.value(first, 'AWSCURRENT');
    expect(a.username).toBe(`${app.username}_clone`);
    await rotateOnce(engine, second);
    // A's AWSCURRENT (the alternate, with A's password) still logs in; B was refused and says why.
    expect(await e.canLogin(a.username, a.password)).toBe(true);
    expect(lastError(second)).toMatch(/refusing to take it over/);
    // A keeps rotating normally.
    await rotateOnce(engine, first, false);
    const again = await rig.value(first, 'AWSCURRENT');
    expect(again.username).toBe(app.username);
    expect(await e.canLogin(again.username, again.password)).toBe(true);
    expect((await rig.check({ engine, strategy: 'alternating', arn: first, rotations: 2 }, 'complete')).violations).toEqual([]);
  });

  it('alternating users keep rotating, back and forth, with the proofs in place', async () => {
    const subject = await rig.newSubject(engine, 'alternating');
    for (let i = 0; i < 4; i++) {
      const report = await rig.rotate(subject);
      expect(report.violations).toEqual([]);
      expect(report.outcome).toBe('succeeded');
    }
  });
});

describe.each(engines)('%s: a function invoker cannot promote an untested version', (_name, engine) => {
  it('a direct finishSecret for an AWSPENDING whose password was never set leaves AWSCURRENT in place', async () => {
    const e = rig.engine(engine);
    const subject = await rig.newSubject(engine, 'single');
    // A rotation that stops after createSecret (a function that only creates), leaving a staged AWSPENDING.
    const onlyCreate = `${e.lambdaArn}-only-create`;
    rig.sandbox.functions.register(onlyCreate, async (event) => {
      if (event.Step !== 'createSecret') throw new Error('stopped after createSecret');
      await e.handler(event);
    });
    await rig.client.send(new RotateSecretCommand({ SecretId: subject.arn, RotationLambdaARN: onlyCreate, RotationRules: { AutomaticallyAfterDays: 30 } }));
    await rig.sandbox.settle();
    const stages = await rig.stages(subject.arn);
    const pending = Object.entries(stages).find(([, s]) => s.includes('AWSPENDING'))?.[0];
    expect(pending).toBeDefined();
    const before = await rig.value(subject.arn, 'AWSCURRENT');

    await expect(e.handler({ Step: 'finishSecret', SecretId: subject.arn, ClientRequestToken: pending })).rejects.toThrow(/AWSCURRENT stays where it is/);
    expect(await rig.stages(subject.arn)).toEqual(stages);
    const after = await rig.value(subject.arn, 'AWSCURRENT');
    expect(after.password).toBe(before.password);
    expect(await e.canLogin(after.username, after.password)).toBe(true);
  });
});

describe.each(engines)('%s: a writer that cannot read the secret cannot choose its user\'s password', (_name, engine) => {
  it.each(['single', 'alternating'] as const)('%s: a planted AWSPENDING with a chosen password is never set; the next rotation works', async (strategy) => {
    const e = rig.engine(engine);
    const subject = await rig.newSubject(engine, strategy);
    await rig.rotate(subject); // at rest after one rotation (alternating: AWSCURRENT is the clone)
    const current = await rig.value(subject.arn, 'AWSCURRENT');
    const target = strategy === 'single' ? current.username : current.username.replace(/_clone$/, '');
    // PutSecretValue only (no GetSecretValue): the attacker knows the shape, not the password.
    const { PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const token = `plant-${randomName('tok')}`.padEnd(36, '0');
    const planted = { ...current, username: target, password: 'Attacker-chosen-pw-9' };
    await rig.client.send(new PutSecretValueCommand({ SecretId: subject.arn, ClientRequestToken: token, SecretString: JSON.stringify(planted), VersionStages: ['AWSPENDING'] }));
    await expect(e.handler({ Step: 'setSecret', SecretId: subject.arn, ClientRequestToken: token })).rejects.toThrow(/not written by this rotation function's createSecret/);
    expect(await e.canLogin(target, 'Attacker-chosen-pw-9')).toBe(false);
    expect(await e.canLogin(current.username, current.password)).toBe(true);
    // AWSPENDING was taken off the planted version: the next rotation starts afresh and completes.
    expect((await rig.stages(subject.arn))[token] ?? []).not.toContain('AWSPENDING');
    const report = await rig.rotate(subject);
    expect(report.violations).toEqual([]);
    expect(report.outcome).toBe('succeeded');
  });
});
