/**
 * Coverage as an ATT&CK Navigator layer (layer format 4.5), so it can be seen as a matrix: every
 * technique of the CTID GuardDuty mapping, scored 0-100 by how much of it the playbooks handle, and
 * coloured by what they do about it: green when a playbook contains at least one of its finding types
 * (or names it and contains), blue when only notify-only playbooks reach it, grey when playbooks handle
 * only types the mapping relates it to (not what those findings are about; scored 0). An unreached
 * technique has no colour of its own: the gradient shows its score of 0 in red.
 * Spec: https://github.com/mitre-attack/attack-navigator/blob/master/layers/spec/v4.5/layerformat.md
 */
import type { Coverage, TechniqueCoverage } from './coverage.js';

export interface NavigatorMetadata {
  name: string;
  value: string;
}

export interface NavigatorTechnique {
  /** `T1078` or, for a sub-technique, `T1078.004`. */
  techniqueID: string;
  score: number;
  /** Set when a playbook reaches the technique: containment or notify-only (see the legend). */
  color?: string;
  comment: string;
  enabled: boolean;
  /** Set on a parent technique when one of its sub-techniques is scored above zero. */
  showSubtechniques?: boolean;
  metadata: NavigatorMetadata[];
}

export interface NavigatorLayer {
  name: string;
  versions: { attack: string; navigator: string; layer: string };
  domain: 'enterprise-attack';
  description: string;
  /** 3: descending by score, so what is handled comes first in each tactic. */
  sorting: number;
  layout: { layout: 'side'; showID: boolean; showName: boolean; expandedSubtechniques: 'annotated' };
  hideDisabled: boolean;
  techniques: NavigatorTechnique[];
  gradient: { colors: string[]; minValue: number; maxValue: number };
  legendItems: { label: string; color: string }[];
  metadata: NavigatorMetadata[];
}

export interface NavigatorOptions {
  /** Layer name; default `Riposte playbook coverage`. */
  name?: string;
  /** Layer description; default: a one-line summary of the coverage. */
  description?: string;
}

/** The ATT&CK version of the newest mapping data the layer is built from (CTID Mappings Explorer, ATT&CK 16.1). */
export const NAVIGATOR_ATTACK_VERSION = '16';
export const NAVIGATOR_LAYER_VERSION = '4.5';
export const NAVIGATOR_VERSION = '5.1.0';

const RED = '#ff6666';
const YELLOW = '#ffe766';
const GREEN = '#8ec843';
const BLUE = '#66b1ff';
const GREY = '#bfbfbf';

/** The colour of a technique a playbook reaches, by what the playbooks do about it. */
export const NAVIGATOR_COLORS = { contain: GREEN, notifyOnly: BLUE, relatedOnly: GREY, none: RED } as const;

const list = (values: string[]): string => (values.length > 0 ? values.join(', ') : 'none');

const commentOf = (technique: TechniqueCoverage): string => {
  const lines: string[] = [];
  if (technique.namedBy.length > 0) lines.push(`Matched by technique in: ${list(technique.namedBy)}.`);
  if (technique.findingTypes.length === 0) {
    lines.push('No active GuardDuty finding type is about this technique.');
  } else {
    lines.push(
      `GuardDuty finding types handled: ${technique.coveredTypes.length} of ${technique.findingTypes.length}.`,
    );
    const uncovered = technique.findingTypes.filter((type) => !technique.coveredTypes.includes(type));
    if (technique.coveredTypes.length > 0) {
      lines.push(`Handled: ${list(technique.coveredTypes)}.`);
      const notifyOnly = technique.coveredTypes.filter((type) => !technique.containedTypes.includes(type));
      lines.push(`Contained: ${list(technique.containedTypes)}.`);
      if (notifyOnly.length > 0) lines.push(`Notify only: ${list(notifyOnly)}.`);
    }
    if (uncovered.length > 0) lines.push(`Not handled: ${list(uncovered)}.`);
  }
  if (technique.coveredRelatedTypes.length > 0) {
    lines.push(
      `Handled types the mapping only relates it to (not scored): ${list(technique.coveredRelatedTypes)}.`,
    );
  }
  if (technique.playbooks.length > 0) lines.push(`Playbooks: ${list(technique.playbooks)}.`);
  return lines.join('\n');
};

/** Builds the layer: one entry per technique of the mapping, score 0-100 as `computeCoverage` gives it. */
export const navigatorLayer = (coverage: Coverage, options: NavigatorOptions = {}): NavigatorLayer => {
  const scoredParents = new Set(
    coverage.techniques
      .filter((technique) => technique.id.includes('.') && technique.score > 0)
      .map((technique) => technique.id.split('.')[0]),
  );
  const { summary } = coverage;
  return {
    name: options.name ?? 'Riposte playbook coverage',
    versions: {
      attack: NAVIGATOR_ATTACK_VERSION,
      navigator: NAVIGATOR_VERSION,
      layer: NAVIGATOR_LAYER_VERSION,
    },
    domain: 'enterprise-attack',
    description:
      options.description ??
      `ATT&CK techniques GuardDuty detects (CTID mapping), scored by how much of each the playbooks handle: ` +
        `${summary.coveredTechniques} of ${summary.techniques} techniques, ` +
        `${summary.coveredTypes} of ${summary.types} active finding types ` +
        `(${summary.containedTypes} contained, ${summary.notifyOnlyTypes} notify only). ` +
        'Green: contained; blue: notify only; grey: reached only as a related technique.',
    sorting: 3,
    layout: { layout: 'side', showID: true, showName: true, expandedSubtechniques: 'annotated' },
    hideDisabled: false,
    techniques: coverage.techniques.map((technique) => ({
      techniqueID: technique.id,
      score: technique.score,
      ...(technique.response === 'contain'
        ? { color: NAVIGATOR_COLORS.contain }
        : technique.response === 'notify-only'
          ? { color: NAVIGATOR_COLORS.notifyOnly }
          : technique.coveredAs === 'related'
            ? { color: NAVIGATOR_COLORS.relatedOnly }
            : {}),
      comment: commentOf(technique),
      enabled: true,
      ...(scoredParents.has(technique.id) ? { showSubtechniques: true } : {}),
      metadata: [
        { name: 'finding types', value: String(technique.findingTypes.length) },
        { name: 'handled', value: String(technique.coveredTypes.length) },
        { name: 'contained', value: String(technique.containedTypes.length) },
        { name: 'related types handled', value: String(technique.coveredRelatedTypes.length) },
      ],
    })),
    gradient: { colors: [RED, YELLOW, GREEN], minValue: 0, maxValue: 100 },
    legendItems: [
      { label: 'not handled', color: NAVIGATOR_COLORS.none },
      {
        label: 'notify only: reached only by playbooks that do not contain',
        color: NAVIGATOR_COLORS.notifyOnly,
      },
      {
        label: 'contained: a playbook contains at least one of its finding types',
        color: NAVIGATOR_COLORS.contain,
      },
      {
        label: 'related only: handled only through finding types the mapping relates it to',
        color: NAVIGATOR_COLORS.relatedOnly,
      },
    ],
    metadata: [
      { name: 'generated by', value: 'riposte coverage' },
      { name: 'finding types handled', value: `${summary.coveredTypes} of ${summary.types}` },
      { name: 'finding types contained', value: `${summary.containedTypes} of ${summary.types}` },
      { name: 'finding types notify only', value: `${summary.notifyOnlyTypes} of ${summary.types}` },
      { name: 'tactics covered', value: `${summary.coveredTactics} of ${summary.tactics}` },
    ],
  };
};
