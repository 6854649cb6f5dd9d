import type { ErrorObject } from 'ajv';

/**
 * One ajv error, said once: where it is and what is wrong. Playbooks, cases and action params all
 * validate with ajv; each places the problem in its own input (a YAML node, a params pointer).
 */
export interface SchemaProblem {
  error: ErrorObject;
  /** The JSON pointer of the offending value; for a key problem, of the object holding the key. */
  pointer: string;
  /** The key a missing-key, unknown-key or disallowed-key-name problem is about. */
  key?: string;
  message: string;
}

/** A caller's own wording for some errors (its patterns, its unions); undefined keeps the default. */
export type SchemaWording = (error: ErrorObject) => string | undefined;

const KEY_PARAMS: Readonly<Record<string, string>> = {
  required: 'missingProperty',
  additionalProperties: 'additionalProperty',
  propertyNames: 'propertyName',
};

const keyOf = (error: ErrorObject): string | undefined => {
  const name = KEY_PARAMS[error.keyword];
  const value = name === undefined ? undefined : (error.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
};

const defaultMessage = (error: ErrorObject, key: string | undefined): string => {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `is missing required key "${key}"`;
    case 'additionalProperties':
      return `has unknown key "${key}"`;
    case 'propertyNames':
      return `has a key that is not allowed: "${key}"`;
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'minItems':
    case 'minLength':
      return params.limit === 1 ? 'must not be empty' : (error.message ?? `fails ${error.keyword}`);
    case 'uniqueItems':
      return 'must not repeat an item';
    case 'type':
      return `must be ${String(params.type)}`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
};

/** Every ajv error as a problem, in ajv's order. */
export const schemaProblems = (
  errors: readonly ErrorObject[],
  wording: SchemaWording = () => undefined,
): SchemaProblem[] =>
  errors.map((error) => {
    const key = keyOf(error);
    return {
      error,
      pointer: error.instancePath,
      ...(key === undefined ? {} : { key }),
      message: wording(error) ?? defaultMessage(error, key),
    };
  });

/** A JSON pointer segment for a key (RFC 6901). */
export const pointerSegment = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
