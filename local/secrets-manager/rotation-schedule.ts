// Rotation schedules and rotation windows for the sandbox.
//
// Sources: the API reference (RotationRulesType) and the user guide page "Rotation schedules"
// (rotate-secrets_schedule). All times are UTC.
//
// Windows
// - AutomaticallyAfterDays N is treated as rate(N days): "Secrets Manager calculates the next rotation
//   date based on the previous rotation", and "For a rotation schedule that uses a rate() expression in
//   days, the rotation window starts at midnight". So the window opens at 00:00 UTC on the UTC date of
//   `from` (the last rotation) plus N days.
// - rate(N hours): "For a rate in hours, the default rotation window starts at midnight and closes after
//   one hour" and, for cron, "A cron expression that includes increments of hours resets each day". We
//   read rate(N hours) as cron(0 0/N * * ? *): windows open at 00:00, N:00, 2N:00 … of every UTC day.
//   This is an inference: no AWS text says where the second day's windows fall when N does not divide 24.
// - cron(): the next window opens at the first fire time strictly after `from`.
// - Default length: "the rotation window closes after one hour for a rotation schedule in hours, and at
//   the end of the day for a rotation schedule in days". A cron that opens more than one window a day is
//   "in hours"; one that opens at most one a day is "in days". Duration ("3h") replaces the default.
// - Duration must fit: "The window must not extend into the next rotation window or the next UTC day"
//   (start hour + duration ≤ 24, and duration ≤ the hours between windows of the same day).
//
// NextRotationDate is the END of the next window, i.e. its last second (…T23:59:59 for a daily window).
// Evidence: the API reference says NextRotationDate "represents the latest date that rotation will
// occur", and published describe-secret / list-secrets outputs agree:
//   AutomaticallyAfterDays 30, LastChangedDate 2026-02-03T17:42Z → NextRotationDate 2026-03-05T23:59:59Z;
//   AutomaticallyAfterDays 30, LastRotatedDate 2024-02-22T07:16Z → NextRotationDate 2024-03-23T23:59:59Z;
//   ScheduleExpression cron(0 0 ? * 2 *), LastRotatedDate 2023-10-16T07:18Z (a Monday)
//     → NextRotationDate 2023-10-23T23:59:59Z (the next Monday's window closes).
// `rotationWindow().end` is that same last second, so `nextRotationDate(r, t) === rotationWindow(r, t).end`.
//
// Errors: wrong JSON types → SerializationException; Smithy-model constraints (AutomaticallyAfterDays
// 1–1000, Duration 2–3 characters of [0-9h], ScheduleExpression 1–256 characters) → ValidationException
// in the framework's wording; everything the operation itself rejects → InvalidParameterException, with
// AWS's own wording where it is known ("You cannot specify both rotation frequency and schedule
// expression together.", seen in hashicorp/terraform-provider-aws#33329).

import { ApiError } from './errors';
import type { RotationRules } from './model';

export interface RotationWindow {
  start: Date;
  /** The last second inside the window; what the API reports as NextRotationDate. */
  end: Date;
}

const SECOND_MS = 1_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const MIN_DAYS = 1;
const MAX_AUTOMATICALLY_AFTER_DAYS = 1000; // RotationRulesType: "Minimum value of 1. Maximum value of 1000."
const MAX_RATE_DAYS = 999; // user guide: "The maximum rotation period is 999 days."
const MIN_HOURS_BETWEEN_WINDOWS = 4; // "You can rotate a secret as often as every four hours."
const MAX_SCHEDULE_EXPRESSION_LENGTH = 256;
const DURATION_PATTERN = /^[0-9h]+$/;
// Far enough to reach a 29 February across the 2100 gap (2096 → 2104) from anywhere.
const MAX_SCAN_DAYS = 11 * 366;

/** What a date looks like to a cron day field. */
interface DayContext {
  year: number;
  month: number; // 1–12
  day: number; // 1–31
  dayOfWeek: number; // 1 = SUN … 7 = SAT, as in AWS cron
  daysInMonth: number;
}

type DayPredicate = (day: DayContext) => boolean;

type Schedule =
  | { kind: 'days'; days: number }
  | {
      kind: 'daily-hours';
      /** Sorted UTC hours at which windows open on a matching day. */
      hours: number[];
      months: Set<number>;
      matchesDay: DayPredicate;
    };

interface CompiledRules {
  schedule: Schedule;
  durationHours?: number;
}

function invalid(message: string): ApiError {
  return new ApiError('InvalidParameterException', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Member types and model constraints

function readRules(raw: unknown): RotationRules {
  if (!isRecord(raw)) throw new ApiError('SerializationException', "Cannot deserialize member 'RotationRules': expected a structure.");
  const days = raw.AutomaticallyAfterDays ?? undefined;
  const duration = raw.Duration ?? undefined;
  const expression = raw.ScheduleExpression ?? undefined;
  if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days))) {
    throw new ApiError('SerializationException', "Cannot deserialize member 'AutomaticallyAfterDays': expected an integer.");
  }
  if (duration !== undefined && typeof duration !== 'string') {
    throw new ApiError('SerializationException', "Cannot deserialize member 'Duration': expected a string.");
  }
  if (expression !== undefined && typeof expression !== 'string') {
    throw new ApiError('SerializationException', "Cannot deserialize member 'ScheduleExpression': expected a string.");
  }

  const violations: string[] = [];
  const at = (member: string, value: string | number): string =>
    `Value '${value}' at 'rotationRules.${member}' failed to satisfy constraint: Member must`;
  if (days !== undefined && days < MIN_DAYS) violations.push(`${at('automaticallyAfterDays', days)} have value greater than or equal to ${MIN_DAYS}`);
  if (days !== undefined && days > MAX_AUTOMATICALLY_AFTER_DAYS) {
    violations.push(`${at('automaticallyAfterDays', days)} have value less than or equal to ${MAX_AUTOMATICALLY_AFTER_DAYS}`);
  }
  if (duration !== undefined && (duration.length < 2 || duration.length > 3)) {
    violations.push(`${at('duration', duration)} have length ${duration.length < 2 ? 'greater than or equal to 2' : 'less than or equal to 3'}`);
  } else if (duration !== undefined && !DURATION_PATTERN.test(duration)) {
    violations.push(`${at('duration', duration)} satisfy regular expression pattern: ${DURATION_PATTERN.source}`);
  }
  if (expression !== undefined && (expression.length < 1 || expression.length > MAX_SCHEDULE_EXPRESSION_LENGTH)) {
    const bound = expression.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_SCHEDULE_EXPRESSION_LENGTH}`;
    violations.push(`Value at 'rotationRules.scheduleExpression' failed to satisfy constraint: Member must have length ${bound}`);
  }
  if (violations.length > 0) {
    const count = violations.length;
    throw new ApiError('ValidationException', `${count} validation error${count === 1 ? '' : 's'} detected: ${violations.join('; ')}`);
  }

  const rules: RotationRules = {};
  if (days !== undefined) rules.AutomaticallyAfterDays = days;
  if (expression !== undefined) rules.ScheduleExpression = expression;
  if (duration !== undefined) rules.Duration = duration;
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Calendar helpers

function utcMidnight(time: number): number {
  return Math.floor(time / DAY_MS) * DAY_MS;
}

function dayContext(midnight: number): DayContext {
  const date = new Date(midnight);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + 1;
  return {
    year,
    month,
    day: date.getUTCDate(),
    dayOfWeek: date.getUTCDay() + 1,
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

/** Day of week (1 = SUN) of another day of the same month. */
function dayOfWeekOf(ctx: DayContext, day: number): number {
  return ((((ctx.dayOfWeek - 1 + day - ctx.day) % 7) + 7) % 7) + 1;
}

/** The weekday (Mon–Fri) nearest to `day` without leaving the month: the W wildcard. */
function nearestWeekday(ctx: DayContext, day: number): number {
  const dow = dayOfWeekOf(ctx, day);
  if (dow === 7) return day === 1 ? 3 : day - 1; // Saturday → Friday, or Monday the 3rd
  if (dow === 1) return day === ctx.daysInMonth ? day - 2 : day + 1; // Sunday → Monday, or Friday
  return day;
}

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

function fieldError(field: FieldSpec, item: string, why: string): ApiError {
  return invalid(`Invalid cron expression: ${field.name} field '${item}' ${why}.`);
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

/** First window opening strictly after `after`, or undefined if none within the scan horizon. */
function nextDailyHoursStart(schedule: Extract<Schedule, { kind: 'daily-hours' }>, after: number): number | undefined {
  const firstDay = utcMidnight(after);
  for (let i = 0; i <= MAX_SCAN_DAYS; i++) {
    const midnight = firstDay + i * DAY_MS;
    const ctx = dayContext(midnight);
    if (!schedule.months.has(ctx.month) || !schedule.matchesDay(ctx)) continue;
    for (const hour of schedule.hours) {
      const start = midnight + hour * HOUR_MS;
      if (start > after) return start;
    }
  }
  return undefined;
}

function minGap(hours: number[]): number {
  let gap = Infinity;
  for (let i = 1; i < hours.length; i++) gap = Math.min(gap, (hours[i] as number) - (hours[i - 1] as number));
  return gap;
}

function checkWindowSpacing(hours: number[], expression: string): void {
  // Only windows of the same day are compared: AWS's own example cron(0 2/10 * * ? *) opens at 22:00 and
  // again at 02:00, and cron(0 0/7 …) would otherwise be refused for its 21:00 → 00:00 gap.
  const gap = minGap(hours);
  if (gap < MIN_HOURS_BETWEEN_WINDOWS) {
    throw invalid(
      `${expression} opens rotation windows ${gap} hour${gap === 1 ? '' : 's'} apart; you can rotate a secret at most every ${MIN_HOURS_BETWEEN_WINDOWS} hours.`,
    );
  }
}

function parseCron(expression: string, body: string): Schedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw invalid(`Invalid cron expression: ${expression} has ${fields.length} fields; it needs 6 (minutes hours day-of-month month day-of-week year).`);
  }
  const [minutes = '', hoursText = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = fields;
  if (minutes !== '0') throw invalid(`Invalid cron expression: the minutes field must be 0 because rotation windows open on the hour, got '${minutes}'.`);
  if (year !== '*') throw invalid(`Invalid cron expression: the year field must be *, got '${year}'.`);
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw invalid(
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
  if (nextDailyHoursStart(schedule, Date.UTC(2024, 0, 1)) === undefined) {
    throw invalid(`Invalid cron expression: ${expression} never matches a date.`);
  }
  return schedule;
}

function parseRate(expression: string, value: number, unit: string): Schedule {
  if (unit.startsWith('hour')) {
    if (value < MIN_HOURS_BETWEEN_WINDOWS) {
      throw invalid(`${expression} is too frequent: you can rotate a secret at most every ${MIN_HOURS_BETWEEN_WINDOWS} hours.`);
    }
    if (value > 23) throw invalid(`${expression} is not supported: a rate in hours must be below 24; use rate(N days).`);
    const hours: number[] = [];
    for (let h = 0; h < 24; h += value) hours.push(h);
    return { kind: 'daily-hours', hours, months: valueSet(MONTH_FIELD, '*'), matchesDay: () => true };
  }
  if (value < MIN_DAYS || value > MAX_RATE_DAYS) {
    throw invalid(`${expression} is out of range: a rate in days must be from ${MIN_DAYS} to ${MAX_RATE_DAYS} days.`);
  }
  return { kind: 'days', days: value };
}

function parseScheduleExpression(expression: string): Schedule {
  // Units as the user guide lists them: hour, hours, day or days.
  const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(expression);
  if (rate) return parseRate(expression, Number(rate[1]), rate[2] ?? '');
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return parseCron(expression, cron[1] ?? '');
  throw invalid(`Invalid ScheduleExpression '${expression}': use rate(N hours), rate(N days) or cron(0 H DoM Mon DoW *).`);
}

function parseDuration(duration: string): number {
  const match = /^(\d+)h$/.exec(duration);
  const hours = match ? Number(match[1]) : NaN;
  if (!(hours >= 1 && hours <= 24)) {
    throw invalid(`Invalid Duration '${duration}': give the window length in whole hours from 1h to 24h, for example 3h.`);
  }
  return hours;
}

function checkDurationFits(schedule: Schedule, hours: number): void {
  if (schedule.kind === 'days') return; // opens at 00:00, so any 1–24 h window stays inside the day
  const gap = minGap(schedule.hours);
  if (hours > gap) {
    throw invalid(`Duration ${hours}h is too long: rotation windows open ${gap} hours apart, so the window would extend into the next rotation window.`);
  }
  const latestStart = schedule.hours[schedule.hours.length - 1] as number;
  if (latestStart + hours > 24) {
    throw invalid(`Duration ${hours}h is too long: the rotation window that opens at ${latestStart}:00 UTC would extend into the next UTC day.`);
  }
}

function compileRules(raw: unknown): CompiledRules {
  const rules = readRules(raw);
  const days = rules.AutomaticallyAfterDays;
  const expression = rules.ScheduleExpression;
  if (days !== undefined && expression !== undefined) {
    throw invalid('You cannot specify both rotation frequency and schedule expression together.');
  }
  let schedule: Schedule;
  if (days !== undefined) schedule = { kind: 'days', days };
  else if (expression !== undefined) schedule = parseScheduleExpression(expression);
  else throw invalid('RotationRules must contain AutomaticallyAfterDays or ScheduleExpression.');

  if (rules.Duration === undefined) return { schedule };
  const durationHours = parseDuration(rules.Duration);
  checkDurationFits(schedule, durationHours);
  return { schedule, durationHours };
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Validates RotateSecret's RotationRules and returns them without unknown members. */
export function validateRotationRules(raw: unknown): RotationRules {
  compileRules(raw);
  return readRules(raw);
}

/** The next rotation window after the rotation at `from` (normally LastRotatedDate). */
export function rotationWindow(rules: RotationRules, from: Date): RotationWindow {
  const after = from.getTime();
  if (Number.isNaN(after)) throw new RangeError('rotationWindow: `from` is not a valid date');
  const { schedule, durationHours } = compileRules(rules);

  let start: number;
  let defaultHours: number;
  if (schedule.kind === 'days') {
    start = utcMidnight(after) + schedule.days * DAY_MS;
    defaultHours = 24;
  } else {
    const next = nextDailyHoursStart(schedule, after);
    if (next === undefined) throw invalid('The rotation schedule never matches a date.');
    start = next;
    // In hours: one hour. In days: to the end of the UTC day.
    defaultHours = schedule.hours.length > 1 ? 1 : 24 - (start - utcMidnight(start)) / HOUR_MS;
  }
  const hours = durationHours ?? defaultHours;
  return { start: new Date(start), end: new Date(start + hours * HOUR_MS - SECOND_MS) };
}

/** NextRotationDate as DescribeSecret reports it: the last second of the next rotation window. */
export function nextRotationDate(rules: RotationRules, from: Date): Date {
  return rotationWindow(rules, from).end;
}
