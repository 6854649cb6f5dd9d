/**
 * Security Hub keeps GuardDuty blocks that ASFF has no place for as flattened text: in a resource's
 * `Details.Other` (`kubernetesDetails/kubernetesUserDetails/username`) and in `ProductFields`
 * (`aws/guardduty/service/runtimeDetails/process/name`). A list element is written `groups.0_`, an
 * empty list `"[]"`, an absent value `""`.
 *
 * `readFlattened` rebuilds the nested object those keys stand for and hands it to the reader of the
 * GuardDuty block, so both formats share one reader. Numbers and booleans arrive as text, which the
 * readers accept. An error the reader raises names the flattened key it came from.
 */
import { FindingFormatError } from '../errors.js';
import { isObject, type JsonObject, type Located, pointer } from './read.js';

/** Flattened list indexes above this are not GuardDuty's (its longest lists hold a few hundred items). */
const MAX_FLAT_INDEX = 999;

const ELEMENT = /^(.+)\.(\d+)_$/;

const emptyObject = (): JsonObject => Object.create(null) as JsonObject;

interface Rebuilt {
  value: JsonObject;
  /** The JSON pointer each rebuilt node would have, to the pointer of the key it came from. */
  sources: Map<string, string>;
}

/** The nested object under `prefix` (`kubernetesDetails/`), or undefined when no key has the prefix. */
const rebuild = (fields: Located<JsonObject>, prefix: string, root: string): Rebuilt | undefined => {
  const value = emptyObject();
  const sources = new Map<string, string>();
  let found = false;
  for (const [key, leaf] of Object.entries(fields.value)) {
    if (!key.startsWith(prefix)) continue;
    const source = pointer(fields.path, key);
    if (leaf === '' || leaf === null || leaf === undefined) continue;
    found = true;
    let node: JsonObject | unknown[] = value;
    let at = root;
    const segments = key.slice(prefix.length).split('/');
    segments.forEach((segment, index) => {
      const element = ELEMENT.exec(segment);
      const name = element ? (element[1] as string) : segment;
      const last = index === segments.length - 1;
      const container = node as JsonObject;
      at = pointer(at, name);
      if (!sources.has(at)) sources.set(at, source);
      if (element) {
        const position = Number(element[2]);
        if (position > MAX_FLAT_INDEX) {
          throw new FindingFormatError(`list index ${position} is above ${MAX_FLAT_INDEX}`, source);
        }
        const existing = container[name];
        const list: unknown[] = Array.isArray(existing) ? existing : [];
        if (existing !== undefined && !Array.isArray(existing)) {
          throw new FindingFormatError(`"${name}" is both a list and a value`, source);
        }
        container[name] = list;
        at = pointer(at, position);
        if (!sources.has(at)) sources.set(at, source);
        if (last) {
          list[position] = leaf;
          return;
        }
        const item = list[position];
        if (item !== undefined && !isObject(item)) {
          throw new FindingFormatError(`"${name}.${position}_" is both an object and a value`, source);
        }
        const next = (item as JsonObject | undefined) ?? emptyObject();
        list[position] = next;
        node = next;
        return;
      }
      if (last) {
        if (container[name] !== undefined) {
          throw new FindingFormatError(`"${name}" is given twice`, source);
        }
        container[name] = leaf === '[]' ? [] : leaf;
        return;
      }
      const existing = container[name];
      if (existing !== undefined && !isObject(existing)) {
        throw new FindingFormatError(`"${name}" is both an object and a value`, source);
      }
      const next = (existing as JsonObject | undefined) ?? emptyObject();
      container[name] = next;
      node = next;
    });
  }
  if (!found) return undefined;
  // Lists written sparsely (`x.0_`, `x.2_`) close up; readers see no holes.
  const compact = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let index = node.length - 1; index >= 0; index--) if (!(index in node)) node.splice(index, 1);
      node.forEach(compact);
    } else if (isObject(node)) {
      for (const child of Object.values(node)) compact(child);
    }
  };
  compact(value);
  return { value, sources };
};

/**
 * The flattened key a rebuilt node's pointer comes from; for a node no key wrote (a missing field),
 * the object that holds the flattened keys.
 */
const sourceOf = (sources: Map<string, string>, at: string, fallback: string): string =>
  sources.get(at) ?? fallback;

const ROOT = '/~flattened';

/**
 * Reads the block written flattened under `prefix` in `fields` with `read`, as if it were nested.
 * Undefined when no key has the prefix. FindingFormatErrors point at the flattened key.
 */
export const readFlattened = <T>(
  fields: Located<JsonObject> | undefined,
  prefix: string,
  read: (block: Located<JsonObject>) => T,
): T | undefined => {
  if (!fields) return undefined;
  const rebuilt = rebuild(fields, prefix, ROOT);
  if (!rebuilt) return undefined;
  try {
    return read({ value: rebuilt.value, path: ROOT });
  } catch (error) {
    if (!(error instanceof FindingFormatError) || !error.path.startsWith(ROOT)) throw error;
    const reason = error.message.startsWith(`${error.path}: `)
      ? error.message.slice(error.path.length + 2)
      : error.message;
    throw new FindingFormatError(reason, sourceOf(rebuilt.sources, error.path, fields.path));
  }
};
