import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import type { Finding } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { snapshotIdentifier, snapshotRds } from '../../src/actions/snapshot-rds.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import { CLUSTER_ID, DB_ID, maliciousObject, rdsSuccessfulLogin } from '../helpers/rds-s3-findings.js';

const rds = mockClient(RDSClient);
const FINDING_ID = rdsSuccessfulLogin().id;
const SNAPSHOT_ID = 'riposte-5abcdefa-20220128213000';
const tags = [
  { Key: 'riposte:finding-id', Value: FINDING_ID },
  { Key: 'riposte:finding-type', Value: 'CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin' },
];

beforeEach(() => {
  rds.reset();
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [{ DBInstanceIdentifier: DB_ID, DBInstanceStatus: 'available', Engine: 'postgres' }],
  });
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  rds.on(CreateDBSnapshotCommand).resolves({});
  rds.on(CreateDBClusterSnapshotCommand).resolves({});
});
afterAll(() => rds.restore());

const SHARD_GROUP_ID = 'orders-limitless';
const LIMITLESS_CLUSTER_ID = 'orders-limitless-cluster';
const CLUSTER_ARN = `arn:aws:rds:us-east-1:123456789012:cluster:${CLUSTER_ID}`;

const rdsError = (name: string, httpStatusCode = 400) =>
  new RDSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message: name });

/** The login finding on a Limitless Database (its shard group and cluster), as GuardDuty reports one. */
const limitlessLogin = (dbClusterIdentifier: string | null = LIMITLESS_CLUSTER_ID): Finding => {
  const finding = rdsSuccessfulLogin({ engine: 'aurora-postgresql' });
  return {
    ...finding,
    resources: [
      {
        kind: 'rds-limitless-db',
        dbShardGroupIdentifier: SHARD_GROUP_ID,
        ...(dbClusterIdentifier === null ? {} : { dbClusterIdentifier }),
        engine: 'aurora-postgresql',
        tags: {},
      },
    ],
  };
};

/** The login finding with only the Aurora cluster named (as Security Hub's AwsRdsDbCluster). */
const clusterOnly = (arn?: string): Finding => {
  const finding = rdsSuccessfulLogin();
  return {
    ...finding,
    resources: [
      {
        kind: 'rds-cluster',
        dbClusterIdentifier: CLUSTER_ID,
        ...(arn === undefined ? {} : { arn }),
        engine: 'aurora-postgresql',
        tags: {},
      },
    ],
  };
};

const clusterSnapshotCall = (DBClusterIdentifier: string) => ({
  service: 'RDS',
  operation: 'CreateDBClusterSnapshot',
  input: { DBClusterIdentifier, DBClusterSnapshotIdentifier: SNAPSHOT_ID, Tags: tags },
  mutating: true,
});

const instanceInputs = () => rds.commandCalls(DescribeDBSnapshotsCommand).map((call) => call.args[0].input);
const clusterInputs = () =>
  rds.commandCalls(DescribeDBClusterSnapshotsCommand).map((call) => call.args[0].input);

describe('snapshot-rds', () => {
  it('plans a DB snapshot named after the finding and the time, tagged with the finding', async () => {
    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'RDS',
        operation: 'CreateDBSnapshot',
        input: { DBInstanceIdentifier: DB_ID, DBSnapshotIdentifier: SNAPSHOT_ID, Tags: tags },
        mutating: true,
      },
    ]);
    expect(sentCommands(rds)).toEqual(['DescribeDBInstancesCommand', 'DescribeDBSnapshotsCommand']);
  });

  it('snapshots the cluster of an Aurora member, and targets a named cluster only once', async () => {
    const finding = rdsSuccessfulLogin({ cluster: true, engine: 'aurora-postgresql' });
    const { targets } = snapshotRds.targets(finding, {});

    const plan = await snapshotRds.plan(contextFor(snapshotRds, finding));

    expect(targets.map((target) => `${target.kind} ${target.id}`)).toEqual([`rds-cluster ${CLUSTER_ID}`]);
    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'CreateDBClusterSnapshot',
        input: { DBClusterIdentifier: CLUSTER_ID, DBClusterSnapshotIdentifier: SNAPSHOT_ID, Tags: tags },
      }),
    ]);
  });

  it('plans a no-op when a snapshot tagged with this finding exists', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        { DBSnapshotIdentifier: 'riposte-5abcdefa-1', DBInstanceIdentifier: DB_ID, TagList: tags },
      ],
    });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: expect.stringContaining('already taken for this finding'),
    });
  });

  it('creates the snapshot when executed, and skips the second time', async () => {
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin());
    const first = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [{ DBSnapshotIdentifier: SNAPSHOT_ID, DBInstanceIdentifier: DB_ID, TagList: tags }],
    });
    const again = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(first).toMatchObject({ status: 'applied', outputs: { snapshotIdentifier: SNAPSHOT_ID } });
    expect(first.undo).toBeUndefined();
    expect(again.status).toBe('skipped');
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(1);
  });

  it('maps an SDK error to an execution error', async () => {
    rds.on(CreateDBSnapshotCommand).rejects(
      new RDSServiceException({
        name: 'SnapshotQuotaExceededFault',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'quota',
      }),
    );
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin());

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome.status).toBe('failed');
    expect(outcome.calls.at(-1)).toMatchObject({
      operation: 'CreateDBSnapshot',
      errorCode: 'SnapshotQuotaExceededFault',
    });
  });

  it('makes no mutating call in dry-run', async () => {
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin(), { mode: 'dry-run' });

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome.status).toBe('failed');
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('refuses a malformed DB identifier before any call', async () => {
    const finding = rdsSuccessfulLogin();
    const ctx = contextFor(snapshotRds, finding, {
      target: { ...snapshotRds.targets(finding, {}).targets[0]!, id: 'db--*' },
    });

    const plan = await snapshotRds.plan(ctx);

    expect(plan.status).toBe('refused');
    expect(rds.calls()).toHaveLength(0);
  });

  it('declares why it has no inverse', () => {
    expect(snapshotRds.undo).toEqual({ none: expect.stringContaining('evidence') });
  });

  it('has no target when the finding names no RDS DB', () => {
    expect(snapshotRds.targets(maliciousObject(), {})).toEqual({
      targets: [],
      reason: 'the finding names no RDS DB instance, cluster or Limitless Database',
    });
  });

  it('names the snapshot "finding" when the finding id has no letter or digit', () => {
    const finding = { ...rdsSuccessfulLogin(), id: '--__--' };

    expect(snapshotIdentifier(finding, NOW)).toBe('riposte-finding-20220128213000');
  });
});

describe('snapshot-rds on clusters', () => {
  it('targets a named cluster with its ARN and plans a cluster snapshot without reading an instance', async () => {
    const finding = clusterOnly(CLUSTER_ARN);
    const { targets } = snapshotRds.targets(finding, {});

    const plan = await snapshotRds.plan(contextFor(snapshotRds, finding));

    expect(targets).toEqual([
      expect.objectContaining({
        kind: 'rds-cluster',
        id: CLUSTER_ID,
        arn: CLUSTER_ARN,
        label: `DB cluster ${CLUSTER_ID}`,
      }),
    ]);
    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([clusterSnapshotCall(CLUSTER_ID)]);
    expect(plan.lookups.map((lookup) => lookup.summary)).toEqual([
      `no snapshot of cluster ${CLUSTER_ID} for this finding yet`,
    ]);
    expect(clusterInputs()).toEqual([
      { DBClusterIdentifier: CLUSTER_ID, SnapshotType: 'manual', MaxRecords: 100 },
    ]);
    expect(sentCommands(rds)).toEqual(['DescribeDBClusterSnapshotsCommand']);
  });

  it('creates the cluster snapshot when executed and reports the cluster it copied', async () => {
    const ctx = contextFor(snapshotRds, clusterOnly());

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'applied',
      outputs: { snapshotIdentifier: SNAPSHOT_ID, dbClusterIdentifier: CLUSTER_ID },
    });
    expect(rds.commandCalls(CreateDBClusterSnapshotCommand).map((call) => call.args[0].input)).toEqual([
      clusterSnapshotCall(CLUSTER_ID).input,
    ]);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('snapshots the cluster of an instance the lookup finds to be a cluster member', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: DB_ID,
          DBInstanceStatus: 'available',
          Engine: 'aurora-postgresql',
          DBClusterIdentifier: CLUSTER_ID,
        },
      ],
    });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([clusterSnapshotCall(CLUSTER_ID)]);
    expect(plan.lookups.map((lookup) => lookup.summary)).toEqual([
      `${DB_ID} is available (aurora-postgresql), a member of cluster ${CLUSTER_ID}`,
      `no snapshot of cluster ${CLUSTER_ID} for this finding yet`,
    ]);
    expect(sentCommands(rds)).toEqual(['DescribeDBInstancesCommand', 'DescribeDBClusterSnapshotsCommand']);
    expect(instanceInputs()).toEqual([]);
  });

  it('refuses when the lookup answers a cluster id that does not validate, without a snapshot read', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: DB_ID, DBClusterIdentifier: 'cluster--*' }],
    });
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin());

    const plan = await snapshotRds.plan(ctx);
    const outcome = await snapshotRds.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain(`the cluster of DB instance ${DB_ID}: "cluster--*" is not a valid`);
    expect(plan.lookups[0]?.summary).toBe(
      `${DB_ID} is unknown (unknown engine), a member of cluster cluster--*`,
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED', retryable: false } });
    expect(sentCommands(rds)).toEqual(['DescribeDBInstancesCommand', 'DescribeDBInstancesCommand']);
  });

  it('plans a no-op naming the cluster snapshot when this finding already has one', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [
        { DBClusterSnapshotIdentifier: 'riposte-5abcdefa-1', DBClusterIdentifier: CLUSTER_ID, TagList: tags },
      ],
    });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, clusterOnly()));

    expect(plan).toMatchObject({
      status: 'no-op',
      calls: [],
      reason: `cluster snapshot(s) "riposte-5abcdefa-1" of ${CLUSTER_ID} were already taken for this finding`,
    });
    expect(plan.lookups[0]?.summary).toBe('cluster snapshots riposte-5abcdefa-1 exist');
  });

  it('ignores cluster snapshots of another cluster, of another finding, or untagged', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [
        { DBClusterSnapshotIdentifier: 'other-cluster', DBClusterIdentifier: 'other-aurora', TagList: tags },
        {
          DBClusterSnapshotIdentifier: 'other-finding',
          DBClusterIdentifier: CLUSTER_ID,
          TagList: [{ Key: 'riposte:finding-id', Value: 'otherfinding0000000000000000000a' }],
        },
        { DBClusterSnapshotIdentifier: 'untagged', DBClusterIdentifier: CLUSTER_ID },
      ],
    });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, clusterOnly()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([clusterSnapshotCall(CLUSTER_ID)]);
  });

  it('reads the next page of cluster snapshots and skips when this finding has one there', async () => {
    rds
      .on(DescribeDBClusterSnapshotsCommand)
      .resolvesOnce({ DBClusterSnapshots: [], Marker: 'page-2' })
      .resolves({
        DBClusterSnapshots: [
          {
            DBClusterSnapshotIdentifier: 'riposte-5abcdefa-2',
            DBClusterIdentifier: CLUSTER_ID,
            TagList: tags,
          },
        ],
      });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, clusterOnly()));

    expect(plan).toMatchObject({ status: 'no-op', reason: expect.stringContaining('"riposte-5abcdefa-2"') });
    expect(plan.lookups[0]?.summary).toBe(
      `no snapshot of cluster ${CLUSTER_ID} for this finding on this page`,
    );
    expect(clusterInputs()).toEqual([
      { DBClusterIdentifier: CLUSTER_ID, SnapshotType: 'manual', MaxRecords: 100 },
      { DBClusterIdentifier: CLUSTER_ID, SnapshotType: 'manual', MaxRecords: 100, Marker: 'page-2' },
    ]);
  });

  it('fails retryably when RDS throttles the cluster snapshot', async () => {
    rds.on(CreateDBClusterSnapshotCommand).rejects(rdsError('ThrottlingException'));
    const ctx = contextFor(snapshotRds, clusterOnly());

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'ThrottlingException', retryable: true },
    });
    expect(outcome.calls.at(-1)).toMatchObject({
      operation: 'CreateDBClusterSnapshot',
      errorCode: 'ThrottlingException',
    });
  });
});

describe('snapshot-rds on a Limitless Database', () => {
  it('targets the shard group and snapshots its cluster', async () => {
    const finding = limitlessLogin();
    const { targets } = snapshotRds.targets(finding, {});

    const plan = await snapshotRds.plan(contextFor(snapshotRds, finding));

    expect(targets).toEqual([
      expect.objectContaining({
        kind: 'rds-limitless-db',
        id: SHARD_GROUP_ID,
        label: `Limitless Database ${SHARD_GROUP_ID} (cluster ${LIMITLESS_CLUSTER_ID})`,
      }),
    ]);
    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([clusterSnapshotCall(LIMITLESS_CLUSTER_ID)]);
    expect(sentCommands(rds)).toEqual(['DescribeDBClusterSnapshotsCommand']);
  });

  it('does not target a Limitless Database whose cluster is named, nor one without a cluster', () => {
    const named = limitlessLogin(CLUSTER_ID);
    const withCluster = { ...named, resources: [...named.resources, ...clusterOnly().resources] };

    expect(
      snapshotRds.targets(withCluster, {}).targets.map((target) => `${target.kind} ${target.id}`),
    ).toEqual([`rds-cluster ${CLUSTER_ID}`]);
    expect(snapshotRds.targets(limitlessLogin(null), {}).targets).toEqual([]);
  });

  it('refuses a Limitless Database target whose cluster the finding does not give, before any call', async () => {
    const finding = limitlessLogin(null);
    const ctx = contextFor(snapshotRds, finding, {
      target: {
        kind: 'rds-limitless-db',
        id: SHARD_GROUP_ID,
        accountId: finding.accountId,
        region: finding.region,
        label: `Limitless Database ${SHARD_GROUP_ID}`,
      },
    });

    const plan = await snapshotRds.plan(ctx);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toBe(
      `the cluster of Limitless Database ${SHARD_GROUP_ID}: undefined is not a RDS DB instance or cluster identifier (not a string)`,
    );
    expect(rds.calls()).toHaveLength(0);
  });

  it('refuses a Limitless Database whose cluster id is malformed, before any call', async () => {
    const ctx = contextFor(snapshotRds, limitlessLogin('cluster-*'));

    const plan = await snapshotRds.plan(ctx);
    const outcome = await snapshotRds.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain(`the cluster of Limitless Database ${SHARD_GROUP_ID}`);
    expect(plan.reason).toContain('"cluster-*" is not a valid RDS DB instance or cluster identifier');
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(rds.calls()).toHaveLength(0);
  });
});

describe('snapshot-rds reading existing snapshots', () => {
  it('reads the next page of DB snapshots, passing the marker, and skips on a match there', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({
        DBSnapshots: [{ DBSnapshotIdentifier: 'someone-else', DBInstanceIdentifier: DB_ID }],
        Marker: 'page-2',
      })
      .resolves({
        DBSnapshots: [
          { DBSnapshotIdentifier: 'riposte-5abcdefa-2', DBInstanceIdentifier: DB_ID, TagList: tags },
        ],
      });
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin());

    const plan = await snapshotRds.plan(ctx);

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `snapshot(s) "riposte-5abcdefa-2" of ${DB_ID} were already taken for this finding`,
    });
    expect(plan.lookups.map((lookup) => lookup.summary)).toEqual([
      `${DB_ID} is available (postgres)`,
      `no snapshot of ${DB_ID} for this finding on this page`,
      'snapshots riposte-5abcdefa-2 exist',
    ]);
    expect(instanceInputs()).toEqual([
      { DBInstanceIdentifier: DB_ID, SnapshotType: 'manual', MaxRecords: 100 },
      { DBInstanceIdentifier: DB_ID, SnapshotType: 'manual', MaxRecords: 100, Marker: 'page-2' },
    ]);
  });

  it('stops after ten pages without a match and plans the snapshot', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [], Marker: 'more' });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([expect.objectContaining({ operation: 'CreateDBSnapshot' })]);
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(10);
  });

  it('skips at execution when the snapshot was taken since planning', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [] })
      .resolves({
        DBSnapshots: [{ DBSnapshotIdentifier: SNAPSHOT_ID, DBInstanceIdentifier: DB_ID, TagList: tags }],
      });
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin());

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'skipped',
      reason: `snapshot(s) "${SNAPSHOT_ID}" of ${DB_ID} were already taken for this finding`,
    });
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });
});

describe('snapshot-rds when the DB is gone or going', () => {
  it('plans a no-op when the DB instance does not exist', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(rdsError('DBInstanceNotFoundFault', 404));
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin());

    const plan = await snapshotRds.plan(ctx);
    const outcome = await snapshotRds.execute(ctx, plan);

    expect(plan).toMatchObject({
      status: 'no-op',
      calls: [],
      reason: `DB instance ${DB_ID} no longer exists`,
    });
    expect(plan.lookups).toEqual([
      expect.objectContaining({ status: 'done', summary: `DB instance ${DB_ID} does not exist` }),
    ]);
    expect(outcome).toMatchObject({ status: 'skipped', reason: `DB instance ${DB_ID} no longer exists` });
    expect(sentCommands(rds)).toEqual(['DescribeDBInstancesCommand', 'DescribeDBInstancesCommand']);
  });

  it('plans a no-op when the lookup returns only another DB instance', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'billing-db', DBInstanceStatus: 'available' }],
    });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `DB instance ${DB_ID} no longer exists` });
    expect(plan.lookups[0]?.summary).toBe(`DB instance ${DB_ID} was not returned`);
    expect(sentCommands(rds)).toEqual(['DescribeDBInstancesCommand']);
  });

  it('matches the DB instance id without regard to case', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: DB_ID.toUpperCase(), DBInstanceStatus: 'available' }],
    });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan.status).toBe('planned');
  });

  it('plans a no-op when the DB instance is being deleted', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: DB_ID, DBInstanceStatus: 'deleting', Engine: 'postgres' }],
    });

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `DB instance ${DB_ID} is being deleted` });
    expect(sentCommands(rds)).toEqual(['DescribeDBInstancesCommand']);
  });

  it('plans a no-op when the DB instance disappears between its lookup and the snapshot lookup', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(rdsError('DBInstanceNotFound', 404));

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan.lookups[1]).toMatchObject({ status: 'done', summary: `DB instance ${DB_ID} does not exist` });
    expect(plan).toMatchObject({
      status: 'no-op',
      calls: [],
      reason: `DB instance ${DB_ID} no longer exists`,
    });
  });

  it('plans a no-op when the cluster does not exist', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(rdsError('DBClusterNotFoundFault', 404));

    const plan = await snapshotRds.plan(contextFor(snapshotRds, clusterOnly()));

    expect(plan.lookups).toEqual([
      expect.objectContaining({ status: 'done', summary: `DB cluster ${CLUSTER_ID} does not exist` }),
    ]);
    expect(plan).toMatchObject({
      status: 'no-op',
      calls: [],
      reason: `DB cluster ${CLUSTER_ID} no longer exists`,
    });
  });

  it('skips without a create call when the cluster is gone at execution', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(rdsError('DBClusterNotFound', 404));
    const ctx = contextFor(snapshotRds, clusterOnly());

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome).toMatchObject({ status: 'skipped', reason: `DB cluster ${CLUSTER_ID} no longer exists` });
    expect(rds.commandCalls(CreateDBClusterSnapshotCommand)).toHaveLength(0);
  });
});

describe('snapshot-rds errors', () => {
  it('fails retryably when RDS throttles the DB snapshot', async () => {
    rds.on(CreateDBSnapshotCommand).rejects(rdsError('Throttling', 400));
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin());

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'Throttling', retryable: true } });
  });

  it('fails without retry when RDS denies the snapshot', async () => {
    rds.on(CreateDBSnapshotCommand).rejects(rdsError('AccessDenied', 403));
    const ctx = contextFor(snapshotRds, rdsSuccessfulLogin());

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AccessDenied', retryable: false } });
    expect(outcome.calls.at(-1)).toMatchObject({ operation: 'CreateDBSnapshot', errorCode: 'AccessDenied' });
  });

  it('fails the plan when RDS denies the instance lookup, listing the failed lookup', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(rdsError('AccessDenied', 403));

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan).toMatchObject({
      status: 'failed',
      calls: [],
      lookups: [{ status: 'failed', errorCode: 'AccessDenied' }],
      error: { code: 'AccessDenied', retryable: false },
    });
    expect(sentCommands(rds)).toEqual(['DescribeDBInstancesCommand']);
  });

  it('refuses to mutate in dry-run, with the dry-run error and no create call', async () => {
    const ctx = contextFor(snapshotRds, clusterOnly(), { mode: 'dry-run' });

    const outcome = await snapshotRds.execute(ctx, await snapshotRds.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(rds.commandCalls(CreateDBClusterSnapshotCommand)).toHaveLength(0);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('refuses a malformed cluster target before any call', async () => {
    const finding = clusterOnly();
    const ctx = contextFor(snapshotRds, finding, {
      target: { ...snapshotRds.targets(finding, {}).targets[0]!, id: 'orders-aurora-' },
    });

    const plan = await snapshotRds.plan(ctx);
    const outcome = await snapshotRds.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toContain('"orders-aurora-" is not a valid RDS DB instance or cluster identifier');
    expect(plan.reason).toContain('nothing was looked up or changed');
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(rds.calls()).toHaveLength(0);
  });
});

describe('snapshot-rds planning without credentials', () => {
  it('plans a DB snapshot of a standalone instance offline', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(credentialsError());

    const plan = await snapshotRds.plan(contextFor(snapshotRds, rdsSuccessfulLogin()));

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [
        { status: 'unavailable', summary: `would look up DescribeDBInstances ${DB_ID}` },
        {
          status: 'unavailable',
          summary: `would look up DescribeDBSnapshots ${DB_ID} finding ${FINDING_ID}`,
        },
      ],
      calls: [
        {
          operation: 'CreateDBSnapshot',
          input: { DBInstanceIdentifier: DB_ID, DBSnapshotIdentifier: SNAPSHOT_ID, Tags: tags },
        },
      ],
    });
    expect(sentCommands(rds)).toEqual(['DescribeDBInstancesCommand']);
  });

  it('plans offline a snapshot of the cluster the finding says the instance belongs to', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(credentialsError());
    const finding = rdsSuccessfulLogin({ cluster: true, engine: 'aurora-postgresql' });
    const withoutCluster = {
      ...finding,
      resources: finding.resources.filter((r) => r.kind !== 'rds-cluster'),
    };

    const plan = await snapshotRds.plan(contextFor(snapshotRds, withoutCluster));

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [{ status: 'unavailable' }, { status: 'unavailable' }],
      calls: [clusterSnapshotCall(CLUSTER_ID)],
    });
    expect(plan.lookups[1]?.summary).toBe(
      `would look up DescribeDBClusterSnapshots ${CLUSTER_ID} finding ${FINDING_ID}`,
    );
  });

  it('plans offline a DB snapshot when the finding names a malformed cluster for the instance', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(credentialsError());
    const finding = rdsSuccessfulLogin();
    const forged = {
      ...finding,
      resources: finding.resources.map((r) =>
        r.kind === 'rds-instance' ? { ...r, dbClusterIdentifier: 'a--b' } : r,
      ),
    };

    const plan = await snapshotRds.plan(contextFor(snapshotRds, forged));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([expect.objectContaining({ operation: 'CreateDBSnapshot' })]);
  });

  it('plans a cluster snapshot offline when the snapshot lookup has no credentials', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(credentialsError());

    const plan = await snapshotRds.plan(contextFor(snapshotRds, clusterOnly()));

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [{ status: 'unavailable' }],
      calls: [clusterSnapshotCall(CLUSTER_ID)],
    });
  });
});
