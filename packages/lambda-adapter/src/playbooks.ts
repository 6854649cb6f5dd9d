import {
  type ActionRegistry,
  compilePlaybooks,
  loadPlaybooks,
  type Playbook,
  type PlaybookSource,
  PlaybookValidationError,
} from '@riposte/core';

/** The playbooks of a directory, or the bundled ones; none at all is a configuration error too. */
export const loadFunctionPlaybooks = async (
  directory: string | undefined,
  registry: ActionRegistry<unknown>,
  bundled: () => Promise<PlaybookSource[]>,
): Promise<Playbook[]> => {
  const playbooks =
    directory === undefined
      ? compilePlaybooks(await bundled(), { registry })
      : await loadPlaybooks([directory], { registry });
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
