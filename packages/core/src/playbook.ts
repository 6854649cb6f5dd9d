import type { SourceLocation } from './errors.js';
import type { ResourceKind, SeverityLabel, UserType } from './finding.js';

/**
 * A json-rules-engine condition tree over the normalized finding. Facts are the Finding's top-level
 * fields (`severity`, `type`, `actor`, `resources`, `raw`, ...); use `path` (JSONPath) to reach inside.
 * Declared here so no json-rules-engine type leaks into our public API.
 */
export type ConditionTree =
  | { all: ConditionTree[] }
  | { any: ConditionTree[] }
  | { not: ConditionTree }
  | { fact: string; operator: string; value: unknown; path?: string; params?: Record<string, unknown> };

/** The matching vocabulary shared by `match` and each `exclude` entry. Every given criterion must hold. */
export interface Criteria {
  /** Finding-type patterns: exact, `*` within a segment, `**` across segments. Any may match. */
  types?: string[];
  severity?: { min?: number; max?: number; labels?: SeverityLabel[] };
  /** Resource kinds of which the finding must name at least one. */
  resources?: ResourceKind[];
  /** Principal user types (from the finding's access key). */
  principals?: UserType[];
  /** ATT&CK technique ids; a technique matches its sub-techniques (T1078 matches T1078.004). */
  techniques?: string[];
  /** ATT&CK tactic ids (TA0010) or names (Exfiltration). */
  tactics?: string[];
  /**
   * Whether `techniques` and `tactics` also consider the techniques the mapping only relates to the
   * finding's type, and their tactics (default false: primary ones only; see `AttackRelation`).
   */
  relatedTechniques?: boolean;
  accounts?: string[];
  regions?: string[];
  /** Resource tags: a resource of the finding must carry each key with one of the values (`*` = any). */
  tags?: Record<string, string | string[]>;
  /** Whether the finding is a GuardDuty sample finding. */
  sample?: boolean;
  archived?: boolean;
  conditions?: ConditionTree;
}

export type OnError = 'continue' | 'stop';

export interface PlaybookStep {
  /** Unique within the playbook; defaults to the action name (suffixed when repeated). */
  id: string;
  action: string;
  params: Record<string, unknown>;
  /** Step ids that must finish before this one starts. */
  after: string[];
  onError: OnError;
  /** `required`: held until a person approves; `none`: runs even in a playbook that requires approval. */
  approval?: Approval;
  location: SourceLocation;
}

export type Approval = 'required' | 'none';

export interface PlaybookLimits {
  /** The most targets one step may act on; the rest are refused and reported. */
  maxTargets: number;
}

export interface Playbook {
  name: string;
  description?: string;
  enabled: boolean;
  /** Pin a playbook to dry-run even when the engine enforces. The engine's mode is the ceiling. */
  mode?: 'dry-run' | 'enforce';
  /** Lower runs first; ties break by name. */
  priority: number;
  match: Criteria;
  /** Any entry that holds excludes the finding. Exclusions win over `match`. */
  exclude: Criteria[];
  actions: PlaybookStep[];
  limits: PlaybookLimits;
  /** Whether a re-published occurrence of the same finding (same id, later updatedAt) runs again. */
  rerunOnUpdate: boolean;
  /** A fallback playbook matches only when no other (non-fallback) playbook matched the finding. */
  fallback?: boolean;
  /**
   * `required`: an enforced response runs only its `preserve` and `notify` steps; the others are held
   * until a person approves them (`riposte approve`, or Security Hub's "Riposte: approve").
   */
  approval?: 'required';
  location: SourceLocation;
}

export const DEFAULT_PRIORITY = 100;
export const DEFAULT_MAX_TARGETS = 5;

/**
 * Whether a step waits for a person: its own `approval:` wins; else the playbook's `approval: required`
 * holds every step but evidence (`preserve`) and telling people (`notify`).
 */
export const needsApproval = (
  playbook: Pick<Playbook, 'approval'>,
  step: Pick<PlaybookStep, 'approval'>,
  phase: string,
): boolean =>
  step.approval === 'required' ||
  (step.approval === undefined &&
    playbook.approval === 'required' &&
    phase !== 'preserve' &&
    phase !== 'notify');
