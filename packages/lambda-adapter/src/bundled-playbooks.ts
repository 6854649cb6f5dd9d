import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlaybookSource } from '@riposte/core';

const RULES = fileURLToPath(new URL('../../../rules/', import.meta.url));

const isPlaybookFile = (name: string): boolean => /\.ya?ml$/.test(name) && !/\.cases\.ya?ml$/.test(name);

/**
 * The playbooks shipped in `rules/` (not their `.cases.yaml`). Run from the sources or the tsc build,
 * this reads the checkout; the Lambda bundle replaces this module with the texts embedded at build time.
 */
export const bundledPlaybooks = async (): Promise<PlaybookSource[]> => {
  const names = (await readdir(RULES)).filter(isPlaybookFile).sort();
  return Promise.all(
    names.map(async (name) => ({ file: `rules/${name}`, text: await readFile(join(RULES, name), 'utf8') })),
  );
};
