import { EngineError } from '../engines/errors';
import type { ConnectionTarget, Credential, Engine } from '../engines/types';
import { loadAdmin, type AdminEndpoint, type AdminSecret } from '../rotation/admin';
import type { DatabaseSecret, TlsPreference } from '../rotation/secret';
import { connectionTarget } from '../rotation/target';
import { BreachStepError } from './errors';
import type { BreachDeps } from './procedure';

const AWSCURRENT = 'AWSCURRENT';
const credential = (s: { username: string; password: string }): Credential => ({ username: s.username, password: s.password });

/** Who acts on the database: the admin named by `masterarn`, or a single user itself with its new password. */
interface Actor {
  credential: Credential;
  tls: TlsPreference;
  /** Where the actor administers: the admin's own host (checkAdminHost), or the secret's host. */
  home: { host: string; port: number };
  admin?: { arn: string; secret: AdminSecret; storedHost: boolean; aliases: string[] };
}

interface Host {
  host: string;
  port: number;
}

const hostName = (h: Host): string => `${h.host}:${h.port}`;

/**
 * The breach procedure's database side, after the rotations: who acts (admin or the user itself,
 * with break-glass when the admin no longer logs in), on which hosts, doing what. One per secret.
 */
export class BreachDatabase {
  private actor: Actor | undefined;
  private brokeGlass: string | undefined;

  constructor(
    private readonly deps: BreachDeps,
    private readonly engine: Engine,
    private readonly secretArn: string,
    /** AWSCURRENT after the rotations. */
    private readonly current: DatabaseSecret,
    private readonly options: { breakGlass: boolean; timeoutMs: number; sleep: (ms: number) => Promise<void> },
  ) {}

  targetOf(s: Host & { dbname?: string }, tls: TlsPreference): ConnectionTarget {
    return connectionTarget({ ...s, dbname: s.dbname ?? this.current.dbname }, tls, this.engine, this.deps.db);
  }

  private async loadActor(): Promise<Actor> {
    const current = this.current;
    const adminArn = current.masterarn;
    if (!adminArn) return { credential: credential(current), tls: current.tls, home: { host: current.host, port: current.port } };
    const admin = await loadAdmin(adminArn, current, (arn) => this.deps.secrets.value(arn, AWSCURRENT), this.deps.adminEndpoint);
    return {
      credential: credential(admin.secret),
      tls: admin.tls,
      home: admin.home,
      admin: { arn: adminArn, secret: admin.secret, storedHost: admin.storedHost, aliases: admin.aliases },
    };
  }

  /**
   * Runs `work` as the actor. An admin whose login is refused: with break-glass, the RDS master
   * password is reset and `work` retried (re-reading the admin secret) until it applies.
   */
  private async asActor<T>(action: string, work: (actor: Actor) => Promise<T>): Promise<T> {
    this.actor ??= await this.loadActor();
    try {
      return await work(this.actor);
    } catch (err) {
      const admin = this.actor.admin;
      if (!(err instanceof EngineError) || err.code !== 'auth' || !admin) throw err;
      if (this.brokeGlass !== undefined) throw err;
      if (!this.options.breakGlass || !this.deps.resetAdmin) {
        throw new BreachStepError(action, `The admin credential ${admin.arn} no longer logs in (${err.message}). Re-run with breakGlass to reset the RDS master password, or fix it by hand.`);
      }
      this.brokeGlass = await this.deps.resetAdmin(admin.arn, admin.secret);
      // RDS applies the new master password within a minute or so: retry with the (re-read) admin secret.
      const deadline = Date.now() + this.options.timeoutMs;
      for (let wait = 2000; ; wait = Math.min(wait * 2, 15_000)) {
        try {
          this.actor = await this.loadActor();
          return await work(this.actor);
        } catch (retry) {
          if (!(retry instanceof EngineError) || retry.code !== 'auth' || Date.now() >= deadline) throw retry;
          await this.options.sleep(wait);
        }
      }
    }
  }

  private afterBreakGlass(detail: string, before: string | undefined): string {
    return this.brokeGlass !== undefined && before === undefined ? `${detail} (after break-glass: ${this.brokeGlass})` : detail;
  }

  /**
   * Every host of the server that may hold sessions: the secret's host, the admin's host, and what
   * the RDS lookup knows of the same instance or cluster (writer, reader and custom endpoints,
   * members, read replicas), de-duplicated. A lookup that fails is reported in `problems`.
   */
  private async sessionHosts(actor: Actor): Promise<{ hosts: Host[]; problems: string[] }> {
    const hosts: Host[] = [{ host: this.current.host, port: this.current.port }, actor.home];
    const problems: string[] = [];
    const lookup = this.deps.adminEndpoint;
    let endpoint: Pick<AdminEndpoint, 'host' | 'port' | 'aliases'> | undefined;
    if (actor.admin && !actor.admin.storedHost) {
      // RDS-managed admin secret: resolveAdminHost already asked RDS for its endpoint.
      endpoint = { ...actor.home, aliases: actor.admin.aliases };
    } else if (lookup) {
      const [id, host] = actor.admin ? [actor.admin.arn, actor.home.host] : [this.secretArn, this.current.host];
      try {
        const found = await lookup(id, host);
        // Only aliases of the very server named: the host asked about must be its endpoint or one of its aliases.
        if (found && (found.host === host || (!actor.admin && found.aliases.includes(host)))) endpoint = found;
      } catch (err) {
        problems.push(`the RDS lookup of ${host} failed (${err instanceof Error ? err.message : String(err)}): readers and replicas were not reached; grant rds:DescribeDBInstances and rds:DescribeDBClusters, or end their sessions by hand`);
      }
    }
    if (endpoint) hosts.push({ host: endpoint.host, port: endpoint.port }, ...endpoint.aliases.map((host) => ({ host, port: endpoint!.port })));
    const seen = new Set<string>();
    return { hosts: hosts.filter((h) => !seen.has(hostName(h)) && seen.add(hostName(h))), problems };
  }

  /**
   * End the sessions of `users` opened before `openedBefore` on every host of the server. The
   * secret's own host must succeed (its failure is thrown); a failure on another host is
   * reported in `failures` and the other hosts are still handled.
   */
  async endSessions(users: readonly string[], openedBefore: Date): Promise<{ detail: string; failures: string[] }> {
    const before = this.brokeGlass;
    const actor = await this.asActor('end-sessions', async (a) => a);
    const { hosts, problems } = await this.sessionHosts(actor);
    const selfEnding = actor.admin === undefined;
    const lines: string[] = [];
    const failures = [...problems];
    for (const [i, host] of hosts.entries()) {
      const run = async (a: Actor): Promise<string> => {
        const parts: string[] = [];
        for (const user of users) parts.push(await this.endOn(this.targetOf(host, a.tls), a, user, openedBefore, selfEnding));
        return parts.join(', ');
      };
      if (i === 0) {
        lines.push(`${hostName(host)}: ${await this.asActor('end-sessions', run)}`);
        continue;
      }
      try {
        lines.push(`${hostName(host)}: ${await run(this.actor!)}`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        lines.push(`${hostName(host)}: FAILED (${message})`);
        failures.push(`sessions on ${hostName(host)} could not be ended (${message}): end them by hand`);
      }
    }
    const detail = `${lines.join('; ')}${problems.length > 0 ? `; ${problems.join('; ')}` : ''}`;
    return { detail: this.afterBreakGlass(detail, before), failures };
  }

  private async endOn(target: ConnectionTarget, actor: Actor, user: string, openedBefore: Date, selfEnding: boolean): Promise<string> {
    try {
      const n = await this.engine.endSessions(target, actor.credential, user, openedBefore);
      return `ended ${n} session(s) of ${user} opened before ${openedBefore.toISOString()}`;
    } catch (err) {
      if (!(err instanceof EngineError) || err.code !== 'unsupported') throw err;
    }
    try {
      const n = await this.engine.endSessions(target, actor.credential, user);
      return `ended all ${n} other session(s) of ${user} (${this.engine.name} cannot tell when a session was opened)`;
    } catch (err) {
      // A user that ends its own sessions sees them all without PROCESS; "none visible" is the truth there.
      if (selfEnding && err instanceof EngineError && err.code === 'privilege') return `no other session of ${user} was open`;
      throw err;
    }
  }

  /**
   * Engines with several accounts per user name (MySQL/MariaDB): as the admin, on its own host,
   * the other accounts of each user that still hold one of its suspect passwords get its new one.
   */
  async replaceLeakedPasswords(work: ReadonlyArray<{ username: string; leaked: string[]; newPassword: string }>): Promise<{ detail: string; unverified: string[] }> {
    const replace = this.engine.replaceLeakedPassword?.bind(this.engine);
    if (!replace) return { detail: `${this.engine.name} has one user per name: nothing to do`, unverified: [] };
    const before = this.brokeGlass;
    const lines: string[] = [];
    const unverified: string[] = [];
    for (const { username, leaked, newPassword } of work) {
      const found = await this.asActor('other-accounts', (a) => replace(this.targetOf(a.home, a.tls), a.credential, username, leaked, newPassword));
      const parts = [
        found.replaced.length > 0 ? `replaced ${found.replaced.join(', ')} (held a leaked password, now the new one)` : 'no other account held a leaked password',
        ...(found.current.length > 0 ? [`current ${found.current.join(', ')}`] : []),
        ...(found.untouched.length > 0 ? [`untouched ${found.untouched.join(', ')} (another password)`] : []),
        ...(found.unverified.length > 0 ? [`UNVERIFIED ${found.unverified.join(', ')} (stored password cannot be compared: check by hand that none takes the leaked one)`] : []),
      ];
      unverified.push(...found.unverified);
      lines.push(`${username}: ${parts.join('; ')}`);
    }
    return { detail: this.afterBreakGlass(lines.join(' | '), before), unverified };
  }
}
