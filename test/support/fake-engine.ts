import type { AdminActionOptions, ConnectionTarget, Credential, Engine, LoginResult } from '../../shared/engines/types';

/**
 * An in-memory database for unit tests of the protocol: users and passwords, plus a record of
 * every verb called, so tests can assert who did what.
 */
export class FakeEngine implements Engine {
  readonly name = 'fake';
  readonly engineValues: readonly string[] = ['postgres', 'aurora-postgresql'];
  readonly defaultPort = 5432;
  readonly defaultDbName = 'postgres';
  readonly maxUsernameLength = 63;
  readonly defaultExcludeCharacters = ':/@"\'\\';
  readonly marksAlternates = false;
  readonly users = new Map<string, string>();
  readonly calls: string[] = [];
  /** Users that hold more than any other (facts.exceedsReference), e.g. a superuser. */
  readonly privileged = new Set<string>();
  unreachable = false;

  constructor(users: Record<string, string> = {}) {
    for (const [u, p] of Object.entries(users)) this.users.set(u, p);
  }

  private login(who: Credential): boolean {
    if (this.unreachable) throw new Error('connect ECONNREFUSED');
    return this.users.get(who.username) === who.password;
  }

  async checkLogin(_target: ConnectionTarget, who: Credential): Promise<LoginResult> {
    this.calls.push(`checkLogin ${who.username}`);
    return this.login(who) ? { ok: true } : { ok: false, reason: 'rejected', detail: 'password authentication failed' };
  }

  async setOwnPassword(_target: ConnectionTarget, who: Credential, newPassword: string): Promise<LoginResult> {
    this.calls.push(`setOwnPassword ${who.username}`);
    if (!this.login(who)) return { ok: false, reason: 'rejected', detail: 'password authentication failed' };
    this.users.set(who.username, newPassword);
    return { ok: true };
  }

  /** What a real engine reads on the admin's connection before it changes `username`, handed to authorize. */
  private async authorize(admin: Credential, username: string, reference: string, options: AdminActionOptions): Promise<void> {
    await options.authorize?.({
      username,
      exists: this.users.has(username),
      isAdmin: username === admin.username,
      exceedsReference: this.users.has(username) && username !== reference && this.privileged.has(username) && !this.privileged.has(reference),
      madeByRotation: false,
    });
  }

  async alignAlternateUser(_target: ConnectionTarget, admin: Credential, baseUsername: string, alternate: Credential, options: AdminActionOptions = {}): Promise<void> {
    await options.notBefore;
    if (!this.login(admin)) throw new Error('admin login rejected');
    await this.authorize(admin, alternate.username, baseUsername, options);
    this.calls.push(`alignAlternateUser ${baseUsername} -> ${alternate.username} as ${admin.username}`);
    this.users.set(alternate.username, alternate.password);
  }

  async setPasswordAsAdmin(_target: ConnectionTarget, admin: Credential, username: string, newPassword: string, options: AdminActionOptions = {}): Promise<void> {
    await options.notBefore;
    if (!this.login(admin)) throw new Error('admin login rejected');
    await this.authorize(admin, username, options.reference ?? username, options);
    this.calls.push(`setPasswordAsAdmin ${username} as ${admin.username}`);
    if (!this.users.has(username)) throw new Error(`no user ${username}`);
    this.users.set(username, newPassword);
  }

  async endSessions(_target: ConnectionTarget, admin: Credential, username: string): Promise<number> {
    this.calls.push(`endSessions ${username} as ${admin.username}`);
    return 0;
  }
}
