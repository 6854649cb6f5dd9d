import { JSONPath } from 'jsonpath-plus';
import { ConditionEvaluationError, type SourceLocation } from '../errors.js';
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
  process: true,
  runtimeContext: true,
  sequence: true,
  techniques: true,
  tactics: true,
  source: true,
  raw: true,
};
const FACTS = new Set(Object.keys(FINDING_FIELDS));

type Comparison = (factValue: unknown, value: unknown) => boolean;

/**
 * A json-rules-engine operator as the library defines it: a comparison, guarded by a check of the
 * fact's value (a value the check refuses makes the condition false rather than an error).
 */
interface OperatorDefinition {
  compare: Comparison;
  accepts?: (factValue: unknown) => boolean;
}

/** What `in` and `contains` call: an array's or a string's `indexOf`, as json-rules-engine calls it. */
const searchable = (value: unknown) => value as { indexOf(item: unknown): number };
const isNumeric = (value: unknown): boolean => Number.parseFloat(value as string).toString() !== 'NaN';
const items = (value: unknown) => value as unknown[];

/** json-rules-engine 7's built-in operators, defined as it defines them (engine-default-operators.js). */
const OPERATOR_DEFINITIONS: Record<string, OperatorDefinition> = {
  equal: { compare: (a, b) => a === b },
  notEqual: { compare: (a, b) => a !== b },
  in: { compare: (a, b) => searchable(b).indexOf(a) > -1 },
  notIn: { compare: (a, b) => searchable(b).indexOf(a) === -1 },
  contains: { compare: (a, b) => searchable(a).indexOf(b) > -1, accepts: Array.isArray },
  doesNotContain: { compare: (a, b) => searchable(a).indexOf(b) === -1, accepts: Array.isArray },
  lessThan: { compare: (a, b) => (a as number) < (b as number), accepts: isNumeric },
  lessThanInclusive: { compare: (a, b) => (a as number) <= (b as number), accepts: isNumeric },
  greaterThan: { compare: (a, b) => (a as number) > (b as number), accepts: isNumeric },
  greaterThanInclusive: { compare: (a, b) => (a as number) >= (b as number), accepts: isNumeric },
};

interface DecoratorDefinition {
  wrap(next: Comparison): Comparison;
  accepts?: (factValue: unknown) => boolean;
}

/** The decorators that may prefix an operator (`everyFact:equal`), as json-rules-engine 7 defines them. */
const DECORATOR_DEFINITIONS: Record<string, DecoratorDefinition> = {
  someFact: { wrap: (next) => (a, b) => items(a).some((item) => next(item, b)), accepts: Array.isArray },
  someValue: { wrap: (next) => (a, b) => items(b).some((item) => next(a, item)) },
  everyFact: { wrap: (next) => (a, b) => items(a).every((item) => next(item, b)), accepts: Array.isArray },
  everyValue: { wrap: (next) => (a, b) => items(b).every((item) => next(a, item)) },
  swap: { wrap: (next) => (a, b) => next(b, a) },
  not: { wrap: (next) => (a, b) => !next(a, b) },
};

const guarded = (compare: Comparison, accepts?: (factValue: unknown) => boolean): Comparison =>
  accepts ? (a, b) => accepts(a) && compare(a, b) : compare;

/**
 * The comparison an operator name stands for, decorators applied as json-rules-engine applies them:
 * the one nearest the operator first, so `not:someFact:equal` negates "some item equals".
 */
const comparisonFor = (operator: string): Comparison | undefined => {
  const decorators = operator.split(':');
  const base = decorators.pop() as string;
  const definition = Object.hasOwn(OPERATOR_DEFINITIONS, base) ? OPERATOR_DEFINITIONS[base] : undefined;
  if (!definition) return undefined;
  let comparison = guarded(definition.compare, definition.accepts);
  for (const name of decorators.reverse()) {
    const decorator = Object.hasOwn(DECORATOR_DEFINITIONS, name) ? DECORATOR_DEFINITIONS[name] : undefined;
    if (!decorator) return undefined;
    comparison = guarded(decorator.wrap(comparison), decorator.accepts);
  }
  return comparison;
};

const isKnownOperator = (operator: string): boolean => comparisonFor(operator) !== undefined;

const OPERATOR_NAMES = Object.keys(OPERATOR_DEFINITIONS).join(', ');
const DECORATOR_PREFIXES = Object.keys(DECORATOR_DEFINITIONS)
  .map((name) => `${name}:`)
  .join(', ');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const BRANCHES = ['all', 'any', 'not', 'fact'] as const;
/** The keys of a fact comparison besides `fact` (which makes a node one). */
const COMPARISON_KEYS = ['operator', 'value', 'path', 'params'] as const;

/** A problem in a condition tree. `key`: it is about that key of the node at `pointer` (a key that does not belong). */
export interface ConditionProblem extends CriteriaProblem {
  key?: string;
}

export interface ConditionCheckOptions {
  /**
   * The tree has been through the playbook JSON Schema, which already reports what has the wrong
   * shape (a node that is not an object or is empty, an empty `all`, a fact that is not a string):
   * leave those out so each problem is reported once.
   */
  schemaChecked?: boolean;
}

/**
 * Checks a condition tree before any finding reaches it, so a typo (an unknown fact or operator, a
 * path that is not JSONPath) fails at load instead of silently never matching. The one check of the
 * condition language: the loader runs it at each YAML node, the matcher on playbooks built in code.
 * Tolerates any input, and reports every problem of the tree in one pass.
 */
export const conditionProblems = (
  tree: unknown,
  pointer: string,
  options: ConditionCheckOptions = {},
): ConditionProblem[] => {
  const problems: ConditionProblem[] = [];
  /** `schemaSees`: the playbook JSON Schema reports this problem too (it checks shapes, not meaning). */
  const report = (at: string, message: string, schemaSees = false): void => {
    if (!(schemaSees && options.schemaChecked)) problems.push({ pointer: at, message });
  };
  const isName = (value: unknown): value is string => typeof value === 'string' && value !== '';

  const visit = (node: unknown, at: string): void => {
    if (!isRecord(node)) {
      report(at, 'must be an object with one of: all, any, not, fact', true);
      return;
    }
    const kinds = BRANCHES.filter((key) => key in node);
    if (kinds.length === 0) {
      report(at, 'must have one of: all, any, not, fact', Object.keys(node).length === 0);
    } else if (kinds.length > 1) {
      report(at, `must have only one of: ${kinds.join(', ')}`);
    } else if (kinds[0] === 'fact') {
      visitLeaf(node, at);
    } else {
      for (const key of COMPARISON_KEYS.filter((key) => key in node)) {
        problems.push({ pointer: at, key, message: `has "${key}", which only a fact comparison takes` });
      }
    }
    for (const key of ['all', 'any'] as const) {
      if (!(key in node)) continue;
      const children = node[key];
      if (!Array.isArray(children) || children.length === 0) {
        report(`${at}/${key}`, 'must list at least one condition', true);
        continue;
      }
      for (const [index, child] of children.entries()) visit(child, `${at}/${key}/${index}`);
    }
    if ('not' in node) visit(node.not, `${at}/not`);
  };
  // The schema types a comparison's own fact and path, not those of a fact its value names: `typed`.
  const visitFact = (fact: unknown, at: string, typed: boolean): void => {
    if (isName(fact) && FACTS.has(fact)) return;
    const message = `unknown fact ${JSON.stringify(fact)}; facts are the finding's fields: ${[...FACTS].join(', ')}`;
    report(at, message, typed && !isName(fact));
  };
  const visitPath = (path: unknown, at: string, typed: boolean): void => {
    if (path === undefined || (typeof path === 'string' && path.startsWith('$'))) return;
    report(
      at,
      'must be a JSONPath starting with $ (e.g. $.service.action.actionType)',
      typed && !isName(path),
    );
  };
  const visitLeaf = (leaf: Record<string, unknown>, at: string): void => {
    for (const key of ['operator', 'value']) {
      if (!(key in leaf)) report(at, `is missing required key "${key}"`);
    }
    visitFact(leaf.fact, `${at}/fact`, true);
    visitPath(leaf.path, `${at}/path`, true);
    const { operator } = leaf;
    if ('operator' in leaf && !(isName(operator) && isKnownOperator(operator))) {
      report(
        `${at}/operator`,
        `unknown operator ${JSON.stringify(operator)}; known operators: ${OPERATOR_NAMES}, each may be prefixed by ${DECORATOR_PREFIXES}`,
        !isName(operator),
      );
    }
    if (isRecord(leaf.value) && 'fact' in leaf.value) {
      visitFact(leaf.value.fact, `${at}/value/fact`, false);
      visitPath(leaf.value.path, `${at}/value/path`, false);
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

/** An evaluated tree: the same shape as `ConditionTree`, each node with its result (json-rules-engine's). */
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

/** The trees of a playbook: `match` and `exclude/<index>`. */
export const MATCH_RULE = 'match';
export const excludeRule = (index: number): string => `exclude/${index}`;

/**
 * A path resolved as json-rules-engine resolves it by default: jsonpath-plus (the library it uses),
 * unwrapped, so a path means the same here as in its documentation.
 */
const jsonPath = (json: object, path: string): unknown => JSONPath<unknown>({ path, json, wrap: false });

const SIMPLE_PATH = /^\$(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/**
 * Compiles a path. `$.a.b` is walked directly, as JSONPath walks it: through own properties of any
 * truthy value (a string owns its `length`), and to nothing once a step is missing. Anything richer
 * (wildcards, filters, brackets) goes to JSONPath: building its scalar answer costs an Error object.
 */
const compilePath = (path: string): ((value: object) => unknown) => {
  if (!SIMPLE_PATH.test(path)) return (value) => jsonPath(value, path);
  const keys = path.slice(2).split('.');
  return (value) => {
    let current: unknown = value;
    for (const key of keys) {
      if (!current || !Object.hasOwn(current as object, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
    return current;
  };
};

type Read = (finding: Finding) => unknown;

/** A fact of the finding, through its path when it is an object (json-rules-engine ignores the path otherwise). */
const factReader = (fact: unknown, path: unknown): Read => {
  const walk = typeof path === 'string' && path !== '' ? compilePath(path) : undefined;
  const key = String(fact);
  return (finding) => {
    const value = Object.hasOwn(finding, key)
      ? (finding as unknown as Record<string, unknown>)[key]
      : undefined;
    return walk && typeof value === 'object' && value !== null ? walk(value) : value;
  };
};

/** A condition's value: a constant, or `{ fact, path }` naming another fact of the finding. */
const valueReader = (value: unknown): Read => {
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, 'fact')) {
    const reference = value as { fact: unknown; path?: unknown };
    return factReader(reference.fact, reference.path);
  }
  return () => value;
};

type CompiledNode =
  | { kind: 'all' | 'any'; children: CompiledNode[] }
  | { kind: 'not'; child: CompiledNode }
  | { kind: 'leaf'; leaf: ConditionTree; fact: Read; value: Read; compare: Comparison };

const compileTree = (node: ConditionTree): CompiledNode => {
  if ('all' in node) return { kind: 'all', children: node.all.map(compileTree) };
  if ('any' in node) return { kind: 'any', children: node.any.map(compileTree) };
  if ('not' in node) return { kind: 'not', child: compileTree(node.not) };
  const compare =
    comparisonFor(node.operator) ??
    (() => {
      throw new Error(`Unknown operator: ${node.operator}`);
    });
  return {
    kind: 'leaf',
    leaf: node,
    fact: factReader(node.fact, node.path),
    value: valueReader(node.value),
    compare,
  };
};

/**
 * Evaluates a compiled tree. Like json-rules-engine, every child of an `all` or `any` is evaluated
 * (it runs them together), so a condition that cannot be evaluated is reported wherever it sits.
 */
const holds = (node: CompiledNode, finding: Finding): boolean => {
  switch (node.kind) {
    case 'leaf':
      return node.compare(node.fact(finding), node.value(finding)) === true;
    case 'not':
      return !holds(node.child, finding);
    case 'all': {
      let every = true;
      for (const child of node.children) every = holds(child, finding) && every;
      return every;
    }
    case 'any': {
      let some = false;
      for (const child of node.children) some = holds(child, finding) || some;
      return some;
    }
  }
};

/** The same evaluation, keeping each node's result and each leaf's fact value, for explanations. */
const trace = (node: CompiledNode, finding: Finding): EvaluatedNode => {
  switch (node.kind) {
    case 'leaf': {
      const factResult = node.fact(finding);
      return { ...node.leaf, factResult, result: node.compare(factResult, node.value(finding)) === true };
    }
    case 'not': {
      const child = trace(node.child, finding);
      return { not: child, result: child.result !== true };
    }
    case 'all': {
      const children = node.children.map((child) => trace(child, finding));
      return { all: children, result: children.every((child) => child.result === true) };
    }
    case 'any': {
      const children = node.children.map((child) => trace(child, finding));
      return { any: children, result: children.some((child) => child.result === true) };
    }
  }
};

/**
 * All condition trees of one playbook, compiled once and evaluated with json-rules-engine's
 * semantics (its operators, decorators, fact and path resolution, `allowUndefinedFacts`) but
 * synchronously and without its per-run setup, which hashes and copies every fact of the finding.
 */
export class PlaybookConditions {
  readonly #trees = new Map<string, { compiled: CompiledNode; heldText: string }>();
  readonly #playbook: string;
  readonly #location: SourceLocation;

  constructor(playbook: string, location: SourceLocation, trees: ReadonlyMap<string, ConditionTree>) {
    this.#playbook = playbook;
    this.#location = location;
    for (const [name, tree] of trees) {
      this.#trees.set(name, { compiled: compileTree(tree), heldText: conditionText(tree) });
    }
  }

  /** Evaluates every tree of the playbook against the finding; outcomes by tree name. */
  evaluate(finding: Finding): ReadonlyMap<string, ConditionOutcome> {
    const outcomes = new Map<string, ConditionOutcome>();
    try {
      for (const [name, { compiled, heldText }] of this.#trees) {
        const held = holds(compiled, finding);
        outcomes.set(name, {
          holds: held,
          text: held ? () => heldText : () => failureText(trace(compiled, finding)),
        });
      }
    } catch (cause) {
      throw this.#failure(finding, cause instanceof Error ? cause.message : String(cause), cause);
    }
    return outcomes;
  }

  #failure(finding: Finding, message: string, cause?: unknown): ConditionEvaluationError {
    return new ConditionEvaluationError(
      `playbook "${this.#playbook}": conditions could not be evaluated: ${message}`,
      { details: { playbook: this.#playbook, location: this.#location, findingId: finding.id }, cause },
    );
  }
}
