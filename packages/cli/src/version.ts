import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RiposteError } from '@riposte/core';
import type { CliErrorCode } from './errors.js';

const PACKAGE_NAME = '@riposte/cli';

/**
 * The CLI's version, from the package.json of @riposte/cli, read when asked: one level up from this
 * module both in src/ (tests, tsx) and in dist/ (the built and published CLI), as init and build find
 * it; npm always ships package.json. `from` is this module's URL unless a test places it elsewhere.
 * Throws VERSION_UNKNOWN, naming the file, when that file is missing, not JSON or not ours.
 */
export const cliVersion = async (from: string | URL = import.meta.url): Promise<string> => {
  const file = fileURLToPath(new URL('../package.json', from));
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new RiposteError<CliErrorCode>('VERSION_UNKNOWN', `${file} cannot be read as JSON`, {
      cause: error,
    });
  }
  const { name, version } = (manifest ?? {}) as { name?: unknown; version?: unknown };
  if (name !== PACKAGE_NAME || typeof version !== 'string' || version.length === 0) {
    throw new RiposteError<CliErrorCode>(
      'VERSION_UNKNOWN',
      `${file} is not a package.json of ${PACKAGE_NAME} with a version`,
    );
  }
  return version;
};
