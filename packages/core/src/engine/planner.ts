import {
  type ActionContext,
  type ActionDefinition,
  type ActionPlan,
  type ActionRegistry,
  type ActionTarget,
  type EngineMode,
  PHASE_ORDER,
  type ResponseState,
  type StepSummary,
} from '../action.js';
import { ExecutionError, isRiposteError } from '../errors.js';
import type { Finding } from '../finding.js';
import { needsApproval, type Playbook, type PlaybookStep } from '../playbook.js';
import { outOfScopeReason } from './scope.js';
import type { PlanMatch, PlannedStep } from './types.js';

const NO_PREVIOUS: ReadonlyMap<string, StepSummary> = new Map();

/** The playbook's mode under the engine's ceiling: enforce only if both say enforce. */
export const effectiveMode = (engineMode: EngineMode, playbook: Playbook): EngineMode =>
  engineMode === 'enforce' && playbook.mode !== 'dry-run' ? 'enforce' : 'dry-run';

/**
 * The step ids each step waits for. Explicit `after:` wins; a step without it waits for every step of
 * an earlier phase, so evidence is preserved before containment, containment before revocation, and
 * notification comes last with the whole story. An implicit wait that would contradict an explicit
 * `after:` (the earlier-phase step already waits for this one) is left out: the playbook's order wins.
 */
export const stepDependencies = (
  steps: readonly PlaybookStep[],
  phaseOf: (step: PlaybookStep) => (typeof PHASE_ORDER)[number],
): Map<string, string[]> => {
  const rank = (step: PlaybookStep) => PHASE_ORDER.indexOf(phaseOf(step));
  const waitsFor = new Map(steps.map((step) => [step.id, [...step.after]]));
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (from === to) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return (waitsFor.get(from) ?? []).some((next) => reaches(next, to, seen));
  };
  for (const step of steps) {
    if (step.after.length > 0) continue;
    for (const earlier of steps) {
      if (rank(earlier) < rank(step) && !reaches(earlier.id, step.id))
        waitsFor.get(step.id)!.push(earlier.id);
    }
  }
  return waitsFor;
};

const planFailure = (error: unknown, action: string): ActionPlan => ({
  status: 'failed',
  reason: `planning ${action} failed`,
  lookups: [],
  calls: [],
  error:
    error instanceof ExecutionError
      ? error
      : new ExecutionError(
          isRiposteError(error) ? error.code : 'PLAN_FAILED',
          error instanceof Error ? error.message : String(error),
          { cause: error },
        ),
});

const refusal = (reason: string): ActionPlan => ({ status: 'refused', reason, lookups: [], calls: [] });

interface PlanContext<S> {
  finding: Finding;
  registry: ActionRegistry<S>;
  services: S;
  now: Date;
  shared: ResponseState;
}

/** Plans one playbook: resolves each step's targets from the finding, then asks each action for its calls. */
export const planPlaybook = async <S>(
  playbook: Playbook,
  match: PlanMatch,
  context: PlanContext<S>,
): Promise<PlannedStep[]> => {
  const definitions = new Map<string, ActionDefinition<Record<string, unknown>, S>>();
  for (const step of playbook.actions) {
    const definition = context.registry.get(step.action);
    // createEngine refuses playbooks naming unknown actions, so this only guards programmatic misuse.
    if (!definition) throw new ExecutionError('ACTION_UNKNOWN', `unknown action "${step.action}"`);
    definitions.set(step.id, definition);
  }
  const dependsOn = stepDependencies(playbook.actions, (step) => definitions.get(step.id)!.phase);

  const expanded = playbook.actions.map((step) => {
    const definition = definitions.get(step.id)!;
    const resolution = definition.targets(context.finding, step.params);
    return { step, definition, resolution };
  });
  const keysOf = new Map(
    expanded.map(({ step, resolution }) => [
      step.id,
      stepKeys(playbook.name, step.id, resolution.targets.length),
    ]),
  );

  const planned = expanded.flatMap(({ step, definition, resolution }) => {
    const after = (dependsOn.get(step.id) ?? []).flatMap((id) => keysOf.get(id) ?? []);
    const base = {
      playbook: playbook.name,
      stepId: step.id,
      action: step.action,
      phase: definition.phase,
      mode: match.mode,
      onError: step.onError,
      params: step.params,
      after,
      limits: playbook.limits,
      approval: needsApproval(playbook, step, definition.phase),
    };
    if (resolution.targets.length === 0) {
      const noTarget: ActionPlan = {
        status: 'no-op',
        reason: resolution.reason ?? `the finding names nothing ${step.action} acts on`,
        lookups: [],
        calls: [],
      };
      return [{ ...base, key: keysOf.get(step.id)![0]!, plan: Promise.resolve(noTarget) }];
    }
    const keys = keysOf.get(step.id)!;
    return resolution.targets.map((target, index) => ({
      ...base,
      key: keys[index]!,
      target,
      plan:
        index >= playbook.limits.maxTargets
          ? Promise.resolve(
              refusal(
                `blast radius: limits.maxTargets is ${playbook.limits.maxTargets} and this step has ` +
                  `${resolution.targets.length} targets`,
              ),
            )
          : planTarget(definition, playbook, step, target, match.mode, context),
    }));
  });

  const plans = await Promise.all(planned.map((step) => step.plan));
  return planned.map((step, index) => ({ ...step, plan: plans[index]! }));
};

const stepKeys = (playbook: string, stepId: string, targetCount: number): string[] =>
  targetCount <= 1
    ? [`${playbook}/${stepId}`]
    : Array.from({ length: targetCount }, (_, index) => `${playbook}/${stepId}#${index + 1}`);

const planTarget = async <S>(
  definition: ActionDefinition<Record<string, unknown>, S>,
  playbook: Playbook,
  step: PlaybookStep,
  target: ActionTarget,
  mode: EngineMode,
  context: PlanContext<S>,
): Promise<ActionPlan> => {
  const scopeProblem = outOfScopeReason(context.finding, target);
  if (scopeProblem) return refusal(`out of scope: ${scopeProblem}`);
  const actionContext: ActionContext<Record<string, unknown>, S> = {
    finding: context.finding,
    target,
    params: step.params,
    services: context.services,
    mode,
    now: context.now,
    playbook: playbook.name,
    stepId: step.id,
    previous: NO_PREVIOUS,
    limits: playbook.limits,
    shared: context.shared,
  };
  try {
    return await definition.plan(actionContext);
  } catch (error) {
    return planFailure(error, definition.name);
  }
};
