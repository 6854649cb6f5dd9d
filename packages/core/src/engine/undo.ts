import {
  type ActionOutcome,
  type ActionPlan,
  type ActionRegistry,
  type ActionTarget,
  type EngineMode,
  hasInverse,
  type InverseContext,
} from '../action.js';
import { ExecutionError, isRiposteError } from '../errors.js';
import { outcomeOf } from './engine.js';
import type { PlanMatch, Report, StepReport, StepStatus } from './types.js';

/** The finding a response was about, as history recorded it: an undo never needs the finding itself. */
export type UndoSubject = Pick<
  Report,
  'findingId' | 'findingType' | 'severity' | 'severityLabel' | 'accountId' | 'region'
>;

/** One step of an undo: the inverse of one recorded step, or why that step is left as it is. */
export interface UndoStep {
  /** `undo:<key of the step it undoes>`. */
  key: string;
  /** The key of the step it undoes. */
  undoes: string;
  playbook: string;
  stepId: string;
  action: string;
  phase: StepReport['phase'];
  target?: ActionTarget;
  /** The inverse's plan; `no-op` with a reason for a step that has no inverse or nothing to restore. */
  plan: ActionPlan;
}

export interface UndoPlan {
  subject: UndoSubject;
  mode: EngineMode;
  plannedAt: string;
  /** Newest change first: the reverse of the order the steps ran in. */
  steps: UndoStep[];
}

export interface UndoOptions<S> {
  registry: ActionRegistry<S>;
  /** The services to restore a target with (the caller's credentials, or a role in the target's account). */
  servicesFor: (target: ActionTarget) => S;
  /** Default `dry-run`: an undo is planned and shown, and runs only when asked to enforce. */
  mode?: EngineMode;
  clock?: () => Date;
}

const settled = (status: ActionPlan['status'], reason: string): ActionPlan => ({
  status,
  reason,
  lookups: [],
  calls: [],
});

const planFailure = (error: unknown): ActionPlan => ({
  status: 'failed',
  lookups: [],
  calls: [],
  error:
    error instanceof ExecutionError
      ? error
      : new ExecutionError(
          isRiposteError(error) ? error.code : 'UNDO_FAILED',
          error instanceof Error ? error.message : String(error),
          { cause: error },
        ),
});

/** Whether a recorded step changed something an undo should consider. */
const changedSomething = (step: StepReport): boolean => step.undo !== undefined || step.status === 'applied';

/**
 * Plans undoing recorded steps (every step of every stored response to one finding, in the order they
 * ran): each step that changed something gets its action's inverse, newest first, planned from the
 * state it recorded, which is checked against the inverse's schema before any call. A step whose
 * action has no inverse, or that recorded no state, is listed with why it stays.
 */
export const planUndo = async <S>(
  subject: UndoSubject,
  recorded: readonly StepReport[],
  options: UndoOptions<S>,
): Promise<UndoPlan> => {
  const mode = options.mode ?? 'dry-run';
  const now = (options.clock ?? (() => new Date()))();
  const changed = recorded.filter(changedSomething).reverse();
  const steps = await Promise.all(
    changed.map(async (step): Promise<UndoStep> => {
      const base = {
        key: `undo:${step.key}`,
        undoes: step.key,
        playbook: step.playbook,
        stepId: step.stepId,
        action: step.action,
        phase: step.phase,
        ...(step.undo ? { target: step.undo.target } : {}),
      };
      const definition = options.registry.get(step.action);
      if (!definition)
        return {
          ...base,
          plan: settled('refused', `action ${step.action} is not registered here; not undone`),
        };
      if (!hasInverse(definition.undo)) {
        const why = definition.undo?.none ?? `${step.action} declares no inverse`;
        return { ...base, plan: settled('no-op', `not undone: ${why}`) };
      }
      if (!step.undo)
        return { ...base, plan: settled('refused', 'the step recorded no state to restore; not undone') };
      const problems = options.registry.validateUndoState(step.action, step.undo.state);
      if (problems.length > 0) {
        const listed = problems.map((problem) => `${problem.pointer || '/'} ${problem.message}`).join('; ');
        return {
          ...base,
          plan: settled('refused', `the recorded state is not valid (${listed}); not undone`),
        };
      }
      const context: InverseContext<Record<string, unknown>, S> = {
        findingId: subject.findingId,
        target: step.undo.target,
        state: step.undo.state,
        services: options.servicesFor(step.undo.target),
        mode,
        now,
      };
      try {
        return { ...base, plan: await definition.undo.plan(context) };
      } catch (error) {
        return { ...base, plan: planFailure(error) };
      }
    }),
  );
  return { subject, mode, plannedAt: now.toISOString(), steps };
};

/**
 * Runs an undo plan one step at a time, newest change first: a restore may depend on an earlier one
 * (security groups go back on the interfaces before the quarantine group is deleted). Each inverse's
 * execute re-reads its target first, so one planned as nothing to do is checked again in its turn. In
 * dry-run, or for a step refused or failed in planning, nothing is sent. The answer is a report like
 * a response's.
 */
export const executeUndo = async <S>(
  plan: UndoPlan,
  recorded: readonly StepReport[],
  options: UndoOptions<S>,
): Promise<Report> => {
  const clock = options.clock ?? (() => new Date());
  const startedAt = clock();
  const reports: StepReport[] = [];
  for (const step of plan.steps) {
    const head = {
      key: step.key,
      playbook: step.playbook,
      stepId: step.stepId,
      action: step.action,
      phase: step.phase,
      mode: plan.mode,
      ...(step.target
        ? { target: { kind: step.target.kind, id: step.target.id, label: step.target.label } }
        : {}),
      lookups: step.plan.lookups,
    };
    const reason = step.plan.reason === undefined ? {} : { reason: step.plan.reason };
    const error = step.plan.error
      ? {
          error: {
            code: step.plan.error.code,
            message: step.plan.error.message,
            retryable: step.plan.error.retryable,
          },
        }
      : {};
    const definition = options.registry.get(step.action);
    const inverse = definition?.undo;
    const original = recorded.find((candidate) => candidate.key === step.undoes && candidate.undo);
    // An inverse planned as nothing to do may have work once a newer change is undone (tags come back
    // with an object copied back): in enforce, it checks again when its turn comes.
    const recheck =
      plan.mode === 'enforce' && step.plan.status === 'no-op' && hasInverse(inverse) && original?.undo;
    if (step.plan.status !== 'planned' && !recheck) {
      reports.push({ ...head, status: step.plan.status, ...reason, ...error, calls: [], durationMs: 0 });
      continue;
    }
    if (plan.mode === 'dry-run') {
      reports.push({ ...head, status: 'dry-run', ...reason, calls: step.plan.calls, durationMs: 0 });
      continue;
    }
    const started = clock();
    if (!hasInverse(inverse) || !original?.undo) {
      reports.push({
        ...head,
        status: 'failed',
        reason: 'the inverse is no longer available',
        calls: [],
        durationMs: 0,
      });
      continue;
    }
    const context: InverseContext<Record<string, unknown>, S> = {
      findingId: plan.subject.findingId,
      target: original.undo.target,
      state: original.undo.state,
      services: options.servicesFor(original.undo.target),
      mode: plan.mode,
      now: new Date(plan.plannedAt),
    };
    const outcome: ActionOutcome = await inverse
      .execute(context, step.plan)
      .catch((caught: unknown) => ({ status: 'failed', calls: [], error: planFailure(caught).error! }));
    reports.push({
      ...head,
      status: outcome.status as StepStatus,
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      calls: outcome.calls,
      ...(outcome.error
        ? {
            error: {
              code: outcome.error.code,
              message: outcome.error.message,
              retryable: outcome.error.retryable,
            },
          }
        : {}),
      startedAt: started.toISOString(),
      durationMs: clock().getTime() - started.getTime(),
    });
  }
  const matched: PlanMatch[] = [...new Set(plan.steps.map((step) => step.playbook))].map((playbook) => ({
    playbook,
    mode: plan.mode,
    criteria: [{ criterion: 'undo', detail: 'the steps recorded in history' }],
  }));
  const counts: Report['counts'] = {};
  for (const report of reports) counts[report.status] = (counts[report.status] ?? 0) + 1;
  return {
    ...plan.subject,
    mode: plan.mode,
    startedAt: startedAt.toISOString(),
    durationMs: clock().getTime() - startedAt.getTime(),
    matched,
    steps: reports,
    outcome: reports.length === 0 ? 'nothing-to-do' : outcomeOf(matched.length, reports),
    counts,
    retryable: reports.some((report) => report.status === 'failed' && report.error?.retryable === true),
  };
};
