// Throwaway PostgreSQL and MariaDB servers for integration tests: real servers with TLS and real
// password checks, in scratch directories that are cleaned up even when a run dies.

export interface DatabaseServer {
  engine: 'postgresql' | 'mariadb';
  /** Address the server listens on: '127.0.0.1'. */
  host: string;
  /** 'localhost': resolves to host and is in the certificate, for clients that verify the name. */
  hostname: string;
  port: number;
  /** 'postgres' / 'admin': a superuser that may create users and grant anything. */
  adminUser: string;
  adminPassword: string;
  /** Database to connect to as the admin: 'postgres' / 'mysql'. */
  database: string;
  /** CA that signed the server certificate, as a path and as PEM text. */
  caFile: string;
  caPem: string;
  dataDir: string;
  /** Server log; holds the statement log (PostgreSQL) or the general log (MariaDB) when enabled. */
  logFile: string;
  /** The server's own version string, e.g. '15.18 (Debian 15.18-0+deb12u1)'. */
  version: string;
  /** Stops the server and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

export { freeLoopbackPort } from './ports';
export { createTestCertificates } from './tls';
export type { TestCertificates, TestCertificateOptions } from './tls';
export { startPostgres } from './postgresql';
export type { PostgresOptions } from './postgresql';
export { startMariaDb } from './mariadb';
export type { MariaDbOptions } from './mariadb';
export { createRunDir, reapAbandonedRuns, RUN_DIR_PREFIX } from './run-dir';
export type { RunDir } from './run-dir';
export { databaseAccess } from './access';
export type { AccessTarget, DatabaseAccess } from './access';
