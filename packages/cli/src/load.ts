import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
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
import type { CliIO } from './io.js';

/** The option every command takes: the configuration to use instead of the nearest one. */
export const CONFIG_OPTION = { config: { type: 'string' as const } };

/** The project of the working directory, or of `--config`. */
export const projectOf = (io: CliIO, configFile: string | undefined): Promise<Project> =>
  loadProject(io.cwd, configFile);

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

/** Reads a finding file, or every *.json file of a directory, and normalizes each. */
export const readFindings = async (given: string, io: CliIO): Promise<LoadedFinding[]> => {
  const path = resolve(io.cwd, given);
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
