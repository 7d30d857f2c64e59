// The shared schedule grammar on its own. The sandbox's API layer over it is tested in
// test/unit/sandbox/rotation-schedule.test.ts, the compliance reading in test/unit/compliance/schedule.test.ts;
// here: the grammar's own surface, and the points where the two former parsers disagreed.
import { describe, expect, it } from 'vitest';
import {
  ScheduleError,
  compileRotationRules,
  intervalHours,
  parseDuration,
  parseScheduleExpression,
  rotationWindow,
  scheduleShape,
  windowHours,
  type RotationRulesLike,
} from '../../../shared/schedule';
import { thrown } from '../../support/thrown';

const refusal = (action: () => unknown): ScheduleError => thrown(ScheduleError, action);
const compiled = (rules: RotationRulesLike) => compileRotationRules(rules);

describe('parseScheduleExpression', () => {
  it('reads rate() in days as a days schedule and rate() in hours as windows that restart each day', () => {
    expect(parseScheduleExpression('rate(10 days)')).toEqual({ kind: 'days', days: 10 });
    const every5h = parseScheduleExpression('rate(5 hours)');
    expect(every5h.kind === 'daily-hours' && every5h.hours).toEqual([0, 5, 10, 15, 20]);
  });

  it('refuses with a ScheduleError that names the problem, and takes the text exactly', () => {
    expect(refusal(() => parseScheduleExpression('cron(0 10 * * ? 2025)')).message).toContain('year field must be *');
    expect(refusal(() => parseScheduleExpression('rate(4 hours) ')).message).toContain('Invalid ScheduleExpression');
    expect(refusal(() => parseScheduleExpression('cron(0 0 31 2 ? *)')).message).toContain('never matches a date');
  });

  it('refuses an increment larger than the field (as Quartz and EventBridge do)', () => {
    expect(refusal(() => parseScheduleExpression('cron(0 0/24 * * ? *)')).message).toContain("hours field '0/24' has an increment larger than 23");
    expect(refusal(() => parseScheduleExpression('cron(0 0 1/32 * ? *)')).message).toContain('larger than 31');
    expect(refusal(() => parseScheduleExpression('cron(0 0 1 1/13 ? *)')).message).toContain('larger than 12');
    expect(refusal(() => parseScheduleExpression('cron(0 0 ? * 1/8 *)')).message).toContain('larger than 7');
    expect(() => parseScheduleExpression('cron(0 0/23 * * ? *)')).not.toThrow();
    expect(() => parseScheduleExpression('cron(0 0 1/31 * ? *)')).not.toThrow();
  });
});

describe('parseDuration', () => {
  it('whole hours from 1h to 24h', () => {
    expect(parseDuration('3h')).toBe(3);
    expect(parseDuration('24h')).toBe(24);
    for (const bad of ['0h', '25h', '3', 'h3']) expect(() => parseDuration(bad)).toThrow(ScheduleError);
  });
});

describe('compileRotationRules, windowHours, intervalHours', () => {
  it('one of AutomaticallyAfterDays (1–1000) and ScheduleExpression, with AWS\'s message for both', () => {
    expect(compiled({ AutomaticallyAfterDays: 1000 }).schedule).toEqual({ kind: 'days', days: 1000 });
    expect(refusal(() => compiled({ AutomaticallyAfterDays: 1001 })).message).toContain('from 1 to 1000');
    expect(refusal(() => compiled({ AutomaticallyAfterDays: 7, ScheduleExpression: 'rate(7 days)' })).message).toBe(
      'You cannot specify both rotation frequency and schedule expression together.',
    );
    expect(() => compiled({})).toThrow(ScheduleError);
  });

  it('default window: to the end of the UTC day for a schedule in days, one hour for a schedule in hours', () => {
    expect(windowHours(compiled({ AutomaticallyAfterDays: 30 }))).toBe(24);
    expect(windowHours(compiled({ ScheduleExpression: 'cron(0 10 * * ? *)' }))).toBe(14);
    expect(windowHours(compiled({ ScheduleExpression: 'cron(0 0/8 * * ? *)' }))).toBe(1);
    expect(windowHours(compiled({ ScheduleExpression: 'cron(0 10 * * ? *)', Duration: '2h' }))).toBe(2);
  });

  it('the window length is the one rotationWindow opens', () => {
    const rules = compiled({ ScheduleExpression: 'cron(0 10 * * ? *)' });
    const w = rotationWindow(rules, new Date('2024-05-10T09:00:00Z'));
    expect((w.end.getTime() + 1000 - w.start.getTime()) / 3_600_000).toBe(windowHours(rules));
  });

  it('rate(N hours) implies N hours between windows even when N does not divide 24', () => {
    for (let n = 4; n <= 23; n++) expect(intervalHours(compiled({ ScheduleExpression: `rate(${n} hours)` }).schedule)).toBe(n);
  });
});

describe('scheduleShape: where the compliance parser used to accept what Secrets Manager refuses', () => {
  it('windows closer than four hours, rates in hours outside 4–23, rates in days over 999, days over 1000: cannot be worked out', () => {
    for (const ScheduleExpression of ['rate(1 hour)', 'rate(3 hours)', 'rate(48 hours)', 'rate(1000 days)', 'cron(0 * * * ? *)', 'cron(0 0,2 * * ? *)']) {
      expect(scheduleShape({ ScheduleExpression })).toBeUndefined();
    }
    expect(scheduleShape({ AutomaticallyAfterDays: 1001 })).toBeUndefined();
  });

  it('malformed items are refused, not read in part', () => {
    for (const ScheduleExpression of ['cron(0 0 1/2/3 * ? *)', 'cron(0 0 1-2-3 * ? *)', 'cron(0 0 1,,2 * ? *)']) {
      expect(scheduleShape({ ScheduleExpression })).toBeUndefined();
    }
  });

  it('a Duration that does not fit the schedule cannot be worked out', () => {
    expect(scheduleShape({ ScheduleExpression: 'rate(4 hours)', Duration: '5h' })).toBeUndefined();
    expect(scheduleShape({ ScheduleExpression: 'cron(0 10 * * ? *)', Duration: '15h' })).toBeUndefined();
  });

  it('SUNL in day-of-month (the user guide\'s last Sunday) is understood', () => {
    expect(scheduleShape({ ScheduleExpression: 'cron(0 0 SUNL * ? *)' })?.intervalHours).toBe(35 * 24);
  });

  it('a daily cron\'s window runs to the end of the UTC day, as the sandbox opens it', () => {
    expect(scheduleShape({ ScheduleExpression: 'cron(0 10 * * ? *)' })).toEqual({ intervalHours: 24, windowHours: 14 });
  });

  it('blanks around a stored expression are forgiven; the expression wins over AutomaticallyAfterDays', () => {
    expect(scheduleShape({ ScheduleExpression: ' rate(7 days) ' })).toEqual({ intervalHours: 168, windowHours: 24 });
    expect(scheduleShape({ AutomaticallyAfterDays: 7, ScheduleExpression: 'rate(1 hour)' })).toBeUndefined();
  });
});
