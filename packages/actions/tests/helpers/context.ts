import type {
  ActionContext,
  ActionDefinition,
  ActionPlan,
  ActionTarget,
  CallRecord,
  EngineMode,
  Finding,
  ResponseState,
  StepSummary,
} from '@riposte/core';
import { expect } from 'vitest';
import { type AwsServices, createAwsServices } from '../../src/clients.js';

/** The moment of the response in every action test: after the samples' last update (2022-01-28T21:12:25Z). */
export const NOW = new Date('2022-01-28T21:30:00.000Z');

export interface ContextOptions<P> {
  params?: P;
  target?: ActionTarget;
  services?: AwsServices;
  env?: Record<string, string | undefined>;
  mode?: EngineMode;
  previous?: Map<string, StepSummary>;
  maxTargets?: number;
  /** The response the step belongs to (see `responseState`); none: the action runs on its own. */
  shared?: ResponseState;
}

/** The context an engine would build for the action's first target in the finding. */
export const contextFor = <P>(
  action: ActionDefinition<P, AwsServices>,
  finding: Finding,
  options: ContextOptions<P> = {},
): ActionContext<P, AwsServices> => {
  const params = options.params ?? ({} as P);
  const target = options.target ?? action.targets(finding, params).targets[0];
  if (!target) throw new Error(`${action.name} has no target in ${finding.type.name}`);
  return {
    finding,
    target,
    params,
    services: options.services ?? createAwsServices({ env: options.env ?? {} }),
    mode: options.mode ?? 'enforce',
    now: NOW,
    playbook: 'instance-credential-exfiltration',
    stepId: action.name,
    previous: options.previous ?? new Map(),
    limits: { maxTargets: options.maxTargets ?? 5 },
    ...(options.shared ? { shared: options.shared } : {}),
  };
};

/** What the engine shares between the steps of one response: a fresh one per response. */
export const responseState = (): ResponseState & { mutations: CallRecord[] } => ({
  values: new Map(),
  mutations: [],
});

/** What the SDK throws when no credential provider in the chain has credentials. */
export const credentialsError = (): Error =>
  Object.assign(new Error('Could not load credentials from any providers'), {
    name: 'CredentialsProviderError',
  });

/** What these helpers read of a client mock (`mockClient(EC2Client)`, ...): the commands it received. */
export interface CommandLog {
  calls(): { args: readonly unknown[] }[];
}

/** The class names of every command the mocks received, in order. */
export const sentCommands = (...mocks: CommandLog[]): string[] =>
  mocks.flatMap((mock) => mock.calls().map((call) => (call.args[0] as object).constructor.name));

/**
 * An action refusing a forged instance id: planning refuses before any lookup, executing anyway fails
 * with REFUSED, and no command reaches the mocked client.
 */
export const expectRefusedInstanceId = async <P>(
  action: ActionDefinition<P, AwsServices>,
  finding: Finding,
  mock: CommandLog,
): Promise<ActionPlan> => {
  const ctx = contextFor(action, finding);

  const plan = await action.plan(ctx);
  const outcome = await action.execute(ctx, plan);

  expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
  expect(plan.reason).toContain('is not a valid EC2 instance id');
  expect(plan.reason).not.toContain('\n');
  expect(outcome).toMatchObject({
    status: 'failed',
    calls: [],
    error: { code: 'REFUSED', retryable: false },
  });
  expect(sentCommands(mock)).toEqual([]);
  return plan;
};
