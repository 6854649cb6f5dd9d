/**
 * What a set of playbooks handles, measured against the GuardDuty finding-type catalog and the
 * CTID ATT&CK mapping. Static: it reads the playbooks' criteria, never a finding.
 *
 * A catalogued type is handled by a playbook when every criterion that depends only on the type holds
 * for it: `types` (the patterns), `techniques` (the type's CTID techniques) and `tactics` (the tactics of
 * those techniques and of the type's threat purpose), primary ones only unless the block says
 * `relatedTechniques: true`. The other criteria (severity, resources, tags, conditions, ...) depend on
 * the finding; they are reported as restrictions, not guessed.
 *
 * A technique is covered by the types it is primary to: handling `Exfiltration:S3/MaliciousIPCaller`
 * covers T1567, not T1562.008 Disable Cloud Logs, which the mapping only relates to that type. A
 * technique reached only through types it is related to is reported as such (`coveredAs: 'related'`)
 * and scores nothing.
 *
 * Handled is not contained: a type counts as contained when a playbook that handles it has a step whose
 * action's phase is `contain` or `revoke` (and is not pinned to dry-run, which only reports what it would
 * do); handled by notify-only playbooks alone, it counts as notify-only.
 */
import type { ActionPhase } from '../action.js';
import { ATTACK_TECHNIQUES } from '../attack/mapping.js';
import { TACTICS } from '../attack/tactics.js';
import type { AttackRelation, Tactic } from '../finding.js';
import { compileTypePattern, techniqueMatches } from '../match/pattern.js';
import type { Criteria, Playbook } from '../playbook.js';
import { type CatalogSeverity, FINDING_TYPES, type FindingTypeEntry } from './finding-types.js';
import { type RelatedId, type TypeFacts, typeCriteriaHold, typeFacts } from './reach.js';

/** How a playbook reaches a type: by a type pattern, a technique, a tactic, or no type criterion at all. */
export type CoverageVia = 'type' | 'technique' | 'tactic' | 'any';

/**
 * What the playbooks do about a type: `contain` when one that handles it has a containment or
 * revocation step, `notify-only` when they only preserve evidence and tell people, `none` when no
 * playbook handles it.
 */
export type CoverageResponse = 'contain' | 'notify-only' | 'none';

/** The phases whose steps change what an attacker can reach: containment and credential revocation. */
const CONTAINING_PHASES: readonly ActionPhase[] = ['contain', 'revoke'];

export interface TypeHandler {
  playbook: string;
  via: CoverageVia;
  /** The pattern, technique id or tactic id that holds for the type (empty for `any`). */
  by: string;
  /**
   * For `technique` and `tactic`: whether `by` holds through a technique (or tactic) primary to the
   * type, or one only related to it (which takes `relatedTechniques: true`).
   */
  relation?: AttackRelation;
  /** A fallback playbook handles the type only when no other playbook matches the finding. */
  fallback: boolean;
  /** Whether the playbook contains (see `PlaybookCoverage.response`). */
  response: Exclude<CoverageResponse, 'none'>;
  /**
   * The playbook's other criteria a finding of this type must also meet (`severity`, `resources`, ...),
   * and `exclude` when one of its exclusions may apply to the type.
   */
  restrictedBy: string[];
}

export interface TypeCoverage {
  type: string;
  resourceType: string | null;
  severity: CatalogSeverity | null;
  threatPurpose: string;
  /** CTID technique ids primary to the type: what `techniques` matches by default. */
  techniques: string[];
  /** CTID technique ids the mapping only relates to the type. */
  relatedTechniques: string[];
  /** Tactic ids of the type's threat purpose and of its primary techniques. */
  tactics: string[];
  /** Tactic ids only its related techniques bring. */
  relatedTactics: string[];
  handledBy: TypeHandler[];
  /** `contain` when one of its handlers contains, `notify-only` when none does, `none` when unhandled. */
  response: CoverageResponse;
  /** Whether a real-shaped (non-sample) finding of the type is among the fixtures: cases or given findings. */
  fixture: boolean;
}

/** Catalogued active types of one resource type and default severity. */
export interface CoverageGroup {
  resourceType: string;
  severity: string;
  total: number;
  covered: number;
  uncovered: string[];
}

export interface TechniqueCoverage {
  id: string;
  name: string;
  tactics: Tactic[];
  /** Active catalogued types the technique is primary to. */
  findingTypes: string[];
  coveredTypes: string[];
  /** Those of its types a playbook contains. */
  containedTypes: string[];
  /** Active catalogued types the mapping only relates the technique to. */
  relatedTypes: string[];
  /** Those of them a playbook handles: not counted in the score. */
  coveredRelatedTypes: string[];
  /** Playbooks whose `match.techniques` names the technique (or its parent). */
  namedBy: string[];
  /** Every playbook that handles the technique: by name or through one of its types. */
  playbooks: string[];
  /** 0-100: 100 when a playbook names the technique, else the share of its (primary) types that are handled. */
  score: number;
  /**
   * `primary` when the score is above 0; `related` when only types the technique is related to are
   * handled (score 0); `none` otherwise.
   */
  coveredAs: AttackRelation | 'none';
  /**
   * `contain` when a containing playbook names the technique or contains one of its types,
   * `notify-only` when it is reached only by playbooks that do not contain, `none` when not reached.
   */
  response: CoverageResponse;
}

export interface TacticCoverage {
  id: string;
  name: string;
  techniques: number;
  coveredTechniques: number;
  findingTypes: number;
  coveredTypes: number;
  /** Playbooks whose `match.tactics` names the tactic. */
  namedBy: string[];
  covered: boolean;
}

export interface PlaybookCoverage {
  name: string;
  enabled: boolean;
  fallback: boolean;
  /**
   * `contain` when a step's action is of phase `contain` or `revoke` and the playbook is not pinned to
   * dry-run; `notify-only` otherwise (it preserves evidence, tells people, or only reports).
   */
  response: Exclude<CoverageResponse, 'none'>;
  patterns: string[];
  techniques: string[];
  tactics: string[];
  /** Whether its `techniques` and `tactics` also match related techniques (`relatedTechniques: true`). */
  relatedTechniques: boolean;
  /** Active catalogued types the playbook handles. */
  types: string[];
  /** Patterns that match no active catalogued type: a typo, or a type AWS retired. */
  unmatchedPatterns: string[];
}

export interface Coverage {
  catalog: { total: number; active: number; deprecated: number };
  summary: {
    types: number;
    coveredTypes: number;
    techniques: number;
    coveredTechniques: number;
    /** Techniques reached only through types they are related to (score 0). */
    relatedOnlyTechniques: number;
    tactics: number;
    coveredTactics: number;
    /** Active types a containing playbook handles. */
    containedTypes: number;
    /** Active types handled only by playbooks that do not contain. */
    notifyOnlyTypes: number;
    /** Active types with a real-shaped finding among the fixtures. */
    typesWithFixture: number;
    /** The active types with none, in catalog order. */
    typesWithoutFixture: string[];
  };
  /** Every active catalogued type, in catalog order. */
  types: TypeCoverage[];
  /** By resource type, then severity. */
  groups: CoverageGroup[];
  /** Every technique of the CTID mapping, in its order. */
  techniques: TechniqueCoverage[];
  /** Every ATT&CK Enterprise tactic, in matrix order. */
  tactics: TacticCoverage[];
  /** In the order the engine runs them (priority, then name); handlers of a type are in the same order. */
  playbooks: PlaybookCoverage[];
}

export interface CoverageOptions {
  /** The catalog to measure against; default: the shipped GuardDuty catalog. */
  catalog?: readonly FindingTypeEntry[];
  /**
   * The phase of an action, by name (the action registry's `get(name)?.phase`). A step whose action
   * it does not know contains nothing; without it, no playbook contains and every handled type is
   * notify-only.
   */
  phaseOf?: (action: string) => ActionPhase | undefined;
  /**
   * The types of the real-shaped findings the playbooks are tested with (their cases, a fixtures
   * directory); default none, so every type is without a fixture.
   */
  fixtureTypes?: Iterable<string>;
}

/** Criteria that depend only on the finding type; every other criterion depends on the finding. */
const TYPE_CRITERIA: readonly (keyof Criteria)[] = ['types', 'techniques', 'tactics'];

/** The order restrictions are reported in: the order of the playbook reference. */
const CRITERIA_ORDER: readonly (keyof Criteria)[] = [
  'types',
  'severity',
  'resources',
  'principals',
  'techniques',
  'tactics',
  'accounts',
  'regions',
  'tags',
  'sample',
  'archived',
  'conditions',
];

const otherCriteria = (criteria: Criteria): string[] =>
  CRITERIA_ORDER.filter((name) => criteria[name] !== undefined && !TYPE_CRITERIA.includes(name));

/** Whether a playbook contains: a step of a containing phase, and not pinned to dry-run. */
const responseOf = (
  playbook: Playbook,
  phaseOf: CoverageOptions['phaseOf'],
): Exclude<CoverageResponse, 'none'> =>
  playbook.mode !== 'dry-run' &&
  playbook.actions.some((step) => {
    const phase = phaseOf?.(step.action);
    return phase !== undefined && CONTAINING_PHASES.includes(phase);
  })
    ? 'contain'
    : 'notify-only';

const handlerFor = (
  playbook: Playbook,
  facts: TypeFacts,
  response: Exclude<CoverageResponse, 'none'>,
): TypeHandler | undefined => {
  const held = typeCriteriaHold(playbook.match, facts);
  if (!held) return undefined;
  const restrictedBy = otherCriteria(playbook.match);
  for (const exclusion of playbook.exclude) {
    if (!typeCriteriaHold(exclusion, facts)) continue;
    // An exclusion made only of type criteria removes the type outright; any other may apply.
    if (otherCriteria(exclusion).length === 0) return undefined;
    if (!restrictedBy.includes('exclude')) restrictedBy.push('exclude');
  }
  const via: CoverageVia = held.type ? 'type' : held.technique ? 'technique' : held.tactic ? 'tactic' : 'any';
  const by = via === 'technique' ? held.technique : via === 'tactic' ? held.tactic : undefined;
  return {
    playbook: playbook.name,
    via,
    by: by?.value ?? held.type ?? '',
    ...(by ? { relation: by.relation } : {}),
    fallback: playbook.fallback === true,
    response,
    restrictedBy,
  };
};

const typeResponse = (handlers: TypeHandler[]): CoverageResponse =>
  handlers.length === 0
    ? 'none'
    : handlers.some((handler) => handler.response === 'contain')
      ? 'contain'
      : 'notify-only';

const SEVERITY_ORDER = ['Low', 'Medium', 'High', 'Critical', 'Variable'];
const UNKNOWN = '(unknown)';

const groupsOf = (types: TypeCoverage[]): CoverageGroup[] => {
  const groups = new Map<string, CoverageGroup>();
  for (const type of types) {
    const resourceType = type.resourceType ?? UNKNOWN;
    const severity = type.severity ?? UNKNOWN;
    const key = `${resourceType}\u0000${severity}`;
    const group = groups.get(key) ?? { resourceType, severity, total: 0, covered: 0, uncovered: [] };
    group.total += 1;
    if (type.handledBy.length > 0) group.covered += 1;
    else group.uncovered.push(type.type);
    groups.set(key, group);
  }
  const severityRank = (severity: string) => {
    const rank = SEVERITY_ORDER.indexOf(severity);
    return rank === -1 ? SEVERITY_ORDER.length : rank;
  };
  return [...groups.values()].sort(
    (a, b) =>
      Number(a.resourceType === UNKNOWN) - Number(b.resourceType === UNKNOWN) ||
      a.resourceType.localeCompare(b.resourceType) ||
      severityRank(a.severity) - severityRank(b.severity),
  );
};

const unique = (values: string[]): string[] => [...new Set(values)];

const idsOf = (facts: readonly RelatedId[], relation: AttackRelation): string[] =>
  facts.filter((fact) => fact.relation === relation).map((fact) => fact.id);

/**
 * Measures what `playbooks` handle: every active catalogued type with the playbooks that handle it,
 * grouped by resource type and severity; every CTID technique and every tactic with its coverage;
 * and per playbook, the types it reaches and the patterns that reach none. Disabled playbooks handle
 * nothing.
 */
export const computeCoverage = (playbooks: readonly Playbook[], options: CoverageOptions = {}): Coverage => {
  const catalog = options.catalog ?? FINDING_TYPES;
  const active = catalog.filter((entry) => !entry.deprecated);
  // In the order the engine runs them: priority, then name.
  const ordered = [...playbooks].sort(
    (a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const enabled = ordered.filter((playbook) => playbook.enabled);
  const responses = new Map(
    ordered.map((playbook) => [playbook.name, responseOf(playbook, options.phaseOf)]),
  );
  const fixtureTypes = new Set(options.fixtureTypes ?? []);

  const types: TypeCoverage[] = active.map((entry) => {
    const facts = typeFacts(entry.type, entry.threatPurpose);
    const handledBy = enabled.flatMap(
      (playbook) => handlerFor(playbook, facts, responses.get(playbook.name)!) ?? [],
    );
    return {
      type: entry.type,
      resourceType: entry.resourceType,
      severity: entry.severity,
      threatPurpose: entry.threatPurpose,
      techniques: idsOf(facts.techniques, 'primary'),
      relatedTechniques: idsOf(facts.techniques, 'related'),
      tactics: idsOf(facts.tactics, 'primary'),
      relatedTactics: idsOf(facts.tactics, 'related'),
      handledBy,
      response: typeResponse(handledBy),
      fixture: fixtureTypes.has(entry.type),
    };
  });
  const covered = types.filter((type) => type.handledBy.length > 0);

  const techniques: TechniqueCoverage[] = ATTACK_TECHNIQUES.map((technique) => {
    const mapped = types.filter((type) => type.techniques.includes(technique.id));
    const coveredTypes = mapped.filter((type) => type.handledBy.length > 0);
    const relatedTypes = types.filter((type) => type.relatedTechniques.includes(technique.id));
    const coveredRelatedTypes = relatedTypes.filter((type) => type.handledBy.length > 0);
    const namedBy = enabled
      .filter((playbook) =>
        playbook.match.techniques?.some((criterion) => techniqueMatches(criterion, technique.id)),
      )
      .map((playbook) => playbook.name);
    const score =
      namedBy.length > 0
        ? 100
        : mapped.length === 0
          ? 0
          : Math.round((100 * coveredTypes.length) / mapped.length);
    const containedTypes = mapped.filter((type) => type.response === 'contain');
    const response: CoverageResponse =
      containedTypes.length > 0 || namedBy.some((name) => responses.get(name) === 'contain')
        ? 'contain'
        : score > 0
          ? 'notify-only'
          : 'none';
    return {
      id: technique.id,
      name: technique.name,
      tactics: technique.tactics.map((tactic) => ({ ...tactic })),
      findingTypes: mapped.map((type) => type.type),
      coveredTypes: coveredTypes.map((type) => type.type),
      containedTypes: containedTypes.map((type) => type.type),
      relatedTypes: relatedTypes.map((type) => type.type),
      coveredRelatedTypes: coveredRelatedTypes.map((type) => type.type),
      namedBy,
      playbooks: unique([
        ...namedBy,
        ...coveredTypes.flatMap((type) => type.handledBy.map((handler) => handler.playbook)),
      ]),
      score,
      coveredAs: score > 0 ? 'primary' : coveredRelatedTypes.length > 0 ? 'related' : 'none',
      response,
    };
  });

  const tactics: TacticCoverage[] = TACTICS.map((tactic) => {
    const inTactic = techniques.filter((technique) => technique.tactics.some((of) => of.id === tactic.id));
    const tacticTypes = types.filter((type) => type.tactics.includes(tactic.id));
    const namedBy = enabled
      .filter((playbook) => playbook.match.tactics?.includes(tactic.id))
      .map((playbook) => playbook.name);
    const coveredTypes = tacticTypes.filter((type) => type.handledBy.length > 0).length;
    const coveredTechniques = inTactic.filter((technique) => technique.score > 0).length;
    return {
      id: tactic.id,
      name: tactic.name,
      techniques: inTactic.length,
      coveredTechniques,
      findingTypes: tacticTypes.length,
      coveredTypes,
      namedBy,
      covered: namedBy.length > 0 || coveredTypes > 0 || coveredTechniques > 0,
    };
  });

  const playbookCoverage: PlaybookCoverage[] = ordered.map((playbook) => {
    const handled = types
      .filter((type) => type.handledBy.some((handler) => handler.playbook === playbook.name))
      .map((type) => type.type);
    const patterns = playbook.match.types ?? [];
    return {
      name: playbook.name,
      enabled: playbook.enabled,
      fallback: playbook.fallback === true,
      response: responses.get(playbook.name)!,
      patterns,
      techniques: playbook.match.techniques ?? [],
      tactics: playbook.match.tactics ?? [],
      relatedTechniques: playbook.match.relatedTechniques === true,
      types: handled,
      unmatchedPatterns: patterns.filter((source) => {
        const pattern = compileTypePattern(source);
        return !active.some((entry) => pattern.test(entry.type));
      }),
    };
  });

  return {
    catalog: { total: catalog.length, active: active.length, deprecated: catalog.length - active.length },
    summary: {
      types: types.length,
      coveredTypes: covered.length,
      techniques: techniques.length,
      coveredTechniques: techniques.filter((technique) => technique.score > 0).length,
      relatedOnlyTechniques: techniques.filter((technique) => technique.coveredAs === 'related').length,
      tactics: tactics.length,
      coveredTactics: tactics.filter((tactic) => tactic.covered).length,
      containedTypes: types.filter((type) => type.response === 'contain').length,
      notifyOnlyTypes: types.filter((type) => type.response === 'notify-only').length,
      typesWithFixture: types.filter((type) => type.fixture).length,
      typesWithoutFixture: types.filter((type) => !type.fixture).map((type) => type.type),
    },
    types,
    groups: groupsOf(types),
    techniques,
    tactics,
    playbooks: playbookCoverage,
  };
};
