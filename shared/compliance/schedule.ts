// How often a secret's RotationRules rotate it, and how long one rotation window lasts: what the
// rotation-interval and rotation-stuck checks compare against the policy.
//
// Semantics follow the user guide page "Rotation schedules" (all times UTC):
// - AutomaticallyAfterDays N and rate(N days): one window every N days, opening at 00:00, lasting to the
//   end of the UTC day unless Duration says otherwise.
// - rate(N hours): windows at 00:00, N:00, 2N:00 … of every day (the schedule resets each day), one
//   hour long by default.
// - cron(0 H DoM Mon DoW *): the interval is the longest gap between two consecutive window openings,
//   found by walking eight years of calendar (so leap days and "31st of the month" are covered). A
//   cron with several windows a day is "in hours" (one-hour default window), otherwise "in days".
// - When both are present, the schedule expression wins: for rate()/cron() schedules AWS recomputes
//   AutomaticallyAfterDays after each rotation, so it can lag behind the expression.
//
// An expression this module does not understand yields `undefined`, and the check reports it rather
// than guessing. The sandbox has a fuller validator (local/secrets-manager/rotation-schedule.ts) that
// production code may not import; see the report for moving the cron grammar into shared/.

export interface RotationRulesLike {
  AutomaticallyAfterDays?: number | undefined;
  ScheduleExpression?: string | undefined;
  Duration?: string | undefined;
}

export interface ScheduleShape {
  /** Longest time between two consecutive window openings, in hours. */
  readonly intervalHours: number;
  /** Length of one rotation window, in hours (Duration, or the default for the schedule). */
  readonly windowHours: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const SCAN_START = Date.UTC(2024, 0, 1);
const SCAN_DAYS = 8 * 366;

interface Day {
  month: number; // 1–12
  day: number;
  dow: number; // 1 = SUN … 7 = SAT
  daysInMonth: number;
}

type DayTest = (d: Day) => boolean;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

class Unsupported extends Error {}

function num(text: string, min: number, max: number, names?: string[]): number {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return min + named;
  if (!/^\d+$/.test(text)) throw new Unsupported(text);
  const value = Number(text);
  if (value < min || value > max) throw new Unsupported(text);
  return value;
}

function values(text: string, min: number, max: number, names?: string[]): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [base = '', step] = item.split('/');
    const inc = step === undefined ? 1 : num(step, 1, max);
    let low: number;
    let high: number;
    if (base === '*') [low, high] = [min, max];
    else if (base.includes('-')) {
      const [a = '', b = ''] = base.split('-');
      [low, high] = [num(a, min, max, names), num(b, min, max, names)];
    } else {
      low = num(base, min, max, names);
      high = step === undefined ? low : max;
    }
    if (low > high) throw new Unsupported(item);
    for (let v = low; v <= high; v += inc) out.add(v);
  }
  return out;
}

function nearestWeekday(d: Day, target: number): number {
  const dow = ((((d.dow - 1 + target - d.day) % 7) + 7) % 7) + 1;
  if (dow === 7) return target === 1 ? 3 : target - 1;
  if (dow === 1) return target === d.daysInMonth ? target - 2 : target + 1;
  return target;
}

function dayOfMonthTest(text: string): DayTest {
  const tests = text.split(',').map((item): DayTest => {
    const upper = item.toUpperCase();
    if (upper === 'L') return (d) => d.day === d.daysInMonth;
    if (upper === 'LW') return (d) => d.day === nearestWeekday(d, d.daysInMonth);
    const w = /^(\d+)W$/.exec(upper);
    if (w) {
      const target = num(w[1] ?? '', 1, 31);
      return (d) => target <= d.daysInMonth && d.day === nearestWeekday(d, target);
    }
    const set = values(item, 1, 31);
    return (d) => set.has(d.day);
  });
  return (d) => tests.some((t) => t(d));
}

function dayOfWeekTest(text: string): DayTest {
  const tests = text.split(',').map((item): DayTest => {
    const upper = item.toUpperCase();
    if (upper === 'L') return (d) => d.dow === 7;
    const last = /^(.+)L$/.exec(upper);
    if (last) {
      const dow = num(last[1] ?? '', 1, 7, DAYS);
      return (d) => d.dow === dow && d.day + 7 > d.daysInMonth;
    }
    const nth = /^(.+)#([1-5])$/.exec(upper);
    if (nth) {
      const dow = num(nth[1] ?? '', 1, 7, DAYS);
      const n = Number(nth[2]);
      return (d) => d.dow === dow && Math.ceil(d.day / 7) === n;
    }
    const set = values(item, 1, 7, DAYS);
    return (d) => set.has(d.dow);
  });
  return (d) => tests.some((t) => t(d));
}

/** Window openings of a cron over eight years, as the longest gap in hours and the openings per day. */
function cronShape(body: string): { intervalHours: number; inHours: boolean } {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw new Unsupported(body);
  const [minutes, hoursText = '', dom = '', monthText = '', dow = '', year] = fields;
  if (minutes !== '0' || year !== '*' || (dom === '?') === (dow === '?')) throw new Unsupported(body);
  const hours = [...values(hoursText, 0, 23)].sort((a, b) => a - b);
  const months = values(monthText, 1, 12, MONTHS);
  const test = dom === '?' ? dayOfWeekTest(dow) : dayOfMonthTest(dom);
  const first = hours[0];
  const last = hours[hours.length - 1];
  if (first === undefined || last === undefined) throw new Unsupported(body);
  let gap = 0;
  for (let i = 1; i < hours.length; i++) gap = Math.max(gap, (hours[i] as number) - (hours[i - 1] as number));
  let previousLast: number | undefined;
  let fired = 0;
  for (let i = 0; i < SCAN_DAYS; i++) {
    const midnight = SCAN_START + i * DAY_MS;
    const date = new Date(midnight);
    const month = date.getUTCMonth() + 1;
    if (!months.has(month)) continue;
    const d: Day = {
      month,
      day: date.getUTCDate(),
      dow: date.getUTCDay() + 1,
      daysInMonth: new Date(Date.UTC(date.getUTCFullYear(), month, 0)).getUTCDate(),
    };
    if (!test(d)) continue;
    fired++;
    const open = midnight + first * HOUR_MS;
    if (previousLast !== undefined) gap = Math.max(gap, (open - previousLast) / HOUR_MS);
    previousLast = midnight + last * HOUR_MS;
  }
  if (fired < 2) throw new Unsupported(body); // never fires, or once in eight years: treat as not understood
  return { intervalHours: gap, inHours: hours.length > 1 };
}

function durationHours(duration: string | undefined): number | undefined {
  if (duration === undefined) return undefined;
  const match = /^(\d+)h$/.exec(duration);
  const hours = match ? Number(match[1]) : NaN;
  if (!(hours >= 1 && hours <= 24)) throw new Unsupported(duration);
  return hours;
}

function shapeOf(rules: RotationRulesLike): ScheduleShape {
  const duration = durationHours(rules.Duration);
  const expression = rules.ScheduleExpression;
  if (expression !== undefined) {
    const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(expression.trim());
    if (rate) {
      const n = Number(rate[1]);
      if (n < 1) throw new Unsupported(expression);
      if ((rate[2] ?? '').startsWith('hour')) return { intervalHours: n, windowHours: duration ?? 1 };
      return { intervalHours: n * 24, windowHours: duration ?? 24 };
    }
    const cron = /^cron\((.*)\)$/.exec(expression.trim());
    if (!cron) throw new Unsupported(expression);
    const { intervalHours, inHours } = cronShape(cron[1] ?? '');
    return { intervalHours, windowHours: duration ?? (inHours ? 1 : 24) };
  }
  const days = rules.AutomaticallyAfterDays;
  if (days === undefined || !Number.isInteger(days) || days < 1) throw new Unsupported(String(days));
  return { intervalHours: days * 24, windowHours: duration ?? 24 };
}

const cache = new Map<string, ScheduleShape | undefined>();
const byDays: (ScheduleShape | undefined)[] = [];
const CACHE_LIMIT = 10_000;

/**
 * The interval and window of `rules`, or undefined when there are no rules or they cannot be
 * understood. Memoised per distinct rules, so scanning many secrets with the same schedule is cheap.
 */
export function scheduleShape(rules: RotationRulesLike | undefined): ScheduleShape | undefined {
  if (!rules) return undefined;
  const days = rules.AutomaticallyAfterDays;
  // The common case, without building a cache key: whole days, no expression, default window.
  if (rules.ScheduleExpression === undefined && rules.Duration === undefined && days !== undefined && Number.isInteger(days) && days >= 1 && days <= 1000) {
    return (byDays[days] ??= { intervalHours: days * 24, windowHours: 24 });
  }
  const key = `${rules.AutomaticallyAfterDays ?? ''}|${rules.ScheduleExpression ?? ''}|${rules.Duration ?? ''}`;
  if (cache.has(key)) return cache.get(key);
  let shape: ScheduleShape | undefined;
  try {
    shape = shapeOf(rules);
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
    shape = undefined;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, shape);
  return shape;
}
