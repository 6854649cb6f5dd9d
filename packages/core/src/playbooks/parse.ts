import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import type { ActionRegistry } from '../action.js';
import { type ConfigurationIssue, PlaybookValidationError } from '../errors.js';
import type { Playbook } from '../playbook.js';
import { toPlaybook } from './build.js';
import { semanticIssues, typeWarnings, type UnknownFindingType } from './checks.js';
import { locate, type SourceDocument } from './positions.js';
import { schemaIssues } from './schema-issues.js';
import { isRecord } from './values.js';

export interface LoadOptions {
  /** When given, every step's action must be registered and its params must pass the action's schema. */
  registry?: ActionRegistry<unknown>;
  /**
   * When given, each type pattern it flags (one matching no known finding type) is a warning, with
   * its suggestions. Pass `unknownFindingType` from `@riposte/core/catalog`: the loader does not import
   * the catalog itself, so the function's bundle never carries it.
   */
  unknownFindingType?: UnknownFindingType;
  /**
   * Called for each file read, in order, once every file is checked (before any error is thrown), with
   * its playbook count and its warnings: problems that do not stop the load.
   */
  onFileChecked?: (checked: CheckedFile) => void;
}

/** One file the loader read: how many playbooks it holds and what it warns about. */
export interface CheckedFile {
  file: string;
  playbooks: number;
  warnings: ConfigurationIssue[];
}

/** A playbook file's text and the name issues should give it (as the user wrote the path). */
export interface PlaybookSource {
  file: string;
  text: string;
}

interface ParsedDocument {
  source: SourceDocument;
  data: unknown;
}

const yamlIssue = (file: string, lineCounter: LineCounter, error: YAMLError): ConfigurationIssue => {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  return { file, line, column: col, pointer: '', message: error.message, code: 'YAML_INVALID' };
};

/** The non-empty documents of a file; a document with YAML errors yields issues instead of data. */
const readDocuments = (input: PlaybookSource, issues: ConfigurationIssue[]): ParsedDocument[] => {
  const lineCounter = new LineCounter();
  const stream = parseAllDocuments(input.text, { lineCounter, prettyErrors: false });
  if ('empty' in stream) {
    issues.push(
      ...[...stream.errors, ...stream.warnings].map((error) => yamlIssue(input.file, lineCounter, error)),
    );
  }
  const documents: ParsedDocument[] = [];
  for (const doc of stream) {
    // Errors after the first mostly restate it as the parser loses its footing, so only the first
    // counts. Warnings count too: an unresolved tag such as `!Ref` is never what a playbook means.
    const problems = [...doc.errors.slice(0, 1), ...doc.warnings];
    issues.push(...problems.map((error) => yamlIssue(input.file, lineCounter, error)));
    if (problems.length > 0) continue;
    const source: SourceDocument = { file: input.file, doc, lineCounter };
    try {
      const data: unknown = doc.toJS();
      // A document of nothing but comments (or an explicit null) is not a playbook.
      if (data !== null && data !== undefined) documents.push({ source, data });
    } catch (error) {
      // toJS refuses alias expansion past its limit ("billion laughs").
      issues.push({
        ...locate(source, ''),
        message: error instanceof Error ? error.message : String(error),
        code: 'YAML_INVALID',
      });
    }
  }
  return documents;
};

/** Two playbooks with one name: each location names the other. */
const duplicateNameIssues = (documents: ParsedDocument[]): ConfigurationIssue[] => {
  const byName = new Map<string, ConfigurationIssue[]>();
  for (const { source, data } of documents) {
    if (!isRecord(data) || typeof data.name !== 'string') continue;
    const locations = byName.get(data.name) ?? [];
    locations.push({ ...locate(source, '/name'), message: '' });
    byName.set(data.name, locations);
  }
  return [...byName.entries()].flatMap(([name, locations]) =>
    locations.length < 2
      ? []
      : locations.map((location) => {
          const others = locations
            .filter((other) => other !== location)
            .map((other) => `${other.file}:${other.line}:${other.column}`);
          return {
            ...location,
            message: `duplicate playbook name "${name}"; also defined at ${others.join(', ')}`,
            code: 'PLAYBOOK_NAME_DUPLICATE',
          };
        }),
  );
};

/**
 * Parses and validates playbook files together (names must be unique across all of them), then
 * returns every playbook or throws one `PlaybookValidationError` with every issue found, in file order.
 * `issues` seeds the list with problems found before parsing (files that could not be read).
 */
export const compilePlaybooks = (
  inputs: PlaybookSource[],
  options: LoadOptions = {},
  issues: ConfigurationIssue[] = [],
): Playbook[] => {
  const all = [...issues];
  const warnings: ConfigurationIssue[] = [];
  const documents = inputs.flatMap((input) => readDocuments(input, all));
  for (const { source, data } of documents) {
    all.push(...schemaIssues(source, data), ...semanticIssues(source, data, options));
    if (options.unknownFindingType) warnings.push(...typeWarnings(source, data, options.unknownFindingType));
  }
  all.push(...duplicateNameIssues(documents));
  const fileOrder = new Map(inputs.map((input, index) => [input.file, index]));
  const order = (issue: ConfigurationIssue): number => fileOrder.get(issue.file) ?? -1;
  const byPosition = (a: ConfigurationIssue, b: ConfigurationIssue): number =>
    order(a) - order(b) || a.line - b.line || a.column - b.column;
  if (options.onFileChecked) {
    for (const { file } of inputs) {
      options.onFileChecked({
        file,
        playbooks: documents.filter(({ source }) => source.file === file).length,
        warnings: warnings.filter((warning) => warning.file === file).sort(byPosition),
      });
    }
  }
  if (all.length > 0) {
    all.sort(byPosition);
    throw new PlaybookValidationError(all);
  }
  return documents.map(({ source, data }) => toPlaybook(source, data as Record<string, unknown>));
};

/** Parses the playbooks in one YAML text (one per document). Pure: `file` only names the issues. */
export const parsePlaybooks = (text: string, file: string, options: LoadOptions = {}): Playbook[] =>
  compilePlaybooks([{ file, text }], options);
