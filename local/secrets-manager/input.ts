import { ApiError, validation } from './errors';

/** A member of the wrong JSON type fails in AWS's deserializer, before any validation. */
const wrongType = (name: string, expected: string): ApiError =>
  new ApiError('SerializationException', `Member '${name}' must be ${expected}.`);

/**
 * Typed reads of a request body's members, failing the way AWS's validation layer does
 * (ValidationException naming the member) instead of letting a wrong type reach the store.
 */
export type Body = Record<string, unknown>;

const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

export function optionalString(
  body: Body,
  name: string,
  limits: { min?: number; max?: number; pattern?: RegExp } = {},
): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(name, 'a string');
  const { min = 0, max = Number.MAX_SAFE_INTEGER, pattern } = limits;
  if (value.length < min || value.length > max) {
    throw validation(
      `Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must have length between ${min} and ${max}`,
    );
  }
  if (pattern && !pattern.test(value)) {
    throw validation(
      `Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`,
    );
  }
  return value;
}

export function requiredString(body: Body, name: string, limits: { min?: number; max?: number; pattern?: RegExp } = {}): string {
  const value = optionalString(body, name, limits);
  if (value === undefined) throw validation(`Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

export function optionalBoolean(body: Body, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw wrongType(name, 'a boolean');
  return value;
}

export function optionalInteger(body: Body, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw wrongType(name, 'an integer');
  }
  if (value < min || value > max) {
    throw validation(
      `Value '${value}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must have value ${value < min ? 'greater than or equal to ' + min : 'less than or equal to ' + max}`,
    );
  }
  return value;
}

export function optionalStringList(body: Body, name: string, limits: { min?: number; max?: number } = {}): string[] | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw wrongType(name, 'a list of strings');
  }
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = limits;
  if (value.length < min || value.length > max) {
    throw validation(
      `Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must have length between ${min} and ${max}`,
    );
  }
  return value;
}

/** SecretBinary travels base64-encoded in JSON 1.1 (the SDK encodes a Uint8Array that way). */
export function optionalBlob(body: Body, name: string): Buffer | undefined {
  const value = optionalString(body, name);
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw validation(`Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must be base64-encoded`);
  }
  return Buffer.from(value, 'base64');
}

export function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
