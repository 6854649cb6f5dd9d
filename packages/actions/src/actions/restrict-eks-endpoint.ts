import type { Cluster } from '@aws-sdk/client-eks';
import {
  type ActionContext,
  defineAction,
  defineInverse,
  type InverseContext,
  type JsonSchema,
  type PermissionGrant,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import { CLUSTER_ARNS, describeCluster, invalidClusterName } from '../eks.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { invalidAccount, invalidId, resolved, shown, targetOf } from '../targets.js';

export type RestrictEksEndpointParams = {
  /** Keep the public endpoint, reachable only from these CIDR blocks (never 0.0.0.0/0). */
  publicAccessCidrs?: string[];
  /** Turn the private endpoint on as well, so a cluster whose public endpoint goes off stays manageable. */
  enablePrivateAccess?: boolean;
};

type Context = ActionContext<RestrictEksEndpointParams, AwsServices>;

/** The cluster endpoint's access, as EKS reports it. */
export interface EndpointAccess {
  endpointPublicAccess: boolean;
  endpointPrivateAccess: boolean;
  publicAccessCidrs: string[];
}

/** The access before the change; `undefined` when planning could not read it. */
type State = EndpointAccess | undefined;

/** An IPv4 CIDR block with a prefix of 1 to 32 bits: `/0` (every address) is never a restriction. */
const CIDR =
  '^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])/(?:[1-9]|[12][0-9]|3[0-2])$';
const CIDR_RE = new RegExp(CIDR);

/** EKS takes at most 40 public access CIDR blocks. */
const MAX_CIDRS = 40;

const accessOf = (cluster: Cluster): EndpointAccess => {
  const vpc = cluster.resourcesVpcConfig ?? {};
  return {
    endpointPublicAccess: vpc.endpointPublicAccess === true,
    endpointPrivateAccess: vpc.endpointPrivateAccess === true,
    publicAccessCidrs: [...(vpc.publicAccessCidrs ?? [])].sort(),
  };
};

const sameCidrs = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((cidr, index) => cidr === [...b].sort()[index]);

/** Same access: both flags, and the CIDRs too where the public endpoint is on (EKS keeps them while it is off). */
const sameAccess = (a: EndpointAccess, b: EndpointAccess): boolean =>
  a.endpointPublicAccess === b.endpointPublicAccess &&
  a.endpointPrivateAccess === b.endpointPrivateAccess &&
  (!a.endpointPublicAccess || sameCidrs(a.publicAccessCidrs, b.publicAccessCidrs));

const describeAccess = (access: EndpointAccess): string =>
  `public endpoint ${
    access.endpointPublicAccess ? `on (${access.publicAccessCidrs.join(', ') || 'no CIDRs'})` : 'off'
  }, private endpoint ${access.endpointPrivateAccess ? 'on' : 'off'}`;

/** Why the params cannot be acted on (checked again here: an action is a library others call directly). */
const invalidParams = (params: RestrictEksEndpointParams): string | undefined => {
  const cidrs = params.publicAccessCidrs;
  if (cidrs === undefined) return undefined;
  if (cidrs.length === 0 || cidrs.length > MAX_CIDRS)
    return `publicAccessCidrs must list 1 to ${MAX_CIDRS} CIDR blocks`;
  const bad = cidrs.find((cidr) => !CIDR_RE.test(cidr));
  return bad === undefined
    ? undefined
    : `publicAccessCidrs holds ${shown(bad)}, which is not an IPv4 CIDR block narrower than /0`;
};

/** What the step sets: the public endpoint off (or limited to the CIDRs), the private one on if asked or already on. */
const desiredAccess = (params: RestrictEksEndpointParams, current: State): EndpointAccess => {
  const cidrs = params.publicAccessCidrs;
  return {
    endpointPublicAccess: cidrs !== undefined,
    endpointPrivateAccess: params.enablePrivateAccess === true || current?.endpointPrivateAccess === true,
    publicAccessCidrs: cidrs === undefined ? [] : [...cidrs].sort(),
  };
};

const invalidTarget = (ctx: Context): string | undefined => {
  const invalid =
    invalidClusterName(ctx.target.id) ?? invalidAccount(ctx.target, ctx.finding) ?? invalidParams(ctx.params);
  return invalid === undefined ? undefined : `${invalid}; nothing was looked up or changed`;
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const name = ctx.target.id;
  const answer = await describeCluster(ctx, session, name);
  if (answer.status === 'absent') return noOp(`EKS cluster ${name} no longer exists`);
  if (answer.status === 'unknown') return planned(undefined);
  const current = accessOf(answer.output);
  const cidrs = ctx.params.publicAccessCidrs;
  if (!current.endpointPublicAccess) return noOp(`the public endpoint of ${name} is already off`);
  if (cidrs !== undefined && sameCidrs(current.publicAccessCidrs, cidrs)) {
    return noOp(
      `the public endpoint of ${name} is already limited to ${current.publicAccessCidrs.join(', ')}`,
    );
  }
  if (cidrs === undefined && !current.endpointPrivateAccess && ctx.params.enablePrivateAccess !== true) {
    return refused(
      `turning the public endpoint of ${name} off would leave it without any endpoint (its private endpoint is off too), and the cluster unmanageable; set enablePrivateAccess: true to turn the private endpoint on with it, or give publicAccessCidrs; not changed`,
    );
  }
  return planned(current);
};

const vpcConfigOf = (access: EndpointAccess) => ({
  endpointPublicAccess: access.endpointPublicAccess,
  endpointPrivateAccess: access.endpointPrivateAccess,
  ...(access.endpointPublicAccess ? { publicAccessCidrs: access.publicAccessCidrs } : {}),
});

const mutations = (ctx: Context, state: State): Mutation<{ update?: { id?: string } }>[] => [
  mutation(ctx, 'eks', 'UpdateClusterConfig', {
    name: ctx.target.id,
    resourcesVpcConfig: vpcConfigOf(desiredAccess(ctx.params, state)),
  }),
];

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

/** What the inverse reads back: the cluster, its access before the step, and what the step set. */
export type RestrictEksEndpointUndo = {
  clusterName: string;
  previous: EndpointAccess;
  applied: EndpointAccess;
};

const ACCESS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['endpointPublicAccess', 'endpointPrivateAccess', 'publicAccessCidrs'],
  properties: {
    endpointPublicAccess: { type: 'boolean' },
    endpointPrivateAccess: { type: 'boolean' },
    // The previous CIDRs may be 0.0.0.0/0 (EKS's default): any IPv4 CIDR block.
    publicAccessCidrs: {
      type: 'array',
      maxItems: MAX_CIDRS,
      items: {
        type: 'string',
        pattern: CIDR.replace('(?:[1-9]|[12][0-9]|3[0-2])', '(?:[0-9]|[12][0-9]|3[0-2])'),
      },
    },
  },
};

const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clusterName', 'previous', 'applied'],
  properties: {
    clusterName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$' },
    previous: ACCESS_SCHEMA,
    applied: ACCESS_SCHEMA,
  },
};

const undoOf = (ctx: Context, state: State): RestrictEksEndpointUndo | { clusterName: string } =>
  state === undefined
    ? { clusterName: ctx.target.id }
    : { clusterName: ctx.target.id, previous: state, applied: desiredAccess(ctx.params, state) };

type UndoContext = InverseContext<RestrictEksEndpointUndo, AwsServices>;

const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'eks-cluster')
    return `the recorded target is a ${shown(target.kind)}, not an EKS cluster`;
  const invalid =
    invalidClusterName(state.clusterName) ??
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region);
  if (invalid !== undefined) return invalid;
  if (state.clusterName !== target.id) {
    return `the recorded cluster ${shown(state.clusterName)} is not the recorded target ${shown(target.id)}`;
  }
  if (state.previous.endpointPublicAccess === false && state.previous.endpointPrivateAccess === false) {
    return 'the recorded previous access has neither endpoint on, which EKS does not allow';
  }
  return undefined;
};

/** Restores only what Riposte set: the cluster's access must still be the step's. */
const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<null>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const { clusterName, previous, applied } = ctx.state;
  const answer = await describeCluster(ctx, session, clusterName);
  if (answer.status === 'unknown') return planned(null);
  if (answer.status === 'absent')
    return noOp(`EKS cluster ${clusterName} no longer exists; nothing to restore`);
  const current = accessOf(answer.output);
  if (sameAccess(current, previous)) {
    return noOp(
      `${clusterName} already has its endpoint access from before the response (${describeAccess(previous)})`,
    );
  }
  if (sameAccess(current, applied)) return planned(null);
  return refused(
    `the endpoint access of ${clusterName} changed since the response: it has ${describeAccess(current)}, neither Riposte's (${describeAccess(applied)}) nor the previous (${describeAccess(previous)}); not restored`,
  );
};

const undoMutations = (ctx: UndoContext): Mutation[] => [
  mutation(ctx, 'eks', 'UpdateClusterConfig', {
    name: ctx.state.clusterName,
    resourcesVpcConfig: vpcConfigOf(ctx.state.previous),
  }),
];

const undo = defineInverse<RestrictEksEndpointUndo, AwsServices>({
  summary:
    "Put the cluster endpoint's public and private access and public CIDRs back as they were (UpdateClusterConfig), only while they are still as Riposte set them.",
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: ['eks:DescribeCluster', 'eks:UpdateClusterConfig'],
  grants: () => [{ actions: ['eks:DescribeCluster', 'eks:UpdateClusterConfig'], resources: CLUSTER_ARNS }],
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

/**
 * Turning the public endpoint off is all the function may do with UpdateClusterConfig by default
 * (`eks:endpointPublicAccess` = false); limiting it to CIDRs keeps it on, so that grant has no condition.
 */
const grantsFor = (params: RestrictEksEndpointParams): PermissionGrant[] => [
  { actions: ['eks:DescribeCluster'], resources: CLUSTER_ARNS },
  params.publicAccessCidrs === undefined
    ? {
        actions: ['eks:UpdateClusterConfig'],
        resources: CLUSTER_ARNS,
        conditions: { Bool: { 'eks:endpointPublicAccess': 'false' } },
      }
    : { actions: ['eks:UpdateClusterConfig'], resources: CLUSTER_ARNS },
];

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, state: State, results: { update?: { id?: string } }[]) => ({
    clusterName: ctx.target.id,
    ...(state === undefined ? {} : { previous: state }),
    updateId: results[0]?.update?.id,
  }),
  undo: undoOf,
};

/**
 * Cuts the internet off the Kubernetes API of each EKS cluster the finding names: the public endpoint
 * goes off (or, with `publicAccessCidrs`, stays on for those blocks only). A cluster whose private
 * endpoint is off too is refused unless `enablePrivateAccess` turns it on with the change: with
 * neither endpoint it could not be managed at all. The update runs asynchronously in EKS (minutes).
 *
 * Undo: the previous access and CIDRs go back while the cluster is still as Riposte left it.
 */
export const restrictEksEndpoint = defineAction<RestrictEksEndpointParams, AwsServices>({
  name: 'restrict-eks-endpoint',
  summary:
    'Turn off the public endpoint of each EKS cluster the finding names, or limit it to the given CIDR blocks.',
  phase: 'contain',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      publicAccessCidrs: {
        type: 'array',
        description:
          'Keep the public endpoint on, reachable only from these IPv4 CIDR blocks (1-40; a /0 block is refused).',
        items: { type: 'string', pattern: CIDR },
        minItems: 1,
        maxItems: MAX_CIDRS,
        uniqueItems: true,
      },
      enablePrivateAccess: {
        type: 'boolean',
        description:
          'Turn the private endpoint on with the change; needed to turn the public endpoint off on a cluster whose private endpoint is off.',
      },
    },
    required: [],
  },
  permissions: ['eks:DescribeCluster', 'eks:UpdateClusterConfig'],
  grants: grantsFor,
  paramExamples: [{ publicAccessCidrs: ['203.0.113.0/24'] }, { enablePrivateAccess: true }],
  resourceKinds: ['eks-cluster'],
  example: ['- action: restrict-eks-endpoint', '  # params: { publicAccessCidrs: [203.0.113.0/24] }'].join(
    '\n',
  ),
  idempotency:
    'Skipped when the public endpoint is already off, or already limited to exactly the given CIDR blocks.',
  dryRun:
    "Refuses a malformed cluster name or CIDR; looks up the cluster's endpoint access (DescribeCluster), refusing to turn the public endpoint off while the private one is off unless enablePrivateAccess; lists UpdateClusterConfig with the new resourcesVpcConfig.",

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 'eks-cluster').map((cluster) =>
        targetOf(finding, 'eks-cluster', cluster.name, `EKS cluster ${cluster.name}`, {
          ...(cluster.arn === undefined ? {} : { arn: cluster.arn }),
        }),
      ),
      'the finding names no EKS cluster',
    ),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
