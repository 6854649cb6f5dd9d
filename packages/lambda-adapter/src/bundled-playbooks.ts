import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ActionRegistry, compilePlaybooks, type Playbook } from '@riposte/core';

const RULES = fileURLToPath(new URL('../../../rules/', import.meta.url));

const isPlaybookFile = (name: string): boolean => /\.ya?ml$/.test(name) && !/\.cases\.ya?ml$/.test(name);

/**
 * The playbooks shipped in `rules/` (not their `.cases.yaml`), compiled. Run from the sources or the
 * tsc build, this reads and compiles the checkout's files; the Lambda bundle replaces this module with
 * the playbooks compiled at build time, so a bad playbook fails the build and a cold start parses no YAML.
 */
export const bundledPlaybooks = async (registry: ActionRegistry<unknown>): Promise<Playbook[]> => {
  const names = (await readdir(RULES)).filter(isPlaybookFile).sort();
  const sources = await Promise.all(
    names.map(async (name) => ({ file: `rules/${name}`, text: await readFile(join(RULES, name), 'utf8') })),
  );
  return compilePlaybooks(sources, { registry });
};
