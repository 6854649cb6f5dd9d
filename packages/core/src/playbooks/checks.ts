import type { ActionRegistry } from '../action.js';
import { findTactic } from '../attack/tactics.js';
import type { ConfigurationIssue } from '../errors.js';
import { conditionProblems } from '../match/conditions.js';
import { typePatternProblem } from '../match/pattern.js';
import { childPointer, issueAt, issueAtKey, locate, type SourceDocument } from './positions.js';
import { afterCycles, stepIds } from './steps.js';
import { isRecord } from './values.js';

export interface CheckOptions {
  registry?: ActionRegistry<unknown>;
}

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

  /** A condition tree, checked as the matcher checks it, each problem at its own YAML node. */
  const checkConditions = (tree: unknown, pointer: string): void => {
    for (const problem of conditionProblems(tree, pointer, { schemaChecked: true })) {
      issues.push(
        problem.key === undefined
          ? issueAt(source, problem.pointer, problem.message)
          : issueAtKey(source, problem.pointer, problem.key, problem.message),
      );
    }
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
