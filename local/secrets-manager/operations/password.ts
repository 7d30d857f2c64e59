import { optionalBoolean, optionalInteger, optionalString, type Body } from '../input';
import { generateRandomPassword } from '../random-password';
import { compact } from '../views';

export function getRandomPassword(body: Body): unknown {
  const input = compact({
    PasswordLength: optionalInteger(body, 'PasswordLength', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    ExcludeCharacters: optionalString(body, 'ExcludeCharacters'),
    ExcludeNumbers: optionalBoolean(body, 'ExcludeNumbers'),
    ExcludePunctuation: optionalBoolean(body, 'ExcludePunctuation'),
    ExcludeUppercase: optionalBoolean(body, 'ExcludeUppercase'),
    ExcludeLowercase: optionalBoolean(body, 'ExcludeLowercase'),
    IncludeSpace: optionalBoolean(body, 'IncludeSpace'),
    RequireEachIncludedType: optionalBoolean(body, 'RequireEachIncludedType'),
  });
  return { RandomPassword: generateRandomPassword(input) };
}
