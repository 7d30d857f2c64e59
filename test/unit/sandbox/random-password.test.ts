import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../local/secrets-manager/errors';
import {
  generateRandomPassword,
  normalizeRandomPasswordInput,
  type RandomPasswordInput,
} from '../../../local/secrets-manager/random-password';
import { thrown } from '../../support/thrown';

// An independent statement of the documented character set, so the tests do not reuse the module's tables.
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const DEFAULT_SET = LOWER + UPPER + DIGITS + PUNCT;

const apiError = (action: () => unknown): ApiError => thrown(ApiError, action);

function draws(input: RandomPasswordInput, count: number): string[] {
  return Array.from({ length: count }, () => generateRandomPassword(input));
}

const hasAny = (password: string, set: string): boolean => [...password].some((c) => set.includes(c));
const onlyFrom = (password: string, set: string): boolean => [...password].every((c) => set.includes(c));

describe('generateRandomPassword defaults', () => {
  it('returns 32 characters from the default set, with every type in every password', () => {
    for (const password of draws({}, 300)) {
      expect(password).toHaveLength(32);
      expect(onlyFrom(password, DEFAULT_SET)).toBe(true);
      expect(hasAny(password, LOWER)).toBe(true);
      expect(hasAny(password, UPPER)).toBe(true);
      expect(hasAny(password, DIGITS)).toBe(true);
      expect(hasAny(password, PUNCT)).toBe(true);
    }
  });

  it('never includes a space unless asked', () => {
    expect(draws({ PasswordLength: 200 }, 100).some((p) => p.includes(' '))).toBe(false);
  });

  it('uses all 94 default characters with roughly equal frequency (no modulo or placement bias)', () => {
    const counts = new Map<string, number>();
    const passwords = draws({ PasswordLength: 64, RequireEachIncludedType: false }, 1500);
    for (const password of passwords) for (const c of password) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(94);
    const expected = (1500 * 64) / 94; // ≈ 1021, σ ≈ 32
    for (const c of DEFAULT_SET) {
      const n = counts.get(c) ?? 0;
      expect(n).toBeGreaterThan(expected * 0.8);
      expect(n).toBeLessThan(expected * 1.2);
    }
  });

  it('does not pin the guaranteed characters to fixed positions', () => {
    // With length 4 and four required types, each password is one character of each type; the type at
    // position 0 must vary.
    const firstTypes = new Set(
      draws({ PasswordLength: 4 }, 400).map((p) => {
        const c = p.charAt(0);
        return LOWER.includes(c) ? 'lower' : UPPER.includes(c) ? 'upper' : DIGITS.includes(c) ? 'digit' : 'punct';
      }),
    );
    expect(firstTypes).toEqual(new Set(['lower', 'upper', 'digit', 'punct']));
  });
});

describe('PasswordLength', () => {
  it('accepts 1 when only one type is included, or when each type is not required', () => {
    expect(generateRandomPassword({ PasswordLength: 1, RequireEachIncludedType: false })).toHaveLength(1);
    const onlyLower = generateRandomPassword({
      PasswordLength: 1,
      ExcludeUppercase: true,
      ExcludeNumbers: true,
      ExcludePunctuation: true,
    });
    expect(onlyLower).toMatch(/^[a-z]$/);
  });

  it('accepts 4096', () => {
    const password = generateRandomPassword({ PasswordLength: 4096 });
    expect(password).toHaveLength(4096);
    expect(onlyFrom(password, DEFAULT_SET)).toBe(true);
  });

  it.each([
    [4097, 'less than or equal to 4096'],
    [0, 'greater than or equal to 1'],
    [-5, 'greater than or equal to 1'],
  ])('refuses %i with ValidationException', (length, bound) => {
    const error = apiError(() => generateRandomPassword({ PasswordLength: length }));
    expect(error.code).toBe('ValidationException');
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      `1 validation error detected: Value '${length}' at 'passwordLength' failed to satisfy constraint: Member must have value ${bound}`,
    );
  });

  it('refuses a non-integer with SerializationException', () => {
    expect(apiError(() => generateRandomPassword({ PasswordLength: 3.5 })).code).toBe('SerializationException');
    const fromJson = JSON.parse('{"PasswordLength":"32"}') as RandomPasswordInput;
    expect(apiError(() => generateRandomPassword(fromJson)).code).toBe('SerializationException');
  });

  it('treats JSON null as absent', () => {
    const input = JSON.parse('{"PasswordLength":null,"ExcludeNumbers":null}') as RandomPasswordInput;
    const password = generateRandomPassword(input);
    expect(password).toHaveLength(32);
    expect(hasAny(password, DIGITS)).toBe(true);
  });
});

describe('Exclude* switches', () => {
  const cases: [keyof RandomPasswordInput, string][] = [
    ['ExcludeLowercase', LOWER],
    ['ExcludeUppercase', UPPER],
    ['ExcludeNumbers', DIGITS],
    ['ExcludePunctuation', PUNCT],
  ];

  it.each(cases)('%s removes that type and keeps the others in every password', (flag, removed) => {
    const kept = [LOWER, UPPER, DIGITS, PUNCT].filter((set) => set !== removed);
    for (const password of draws({ [flag]: true }, 300)) {
      expect(hasAny(password, removed)).toBe(false);
      for (const set of kept) expect(hasAny(password, set)).toBe(true);
    }
  });

  it('refuses to exclude every type with InvalidParameterException', () => {
    const error = apiError(() =>
      generateRandomPassword({ ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true }),
    );
    expect(error.code).toBe('InvalidParameterException');
    expect(error.status).toBe(400);
  });

  it('builds from spaces alone when every type is excluded but IncludeSpace is set', () => {
    const password = generateRandomPassword({
      PasswordLength: 5,
      ExcludeLowercase: true,
      ExcludeUppercase: true,
      ExcludeNumbers: true,
      ExcludePunctuation: true,
      IncludeSpace: true,
    });
    expect(password).toBe('     ');
  });

  it('refuses a non-boolean switch with SerializationException', () => {
    const input = JSON.parse('{"ExcludeNumbers":"true"}') as RandomPasswordInput;
    const error = apiError(() => generateRandomPassword(input));
    expect(error.code).toBe('SerializationException');
    expect(error.message).toContain('ExcludeNumbers');
  });
});

describe('ExcludeCharacters', () => {
  it('never produces an excluded character', () => {
    const exclude = '/@"\'\\aeiouAEIOU01';
    for (const password of draws({ ExcludeCharacters: exclude, PasswordLength: 64 }, 300)) {
      expect(hasAny(password, exclude)).toBe(false);
      expect(password).toHaveLength(64);
    }
  });

  it('does not require a type whose characters are all excluded', () => {
    for (const password of draws({ PasswordLength: 3, ExcludeCharacters: DIGITS }, 100)) {
      expect(hasAny(password, DIGITS)).toBe(false);
      expect(hasAny(password, LOWER) && hasAny(password, UPPER) && hasAny(password, PUNCT)).toBe(true);
    }
  });

  it('can remove the space that IncludeSpace added', () => {
    expect(draws({ IncludeSpace: true, ExcludeCharacters: ' ', PasswordLength: 100 }, 50).some((p) => p.includes(' '))).toBe(false);
  });

  it('refuses to exclude the whole character set with InvalidParameterException', () => {
    expect(apiError(() => generateRandomPassword({ ExcludeCharacters: DEFAULT_SET })).code).toBe('InvalidParameterException');
  });

  it('accepts 4096 characters and refuses 4097 with ValidationException', () => {
    expect(generateRandomPassword({ ExcludeCharacters: 'a'.repeat(4096) })).not.toMatch(/a/);
    const error = apiError(() => generateRandomPassword({ ExcludeCharacters: 'a'.repeat(4097) }));
    expect(error.code).toBe('ValidationException');
    expect(error.message).toContain("'excludeCharacters'");
  });

  it('refuses a non-string with SerializationException', () => {
    const input = JSON.parse('{"ExcludeCharacters":["a"]}') as RandomPasswordInput;
    expect(apiError(() => generateRandomPassword(input)).code).toBe('SerializationException');
  });
});

describe('IncludeSpace', () => {
  it('adds the space to the pool without requiring it', () => {
    const passwords = draws({ IncludeSpace: true }, 300);
    expect(passwords.some((p) => p.includes(' '))).toBe(true);
    for (const p of passwords) expect(onlyFrom(p, DEFAULT_SET + ' ')).toBe(true);
    // Four types fill a four-character password, so the space cannot be forced in.
    expect(generateRandomPassword({ IncludeSpace: true, PasswordLength: 4 })).toHaveLength(4);
  });
});

describe('RequireEachIncludedType', () => {
  it('defaults to true: a 4-character password holds exactly one character of each type', () => {
    for (const password of draws({ PasswordLength: 4 }, 300)) {
      for (const set of [LOWER, UPPER, DIGITS, PUNCT]) {
        expect([...password].filter((c) => set.includes(c))).toHaveLength(1);
      }
    }
  });

  it('refuses a length shorter than the number of included types with InvalidParameterException', () => {
    const error = apiError(() => generateRandomPassword({ PasswordLength: 3 }));
    expect(error.code).toBe('InvalidParameterException');
    expect(error.message).toContain('PasswordLength 3');
    expect(apiError(() => generateRandomPassword({ PasswordLength: 1, ExcludeNumbers: true })).code).toBe(
      'InvalidParameterException',
    );
    expect(generateRandomPassword({ PasswordLength: 3, ExcludeNumbers: true })).toHaveLength(3);
  });

  it('when false, lets short passwords miss types', () => {
    const passwords = draws({ PasswordLength: 2, RequireEachIncludedType: false }, 300);
    expect(passwords.some((p) => !hasAny(p, DIGITS))).toBe(true);
    expect(passwords.some((p) => !hasAny(p, PUNCT))).toBe(true);
  });
});

describe('normalizeRandomPasswordInput', () => {
  it('applies the documented defaults', () => {
    expect(normalizeRandomPasswordInput(undefined)).toEqual({
      passwordLength: 32,
      excludeCharacters: '',
      excludeNumbers: false,
      excludePunctuation: false,
      excludeUppercase: false,
      excludeLowercase: false,
      includeSpace: false,
      requireEachIncludedType: true,
    });
  });

  it('refuses a body that is not an object', () => {
    expect(apiError(() => normalizeRandomPasswordInput([])).code).toBe('SerializationException');
    expect(apiError(() => normalizeRandomPasswordInput('x')).code).toBe('SerializationException');
  });

  it('reports both constraint violations together', () => {
    const error = apiError(() => normalizeRandomPasswordInput({ PasswordLength: 5000, ExcludeCharacters: 'x'.repeat(5000) }));
    expect(error.code).toBe('ValidationException');
    expect(error.message).toMatch(/^2 validation errors detected: .*passwordLength.*; .*excludeCharacters/);
  });
});
