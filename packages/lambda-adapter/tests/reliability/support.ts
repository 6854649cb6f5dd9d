/**
 * The reliability suites' Lambda: the real handler, the real actions and SDK clients, talking to
 * fake-aws seeded with the canonical scenario; and the checks they share (scope, results).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { type AwsServicesOptions, createAwsServices } from '@riposte/actions';
import { type Finding, normalize, resourceIdentifiers } from '@riposte/core';
import {
  FAKE_CREDENTIALS,
  type FakeAccountState,
  type FakeAws,
  holdFindings,
  type RecordedCall,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import {
  createHandler,
  type FindingResult,
  type HandlerOptions,
  type HandlerResult,
} from '../../src/index.js';
import { captureLogs, type LogCapture, lambdaContext } from '../helpers/harness.js';

export { SCENARIO };

const SCENARIO_DIR = new URL('../../../../examples/scenario/findings/', import.meta.url);
const RULE_FINDINGS = new URL('../../../../rules/findings/', import.meta.url);

const readJson = (url: URL): Record<string, unknown> => JSON.parse(readFileSync(url, 'utf8'));

/** The canonical scenario's four EventBridge events, fresh copies. */
export const scenarioEvents = (): Record<string, unknown>[] =>
  readdirSync(SCENARIO_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => readJson(new URL(name, SCENARIO_DIR)));

/** The real-shaped events the shipped playbooks are tested with (rules/findings, samples excluded). */
export const ruleFindingEvents = (): Record<string, unknown>[] =>
  readdirSync(RULE_FINDINGS)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => readJson(new URL(name, RULE_FINDINGS)))
    // GuardDuty's own form only: the Security Hub copies (ASFF) and a GetFindings response are the same
    // findings in other shapes, which GuardDuty itself does not hold.
    .filter(
      (input) => typeof ((input.detail as Record<string, unknown> | undefined) ?? input).arn === 'string',
    );

export interface Lambda {
  fake: FakeAws;
  handler: ReturnType<typeof createHandler>;
  logs: LogCapture;
  invoke(event: unknown, requestId?: string): Promise<Invocation>;
}

export type Invocation =
  | { ok: true; response: HandlerResult }
  | { ok: false; error: unknown; results: FindingResult[] | undefined };

/** The results an invocation answered with, or carried in the error it threw on purpose. */
export const resultsOf = (invocation: Invocation): FindingResult[] | undefined => {
  if (!invocation.ok) return invocation.results;
  const { response } = invocation;
  return 'results' in response ? response.results : response.records.flatMap((record) => record.results);
};

/** AWS clients of the handler: pointed at the fake, with the fake's keys unless a member role gives others. */
export const fakeServices =
  (fake: FakeAws, clientConfig: AwsServicesOptions['clientConfig'] = {}) =>
  (options: AwsServicesOptions) =>
    createAwsServices({
      ...options,
      clientConfig: { endpoint: fake.url, ...clientConfig },
      credentialsFor: options.credentialsFor ?? (() => async () => ({ ...FAKE_CREDENTIALS })),
    });

/**
 * A handler in enforce mode over the shipped (bundled) playbooks, its clients on a fresh fake-aws
 * holding the scenario's account; logs captured.
 */
export const startLambda = async (
  options: {
    env?: Record<string, string>;
    handler?: Partial<HandlerOptions>;
    clientConfig?: AwsServicesOptions['clientConfig'];
    fake?: FakeAws;
  } = {},
): Promise<Lambda> => {
  const fake = options.fake ?? (await startFakeAws({ seed: scenarioSeed() }));
  // GuardDuty holds the scenario's and the rules' findings; mutated copies of them are forgeries.
  holdFindings(fake.state, [...scenarioEvents(), ...ruleFindingEvents()]);
  const logs = captureLogs();
  const handler = createHandler({
    metricsOutput: () => undefined,
    env: { RIPOSTE_MODE: 'enforce', RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn, ...options.env },
    createServices: fakeServices(fake, options.clientConfig),
    logDestination: logs.destination,
    ...options.handler,
  });
  // A container initialises before its first event (identity included), as Lambda's init phase does.
  await handler.ready.catch(() => undefined);
  let invocations = 0;
  return {
    fake,
    handler,
    logs,
    invoke: async (event, requestId) => {
      invocations += 1;
      const context = lambdaContext(SCENARIO.accountId, {
        awsRequestId: requestId ?? `0f6e2c1a-0000-4000-8000-${String(invocations).padStart(12, '0')}`,
      });
      try {
        return { ok: true, response: await handler(event, context) };
      } catch (error) {
        const details = (error as { details?: { results?: FindingResult[] } }).details;
        return { ok: false, error, results: details?.results };
      }
    },
  };
};

// ---- scope ---------------------------------------------------------------------------------------

/** Filters whose values name resources (not tag keys or states). */
const ID_FILTERS = new Set([
  'instance-id',
  'resource-id',
  'volume-id',
  'group-id',
  'network-interface-id',
  'snapshot-id',
]);
/** Parameters that name a resource, per service. */
const ID_PARAMS = new Set([
  'InstanceId',
  'InstanceIds',
  'AssociationId',
  'ResourceId',
  'RoleName',
  'UserName',
  'AccessKeyId',
  'Bucket',
  'GroupId',
  'GroupIds',
  'NetworkInterfaceId',
  'VolumeId',
  'SnapshotId',
  'SnapshotIds',
  'InstanceProfileName',
]);

const strings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.flatMap(strings) : [];

/** The resource identifiers a recorded call names, wherever the SDK put them. */
export const namedResources = (call: RecordedCall): string[] => {
  const found: string[] = [];
  const visit = (node: unknown, key: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, key);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.Name === 'string' && 'Value' in record) {
      if (ID_FILTERS.has(record.Name)) found.push(...strings(record.Value));
      return;
    }
    for (const [name, value] of Object.entries(record)) {
      if (ID_PARAMS.has(name)) found.push(...strings(value));
      else visit(value, name);
    }
  };
  visit(call.params, undefined);
  // A trail is named by `Name`, which other services use for other things.
  if (call.service === 'CloudTrail' && typeof call.params.Name === 'string') found.push(call.params.Name);
  return found;
};

/**
 * Everything a response to `finding` may touch: what the finding names, what the account says those
 * resources are attached to (associations, interfaces, volumes, the profile's role), and what this
 * response created (quarantine groups, snapshots).
 */
export const allowedResources = (
  finding: Finding,
  before: Snapshot,
  after: FakeAccountState,
): Set<string> => {
  const allowed = new Set<string>();
  for (const resource of finding.resources) {
    for (const id of resourceIdentifiers(resource)) allowed.add(id);
    if (resource.kind === 'instance') {
      for (const eni of resource.networkInterfaces) allowed.add(eni.networkInterfaceId);
      for (const group of resource.securityGroups) allowed.add(group.groupId);
      // The profile the finding says the instance has, and the role in it.
      const profileName = resource.instanceProfile?.arn?.split(':instance-profile/')[1]?.split('/').at(-1);
      if (profileName) {
        allowed.add(profileName);
        for (const role of before.instanceProfiles.get(profileName)?.roleNames ?? []) allowed.add(role);
      }
      const instance = before.instances.get(resource.instanceId);
      if (finding.accountId === before.accountId && instance) {
        for (const id of [...instance.networkInterfaceIds, ...instance.volumeIds]) allowed.add(id);
        for (const [id, association] of before.associations) {
          if (association.instanceId === instance.instanceId) {
            allowed.add(id);
            const profile = [...before.instanceProfiles.values()].find(
              (candidate) => candidate.arn === association.instanceProfileArn,
            );
            for (const role of profile?.roleNames ?? []) allowed.add(role);
          }
        }
      }
    }
  }
  for (const id of after.securityGroups.keys()) if (!before.securityGroups.has(id)) allowed.add(id);
  for (const id of after.snapshots.keys()) if (!before.snapshots.has(id)) allowed.add(id);
  return allowed;
};

/** What the account held before a run, for telling derived and created resources apart. */
export type Snapshot = Pick<
  FakeAccountState,
  'accountId' | 'instances' | 'associations' | 'instanceProfiles' | 'securityGroups' | 'snapshots'
>;

export const snapshotOf = (state: FakeAccountState): Snapshot => ({
  accountId: state.accountId,
  instances: new Map(state.instances),
  associations: new Map(state.associations),
  instanceProfiles: new Map(state.instanceProfiles),
  securityGroups: new Map(state.securityGroups),
  snapshots: new Map(state.snapshots),
});

/** The findings of an event, as the handler reads them (none when it is not one). */
export const findingsOf = (event: unknown): Finding[] => {
  try {
    return normalize(event);
  } catch {
    return [];
  }
};

/** Every call (and report step) of a run that names a resource outside the finding's. */
export const outOfScope = (
  findings: Finding[],
  calls: RecordedCall[],
  results: FindingResult[],
  before: Snapshot,
  after: FakeAccountState,
): string[] => {
  const allowed = new Set(findings.flatMap((finding) => [...allowedResources(finding, before, after)]));
  const problems: string[] = [];
  for (const call of calls) {
    for (const id of namedResources(call)) {
      if (!allowed.has(id)) problems.push(`${call.service} ${call.operation} names ${id}`);
    }
  }
  for (const result of results) {
    for (const step of result.steps) {
      if (
        step.target &&
        !step.target.startsWith('finding ') &&
        ![...allowed].some((id) => step.target?.includes(id))
      ) {
        problems.push(`step ${step.key} targets ${step.target}`);
      }
    }
  }
  return problems;
};

/** Result codes the handler documents; INTERNAL_ERROR is a defect. */
export const RESULT_CODES = new Set([
  'HANDLED',
  'ALREADY_HANDLED',
  'IN_PROGRESS',
  'ACCOUNT_NOT_ALLOWED',
  'FINDING_UNVERIFIED',
  'VERIFICATION_FAILED',
  'FINDING_TOO_OLD',
  'FINDING_FROM_FUTURE',
  'ASSUME_ROLE_FAILED',
  'EVENT_UNSUPPORTED',
  'FINDING_UNSUPPORTED',
  'FINDING_INVALID',
  'BODY_INVALID',
  'IDEMPOTENCY_FAILED',
]);

/**
 * Changes to the account that succeeded, as `service operation target`, with how many times each
 * did. Notifications are left out: one per handling is their contract (notify's idempotency rule).
 */
export const successfulMutations = (fake: FakeAws): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const call of fake.mutatingCalls()) {
    if (call.status < 200 || call.status >= 300 || call.service === 'SNS' || call.service === 'Webhook')
      continue;
    const key = `${call.service} ${call.operation} ${namedResources(call).join(',')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
};
