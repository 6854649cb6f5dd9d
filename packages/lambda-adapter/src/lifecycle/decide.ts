import type { Finding, Report } from '@riposte/core';
import type { VerificationSummary } from '../admission.js';
import type { HistoryRecord, HistoryStore } from '../history/record.js';
import { type PendingApproval, pendingApproval, recordOf, settledReport } from './held.js';

const DECIDED: ReadonlySet<string> = new Set(['approval', 'rejection', 'expiry']);

/** What became of a decision on a finding's held steps. */
export type DecisionOutcome =
  | { status: 'nothing-held'; message: string }
  | { status: 'expired'; message: string; record: HistoryRecord }
  | { status: 'already-decided'; message: string }
  | { status: 'refused'; code: string; message: string; retryable: boolean }
  | { status: 'rejected'; message: string; record: HistoryRecord }
  | { status: 'approved'; message: string; record: HistoryRecord };

/** GuardDuty's fresh copy of the finding, or why there is none. */
export type FreshFinding =
  | { ok: true; finding: Finding; verification?: VerificationSummary }
  | { ok: false; code: string; message: string; retryable: boolean };

export interface DecisionRequest {
  findingId: string;
  decision: 'approval' | 'rejection';
  /** Who decided: the caller's ARN (CLI) or the custom action's ARN (Security Hub). */
  actor: string;
  /** Unique id of this decision's history record (the Lambda request id, or a random one). */
  id: string;
  history: HistoryStore;
  clock: () => Date;
  approvalTimeoutMs: number;
  /**
   * GuardDuty's current copy of the finding the held response acted on. Asked before the decision is
   * taken, so a finding GuardDuty no longer vouches for never consumes the approval.
   */
  verify(pending: PendingApproval): Promise<FreshFinding>;
  /** Runs exactly the held steps, approved, on the fresh copy. */
  run(finding: Finding, pending: PendingApproval): Promise<Report>;
}

/**
 * A person's decision on held steps, the same from Security Hub and from `riposte approve`/`reject`:
 * the latest response with steps held for approval is found in history; an expired hold is recorded
 * and nothing runs; the finding is verified again (approval only); then the decision is taken once
 * (a second click, or a CLI approval racing a Security Hub one, finds it taken and runs nothing); an
 * approval runs the held steps, a rejection runs none, and either is recorded with who decided.
 */
export const decideHeld = async (request: DecisionRequest): Promise<DecisionOutcome> => {
  const { history, findingId, actor } = request;
  const now = request.clock();
  const records = await history.forFinding(findingId);
  const pending = pendingApproval(records, now);
  if (!pending) {
    const decided = [...records].reverse().find((record) => DECIDED.has(record.kind));
    return decided
      ? {
          status: 'already-decided',
          message: `no step of finding ${findingId} awaits approval: the held steps were decided (${decided.kind} by ${decided.actor} at ${decided.at}); nothing was run`,
        }
      : { status: 'nothing-held', message: `no step of finding ${findingId} awaits approval` };
  }
  const context = { id: request.id, actor, approvalTimeoutMs: request.approvalTimeoutMs };
  if (pending.expired) {
    const record = recordOf(
      settledReport(
        pending,
        `not run: the approval came after the hold expired at ${pending.record.heldUntil}`,
        now,
      ),
      { ...context, kind: 'expiry' },
    );
    await history.put(record);
    return {
      status: 'expired',
      message: `the held steps of finding ${findingId} expired at ${pending.record.heldUntil}; nothing was run`,
      record,
    };
  }
  const fresh = request.decision === 'approval' ? await request.verify(pending) : undefined;
  if (fresh && !fresh.ok) return { status: 'refused', ...fresh };
  const taken = await history.decide(findingId, {
    decision: request.decision,
    responseId: pending.record.id,
    actor,
    at: now.toISOString(),
  });
  if (!taken.taken) {
    const { existing } = taken;
    return {
      status: 'already-decided',
      message: `the held steps of finding ${findingId} were already decided: ${existing.decision} by ${existing.actor} at ${existing.at}; nothing was run`,
    };
  }
  if (!fresh) {
    const record = recordOf(settledReport(pending, `not run: rejected by ${actor}`, now), {
      ...context,
      kind: 'rejection',
    });
    await history.put(record);
    return {
      status: 'rejected',
      message: `${pending.steps.length} held step(s) of finding ${findingId} rejected; nothing was run`,
      record,
    };
  }
  const report = withMissing(await request.run(fresh.finding, pending), pending);
  const record = recordOf(report, {
    ...context,
    kind: 'approval',
    finding: fresh.finding,
    ...(fresh.verification ? { verification: fresh.verification } : {}),
  });
  await history.put(record);
  return {
    status: 'approved',
    message: `${pending.steps.length} held step(s) of finding ${findingId} approved by ${actor}: ${report.outcome}`,
    record,
  };
};

/**
 * The approval's report, with every held step the fresh plan no longer has (the playbook changed, or
 * the finding no longer names that target) listed as `not-run`: an approved step never vanishes.
 */
const withMissing = (report: Report, pending: PendingApproval): Report => {
  const ran = new Set(report.steps.map((step) => step.key));
  const missing = pending.record.report.steps
    .filter((step) => pending.steps.some((held) => held.key === step.key) && !ran.has(step.key))
    .map((step) => ({
      ...step,
      status: 'not-run' as const,
      reason:
        'not run: the playbook no longer plans this step on this target for the finding as GuardDuty holds it now',
      calls: [],
      durationMs: 0,
    }));
  if (missing.length === 0) return report;
  const counts = { ...report.counts, 'not-run': (report.counts['not-run'] ?? 0) + missing.length };
  return { ...report, steps: [...report.steps, ...missing], counts };
};

/** The engine options that run exactly the held steps of `pending`, approved. */
export const heldStepsOnly = (pending: PendingApproval) => {
  const held = new Map(pending.steps.map((step) => [step.key, step]));
  return {
    include: (playbook: { name: string }) => pending.steps.some((step) => step.playbook === playbook.name),
    only: (step: { key: string; action: string; target?: { id: string } }) => {
      const wanted = held.get(step.key);
      return wanted !== undefined && wanted.action === step.action && wanted.targetId === step.target?.id;
    },
    approved: true,
  };
};
