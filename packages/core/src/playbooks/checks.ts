import type { ActionRegistry, JsonSchema } from '../action.js';
import { findTactic } from '../attack/tactics.js';
import type { ConfigurationIssue, PlaybookIssueCode } from '../errors.js';
import { conditionProblems } from '../match/conditions.js';
import { typePatternProblem } from '../match/pattern.js';
import { closestNames, didYouMean } from '../suggest.js';
import { childPointer, issueAt, issueAtKey, locate, type SourceDocument } from './positions.js';
import { afterCycles, stepIds } from './steps.js';
import { isRecord } from './values.js';

export interface CheckOptions {
  registry?: ActionRegistry<unknown>;
}

/**
 * Says whether a finding-type pattern names no known type (`unknownFindingType` from
 * `@riposte/core/catalog`) and, if so, what it may have meant; undefined when it names one.
 */
export type UnknownFindingType = (pattern: string) => { suggestions: string[] } | undefined;

/** What a problem adds to its message: its kind, and the names likely meant. */
interface IssueDetail {
  code?: PlaybookIssueCode;
  suggestions?: string[];
}

const detailed = (
  issue: ConfigurationIssue,
  { code, suggestions = [] }: IssueDetail,
): ConfigurationIssue => ({
  ...issue,
  message: didYouMean(issue.message, suggestions),
  ...(code === undefined ? {} : { code }),
  ...(suggestions.length > 0 ? { suggestions } : {}),
});

/** `match` and each `exclude` entry, with their pointers (whatever their shape). */
const criteriaBlocks = (data: Record<string, unknown>): [string, unknown][] => {
  const exclude = data.exclude;
  return [
    ['/match', data.match],
    ...(Array.isArray(exclude)
      ? exclude.map((criteria, index): [string, unknown] => [`/exclude/${index}`, criteria])
      : [['/exclude', exclude] as [string, unknown]]),
  ];
};

/** The type patterns of one criteria block that are strings, with their pointers. */
const typePatterns = (criteria: unknown, pointer: string): [string, string][] => {
  if (!isRecord(criteria)) return [];
  const types = criteria.types;
  const listed: [string, unknown][] =
    typeof types === 'string'
      ? [[childPointer(pointer, 'types'), types]]
      : Array.isArray(types)
        ? types.map((type, index) => [childPointer(childPointer(pointer, 'types'), index), type])
        : [];
  return listed.filter((entry): entry is [string, string] => typeof entry[1] === 'string');
};

/**
 * The keys a closed object schema allows at `segments` inside `schema` (following `properties` and
 * `items` only), or undefined when the schema there is open or reached some other way.
 */
const closedKeys = (schema: JsonSchema, segments: string[]): string[] | undefined => {
  let at: unknown = schema;
  for (const segment of segments) {
    if (!isRecord(at)) return undefined;
    const properties = at.properties;
    at =
      isRecord(properties) && segment in properties
        ? properties[segment]
        : /^\d+$/.test(segment)
          ? at.items
          : undefined;
  }
  if (!isRecord(at) || at.additionalProperties !== false || at.patternProperties !== undefined)
    return undefined;
  return isRecord(at.properties) ? Object.keys(at.properties) : [];
};

const unescapeSegment = (segment: string): string => segment.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * A params problem at `pointer` (relative to the params) names a key the action's schema does not
 * allow there: that key, the pointer of the mapping holding it, and the allowed keys the mapping does
 * not have yet. Read from the schema, so it holds whatever the registry's wording.
 */
const unknownParam = (
  schema: JsonSchema,
  params: Record<string, unknown>,
  pointer: string,
): { key: string; mapping: string; allowed: string[] } | undefined => {
  const segments = pointer.split('/').slice(1).map(unescapeSegment);
  const key = segments.pop();
  if (key === undefined) return undefined;
  const allowed = closedKeys(schema, segments);
  if (allowed === undefined || allowed.includes(key)) return undefined;
  let holder: unknown = params;
  for (const segment of segments)
    holder =
      isRecord(holder) || Array.isArray(holder) ? (holder as Record<string, unknown>)[segment] : undefined;
  const present = isRecord(holder) ? Object.keys(holder) : [];
  return {
    key,
    mapping: pointer.slice(0, pointer.lastIndexOf('/')),
    allowed: allowed.filter((name) => !present.includes(name)),
  };
};

/**
 * Type patterns that match no finding type `unknownFindingType` knows, as warnings at each pattern:
 * the pattern is valid and loads, but would never match.
 */
export const typeWarnings = (
  source: SourceDocument,
  data: unknown,
  unknownFindingType: UnknownFindingType,
): ConfigurationIssue[] => {
  if (!isRecord(data)) return [];
  return criteriaBlocks(data).flatMap(([pointer, criteria]) =>
    typePatterns(criteria, pointer).flatMap(([at, pattern]) => {
      // An invalid pattern is an error reported elsewhere; it is not also unknown.
      if (typePatternProblem(pattern) !== undefined) return [];
      const unknown = unknownFindingType(pattern);
      if (!unknown) return [];
      return [
        detailed(issueAt(source, at, `"${pattern}" matches no GuardDuty finding type, active or retired`), {
          code: 'FINDING_TYPE_UNKNOWN',
          suggestions: unknown.suggestions,
        }),
      ];
    }),
  );
};

/**
 * Problems the schema cannot see in one playbook document. Tolerates data the schema refused (it skips
 * what has the wrong shape), so every problem in a document is reported in one pass.
 */
export const semanticIssues = (
  source: SourceDocument,
  data: unknown,
  options: CheckOptions,
): ConfigurationIssue[] => {
  if (!isRecord(data)) return [];
  const issues: ConfigurationIssue[] = [];
  const report = (pointer: string, message: string, detail: IssueDetail = {}): void => {
    issues.push(detailed(issueAt(source, pointer, message), detail));
  };

  /** A condition tree, checked as the matcher checks it, each problem at its own YAML node. */
  const checkConditions = (tree: unknown, pointer: string): void => {
    for (const problem of conditionProblems(tree, pointer, { schemaChecked: true })) {
      const issue =
        problem.key === undefined
          ? issueAt(source, problem.pointer, problem.message)
          : issueAtKey(source, problem.pointer, problem.key, problem.message);
      issues.push({ ...issue, code: 'CONDITION_INVALID' });
    }
  };

  const checkCriteria = (criteria: unknown, pointer: string): void => {
    if (!isRecord(criteria)) return;
    for (const [at, pattern] of typePatterns(criteria, pointer)) {
      // An empty pattern is the schema's to report.
      const problem = pattern !== '' ? typePatternProblem(pattern) : undefined;
      if (problem) report(at, problem, { code: 'TYPE_PATTERN_INVALID' });
    }

    if (Array.isArray(criteria.tactics)) {
      criteria.tactics.forEach((tactic, index) => {
        if (typeof tactic === 'string' && tactic !== '' && !findTactic(tactic)) {
          report(
            childPointer(childPointer(pointer, 'tactics'), index),
            `unknown ATT&CK tactic "${tactic}"; use a tactic id (TA0010) or name (Exfiltration)`,
            { code: 'TACTIC_UNKNOWN' },
          );
        }
      });
    }

    const severity = criteria.severity;
    if (isRecord(severity) && typeof severity.min === 'number' && typeof severity.max === 'number') {
      if (severity.min > severity.max) {
        report(
          childPointer(pointer, 'severity'),
          `min ${severity.min} must not be above max ${severity.max}`,
          { code: 'SEVERITY_RANGE_INVALID' },
        );
      }
    }

    if ('conditions' in criteria) checkConditions(criteria.conditions, childPointer(pointer, 'conditions'));
  };

  const checkSteps = (actions: unknown[]): void => {
    const ids = stepIds(actions);
    const firstIndex = new Map<string, number>();
    ids.forEach((id, index) => {
      if (id === undefined) return;
      const first = firstIndex.get(id);
      if (first === undefined) {
        firstIndex.set(id, index);
      } else {
        const firstAt = locate(source, `/actions/${first}`);
        const message = `step id "${id}" is already used by the step at line ${firstAt.line}`;
        report(`/actions/${index}/id`, message, { code: 'STEP_ID_DUPLICATE' });
      }
    });

    const known = [...firstIndex.keys()];
    const waitsFor = actions.map((step, index) => {
      if (!isRecord(step)) return [];
      const after = step.after;
      const references: [string, unknown][] =
        typeof after === 'string'
          ? [[`/actions/${index}/after`, after]]
          : Array.isArray(after)
            ? after.map((id, position) => [`/actions/${index}/after/${position}`, id])
            : [];
      return references.flatMap(([at, id]) => {
        if (typeof id !== 'string' || id === '') return [];
        const target = firstIndex.get(id);
        if (target === undefined) {
          report(at, `names unknown step "${id}"; steps in this playbook: ${known.join(', ')}`, {
            code: 'STEP_UNKNOWN',
          });
          return [];
        }
        return [target];
      });
    });
    for (const cycle of afterCycles(waitsFor)) {
      const [first] = cycle;
      const path = cycle.map((index) => ids[index]).join(' -> ');
      report(`/actions/${first}/after`, `forms a cycle: ${path} (each step waits for the next)`, {
        code: 'STEP_CYCLE',
      });
    }

    const registry = options.registry;
    if (!registry) return;
    actions.forEach((step, index) => {
      if (!isRecord(step) || typeof step.action !== 'string') return;
      const pointer = `/actions/${index}`;
      const definition = registry.get(step.action);
      if (!definition) {
        const names = registry
          .list()
          .map((action) => action.name)
          .sort();
        const suggestions = closestNames(step.action, names);
        // A likely name is the answer; the whole list is for when there is none.
        const message =
          suggestions.length > 0
            ? `unknown action "${step.action}"`
            : `unknown action "${step.action}"; known actions: ${names.join(', ')}`;
        report(`${pointer}/action`, message, { code: 'ACTION_UNKNOWN', suggestions });
        return;
      }
      if (step.params !== undefined && !isRecord(step.params)) return;
      const params = step.params ?? {};
      for (const problem of registry.validateParams(step.action, params)) {
        const at = `${pointer}/params${problem.pointer}`;
        const unknown = unknownParam(definition.paramsSchema, params, problem.pointer);
        if (!unknown) {
          report(at, problem.message, { code: 'ACTION_PARAMS_INVALID' });
          continue;
        }
        // At the key, as an unknown playbook key is; the pointer names the param, as the registry does.
        const issue = issueAtKey(source, `${pointer}/params${unknown.mapping}`, unknown.key, problem.message);
        issues.push(
          detailed(
            { ...issue, pointer: at },
            { code: 'KEY_UNKNOWN', suggestions: closestNames(unknown.key, unknown.allowed) },
          ),
        );
      }
    });
  };

  for (const [pointer, criteria] of criteriaBlocks(data)) checkCriteria(criteria, pointer);
  if (Array.isArray(data.actions)) checkSteps(data.actions);
  return issues;
};
