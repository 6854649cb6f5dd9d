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
import { PathAccessError } from './errors.js';
import { type CliIO, EXIT, UsageError } from './io.js';
import { pathErrorOf, shownPath } from './load.js';
import { cliVersion } from './version.js';

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

/** The exit codes every command keeps; said once, here, for all of them. */
export const EXIT_CODES_HELP = `Exit codes, the same for every command:
  0  success.
  1  invalid content, or the run failed: a playbook, cases file or riposte.config.mjs that does not
     validate (YAML syntax errors included), a finding file that is not JSON or not a finding (a file
     that was read, with bad content), a failed case, a finding GuardDuty does not vouch for, a step
     approve or undo could not do, nothing held to approve, a build the template refuses, an AWS error.
     plan exits 0 even when it refuses steps: a refusal is part of the plan it shows.
  2  the command cannot run as given: an unknown command or option, a missing or bad argument, or a
     file or directory named on the command line, by --config or by RIPOSTE_PLAYBOOKS that cannot be
     read (missing, permission denied), named with code PATH_INACCESSIBLE.`;

export const usage = (): string =>
  [
    'riposte: turn GuardDuty findings into safe, automatic remediation',
    `riposte --version (or -v)
  Prints the version of this CLI (@riposte/cli).`,
    ...Object.values(COMMANDS).map((command) => command.help),
    EXIT_CODES_HELP,
  ].join('\n\n');

/** Runs one command line and returns the exit code; never throws. */
export const main = async (argv: string[], io: CliIO): Promise<number> => {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    if (args.length > 0) {
      io.stderr(`riposte: ${name} takes no arguments`);
      return EXIT.usage;
    }
    try {
      io.stdout(await cliVersion());
      return EXIT.ok;
    } catch (error) {
      io.stderr(`riposte: ${isRiposteError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
      return EXIT.failed;
    }
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
      // Files under the working directory are named from it; others as they are.
      for (const issue of error.issues) io.stderr(formatIssue({ ...issue, file: shownPath(io, issue.file) }));
      return EXIT.failed;
    }
    // A path that cannot be read, whether a command checked it up front or the file system said so
    // while the command ran (a --fixtures directory, a --navigator file): exit 2, as documented.
    const path = (error as NodeJS.ErrnoException | undefined)?.path;
    const unusable = typeof path === 'string' ? pathErrorOf(io, path, error) : error;
    if (unusable instanceof PathAccessError) {
      io.stderr(`riposte ${name}: ${unusable.code}: ${unusable.message}`);
      return EXIT.usage;
    }
    if (isRiposteError(error)) {
      io.stderr(`riposte ${name}: ${error.code}: ${error.message}`);
      return EXIT.failed;
    }
    io.stderr(
      `riposte ${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT.failed;
  }
};
