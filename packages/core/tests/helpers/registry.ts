import {
  type ActionDefinition,
  type ActionOutcome,
  type ActionPhase,
  type ActionPlan,
  type ActionRegistry,
  type ActionTarget,
  awsErrorName,
  ExecutionError,
  type Finding,
  type ResourceKind,
} from '@riposte/core';

/**
 * Engine tests need actions whose behaviour they control: these follow the action contract exactly
 * (targets from the finding, read-only plan, execute as the only mutation) and record what ran.
 */
export interface Journal {
  entries: string[];
}

type Behaviour = 'apply' | 'fail-retryable' | 'fail' | 'throw' | 'skip';

export interface ProbeOptions {
  phase: ActionPhase;
  kind: ResourceKind | 'finding';
  behaviour?: Behaviour;
  /** Resolves when execute may finish: lets a test hold a step open to observe concurrency. */
  gate?: Promise<void>;
  /** Extra targets that the finding does NOT name, to exercise the engine's scope check. */
  foreignTarget?: boolean;
}

const targetsOf = (finding: Finding, kind: ResourceKind | 'finding'): ActionTarget[] => {
  const base = { accountId: finding.accountId, region: finding.region };
  if (kind === 'finding') return [{ ...base, kind, id: finding.id, label: `finding ${finding.id}` }];
  return finding.resources
    .filter((resource) => resource.kind === kind)
    .map((resource) => {
      const id =
        resource.kind === 'instance'
          ? resource.instanceId
          : resource.kind === 's3-bucket'
            ? resource.name
            : resource.kind === 'access-key'
              ? (resource.accessKeyId ?? '')
              : resource.kind === 'cloudtrail-trail'
                ? resource.name
                : '';
      return { ...base, kind, id, label: `${kind} ${id}` };
    });
};

export const probeAction = (
  name: string,
  journal: Journal,
  options: ProbeOptions,
): ActionDefinition<Record<string, unknown>, unknown> => ({
  name,
  summary: `test action ${name}`,
  phase: options.phase,
  paramsSchema: { type: 'object', properties: { note: { type: 'string' } }, additionalProperties: false },
  permissions: ['ec2:CreateTags'],
  grants: () => [{ actions: ['ec2:CreateTags'], resources: ['arn:{partition}:ec2:*:{account}:instance/*'] }],
  resourceKinds: [options.kind],
  example: `- action: ${name}`,
  idempotency: 'test action',
  targets: (finding) => {
    const targets = targetsOf(finding, options.kind);
    if (options.foreignTarget) {
      targets.push({
        kind: 'instance',
        id: 'i-0000000000000dead',
        accountId: finding.accountId,
        region: finding.region,
        label: 'instance i-0000000000000dead',
      });
    }
    return targets.length > 0 ? { targets } : { targets, reason: `the finding names no ${options.kind}` };
  },
  plan: async ({ target }): Promise<ActionPlan> => {
    journal.entries.push(`plan ${name} ${target.id}`);
    if (options.behaviour === 'throw') throw new Error(`planning ${name} exploded`);
    return {
      status: 'planned',
      lookups: [],
      calls: [{ service: 'EC2', operation: 'CreateTags', input: { Resources: [target.id] }, mutating: true }],
    };
  },
  execute: async ({ target, previous }): Promise<ActionOutcome> => {
    journal.entries.push(`start ${name} ${target.id}`);
    await options.gate;
    journal.entries.push(`end ${name} ${target.id} after [${[...previous.keys()].join(',')}]`);
    const call = {
      service: 'EC2',
      operation: 'CreateTags',
      input: { Resources: [target.id] },
      mutating: true,
      durationMs: 1,
    };
    switch (options.behaviour ?? 'apply') {
      case 'apply':
        return { status: 'applied', calls: [{ ...call, requestId: `req-${name}` }] };
      case 'skip':
        return { status: 'skipped', reason: 'already done', calls: [] };
      case 'fail-retryable':
        return {
          status: 'failed',
          calls: [{ ...call, errorCode: 'RequestLimitExceeded' }],
          error: new ExecutionError(awsErrorName('RequestLimitExceeded'), 'slow down', { retryable: true }),
        };
      case 'fail':
        return {
          status: 'failed',
          calls: [{ ...call, errorCode: 'UnauthorizedOperation' }],
          error: new ExecutionError(awsErrorName('UnauthorizedOperation'), 'not allowed'),
        };
      case 'throw':
        throw new Error('unreachable');
    }
  },
});

export const registryOf = (actions: ActionDefinition<Record<string, unknown>, unknown>[]): ActionRegistry => {
  const byName = new Map(actions.map((action) => [action.name, action]));
  return {
    get: (name) => byName.get(name),
    list: () => [...byName.values()],
    validateParams: (name, params) => {
      const allowed = new Set(['note']);
      return Object.keys((params as Record<string, unknown>) ?? {})
        .filter((key) => !allowed.has(key))
        .map((key) => ({ pointer: '', message: `${name} has unknown param "${key}"` }));
    },
  };
};
