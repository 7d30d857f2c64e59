// UTC calendar arithmetic for rotation schedules: what a day looks like to a cron day field, where
// the next window opens, and the longest gap between openings. Pure; no imports.

export const SECOND_MS = 1_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

// Far enough to reach a 29 February across the 2100 gap (2096 → 2104) from anywhere.
const MAX_SCAN_DAYS = 11 * 366;
// The interval walk: eight years from a fixed date, so leap days and "31st of the month" are covered.
const INTERVAL_SCAN_START = Date.UTC(2024, 0, 1);
const INTERVAL_SCAN_DAYS = 8 * 366;

/** What a date looks like to a cron day field. */
export interface DayContext {
  year: number;
  month: number; // 1–12
  day: number; // 1–31
  dayOfWeek: number; // 1 = SUN … 7 = SAT, as in AWS cron
  daysInMonth: number;
}

export type DayPredicate = (day: DayContext) => boolean;

/** Windows that open at fixed UTC hours on the days a predicate picks (every cron, and rate(N hours)). */
export interface DailyHours {
  /** Sorted UTC hours at which windows open on a matching day. */
  readonly hours: readonly number[];
  readonly months: ReadonlySet<number>;
  readonly matchesDay: DayPredicate;
}

export function utcMidnight(time: number): number {
  return Math.floor(time / DAY_MS) * DAY_MS;
}

export function dayContext(midnight: number): DayContext {
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
export function nearestWeekday(ctx: DayContext, day: number): number {
  const dow = dayOfWeekOf(ctx, day);
  if (dow === 7) return day === 1 ? 3 : day - 1; // Saturday → Friday, or Monday the 3rd
  if (dow === 1) return day === ctx.daysInMonth ? day - 2 : day + 1; // Sunday → Monday, or Friday
  return day;
}

function matches(schedule: DailyHours, midnight: number): boolean {
  const ctx = dayContext(midnight);
  return schedule.months.has(ctx.month) && schedule.matchesDay(ctx);
}

/** First window opening strictly after `after` (ms), or undefined if none within eleven years. */
export function nextOpening(schedule: DailyHours, after: number): number | undefined {
  const firstDay = utcMidnight(after);
  for (let i = 0; i <= MAX_SCAN_DAYS; i++) {
    const midnight = firstDay + i * DAY_MS;
    if (!matches(schedule, midnight)) continue;
    for (const hour of schedule.hours) {
      const start = midnight + hour * HOUR_MS;
      if (start > after) return start;
    }
  }
  return undefined;
}

/** Smallest gap, in hours, between two windows of the same day (Infinity for one window a day). */
export function minSameDayGap(hours: readonly number[]): number {
  let gap = Infinity;
  for (let i = 1; i < hours.length; i++) gap = Math.min(gap, (hours[i] as number) - (hours[i - 1] as number));
  return gap;
}

/**
 * The longest time, in hours, between two consecutive window openings over eight years of calendar,
 * or undefined when the schedule opens fewer than two windows in that time.
 */
export function longestGapHours(schedule: DailyHours): number | undefined {
  const first = schedule.hours[0];
  const last = schedule.hours[schedule.hours.length - 1];
  if (first === undefined || last === undefined) return undefined;
  let gap = 0;
  for (let i = 1; i < schedule.hours.length; i++) gap = Math.max(gap, (schedule.hours[i] as number) - (schedule.hours[i - 1] as number));
  let previousLast: number | undefined;
  let fired = 0;
  for (let i = 0; i < INTERVAL_SCAN_DAYS; i++) {
    const midnight = INTERVAL_SCAN_START + i * DAY_MS;
    if (!matches(schedule, midnight)) continue;
    fired++;
    const open = midnight + first * HOUR_MS;
    if (previousLast !== undefined) gap = Math.max(gap, (open - previousLast) / HOUR_MS);
    previousLast = midnight + last * HOUR_MS;
  }
  return fired < 2 ? undefined : gap;
}
