import type { ActionRegistry } from '../action.js';
import { findTactic } from '../attack/tactics.js';
import type { ConfigurationIssue } from '../errors.js';
import { typePatternProblem } from '../match/pattern.js';
import { childPointer, issueAt, issueAtKey, locate, type SourceDocument } from './positions.js';
import { afterCycles, stepIds } from './steps.js';
import { isRecord } from './values.js';

/** json-rules-engine's built-in operators. */
export const BUILT_IN_OPERATORS: readonly string[] = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
];

/** json-rules-engine's built-in operator decorators: `not:equal`, `someFact:greaterThan`, ... */
const OPERATOR_DECORATORS = new Set(['someFact', 'someValue', 'everyFact', 'everyValue', 'swap', 'not']);

const BOOLEAN_KEYS = ['all', 'any', 'not'] as const;
const COMPARISON_KEYS = ['fact', 'operator', 'value', 'path', 'params'] as const;

export interface CheckOptions {
  registry?: ActionRegistry<unknown>;
  operators: ReadonlySet<string>;
}

/** Resolves decorators the way json-rules-engine does: strip known `decorator:` prefixes until an operator is left. */
const isKnownOperator = (name: string, operators: ReadonlySet<string>): boolean => {
  let rest = name;
  while (!operators.has(rest)) {
    const colon = rest.indexOf(':');
    if (colon <= 0 || !OPERATOR_DECORATORS.has(rest.slice(0, colon))) return false;
    rest = rest.slice(colon + 1);
  }
  return true;
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
  const report = (pointer: string, message: string): void => {
    issues.push(issueAt(source, pointer, message));
  };

  const checkCondition = (node: unknown, pointer: string, root: boolean): void => {
    if (!isRecord(node)) return;
    const kinds = [...BOOLEAN_KEYS, 'fact'].filter((key) => key in node);
    if (kinds.length === 0) {
      // An empty node is the schema's to report.
      if (Object.keys(node).length > 0) report(pointer, 'must have one of: all, any, not, fact');
    } else if (kinds.length > 1) {
      report(pointer, `must have only one of: ${kinds.join(', ')}`);
    } else if (kinds[0] === 'fact') {
      if (root) report(pointer, 'must start with all, any or not');
      for (const key of ['operator', 'value']) {
        if (!(key in node)) report(pointer, `is missing required key "${key}"`);
      }
      if (
        typeof node.operator === 'string' &&
        node.operator !== '' &&
        !isKnownOperator(node.operator, options.operators)
      ) {
        report(
          childPointer(pointer, 'operator'),
          `unknown operator "${node.operator}"; known operators: ${[...options.operators].join(', ')}`,
        );
      }
    } else {
      for (const key of COMPARISON_KEYS.filter((key) => key in node)) {
        issues.push(issueAtKey(source, pointer, key, `has "${key}", which only a fact comparison takes`));
      }
    }
    for (const key of ['all', 'any'] as const) {
      const children = node[key];
      if (Array.isArray(children)) {
        children.forEach((child, index) => {
          checkCondition(child, childPointer(childPointer(pointer, key), index), false);
        });
      }
    }
    if ('not' in node) checkCondition(node.not, childPointer(pointer, 'not'), false);
  };

  const checkCriteria = (criteria: unknown, pointer: string): void => {
    if (!isRecord(criteria)) return;
    const types = criteria.types;
    const patterns: [string, unknown][] =
      typeof types === 'string'
        ? [[childPointer(pointer, 'types'), types]]
        : Array.isArray(types)
          ? types.map((type, index) => [childPointer(childPointer(pointer, 'types'), index), type])
          : [];
    for (const [at, pattern] of patterns) {
      // An empty pattern is the schema's to report.
      const problem = typeof pattern === 'string' && pattern !== '' ? typePatternProblem(pattern) : undefined;
      if (problem) report(at, problem);
    }

    if (Array.isArray(criteria.tactics)) {
      criteria.tactics.forEach((tactic, index) => {
        if (typeof tactic === 'string' && tactic !== '' && !findTactic(tactic)) {
          report(
            childPointer(childPointer(pointer, 'tactics'), index),
            `unknown ATT&CK tactic "${tactic}"; use a tactic id (TA0010) or name (Exfiltration)`,
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
        );
      }
    }

    if ('conditions' in criteria)
      checkCondition(criteria.conditions, childPointer(pointer, 'conditions'), true);
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
        report(`/actions/${index}/id`, `step id "${id}" is already used by the step at line ${firstAt.line}`);
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
          report(at, `names unknown step "${id}"; steps in this playbook: ${known.join(', ')}`);
          return [];
        }
        return [target];
      });
    });
    for (const cycle of afterCycles(waitsFor)) {
      const [first] = cycle;
      const path = cycle.map((index) => ids[index]).join(' -> ');
      report(`/actions/${first}/after`, `forms a cycle: ${path} (each step waits for the next)`);
    }

    const registry = options.registry;
    if (!registry) return;
    actions.forEach((step, index) => {
      if (!isRecord(step) || typeof step.action !== 'string') return;
      const pointer = `/actions/${index}`;
      if (!registry.get(step.action)) {
        const names = registry
          .list()
          .map((action) => action.name)
          .sort();
        report(`${pointer}/action`, `unknown action "${step.action}"; known actions: ${names.join(', ')}`);
        return;
      }
      if (step.params !== undefined && !isRecord(step.params)) return;
      for (const problem of registry.validateParams(step.action, step.params ?? {})) {
        report(`${pointer}/params${problem.pointer}`, problem.message);
      }
    });
  };

  checkCriteria(data.match, '/match');
  const exclude = data.exclude;
  if (Array.isArray(exclude)) {
    exclude.forEach((criteria, index) => {
      checkCriteria(criteria, `/exclude/${index}`);
    });
  } else {
    checkCriteria(exclude, '/exclude');
  }
  if (Array.isArray(data.actions)) checkSteps(data.actions);
  return issues;
};
