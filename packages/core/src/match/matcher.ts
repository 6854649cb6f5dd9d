import {
  type ConfigurationIssue,
  EngineConfigurationError,
  PlaybookValidationError,
  type SourceLocation,
} from '../errors.js';
import { type Finding, resourceTags } from '../finding.js';
import type { ConditionTree, Playbook } from '../playbook.js';
import { describeResource } from '../report.js';
import {
  type ConditionOutcome,
  conditionProblems,
  excludeRule,
  MATCH_RULE,
  PlaybookConditions,
} from './conditions.js';
import {
  type Check,
  type CompiledCriteria,
  type CriteriaProblem,
  type CriterionName,
  compileCriteria,
  type MatchedCriterion,
} from './criteria.js';
import { TypeIndex } from './type-index.js';

export interface ExemptTag {
  key: string;
  value: string;
}

export interface MatcherOptions {
  /**
   * Exclusions applied to every playbook before its own.
   * `samples` (boolean) (true): exclude GuardDuty sample findings unless the playbook's match says `sample: true`.
   * `archived` (boolean) (true): exclude archived findings unless the playbook's match says `archived: true`.
   * `exemptTag` ({ key, value } | null) ({ key: 'riposte:exempt', value: 'true' }): exclude a finding any
   * of whose resources carries this tag, whatever the playbook says; null turns it off.
   */
  defaultExclusions?: { samples?: boolean; archived?: boolean; exemptTag?: ExemptTag | null };
}

/** A playbook that matched a finding, with each criterion that held and how. */
export interface PlaybookMatch {
  playbook: Playbook;
  matched: MatchedCriterion[];
}

export type DefaultExclusion = 'sample' | 'archived' | 'exempt-tag';

/** Why a playbook did or did not match a finding. */
export interface MatchExplanation {
  playbook: string;
  matched: boolean;
  /** The criteria that held, in evaluation order (up to the one that failed). */
  criteria: MatchedCriterion[];
  /** The first criterion that failed; `enabled` for a disabled playbook. */
  failed?: { criterion: CriterionName | 'enabled'; reason: string };
  /** The exclusion that won: an `exclude` entry by index, or one of the default exclusions. */
  excludedBy?:
    | { index: number; criteria: MatchedCriterion[] }
    | { default: DefaultExclusion; reason: string };
}

export interface Matcher {
  /** The enabled playbooks that match the finding, in priority order (then name). */
  match(finding: Finding): Promise<PlaybookMatch[]>;
  /** Every playbook, in priority order: matched, or the first criterion that failed, or the exclusion that hit. */
  explain(finding: Finding): Promise<MatchExplanation[]>;
  /** The enabled playbooks the index yields for this finding: the only ones `match` evaluates. */
  candidates(finding: Finding): Playbook[];
  /** All playbooks, in priority order (then name). */
  readonly playbooks: readonly Playbook[];
}

export const DEFAULT_EXEMPT_TAG: ExemptTag = { key: 'riposte:exempt', value: 'true' };

interface CompiledPlaybook {
  ordinal: number;
  playbook: Playbook;
  match: CompiledCriteria;
  exclude: CompiledCriteria[];
  conditions: PlaybookConditions | undefined;
}

type Outcomes = ReadonlyMap<string, ConditionOutcome>;

/** Where evaluation of one playbook against one finding ended. */
type Verdict =
  | { kind: 'matched'; outcomes?: Outcomes }
  /** `at` indexes the check that failed; `checks.length` means the conditions failed. */
  | { kind: 'failed'; at: number; outcomes?: Outcomes }
  | { kind: 'excluded-default'; by: DefaultExclusion; reason: string }
  | { kind: 'excluded'; index: number; outcomes?: Outcomes };

const MATCHED: Verdict = { kind: 'matched' };

const byPriorityThenName = (a: Playbook, b: Playbook): number =>
  a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const issueAt = (location: SourceLocation, problem: CriteriaProblem): ConfigurationIssue => ({
  ...location,
  pointer: `${location.pointer}${problem.pointer}`,
  message: problem.message,
});

const compilePlaybook = (
  playbook: Playbook,
  ordinal: number,
): { compiled: CompiledPlaybook; issues: [] } | { compiled: undefined; issues: ConfigurationIssue[] } => {
  const problems: CriteriaProblem[] = [];
  const trees = new Map<string, ConditionTree>();
  const compileBlock = (
    criteria: Playbook['match'],
    pointer: string,
    rule: string,
  ): CompiledCriteria | undefined => {
    const result = compileCriteria(criteria);
    for (const problem of result.problems) {
      problems.push({ ...problem, pointer: `${pointer}${problem.pointer}` });
    }
    if (criteria.conditions !== undefined) {
      const found = conditionProblems(criteria.conditions, `${pointer}/conditions`);
      problems.push(...found);
      if (found.length === 0) trees.set(rule, criteria.conditions);
    }
    return result.compiled;
  };

  const match = compileBlock(playbook.match, '/match', MATCH_RULE);
  // A block that does not compile leaves a problem, so with no problems every block is in `exclude`.
  const exclude = playbook.exclude.flatMap((criteria, index) => {
    if (Object.values(criteria).every((value) => value === undefined)) {
      // An empty entry holds for every finding, which would quietly disable the playbook.
      problems.push({ pointer: `/exclude/${index}`, message: 'must name at least one criterion' });
    }
    return compileBlock(criteria, `/exclude/${index}`, excludeRule(index)) ?? [];
  });

  if (problems.length > 0 || match === undefined) {
    return { compiled: undefined, issues: problems.map((problem) => issueAt(playbook.location, problem)) };
  }
  return {
    compiled: {
      ordinal,
      playbook,
      match,
      exclude,
      conditions:
        trees.size > 0 ? new PlaybookConditions(playbook.name, playbook.location, trees) : undefined,
    },
    issues: [],
  };
};

const resolveDefaults = (
  options: MatcherOptions,
): { samples: boolean; archived: boolean; exemptTag: ExemptTag | null } => {
  const { samples = true, archived = true, exemptTag = DEFAULT_EXEMPT_TAG } = options.defaultExclusions ?? {};
  if (
    exemptTag !== null &&
    (typeof exemptTag.key !== 'string' || exemptTag.key === '' || typeof exemptTag.value !== 'string')
  ) {
    const message = 'defaultExclusions.exemptTag needs a non-empty string key and a string value';
    throw new EngineConfigurationError(message, { exemptTag });
  }
  return { samples, archived, exemptTag };
};

/**
 * Compiles playbooks into a matcher: validates every criterion and condition (throwing one
 * PlaybookValidationError with every problem), indexes enabled playbooks by finding-type pattern and
 * compiles the condition trees of each playbook once. Matching does no I/O.
 */
export const createMatcher = (playbooks: Playbook[], options: MatcherOptions = {}): Matcher => {
  const defaults = resolveDefaults(options);
  const sorted = [...playbooks].sort(byPriorityThenName);

  const issues: ConfigurationIssue[] = [];
  const compiled: CompiledPlaybook[] = [];
  for (const [ordinal, playbook] of sorted.entries()) {
    const result = compilePlaybook(playbook, ordinal);
    if (result.compiled) compiled.push(result.compiled);
    else issues.push(...result.issues);
  }
  if (issues.length > 0) throw new PlaybookValidationError(issues);

  const index = new TypeIndex<CompiledPlaybook>();
  for (const entry of compiled) {
    if (entry.playbook.enabled) index.add(entry, entry.match.patterns);
  }

  const defaultExclusion = (entry: CompiledPlaybook, finding: Finding): Verdict | undefined => {
    const { match } = entry.playbook;
    if (defaults.samples && finding.sample && match.sample !== true) {
      return {
        kind: 'excluded-default',
        by: 'sample',
        reason: 'GuardDuty sample finding; the playbook does not say sample: true',
      };
    }
    if (defaults.archived && finding.archived && match.archived !== true) {
      return {
        kind: 'excluded-default',
        by: 'archived',
        reason: 'archived finding; the playbook does not say archived: true',
      };
    }
    const tag = defaults.exemptTag;
    if (tag) {
      const exempt = finding.resources.find((resource) => {
        const tags = resourceTags(resource);
        return Object.hasOwn(tags, tag.key) && tags[tag.key] === tag.value;
      });
      if (exempt) {
        return {
          kind: 'excluded-default',
          by: 'exempt-tag',
          reason: `${describeResource(exempt)} carries ${tag.key}=${tag.value}`,
        };
      }
    }
    return undefined;
  };

  /**
   * The first exclude entry that holds, from `from` on. An entry whose checks hold but whose
   * conditions have not run yet stops the scan as `pending`, so entries are always reported by index.
   */
  const scanExclusions = (
    entry: CompiledPlaybook,
    finding: Finding,
    from: number,
    outcomes: Outcomes | undefined,
  ): { excludedBy: number } | { pending: number } | undefined => {
    for (let index = from; index < entry.exclude.length; index++) {
      const block = entry.exclude[index]!;
      if (!block.checks.every((check) => check.holds(finding))) continue;
      if (block.conditions === undefined) return { excludedBy: index };
      if (outcomes === undefined) return { pending: index };
      if (outcomes.get(excludeRule(index))?.holds) return { excludedBy: index };
    }
    return undefined;
  };

  const judgeWithConditions = (
    entry: CompiledPlaybook,
    conditions: PlaybookConditions,
    finding: Finding,
    from: number,
  ): Verdict => {
    const outcomes = conditions.evaluate(finding);
    const scan = scanExclusions(entry, finding, from, outcomes);
    if (scan && 'excludedBy' in scan) return { kind: 'excluded', index: scan.excludedBy, outcomes };
    if (outcomes.get(MATCH_RULE)?.holds === false) {
      return { kind: 'failed', at: entry.match.checks.length, outcomes };
    }
    return { kind: 'matched', outcomes };
  };

  /**
   * Evaluates one playbook: checks cheapest-first, then default exclusions, then exclude entries, then
   * conditions (only when everything else holds).
   */
  const judge = (entry: CompiledPlaybook, finding: Finding, from = 0): Verdict => {
    const { checks } = entry.match;
    for (let at = from; at < checks.length; at++) {
      if (!checks[at]!.holds(finding)) return { kind: 'failed', at };
    }
    const byDefault = defaultExclusion(entry, finding);
    if (byDefault) return byDefault;
    const scan = scanExclusions(entry, finding, 0, undefined);
    if (scan && 'excludedBy' in scan) return { kind: 'excluded', index: scan.excludedBy };
    if (entry.conditions && (scan || entry.match.conditions)) {
      return judgeWithConditions(entry, entry.conditions, finding, scan?.pending ?? entry.exclude.length);
    }
    return MATCHED;
  };

  const held = (
    checks: readonly Check[],
    finding: Finding,
    outcome: ConditionOutcome | undefined,
  ): MatchedCriterion[] => {
    const details: MatchedCriterion[] = checks.map((check) => ({
      criterion: check.criterion,
      detail: check.detail(finding),
    }));
    if (outcome) details.push({ criterion: 'conditions', detail: outcome.text() });
    return details;
  };

  const explainVerdict = (entry: CompiledPlaybook, finding: Finding, verdict: Verdict): MatchExplanation => {
    const name = entry.playbook.name;
    const { checks } = entry.match;
    switch (verdict.kind) {
      case 'matched':
        return {
          playbook: name,
          matched: true,
          criteria: held(entry.match.checks, finding, verdict.outcomes?.get(MATCH_RULE)),
        };
      case 'failed': {
        const criteria = held(checks.slice(0, verdict.at), finding, undefined);
        const check = checks[verdict.at];
        const failed = check
          ? { criterion: check.criterion, reason: check.reason(finding) }
          : { criterion: 'conditions' as const, reason: verdict.outcomes?.get(MATCH_RULE)?.text() ?? '' };
        return { playbook: name, matched: false, criteria, failed };
      }
      case 'excluded-default':
        return {
          playbook: name,
          matched: false,
          criteria: held(entry.match.checks, finding, undefined),
          excludedBy: { default: verdict.by, reason: verdict.reason },
        };
      case 'excluded':
        return {
          playbook: name,
          matched: false,
          criteria: held(entry.match.checks, finding, undefined),
          excludedBy: {
            index: verdict.index,
            criteria: held(
              entry.exclude[verdict.index]!.checks,
              finding,
              verdict.outcomes?.get(excludeRule(verdict.index)),
            ),
          },
        };
    }
  };

  return {
    playbooks: Object.freeze(sorted),

    candidates: (finding) => index.candidates(finding.type.name).map((entry) => entry.playbook),

    async match(finding) {
      const matches: PlaybookMatch[] = [];
      for (const entry of index.matching(finding.type.name)) {
        // The index only yields entries whose type patterns match: their types check (first) holds.
        const verdict = judge(entry, finding, entry.match.patterns === undefined ? 0 : 1);
        if (verdict.kind === 'matched') {
          matches.push({
            playbook: entry.playbook,
            matched: held(entry.match.checks, finding, verdict.outcomes?.get(MATCH_RULE)),
          });
        }
      }
      return matches;
    },

    async explain(finding) {
      const explanations: MatchExplanation[] = [];
      for (const entry of compiled) {
        if (!entry.playbook.enabled) {
          explanations.push({
            playbook: entry.playbook.name,
            matched: false,
            criteria: [],
            failed: { criterion: 'enabled', reason: 'disabled (enabled: false)' },
          });
          continue;
        }
        explanations.push(explainVerdict(entry, finding, judge(entry, finding)));
      }
      return explanations;
    },
  };
};
