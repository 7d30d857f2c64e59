// The set-up the long benchmarks over the rig share (bench/chaos.ts, bench/adversary.ts): throwaway
// PostgreSQL and MariaDB servers with statement/general logs on (for the leak canary), the rig over
// them, and everything torn down whatever happens; the process exits with `work`'s code.

import { createRunDir, createTestCertificates, startMariaDb, startPostgres, type DatabaseServer } from '../databases';
import { Rig, type RigEngine, type RigOptions } from './rig';

export async function withBenchRig(
  engines: readonly RigEngine[],
  options: Partial<RigOptions>,
  work: (rig: Rig, servers: readonly DatabaseServer[]) => Promise<number>,
): Promise<number> {
  const certDir = await createRunDir('tls');
  const servers: DatabaseServer[] = [];
  let rig: Rig | undefined;
  try {
    const certificates = await createTestCertificates(certDir.path);
    servers.push(
      ...(await Promise.all(
        engines.map((engine) => (engine === 'postgresql' ? startPostgres({ certificates, logStatements: true }) : startMariaDb({ certificates, generalLog: true }))),
      )),
    );
    rig = await Rig.start({ databases: servers, caFile: certificates.caFile, caPem: certificates.caPem, ...options });
    return await work(rig, servers);
  } finally {
    await rig?.close();
    await Promise.all(servers.map((s) => s.stop()));
    await certDir.remove();
  }
}

/** Runs a benchmark's main and exits with its code (1 on an error). */
export function exitWith(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
