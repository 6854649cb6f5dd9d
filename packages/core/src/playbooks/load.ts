import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigurationIssue } from '../errors.js';
import type { Playbook } from '../playbook.js';
import { compilePlaybooks, type LoadOptions, type PlaybookSource } from './parse.js';

const isPlaybookFile = (name: string): boolean => /\.ya?ml$/.test(name) && !/\.cases\.ya?ml$/.test(name);

const unreadable = (file: string, error: unknown): ConfigurationIssue => {
  const code = (error as NodeJS.ErrnoException).code;
  const message =
    code === 'ENOENT' ? 'no such file or directory' : `cannot be read (${code ?? (error as Error).message})`;
  return { file, line: 0, column: 0, pointer: '', message, code: 'FILE_UNREADABLE' };
};

/** Playbook files under `directory`, recursively, sorted by path so loads are deterministic. */
const playbookFiles = async (directory: string): Promise<string[]> => {
  const entries = await readdir(directory, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await playbookFiles(path)));
    else if (isPlaybookFile(entry.name)) files.push(path);
  }
  return files;
};

/**
 * Loads playbooks from files and directories (searched recursively for `*.yaml` / `*.yml`, leaving out
 * test cases `*.cases.yaml`). A file named directly is loaded whatever its name. Throws one
 * `PlaybookValidationError` with every problem in every file, including paths that cannot be read.
 */
export const loadPlaybooks = async (paths: string[], options: LoadOptions = {}): Promise<Playbook[]> => {
  const issues: ConfigurationIssue[] = [];
  const files: string[] = [];
  for (const path of paths) {
    try {
      files.push(...((await stat(path)).isDirectory() ? await playbookFiles(path) : [path]));
    } catch (error) {
      issues.push(unreadable(path, error));
    }
  }
  const inputs: PlaybookSource[] = [];
  for (const file of new Set(files)) {
    try {
      inputs.push({ file, text: await readFile(file, 'utf8') });
    } catch (error) {
      issues.push(unreadable(file, error));
    }
  }
  return compilePlaybooks(inputs, options, issues);
};
