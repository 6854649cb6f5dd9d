import {
  CreateSnapshotsCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  EC2ServiceException,
  type Instance,
} from '@aws-sdk/client-ec2';
import { hasInverse } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { snapshotVolumes } from '../../src/actions/snapshot-volumes.js';
import { contextFor, credentialsError, expectRefusedInstanceId, sentCommands } from '../helpers/context.js';
import { commandAndControl, forgedInstance, INSTANCE_ID, maliciousIpCaller } from '../helpers/findings.js';

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

const ROOT_VOLUME = 'vol-0a1b2c3d4e5f60001';
const DATA_VOLUME = 'vol-0a1b2c3d4e5f60002';

const instance = (fields: Partial<Instance> = {}) => ({
  Reservations: [
    {
      Instances: [
        {
          InstanceId: INSTANCE_ID,
          State: { Name: 'running' as const, Code: 16 },
          BlockDeviceMappings: [
            { DeviceName: '/dev/xvda', Ebs: { VolumeId: ROOT_VOLUME, Status: 'attached' as const } },
            { DeviceName: '/dev/xvdf', Ebs: { VolumeId: DATA_VOLUME, Status: 'attached' as const } },
          ],
          ...fields,
        },
      ],
    },
  ],
  $metadata: { requestId: 'describe-instances-1' },
});

/** A snapshot carrying the tags this step writes for `instanceId` and `findingId`. */
const snapshot = (SnapshotId: string, instanceId = INSTANCE_ID, findingId = FINDING_ID) => ({
  SnapshotId,
  Tags: [
    { Key: 'riposte:finding-id', Value: findingId },
    { Key: 'riposte:instance-id', Value: instanceId },
  ],
});

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE_ID] }).resolves(instance());
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
    expect(plan.lookups).toEqual([
      expect.objectContaining({
        call: expect.objectContaining({
          operation: 'DescribeInstances',
          input: { InstanceIds: [INSTANCE_ID] },
        }),
        summary: `${INSTANCE_ID} is running with EBS volumes "${ROOT_VOLUME}", "${DATA_VOLUME}"`,
      }),
      expect.objectContaining({
        call: expect.objectContaining({ operation: 'DescribeSnapshots', input: describeInput }),
        summary: `no snapshot of ${INSTANCE_ID} for this finding yet`,
      }),
    ]);
  });

  it('plans a no-op when this finding already has snapshots of the instance', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-0a1b2c3d4e5f60718')] });

    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `snapshots snap-0a1b2c3d4e5f60718 of ${INSTANCE_ID} were already taken for this finding`,
    });
  });

  it('plans a no-op when the instance is terminated', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ State: { Name: 'terminated', Code: 48 } }));

    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `instance ${INSTANCE_ID} is terminated; its volumes cannot be copied`,
    });
  });

  it('plans offline without credentials', async () => {
    ec2.on(DescribeInstancesCommand).rejects(credentialsError());

    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [{ status: 'unavailable' }, { status: 'unavailable' }],
      calls: [{ operation: 'CreateSnapshots', input: createInput }],
    });
    expect(sentCommands(ec2)).toEqual(['DescribeInstancesCommand']);
  });

  it('sends no mutating command while planning', async () => {
    await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(sentCommands(ec2)).toEqual(['DescribeInstancesCommand', 'DescribeSnapshotsCommand']);
  });

  it('creates the snapshots with the exact planned input and reports their ids', async () => {
    ec2.on(CreateSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-0aaa1111bbbb2222c' }, { SnapshotId: 'snap-0ddd3333eeee4444f' }],
    });
    const ctx = contextFor(snapshotVolumes, commandAndControl());

    const outcome = await snapshotVolumes.execute(ctx, await snapshotVolumes.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(CreateSnapshotsCommand).map((call) => call.args[0].input)).toEqual([createInput]);
    expect(outcome.outputs).toEqual({
      snapshotIds: ['snap-0aaa1111bbbb2222c', 'snap-0ddd3333eeee4444f'],
      volumeIds: [ROOT_VOLUME, DATA_VOLUME],
    });
  });

  it('skips when the snapshots were taken since planning', async () => {
    ec2
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [] })
      .resolves({ Snapshots: [snapshot('snap-0a1b2c3d4e5f60718')] });
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

describe('snapshot-volumes against a forged finding', () => {
  it.each([['*'], ['i-0*'], ['i-????????'], [`${INSTANCE_ID} `]])(
    'refuses the instance id %j without any AWS call',
    async (instanceId) => {
      await expectRefusedInstanceId(snapshotVolumes, forgedInstance(instanceId), ec2);
    },
  );

  it('does not take snapshots of other instances or findings for evidence already kept', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        snapshot('snap-0a1b2c3d4e5f60718', 'i-0fedcba9876543210'),
        snapshot('snap-0a1b2c3d4e5f60719', INSTANCE_ID, 'otherfinding0000000000000000000a'),
        { SnapshotId: 'snap-0a1b2c3d4e5f6071a' },
      ],
    });

    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan.status).toBe('planned');
    expect(plan.lookups[1]?.summary).toBe(
      `no snapshot of ${INSTANCE_ID} for this finding yet; ignored 3 snapshot(s) of other instances or findings: "snap-0a1b2c3d4e5f60718", "snap-0a1b2c3d4e5f60719", "snap-0a1b2c3d4e5f6071a"`,
    );
  });

  it('plans a no-op when the lookup returns only another instance', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ InstanceId: 'i-0fedcba9876543210' }));

    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `instance ${INSTANCE_ID} no longer exists` });
    expect(plan.lookups[0]?.summary).toContain('ignored 1 other instance(s): "i-0fedcba9876543210"');
    expect(sentCommands(ec2)).toEqual(['DescribeInstancesCommand']);
  });

  it('plans a no-op when the instance no longer exists', async () => {
    ec2.on(DescribeInstancesCommand).rejects(
      new EC2ServiceException({
        name: 'InvalidInstanceID.NotFound',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: `The instance ID '${INSTANCE_ID}' does not exist`,
      }),
    );

    const plan = await snapshotVolumes.plan(contextFor(snapshotVolumes, commandAndControl()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `instance ${INSTANCE_ID} no longer exists` });
  });

  it('refuses when the lookup answers a volume id that does not validate', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolves(instance({ BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-*' } }] }));
    const ctx = contextFor(snapshotVolumes, commandAndControl());

    const plan = await snapshotVolumes.plan(ctx);
    const outcome = await snapshotVolumes.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('"vol-*" is not a valid EBS volume id');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(ec2.commandCalls(CreateSnapshotsCommand)).toHaveLength(0);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    const ctx = contextFor(snapshotVolumes, commandAndControl(), { mode: 'dry-run' });

    const outcome = await snapshotVolumes.execute(ctx, await snapshotVolumes.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(ec2.commandCalls(CreateSnapshotsCommand)).toHaveLength(0);
  });
});

describe('snapshot-volumes undo', () => {
  it('declares no inverse: the snapshots are evidence and are kept', () => {
    expect(hasInverse(snapshotVolumes.undo)).toBe(false);
    expect(snapshotVolumes.undo).toEqual({
      none: 'the snapshots are evidence of the incident and are kept; delete them by hand once the investigation no longer needs them',
    });
  });
});
