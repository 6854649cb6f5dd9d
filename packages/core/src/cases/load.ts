import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import type { JsonSchema } from '../action.js';
import { type ConfigurationIssue, FindingFormatError } from '../errors.js';
import type { Finding } from '../finding.js';
import { normalizeFinding } from '../normalize/index.js';
import { issueAt, locate, positioned, type SourceDocument } from '../playbooks/positions.js';
import { schemaProblems } from '../schema-problems.js';
import schema from './cases.schema.json' with { type: 'json' };
import { CaseValidationError } from './errors.js';
import type { CaseExpectation, CaseFile, ExpectedStep, PlaybookCase } from './types.js';

/**
 * The case-file JSON Schema (draft-07). Editors use it through
 * `# yaml-language-server: $schema=<path to packages/core/src/cases/cases.schema.json>`.
 */
export const casesSchema: JsonSchema = schema;

let validator: ValidateFunction | undefined;

const casesValidator = (): ValidateFunction => {
  validator ??= new Ajv({ strict: true, allErrors: true }).compile(casesSchema);
  return validator;
};

const isCasesFile = (name: string): boolean => /\.cases\.ya?ml$/.test(name);

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** `*.cases.yaml` / `*.cases.yml` files under `directory`, recursively, sorted by path. */
const caseFilesIn = async (directory: string): Promise<string[]> => {
  const entries = await readdir(directory, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort(byName)) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await caseFilesIn(path)));
    else if (isCasesFile(entry.name)) files.push(path);
  }
  return files;
};

const unreadable = (file: string, error: unknown): ConfigurationIssue => {
  const code = (error as NodeJS.ErrnoException).code;
  const message =
    code === 'ENOENT' ? 'no such file or directory' : `cannot be read (${code ?? (error as Error).message})`;
  return { file, line: 0, column: 0, pointer: '', message };
};

/** The case author's wording, where it differs from the shared one. */
const wording = (error: ErrorObject): string | undefined => {
  switch (error.keyword) {
    case 'anyOf':
      return 'must be a finding file path or an inline finding (a mapping)';
    case 'const':
      return 'must be true (leave it out otherwise)';
    case 'minItems':
    case 'minLength':
      return 'must not be empty';
    case 'minProperties':
      return 'must say what to expect: playbooks, noMatch, notPlaybooks or steps';
    case 'type':
      return error.instancePath === '' ? 'must be a list of cases' : undefined;
    default:
      return undefined;
  }
};

/** Schema errors as issues at their YAML nodes, said the way a case author thinks of the value. */
const schemaIssues = (source: SourceDocument, errors: ErrorObject[]): ConfigurationIssue[] => {
  // The only union is `finding` (a path or a mapping): report it once, not once per branch.
  const unions = errors.filter((error) => error.keyword === 'anyOf');
  const inUnion = (error: ErrorObject) =>
    unions.some((union) => union !== error && error.schemaPath.startsWith(`${union.schemaPath}/`));
  return schemaProblems(
    errors.filter((error) => !inUnion(error)),
    wording,
  ).map(positioned(source));
};

interface RawCase {
  name: string;
  description?: string;
  finding: string | Record<string, unknown>;
  expect: CaseExpectation;
}

/** What the schema cannot say: unique names, and expectations that contradict each other. */
const semanticIssues = (source: SourceDocument, cases: RawCase[]): ConfigurationIssue[] => {
  const issues: ConfigurationIssue[] = [];
  const firstByName = new Map<string, number>();
  cases.forEach((raw, index) => {
    const first = firstByName.get(raw.name);
    if (first === undefined) firstByName.set(raw.name, index);
    else {
      const where = locate(source, `/${first}/name`);
      issues.push(
        issueAt(source, `/${index}/name`, `duplicate case name "${raw.name}"; first at line ${where.line}`),
      );
    }
    const { noMatch, playbooks, steps, notPlaybooks } = raw.expect;
    if (noMatch && playbooks && playbooks.length > 0) {
      issues.push(
        issueAt(source, `/${index}/expect/noMatch`, 'contradicts expect.playbooks: say one or the other'),
      );
    }
    if ((noMatch || playbooks?.length === 0) && steps && steps.length > 0) {
      issues.push(
        issueAt(source, `/${index}/expect/steps`, 'expects steps from a finding no playbook matches'),
      );
    }
    for (const name of notPlaybooks ?? []) {
      if (playbooks?.includes(name)) {
        issues.push(
          issueAt(source, `/${index}/expect/notPlaybooks`, `"${name}" is also in expect.playbooks`),
        );
      }
    }
  });
  return issues;
};

/** Reads finding files once per load, however many cases name them. */
type FileReader = (path: string) => Promise<string>;

const cachedReader = (): FileReader => {
  const texts = new Map<string, Promise<string>>();
  return (path) => {
    let text = texts.get(path);
    if (!text) {
      text = readFile(path, 'utf8');
      texts.set(path, text);
    }
    return text;
  };
};

/** The case's finding, normalized; or the issue that stops it, at the `finding` node. */
const findingOf = async (
  source: SourceDocument,
  index: number,
  finding: RawCase['finding'],
  read: FileReader,
): Promise<{ finding: Finding } | { issue: ConfigurationIssue }> => {
  const pointer = `/${index}/finding`;
  if (typeof finding !== 'string') {
    try {
      return { finding: normalizeFinding(finding) };
    } catch (error) {
      if (!(error instanceof FindingFormatError)) throw error;
      // The finding is written inline: point at the offending node itself.
      return { issue: issueAt(source, `${pointer}${error.path}`, `inline finding: ${error.message}`) };
    }
  }
  const path = resolve(dirname(source.file), finding);
  let text: string;
  try {
    text = await read(path);
  } catch (error) {
    return { issue: issueAt(source, pointer, `finding file ${finding}: ${unreadable(path, error).message}`) };
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return {
      issue: issueAt(
        source,
        pointer,
        `finding file ${finding} is not valid JSON: ${(error as Error).message}`,
      ),
    };
  }
  try {
    return { finding: normalizeFinding(input) };
  } catch (error) {
    if (!(error instanceof FindingFormatError)) throw error;
    return { issue: issueAt(source, pointer, `finding file ${finding}: ${error.message}`) };
  }
};

const expectationOf = (raw: CaseExpectation): CaseExpectation => {
  const expect: CaseExpectation = {};
  if (raw.playbooks) expect.playbooks = [...raw.playbooks];
  if (raw.noMatch) expect.noMatch = true;
  if (raw.notPlaybooks) expect.notPlaybooks = [...raw.notPlaybooks];
  if (raw.steps) expect.steps = raw.steps.map((step): ExpectedStep => ({ ...step }));
  return expect;
};

const readCaseFile = async (
  file: string,
  text: string,
  read: FileReader,
  issues: ConfigurationIssue[],
): Promise<PlaybookCase[]> => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const problems = [...doc.errors, ...doc.warnings];
  for (const problem of problems) {
    const { line, col } = lineCounter.linePos(problem.pos[0]);
    issues.push({ file, line, column: col, pointer: '', message: problem.message });
  }
  if (problems.length > 0) return [];
  const source: SourceDocument = { file, doc, lineCounter };
  if (doc.contents === null) {
    issues.push(issueAt(source, '', 'has no cases'));
    return [];
  }
  const data: unknown = doc.toJS();
  const validate = casesValidator();
  if (!validate(data)) {
    issues.push(...schemaIssues(source, [...(validate.errors ?? [])]));
    return [];
  }
  const raws = data as RawCase[];
  const semantic = semanticIssues(source, raws);
  issues.push(...semantic);
  const findings = await Promise.all(raws.map((raw, index) => findingOf(source, index, raw.finding, read)));
  const cases: PlaybookCase[] = [];
  raws.forEach((raw, index) => {
    const resolved = findings[index]!;
    if ('issue' in resolved) {
      issues.push(resolved.issue);
      return;
    }
    cases.push({
      name: raw.name,
      ...(raw.description === undefined ? {} : { description: raw.description }),
      location: locate(source, `/${index}`),
      findingSource: typeof raw.finding === 'string' ? raw.finding : 'inline',
      finding: resolved.finding,
      expect: expectationOf(raw.expect),
    });
  });
  return semantic.length > 0 ? [] : cases;
};

const sortIssues = (issues: ConfigurationIssue[], files: string[]): ConfigurationIssue[] => {
  const order = new Map(files.map((file, index) => [file, index]));
  return issues.sort(
    (a, b) => (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) || a.line - b.line || a.column - b.column,
  );
};

/**
 * Parses one case file's text. Finding files are read relative to `file`'s directory.
 *
 * @throws CaseValidationError (code CASES_INVALID) with every problem at file:line:column.
 */
export const parseCases = async (text: string, file: string): Promise<PlaybookCase[]> => {
  const issues: ConfigurationIssue[] = [];
  const cases = await readCaseFile(file, text, cachedReader(), issues);
  if (issues.length > 0) throw new CaseValidationError(sortIssues(issues, [file]));
  return cases;
};

/**
 * Loads case files: files named directly (whatever their name) and every `*.cases.yaml` /
 * `*.cases.yml` under the directories given, recursively, in path order. Each case's finding is read
 * and normalized here, so a case that names a missing or malformed finding fails the load, not the run.
 *
 * @throws CaseValidationError (code CASES_INVALID) with every problem in every file, including
 * paths that cannot be read and directories that hold no case file.
 */
export const loadCases = async (paths: string[]): Promise<CaseFile[]> => {
  const issues: ConfigurationIssue[] = [];
  const files: string[] = [];
  for (const path of paths) {
    try {
      if ((await stat(path)).isDirectory()) {
        const found = await caseFilesIn(path);
        if (found.length === 0) {
          issues.push({ file: path, line: 0, column: 0, pointer: '', message: 'holds no *.cases.yaml file' });
        }
        files.push(...found);
      } else {
        files.push(path);
      }
    } catch (error) {
      issues.push(unreadable(path, error));
    }
  }
  const read = cachedReader();
  const loaded: CaseFile[] = [];
  for (const file of new Set(files)) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      issues.push(unreadable(file, error));
      continue;
    }
    loaded.push({ file, cases: await readCaseFile(file, text, read, issues) });
  }
  if (issues.length > 0) throw new CaseValidationError(sortIssues(issues, [...paths, ...files]));
  return loaded;
};
