import {
  type ActionRegistry,
  type ConfigurationIssue,
  loadPlaybooks,
  type Playbook,
  PlaybookValidationError,
  parsePlaybooks,
} from '@riposte/core';
import type { PlaybookText } from './bundled-playbooks.js';

/**
 * Compiles playbook texts together: every problem in every file is collected into one
 * `PlaybookValidationError`, including a name used in two files.
 */
export const compilePlaybookTexts = (
  texts: PlaybookText[],
  registry: ActionRegistry<unknown>,
): Playbook[] => {
  const issues: ConfigurationIssue[] = [];
  const playbooks: Playbook[] = [];
  for (const { file, text } of texts) {
    try {
      playbooks.push(...parsePlaybooks(text, file, { registry }));
    } catch (error) {
      if (!(error instanceof PlaybookValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  const byName = new Map<string, Playbook>();
  for (const playbook of playbooks) {
    const first = byName.get(playbook.name);
    if (first) {
      const { file, line, column } = first.location;
      issues.push({
        ...playbook.location,
        pointer: '/name',
        message: `duplicate playbook name "${playbook.name}"; also defined at ${file}:${line}:${column}`,
      });
    } else byName.set(playbook.name, playbook);
  }
  if (issues.length > 0) throw new PlaybookValidationError(issues);
  return playbooks;
};

/** The playbooks of a directory, or the bundled ones; none at all is a configuration error too. */
export const loadFunctionPlaybooks = async (
  directory: string | undefined,
  registry: ActionRegistry<unknown>,
  bundled: () => Promise<PlaybookText[]>,
): Promise<Playbook[]> => {
  const playbooks =
    directory === undefined
      ? compilePlaybookTexts(await bundled(), registry)
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
