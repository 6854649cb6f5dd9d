import type { Finding, Report } from '@riposte/core';
import type { VerificationSummary } from '../admission.js';

/**
 * What one history record is of:
 * - `response`: the function handled a delivered finding;
 * - `approval`: a person approved the held steps and they ran (its report has only those steps);
 * - `rejection`: a person rejected the held steps; nothing ran;
 * - `expiry`: an approval came after the held steps expired; nothing ran;
 * - `undo`: a person undid the response (its report has the inverse steps).
 */
export type HistoryKind = 'response' | 'approval' | 'rejection' | 'expiry' | 'undo';

/** One stored record: the full report of what was done about a finding, and by whom. */
export interface HistoryRecord {
  findingId: string;
  kind: HistoryKind;
  /** Unique per record: the Lambda request id, or a random id for the CLI. */
  id: string;
  /** When it happened (ISO 8601): the report's start. */
  at: string;
  /** Who did it: the function's role ARN, the CLI caller's ARN, or the Security Hub custom action's ARN. */
  actor: string;
  accountId: string;
  region: string;
  findingType: string;
  severity: number;
  mode: Report['mode'];
  outcome: Report['outcome'];
  /** Everything: steps, statuses, reasons, every call with its input and request id, durations, undo state. */
  report: Report;
  /**
   * The verified finding a response acted on (normalized): what an approval verifies again with
   * GuardDuty before it runs the held steps.
   */
  finding?: Finding;
  /** How GuardDuty vouched for the finding, for a response or an approval. */
  verification?: VerificationSummary;
  /** When the steps this record holds for approval stop being approvable (ISO 8601). */
  heldUntil?: string;
}

/** A decision on one response's held steps, taken once whatever the number of clicks. */
export interface Decision {
  decision: 'approval' | 'rejection';
  /** The id of the response record whose held steps it decides. */
  responseId: string;
  actor: string;
  at: string;
}

export interface HistoryQuery {
  /** Records at or after this time. */
  since: Date;
  accountId?: string;
  /** Default 100. */
  limit?: number;
}

/**
 * Where responses are remembered. The function writes with its role; `riposte history`, `undo` and
 * `approve` read with the caller's credentials.
 */
export interface HistoryStore {
  put(record: HistoryRecord): Promise<void>;
  /** Every record of one finding, oldest first. */
  forFinding(findingId: string): Promise<HistoryRecord[]>;
  /** Records since a time, newest first. */
  list(query: HistoryQuery): Promise<HistoryRecord[]>;
  /**
   * Takes the decision on a response's held steps, once: a second approval (or a rejection after an
   * approval) gets the decision already taken instead.
   */
  decide(
    findingId: string,
    decision: Decision,
  ): Promise<{ taken: true } | { taken: false; existing: Decision }>;
}
