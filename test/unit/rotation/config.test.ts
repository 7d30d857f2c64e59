import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readRotationConfig } from '../../../shared/rotation/config';

const defaults = { excludeCharacters: ':/@"\'\\' };

describe('readRotationConfig', () => {
  it("uses AWS's template defaults", () => {
    expect(readRotationConfig({}, defaults)).toEqual({
      password: {
        PasswordLength: 32,
        ExcludeCharacters: ':/@"\'\\',
        ExcludeNumbers: false,
        ExcludePunctuation: false,
        ExcludeUppercase: false,
        ExcludeLowercase: false,
        RequireEachIncludedType: true,
      },
      connectTimeoutMs: 5000,
    });
  });

  it("reads the templates' variables with their boolean spelling (true, 1, y, yes)", () => {
    const config = readRotationConfig(
      { PASSWORD_LENGTH: '48', EXCLUDE_CHARACTERS: '', EXCLUDE_NUMBERS: 'YES', EXCLUDE_PUNCTUATION: '1', EXCLUDE_UPPERCASE: 'y', EXCLUDE_LOWERCASE: 'no', REQUIRE_EACH_INCLUDED_TYPE: 'false', DB_CONNECT_TIMEOUT_MS: '1500', SECRETS_MANAGER_ENDPOINT: 'https://vpce.example' },
      defaults,
    );
    expect(config.password).toEqual({ PasswordLength: 48, ExcludeCharacters: '', ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true, ExcludeLowercase: false, RequireEachIncludedType: false });
    expect(config.connectTimeoutMs).toBe(1500);
    expect(config.secretsManagerEndpoint).toBe('https://vpce.example');
  });

  it('loads a CA bundle from DB_TLS_CA_FILE', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(readRotationConfig({ DB_TLS_CA_FILE: file }, defaults).caBundle).toContain('BEGIN CERTIFICATE');
  });

  it.each([
    [{ PASSWORD_LENGTH: '0' }, /PASSWORD_LENGTH must be a whole number from 1 to 4096/],
    [{ PASSWORD_LENGTH: 'long' }, /PASSWORD_LENGTH/],
    [{ DB_CONNECT_TIMEOUT_MS: '900000' }, /DB_CONNECT_TIMEOUT_MS/],
    [{ DB_TLS_CA_FILE: '/nonexistent/ca.pem' }, /cannot be read \(ENOENT\)/],
  ])('refuses bad settings with a message naming the variable: %o', (env, message) => {
    expect(() => readRotationConfig(env, defaults)).toThrow(ConfigError);
    expect(() => readRotationConfig(env, defaults)).toThrow(message);
  });
});
