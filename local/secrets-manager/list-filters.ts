// ListSecrets (and BatchGetSecretValue) filters for the sandbox.
//
// What the API reference says (Filter.Key / Filter.Values):
//   description: Prefix match, not case-sensitive. name, tag-key, tag-value, primary-region,
//   owning-service: Prefix match, case-sensitive. all: "Breaks the filter value string into words and
//   then searches all attributes for matches. Not case-sensitive."
//   Values: "You can prefix your search value with an exclamation mark (!) in order to perform negation
//   filters." Nothing there excludes `all` from negation, so every key supports it here.
// What the user guide ("Find secrets") adds: words are separated "by any change from uppercase to
// lowercase, from letter to number, or from number/letter to punctuation" ("credsDatabase#892" searches
// creds, Database and 892), and a description search "Matches the words in secret descriptions, not
// case-sensitive" ("My Description" matches "My basic description" and "Description of my secret").
// What searches run against AWS showed (moto's tests/test_secretsmanager/test_list_secrets.py, marked as
// verified against AWS): `all` and `description` match words by prefix and every word of one value must
// match ("SomeSecret" does not find "SecretOne…", "o t" finds "one two"); a value that is only
// punctuation ("+") finds nothing; "COMPANYthings" splits into "COMPAN" + "Ythings".
// So `description` here matches when the whole description starts with the value (the documented
// rule) or when the value's words all start words of the description (the observed rule).
//
// Error codes: Smithy-model constraints (≤ 10 filters, 1–10 values of ≤ 512 characters, the value
// pattern, the key enum) are rejected by the framework with `ValidationException` and its
// "N validation error(s) detected: …" wording; moto reproduces that wording for an unknown key.
// A filter without Key or without Values passes the model (both members are optional) and is rejected
// by the operation with `InvalidParameterException` (moto's messages, not confirmed against AWS).
// A member of the wrong JSON type is a protocol error: `SerializationException`.

import { ApiError } from './errors';
import type { FilterKey, ListFilter, Tag } from './model';

export interface FilterableSecret {
  name: string;
  description?: string;
  tags: Tag[];
  primaryRegion: string;
  owningService?: string;
}

// In the model's order, which is the order the framework lists them in its enum message.
const FILTER_KEYS: readonly FilterKey[] = [
  'description',
  'name',
  'tag-key',
  'tag-value',
  'primary-region',
  'owning-service',
  'all',
];
const MAX_FILTERS = 10;
const MAX_VALUES = 10;
const MAX_VALUE_LENGTH = 512;
const VALUE_PATTERN_TEXT = '^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$';
const VALUE_PATTERN = new RegExp(VALUE_PATTERN_TEXT);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFilterKey(value: string): value is FilterKey {
  return (FILTER_KEYS as readonly string[]).includes(value);
}

function serializationError(member: string, expected: string): ApiError {
  return new ApiError('SerializationException', `Cannot deserialize member '${member}': expected ${expected}.`);
}

function checkValues(values: unknown[], path: string, violations: string[]): void {
  if (values.length < 1 || values.length > MAX_VALUES) {
    const bound = values.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_VALUES}`;
    violations.push(`Value '[${values.join(', ')}]' at '${path}' failed to satisfy constraint: Member must have length ${bound}`);
  }
  values.forEach((value, j) => {
    if (typeof value !== 'string') throw serializationError(`${path}.${j + 1}.member`, 'a string');
    const at = `at '${path}.${j + 1}.member' failed to satisfy constraint`;
    if (value.length > MAX_VALUE_LENGTH) {
      violations.push(`Value ${at}: Member must have length less than or equal to ${MAX_VALUE_LENGTH}`);
    } else if (!VALUE_PATTERN.test(value)) {
      violations.push(`Value '${value}' ${at}: Member must satisfy regular expression pattern: ${VALUE_PATTERN_TEXT}`);
    }
  });
}

/**
 * Validates the Filters member of a ListSecrets request. Absent (or null) means no filtering.
 * All constraint violations are reported together, as the framework does.
 */
export function validateFilters(raw: unknown): ListFilter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw serializationError('filters', 'a list');

  const violations: string[] = [];
  if (raw.length > MAX_FILTERS) {
    violations.push(`Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to ${MAX_FILTERS}`);
  }
  const parsed = raw.map((item: unknown, i) => {
    const path = `filters.${i + 1}.member`;
    if (!isRecord(item)) throw serializationError(path, 'a structure');
    const key = item.Key ?? undefined;
    const values = item.Values ?? undefined;
    if (key !== undefined && typeof key !== 'string') throw serializationError(`${path}.key`, 'a string');
    if (values !== undefined && !Array.isArray(values)) throw serializationError(`${path}.values`, 'a list');
    if (key !== undefined && !isFilterKey(key)) {
      violations.push(`Value '${key}' at '${path}.key' failed to satisfy constraint: Member must satisfy enum value set: [${FILTER_KEYS.join(', ')}]`);
    }
    if (values !== undefined) checkValues(values, `${path}.values`, violations);
    return { key, values };
  });
  if (violations.length > 0) {
    const count = violations.length;
    throw new ApiError(
      'ValidationException',
      `${count} validation error${count === 1 ? '' : 's'} detected: ${violations.join('; ')}`,
    );
  }

  return parsed.map(({ key, values }) => {
    if (key === undefined || !isFilterKey(key)) throw new ApiError('InvalidParameterException', 'Invalid filter key');
    if (values === undefined) throw new ApiError('InvalidParameterException', `Invalid filter values for key: ${key}`);
    // checkValues has verified every element is a string.
    return { Key: key, Values: values as string[] };
  });
}

/**
 * Splits text into search words the way the user guide describes: at punctuation and spaces, at a
 * lower-to-upper case change, between letters and digits, and before the last capital of a capital run
 * that is followed by lower case ("COMPANYthings" → "COMPAN", "Ythings", as observed on AWS).
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const chunk of text.split(/[^\p{L}\p{N}]+/u)) {
    for (const match of chunk.matchAll(/\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|\p{L}+/gu)) words.push(match[0]);
  }
  return words;
}

// Every word of the value must start some word of the same attribute ("SomeSecret" does not find
// "SecretOne"). A value without words (empty, or only punctuation) matches nothing.
function wordsMatch(value: string, attribute: string): boolean {
  const wanted = splitWords(value).map((w) => w.toLowerCase());
  if (wanted.length === 0) return false;
  const present = splitWords(attribute).map((w) => w.toLowerCase());
  return wanted.every((w) => present.some((p) => p.startsWith(w)));
}

function searchableAttributes(secret: FilterableSecret): string[] {
  const attributes = [secret.name, secret.primaryRegion];
  if (secret.description !== undefined) attributes.push(secret.description);
  if (secret.owningService !== undefined) attributes.push(secret.owningService);
  for (const tag of secret.tags) attributes.push(tag.Key, tag.Value);
  return attributes;
}

// Whether the secret matches the value without its negation mark.
function positiveMatch(secret: FilterableSecret, key: FilterKey, value: string): boolean {
  switch (key) {
    case 'name':
      return secret.name.startsWith(value);
    case 'description': {
      const description = secret.description;
      if (description === undefined) return false;
      return description.toLowerCase().startsWith(value.toLowerCase()) || wordsMatch(value, description);
    }
    case 'tag-key':
      return secret.tags.some((tag) => tag.Key.startsWith(value));
    case 'tag-value':
      return secret.tags.some((tag) => tag.Value.startsWith(value));
    case 'primary-region':
      return secret.primaryRegion.startsWith(value);
    case 'owning-service':
      return secret.owningService !== undefined && secret.owningService.startsWith(value);
    case 'all':
      return searchableAttributes(secret).some((attribute) => wordsMatch(value, attribute));
  }
}

// A leading "!" negates the whole test: for tag-key/tag-value "!x" means NO tag key (value) starts
// with x. moto instead matches when ANY tag fails to start with x, so {idx, rotate} matches "!rotate"
// there (moto-deviations item 20); we follow the reading of "negation" that excludes such a secret.
function matchesValue(secret: FilterableSecret, key: FilterKey, value: string): boolean {
  if (value.startsWith('!')) return !positiveMatch(secret, key, value.slice(1));
  return positiveMatch(secret, key, value);
}

/** Filters are ANDed; the values of one filter are ORed. No filters match every secret. */
export function matchesFilters(secret: FilterableSecret, filters: ListFilter[]): boolean {
  return filters.every((filter) => filter.Values.some((value) => matchesValue(secret, filter.Key, value)));
}
