import { open, readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createAwsServices, createGuardDutyVerifier } from '@riposte/actions';
import {
  createEngine,
  type EngineMode,
  type Finding,
  FindingFormatError,
  loadPlaybooks,
  normalize,
  type Playbook,
} from '@riposte/core';
import { loadProject, type Project } from './config/load.js';
import { loadProjectPlaybooks } from './config/playbooks.js';
import { type InaccessiblePath, inaccessibleReason, PathAccessError } from './errors.js';
import type { CliIO } from './io.js';

/** The option every command takes: the configuration to use instead of the nearest one. */
export const CONFIG_OPTION = { config: { type: 'string' as const } };

/** A path as people name it: from the working directory when it is inside it, else as it is. */
export const shownPath = (io: CliIO, path: string): string => {
  const inside = isAbsolute(path) ? relative(io.cwd, path) : path;
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
};

/** A file-system error on `path` as a PathAccessError; any other error as it is. */
export const pathErrorOf = (io: CliIO, path: string, error: unknown): unknown => {
  const reason = inaccessibleReason(error);
  return reason === undefined
    ? error
    : new PathAccessError([{ path: shownPath(io, path), reason }], { cause: error });
};

/**
 * Checks, before anything is loaded, that every path a command was given can be read: a file
 * opened, a directory listed. A mistyped or unreadable path is then one PathAccessError naming every
 * such path (exit 2, like a usage error), never a problem among the contents' (exit 1).
 */
export const assertReadable = async (paths: string[], io: CliIO): Promise<void> => {
  const inaccessible: InaccessiblePath[] = [];
  let cause: unknown;
  for (const path of paths.map((given) => resolve(io.cwd, given))) {
    try {
      if ((await stat(path)).isDirectory()) await readdir(path);
      else await (await open(path, 'r')).close();
    } catch (error) {
      const reason = inaccessibleReason(error);
      if (reason === undefined) throw error;
      cause ??= error;
      inaccessible.push({ path: shownPath(io, path), reason });
    }
  }
  if (inaccessible.length > 0) throw new PathAccessError(inaccessible, { cause });
};

/** The project of the working directory, or of `--config` (which must be readable: exit 2 if not). */
export const projectOf = async (io: CliIO, configFile: string | undefined): Promise<Project> => {
  if (configFile !== undefined) await assertReadable([configFile], io);
  return loadProject(io.cwd, configFile);
};

/**
 * The playbooks a command works on: `--playbooks` when given, else `RIPOSTE_PLAYBOOKS` (the directory
 * the function would load), else the project's. Every one is checked against the project's actions.
 */
export const commandPlaybooks = async (
  project: Project,
  given: string[] | undefined,
  io: CliIO,
): Promise<Playbook[]> => {
  const paths =
    given && given.length > 0 ? given : io.env.RIPOSTE_PLAYBOOKS ? [io.env.RIPOSTE_PLAYBOOKS] : [];
  if (paths.length > 0) {
    await assertReadable(paths, io);
    return loadPlaybooks(
      paths.map((path) => resolve(io.cwd, path)),
      { registry: project.registry },
    );
  }
  return (await loadProjectPlaybooks(project)).map(({ playbook }) => playbook);
};

export const loadEngine = (project: Project, playbooks: Playbook[], mode: EngineMode, io: CliIO) => {
  const { registry } = project;
  // The configuration's topic, unless the environment names one (as the deployed function's does).
  const topic = project.config.topicArn;
  const env = topic && !io.env.RIPOSTE_SNS_TOPIC_ARN ? { ...io.env, RIPOSTE_SNS_TOPIC_ARN: topic } : io.env;
  const services = createAwsServices({ env });
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

/**
 * Reads a finding file, or every *.json file of a directory, and normalizes each. A path that cannot
 * be read is a PathAccessError (exit 2); a file that is not JSON, or not a finding, is invalid content:
 * a FindingFormatError (exit 1), as a playbook with a YAML syntax error is.
 */
export const readFindings = async (given: string, io: CliIO): Promise<LoadedFinding[]> => {
  const path = resolve(io.cwd, given);
  let files: string[];
  try {
    files = (await stat(path)).isDirectory()
      ? (await readdir(path))
          .filter((name) => name.endsWith('.json'))
          .sort()
          .map((name) => join(path, name))
      : [path];
  } catch (error) {
    throw pathErrorOf(io, path, error);
  }
  const loaded: LoadedFinding[] = [];
  for (const file of files) {
    const shown = relative(io.cwd, file) || file;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw pathErrorOf(io, file, error);
    }
    let input: unknown;
    try {
      input = JSON.parse(text);
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
