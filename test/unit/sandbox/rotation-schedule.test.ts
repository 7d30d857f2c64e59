import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../local/secrets-manager/errors';
import type { RotationRules } from '../../../local/secrets-manager/model';
import {
  nextRotationDate,
  rotationWindow,
  validateRotationRules,
} from '../../../local/secrets-manager/rotation-schedule';
import { thrown } from '../../support/thrown';

const apiError = (action: () => unknown): ApiError => thrown(ApiError, action);

const at = (iso: string): Date => new Date(iso);
const iso = (date: Date): string => date.toISOString();

function windowOf(rules: RotationRules, from: string): { start: string; end: string } {
  const w = rotationWindow(rules, at(from));
  return { start: iso(w.start), end: iso(w.end) };
}

const cron = (expression: string, Duration?: string): RotationRules =>
  Duration === undefined ? { ScheduleExpression: `cron(${expression})` } : { ScheduleExpression: `cron(${expression})`, Duration };

function refusal(rules: unknown): ApiError {
  return apiError(() => validateRotationRules(rules));
}

describe('validateRotationRules: AutomaticallyAfterDays', () => {
  it.each([1, 30, 1000])('accepts %i', (days) => {
    expect(validateRotationRules({ AutomaticallyAfterDays: days })).toEqual({ AutomaticallyAfterDays: days });
  });

  it.each([
    [0, 'greater than or equal to 1'],
    [1001, 'less than or equal to 1000'],
  ])('refuses %i with ValidationException', (days, bound) => {
    const error = refusal({ AutomaticallyAfterDays: days });
    expect(error.code).toBe('ValidationException');
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      `1 validation error detected: Value '${days}' at 'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must have value ${bound}`,
    );
  });

  it('refuses a non-integer with SerializationException', () => {
    expect(refusal({ AutomaticallyAfterDays: 1.5 }).code).toBe('SerializationException');
    expect(refusal({ AutomaticallyAfterDays: '30' }).code).toBe('SerializationException');
  });

  it('refuses it together with ScheduleExpression, with the AWS message', () => {
    const error = refusal({ AutomaticallyAfterDays: 30, ScheduleExpression: 'rate(30 days)' });
    expect(error.code).toBe('InvalidParameterException');
    expect(error.message).toBe('You cannot specify both rotation frequency and schedule expression together.');
  });

  it('refuses rules with neither', () => {
    expect(refusal({}).code).toBe('InvalidParameterException');
    expect(refusal({ Duration: '3h' }).code).toBe('InvalidParameterException');
  });

  it('refuses a body that is not a structure', () => {
    expect(refusal(null).code).toBe('SerializationException');
    expect(refusal([]).code).toBe('SerializationException');
  });

  it('drops unknown members and JSON nulls', () => {
    expect(validateRotationRules({ AutomaticallyAfterDays: 7, Duration: null, Colour: 'blue' })).toEqual({ AutomaticallyAfterDays: 7 });
  });
});

describe('validateRotationRules: rate()', () => {
  it.each(['rate(4 hours)', 'rate(12 hours)', 'rate(23 hours)', 'rate(1 day)', 'rate(1 days)', 'rate(10 days)', 'rate(999 days)'])(
    'accepts %s',
    (expression) => {
      expect(validateRotationRules({ ScheduleExpression: expression })).toEqual({ ScheduleExpression: expression });
    },
  );

  it.each([
    ['rate(3 hours)', 'at most every 4 hours'],
    ['rate(1 hour)', 'at most every 4 hours'],
    ['rate(24 hours)', 'below 24'],
    ['rate(0 days)', 'from 1 to 999'],
    ['rate(1000 days)', 'from 1 to 999'],
  ])('refuses %s with InvalidParameterException', (expression, why) => {
    const error = refusal({ ScheduleExpression: expression });
    expect(error.code).toBe('InvalidParameterException');
    expect(error.message).toContain(why);
  });

  it.each(['rate(4 minutes)', 'rate(4hours)', 'rate(-4 hours)', 'rate(4 weeks)', 'RATE(4 hours)', 'rate(4 hours) ', 'every 4 hours'])(
    'refuses the malformed %s',
    (expression) => {
      const error = refusal({ ScheduleExpression: expression });
      expect(error.code).toBe('InvalidParameterException');
      expect(error.message).toContain('Invalid ScheduleExpression');
    },
  );

  it('enforces the model length of ScheduleExpression with ValidationException', () => {
    expect(refusal({ ScheduleExpression: '' }).code).toBe('ValidationException');
    const long = `cron(0 0 ${'1,'.repeat(125)}1 * ? *)`;
    expect(long.length).toBeGreaterThan(256);
    expect(refusal({ ScheduleExpression: long }).code).toBe('ValidationException');
    expect(refusal({ ScheduleExpression: 42 }).code).toBe('SerializationException');
  });
});

describe('validateRotationRules: cron()', () => {
  it.each([
    '0 10 * * ? *',
    '0 18 ? * SAT *',
    '0 8 1 * ? *',
    '0 1 ? 1/3 SUN#1 *',
    '0 17 L * ? *',
    '0 8 ? * MON-FRI *',
    '0 16 1,15 * ? *',
    '0 0 ? * SUN#1 *',
    '0 */8 * * ? *',
    '0 8/8 * * ? *',
    '0 2/10 * * ? *',
    '0 4/12 * * ? *',
    '0 0 ? 1/11 2#1 *',
    '0 0 ? JAN,APR,JUL,OCT 6L *',
    '0 0 15W * ? *',
    '0 0 LW * ? *',
    '0 0 SUNL * ? *',
    '0 0 ? * L *',
    '0 0 ? * mon-fri *',
    '0 0 1-15 * ? *',
    '0 0 12 2 ? *',
    '0 12 29 2 ? *',
    '0 0,4,8 * * ? *',
  ])('accepts cron(%s)', (expression) => {
    expect(() => validateRotationRules(cron(expression))).not.toThrow();
  });

  it.each([
    ['5 10 * * ? *', 'minutes field must be 0'],
    ['0 10 * * ? 2025', 'year field must be *'],
    ['0 10 * * * *', 'exactly one of day-of-month'],
    ['0 10 ? * ? *', 'exactly one of day-of-month'],
    ['0 10 1 * MON *', 'exactly one of day-of-month'],
    ['0 10 * * ?', 'needs 6'],
    ['0 10 * * ? * *', 'needs 6'],
    ['0 24 * * ? *', "hours field '24' is out of range 0-23"],
    ['0 10 32 * ? *', 'out of range 1-31'],
    ['0 10 0 * ? *', 'out of range 1-31'],
    ['0 10 * 13 ? *', 'out of range 1-12'],
    ['0 10 * FOO ? *', 'is not a number or name'],
    ['0 10 ? * 8 *', 'out of range 1-7'],
    ['0 10 ? * 0 *', 'out of range 1-7'],
    ['0 10 ? * MON#6 *', 'occurrence from 1 to 5'],
    ['0 10 ? * MON#0 *', 'occurrence from 1 to 5'],
    ['0 10 5-3 * ? *', 'start is after its end'],
    ['0 10 1/0 * ? *', 'not a positive integer'],
    ['0 10 1,,2 * ? *', 'empty list item'],
    ['0 10 1/2/3 * ? *', 'more than one /'],
    ['0 * * * ? *', '1 hour apart'],
    ['0 0,2 * * ? *', '2 hours apart'],
    ['0 */3 * * ? *', '3 hours apart'],
    ['0 0 30 2 ? *', 'never matches a date'],
    ['0 0 31 4,6,9,11 ? *', 'never matches a date'],
  ])('refuses cron(%s) with InvalidParameterException naming the problem', (expression, why) => {
    const error = refusal(cron(expression));
    expect(error.code).toBe('InvalidParameterException');
    expect(error.message).toContain(why);
  });
});

describe('validateRotationRules: Duration', () => {
  it('accepts a window that fits', () => {
    expect(validateRotationRules(cron('0 10 * * ? *', '14h'))).toEqual({ ScheduleExpression: 'cron(0 10 * * ? *)', Duration: '14h' });
    expect(() => validateRotationRules({ ScheduleExpression: 'rate(10 days)', Duration: '24h' })).not.toThrow();
    expect(() => validateRotationRules({ AutomaticallyAfterDays: 30, Duration: '2h' })).not.toThrow();
    expect(() => validateRotationRules({ ScheduleExpression: 'rate(4 hours)', Duration: '4h' })).not.toThrow();
    expect(() => validateRotationRules(cron('0 2/10 * * ? *', '2h'))).not.toThrow();
  });

  it('refuses a window that runs into the next UTC day', () => {
    const error = refusal(cron('0 10 * * ? *', '15h'));
    expect(error.code).toBe('InvalidParameterException');
    expect(error.message).toContain('next UTC day');
    // rate(5 hours) opens at 20:00 too, so 5h would cross midnight.
    expect(refusal({ ScheduleExpression: 'rate(5 hours)', Duration: '5h' }).message).toContain('next UTC day');
    expect(() => validateRotationRules({ ScheduleExpression: 'rate(5 hours)', Duration: '4h' })).not.toThrow();
  });

  it('refuses a window longer than the gap to the next window', () => {
    const error = refusal({ ScheduleExpression: 'rate(4 hours)', Duration: '5h' });
    expect(error.code).toBe('InvalidParameterException');
    expect(error.message).toContain('next rotation window');
    expect(refusal(cron('0 4/12 * * ? *', '13h')).message).toContain('next rotation window');
  });

  it.each(['0h', '25h', '99h', 'h3', 'hh'])('refuses %s with InvalidParameterException', (duration) => {
    expect(refusal({ AutomaticallyAfterDays: 1, Duration: duration }).code).toBe('InvalidParameterException');
  });

  it.each(['3', '100h', '3H', '3m', '1 h'])('refuses %s with ValidationException (length 2-3, [0-9h])', (duration) => {
    expect(refusal({ AutomaticallyAfterDays: 1, Duration: duration }).code).toBe('ValidationException');
  });

  it('refuses a non-string Duration with SerializationException', () => {
    expect(refusal({ AutomaticallyAfterDays: 1, Duration: 3 }).code).toBe('SerializationException');
  });
});

describe('NextRotationDate matches what AWS reported in published describe-secret output', () => {
  it('AutomaticallyAfterDays 30 after a change on 2026-02-03 closes at the end of 2026-03-05', () => {
    expect(iso(nextRotationDate({ AutomaticallyAfterDays: 30 }, at('2026-02-03T17:42:24.335Z')))).toBe('2026-03-05T23:59:59.000Z');
  });

  it('AutomaticallyAfterDays 30 across a leap February', () => {
    expect(iso(nextRotationDate({ AutomaticallyAfterDays: 30 }, at('2024-02-22T07:16:15.807Z')))).toBe('2024-03-23T23:59:59.000Z');
  });

  it('cron(0 0 ? * 2 *) after a Monday rotation closes at the end of the next Monday', () => {
    expect(iso(nextRotationDate(cron('0 0 ? * 2 *'), at('2023-10-16T07:18:02.417Z')))).toBe('2023-10-23T23:59:59.000Z');
  });
});

describe('rotationWindow: days', () => {
  it('opens at midnight N days after the UTC date of the last rotation and closes at the end of that day', () => {
    expect(windowOf({ AutomaticallyAfterDays: 1 }, '2024-12-31T23:59:59.999Z')).toEqual({
      start: '2025-01-01T00:00:00.000Z',
      end: '2025-01-01T23:59:59.000Z',
    });
    expect(windowOf({ ScheduleExpression: 'rate(10 days)' }, '2024-05-10T13:00:00Z')).toEqual({
      start: '2024-05-20T00:00:00.000Z',
      end: '2024-05-20T23:59:59.000Z',
    });
    expect(windowOf({ AutomaticallyAfterDays: 1000 }, '2024-01-01T00:00:00Z').start).toBe('2026-09-27T00:00:00.000Z');
  });

  it('treats AutomaticallyAfterDays N and rate(N days) alike', () => {
    const from = at('2024-07-04T09:30:00Z');
    expect(rotationWindow({ AutomaticallyAfterDays: 7 }, from)).toEqual(rotationWindow({ ScheduleExpression: 'rate(7 days)' }, from));
  });

  it('shortens the window to Duration', () => {
    expect(windowOf({ AutomaticallyAfterDays: 30, Duration: '3h' }, '2024-05-10T13:00:00Z')).toEqual({
      start: '2024-06-09T00:00:00.000Z',
      end: '2024-06-09T02:59:59.000Z',
    });
  });
});

describe('rotationWindow: rate in hours', () => {
  const every4h: RotationRules = { ScheduleExpression: 'rate(4 hours)' };

  it('opens on the 4-hour grid that starts at midnight and closes after one hour', () => {
    expect(windowOf(every4h, '2024-05-10T05:30:00Z')).toEqual({ start: '2024-05-10T08:00:00.000Z', end: '2024-05-10T08:59:59.000Z' });
    expect(windowOf(every4h, '2024-05-10T20:30:00Z').start).toBe('2024-05-11T00:00:00.000Z');
    expect(windowOf(every4h, '2024-05-10T08:00:00Z').start).toBe('2024-05-10T12:00:00.000Z');
  });

  it('restarts the grid each UTC day', () => {
    expect(windowOf({ ScheduleExpression: 'rate(5 hours)' }, '2024-05-10T20:00:00Z').start).toBe('2024-05-11T00:00:00.000Z');
    expect(windowOf({ ScheduleExpression: 'rate(5 hours)' }, '2024-05-10T16:00:00Z').start).toBe('2024-05-10T20:00:00.000Z');
  });

  it('uses Duration for the length', () => {
    expect(windowOf({ ...every4h, Duration: '2h' }, '2024-05-10T05:30:00Z').end).toBe('2024-05-10T09:59:59.000Z');
  });
});

describe('rotationWindow: cron', () => {
  it('opens at the first fire time strictly after the last rotation', () => {
    expect(windowOf(cron('0 10 * * ? *'), '2024-05-10T09:00:00Z')).toEqual({ start: '2024-05-10T10:00:00.000Z', end: '2024-05-10T23:59:59.000Z' });
    expect(windowOf(cron('0 10 * * ? *'), '2024-05-10T10:00:00Z').start).toBe('2024-05-11T10:00:00.000Z');
    expect(windowOf(cron('0 10 * * ? *', '2h'), '2024-05-10T09:00:00Z').end).toBe('2024-05-10T11:59:59.000Z');
  });

  it('gives a schedule in hours a one-hour default window', () => {
    expect(windowOf(cron('0 0/8 * * ? *'), '2024-05-10T08:00:00Z')).toEqual({ start: '2024-05-10T16:00:00.000Z', end: '2024-05-10T16:59:59.000Z' });
    // AWS's example: 2:00, 12:00, 22:00, then 2:00 the next day.
    expect(windowOf(cron('0 2/10 * * ? *'), '2024-05-10T22:30:00Z').start).toBe('2024-05-11T02:00:00.000Z');
  });

  it('handles L (last day of month) in leap and common years and across a month boundary', () => {
    expect(windowOf(cron('0 17 L * ? *'), '2024-02-10T00:00:00Z')).toEqual({ start: '2024-02-29T17:00:00.000Z', end: '2024-02-29T23:59:59.000Z' });
    expect(windowOf(cron('0 17 L * ? *'), '2023-02-10T00:00:00Z').start).toBe('2023-02-28T17:00:00.000Z');
    expect(windowOf(cron('0 17 L * ? *'), '2024-01-31T18:00:00Z').start).toBe('2024-02-29T17:00:00.000Z');
  });

  it('finds 29 February in the next leap year', () => {
    expect(windowOf(cron('0 12 29 2 ? *'), '2024-03-01T00:00:00Z').start).toBe('2028-02-29T12:00:00.000Z');
  });

  it('skips months without the day', () => {
    expect(windowOf(cron('0 0 31 * ? *'), '2024-04-01T00:00:00Z').start).toBe('2024-05-31T00:00:00.000Z');
  });

  it('wraps into the next year with month names', () => {
    expect(windowOf(cron('0 9 1 JAN ? *'), '2024-03-01T00:00:00Z').start).toBe('2025-01-01T09:00:00.000Z');
    expect(windowOf(cron('0 0 1 * ? *'), '2024-12-15T00:00:00Z').start).toBe('2025-01-01T00:00:00.000Z');
  });

  it('handles W (nearest weekday)', () => {
    // 2024-06-15 is a Saturday → Friday the 14th; 2024-09-15 is a Sunday → Monday the 16th.
    expect(windowOf(cron('0 8 15W * ? *'), '2024-06-01T00:00:00Z').start).toBe('2024-06-14T08:00:00.000Z');
    expect(windowOf(cron('0 8 15W * ? *'), '2024-09-01T00:00:00Z').start).toBe('2024-09-16T08:00:00.000Z');
    // 2024-06-01 is a Saturday: 1W does not go back into May, it moves to Monday the 3rd.
    expect(windowOf(cron('0 8 1W * ? *'), '2024-05-31T12:00:00Z').start).toBe('2024-06-03T08:00:00.000Z');
    // 2024-06-30 is a Sunday: 30W does not go into July, it moves to Friday the 28th.
    expect(windowOf(cron('0 8 30W * ? *'), '2024-06-20T00:00:00Z').start).toBe('2024-06-28T08:00:00.000Z');
    // 31W never fires in a 30-day month.
    expect(windowOf(cron('0 8 31W * ? *'), '2024-06-01T00:00:00Z').start).toBe('2024-07-31T08:00:00.000Z');
    // 2024-03-31 is a Sunday: the last weekday is Friday the 29th.
    expect(windowOf(cron('0 8 LW * ? *'), '2024-03-01T00:00:00Z').start).toBe('2024-03-29T08:00:00.000Z');
  });

  it('handles # (nth weekday of the month)', () => {
    expect(windowOf(cron('0 0 ? * SUN#1 *'), '2024-01-15T00:00:00Z').start).toBe('2024-02-04T00:00:00.000Z');
    expect(windowOf(cron('0 0 ? * TUE#3 *'), '2024-01-01T00:00:00Z').start).toBe('2024-01-16T00:00:00.000Z');
    // January and February 2024 have four Fridays; March has five.
    expect(windowOf(cron('0 0 ? * FRI#5 *'), '2024-01-01T00:00:00Z').start).toBe('2024-03-29T00:00:00.000Z');
    expect(windowOf(cron('0 1 ? 1/3 SUN#1 *'), '2024-01-08T00:00:00Z').start).toBe('2024-04-07T01:00:00.000Z');
    expect(windowOf(cron('0 0 ? 1/11 2#1 *'), '2024-01-02T00:00:00Z').start).toBe('2024-12-02T00:00:00.000Z');
  });

  it('handles L in day-of-week', () => {
    // L alone is Saturday; 6L and FRIL are the last Friday; SUNL in day-of-month is the last Sunday.
    expect(windowOf(cron('0 0 ? * L *'), '2024-01-03T00:00:00Z').start).toBe('2024-01-06T00:00:00.000Z');
    expect(windowOf(cron('0 0 ? * 6L *'), '2024-01-01T00:00:00Z').start).toBe('2024-01-26T00:00:00.000Z');
    expect(windowOf(cron('0 0 ? * FRIL *'), '2024-01-01T00:00:00Z').start).toBe('2024-01-26T00:00:00.000Z');
    expect(windowOf(cron('0 0 SUNL * ? *'), '2024-01-01T00:00:00Z').start).toBe('2024-01-28T00:00:00.000Z');
  });

  it('numbers days of the week from 1 = SUN and accepts ranges, lists and lower-case names', () => {
    expect(windowOf(cron('0 0 ? * 1 *'), '2024-01-01T00:00:00Z').start).toBe('2024-01-07T00:00:00.000Z');
    expect(windowOf(cron('0 8 ? * MON-FRI *'), '2024-01-05T09:00:00Z').start).toBe('2024-01-08T08:00:00.000Z');
    expect(windowOf(cron('0 8 ? * mon,wed *'), '2024-01-08T09:00:00Z').start).toBe('2024-01-10T08:00:00.000Z');
    expect(windowOf(cron('0 16 1,15 * ? *'), '2024-01-01T17:00:00Z').start).toBe('2024-01-15T16:00:00.000Z');
    expect(windowOf(cron('0 0 1/10 * ? *'), '2024-01-21T01:00:00Z').start).toBe('2024-01-31T00:00:00.000Z');
  });
});

describe('rotationWindow and nextRotationDate agree and validate', () => {
  it('nextRotationDate is the end of the window', () => {
    const rules = cron('0 3 ? * SAT *', '2h');
    const from = at('2024-05-10T00:00:00Z');
    expect(nextRotationDate(rules, from)).toEqual(rotationWindow(rules, from).end);
    expect(iso(nextRotationDate(rules, from))).toBe('2024-05-11T04:59:59.000Z');
  });

  it('refuses invalid rules the same way as validateRotationRules', () => {
    expect(apiError(() => rotationWindow({ AutomaticallyAfterDays: 5000 }, at('2024-01-01T00:00:00Z'))).code).toBe('ValidationException');
    expect(apiError(() => nextRotationDate({ ScheduleExpression: 'rate(1 hour)' }, at('2024-01-01T00:00:00Z'))).code).toBe(
      'InvalidParameterException',
    );
  });

  it('rejects an invalid date', () => {
    expect(() => rotationWindow({ AutomaticallyAfterDays: 1 }, new Date(Number.NaN))).toThrow(RangeError);
  });
});
