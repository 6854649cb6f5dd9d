import type {
  ActionPhase,
  ActionPlan,
  ActionTarget,
  AwsCall,
  CallRecord,
  EngineMode,
  Lookup,
  UndoState,
} from '../action.js';
import type { Finding, SeverityLabel } from '../finding.js';
import type { OnError } from '../playbook.js';

/** A criterion that held for a playbook, e.g. `{ criterion: 'types', detail: '... matched ...' }`. */
export interface MatchedCriterionSummary {
  criterion: string;
  detail: string;
}

export interface PlanMatch {
  playbook: string;
  /** The mode this playbook runs in: the engine's mode, lowered to dry-run if the playbook pins it. */
  mode: EngineMode;
  criteria: MatchedCriterionSummary[];
}

/** One action on one target. A playbook step with three buckets plans three steps. */
export interface PlannedStep {
  /** Unique in the plan: `<playbook>/<stepId>` or `<playbook>/<stepId>#<n>` for the n-th target. */
  key: string;
  playbook: string;
  stepId: string;
  action: string;
  phase: ActionPhase;
  mode: EngineMode;
  onError: OnError;
  params: Record<string, unknown>;
  /** Absent when the action found nothing to act on in this finding (then status is `no-op`). */
  target?: ActionTarget;
  /** Keys of the steps that must finish first. */
  after: string[];
  /** The playbook's blast-radius limits, handed to the action. */
  limits: { maxTargets: number };
  /** Whether an enforced run holds this step until a person approves it (`approval: required`). */
  approval: boolean;
  plan: ActionPlan;
}

export interface Plan {
  finding: Finding;
  /** The engine's mode: the ceiling for every step. */
  mode: EngineMode;
  plannedAt: string;
  matches: PlanMatch[];
  steps: PlannedStep[];
  /** Set when a person approved these steps: steps that need approval run instead of being held. */
  approved?: boolean;
}

/**
 * What happened to a step:
 * - `applied` / `skipped` (already in the desired state) / `failed`: execute ran;
 * - `dry-run`: planned, and the mode stopped it before the first mutating call;
 * - `no-op` / `refused`: planning found nothing to do, or a reason not to act;
 * - `not-run`: an earlier step failed with `onError: stop`;
 * - `held`: held back, see `hold`: by the mutation gate (the circuit breaker; it runs at a later
 *   delivery), or until a person approves it.
 */
export type StepStatus =
  | 'applied'
  | 'skipped'
  | 'failed'
  | 'dry-run'
  | 'no-op'
  | 'refused'
  | 'not-run'
  | 'held';

/** What an enforced step asks before it may change its target. */
export interface MutationRequest {
  finding: Finding;
  target: ActionTarget;
  playbook: string;
  action: string;
}

/**
 * Decides, just before an enforced step executes, whether its target may be changed now (e.g. a
 * circuit breaker on mutating targets per account and hour). Not asked in dry-run.
 */
export interface MutationGate {
  admit(request: MutationRequest): Promise<{ admitted: true } | { admitted: false; reason: string }>;
}

export interface StepReport {
  key: string;
  playbook: string;
  stepId: string;
  action: string;
  phase: ActionPhase;
  mode: EngineMode;
  target?: Pick<ActionTarget, 'kind' | 'id' | 'label'>;
  status: StepStatus;
  reason?: string;
  lookups: Lookup[];
  /** Calls made (with request ids) or, for a dry run, the calls that would be made. */
  calls: (CallRecord | AwsCall)[];
  error?: { code: string; message: string; retryable: boolean };
  outputs?: Record<string, unknown>;
  /** Why a `held` step was held: the mutation gate (`limit`) or a playbook's `approval: required`. */
  hold?: 'limit' | 'approval';
  /** What undoing the step needs: the target it changed, in full, and the state it recorded. */
  undo?: { target: ActionTarget; state: UndoState };
  startedAt?: string;
  durationMs: number;
}

export type ReportOutcome =
  | 'no-match'
  | 'dry-run'
  | 'nothing-to-do'
  | 'applied'
  | 'partial'
  | 'failed'
  | 'held';

export interface Report {
  findingId: string;
  findingType: string;
  severity: number;
  severityLabel: SeverityLabel;
  accountId: string;
  region: string;
  mode: EngineMode;
  startedAt: string;
  durationMs: number;
  matched: PlanMatch[];
  steps: StepReport[];
  outcome: ReportOutcome;
  counts: Partial<Record<StepStatus, number>>;
  /** True when some step failed with an error worth retrying (throttling, 5xx, timeout). */
  retryable: boolean;
}
