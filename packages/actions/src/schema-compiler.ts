import type { JsonSchema } from '@riposte/core';
import { Ajv, type ValidateFunction } from 'ajv';

// Built-in schemas are checked against the JSON Schema meta-schema by the registry's tests; compiling
// the meta-schema again at every start costs ~50 ms, so only actions from elsewhere pay for it.
let trustedCompiler: Ajv | undefined;
let checkedCompiler: Ajv | undefined;

/**
 * Compiles an action's params or undo-state schema under ajv strict mode. The Lambda bundle replaces
 * this module with the validators `riposte build` generated from the same schemas (ajv standalone
 * code), so a cold start never runs ajv's compiler.
 */
export const compileSchema = (schema: JsonSchema, options: { trusted: boolean }): ValidateFunction => {
  if (options.trusted) {
    trustedCompiler ??= new Ajv({ strict: true, allErrors: true, validateSchema: false });
    return trustedCompiler.compile(schema);
  }
  checkedCompiler ??= new Ajv({ strict: true, allErrors: true });
  return checkedCompiler.compile(schema);
};
