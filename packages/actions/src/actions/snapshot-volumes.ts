import type { CreateSnapshotsCommandOutput, Instance, Snapshot } from '@aws-sdk/client-ec2';
import type { ActionContext, PermissionGrant } from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { readTargetInstance } from '../instance-read.js';
import { executeAction, planAction, type Session, scopeOf } from '../session.js';
import { FINDING_ID_TAG, findingTags, tagValue } from '../tags.js';
import { foreignNote, instanceTargets, invalidId, refusal, resolved, shown } from '../targets.js';

export type SnapshotVolumesParams = Record<string, never>;

type Context = ActionContext<SnapshotVolumesParams, AwsServices>;

/** With the finding id, tells apart the snapshots of two instances of the same finding. */
export const INSTANCE_ID_TAG = 'riposte:instance-id';

/**
 * CreateSnapshots authorises the instance, each of its volumes and each new snapshot (a snapshot ARN
 * has no account); the tags it writes are CreateTags on the new snapshots, allowed only as part of
 * CreateSnapshots (`ec2:CreateAction`), so no existing snapshot can be retagged.
 */
const GRANTS: PermissionGrant[] = [
  { actions: ['ec2:DescribeInstances', 'ec2:DescribeSnapshots'], resources: ['*'] },
  {
    actions: ['ec2:CreateSnapshots'],
    resources: [
      'arn:{partition}:ec2:*:{account}:instance/*',
      'arn:{partition}:ec2:*:{account}:volume/*',
      'arn:{partition}:ec2:*::snapshot/*',
    ],
  },
  {
    actions: ['ec2:CreateTags'],
    resources: ['arn:{partition}:ec2:*::snapshot/*'],
    conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshots' } },
  },
];

type Inspection =
  | { status: 'planned'; volumeIds?: string[] }
  | { status: 'no-op' | 'refused'; reason: string };

/** Why this target cannot be acted on at all: checked before any client is made or call is sent. */
const invalidTarget = (ctx: Context): string | undefined => {
  const invalid = invalidId('instance-id', ctx.target.id);
  return invalid === undefined ? undefined : `${invalid}; nothing was looked up or changed`;
};

const volumesOf = (instance: Instance): string[] =>
  (instance.BlockDeviceMappings ?? []).flatMap((mapping) =>
    mapping.Ebs?.VolumeId === undefined ? [] : [mapping.Ebs.VolumeId],
  );

/**
 * The instance, read by its id: the EBS volumes CreateSnapshots will copy, or why there is nothing
 * to copy. `volumeIds` is `undefined` when planning could not read it (no credentials).
 */
const readInstance = async (ctx: Context, session: Session): Promise<Inspection> => {
  const instanceId = ctx.target.id;
  const read = await readTargetInstance(
    ctx,
    session,
    (instance) =>
      `${instanceId} is ${instance.State?.Name ?? 'unknown'} with EBS volumes ${volumesOf(instance).map(shown).join(', ') || '(none)'}`,
  );
  if (read.status === 'unknown') return { status: 'planned' };
  const instance = read.status === 'found' ? read.instance : undefined;
  if (!instance) return { status: 'no-op', reason: `instance ${instanceId} no longer exists` };
  const state = instance.State?.Name;
  if (state === 'terminated' || state === 'shutting-down') {
    return { status: 'no-op', reason: `instance ${instanceId} is ${state}; its volumes cannot be copied` };
  }
  const volumeIds = volumesOf(instance);
  if (volumeIds.length === 0) {
    return { status: 'no-op', reason: `instance ${instanceId} has no EBS volume to snapshot` };
  }
  const invalid = volumeIds.map((id) => invalidId('volume-id', id)).find(Boolean);
  if (invalid) return { status: 'refused', reason: `${invalid} (attached to ${instanceId})` };
  return { status: 'planned', volumeIds };
};

/** The finding-id and instance-id tags a snapshot of this step carries: both must match exactly. */
const isThisFindings = (ctx: Context, snapshot: Snapshot): boolean => {
  const tags = new Map((snapshot.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
  return tags.get(FINDING_ID_TAG) === tagValue(ctx.finding.id) && tags.get(INSTANCE_ID_TAG) === ctx.target.id;
};

/** Ids of the snapshots already taken of this instance for this finding; `undefined` when unknown. */
const existingSnapshots = async (ctx: Context, session: Session): Promise<string[] | undefined> => {
  const ec2 = await ctx.services.ec2(scopeOf(ctx.target));
  const { DescribeSnapshotsCommand } = await import('@aws-sdk/client-ec2');
  const input = {
    OwnerIds: ['self'],
    Filters: [
      { Name: `tag:${FINDING_ID_TAG}`, Values: [tagValue(ctx.finding.id)] },
      { Name: `tag:${INSTANCE_ID_TAG}`, Values: [ctx.target.id] },
    ],
  };
  // A snapshot the filter let through without exactly these tags does not prove evidence was kept.
  const split = (output: { Snapshots?: Snapshot[] }) => {
    const snapshots = output.Snapshots ?? [];
    const mine = snapshots.filter((snapshot) => isThisFindings(ctx, snapshot) && snapshot.SnapshotId);
    return { mine, others: snapshots.filter((snapshot) => !mine.includes(snapshot)) };
  };
  const read = await session.read({
    call: awsCall('EC2', 'DescribeSnapshots', input),
    send: () => ec2.send(new DescribeSnapshotsCommand(input)),
    key: `${ctx.target.id} finding ${ctx.finding.id}`,
    found: (output) => {
      const { mine, others } = split(output);
      const found =
        mine.length === 0
          ? `no snapshot of ${ctx.target.id} for this finding yet`
          : `snapshots ${mine.map((snapshot) => snapshot.SnapshotId).join(', ')} exist`;
      return `${found}${foreignNote(others, (snapshot) => snapshot.SnapshotId, 'snapshot(s) of other instances or findings')}`;
    },
  });
  return read.status === 'found'
    ? split(read.output).mine.map((snapshot) => snapshot.SnapshotId ?? '')
    : undefined;
};

const createSnapshots = (ctx: Context): Mutation<CreateSnapshotsCommandOutput> => {
  const input = {
    InstanceSpecification: { InstanceId: ctx.target.id, ExcludeBootVolume: false },
    // One line of at most 255 characters, cut between characters rather than inside one.
    Description: [
      ...`Riposte evidence of ${ctx.target.id} for GuardDuty finding ${ctx.finding.id} (${ctx.finding.type.name})`.replace(
        /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu,
        ' ',
      ),
    ]
      .slice(0, 255)
      .join(''),
    TagSpecifications: [
      {
        ResourceType: 'snapshot' as const,
        Tags: [...findingTags(ctx.finding), { Key: INSTANCE_ID_TAG, Value: ctx.target.id }],
      },
    ],
    CopyTagsFromSource: 'volume' as const,
  };
  return mutation('EC2', 'CreateSnapshots', input, async () => {
    const { CreateSnapshotsCommand } = await import('@aws-sdk/client-ec2');
    return (await ctx.services.ec2(scopeOf(ctx.target))).send(new CreateSnapshotsCommand(input));
  });
};

/** Validates, reads the instance, then looks for this finding's snapshots: shared by plan and execute. */
const inspect = async (ctx: Context, session: Session): Promise<Inspection> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return { status: 'refused', reason: invalid };
  const instance = await readInstance(ctx, session);
  if (instance.status !== 'planned') return instance;
  const ids = await existingSnapshots(ctx, session);
  if (ids !== undefined && ids.length > 0) {
    return {
      status: 'no-op',
      reason: `snapshots ${ids.join(', ')} of ${ctx.target.id} were already taken for this finding`,
    };
  }
  return instance;
};

/**
 * Preserves evidence before containment: one crash-consistent, multi-volume snapshot set of every
 * EBS volume of each instance the finding names, boot volume included, tagged with the finding.
 * The instance is read by its id (a malformed id is refused before any call); CreateSnapshots names
 * only that instance, so AWS itself picks the volumes, which the plan lists.
 */
export const snapshotVolumes: DocumentedAction<SnapshotVolumesParams, AwsServices> = {
  name: 'snapshot-volumes',
  summary:
    'Snapshot every EBS volume of each instance the finding names (one crash-consistent set), tagged with the finding.',
  phase: 'preserve',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
  permissions: ['ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:CreateSnapshots', 'ec2:CreateTags'],
  grants: () => GRANTS,
  resourceKinds: ['instance'],
  example: '- action: snapshot-volumes',
  idempotency: 'Skipped when snapshots tagged with this finding id and this instance already exist.',
  dryRun:
    "Refuses an instance id that is not a well-formed EC2 id; looks up the instance's EBS volumes and this finding's snapshots of it; lists CreateSnapshots with the instance, description and tags.",

  targets: (finding) => resolved(instanceTargets(finding), 'the finding names no EC2 instance'),

  plan: (ctx) =>
    planAction(async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status !== 'planned') {
        return { status: inspection.status, reason: inspection.reason, calls: [] };
      }
      return { status: 'planned', calls: [createSnapshots(ctx).call] };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status === 'refused') session.fail(refusal(inspection.reason));
      if (inspection.status !== 'planned') return { status: 'skipped', reason: inspection.reason };
      const output = await session.mutate(createSnapshots(ctx));
      return {
        status: 'applied',
        outputs: {
          snapshotIds: (output.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId),
          volumeIds: inspection.volumeIds ?? [],
        },
      };
    }),
};
