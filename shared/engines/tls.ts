// TLS options shared by the engines (node:tls options, as pg and mysql2 take them).
//
// `verify` means: the certificate chain must lead to a trusted CA (the PEM bundle given in the
// target, or Node's default roots plus NODE_EXTRA_CA_CERTS when none is given) AND the host the
// engine connects to must be named in the certificate. Node checks the host name against
// `servername` for DNS names and against `host` for IP addresses (servername must not be an IP:
// RFC 6066 section 3), so the drivers pass both. Plaintext only when the mode says so; there is
// no fall-back from a failed handshake to plaintext anywhere.

import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { EngineError } from './errors';
import type { TlsMode } from './types';

export interface VerifiedTlsOptions {
  rejectUnauthorized: true;
  minVersion: 'TLSv1.2';
  /** SNI and the name checked against the certificate; absent for IP addresses. */
  servername?: string;
  /** Trusted CAs (PEM); replaces Node's default roots when present. */
  ca?: string;
}

/**
 * node:tls options for connecting to `host` under `mode`, or `false` for plaintext (only when
 * `mode.kind === 'plaintext'`). Throws EngineError('tls') for a CA bundle that is not PEM.
 */
export function clientTlsOptions(host: string, mode: TlsMode, engine: string): VerifiedTlsOptions | false {
  if (mode.kind === 'plaintext') return false;
  const options: VerifiedTlsOptions = { rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  if (isIP(host) === 0) options.servername = host;
  if (mode.ca !== undefined) {
    assertPemBundle(mode.ca, engine);
    options.ca = mode.ca;
  }
  return options;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** At least one certificate, and every certificate in the bundle parses. */
function assertPemBundle(pem: string, engine: string): void {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new EngineError(
      'tls',
      'The CA bundle for TLS verification holds no PEM certificate ("-----BEGIN CERTIFICATE-----"): ' +
        'provide the CA bundle that signed the database server certificate (for RDS: global-bundle.pem).',
      { engine },
    );
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new EngineError(
        'tls',
        `Certificate ${index + 1} of the CA bundle for TLS verification cannot be parsed ` +
          `(${(error as Error).message}): replace the bundle with valid PEM certificates.`,
        { engine },
      );
    }
  });
}
