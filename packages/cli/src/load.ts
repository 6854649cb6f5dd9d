import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAwsServices, createGuardDutyVerifier, createRegistry } from '@riposte/actions';
import {
  createEngine,
  type EngineMode,
  type Finding,
  FindingFormatError,
  loadPlaybooks,
  normalize,
} from '@riposte/core';
import type { CliIO } from './io.js';

/** The playbooks shipped in this checkout's `rules/`. */
export const SHIPPED_PLAYBOOKS = fileURLToPath(new URL('../../../rules', import.meta.url));

export const playbookPaths = (given: string[] | undefined, io: CliIO): string[] =>
  given && given.length > 0 ? given : [io.env.RIPOSTE_PLAYBOOKS ?? SHIPPED_PLAYBOOKS];

export const loadEngine = async (paths: string[], mode: EngineMode, io: CliIO) => {
  const registry = createRegistry();
  const playbooks = await loadPlaybooks(paths, { registry });
  const services = createAwsServices({ env: io.env });
  return {
    engine: createEngine({ playbooks, registry, services, mode }),
    /** Re-reads a finding from GuardDuty with the caller's credentials, as the deployed function does. */
    verifier: createGuardDutyVerifier({ services }),
  };
};

export interface LoadedFinding {
  file: string;
  finding: Finding;
}

/** Reads a finding file, or every *.json file of a directory, and normalizes each. */
export const readFindings = async (path: string, io: CliIO): Promise<LoadedFinding[]> => {
  const files = (await stat(path)).isDirectory()
    ? (await readdir(path))
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => join(path, name))
    : [path];
  const loaded: LoadedFinding[] = [];
  for (const file of files) {
    const shown = relative(io.cwd, file) || file;
    let input: unknown;
    try {
      input = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new FindingFormatError(`${shown} is not valid JSON: ${(error as Error).message}`, '', {
        cause: error,
      });
    }
    try {
      loaded.push(...normalize(input).map((finding) => ({ file: shown, finding })));
    } catch (error) {
      if (error instanceof FindingFormatError) {
        throw new FindingFormatError(`${shown}: ${error.message}`, error.path, { cause: error });
      }
      throw error;
    }
  }
  return loaded;
};

/** One value as JSON when there is one, an array when there are several. */
export const jsonOf = <T>(values: T[]): string =>
  JSON.stringify(values.length === 1 ? values[0] : values, null, 2);
