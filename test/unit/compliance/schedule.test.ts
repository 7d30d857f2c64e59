import { describe, expect, it } from 'vitest';
import { scheduleShape } from '../../../shared/compliance';

const shape = (rules: Record<string, unknown>) => scheduleShape(rules);

describe('scheduleShape', () => {
  it('AutomaticallyAfterDays and rate() in days: N days, window to the end of the day', () => {
    expect(shape({ AutomaticallyAfterDays: 30 })).toEqual({ intervalHours: 720, windowHours: 24 });
    expect(shape({ ScheduleExpression: 'rate(1 day)' })).toEqual({ intervalHours: 24, windowHours: 24 });
    expect(shape({ ScheduleExpression: 'rate(10 days)', Duration: '3h' })).toEqual({ intervalHours: 240, windowHours: 3 });
  });
  it('rate() in hours: one-hour window', () => {
    expect(shape({ ScheduleExpression: 'rate(4 hours)' })).toEqual({ intervalHours: 4, windowHours: 1 });
  });
  it('cron: the longest gap between consecutive window openings over eight years', () => {
    expect(shape({ ScheduleExpression: 'cron(0 16 1,15 * ? *)' })?.intervalHours).toBe(17 * 24); // 15th → 1st of a 31-day month
    expect(shape({ ScheduleExpression: 'cron(0 0 ? * MON *)' })).toEqual({ intervalHours: 168, windowHours: 24 });
    expect(shape({ ScheduleExpression: 'cron(0 0/6 * * ? *)' })).toEqual({ intervalHours: 6, windowHours: 1 });
    expect(shape({ ScheduleExpression: 'cron(0 2/10 * * ? *)' })?.intervalHours).toBe(10); // 22:00 → 02:00 next day is 4 h; 02→12→22 are 10
    expect(shape({ ScheduleExpression: 'cron(0 8 L * ? *)' })?.intervalHours).toBe(31 * 24);
    expect(shape({ ScheduleExpression: 'cron(0 8 ? * 6#3 *)' })?.intervalHours).toBe(35 * 24); // third Friday: 28 or 35 days apart
    expect(shape({ ScheduleExpression: 'cron(0 0 29 2 ? *)' })?.intervalHours).toBe(4 * 365 * 24 + 24); // leap days, 4 years apart
    expect(shape({ ScheduleExpression: 'cron(0 0 1 JAN-DEC/3 ? *)' })?.intervalHours).toBe(92 * 24);
    expect(shape({ ScheduleExpression: 'cron(0 0 15W * ? *)' })?.intervalHours).toBeGreaterThanOrEqual(28 * 24);
  });
  it('Duration overrides the default window', () => {
    expect(shape({ ScheduleExpression: 'cron(0 0 ? * MON *)', Duration: '4h' })?.windowHours).toBe(4);
  });
  it('what it cannot read is undefined', () => {
    for (const ScheduleExpression of ['cron(15 0 * * ? *)', 'cron(0 0 * * * *)', 'cron(0 0 * * ? 2026)', 'every day', 'rate(0 days)', 'cron(0 0 31 2 ? *)']) {
      expect(shape({ ScheduleExpression })).toBeUndefined();
    }
    expect(shape({ AutomaticallyAfterDays: 30, Duration: '25h' })).toBeUndefined();
    expect(shape({})).toBeUndefined();
    expect(scheduleShape(undefined)).toBeUndefined();
  });
});
