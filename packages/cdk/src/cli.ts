import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConfigurationIssue } from '@riposte/core';
import { ResponderBuildError } from './errors.js';

/** The `riposte` command of the installed `@riposte/cli`: the same bundler and template as the CLI's. */
const cliBin = (): string => {
  const manifest = createRequire(import.meta.url).resolve('@riposte/cli/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: string | Record<string, string> };
  return resolve(dirname(manifest), typeof bin === 'string' ? bin : bin.riposte!);
};

// How the CLI prints a configuration issue: `file:line:column pointer message` (formatIssue).
const ISSUE = /^(.+?):(\d+):(\d+) (\/\S*) (.*)$/;

/** The issues in the CLI's stderr, their files made absolute from the directory it ran in. */
export const issuesOf = (stderr: string, cwd: string): ConfigurationIssue[] =>
  stderr.split('\n').flatMap((line) => {
    const found = ISSUE.exec(line.trim());
    if (!found) return [];
    const [, file, lineNumber, column, pointer, message] = found;
    return [
      {
        file: isAbsolute(file!) ? file! : resolve(cwd, file!),
        line: Number(lineNumber),
        column: Number(column),
        pointer: pointer === '/' ? '' : pointer!,
        message: message!,
      },
    ];
  });

export interface CliResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs one `riposte` command to completion. A CDK construct is built synchronously, so the CLI runs
 * in a child process, as NodejsFunction runs esbuild. Throws ResponderBuildError unless it exits 0.
 */
export const runCli = (args: string[], cwd: string): CliResult => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  // It would make `template` read other playbooks than `build` bundled.
  delete env.RIPOSTE_PLAYBOOKS;
  const result = spawnSync(process.execPath, [cliBin(), ...args], {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const stderr = result.stderr ?? '';
  if (result.error !== undefined || result.status !== 0) {
    throw new ResponderBuildError(
      args[0]!,
      { exitCode: result.status, stderr: stderr || (result.error?.message ?? '') },
      issuesOf(stderr, cwd),
      result.error === undefined ? {} : { cause: result.error },
    );
  }
  return { stdout: result.stdout, stderr };
};
