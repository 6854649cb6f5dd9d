import type {
  CreateSecurityGroupCommandOutput,
  Instance,
  IpPermission,
  SecurityGroup,
} from '@aws-sdk/client-ec2';
import { type ActionContext, defineAction, type PermissionGrant, resourcesOfKind } from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { readTargetInstance } from '../instance-read.js';
import { type ExecSession, executeAction, placeholder, type Session } from '../session.js';
import { type Inspection, type NoOp, noOp, planned, planWith, type Refusal, refused } from '../step.js';
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
  ...(params.quarantineGroupId === undefined
    ? [
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
      ]
    : []),
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
    if (eni && ids !== undefined) recorded.set(eni, ids);
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
  ctx: Context,
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

/** Records the groups to restore (before anything moves), then moves each interface into quarantine. */
const moveInterfaces = (ctx: Context, instance: InstanceState, groupId: string): Mutation[] => {
  const previous = new Map<string, string>();
  for (const eni of instance.interfaces) {
    // An interface already in quarantine keeps what an earlier run recorded for it.
    const groups = isIsolated(eni, groupId) ? instance.recorded.get(eni.id) : eni.groups.join(',');
    if (groups !== undefined) previous.set(eni.id, groups);
  }
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
 * and reads it again: the group is used only once it has no rule at all.
 */
const createEmptyGroup = async (ctx: Context, session: ExecSession, vpcId: string): Promise<string> => {
  const created = await session.mutate(createGroup(ctx, vpcId));
  const groupId = created.GroupId;
  const invalid = invalidId('security-group-id', groupId);
  if (invalid || groupId === undefined)
    return session.fail(refusal(`CreateSecurityGroup answered ${invalid}`));
  const group = await readGroup(ctx, session, groupId);
  const egress = typeof group === 'object' ? (group.IpPermissionsEgress ?? []) : [];
  if (egress.length > 0) await session.mutate(revokeEgress(ctx, groupId, egress.map(revocable)));
  const verified = await verifyGroup(ctx, session, groupId, vpcId, 'new quarantine group');
  if ('reason' in verified) session.fail(verified.error);
  return groupId;
};

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
    executeAction(ctx.mode, async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status === 'refused') return session.fail(inspection.error);
      if (inspection.status === 'no-op') return { status: 'skipped', reason: inspection.reason };
      const { instance, group } = inspection.state;
      const groupId =
        group.kind === 'use' ? group.groupId : await createEmptyGroup(ctx, session, instance.vpcId);
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
});
