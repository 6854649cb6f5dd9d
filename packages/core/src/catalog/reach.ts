/**
 * Which finding types a playbook can reach, as far as the criteria that depend only on the type can
 * see: `types` (the patterns), `techniques` (the type's CTID techniques) and `tactics` (the tactics of
 * those techniques and of the type's threat purpose), as the normalizer gives them to a finding of the
 * type. Coverage measures playbooks with it; the deployed EventBridge pattern is derived from it.
 */
import { tacticForThreatPurpose, techniquesForType } from '../attack/mapping.js';
import { TACTICS } from '../attack/tactics.js';
import { compileTypePattern, techniqueMatches } from '../match/pattern.js';
import type { Criteria } from '../playbook.js';

/** What a finding type is, as far as the type-only criteria can see. */
export interface TypeFacts {
  type: string;
  /** CTID technique ids the type maps to. */
  techniques: string[];
  /** Tactic ids of those techniques and of the type's threat purpose, in ATT&CK order. */
  tactics: string[];
}

/** The type-only criteria of a block that hold for a type, each with the first value that holds. */
export interface TypeCriteriaHeld {
  type?: string;
  technique?: string;
  tactic?: string;
}

/** The facts of a type. Its threat purpose is what comes before `:` (`Exfiltration:S3/...`) unless given. */
export const typeFacts = (type: string, threatPurpose = type.split(':')[0] ?? ''): TypeFacts => {
  const techniques = techniquesForType(type);
  const tactics = new Set(techniques.flatMap((technique) => technique.tactics.map((tactic) => tactic.id)));
  const purposeTactic = tacticForThreatPurpose(threatPurpose);
  if (purposeTactic) tactics.add(purposeTactic.id);
  return {
    type,
    techniques: techniques.map((technique) => technique.id),
    tactics: TACTICS.map((tactic) => tactic.id).filter((id) => tactics.has(id)),
  };
};

/** Which of the block's type-only criteria hold for the type, or undefined when one of them fails. */
export const typeCriteriaHold = (criteria: Criteria, facts: TypeFacts): TypeCriteriaHeld | undefined => {
  const held: TypeCriteriaHeld = {};
  if (criteria.types) {
    const pattern = criteria.types.find((source) => compileTypePattern(source).test(facts.type));
    if (pattern === undefined) return undefined;
    held.type = pattern;
  }
  if (criteria.techniques) {
    const technique = criteria.techniques.find((criterion) =>
      facts.techniques.some((id) => techniqueMatches(criterion, id)),
    );
    if (technique === undefined) return undefined;
    held.technique = technique;
  }
  if (criteria.tactics) {
    const tactic = criteria.tactics.find((id) => facts.tactics.includes(id));
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
