import type { EngineMode, Finding, Report, ReportOutcome, StepStatus } from '@riposte/core';
import type { VerificationSummary } from './admission.js';
import { occurrenceOf } from './idempotency/store.js';

/**
 * What happened to one finding (or to an input that held none):
 * - `HANDLED`: playbooks matched (or not) and ran; see `outcome` and `steps`.
 * - `ALREADY_HANDLED`: this occurrence was handled before; the stored answer is returned, nothing ran.
 * - `IN_PROGRESS`: another invocation is handling this finding right now; nothing ran.
 * - `ACCOUNT_NOT_ALLOWED`: the finding's account is not one the function may act in; nothing ran.
 * - `FINDING_UNVERIFIED`: GuardDuty does not hold the finding as delivered (forged, altered, unknown); nothing ran.
 * - `VERIFICATION_FAILED`: GuardDuty could not be asked this time (throttling, 5xx); retried.
 * - `FINDING_TOO_OLD` / `FINDING_FROM_FUTURE`: GuardDuty's copy was last updated outside the accepted window.
 * - `ASSUME_ROLE_FAILED`: the member role could not be assumed; nothing ran.
 * - `EVENT_UNSUPPORTED`: not an event Riposte handles (another source or detail-type, a bare value).
 * - `FINDING_UNSUPPORTED`: a Security Hub finding from another product than GuardDuty.
 * - `FINDING_INVALID`: the event claims to carry a finding but it is malformed.
 * - `BODY_INVALID`: an SQS or SNS message whose body is not JSON.
 * - `IDEMPOTENCY_FAILED`: the idempotency store could not be reached; nothing ran.
 * - `INTERNAL_ERROR`: a defect in Riposte; nothing is known to have run.
 *
 * A decision on held steps (Security Hub's "Riposte: approve" / "Riposte: reject") answers `HANDLED`
 * when the approved steps ran, or:
 * - `NOTHING_HELD`: no step of the finding awaits approval; nothing ran.
 * - `APPROVAL_EXPIRED`: the held steps expired before the approval; nothing ran (recorded).
 * - `ALREADY_DECIDED`: the held steps were approved or rejected before; nothing ran.
 * - `REJECTED`: the held steps are rejected and will not run (recorded).
 * - `HISTORY_FAILED`: history could not be read or written; nothing ran; retried.
 */
export type ResultCode =
  | 'HANDLED'
  | 'ALREADY_HANDLED'
  | 'IN_PROGRESS'
  | 'ACCOUNT_NOT_ALLOWED'
  | 'FINDING_UNVERIFIED'
  | 'VERIFICATION_FAILED'
  | 'FINDING_TOO_OLD'
  | 'FINDING_FROM_FUTURE'
  | 'ASSUME_ROLE_FAILED'
  | 'EVENT_UNSUPPORTED'
  | 'FINDING_UNSUPPORTED'
  | 'FINDING_INVALID'
  | 'BODY_INVALID'
  | 'IDEMPOTENCY_FAILED'
  | 'INTERNAL_ERROR'
  | 'NOTHING_HELD'
  | 'APPROVAL_EXPIRED'
  | 'ALREADY_DECIDED'
  | 'REJECTED'
  | 'HISTORY_FAILED';

export interface StepResult {
  key: string;
  playbook: string;
  action: string;
  /** The target's label, e.g. `instance i-0abc (credential source)`. */
  target?: string;
  status: StepStatus;
  reason?: string;
  error?: { code: string; message: string; retryable: boolean };
}

/** The report summary the handler answers with, one per finding. */
export interface FindingResult {
  code: ResultCode;
  message: string;
  findingId?: string;
  findingType?: string;
  accountId?: string;
  region?: string;
  updatedAt?: string;
  mode: EngineMode;
  outcome?: ReportOutcome;
  /** Names of the playbooks that matched and ran. */
  matched: string[];
  steps: StepResult[];
  /** True when running the same event again may succeed: the invocation fails so Lambda retries. */
  retryable: boolean;
  /** How GuardDuty vouched for the finding (absent when it never got that far). */
  verification?: VerificationSummary;
}

/** The answer to an EventBridge or SNS invocation. */
export interface InvocationResult {
  results: FindingResult[];
}

/** The answer to an SQS batch: Lambda's partial-batch response, plus each record's results. */
export interface SqsBatchResult {
  batchItemFailures: { itemIdentifier: string }[];
  records: { messageId: string; results: FindingResult[] }[];
}

export type HandlerResult = InvocationResult | SqsBatchResult;

/** What every answer about a finding carries, whatever became of it. */
export type FindingSubject = Omit<FindingResult, 'code' | 'message' | 'retryable'>;

/** The finding an answer is about, before anything is known of its handling. */
export const subjectOf = (
  finding: Finding,
  mode: EngineMode,
  verification?: VerificationSummary,
): FindingSubject => ({
  findingId: finding.id,
  findingType: finding.type.name,
  accountId: finding.accountId,
  region: finding.region,
  updatedAt: occurrenceOf(finding.updatedAt),
  mode,
  matched: [],
  steps: [],
  ...(verification ? { verification } : {}),
});

/** An answer about a finding: what it is, then what became of it, then how GuardDuty vouched for it. */
export const answer = (
  { verification, ...subject }: FindingSubject,
  code: ResultCode,
  message: string,
  retryable = false,
): FindingResult => ({ ...subject, code, message, retryable, ...(verification ? { verification } : {}) });

/** An answer about an input that never became a handled finding: nothing ran. */
export const unhandled = (
  mode: EngineMode,
  code: ResultCode,
  message: string,
  findingId?: string,
): FindingResult => ({
  code,
  message,
  ...(findingId === undefined ? {} : { findingId }),
  mode,
  matched: [],
  steps: [],
  retryable: false,
});

const outcomeMessage: Record<ReportOutcome, string> = {
  'no-match': 'no playbook matched',
  'dry-run': 'planned in dry-run; nothing was changed',
  'nothing-to-do': 'matched, and everything was already in the desired state',
  applied: 'remediation applied',
  partial: 'remediation partly applied; some steps failed or were held',
  failed: 'remediation failed',
  held: 'remediation held: awaiting approval, or by the circuit breaker until a later delivery (see each step)',
};

export interface SummaryContext {
  /** The occurrence handled (`occurrenceOf(finding.updatedAt)`). */
  updatedAt?: string;
  verification?: VerificationSummary;
  /** The occurrence handled before this one, when this delivery is an update of a handled finding. */
  previousUpdatedAt?: string;
}

/** The answer to a finding the engine handled: its report, step by step. */
export const summarizeReport = (report: Report, context: SummaryContext = {}): FindingResult => {
  const { updatedAt, verification, previousUpdatedAt } = context;
  return {
    code: 'HANDLED',
    message:
      previousUpdatedAt !== undefined && report.matched.length === 0
        ? `an update of a finding handled at ${previousUpdatedAt}; no playbook re-runs on update`
        : outcomeMessage[report.outcome],
    findingId: report.findingId,
    findingType: report.findingType,
    accountId: report.accountId,
    region: report.region,
    ...(updatedAt === undefined ? {} : { updatedAt }),
    mode: report.mode,
    outcome: report.outcome,
    matched: report.matched.map((match) => match.playbook),
    steps: report.steps.map((step) => ({
      key: step.key,
      playbook: step.playbook,
      action: step.action,
      ...(step.target ? { target: step.target.label } : {}),
      status: step.status,
      ...(step.reason === undefined ? {} : { reason: step.reason }),
      ...(step.error ? { error: step.error } : {}),
    })),
    retryable: report.retryable,
    ...(verification ? { verification } : {}),
  };
};

/**
 * Step statuses after which a playbook has nothing left to do for this occurrence. A refusal is a
 * decision (out of scope, protected principal, root credentials) that a new attempt would only repeat,
 * with its notification; doubt (identity or tags unreadable) fails the step instead, so it runs again.
 */
const DONE: ReadonlySet<StepStatus> = new Set(['applied', 'skipped', 'no-op', 'refused']);

/**
 * What a report settles. Only enforced playbooks whose every step is done count as done: a finding
 * first seen in dry-run is remediated once enforce is on, and a failed or held step runs again at the
 * next delivery. `all` says whether every enforced playbook is done.
 */
export const settledPlaybooks = (report: Report): { done: string[]; all: boolean } => {
  const enforced = report.matched.filter((match) => match.mode === 'enforce').map((match) => match.playbook);
  const done = enforced.filter((playbook) =>
    report.steps.every((step) => step.playbook !== playbook || DONE.has(step.status)),
  );
  return { done, all: done.length === enforced.length };
};
