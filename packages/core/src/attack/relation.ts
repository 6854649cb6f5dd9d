/**
 * Which of a GuardDuty finding type's CTID techniques are primary (what the finding is about) and which
 * are related (what the mapping also ties to the type). CTID maps some types to a broad set: every
 * S3 API-call type gets the same 10 to 13 techniques, so `Exfiltration:S3/MaliciousIPCaller` carries
 * T1562.008 Disable Cloud Logs, and a playbook about CloudTrail being turned off would act on it.
 *
 * The rule, per type, over the type's entries in the mapping:
 *
 * 1. Threat purpose. When AWS bases the type's threat purpose on an ATT&CK tactic (`Exfiltration` ->
 *    TA0010, the mapping's `threatPurposeToTactic`; `Execution` by its `otherTypePrefixes`), the
 *    techniques that belong to that tactic are primary. That is AWS's own statement of what the type
 *    detects.
 * 2. Dominant tactic. When the purpose names no tactic (Backdoor, Behavior, CryptoCurrency, PenTest,
 *    Policy, Recon, Stealth, Trojan, UnauthorizedAccess, AttackSequence), or none of the type's
 *    techniques belongs to it (`Impact:EC2/PortSweep` maps only to Reconnaissance and Discovery), the
 *    type is about the tactic most of its techniques belong to: count, per tactic, the type's entries
 *    of the best CTID score it has, and the techniques of the tactic(s) with the highest count are
 *    primary. Ties keep every tied tactic rather than pick one arbitrarily. Entries are counted, not
 *    technique families: `Stealth:S3/ServerAccessLoggingDisabled` maps to four T1562 Impair Defenses
 *    entries and two Impact ones, and is about logging being turned off.
 *
 * Either way the tactic decides, so every technique of the chosen tactic is primary whatever its
 * score, and a type with any mapping keeps at least one primary technique.
 *
 * What the data offers and why it is used this way: `ctidCategory` is `Detect` for all 317 entries,
 * so it cannot tell techniques apart. `ctidScore` is `Partial` (292) or `Minimal` (25): CTID's judgement
 * of how much of a technique the finding detects. It only picks the dominant tactic, so a technique
 * the finding barely detects does not outvote one it detects (`Stealth:IAMUser/PasswordPolicyChange`:
 * the four Partial T1562 Impair Defenses entries win over the four Minimal T1110 Brute Force ones;
 * `UnauthorizedAccess:EC2/TorRelay`: T1496 Resource Hijacking over T1090 Proxy).
 */
import type { AttackRelation, Tactic } from '../finding.js';
import { TACTICS } from './tactics.js';

/** CTID's scores, lowest first (the mapping uses Minimal and Partial). */
export const CTID_SCORES = ['Minimal', 'Partial', 'Significant'] as const;
export type CtidScore = (typeof CTID_SCORES)[number];

/** One (type, technique) entry of the mapping, as the classification reads it. */
export interface MappedTechnique {
  readonly id: string;
  readonly tactics: readonly Tactic[];
  readonly score: CtidScore;
}

const TACTIC_ORDER = new Map(TACTICS.map((tactic, index) => [tactic.id, index]));
const scoreRank = (score: CtidScore): number => CTID_SCORES.indexOf(score);
const belongsTo = (entry: MappedTechnique, tacticIds: ReadonlySet<string>): boolean =>
  entry.tactics.some((tactic) => tacticIds.has(tactic.id));

/** The tactic(s) holding the most of the best-scored entries (see the module comment, rule 2). */
const dominantTactics = (entries: readonly MappedTechnique[]): Tactic[] => {
  const best = Math.max(...entries.map((entry) => scoreRank(entry.score)));
  const counts = new Map<string, { tactic: Tactic; count: number }>();
  for (const entry of entries) {
    if (scoreRank(entry.score) !== best) continue;
    for (const tactic of entry.tactics) {
      const counted = counts.get(tactic.id) ?? { tactic, count: 0 };
      counted.count += 1;
      counts.set(tactic.id, counted);
    }
  }
  const highest = Math.max(...[...counts.values()].map(({ count }) => count));
  return [...counts.values()]
    .filter(({ count }) => count === highest)
    .map(({ tactic }) => tactic)
    .sort((a, b) => (TACTIC_ORDER.get(a.id) ?? 0) - (TACTIC_ORDER.get(b.id) ?? 0));
};

/**
 * Each entry's relation, by technique id: primary by the threat purpose's tactic when one of the
 * entries belongs to it, else by the type's dominant tactic(s). `purposeTactic` is undefined for a
 * purpose AWS does not base on a tactic.
 */
export const classifyTechniques = (
  purposeTactic: Tactic | undefined,
  entries: readonly MappedTechnique[],
): Map<string, AttackRelation> => {
  if (entries.length === 0) return new Map();
  const byPurpose =
    purposeTactic !== undefined && entries.some((entry) => belongsTo(entry, new Set([purposeTactic.id])));
  const chosen = new Set((byPurpose ? [purposeTactic] : dominantTactics(entries)).map((tactic) => tactic.id));
  return new Map(entries.map((entry) => [entry.id, belongsTo(entry, chosen) ? 'primary' : 'related']));
};
