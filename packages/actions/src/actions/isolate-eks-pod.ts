import {
  type ActionContext,
  defineAction,
  defineInverse,
  type InverseContext,
  type JsonSchema,
  type KubernetesWorkloadResource,
  resourcesOfKind,
} from '@riposte/core';
import type { SdkCall } from '../call.js';
import type { AwsServices } from '../clients.js';
import { CLUSTER_ARNS, clusterNameOf, describeCluster, invalidClusterName } from '../eks.js';
import { eksToken, type KubernetesEndpoint, kubernetesCall, kubernetesRequest } from '../kubernetes.js';
import { type Session, scopeOf } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { invalidAccount, invalidId, resolved, shown, targetOf } from '../targets.js';

export type IsolateEksPodParams = {
  /** Must be `true`: the step changes state inside the cluster (a NetworkPolicy), not only in AWS. */
  confirm: boolean;
};

type Context = ActionContext<IsolateEksPodParams, AwsServices>;

/** The label that marks a NetworkPolicy as Riposte's, with the finding it answered. */
export const FINDING_ID_LABEL = 'riposte/finding-id';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'riposte' };
const NOT_FOUND = ['NotFound'];

/** Where the cluster's API server is: DescribeCluster's endpoint and CA. `undefined` in a plan without credentials. */
interface ClusterApi {
  clusterName: string;
  endpoint: string;
  caData: string;
}

interface Workload {
  clusterName: string;
  namespace: string;
  policyName: string;
  labels: Record<string, string>;
}

interface State extends Workload {
  api?: ClusterApi;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes access
// ---------------------------------------------------------------------------------------------

/** The API of the cluster, authenticated as the function (its credentials from the service bag's STS client). */
const connect = async (
  ctx: { services: AwsServices; target: { accountId: string; region: string } },
  partition: string,
  api: ClusterApi,
  now: Date,
): Promise<KubernetesEndpoint> => {
  const sts = await ctx.services.sts(scopeOf(ctx.target as never));
  const credentials = await sts.config.credentials();
  const token = await eksToken({
    clusterName: api.clusterName,
    region: ctx.target.region,
    partition,
    credentials,
    now,
  });
  return { endpoint: api.endpoint, caData: api.caData, token };
};

const policyPath = (namespace: string, name?: string): string =>
  `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies${
    name === undefined ? '' : `/${encodeURIComponent(name)}`
  }`;

type Kube = { services: AwsServices; target: { accountId: string; region: string } };

const readPolicy = (
  ctx: Kube,
  partition: string,
  now: Date,
  state: State & { api: ClusterApi },
): SdkCall<Record<string, unknown>> =>
  kubernetesCall(
    'ReadNamespacedNetworkPolicy',
    { clusterName: state.clusterName, namespace: state.namespace, name: state.policyName },
    false,
    async () =>
      kubernetesRequest(
        await connect(ctx, partition, state.api, now),
        'GET',
        policyPath(state.namespace, state.policyName),
      ),
  );

/** The deny-all policy: it selects the workload's pods and allows no ingress and no egress. */
const policyOf = (findingId: string, workload: Workload, now: Date) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: {
    name: workload.policyName,
    namespace: workload.namespace,
    labels: { ...MANAGED_BY, [FINDING_ID_LABEL]: findingId },
    annotations: { 'riposte/isolated-at': now.toISOString() },
  },
  spec: { podSelector: { matchLabels: workload.labels }, policyTypes: ['Ingress', 'Egress'] },
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a policy's spec is exactly the deny-all one for these labels. */
const sameSpec = (policy: Record<string, unknown>, labels: Record<string, string>): boolean => {
  const spec = isObject(policy.spec) ? policy.spec : {};
  const selector = isObject(spec.podSelector) ? spec.podSelector : {};
  const match = isObject(selector.matchLabels) ? selector.matchLabels : {};
  const types = Array.isArray(spec.policyTypes) ? [...spec.policyTypes].sort() : [];
  const empty = (rules: unknown) => rules === undefined || (Array.isArray(rules) && rules.length === 0);
  return (
    JSON.stringify(Object.entries(match).sort()) === JSON.stringify(Object.entries(labels).sort()) &&
    selector.matchExpressions === undefined &&
    JSON.stringify(types) === JSON.stringify(['Egress', 'Ingress']) &&
    empty(spec.ingress) &&
    empty(spec.egress)
  );
};

const findingIdOf = (policy: Record<string, unknown>): unknown => {
  const metadata = isObject(policy.metadata) ? policy.metadata : {};
  return isObject(metadata.labels) ? metadata.labels[FINDING_ID_LABEL] : undefined;
};

// ---------------------------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------------------------

const LABEL_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/** Why a label cannot go into a selector (Kubernetes' label syntax), or `undefined`. */
const invalidLabel = (key: string, value: unknown): string | undefined => {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && invalidId('kubernetes-name', prefix) !== undefined)
    return `label key ${shown(key)} has an invalid prefix`;
  if (!LABEL_NAME.test(name)) return `label key ${shown(key)} is not a Kubernetes label name`;
  return typeof value === 'string' && LABEL_VALUE.test(value)
    ? undefined
    : `label ${shown(key)} has an invalid value ${shown(value)}`;
};

const workloadOf = (ctx: Context): KubernetesWorkloadResource | undefined =>
  resourcesOfKind(ctx.finding, 'kubernetes-workload').find(
    (workload) => `${workload.namespace}/${workload.name}` === ctx.target.id,
  );

const invalidWorkload = (
  ctx: Context,
  workload: KubernetesWorkloadResource | undefined,
): string | Workload => {
  if (ctx.params.confirm !== true)
    return 'confirm: true is required: the step changes state inside the cluster';
  if (workload === undefined) return `the finding names no Kubernetes workload ${shown(ctx.target.id)}`;
  const clusterName = clusterNameOf(ctx.finding, workload.clusterName);
  if (clusterName === undefined)
    return `the finding names no EKS cluster for workload ${shown(ctx.target.id)}`;
  const invalid =
    invalidClusterName(clusterName) ??
    invalidAccount(ctx.target, ctx.finding) ??
    invalidId('kubernetes-namespace', workload.namespace) ??
    invalidId('kubernetes-name', workload.name) ??
    (workload.uid === undefined ? undefined : invalidId('kubernetes-uid', workload.uid));
  if (invalid !== undefined) return invalid;
  if (workload.hostNetwork === true) {
    return `workload ${ctx.target.id} uses the host network: a NetworkPolicy does not apply to host-network pods, so it cannot be isolated this way (isolate its node instead)`;
  }
  const labels = Object.entries(workload.labels ?? {});
  if (labels.length === 0) {
    return `the finding gives no labels of workload ${ctx.target.id}: a NetworkPolicy selects pods by label, and an empty selector would isolate every pod of namespace ${workload.namespace}`;
  }
  const badLabel = labels
    .map(([key, value]) => invalidLabel(key, value))
    .find((problem) => problem !== undefined);
  if (badLabel !== undefined) return badLabel;
  const policyName = `riposte-isolate-${workload.uid ?? workload.name}`;
  if (policyName.length > 253)
    return `the policy name for ${shown(workload.name)} would exceed 253 characters`;
  return { clusterName, namespace: workload.namespace, policyName, labels: Object.fromEntries(labels) };
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const workload = invalidWorkload(ctx, workloadOf(ctx));
  if (typeof workload === 'string') return refused(`${workload}; nothing was looked up or changed`);
  const cluster = await describeCluster(ctx, session, workload.clusterName);
  if (cluster.status === 'absent') return noOp(`EKS cluster ${workload.clusterName} no longer exists`);
  if (cluster.status === 'unknown') return planned(workload);
  const endpoint = cluster.output.endpoint;
  const caData = cluster.output.certificateAuthority?.data;
  if (endpoint === undefined || caData === undefined || !endpoint.startsWith('https://')) {
    return refused(
      `cluster ${workload.clusterName} has no HTTPS API endpoint and CA yet (status ${shown(cluster.output.status)}); not changed`,
    );
  }
  const state = { ...workload, api: { clusterName: workload.clusterName, endpoint, caData } };
  const existing = await session.read(readPolicy(ctx, ctx.finding.partition, ctx.now, state), {
    key: `${workload.namespace}/${workload.policyName}`,
    found: (policy) =>
      `NetworkPolicy ${workload.namespace}/${workload.policyName} exists (finding ${String(findingIdOf(policy) ?? 'none')})`,
    absent: { codes: NOT_FOUND, summary: `no NetworkPolicy ${workload.namespace}/${workload.policyName}` },
  });
  if (existing.status === 'found') {
    if (sameSpec(existing.output, workload.labels)) {
      return noOp(
        `NetworkPolicy ${workload.namespace}/${workload.policyName} already isolates the workload's pods`,
      );
    }
    return refused(
      `NetworkPolicy ${workload.namespace}/${workload.policyName} exists with another spec; not changed`,
    );
  }
  return planned(state);
};

const mutations = (ctx: Context, state: State) => {
  const body = policyOf(ctx.finding.id, state, ctx.now);
  return [
    kubernetesCall(
      'CreateNamespacedNetworkPolicy',
      { clusterName: state.clusterName, namespace: state.namespace, body },
      true,
      async () => {
        if (state.api === undefined) throw new TypeError('the cluster API was not looked up');
        return kubernetesRequest(
          await connect(ctx, ctx.finding.partition, state.api, ctx.now),
          'POST',
          policyPath(state.namespace),
          body,
        );
      },
    ),
  ];
};

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

/** What the inverse reads back: the policy Riposte created, and the finding its label carries. */
export type IsolateEksPodUndo = {
  clusterName: string;
  namespace: string;
  policyName: string;
  findingId: string;
  /** The partition of the cluster's account (the STS endpoint of the token). */
  partition: string;
};

const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clusterName', 'namespace', 'policyName', 'findingId', 'partition'],
  properties: {
    clusterName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$' },
    namespace: { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$' },
    policyName: {
      type: 'string',
      maxLength: 253,
      pattern: '^riposte-isolate-[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$',
    },
    findingId: { type: 'string', pattern: '^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$' },
    partition: { type: 'string', enum: ['aws', 'aws-cn', 'aws-us-gov'] },
  },
};

type UndoContext = InverseContext<IsolateEksPodUndo, AwsServices>;

const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'kubernetes-workload')
    return `the recorded target is a ${shown(target.kind)}, not a Kubernetes workload`;
  return (
    invalidClusterName(state.clusterName) ??
    invalidId('kubernetes-namespace', state.namespace) ??
    invalidId('kubernetes-name', state.policyName) ??
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region) ??
    (target.id.startsWith(`${state.namespace}/`)
      ? undefined
      : `the recorded namespace ${shown(state.namespace)} is not the target's`)
  );
};

const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<ClusterApi | null>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const { clusterName, namespace, policyName, findingId, partition } = ctx.state;
  const cluster = await describeCluster(ctx, session, clusterName);
  if (cluster.status === 'absent')
    return noOp(`EKS cluster ${clusterName} no longer exists; nothing to remove`);
  if (cluster.status === 'unknown') return planned(null);
  const endpoint = cluster.output.endpoint;
  const caData = cluster.output.certificateAuthority?.data;
  if (endpoint === undefined || caData === undefined || !endpoint.startsWith('https://')) {
    return refused(`cluster ${clusterName} has no HTTPS API endpoint and CA; not changed`);
  }
  const api = { clusterName, endpoint, caData };
  const state = { clusterName, namespace, policyName, labels: {}, api };
  const existing = await session.read(readPolicy(ctx, partition, ctx.now, state), {
    key: `${namespace}/${policyName}`,
    found: (policy) =>
      `NetworkPolicy ${namespace}/${policyName} exists (finding ${String(findingIdOf(policy) ?? 'none')})`,
    absent: { codes: NOT_FOUND, summary: `no NetworkPolicy ${namespace}/${policyName}` },
  });
  if (existing.status === 'absent') return noOp(`NetworkPolicy ${namespace}/${policyName} is already gone`);
  if (existing.status === 'found' && findingIdOf(existing.output) !== findingId) {
    return refused(
      `NetworkPolicy ${namespace}/${policyName} is no longer Riposte's for finding ${findingId} (label ${FINDING_ID_LABEL}); left as it is`,
    );
  }
  return planned(api);
};

const undoMutations = (ctx: UndoContext, api: ClusterApi | null) => {
  const { clusterName, namespace, policyName, partition } = ctx.state;
  return [
    kubernetesCall(
      'DeleteNamespacedNetworkPolicy',
      { clusterName, namespace, name: policyName },
      true,
      async () => {
        if (api === null) throw new TypeError('the cluster API was not looked up');
        return kubernetesRequest(
          await connect(ctx, partition, api, ctx.now),
          'DELETE',
          policyPath(namespace, policyName),
        );
      },
    ),
  ];
};

const undo = defineInverse<IsolateEksPodUndo, AwsServices>({
  summary:
    "Delete the deny-all NetworkPolicy the step created (DELETE through the cluster's Kubernetes API), only while its riposte/finding-id label still names the finding.",
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: ['eks:DescribeCluster'],
  grants: () => [{ actions: ['eks:DescribeCluster'], resources: CLUSTER_ARNS }],
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, state: State) => ({
    clusterName: state.clusterName,
    namespace: state.namespace,
    networkPolicy: state.policyName,
  }),
  undo: (ctx: Context, state: State): IsolateEksPodUndo => ({
    clusterName: state.clusterName,
    namespace: state.namespace,
    policyName: state.policyName,
    findingId: ctx.finding.id,
    partition: ctx.finding.partition,
  }),
};

/**
 * Cuts a Kubernetes workload's pods off the network with a deny-all NetworkPolicy (Ingress and
 * Egress, no rules) that selects them by the workload's labels, in its namespace, named
 * `riposte-isolate-<uid or name>` and labelled `riposte/finding-id`. It changes state inside the
 * cluster, so a step must say `confirm: true`. The policy is enforced only where the cluster runs a
 * network policy engine (the VPC CNI's network policy agent, Calico, Cilium...).
 *
 * Refused: a host-network workload (NetworkPolicy does not apply to it), a workload the finding gives
 * no labels for (an empty selector would isolate the whole namespace).
 *
 * AWS grants only eks:DescribeCluster; inside the cluster, the function's IAM principal needs RBAC to
 * get, create and delete networkpolicies, which no IAM policy can grant. Give it an access entry with
 * the access policy `AmazonEKSEditPolicy` (namespace- or cluster-scoped), or bind a ClusterRole such as:
 *
 * ```yaml
 * apiVersion: rbac.authorization.k8s.io/v1
 * kind: ClusterRole
 * metadata: { name: riposte-isolate }
 * rules:
 *   - apiGroups: [networking.k8s.io]
 *     resources: [networkpolicies]
 *     verbs: [get, create, delete]
 * ```
 *
 * Undo: the policy is deleted while its label still names the finding.
 */
export const isolateEksPod = defineAction<IsolateEksPodParams, AwsServices>({
  name: 'isolate-eks-pod',
  summary:
    'Isolate the pods of each Kubernetes workload the finding names with a deny-all NetworkPolicy (needs confirm: true and RBAC on networkpolicies).',
  phase: 'contain',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      confirm: {
        type: 'boolean',
        const: true,
        description:
          'Must be true: the step creates a NetworkPolicy inside the cluster. The function needs Kubernetes RBAC to get, create and delete networkpolicies (e.g. AmazonEKSEditPolicy through an access entry).',
      },
    },
    required: ['confirm'],
  },
  permissions: ['eks:DescribeCluster'],
  grants: () => [{ actions: ['eks:DescribeCluster'], resources: CLUSTER_ARNS }],
  paramExamples: [{ confirm: true }],
  resourceKinds: ['kubernetes-workload'],
  example: ['- action: isolate-eks-pod', '  params: { confirm: true }'].join('\n'),
  idempotency:
    'Skipped when the NetworkPolicy riposte-isolate-<uid or name> already exists with the same deny-all spec.',
  dryRun:
    "Refuses a host-network or unlabelled workload; looks up the cluster's endpoint and CA (DescribeCluster) and the NetworkPolicy (Kubernetes GET); lists CreateNamespacedNetworkPolicy with the policy it would create.",

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 'kubernetes-workload').map((workload) =>
        targetOf(
          finding,
          'kubernetes-workload',
          `${workload.namespace}/${workload.name}`,
          `Kubernetes ${workload.type} ${workload.namespace}/${workload.name}`,
        ),
      ),
      'the finding names no Kubernetes workload',
    ),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
