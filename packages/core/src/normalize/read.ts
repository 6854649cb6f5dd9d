/**
 * Defensive readers over untrusted JSON. Each takes the object, its JSON pointer and a key, and
 * either returns a value of the expected type or throws FindingFormatError naming the exact path.
 *
 * Conventions shared by every reader:
 * - `null`, like a missing key, means "absent" (GuardDuty writes `"platform": null` and the like).
 * - A key is looked up as written (camelCase, as EventBridge and the GuardDuty API spell it) and then
 *   with a capital first letter, as the AWS SDK v3 spells the same shapes (`accountId` / `AccountId`).
 * - Numbers may arrive as JSON numbers or as strings, also in E-notation (`"1.513612691551E9"`).
 */
import { FindingFormatError } from '../errors.js';
import type { Tags } from '../finding.js';

export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const POINTER_ESCAPE = /[~/]/g;

/** The JSON pointer of `key` inside the node at `path`. */
export const pointer = (path: string, key: string | number): string => {
  const text = String(key);
  return `${path}/${text.includes('~') || text.includes('/') ? text.replace(POINTER_ESCAPE, (c) => (c === '~' ? '~0' : '~1')) : text}`;
};

/** What kind of value this is (`null`, `an array`, `an object`, `number`, ...), never the value itself. */
export const kindOf = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : typeof value;

/** The kind of a value, and a scalar's JSON text (`string "high"`, `number 11`). */
export const describe = (value: unknown): string =>
  value === null || typeof value === 'object' ? kindOf(value) : `${typeof value} ${JSON.stringify(value)}`;

const QUOTED_LENGTH = 80;

/**
 * A string as JSON text, cut after 80 characters; any other value by its kind. For messages that echo
 * what an untrusted input claims (a source, a detail-type, a ProductArn) without echoing all of it.
 */
export const quoteValue = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value.length > QUOTED_LENGTH ? `${value.slice(0, QUOTED_LENGTH)}…` : value)
    : kindOf(value);

const pascalNames = new Map<string, string>();
const pascal = (key: string): string => {
  let name = pascalNames.get(key);
  if (name === undefined) {
    name = key.charAt(0).toUpperCase() + key.slice(1);
    pascalNames.set(key, name);
  }
  return name;
};

/** A value and where it sits in the input. */
export interface Located<T> {
  value: T;
  path: string;
}

/** The value under `key` (or its PascalCase spelling), or undefined when absent or null. */
export const field = (obj: JsonObject, path: string, key: string): Located<unknown> | undefined => {
  let name = key;
  let value = obj[key];
  if (value === undefined) {
    name = pascal(key);
    value = obj[name];
  }
  return value === undefined || value === null ? undefined : { value, path: pointer(path, name) };
};

export const wrongTypeReason = (expected: string, value: unknown): string =>
  `expected ${expected}, got ${describe(value)}`;

export const wrongType = (path: string, expected: string, value: unknown): FindingFormatError =>
  new FindingFormatError(wrongTypeReason(expected, value), path);

export const missingReason = (key: string, expected: string): string =>
  `missing required ${expected} "${key}"`;

export const missing = (path: string, key: string, expected: string): FindingFormatError =>
  new FindingFormatError(missingReason(key, expected), pointer(path, key));

/** A string, or undefined when absent or empty. */
export const optionalString = (obj: JsonObject, path: string, key: string): string | undefined => {
  const found = field(obj, path, key);
  if (!found) return undefined;
  if (typeof found.value !== 'string') throw wrongType(found.path, 'a string', found.value);
  return found.value === '' ? undefined : found.value;
};

export const requiredString = (obj: JsonObject, path: string, key: string): string => {
  const value = optionalString(obj, path, key);
  if (value === undefined) throw missing(path, key, 'non-empty string');
  return value;
};

/** A string, or a number written as text (GuardDuty writes an ASN either way). */
export const optionalText = (obj: JsonObject, path: string, key: string): string | undefined => {
  const found = field(obj, path, key);
  if (!found) return undefined;
  if (typeof found.value === 'number' && Number.isFinite(found.value)) return String(found.value);
  if (typeof found.value !== 'string') throw wrongType(found.path, 'a string', found.value);
  return found.value === '' ? undefined : found.value;
};

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite number from a JSON number or its text (`8`, `"8"`, `"1.513612691551E9"`). */
export const toNumber = (value: unknown, path: string): number => {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (NUMBER_TEXT.test(text)) {
      const number = Number(text);
      if (Number.isFinite(number)) return number;
    }
  }
  throw wrongType(path, 'a finite number (or its text)', value);
};

/** A boolean from `true`/`false` or their text (Security Hub writes `"archived": "false"`). */
export const toBoolean = (value: unknown, path: string): boolean => {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw wrongType(path, 'a boolean', value);
};

export const optionalBoolean = (obj: JsonObject, path: string, key: string): boolean | undefined => {
  const found = field(obj, path, key);
  return found ? toBoolean(found.value, found.path) : undefined;
};

export const optionalObject = (
  obj: JsonObject,
  path: string,
  key: string,
): Located<JsonObject> | undefined => {
  const found = field(obj, path, key);
  if (!found) return undefined;
  if (!isObject(found.value)) throw wrongType(found.path, 'an object', found.value);
  return { value: found.value, path: found.path };
};

export const optionalArray = (obj: JsonObject, path: string, key: string): Located<unknown[]> | undefined => {
  const found = field(obj, path, key);
  if (!found) return undefined;
  if (!Array.isArray(found.value)) throw wrongType(found.path, 'an array', found.value);
  return { value: found.value, path: found.path };
};

/** The objects of an array, each with its path; null elements are skipped, anything else is an error. */
export const objectsOf = (list: Located<unknown[]> | undefined): Located<JsonObject>[] => {
  if (!list) return [];
  const objects: Located<JsonObject>[] = [];
  list.value.forEach((element, index) => {
    if (element === null) return;
    const path = pointer(list.path, index);
    if (!isObject(element)) throw wrongType(path, 'an object', element);
    objects.push({ value: element, path });
  });
  return objects;
};

/** The strings of an array (empty strings dropped). */
export const stringsOf = (list: Located<unknown[]> | undefined): string[] => {
  if (!list) return [];
  const strings: string[] = [];
  list.value.forEach((element, index) => {
    if (typeof element !== 'string') throw wrongType(pointer(list.path, index), 'a string', element);
    if (element !== '') strings.push(element);
  });
  return strings;
};

/**
 * Tags as a record. GuardDuty writes `[{ "key": "Name", "value": "web" }]` (the SDK: `Key`/`Value`);
 * Security Hub writes `{ "Name": "web" }`. Both are accepted.
 */
export const tagsAt = (obj: JsonObject, path: string, key: string): Tags => {
  const found = field(obj, path, key);
  const tags: Tags = {};
  if (!found) return tags;
  if (Array.isArray(found.value)) {
    for (const tag of objectsOf({ value: found.value, path: found.path })) {
      const name = requiredString(tag.value, tag.path, 'key');
      tags[name] = optionalText(tag.value, tag.path, 'value') ?? '';
    }
    return tags;
  }
  if (!isObject(found.value)) throw wrongType(found.path, 'a list of {key, value} or an object', found.value);
  for (const [name, value] of Object.entries(found.value)) {
    if (typeof value !== 'string') throw wrongType(pointer(found.path, name), 'a string', value);
    tags[name] = value;
  }
  return tags;
};

// 2017-12-08, 2017-12-08T15:32:49Z, 2017-12-08T15:32:49.865Z, 2017-12-08 15:32:49+01:00, ...
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

// Epoch values below this are seconds (up to year 5138); at or above it, milliseconds (from 1973).
const EPOCH_MILLIS_THRESHOLD = 1e11;

const fromEpoch = (epoch: number, path: string, value: unknown): string => {
  const millis = Math.abs(epoch) >= EPOCH_MILLIS_THRESHOLD ? epoch : epoch * 1000;
  const date = new Date(Math.round(millis));
  if (Number.isNaN(date.getTime())) throw wrongType(path, 'a timestamp', value);
  return date.toISOString();
};

const fromIso = (text: string, path: string, value: unknown): string | undefined => {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [
    ,
    y,
    mo,
    d,
    h = '0',
    mi = '0',
    s = '0',
    fraction = '',
    ,
    sign,
    offsetHours = '0',
    offsetMinutes = '0',
  ] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const days = month === 2 && !isLeapYear(year) ? 28 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) {
    throw new FindingFormatError(`expected a valid timestamp, got ${JSON.stringify(value)}`, path);
  }
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) : 0;
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000;
  return new Date(utc).toISOString();
};

/**
 * An ISO-8601 UTC string from the timestamp forms findings use: ISO text with or without fraction
 * and zone (no zone means UTC), epoch seconds or milliseconds as numbers or text, a Date.
 */
const toTimestamp = (value: unknown, path: string): string => {
  if (value instanceof Date) {
    if (!Number.isNaN(value.getTime())) return value.toISOString();
  } else if (typeof value === 'number') {
    if (Number.isFinite(value)) return fromEpoch(value, path, value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (NUMBER_TEXT.test(text)) return fromEpoch(toNumber(text, path), path, value);
    const iso = fromIso(text, path, value);
    if (iso) return iso;
  }
  throw wrongType(path, 'a timestamp (ISO-8601 text, or epoch seconds or milliseconds)', value);
};

export const optionalTimestamp = (obj: JsonObject, path: string, key: string): string | undefined => {
  const found = field(obj, path, key);
  return found ? toTimestamp(found.value, found.path) : undefined;
};

interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

const ARN = /^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)$/;

/** The parts of an ARN, or undefined when the text is not one. */
export const parseArn = (text: string): ArnParts | undefined => {
  const match = ARN.exec(text);
  if (!match) return undefined;
  const [, partition = '', service = '', region = '', account = '', resource = ''] = match;
  return { partition, service, region, account, resource };
};

/** An integer in [min, max], from a JSON number or its text, or undefined when absent. */
export const optionalInteger = (
  obj: JsonObject,
  path: string,
  key: string,
  min: number,
  max: number,
): number | undefined => {
  const found = field(obj, path, key);
  if (!found) return undefined;
  const number = toNumber(found.value, found.path);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw wrongType(found.path, `a whole number from ${min} to ${max}`, found.value);
  }
  return number;
};

/** A finite number from a JSON number or its text, or undefined when absent. */
export const optionalNumber = (obj: JsonObject, path: string, key: string): number | undefined => {
  const found = field(obj, path, key);
  return found ? toNumber(found.value, found.path) : undefined;
};

/**
 * A list of at most `max` items (the bound GuardDuty's API documents for it). A longer list is not
 * one GuardDuty wrote, and reading it would let one input cost without bound.
 */
export const boundedArray = (
  obj: JsonObject,
  path: string,
  key: string,
  max: number,
): Located<unknown[]> | undefined => {
  const list = optionalArray(obj, path, key);
  if (list && list.value.length > max) {
    throw new FindingFormatError(`expected at most ${max} items, got ${list.value.length}`, list.path);
  }
  return list;
};
