import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { snapshotRds } from '../../src/actions/snapshot-rds.js';
import { contextFor, sentCommands } from '../helpers/context.js';
import { CLUSTER_ID, DB_ID, rdsSuccessfulLogin } from '../helpers/rds-s3-findings.js';

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
});
