import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readRotationConfig } from '../../../shared/rotation/config';
import { GuardError, InvalidSecretError, LoginError, PrecheckError } from '../../../shared/rotation/errors';
import type { RotationStep } from '../../../shared/rotation/event';
import { runStep, type Log, type RotationContext } from '../../../shared/rotation/protocol';
import { PROOF_FIELD, pendingProof } from '../../../shared/rotation/proof';
import { parseDatabaseSecret } from '../../../shared/rotation/secret';
import { SecretsApi } from '../../../shared/rotation/secrets-api';
import { FakeEngine } from '../../support/fake-engine';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf';
const ADMIN_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-XyZ123';
const TOKEN = 'a1b2c3d4-0000-4000-8000-000000000001';
const CURRENT_V = 'a1b2c3d4-0000-4000-8000-000000000000';
const PREVIOUS_V = 'a1b2c3d4-0000-4000-8000-00000000000f';

const sm = mockClient(SecretsManagerClient);
const logLines: string[] = [];
const log: Log = {
  info: (m, ...e) => logLines.push(`${m} ${JSON.stringify(e)}`),
  warn: (m, ...e) => logLines.push(`WARN ${m} ${JSON.stringify(e)}`),
};

const base = { engine: 'postgres', host: 'db.internal', port: 5432, username: 'app', password: 'current-pw', dbname: 'orders' };

/** A minimal stateful Secrets Manager behind aws-sdk-client-mock: versions with stages and values. */
function world(options: { rotationEnabled?: boolean; versions?: Record<string, { stages: string[]; value?: object }>; admin?: object } = {}) {
  const versions = new Map(Object.entries(options.versions ?? {
    [CURRENT_V]: { stages: ['AWSCURRENT'], value: base },
    [TOKEN]: { stages: ['AWSPENDING'] },
  }));
  sm.reset();
  sm.on(DescribeSecretCommand).callsFake(() => ({
    ARN,
    ...(options.rotationEnabled === undefined ? { RotationEnabled: true } : { RotationEnabled: options.rotationEnabled }),
    VersionIdsToStages: Object.fromEntries([...versions].filter(([, v]) => v.stages.length > 0).map(([id, v]) => [id, [...v.stages]])),
  }));
  sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string; VersionId?: string; VersionStage?: string }) => {
    if (input.SecretId === ADMIN_ARN) {
      if (!options.admin) throw new ResourceNotFoundException({ message: 'no admin', $metadata: {} });
      return { SecretString: JSON.stringify(options.admin) };
    }
    const entry = input.VersionId ? versions.get(input.VersionId) : [...versions.values()].find((v) => v.stages.includes(input.VersionStage ?? 'AWSCURRENT'));
    if (!entry?.value || (input.VersionStage && !entry.stages.includes(input.VersionStage))) {
      throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value", $metadata: {} });
    }
    return { SecretString: JSON.stringify(entry.value) };
  });
  sm.on(GetRandomPasswordCommand).resolves({ RandomPassword: 'generated-pw' });
  sm.on(PutSecretValueCommand).callsFake((input: { ClientRequestToken: string; SecretString: string; VersionStages: string[] }) => {
    versions.set(input.ClientRequestToken, { stages: input.VersionStages, value: JSON.parse(input.SecretString) as object });
    return {};
  });
  sm.on(UpdateSecretVersionStageCommand).callsFake((input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
    if (input.RemoveFromVersionId) {
      const from = versions.get(input.RemoveFromVersionId)!;
      from.stages = from.stages.filter((s) => s !== input.VersionStage);
      if (input.VersionStage === 'AWSCURRENT') from.stages.push('AWSPREVIOUS');
    }
    if (input.MoveToVersionId) versions.get(input.MoveToVersionId)!.stages.push(input.VersionStage);
    return {};
  });
  return versions;
}

function context(engine: FakeEngine): RotationContext {
  return {
    secrets: new SecretsApi(new SecretsManagerClient({ region: 'us-east-1' })),
    engine,
    config: readRotationConfig({}, { excludeCharacters: engine.defaultExcludeCharacters }),
    log,
  };
}

const step = (s: RotationStep, ctx: RotationContext, extra: { rotationToken?: string; token?: string } = {}) =>
  runStep({ step: s, secretId: ARN, token: extra.token ?? TOKEN, ...(extra.rotationToken ? { rotationToken: extra.rotationToken } : {}) }, ctx);

beforeEach(() => {
  logLines.length = 0;
});

describe('pre-check ladder', () => {
  it('refuses every step when rotation is disabled', async () => {
    world({ rotationEnabled: false });
    await expect(step('createSecret', context(new FakeEngine()))).rejects.toThrow(PrecheckError);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('refuses a token that is not a version of the secret', async () => {
    world();
    await expect(step('setSecret', context(new FakeEngine()), { token: 'ffffffff-0000-4000-8000-000000000009' })).rejects.toThrow(/is not a version of secret/);
  });

  it('refuses a token that is not AWSPENDING', async () => {
    world({ versions: { [CURRENT_V]: { stages: ['AWSCURRENT'], value: base }, [TOKEN]: { stages: ['CUSTOM'], value: base } } });
    await expect(step('setSecret', context(new FakeEngine()))).rejects.toThrow(/is not AWSPENDING/);
  });

  it('succeeds at once, for any step, when the token is already AWSCURRENT', async () => {
    world({ versions: { [TOKEN]: { stages: ['AWSCURRENT', 'AWSPENDING'], value: base } } });
    const engine = new FakeEngine();
    for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      await expect(step(s, context(engine))).resolves.toBe('already-current');
    }
    expect(engine.calls).toEqual([]);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });
});

describe('createSecret', () => {
  it('stores a generated password as AWSPENDING with the token and RotationToken, keeping every other key', async () => {
    const versions = world({ versions: { [CURRENT_V]: { stages: ['AWSCURRENT'], value: { ...base, custom: { keep: true } } }, [TOKEN]: { stages: ['AWSPENDING'] } } });
    await step('createSecret', context(new FakeEngine()), { rotationToken: 'rotation-token-0000-1111-2222-333344445555' });
    const put = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ SecretId: ARN, ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'], RotationToken: 'rotation-token-0000-1111-2222-333344445555' });
    const stored = versions.get(TOKEN)?.value as Record<string, unknown>;
    expect(stored).toEqual({ ...base, custom: { keep: true }, password: expect.any(String), [PROOF_FIELD]: expect.stringMatching(/^v1\./) });
    // Generated in the function with GetRandomPassword's rules (32 characters, the engine's exclusions, each type): no API call.
    const password = stored['password'] as string;
    expect(password).toHaveLength(32);
    expect(password).not.toMatch(/[:/@"'\\]/);
    for (const type of [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/]) expect(password).toMatch(type);
    expect(sm.commandCalls(GetRandomPasswordCommand)).toHaveLength(0);
    // The proof is the one setSecret will check: keyed with AWSCURRENT's password, bound to the secret and token.
    expect(stored[PROOF_FIELD]).toBe(pendingProof('current-pw', ARN, TOKEN, parseDatabaseSecret(JSON.stringify(stored), { engineValues: ['postgres'], defaultPort: 5432 }, 'p')));
  });

  it('reuses the value already stored for the token (a retried step)', async () => {
    world({ versions: { [CURRENT_V]: { stages: ['AWSCURRENT'], value: base }, [TOKEN]: { stages: ['AWSPENDING'], value: { ...base, password: 'first-try' } } } });
    await step('createSecret', context(new FakeEngine()));
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(GetRandomPasswordCommand)).toHaveLength(0);
  });

  it('names the alternate user <name>_clone, and back', async () => {
    const versions = world({ versions: { [CURRENT_V]: { stages: ['AWSCURRENT'], value: { ...base, masterarn: ADMIN_ARN } }, [TOKEN]: { stages: ['AWSPENDING'] } } });
    await step('createSecret', context(new FakeEngine()));
    expect(versions.get(TOKEN)?.value).toMatchObject({ username: 'app_clone' });
    const back = world({ versions: { [CURRENT_V]: { stages: ['AWSCURRENT'], value: { ...base, username: 'app_clone', masterarn: ADMIN_ARN } }, [TOKEN]: { stages: ['AWSPENDING'] } } });
    await step('createSecret', context(new FakeEngine()));
    expect(back.get(TOKEN)?.value).toMatchObject({ username: 'app' });
  });

  it('refuses an alternate name over the engine limit instead of truncating it', async () => {
    world({ versions: { [CURRENT_V]: { stages: ['AWSCURRENT'], value: { ...base, username: 'u'.repeat(60), masterarn: ADMIN_ARN } }, [TOKEN]: { stages: ['AWSPENDING'] } } });
    await expect(step('createSecret', context(new FakeEngine()))).rejects.toThrow(InvalidSecretError);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('refuses a malformed AWSCURRENT without writing anything', async () => {
    world({ versions: { [CURRENT_V]: { stages: ['AWSCURRENT'], value: { host: 'h' } }, [TOKEN]: { stages: ['AWSPENDING'] } } });
    await expect(step('createSecret', context(new FakeEngine()))).rejects.toThrow(/lacks "engine"/);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});

/** A pending value as createSecret writes it: with the proof keyed by AWSCURRENT's password (unless it cannot parse). */
function signed(current: object, pending: object): object {
  try {
    const contract = { engineValues: ['postgres', 'aurora-postgresql'], defaultPort: 5432 };
    const parsed = parseDatabaseSecret(JSON.stringify(pending), contract, 'pending');
    const currentPassword = (current as { password: string }).password;
    return { ...pending, [PROOF_FIELD]: pendingProof(currentPassword, ARN, TOKEN, parsed) };
  } catch {
    return pending;
  }
}

const pendingWorld = (current: object, pending: object, previous?: object, admin?: object, options: { unsigned?: boolean } = {}) =>
  world({
    versions: {
      ...(previous ? { [PREVIOUS_V]: { stages: ['AWSPREVIOUS'], value: previous } } : {}),
      [CURRENT_V]: { stages: ['AWSCURRENT'], value: current },
      [TOKEN]: { stages: ['AWSPENDING'], value: options.unsigned ? pending : signed(current, pending) },
    },
    ...(admin ? { admin } : {}),
  });

describe('setSecret, single user', () => {
  it('changes the password as the user itself', async () => {
    pendingWorld(base, { ...base, password: 'new-pw' });
    const engine = new FakeEngine({ app: 'current-pw' });
    await step('setSecret', context(engine));
    expect(engine.users.get('app')).toBe('new-pw');
    expect(engine.calls).toEqual(['setOwnPassword app']);
  });

  it('changes nothing when the pending password already logs in (delivered twice)', async () => {
    pendingWorld(base, { ...base, password: 'new-pw' });
    const engine = new FakeEngine({ app: 'new-pw' });
    await step('setSecret', context(engine));
    expect(engine.calls).toEqual(['setOwnPassword app', 'checkLogin app']);
    expect(engine.users.get('app')).toBe('new-pw');
  });

  it('falls back to AWSPREVIOUS when AWSCURRENT does not log in, as AWS templates do', async () => {
    pendingWorld({ ...base, password: 'never-set' }, { ...base, password: 'new-pw' }, { ...base, password: 'old-pw' });
    const engine = new FakeEngine({ app: 'old-pw' });
    await step('setSecret', context(engine));
    expect(engine.users.get('app')).toBe('new-pw');
  });

  it('fails clearly, changing nothing, when no credential logs in', async () => {
    pendingWorld({ ...base, password: 'wrong' }, { ...base, password: 'new-pw' });
    const engine = new FakeEngine({ app: 'real-pw' });
    const error = await step('setSecret', context(engine)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(LoginError);
    expect(String(error)).not.toMatch(/wrong|new-pw|real-pw/);
    expect(engine.users.get('app')).toBe('real-pw');
  });

  it.each([
    ['another host', { host: 'evil.internal' }],
    ['another port', { port: 5433 }],
    ['another database', { dbname: 'other' }],
    ['another user', { username: 'postgres' }],
  ])('refuses a pending version that names %s (confused deputy)', async (_what, change) => {
    pendingWorld(base, { ...base, password: 'new-pw', ...change });
    const engine = new FakeEngine({ app: 'current-pw', postgres: 'x' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(GuardError);
    expect(engine.calls).toEqual([]);
  });

  it('refuses a pending version whose "ssl" differs from AWSCURRENT: it must not decide how the current password travels', async () => {
    pendingWorld(base, { ...base, password: 'new-pw', ssl: false });
    const engine = new FakeEngine({ app: 'current-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(/differ in "ssl"/);
    expect(engine.calls).toEqual([]);
  });

  // Attacker: may write the secret but not read it. It plants an AWSPENDING value with a password of
  // its choosing for the secret's user and sends setSecret: the user's password must not become it.
  it('never sets a password createSecret did not write (no valid proof): AWSPENDING is taken off, nothing changes', async () => {
    const versions = pendingWorld(base, { ...base, password: 'attacker-chosen' }, undefined, undefined, { unsigned: true });
    const engine = new FakeEngine({ app: 'current-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(/not written by this rotation function's createSecret/);
    expect(engine.users.get('app')).toBe('current-pw');
    expect(versions.get(TOKEN)?.stages).toEqual([]);
  });

  it.each([
    ['signed for another token', (v: object) => ({ ...v, [PROOF_FIELD]: pendingProof('current-pw', ARN, 'other-token', { ...base, tls: 'verify', strategy: 'single', password: 'attacker-chosen' }) })],
    ['signed with a guessed current password', (v: object) => ({ ...v, [PROOF_FIELD]: pendingProof('guess', ARN, TOKEN, { ...base, tls: 'verify', strategy: 'single', password: 'attacker-chosen' }) })],
    ['with a copied proof of another value', (v: object) => ({ ...v, [PROOF_FIELD]: (signed(base, { ...base, password: 'legit-pw' }) as Record<string, string>)[PROOF_FIELD] })],
  ])('refuses a forged proof: %s', async (_what, forge) => {
    pendingWorld(base, forge({ ...base, password: 'attacker-chosen' }), undefined, undefined, { unsigned: true });
    const engine = new FakeEngine({ app: 'current-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(GuardError);
    expect(engine.users.get('app')).toBe('current-pw');
  });

  it('a pending value without proof that already logs in (an older release set it) changes nothing and passes', async () => {
    pendingWorld(base, { ...base, password: 'set-before' }, undefined, undefined, { unsigned: true });
    const engine = new FakeEngine({ app: 'set-before' });
    await step('setSecret', context(engine));
    expect(engine.calls).toEqual(['checkLogin app']);
  });

  it('warns when the secret turns TLS off', async () => {
    pendingWorld({ ...base, ssl: false }, { ...base, ssl: false, password: 'new-pw' });
    await step('setSecret', context(new FakeEngine({ app: 'current-pw' })));
    expect(logLines.some((l) => l.startsWith('WARN TLS is off'))).toBe(true);
  });
});

describe('setSecret, alternating users', () => {
  const current = { ...base, masterarn: ADMIN_ARN };
  const admin = { engine: 'postgres', host: 'db.internal', port: 5432, username: 'master', password: 'admin-pw' };

  it('creates or aligns the clone as the admin, after proving AWSCURRENT logs in', async () => {
    pendingWorld(current, { ...current, username: 'app_clone', password: 'clone-pw' }, undefined, admin);
    const engine = new FakeEngine({ app: 'current-pw', master: 'admin-pw' });
    await step('setSecret', context(engine));
    expect(engine.calls).toContain('checkLogin app');
    expect(engine.calls.at(-1)).toBe('alignAlternateUser app -> app_clone as master');
    expect(engine.users.get('app_clone')).toBe('clone-pw');
  });

  it('sets the base user password as the admin when rotating back from the clone, once AWSPREVIOUS proves control of it', async () => {
    const fromClone = { ...current, username: 'app_clone', password: 'clone-pw' };
    pendingWorld(fromClone, { ...current, username: 'app', password: 'base-new' }, { ...current, username: 'app', password: 'old' }, admin);
    const engine = new FakeEngine({ app: 'old', app_clone: 'clone-pw', master: 'admin-pw' });
    await step('setSecret', context(engine));
    expect(engine.calls.at(-1)).toBe('setPasswordAsAdmin app as master');
    expect(engine.users.get('app')).toBe('base-new');
  });

  // Attacker: a role "<victim>_clone" with a known password, named in a secret with the platform's
  // masterarn, would make the admin reset "<victim>" and publish its password in the attacker's secret.
  it.each([
    ['no AWSPREVIOUS', undefined],
    ['an AWSPREVIOUS of the clone itself', { ...current, username: 'victim_clone', password: 'known-pw' }],
    ['an AWSPREVIOUS of the victim with a guessed password', { ...current, username: 'victim', password: 'guessed' }],
  ])('refuses to reset the base user with %s: no proof of control of it', async (_what, previous) => {
    const fromClone = { ...current, username: 'victim_clone', password: 'known-pw' };
    pendingWorld(fromClone, { ...current, username: 'victim', password: 'base-new' }, previous, admin);
    const engine = new FakeEngine({ victim: 'victim-pw', victim_clone: 'known-pw', master: 'admin-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(/no proof that this secret controls it/);
    expect(engine.users.get('victim')).toBe('victim-pw');
    expect(engine.calls.some((c) => c.startsWith('setPasswordAsAdmin'))).toBe(false);
  });

  it('refuses to take over an existing alternate user the secret holds no credential of (another secret, or not made by rotation)', async () => {
    pendingWorld(current, { ...current, username: 'app_clone', password: 'clone-pw' }, undefined, admin);
    const engine = new FakeEngine({ app: 'current-pw', app_clone: 'someone-elses-pw', master: 'admin-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(/refusing to take it over/);
    expect(engine.users.get('app_clone')).toBe('someone-elses-pw');
  });

  it('aligns an existing alternate user when AWSPREVIOUS holds its working credential', async () => {
    pendingWorld(current, { ...current, username: 'app_clone', password: 'clone-new' }, { ...current, username: 'app_clone', password: 'clone-old' }, admin);
    const engine = new FakeEngine({ app: 'current-pw', app_clone: 'clone-old', master: 'admin-pw' });
    await step('setSecret', context(engine));
    expect(engine.users.get('app_clone')).toBe('clone-new');
  });

  it('never changes the admin user itself, even with a working credential of it', async () => {
    const fromClone = { ...current, username: 'master_clone', password: 'known-pw' };
    pendingWorld(fromClone, { ...current, username: 'master', password: 'base-new' }, { ...current, username: 'master', password: 'admin-pw' }, admin);
    const engine = new FakeEngine({ master: 'admin-pw', master_clone: 'known-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(/admin's own user/);
    expect(engine.users.get('master')).toBe('admin-pw');
  });

  it('never changes a user more privileged than the one the secret rotates', async () => {
    pendingWorld(current, { ...current, username: 'app_clone', password: 'clone-new' }, { ...current, username: 'app_clone', password: 'clone-old' }, admin);
    const engine = new FakeEngine({ app: 'current-pw', app_clone: 'clone-old', master: 'admin-pw' });
    engine.privileged.add('app_clone');
    await expect(step('setSecret', context(engine))).rejects.toThrow(/more privileged/);
    expect(engine.users.get('app_clone')).toBe('clone-old');
  });

  it('refuses to use the admin when AWSCURRENT does not log in', async () => {
    pendingWorld(current, { ...current, username: 'app_clone', password: 'clone-pw' }, undefined, admin);
    const engine = new FakeEngine({ app: 'something-else', master: 'admin-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(/refusing to use the admin/);
    expect(engine.calls.some((c) => c.includes('as master'))).toBe(false);
  });

  it('refuses an admin secret for another server', async () => {
    pendingWorld(current, { ...current, username: 'app_clone', password: 'clone-pw' }, undefined, { ...admin, host: 'other-db.internal' });
    const engine = new FakeEngine({ app: 'current-pw', master: 'admin-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(/must name the admin of the same server/);
    expect(engine.users.has('app_clone')).toBe(false);
  });

  it('refuses an admin secret without a host (RDS-managed) with a pointer to the RDS integration', async () => {
    pendingWorld(current, { ...current, username: 'app_clone', password: 'clone-pw' }, undefined, { username: 'master', password: 'admin-pw' });
    await expect(step('setSecret', context(new FakeEngine({ app: 'current-pw' })))).rejects.toThrow(/has no "host"/);
  });
});

describe('setSecret, pre-created pair', () => {
  const current = { ...base, username: 'app_blue', masterarn: ADMIN_ARN, usernames: ['app_blue', 'app_green'] };
  const admin = { ...base, username: 'master', password: 'admin-pw' };

  it('sets the other user of the pair as the admin, once AWSPREVIOUS proves control of it, and creates nobody', async () => {
    pendingWorld(current, { ...current, username: 'app_green', password: 'green-new' }, { ...current, username: 'app_green', password: 'green-old' }, admin);
    const engine = new FakeEngine({ app_blue: 'current-pw', app_green: 'green-old', master: 'admin-pw' });
    await step('setSecret', context(engine));
    expect(engine.calls).toContain('checkLogin app_green');
    expect(engine.calls.at(-1)).toBe('setPasswordAsAdmin app_green as master');
    expect(engine.users.get('app_green')).toBe('green-new');
    expect([...engine.users.keys()].sort()).toEqual(['app_blue', 'app_green', 'master']);
  });

  it('accepts a retried setSecret whose pending password already logs in', async () => {
    pendingWorld(current, { ...current, username: 'app_green', password: 'green-new' }, { ...current, username: 'app_green', password: 'green-old' }, admin);
    const engine = new FakeEngine({ app_blue: 'current-pw', app_green: 'green-new', master: 'admin-pw' });
    await step('setSecret', context(engine));
    expect(engine.users.get('app_green')).toBe('green-new');
  });

  it.each([
    ['no AWSPREVIOUS', undefined],
    ['an AWSPREVIOUS of another user', { ...current, username: 'app_blue', password: 'current-pw' }],
    ['an AWSPREVIOUS whose password does not log in', { ...current, username: 'app_green', password: 'guessed' }],
  ])('refuses to let the admin touch the other user with %s (confused deputy)', async (_what, previous) => {
    pendingWorld(current, { ...current, username: 'app_green', password: 'green-new' }, previous, admin);
    const engine = new FakeEngine({ app_blue: 'current-pw', app_green: 'victim-pw', master: 'admin-pw' });
    await expect(step('setSecret', context(engine))).rejects.toThrow(/no proof that this secret controls that user/);
    expect(engine.users.get('app_green')).toBe('victim-pw');
    expect(engine.calls.some((c) => c.includes('as master'))).toBe(false);
  });
});

describe('testSecret and finishSecret', () => {
  it('testSecret fails when the pending credential does not log in', async () => {
    pendingWorld(base, { ...base, password: 'new-pw' });
    await expect(step('testSecret', context(new FakeEngine({ app: 'current-pw' })))).rejects.toThrow(LoginError);
  });

  it('finishSecret moves AWSCURRENT to the token in one call, leaving AWSPENDING beside it for the service to clean up', async () => {
    const versions = pendingWorld(base, { ...base, password: 'new-pw' });
    await step('finishSecret', context(new FakeEngine({ app: 'new-pw' })));
    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: CURRENT_V },
    ]);
    expect(versions.get(TOKEN)?.stages.sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(versions.get(CURRENT_V)?.stages).toEqual(['AWSPREVIOUS']);
  });
});

describe('finishSecret sent directly (attacker: any invoker of the function)', () => {
  it('refuses to promote a pending version whose password was never set, leaving AWSCURRENT in place', async () => {
    const versions = pendingWorld(base, { ...base, password: 'never-set' });
    const engine = new FakeEngine({ app: 'current-pw' });
    await expect(step('finishSecret', context(engine))).rejects.toThrow(/AWSCURRENT stays where it is/);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(versions.get(CURRENT_V)?.stages).toEqual(['AWSCURRENT']);
  });

  it('refuses to promote a pending version that names another server or user, even one that logs in', async () => {
    pendingWorld(base, { ...base, username: 'other', password: 'other-pw' });
    const engine = new FakeEngine({ app: 'current-pw', other: 'other-pw' });
    await expect(step('finishSecret', context(engine))).rejects.toThrow(GuardError);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });
});

describe('engines with a finishing touch for the own password (MySQL dual passwords)', () => {
  class FinishingEngine extends FakeEngine {
    async finishOwnPassword(_target: unknown, who: { username: string; password: string }): Promise<string> {
      this.calls.push(`finishOwnPassword ${who.username}:${who.password}`);
      return 'discarded';
    }
  }

  it('finishSecret calls it with the new credential, after AWSCURRENT moved', async () => {
    const versions = pendingWorld(base, { ...base, password: 'new-pw' });
    const engine = new FinishingEngine({ app: 'new-pw' });
    let currentAtHook: string[] | undefined;
    engine.finishOwnPassword = async (_t, who) => {
      currentAtHook = versions.get(TOKEN)?.stages;
      engine.calls.push(`finishOwnPassword ${who.username}:${who.password}`);
      return 'discarded';
    };
    await step('finishSecret', context(engine));
    expect(engine.calls).toEqual(['checkLogin app', 'finishOwnPassword app:new-pw']);
    expect(currentAtHook).toContain('AWSCURRENT');
  });

  it('a finishSecret retried after AWSCURRENT moved calls it again (it is idempotent)', async () => {
    world({ versions: { [TOKEN]: { stages: ['AWSCURRENT'], value: { ...base, password: 'new-pw' } } } });
    const engine = new FinishingEngine();
    await expect(step('finishSecret', context(engine))).resolves.toBe('already-current');
    expect(engine.calls).toEqual(['finishOwnPassword app:new-pw']);
  });

  // Attacker (or a late duplicate): finishSecret of rotation N while rotation N+1 is past setSecret,
  // where N+1 kept AWSCURRENT's password as the retained old one. Discarding it would lock AWSCURRENT out.
  it('a late finishSecret of a finished rotation does not discard anything while another rotation is pending', async () => {
    const NEXT = 'a1b2c3d4-0000-4000-8000-000000000002';
    world({ versions: { [TOKEN]: { stages: ['AWSCURRENT'], value: { ...base, password: 'new-pw' } }, [NEXT]: { stages: ['AWSPENDING'], value: { ...base, password: 'next-pw' } } } });
    const engine = new FinishingEngine();
    await expect(step('finishSecret', context(engine))).resolves.toBe('already-current');
    expect(engine.calls).toEqual([]);
  });

  it('is not called for alternating users', async () => {
    const current = { ...base, masterarn: ADMIN_ARN };
    pendingWorld(current, { ...current, username: 'app_clone', password: 'clone-pw' });
    const engine = new FinishingEngine({ app_clone: 'clone-pw' });
    await step('finishSecret', context(engine));
    expect(engine.calls).toEqual(['checkLogin app_clone']);
  });
});

describe('engines whose target issues the credential (access keys, API tokens)', () => {
  /** A target that hands out keys: at most two per user, as IAM does; the core never generates a password for it. */
  class IssuingEngine extends FakeEngine {
    readonly keys = new Map<string, string>([['K1', 'current-pw']]);
    readonly retired: string[] = [];
    private next = 2;
    readonly issuer = {
      issue: async (_target: unknown, username: string, inUse: ReadonlyArray<Readonly<Record<string, unknown>>>) => {
        const held = new Set(inUse.map((v) => v['keyid']));
        // Make room: only a key no stage holds may go.
        if (this.keys.size >= 2) for (const id of [...this.keys.keys()]) if (!held.has(id) && this.keys.size >= 2) this.keys.delete(id);
        if (this.keys.size >= 2) throw new Error('no room');
        const id = `K${this.next++}`;
        const secret = `issued-${id}`;
        this.keys.set(id, secret);
        this.users.set(username, secret);
        this.calls.push(`issue ${username} ${id}`);
        return { password: secret, fields: { keyid: id } };
      },
      retire: async (_target: unknown, _username: string, inUse: ReadonlyArray<Readonly<Record<string, unknown>>>) => {
        const held = new Set(inUse.map((v) => v['keyid']));
        for (const id of [...this.keys.keys()]) if (!held.has(id)) (this.keys.delete(id), this.retired.push(id));
        return `retired ${this.retired.join(', ') || 'nothing'}`;
      },
    };
  }
  const keyed = { ...base, keyid: 'K1' };

  it('createSecret stores what the target issued (no generated password), and a retried createSecret issues nothing more', async () => {
    const versions = world({ versions: { [CURRENT_V]: { stages: ['AWSCURRENT'], value: keyed }, [TOKEN]: { stages: ['AWSPENDING'] } } });
    const engine = new IssuingEngine({ app: 'current-pw' });
    await step('createSecret', context(engine));
    expect(versions.get(TOKEN)?.value).toEqual({ ...keyed, keyid: 'K2', password: 'issued-K2', [PROOF_FIELD]: expect.stringMatching(/^v1\./) });
    expect(sm.commandCalls(GetRandomPasswordCommand)).toHaveLength(0);
    await step('createSecret', context(engine));
    expect(engine.calls.filter((c) => c.startsWith('issue'))).toEqual(['issue app K2']);
  });

  it('makes room only with a key no stage holds, and retires the one that dropped out after finishSecret', async () => {
    const versions = world({
      versions: {
        [PREVIOUS_V]: { stages: ['AWSPREVIOUS'], value: { ...keyed, keyid: 'K0', password: 'old-pw' } },
        [CURRENT_V]: { stages: ['AWSCURRENT'], value: keyed },
        [TOKEN]: { stages: ['AWSPENDING'] },
      },
    });
    const engine = new IssuingEngine({ app: 'current-pw' });
    engine.keys.set('K0', 'old-pw'); // two keys: both held by a stage, so there is no room
    await expect(step('createSecret', context(engine))).rejects.toThrow(/no room/);
    expect([...engine.keys.keys()].sort()).toEqual(['K0', 'K1']);

    engine.keys.delete('K0'); // the overlap of the previous key has ended
    await step('createSecret', context(engine));
    await step('setSecret', context(engine)); // issued already: nothing to set
    expect(engine.calls).not.toContain('setOwnPassword app');
    await step('testSecret', context(engine));
    engine.keys.set('K9', 'stray'); // issued once, held by no stage (e.g. a createSecret that never stored it)
    await step('finishSecret', context(engine));
    expect(versions.get(TOKEN)?.stages).toContain('AWSCURRENT');
    // The new AWSCURRENT (K2) and AWSPREVIOUS (K1) stay; what no stage holds is retired.
    expect([...engine.keys.keys()].sort()).toEqual(['K1', 'K2']);
    expect(engine.retired).toEqual(['K9']);
    expect(logLines.some((l) => l.startsWith('finishSecret: retired what no stage holds'))).toBe(true);
  });
});
