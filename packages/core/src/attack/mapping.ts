/**
 * GuardDuty finding type -> MITRE ATT&CK, from the CTID mapping (see data/SOURCES.md).
 *
 * The lookup tables are built once, when the module loads: the normalizer asks for every finding. A
 * type's techniques are classified (primary or related) the first time it is asked for, then kept.
 * The Technique and Tactic objects handed out are frozen and shared between findings.
 */
import type { Tactic, Technique } from '../finding.js';
import mapping from './data/guardduty-attack-mapping.json' with { type: 'json' };
import { CTID_SCORES, type CtidScore, classifyTechniques, type MappedTechnique } from './relation.js';
import { findTactic } from './tactics.js';

/** A technique the mapping knows, with the GuardDuty finding types that map to it. */
export interface AttackTechnique {
  readonly id: string;
  readonly name: string;
  readonly tactics: readonly Tactic[];
  /** Finding types (as CTID names them) mapped to this technique; empty for a parent technique named only generically. */
  readonly findingTypes: readonly string[];
}

const tacticNamed = (idOrName: string): Tactic => {
  const tactic = findTactic(idOrName);
  // The data file is checked in; a name ATT&CK does not know is a defect in it, caught by the tests.
  if (!tactic) throw new Error(`guardduty-attack-mapping.json names an unknown ATT&CK tactic "${idOrName}"`);
  return tactic;
};

const typesByTechnique = new Map<string, string[]>();
for (const [typeName, entries] of Object.entries(mapping.findingTypeToTechniques)) {
  for (const entry of entries) {
    const types = typesByTechnique.get(entry.techniqueId);
    if (types) types.push(typeName);
    else typesByTechnique.set(entry.techniqueId, [typeName]);
  }
}

/** Every technique in the mapping, in the data file's order. */
export const ATTACK_TECHNIQUES: readonly AttackTechnique[] = Object.freeze(
  mapping.techniques.map((technique) =>
    Object.freeze({
      id: technique.techniqueId,
      name: technique.name,
      tactics: Object.freeze(technique.tactics.map(tacticNamed)),
      findingTypes: Object.freeze(typesByTechnique.get(technique.techniqueId) ?? []),
    }),
  ),
);

const techniqueById = new Map(ATTACK_TECHNIQUES.map((technique) => [technique.id, technique]));

/** The mapping's technique with this id, or undefined when the mapping does not hold it. */
export const ctidTechnique = (id: string): AttackTechnique | undefined => techniqueById.get(id);

const techniqueIdByName = new Map<string, string>();
for (const technique of ATTACK_TECHNIQUES) techniqueIdByName.set(technique.name.toLowerCase(), technique.id);

/** The id of the technique the mapping calls `name` (case-insensitive), e.g. "Cloud Accounts" -> T1078.004. */
export const techniqueIdForName = (name: string): string | undefined =>
  techniqueIdByName.get(name.toLowerCase());

const tacticByPurpose = new Map<string, Tactic>();
for (const entry of [...mapping.threatPurposeToTactic, ...mapping.otherTypePrefixes]) {
  if (entry.attackTacticId)
    tacticByPurpose.set(entry.threatPurpose.toLowerCase(), tacticNamed(entry.attackTacticId));
}

/**
 * The ATT&CK tactic a GuardDuty threat purpose stands for (`Exfiltration` -> TA0010), ignoring case.
 * Undefined for purposes AWS does not tie to a tactic (Backdoor, Policy, Recon, Stealth, ...).
 */
export const tacticForThreatPurpose = (purpose: string): Tactic | undefined =>
  tacticByPurpose.get(purpose.toLowerCase());

// CTID keys some types by names AWS later split (typeNameNotes): the current names inherit the old entry.
const ctidNamesByType = new Map<string, string[]>();
for (const typeName of Object.keys(mapping.findingTypeToTechniques))
  ctidNamesByType.set(typeName, [typeName]);
for (const [ctidName, currentNames] of Object.entries(mapping.typeNameNotes)) {
  for (const currentName of currentNames) {
    const names = ctidNamesByType.get(currentName);
    if (names) names.push(ctidName);
    else ctidNamesByType.set(currentName, [ctidName]);
  }
}

const ctidScore = (score: string): CtidScore => {
  // Checked-in data, as for tactics: an unknown score is a defect in it, caught by the tests.
  if (!(CTID_SCORES as readonly string[]).includes(score))
    throw new Error(`guardduty-attack-mapping.json gives an unknown CTID score "${score}"`);
  return score as CtidScore;
};

/** The type's techniques, each once and classified primary or related (attack/relation.ts). */
const classifyType = (typeName: string, ctidNames: readonly string[]): readonly Technique[] => {
  const entries = new Map<string, MappedTechnique & { name: string }>();
  for (const ctidName of ctidNames) {
    const mapped = mapping.findingTypeToTechniques[ctidName as keyof typeof mapping.findingTypeToTechniques];
    for (const entry of mapped ?? []) {
      const technique = techniqueById.get(entry.techniqueId);
      if (technique && !entries.has(technique.id))
        entries.set(technique.id, { ...technique, score: ctidScore(entry.ctidScore) });
    }
  }
  const purposeTactic = tacticForThreatPurpose(typeName.slice(0, typeName.indexOf(':')));
  const relations = classifyTechniques(purposeTactic, [...entries.values()]);
  return Object.freeze(
    [...entries.values()].map(
      (entry): Technique =>
        Object.freeze({
          id: entry.id,
          name: entry.name,
          tactics: entry.tactics as Tactic[],
          source: 'ctid' as const,
          relation: relations.get(entry.id) ?? 'related',
        }),
    ),
  );
};

// Classified on a type's first finding, not at load: a Lambda sees a handful of types per container.
const techniquesByType = new Map<string, readonly Technique[]>();

/**
 * The ATT&CK techniques CTID maps a GuardDuty finding type to, each once (source 'ctid'), each
 * `primary` or `related` to the type. Exact type names only; a type CTID does not map gives an empty list.
 */
export const techniquesForType = (typeName: string): Technique[] => {
  let techniques = techniquesByType.get(typeName);
  if (techniques === undefined) {
    const ctidNames = ctidNamesByType.get(typeName);
    if (ctidNames === undefined) return [];
    techniques = classifyType(typeName, ctidNames);
    techniquesByType.set(typeName, techniques);
  }
  return [...techniques];
};

/** Every finding type the CTID mapping gives techniques to, under its current names. */
export const CTID_FINDING_TYPES: readonly string[] = Object.freeze([...ctidNamesByType.keys()]);

/** The threat purposes (the part of a type before `:`) that AWS ties to this tactic id. */
export const threatPurposesForTactic = (tacticId: string): string[] =>
  [...mapping.threatPurposeToTactic, ...mapping.otherTypePrefixes]
    .filter((entry) => entry.attackTacticId === tacticId)
    .map((entry) => entry.threatPurpose);
