// GetRandomPassword's algorithm, as AWS documents it, in one place: the rotation functions generate
// their passwords with it locally (one Secrets Manager round trip less per rotation, and no
// password on the wire at all), and the sandbox answers GetRandomPassword with it. Pure, imports
// nothing: with shared/schedule, one of the two modules under shared/ the sandbox may import. The
// sandbox's answers are judged independently by the contract suite against moto.

import { randomInt } from 'node:crypto';

export interface PasswordRules {
  length: number;
  excludeCharacters: string;
  excludeNumbers: boolean;
  excludePunctuation: boolean;
  excludeUppercase: boolean;
  excludeLowercase: boolean;
  includeSpace: boolean;
  requireEachIncludedType: boolean;
}

// The documented default set: letters, digits and these 32 punctuation characters.
const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** Rules no password can satisfy; the message says which and why. */
export class UnsatisfiablePasswordRules extends Error {
  override name = 'UnsatisfiablePasswordRules';
}

interface CharacterPools {
  /** Every character the password may contain. */
  all: string[];
  /** One pool per type that must appear at least once. */
  required: string[][];
}

function characterPools(rules: PasswordRules): CharacterPools {
  const excluded = new Set(Array.from(rules.excludeCharacters));
  const keep = (chars: string): string[] => Array.from(chars).filter((c) => !excluded.has(c));
  const types = [
    rules.excludeLowercase ? [] : keep(LOWERCASE),
    rules.excludeUppercase ? [] : keep(UPPERCASE),
    rules.excludeNumbers ? [] : keep(DIGITS),
    rules.excludePunctuation ? [] : keep(PUNCTUATION),
  ];
  const space = rules.includeSpace ? keep(' ') : [];
  // A type whose every character is in ExcludeCharacters is not "included", so it cannot be required.
  // Space is never required: RequireEachIncludedType is documented as "at least one upper and lowercase
  // letter, one number, and one punctuation".
  const included = types.filter((pool) => pool.length > 0);
  return { all: [...included.flat(), ...space], required: rules.requireEachIncludedType ? included : [] };
}

/** Throws UnsatisfiablePasswordRules when no password can follow `rules`. */
export function checkPasswordRules(rules: PasswordRules): void {
  const pools = characterPools(rules);
  if (pools.all.length === 0) {
    throw new UnsatisfiablePasswordRules(
      'No characters are left to build a password from: every character type is excluded by the Exclude* switches or ExcludeCharacters.',
    );
  }
  if (rules.length < pools.required.length) {
    throw new UnsatisfiablePasswordRules(
      `PasswordLength ${rules.length} is too short to include at least one character of each of the ${pools.required.length} included character types (RequireEachIncludedType).`,
    );
  }
}

// crypto.randomInt draws uniformly without modulo bias.
const pick = (pool: string[]): string => pool[randomInt(pool.length)] as string;

/** A password following `rules`, from a cryptographically secure source. */
export function generatePassword(rules: PasswordRules): string {
  checkPasswordRules(rules);
  const pools = characterPools(rules);
  // One character from each required type, the rest from the whole set, then a Fisher–Yates
  // shuffle: every position is equally likely to hold any allowed character, without retries.
  const chars = pools.required.map(pick);
  while (chars.length < rules.length) chars.push(pick(pools.all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}
