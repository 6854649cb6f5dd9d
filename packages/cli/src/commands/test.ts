import { dirname, relative, resolve } from 'node:path';
import { type AwsCredentialsProvider, createAwsServices, type MutableActionRegistry } from '@riposte/actions';
import {
  type CaseFile,
  type CaseResult,
  CaseValidationError,
  createEngine,
  type Engine,
  formatCaseResult,
  formatCaseSummary,
  formatIssue,
  loadCases,
  loadPlaybooks,
  runCases,
} from '@riposte/core';
import { parseCommandArgs } from '../args.js';
import type { Project } from '../config/load.js';
import { resolveSources } from '../config/playbooks.js';
import { type CliIO, EXIT } from '../io.js';
import { assertReadable, CONFIG_OPTION, projectOf } from '../load.js';

export const testHelp = `riposte test [paths...] [--playbooks <file|dir>]... [--config <file>] [--json]
  Runs playbook test cases: every *.cases.yaml under the paths (default: beside each of the project's
  playbook sources, run against that source's playbooks), with the project's custom actions. A case names a
  finding (a JSON file, or inline) and what must happen to it: which playbooks match, which steps are
  planned on which targets, or no match. Plans offline, in dry-run: no AWS call is made, lookups show as
  "would look up", and notify plans to a placeholder topic unless the playbook names a destination.
  Playbooks come from each cases file's directory unless --playbooks is given.
  Prints a check or a cross per case, with expected against actual for each failure, then
  "N passed, N failed". Exit 0 all pass, 1 any failure or invalid file, 2 usage or a path that cannot
  be read.`;

/** Where notify plans to when a playbook names no destination, so results never depend on the environment. */
export const TEST_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:riposte-test-notifications';

// The SDK's own "no credentials" error name: actions then record lookups as "would look up" and go on.
const noCredentials: AwsCredentialsProvider = async () => {
  throw Object.assign(new Error('riposte test plans offline and never uses AWS credentials'), {
    name: 'CredentialsProviderError',
  });
};

/** AWS services that can never reach AWS: every call fails for want of credentials before it is sent. */
const offlineServices = () =>
  createAwsServices({ env: { RIPOSTE_SNS_TOPIC_ARN: TEST_TOPIC_ARN }, credentialsFor: () => noCredentials });

interface FileResults {
  file: string;
  results: CaseResult[];
}

/** One engine per set of playbooks, all with the project's actions. */
const enginesOf = (registry: MutableActionRegistry) => {
  const services = offlineServices();
  const engines = new Map<string, Promise<Engine>>();
  return (paths: string[]): Promise<Engine> => {
    const key = paths.join('\u0000');
    let engine = engines.get(key);
    if (!engine) {
      engine = loadPlaybooks(paths, { registry }).then((playbooks) =>
        createEngine({ playbooks, registry, services, mode: 'dry-run' }),
      );
      engines.set(key, engine);
    }
    return engine;
  };
};

const shown = (io: CliIO, file: string): string => relative(io.cwd, file) || file;

/** A cases file and the playbooks it runs against. */
interface Suite {
  caseFile: CaseFile;
  playbooks: string[];
}

/**
 * The cases to run. Given paths: their cases, each against its directory's playbooks (or
 * --playbooks). Otherwise each of the project's playbook sources, its cases against its own
 * playbooks: a source's cases describe that source, whatever else the project adds.
 */
const suitesOf = async (
  project: Project,
  positionals: string[],
  given: string[] | undefined,
  io: CliIO,
): Promise<Suite[]> => {
  const forced = given && given.length > 0 ? given.map((path) => resolve(io.cwd, path)) : undefined;
  if (positionals.length > 0) {
    const caseFiles = await loadCases(positionals.map((path) => resolve(io.cwd, path)));
    return caseFiles.map((caseFile) => ({ caseFile, playbooks: forced ?? [dirname(caseFile.file)] }));
  }
  const suites: Suite[] = [];
  for (const source of await resolveSources(project)) {
    if (source.cases.length === 0) {
      io.stderr(io.style('yellow', `no cases for the playbooks of "${source.from}"`));
      continue;
    }
    for (const caseFile of await loadCases(source.cases)) {
      suites.push({ caseFile, playbooks: forced ?? source.paths });
    }
  }
  return suites;
};

export const runTest = async (args: string[], io: CliIO): Promise<number> => {
  const { values, positionals } = parseCommandArgs(args, {
    playbooks: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    ...CONFIG_OPTION,
  });
  // A mistyped path is exit 2 (PATH_INACCESSIBLE), not an "invalid cases" exit 1; all of them at once.
  await assertReadable(
    [...positionals, ...(values.playbooks ?? []), ...(values.config ? [values.config] : [])],
    io,
  );
  const project = await projectOf(io, values.config);
  let suites: Suite[];
  try {
    suites = await suitesOf(project, positionals, values.playbooks, io);
  } catch (error) {
    if (!(error instanceof CaseValidationError)) throw error;
    io.stderr(`${io.style('red', 'invalid cases')}: ${error.issues.length} problem(s)`);
    for (const issue of error.issues) io.stderr(formatIssue({ ...issue, file: shown(io, issue.file) }));
    return EXIT.failed;
  }
  if (suites.length === 0) {
    io.stderr(`${io.style('red', 'no cases')}: no *.cases.yaml beside the project's playbooks`);
    return EXIT.failed;
  }

  const engineOf = enginesOf(project.registry);
  const files: FileResults[] = [];
  for (const { caseFile, playbooks } of suites) {
    const engine = await engineOf(playbooks);
    const results = (await runCases(caseFile.cases, engine)).map((result) => ({
      ...result,
      location: { ...result.location, file: shown(io, result.location.file) },
    }));
    files.push({ file: shown(io, caseFile.file), results });
    if (!values.json) {
      const lines = results.flatMap((result) => formatCaseResult(result, io.style));
      io.stdout([io.style('bold', shown(io, caseFile.file)), ...lines].join('\n'));
    }
  }

  const all = files.flatMap((file) => file.results);
  const failed = all.filter((result) => !result.passed).length;
  if (values.json) {
    io.stdout(JSON.stringify({ passed: all.length - failed, failed, files }, null, 2));
  } else {
    io.stdout('');
    io.stdout(formatCaseSummary(all));
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
};
