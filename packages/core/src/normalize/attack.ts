import {
  ctidTechnique,
  tacticForThreatPurpose,
  techniqueIdForName,
  techniquesForType,
} from '../attack/mapping.js';
import { findTactic, TACTICS } from '../attack/tactics.js';
import type { AttackRelation, FindingTactic, FindingType, Tactic, Technique } from '../finding.js';
import {
  type JsonObject,
  type Located,
  objectsOf,
  optionalArray,
  optionalString,
  stringsOf,
} from './read.js';

const TACTIC_ORDER = new Map(TACTICS.map((tactic, index) => [tactic.id, index]));

// "T1078.004 - Valid Accounts: Cloud Accounts", "T1098", or a bare name such as "Data Destruction".
const TECHNIQUE_VALUE = /^(T\d{4}(?:\.\d{3})?)(?:\s*[-–:]\s*(.*))?$/;

const subTechniqueName = (name: string): string => name.slice(name.lastIndexOf(':') + 1).trim();

export const techniqueFromIndicator = (value: string): Technique | undefined => {
  const text = value.trim();
  const match = TECHNIQUE_VALUE.exec(text);
  // A bare name is looked up as written, then by its sub-technique part ("Valid Accounts: Cloud Accounts").
  const id = match ? match[1] : (techniqueIdForName(text) ?? techniqueIdForName(subTechniqueName(text)));
  if (id === undefined) return undefined;
  // What the sequence itself names is what it is about: primary.
  const known = ctidTechnique(id);
  if (known)
    return {
      id,
      name: known.name,
      tactics: known.tactics as Tactic[],
      source: 'indicator',
      relation: 'primary',
    };
  return { id, name: (match ? match[2] : text) || id, tactics: [], source: 'indicator', relation: 'primary' };
};

interface Indicators {
  techniques: string[];
  tactics: string[];
}

const readIndicators = (list: Located<unknown[]> | undefined, into: Indicators): void => {
  for (const indicator of objectsOf(list)) {
    const key = optionalString(indicator.value, indicator.path, 'key');
    if (key !== 'ATTACK_TECHNIQUE' && key !== 'ATTACK_TACTIC') continue;
    const values = stringsOf(optionalArray(indicator.value, indicator.path, 'values'));
    (key === 'ATTACK_TECHNIQUE' ? into.techniques : into.tactics).push(...values);
  }
};

/** ATTACK_TECHNIQUE / ATTACK_TACTIC values of an attack sequence (`service.detection.sequence`). */
const sequenceIndicators = (sequence: Located<JsonObject> | undefined): Indicators => {
  const indicators: Indicators = { techniques: [], tactics: [] };
  if (!sequence) return indicators;
  readIndicators(optionalArray(sequence.value, sequence.path, 'sequenceIndicators'), indicators);
  for (const signal of objectsOf(optionalArray(sequence.value, sequence.path, 'signals'))) {
    readIndicators(optionalArray(signal.value, signal.path, 'signalIndicators'), indicators);
  }
  return indicators;
};

/**
 * The finding's ATT&CK techniques (the CTID table for its type, then those its attack-sequence
 * indicators name, each technique once) and tactics (those of the techniques, of the indicators and
 * of the threat purpose), tactics in ATT&CK order. A technique is primary when the table says so for
 * the type or an indicator names it; a tactic is primary when the threat purpose or an indicator names
 * it or a primary technique belongs to it.
 */
export const attackOf = (
  type: Pick<FindingType, 'name' | 'threatPurpose'>,
  sequence: Located<JsonObject> | undefined,
): { techniques: Technique[]; tactics: FindingTactic[] } => {
  const techniques = techniquesForType(type.name);
  const tactics = new Map<string, FindingTactic>();
  const addTactic = (tactic: Tactic, relation: AttackRelation): void => {
    if (tactics.get(tactic.id)?.relation !== 'primary') tactics.set(tactic.id, { ...tactic, relation });
  };
  const purposeTactic = tacticForThreatPurpose(type.threatPurpose);
  if (purposeTactic) addTactic(purposeTactic, 'primary');

  const indicators = sequenceIndicators(sequence);
  for (const value of indicators.techniques) {
    const technique = techniqueFromIndicator(value);
    if (technique === undefined) continue;
    const at = techniques.findIndex((known) => known.id === technique.id);
    if (at === -1) techniques.push(technique);
    // CTID relates it to the type, but the sequence names it: the finding is about it.
    else if (techniques[at]?.relation === 'related')
      techniques[at] = { ...techniques[at], relation: 'primary' };
  }
  for (const value of indicators.tactics) {
    const tactic = findTactic(value);
    if (tactic) addTactic(tactic, 'primary');
  }
  for (const technique of techniques) {
    for (const tactic of technique.tactics) addTactic(tactic, technique.relation);
  }

  return {
    techniques,
    tactics: [...tactics.values()].sort(
      (a, b) => (TACTIC_ORDER.get(a.id) ?? 0) - (TACTIC_ORDER.get(b.id) ?? 0),
    ),
  };
};
