import { resolve } from 'node:path';
import {
  type CheckedFile,
  ConfigurationError,
  type ConfigurationIssue,
  formatIssue,
  type LoadOptions,
  loadPlaybooks,
  type RiposteCode,
} from '@riposte/core';
import { unknownFindingType } from '@riposte/core/catalog';
import { parseCommandArgs } from '../args.js';
import { loadProjectPlaybooks, resolveSources } from '../config/playbooks.js';
import { type CliIO, EXIT } from '../io.js';
import { assertReadable, CONFIG_OPTION, projectOf, shownPath } from '../load.js';
import { counted } from '../summary.js';

export const validateHelp = `riposte validate [files|dirs...] [--config <file>] [--strict] [--json]
  Loads playbooks (YAML) and checks every one: schema, patterns, techniques, tactics, actions and
  their params. Without paths: the project's playbooks and custom actions (riposte.config.mjs, found
  from the working directory upward or named by --config; without one, the shipped @riposte/rules).
  Prints every problem as file:line:column, with what was likely meant for a misspelt key, action or
  finding type, then a summary line. A type pattern that matches no GuardDuty finding type, active
  or retired, is a warning: it loads, but never matches.
  --strict  warnings are errors.
  --json    prints the files, every problem (severity, code, file, line, column, pointer, message,
            suggestions) and the counts, as JSON.
  Exit 0 valid (warnings alone too, unless --strict), 1 invalid, 2 usage or a path that cannot be read.`;

type Severity = 'error' | 'warning';

/** One problem as --json prints it: every field always there, so tools need not guess. */
interface ValidateIssue {
  severity: Severity;
  code: RiposteCode;
  file: string;
  line: number;
  column: number;
  pointer: string;
  message: string;
  suggestions: string[];
}

/** A problem with its kind: the issue's own code, else the code of the error that carried it. */
type CodedIssue = ConfigurationIssue & { code: RiposteCode };

/** What a run found: each file read, with its playbook count and warnings, and every error. */
interface Findings {
  files: CheckedFile[];
  errors: CodedIssue[];
  customActions: number;
  /** In project mode, the playbooks the project keeps after include/exclude. */
  inUse?: number;
}

const VALIDATE_OPTIONS = {
  ...CONFIG_OPTION,
  strict: { type: 'boolean' as const },
  json: { type: 'boolean' as const },
};

/**
 * Loads what `validate` checks, collecting every configuration problem instead of stopping at the
 * first load that has one. Anything else (an unreadable path named on the command line) escapes.
 */
const check = async (given: string[], configFile: string | undefined, io: CliIO): Promise<Findings> => {
  const files = new Map<string, CheckedFile>();
  const errors: CodedIssue[] = [];
  const collect = async <T>(load: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await load();
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      errors.push(...error.issues.map((issue) => ({ ...issue, code: issue.code ?? error.code })));
      return undefined;
    }
  };

  // As every command chooses its playbooks: the paths given, else RIPOSTE_PLAYBOOKS, else the project's.
  const paths = given.length > 0 ? given : io.env.RIPOSTE_PLAYBOOKS ? [io.env.RIPOSTE_PLAYBOOKS] : [];
  // The command line first: a path that cannot be read exits 2 whatever the project holds.
  await assertReadable(paths, io);
  const project = await collect(() => projectOf(io, configFile));
  if (!project) return { files: [], errors, customActions: 0 };

  const options: LoadOptions = {
    registry: project.registry,
    unknownFindingType,
    onFileChecked: (checked) => files.set(checked.file, checked),
  };
  if (paths.length > 0) {
    await collect(() =>
      loadPlaybooks(
        paths.map((path) => resolve(io.cwd, path)),
        options,
      ),
    );
  } else {
    // Each source on its own, so every source's problems are reported at once; then what only the
    // project as a whole can get wrong (include/exclude, one name in two sources).
    for (const source of (await collect(() => resolveSources(project))) ?? []) {
      await collect(() => loadPlaybooks(source.paths, options));
    }
    const kept = errors.length === 0 ? await collect(() => loadProjectPlaybooks(project)) : undefined;
    if (kept)
      return {
        files: [...files.values()],
        errors,
        customActions: project.customActions.length,
        inUse: kept.length,
      };
  }
  return { files: [...files.values()], errors, customActions: project.customActions.length };
};

/** Every problem in file order (problems about no playbook file, such as the configuration's, first). */
const issuesOf = ({ files, errors }: Findings, strict: boolean, io: CliIO): ValidateIssue[] => {
  const order = new Map(files.map(({ file }, index) => [file, index]));
  const at = (issue: ConfigurationIssue): number => order.get(issue.file) ?? -1;
  const listed: [CodedIssue, Severity][] = [
    ...errors.map((issue): [CodedIssue, Severity] => [issue, 'error']),
    ...files.flatMap(({ warnings }) =>
      // A warning comes from the playbook loader, as PLAYBOOK_INVALID errors do.
      warnings.map((issue): [CodedIssue, Severity] => [
        { ...issue, code: issue.code ?? 'PLAYBOOK_INVALID' },
        strict ? 'error' : 'warning',
      ]),
    ),
  ];
  return listed
    .sort(([a], [b]) => at(a) - at(b) || a.line - b.line || a.column - b.column)
    .map(([issue, severity]) => ({
      severity,
      code: issue.code,
      file: shownPath(io, issue.file),
      line: issue.line,
      column: issue.column,
      pointer: issue.pointer,
      message: issue.message,
      suggestions: issue.suggestions ?? [],
    }));
};

export const runValidate = async (args: string[], io: CliIO): Promise<number> => {
  const { values, positionals } = parseCommandArgs(args, VALIDATE_OPTIONS);
  const strict = values.strict === true;
  const findings = await check(positionals, values.config, io);
  const issues = issuesOf(findings, strict, io);
  const errors = issues.filter((issue) => issue.severity === 'error');
  const warnings = issues.filter((issue) => issue.severity === 'warning');
  const counts = {
    files: findings.files.length,
    playbooks: findings.files.reduce((sum, file) => sum + file.playbooks, 0),
    customActions: findings.customActions,
    errors: errors.length,
    warnings: warnings.length,
    ...(findings.inUse === undefined ? {} : { playbooksInUse: findings.inUse }),
  };

  if (values.json) {
    const files = findings.files.map(({ file, playbooks }) => ({ file: shownPath(io, file), playbooks }));
    io.stdout(JSON.stringify({ valid: errors.length === 0, strict, files, issues, counts }, null, 2));
  } else {
    for (const [heading, listed] of [
      [io.style('red', 'invalid'), errors],
      [io.style('yellow', 'warning'), warnings],
    ] as const) {
      if (listed.length === 0) continue;
      io.stderr(`${heading}: ${listed.length} problem(s)`);
      for (const issue of listed) io.stderr(formatIssue(issue));
    }
    const custom = counts.customActions > 0 ? `, ${counted(counts.customActions, 'custom action')}` : '';
    // A project may keep fewer playbooks than its sources hold (include/exclude).
    const inUse =
      findings.inUse !== undefined && findings.inUse !== counts.playbooks
        ? ` (${findings.inUse} in use)`
        : '';
    const errorCount = counted(counts.errors, 'error');
    const warningCount = counted(counts.warnings, 'warning');
    io.stdout(
      `${counted(counts.files, 'file')}, ${counted(counts.playbooks, 'playbook')}${inUse}${custom}: ` +
        `${counts.errors > 0 ? io.style('red', errorCount) : errorCount}, ` +
        `${counts.warnings > 0 ? io.style('yellow', warningCount) : warningCount}`,
    );
  }
  return errors.length > 0 ? EXIT.failed : EXIT.ok;
};
