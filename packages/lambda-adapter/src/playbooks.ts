import { type ActionRegistry, type Playbook, PlaybookValidationError } from '@riposte/core';

/** The playbooks of a directory, or the bundled ones; none at all is a configuration error too. */
export const loadFunctionPlaybooks = async (
  directory: string | undefined,
  registry: ActionRegistry<unknown>,
  bundled: (registry: ActionRegistry<unknown>) => Promise<Playbook[]>,
): Promise<Playbook[]> => {
  // The YAML parser and the playbook schema's compiler are loaded only for a directory: the bundle's
  // playbooks were compiled when it was built.
  const playbooks =
    directory === undefined
      ? await bundled(registry)
      : await (await import('@riposte/core/playbooks')).loadPlaybooks([directory], { registry });
  if (playbooks.length === 0) {
    const where = directory ?? 'the bundle';
    throw new PlaybookValidationError([
      {
        file: where,
        line: 0,
        column: 0,
        pointer: '',
        message: 'no playbooks found: the function would never act',
      },
    ]);
  }
  return playbooks;
};
