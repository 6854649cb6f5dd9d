import { describe, expect, it } from 'vitest';
import { resourcesOfKind } from '../../src/finding.js';
import { normalizeFinding } from '../../src/normalize/index.js';
import { fixtureJson, formatError, withValue } from '../helpers/fixtures.js';

/** Backdoor:Lambda/C&CActivity.B, a function in a VPC. */
const lambda = () => fixtureJson('documented', '05');
/** Execution:Runtime/ReverseShell on ECS Fargate (EventBridge event). */
const ecsRuntime = () => fixtureJson('documented', '06');
/** Execution:EC2/MaliciousFile, two scanned volumes. */
const ec2Malware = () => fixtureJson('documented', '08');
/** Object:S3/MaliciousFile (EventBridge event). */
const s3Malware = () => fixtureJson('documented', '09');

const BUCKET = ['detail', 'resource', 's3BucketDetails', 0];
const TASK = ['detail', 'resource', 'ecsClusterDetails', 'taskDetails'];

describe('lambda-function (lambdaDetails)', () => {
  it('reads the function, its version, execution role and VPC', () => {
    expect(normalizeFinding(lambda()).resources).toEqual([
      {
        kind: 'lambda-function',
        name: 'invoice-renderer',
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:invoice-renderer',
        version: '$LATEST',
        role: 'arn:aws:iam::123456789012:role/invoice-renderer-execution',
        vpcId: 'vpc-0d1e2f3a4b5c67890',
        subnetIds: ['subnet-0d1e2f3a4b5c67890', 'subnet-0e1f2a3b4c5d67890'],
        securityGroups: [{ groupId: 'sg-0d1e2f3a4b5c67890', groupName: 'invoice-renderer' }],
        tags: { owner: 'billing' },
      },
    ]);
  });

  it('reads the remote address of the connection', () => {
    expect(normalizeFinding(lambda()).actor).toMatchObject({
      actionType: 'NETWORK_CONNECTION',
      remoteIp: '198.51.100.66',
      remotePort: 443,
      remoteIps: ['198.51.100.66'],
    });
  });

  it('reads a function outside a VPC without VPC fields', () => {
    const finding = normalizeFinding(
      withValue(lambda(), ['resource', 'lambdaDetails', 'vpcConfig'], undefined),
    );

    expect(finding.resources[0]).toEqual(expect.objectContaining({ vpcId: undefined, subnetIds: undefined }));
  });

  it('reads the ASFF function: Version, Role and VpcConfig', () => {
    expect(normalizeFinding(fixtureJson('documented', '11')).resources).toEqual([
      {
        kind: 'lambda-function',
        name: 'invoice-renderer',
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:invoice-renderer',
        version: '$LATEST',
        role: 'arn:aws:iam::123456789012:role/invoice-renderer-execution',
        vpcId: 'vpc-0d1e2f3a4b5c67890',
        subnetIds: ['subnet-0d1e2f3a4b5c67890', 'subnet-0e1f2a3b4c5d67890'],
        securityGroups: [{ groupId: 'sg-0d1e2f3a4b5c67890' }],
        tags: { owner: 'billing' },
      },
    ]);
  });
});

describe('ecs-cluster and ecs-task (ecsClusterDetails)', () => {
  it('gives the cluster and its task, with the task definition, launch type and containers', () => {
    expect(normalizeFinding(ecsRuntime()).resources).toEqual([
      {
        kind: 'ecs-cluster',
        name: 'checkout',
        arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/checkout',
        taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/checkout/9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4',
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout-api:17',
        tags: { team: 'checkout' },
      },
      {
        kind: 'ecs-task',
        arn: 'arn:aws:ecs:us-east-1:123456789012:task/checkout/9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4',
        clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/checkout',
        definitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout-api:17',
        version: '17',
        launchType: 'FARGATE',
        startedAt: '2025-02-15T08:00:15.000Z',
        startedBy: 'ecs-svc/1234567890123456789',
        group: 'service:checkout-api',
        containers: [
          {
            name: 'checkout-api',
            image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout-api:1.9.3',
            runtimeId: '9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4-3021458964',
          },
        ],
        tags: {},
      },
    ]);
  });

  it('gives the cluster alone when the task names no ARN', () => {
    const finding = normalizeFinding(withValue(ecsRuntime(), [...TASK, 'arn'], undefined));

    expect(finding.resources.map((resource) => resource.kind)).toEqual(['ecs-cluster']);
  });

  it('reads the ASFF task and container', () => {
    const finding = normalizeFinding(fixtureJson('documented', '12'));

    expect(resourcesOfKind(finding, 'ecs-task')).toEqual([
      {
        kind: 'ecs-task',
        arn: 'arn:aws:ecs:us-east-1:123456789012:task/checkout/9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4',
        clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/checkout',
        definitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout-api:17',
        version: '17',
        startedAt: '2025-02-15T08:00:15.000Z',
        startedBy: 'ecs-svc/1234567890123456789',
        group: 'service:checkout-api',
        containers: [
          { name: 'checkout-api', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout-api:1.9.3' },
        ],
        tags: {},
      },
    ]);
    expect(resourcesOfKind(finding, 'container')).toEqual([
      {
        kind: 'container',
        id: '9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4-3021458964',
        name: 'checkout-api',
        image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout-api:1.9.3',
        runtime: 'containerd',
      },
    ]);
  });

  it('leaves out an ASFF task without its cluster ARN', () => {
    const input = withValue(
      fixtureJson('documented', '12'),
      ['detail', 'findings', 0, 'Resources', 1, 'Details', 'AwsEcsTask', 'ClusterArn'],
      undefined,
    );

    expect(resourcesOfKind(normalizeFinding(input), 'ecs-task')).toEqual([]);
  });
});

describe('ebs-volume (Malware Protection for EC2)', () => {
  it('gives the instance and every scanned volume with its type, size, encryption and key', () => {
    const finding = normalizeFinding(ec2Malware());

    expect(finding.resources.map((resource) => resource.kind)).toEqual([
      'instance',
      'ebs-volume',
      'ebs-volume',
    ]);
    expect(resourcesOfKind(finding, 'ebs-volume')).toEqual([
      {
        kind: 'ebs-volume',
        volumeId: 'vol-0a1b2c3d4e5f60010',
        volumeArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1b2c3d4e5f60010',
        snapshotArn: 'arn:aws:ec2:us-east-1:123456789012:snapshot/snap-0a1b2c3d4e5f60010',
        deviceName: '/dev/xvda',
        volumeType: 'gp3',
        volumeSizeInGB: 30,
        encryptionType: 'CMK',
        kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
      {
        kind: 'ebs-volume',
        volumeId: 'vol-0a1b2c3d4e5f60011',
        volumeArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1b2c3d4e5f60011',
        snapshotArn: 'arn:aws:ec2:us-east-1:123456789012:snapshot/snap-0a1b2c3d4e5f60011',
        deviceName: '/dev/xvdb',
        volumeType: 'gp3',
        volumeSizeInGB: 100,
        encryptionType: 'UNENCRYPTED',
      },
    ]);
  });

  it('refuses a volume size that is not a whole number of gigabytes', () => {
    const keys = ['resource', 'ebsVolumeDetails', 'scannedVolumeDetails', 0, 'volumeSizeInGB'];

    expect(formatError(() => normalizeFinding(withValue(ec2Malware(), keys, -30))).path).toBe(
      `/${keys.join('/')}`,
    );
  });
});

describe('s3-object (Malware Protection for S3)', () => {
  it('gives the bucket and the object, with its version, ETag and SHA-256', () => {
    const finding = normalizeFinding(s3Malware());

    expect(finding.resources.map((resource) => resource.kind)).toEqual(['s3-bucket', 's3-object']);
    expect(resourcesOfKind(finding, 's3-object')).toEqual([
      {
        kind: 's3-object',
        bucket: 'customer-uploads-prod',
        key: 'incoming/2025/02/invoice-7731.pdf.exe',
        arn: 'arn:aws:s3:::customer-uploads-prod/incoming/2025/02/invoice-7731.pdf.exe',
        versionId: 'KBy8_m1r2a3n4d5o6m7v8e9r0s1i2o3n',
        eTag: '44d88612fea8a8f36de82e1278abb02f',
        hash: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
      },
    ]);
  });

  it('takes the key from the object ARN when the entry gives no key', () => {
    const input = withValue(s3Malware(), [...BUCKET, 's3ObjectDetails', 0, 'key'], undefined);

    expect(resourcesOfKind(normalizeFinding(input), 's3-object')[0]?.key).toBe(
      'incoming/2025/02/invoice-7731.pdf.exe',
    );
  });

  it('refuses an object entry with neither key nor ARN', () => {
    const entry = [...BUCKET, 's3ObjectDetails', 0];
    const input = withValue(
      withValue(s3Malware(), [...entry, 'key'], undefined),
      [...entry, 'objectArn'],
      undefined,
    );

    expect(formatError(() => normalizeFinding(input)).path).toBe(`/${entry.join('/')}/key`);
  });

  it.each([
    [[...BUCKET, 's3ObjectDetails'], { key: 'a' }],
    [[...BUCKET, 's3ObjectDetails', 0], 'incoming/a.exe'],
    [[...BUCKET, 's3ObjectDetails', 0, 'hash'], 12],
  ] as const)('refuses %j = %j at that node', (keys, value) => {
    expect(formatError(() => normalizeFinding(withValue(s3Malware(), [...keys], value))).path).toBe(
      `/${keys.join('/')}`,
    );
  });

  it('does not read objects of the buckets of an S3 policy finding', () => {
    // A Policy:S3 finding (resourceType AccessKey) lists buckets, and no object is its subject.
    const raw = fixtureJson('elastic-integrations', '23');
    const resource = raw.resource as { s3BucketDetails: Record<string, unknown>[] };
    const input = withValue(raw, ['resource', 's3BucketDetails', 0, 's3ObjectDetails'], [{ key: 'a.txt' }]);

    expect(resourcesOfKind(normalizeFinding(input), 's3-object')).toEqual([]);
    expect(resource.s3BucketDetails.length).toBeGreaterThan(0);
  });

  it('reads the ASFF object from its ARN and details', () => {
    const finding = normalizeFinding(fixtureJson('documented', '14'));

    expect(finding.resourceType).toBe('S3Bucket');
    expect(resourcesOfKind(finding, 's3-object')).toEqual([
      {
        kind: 's3-object',
        bucket: 'customer-uploads-prod',
        key: 'incoming/2025/02/invoice-7731.pdf.exe',
        arn: 'arn:aws:s3:::customer-uploads-prod/incoming/2025/02/invoice-7731.pdf.exe',
        versionId: 'KBy8_m1r2a3n4d5o6m7v8e9r0s1i2o3n',
        eTag: '44d88612fea8a8f36de82e1278abb02f',
      },
    ]);
  });

  it('refuses an ASFF object whose Id is not an object ARN', () => {
    const input = withValue(
      fixtureJson('documented', '14'),
      ['Resources', 1, 'Id'],
      'arn:aws:s3:::customer-uploads-prod',
    );

    expect(formatError(() => normalizeFinding(input)).path).toBe('/Resources/1/Id');
  });
});
