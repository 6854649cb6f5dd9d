import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type ActionRegistry, compilePlaybooks, type Playbook } from '@riposte/core';

const isPlaybookFile = (name: string): boolean => /\.ya?ml$/.test(name) && !/\.cases\.ya?ml$/.test(name);

/**
 * The shipped playbooks of `@riposte/rules` (not their `.cases.yaml`), compiled. Run from the tsc
 * build, this reads and compiles the installed package's files; `riposte build` replaces this module
 * with the project's playbooks compiled at build time, so a bad playbook fails the build and a cold
 * start parses no YAML.
 */
export const bundledPlaybooks = async (registry: ActionRegistry<unknown>): Promise<Playbook[]> => {
  const directory = dirname(createRequire(import.meta.url).resolve('@riposte/rules/package.json'));
  const names = (await readdir(directory)).filter(isPlaybookFile).sort();
  const sources = await Promise.all(
    names.map(async (name) => ({
      file: `@riposte/rules/${name}`,
      text: await readFile(join(directory, name), 'utf8'),
    })),
  );
  return compilePlaybooks(sources, { registry });
};
