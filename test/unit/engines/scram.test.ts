import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/engines/errors';
import {
  SCRAM_ITERATIONS,
  SCRAM_SALT_BYTES,
  isScramVerifier,
  saslPrep,
  scramKeys,
  scramSha256Verifier,
} from '../../../shared/engines/postgresql/scram';
import { thrown } from '../../support/thrown';

/**
 * Verifiers PostgreSQL 15.18 computed itself (ALTER ROLE ... PASSWORD '<plain>' with
 * password_encryption = scram-sha-256, read back from pg_authid). The integration test repeats
 * this comparison against the running server.
 */
const POSTGRESQL_VECTORS = [
  {
    password: 'pencil',
    verifier:
      'SCRAM-SHA-256$4096:XJ4oEOjWXNvnp6OGUwBWiw==$Z7rihoG9+SxkP1DPnAcMhSK+QaKoSdEDoBCW3bKyjy0=:qzoa/DbEfU5U6zJU42QsMfRlFLblyZ4S+2x94R0VPTE=',
  },
  {
    password: 'correct horse battery staple',
    verifier:
      'SCRAM-SHA-256$4096:BSPoWL8pgfiVh8zxgBqPIA==$zaRqkOJD6eY11cn4XPNkhUzCGFZSYb5akYMera+kKg8=:pmlogTuA1FBzymDXdYoIbQReSrAZVPkIBXrV2rT458g=',
  },
  {
    password: 'p\'w"\\:/@ x~`',
    verifier:
      'SCRAM-SHA-256$4096:RrL3abUKhx5c/NrrfEh6Jg==$DTsTyTdxJvMYht3+9wbe6nMLVmwbzvvK6MGt1YoTZVI=:lrbtCDAf8l0pPzlUk2TjxHhWB2A9riJVJVG0k/StOpQ=',
  },
];

function saltOf(verifier: string): Buffer {
  const match = /^SCRAM-SHA-256\$\d+:([^$]+)\$/.exec(verifier);
  if (!match?.[1]) throw new Error(`not a verifier: ${verifier}`);
  return Buffer.from(match[1], 'base64');
}

const engineErrorOf = (action: () => unknown): EngineError => thrown(EngineError, action);

describe('scramSha256Verifier', () => {
  it.each(POSTGRESQL_VECTORS)('equals what PostgreSQL stores for $password (same salt)', ({ password, verifier }) => {
    expect(scramSha256Verifier(password, { salt: saltOf(verifier) })).toBe(verifier);
  });

  it('derives the keys of the RFC 7677 example exchange (user "user", password "pencil")', () => {
    // RFC 7677 section 3: the client proof and server signature follow from StoredKey/ServerKey.
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const keys = scramKeys('pencil', salt, 4096);
    const authMessage = [
      'n=user,r=rOprNGfwEbeRWgbNEkqO',
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    ].join(',');
    const clientSignature = createHmac('sha256', keys.storedKey).update(authMessage).digest();
    const clientProof = Buffer.from(keys.clientKey.map((byte, i) => byte ^ (clientSignature[i] ?? 0)));
    const serverSignature = createHmac('sha256', keys.serverKey).update(authMessage).digest();
    expect(clientProof.toString('base64')).toBe('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(serverSignature.toString('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');

    const verifier = scramSha256Verifier('pencil', { salt });
    expect(verifier).toBe(
      `SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${keys.storedKey.toString('base64')}:${keys.serverKey.toString('base64')}`,
    );
  });

  it('uses a fresh random 16-byte salt and 4096 iterations by default', () => {
    const first = scramSha256Verifier('same password');
    const second = scramSha256Verifier('same password');
    expect(first).not.toBe(second);
    for (const verifier of [first, second]) {
      expect(isScramVerifier(verifier)).toBe(true);
      expect(verifier.startsWith(`SCRAM-SHA-256$${SCRAM_ITERATIONS}:`)).toBe(true);
      expect(saltOf(verifier)).toHaveLength(SCRAM_SALT_BYTES);
      expect(verifier).not.toContain('same password');
    }
  });

  it('uses ASCII passwords as they are (PostgreSQL applies no SASLprep to ASCII)', () => {
    const ascii = ' !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\t';
    expect(saslPrep(ascii)).toBe(ascii);
  });

  it('refuses non-ASCII passwords, since clients disagree on their SASLprep', () => {
    for (const password of ['pässword', 'pass\u00a0word', 'ｐａｓｓ', 'pass\u200bword', '密码']) {
      const error = engineErrorOf(() => scramSha256Verifier(password));
      expect(error.code).toBe('unsupported');
      expect(error.message).toMatch(/non-ASCII/);
      expect(error.message).not.toContain(password);
    }
  });

  it('refuses empty passwords and NUL characters', () => {
    expect(engineErrorOf(() => scramSha256Verifier('')).code).toBe('invalid');
    expect(engineErrorOf(() => scramSha256Verifier('a\0b')).code).toBe('invalid');
  });
});

describe('isScramVerifier', () => {
  it('accepts what PostgreSQL stores', () => {
    for (const { verifier } of POSTGRESQL_VECTORS) expect(isScramVerifier(verifier)).toBe(true);
  });

  it('rejects anything that could carry SQL or is not exactly a verifier', () => {
    const good = POSTGRESQL_VECTORS[0]?.verifier ?? '';
    for (const bad of [
      '',
      'plaintext-password',
      `${good}'`,
      `${good}; DROP ROLE x`,
      `'${good}`,
      good.replace('SCRAM-SHA-256', 'scram-sha-256'),
      good.replace('$4096:', '$0:'),
      good.replace(/=$/, '=\n'),
      `md5${'0'.repeat(32)}`,
    ]) {
      expect(isScramVerifier(bad), bad).toBe(false);
    }
  });
});
