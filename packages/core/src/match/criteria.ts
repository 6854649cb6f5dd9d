import { findTactic } from '../attack/tactics.js';
import {
  type AttackRelation,
  type Finding,
  type FindingTactic,
  type Resource,
  resourceTags,
  type Technique,
} from '../finding.js';
import type { ConditionTree, Criteria } from '../playbook.js';
import { describeResource } from '../report.js';
import { compileTypePattern, TECHNIQUE_ID, type TypePattern, typePatternProblem } from './pattern.js';

/** The name of one criterion of a `match` or `exclude` block, as the playbook spells it. */
export type CriterionName = keyof Criteria;

/** A criterion that held, and how: `T1078 matched T1078.004`. */
export interface MatchedCriterion {
  criterion: CriterionName;
  detail: string;
}

/**
 * One precompiled criterion. `holds` runs for every candidate and allocates nothing; `detail` and
 * `reason` build text only for a match that is reported or a playbook that is explained.
 */
export interface Check {
  /** `relatedTechniques` is no check of its own: it widens `techniques` and `tactics`. */
  criterion: Exclude<CriterionName, 'conditions' | 'relatedTechniques'>;
  holds(finding: Finding): boolean;
  /** How the criterion held. Only called after `holds` returned true. */
  detail(finding: Finding): string;
  /** Why the criterion failed. Only called after `holds` returned false. */
  reason(finding: Finding): string;
}

/** A `match` or `exclude` block ready to run: synchronous checks cheapest-first, conditions apart. */
export interface CompiledCriteria {
  checks: readonly Check[];
  /** The compiled `types` patterns, which the matcher's index files the playbook under. */
  patterns: readonly TypePattern[] | undefined;
  conditions: ConditionTree | undefined;
}

/** A problem found while compiling, at a JSON pointer relative to the block. */
export interface CriteriaProblem {
  pointer: string;
  message: string;
}

const list = (values: Iterable<string>): string => [...values].join(', ') || '(none)';

/** Resources as the plan and report name them; `;` apart, since one description may hold a comma. */
const resourceList = (resources: readonly Resource[]): string =>
  resources.map(describeResource).join('; ') || '(none)';

const severityText = (finding: Finding): string => `severity ${finding.severity} (${finding.severityLabel})`;

const oneOf = <T extends string>(
  criterion: Check['criterion'],
  wanted: readonly T[],
  actual: (finding: Finding) => T,
  noun: string,
): Check => {
  const set = new Set<string>(wanted);
  return {
    criterion,
    holds: (finding) => set.has(actual(finding)),
    detail: (finding) => `${noun} ${actual(finding)}`,
    reason: (finding) => `${noun} ${actual(finding)} is not one of ${list(wanted)}`,
  };
};

const typesCheck = (patterns: readonly TypePattern[]): Check => {
  const hit = (finding: Finding) => patterns.find((pattern) => pattern.test(finding.type.name));
  return {
    criterion: 'types',
    holds: (finding) => hit(finding) !== undefined,
    // Called only after the check held: a single pattern is the one that matched.
    detail: (finding) =>
      `${(patterns.length === 1 ? patterns[0] : hit(finding))?.source} matched ${finding.type.name}`,
    reason: (finding) =>
      `${finding.type.name} matched none of ${list(patterns.map((pattern) => pattern.source))}`,
  };
};

const severityCheck = (severity: NonNullable<Criteria['severity']>): Check => {
  const { min, max, labels } = severity;
  const labelSet = labels ? new Set<string>(labels) : undefined;
  const bounds = [
    min === undefined ? undefined : `min ${min}`,
    max === undefined ? undefined : `max ${max}`,
    labels ? `labels ${list(labels)}` : undefined,
  ].filter((part) => part !== undefined);
  return {
    criterion: 'severity',
    holds: (finding) =>
      (min === undefined || finding.severity >= min) &&
      (max === undefined || finding.severity <= max) &&
      (labelSet === undefined || labelSet.has(finding.severityLabel)),
    detail: (finding) => `${severityText(finding)} within ${bounds.join(', ')}`,
    reason: (finding) => {
      if (min !== undefined && finding.severity < min) return `${severityText(finding)} is below min ${min}`;
      if (max !== undefined && finding.severity > max) return `${severityText(finding)} is above max ${max}`;
      return `${severityText(finding)}: label is not one of ${list(labels ?? [])}`;
    },
  };
};

const resourcesCheck = (kinds: readonly string[]): Check => {
  const set = new Set(kinds);
  const named = (finding: Finding) => finding.resources.filter((resource) => set.has(resource.kind));
  return {
    criterion: 'resources',
    holds: (finding) => finding.resources.some((resource) => set.has(resource.kind)),
    detail: (finding) => `finding names ${resourceList(named(finding))}`,
    reason: (finding) => `finding names ${resourceList(finding.resources)}; wanted ${list(kinds)}`,
  };
};

const principalsCheck = (userTypes: readonly string[]): Check => {
  const set = new Set(userTypes);
  const keys = (finding: Finding) => finding.resources.filter((resource) => resource.kind === 'access-key');
  return {
    criterion: 'principals',
    holds: (finding) =>
      finding.resources.some((resource) => resource.kind === 'access-key' && set.has(resource.userType)),
    detail: (finding) => resourceList(keys(finding).filter((key) => set.has(key.userType))),
    reason: (finding) => {
      const found = keys(finding);
      if (found.length === 0) return `finding names no access key (wanted ${list(userTypes)})`;
      return `access key user type ${list(found.map((key) => key.userType))} is not one of ${list(userTypes)}`;
    },
  };
};

const flagCheck = (criterion: 'sample' | 'archived', wanted: boolean): Check => ({
  criterion,
  holds: (finding) => finding[criterion] === wanted,
  detail: () => `${criterion} is ${wanted}`,
  reason: (finding) => `${criterion} is ${finding[criterion]} (wanted ${wanted})`,
});

/** `techniqueMatches` for one criterion, its sub-technique prefix built once so `holds` allocates nothing. */
const techniqueTest = (criterion: string): ((techniqueId: string) => boolean) => {
  const prefix = criterion.includes('.') ? undefined : `${criterion}.`;
  return (techniqueId) =>
    techniqueId === criterion || (prefix !== undefined && techniqueId.startsWith(prefix));
};

/** `T1567 (primary)`: which of the finding's techniques or tactics a criterion met, and how it relates. */
const withRelation = (text: string, relation: AttackRelation): string => `${text} (${relation})`;

/** Primary items, then related ones. */
const partition = <T extends { relation: AttackRelation }>(items: readonly T[]): [T[], T[]] => [
  items.filter((item) => item.relation === 'primary'),
  items.filter((item) => item.relation === 'related'),
];

const relatedHint = (related: readonly string[]): string =>
  related.length === 0 ? '' : `; related ${list(related)} would match with relatedTechniques: true`;

/**
 * `techniques`: the finding's primary techniques unless `includeRelated`. A technique the criterion
 * would reach only through a related one is named in the reason, so `match --explain` shows why.
 */
const techniquesCheck = (criteria: readonly string[], includeRelated: boolean): Check => {
  const tests = criteria.map((criterion) => ({ criterion, test: techniqueTest(criterion) }));
  const considered = (technique: Technique): boolean => includeRelated || technique.relation === 'primary';
  const pairs = (finding: Finding) =>
    finding.techniques
      .filter(considered)
      .flatMap((technique) =>
        tests
          .filter(({ test }) => test(technique.id))
          .map(({ criterion }) => `${criterion} matched ${withRelation(technique.id, technique.relation)}`),
      );
  const ids = (techniques: readonly Technique[]) => techniques.map((technique) => technique.id);
  return {
    criterion: 'techniques',
    holds: (finding) => {
      for (const technique of finding.techniques) {
        if (!considered(technique)) continue;
        for (const { test } of tests) if (test(technique.id)) return true;
      }
      return false;
    },
    detail: (finding) => list(pairs(finding)),
    reason: (finding) => {
      if (finding.techniques.length === 0)
        return `finding has no ATT&CK techniques (wanted ${list(criteria)})`;
      if (includeRelated)
        return `techniques ${list(ids(finding.techniques))} match none of ${list(criteria)}`;
      const [primary, related] = partition(finding.techniques);
      const wouldMatch = ids(related).filter((id) => tests.some(({ test }) => test(id)));
      return `primary techniques ${list(ids(primary))} match none of ${list(criteria)}${relatedHint(wouldMatch)}`;
    },
  };
};

/** `tactics`: the finding's primary tactics unless `includeRelated` (see `techniquesCheck`). */
const tacticsCheck = (tacticIds: ReadonlyMap<string, string>, includeRelated: boolean): Check => {
  const wanted = () => list([...tacticIds].map(([id, name]) => `${id} (${name})`));
  const considered = (tactic: FindingTactic): boolean => includeRelated || tactic.relation === 'primary';
  const named = (tactics: readonly FindingTactic[]) =>
    tactics.map((tactic) => `${tactic.id} (${tactic.name})`);
  return {
    criterion: 'tactics',
    holds: (finding) => finding.tactics.some((tactic) => considered(tactic) && tacticIds.has(tactic.id)),
    detail: (finding) =>
      list(
        finding.tactics
          .filter((tactic) => considered(tactic) && tacticIds.has(tactic.id))
          .map((tactic) => withRelation(`${tactic.id} ${tactic.name}`, tactic.relation)),
      ),
    reason: (finding) => {
      if (finding.tactics.length === 0) return `finding has no ATT&CK tactics (wanted ${wanted()})`;
      if (includeRelated) return `tactics ${list(named(finding.tactics))} are none of ${wanted()}`;
      const [primary, related] = partition(finding.tactics);
      const wouldMatch = named(related.filter((tactic) => tacticIds.has(tactic.id)));
      return `primary tactics ${list(named(primary))} are none of ${wanted()}${relatedHint(wouldMatch)}`;
    },
  };
};

const ANY_VALUE = '*';

const tagsCheck = (tags: Record<string, string | string[]>): Check => {
  const wanted = Object.entries(tags).map(([key, value]) => {
    const values = typeof value === 'string' ? [value] : value;
    return {
      key,
      any: values.includes(ANY_VALUE),
      values: new Set(values),
      text: `${key}=${values.join('|')}`,
    };
  });
  const carriesAll = (resource: Resource): boolean => {
    const carried = resourceTags(resource);
    return wanted.every(
      ({ key, any, values }) => Object.hasOwn(carried, key) && (any || values.has(carried[key] as string)),
    );
  };
  const text = list(wanted.map((tag) => tag.text));
  return {
    criterion: 'tags',
    holds: (finding) => finding.resources.some(carriesAll),
    detail: (finding) => `${resourceList(finding.resources.filter(carriesAll))} carries ${text}`,
    reason: () => `no resource of the finding carries ${text}`,
  };
};

/** List-valued criteria: an empty list would never hold, leaving a playbook that silently cannot match. */
const LIST_CRITERIA = [
  'types',
  'labels',
  'accounts',
  'regions',
  'resources',
  'principals',
  'techniques',
  'tactics',
] as const;

/**
 * Compiles a `match` or `exclude` block into checks ordered cheapest-first: types, severity, accounts,
 * regions, resources, principals, sample, archived, techniques, tactics, tags. Conditions stay apart
 * (they run last, asynchronously). Returns the problems instead when the block cannot be compiled.
 */
export const compileCriteria = (
  criteria: Criteria,
): { compiled: CompiledCriteria; problems: [] } | { compiled: undefined; problems: CriteriaProblem[] } => {
  const problems: CriteriaProblem[] = [];
  const checks: Check[] = [];

  const lists = { ...criteria, labels: criteria.severity?.labels };
  for (const key of LIST_CRITERIA) {
    if (lists[key]?.length === 0) {
      problems.push({
        pointer: key === 'labels' ? '/severity/labels' : `/${key}`,
        message: 'must list at least one value',
      });
    }
  }

  let patterns: TypePattern[] | undefined;
  if (criteria.types !== undefined) {
    patterns = [];
    for (const [index, source] of criteria.types.entries()) {
      const problem = typePatternProblem(source);
      if (problem) problems.push({ pointer: `/types/${index}`, message: problem });
      else patterns.push(compileTypePattern(source));
    }
    checks.push(typesCheck(patterns));
  }

  if (criteria.severity) {
    const { min, max } = criteria.severity;
    if (min !== undefined && max !== undefined && min > max) {
      problems.push({ pointer: '/severity', message: `min ${min} is greater than max ${max}` });
    }
    checks.push(severityCheck(criteria.severity));
  }
  if (criteria.accounts) {
    checks.push(oneOf('accounts', criteria.accounts, (finding) => finding.accountId, 'account'));
  }
  if (criteria.regions) {
    checks.push(oneOf('regions', criteria.regions, (finding) => finding.region, 'region'));
  }
  if (criteria.resources) checks.push(resourcesCheck(criteria.resources));
  if (criteria.principals) checks.push(principalsCheck(criteria.principals));
  if (criteria.sample !== undefined) checks.push(flagCheck('sample', criteria.sample));
  if (criteria.archived !== undefined) checks.push(flagCheck('archived', criteria.archived));

  if (criteria.techniques) {
    for (const [index, id] of criteria.techniques.entries()) {
      if (!TECHNIQUE_ID.test(id)) {
        problems.push({
          pointer: `/techniques/${index}`,
          message: `"${id}" is not an ATT&CK technique id (T1078 or T1078.004)`,
        });
      }
    }
    checks.push(techniquesCheck(criteria.techniques, criteria.relatedTechniques === true));
  }

  if (criteria.tactics) {
    const tacticIds = new Map<string, string>();
    for (const [index, idOrName] of criteria.tactics.entries()) {
      const tactic = findTactic(idOrName);
      if (tactic) tacticIds.set(tactic.id, tactic.name);
      else
        problems.push({
          pointer: `/tactics/${index}`,
          message: `"${idOrName}" is not an ATT&CK tactic id or name`,
        });
    }
    checks.push(tacticsCheck(tacticIds, criteria.relatedTechniques === true));
  }

  if (criteria.relatedTechniques !== undefined && !criteria.techniques && !criteria.tactics) {
    // Alone it is no criterion at all: an exclude entry of it would exclude every finding.
    problems.push({ pointer: '/relatedTechniques', message: 'applies only with techniques or tactics' });
  }

  if (criteria.tags) checks.push(tagsCheck(criteria.tags));

  if (problems.length > 0) return { compiled: undefined, problems };
  return { compiled: { checks, patterns, conditions: criteria.conditions }, problems: [] };
};
