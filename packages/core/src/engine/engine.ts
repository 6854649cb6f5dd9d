import type { ActionRegistry, CallRecord, EngineMode, ResponseState, StepSummary } from '../action.js';
import { ActionConfigurationError, type ConfigurationIssue, EngineConfigurationError } from '../errors.js';
import type { Finding } from '../finding.js';
import {
  createMatcher,
  type MatchExplanation,
  type MatcherOptions,
  type PlaybookMatch,
} from '../match/index.js';
import { normalize } from '../normalize/index.js';
import type { Playbook } from '../playbook.js';
import { executeSteps } from './executor.js';
import { effectiveMode, planPlaybook, stepDependencies } from './planner.js';
import type {
  MutationGate,
  Plan,
  PlanMatch,
  PlannedStep,
  Report,
  ReportOutcome,
  StepReport,
  StepStatus,
} from './types.js';

export interface EngineOptions<S> {
  playbooks: Playbook[];
  registry: ActionRegistry<S>;
  /** What actions use to reach AWS (the AWS client factory of `@riposte/actions`). */
  services: S;
  /**
   * Services for one finding, when they depend on it (e.g. credentials assumed in the finding's member
   * account). Called for planning and again for execution of the same finding: cache inside.
   */
  servicesFor?: (finding: Finding) => S;
  /** The ceiling for every playbook. Default `dry-run`: nothing mutates unless you say `enforce`. */
  mode?: EngineMode;
  matcher?: MatcherOptions;
  /** The clock; tests pin it. */
  clock?: () => Date;
  /** Asked before each enforced step changes its target; a refusal reports the step `held`. */
  gate?: MutationGate;
}

export interface PlanOptions {
  /** Only these matching playbooks are planned (e.g. those that re-run on a re-published finding). */
  include?: (playbook: Playbook) => boolean;
  /** Only these planned steps are kept (e.g. the held steps a person approved). */
  only?: (step: PlannedStep) => boolean;
  /** A person approved the steps kept: those that need approval run instead of being held. */
  approved?: boolean;
}

export interface Engine {
  readonly mode: EngineMode;
  readonly playbooks: readonly Playbook[];
  /** Matching playbooks in priority order, each with the criteria that held. */
  match(finding: Finding): Promise<PlaybookMatch[]>;
  /** Every playbook, matched or with the first criterion that failed. */
  explain(finding: Finding): Promise<MatchExplanation[]>;
  /** Matches and plans: the exact calls each step would make. Read-only lookups only. */
  plan(finding: Finding, options?: PlanOptions): Promise<Plan>;
  /** Runs a plan. In dry-run (or for a playbook pinned to dry-run) it stops before the first mutating call. */
  execute(plan: Plan): Promise<Report>;
  /** plan + execute. */
  handle(finding: Finding, options?: PlanOptions): Promise<Report>;
  /** Normalizes any supported input (event, bare finding, ASFF) and handles each finding in it. */
  handleEvent(input: unknown): Promise<Report[]>;
}

/**
 * Builds an engine. Everything that can be wrong with the configuration is found here, at load,
 * not when the first finding arrives: unknown actions, bad params, dependency cycles.
 */
export const createEngine = <S>(options: EngineOptions<S>): Engine => {
  const mode = options.mode ?? 'dry-run';
  if (mode !== 'dry-run' && mode !== 'enforce') {
    throw new EngineConfigurationError(`mode must be "dry-run" or "enforce", not "${String(mode)}"`, {
      mode,
    });
  }
  const { registry } = options;
  const servicesFor = (finding: Finding): S => options.servicesFor?.(finding) ?? options.services;
  const clock = options.clock ?? (() => new Date());
  checkActions(options.playbooks, registry);
  const matcher = createMatcher(options.playbooks, options.matcher);
  // What a plan's steps share is handed on to its execution without becoming part of the plan.
  const responses = new WeakMap<Plan, ResponseLog>();

  const match = async (finding: Finding): Promise<PlaybookMatch[]> => {
    const matches = await matcher.match(finding);
    const specific = matches.filter((candidate) => !candidate.playbook.fallback);
    return specific.length > 0 ? specific : matches;
  };

  const plan = async (finding: Finding, planOptions: PlanOptions = {}): Promise<Plan> => {
    const now = clock();
    const services = servicesFor(finding);
    const shared = responseState();
    const include = planOptions.include ?? (() => true);
    const matches = (await match(finding)).filter(({ playbook }) => include(playbook));
    const planMatches: PlanMatch[] = matches.map(({ playbook, matched }) => ({
      playbook: playbook.name,
      mode: effectiveMode(mode, playbook),
      criteria: matched,
    }));
    const stepsPerPlaybook = await Promise.all(
      matches.map(({ playbook }, index) =>
        planPlaybook(playbook, planMatches[index]!, { finding, registry, services, now, shared }),
      ),
    );
    const only = planOptions.only ?? (() => true);
    const steps = stepsPerPlaybook.flat().filter(only);
    const kept = planOptions.only
      ? planMatches.filter((m) => steps.some((s) => s.playbook === m.playbook))
      : planMatches;
    const planned: Plan = {
      finding,
      mode,
      plannedAt: now.toISOString(),
      matches: kept,
      steps,
      ...(planOptions.approved ? { approved: true } : {}),
    };
    responses.set(planned, shared);
    return planned;
  };

  const execute = async (plan: Plan): Promise<Report> => {
    const startedAt = clock();
    const services = servicesFor(plan.finding);
    // A plan made elsewhere (read back, or built by hand) starts a response of its own.
    const shared = responses.get(plan) ?? responseState();
    const previous = new Map<string, StepSummary>();
    const steps: StepReport[] = [];
    // Playbooks run one after another in priority order, so two playbooks never race on one resource.
    for (const { playbook } of plan.matches) {
      const own = plan.steps.filter((step) => step.playbook === playbook);
      steps.push(
        ...(await executeSteps(
          own,
          {
            finding: plan.finding,
            registry,
            services,
            now: new Date(plan.plannedAt),
            clock,
            shared,
            approved: plan.approved === true,
            ...(options.gate ? { gate: options.gate } : {}),
          },
          previous,
        )),
      );
    }
    return buildReport(plan, steps, startedAt, clock());
  };

  const handle = async (finding: Finding, planOptions?: PlanOptions) =>
    execute(await plan(finding, planOptions));

  return {
    mode,
    playbooks: options.playbooks,
    match,
    explain: (finding) => matcher.explain(finding),
    plan,
    execute,
    handle,
    handleEvent: async (input) => Promise.all(normalize(input).map((finding) => handle(finding))),
  };
};

/** The response state as the engine holds it: the mutation log is appended to as steps finish. */
export type ResponseLog = ResponseState & { readonly mutations: CallRecord[] };

const responseState = (): ResponseLog => ({ values: new Map(), mutations: [] });

const checkActions = <S>(playbooks: readonly Playbook[], registry: ActionRegistry<S>): void => {
  const issues: ConfigurationIssue[] = [];
  const known = () =>
    registry
      .list()
      .map((action) => action.name)
      .join(', ');
  for (const playbook of playbooks) {
    for (const [index, step] of playbook.actions.entries()) {
      const definition = registry.get(step.action);
      if (!definition) {
        issues.push({
          ...step.location,
          message: `unknown action "${step.action}"; known actions: ${known()}`,
        });
        continue;
      }
      for (const problem of registry.validateParams(step.action, step.params)) {
        issues.push({
          ...step.location,
          pointer: `/actions/${index}/params${problem.pointer}`,
          message: problem.message,
        });
      }
    }
    const cycle = findCycle(
      stepDependencies(playbook.actions, (step) => registry.get(step.action)?.phase ?? 'notify'),
    );
    if (cycle) {
      issues.push({
        ...playbook.location,
        message: `steps depend on each other in a cycle: ${cycle.join(' -> ')}`,
      });
    }
  }
  if (issues.length > 0) throw new ActionConfigurationError(issues);
};

const findCycle = (dependsOn: Map<string, string[]>): string[] | undefined => {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    for (const next of dependsOn.get(id) ?? []) {
      const cycle = visit(next, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of dependsOn.keys()) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
};

/**
 * A notification goes out whatever else happened, so only the other steps say whether the response
 * applied, partly applied, or was held back.
 */
export const outcomeOf = (matched: number, steps: readonly StepReport[]): ReportOutcome => {
  if (matched === 0) return 'no-match';
  const count = (status: StepStatus) => steps.filter((step) => step.status === status).length;
  if (count('failed') > 0) return count('applied') > 0 ? 'partial' : 'failed';
  // Evidence kept and people told while containment waits (for approval, or the breaker) is held, not partial.
  const contained = steps.some(
    (step) => step.status === 'applied' && (step.phase === 'contain' || step.phase === 'revoke'),
  );
  if (count('held') > 0) return contained ? 'partial' : 'held';
  if (count('applied') > 0) return 'applied';
  if (count('dry-run') > 0) return 'dry-run';
  return 'nothing-to-do';
};

export const buildReport = (plan: Plan, steps: StepReport[], startedAt: Date, finishedAt: Date): Report => {
  const counts: Partial<Record<StepStatus, number>> = {};
  for (const step of steps) counts[step.status] = (counts[step.status] ?? 0) + 1;
  const { finding } = plan;
  return {
    findingId: finding.id,
    findingType: finding.type.name,
    severity: finding.severity,
    severityLabel: finding.severityLabel,
    accountId: finding.accountId,
    region: finding.region,
    mode: plan.mode,
    startedAt: startedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    matched: plan.matches,
    steps,
    outcome: outcomeOf(plan.matches.length, steps),
    counts,
    retryable: steps.some((step) => step.status === 'failed' && step.error?.retryable === true),
  };
};
