import { readFileSync } from 'node:fs';
import { envFlag, envInteger, type Env } from '../config/env';
import { UnsatisfiablePasswordRules, checkPasswordRules, type PasswordRules } from '../password/generate';
import { RotationError } from './errors';

/**
 * Rotation settings, read from the environment once. The password variables are the ones
 * AWS's templates read, with the same defaults, so a function can replace theirs unchanged.
 */
export interface PasswordPolicy {
  PasswordLength: number;
  ExcludeCharacters: string;
  ExcludeNumbers: boolean;
  ExcludePunctuation: boolean;
  ExcludeUppercase: boolean;
  ExcludeLowercase: boolean;
  RequireEachIncludedType: boolean;
}

export interface RotationConfig {
  password: PasswordPolicy;
  /** How long a database connection attempt may take before the step fails. */
  connectTimeoutMs: number;
  /** PEM bundle of certificate authorities trusted for database TLS, when configured. */
  caBundle?: string;
  /** AWS's templates take SECRETS_MANAGER_ENDPOINT; the SDK's own AWS_ENDPOINT_URL_* work too. */
  secretsManagerEndpoint?: string;
}

export class ConfigError extends RotationError {
  override name = 'ConfigError';
}

const fail = (message: string): ConfigError => new ConfigError(message);
const flag = (env: Env, name: string, fallback: boolean): boolean => envFlag(env, name, fallback, fail);
const integer = (env: Env, name: string, fallback: number, min: number, max: number): number => envInteger(env, name, fallback, min, max, fail);

/** The policy in the terms of the password generator (GetRandomPassword's, without IncludeSpace). */
export function passwordRules(policy: PasswordPolicy): PasswordRules {
  return {
    length: policy.PasswordLength,
    excludeCharacters: policy.ExcludeCharacters,
    excludeNumbers: policy.ExcludeNumbers,
    excludePunctuation: policy.ExcludePunctuation,
    excludeUppercase: policy.ExcludeUppercase,
    excludeLowercase: policy.ExcludeLowercase,
    includeSpace: false,
    requireEachIncludedType: policy.RequireEachIncludedType,
  };
}

export function readRotationConfig(env: Env, defaults: { excludeCharacters: string }): RotationConfig {
  const caFile = env['DB_TLS_CA_FILE'];
  let caBundle: string | undefined;
  if (caFile) {
    try {
      caBundle = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`DB_TLS_CA_FILE names ${caFile}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): bundle the CA file with the function or unset the variable.`);
    }
    if (!caBundle.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`DB_TLS_CA_FILE (${caFile}) holds no PEM certificate.`);
  }
  const endpoint = env['SECRETS_MANAGER_ENDPOINT'];
  const password: PasswordPolicy = {
    PasswordLength: integer(env, 'PASSWORD_LENGTH', 32, 1, 4096),
    ExcludeCharacters: env['EXCLUDE_CHARACTERS'] ?? defaults.excludeCharacters,
    ExcludeNumbers: flag(env, 'EXCLUDE_NUMBERS', false),
    ExcludePunctuation: flag(env, 'EXCLUDE_PUNCTUATION', false),
    ExcludeUppercase: flag(env, 'EXCLUDE_UPPERCASE', false),
    ExcludeLowercase: flag(env, 'EXCLUDE_LOWERCASE', false),
    RequireEachIncludedType: flag(env, 'REQUIRE_EACH_INCLUDED_TYPE', true),
  };
  try {
    checkPasswordRules(passwordRules(password));
  } catch (err) {
    if (err instanceof UnsatisfiablePasswordRules) throw new ConfigError(`The password settings (PASSWORD_LENGTH, EXCLUDE_*) cannot be met: ${err.message}`);
    throw err;
  }
  return {
    password,
    connectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 5000, 100, 60_000),
    ...(caBundle === undefined ? {} : { caBundle }),
    ...(endpoint ? { secretsManagerEndpoint: endpoint } : {}),
  };
}
