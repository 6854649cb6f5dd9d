import type { DBClusterSnapshot, DBInstance, DBSnapshot } from '@aws-sdk/client-rds';
import {
  type ActionContext,
  type ActionTarget,
  defineAction,
  type Finding,
  type PermissionGrant,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, noOp, planned, planWith, refused } from '../step.js';
import { FINDING_ID_TAG, FINDING_TYPE_TAG, findingTags, tagValue } from '../tags.js';
import { invalidId, resolved, shown, targetOf } from '../targets.js';

export type SnapshotRdsParams = Record<string, never>;

type Context = ActionContext<SnapshotRdsParams, AwsServices>;

const INSTANCE_ABSENT = ['DBInstanceNotFoundFault', 'DBInstanceNotFound'];
const CLUSTER_ABSENT = ['DBClusterNotFoundFault', 'DBClusterNotFound'];
/** Pages of snapshots read before giving up on finding this finding's (100 per page). */
const MAX_PAGES = 10;

/**
 * CreateDBSnapshot and CreateDBClusterSnapshot authorise the DB (or cluster) and the new snapshot; the
 * tags they write need rds:AddTagsToResource, allowed only for the riposte:* keys on snapshots. The
 * reads support the DB, cluster and snapshot resource types, so none is granted on `*`.
 */
const SNAPSHOTS = 'arn:{partition}:rds:*:{account}:snapshot:*';
const CLUSTER_SNAPSHOTS = 'arn:{partition}:rds:*:{account}:cluster-snapshot:*';
const DBS = 'arn:{partition}:rds:*:{account}:db:*';
const CLUSTERS = 'arn:{partition}:rds:*:{account}:cluster:*';

const GRANTS: PermissionGrant[] = [
  { actions: ['rds:DescribeDBInstances'], resources: [DBS] },
  { actions: ['rds:DescribeDBSnapshots'], resources: [DBS, SNAPSHOTS] },
  { actions: ['rds:DescribeDBClusterSnapshots'], resources: [CLUSTERS, CLUSTER_SNAPSHOTS] },
  { actions: ['rds:CreateDBSnapshot'], resources: [DBS, SNAPSHOTS] },
  { actions: ['rds:CreateDBClusterSnapshot'], resources: [CLUSTERS, CLUSTER_SNAPSHOTS] },
  {
    actions: ['rds:AddTagsToResource'],
    resources: [SNAPSHOTS, CLUSTER_SNAPSHOTS],
    conditions: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': [FINDING_ID_TAG, FINDING_TYPE_TAG] },
      Null: { 'aws:TagKeys': 'false' },
    },
  },
];

/** What gets snapshotted: a DB instance, or a cluster (Aurora, or the cluster of a Limitless Database). */
type Source = { kind: 'instance' | 'cluster'; id: string };

/** `riposte-<first 8 characters of the finding id>-<UTC yyyymmddhhmmss>`: a letter first, single hyphens, 1-255. */
export const snapshotIdentifier = (finding: Finding, now: Date): string => {
  const prefix =
    finding.id
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 8) || 'finding';
  const stamp = now
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14);
  return `riposte-${prefix}-${stamp}`;
};

const same = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();

/** The cluster ids the finding names as rds-cluster resources. */
const clusterIds = (finding: Finding): Set<string> =>
  new Set(
    resourcesOfKind(finding, 'rds-cluster').map((cluster) => cluster.dbClusterIdentifier.toLowerCase()),
  );

/**
 * One target per DB to copy: each cluster the finding names; each instance that is not a member of one
 * of those clusters (a member of another cluster is found to be one when read, and its cluster copied);
 * each Limitless Database whose cluster is not named as a cluster.
 */
const targetsOf = (finding: Finding): ActionTarget[] => {
  const clusters = clusterIds(finding);
  return [
    ...resourcesOfKind(finding, 'rds-cluster').map((cluster) =>
      targetOf(
        finding,
        'rds-cluster',
        cluster.dbClusterIdentifier,
        `DB cluster ${cluster.dbClusterIdentifier}`,
        {
          ...(cluster.arn === undefined ? {} : { arn: cluster.arn }),
        },
      ),
    ),
    ...resourcesOfKind(finding, 'rds-instance')
      .filter(
        (db) => db.dbClusterIdentifier === undefined || !clusters.has(db.dbClusterIdentifier.toLowerCase()),
      )
      .map((db) =>
        targetOf(finding, 'rds-instance', db.dbInstanceIdentifier, `DB instance ${db.dbInstanceIdentifier}`, {
          ...(db.arn === undefined ? {} : { arn: db.arn }),
        }),
      ),
    ...resourcesOfKind(finding, 'rds-limitless-db')
      .filter(
        (db) => db.dbClusterIdentifier !== undefined && !clusters.has(db.dbClusterIdentifier.toLowerCase()),
      )
      .map((db) =>
        targetOf(
          finding,
          'rds-limitless-db',
          db.dbShardGroupIdentifier,
          `Limitless Database ${db.dbShardGroupIdentifier} (cluster ${db.dbClusterIdentifier})`,
        ),
      ),
  ];
};

/** The cluster of a Limitless Database target, as the finding names it. */
const limitlessCluster = (ctx: Context): string | undefined =>
  resourcesOfKind(ctx.finding, 'rds-limitless-db').find((db) => db.dbShardGroupIdentifier === ctx.target.id)
    ?.dbClusterIdentifier;

/** Which DB the target stands for; an instance is read, since an Aurora member is copied through its cluster. */
const sourceOf = async (ctx: Context, session: Session): Promise<Inspection<Source | undefined>> => {
  const { id, kind } = ctx.target;
  const invalid = invalidId('rds-instance-identifier', id);
  if (invalid) return refused(`${invalid}; nothing was looked up or changed`);
  if (kind === 'rds-cluster') return planned({ kind: 'cluster', id });
  if (kind === 'rds-limitless-db') {
    const cluster = limitlessCluster(ctx);
    const problem = invalidId('rds-instance-identifier', cluster);
    if (problem || cluster === undefined) return refused(`the cluster of ${ctx.target.label}: ${problem}`);
    return planned({ kind: 'cluster', id: cluster });
  }
  const answer = await session.read(read(ctx, 'rds', 'DescribeDBInstances', { DBInstanceIdentifier: id }), {
    key: id,
    found: (output) => {
      const db = (output.DBInstances ?? []).find((item) => same(item.DBInstanceIdentifier, id));
      if (!db) return `DB instance ${id} was not returned`;
      return `${id} is ${db.DBInstanceStatus ?? 'unknown'} (${db.Engine ?? 'unknown engine'})${db.DBClusterIdentifier ? `, a member of cluster ${db.DBClusterIdentifier}` : ''}`;
    },
    absent: { codes: INSTANCE_ABSENT, summary: `DB instance ${id} does not exist` },
  });
  if (answer.status === 'unknown') return planned(undefined);
  const db: DBInstance | undefined =
    answer.status === 'found'
      ? (answer.output.DBInstances ?? []).find((item) => same(item.DBInstanceIdentifier, id))
      : undefined;
  if (!db) return noOp(`DB instance ${id} no longer exists`);
  if (db.DBInstanceStatus === 'deleting') return noOp(`DB instance ${id} is being deleted`);
  if (db.DBClusterIdentifier !== undefined) {
    const problem = invalidId('rds-instance-identifier', db.DBClusterIdentifier);
    if (problem) return refused(`the cluster of DB instance ${id}: ${problem}`);
    return planned({ kind: 'cluster', id: db.DBClusterIdentifier });
  }
  return planned({ kind: 'instance', id });
};

const isThisFindings = (ctx: Context, tags: { Key?: string; Value?: string }[] | undefined): boolean =>
  (tags ?? []).some((tag) => tag.Key === FINDING_ID_TAG && tag.Value === tagValue(ctx.finding.id));

/**
 * Ids of the manual snapshots of the source already tagged with this finding; `undefined` when unknown,
 * `absent` when RDS says the source does not exist.
 */
const existingSnapshots = async (
  ctx: Context,
  session: Session,
  source: Source,
): Promise<string[] | 'absent' | undefined> => {
  const found: string[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const paging = { MaxRecords: 100, ...(marker === undefined ? {} : { Marker: marker }) };
    if (source.kind === 'instance') {
      const input = { DBInstanceIdentifier: source.id, SnapshotType: 'manual', ...paging };
      const mine = (output: { DBSnapshots?: DBSnapshot[] }) =>
        (output.DBSnapshots ?? []).filter(
          (snapshot) =>
            same(snapshot.DBInstanceIdentifier, source.id) && isThisFindings(ctx, snapshot.TagList),
        );
      const answer = await session.read(read(ctx, 'rds', 'DescribeDBSnapshots', input), {
        key: `${source.id} finding ${ctx.finding.id}`,
        found: (output) =>
          mine(output).length === 0
            ? `no snapshot of ${source.id} for this finding${output.Marker ? ' on this page' : ' yet'}`
            : `snapshots ${mine(output)
                .map((snapshot) => snapshot.DBSnapshotIdentifier)
                .join(', ')} exist`,
        absent: { codes: INSTANCE_ABSENT, summary: `DB instance ${source.id} does not exist` },
      });
      if (answer.status !== 'found') return answer.status === 'unknown' ? undefined : 'absent';
      found.push(...mine(answer.output).map((snapshot) => snapshot.DBSnapshotIdentifier ?? ''));
      marker = answer.output.Marker;
    } else {
      const input = { DBClusterIdentifier: source.id, SnapshotType: 'manual', ...paging };
      const mine = (output: { DBClusterSnapshots?: DBClusterSnapshot[] }) =>
        (output.DBClusterSnapshots ?? []).filter(
          (snapshot) =>
            same(snapshot.DBClusterIdentifier, source.id) && isThisFindings(ctx, snapshot.TagList),
        );
      const answer = await session.read(read(ctx, 'rds', 'DescribeDBClusterSnapshots', input), {
        key: `${source.id} finding ${ctx.finding.id}`,
        found: (output) =>
          mine(output).length === 0
            ? `no snapshot of cluster ${source.id} for this finding${output.Marker ? ' on this page' : ' yet'}`
            : `cluster snapshots ${mine(output)
                .map((snapshot) => snapshot.DBClusterSnapshotIdentifier)
                .join(', ')} exist`,
        absent: { codes: CLUSTER_ABSENT, summary: `DB cluster ${source.id} does not exist` },
      });
      if (answer.status !== 'found') return answer.status === 'unknown' ? undefined : 'absent';
      found.push(...mine(answer.output).map((snapshot) => snapshot.DBClusterSnapshotIdentifier ?? ''));
      marker = answer.output.Marker;
    }
    if (found.length > 0 || marker === undefined) return found;
  }
  return found;
};

/** Shared by plan and execute: which DB, then whether this finding's snapshot of it exists. */
const inspect = async (ctx: Context, session: Session): Promise<Inspection<Source>> => {
  const source = await sourceOf(ctx, session);
  if (source.status !== 'planned') return source;
  // Offline: the finding says whether the instance is a cluster member.
  const db =
    source.state ??
    (() => {
      const named = resourcesOfKind(ctx.finding, 'rds-instance').find(
        (item) => item.dbInstanceIdentifier === ctx.target.id,
      );
      const cluster = named?.dbClusterIdentifier;
      return cluster !== undefined && invalidId('rds-instance-identifier', cluster) === undefined
        ? { kind: 'cluster' as const, id: cluster }
        : { kind: 'instance' as const, id: ctx.target.id };
    })();
  const existing = await existingSnapshots(ctx, session, db);
  if (existing === 'absent') {
    return noOp(`${db.kind === 'cluster' ? 'DB cluster' : 'DB instance'} ${db.id} no longer exists`);
  }
  if (existing !== undefined && existing.length > 0) {
    return noOp(
      `${db.kind === 'cluster' ? 'cluster ' : ''}snapshot(s) ${existing.map(shown).join(', ')} of ${db.id} were already taken for this finding`,
    );
  }
  return planned(db);
};

const mutations = (ctx: Context, source: Source): Mutation[] => {
  const id = snapshotIdentifier(ctx.finding, ctx.now);
  const Tags = findingTags(ctx.finding);
  return [
    source.kind === 'instance'
      ? mutation(ctx, 'rds', 'CreateDBSnapshot', {
          DBInstanceIdentifier: source.id,
          DBSnapshotIdentifier: id,
          Tags,
        })
      : mutation(ctx, 'rds', 'CreateDBClusterSnapshot', {
          DBClusterIdentifier: source.id,
          DBClusterSnapshotIdentifier: id,
          Tags,
        }),
  ];
};

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, source: Source) => ({
    snapshotIdentifier: snapshotIdentifier(ctx.finding, ctx.now),
    [source.kind === 'instance' ? 'dbInstanceIdentifier' : 'dbClusterIdentifier']: source.id,
  }),
};

/**
 * Preserves evidence before containment: a manual snapshot of each DB instance the finding names, or of
 * its cluster when it is an Aurora member (an Aurora instance has no snapshot of its own), or of the
 * cluster of a Limitless Database, tagged with the finding.
 */
export const snapshotRds = defineAction<SnapshotRdsParams, AwsServices>({
  name: 'snapshot-rds',
  summary:
    'Take a manual snapshot of each RDS DB instance the finding names, or of its Aurora (or Limitless Database) cluster, tagged with the finding.',
  phase: 'preserve',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: [
    'rds:DescribeDBInstances',
    'rds:DescribeDBSnapshots',
    'rds:DescribeDBClusterSnapshots',
    'rds:CreateDBSnapshot',
    'rds:CreateDBClusterSnapshot',
    'rds:AddTagsToResource',
  ],
  grants: () => GRANTS,
  resourceKinds: ['rds-instance', 'rds-cluster', 'rds-limitless-db'],
  example: '- action: snapshot-rds',
  idempotency:
    'Skipped when a manual snapshot of the DB instance (or cluster) tagged with this finding id already exists.',
  dryRun:
    'Refuses a malformed DB identifier; looks up the instance (an Aurora member is copied through its cluster) and its snapshots; lists CreateDBSnapshot or CreateDBClusterSnapshot with the identifier riposte-<finding id prefix>-<UTC timestamp> and the finding tags.',

  targets: (finding) =>
    resolved(targetsOf(finding), 'the finding names no RDS DB instance, cluster or Limitless Database'),

  plan: planWith(step),
  execute: executeWith(step),
  undo: {
    none: 'the snapshot is evidence of the incident and is kept; delete it by hand once the investigation no longer needs it',
  },
});
