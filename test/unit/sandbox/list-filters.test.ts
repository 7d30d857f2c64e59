import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../local/secrets-manager/errors';
import {
  matchesFilters,
  splitWords,
  validateFilters,
  type FilterableSecret,
} from '../../../local/secrets-manager/list-filters';
import type { FilterKey, ListFilter } from '../../../local/secrets-manager/model';
import { thrown } from '../../support/thrown';

const apiError = (action: () => unknown): ApiError => thrown(ApiError, action);

const secret = (overrides: Partial<FilterableSecret> = {}): FilterableSecret => ({
  name: 'prod/AppBeta/db',
  tags: [],
  primaryRegion: 'us-east-1',
  ...overrides,
});

const filter = (Key: FilterKey, ...Values: string[]): ListFilter => ({ Key, Values });
const matches = (s: FilterableSecret, ...filters: ListFilter[]): boolean => matchesFilters(s, filters);

describe('validateFilters', () => {
  it('treats an absent or null member as no filters', () => {
    expect(validateFilters(undefined)).toEqual([]);
    expect(validateFilters(null)).toEqual([]);
    expect(validateFilters([])).toEqual([]);
  });

  it('accepts every key and returns the filters unchanged', () => {
    const keys: FilterKey[] = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'];
    const raw = keys.map((Key) => ({ Key, Values: ['x'] }));
    expect(validateFilters(raw)).toEqual(raw);
  });

  it('accepts 10 filters and refuses 11 with ValidationException', () => {
    const make = (n: number) => Array.from({ length: n }, () => ({ Key: 'name', Values: ['a'] }));
    expect(validateFilters(make(10))).toHaveLength(10);
    const error = apiError(() => validateFilters(make(11)));
    expect(error.code).toBe('ValidationException');
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      "1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10",
    );
  });

  it('refuses an unknown key with ValidationException naming the enum', () => {
    const error = apiError(() => validateFilters([{ Key: 'Name', Values: ['a'] }]));
    expect(error.code).toBe('ValidationException');
    expect(error.message).toBe(
      "1 validation error detected: Value 'Name' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]",
    );
  });

  it('refuses a filter without Key or without Values with InvalidParameterException', () => {
    const noKey = apiError(() => validateFilters([{ Values: ['a'] }]));
    expect(noKey.code).toBe('InvalidParameterException');
    expect(noKey.message).toBe('Invalid filter key');
    const noValues = apiError(() => validateFilters([{ Key: 'description' }]));
    expect(noValues.code).toBe('InvalidParameterException');
    expect(noValues.message).toBe('Invalid filter values for key: description');
  });

  it('needs 1 to 10 values', () => {
    const tenValues = Array.from({ length: 10 }, (_, i) => `v${i}`);
    expect(validateFilters([{ Key: 'name', Values: tenValues }])[0]?.Values).toEqual(tenValues);
    const none = apiError(() => validateFilters([{ Key: 'name', Values: [] }]));
    expect(none.code).toBe('ValidationException');
    expect(none.message).toContain("Value '[]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length greater than or equal to 1");
    const eleven = apiError(() => validateFilters([{ Key: 'name', Values: [...tenValues, 'x'] }]));
    expect(eleven.code).toBe('ValidationException');
    expect(eleven.message).toContain('less than or equal to 10');
  });

  it('accepts a 512-character value and refuses 513', () => {
    expect(validateFilters([{ Key: 'name', Values: ['a'.repeat(512)] }])).toHaveLength(1);
    const error = apiError(() => validateFilters([{ Key: 'name', Values: ['a'.repeat(513)] }]));
    expect(error.code).toBe('ValidationException');
    expect(error.message).toContain("at 'filters.1.member.values.1.member'");
    expect(error.message).toContain('less than or equal to 512');
  });

  it('enforces the value pattern', () => {
    const allowed = '!aZ09 :_@/+=.-!';
    expect(validateFilters([{ Key: 'name', Values: [allowed, '', '!', 'a!b'] }])).toHaveLength(1);
    for (const bad of ['a#b', 'tab\there', 'é', '*', '(x)']) {
      const error = apiError(() => validateFilters([{ Key: 'name', Values: ['ok', bad] }]));
      expect(error.code).toBe('ValidationException');
      expect(error.message).toContain("at 'filters.1.member.values.2.member' failed to satisfy constraint: Member must satisfy regular expression pattern");
    }
  });

  it('reports every violation in one message, numbering filters from 1', () => {
    const error = apiError(() =>
      validateFilters([
        { Key: 'name', Values: ['ok'] },
        { Key: 'bogus', Values: ['a#'] },
      ]),
    );
    expect(error.message).toMatch(/^2 validation errors detected: Value 'bogus' at 'filters\.2\.member\.key'.*; Value 'a#' at 'filters\.2\.member\.values\.1\.member'/);
  });

  it('refuses wrongly typed members with SerializationException', () => {
    expect(apiError(() => validateFilters({ Key: 'name' })).code).toBe('SerializationException');
    expect(apiError(() => validateFilters(['name'])).code).toBe('SerializationException');
    expect(apiError(() => validateFilters([{ Key: 7, Values: ['a'] }])).code).toBe('SerializationException');
    expect(apiError(() => validateFilters([{ Key: 'name', Values: 'a' }])).code).toBe('SerializationException');
    expect(apiError(() => validateFilters([{ Key: 'name', Values: [1] }])).code).toBe('SerializationException');
  });
});

describe('name', () => {
  it('matches a case-sensitive prefix of the whole name', () => {
    const s = secret({ name: 'DatabaseSecret' });
    expect(matches(s, filter('name', 'Data'))).toBe(true);
    expect(matches(s, filter('name', 'data'))).toBe(false);
    expect(matches(s, filter('name', 'Secret'))).toBe(false);
    expect(matches(s, filter('name', ''))).toBe(true);
  });

  it('negates with !', () => {
    expect(matches(secret({ name: '/testing2/two' }), filter('name', '!/'))).toBe(false);
    expect(matches(secret({ name: 'testing1/one' }), filter('name', '!/'))).toBe(true);
    // Only the first ! negates; the rest is the prefix.
    expect(matches(secret({ name: '!bang' }), filter('name', '!!b'))).toBe(false);
    expect(matches(secret({ name: 'bang' }), filter('name', '!!b'))).toBe(true);
  });
});

describe('description', () => {
  const s = secret({ description: 'Conducts an AWS SecretsManager rotation' });

  it('matches a prefix without regard to case', () => {
    expect(matches(s, filter('description', 'conducts an'))).toBe(true);
    expect(matches(s, filter('description', 'CONDUCTS'))).toBe(true);
  });

  it('also matches words inside the description, as AWS does', () => {
    expect(matches(s, filter('description', 'rotation'))).toBe(true);
    expect(matches(s, filter('description', 'aws rot'))).toBe(true);
    expect(matches(s, filter('description', 'Manager'))).toBe(true);
    // Every word of the value must be found.
    expect(matches(s, filter('description', 'rotation lambda'))).toBe(false);
    // Words match by prefix only.
    expect(matches(s, filter('description', 'otation'))).toBe(false);
  });

  it('never matches a secret without a description, and its negation always does', () => {
    expect(matches(secret(), filter('description', ''))).toBe(false);
    expect(matches(secret(), filter('description', '!x'))).toBe(true);
  });

  it('negates with !', () => {
    expect(matches(s, filter('description', '!conducts'))).toBe(false);
    expect(matches(s, filter('description', '!lambda'))).toBe(true);
  });
});

describe('tag-key and tag-value', () => {
  const s = secret({ tags: [{ Key: 'idx', Value: 'Production' }, { Key: 'rotate', Value: 'weekly' }] });

  it('match a case-sensitive prefix of any tag', () => {
    expect(matches(s, filter('tag-key', 'rot'))).toBe(true);
    expect(matches(s, filter('tag-key', 'Rot'))).toBe(false);
    expect(matches(s, filter('tag-value', 'Prod'))).toBe(true);
    expect(matches(s, filter('tag-value', 'prod'))).toBe(false);
    expect(matches(s, filter('tag-value', 'rotate'))).toBe(false);
  });

  it('negation means no tag matches (moto differs: deviation 20)', () => {
    expect(matches(s, filter('tag-key', '!rotate'))).toBe(false);
    expect(matches(s, filter('tag-key', '!owner'))).toBe(true);
    expect(matches(s, filter('tag-value', '!week'))).toBe(false);
    expect(matches(s, filter('tag-value', '!daily'))).toBe(true);
  });

  it('on a secret without tags: no positive match, every negation matches', () => {
    expect(matches(secret(), filter('tag-key', ''))).toBe(false);
    expect(matches(secret(), filter('tag-key', '!rotate'))).toBe(true);
    expect(matches(secret(), filter('tag-value', '!x'))).toBe(true);
  });
});

describe('primary-region and owning-service', () => {
  it('primary-region matches a case-sensitive prefix and negates', () => {
    const s = secret({ primaryRegion: 'eu-west-1' });
    expect(matches(s, filter('primary-region', 'eu-'))).toBe(true);
    expect(matches(s, filter('primary-region', 'EU'))).toBe(false);
    expect(matches(s, filter('primary-region', '!eu'))).toBe(false);
    expect(matches(s, filter('primary-region', '!us'))).toBe(true);
  });

  it('owning-service matches a case-sensitive prefix, and a secret without one only matches negations', () => {
    const rds = secret({ owningService: 'rds' });
    expect(matches(rds, filter('owning-service', 'rd'))).toBe(true);
    expect(matches(rds, filter('owning-service', 'RDS'))).toBe(false);
    expect(matches(rds, filter('owning-service', '!rds'))).toBe(false);
    expect(matches(secret(), filter('owning-service', 'rds'))).toBe(false);
    expect(matches(secret(), filter('owning-service', '!rds'))).toBe(true);
  });
});

describe('all', () => {
  // Cases from searches run against AWS (moto's test_list_secrets.py, "verified").
  const first = secret({ name: 'SecretOne42' });
  const second = secret({ name: 'SecretTwo42', description: 'DescTwo' });
  const third = secret({ name: 'Thirdsecret42' });
  const tagged = secret({ name: 'SecretFTag42', tags: [{ Key: '1', Value: 'foo' }] });
  const none = secret({ name: 'none42' });
  const everyone = [first, second, third, tagged, none];
  const found = (...values: string[]) => everyone.filter((s) => matches(s, filter('all', ...values)));

  it('matches words by prefix, without regard to case', () => {
    expect(found('SecretOne')).toEqual([first]);
    expect(found('Secret')).toEqual([first, second, tagged]);
    expect(found('sec')).toEqual([first, second, tagged]);
    expect(found('ret')).toEqual([]);
    expect(found('SomeSecret')).toEqual([]);
  });

  it('searches description and tags too', () => {
    expect(found('foo')).toEqual([tagged]);
    expect(found('d')).toEqual([second]);
    expect(found('d t')).toEqual([second]);
    expect(found('t')).toEqual([second, third, tagged]);
  });

  it('searches primary region and owning service', () => {
    expect(matches(secret({ primaryRegion: 'ap-southeast-2' }), filter('all', 'southeast'))).toBe(true);
    expect(matches(secret({ owningService: 'appflow' }), filter('all', 'APPFLOW'))).toBe(true);
  });

  it('needs every word of one value in the same attribute', () => {
    const s = secret({ name: 'alpha', description: 'beta' });
    expect(matches(s, filter('all', 'alpha beta'))).toBe(false);
    expect(matches(s, filter('all', 'alpha', 'beta'))).toBe(true);
  });

  it('splits names at separators and case changes', () => {
    const names = ['prod/AppBeta/x1', 'prod_AppBeta_x1', 'prod+AppBeta+x1', 'prod=AppBeta=x1', 'prod.AppBeta.x1', 'prod@AppBeta@x1', 'prod-AppBeta-x1'];
    for (const name of names) {
      expect(matches(secret({ name }), filter('all', 'Beta'))).toBe(true);
      expect(matches(secret({ name }), filter('all', 'AppBeta prod'))).toBe(true);
    }
    expect(matches(secret({ name: 'prod/AppBeta/x1' }), filter('all', '+'))).toBe(false);
    expect(matches(secret({ name: 'uat/COMPANY/x1' }), filter('all', 'company'))).toBe(true);
    expect(matches(secret({ name: 'uat/COMPANYthings/x1' }), filter('all', 'company'))).toBe(false);
    expect(matches(secret({ name: 'uat/COMPANYthings/x1' }), filter('all', 'Ythings'))).toBe(true);
    expect(matches(secret({ name: 'uat/COMPANYthings/x1' }), filter('all', 'things'))).toBe(false);
  });

  it('supports negation: no attribute may match', () => {
    expect(matches(first, filter('all', '!secret'))).toBe(false);
    expect(matches(none, filter('all', '!secret'))).toBe(true);
    expect(matches(tagged, filter('all', '!foo'))).toBe(false);
    // A value without words matches nothing, so its negation matches everything.
    expect(matches(first, filter('all', ''))).toBe(false);
    expect(matches(first, filter('all', '!'))).toBe(true);
  });
});

describe('splitWords', () => {
  it.each([
    ['test', ['test']],
    ['my test', ['my', 'test']],
    ['Mytest', ['Mytest']],
    ['MyTestPhrase', ['My', 'Test', 'Phrase']],
    ['myTest', ['my', 'Test']],
    ['my/test', ['my', 'test']],
    ['credsDatabase#892', ['creds', 'Database', '892']],
    ['COMPANYthings', ['COMPAN', 'Ythings']],
    ['db2Prod', ['db', '2', 'Prod']],
    ['+', []],
  ])('%s → %j', (text, words) => {
    expect(splitWords(text)).toEqual(words);
  });
});

describe('combining filters and values', () => {
  const s = secret({ name: 'app/db', tags: [{ Key: 'env', Value: 'prod' }] });

  it('ORs the values of one filter', () => {
    expect(matches(s, filter('name', 'web', 'app'))).toBe(true);
    expect(matches(s, filter('name', 'web', 'api'))).toBe(false);
    expect(matches(s, filter('name', 'app', '!app'))).toBe(true);
  });

  it('ANDs filters, including repeated keys', () => {
    expect(matches(s, filter('name', 'app'), filter('tag-value', 'prod'))).toBe(true);
    expect(matches(s, filter('name', 'app'), filter('tag-value', 'dev'))).toBe(false);
    expect(matches(s, filter('name', 'app'), filter('name', '!app/db'))).toBe(false);
  });

  it('matches everything without filters', () => {
    expect(matchesFilters(s, [])).toBe(true);
  });
});
