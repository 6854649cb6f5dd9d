import type { CreateSnapshotsCommandOutput, Instance, Snapshot } from '@aws-sdk/client-ec2';
import { type ActionContext, defineAction, type PermissionGrant } from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { readTargetInstance } from '../instance-read.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, noOp, planned, planWith, refused } from '../step.js';
import { FINDING_ID_TAG, findingTags, tagValue } from '../tags.js';
import { foreignNote, instanceTargets, invalidId, resolved, shown } from '../targets.js';

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

/** The EBS volumes CreateSnapshots will copy; `undefined` when planning could not read them (no credentials). */
type State = string[] | undefined;

/** Why this target cannot be acted on at all: checked before any client is made or call is sent. */
const invalidTarget = (ctx: Context): string | undefined => {
  const invalid = invalidId('instance-id', ctx.target.id);
  return invalid === undefined ? undefined : `${invalid}; nothing was looked up or changed`;
};

const volumesOf = (instance: Instance): string[] =>
  (instance.BlockDeviceMappings ?? []).flatMap((mapping) =>
    mapping.Ebs?.VolumeId === undefined ? [] : [mapping.Ebs.VolumeId],
  );

/** The instance, read by its id: the EBS volumes CreateSnapshots will copy, or why there is nothing to copy. */
const readInstance = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const instanceId = ctx.target.id;
  const answer = await readTargetInstance(
    ctx,
    session,
    (instance) =>
      `${instanceId} is ${instance.State?.Name ?? 'unknown'} with EBS volumes ${volumesOf(instance).map(shown).join(', ') || '(none)'}`,
  );
  if (answer.status === 'unknown') return planned(undefined);
  const instance = answer.status === 'found' ? answer.instance : undefined;
  if (!instance) return noOp(`instance ${instanceId} no longer exists`);
  const state = instance.State?.Name;
  if (state === 'terminated' || state === 'shutting-down') {
    return noOp(`instance ${instanceId} is ${state}; its volumes cannot be copied`);
  }
  const volumeIds = volumesOf(instance);
  if (volumeIds.length === 0) return noOp(`instance ${instanceId} has no EBS volume to snapshot`);
  const invalid = volumeIds.map((id) => invalidId('volume-id', id)).find(Boolean);
  if (invalid) return refused(`${invalid} (attached to ${instanceId})`);
  return planned(volumeIds);
};

/** The finding-id and instance-id tags a snapshot of this step carries: both must match exactly. */
const isThisFindings = (ctx: Context, snapshot: Snapshot): boolean => {
  const tags = new Map((snapshot.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
  return tags.get(FINDING_ID_TAG) === tagValue(ctx.finding.id) && tags.get(INSTANCE_ID_TAG) === ctx.target.id;
};

/** Ids of the snapshots already taken of this instance for this finding; `undefined` when unknown. */
const existingSnapshots = async (ctx: Context, session: Session): Promise<string[] | undefined> => {
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
  const answer = await session.read(read(ctx, 'ec2', 'DescribeSnapshots', input), {
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
  return answer.status === 'found'
    ? split(answer.output).mine.map((snapshot) => snapshot.SnapshotId ?? '')
    : undefined;
};

const nothingToDo = (ctx: Context, snapshotIds: string[] | undefined): string | undefined =>
  snapshotIds !== undefined && snapshotIds.length > 0
    ? `snapshots ${snapshotIds.join(', ')} of ${ctx.target.id} were already taken for this finding`
    : undefined;

/** Validates, reads the instance, then looks for this finding's snapshots: shared by plan and execute. */
const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const instance = await readInstance(ctx, session);
  if (instance.status !== 'planned') return instance;
  const reason = nothingToDo(ctx, await existingSnapshots(ctx, session));
  return reason ? noOp(reason) : instance;
};

const mutations = (ctx: Context): Mutation<CreateSnapshotsCommandOutput>[] => [
  mutation(ctx, 'ec2', 'CreateSnapshots', {
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
        ResourceType: 'snapshot',
        Tags: [...findingTags(ctx.finding), { Key: INSTANCE_ID_TAG, Value: ctx.target.id }],
      },
    ],
    CopyTagsFromSource: 'volume',
  }),
];

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, volumeIds: State, [created]: CreateSnapshotsCommandOutput[]) => ({
    snapshotIds: (created?.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId),
    volumeIds: volumeIds ?? [],
  }),
};

/**
 * Preserves evidence before containment: one crash-consistent, multi-volume snapshot set of every
 * EBS volume of each instance the finding names, boot volume included, tagged with the finding.
 * The instance is read by its id (a malformed id is refused before any call); CreateSnapshots names
 * only that instance, so AWS itself picks the volumes, which the plan lists.
 */
export const snapshotVolumes = defineAction<SnapshotVolumesParams, AwsServices>({
  name: 'snapshot-volumes',
  summary:
    'Snapshot every EBS volume of each instance the finding names (one crash-consistent set), tagged with the finding.',
  phase: 'preserve',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: ['ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:CreateSnapshots', 'ec2:CreateTags'],
  grants: () => GRANTS,
  resourceKinds: ['instance'],
  example: '- action: snapshot-volumes',
  idempotency: 'Skipped when snapshots tagged with this finding id and this instance already exist.',
  dryRun:
    "Refuses an instance id that is not a well-formed EC2 id; looks up the instance's EBS volumes and this finding's snapshots of it; lists CreateSnapshots with the instance, description and tags.",

  targets: (finding) => resolved(instanceTargets(finding), 'the finding names no EC2 instance'),

  plan: planWith(step),
  execute: executeWith(step),
  undo: {
    none: 'the snapshots are evidence of the incident and are kept; delete them by hand once the investigation no longer needs them',
  },
});
