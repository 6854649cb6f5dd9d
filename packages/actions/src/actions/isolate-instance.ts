import type { CreateSecurityGroupCommandOutput, Instance } from '@aws-sdk/client-ec2';
import { type ActionContext, resourcesOfKind } from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { executeAction, placeholder, planAction, type Session, scopeOf } from '../session.js';
import { instanceTarget, resolved } from '../targets.js';

export type IsolateInstanceParams = {
  /** Also isolate the instance whose credentials were stolen (it is not itself compromised). */
  includeCredentialSource?: boolean;
};

type Context = ActionContext<IsolateInstanceParams, AwsServices>;

export const QUARANTINE_GROUP_NAME = 'riposte-quarantine';
export const QUARANTINE_TAG = 'riposte:quarantine';
export const PREVIOUS_GROUPS_TAG = 'riposte:previous-security-groups';
const TAG_VALUE_MAX = 256;

interface NetworkInterface {
  id: string;
  groups: string[];
}

interface InstanceState {
  vpcId: string;
  interfaces: NetworkInterface[];
  /** Groups recorded by an earlier, interrupted isolation, by ENI. */
  recorded: Map<string, string>;
  /** The quarantine group of the VPC, when it exists. */
  groupId?: string;
}

/** `eni-1=sg-a,sg-b;eni-2=sg-c`, over as many tags as 256-character values need. */
export const previousGroupsTags = (groups: Map<string, string>): { Key: string; Value: string }[] => {
  const values: string[] = [];
  for (const entry of [...groups].map(([eni, ids]) => `${eni}=${ids}`)) {
    const last = values.at(-1);
    if (last !== undefined && last.length + 1 + entry.length <= TAG_VALUE_MAX)
      values[values.length - 1] = `${last};${entry}`;
    else values.push(entry);
  }
  return values.map((Value, index) => ({
    Key: index === 0 ? PREVIOUS_GROUPS_TAG : `${PREVIOUS_GROUPS_TAG}:${index + 1}`,
    Value,
  }));
};

const recordedGroups = (instance: Instance): Map<string, string> => {
  const text = (instance.Tags ?? [])
    .filter((tag) => tag.Key === PREVIOUS_GROUPS_TAG || tag.Key?.startsWith(`${PREVIOUS_GROUPS_TAG}:`))
    .sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? '', 'en', { numeric: true }))
    .map((tag) => tag.Value ?? '')
    .join(';');
  const recorded = new Map<string, string>();
  for (const entry of text.split(';')) {
    const [eni, ids] = entry.split('=');
    if (eni && ids !== undefined) recorded.set(eni, ids);
  }
  return recorded;
};

/**
 * The instance's interfaces and the VPC's quarantine group. Planning without credentials falls back
 * to the interfaces the finding lists, else a placeholder.
 */
const inspect = async (ctx: Context, session: Session): Promise<InstanceState | { reason: string }> => {
  const ec2 = await ctx.services.ec2(scopeOf(ctx.target));
  const { DescribeInstancesCommand, DescribeSecurityGroupsCommand } = await import('@aws-sdk/client-ec2');
  const instanceId = ctx.target.id;
  const input = { InstanceIds: [instanceId] };
  const read = await session.read({
    call: awsCall('EC2', 'DescribeInstances', input),
    send: () => ec2.send(new DescribeInstancesCommand(input)),
    key: instanceId,
    found: (output) => {
      const instance = output.Reservations?.[0]?.Instances?.[0];
      const interfaces = (instance?.NetworkInterfaces ?? [])
        .map((eni) => `${eni.NetworkInterfaceId} in ${(eni.Groups ?? []).map((g) => g.GroupId).join(',')}`)
        .join('; ');
      return `${instanceId} is ${instance?.State?.Name ?? 'unknown'} in ${instance?.VpcId ?? 'no VPC'}: ${interfaces}`;
    },
    absent: { codes: ['InvalidInstanceID.NotFound'], summary: `instance ${instanceId} does not exist` },
  });
  if (read.status === 'absent') return { reason: `instance ${instanceId} no longer exists` };

  let state: InstanceState;
  if (read.status === 'found') {
    const instance = read.output.Reservations?.[0]?.Instances?.[0];
    if (!instance) return { reason: `instance ${instanceId} no longer exists` };
    const status = instance.State?.Name;
    if (status === 'terminated' || status === 'shutting-down')
      return { reason: `instance ${instanceId} is ${status}` };
    if (!instance.VpcId) return { reason: `instance ${instanceId} is not in a VPC` };
    if (!instance.NetworkInterfaces?.length)
      return { reason: `instance ${instanceId} has no network interface` };
    state = {
      vpcId: instance.VpcId,
      interfaces: (instance.NetworkInterfaces ?? []).map((eni) => ({
        id: eni.NetworkInterfaceId ?? '',
        groups: (eni.Groups ?? []).map((group) => group.GroupId ?? ''),
      })),
      recorded: recordedGroups(instance),
    };
  } else {
    const named = resourcesOfKind(ctx.finding, 'instance').find((item) => item.instanceId === instanceId);
    const interfaces = (named?.networkInterfaces ?? []).map((eni) => ({
      id: eni.networkInterfaceId,
      groups: eni.securityGroups.map((group) => group.groupId),
    }));
    state = {
      vpcId: named?.vpcId ?? placeholder('VpcId', 'DescribeInstances'),
      interfaces:
        interfaces.length > 0
          ? interfaces
          : [{ id: placeholder('NetworkInterfaceId', 'DescribeInstances'), groups: [] }],
      recorded: new Map(),
    };
  }

  const groupInput = {
    Filters: [
      { Name: 'vpc-id', Values: [state.vpcId] },
      { Name: `tag:${QUARANTINE_TAG}`, Values: ['true'] },
    ],
  };
  const groups = await session.read({
    call: awsCall('EC2', 'DescribeSecurityGroups', groupInput),
    send: () => ec2.send(new DescribeSecurityGroupsCommand(groupInput)),
    key: state.vpcId,
    found: (output) =>
      output.SecurityGroups?.[0]?.GroupId
        ? `quarantine group ${output.SecurityGroups[0].GroupId} exists in ${state.vpcId}`
        : `no quarantine group in ${state.vpcId} yet`,
  });
  const groupId = groups.status === 'found' ? groups.output.SecurityGroups?.[0]?.GroupId : undefined;
  return groupId === undefined ? state : { ...state, groupId };
};

const ec2Of = (ctx: Context) => ctx.services.ec2(scopeOf(ctx.target));

const createGroup = (ctx: Context, vpcId: string): Mutation<CreateSecurityGroupCommandOutput> => {
  const input = {
    GroupName: QUARANTINE_GROUP_NAME,
    Description: 'Riposte quarantine: no inbound or outbound rules',
    VpcId: vpcId,
    TagSpecifications: [
      {
        ResourceType: 'security-group' as const,
        Tags: [
          { Key: QUARANTINE_TAG, Value: 'true' },
          { Key: 'Name', Value: QUARANTINE_GROUP_NAME },
        ],
      },
    ],
  };
  return mutation('EC2', 'CreateSecurityGroup', input, async () => {
    const { CreateSecurityGroupCommand } = await import('@aws-sdk/client-ec2');
    return (await ec2Of(ctx)).send(new CreateSecurityGroupCommand(input));
  });
};

/** A new group allows all outbound IPv4 traffic; the quarantine group must allow nothing. */
const revokeEgress = (ctx: Context, groupId: string): Mutation => {
  const input = {
    GroupId: groupId,
    IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
  };
  return mutation('EC2', 'RevokeSecurityGroupEgress', input, async () => {
    const { RevokeSecurityGroupEgressCommand } = await import('@aws-sdk/client-ec2');
    return (await ec2Of(ctx)).send(new RevokeSecurityGroupEgressCommand(input));
  });
};

const isIsolated = (eni: NetworkInterface, groupId: string): boolean =>
  eni.groups.length === 1 && eni.groups[0] === groupId;

/** Records the groups to restore (before anything moves), then moves each interface into quarantine. */
const moveInterfaces = (ctx: Context, state: InstanceState, groupId: string): Mutation[] => {
  const previous = new Map<string, string>();
  for (const eni of state.interfaces) {
    // An interface already in quarantine keeps what an earlier run recorded for it.
    const groups = isIsolated(eni, groupId) ? state.recorded.get(eni.id) : eni.groups.join(',');
    if (groups !== undefined) previous.set(eni.id, groups);
  }
  const tagInput = { Resources: [ctx.target.id], Tags: previousGroupsTags(previous) };
  const record = mutation('EC2', 'CreateTags', tagInput, async () => {
    const { CreateTagsCommand } = await import('@aws-sdk/client-ec2');
    return (await ec2Of(ctx)).send(new CreateTagsCommand(tagInput));
  });
  const moves = state.interfaces
    .filter((eni) => !isIsolated(eni, groupId))
    .map((eni) => {
      const input = { NetworkInterfaceId: eni.id, Groups: [groupId] };
      return mutation('EC2', 'ModifyNetworkInterfaceAttribute', input, async () => {
        const { ModifyNetworkInterfaceAttributeCommand } = await import('@aws-sdk/client-ec2');
        return (await ec2Of(ctx)).send(new ModifyNetworkInterfaceAttributeCommand(input));
      });
    });
  return [record, ...moves];
};

const alreadyIsolated = (ctx: Context, state: InstanceState): string | undefined => {
  const { groupId } = state;
  return groupId !== undefined && state.interfaces.every((eni) => isIsolated(eni, groupId))
    ? `every network interface of ${ctx.target.id} is already only in quarantine group ${groupId}`
    : undefined;
};

/**
 * Moves every network interface of the affected instance into a quarantine security group with no
 * rules (created once per VPC, tagged `riposte:quarantine=true`), after recording the previous
 * groups in the instance tag `riposte:previous-security-groups`. Caveat: security groups are
 * stateful, so connections already tracked (e.g. an open SSH session) persist until they time out;
 * untracked ones are cut at once. Pair with snapshot-volumes first, and stop the instance if a live
 * session must end now.
 */
export const isolateInstance: DocumentedAction<IsolateInstanceParams, AwsServices> = {
  name: 'isolate-instance',
  summary:
    'Move the affected instance into a no-rules quarantine security group, recording its previous groups in a tag. Tracked connections persist until they time out.',
  phase: 'contain',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      includeCredentialSource: {
        type: 'boolean',
        description: 'Also isolate the instance whose credentials were exfiltrated.',
        default: false,
      },
    },
  },
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeSecurityGroups',
    'ec2:CreateSecurityGroup',
    'ec2:RevokeSecurityGroupEgress',
    'ec2:CreateTags',
    'ec2:ModifyNetworkInterfaceAttribute',
  ],
  resourceKinds: ['instance'],
  example: ['- action: isolate-instance', '  # params: { includeCredentialSource: true }'].join('\n'),
  idempotency:
    'Skipped when every network interface of the instance is already only in the quarantine group.',
  dryRun:
    "Looks up the instance's interfaces and the VPC's quarantine group; lists CreateSecurityGroup and RevokeSecurityGroupEgress (first use in the VPC), CreateTags with the previous groups, and ModifyNetworkInterfaceAttribute per interface.",

  targets: (finding, params) =>
    resolved(
      resourcesOfKind(finding, 'instance')
        .filter((instance) => instance.role === 'resource' || params.includeCredentialSource === true)
        .map((instance) => instanceTarget(finding, instance)),
      params.includeCredentialSource === true
        ? 'the finding names no EC2 instance'
        : 'the finding names no affected EC2 instance (a credential-source instance is isolated only with includeCredentialSource: true)',
    ),

  plan: (ctx) =>
    planAction(async (session) => {
      const state = await inspect(ctx, session);
      if ('reason' in state) return { status: 'no-op', reason: state.reason, calls: [] };
      const done = alreadyIsolated(ctx, state);
      if (done) return { status: 'no-op', reason: done, calls: [] };
      const groupId = state.groupId ?? placeholder('GroupId', 'CreateSecurityGroup');
      const mutations = [
        ...(state.groupId === undefined ? [createGroup(ctx, state.vpcId), revokeEgress(ctx, groupId)] : []),
        ...moveInterfaces(ctx, state, groupId),
      ];
      return { status: 'planned', calls: mutations.map((item) => item.call) };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const state = await inspect(ctx, session);
      if ('reason' in state) return { status: 'skipped', reason: state.reason };
      const done = alreadyIsolated(ctx, state);
      if (done) return { status: 'skipped', reason: done };
      let groupId = state.groupId;
      if (groupId === undefined) {
        const created = await session.mutate(createGroup(ctx, state.vpcId));
        groupId = created.GroupId ?? '';
        await session.mutate(revokeEgress(ctx, groupId));
      }
      for (const item of moveInterfaces(ctx, state, groupId)) await session.mutate(item);
      return {
        status: 'applied',
        outputs: {
          quarantineGroupId: groupId,
          previousSecurityGroups: Object.fromEntries(state.interfaces.map((eni) => [eni.id, eni.groups])),
        },
      };
    }),
};
