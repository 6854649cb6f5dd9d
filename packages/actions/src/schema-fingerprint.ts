import { createHash } from 'node:crypto';
import type { JsonSchema } from '@riposte/core';

/**
 * Names a schema by its content: the validators generated at build time are looked up by it, so a
 * schema that changed since the build finds no validator and the function refuses to start.
 */
export const schemaFingerprint = (schema: JsonSchema): string =>
  createHash('sha256').update(JSON.stringify(schema)).digest('base64url');
