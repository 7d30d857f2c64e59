// Rotation schedules: the one grammar of RotationRules (rate(), AWS's six-field cron(), Duration,
// AutomaticallyAfterDays), the next rotation window as Secrets Manager computes it, and the interval a
// schedule implies. Two users: the sandbox's Secrets Manager (local/secrets-manager/rotation-schedule.ts,
// which adds the API's error classes) and the compliance scan (rotation-interval, rotation-stuck).
//
// THE ONE DELIBERATE EXCEPTION to "the sandbox imports nothing from shared/": the sandbox imports this
// module, so that the schedule the sandbox enforces and the one the scan judges are read by the same
// grammar. To keep that exception cheap, this folder is pure (no AWS SDK, no I/O) and imports nothing
// from elsewhere in shared/ — keep it so.
//
// Windows (all times UTC; sources in parse.ts):
// - AutomaticallyAfterDays N and rate(N days): "Secrets Manager calculates the next rotation date based
//   on the previous rotation", and the window "starts at midnight": it opens at 00:00 on the UTC date of
//   the last rotation plus N days.
// - rate(N hours) and cron(): the next window opens at the first opening strictly after the last rotation.
// - Default length: "the rotation window closes after one hour for a rotation schedule in hours, and at
//   the end of the day for a rotation schedule in days". A schedule that opens more than one window a
//   day is "in hours"; one that opens at most one a day is "in days" (so cron(0 10 * * ? *) has a 14-hour
//   window, 10:00 to midnight). Duration ("3h") replaces the default and must fit: "The window must not
//   extend into the next rotation window or the next UTC day".
// - The window's `end` is its last second, which is what DescribeSecret reports as NextRotationDate.

import { DAY_MS, HOUR_MS, SECOND_MS, longestGapHours, minSameDayGap, nextOpening, utcMidnight } from './calendar';
import {
  MAX_AUTOMATICALLY_AFTER_DAYS,
  MIN_DAYS,
  ScheduleError,
  parseAutomaticallyAfterDays,
  parseDuration,
  parseScheduleExpression,
  type Schedule,
} from './parse';

export { MAX_AUTOMATICALLY_AFTER_DAYS, MIN_DAYS, ScheduleError, parseDuration, parseScheduleExpression, type Schedule } from './parse';

export interface RotationRulesLike {
  AutomaticallyAfterDays?: number | undefined;
  ScheduleExpression?: string | undefined;
  Duration?: string | undefined;
}

export interface CompiledRules {
  readonly schedule: Schedule;
  readonly durationHours?: number;
}

export interface RotationWindow {
  start: Date;
  /** The last second inside the window; what the API reports as NextRotationDate. */
  end: Date;
}

export interface ScheduleShape {
  /** Longest time between two consecutive window openings, in hours. */
  readonly intervalHours: number;
  /** Length of one rotation window, in hours (Duration, or the default for the schedule). */
  readonly windowHours: number;
}

function checkDurationFits(schedule: Schedule, hours: number): void {
  if (schedule.kind === 'days') return; // opens at 00:00, so any 1–24 h window stays inside the day
  const gap = minSameDayGap(schedule.hours);
  if (hours > gap) {
    throw new ScheduleError(
      `Duration ${hours}h is too long: rotation windows open ${gap} hours apart, so the window would extend into the next rotation window.`,
    );
  }
  const latestStart = schedule.hours[schedule.hours.length - 1] as number;
  if (latestStart + hours > 24) {
    throw new ScheduleError(`Duration ${hours}h is too long: the rotation window that opens at ${latestStart}:00 UTC would extend into the next UTC day.`);
  }
}

/** RotationRules as RotateSecret accepts them (exactly one of AutomaticallyAfterDays and ScheduleExpression). */
export function compileRotationRules(rules: RotationRulesLike): CompiledRules {
  const days = rules.AutomaticallyAfterDays;
  const expression = rules.ScheduleExpression;
  if (days !== undefined && expression !== undefined) {
    throw new ScheduleError('You cannot specify both rotation frequency and schedule expression together.');
  }
  let schedule: Schedule;
  if (days !== undefined) schedule = parseAutomaticallyAfterDays(days);
  else if (expression !== undefined) schedule = parseScheduleExpression(expression);
  else throw new ScheduleError('RotationRules must contain AutomaticallyAfterDays or ScheduleExpression.');

  if (rules.Duration === undefined) return { schedule };
  const durationHours = parseDuration(rules.Duration);
  checkDurationFits(schedule, durationHours);
  return { schedule, durationHours };
}

/** Length of every window of the schedule, in hours: Duration, else 1 h "in hours", else to the end of the UTC day. */
export function windowHours({ schedule, durationHours }: CompiledRules): number {
  if (durationHours !== undefined) return durationHours;
  if (schedule.kind === 'days') return 24;
  return schedule.hours.length > 1 ? 1 : 24 - (schedule.hours[0] as number);
}

/** Longest time between two consecutive window openings, in hours; undefined if it opens fewer than two in eight years. */
export function intervalHours(schedule: Schedule): number | undefined {
  return schedule.kind === 'days' ? schedule.days * 24 : longestGapHours(schedule);
}

/** The next rotation window after the rotation at `from` (normally LastRotatedDate). */
export function rotationWindow(compiled: CompiledRules, from: Date): RotationWindow {
  const after = from.getTime();
  if (Number.isNaN(after)) throw new RangeError('rotationWindow: `from` is not a valid date');
  const { schedule } = compiled;
  let start: number;
  if (schedule.kind === 'days') {
    start = utcMidnight(after) + schedule.days * DAY_MS;
  } else {
    const next = nextOpening(schedule, after);
    if (next === undefined) throw new ScheduleError('The rotation schedule never matches a date.');
    start = next;
  }
  return { start: new Date(start), end: new Date(start + windowHours(compiled) * HOUR_MS - SECOND_MS) };
}

// ---------------------------------------------------------------------------------------------
// The compliance scan's reading of RotationRules as DescribeSecret / ListSecrets report them

const shapes = new Map<string, ScheduleShape | undefined>();
const byDays: (ScheduleShape | undefined)[] = [];
const CACHE_LIMIT = 10_000;

function shapeOf(rules: RotationRulesLike): ScheduleShape | undefined {
  // For rate()/cron() schedules AWS recomputes AutomaticallyAfterDays after each rotation, so the
  // reported rules may hold both and the number can lag behind: the expression wins. Surrounding
  // blanks in a stored expression are forgiven here (RotateSecret's grammar itself is exact).
  const expression = rules.ScheduleExpression;
  const compiled = compileRotationRules(
    expression !== undefined
      ? { ScheduleExpression: expression.trim(), Duration: rules.Duration }
      : { AutomaticallyAfterDays: rules.AutomaticallyAfterDays, Duration: rules.Duration },
  );
  const interval = intervalHours(compiled.schedule);
  return interval === undefined ? undefined : { intervalHours: interval, windowHours: windowHours(compiled) };
}

/**
 * The interval and window of reported `rules`, or undefined when there are no rules or they are not
 * rules Secrets Manager accepts (the scan reports "cannot be worked out" rather than guessing).
 * Memoised per distinct rules, so scanning many secrets with the same schedule is cheap.
 */
export function scheduleShape(rules: RotationRulesLike | undefined): ScheduleShape | undefined {
  if (!rules) return undefined;
  const days = rules.AutomaticallyAfterDays;
  // The common case, without building a cache key: whole days, no expression, default window.
  if (rules.ScheduleExpression === undefined && rules.Duration === undefined && days !== undefined && Number.isInteger(days) && days >= MIN_DAYS && days <= MAX_AUTOMATICALLY_AFTER_DAYS) {
    return (byDays[days] ??= { intervalHours: days * 24, windowHours: 24 });
  }
  const key = `${rules.AutomaticallyAfterDays ?? ''}|${rules.ScheduleExpression ?? ''}|${rules.Duration ?? ''}`;
  if (shapes.has(key)) return shapes.get(key);
  let shape: ScheduleShape | undefined;
  try {
    shape = shapeOf(rules);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    shape = undefined;
  }
  if (shapes.size >= CACHE_LIMIT) shapes.clear();
  shapes.set(key, shape);
  return shape;
}
