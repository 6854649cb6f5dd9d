import type {
  ActionContext,
  ActionDefinition,
  ActionOutcome,
  ActionRegistry,
  CallRecord,
  StepSummary,
} from '../action.js';
import { ExecutionError, isRiposteError } from '../errors.js';
import type { Finding } from '../finding.js';
import type { ResponseLog } from './engine.js';
import type { MutationGate, PlannedStep, StepReport, StepStatus } from './types.js';

interface ExecuteContext<S> {
  finding: Finding;
  registry: ActionRegistry<S>;
  services: S;
  now: Date;
  clock: () => Date;
  shared: ResponseLog;
  gate?: MutationGate;
  /** A person approved this run: steps that need approval run instead of being held. */
  approved: boolean;
}

/** What a held step's reason says, so the notification tells people how to let it run. */
export const awaitingApproval = (findingId: string): string =>
  `awaiting approval: run "riposte approve ${findingId}" or choose "Riposte: approve" on the finding in Security Hub (or "Riposte: reject")`;

const errorSummary = (error: ExecutionError) => ({
  code: error.code,
  message: error.message,
  retryable: error.retryable,
});

const toExecutionError = (error: unknown, action: string): ExecutionError =>
  error instanceof ExecutionError
    ? error
    : new ExecutionError(
        isRiposteError(error) ? error.code : 'EXECUTE_FAILED',
        `${action}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );

const summaryOf = (report: StepReport): StepSummary => ({
  action: report.action,
  target: report.target?.label ?? '-',
  status: report.status,
  ...(report.reason === undefined ? {} : { reason: report.reason }),
  phase: report.phase,
});

/**
 * Runs one playbook's planned steps: each starts as soon as the steps it waits for are done, so
 * independent steps run concurrently. A failed step never throws; with `onError: stop` the steps
 * that have not started yet are reported `not-run`.
 */
export const executeSteps = async <S>(
  steps: readonly PlannedStep[],
  context: ExecuteContext<S>,
  previous: Map<string, StepSummary>,
): Promise<StepReport[]> => {
  const byKey = new Map(steps.map((step) => [step.key, step]));
  const started = new Map<string, Promise<StepReport>>();
  let stoppedBy: string | undefined;

  const run = (step: PlannedStep): Promise<StepReport> => {
    const existing = started.get(step.key);
    if (existing) return existing;
    const promise = (async () => {
      await Promise.all(
        step.after
          .map((key) => byKey.get(key))
          .filter((dep) => dep !== undefined)
          .map(run),
      );
      const report: StepReport = stoppedBy
        ? notRun(step, `not run: step ${stoppedBy} failed and has onError: stop`)
        : await runStep(step, context, previous);
      previous.set(step.key, summaryOf(report));
      context.shared.mutations.push(...mutationsOf(report));
      if (report.status === 'failed' && step.onError === 'stop') stoppedBy ??= step.key;
      return report;
    })();
    started.set(step.key, promise);
    return promise;
  };

  return Promise.all(steps.map(run));
};

/** The mutating calls a step sent (a dry run or a held step lists calls it did not send). */
const mutationsOf = (report: StepReport): CallRecord[] =>
  report.status === 'applied' || report.status === 'failed' || report.status === 'skipped'
    ? report.calls.filter((call): call is CallRecord => call.mutating && 'durationMs' in call)
    : [];

const baseReport = (step: PlannedStep): Omit<StepReport, 'status' | 'durationMs' | 'calls'> => ({
  key: step.key,
  playbook: step.playbook,
  stepId: step.stepId,
  action: step.action,
  phase: step.phase,
  mode: step.mode,
  ...(step.target
    ? { target: { kind: step.target.kind, id: step.target.id, label: step.target.label } }
    : {}),
  lookups: step.plan.lookups,
});

const notRun = (step: PlannedStep, reason: string): StepReport => ({
  ...baseReport(step),
  status: 'not-run',
  reason,
  calls: [],
  durationMs: 0,
});

const fromPlan = (step: PlannedStep): StepReport | undefined => {
  const { plan } = step;
  const reason = plan.reason === undefined ? {} : { reason: plan.reason };
  switch (plan.status) {
    case 'no-op':
    case 'refused':
      return { ...baseReport(step), status: plan.status, ...reason, calls: [], durationMs: 0 };
    case 'failed':
      return {
        ...baseReport(step),
        status: 'failed',
        ...reason,
        calls: [],
        durationMs: 0,
        ...(plan.error ? { error: errorSummary(plan.error) } : {}),
      };
    case 'planned':
      if (step.mode !== 'dry-run') return undefined;
      return {
        ...baseReport(step),
        status: 'dry-run',
        ...(step.approval ? { reason: 'needs approval when enforced' } : reason),
        calls: plan.calls,
        durationMs: 0,
      };
  }
};

const runStep = async <S>(
  step: PlannedStep,
  context: ExecuteContext<S>,
  previous: ReadonlyMap<string, StepSummary>,
): Promise<StepReport> => {
  const settled = fromPlan(step);
  if (settled) return settled;
  if (step.approval && !context.approved) {
    return {
      ...baseReport(step),
      status: 'held',
      hold: 'approval',
      reason: awaitingApproval(context.finding.id),
      calls: step.plan.calls,
      durationMs: 0,
    };
  }
  if (context.gate) {
    const decision = await context.gate
      .admit({ finding: context.finding, target: step.target!, playbook: step.playbook, action: step.action })
      .catch((error: unknown) => ({
        admitted: false as const,
        reason: `the mutation gate could not decide (${error instanceof Error ? error.message : String(error)}); held`,
      }));
    if (!decision.admitted) {
      return {
        ...baseReport(step),
        status: 'held',
        hold: 'limit',
        reason: decision.reason,
        calls: step.plan.calls,
        durationMs: 0,
      };
    }
  }

  const definition = context.registry.get(step.action) as ActionDefinition<Record<string, unknown>, S>;
  const actionContext: ActionContext<Record<string, unknown>, S> = {
    finding: context.finding,
    target: step.target!,
    params: step.params,
    services: context.services,
    mode: step.mode,
    now: context.now,
    playbook: step.playbook,
    stepId: step.stepId,
    previous: new Map(previous),
    limits: step.limits,
    shared: context.shared,
  };
  const startedAt = context.clock();
  let outcome: ActionOutcome;
  try {
    outcome = await definition.execute(actionContext, step.plan);
  } catch (error) {
    outcome = { status: 'failed', calls: [], error: toExecutionError(error, step.action) };
  }
  const status: StepStatus = outcome.status;
  return {
    ...baseReport(step),
    status,
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    calls: outcome.calls,
    ...(outcome.error ? { error: errorSummary(outcome.error) } : {}),
    ...(outcome.outputs ? { outputs: outcome.outputs } : {}),
    ...(outcome.undo ? { undo: { target: step.target!, state: outcome.undo } } : {}),
    startedAt: startedAt.toISOString(),
    durationMs: context.clock().getTime() - startedAt.getTime(),
  };
};
