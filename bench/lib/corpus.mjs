// The findings the matching benchmark runs over: every real-shaped sample the project keeps
// (packages/core/tests/fixtures/findings and rules/findings), as the event text that arrives and as
// the normalized Finding.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { core, path } from './common.mjs';

const FINDING_DIRS = ['packages/core/tests/fixtures/findings', 'rules/findings'];

const jsonFiles = (directory) =>
  readdirSync(directory)
    .sort()
    .flatMap((name) => {
      const file = join(directory, name);
      if (statSync(file).isDirectory()) return jsonFiles(file);
      return name.endsWith('.json') ? [file] : [];
    });

/**
 * One entry per finding: `text` is the input as delivered (compact JSON, as EventBridge sends it),
 * `finding` its normalization. Inputs that hold several findings contribute each.
 */
export const loadCorpus = async () => {
  const { normalize } = await core();
  const entries = [];
  for (const directory of FINDING_DIRS) {
    for (const file of jsonFiles(path(directory))) {
      const text = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
      for (const finding of normalize(JSON.parse(text))) {
        entries.push({ file: file.slice(path('').length), text, finding });
      }
    }
  }
  return entries;
};
