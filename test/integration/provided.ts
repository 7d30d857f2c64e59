// What test/integration/global-setup.ts hands to the integration tests through inject().

import type { DatabaseServer } from '../../local/databases';

/** A running server as tests see it: plain data (stop() stays with the global setup). */
export type DatabaseConnectionInfo = Omit<DatabaseServer, 'stop'> & {
  /** How long the server took to create and start, in ms (printed by the global setup). */
  startupMs: number;
};

/** The run's CA, and an unrelated CA for checking that a wrongly configured client fails closed. */
export interface TlsMaterial {
  caFile: string;
  caPem: string;
  otherCaFile: string;
  otherCaPem: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: DatabaseConnectionInfo;
    mariadb: DatabaseConnectionInfo;
    tls: TlsMaterial;
  }
}
