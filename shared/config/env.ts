// Reading settings from the environment, the same way in every function: one spelling of yes and
// no, whole numbers within bounds, and an error (of the caller's class) that names the variable.

export type Env = Record<string, string | undefined>;

/** Makes the caller's error (ConfigError, InvalidInputError, ...) from a message. */
export type Fail = (message: string) => Error;

const YES = ['true', '1', 'y', 'yes', 'on'];
const NO = ['false', '0', 'n', 'no', 'off'];

/** true, 1, y, yes, on / false, 0, n, no, off (any case; AWS's templates take the first four of each); unset or empty: `fallback`. */
export function envFlag(env: Env, name: string, fallback: boolean, fail: Fail): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return fallback;
  if (YES.includes(value)) return true;
  if (NO.includes(value)) return false;
  throw fail(`Environment variable ${name} must be true or false (also 1/0, yes/no, on/off), got "${value.slice(0, 20)}".`);
}

/** A whole number from `min` to `max`; unset or empty: `fallback`. */
export function envInteger(env: Env, name: string, fallback: number, min: number, max: number, fail: Fail): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw fail(`Environment variable ${name} must be a whole number from ${min} to ${max}, got "${value.slice(0, 20)}".`);
  }
  return parsed;
}
