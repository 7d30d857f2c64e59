// RotateSecret's RotationRules for the sandbox: the API layer over the shared schedule grammar.
//
// The grammar itself (rate(), AWS's six-field cron(), Duration, windows and NextRotationDate) lives in
// shared/schedule/, the one module under shared/ the sandbox imports (see the note there), so that the
// sandbox and the compliance scan read schedules the same way. What stays here is what the API adds:
// the member types, the Smithy-model constraints and the error classes.
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
// in the framework's wording; everything the operation itself rejects (the grammar's ScheduleError) →
// InvalidParameterException, with AWS's own wording where it is known ("You cannot specify both
// rotation frequency and schedule expression together.", seen in hashicorp/terraform-provider-aws#33329).

import * as schedule from '../../shared/schedule';
import { ApiError } from './errors';
import type { RotationRules } from './model';

export type { RotationWindow } from '../../shared/schedule';

const { MIN_DAYS, MAX_AUTOMATICALLY_AFTER_DAYS } = schedule;
const MAX_SCHEDULE_EXPRESSION_LENGTH = 256;
const DURATION_PATTERN = /^[0-9h]+$/;

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

/** The grammar's refusals are InvalidParameterException. */
function asApiError<T>(action: () => T): T {
  try {
    return action();
  } catch (err) {
    if (err instanceof schedule.ScheduleError) throw new ApiError('InvalidParameterException', err.message);
    throw err;
  }
}

function compileRules(raw: unknown): schedule.CompiledRules {
  const rules = readRules(raw);
  return asApiError(() => schedule.compileRotationRules(rules));
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Validates RotateSecret's RotationRules and returns them without unknown members. */
export function validateRotationRules(raw: unknown): RotationRules {
  compileRules(raw);
  return readRules(raw);
}

/** The next rotation window after the rotation at `from` (normally LastRotatedDate). */
export function rotationWindow(rules: RotationRules, from: Date): schedule.RotationWindow {
  if (Number.isNaN(from.getTime())) throw new RangeError('rotationWindow: `from` is not a valid date');
  const compiled = compileRules(rules);
  return asApiError(() => schedule.rotationWindow(compiled, from));
}

/** NextRotationDate as DescribeSecret reports it: the last second of the next rotation window. */
export function nextRotationDate(rules: RotationRules, from: Date): Date {
  return rotationWindow(rules, from).end;
}
