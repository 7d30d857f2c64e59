// Small facts about the server and the connected user that the verbs check before acting.

import type pg from 'pg';
import { EngineError } from '../errors';
import { ENGINE_NAME } from './sql';

export interface ServerFacts {
  /** server_version_num, e.g. 150018. */
  version: number;
  sessionUser: string;
  currentUser: string;
  /** Whether the current user is a superuser. */
  superuser: boolean;
}

/** PostgreSQL 10 introduced SCRAM; older servers would take a verifier for a plaintext password. */
export const MIN_SCRAM_VERSION = 100_000;
/** PostgreSQL 16 restricted CREATEROLE to roles the admin holds ADMIN OPTION on. */
export const ADMIN_OPTION_VERSION = 160_000;

export async function serverFacts(client: pg.Client): Promise<ServerFacts> {
  const result = await client.query<{ version: number; session_user: string; current_user: string; superuser: boolean }>(
    `SELECT current_setting('server_version_num')::int AS version,
            session_user::text AS session_user,
            current_user::text AS current_user,
            coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), false) AS superuser`,
  );
  const row = result.rows[0];
  if (row === undefined) {
    throw new EngineError('query', 'The server returned no row for its version and the session user.', {
      engine: ENGINE_NAME,
    });
  }
  return { version: row.version, sessionUser: row.session_user, currentUser: row.current_user, superuser: row.superuser };
}

/** Throws EngineError('unsupported') on servers that do not store SCRAM verifiers as given. */
export function requireScramSupport(facts: ServerFacts): void {
  if (facts.version < MIN_SCRAM_VERSION) {
    throw new EngineError(
      'unsupported',
      `The server is PostgreSQL ${formatVersion(facts.version)}; SCRAM-SHA-256 password verifiers need ` +
        'PostgreSQL 10 or later (an older server would store the verifier text as the password). Upgrade the server.',
      { engine: ENGINE_NAME },
    );
  }
}

export function formatVersion(version: number): string {
  return version >= 100_000 ? `${Math.floor(version / 10_000)}.${version % 10_000}` : String(version);
}
