import { isAbsolute, relative } from 'node:path';
import { ConfigurationError, formatIssue, isRiposteError } from '@riposte/core';
import { approveHelp, rejectHelp, runApprove, runReject } from './commands/approve.js';
import { buildHelp, runBuild } from './commands/build.js';
import { coverageHelp, runCoverage } from './commands/coverage.js';
import { historyHelp, runHistory } from './commands/history.js';
import { initHelp, runInit } from './commands/init.js';
import { matchHelp, runMatch } from './commands/match.js';
import { normalizeHelp, runNormalize } from './commands/normalize.js';
import { planHelp, runPlan } from './commands/plan.js';
import { runTemplate, templateHelp } from './commands/template.js';
import { runTest, testHelp } from './commands/test.js';
import { runUndo, undoHelp } from './commands/undo.js';
import { runValidate, validateHelp } from './commands/validate.js';
import { type CliIO, EXIT, UsageError } from './io.js';

interface Command {
  run(args: string[], io: CliIO): Promise<number>;
  help: string;
}

const COMMANDS: Record<string, Command> = {
  init: { run: runInit, help: initHelp },
  validate: { run: runValidate, help: validateHelp },
  test: { run: runTest, help: testHelp },
  normalize: { run: runNormalize, help: normalizeHelp },
  match: { run: runMatch, help: matchHelp },
  plan: { run: runPlan, help: planHelp },
  coverage: { run: runCoverage, help: coverageHelp },
  build: { run: runBuild, help: buildHelp },
  template: { run: runTemplate, help: templateHelp },
  history: { run: runHistory, help: historyHelp },
  approve: { run: runApprove, help: approveHelp },
  reject: { run: runReject, help: rejectHelp },
  undo: { run: runUndo, help: undoHelp },
};

export const usage = (): string =>
  [
    'riposte: turn GuardDuty findings into safe, automatic remediation',
    ...Object.values(COMMANDS).map((command) => command.help),
    'Exit codes: 0 success, 1 failures (invalid playbooks, failed cases, bad findings), 2 usage errors.',
  ].join('\n\n');

/** Runs one command line and returns the exit code; never throws. */
export const main = async (argv: string[], io: CliIO): Promise<number> => {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`riposte: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`riposte ${name}: ${error.message}\n\n${command.help}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigurationError) {
      io.stderr(`${io.style('red', 'invalid')}: ${error.issues.length} problem(s)`);
      for (const issue of error.issues) {
        // Files under the working directory are named from it; others as they are.
        const inside = isAbsolute(issue.file) ? relative(io.cwd, issue.file) : '';
        const file = inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : issue.file;
        io.stderr(formatIssue({ ...issue, file }));
      }
      return EXIT.failed;
    }
    if (isRiposteError(error)) {
      io.stderr(`riposte ${name}: ${error.code}: ${error.message}`);
      return EXIT.failed;
    }
    if ((error as NodeJS.ErrnoException)?.code === 'ENOENT') {
      io.stderr(`riposte ${name}: no such file: ${(error as NodeJS.ErrnoException).path}`);
      return EXIT.usage;
    }
    io.stderr(
      `riposte ${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT.failed;
  }
};
