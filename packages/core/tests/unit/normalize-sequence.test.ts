import { describe, expect, it } from 'vitest';
import type { ActionTarget } from '../../src/action.js';
import { outOfScopeReason } from '../../src/engine/scope.js';
import { resourcesOfKind } from '../../src/finding.js';
import { normalizeFinding } from '../../src/normalize/index.js';
import { fixtureJson, formatError, valueAt, withValue } from '../helpers/fixtures.js';

/** AttackSequence:IAM/CompromisedCredentials (EventBridge event): access key, buckets, an object. */
const iamSequence = () => fixtureJson('documented', '01');
/** AttackSequence:EKS/CompromisedCluster: cluster, workload, container, node and its interface. */
const eksSequence = () => fixtureJson('documented', '02');
/** AttackSequence:EC2/CompromisedInstanceGroup: instances (one in another region), interfaces, ASG. */
const ec2Sequence = () => fixtureJson('documented', '03');
/** AttackSequence:ECS/CompromisedCluster (EventBridge event): cluster, task, container. */
const ecsSequence = () => fixtureJson('documented', '04');
/** The IAM sequence in ASFF (Detection.Sequence, as the Security Hub guide shows it). */
const asffSequence = () => fixtureJson('documented', '10');

const SEQUENCE = ['detail', 'service', 'detection', 'sequence'];
const BARE_SEQUENCE = ['service', 'detection', 'sequence'];

describe('attack sequence (service.detection.sequence)', () => {
  it('reads each signal with the ATT&CK techniques and tactics of its own indicators', () => {
    const { sequence } = normalizeFinding(iamSequence());

    expect(sequence?.uid).toBe('123456789012-184ec3b9-cf8d-452d-9aad-f5bdb7afb010');
    expect(sequence?.signals).toEqual([
      {
        uid: 'arn:aws:guardduty:us-east-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0/finding/535a382b1bcc44d6b219517a29058fb7',
        type: 'FINDING',
        name: 'PenTest:IAMUser/KaliLinux',
        description: 'An API was invoked from a Kali Linux computer.',
        createdAt: '2025-02-11T09:10:00.000Z',
        updatedAt: '2025-02-11T09:20:00.000Z',
        firstSeenAt: '2025-02-11T09:09:03.000Z',
        lastSeenAt: '2025-02-11T09:19:04.000Z',
        count: 19,
        severity: 5,
        techniques: ['T1526'],
        tactics: ['TA0007'],
        actorIds: ['USER:AROA987654321EXAMPLE:i-0abcdef1234567890:1234567891'],
        resourceUids: ['ASIAIOSFODNN7EXAMPLE'],
        endpointIds: ['203.0.113.1'],
      },
      expect.objectContaining({
        name: 'ListObjects',
        type: 'S3_DATA_EVENTS',
        techniques: ['T1619'],
        tactics: ['TA0007'],
      }),
      expect.objectContaining({ name: 'DeleteObject', techniques: ['T1485'], tactics: ['TA0040'] }),
    ]);
  });

  it('reads actors, endpoints and the sequence indicators', () => {
    const { sequence } = normalizeFinding(iamSequence());

    expect(sequence?.actors).toEqual([
      {
        id: 'USER:AROA987654321EXAMPLE:i-0abcdef1234567890:1234567891',
        user: {
          name: 'ec2_instance_role_production',
          uid: 'AROA987654321EXAMPLE:i-0abcdef1234567890',
          type: 'AssumedRole',
          credentialUid: 'ASIAIOSFODNN7EXAMPLE',
          account: '123456789012',
        },
        session: {
          uid: '1234567891',
          mfaStatus: 'DISABLED',
          createdTime: '2025-02-11T09:00:00.000Z',
          issuer: 'arn:aws:iam::123456789012:role/ec2_instance_role_production',
        },
      },
    ]);
    expect(sequence?.endpoints[0]).toEqual({
      id: '203.0.113.1',
      ip: '203.0.113.1',
      location: { city: 'New York', country: 'US', lat: 40.7123, lon: -74.0068 },
      autonomousSystem: { name: 'AnyCompany', number: 64496 },
      direction: 'INBOUND',
    });
    expect(sequence?.indicators.map((indicator) => indicator.key)).toEqual([
      'ATTACK_TACTIC',
      'HIGH_RISK_API',
      'ATTACK_TECHNIQUE',
      'MALICIOUS_IP',
    ]);
    expect(sequence?.indicators[3]).toEqual({
      key: 'MALICIOUS_IP',
      values: ['198.51.100.7'],
      title: 'Malicious IP',
    });
  });

  it('lists the sequence resources as GuardDuty gives them', () => {
    expect(normalizeFinding(iamSequence()).sequence?.resources).toEqual([
      {
        uid: 'ASIAIOSFODNN7EXAMPLE',
        type: 'ACCESS_KEY',
        name: 'ec2_instance_role_production',
        accountId: '123456789012',
        region: 'us-east-1',
      },
      {
        uid: 'arn:aws:s3:::customer-records-prod',
        type: 'S3_BUCKET',
        name: 'customer-records-prod',
        accountId: '123456789012',
        region: 'us-east-1',
      },
      {
        uid: 'arn:aws:s3:::customer-records-prod/exports/2025-02-10.csv',
        type: 'S3_OBJECT',
        name: 'exports/2025-02-10.csv',
        accountId: '123456789012',
        region: 'us-east-1',
      },
      {
        uid: 'arn:aws:s3:::audit-archive-eu',
        type: 'S3_BUCKET',
        name: 'audit-archive-eu',
        accountId: '123456789012',
        region: 'eu-west-1',
      },
    ]);
  });

  it('gives the finding every remote address the sequence names, each once', () => {
    const { actor } = normalizeFinding(iamSequence());

    expect(actor).toEqual({ remoteIp: '203.0.113.1', remoteIps: ['203.0.113.1', '198.51.100.7'] });
  });

  it('adds the addresses of cryptomining indicators and endpoints', () => {
    expect(normalizeFinding(eksSequence()).actor?.remoteIps).toEqual(['203.0.113.45']);
  });

  it('adds the sequence techniques to the finding techniques', () => {
    const ids = normalizeFinding(iamSequence()).techniques.map((technique) => technique.id);

    expect(ids).toEqual(expect.arrayContaining(['T1526', 'T1485']));
  });
});

describe('attack sequence resources', () => {
  it('adds the buckets and the object the finding block does not name, and not the access key twice', () => {
    const finding = normalizeFinding(iamSequence());

    expect(finding.resources.map((resource) => resource.kind)).toEqual([
      'access-key',
      's3-bucket',
      's3-object',
      's3-bucket',
    ]);
    expect(resourcesOfKind(finding, 's3-bucket')[0]).toEqual({
      kind: 's3-bucket',
      name: 'customer-records-prod',
      arn: 'arn:aws:s3:::customer-records-prod',
      ownerId: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
      createdAt: '2023-01-01T00:00:00.000Z',
      tags: { 'data-classification': 'confidential' },
      publicAccess: { effectivePermission: 'NOT_PUBLIC' },
      encryptionType: 'SSE-S3',
    });
    expect(resourcesOfKind(finding, 's3-object')).toEqual([
      {
        kind: 's3-object',
        bucket: 'customer-records-prod',
        key: 'exports/2025-02-10.csv',
        arn: 'arn:aws:s3:::customer-records-prod/exports/2025-02-10.csv',
        versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo',
        eTag: 'd41d8cd98f00b204e9800998ecf8427e',
      },
    ]);
  });

  it('adds the container and the node with its network interface to an EKS sequence', () => {
    const finding = normalizeFinding(eksSequence());

    expect(finding.resources.map((resource) => resource.kind)).toEqual([
      'eks-cluster',
      'kubernetes-workload',
      'kubernetes-user',
      'container',
      'instance',
    ]);
    expect(resourcesOfKind(finding, 'container')).toEqual([
      {
        kind: 'container',
        id: '5f0e8d1c2b3a49687766554433221100ffeeddccbbaa99887766554433221100',
        name: 'runner',
        image: 'public.ecr.aws/example/build-runner:2.4.1',
      },
    ]);
    expect(resourcesOfKind(finding, 'instance')[0]).toMatchObject({
      instanceId: 'i-0123456789abcdef0',
      arn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0',
      vpcId: 'vpc-0a1b2c3d4e5f67890',
      subnetId: 'subnet-0a1b2c3d4e5f67890',
      securityGroups: [{ groupId: 'sg-0a1b2c3d4e5f67890', groupName: 'eks-cluster-sg-payments-prod' }],
      networkInterfaces: [
        {
          networkInterfaceId: 'eni-0a1b2c3d4e5f67890',
          subnetId: 'subnet-0a1b2c3d4e5f67890',
          vpcId: 'vpc-0a1b2c3d4e5f67890',
          privateIpAddress: '10.0.1.25',
          securityGroups: [{ groupId: 'sg-0a1b2c3d4e5f67890', groupName: 'eks-cluster-sg-payments-prod' }],
        },
      ],
      role: 'resource',
    });
  });

  it('reads a workload that only the sequence names, with its containers and cluster', () => {
    const input = withValue(eksSequence(), ['resource', 'kubernetesDetails'], undefined);

    expect(resourcesOfKind(normalizeFinding(input), 'kubernetes-workload')).toEqual([
      {
        kind: 'kubernetes-workload',
        clusterName: 'payments-prod',
        namespace: 'payments',
        name: 'build-runner-6d9f7c8b5d-x2k4p',
        type: 'pods',
        uid: '7d3c5e9a-1b2f-4c6d-8e0a-9f1b2c3d4e5f',
        labels: {},
        containers: [{ name: 'runner', image: 'public.ecr.aws/example/build-runner:2.4.1' }],
        volumes: [],
      },
    ]);
  });

  it('adds every instance of an EC2 group, a bare id or an ARN, and leaves groups and profiles out', () => {
    const finding = normalizeFinding(ec2Sequence());

    expect(
      resourcesOfKind(finding, 'instance').map((instance) => [instance.instanceId, instance.arn]),
    ).toEqual([
      ['i-0a1b2c3d4e5f60001', 'arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60001'],
      ['i-0a1b2c3d4e5f60002', 'arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60002'],
      ['i-0f9e8d7c6b5a40003', 'arn:aws:ec2:us-west-2:123456789012:instance/i-0f9e8d7c6b5a40003'],
    ]);
    expect(finding.resources).toHaveLength(3);
    expect(resourcesOfKind(finding, 'instance')[1]?.networkInterfaces).toEqual([
      {
        networkInterfaceId: 'eni-0a1b2c3d4e5f60002',
        subnetId: 'subnet-0c1d2e3f4a5b67890',
        vpcId: 'vpc-0b1c2d3e4f5a67890',
        privateIpAddress: '10.1.3.12',
        securityGroups: [{ groupId: 'sg-0b1c2d3e4f5a67890', groupName: 'web-tier' }],
      },
    ]);
  });

  it('lets the scope check refuse a sequence instance of another region', () => {
    const finding = normalizeFinding(ec2Sequence());
    const target = (id: string): ActionTarget => ({
      kind: 'instance',
      id,
      accountId: finding.accountId,
      region: finding.region,
      label: `instance ${id}`,
    });

    expect(outOfScopeReason(finding, target('i-0a1b2c3d4e5f60002'))).toBeUndefined();
    expect(outOfScopeReason(finding, target('i-0f9e8d7c6b5a40003'))).toContain('us-west-2');
  });

  it('adds the task of an ECS sequence, its cluster read from the task ARN', () => {
    const finding = normalizeFinding(ecsSequence());

    expect(finding.resources.map((resource) => resource.kind)).toEqual([
      'ecs-cluster',
      'ecs-task',
      'container',
    ]);
  });

  it('reads a task only the sequence names, with its definition, launch type and containers', () => {
    const input = withValue(
      ecsSequence(),
      ['detail', 'resource', 'ecsClusterDetails', 'taskDetails'],
      undefined,
    );

    expect(resourcesOfKind(normalizeFinding(input), 'ecs-task')).toEqual([
      {
        kind: 'ecs-task',
        arn: 'arn:aws:ecs:us-east-1:123456789012:task/checkout/4f2c8a1b9d3e47f6a0b5c7d9e1f3a5b7',
        clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/checkout',
        definitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout-api:17',
        launchType: 'FARGATE',
        containers: [
          {
            name: 'checkout-api',
            image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout-api:1.9.3',
            runtimeId: '4f2c8a1b9d3e47f6a0b5c7d9e1f3a5b7-3021458964',
          },
        ],
        tags: { service: 'checkout-api' },
      },
    ]);
  });

  it('leaves out a resource whose uid is not an identifier of its kind, and a type the model has not', () => {
    const resources = valueAt(ec2Sequence(), [...BARE_SEQUENCE, 'resources']) as Record<string, unknown>[];
    const input = withValue(
      ec2Sequence(),
      [...BARE_SEQUENCE, 'resources'],
      [
        { ...resources[0], uid: 'web-tier-1', name: 'web-tier-1' },
        { uid: 'arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0b1c2d3e4f5a67890', resourceType: 'EC2_VPC' },
      ],
    );

    const finding = normalizeFinding(input);

    expect(finding.resources.map((resource) => resource.kind)).toEqual(['instance']);
    expect(finding.sequence?.resources.map((resource) => resource.type)).toEqual(['EC2_INSTANCE', 'EC2_VPC']);
  });

  it('reads the AWS::Service::Type spelling of resource types', () => {
    const input = withValue(
      iamSequence(),
      [...SEQUENCE, 'resources'],
      [{ uid: 'arn:aws:s3:::legacy-reports', resourceType: 'AWS::S3::Bucket' }],
    );

    expect(resourcesOfKind(normalizeFinding(input), 's3-bucket')).toEqual([
      expect.objectContaining({ name: 'legacy-reports', arn: 'arn:aws:s3:::legacy-reports' }),
    ]);
  });
});

describe('attack sequence in ASFF (Detection.Sequence)', () => {
  it('reads signals by Id, Title and ResourceIds, and actors, endpoints and indicators', () => {
    const finding = normalizeFinding(asffSequence());

    expect(finding.sequence?.signals).toEqual([
      {
        uid: 'arn:aws:guardduty:us-east-1:123456789012:detector/d0bfe135ab8b4dd8c3eaae7df9900073/finding/535a382b1bcc44d6b219517a29058fb7',
        type: 'FINDING',
        name: 'Test:IAMUser/KaliLinux',
        description: 'Someone ran a penetration test tool on your account.',
        firstSeenAt: '2024-05-28T17:22:23.000Z',
        lastSeenAt: '2024-05-28T17:22:24.000Z',
        count: 19,
        techniques: ['T1485'],
        tactics: ['TA0040'],
        actorIds: ['USER:AROA987654321EXAMPLE:i-b188560f:1234567891'],
        resourceUids: ['arn:aws:s3:::customer-records-prod'],
      },
    ]);
    expect(finding.sequence?.actors[0]?.user).toEqual({
      name: 'ec2_instance_role_production',
      uid: 'AROA987654321EXAMPLE:i-b188560f',
      type: 'AssumedRole',
      credentialUid: 'ASIAIOSFODNN7EXAMPLE',
      account: '123456789012',
    });
    expect(finding.sequence?.endpoints[0]).toMatchObject({
      ip: '203.0.113.1',
      domain: 'example.com',
      port: 4040,
    });
    expect(finding.actor?.remoteIps).toEqual(['203.0.113.1']);
    expect(finding.resources.map((resource) => resource.kind)).toEqual(['access-key', 's3-bucket']);
  });

  it('reads the MfAStatus spelling of the Security Hub user guide example', () => {
    const actors = valueAt(asffSequence(), [
      'detail',
      'findings',
      0,
      'Detection',
      'Sequence',
      'Actors',
    ]) as Record<string, unknown>[];
    const session = { Uid: '1234567891', MfAStatus: 'ENABLED' };
    const input = withValue(
      asffSequence(),
      ['detail', 'findings', 0, 'Detection', 'Sequence', 'Actors'],
      [{ ...actors[0], Session: session }],
    );

    expect(normalizeFinding(input).sequence?.actors[0]?.session).toEqual({
      uid: '1234567891',
      mfaStatus: 'ENABLED',
    });
  });
});

describe('malformed attack sequences', () => {
  it.each([
    [[...SEQUENCE, 'uid'], undefined, '/detail/service/detection/sequence/uid'],
    [[...SEQUENCE, 'signals', 0, 'uid'], undefined, '/detail/service/detection/sequence/signals/0/uid'],
    [[...SEQUENCE, 'signals', 0, 'type'], undefined, '/detail/service/detection/sequence/signals/0/type'],
    [[...SEQUENCE, 'signals', 0, 'count'], -1, '/detail/service/detection/sequence/signals/0/count'],
    [
      [...SEQUENCE, 'signals', 0, 'signalIndicators', 0, 'values'],
      'Discovery',
      '/detail/service/detection/sequence/signals/0/signalIndicators/0/values',
    ],
    [[...SEQUENCE, 'actors', 0, 'id'], 7, '/detail/service/detection/sequence/actors/0/id'],
    [[...SEQUENCE, 'endpoints', 0, 'port'], 70000, '/detail/service/detection/sequence/endpoints/0/port'],
    [
      [...SEQUENCE, 'endpoints', 0, 'location', 'lat'],
      'north',
      '/detail/service/detection/sequence/endpoints/0/location/lat',
    ],
    [[...SEQUENCE, 'resources', 0, 'uid'], undefined, '/detail/service/detection/sequence/resources/0/uid'],
    [
      [...SEQUENCE, 'resources', 1, 'data', 's3Bucket', 'createdAt'],
      'soon',
      '/detail/service/detection/sequence/resources/1/data/s3Bucket/createdAt',
    ],
    [
      [...SEQUENCE, 'sequenceIndicators', 0],
      'ATTACK_TACTIC',
      '/detail/service/detection/sequence/sequenceIndicators/0',
    ],
  ] as const)('refuses %j = %j at %s', (keys, value, path) => {
    const error = formatError(() => normalizeFinding(withValue(iamSequence(), [...keys], value)));

    expect(error.code).toBe('FINDING_INVALID');
    expect(error.path).toBe(path);
  });

  it.each([
    ['signals', 101],
    ['actors', 401],
    ['endpoints', 401],
    ['resources', 401],
    ['sequenceIndicators', 101],
  ])('refuses more %s than the API allows (%i)', (key, count) => {
    const list = valueAt(iamSequence(), [...SEQUENCE, key]) as unknown[];
    const many = Array.from({ length: count }, () => list[0]);

    const error = formatError(() => normalizeFinding(withValue(iamSequence(), [...SEQUENCE, key], many)));

    expect(error.path).toBe(`/detail/service/detection/sequence/${key}`);
    expect(error.message).toContain('expected at most');
  });

  it('leaves out indicator values that are not IP addresses', () => {
    const input = withValue(
      iamSequence(),
      [...SEQUENCE, 'sequenceIndicators', 3, 'values'],
      ['198.51.100.7', 'not-an-ip', '2001:db8::1'],
    );

    expect(normalizeFinding(input).actor?.remoteIps).toEqual(['203.0.113.1', '198.51.100.7', '2001:db8::1']);
  });
});
