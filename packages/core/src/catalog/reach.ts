/**
 * Which finding types a playbook can reach, as far as the criteria that depend only on the type can
 * see: `types` (the patterns), `techniques` (the type's CTID techniques) and `tactics` (the tactics of
 * those techniques and of the type's threat purpose), as the normalizer gives them to a finding of the
 * type, primary or related to it. Coverage measures playbooks with it; the deployed EventBridge
 * pattern is derived from it.
 */
import type { AttackRelation } from '../finding.js';
import { compileTypePattern, techniqueMatches } from '../match/pattern.js';
import { attackOf } from '../normalize/attack.js';
import type { Criteria } from '../playbook.js';

/** A technique or tactic id with how it relates to the type (see `AttackRelation`). */
export interface RelatedId {
  id: string;
  relation: AttackRelation;
}

/** What a finding type is, as far as the type-only criteria can see. */
export interface TypeFacts {
  type: string;
  /** CTID techniques the type maps to. */
  techniques: RelatedId[];
  /** Tactics of those techniques and of the type's threat purpose, in ATT&CK order. */
  tactics: RelatedId[];
}

/** A criterion value that holds for a type, and whether it holds through a primary or a related id. */
export interface HeldBy {
  value: string;
  relation: AttackRelation;
}

/** The type-only criteria of a block that hold for a type, each with the first value that holds. */
export interface TypeCriteriaHeld {
  type?: string;
  technique?: HeldBy;
  tactic?: HeldBy;
}

const ids = (items: readonly { id: string; relation: AttackRelation }[]): RelatedId[] =>
  items.map(({ id, relation }) => ({ id, relation }));

/** The facts of a type. Its threat purpose is what comes before `:` (`Exfiltration:S3/...`) unless given. */
export const typeFacts = (type: string, threatPurpose = type.split(':')[0] ?? ''): TypeFacts => {
  const { techniques, tactics } = attackOf({ name: type, threatPurpose }, undefined);
  return { type, techniques: ids(techniques), tactics: ids(tactics) };
};

/**
 * The first wanted value that holds through a primary id, else (when related ids count) through a
 * related one: a type reached both ways is reached as what it is about.
 */
const heldBy = (
  wanted: readonly string[],
  facts: readonly RelatedId[],
  includeRelated: boolean,
  holds: (value: string, id: string) => boolean,
): HeldBy | undefined => {
  for (const relation of includeRelated ? (['primary', 'related'] as const) : (['primary'] as const)) {
    const value = wanted.find((candidate) =>
      facts.some((fact) => fact.relation === relation && holds(candidate, fact.id)),
    );
    if (value !== undefined) return { value, relation };
  }
  return undefined;
};

/**
 * Which of the block's type-only criteria hold for the type, or undefined when one of them fails.
 * `techniques` and `tactics` see the type's primary ids unless the block says `relatedTechniques: true`.
 */
export const typeCriteriaHold = (criteria: Criteria, facts: TypeFacts): TypeCriteriaHeld | undefined => {
  const held: TypeCriteriaHeld = {};
  const includeRelated = criteria.relatedTechniques === true;
  if (criteria.types) {
    const pattern = criteria.types.find((source) => compileTypePattern(source).test(facts.type));
    if (pattern === undefined) return undefined;
    held.type = pattern;
  }
  if (criteria.techniques) {
    const technique = heldBy(criteria.techniques, facts.techniques, includeRelated, techniqueMatches);
    if (technique === undefined) return undefined;
    held.technique = technique;
  }
  if (criteria.tactics) {
    const tactic = heldBy(criteria.tactics, facts.tactics, includeRelated, (value, id) => value === id);
    if (tactic === undefined) return undefined;
    held.tactic = tactic;
  }
  return held;
};

/**
 * The types among `types` a `match` (or `exclude`) block can reach: those its type-only criteria hold
 * for. A finding of such a type may still fail the block's other criteria; one of any other type never
 * meets it (an attack sequence aside: its indicators add techniques and tactics the type does not have).
 */
export const reachableTypes = (criteria: Criteria, types: readonly string[]): string[] =>
  types.filter((type) => typeCriteriaHold(criteria, typeFacts(type)) !== undefined);
