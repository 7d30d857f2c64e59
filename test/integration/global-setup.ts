// Starts one PostgreSQL and one MariaDB server for the whole integration project, in parallel,
// and provides their connection details to the tests (inject('postgres'), inject('mariadb'),
// inject('tls')). The returned teardown stops them; if the run dies first, the exit hooks in
// local/databases/run-dir.ts do, and failing that the next run reaps them.

import type { TestProject } from 'vitest/node';
import {
  createRunDir,
  createTestCertificates,
  startMariaDb,
  startPostgres,
  type DatabaseServer,
  type TestCertificates,
} from '../../local/databases';
import type { DatabaseConnectionInfo } from './provided';

interface StartedServer {
  server: DatabaseServer;
  startupMs: number;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const certificateDir = await createRunDir('tls');
  try {
    const certificates = await createTestCertificates(certificateDir.path);
    const [postgres, mariadb] = await startBothServers(certificates);
    for (const started of [postgres, mariadb]) console.info(describe(started));

    project.provide('postgres', connectionInfo(postgres));
    project.provide('mariadb', connectionInfo(mariadb));
    project.provide('tls', {
      caFile: certificates.caFile,
      caPem: certificates.caPem,
      otherCaFile: certificates.otherCaFile,
      otherCaPem: certificates.otherCaPem,
    });

    return async () => {
      await Promise.all([postgres.server.stop(), mariadb.server.stop()]);
      await certificateDir.remove();
    };
  } catch (error) {
    await certificateDir.remove();
    throw error;
  }
}

/** Starts both; if either fails, stops the other before reporting every failure. */
async function startBothServers(certificates: TestCertificates): Promise<[StartedServer, StartedServer]> {
  const results = await Promise.allSettled([
    timed(() => startPostgres({ certificates, logStatements: true })),
    timed(() => startMariaDb({ certificates, generalLog: true })),
  ]);
  const [postgres, mariadb] = results;
  if (postgres.status === 'fulfilled' && mariadb.status === 'fulfilled') return [postgres.value, mariadb.value];

  await Promise.all(results.map((result) => (result.status === 'fulfilled' ? result.value.server.stop() : undefined)));
  const reasons = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  throw new Error(`integration global setup: could not start the test databases:\n${reasons.join('\n\n')}`);
}

async function timed(start: () => Promise<DatabaseServer>): Promise<StartedServer> {
  const began = performance.now();
  const server = await start();
  return { server, startupMs: Math.round(performance.now() - began) };
}

function connectionInfo({ server, startupMs }: StartedServer): DatabaseConnectionInfo {
  const { stop: _stop, ...info } = server;
  return { ...info, startupMs };
}

function describe({ server, startupMs }: StartedServer): string {
  return `[integration] ${server.engine} ${server.version} on ${server.host}:${server.port} ready in ${startupMs} ms (log: ${server.logFile})`;
}
