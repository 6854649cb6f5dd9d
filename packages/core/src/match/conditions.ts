import { Engine, type EngineResult, type RuleResult, type TopLevelCondition } from 'json-rules-engine';
import { RiposteError, type SourceLocation } from '../errors.js';
import type { Finding } from '../finding.js';
import type { ConditionTree } from '../playbook.js';
import type { CriteriaProblem } from './criteria.js';

/**
 * Conditions see the Finding's top-level fields as facts. Listing them as a record keyed by
 * `keyof Finding` keeps this list in step with the model: the compiler refuses a missing or extra key.
 */
const FINDING_FIELDS: Record<keyof Finding, true> = {
  id: true,
  arn: true,
  type: true,
  severity: true,
  severityLabel: true,
  title: true,
  description: true,
  accountId: true,
  region: true,
  partition: true,
  createdAt: true,
  updatedAt: true,
  firstSeen: true,
  lastSeen: true,
  count: true,
  archived: true,
  sample: true,
  resourceRole: true,
  resourceType: true,
  resources: true,
  actor: true,
  techniques: true,
  tactics: true,
  source: true,
  raw: true,
};
const FACTS = new Set(Object.keys(FINDING_FIELDS));

/** json-rules-engine 7's built-in operators and the decorators that may prefix them (`everyFact:equal`). */
const OPERATORS = new Set([
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
]);
const OPERATOR_DECORATORS = new Set(['someFact', 'someValue', 'everyFact', 'everyValue', 'swap', 'not']);

const isKnownOperator = (operator: string): boolean => {
  const parts = operator.split(':');
  const base = parts.pop() as string;
  return OPERATORS.has(base) && parts.every((decorator) => OPERATOR_DECORATORS.has(decorator));
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const BRANCHES = ['all', 'any', 'not', 'fact'] as const;

/**
 * Checks a condition tree before any finding reaches it, so a typo (an unknown fact or operator, a
 * path that is not JSONPath) fails at load instead of silently never matching.
 */
export const conditionProblems = (tree: ConditionTree, pointer = '/conditions'): CriteriaProblem[] => {
  const problems: CriteriaProblem[] = [];
  const visit = (node: unknown, at: string): void => {
    if (!isRecord(node)) {
      problems.push({ pointer: at, message: 'must be an object with all, any, not or fact' });
      return;
    }
    const branches = BRANCHES.filter((key) => key in node);
    if (branches.length !== 1) {
      problems.push({ pointer: at, message: 'must have exactly one of all, any, not or fact' });
      return;
    }
    if ('not' in node) {
      visit(node.not, `${at}/not`);
      return;
    }
    if ('fact' in node) {
      visitLeaf(node, at);
      return;
    }
    const key = branches[0] as 'all' | 'any';
    const children = node[key];
    if (!Array.isArray(children) || children.length === 0) {
      problems.push({ pointer: `${at}/${key}`, message: 'must list at least one condition' });
      return;
    }
    for (const [index, child] of children.entries()) visit(child, `${at}/${key}/${index}`);
  };
  const visitFact = (fact: unknown, at: string): void => {
    if (typeof fact !== 'string' || !FACTS.has(fact)) {
      problems.push({
        pointer: at,
        message: `unknown fact ${JSON.stringify(fact)}; facts are the finding's fields: ${[...FACTS].join(', ')}`,
      });
    }
  };
  const visitPath = (path: unknown, at: string): void => {
    if (path !== undefined && (typeof path !== 'string' || !path.startsWith('$'))) {
      problems.push({
        pointer: at,
        message: 'must be a JSONPath starting with $ (e.g. $.service.action.actionType)',
      });
    }
  };
  const visitLeaf = (leaf: Record<string, unknown>, at: string): void => {
    visitFact(leaf.fact, `${at}/fact`);
    visitPath(leaf.path, `${at}/path`);
    if (typeof leaf.operator !== 'string' || !isKnownOperator(leaf.operator)) {
      problems.push({
        pointer: `${at}/operator`,
        message: `unknown operator ${JSON.stringify(leaf.operator)}; use one of ${[...OPERATORS].join(', ')}, optionally prefixed by ${[...OPERATOR_DECORATORS].map((decorator) => `${decorator}:`).join(', ')}`,
      });
    }
    if (!('value' in leaf)) {
      problems.push({ pointer: `${at}/value`, message: 'is required' });
    } else if (isRecord(leaf.value) && 'fact' in leaf.value) {
      visitFact(leaf.value.fact, `${at}/value/fact`);
      visitPath(leaf.value.path, `${at}/value/path`);
    }
  };
  visit(tree, pointer);
  return problems;
};

const show = (value: unknown): string => {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** Reads a condition tree as text: `severity greaterThanInclusive 7 and (raw $.a equal 1 or not (...))`. */
export const conditionText = (node: ConditionTree): string => {
  if ('all' in node) return node.all.map((child) => wrap(child)).join(' and ');
  if ('any' in node) return node.any.map((child) => wrap(child)).join(' or ');
  if ('not' in node) return `not ${wrap(node.not)}`;
  return `${node.fact}${node.path ? ` ${node.path}` : ''} ${node.operator} ${show(node.value)}`;
};
const wrap = (node: ConditionTree): string =>
  'fact' in node ? conditionText(node) : `(${conditionText(node)})`;

/** json-rules-engine's evaluated tree: the same shape as `ConditionTree`, each node with its result. */
interface EvaluatedNode {
  all?: EvaluatedNode[];
  any?: EvaluatedNode[];
  not?: EvaluatedNode;
  fact?: string;
  path?: string;
  operator?: string;
  value?: unknown;
  factResult?: unknown;
  result?: boolean;
}

/** Why a failed node failed, naming the leaf and the value the finding gave it. */
const failureText = (node: EvaluatedNode): string => {
  if (node.all) {
    const failed = node.all.find((child) => child.result === false);
    return failed ? failureText(failed) : 'a condition did not hold';
  }
  if (node.any) return `none held: ${node.any.map(failureText).join('; ')}`;
  if (node.not) return `not held because ${conditionText(node.not as ConditionTree)} held`;
  const leaf = node as ConditionTree & EvaluatedNode;
  return `${conditionText(leaf)} is false (${leaf.fact}${leaf.path ? ` ${leaf.path}` : ''} is ${show(leaf.factResult)})`;
};

/** The outcome of one condition tree for one finding. `text` says how it held or why it failed. */
export interface ConditionOutcome {
  holds: boolean;
  text(): string;
}

/** Engine rules for a playbook's trees: `match` and `exclude/<index>`. */
export const MATCH_RULE = 'match';
export const excludeRule = (index: number): string => `exclude/${index}`;

/** A top-level leaf is wrapped: json-rules-engine wants all, any or not at the root. */
const rootCondition = (tree: ConditionTree): TopLevelCondition => ('fact' in tree ? { all: [tree] } : tree);

/**
 * All condition trees of one playbook in one json-rules-engine Engine, built once. One run per finding
 * evaluates them together. Runs on the same Engine are queued: the Engine keeps a single run status,
 * and a run that finishes while another is in flight makes the other skip its rule (found by test).
 */
export class PlaybookConditions {
  readonly #engine: Engine;
  readonly #texts = new Map<string, string>();
  readonly #playbook: string;
  readonly #location: SourceLocation;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(playbook: string, location: SourceLocation, trees: ReadonlyMap<string, ConditionTree>) {
    this.#playbook = playbook;
    this.#location = location;
    this.#engine = new Engine([], { allowUndefinedFacts: true });
    for (const [name, tree] of trees) {
      this.#engine.addRule({ name, conditions: rootCondition(tree), event: { type: name } });
      this.#texts.set(name, conditionText(tree));
    }
  }

  /** Evaluates every tree of the playbook against the finding; outcomes by rule name. */
  async evaluate(finding: Finding): Promise<ReadonlyMap<string, ConditionOutcome>> {
    const run = this.#queue.then(() => this.#engine.run(finding));
    this.#queue = run.catch(() => undefined);
    let result: EngineResult;
    try {
      result = await run;
    } catch (cause) {
      throw this.#failure(finding, cause instanceof Error ? cause.message : String(cause), cause);
    }
    const outcomes = new Map<string, ConditionOutcome>();
    for (const success of result.results) {
      const text = this.#texts.get(success.name) as string;
      outcomes.set(success.name, { holds: true, text: () => text });
    }
    for (const failure of result.failureResults) {
      outcomes.set(failure.name, { holds: false, text: () => failureText(evaluatedTree(failure)) });
    }
    // A rule the engine skipped has no outcome; reading that as "did not hold" could drop an exclusion.
    if (outcomes.size !== this.#texts.size) throw this.#failure(finding, 'json-rules-engine skipped a rule');
    return outcomes;
  }

  #failure(finding: Finding, message: string, cause?: unknown): RiposteError {
    return new RiposteError(
      'MATCH_CONDITION_FAILED',
      `playbook "${this.#playbook}": conditions could not be evaluated: ${message}`,
      { details: { playbook: this.#playbook, location: this.#location, findingId: finding.id }, cause },
    );
  }
}

/** The library types the evaluated tree loosely; its nodes carry the fields `EvaluatedNode` names. */
const evaluatedTree = (result: RuleResult): EvaluatedNode => result.conditions as EvaluatedNode;
