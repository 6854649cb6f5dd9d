import { access, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AwsServices, createRegistry, type MutableActionRegistry } from '@riposte/actions';
import {
  type ActionDefinition,
  ConfigurationError,
  type ConfigurationIssue,
  EngineConfigurationError,
  isObject,
} from '@riposte/core';
import { PRINCIPAL_ARN_PARAMETER_PATTERN, TOPIC_PARAMETER_PATTERN } from '@riposte/lambda-adapter/deploy';
import type { CliErrorCode } from '../errors.js';
import type { RiposteConfig } from './define.js';

/** The file every command looks for, from the working directory upward. */
export const CONFIG_FILE = 'riposte.config.mjs';

/** Playbooks when the configuration names none (or there is no configuration): the shipped ones. */
export const DEFAULT_PLAYBOOKS = ['@riposte/rules'];

export const DEFAULT_OUT_DIR = 'dist/riposte';

/** `riposte.config.mjs` cannot be loaded, or holds something Riposte cannot use. */
export class ProjectConfigError extends ConfigurationError<CliErrorCode> {
  static override readonly errorName: string = 'ProjectConfigError';

  constructor(issues: ConfigurationIssue[], options: { cause?: unknown } = {}) {
    super(
      'PROJECT_CONFIG_INVALID',
      `${issues.length} problem(s) in the project configuration`,
      issues,
      options,
    );
  }
}

/** A project: where it is, what it configures, and the actions its playbooks may use. */
export interface Project {
  /** The configuration's directory; the working directory when there is no configuration. */
  root: string;
  /** The configuration file, when there is one. */
  file?: string;
  config: RiposteConfig;
  /** The built-ins and the configuration's custom actions. */
  registry: MutableActionRegistry;
  // biome-ignore lint/suspicious/noExplicitAny: each action has its own params type.
  customActions: ActionDefinition<any, AwsServices>[];
}

const exists = async (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/** The nearest `riposte.config.mjs` from `from` upward, if any. */
export const findConfigFile = async (from: string): Promise<string | undefined> => {
  for (let directory = resolve(from); ; directory = dirname(directory)) {
    const candidate = join(directory, CONFIG_FILE);
    if (await exists(candidate)) return candidate;
    if (dirname(directory) === directory) return undefined;
  }
};

/** Where a pattern first matches in a text, 1-based. */
const positionOf = (text: string, pattern: RegExp): { line: number; column: number } | undefined => {
  for (const [index, line] of text.split('\n').entries()) {
    const found = pattern.exec(line);
    if (found) return { line: index + 1, column: found.index + 1 };
  }
  return undefined;
};

/** Where a key is first written in the configuration's text: an issue points there, else at 1:1. */
const locator =
  (file: string, text: string) =>
  (pattern: RegExp | undefined, pointer: string, message: string): ConfigurationIssue => ({
    file,
    ...((pattern && positionOf(text, pattern)) ?? { line: 1, column: 1 }),
    pointer,
    message,
  });

const keyPattern = (key: string): RegExp => new RegExp(`\\b${key}\\s*:`);

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length > 0);

const KNOWN_KEYS = new Set([
  'playbooks',
  'actions',
  'outDir',
  'mode',
  'topicArn',
  'accounts',
  'organizationId',
  'protectedPrincipals',
  'memberRole',
  'limits',
]);

// The shapes the template's parameters accept (non-empty), so a value that passes here deploys.
const ACCOUNT_ID = /^\d{12}$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const TOPIC_ARN = new RegExp(TOPIC_PARAMETER_PATTERN);
const PRINCIPAL_ARN = new RegExp(PRINCIPAL_ARN_PARAMETER_PATTERN);
const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** Every problem of a configuration's shape; the actions are checked by registering them. */
const shapeIssues = (
  config: Record<string, unknown>,
  at: ReturnType<typeof locator>,
): ConfigurationIssue[] => {
  const issues: ConfigurationIssue[] = [];
  const problem = (key: string, message: string, pointer = `/${key}`) =>
    issues.push(at(keyPattern(key.split('/')[0]!), pointer, message));
  for (const key of Object.keys(config)) {
    if (!KNOWN_KEYS.has(key)) problem(key, `unknown setting "${key}"; known: ${[...KNOWN_KEYS].join(', ')}`);
  }
  const { playbooks, actions, outDir, mode, topicArn, accounts, organizationId } = config;
  if (playbooks !== undefined) {
    if (!Array.isArray(playbooks) || playbooks.length === 0) {
      problem('playbooks', 'must be a non-empty array of directories, globs or package names');
    } else {
      playbooks.forEach((source, index) => {
        const pointer = `/playbooks/${index}`;
        if (typeof source === 'string') {
          if (source.length === 0) problem('playbooks', 'must not be empty', pointer);
          return;
        }
        if (!isObject(source) || typeof source.from !== 'string' || source.from.length === 0) {
          problem('playbooks', 'must be a string, or { from, include?, exclude? }', pointer);
          return;
        }
        for (const key of Object.keys(source)) {
          if (!['from', 'include', 'exclude'].includes(key)) {
            problem('playbooks', `unknown key "${key}"; known: from, include, exclude`, `${pointer}/${key}`);
          }
        }
        for (const key of ['include', 'exclude'] as const) {
          if (source[key] !== undefined && !isStringArray(source[key])) {
            problem('playbooks', 'must be an array of playbook names', `${pointer}/${key}`);
          }
        }
        if (source.include !== undefined && source.exclude !== undefined) {
          problem('playbooks', 'give include or exclude, not both', pointer);
        }
      });
    }
  }
  if (actions !== undefined && !Array.isArray(actions)) {
    problem('actions', 'must be an array of action definitions');
  }
  if (outDir !== undefined && (typeof outDir !== 'string' || outDir.length === 0)) {
    problem('outDir', 'must be a directory path');
  }
  if (mode !== undefined && mode !== 'dry-run' && mode !== 'enforce') {
    problem('mode', `must be dry-run or enforce, not ${JSON.stringify(mode)}`);
  }
  if (topicArn !== undefined && (typeof topicArn !== 'string' || !topicArn || !TOPIC_ARN.test(topicArn))) {
    problem('topicArn', 'must be an SNS topic ARN');
  }
  if (accounts !== undefined && !(isStringArray(accounts) && accounts.every((id) => ACCOUNT_ID.test(id)))) {
    problem('accounts', 'must be an array of 12-digit account ids');
  }
  if (
    organizationId !== undefined &&
    (typeof organizationId !== 'string' || !ORGANIZATION_ID.test(organizationId))
  ) {
    problem('organizationId', 'must be an organization id (o-...)');
  }
  const principals = config.protectedPrincipals;
  if (
    principals !== undefined &&
    !(isStringArray(principals) && principals.every((arn) => PRINCIPAL_ARN.test(arn)))
  ) {
    problem('protectedPrincipals', 'must be an array of IAM role or user ARN patterns');
  }
  const memberRole = config.memberRole;
  if (memberRole !== undefined && (typeof memberRole !== 'string' || !ROLE_NAME.test(memberRole))) {
    problem('memberRole', 'must be an IAM role name (with its path if any), not an ARN');
  }
  if (config.limits !== undefined) {
    const limits = config.limits;
    if (!isObject(limits)) problem('limits', 'must be an object');
    else {
      for (const key of Object.keys(limits)) {
        if (key !== 'maxTargetsPerHour') {
          problem('limits', `unknown limit "${key}"; known: maxTargetsPerHour`, `/limits/${key}`);
        }
      }
      const max = limits.maxTargetsPerHour;
      if (
        max !== undefined &&
        !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 10_000)
      ) {
        problem('limits', 'must be an integer from 1 to 10000', '/limits/maxTargetsPerHour');
      }
    }
  }
  return issues;
};

/** Where a module that failed to import went wrong, when its stack says (a syntax error names file:line). */
const importIssue = (file: string, error: unknown): ConfigurationIssue => {
  const message = error instanceof Error ? error.message : String(error);
  const url = pathToFileURL(file).href;
  const position =
    error instanceof Error ? new RegExp(`${url}:(\\d+)(?::(\\d+))?`).exec(error.stack ?? '') : null;
  return {
    file,
    line: position ? Number(position[1]) : 1,
    column: position?.[2] ? Number(position[2]) : 1,
    pointer: '',
    message: `cannot be loaded: ${message}`,
  };
};

/** The configuration's text and that of the project modules it imports directly (`./actions/x.mjs`). */
const projectTexts = async (file: string, text: string, cwd: string) => {
  const texts = [{ shown: relative(cwd, file) || file, text }];
  for (const [, specifier] of text.matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const imported = resolve(dirname(file), specifier!);
    const content = await readFile(imported, 'utf8').catch(() => undefined);
    if (content !== undefined) texts.push({ shown: relative(cwd, imported) || imported, text: content });
  }
  return texts;
};

/**
 * The custom actions, registered beside the built-ins. A bad one is reported where its name is
 * written (in the configuration or a module it imports) when that can be found, else at `actions`.
 */
const registerActions = (
  actions: unknown[],
  at: ReturnType<typeof locator>,
  texts: Array<{ shown: string; text: string }>,
): { registry: MutableActionRegistry; issues: ConfigurationIssue[] } => {
  const whereNamed = (name: unknown, pointer: string, message: string): ConfigurationIssue => {
    if (typeof name === 'string' && name.length > 0) {
      const written = new RegExp(
        `\\bname\\s*:\\s*['"\`]${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"\`]`,
      );
      for (const { shown, text } of texts) {
        const position = positionOf(text, written);
        if (position) return { file: shown, ...position, pointer, message };
      }
    }
    return at(keyPattern('actions'), pointer, message);
  };
  const registry = createRegistry();
  const issues: ConfigurationIssue[] = [];
  actions.forEach((action, index) => {
    const pointer = `/actions/${index}`;
    if (!isObject(action)) {
      issues.push(at(keyPattern('actions'), pointer, 'must be an action definition object'));
      return;
    }
    try {
      registry.register(action as unknown as ActionDefinition<Record<string, unknown>, AwsServices>);
    } catch (error) {
      if (!(error instanceof EngineConfigurationError)) throw error;
      issues.push(whereNamed(action.name, pointer, error.message));
    }
  });
  return { registry, issues };
};

/**
 * The project of a working directory: the configuration named by `--config`, else the nearest
 * `riposte.config.mjs` upward, else the defaults (the shipped playbooks, the built-in actions).
 */
export const loadProject = async (cwd: string, configFile?: string): Promise<Project> => {
  const file = configFile === undefined ? await findConfigFile(cwd) : resolve(cwd, configFile);
  if (file === undefined) {
    return { root: resolve(cwd), config: {}, registry: createRegistry(), customActions: [] };
  }
  const shown = relative(cwd, file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ProjectConfigError([
      {
        file: shown,
        line: 0,
        column: 0,
        pointer: '',
        message: `cannot be read: ${(error as Error).message}`,
      },
    ]);
  }
  const at = locator(shown, text);
  let exported: unknown;
  try {
    exported = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new ProjectConfigError([{ ...importIssue(file, error), file: shown }], { cause: error });
  }
  if (!isObject(exported)) {
    throw new ProjectConfigError([
      at(/export\s+default/, '', 'the default export must be defineConfig({...}) from @riposte/cli'),
    ]);
  }
  const issues = shapeIssues(exported, at);
  const actions = Array.isArray(exported.actions) ? exported.actions : [];
  const { registry, issues: actionIssues } = registerActions(
    actions,
    at,
    await projectTexts(file, text, cwd),
  );
  issues.push(...actionIssues);
  if (issues.length > 0) throw new ProjectConfigError(issues);
  return {
    root: dirname(file),
    file,
    config: exported as RiposteConfig,
    registry,
    customActions: actions as Project['customActions'],
  };
};
