import type {
  CreateSecurityGroupCommandOutput,
  Instance,
  IpPermission,
  SecurityGroup,
} from '@aws-sdk/client-ec2';
import {
  type ActionContext,
  type ActionTarget,
  defineAction,
  defineInverse,
  type InverseContext,
  type PermissionGrant,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { readTargetInstance } from '../instance-read.js';
import { type ExecSession, placeholder, type Session } from '../session.js';
import {
  executeInspected,
  type Inspection,
  inverseWith,
  type NoOp,
  noOp,
  planned,
  planWith,
  type Refusal,
  refused,
} from '../step.js';
import type { Tag } from '../tags.js';
import { foreignNote, instanceTarget, invalidId, ownedBy, refusal, resolved, shown } from '../targets.js';

export type IsolateInstanceParams = {
  /** Also isolate the instance whose credentials were stolen (it is not itself compromised). */
  includeCredentialSource?: boolean;
  /** Use this security group (in the instance's VPC, with no rules at all) instead of Riposte's own. */
  quarantineGroupId?: string;
};

type Context = ActionContext<IsolateInstanceParams, AwsServices>;

/** Riposte's own quarantine group is `riposte-quarantine-<vpc id>`, one per VPC. */
export const QUARANTINE_GROUP_NAME = 'riposte-quarantine';
export const quarantineGroupName = (vpcId: string): string => `${QUARANTINE_GROUP_NAME}-${vpcId}`;
export const QUARANTINE_TAG = 'riposte:quarantine';
export const PREVIOUS_GROUPS_TAG = 'riposte:previous-security-groups';
const TAG_VALUE_MAX = 256;
const GROUP_ABSENT = ['InvalidGroup.NotFound', 'InvalidGroupId.NotFound'];

/** What reading needs: the service bag and the target (an action's context, or an inverse's). */
type Reader = { services: AwsServices; target: ActionTarget };

interface NetworkInterface {
  id: string;
  groups: string[];
}

interface InstanceState {
  vpcId: string;
  interfaces: NetworkInterface[];
  /** Groups recorded by an earlier, interrupted isolation, by ENI. */
  recorded: Map<string, string>;
}

/** The group the interfaces go into: one that was checked to have no rules (or pinned, offline), or a new one. */
type GroupChoice = { kind: 'use'; groupId: string } | { kind: 'create' };

/** What isolating builds on: the instance as read, and the quarantine group it goes into. */
type State = { instance: InstanceState; group: GroupChoice };

const SECURITY_GROUPS = 'arn:{partition}:ec2:*:{account}:security-group/*';

/**
 * Creating Riposte's own quarantine group in a VPC: the group (tagged only as it is created) and its
 * egress revoked only while it carries `riposte:quarantine=true`. Not needed with a pinned group.
 */
export const QUARANTINE_GROUP_GRANTS: PermissionGrant[] = [
  {
    actions: ['ec2:CreateSecurityGroup'],
    resources: [SECURITY_GROUPS, 'arn:{partition}:ec2:*:{account}:vpc/*'],
  },
  {
    actions: ['ec2:CreateTags'],
    resources: [SECURITY_GROUPS],
    conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } },
  },
  {
    actions: ['ec2:RevokeSecurityGroupEgress'],
    resources: [SECURITY_GROUPS],
    conditions: { StringEquals: { [`aws:ResourceTag/${QUARANTINE_TAG}`]: 'true' } },
  },
];

/**
 * The reads support no resource-level permissions. The instance may be tagged only with the
 * previous-groups record; an interface may be moved (the interface, its instance, subnet and groups
 * are authorised). Riposte's own group is created (in a VPC of the account), tagged only as it is
 * created (`ec2:CreateAction`), and its egress revoked only while it carries `riposte:quarantine=true`,
 * so no other group's rules can be touched. A pinned `quarantineGroupId` is only verified and used,
 * never created or changed: then none of those three is granted.
 */
const grantsFor = (params: IsolateInstanceParams): PermissionGrant[] => [
  { actions: ['ec2:DescribeInstances', 'ec2:DescribeSecurityGroups'], resources: ['*'] },
  {
    actions: ['ec2:CreateTags'],
    resources: ['arn:{partition}:ec2:*:{account}:instance/*'],
    conditions: {
      'ForAllValues:StringLike': { 'aws:TagKeys': [PREVIOUS_GROUPS_TAG, `${PREVIOUS_GROUPS_TAG}:*`] },
    },
  },
  {
    actions: ['ec2:ModifyNetworkInterfaceAttribute'],
    resources: [
      'arn:{partition}:ec2:*:{account}:network-interface/*',
      'arn:{partition}:ec2:*:{account}:instance/*',
      'arn:{partition}:ec2:*:{account}:subnet/*',
      SECURITY_GROUPS,
    ],
  },
  ...(params.quarantineGroupId === undefined ? QUARANTINE_GROUP_GRANTS : []),
];

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
    // Anyone who can tag the instance can write this tag: only well-formed ids are carried over.
    const valid =
      invalidId('network-interface-id', eni) === undefined &&
      ids !== undefined &&
      ids.split(',').every((id) => invalidId('security-group-id', id) === undefined);
    if (eni && ids !== undefined && valid) recorded.set(eni, ids);
  }
  return recorded;
};

/** Why this target or these params cannot be acted on at all: checked before any call is sent. */
const invalidTarget = (ctx: Context): string | undefined => {
  const invalid =
    invalidId('instance-id', ctx.target.id) ??
    (ctx.params.quarantineGroupId === undefined
      ? undefined
      : invalidId('security-group-id', ctx.params.quarantineGroupId));
  return invalid === undefined ? undefined : `${invalid}; nothing was looked up or changed`;
};

/**
 * The instance's VPC and interfaces, read by its id; only the instance whose id is exactly the
 * target's counts, and each of its interfaces must be a well-formed ENI in the instance's VPC.
 * Planning without credentials falls back to what the finding lists, else a placeholder.
 */
const readInstance = async (ctx: Context, session: Session): Promise<InstanceState | NoOp | Refusal> => {
  const instanceId = ctx.target.id;
  const answer = await readTargetInstance(ctx, session, (instance) => {
    const interfaces = (instance.NetworkInterfaces ?? [])
      .map((eni) => `${eni.NetworkInterfaceId} in ${(eni.Groups ?? []).map((g) => g.GroupId).join(',')}`)
      .join('; ');
    return `${instanceId} is ${instance.State?.Name ?? 'unknown'} in ${instance.VpcId ?? 'no VPC'}: ${interfaces}`;
  });
  if (answer.status === 'absent') return noOp(`instance ${instanceId} no longer exists`);

  if (answer.status === 'unknown') {
    const named = resourcesOfKind(ctx.finding, 'instance').find((item) => item.instanceId === instanceId);
    const interfaces = (named?.networkInterfaces ?? []).map((eni) => ({
      id: eni.networkInterfaceId,
      groups: eni.securityGroups.map((group) => group.groupId),
    }));
    const shownOffline = interfaces.every((eni) => invalidId('network-interface-id', eni.id) === undefined);
    return {
      vpcId:
        named?.vpcId !== undefined && invalidId('vpc-id', named.vpcId) === undefined
          ? named.vpcId
          : placeholder('VpcId', 'DescribeInstances'),
      interfaces:
        interfaces.length > 0 && shownOffline
          ? interfaces
          : [{ id: placeholder('NetworkInterfaceId', 'DescribeInstances'), groups: [] }],
      recorded: new Map(),
    };
  }

  const { instance } = answer;
  if (!instance) return noOp(`instance ${instanceId} no longer exists`);
  const status = instance.State?.Name;
  if (status === 'terminated' || status === 'shutting-down')
    return noOp(`instance ${instanceId} is ${status}`);
  if (!instance.VpcId) return noOp(`instance ${instanceId} is not in a VPC`);
  const invalidVpc = invalidId('vpc-id', instance.VpcId);
  if (invalidVpc) return refused(`instance ${instanceId}: ${invalidVpc}`);
  if (!instance.NetworkInterfaces?.length) return noOp(`instance ${instanceId} has no network interface`);
  for (const eni of instance.NetworkInterfaces) {
    const invalidEni = invalidId('network-interface-id', eni.NetworkInterfaceId);
    if (invalidEni) return refused(`instance ${instanceId}: ${invalidEni}`);
    // A multi-VPC attachment cannot take a group of the instance's VPC: refuse rather than half-isolate.
    if (eni.VpcId !== undefined && eni.VpcId !== instance.VpcId) {
      return refused(
        `network interface ${eni.NetworkInterfaceId} of ${instanceId} is in ${shown(eni.VpcId)}, not the instance's VPC ${instance.VpcId}; isolate-instance quarantines one VPC per instance`,
      );
    }
  }
  return {
    vpcId: instance.VpcId,
    interfaces: instance.NetworkInterfaces.map((eni) => ({
      id: eni.NetworkInterfaceId ?? '',
      groups: (eni.Groups ?? []).map((group) => group.GroupId ?? ''),
    })),
    recorded: recordedGroups(instance),
  };
};

const ruleCount = (group: SecurityGroup): { inbound: number; outbound: number } => ({
  inbound: (group.IpPermissions ?? []).length,
  outbound: (group.IpPermissionsEgress ?? []).length,
});

/** One security group, read by its id: the group itself (only if it is exactly that id), `absent`, or `undefined` offline. */
const readGroup = async (
  ctx: Reader,
  session: Session,
  groupId: string,
): Promise<SecurityGroup | 'absent' | undefined> => {
  const pick = (output: { SecurityGroups?: SecurityGroup[] }) =>
    ownedBy(output.SecurityGroups ?? [], (group) => group.GroupId, groupId);
  const answer = await session.read(read(ctx, 'ec2', 'DescribeSecurityGroups', { GroupIds: [groupId] }), {
    key: groupId,
    found: (output) => {
      const { owned, foreign } = pick(output);
      const [group] = owned;
      const found = group
        ? `${groupId} in ${group.VpcId ?? 'no VPC'}: ${ruleCount(group).inbound} inbound, ${ruleCount(group).outbound} outbound rule(s)`
        : `security group ${groupId} was not returned`;
      return `${found}${foreignNote(foreign, (item) => item.GroupId, 'other group(s)')}`;
    },
    absent: { codes: GROUP_ABSENT, summary: `security group ${groupId} does not exist` },
  });
  if (answer.status === 'unknown') return undefined;
  if (answer.status === 'absent') return 'absent';
  return pick(answer.output).owned[0] ?? 'absent';
};

/**
 * Whether a group may be used as a quarantine group: it is in the instance's VPC and has no
 * inbound and no outbound rule. A group that fails is refused with the reason; Riposte never
 * removes rules from a group it did not create in this run, and never uses such a group.
 * `unknown` only while planning without credentials.
 */
const verifyGroup = async (
  ctx: Context,
  session: Session,
  groupId: string,
  vpcId: string,
  what: string,
): Promise<{ status: 'verified' | 'unknown' } | Refusal> => {
  const group = await readGroup(ctx, session, groupId);
  if (group === undefined) return { status: 'unknown' };
  if (group === 'absent') return refused(`${what} ${groupId} does not exist`);
  if (group.VpcId !== vpcId) {
    return refused(
      `${what} ${groupId} is in ${shown(group.VpcId ?? 'no VPC')}, not the instance's VPC ${vpcId}`,
    );
  }
  const { inbound, outbound } = ruleCount(group);
  if (inbound > 0 || outbound > 0) {
    return refused(
      `${what} ${groupId} has ${inbound} inbound and ${outbound} outbound rule(s); a quarantine group must have none, so it is not used (Riposte does not change its rules: remove them, or delete the group, and run again)`,
    );
  }
  return { status: 'verified' };
};

/**
 * The quarantine group to use. Pinned by `quarantineGroupId`: that group, once verified. Otherwise
 * Riposte's own group of the VPC, found by its exact name and VPC (both from EC2, not from the
 * finding) and its `riposte:quarantine=true` tag, then verified like a pinned one; none yet means
 * one is created. A tag alone adopts nothing: anyone who can tag can forge it, which is why every
 * group is verified to have no rules at each use (an empty group is harmless by construction).
 */
const chooseGroup = async (
  ctx: Context,
  session: Session,
  state: InstanceState,
): Promise<GroupChoice | Refusal> => {
  const pinned = ctx.params.quarantineGroupId;
  if (pinned !== undefined) {
    const verified = await verifyGroup(ctx, session, pinned, state.vpcId, 'pinned quarantine group');
    return 'reason' in verified ? verified : { kind: 'use', groupId: pinned };
  }
  const name = quarantineGroupName(state.vpcId);
  const input = {
    Filters: [
      { Name: 'vpc-id', Values: [state.vpcId] },
      { Name: 'group-name', Values: [name] },
    ],
  };
  // Only a group of exactly that name in exactly that VPC counts, whatever else the answer holds.
  const split = (output: { SecurityGroups?: SecurityGroup[] }) => {
    const groups = output.SecurityGroups ?? [];
    const named = groups.filter((group) => group.GroupName === name && group.VpcId === state.vpcId);
    return { named, others: groups.filter((group) => !named.includes(group)) };
  };
  const answer = await session.read(read(ctx, 'ec2', 'DescribeSecurityGroups', input), {
    key: `${state.vpcId} ${name}`,
    found: (output) => {
      const { named, others } = split(output);
      const found =
        named.length === 0
          ? `no quarantine group ${name} in ${state.vpcId} yet`
          : `${name} is ${named.map((group) => group.GroupId).join(', ')}`;
      return `${found}${foreignNote(others, (group) => group.GroupId, 'group(s) of another name or VPC')}`;
    },
  });
  if (answer.status !== 'found') return { kind: 'create' };
  const [group] = split(answer.output).named;
  if (!group) return { kind: 'create' };
  const groupId = group.GroupId;
  const invalid = invalidId('security-group-id', groupId);
  if (invalid || groupId === undefined) return refused(`quarantine group ${name}: ${invalid}`);
  const tagged = (group.Tags ?? []).some((tag) => tag.Key === QUARANTINE_TAG && tag.Value === 'true');
  if (!tagged) {
    return refused(
      `security group ${groupId} is named ${name} but is not tagged ${QUARANTINE_TAG}=true, so Riposte did not create it and does not use it`,
    );
  }
  const verified = await verifyGroup(ctx, session, groupId, state.vpcId, 'quarantine group');
  return 'reason' in verified ? verified : { kind: 'use', groupId };
};

const isIsolated = (eni: NetworkInterface, groupId: string): boolean =>
  eni.groups.length === 1 && eni.groups[0] === groupId;

const nothingToDo = (ctx: Context, { instance, group }: State): string | undefined =>
  group.kind === 'use' && instance.interfaces.every((eni) => isIsolated(eni, group.groupId))
    ? `every network interface of ${ctx.target.id} is already only in quarantine group ${group.groupId}`
    : undefined;

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const instance = await readInstance(ctx, session);
  if ('reason' in instance) return instance;
  const group = await chooseGroup(ctx, session, instance);
  if ('reason' in group) return group;
  const reason = nothingToDo(ctx, { instance, group });
  return reason ? noOp(reason) : planned({ instance, group });
};

const createGroup = (ctx: Context, vpcId: string): Mutation<CreateSecurityGroupCommandOutput> => {
  const name = quarantineGroupName(vpcId);
  return mutation(ctx, 'ec2', 'CreateSecurityGroup', {
    GroupName: name,
    Description: 'Riposte quarantine: no inbound or outbound rules',
    VpcId: vpcId,
    TagSpecifications: [
      {
        ResourceType: 'security-group',
        Tags: [
          { Key: QUARANTINE_TAG, Value: 'true' },
          { Key: 'Name', Value: name },
        ],
      },
    ],
  });
};

/** An egress rule as RevokeSecurityGroupEgress takes it back: its protocol, ports and destinations only. */
const revocable = (permission: IpPermission): IpPermission => ({
  ...(permission.IpProtocol === undefined ? {} : { IpProtocol: permission.IpProtocol }),
  ...(permission.FromPort === undefined ? {} : { FromPort: permission.FromPort }),
  ...(permission.ToPort === undefined ? {} : { ToPort: permission.ToPort }),
  ...(permission.IpRanges?.length ? { IpRanges: permission.IpRanges.map(({ CidrIp }) => ({ CidrIp })) } : {}),
  ...(permission.Ipv6Ranges?.length
    ? { Ipv6Ranges: permission.Ipv6Ranges.map(({ CidrIpv6 }) => ({ CidrIpv6 })) }
    : {}),
  ...(permission.PrefixListIds?.length
    ? { PrefixListIds: permission.PrefixListIds.map(({ PrefixListId }) => ({ PrefixListId })) }
    : {}),
  ...(permission.UserIdGroupPairs?.length
    ? { UserIdGroupPairs: permission.UserIdGroupPairs.map(({ GroupId }) => ({ GroupId })) }
    : {}),
});

/**
 * A new group allows all outbound traffic (IPv4, and IPv6 in a dual-stack VPC); the quarantine group
 * must allow nothing, so every egress rule the new group was read to have is revoked.
 */
const revokeEgress = (ctx: Context, groupId: string, permissions: IpPermission[]): Mutation =>
  mutation(ctx, 'ec2', 'RevokeSecurityGroupEgress', { GroupId: groupId, IpPermissions: permissions });

/** The groups to restore, by ENI: those it is in now, or for one already in quarantine what an earlier run recorded. */
const previousGroups = (instance: InstanceState, groupId: string): Map<string, string> => {
  const previous = new Map<string, string>();
  for (const eni of instance.interfaces) {
    const groups = isIsolated(eni, groupId) ? instance.recorded.get(eni.id) : eni.groups.join(',');
    if (groups !== undefined) previous.set(eni.id, groups);
  }
  return previous;
};

/** Records the groups to restore (before anything moves), then moves each interface into quarantine. */
const moveInterfaces = (ctx: Context, instance: InstanceState, groupId: string): Mutation[] => {
  const previous = previousGroups(instance, groupId);
  return [
    mutation(ctx, 'ec2', 'CreateTags', { Resources: [ctx.target.id], Tags: previousGroupsTags(previous) }),
    ...instance.interfaces
      .filter((eni) => !isIsolated(eni, groupId))
      .map((eni) =>
        mutation(ctx, 'ec2', 'ModifyNetworkInterfaceAttribute', {
          NetworkInterfaceId: eni.id,
          Groups: [groupId],
        }),
      ),
  ];
};

/**
 * What a step records before it moves anything, for its inverse: per network interface the groups it
 * was in (for one already in quarantine, what an earlier run recorded; an interface with no record is
 * left out, as nothing says where it belongs), the quarantine group, and whether this step created it.
 */
export type IsolateInstanceUndo = {
  instanceId: string;
  quarantineGroupId: string;
  createdQuarantineGroup: boolean;
  interfaces: { networkInterfaceId: string; previousGroupIds: string[] }[];
};

const undoOf = (
  ctx: Context,
  instance: InstanceState,
  groupId: string,
  created: boolean,
): IsolateInstanceUndo => ({
  instanceId: ctx.target.id,
  quarantineGroupId: groupId,
  createdQuarantineGroup: created,
  interfaces: [...previousGroups(instance, groupId)].map(([networkInterfaceId, ids]) => ({
    networkInterfaceId,
    previousGroupIds: ids.split(','),
  })),
});

/**
 * The calls a plan lists: on first use in the VPC, creating the group and revoking its egress (with
 * what the new group will answer shown as placeholders), then recording and moving the interfaces.
 * Execute makes the same calls, with the new group's id and rules once it has them.
 */
const mutations = (ctx: Context, { instance, group }: State): Mutation[] => {
  if (group.kind === 'use') return moveInterfaces(ctx, instance, group.groupId);
  const groupId = placeholder('GroupId', 'CreateSecurityGroup');
  const egress = placeholder('IpPermissionsEgress', 'DescribeSecurityGroups') as unknown as IpPermission[];
  return [
    createGroup(ctx, instance.vpcId),
    revokeEgress(ctx, groupId, egress),
    ...moveInterfaces(ctx, instance, groupId),
  ];
};

/**
 * Creates Riposte's quarantine group for the VPC, revokes the egress rules AWS gives a new group,
 * and reads it again: the group is used only once it has no rule at all. What undo needs is recorded
 * as soon as the group exists, so a step that fails after creating it can still be undone.
 */
const createEmptyGroup = async (
  ctx: Context,
  session: ExecSession,
  instance: InstanceState,
): Promise<string> => {
  const { vpcId } = instance;
  const created = await session.mutate(createGroup(ctx, vpcId));
  const groupId = created.GroupId;
  const invalid = invalidId('security-group-id', groupId);
  if (invalid || groupId === undefined)
    return session.fail(refusal(`CreateSecurityGroup answered ${invalid}`));
  session.recordUndo(undoOf(ctx, instance, groupId, true));
  const group = await readGroup(ctx, session, groupId);
  const egress = typeof group === 'object' ? (group.IpPermissionsEgress ?? []) : [];
  if (egress.length > 0) await session.mutate(revokeEgress(ctx, groupId, egress.map(revocable)));
  const verified = await verifyGroup(ctx, session, groupId, vpcId, 'new quarantine group');
  if ('reason' in verified) session.fail(verified.error);
  return groupId;
};

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const ec2IdPattern = (prefix: string): string => `^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`;

/** History is read back from a table: every field is checked before the inverse reads it. */
const undoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['instanceId', 'quarantineGroupId', 'createdQuarantineGroup', 'interfaces'],
  properties: {
    instanceId: { type: 'string', pattern: ec2IdPattern('i') },
    quarantineGroupId: { type: 'string', pattern: ec2IdPattern('sg') },
    createdQuarantineGroup: { type: 'boolean' },
    interfaces: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['networkInterfaceId', 'previousGroupIds'],
        properties: {
          networkInterfaceId: { type: 'string', pattern: ec2IdPattern('eni') },
          // At most 16 security groups per network interface (the raised quota).
          previousGroupIds: {
            type: 'array',
            minItems: 1,
            maxItems: 16,
            uniqueItems: true,
            items: { type: 'string', pattern: ec2IdPattern('sg') },
          },
        },
      },
    },
  },
};

type InverseCtx = InverseContext<IsolateInstanceUndo, AwsServices>;

/** What undoing does, and what it leaves as it is and why. */
interface Restore {
  /** Interfaces still only in the quarantine group, with the groups they go back into. */
  interfaces: NetworkInterface[];
  /** The previous-groups tags still as the step wrote them: deleted only if their value still matches. */
  tags: Tag[];
  /** Whether the quarantine group this step created goes: nothing but the interfaces restored here uses it. */
  deleteGroup: boolean;
  /** What is left as it is, and why. */
  left: string[];
}

/**
 * Why the recorded state cannot be acted on, checked again before any call (the schema checked it
 * once): every id well-formed, the instance the recorded target, each interface named once.
 */
const invalidUndo = (ctx: InverseCtx): string | undefined => {
  const { target, state } = ctx;
  if (target.kind !== 'instance') return `the recorded target is a ${shown(target.kind)}, not an instance`;
  const invalid =
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region) ??
    invalidId('instance-id', target.id) ??
    invalidId('security-group-id', state.quarantineGroupId) ??
    state.interfaces
      .flatMap((eni) => [
        invalidId('network-interface-id', eni.networkInterfaceId),
        ...eni.previousGroupIds.map((id) => invalidId('security-group-id', id)),
      ])
      .find((problem) => problem !== undefined);
  if (invalid !== undefined) return invalid;
  if (state.instanceId !== target.id)
    return `the recorded instance ${shown(state.instanceId)} is not the target ${target.id}`;
  const ids = state.interfaces.map((eni) => eni.networkInterfaceId);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  return repeated === undefined ? undefined : `network interface ${repeated} is recorded twice`;
};

/** The instance's interfaces (by id) and tags now; `undefined` while planning without credentials. */
type Current = { interfaces: Map<string, string[]>; tags: Map<string, string>; gone?: string } | undefined;

const readCurrent = async (ctx: InverseCtx, session: Session): Promise<Current> => {
  const instanceId = ctx.target.id;
  const answer = await readTargetInstance(ctx, session, (instance) => {
    const interfaces = (instance.NetworkInterfaces ?? [])
      .map((eni) => `${eni.NetworkInterfaceId} in ${(eni.Groups ?? []).map((g) => g.GroupId).join(',')}`)
      .join('; ');
    return `${instanceId} is ${instance.State?.Name ?? 'unknown'}: ${interfaces || 'no network interface'}`;
  });
  if (answer.status === 'unknown') return undefined;
  const nothing = { interfaces: new Map<string, string[]>(), tags: new Map<string, string>() };
  const { instance } = answer.status === 'found' ? answer : { instance: undefined };
  if (!instance) return { ...nothing, gone: `instance ${instanceId} no longer exists` };
  const status = instance.State?.Name;
  if (status === 'terminated' || status === 'shutting-down')
    return { ...nothing, gone: `instance ${instanceId} is ${status}` };
  return {
    interfaces: new Map(
      (instance.NetworkInterfaces ?? []).map((eni) => [
        eni.NetworkInterfaceId ?? '',
        (eni.Groups ?? []).map((group) => group.GroupId ?? ''),
      ]),
    ),
    tags: new Map((instance.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
  };
};

const sameGroups = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((id) => b.includes(id));

/**
 * Whether the quarantine group goes: only one this step created, that still carries Riposte's name and
 * `riposte:quarantine=true` tag (so a forged record cannot have another group deleted), and that no
 * network interface uses but those about to be restored.
 */
const groupVerdict = async (
  ctx: InverseCtx,
  session: Session,
  restoring: ReadonlySet<string>,
): Promise<{ deleteGroup: boolean; left?: string; changed?: boolean }> => {
  const { quarantineGroupId: groupId, createdQuarantineGroup: created } = ctx.state;
  if (!created) return { deleteGroup: false };
  const group = await readGroup(ctx, session, groupId);
  if (group === 'absent') return { deleteGroup: false };
  if (group !== undefined) {
    const tagged = (group.Tags ?? []).some((tag) => tag.Key === QUARANTINE_TAG && tag.Value === 'true');
    const named = group.VpcId !== undefined && group.GroupName === quarantineGroupName(group.VpcId);
    if (!tagged || !named) {
      return {
        deleteGroup: false,
        changed: true,
        left: `security group ${groupId} is not named ${QUARANTINE_GROUP_NAME}-<vpc id> with the tag ${QUARANTINE_TAG}=true, so it is not deleted`,
      };
    }
  }
  const input = { Filters: [{ Name: 'group-id', Values: [groupId] }] };
  const split = (output: {
    NetworkInterfaces?: { NetworkInterfaceId?: string; Groups?: { GroupId?: string }[] }[];
  }) => {
    const enis = output.NetworkInterfaces ?? [];
    const users = enis.filter((eni) => (eni.Groups ?? []).some((item) => item.GroupId === groupId));
    return { users, others: enis.filter((eni) => !users.includes(eni)) };
  };
  const answer = await session.read(read(ctx, 'ec2', 'DescribeNetworkInterfaces', input), {
    key: groupId,
    found: (output) => {
      const { users, others } = split(output);
      const found =
        users.length === 0
          ? `no network interface uses ${groupId}`
          : `${groupId} is used by ${users.map((eni) => eni.NetworkInterfaceId).join(', ')}`;
      return `${found}${output.NextToken ? ' and more' : ''}${foreignNote(
        others,
        (eni) => eni.NetworkInterfaceId,
        'network interface(s) not in the group',
      )}`;
    },
  });
  if (answer.status !== 'found') return { deleteGroup: true };
  const users = split(answer.output).users.map((eni) => eni.NetworkInterfaceId ?? '(none)');
  const others = users.filter((id) => !restoring.has(id)).map(shown);
  // More than one page of users: some are not listed, so the group is in use.
  if (answer.output.NextToken) others.push('more network interfaces');
  if (others.length === 0) return { deleteGroup: true };
  return {
    deleteGroup: false,
    left: `quarantine group ${groupId} is still used by ${others.join(', ')}, so it is not deleted`,
  };
};

/**
 * Reads the instance as it is now and decides, per recorded interface: still only in the quarantine
 * group, it goes back; already in its previous groups, nothing to do; in other groups, or no longer
 * attached to the instance, it is left as it is and named. The previous-groups tags go if they still
 * hold what the step wrote, and the quarantine group if `groupVerdict` says so.
 */
const inspectUndo = async (ctx: InverseCtx, session: Session): Promise<Inspection<Restore>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`${invalid}; nothing was looked up or changed`);
  const { state } = ctx;
  const instanceId = ctx.target.id;
  const quarantine = state.quarantineGroupId;
  const current = await readCurrent(ctx, session);
  const left: string[] = current?.gone === undefined ? [] : [current.gone];
  let changed = false;

  const interfaces: NetworkInterface[] = [];
  for (const { networkInterfaceId: id, previousGroupIds: previous } of state.interfaces) {
    const groups = current === undefined ? [quarantine] : current.interfaces.get(id);
    if (groups === undefined) {
      if (current?.gone === undefined)
        left.push(`${id} is no longer attached to ${instanceId}, so it is not touched`);
    } else if (sameGroups(groups, previous)) {
      // Restored already.
    } else if (groups.length === 1 && groups[0] === quarantine) {
      interfaces.push({ id, groups: previous });
    } else {
      changed = true;
      left.push(
        `${id} is in ${groups.join(', ')} now, not only in quarantine group ${quarantine}: changed since, so it is left as it is`,
      );
    }
  }

  const written = previousGroupsTags(
    new Map(state.interfaces.map((eni) => [eni.networkInterfaceId, eni.previousGroupIds.join(',')])),
  );
  const tags: Tag[] = [];
  for (const tag of written) {
    const value = current === undefined ? tag.Value : current.tags.get(tag.Key);
    if (value === tag.Value) tags.push(tag);
    else if (value !== undefined) {
      changed = true;
      left.push(`tag ${tag.Key} of ${instanceId} was rewritten since, so it is left as it is`);
    }
  }

  const group = await groupVerdict(ctx, session, new Set(interfaces.map((eni) => eni.id)));
  if (group.left !== undefined) left.push(group.left);
  changed ||= group.changed === true;

  if (interfaces.length > 0 || tags.length > 0 || group.deleteGroup) {
    return planned({ interfaces, tags, deleteGroup: group.deleteGroup, left });
  }
  if (changed) return refused(`not restored: ${left.join('; ')}`);
  return noOp(
    left.length > 0
      ? `nothing left to restore on ${instanceId}: ${left.join('; ')}`
      : `${instanceId} is restored already: its recorded network interfaces are in their previous groups, and the previous-groups tags are gone`,
  );
};

/** Interfaces first, then the tags, then the group, which can only go once nothing uses it. */
const undoMutations = (ctx: InverseCtx, restore: Restore): Mutation[] => [
  ...restore.interfaces.map((eni) =>
    mutation(ctx, 'ec2', 'ModifyNetworkInterfaceAttribute', {
      NetworkInterfaceId: eni.id,
      Groups: eni.groups,
    }),
  ),
  // With each tag's value: EC2 deletes a tag only while it still holds that value.
  ...(restore.tags.length === 0
    ? []
    : [mutation(ctx, 'ec2', 'DeleteTags', { Resources: [ctx.target.id], Tags: restore.tags })]),
  ...(restore.deleteGroup
    ? [mutation(ctx, 'ec2', 'DeleteSecurityGroup', { GroupId: ctx.state.quarantineGroupId })]
    : []),
];

/** What stays as it is, named in the reason. */
const left = (restore: Restore): string | undefined =>
  restore.left.length === 0 ? undefined : restore.left.join('; ');

/**
 * The undo role's grants (people assume it to run `riposte undo`; the function's role never has
 * them): the reads, moving an interface, deleting only the previous-groups tags (`Null` keeps a
 * request without tag keys, which would delete every tag, out), and deleting only a group tagged
 * `riposte:quarantine=true`.
 */
const undoGrants = (): PermissionGrant[] => [
  {
    actions: ['ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups'],
    resources: ['*'],
  },
  {
    actions: ['ec2:ModifyNetworkInterfaceAttribute'],
    resources: [
      'arn:{partition}:ec2:*:{account}:network-interface/*',
      'arn:{partition}:ec2:*:{account}:instance/*',
      'arn:{partition}:ec2:*:{account}:subnet/*',
      SECURITY_GROUPS,
    ],
  },
  {
    actions: ['ec2:DeleteTags'],
    resources: ['arn:{partition}:ec2:*:{account}:instance/*'],
    conditions: {
      'ForAllValues:StringLike': { 'aws:TagKeys': [PREVIOUS_GROUPS_TAG, `${PREVIOUS_GROUPS_TAG}:*`] },
      Null: { 'aws:TagKeys': 'false' },
    },
  },
  {
    actions: ['ec2:DeleteSecurityGroup'],
    resources: [SECURITY_GROUPS],
    conditions: { StringEquals: { [`aws:ResourceTag/${QUARANTINE_TAG}`]: 'true' } },
  },
];

const undo = defineInverse<IsolateInstanceUndo, AwsServices>({
  summary:
    'Move each recorded network interface still only in the quarantine group back into its previous security groups, remove the previous-groups tags, and delete the quarantine group if this step created it and nothing else uses it.',
  stateSchema: undoSchema,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSecurityGroups',
    'ec2:ModifyNetworkInterfaceAttribute',
    'ec2:DeleteTags',
    'ec2:DeleteSecurityGroup',
  ],
  grants: undoGrants,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations, left }),
});

/**
 * Moves every network interface of the affected instance into a quarantine security group with no
 * rules, after recording the previous groups in the instance tag `riposte:previous-security-groups`.
 *
 * The quarantine group is either pinned by `quarantineGroupId` or Riposte's own: created by this
 * action as `riposte-quarantine-<vpc id>` with the tag `riposte:quarantine=true`, its default egress
 * revoked, then read again to check it has no rule. Any group is checked to have no inbound and no
 * outbound rule, and to be in the instance's VPC, each time it is about to be used; otherwise the step
 * is refused with the reason, and Riposte neither uses the group nor changes its rules. So a group an
 * attacker made and tagged (or named) like Riposte's is refused unless it is empty, and an empty group
 * is harmless by construction. A tagged group of any other name is ignored.
 *
 * Caveat: security groups are stateful, so connections already tracked (e.g. an open SSH session)
 * persist until they time out; untracked ones are cut at once. Pair with snapshot-volumes first, and
 * stop the instance if a live session must end now. An instance with interfaces in several VPCs is
 * refused.
 */
export const isolateInstance = defineAction<IsolateInstanceParams, AwsServices>({
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
      quarantineGroupId: {
        type: 'string',
        description:
          "Security group to use instead of Riposte's own riposte-quarantine-<vpc id>; must be in the instance's VPC and have no inbound or outbound rule, or the step is refused.",
        pattern: '^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$',
      },
    },
    required: [],
  },
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeSecurityGroups',
    'ec2:CreateSecurityGroup',
    'ec2:RevokeSecurityGroupEgress',
    'ec2:CreateTags',
    'ec2:ModifyNetworkInterfaceAttribute',
  ],
  grants: grantsFor,
  paramExamples: [{ includeCredentialSource: true }, { quarantineGroupId: 'sg-0123456789abcdef0' }],
  resourceKinds: ['instance'],
  example: [
    '- action: isolate-instance',
    '  # params: { includeCredentialSource: true, quarantineGroupId: sg-0123456789abcdef0 }',
  ].join('\n'),
  idempotency:
    'Skipped when every network interface of the instance is already only in the (verified empty) quarantine group.',
  dryRun:
    "Refuses a malformed instance or group id; looks up the instance's interfaces and the quarantine group, refusing a group with any rule; lists CreateSecurityGroup and RevokeSecurityGroupEgress (first use in the VPC), CreateTags with the previous groups, and ModifyNetworkInterfaceAttribute per interface.",

  targets: (finding, params) =>
    resolved(
      resourcesOfKind(finding, 'instance')
        .filter((instance) => instance.role === 'resource' || params.includeCredentialSource === true)
        .map((instance) => instanceTarget(finding, instance)),
      params.includeCredentialSource === true
        ? 'the finding names no EC2 instance'
        : 'the finding names no affected EC2 instance (a credential-source instance is isolated only with includeCredentialSource: true)',
    ),

  plan: planWith({ inspect, mutations }),

  // Not single-shot: a new quarantine group's id and egress rules are known only once it is created.
  execute: (ctx) =>
    executeInspected(ctx, inspect, async (session, { instance, group }) => {
      const groupId = group.kind === 'use' ? group.groupId : await createEmptyGroup(ctx, session, instance);
      if (group.kind === 'use') session.recordUndo(undoOf(ctx, instance, groupId, false));
      for (const item of moveInterfaces(ctx, instance, groupId)) await session.mutate(item);
      return {
        status: 'applied',
        outputs: {
          quarantineGroupId: groupId,
          createdQuarantineGroup: group.kind === 'create',
          previousSecurityGroups: Object.fromEntries(instance.interfaces.map((eni) => [eni.id, eni.groups])),
        },
      };
    }),

  undo,
});
