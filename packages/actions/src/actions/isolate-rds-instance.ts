import type { CreateSecurityGroupCommandOutput, IpPermission, SecurityGroup } from '@aws-sdk/client-ec2';
import type { DBInstance } from '@aws-sdk/client-rds';
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
import { type ExecSession, placeholder, type Session } from '../session.js';
import {
  executeInspected,
  type Inspection,
  inverseWith,
  noOp,
  planned,
  planWith,
  type Refusal,
  refused,
} from '../step.js';
import { invalidId, refusal, resolved, shown, targetOf } from '../targets.js';
import { QUARANTINE_GROUP_GRANTS, QUARANTINE_TAG, quarantineGroupName } from './isolate-instance.js';

export type IsolateRdsInstanceParams = {
  /** Use this security group (in the DB's VPC, with no rules at all) instead of Riposte's own. */
  quarantineGroupId?: string;
};

type Context = ActionContext<IsolateRdsInstanceParams, AwsServices>;
type Reader = { services: AwsServices; target: ActionTarget };

const INSTANCE_ABSENT = ['DBInstanceNotFoundFault', 'DBInstanceNotFound'];
const GROUP_ABSENT = ['InvalidGroup.NotFound', 'InvalidGroupId.NotFound'];
const DBS = 'arn:{partition}:rds:*:{account}:db:*';

/** The DB instance as isolating needs it. */
interface DbState {
  vpcId: string;
  /** Its VPC security groups now (those being removed left out). */
  groupIds: string[];
  publiclyAccessible: boolean;
}

type GroupChoice = { kind: 'use'; groupId: string } | { kind: 'create' };
type State = { db: DbState; group: GroupChoice };

/**
 * ModifyDBInstance authorises only the DB. Riposte's own quarantine group is created as
 * isolate-instance creates it (tagged only as it is created; its egress revoked only while it carries
 * `riposte:quarantine=true`); a pinned `quarantineGroupId` is only verified, so none of those is granted.
 */
const grantsFor = (params: IsolateRdsInstanceParams): PermissionGrant[] => [
  { actions: ['rds:DescribeDBInstances', 'rds:ModifyDBInstance'], resources: [DBS] },
  { actions: ['ec2:DescribeSecurityGroups'], resources: ['*'] },
  ...(params.quarantineGroupId === undefined ? QUARANTINE_GROUP_GRANTS : []),
];

const same = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();

const activeGroups = (db: DBInstance): string[] =>
  (db.VpcSecurityGroups ?? [])
    .filter((group) => group.Status !== 'removing' && group.Status !== 'inactive')
    .map((group) => group.VpcSecurityGroupId ?? '');

/** The target DB instance, read by its identifier: `undefined` offline, `absent` when it is gone. */
const readDb = async (ctx: Reader, session: Session): Promise<DBInstance | 'absent' | undefined> => {
  const id = ctx.target.id;
  const answer = await session.read(read(ctx, 'rds', 'DescribeDBInstances', { DBInstanceIdentifier: id }), {
    key: id,
    found: (output) => {
      const db = (output.DBInstances ?? []).find((item) => same(item.DBInstanceIdentifier, id));
      if (!db) return `DB instance ${id} was not returned`;
      return `${id} is ${db.DBInstanceStatus ?? 'unknown'} in ${db.DBSubnetGroup?.VpcId ?? 'no VPC'}, security groups ${activeGroups(db).join(', ') || '(none)'}, ${db.PubliclyAccessible ? 'publicly accessible' : 'not publicly accessible'}${db.DBClusterIdentifier ? `, a member of cluster ${db.DBClusterIdentifier}` : ''}`;
    },
    absent: { codes: INSTANCE_ABSENT, summary: `DB instance ${id} does not exist` },
  });
  if (answer.status === 'unknown') return undefined;
  if (answer.status === 'absent') return 'absent';
  return (answer.output.DBInstances ?? []).find((item) => same(item.DBInstanceIdentifier, id)) ?? 'absent';
};

const readInstance = async (ctx: Context, session: Session): Promise<Inspection<DbState>> => {
  const id = ctx.target.id;
  const db = await readDb(ctx, session);
  if (db === undefined) {
    return planned({
      vpcId: placeholder('VpcId', 'DescribeDBInstances'),
      groupIds: [placeholder('VpcSecurityGroups', 'DescribeDBInstances')],
      publiclyAccessible: true,
    });
  }
  if (db === 'absent') return noOp(`DB instance ${id} no longer exists`);
  if (db.DBInstanceStatus === 'deleting') return noOp(`DB instance ${id} is being deleted`);
  if (db.DBClusterIdentifier !== undefined) {
    // An Aurora instance takes its VPC security groups from its cluster: changing them means changing
    // every instance of the cluster, which is wider than the target.
    return refused(
      `DB instance ${id} is a member of cluster ${shown(db.DBClusterIdentifier)}, whose VPC security groups are set on the cluster for every instance of it; isolate-rds-instance changes one instance only, so restrict the cluster's security groups by hand (ModifyDBCluster) if the whole cluster must be cut off`,
    );
  }
  const vpcId = db.DBSubnetGroup?.VpcId;
  if (!vpcId)
    return refused(`DB instance ${id} is not in a VPC (EC2-Classic DB security groups are not supported)`);
  const invalidVpc = invalidId('vpc-id', vpcId);
  if (invalidVpc) return refused(`DB instance ${id}: ${invalidVpc}`);
  const groupIds = activeGroups(db);
  const invalidGroup = groupIds.map((group) => invalidId('security-group-id', group)).find(Boolean);
  if (invalidGroup) return refused(`DB instance ${id}: ${invalidGroup}`);
  return planned({ vpcId, groupIds, publiclyAccessible: db.PubliclyAccessible === true });
};

const ruleCount = (group: SecurityGroup): number =>
  (group.IpPermissions ?? []).length + (group.IpPermissionsEgress ?? []).length;

const readGroup = async (
  ctx: Reader,
  session: Session,
  groupId: string,
): Promise<SecurityGroup | 'absent' | undefined> => {
  const pick = (output: { SecurityGroups?: SecurityGroup[] }) =>
    (output.SecurityGroups ?? []).find((group) => group.GroupId === groupId);
  const answer = await session.read(read(ctx, 'ec2', 'DescribeSecurityGroups', { GroupIds: [groupId] }), {
    key: groupId,
    found: (output) => {
      const group = pick(output);
      return group
        ? `${groupId} in ${group.VpcId ?? 'no VPC'}: ${ruleCount(group)} rule(s)`
        : `security group ${groupId} was not returned`;
    },
    absent: { codes: GROUP_ABSENT, summary: `security group ${groupId} does not exist` },
  });
  if (answer.status === 'unknown') return undefined;
  if (answer.status === 'absent') return 'absent';
  return pick(answer.output) ?? 'absent';
};

/** A quarantine group must be in the DB's VPC and have no inbound and no outbound rule. */
const verifyGroup = async (
  ctx: Reader,
  session: Session,
  groupId: string,
  vpcId: string,
  what: string,
): Promise<Refusal | undefined> => {
  const group = await readGroup(ctx, session, groupId);
  if (group === undefined) return undefined;
  if (group === 'absent') return refused(`${what} ${groupId} does not exist`);
  if (group.VpcId !== vpcId)
    return refused(`${what} ${groupId} is in ${shown(group.VpcId ?? 'no VPC')}, not the DB's VPC ${vpcId}`);
  const rules = ruleCount(group);
  if (rules > 0) {
    return refused(
      `${what} ${groupId} has ${rules} rule(s); a quarantine group must have none, so it is not used (Riposte does not change its rules)`,
    );
  }
  return undefined;
};

/** The pinned group once verified, else Riposte's own group of the VPC (the one isolate-instance uses), else a new one. */
const chooseGroup = async (ctx: Context, session: Session, vpcId: string): Promise<GroupChoice | Refusal> => {
  const pinned = ctx.params.quarantineGroupId;
  if (pinned !== undefined) {
    return (
      (await verifyGroup(ctx, session, pinned, vpcId, 'pinned quarantine group')) ?? {
        kind: 'use',
        groupId: pinned,
      }
    );
  }
  const name = quarantineGroupName(vpcId);
  const input = {
    Filters: [
      { Name: 'vpc-id', Values: [vpcId] },
      { Name: 'group-name', Values: [name] },
    ],
  };
  const named = (output: { SecurityGroups?: SecurityGroup[] }) =>
    (output.SecurityGroups ?? []).filter((group) => group.GroupName === name && group.VpcId === vpcId);
  const answer = await session.read(read(ctx, 'ec2', 'DescribeSecurityGroups', input), {
    key: `${vpcId} ${name}`,
    found: (output) =>
      named(output).length === 0
        ? `no quarantine group ${name} in ${vpcId} yet`
        : `${name} is ${named(output)
            .map((group) => group.GroupId)
            .join(', ')}`,
  });
  if (answer.status !== 'found') return { kind: 'create' };
  const [group] = named(answer.output);
  if (!group) return { kind: 'create' };
  const groupId = group.GroupId;
  const invalid = invalidId('security-group-id', groupId);
  if (invalid || groupId === undefined) return refused(`quarantine group ${name}: ${invalid}`);
  if (!(group.Tags ?? []).some((tag) => tag.Key === QUARANTINE_TAG && tag.Value === 'true')) {
    return refused(
      `security group ${groupId} is named ${name} but is not tagged ${QUARANTINE_TAG}=true, so Riposte does not use it`,
    );
  }
  return (await verifyGroup(ctx, session, groupId, vpcId, 'quarantine group')) ?? { kind: 'use', groupId };
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const id = ctx.target.id;
  const invalid =
    invalidId('rds-instance-identifier', id) ??
    (ctx.params.quarantineGroupId === undefined
      ? undefined
      : invalidId('security-group-id', ctx.params.quarantineGroupId));
  if (invalid) return refused(`${invalid}; nothing was looked up or changed`);
  const db = await readInstance(ctx, session);
  if (db.status !== 'planned') return db;
  const group = await chooseGroup(ctx, session, db.state.vpcId);
  if ('reason' in group) return group;
  if (
    group.kind === 'use' &&
    db.state.groupIds.length === 1 &&
    db.state.groupIds[0] === group.groupId &&
    !db.state.publiclyAccessible
  ) {
    return noOp(
      `DB instance ${id} is already only in quarantine group ${group.groupId} and not publicly accessible`,
    );
  }
  return planned({ db: db.state, group });
};

const modify = (ctx: Context, groupId: string): Mutation =>
  mutation(ctx, 'rds', 'ModifyDBInstance', {
    DBInstanceIdentifier: ctx.target.id,
    VpcSecurityGroupIds: [groupId],
    PubliclyAccessible: false,
    ApplyImmediately: true,
  });

const createGroup = (ctx: Context, vpcId: string): Mutation<CreateSecurityGroupCommandOutput> =>
  mutation(ctx, 'ec2', 'CreateSecurityGroup', {
    GroupName: quarantineGroupName(vpcId),
    Description: 'Riposte quarantine: no inbound or outbound rules',
    VpcId: vpcId,
    TagSpecifications: [
      {
        ResourceType: 'security-group',
        Tags: [
          { Key: QUARANTINE_TAG, Value: 'true' },
          { Key: 'Name', Value: quarantineGroupName(vpcId) },
        ],
      },
    ],
  });

const revokeEgress = (ctx: Context, groupId: string, permissions: IpPermission[]): Mutation =>
  mutation(ctx, 'ec2', 'RevokeSecurityGroupEgress', { GroupId: groupId, IpPermissions: permissions });

const revocable = (permission: IpPermission): IpPermission => ({
  ...(permission.IpProtocol === undefined ? {} : { IpProtocol: permission.IpProtocol }),
  ...(permission.FromPort === undefined ? {} : { FromPort: permission.FromPort }),
  ...(permission.ToPort === undefined ? {} : { ToPort: permission.ToPort }),
  ...(permission.IpRanges?.length ? { IpRanges: permission.IpRanges.map(({ CidrIp }) => ({ CidrIp })) } : {}),
  ...(permission.Ipv6Ranges?.length
    ? { Ipv6Ranges: permission.Ipv6Ranges.map(({ CidrIpv6 }) => ({ CidrIpv6 })) }
    : {}),
});

const mutations = (ctx: Context, { db, group }: State): Mutation[] => {
  if (group.kind === 'use') return [modify(ctx, group.groupId)];
  const groupId = placeholder('GroupId', 'CreateSecurityGroup');
  return [
    createGroup(ctx, db.vpcId),
    revokeEgress(
      ctx,
      groupId,
      placeholder('IpPermissionsEgress', 'DescribeSecurityGroups') as unknown as IpPermission[],
    ),
    modify(ctx, groupId),
  ];
};

/** Creates Riposte's group for the VPC, revokes the egress AWS gives it, and uses it only once it is verified empty. */
const createEmptyGroup = async (ctx: Context, session: ExecSession, vpcId: string): Promise<string> => {
  const created = await session.mutate(createGroup(ctx, vpcId));
  const groupId = created.GroupId;
  const invalid = invalidId('security-group-id', groupId);
  if (invalid || groupId === undefined)
    return session.fail(refusal(`CreateSecurityGroup answered ${invalid}`));
  const group = await readGroup(ctx, session, groupId);
  const egress = typeof group === 'object' ? (group.IpPermissionsEgress ?? []) : [];
  if (egress.length > 0) await session.mutate(revokeEgress(ctx, groupId, egress.map(revocable)));
  const problem = await verifyGroup(ctx, session, groupId, vpcId, 'new quarantine group');
  if (problem) session.fail(problem.error);
  return groupId;
};

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

/** What the step recorded before it modified the DB. */
export type IsolateRdsInstanceUndo = {
  dbInstanceIdentifier: string;
  quarantineGroupId: string;
  previousGroupIds: string[];
  previousPubliclyAccessible: boolean;
};

const SG_PATTERN = '^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$';

const undoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dbInstanceIdentifier', 'quarantineGroupId', 'previousGroupIds', 'previousPubliclyAccessible'],
  properties: {
    dbInstanceIdentifier: { type: 'string', pattern: '^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){0,62}$' },
    quarantineGroupId: { type: 'string', pattern: SG_PATTERN },
    // An RDS DB instance has at most 5 VPC security groups (raised quotas allow more).
    previousGroupIds: {
      type: 'array',
      minItems: 1,
      maxItems: 60,
      uniqueItems: true,
      items: { type: 'string', pattern: SG_PATTERN },
    },
    previousPubliclyAccessible: { type: 'boolean' },
  },
};

type InverseCtx = InverseContext<IsolateRdsInstanceUndo, AwsServices>;

const invalidUndo = ({ target, state }: InverseCtx): string | undefined => {
  if (target.kind !== 'rds-instance')
    return `the recorded target is a ${shown(target.kind)}, not a DB instance`;
  const invalid =
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region) ??
    invalidId('rds-instance-identifier', target.id) ??
    invalidId('security-group-id', state.quarantineGroupId) ??
    state.previousGroupIds.map((id) => invalidId('security-group-id', id)).find(Boolean);
  if (invalid) return invalid;
  if (!same(state.dbInstanceIdentifier, target.id))
    return `the recorded DB instance ${shown(state.dbInstanceIdentifier)} is not the target ${target.id}`;
  return undefined;
};

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((id) => b.includes(id));

/**
 * Restores the DB's groups and public accessibility only while it is still exactly as Riposte left it
 * (only in the quarantine group, not public); already as recorded is nothing to do; anything else was
 * changed since, and is refused.
 */
const inspectUndo = async (ctx: InverseCtx, session: Session): Promise<Inspection<null>> => {
  const invalid = invalidUndo(ctx);
  if (invalid) return refused(`${invalid}; nothing was looked up or changed`);
  const id = ctx.target.id;
  const { state } = ctx;
  const db = await readDb(ctx, session);
  if (db === undefined) return planned(null);
  if (db === 'absent') return noOp(`DB instance ${id} no longer exists`);
  const groups = activeGroups(db);
  const isPublic = db.PubliclyAccessible === true;
  if (sameSet(groups, state.previousGroupIds) && isPublic === state.previousPubliclyAccessible) {
    return noOp(`DB instance ${id} is restored already: it is in ${groups.join(', ')} as before`);
  }
  if (groups.length === 1 && groups[0] === state.quarantineGroupId && !isPublic) return planned(null);
  return refused(
    `not restored: DB instance ${id} is in ${groups.join(', ') || '(none)'}${isPublic ? ' and publicly accessible' : ''} now, not only in quarantine group ${state.quarantineGroupId} as Riposte left it: changed since, so it is left as it is`,
  );
};

const undoMutations = (ctx: InverseCtx): Mutation[] => [
  mutation(ctx, 'rds', 'ModifyDBInstance', {
    DBInstanceIdentifier: ctx.target.id,
    VpcSecurityGroupIds: ctx.state.previousGroupIds,
    PubliclyAccessible: ctx.state.previousPubliclyAccessible,
    ApplyImmediately: true,
  }),
];

const undo = defineInverse<IsolateRdsInstanceUndo, AwsServices>({
  summary:
    "Put the DB instance back into its recorded VPC security groups and public accessibility, while it is still only in Riposte's quarantine group; the quarantine group is kept.",
  stateSchema: undoSchema,
  permissions: ['rds:DescribeDBInstances', 'rds:ModifyDBInstance'],
  grants: () => [{ actions: ['rds:DescribeDBInstances', 'rds:ModifyDBInstance'], resources: [DBS] }],
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

const undoOf = (ctx: Context, db: DbState, groupId: string): IsolateRdsInstanceUndo => ({
  dbInstanceIdentifier: ctx.target.id,
  quarantineGroupId: groupId,
  previousGroupIds: db.groupIds,
  previousPubliclyAccessible: db.publiclyAccessible,
});

/**
 * Cuts a DB instance off the network: ModifyDBInstance puts it into a quarantine security group with
 * no rules (pinned by `quarantineGroupId`, or Riposte's own `riposte-quarantine-<vpc id>`, shared with
 * isolate-instance and created if needed) and makes it not publicly accessible, applied immediately.
 * A member of an Aurora cluster is refused: its groups are the cluster's. Open connections persist
 * until they end (security groups are stateful): lock the database user too (see notify).
 */
export const isolateRdsInstance = defineAction<IsolateRdsInstanceParams, AwsServices>({
  name: 'isolate-rds-instance',
  summary:
    'Move the DB instance into a no-rules quarantine security group and make it not publicly accessible, recording the previous settings; Aurora cluster members are refused.',
  phase: 'contain',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      quarantineGroupId: {
        type: 'string',
        description:
          "Security group to use instead of Riposte's own riposte-quarantine-<vpc id>; must be in the DB's VPC and have no rule, or the step is refused.",
        pattern: '^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$',
      },
    },
    required: [],
  },
  permissions: [
    'rds:DescribeDBInstances',
    'rds:ModifyDBInstance',
    'ec2:DescribeSecurityGroups',
    'ec2:CreateSecurityGroup',
    'ec2:CreateTags',
    'ec2:RevokeSecurityGroupEgress',
  ],
  grants: grantsFor,
  paramExamples: [{ quarantineGroupId: 'sg-0123456789abcdef0' }],
  resourceKinds: ['rds-instance'],
  example: ['- action: isolate-rds-instance', '  # params: { quarantineGroupId: sg-0123456789abcdef0 }'].join(
    '\n',
  ),
  idempotency:
    'Skipped when the DB instance is already only in the (verified empty) quarantine group and not publicly accessible.',
  dryRun:
    'Refuses a malformed identifier, an Aurora cluster member and a quarantine group with any rule; looks up the DB instance and the quarantine group; lists CreateSecurityGroup and RevokeSecurityGroupEgress (first use in the VPC) and ModifyDBInstance with VpcSecurityGroupIds, PubliclyAccessible=false and ApplyImmediately.',

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 'rds-instance').map((db) =>
        targetOf(finding, 'rds-instance', db.dbInstanceIdentifier, `DB instance ${db.dbInstanceIdentifier}`, {
          ...(db.arn === undefined ? {} : { arn: db.arn }),
        }),
      ),
      'the finding names no RDS DB instance',
    ),

  plan: planWith({ inspect, mutations }),

  execute: (ctx) =>
    executeInspected(ctx, inspect, async (session, { db, group }) => {
      const groupId = group.kind === 'use' ? group.groupId : await createEmptyGroup(ctx, session, db.vpcId);
      session.recordUndo(undoOf(ctx, db, groupId));
      await session.mutate(modify(ctx, groupId));
      return {
        status: 'applied',
        outputs: {
          quarantineGroupId: groupId,
          createdQuarantineGroup: group.kind === 'create',
          previousSecurityGroups: db.groupIds,
          previousPubliclyAccessible: db.publiclyAccessible,
        },
      };
    }),

  undo,
});
