// Engine-independent pieces: TLS options and error scrubbing.

import { describe, expect, it } from 'vitest';
import { EngineError, scrubSecrets } from '../../../shared/engines/errors';
import { clientTlsOptions } from '../../../shared/engines/tls';
import { thrown } from '../../support/thrown';

/** A self-signed test CA (never used to verify anything here, only parsed). */
const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUU8hheYMRaVUhwXNfFNNPr9cwfbkwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdW5pdCB0ZXN0IENBMB4XDTI2MTEyMzE0MzAzOVoXDTM2MTEy
MDE0MzAzOVowFzEVMBMGA1UEAwwMdW5pdCB0ZXN0IENBMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEjpz4lkHGqUfJc5GRqxWBsXFvklEAaRRoFGecdzaO9myuWLx1
pEYsvM4JNhr0UD+1ZmUMtz1J0+b/f/yYbz009aNTMFEwHQYDVR0OBBYEFGwFObD2
+Zbo6L3sgDLHYmk+j4X6MB8GA1UdIwQYMBaAFGwFObD2+Zbo6L3sgDLHYmk+j4X6
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgWsfZ0gMrt95KYT0Z
ugjfbfxHV04VyAEGklvezNR/LZUCIQDC3ZU+aC5i96Lf1kASJlwHmRLKrN3t6jbS
H3INYj4EBg==
-----END CERTIFICATE-----
`;


describe('clientTlsOptions', () => {
  it('verifies the certificate and the host name by default, with SNI for DNS names', () => {
    expect(clientTlsOptions('db.example.com', { kind: 'verify' }, 'postgresql')).toEqual({
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      servername: 'db.example.com',
    });
  });

  it('sends no SNI for IP addresses (Node then checks the IP against the certificate)', () => {
    for (const host of ['10.0.0.5', '::1']) {
      const options = clientTlsOptions(host, { kind: 'verify' }, 'postgresql');
      expect(options).toEqual({ rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    }
  });

  it('trusts exactly the given CA bundle', () => {
    const bundle = `${TEST_CA}\n${TEST_CA}`;
    expect(clientTlsOptions('db', { kind: 'verify', ca: bundle }, 'postgresql')).toMatchObject({
      rejectUnauthorized: true,
      ca: bundle,
    });
  });

  it('refuses a CA bundle without certificates or with a broken one, instead of ignoring it', () => {
    for (const ca of ['', 'not a pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----']) {
      const error = thrown(EngineError, () => clientTlsOptions('db', { kind: 'verify', ca }, 'postgresql'));
      expect(error.code).toBe('tls');
      expect(error.engine).toBe('postgresql');
    }
  });

  it('returns false (plaintext) only for the plaintext mode', () => {
    expect(clientTlsOptions('db', { kind: 'plaintext' }, 'postgresql')).toBe(false);
  });
});

describe('EngineError and scrubSecrets', () => {
  it('leaves verb names that end in Password alone, and still redacts password pairs', () => {
    expect(scrubSecrets('setOwnPassword: "app" cannot connect', [])).toBe('setOwnPassword: "app" cannot connect');
    expect(scrubSecrets('setPasswordAsAdmin: "app" refused', [])).toBe('setPasswordAsAdmin: "app" refused');
    expect(scrubSecrets('bad password: hunter2 given', [])).toBe('bad password: [redacted] given');
    expect(scrubSecrets("ALTER ROLE x PASSWORD 'hunter2'", [])).toBe("ALTER ROLE x PASSWORD '[redacted]'");
  });

  it('is a named Error with a code, and scrubs the secrets it is given', () => {
    const error = new EngineError('query', 'failed with hunter2 inside', { engine: 'postgresql', secrets: ['hunter2'] });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('EngineError');
    expect(error.code).toBe('query');
    expect(error.message).toBe('failed with [redacted] inside');
  });

  it('removes passwords in the shapes a driver could echo them', () => {
    expect(scrubSecrets('postgres://app:s3cr%40t@db:5432/x failed', [])).toBe('postgres://app:[redacted]@db:5432/x failed');
    expect(scrubSecrets("ALTER ROLE x PASSWORD 'pl''ain' failed", [])).toBe("ALTER ROLE x PASSWORD '[redacted]' failed");
    expect(scrubSecrets('host=db password=abc user=x', [])).toBe('host=db password=[redacted] user=x');
    expect(scrubSecrets('{"password": "abc"}', [])).toBe('{"password": [redacted]}');
    expect(scrubSecrets('password authentication failed for user "app"', [])).toBe(
      'password authentication failed for user "app"',
    );
  });

  it('removes the longest secret first', () => {
    expect(scrubSecrets('abcdef and abc', ['abc', 'abcdef'])).toBe('[redacted] and [redacted]');
  });
});
