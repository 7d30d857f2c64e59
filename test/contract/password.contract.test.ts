// Contract: GetRandomPassword — every option, checked over several draws, and the length limits.

import { GetRandomPasswordCommand, type GetRandomPasswordCommandInput } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { expectError, forEachTarget, itDeviates } from './targets';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
/** The documented punctuation set (the same as Python's string.punctuation). */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const DRAWS = 12;

const has = (password: string, chars: string): boolean => [...password].some((c) => chars.includes(c));
const onlyFrom = (password: string, chars: string): boolean => [...password].every((c) => chars.includes(c));

forEachTarget((t) => {
  async function draw(input: GetRandomPasswordCommandInput, count = DRAWS): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const res = await t.client.send(new GetRandomPasswordCommand(input));
      expect(typeof res.RandomPassword).toBe('string');
      out.push(res.RandomPassword ?? '');
    }
    return out;
  }

  describe('GetRandomPassword', () => {
    it('defaults to 32 characters from letters, digits and punctuation (no space)', async () => {
      const all = LOWER + UPPER + DIGITS + PUNCTUATION;
      for (const p of await draw({})) {
        expect(p).toHaveLength(32);
        expect(onlyFrom(p, all), p).toBe(true);
      }
    });

    it('honours PasswordLength, up to 4096', async () => {
      for (const length of [4, 12, 100, 4096]) {
        const [p] = await draw({ PasswordLength: length, RequireEachIncludedType: false }, 1);
        expect(p).toHaveLength(length);
      }
    });

    itDeviates(t, '30 (lengths 1-3 always rejected)', 'PasswordLength 1-3 is valid when RequireEachIncludedType is false', async () => {
      for (const length of [1, 3]) {
        const call = t.client.send(new GetRandomPasswordCommand({ PasswordLength: length, RequireEachIncludedType: false }));
        if (t.isMoto) {
          await expectError(call, { name: 'InvalidParameterException', status: 400, message: /Password length is too short/ });
        } else {
          expect((await call).RandomPassword).toHaveLength(length);
        }
      }
    });

    it('ExcludeNumbers / ExcludePunctuation / ExcludeUppercase / ExcludeLowercase each remove that class', async () => {
      const cases: Array<[GetRandomPasswordCommandInput, string, string]> = [
        [{ ExcludeNumbers: true }, DIGITS, LOWER + UPPER + PUNCTUATION],
        [{ ExcludePunctuation: true }, PUNCTUATION, LOWER + UPPER + DIGITS],
        [{ ExcludeUppercase: true }, UPPER, LOWER + DIGITS + PUNCTUATION],
        [{ ExcludeLowercase: true }, LOWER, UPPER + DIGITS + PUNCTUATION],
      ];
      for (const [options, excluded, allowed] of cases) {
        for (const p of await draw({ PasswordLength: 64, RequireEachIncludedType: true, ...options })) {
          expect(has(p, excluded), `${JSON.stringify(options)}: ${p}`).toBe(false);
          expect(onlyFrom(p, allowed), p).toBe(true);
          expect(p).toHaveLength(64);
        }
      }
    });

    it('several exclusions combine: letters only, both cases present with RequireEachIncludedType', async () => {
      for (const p of await draw({ PasswordLength: 16, ExcludeNumbers: true, ExcludePunctuation: true, RequireEachIncludedType: true })) {
        expect(onlyFrom(p, LOWER + UPPER), p).toBe(true);
        expect(has(p, LOWER) && has(p, UPPER), p).toBe(true);
      }
    });

    it('RequireEachIncludedType puts at least one of every class in each password', async () => {
      for (const p of await draw({ PasswordLength: 8, RequireEachIncludedType: true })) {
        expect(has(p, LOWER) && has(p, UPPER) && has(p, DIGITS) && has(p, PUNCTUATION), p).toBe(true);
      }
    });

    it('IncludeSpace adds the space character to the pool; without it there is never a space', async () => {
      // RequireEachIncludedType is documented for letters, numbers and punctuation only, so a space
      // is not guaranteed in each password; over 12 x 128 draws from 95 characters it shows up.
      const withSpace = await draw({ PasswordLength: 128, IncludeSpace: true, RequireEachIncludedType: true });
      for (const p of withSpace) {
        expect(onlyFrom(p, LOWER + UPPER + DIGITS + PUNCTUATION + ' '), p).toBe(true);
        expect(has(p, LOWER) && has(p, UPPER) && has(p, DIGITS) && has(p, PUNCTUATION), p).toBe(true);
      }
      expect(withSpace.some((p) => p.includes(' '))).toBe(true);
      for (const p of await draw({ PasswordLength: 64, IncludeSpace: false })) {
        expect(p.includes(' '), JSON.stringify(p)).toBe(false);
      }
    });

    it('ExcludeCharacters removes exactly those characters', async () => {
      const excluded = '/@"\'\\';
      const allowed = [...(LOWER + UPPER + DIGITS + PUNCTUATION)].filter((c) => !excluded.includes(c)).join('');
      for (const p of await draw({ PasswordLength: 256, ExcludeCharacters: excluded, RequireEachIncludedType: true })) {
        expect(has(p, excluded), p).toBe(false);
        expect(onlyFrom(p, allowed), p).toBe(true);
        // With 256 characters drawn, the remaining punctuation shows up.
        expect(has(p, PUNCTUATION), p).toBe(true);
      }
    });

    itDeviates(t, '31 (HTTP 500 when ExcludeCharacters empties a class)', 'ExcludeCharacters may remove whole classes when RequireEachIncludedType is false', async () => {
      const call = draw({ PasswordLength: 64, ExcludeCharacters: LOWER + DIGITS, RequireEachIncludedType: false });
      if (t.isMoto) {
        await expectError(call, { name: 'SyntaxError', status: 500 });
      } else {
        for (const p of await call) {
          expect(has(p, LOWER + DIGITS), p).toBe(false);
          expect(onlyFrom(p, UPPER + PUNCTUATION), p).toBe(true);
        }
      }
    });

    itDeviates(t, '18 (InvalidParameterValue)', 'PasswordLength 4097: ValidationException', async () => {
      await expectError(t.client.send(new GetRandomPasswordCommand({ PasswordLength: 4097 })), {
        name: t.isMoto ? 'InvalidParameterValue' : 'ValidationException',
        status: 400,
        message: /4096/,
      });
    });

    itDeviates(t, '18b (InvalidParameterException for a model-constraint violation)', 'PasswordLength 0: ValidationException', async () => {
      await expectError(t.client.send(new GetRandomPasswordCommand({ PasswordLength: 0 })), {
        name: t.isMoto ? 'InvalidParameterException' : 'ValidationException',
        status: 400,
      });
    });
  });
});
