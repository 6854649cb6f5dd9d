import {
  CTID_FINDING_TYPES,
  compileTypePattern,
  type Playbook,
  type SeverityLabel,
  threatPurposesForTactic,
} from '@riposte/core';
import { reachableTypes } from '@riposte/core/catalog';
import { enabledOf } from './shared.js';

// The lowest severity each label admits: Low < 4 <= Medium < 7 <= High < 9 <= Critical.
const LABEL_FLOOR: Record<SeverityLabel, number> = { Low: 0, Medium: 4, High: 7, Critical: 9 };

/** The lowest severity a playbook can match; 0 when it does not limit severity. */
const playbookFloor = (playbook: Playbook): number => {
  const severity = playbook.match.severity;
  if (!severity) return 0;
  const fromLabels = severity.labels?.length
    ? Math.min(...severity.labels.map((label) => LABEL_FLOOR[label]))
    : 0;
  return Math.max(severity.min ?? 0, fromLabels);
};

/** The lowest GuardDuty severity any enabled playbook accepts; 0 when one does not limit severity. */
export const severityFloor = (playbooks: Playbook[]): number =>
  Math.min(...enabledOf(playbooks).map(playbookFloor));

type TypeMatcher = string | { prefix: string } | { wildcard: string };

/**
 * One finding-type pattern as an EventBridge matcher: the type itself when exact, `prefix` when
 * everything after the literal prefix is wildcard, `wildcard` when literal text follows a wildcard
 * (EventBridge's `*` crosses `:` and `/`, so it admits a superset: the engine matches exactly).
 * `undefined` when the pattern admits every type.
 */
const typeMatcher = (pattern: string): TypeMatcher | undefined => {
  const compiled = compileTypePattern(pattern);
  if (compiled.exact) return pattern;
  const wildcard = pattern.replace(/\*+/g, '*');
  if (wildcard === '*') return undefined;
  const rest = wildcard.slice(compiled.literalPrefix.length);
  return /^\*+$/.test(rest) ? { prefix: compiled.literalPrefix } : { wildcard };
};

/** Drops exact types and prefixes another prefix already admits; sorts for a stable template. */
const simplify = (matchers: TypeMatcher[]): TypeMatcher[] => {
  const prefixes = matchers.flatMap((matcher) =>
    typeof matcher === 'object' && 'prefix' in matcher ? [matcher.prefix] : [],
  );
  const coveredBy = (text: string, self?: string) =>
    prefixes.some((prefix) => prefix !== self && text.startsWith(prefix));
  const kept = new Map<string, TypeMatcher>();
  for (const matcher of matchers) {
    if (typeof matcher === 'string') {
      if (!coveredBy(matcher)) kept.set(`=${matcher}`, matcher);
    } else if ('prefix' in matcher) {
      if (!coveredBy(matcher.prefix, matcher.prefix)) kept.set(`^${matcher.prefix}`, matcher);
    } else kept.set(`*${matcher.wildcard}`, matcher);
  }
  return [...kept.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, matcher]) => matcher);
};

/** EventBridge's default limit on an event pattern's size, in characters. */
export const EVENT_PATTERN_LIMIT = 2048;

/** Attack-sequence findings carry their techniques in indicators, so any technique or tactic may come with them. */
const ATTACK_SEQUENCE: TypeMatcher = { prefix: 'AttackSequence:' };

/** `Exfiltration:S3/ObjectRead.Unusual` -> `Exfiltration:S3/`: the type's purpose and resource. */
const purposeAndResource = (type: string): TypeMatcher => ({ prefix: type.slice(0, type.indexOf('/') + 1) });

/**
 * The types a playbook can match: its type patterns; for a playbook that matches by ATT&CK instead,
 * the types the normalizer's mapping ties to its techniques or tactics (core's `reachableTypes`,
 * widened to their purpose and resource), attack sequences, and for tactics alone every type of a
 * threat purpose AWS ties to one of them. `undefined` in the list means every type.
 */
const typeMatchers = (playbook: Playbook): (TypeMatcher | undefined)[] => {
  const { types, techniques, tactics } = playbook.match;
  if (types) return types.map(typeMatcher);
  if (!techniques && !tactics) return [undefined];
  const purposes = techniques
    ? []
    : (tactics ?? []).flatMap(threatPurposesForTactic).map((purpose) => ({ prefix: `${purpose}:` }));
  const mapped = reachableTypes(playbook.match, CTID_FINDING_TYPES);
  return [ATTACK_SEQUENCE, ...purposes, ...mapped.map(purposeAndResource)];
};

const threatPurposeOf = (matcher: TypeMatcher): TypeMatcher => {
  const text =
    typeof matcher === 'string' ? matcher : 'prefix' in matcher ? matcher.prefix : matcher.wildcard;
  const colon = text.indexOf(':');
  return colon > 0 && !text.slice(0, colon).includes('*') ? { prefix: text.slice(0, colon + 1) } : matcher;
};

/**
 * The EventBridge pattern: GuardDuty findings whose type some enabled playbook can match, at or above
 * the lowest severity any accepts, so findings no playbook wants never invoke the function. It only
 * ever admits more than the engine matches, never less. Over EventBridge's size limit, type matchers
 * widen to threat purposes, then to every type.
 */
export const findingEventPattern = (playbooks: Playbook[]): Record<string, unknown> => {
  const enabled = enabledOf(playbooks);
  const floor = severityFloor(enabled);
  const severity = floor > 0 ? { severity: [{ numeric: ['>=', floor] }] } : {};
  const patternWith = (type?: TypeMatcher[]) => {
    const detail = { ...(type ? { type } : {}), ...severity };
    return {
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      ...(Object.keys(detail).length > 0 ? { detail } : {}),
    };
  };
  const matchers = enabled.flatMap(typeMatchers);
  if (matchers.includes(undefined)) return patternWith();
  const exact = simplify(matchers.filter((matcher) => matcher !== undefined));
  const widened = simplify(exact.map(threatPurposeOf));
  const fits = (type: TypeMatcher[]) => JSON.stringify(patternWith(type)).length <= EVENT_PATTERN_LIMIT;
  return patternWith(fits(exact) ? exact : fits(widened) ? widened : undefined);
};

/** Where Security Hub writes GuardDuty's findings: `arn:<partition>:securityhub:<region>::product/aws/guardduty`. */
export const GUARDDUTY_PRODUCT_ARN_SUFFIX = '::product/aws/guardduty';

// Security Hub's label for a GuardDuty severity, and the highest severity each label covers:
// LOW 1.0-3.9, MEDIUM 4.0-6.9, HIGH 7.0-8.9, CRITICAL 9.0-10.0.
const SECURITY_HUB_LABELS: [label: string, below: number][] = [
  ['LOW', 4],
  ['MEDIUM', 7],
  ['HIGH', 9],
  ['CRITICAL', Number.POSITIVE_INFINITY],
];

/**
 * The Security Hub labels that can carry a GuardDuty finding at or above `floor`: every label whose
 * range reaches the floor. A label spans a range of severities, so this admits a little more than
 * the GuardDuty rule's numeric filter (the engine then matches exactly); `undefined` for no floor.
 */
export const securityHubLabelsFrom = (floor: number): string[] | undefined =>
  floor > 0 ? SECURITY_HUB_LABELS.filter(([, below]) => below > floor).map(([label]) => label) : undefined;

/**
 * The EventBridge pattern for GuardDuty's findings as Security Hub imports them: product ARN ending in
 * GuardDuty's, with the severity floor of the GuardDuty rule as Security Hub labels. Security Hub
 * writes the finding type into `Types` in a lossy form, so the type is left to the engine: this pattern
 * admits every type, never fewer findings than the playbooks match.
 */
export const securityHubEventPattern = (playbooks: Playbook[]): Record<string, unknown> => {
  const labels = securityHubLabelsFrom(severityFloor(playbooks));
  return {
    source: ['aws.securityhub'],
    'detail-type': ['Security Hub Findings - Imported'],
    detail: {
      findings: {
        ProductArn: [{ suffix: GUARDDUTY_PRODUCT_ARN_SUFFIX }],
        ...(labels ? { Severity: { Label: labels } } : {}),
      },
    },
  };
};
