import {
  CreateSnapshotsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { snapshotVolumes } from '../../src/actions/snapshot-volumes.js';
import { contextFor, credentialsError, sentCommands } from '../helpers/context.js';
import { commandAndControl, INSTANCE_ID, maliciousIpCaller } from '../helpers/findings.js';

const ec2 = mockClient(EC2Client);
const FINDING_ID = commandAndControl().id;

const describeInput = {
  OwnerIds: ['self'],
  Filters: [
    { Name: 'tag:riposte:finding-id', Values: [FINDING_ID] },
    { Name: 'tag:riposte:instance-id', Values: [INSTANCE_ID] },
  ],
};

const createInput = {
  InstanceSpecification: { InstanceId: INSTANCE_ID, ExcludeBootVolume: false },
  Description: `Riposte evidence of ${INSTANCE_ID} for GuardDuty finding ${FINDING_ID} (Backdoor:EC2/C&CActivity.B)`,
  TagSpecifications: [
    {
      ResourceType: 'snapshot',
      Tags: [
        { Key: 'riposte:finding-id', Value: FINDING_ID },
        // S3 and IAM refuse `&` in tag values; snapshots get the same sanitised value for consistency.
        { Key: 'riposte:finding-type', Value: 'Backdoor:EC2/C_CActivity.B' },
        { Key: 'riposte:instance-id', Value: INSTANCE_ID },
      ],
    },
  ],
  CopyTagsFromSource: 'volume',
};

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeSnapshotsCommand, describeInput).resolves({ Snapshots: [] });
});
afterAll(() => ec2.restore());

describe('snapshot-volumes', () => {
  it('has no target when the finding names no instance', () => {
    expect(snapshotVolumes.targets(maliciousIpCaller(), {})).toEqual({
      targets: [],
      reason: 'the finding names no EC2 instance',
    });
  });

  it('plans one multi-volume snapshot set of the instance, tagged with the finding', async () => {
    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      { service: 'EC2', operation: 'CreateSnapshots', input: createInput, mutating: true },
    ]);
    expect(plan.lookups[0]).toMatchObject({
      call: { operation: 'DescribeSnapshots', input: describeInput },
      summary: `no snapshot of ${INSTANCE_ID} for this finding yet`,
    });
  });

  it('plans a no-op when this finding already has snapshots of the instance', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-0a1b2c3d4e5f60718' }] });

    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `snapshots snap-0a1b2c3d4e5f60718 of ${INSTANCE_ID} were already taken for this finding`,
    });
  });

  it('plans offline without credentials', async () => {
    ec2.on(DescribeSnapshotsCommand).rejects(credentialsError());

    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan).toMatchObject({ status: 'planned', lookups: [{ status: 'unavailable' }] });
  });

  it('sends no mutating command while planning', async () => {
    await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(sentCommands(ec2)).toEqual(['DescribeSnapshotsCommand']);
  });

  it('creates the snapshots with the exact planned input and reports their ids', async () => {
    ec2.on(CreateSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-0aaa1111bbbb2222c' }, { SnapshotId: 'snap-0ddd3333eeee4444f' }],
    });
    const ctx = contextFor(snapshotVolumes, commandAndControl());

    const outcome = await snapshotVolumes.execute(ctx, await snapshotVolumes.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(CreateSnapshotsCommand).map((call) => call.args[0].input)).toEqual([createInput]);
    expect(outcome.outputs).toEqual({ snapshotIds: ['snap-0aaa1111bbbb2222c', 'snap-0ddd3333eeee4444f'] });
  });

  it('skips when the snapshots were taken since planning', async () => {
    ec2
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [] })
      .resolves({ Snapshots: [{ SnapshotId: 'snap-0a1b2c3d4e5f60718' }] });
    const ctx = contextFor(snapshotVolumes, commandAndControl());

    const outcome = await snapshotVolumes.execute(ctx, await snapshotVolumes.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(CreateSnapshotsCommand)).toHaveLength(0);
  });

  it('fails retryably when EC2 throttles the request', async () => {
    ec2.on(CreateSnapshotsCommand).rejects(
      new EC2ServiceException({
        name: 'RequestLimitExceeded',
        $fault: 'client',
        $metadata: { httpStatusCode: 503, requestId: 'rate-1' },
        message: 'Request limit exceeded.',
      }),
    );
    const ctx = contextFor(snapshotVolumes, commandAndControl());

    const outcome = await snapshotVolumes.execute(ctx, await snapshotVolumes.plan(ctx));

    expect(outcome.error).toMatchObject({ code: 'RequestLimitExceeded', retryable: true });
  });

  it('fails without retry when EC2 denies it', async () => {
    ec2.on(CreateSnapshotsCommand).rejects(
      new EC2ServiceException({
        name: 'UnauthorizedOperation',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
        message: 'You are not authorized to perform this operation.',
      }),
    );
    const ctx = contextFor(snapshotVolumes, commandAndControl());

    const outcome = await snapshotVolumes.execute(ctx, await snapshotVolumes.plan(ctx));

    expect(outcome.error).toMatchObject({ code: 'UnauthorizedOperation', retryable: false });
  });
});
