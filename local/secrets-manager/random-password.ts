// GetRandomPassword for the sandbox.
//
// Error codes follow how the real service splits its failures (AWS JSON 1.1, Coral):
// - A member of the wrong JSON type never reaches the operation: the protocol layer answers
//   `SerializationException`. The SDKs cannot send such a request, so only hand-written callers see it.
// - A Smithy-model constraint (PasswordLength range 1–4096, ExcludeCharacters length ≤ 4096) is
//   checked by the framework before the operation runs: `ValidationException` with the framework's
//   "1 validation error detected: …" wording. AWS answers `ValidationException` with that wording for
//   Secrets Manager model constraints ("Value null at 'secretId' failed to satisfy constraint: Member
//   must not be null"); moto instead says `InvalidParameterValue` for PasswordLength > 4096
//   (moto-deviations item 18).
// - A request that is well formed but cannot be satisfied (every character type excluded, or too short
//   to hold one character of each required type) is the operation's own documented error:
//   `InvalidParameterException` ("The parameter name or value is invalid").

import { UnsatisfiablePasswordRules, generatePassword, type PasswordRules } from '../../shared/password/generate';
import { ApiError } from './errors';

export interface RandomPasswordInput {
  PasswordLength?: number;
  ExcludeCharacters?: string;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  ExcludeUppercase?: boolean;
  ExcludeLowercase?: boolean;
  IncludeSpace?: boolean;
  RequireEachIncludedType?: boolean;
}

/** The request after type checks, constraint checks and defaults: the generator's rules, with the API's name for the length. */
export type RandomPasswordOptions = Omit<PasswordRules, 'length'> & { passwordLength: number };

const DEFAULT_LENGTH = 32;
const MAX_LENGTH = 4096;
const MAX_EXCLUDE_CHARACTERS = 4096;


const BOOLEAN_MEMBERS = [
  'ExcludeNumbers',
  'ExcludePunctuation',
  'ExcludeUppercase',
  'ExcludeLowercase',
  'IncludeSpace',
  'RequireEachIncludedType',
] as const;

function serializationError(member: string, expected: string): ApiError {
  return new ApiError('SerializationException', `Cannot deserialize member '${member}': expected ${expected}.`);
}

function validationError(violations: string[]): ApiError {
  const count = violations.length;
  return new ApiError(
    'ValidationException',
    `${count} validation error${count === 1 ? '' : 's'} detected: ${violations.join('; ')}`,
  );
}

// The wire name with a lower-case first letter, as the framework names members in its messages.
function memberPath(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

/**
 * Checks a GetRandomPassword request body and applies the defaults. JSON null counts as absent,
 * as it does for AWS.
 */
export function normalizeRandomPasswordInput(raw: unknown): RandomPasswordOptions {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw serializationError('GetRandomPasswordRequest', 'a structure');
  const body = raw as Record<string, unknown>;

  const flags = {} as Record<(typeof BOOLEAN_MEMBERS)[number], boolean | undefined>;
  for (const member of BOOLEAN_MEMBERS) {
    const value = body[member];
    if (value !== undefined && value !== null && typeof value !== 'boolean') throw serializationError(member, 'a boolean');
    flags[member] = value ?? undefined;
  }

  const length = body.PasswordLength ?? DEFAULT_LENGTH;
  if (typeof length !== 'number' || !Number.isInteger(length)) throw serializationError('PasswordLength', 'an integer');
  const exclude = body.ExcludeCharacters ?? '';
  if (typeof exclude !== 'string') throw serializationError('ExcludeCharacters', 'a string');

  const violations: string[] = [];
  if (length < 1) {
    violations.push(`Value '${length}' at '${memberPath('PasswordLength')}' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  } else if (length > MAX_LENGTH) {
    violations.push(`Value '${length}' at '${memberPath('PasswordLength')}' failed to satisfy constraint: Member must have value less than or equal to ${MAX_LENGTH}`);
  }
  // Smithy lengths count code points, not UTF-16 units.
  if (Array.from(exclude).length > MAX_EXCLUDE_CHARACTERS) {
    violations.push(`Value at '${memberPath('ExcludeCharacters')}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_EXCLUDE_CHARACTERS}`);
  }
  if (violations.length > 0) throw validationError(violations);

  return {
    passwordLength: length,
    excludeCharacters: exclude,
    excludeNumbers: flags.ExcludeNumbers ?? false,
    excludePunctuation: flags.ExcludePunctuation ?? false,
    excludeUppercase: flags.ExcludeUppercase ?? false,
    excludeLowercase: flags.ExcludeLowercase ?? false,
    includeSpace: flags.IncludeSpace ?? false,
    // The API reference: "If you don't include this switch, the password contains at least one of every
    // character type." The Smithy default says false; the documented behaviour wins (reference §4.5).
    requireEachIncludedType: flags.RequireEachIncludedType ?? true,
  };
}

/** GetRandomPassword: returns the RandomPassword value or throws an ApiError. */
export function generateRandomPassword(input: RandomPasswordInput): string {
  // The body arrives as parsed JSON, so the declared type is not trusted.
  const options = normalizeRandomPasswordInput(input);
  try {
    return generatePassword({ ...options, length: options.passwordLength });
  } catch (error) {
    // A well-formed request that cannot be satisfied is the operation's own documented error.
    if (error instanceof UnsatisfiablePasswordRules) throw new ApiError('InvalidParameterException', error.message);
    throw error;
  }
}
