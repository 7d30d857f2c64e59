import { describe, expect, it } from 'vitest';
import { UnsatisfiablePasswordRules, generatePassword } from '../../../shared/password/generate';
import { ConfigError, passwordRules, readRotationConfig } from '../../../shared/rotation/config';

const rules = passwordRules(readRotationConfig({}, { excludeCharacters: ':/@"\'\\' }).password);

describe('passwords generated in the function, with GetRandomPassword\'s rules', () => {
  it('follow the policy every time: length, exclusions, one of each type, and never repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const p = generatePassword(rules);
      expect(p).toHaveLength(32);
      expect(p).not.toMatch(/[:/@"'\\ ]/);
      for (const type of [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/]) expect(p).toMatch(type);
      seen.add(p);
    }
    expect(seen.size).toBe(2000);
  });

  it('use every allowed character (no bias towards a subset)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) for (const c of generatePassword(rules)) counts.set(c, (counts.get(c) ?? 0) + 1);
    // 94 printable non-space characters minus the 6 excluded ones.
    expect(counts.size).toBe(88);
  });

  it('honour the Exclude* switches and refuse rules no password can meet', () => {
    const digitsOnly = { ...rules, excludeCharacters: '', excludeLowercase: true, excludeUppercase: true, excludePunctuation: true, length: 8 };
    expect(generatePassword(digitsOnly)).toMatch(/^\d{8}$/);
    expect(() => generatePassword({ ...digitsOnly, excludeNumbers: true })).toThrow(UnsatisfiablePasswordRules);
    expect(() => generatePassword({ ...rules, length: 3 })).toThrow(/too short/);
  });

  it('the rotation functions refuse such settings when they start, naming the variables', () => {
    expect(() => readRotationConfig({ PASSWORD_LENGTH: '3' }, { excludeCharacters: '' })).toThrow(ConfigError);
    expect(() =>
      readRotationConfig({ EXCLUDE_NUMBERS: 'true', EXCLUDE_LOWERCASE: 'true', EXCLUDE_UPPERCASE: 'true', EXCLUDE_PUNCTUATION: 'true' }, { excludeCharacters: '' }),
    ).toThrow(/PASSWORD_LENGTH, EXCLUDE_\*/);
  });
});
