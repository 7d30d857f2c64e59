// The grammar of Secrets Manager rotation schedules: rate(N hours|days), AWS's six-field cron
// (minutes hours day-of-month month day-of-week year, with ?, L, W, #, ranges, lists, steps and
// month/day names) and Duration. Sources: the API reference (RotationRulesType) and the user guide
// page "Rotation schedules" (rotate-secrets_schedule). All times are UTC.
//
// What Secrets Manager accepts is narrower than EventBridge cron, and this grammar follows it:
// - minutes must be 0 (windows open on the hour) and year must be *;
// - exactly one of day-of-month and day-of-week is ?;
// - "You can rotate a secret as often as every four hours": rate(N hours) needs N ≥ 4, and two
//   windows of the same day must be at least four hours apart (only the same day: AWS's own example
//   cron(0 2/10 * * ? *) opens at 22:00 and again at 02:00);
// - rate(N hours) needs N ≤ 23 (use days beyond), and "The maximum rotation period is 999 days";
// - an increment may not exceed its field's maximum (*/24 in hours is refused), as in the Quartz
//   grammar EventBridge cron descends from, which refuses cron(*/60 …);
// - rate(N hours) is read as cron(0 0/N * * ? *): "A cron expression that includes increments of
//   hours resets each day", so windows open at 00:00, N:00, 2N:00 … of every UTC day. An inference:
//   no AWS text says where the second day's windows fall when N does not divide 24.

import { minSameDayGap, nearestWeekday, nextOpening, type DailyHours, type DayPredicate } from './calendar';

/** An expression, Duration or rule this grammar refuses; the message says what and why. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

export type Schedule = { readonly kind: 'days'; readonly days: number } | ({ readonly kind: 'daily-hours' } & DailyHours);

export const MIN_DAYS = 1;
export const MAX_AUTOMATICALLY_AFTER_DAYS = 1000; // RotationRulesType: "Minimum value of 1. Maximum value of 1000."
const MAX_RATE_DAYS = 999; // user guide: "The maximum rotation period is 999 days."
const MIN_HOURS_BETWEEN_WINDOWS = 4; // "You can rotate a secret as often as every four hours."
const NEVER_MATCHES_PROBE = Date.UTC(2024, 0, 1);

// ---------------------------------------------------------------------------------------------
// cron fields

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[]; // names[i] stands for min + i
}

const HOURS_FIELD: FieldSpec = { name: 'hours', min: 0, max: 23 };
const DAY_OF_MONTH_FIELD: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH_FIELD: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAY_OF_WEEK_FIELD: FieldSpec = {
  name: 'day-of-week',
  min: 1,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};

function fieldError(field: FieldSpec, item: string, why: string): ScheduleError {
  return new ScheduleError(`Invalid cron expression: ${field.name} field '${item}' ${why}.`);
}

function fieldValue(field: FieldSpec, text: string, item: string): number {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return field.min + named;
  if (!/^\d+$/.test(text)) throw fieldError(field, item, `is not a number${field.names ? ' or name' : ''}`);
  const value = Number(text);
  if (value < field.min || value > field.max) throw fieldError(field, item, `is out of range ${field.min}-${field.max}`);
  return value;
}

/** One comma-separated item made of values, `*`, `a-b` and `/step`. */
function itemValues(field: FieldSpec, item: string): number[] {
  const parts = item.split('/');
  if (parts.length > 2) throw fieldError(field, item, 'has more than one /');
  const [base = '', stepText] = parts;
  let step = 1;
  if (stepText !== undefined) {
    if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw fieldError(field, item, 'has an increment that is not a positive integer');
    step = Number(stepText);
    if (step > field.max) throw fieldError(field, item, `has an increment larger than ${field.max}`);
  }
  let low: number;
  let high: number;
  if (base === '*') {
    low = field.min;
    high = field.max;
  } else if (base.includes('-')) {
    const bounds = base.split('-');
    if (bounds.length !== 2) throw fieldError(field, item, 'is not a valid range');
    low = fieldValue(field, bounds[0] ?? '', item);
    high = fieldValue(field, bounds[1] ?? '', item);
    if (low > high) throw fieldError(field, item, 'is a range whose start is after its end');
  } else {
    low = fieldValue(field, base, item);
    // "a/n" runs from a to the end of the field: 1/10 in days means 1, 11, 21, 31.
    high = stepText === undefined ? low : field.max;
  }
  const values: number[] = [];
  for (let v = low; v <= high; v += step) values.push(v);
  return values;
}

function fieldItems(field: FieldSpec, text: string): string[] {
  const items = text.split(',');
  if (items.some((item) => item === '')) throw fieldError(field, text, 'has an empty list item');
  if (items.length > 1 && items.includes('?')) throw fieldError(field, text, 'uses ? inside a list');
  return items;
}

function valueSet(field: FieldSpec, text: string): Set<number> {
  return new Set(fieldItems(field, text).flatMap((item) => itemValues(field, item)));
}

function anyOf(predicates: DayPredicate[]): DayPredicate {
  return (ctx) => predicates.some((p) => p(ctx));
}

function dayOfMonthPredicate(text: string): DayPredicate {
  return anyOf(
    fieldItems(DAY_OF_MONTH_FIELD, text).map((item): DayPredicate => {
      const upper = item.toUpperCase();
      if (upper === 'L') return (ctx) => ctx.day === ctx.daysInMonth;
      if (upper === 'LW') return (ctx) => ctx.day === nearestWeekday(ctx, ctx.daysInMonth);
      const weekday = /^(\d+)W$/.exec(upper);
      if (weekday) {
        const target = fieldValue(DAY_OF_MONTH_FIELD, weekday[1] ?? '', item);
        // A day the month does not have (31W in April) never fires, as in EventBridge.
        return (ctx) => target <= ctx.daysInMonth && ctx.day === nearestWeekday(ctx, target);
      }
      // The user guide lists "SUNL" (last Sunday of the month) under day-of-month.
      const lastNamed = /^([A-Z]{3})L$/.exec(upper);
      if (lastNamed) {
        const dow = fieldValue(DAY_OF_WEEK_FIELD, lastNamed[1] ?? '', item);
        return (ctx) => ctx.dayOfWeek === dow && ctx.day + 7 > ctx.daysInMonth;
      }
      const days = new Set(itemValues(DAY_OF_MONTH_FIELD, item));
      return (ctx) => days.has(ctx.day);
    }),
  );
}

function dayOfWeekPredicate(text: string): DayPredicate {
  return anyOf(
    fieldItems(DAY_OF_WEEK_FIELD, text).map((item): DayPredicate => {
      const upper = item.toUpperCase();
      // "L" alone is the last day of the week: Saturday.
      if (upper === 'L') return (ctx) => ctx.dayOfWeek === 7;
      const last = /^(.+)L$/.exec(upper);
      if (last) {
        const dow = fieldValue(DAY_OF_WEEK_FIELD, last[1] ?? '', item);
        return (ctx) => ctx.dayOfWeek === dow && ctx.day + 7 > ctx.daysInMonth;
      }
      const nth = /^(.+)#(.+)$/.exec(upper);
      if (nth) {
        const dow = fieldValue(DAY_OF_WEEK_FIELD, nth[1] ?? '', item);
        const n = Number(nth[2]);
        if (!/^[1-5]$/.test(nth[2] ?? '')) throw fieldError(DAY_OF_WEEK_FIELD, item, 'needs an occurrence from 1 to 5 after #');
        return (ctx) => ctx.dayOfWeek === dow && Math.ceil(ctx.day / 7) === n;
      }
      const days = new Set(itemValues(DAY_OF_WEEK_FIELD, item));
      return (ctx) => days.has(ctx.dayOfWeek);
    }),
  );
}

function checkWindowSpacing(hours: readonly number[], expression: string): void {
  const gap = minSameDayGap(hours);
  if (gap < MIN_HOURS_BETWEEN_WINDOWS) {
    throw new ScheduleError(
      `${expression} opens rotation windows ${gap} hour${gap === 1 ? '' : 's'} apart; you can rotate a secret at most every ${MIN_HOURS_BETWEEN_WINDOWS} hours.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Expressions

function parseCron(expression: string, body: string): Schedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleError(
      `Invalid cron expression: ${expression} has ${fields.length} fields; it needs 6 (minutes hours day-of-month month day-of-week year).`,
    );
  }
  const [minutes = '', hoursText = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = fields;
  if (minutes !== '0') {
    throw new ScheduleError(`Invalid cron expression: the minutes field must be 0 because rotation windows open on the hour, got '${minutes}'.`);
  }
  if (year !== '*') throw new ScheduleError(`Invalid cron expression: the year field must be *, got '${year}'.`);
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new ScheduleError(
      `Invalid cron expression: exactly one of day-of-month ('${dayOfMonth}') and day-of-week ('${dayOfWeek}') must be ?.`,
    );
  }
  const hours = [...valueSet(HOURS_FIELD, hoursText)].sort((a, b) => a - b);
  const schedule: Schedule = {
    kind: 'daily-hours',
    hours,
    months: valueSet(MONTH_FIELD, month),
    matchesDay: dayOfMonth === '?' ? dayOfWeekPredicate(dayOfWeek) : dayOfMonthPredicate(dayOfMonth),
  };
  checkWindowSpacing(hours, expression);
  if (nextOpening(schedule, NEVER_MATCHES_PROBE) === undefined) {
    throw new ScheduleError(`Invalid cron expression: ${expression} never matches a date.`);
  }
  return schedule;
}

function parseRate(expression: string, value: number, unit: string): Schedule {
  if (unit.startsWith('hour')) {
    if (value < MIN_HOURS_BETWEEN_WINDOWS) {
      throw new ScheduleError(`${expression} is too frequent: you can rotate a secret at most every ${MIN_HOURS_BETWEEN_WINDOWS} hours.`);
    }
    if (value > 23) throw new ScheduleError(`${expression} is not supported: a rate in hours must be below 24; use rate(N days).`);
    const hours: number[] = [];
    for (let h = 0; h < 24; h += value) hours.push(h);
    return { kind: 'daily-hours', hours, months: valueSet(MONTH_FIELD, '*'), matchesDay: () => true };
  }
  if (value < MIN_DAYS || value > MAX_RATE_DAYS) {
    throw new ScheduleError(`${expression} is out of range: a rate in days must be from ${MIN_DAYS} to ${MAX_RATE_DAYS} days.`);
  }
  return { kind: 'days', days: value };
}

/** A ScheduleExpression: rate(N hours), rate(N days) or cron(0 H DoM Mon DoW *). Exact text: no trimming. */
export function parseScheduleExpression(expression: string): Schedule {
  // Units as the user guide lists them: hour, hours, day or days.
  const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(expression);
  if (rate) return parseRate(expression, Number(rate[1]), rate[2] ?? '');
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return parseCron(expression, cron[1] ?? '');
  throw new ScheduleError(`Invalid ScheduleExpression '${expression}': use rate(N hours), rate(N days) or cron(0 H DoM Mon DoW *).`);
}

/** AutomaticallyAfterDays N, which Secrets Manager treats as rate(N days) (1–1000). */
export function parseAutomaticallyAfterDays(days: unknown): Schedule {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < MIN_DAYS || days > MAX_AUTOMATICALLY_AFTER_DAYS) {
    throw new ScheduleError(`AutomaticallyAfterDays must be a whole number from ${MIN_DAYS} to ${MAX_AUTOMATICALLY_AFTER_DAYS}, got ${String(days)}.`);
  }
  return { kind: 'days', days };
}

/** A Duration ("3h"): the window length in whole hours, 1 to 24. */
export function parseDuration(duration: string): number {
  const match = /^(\d+)h$/.exec(duration);
  const hours = match ? Number(match[1]) : NaN;
  if (!(hours >= 1 && hours <= 24)) {
    throw new ScheduleError(`Invalid Duration '${duration}': give the window length in whole hours from 1h to 24h, for example 3h.`);
  }
  return hours;
}
