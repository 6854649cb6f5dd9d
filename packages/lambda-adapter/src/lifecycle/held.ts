import type { Finding, Report, StepReport } from '@riposte/core';
import type { VerificationSummary } from '../admission.js';
import type { HistoryKind, HistoryRecord } from '../history/record.js';

/** One step a response held for a person, as the approval will look for it again. */
export interface HeldStep {
  key: string;
  playbook: string;
  action: string;
  /** The target's identifier: the approval runs the step only on the same target. */
  targetId: string | undefined;
}

/** The response whose held steps wait for a decision, and those steps. */
export interface PendingApproval {
  record: HistoryRecord;
  steps: HeldStep[];
  expired: boolean;
}

const heldForApproval = (step: StepReport): boolean => step.status === 'held' && step.hold === 'approval';

/**
 * The latest record of a finding (a response, or an approval run that held again) with steps held
 * for approval; `undefined` when nothing waits. A held step that a later record ran (applied,
 * skipped, no-op) no longer waits.
 */
export const pendingApproval = (
  records: readonly HistoryRecord[],
  now: Date,
): PendingApproval | undefined => {
  const runs = records.filter((record) => record.kind === 'response' || record.kind === 'approval');
  const latest = [...runs].reverse().find((record) => record.report.steps.some(heldForApproval));
  if (!latest) return undefined;
  const later = runs.slice(runs.indexOf(latest) + 1);
  const settled = new Set(
    later.flatMap((record) => record.report.steps.filter((s) => s.status !== 'held').map((s) => s.key)),
  );
  const steps = latest.report.steps
    .filter((step) => heldForApproval(step) && !settled.has(step.key))
    .map((step) => ({
      key: step.key,
      playbook: step.playbook,
      action: step.action,
      targetId: step.target?.id,
    }));
  if (steps.length === 0) return undefined;
  const expired = latest.heldUntil !== undefined && Date.parse(latest.heldUntil) <= now.getTime();
  return { record: latest, steps, expired };
};

export interface RecordContext {
  kind: HistoryKind;
  id: string;
  actor: string;
  verification?: VerificationSummary;
  /** The verified finding a response acted on: an approval verifies it again before running held steps. */
  finding?: Finding;
  /** How long held steps may wait for approval. */
  approvalTimeoutMs: number;
}

/** A history record of a report. */
export const recordOf = (report: Report, context: RecordContext): HistoryRecord => {
  const held = report.steps.some(heldForApproval);
  return {
    findingId: report.findingId,
    kind: context.kind,
    id: context.id,
    at: report.startedAt,
    actor: context.actor,
    accountId: report.accountId,
    region: report.region,
    findingType: report.findingType,
    severity: report.severity,
    mode: report.mode,
    outcome: report.outcome,
    report,
    ...(context.verification ? { verification: context.verification } : {}),
    ...(context.finding ? { finding: context.finding } : {}),
    ...(held
      ? { heldUntil: new Date(Date.parse(report.startedAt) + context.approvalTimeoutMs).toISOString() }
      : {}),
  };
};

/**
 * The report of a decision that ran nothing (a rejection, or an approval after the held steps
 * expired): the held steps, each `not-run` with why.
 */
export const settledReport = (pending: PendingApproval, reason: string, at: Date): Report => {
  const keys = new Set(pending.steps.map((step) => step.key));
  const steps = pending.record.report.steps
    .filter((step) => keys.has(step.key))
    .map((step): StepReport => ({ ...step, status: 'not-run', reason, calls: [], durationMs: 0 }));
  const { report } = pending.record;
  return {
    ...report,
    startedAt: at.toISOString(),
    durationMs: 0,
    matched: report.matched.filter((match) => steps.some((step) => step.playbook === match.playbook)),
    steps,
    outcome: 'nothing-to-do',
    counts: { 'not-run': steps.length },
    retryable: false,
  };
};
