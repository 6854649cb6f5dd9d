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
  /** `inverse`: records `{ tagged }` and undoes it; `none`: declares it has no inverse (with why). */
  undo?: 'inverse' | 'none';
}

/** The probe's inverse: removes the tag it recorded, or reports nothing to do once `restored` has it. */
const probeInverse = (name: string, journal: Journal, restored: Set<string>) => ({
  summary: `removes the tag ${name} added`,
  stateSchema: {
    type: 'object',
    properties: { tagged: { type: 'string', pattern: '^[a-z0-9-]+$' } },
    required: ['tagged'],
    additionalProperties: false,
  },
  permissions: ['ec2:DeleteTags'],
  grants: () => [{ actions: ['ec2:DeleteTags'], resources: ['arn:{partition}:ec2:*:{account}:instance/*'] }],
  plan: async ({ state }: { state: Record<string, unknown> }): Promise<ActionPlan> => {
    journal.entries.push(`plan undo ${name} ${String(state.tagged)}`);
    return restored.has(String(state.tagged))
      ? { status: 'no-op', reason: 'already restored', lookups: [], calls: [] }
      : {
          status: 'planned',
          lookups: [],
          calls: [
            { service: 'EC2', operation: 'DeleteTags', input: { Resources: [state.tagged] }, mutating: true },
          ],
        };
  },
  execute: async ({ state }: { state: Record<string, unknown> }): Promise<ActionOutcome> => {
    journal.entries.push(`undo ${name} ${String(state.tagged)}`);
    restored.add(String(state.tagged));
    return {
      status: 'applied',
      calls: [
        {
          service: 'EC2',
          operation: 'DeleteTags',
          input: { Resources: [state.tagged] },
          mutating: true,
          durationMs: 1,
          requestId: `req-undo-${name}`,
        },
      ],
    };
  },
});

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
  ...(options.undo === 'inverse' ? { undo: probeInverse(name, journal, new Set()) } : {}),
  ...(options.undo === 'none' ? { undo: { none: `${name} cannot be taken back` } } : {}),
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
        return {
          status: 'applied',
          calls: [{ ...call, requestId: `req-${name}` }],
          ...(options.undo === 'inverse' ? { undo: { tagged: target.id } } : {}),
        };
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
    validateUndoState: (name, state) => {
      const tagged = (state as Record<string, unknown> | null)?.tagged;
      return typeof tagged === 'string' && /^[a-z0-9-]+$/.test(tagged)
        ? []
        : [{ pointer: '/tagged', message: `${name}: must be a lowercase id` }];
    },
  };
};
