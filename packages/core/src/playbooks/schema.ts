import { Ajv, type ValidateFunction } from 'ajv';
import type { JsonSchema } from '../action.js';
import schema from './playbook.schema.json' with { type: 'json' };

/**
 * The playbook JSON Schema (draft-07). The package publishes the same document as
 * `@riposte/core/playbook.schema.json` (and, in a checkout, `packages/core/src/playbooks/playbook.schema.json`) for editors (`# yaml-language-server: $schema=...`).
 * It checks shape only; the loader adds what a schema cannot say (unique names, known tactics,
 * step references, condition trees).
 */
export const playbookSchema: JsonSchema = schema;

let validator: ValidateFunction | undefined;

/** The compiled schema, built on first use and shared by every load in the process. */
export const playbookValidator = (): ValidateFunction => {
  // verbose: errors carry the failing schema and data, which union errors need to pick the branch meant.
  // The schema is ours, checked against the meta-schema by its tests: skipping that here saves ~50 ms
  // of a Lambda cold start.
  validator ??= new Ajv({ strict: true, allErrors: true, verbose: true, validateSchema: false }).compile(
    playbookSchema,
  );
  return validator;
};

/** A named definition of the playbook schema (`#/definitions/<name>`). */
export const schemaDefinition = (ref: string): JsonSchema | undefined => {
  const prefix = '#/definitions/';
  if (!ref.startsWith(prefix)) return undefined;
  const definitions = playbookSchema.definitions as Record<string, JsonSchema>;
  return definitions[ref.slice(prefix.length)];
};
