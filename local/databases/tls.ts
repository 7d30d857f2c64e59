// TLS material for the throwaway database servers, made with the openssl CLI once per test run:
// a CA, a server certificate it signs for the loopback names, and a second, unrelated CA that
// tests use to show that a client trusting the wrong CA refuses the server (fails closed).
// EC P-256 keys: generating them takes milliseconds, where RSA keys take noticeably longer.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeExecError } from './run-dir';

const execFileAsync = promisify(execFile);

export interface TestCertificates {
  /** Directory holding all the files below. */
  dir: string;
  /** The CA that signed the server certificate: what clients should trust. */
  caFile: string;
  caPem: string;
  /** Server certificate (leaf only) and its unencrypted private key (mode 0600). */
  serverCertFile: string;
  serverKeyFile: string;
  /** A CA that signed nothing the servers use: trusting it instead must fail. */
  otherCaFile: string;
  otherCaPem: string;
  /** Names and addresses in the server certificate's subjectAltName. */
  hosts: string[];
}

export interface TestCertificateOptions {
  /** Extra DNS names or IP addresses for the server certificate, besides localhost and 127.0.0.1. */
  hosts?: string[];
}

const DEFAULT_HOSTS = ['localhost', '127.0.0.1'];

/** Long enough for any test run, short enough that a leaked key is worthless soon after. */
const VALIDITY_DAYS = '2';

/** Creates the CA, the server certificate and the unrelated CA in `dir` (created if missing). */
export async function createTestCertificates(
  dir: string,
  opts: TestCertificateOptions = {},
): Promise<TestCertificates> {
  const hosts = [...new Set([...DEFAULT_HOSTS, ...(opts.hosts ?? [])])];
  hosts.forEach(assertValidHost);
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const files = {
    caFile: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    otherCaFile: join(dir, 'other-ca.pem'),
    otherCaKey: join(dir, 'other-ca.key'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    serverCsr: join(dir, 'server.csr'),
    serverConfig: join(dir, 'server.cnf'),
  };
  const runId = randomBytes(4).toString('hex');

  try {
    // The two CAs and the server's key are independent: make them side by side.
    await Promise.all([
      createCa(files.caFile, files.caKey, `Credential rotation test CA ${runId}`),
      createCa(files.otherCaFile, files.otherCaKey, `Unrelated test CA ${runId}`),
      createServerRequest(files.serverConfig, files.serverCsr, files.serverKeyFile, hosts),
    ]);
    await signServerCertificate(files);
  } catch (error) {
    throw new Error(
      `createTestCertificates: openssl failed in ${dir}: ${describeExecError(error)}. ` +
        'Check that the openssl CLI is installed (apt-get install openssl).',
    );
  } finally {
    await Promise.all([rm(files.serverCsr, { force: true }), rm(files.serverConfig, { force: true })]);
  }

  const [caPem, otherCaPem] = await Promise.all([
    readFile(files.caFile, 'utf8'),
    readFile(files.otherCaFile, 'utf8'),
  ]);
  return {
    dir,
    caFile: files.caFile,
    caPem,
    serverCertFile: files.serverCertFile,
    serverKeyFile: files.serverKeyFile,
    otherCaFile: files.otherCaFile,
    otherCaPem,
    hosts,
  };
}

/** Hosts go into an openssl config file: allow only plain names and IP literals. */
function assertValidHost(host: string): void {
  const dnsName = /^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
  if (isIP(host) === 0 && !dnsName.test(host)) {
    throw new Error(`createTestCertificates: "${host}" is neither a DNS name nor an IP address`);
  }
}

function subjectAltName(hosts: string[]): string {
  return hosts.map((host) => (isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`)).join(', ');
}

/** A self-signed CA: CA:TRUE and keyCertSign, so Node and the servers accept it as an issuer. */
async function createCa(certFile: string, keyFile: string, commonName: string): Promise<void> {
  const configFile = `${certFile}.cnf`;
  await writeFile(
    configFile,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = ca_ext',
      '[dn]',
      `CN = ${commonName}`,
      '[ca_ext]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  try {
    await openssl(certFile, [
      'req', '-x509', '-new', '-nodes',
      '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-keyout', keyFile, '-out', certFile,
      '-days', VALIDITY_DAYS, '-sha256', '-set_serial', randomSerial(),
      '-config', configFile,
    ]);
    await chmod(keyFile, 0o600);
  } finally {
    await rm(configFile, { force: true });
  }
}

/** The server's key and a CSR; the config file also carries the extensions the CA signs in. */
async function createServerRequest(configFile: string, csrFile: string, keyFile: string, hosts: string[]): Promise<void> {
  await writeFile(
    configFile,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = localhost',
      '[server_ext]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${subjectAltName(hosts)}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  await openssl(configFile, [
    'req', '-new', '-nodes',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-keyout', keyFile, '-out', csrFile, '-config', configFile,
  ]);
  await chmod(keyFile, 0o600);
}

async function signServerCertificate(files: {
  caFile: string;
  caKey: string;
  serverCsr: string;
  serverConfig: string;
  serverCertFile: string;
}): Promise<void> {
  await openssl(files.serverCertFile, [
    'x509', '-req', '-in', files.serverCsr,
    '-CA', files.caFile, '-CAkey', files.caKey, '-set_serial', randomSerial(),
    '-days', VALIDITY_DAYS, '-sha256',
    '-extfile', files.serverConfig, '-extensions', 'server_ext',
    '-out', files.serverCertFile,
  ]);
}

/** Positive 64-bit serial in hex; unique serials keep clients' session caches honest. */
function randomSerial(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

async function openssl(context: string, args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { timeout: 30_000 });
  } catch (error) {
    throw new Error(`openssl ${args[0] ?? ''} (${context}): ${describeExecError(error)}`);
  }
}
