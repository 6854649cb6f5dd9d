import { schemaFingerprint } from '@riposte/actions';
import type { ActionDefinition, JsonSchema } from '@riposte/core';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';

/** Every schema the function's registry compiles: each action's params, and its inverse's recorded state. */
const schemasOf = (actions: readonly ActionDefinition<unknown, unknown>[]): JsonSchema[] =>
  actions.flatMap((action) => [
    action.paramsSchema,
    ...(action.undo !== undefined && !('none' in action.undo) ? [action.undo.stateSchema] : []),
  ]);

/**
 * The source of the module that stands in for the actions' schema compiler in the bundle: ajv
 * standalone validators of every schema the registry will compile, found by their fingerprint. The
 * schemas are compiled here under the same strict options and checked against the meta-schema, so a
 * cold start neither loads ajv's compiler nor runs it; a schema without a validator (one that changed
 * after the build) fails the function's start.
 */
export const standaloneValidators = (
  actions: readonly ActionDefinition<unknown, unknown>[],
  fingerprintModule: string,
): string => {
  const ajv = new Ajv({ strict: true, allErrors: true, code: { source: true, esm: true } });
  const exports = new Map<string, string>();
  for (const schema of schemasOf(actions)) {
    const fingerprint = schemaFingerprint(schema);
    if ([...exports.values()].includes(fingerprint)) continue;
    const name = `v${exports.size}`;
    ajv.addSchema({ ...schema, $id: `s${exports.size}` });
    exports.set(name, fingerprint);
  }
  const code = standalone.default(
    ajv,
    Object.fromEntries([...exports.keys()].map((name, index) => [name, `s${index}`])),
  );
  const table = [...exports.entries()].map(
    ([name, fingerprint]) => `[${JSON.stringify(fingerprint)}, ${name}]`,
  );
  return `${code}
import { schemaFingerprint } from ${JSON.stringify(fingerprintModule)};
const validators = new Map([${table.join(', ')}]);
export const compileSchema = (schema) => {
  const validate = validators.get(schemaFingerprint(schema));
  if (validate === undefined) {
    throw new Error('no validator was generated for this schema when the function was built: run riposte build again');
  }
  return validate;
};
`;
};
