import { findTactic } from '../attack/tactics.js';
import type { SeverityLabel } from '../finding.js';
import {
  type Criteria,
  DEFAULT_MAX_TARGETS,
  DEFAULT_PRIORITY,
  type OnError,
  type Playbook,
  type PlaybookStep,
} from '../playbook.js';
import { locate, type SourceDocument } from './positions.js';
import { stepIds } from './steps.js';
import { isRecord, stringList } from './values.js';

/** A bare severity label in `match` means "at least this label": the label's lowest score. */
const LABEL_MINIMUM: Record<SeverityLabel, number> = { Low: 0, Medium: 4, High: 7, Critical: 9 };

const toCriteria = (raw: Record<string, unknown>): Criteria => {
  const { types, severity, tactics, ...rest } = raw;
  const criteria: Criteria = { ...(rest as Omit<Criteria, 'types' | 'severity' | 'tactics'>) };
  if (types !== undefined) criteria.types = stringList(types);
  if (typeof severity === 'string') criteria.severity = { min: LABEL_MINIMUM[severity as SeverityLabel] };
  else if (isRecord(severity)) criteria.severity = severity as Criteria['severity'];
  // Names and ids alike become ids, so the matcher compares one spelling.
  if (Array.isArray(tactics))
    criteria.tactics = tactics.map((tactic) => findTactic(String(tactic))?.id ?? String(tactic));
  return criteria;
};

const toStep = (
  source: SourceDocument,
  raw: Record<string, unknown>,
  id: string,
  index: number,
): PlaybookStep => ({
  id,
  action: String(raw.action),
  params: isRecord(raw.params) ? raw.params : {},
  after: stringList(raw.after),
  onError: (raw.onError as OnError | undefined) ?? 'continue',
  ...(raw.approval === 'required' || raw.approval === 'none' ? { approval: raw.approval } : {}),
  location: locate(source, `/actions/${index}`),
});

/** The validated document as a `Playbook`, defaults applied. Only called on documents without issues. */
export const toPlaybook = (source: SourceDocument, raw: Record<string, unknown>): Playbook => {
  const actions = raw.actions as Record<string, unknown>[];
  const ids = stepIds(actions) as string[];
  const exclude = raw.exclude;
  const limits = isRecord(raw.limits) ? raw.limits : {};
  const playbook: Playbook = {
    name: String(raw.name),
    enabled: (raw.enabled as boolean | undefined) ?? true,
    priority: (raw.priority as number | undefined) ?? DEFAULT_PRIORITY,
    match: toCriteria(raw.match as Record<string, unknown>),
    exclude: (Array.isArray(exclude) ? exclude : exclude === undefined ? [] : [exclude]).map(toCriteria),
    actions: actions.map((step, index) => toStep(source, step, ids[index]!, index)),
    limits: { maxTargets: (limits.maxTargets as number | undefined) ?? DEFAULT_MAX_TARGETS },
    rerunOnUpdate: (raw.rerunOnUpdate as boolean | undefined) ?? false,
    location: locate(source, ''),
  };
  if (typeof raw.description === 'string') playbook.description = raw.description;
  if (raw.mode === 'dry-run' || raw.mode === 'enforce') playbook.mode = raw.mode;
  if (typeof raw.fallback === 'boolean') playbook.fallback = raw.fallback;
  if (raw.approval === 'required') playbook.approval = 'required';
  return playbook;
};
