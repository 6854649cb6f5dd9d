// Typed from the sources, as the playbook loader tests that use it are.
import type { ActionDefinition, ActionPhase } from '../../src/action.js';

/** An action that only exists to be named by a playbook under test: it targets nothing and never acts. */
export const inertAction = (
  name: string,
  {
    phase = 'preserve',
    paramsSchema = {},
  }: { phase?: ActionPhase; paramsSchema?: ActionDefinition['paramsSchema'] } = {},
): ActionDefinition => ({
  name,
  summary: `${name} (test double)`,
  phase,
  paramsSchema,
  permissions: [],
  grants: () => [],
  resourceKinds: ['instance'],
  example: `- action: ${name}`,
  idempotency: 'never mutates',
  targets: () => ({ targets: [], reason: 'test double' }),
  plan: async () => ({ status: 'no-op', reason: 'test double', lookups: [], calls: [] }),
  execute: async () => ({ status: 'skipped', reason: 'test double', calls: [] }),
});
