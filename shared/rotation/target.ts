import type { ConnectionTarget, Engine } from '../engines/types';
import type { TlsPreference } from './secret';

/** How the functions reach databases: the connect budget and the CA bundle trusted for TLS. */
export interface DatabaseSettings {
  connectTimeoutMs: number;
  /** PEM bundle of CAs trusted for database TLS; Node's store (and NODE_EXTRA_CA_CERTS) otherwise. */
  caBundle?: string;
}

/** The connection target for a secret's server: its host, port and database, verified TLS unless plaintext was asked for. */
export function connectionTarget(
  where: { host: string; port: number; dbname?: string },
  tls: TlsPreference,
  engine: Pick<Engine, 'defaultDbName'>,
  settings: DatabaseSettings,
): ConnectionTarget {
  const dbname = where.dbname ?? engine.defaultDbName;
  return {
    host: where.host,
    port: where.port,
    ...(dbname === undefined ? {} : { dbname }),
    tls: tls === 'plaintext' ? { kind: 'plaintext' } : { kind: 'verify', ...(settings.caBundle ? { ca: settings.caBundle } : {}) },
    connectTimeoutMs: settings.connectTimeoutMs,
  };
}
