import type { CreateSnapshotsCommandOutput } from '@aws-sdk/client-ec2';
import type { ActionContext } from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { executeAction, planAction, type Session, scopeOf } from '../session.js';
import { FINDING_ID_TAG, findingTags, tagValue } from '../tags.js';
import { instanceTargets, resolved } from '../targets.js';

export type SnapshotVolumesParams = Record<string, never>;

type Context = ActionContext<SnapshotVolumesParams, AwsServices>;

/** With the finding id, tells apart the snapshots of two instances of the same finding. */
export const INSTANCE_ID_TAG = 'riposte:instance-id';

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
  const read = await session.read({
    call: awsCall('EC2', 'DescribeSnapshots', input),
    send: () => ec2.send(new DescribeSnapshotsCommand(input)),
    key: `${ctx.target.id} finding ${ctx.finding.id}`,
    found: (output) =>
      (output.Snapshots ?? []).length === 0
        ? `no snapshot of ${ctx.target.id} for this finding yet`
        : `snapshots ${(output.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId).join(', ')} exist`,
  });
  return read.status === 'found'
    ? (read.output.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId ?? '')
    : undefined;
};

const createSnapshots = (ctx: Context): Mutation<CreateSnapshotsCommandOutput> => {
  const input = {
    InstanceSpecification: { InstanceId: ctx.target.id, ExcludeBootVolume: false },
    Description:
      `Riposte evidence of ${ctx.target.id} for GuardDuty finding ${ctx.finding.id} (${ctx.finding.type.name})`.slice(
        0,
        255,
      ),
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

const alreadyTaken = (ctx: Context, ids: string[] | undefined): string | undefined =>
  ids !== undefined && ids.length > 0
    ? `snapshots ${ids.join(', ')} of ${ctx.target.id} were already taken for this finding`
    : undefined;

/**
 * Preserves evidence before containment: one crash-consistent, multi-volume snapshot set of every
 * EBS volume of each instance the finding names, boot volume included, tagged with the finding.
 */
export const snapshotVolumes: DocumentedAction<SnapshotVolumesParams, AwsServices> = {
  name: 'snapshot-volumes',
  summary:
    'Snapshot every EBS volume of each instance the finding names (one crash-consistent set), tagged with the finding.',
  phase: 'preserve',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
  permissions: ['ec2:DescribeSnapshots', 'ec2:CreateSnapshots', 'ec2:CreateTags'],
  resourceKinds: ['instance'],
  example: '- action: snapshot-volumes',
  idempotency: 'Skipped when snapshots tagged with this finding id and this instance already exist.',
  dryRun:
    "Looks up this finding's snapshots of the instance; lists CreateSnapshots with the instance, description and tags.",

  targets: (finding) => resolved(instanceTargets(finding), 'the finding names no EC2 instance'),

  plan: (ctx) =>
    planAction(async (session) => {
      const taken = alreadyTaken(ctx, await existingSnapshots(ctx, session));
      if (taken) return { status: 'no-op', reason: taken, calls: [] };
      return { status: 'planned', calls: [createSnapshots(ctx).call] };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const taken = alreadyTaken(ctx, await existingSnapshots(ctx, session));
      if (taken) return { status: 'skipped', reason: taken };
      const output = await session.mutate(createSnapshots(ctx));
      return {
        status: 'applied',
        outputs: { snapshotIds: (output.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId) },
      };
    }),
};
