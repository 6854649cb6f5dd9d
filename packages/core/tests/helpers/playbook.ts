/**
 * Builds `Playbook` objects as the YAML loader would return them, with its defaults filled in, so
 * matcher tests do not depend on the loader.
 */
import type { SourceLocation } from '../../src/errors.js';
import { type Criteria, DEFAULT_MAX_TARGETS, DEFAULT_PRIORITY, type Playbook } from '../../src/playbook.js';

export const TEST_LOCATION: SourceLocation = { file: 'test.yaml', line: 1, column: 1, pointer: '' };

/** A playbook named `name` that matches on `match`; any other field may be overridden. */
export const buildPlaybook = (
  name: string,
  match: Criteria,
  overrides: Partial<Omit<Playbook, 'name' | 'match'>> = {},
): Playbook => ({
  name,
  enabled: true,
  priority: DEFAULT_PRIORITY,
  match,
  exclude: [],
  actions: [
    {
      id: 'notify',
      action: 'notify',
      params: {},
      after: [],
      onError: 'continue',
      location: { ...TEST_LOCATION, pointer: '/actions/0' },
    },
  ],
  limits: { maxTargets: DEFAULT_MAX_TARGETS },
  rerunOnUpdate: false,
  location: { ...TEST_LOCATION },
  ...overrides,
});
