import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  cloudtrail,
  ec2,
  ecs as ecsSdk,
  eks,
  guardduty,
  iam,
  lambda as lambdaSdk,
  organizations,
  rds as rdsSdk,
  s3,
  securityhub,
  sns,
  sts,
  wafv2,
} from './aws-sdk.js';
import {
  FAKE_CREDENTIALS,
  type FakeAccountSeed,
  type FakeAws,
  FakeAwsError,
  type FaultRule,
  type GuardDutyFinding,
  type OrganizationSeed,
  putFinding,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from './index.js';

interface SdkFailure {
  name: string;
  message: string;
  $fault?: string;
  $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

const failureOf = async (call: Promise<unknown>): Promise<SdkFailure> => {
  try {
    await call;
  } catch (caught) {
    return caught as SdkFailure;
  }
  throw new Error('expected the call to fail');
};

interface ClientOptions {
  maxAttempts?: number;
  requestTimeout?: number;
}

const clientConfig = (fake: FakeAws, options: ClientOptions = {}) => ({
  endpoint: fake.url,
  region: 'us-east-1',
  credentials: FAKE_CREDENTIALS,
  maxAttempts: options.maxAttempts ?? 1,
  ...(options.requestTimeout === undefined
    ? {}
    : { requestHandler: { requestTimeout: options.requestTimeout, throwOnRequestTimeout: true } }),
});

const clientsFor = (fake: FakeAws, options: ClientOptions = {}) => {
  const config = clientConfig(fake, options);
  return {
    ec2: new ec2.EC2Client(config),
    iam: new iam.IAMClient(config),
    sts: new sts.STSClient(config),
    sns: new sns.SNSClient(config),
    cloudtrail: new cloudtrail.CloudTrailClient(config),
    s3: new s3.S3Client({ ...config, forcePathStyle: true }),
    guardduty: new guardduty.GuardDutyClient(config),
    securityhub: new securityhub.SecurityHubClient(config),
    organizations: new organizations.OrganizationsClient(config),
  };
};

const withQuarantineProfile = (): FakeAccountSeed => {
  const seed = scenarioSeed();
  return {
    ...seed,
    roles: [...(seed.roles ?? []), { name: 'quarantine-deny-all' }],
    instanceProfiles: [
      ...(seed.instanceProfiles ?? []),
      { name: 'quarantine-profile', roleName: 'quarantine-deny-all' },
    ],
    instances: [
      ...(seed.instances ?? []),
      {
        instanceId: 'i-0bbbbbbbbbbbbbbbb',
        vpcId: SCENARIO.vpcId,
        subnetId: SCENARIO.subnetId,
        networkInterfaces: [
          { networkInterfaceId: 'eni-0bbbbbbbbbbbbbbbb', groupIds: [SCENARIO.appSecurityGroupId] },
        ],
        volumes: [{ volumeId: 'vol-0bbbbbbbbbbbbbbbb', deviceName: '/dev/xvda' }],
      },
    ],
  };
};

const ORGANIZATION: OrganizationSeed = {
  id: 'o-a1b2c3d4e5',
  managementAccountId: '999988887777',
  accounts: ['444455556666'],
};

/** The scenario's account as a member of an organization with one other member. */
const withOrganization = (): FakeAccountSeed => ({ ...scenarioSeed(), organization: ORGANIZATION });

/** Two more instances sharing the scenario's profile, so a wildcard can match several of four. */
const withFleet = (): FakeAccountSeed => {
  const seed = scenarioSeed();
  const worker = (suffix: string) => ({
    instanceId: `i-0c0c0c0c0c0c0c0${suffix}`,
    vpcId: SCENARIO.vpcId,
    subnetId: SCENARIO.subnetId,
    tags: { Name: `worker-${suffix}` },
    iamInstanceProfile: {
      name: SCENARIO.instanceProfileName,
      associationId: `iip-assoc-0c0c0c0c0c0c0c0${suffix}`,
    },
    networkInterfaces: [
      { networkInterfaceId: `eni-0c0c0c0c0c0c0c0${suffix}`, groupIds: [SCENARIO.appSecurityGroupId] },
    ],
    volumes: [{ volumeId: `vol-0c0c0c0c0c0c0c0${suffix}`, deviceName: '/dev/xvda' }],
  });
  return { ...seed, instances: [...(seed.instances ?? []), worker('01'), worker('02')] };
};

const instanceIdsOf = (output: { Reservations?: Array<{ Instances?: Array<{ InstanceId?: string }> }> }) =>
  output.Reservations?.flatMap((reservation) => reservation.Instances?.map((i) => i.InstanceId) ?? []);

/** The canonical scenario's finding, as EventBridge delivered it (`detail` is GuardDuty's API JSON). */
const scenarioFinding = (): GuardDutyFinding =>
  (
    JSON.parse(
      readFileSync(
        new URL('../../examples/scenario/findings/01-instance-credential-exfiltration.json', import.meta.url),
        'utf8',
      ),
    ) as { detail: GuardDutyFinding }
  ).detail;

/** What the SDK makes of lowerCamel JSON: member names capitalised, null members left out. */
const sdkShape = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sdkShape);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== null)
      .map(([name, member]) => [name.charAt(0).toUpperCase() + name.slice(1), sdkShape(member)]),
  );
};

/** A SigV4-looking Authorization header for raw requests: the fake routes by its credential scope. */
const signedFor = (service: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=${FAKE_CREDENTIALS.accessKeyId}/20250603/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
});

let fake: FakeAws;
let aws: ReturnType<typeof clientsFor>;

beforeEach(async () => {
  fake = await startFakeAws({ seed: scenarioSeed() });
  aws = clientsFor(fake);
});

afterEach(async () => {
  await fake.close();
});

describe('startFakeAws', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('gives env() that sends an SDK client configured only from the environment to the fake', async () => {
    for (const [name, value] of Object.entries(fake.env())) vi.stubEnv(name, value);
    try {
      const client = new sts.STSClient({ maxAttempts: 1 });

      const identity = await client.send(new sts.GetCallerIdentityCommand({}));

      expect(identity.Account).toBe(SCENARIO.accountId);
      expect(fake.calls.map((call) => call.operation)).toEqual(['GetCallerIdentity']);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('serves an empty account 111122223333 when given no seed', async () => {
    const empty = await startFakeAws();
    try {
      const output = await clientsFor(empty).ec2.send(new ec2.DescribeInstancesCommand({}));

      expect(output.Reservations).toEqual([]);
      expect(empty.state.accountId).toBe('111122223333');
    } finally {
      await empty.close();
    }
  });

  it('refuses a seed whose instance profile names an unseeded role', async () => {
    const error = await startFakeAws({
      seed: { accountId: '111122223333', instanceProfiles: [{ name: 'p', roleName: 'missing' }] },
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(FakeAwsError);
    expect((error as FakeAwsError).code).toBe('SEED_INVALID');
  });

  it('refuses a seed whose network interface names an unseeded security group', async () => {
    const seed = scenarioSeed();
    seed.securityGroups = [];

    const error = await startFakeAws({ seed }).catch((caught: unknown) => caught);

    expect((error as FakeAwsError).code).toBe('SEED_INVALID');
  });
});

describe('call records', () => {
  it('records service, operation, decoded params and the request id the SDK reports', async () => {
    const output = await aws.ec2.send(
      new ec2.DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: [SCENARIO.instanceId, SCENARIO.secondInstanceId] }],
      }),
    );

    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({
      service: 'EC2',
      operation: 'DescribeIamInstanceProfileAssociations',
      params: { Filter: [{ Name: 'instance-id', Value: [SCENARIO.instanceId, SCENARIO.secondInstanceId] }] },
      status: 200,
      accessKeyId: FAKE_CREDENTIALS.accessKeyId,
    });
    expect(output.$metadata.requestId).toBe(fake.calls[0]?.requestId);
  });

  it('decodes awsQuery member lists and entry maps', async () => {
    await aws.sns.send(
      new sns.PublishCommand({
        TopicArn: SCENARIO.topicArn,
        Message: 'm',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
      }),
    );
    await aws.iam.send(
      new iam.TagRoleCommand({ RoleName: SCENARIO.roleName, Tags: [{ Key: 'a', Value: 'b' }] }),
    );

    expect(fake.calls[0]?.params).toMatchObject({
      MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
    });
    expect(fake.calls[1]?.params).toEqual({ RoleName: SCENARIO.roleName, Tags: [{ Key: 'a', Value: 'b' }] });
  });

  it('lists only mutating operations in mutatingCalls, in call order', async () => {
    await aws.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [SCENARIO.instanceId] }));
    await aws.ec2.send(
      new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId }),
    );
    await aws.iam.send(new iam.GetRoleCommand({ RoleName: SCENARIO.roleName }));
    await aws.cloudtrail.send(new cloudtrail.StartLoggingCommand({ Name: SCENARIO.trailArn }));
    await aws.s3.send(
      new s3.PutPublicAccessBlockCommand({
        Bucket: SCENARIO.bucketName,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true },
      }),
    );

    expect(fake.mutatingCalls().map((call) => `${call.service}:${call.operation}`)).toEqual([
      'EC2:DisassociateIamInstanceProfile',
      'CloudTrail:StartLogging',
      'S3:PutPublicAccessBlock',
    ]);
  });
});

describe('EC2 instance profile associations', () => {
  it('describes the associations of one instance filtered by instance id and state', async () => {
    const output = await aws.ec2.send(
      new ec2.DescribeIamInstanceProfileAssociationsCommand({
        Filters: [
          { Name: 'instance-id', Values: [SCENARIO.instanceId] },
          { Name: 'state', Values: ['associated'] },
        ],
      }),
    );

    expect(output.IamInstanceProfileAssociations).toEqual([
      {
        AssociationId: SCENARIO.associationId,
        InstanceId: SCENARIO.instanceId,
        IamInstanceProfile: {
          Arn: SCENARIO.instanceProfileArn,
          Id: fake.state.instanceProfiles.get(SCENARIO.instanceProfileName)?.instanceProfileId,
        },
        State: 'associated',
        Timestamp: new Date('2024-03-01T12:00:00.000Z'),
      },
    ]);
  });

  it('describes associations by association id', async () => {
    const output = await aws.ec2.send(
      new ec2.DescribeIamInstanceProfileAssociationsCommand({
        AssociationIds: [SCENARIO.secondAssociationId],
      }),
    );

    expect(output.IamInstanceProfileAssociations?.map((a) => a.InstanceId)).toEqual([
      SCENARIO.secondInstanceId,
    ]);
  });

  it('disassociates only the named association and leaves the other instance associated', async () => {
    const output = await aws.ec2.send(
      new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId }),
    );
    const remaining = await aws.ec2.send(new ec2.DescribeIamInstanceProfileAssociationsCommand({}));

    expect(output.IamInstanceProfileAssociation?.State).toBe('disassociating');
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('disassociated');
    expect(remaining.IamInstanceProfileAssociations?.map((a) => a.AssociationId)).toEqual([
      SCENARIO.secondAssociationId,
    ]);
  });

  it('shows a disassociated association only when asked for that state', async () => {
    await aws.ec2.send(
      new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId }),
    );

    const output = await aws.ec2.send(
      new ec2.DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'state', Values: ['disassociated'] }],
      }),
    );

    expect(output.IamInstanceProfileAssociations?.map((a) => a.AssociationId)).toEqual([
      SCENARIO.associationId,
    ]);
  });

  it('refuses to disassociate twice with InvalidAssociationID.NotFound', async () => {
    await aws.ec2.send(
      new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId }),
    );

    const error = await failureOf(
      aws.ec2.send(new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId })),
    );

    expect(error.name).toBe('InvalidAssociationID.NotFound');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.requestId).toBe(fake.calls.at(-1)?.requestId);
  });

  it('replaces an association with a new association id for the new profile', async () => {
    const seeded = await startFakeAws({ seed: withQuarantineProfile() });
    try {
      const client = clientsFor(seeded).ec2;

      const output = await client.send(
        new ec2.ReplaceIamInstanceProfileAssociationCommand({
          AssociationId: SCENARIO.associationId,
          IamInstanceProfile: { Name: 'quarantine-profile' },
        }),
      );

      const replacement = output.IamInstanceProfileAssociation;
      expect(replacement?.State).toBe('associating');
      expect(replacement?.AssociationId).not.toBe(SCENARIO.associationId);
      expect(replacement?.IamInstanceProfile?.Arn).toBe(
        'arn:aws:iam::111122223333:instance-profile/quarantine-profile',
      );
      expect(seeded.state.associations.get(SCENARIO.associationId)?.state).toBe('disassociated');
      expect(seeded.state.associations.get(replacement?.AssociationId ?? '')?.state).toBe('associated');
    } finally {
      await seeded.close();
    }
  });

  it('associates a profile with an instance that has none and refuses a second association', async () => {
    const seeded = await startFakeAws({ seed: withQuarantineProfile() });
    try {
      const client = clientsFor(seeded).ec2;
      const associate = () =>
        client.send(
          new ec2.AssociateIamInstanceProfileCommand({
            InstanceId: 'i-0bbbbbbbbbbbbbbbb',
            IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/quarantine-profile' },
          }),
        );

      const output = await associate();
      const error = await failureOf(associate());

      expect(output.IamInstanceProfileAssociation).toMatchObject({
        InstanceId: 'i-0bbbbbbbbbbbbbbbb',
        State: 'associating',
      });
      expect(error.name).toBe('IncorrectState');
    } finally {
      await seeded.close();
    }
  });

  it('refuses an unknown instance profile name with InvalidParameterValue', async () => {
    await aws.ec2.send(
      new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId }),
    );

    const error = await failureOf(
      aws.ec2.send(
        new ec2.AssociateIamInstanceProfileCommand({
          InstanceId: SCENARIO.instanceId,
          IamInstanceProfile: { Name: 'no-such-profile' },
        }),
      ),
    );

    expect(error.name).toBe('InvalidParameterValue');
  });

  it('honours association ids and filters together', async () => {
    const both = [SCENARIO.associationId, SCENARIO.secondAssociationId];

    const byIdAndInstance = await aws.ec2.send(
      new ec2.DescribeIamInstanceProfileAssociationsCommand({
        AssociationIds: both,
        Filters: [{ Name: 'instance-id', Values: [SCENARIO.secondInstanceId] }],
      }),
    );
    const byIdAndState = await aws.ec2.send(
      new ec2.DescribeIamInstanceProfileAssociationsCommand({
        AssociationIds: both,
        Filters: [{ Name: 'state', Values: ['disassociated'] }],
      }),
    );

    expect(byIdAndInstance.IamInstanceProfileAssociations?.map((a) => a.AssociationId)).toEqual([
      SCENARIO.secondAssociationId,
    ]);
    expect(byIdAndState.IamInstanceProfileAssociations).toEqual([]);
  });

  it('answers an unknown association id with InvalidAssociationID.NotFound', async () => {
    const error = await failureOf(
      aws.ec2.send(
        new ec2.DescribeIamInstanceProfileAssociationsCommand({
          AssociationIds: ['iip-assoc-0000000000000dead'],
        }),
      ),
    );

    expect(error.name).toBe('InvalidAssociationID.NotFound');
  });

  it('matches several associations with a wildcard instance-id filter', async () => {
    const output = await aws.ec2.send(
      new ec2.DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: ['i-0*'] }],
      }),
    );

    expect(output.IamInstanceProfileAssociations?.map((a) => a.InstanceId)).toEqual([
      SCENARIO.instanceId,
      SCENARIO.secondInstanceId,
    ]);
  });
});

describe('EC2 instances', () => {
  it('describes an instance with its ENI, groups, VPC, subnet, EBS volume, profile and tags', async () => {
    const output = await aws.ec2.send(
      new ec2.DescribeInstancesCommand({ InstanceIds: [SCENARIO.instanceId] }),
    );

    const instance = output.Reservations?.[0]?.Instances?.[0];
    expect(output.Reservations).toHaveLength(1);
    expect(output.Reservations?.[0]?.OwnerId).toBe(SCENARIO.accountId);
    expect(instance).toMatchObject({
      InstanceId: SCENARIO.instanceId,
      State: { Code: 16, Name: 'running' },
      VpcId: SCENARIO.vpcId,
      SubnetId: SCENARIO.subnetId,
      IamInstanceProfile: { Arn: SCENARIO.instanceProfileArn },
      SecurityGroups: [{ GroupId: SCENARIO.appSecurityGroupId, GroupName: 'app-server-sg' }],
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeId: SCENARIO.volumeId, Status: 'attached' } },
      ],
      NetworkInterfaces: [
        {
          NetworkInterfaceId: SCENARIO.networkInterfaceId,
          VpcId: SCENARIO.vpcId,
          Groups: [{ GroupId: SCENARIO.appSecurityGroupId, GroupName: 'app-server-sg' }],
          Attachment: { DeviceIndex: 0, Status: 'attached' },
        },
      ],
      Tags: [{ Key: 'Name', Value: 'app-server' }],
    });
  });

  it('omits the instance profile once it is disassociated', async () => {
    await aws.ec2.send(
      new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId }),
    );

    const output = await aws.ec2.send(
      new ec2.DescribeInstancesCommand({ InstanceIds: [SCENARIO.instanceId] }),
    );

    expect(output.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile).toBeUndefined();
  });

  it('filters instances by tag', async () => {
    const output = await aws.ec2.send(
      new ec2.DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['batch-*'] }] }),
    );

    expect(output.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId))).toEqual([
      SCENARIO.secondInstanceId,
    ]);
  });

  it('answers an unknown instance id with InvalidInstanceID.NotFound', async () => {
    const error = await failureOf(
      aws.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: ['i-0000000000000dead'] })),
    );

    expect(error.name).toBe('InvalidInstanceID.NotFound');
    expect(error.message).toBe("The instance ID 'i-0000000000000dead' does not exist");
  });

  it('answers an unknown filter name with InvalidParameterValue', async () => {
    const error = await failureOf(
      aws.ec2.send(
        new ec2.DescribeInstancesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] }),
      ),
    );

    expect(error.name).toBe('InvalidParameterValue');
  });

  it('matches several instances with a wildcard instance-id filter, as EC2 does', async () => {
    const fleet = await startFakeAws({ seed: withFleet() });
    try {
      const client = clientsFor(fleet).ec2;

      const everyOne = await client.send(
        new ec2.DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: ['i-0*'] }] }),
      );
      const workers = await client.send(
        new ec2.DescribeInstancesCommand({
          Filters: [{ Name: 'instance-id', Values: ['i-0c0c0c0c0c0c0c0??'] }],
        }),
      );

      expect(instanceIdsOf(everyOne)).toEqual([
        SCENARIO.instanceId,
        SCENARIO.secondInstanceId,
        'i-0c0c0c0c0c0c0c001',
        'i-0c0c0c0c0c0c0c002',
      ]);
      expect(instanceIdsOf(workers)).toEqual(['i-0c0c0c0c0c0c0c001', 'i-0c0c0c0c0c0c0c002']);
    } finally {
      await fleet.close();
    }
  });

  it('filters instances by the ARN of their associated instance profile, wildcards included', async () => {
    const seeded = await startFakeAws({ seed: withQuarantineProfile() });
    try {
      const client = clientsFor(seeded).ec2;
      await client.send(
        new ec2.AssociateIamInstanceProfileCommand({
          InstanceId: 'i-0bbbbbbbbbbbbbbbb',
          IamInstanceProfile: { Name: 'quarantine-profile' },
        }),
      );

      const exact = await client.send(
        new ec2.DescribeInstancesCommand({
          Filters: [{ Name: 'iam-instance-profile.arn', Values: [SCENARIO.instanceProfileArn] }],
        }),
      );
      const wildcard = await client.send(
        new ec2.DescribeInstancesCommand({
          Filters: [
            {
              Name: 'iam-instance-profile.arn',
              Values: ['arn:aws:iam::111122223333:instance-profile/quarantine-*'],
            },
          ],
        }),
      );

      expect(instanceIdsOf(exact)).toEqual([SCENARIO.instanceId, SCENARIO.secondInstanceId]);
      expect(instanceIdsOf(wildcard)).toEqual(['i-0bbbbbbbbbbbbbbbb']);
    } finally {
      await seeded.close();
    }
  });

  it('stops matching an instance by profile ARN once its profile is disassociated', async () => {
    await aws.ec2.send(
      new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId }),
    );

    const output = await aws.ec2.send(
      new ec2.DescribeInstancesCommand({
        Filters: [{ Name: 'iam-instance-profile.arn', Values: [SCENARIO.instanceProfileArn] }],
      }),
    );

    expect(instanceIdsOf(output)).toEqual([SCENARIO.secondInstanceId]);
  });
});

describe('EC2 security groups and network interfaces', () => {
  const createQuarantineGroup = () =>
    aws.ec2.send(
      new ec2.CreateSecurityGroupCommand({
        GroupName: 'riposte-quarantine',
        Description: 'Riposte quarantine',
        VpcId: SCENARIO.vpcId,
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: [{ Key: 'riposte:quarantine', Value: 'true' }] },
        ],
      }),
    );

  it('creates a tagged group with the default allow-all egress rule', async () => {
    const created = await createQuarantineGroup();

    const described = await aws.ec2.send(
      new ec2.DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [SCENARIO.vpcId] },
          { Name: 'tag:riposte:quarantine', Values: ['true'] },
        ],
      }),
    );

    expect(created.GroupId).toMatch(/^sg-[0-9a-f]{17}$/);
    expect(created.Tags).toEqual([{ Key: 'riposte:quarantine', Value: 'true' }]);
    expect(described.SecurityGroups).toHaveLength(1);
    expect(described.SecurityGroups?.[0]).toMatchObject({
      GroupId: created.GroupId,
      GroupName: 'riposte-quarantine',
      Description: 'Riposte quarantine',
      VpcId: SCENARIO.vpcId,
      IpPermissions: [],
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
  });

  it('refuses a second group with the same name in the VPC', async () => {
    await createQuarantineGroup();

    const error = await failureOf(createQuarantineGroup());

    expect(error.name).toBe('InvalidGroup.Duplicate');
  });

  it('revokes the default egress rule and refuses to revoke it again', async () => {
    const { GroupId } = await createQuarantineGroup();
    const revoke = () =>
      aws.ec2.send(
        new ec2.RevokeSecurityGroupEgressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );

    const output = await revoke();
    const error = await failureOf(revoke());

    expect(output.Return).toBe(true);
    expect(output.RevokedSecurityGroupRules).toHaveLength(1);
    expect(fake.state.securityGroups.get(GroupId ?? '')?.egress).toEqual([]);
    expect(error.name).toBe('InvalidPermission.NotFound');
  });

  it('describes a group by id and shows its ingress rules', async () => {
    const output = await aws.ec2.send(
      new ec2.DescribeSecurityGroupsCommand({ GroupIds: [SCENARIO.appSecurityGroupId] }),
    );

    expect(output.SecurityGroups?.[0]?.IpPermissions).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        UserIdGroupPairs: [],
        IpRanges: [{ CidrIp: '0.0.0.0/0' }],
        Ipv6Ranges: [],
        PrefixListIds: [],
      },
    ]);
  });

  it('answers an unknown group id with InvalidGroup.NotFound', async () => {
    const error = await failureOf(
      aws.ec2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: ['sg-0000000000000dead'] })),
    );

    expect(error.name).toBe('InvalidGroup.NotFound');
  });

  it("replaces a network interface's groups", async () => {
    const { GroupId } = await createQuarantineGroup();

    await aws.ec2.send(
      new ec2.ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: SCENARIO.networkInterfaceId,
        Groups: [GroupId ?? ''],
      }),
    );
    const described = await aws.ec2.send(
      new ec2.DescribeInstancesCommand({ InstanceIds: [SCENARIO.instanceId] }),
    );

    expect(fake.state.networkInterfaces.get(SCENARIO.networkInterfaceId)?.groupIds).toEqual([GroupId]);
    expect(fake.state.networkInterfaces.get(SCENARIO.secondNetworkInterfaceId)?.groupIds).toEqual([
      SCENARIO.appSecurityGroupId,
    ]);
    expect(described.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces?.[0]?.Groups).toEqual([
      { GroupId, GroupName: 'riposte-quarantine' },
    ]);
  });

  it('refuses to put an unknown group on a network interface', async () => {
    const error = await failureOf(
      aws.ec2.send(
        new ec2.ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: SCENARIO.networkInterfaceId,
          Groups: ['sg-0000000000000dead'],
        }),
      ),
    );

    expect(error.name).toBe('InvalidGroup.NotFound');
    expect(fake.state.networkInterfaces.get(SCENARIO.networkInterfaceId)?.groupIds).toEqual([
      SCENARIO.appSecurityGroupId,
    ]);
  });

  it('answers a DryRun request with DryRunOperation and changes nothing', async () => {
    const error = await failureOf(
      aws.ec2.send(
        new ec2.CreateSecurityGroupCommand({
          GroupName: 'dry',
          Description: 'dry',
          VpcId: SCENARIO.vpcId,
          DryRun: true,
        }),
      ),
    );

    expect(error.name).toBe('DryRunOperation');
    expect(error.$metadata.httpStatusCode).toBe(412);
    expect(fake.state.securityGroups.size).toBe(1);
    expect(fake.mutatingCalls()).toEqual([]);
  });
});

describe('EC2 seeded security group rules', () => {
  it('describes seeded ingress and egress rules as IpPermissions and IpPermissionsEgress', async () => {
    const seed = scenarioSeed();
    seed.securityGroups = [
      ...(seed.securityGroups ?? []),
      {
        groupId: 'sg-0d0d0d0d0d0d0d0d0',
        groupName: 'db-sg',
        vpcId: SCENARIO.vpcId,
        ingress: [
          {
            ipProtocol: 'tcp',
            fromPort: 5432,
            toPort: 5432,
            referencedGroupId: SCENARIO.appSecurityGroupId,
            description: 'app servers',
          },
          { ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIpv4: '10.0.0.0/16' },
        ],
        egress: [
          { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' },
          { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv6: '::/0' },
        ],
      },
    ];
    const seeded = await startFakeAws({ seed });
    try {
      const output = await clientsFor(seeded).ec2.send(
        new ec2.DescribeSecurityGroupsCommand({ GroupIds: ['sg-0d0d0d0d0d0d0d0d0'] }),
      );

      expect(output.SecurityGroups?.[0]?.IpPermissions).toEqual([
        {
          IpProtocol: 'tcp',
          FromPort: 5432,
          ToPort: 5432,
          UserIdGroupPairs: [
            { GroupId: SCENARIO.appSecurityGroupId, UserId: SCENARIO.accountId, Description: 'app servers' },
          ],
          IpRanges: [{ CidrIp: '10.0.0.0/16' }],
          Ipv6Ranges: [],
          PrefixListIds: [],
        },
      ]);
      expect(output.SecurityGroups?.[0]?.IpPermissionsEgress).toEqual([
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          UserIdGroupPairs: [],
          IpRanges: [{ CidrIp: '0.0.0.0/0' }],
          Ipv6Ranges: [{ CidrIpv6: '::/0' }],
          PrefixListIds: [],
        },
      ]);
    } finally {
      await seeded.close();
    }
  });

  it('gives a seeded group without egress rules the default allow-all egress rule', async () => {
    const output = await aws.ec2.send(
      new ec2.DescribeSecurityGroupsCommand({ GroupIds: [SCENARIO.appSecurityGroupId] }),
    );

    expect(output.SecurityGroups?.[0]?.IpPermissionsEgress).toEqual([
      {
        IpProtocol: '-1',
        UserIdGroupPairs: [],
        IpRanges: [{ CidrIp: '0.0.0.0/0' }],
        Ipv6Ranges: [],
        PrefixListIds: [],
      },
    ]);
  });
});

describe('EC2 tags', () => {
  it('tags an instance so DescribeInstances and DescribeTags show it', async () => {
    await aws.ec2.send(
      new ec2.CreateTagsCommand({
        Resources: [SCENARIO.instanceId],
        Tags: [{ Key: 'riposte:finding', Value: 'abc123' }],
      }),
    );
    const instances = await aws.ec2.send(
      new ec2.DescribeInstancesCommand({ InstanceIds: [SCENARIO.instanceId] }),
    );
    const tags = await aws.ec2.send(
      new ec2.DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['riposte:finding'] }] }),
    );

    expect(instances.Reservations?.[0]?.Instances?.[0]?.Tags).toContainEqual({
      Key: 'riposte:finding',
      Value: 'abc123',
    });
    expect(tags.Tags).toEqual([
      { ResourceId: SCENARIO.instanceId, ResourceType: 'instance', Key: 'riposte:finding', Value: 'abc123' },
    ]);
  });

  it('refuses to tag an instance that does not exist', async () => {
    const error = await failureOf(
      aws.ec2.send(
        new ec2.CreateTagsCommand({ Resources: ['i-0000000000000dead'], Tags: [{ Key: 'k', Value: 'v' }] }),
      ),
    );

    expect(error.name).toBe('InvalidInstanceID.NotFound');
  });
});

describe('EC2 snapshots', () => {
  const snapshotInstance = (excludeBootVolume = false) =>
    aws.ec2.send(
      new ec2.CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: SCENARIO.instanceId, ExcludeBootVolume: excludeBootVolume },
        Description: 'riposte evidence',
        TagSpecifications: [
          { ResourceType: 'snapshot', Tags: [{ Key: 'riposte:finding', Value: 'abc123' }] },
        ],
        CopyTagsFromSource: 'volume',
      }),
    );

  it('snapshots each volume of the instance with the specified and copied tags', async () => {
    const output = await snapshotInstance();

    expect(output.Snapshots).toHaveLength(1);
    expect(output.Snapshots?.[0]).toMatchObject({
      VolumeId: SCENARIO.volumeId,
      State: 'pending',
      VolumeSize: 30,
      OwnerId: SCENARIO.accountId,
      Description: 'riposte evidence',
    });
    expect(output.Snapshots?.[0]?.SnapshotId).toMatch(/^snap-[0-9a-f]{17}$/);
    expect(output.Snapshots?.[0]?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'riposte:finding', Value: 'abc123' },
        { Key: 'Name', Value: 'app-server-root' },
      ]),
    );
  });

  it('finds the snapshots again by tag and owner, completed', async () => {
    const created = await snapshotInstance();

    const output = await aws.ec2.send(
      new ec2.DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'tag:riposte:finding', Values: ['abc123'] }],
      }),
    );

    expect(output.Snapshots?.map((snapshot) => [snapshot.SnapshotId, snapshot.State])).toEqual([
      [created.Snapshots?.[0]?.SnapshotId, 'completed'],
    ]);
  });

  it('creates no snapshot when the only volume is the excluded boot volume', async () => {
    const output = await snapshotInstance(true);

    expect(output.Snapshots).toEqual([]);
    expect(fake.state.snapshots.size).toBe(0);
  });

  it('finds no snapshots owned by another account', async () => {
    await snapshotInstance();

    const output = await aws.ec2.send(new ec2.DescribeSnapshotsCommand({ OwnerIds: ['444455556666'] }));

    expect(output.Snapshots).toEqual([]);
  });
});

describe('IAM', () => {
  it('gets the instance profile with its role', async () => {
    const output = await aws.iam.send(
      new iam.GetInstanceProfileCommand({ InstanceProfileName: SCENARIO.instanceProfileName }),
    );

    expect(output.InstanceProfile).toMatchObject({
      InstanceProfileName: SCENARIO.instanceProfileName,
      Arn: SCENARIO.instanceProfileArn,
      Path: '/',
      Roles: [{ RoleName: SCENARIO.roleName, Arn: SCENARIO.roleArn, Path: '/' }],
    });
    expect(output.InstanceProfile?.InstanceProfileId).toMatch(/^AIPA[A-Z2-7]{17}$/);
  });

  it('answers an unknown instance profile with NoSuchEntityException (404)', async () => {
    const error = await failureOf(
      aws.iam.send(new iam.GetInstanceProfileCommand({ InstanceProfileName: 'nope' })),
    );

    expect(error.name).toBe('NoSuchEntityException');
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.$fault).toBe('client');
  });

  it('gets the service-linked role with its service path and URL-encoded trust policy', async () => {
    const output = await aws.iam.send(new iam.GetRoleCommand({ RoleName: SCENARIO.serviceLinkedRoleName }));

    expect(output.Role?.Path).toBe('/aws-service-role/guardduty.amazonaws.com/');
    expect(output.Role?.Arn).toBe(
      'arn:aws:iam::111122223333:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty',
    );
    expect(JSON.parse(decodeURIComponent(output.Role?.AssumeRolePolicyDocument ?? ''))).toMatchObject({
      Statement: [{ Principal: { Service: 'guardduty.amazonaws.com' } }],
    });
  });

  it('stores an inline policy and returns it URL-encoded as IAM does', async () => {
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
    });

    await aws.iam.send(
      new iam.PutRolePolicyCommand({
        RoleName: SCENARIO.roleName,
        PolicyName: 'riposte-deny-all',
        PolicyDocument: document,
      }),
    );
    const output = await aws.iam.send(
      new iam.GetRolePolicyCommand({ RoleName: SCENARIO.roleName, PolicyName: 'riposte-deny-all' }),
    );

    expect(fake.state.roles.get(SCENARIO.roleName)?.inlinePolicies['riposte-deny-all']).toBe(document);
    expect(output.PolicyDocument).toBe(encodeURIComponent(document));
    expect(output).toMatchObject({ RoleName: SCENARIO.roleName, PolicyName: 'riposte-deny-all' });
  });

  it('answers a missing inline policy with NoSuchEntityException', async () => {
    const error = await failureOf(
      aws.iam.send(
        new iam.GetRolePolicyCommand({ RoleName: SCENARIO.roleName, PolicyName: 'riposte-deny-all' }),
      ),
    );

    expect(error.name).toBe('NoSuchEntityException');
    expect(error.message).toBe('The role policy with name riposte-deny-all cannot be found.');
  });

  it('refuses an inline policy on the service-linked role with UnmodifiableEntityException', async () => {
    const error = await failureOf(
      aws.iam.send(
        new iam.PutRolePolicyCommand({
          RoleName: SCENARIO.serviceLinkedRoleName,
          PolicyName: 'riposte-deny-all',
          PolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
        }),
      ),
    );

    expect(error.name).toBe('UnmodifiableEntityException');
    expect(fake.state.roles.get(SCENARIO.serviceLinkedRoleName)?.inlinePolicies).toEqual({});
  });

  it('refuses a policy document that is not JSON with MalformedPolicyDocumentException', async () => {
    const error = await failureOf(
      aws.iam.send(
        new iam.PutRolePolicyCommand({
          RoleName: SCENARIO.roleName,
          PolicyName: 'bad',
          PolicyDocument: '{not json',
        }),
      ),
    );

    expect(error.name).toBe('MalformedPolicyDocumentException');
  });

  it("lists a user's access keys and deactivates one", async () => {
    const before = await aws.iam.send(new iam.ListAccessKeysCommand({ UserName: SCENARIO.userName }));

    await aws.iam.send(
      new iam.UpdateAccessKeyCommand({
        UserName: SCENARIO.userName,
        AccessKeyId: SCENARIO.accessKeyId,
        Status: 'Inactive',
      }),
    );
    const after = await aws.iam.send(new iam.ListAccessKeysCommand({ UserName: SCENARIO.userName }));

    expect(before.AccessKeyMetadata).toEqual([
      {
        UserName: SCENARIO.userName,
        AccessKeyId: SCENARIO.accessKeyId,
        Status: 'Active',
        CreateDate: new Date('2024-03-01T12:00:00.000Z'),
      },
    ]);
    expect(before.IsTruncated).toBe(false);
    expect(after.AccessKeyMetadata?.[0]?.Status).toBe('Inactive');
    expect(fake.state.accessKeys.get(SCENARIO.accessKeyId)?.status).toBe('Inactive');
  });

  it('answers an access key of another user with NoSuchEntityException', async () => {
    const error = await failureOf(
      aws.iam.send(
        new iam.UpdateAccessKeyCommand({ AccessKeyId: 'AKIAEXAMPLEOTHERKEY1', Status: 'Inactive' }),
      ),
    );

    expect(error.name).toBe('NoSuchEntityException');
  });

  it('tags a role and a user', async () => {
    await aws.iam.send(
      new iam.TagRoleCommand({
        RoleName: SCENARIO.roleName,
        Tags: [{ Key: 'riposte:quarantined', Value: 'yes' }],
      }),
    );
    await aws.iam.send(
      new iam.TagUserCommand({
        UserName: SCENARIO.userName,
        Tags: [{ Key: 'riposte:key-disabled', Value: 'yes' }],
      }),
    );
    const role = await aws.iam.send(new iam.GetRoleCommand({ RoleName: SCENARIO.roleName }));
    const roleTags = await aws.iam.send(new iam.ListRoleTagsCommand({ RoleName: SCENARIO.roleName }));
    const userTags = await aws.iam.send(new iam.ListUserTagsCommand({ UserName: SCENARIO.userName }));

    expect(role.Role?.Tags).toEqual([{ Key: 'riposte:quarantined', Value: 'yes' }]);
    expect(roleTags).toMatchObject({
      Tags: [{ Key: 'riposte:quarantined', Value: 'yes' }],
      IsTruncated: false,
    });
    expect(userTags.Tags).toEqual([{ Key: 'riposte:key-disabled', Value: 'yes' }]);
    expect(fake.state.users.get(SCENARIO.userName)?.tags).toEqual({ 'riposte:key-disabled': 'yes' });
  });

  it('lists no tags for an untagged user', async () => {
    const output = await aws.iam.send(new iam.ListUserTagsCommand({ UserName: SCENARIO.userName }));

    expect(output.Tags).toEqual([]);
  });
});

describe('IAM users, instance profiles, protected roles and inline policy deletion', () => {
  const SSO_ROLE = 'AWSReservedSSO_AdministratorAccess_0123456789abcdef';
  const SSO_PATH = '/aws-reserved/sso.amazonaws.com/eu-west-1/';

  const withIdentities = (): FakeAccountSeed => {
    const seed = scenarioSeed();
    return {
      ...seed,
      roles: [
        ...(seed.roles ?? []),
        {
          name: SSO_ROLE,
          path: SSO_PATH,
          tags: { 'sso:permission-set': 'AdministratorAccess' },
          inlinePolicies: { AwsSSOInlinePolicy: { Version: '2012-10-17', Statement: [] } },
        },
        { name: 'unattached-role', tags: { team: 'data', env: 'prod' } },
      ],
      users: [
        ...(seed.users ?? []),
        { name: 'analyst', path: '/people/', userId: 'AIDAEXAMPLEANALYST01', tags: { team: 'security' } },
      ],
    };
  };

  let seeded: FakeAws;
  let client: InstanceType<typeof iam.IAMClient>;

  beforeEach(async () => {
    seeded = await startFakeAws({ seed: withIdentities() });
    client = clientsFor(seeded).iam;
  });

  afterEach(async () => {
    await seeded.close();
  });

  it('gets a user with its path, id, ARN, creation date and tags', async () => {
    const output = await client.send(new iam.GetUserCommand({ UserName: 'analyst' }));

    expect(output.User).toEqual({
      Path: '/people/',
      UserName: 'analyst',
      UserId: 'AIDAEXAMPLEANALYST01',
      Arn: 'arn:aws:iam::111122223333:user/people/analyst',
      CreateDate: new Date('2024-03-01T12:00:00.000Z'),
      Tags: [{ Key: 'team', Value: 'security' }],
    });
  });

  it('answers an unknown user with NoSuchEntityException (404)', async () => {
    const error = await failureOf(client.send(new iam.GetUserCommand({ UserName: 'nobody' })));

    expect(error.name).toBe('NoSuchEntityException');
    expect(error.message).toBe('The user with name nobody cannot be found.');
    expect(error.$metadata.httpStatusCode).toBe(404);
  });

  it('refuses GetUser without a user name, as IAM does for role-session credentials', async () => {
    const error = await failureOf(client.send(new iam.GetUserCommand({})));

    expect(error.name).toBe('ValidationError');
  });

  it('lists the instance profiles of a role with their roles, and none for an unattached role', async () => {
    const attached = await client.send(
      new iam.ListInstanceProfilesForRoleCommand({ RoleName: SCENARIO.roleName }),
    );
    const unattached = await client.send(
      new iam.ListInstanceProfilesForRoleCommand({ RoleName: 'unattached-role' }),
    );

    expect(attached.IsTruncated).toBe(false);
    expect(attached.InstanceProfiles).toHaveLength(1);
    expect(attached.InstanceProfiles?.[0]).toMatchObject({
      InstanceProfileName: SCENARIO.instanceProfileName,
      Arn: SCENARIO.instanceProfileArn,
      Path: '/',
      Roles: [{ RoleName: SCENARIO.roleName, Arn: SCENARIO.roleArn }],
    });
    expect(unattached.InstanceProfiles).toEqual([]);
  });

  it('answers ListInstanceProfilesForRole for an unknown role with NoSuchEntityException', async () => {
    const error = await failureOf(
      client.send(new iam.ListInstanceProfilesForRoleCommand({ RoleName: 'no-such-role' })),
    );

    expect(error.name).toBe('NoSuchEntityException');
  });

  it('gets an IAM Identity Center role with its reserved path, ARN and tags', async () => {
    const output = await client.send(new iam.GetRoleCommand({ RoleName: SSO_ROLE }));

    expect(output.Role).toMatchObject({
      Path: SSO_PATH,
      Arn: `arn:aws:iam::111122223333:role${SSO_PATH}${SSO_ROLE}`,
      Tags: [{ Key: 'sso:permission-set', Value: 'AdministratorAccess' }],
    });
  });

  it('lists the seeded tags of a role and of a user', async () => {
    const roleTags = await client.send(new iam.ListRoleTagsCommand({ RoleName: 'unattached-role' }));
    const userTags = await client.send(new iam.ListUserTagsCommand({ UserName: 'analyst' }));

    expect(roleTags.Tags).toEqual([
      { Key: 'team', Value: 'data' },
      { Key: 'env', Value: 'prod' },
    ]);
    expect(userTags.Tags).toEqual([{ Key: 'team', Value: 'security' }]);
  });

  it('deletes an inline policy, records it as mutating and refuses to delete it again', async () => {
    const remove = () =>
      client.send(
        new iam.DeleteRolePolicyCommand({ RoleName: SCENARIO.roleName, PolicyName: 's3-full-access' }),
      );

    await remove();
    const error = await failureOf(remove());

    expect(seeded.state.roles.get(SCENARIO.roleName)?.inlinePolicies).toEqual({});
    expect(error.name).toBe('NoSuchEntityException');
    expect(error.message).toBe('The role policy with name s3-full-access cannot be found.');
    expect(seeded.mutatingCalls().map((call) => call.operation)).toEqual([
      'DeleteRolePolicy',
      'DeleteRolePolicy',
    ]);
  });

  it.each([
    [SCENARIO.serviceLinkedRoleName, 'any-policy'],
    [SSO_ROLE, 'AwsSSOInlinePolicy'],
  ])(
    'refuses to delete an inline policy of the protected role %s with UnmodifiableEntityException',
    async (roleName, policyName) => {
      const error = await failureOf(
        client.send(new iam.DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
      );

      expect(error.name).toBe('UnmodifiableEntityException');
      expect(error.message).toBe(
        `Cannot perform the operation on the protected role '${roleName}' - this role is only modifiable by AWS`,
      );
    },
  );

  it('refuses an inline policy on an IAM Identity Center role with UnmodifiableEntityException', async () => {
    const error = await failureOf(
      client.send(
        new iam.PutRolePolicyCommand({
          RoleName: SSO_ROLE,
          PolicyName: 'riposte-deny-all',
          PolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
        }),
      ),
    );

    expect(error.name).toBe('UnmodifiableEntityException');
    expect(Object.keys(seeded.state.roles.get(SSO_ROLE)?.inlinePolicies ?? {})).toEqual([
      'AwsSSOInlinePolicy',
    ]);
  });

  it('refuses a seed whose role path does not start and end with /', async () => {
    const error = await startFakeAws({
      seed: { accountId: '111122223333', roles: [{ name: 'r', path: 'aws-reserved/sso.amazonaws.com' }] },
    }).catch((caught: unknown) => caught);

    expect((error as FakeAwsError).code).toBe('SEED_INVALID');
  });
});

describe('GuardDuty', () => {
  const ADMIN_DETECTOR = SCENARIO.detectorId;
  const OTHER_DETECTOR = '0f0e0d0c0b0a09080706050403020100';
  const MEMBER_ACCOUNT = '444455556666';

  /** A real-shaped finding of another account and severity, stored under the scenario's detector. */
  const memberFinding = (id: string, severity: number): GuardDutyFinding => ({
    ...scenarioFinding(),
    id,
    accountId: MEMBER_ACCOUNT,
    arn: `arn:aws:guardduty:us-east-1:${MEMBER_ACCOUNT}:detector/${OTHER_DETECTOR}/finding/${id}`,
    severity,
  });

  const getFindings = (
    client: InstanceType<typeof guardduty.GuardDutyClient>,
    findingIds: string[],
    detectorId: string = ADMIN_DETECTOR,
  ) => client.send(new guardduty.GetFindingsCommand({ DetectorId: detectorId, FindingIds: findingIds }));

  it('returns a stored finding that the real SDK parses into its API shape', async () => {
    const finding = scenarioFinding();
    putFinding(fake.state, ADMIN_DETECTOR, finding);

    const output = await getFindings(aws.guardduty, [finding.id as string]);

    const service = finding.service as { additionalInfo: unknown };
    const expected = sdkShape(finding) as { Service: Record<string, unknown> };
    expected.Service.AdditionalInfo = { Value: JSON.stringify(service.additionalInfo), Type: 'default' };
    expect(output.Findings).toEqual([expected]);
    expect(output.Findings?.[0]).toMatchObject({
      Severity: 8,
      CreatedAt: '2025-06-03T14:07:12.481Z',
      UpdatedAt: '2025-06-03T14:07:12.481Z',
      Service: { Count: 1, Archived: false, DetectorId: ADMIN_DETECTOR },
      Resource: { InstanceDetails: { InstanceId: SCENARIO.instanceId } },
    });
  });

  it('answers additionalInfo already in the API shape unchanged', async () => {
    const finding = scenarioFinding();
    const service = finding.service as Record<string, unknown>;
    finding.service = { ...service, additionalInfo: { value: '{"sample":true}', type: 'default' } };
    putFinding(fake.state, ADMIN_DETECTOR, finding);

    const output = await getFindings(aws.guardduty, [finding.id as string]);

    expect(output.Findings?.[0]?.Service?.AdditionalInfo).toEqual({
      Value: '{"sample":true}',
      Type: 'default',
    });
  });

  it("reads a member account's finding seeded under the administrator's detector", async () => {
    const seeded = await startFakeAws({
      seed: {
        ...scenarioSeed(),
        findings: [{ detectorId: ADMIN_DETECTOR, finding: memberFinding('member-finding-1', 5) }],
      },
    });
    try {
      const output = await getFindings(clientsFor(seeded).guardduty, ['member-finding-1']);

      expect(output.Findings?.map((f) => [f.Id, f.AccountId])).toEqual([
        ['member-finding-1', MEMBER_ACCOUNT],
      ]);
    } finally {
      await seeded.close();
    }
  });

  it('leaves out ids the detector does not hold, as GuardDuty does', async () => {
    putFinding(fake.state, ADMIN_DETECTOR, memberFinding('held', 5));

    const some = await getFindings(aws.guardduty, ['missing-1', 'held', 'missing-2']);
    const none = await getFindings(aws.guardduty, ['missing-1']);

    expect(some.Findings?.map((f) => f.Id)).toEqual(['held']);
    expect(none.Findings).toEqual([]);
  });

  it('returns only the findings of the detector asked for', async () => {
    const seeded = await startFakeAws({
      seed: {
        ...scenarioSeed(),
        detectors: [ADMIN_DETECTOR, OTHER_DETECTOR],
        findings: [{ detectorId: OTHER_DETECTOR, finding: memberFinding('elsewhere', 5) }],
      },
    });
    try {
      const client = clientsFor(seeded).guardduty;

      const wrongDetector = await getFindings(client, ['elsewhere']);
      const rightDetector = await getFindings(client, ['elsewhere'], OTHER_DETECTOR);

      expect(wrongDetector.Findings).toEqual([]);
      expect(rightDetector.Findings?.map((f) => f.Id)).toEqual(['elsewhere']);
    } finally {
      await seeded.close();
    }
  });

  it('sorts by sortCriteria', async () => {
    putFinding(fake.state, ADMIN_DETECTOR, memberFinding('low', 2));
    putFinding(fake.state, ADMIN_DETECTOR, memberFinding('high', 8.5));
    putFinding(fake.state, ADMIN_DETECTOR, memberFinding('medium', 5));

    const output = await aws.guardduty.send(
      new guardduty.GetFindingsCommand({
        DetectorId: ADMIN_DETECTOR,
        FindingIds: ['low', 'high', 'medium'],
        SortCriteria: { AttributeName: 'severity', OrderBy: 'DESC' },
      }),
    );

    expect(output.Findings?.map((f) => [f.Id, f.Severity])).toEqual([
      ['high', 8.5],
      ['medium', 5],
      ['low', 2],
    ]);
    expect(fake.calls[0]?.params).toEqual({
      DetectorId: ADMIN_DETECTOR,
      FindingIds: ['low', 'high', 'medium'],
      SortCriteria: { AttributeName: 'severity', OrderBy: 'DESC' },
    });
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('answers a detector the account does not own with BadRequestException (400)', async () => {
    const error = await failureOf(getFindings(aws.guardduty, ['any'], OTHER_DETECTOR));

    expect(error.name).toBe('BadRequestException');
    expect(error.message).toBe(
      'The request is rejected because the input detectorId is not owned by the current account.',
    );
    expect(error.$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.requestId).toBe(fake.calls[0]?.requestId);
    expect(fake.calls[0]).toMatchObject({
      service: 'GuardDuty',
      operation: 'GetFindings',
      errorCode: 'BadRequestException',
    });
  });

  it('sends its errors as GuardDuty does: x-amzn-ErrorType header, message and __type in the body', async () => {
    const response = await fetch(`${fake.url}/detector/${OTHER_DETECTOR}/findings/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedFor('guardduty') },
      body: JSON.stringify({ findingIds: ['any'] }),
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(response.headers.get('x-amzn-requestid')).toBe(fake.calls[0]?.requestId);
    expect(await response.json()).toEqual({
      message: 'The request is rejected because the input detectorId is not owned by the current account.',
      __type: 'InvalidInputException',
    });
  });

  it.each([
    ['no', []],
    ['51', Array.from({ length: 51 }, (_, index) => `finding-${index}`)],
  ])('refuses %s finding ids with BadRequestException', async (_count, findingIds) => {
    const error = await failureOf(getFindings(aws.guardduty, findingIds));

    expect(error.name).toBe('BadRequestException');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('accepts 50 finding ids', async () => {
    const output = await getFindings(
      aws.guardduty,
      Array.from({ length: 50 }, (_, index) => `finding-${index}`),
    );

    expect(output.Findings).toEqual([]);
  });

  it('serves a finding put after the fake started', async () => {
    const before = await getFindings(aws.guardduty, ['late']);
    putFinding(fake.state, ADMIN_DETECTOR, memberFinding('late', 7));
    const after = await getFindings(aws.guardduty, ['late']);

    expect(before.Findings).toEqual([]);
    expect(after.Findings?.map((f) => f.Id)).toEqual(['late']);
  });

  it('lists the detectors of the account', async () => {
    const output = await aws.guardduty.send(new guardduty.ListDetectorsCommand({}));

    expect(output.DetectorIds).toEqual([SCENARIO.detectorId]);
    expect(fake.calls[0]).toMatchObject({ service: 'GuardDuty', operation: 'ListDetectors', status: 200 });
  });

  it('refuses a finding under an unseeded detector or without an id', async () => {
    const seedError = await startFakeAws({
      seed: {
        accountId: '111122223333',
        findings: [{ detectorId: OTHER_DETECTOR, finding: scenarioFinding() }],
      },
    }).catch((caught: unknown) => caught);

    expect((seedError as FakeAwsError).code).toBe('SEED_INVALID');
    expect(() => putFinding(fake.state, OTHER_DETECTOR, scenarioFinding())).toThrow(FakeAwsError);
    expect(() => putFinding(fake.state, ADMIN_DETECTOR, { severity: 5 })).toThrow(FakeAwsError);
  });
});

describe('Organizations', () => {
  let seeded: FakeAws;
  let client: InstanceType<typeof organizations.OrganizationsClient>;

  beforeEach(async () => {
    seeded = await startFakeAws({ seed: withOrganization() });
    client = clientsFor(seeded).organizations;
  });

  afterEach(async () => {
    await seeded.close();
  });

  it('describes a member account', async () => {
    const output = await client.send(new organizations.DescribeAccountCommand({ AccountId: '444455556666' }));

    expect(output.Account).toMatchObject({
      Id: '444455556666',
      Arn: 'arn:aws:organizations::999988887777:account/o-a1b2c3d4e5/444455556666',
      Email: 'aws+444455556666@example.com',
      Name: 'account-444455556666',
      Status: 'ACTIVE',
      JoinedMethod: 'INVITED',
      JoinedTimestamp: new Date('2024-03-01T12:00:00.000Z'),
    });
    expect(seeded.calls[0]).toMatchObject({
      service: 'Organizations',
      operation: 'DescribeAccount',
      params: { AccountId: '444455556666' },
    });
  });

  it('describes the management account and the seeded account without listing them', async () => {
    const management = await client.send(
      new organizations.DescribeAccountCommand({ AccountId: '999988887777' }),
    );
    const self = await client.send(
      new organizations.DescribeAccountCommand({ AccountId: SCENARIO.accountId }),
    );

    expect(management.Account?.Name).toBe('management');
    expect(self.Account?.Arn).toBe(
      `arn:aws:organizations::999988887777:account/o-a1b2c3d4e5/${SCENARIO.accountId}`,
    );
  });

  it('answers an account outside the organization with AccountNotFoundException (400)', async () => {
    const error = await failureOf(
      client.send(new organizations.DescribeAccountCommand({ AccountId: '123456789012' })),
    );

    expect(error.name).toBe('AccountNotFoundException');
    expect(error.message).toBe("You specified an account that doesn't exist.");
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.requestId).toBe(seeded.calls[0]?.requestId);
  });

  it('answers a malformed account id with InvalidInputException', async () => {
    const error = await failureOf(
      client.send(new organizations.DescribeAccountCommand({ AccountId: 'nope' })),
    );

    expect(error.name).toBe('InvalidInputException');
  });

  it('answers an account in no organization with AWSOrganizationsNotInUseException', async () => {
    const error = await failureOf(
      aws.organizations.send(new organizations.DescribeAccountCommand({ AccountId: SCENARIO.accountId })),
    );

    expect(error.name).toBe('AWSOrganizationsNotInUseException');
    expect(error.message).toBe('Your account is not a member of an organization.');
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('refuses a seed with a malformed organization id', async () => {
    const error = await startFakeAws({
      seed: { accountId: '111122223333', organization: { ...ORGANIZATION, id: 'org-1' } },
    }).catch((caught: unknown) => caught);

    expect((error as FakeAwsError).code).toBe('SEED_INVALID');
  });
});

describe('STS', () => {
  it('reports the seeded caller identity', async () => {
    const output = await aws.sts.send(new sts.GetCallerIdentityCommand({}));

    expect(output).toMatchObject({ Account: SCENARIO.accountId, Arn: SCENARIO.callerArn });
    expect(output.UserId).toMatch(/^AROA[A-Z2-7]{17}:riposte$/);
  });

  it('assumes a role, records the session and answers as that session afterwards', async () => {
    const roleArn = 'arn:aws:iam::444455556666:role/riposte-member';

    const output = await aws.sts.send(
      new sts.AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'riposte' }),
    );
    const credentials = output.Credentials;
    const asMember = new sts.STSClient({
      ...clientConfig(fake),
      credentials: {
        accessKeyId: credentials?.AccessKeyId ?? '',
        secretAccessKey: credentials?.SecretAccessKey ?? '',
        sessionToken: credentials?.SessionToken ?? '',
      },
    });
    const identity = await asMember.send(new sts.GetCallerIdentityCommand({}));

    expect(credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(credentials?.Expiration).toBeInstanceOf(Date);
    expect(credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now());
    expect(output.AssumedRoleUser?.Arn).toBe('arn:aws:sts::444455556666:assumed-role/riposte-member/riposte');
    expect(fake.state.assumedRoleSessions).toMatchObject([{ roleArn, roleSessionName: 'riposte' }]);
    expect(identity).toMatchObject({
      Account: '444455556666',
      Arn: 'arn:aws:sts::444455556666:assumed-role/riposte-member/riposte',
    });
    expect(fake.calls.at(-1)?.accessKeyId).toBe(credentials?.AccessKeyId);
  });

  it('denies assuming a role the seeded account does not have', async () => {
    const error = await failureOf(
      aws.sts.send(
        new sts.AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::111122223333:role/missing',
          RoleSessionName: 'riposte',
        }),
      ),
    );

    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
  });
});

describe('SNS', () => {
  it('publishes to the topic and records subject, message and attributes', async () => {
    const output = await aws.sns.send(
      new sns.PublishCommand({
        TopicArn: SCENARIO.topicArn,
        Subject: 'Riposte: instance contained',
        Message: '{"finding":"abc123"}',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
      }),
    );

    expect(output.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.state.topics.get(SCENARIO.topicArn)?.messages).toMatchObject([
      {
        messageId: output.MessageId,
        subject: 'Riposte: instance contained',
        message: '{"finding":"abc123"}',
        messageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
      },
    ]);
  });

  it('answers an unknown topic with NotFoundException (404)', async () => {
    const error = await failureOf(
      aws.sns.send(
        new sns.PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:111122223333:nope', Message: 'm' }),
      ),
    );

    expect(error.name).toBe('NotFoundException');
    expect(error.$metadata.httpStatusCode).toBe(404);
  });
});

describe('CloudTrail', () => {
  it('starts and stops logging on the trail named by ARN', async () => {
    const before = await aws.cloudtrail.send(
      new cloudtrail.GetTrailStatusCommand({ Name: SCENARIO.trailArn }),
    );

    await aws.cloudtrail.send(new cloudtrail.StartLoggingCommand({ Name: SCENARIO.trailArn }));
    const started = await aws.cloudtrail.send(
      new cloudtrail.GetTrailStatusCommand({ Name: SCENARIO.trailArn }),
    );
    await aws.cloudtrail.send(new cloudtrail.StopLoggingCommand({ Name: SCENARIO.trailArn }));

    expect(before.IsLogging).toBe(false);
    expect(started.IsLogging).toBe(true);
    expect(started.StartLoggingTime).toBeInstanceOf(Date);
    expect(fake.state.trails.get(SCENARIO.trailArn)?.isLogging).toBe(false);
  });

  it('accepts the trail name as well as its ARN', async () => {
    await aws.cloudtrail.send(new cloudtrail.StartLoggingCommand({ Name: SCENARIO.trailName }));

    expect(fake.state.trails.get(SCENARIO.trailArn)?.isLogging).toBe(true);
  });

  it('answers an unknown trail with TrailNotFoundException (400)', async () => {
    const error = await failureOf(
      aws.cloudtrail.send(new cloudtrail.GetTrailStatusCommand({ Name: 'nope' })),
    );

    expect(error.name).toBe('TrailNotFoundException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.requestId).toBe(fake.calls.at(-1)?.requestId);
  });
});

describe('S3', () => {
  const block = {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  };

  it('answers a bucket without a public access block with NoSuchPublicAccessBlockConfiguration (404)', async () => {
    const error = await failureOf(
      aws.s3.send(new s3.GetPublicAccessBlockCommand({ Bucket: SCENARIO.bucketName })),
    );

    expect(error.name).toBe('NoSuchPublicAccessBlockConfiguration');
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.$metadata.requestId).toBe(fake.calls[0]?.requestId);
  });

  it('puts a public access block the bucket then reports', async () => {
    await aws.s3.send(
      new s3.PutPublicAccessBlockCommand({
        Bucket: SCENARIO.bucketName,
        ExpectedBucketOwner: SCENARIO.accountId,
        PublicAccessBlockConfiguration: block,
      }),
    );
    const output = await aws.s3.send(new s3.GetPublicAccessBlockCommand({ Bucket: SCENARIO.bucketName }));

    expect(output.PublicAccessBlockConfiguration).toEqual(block);
    expect(fake.state.buckets.get(SCENARIO.bucketName)?.publicAccessBlock).toEqual(block);
    expect(fake.state.buckets.get(SCENARIO.secondBucketName)?.publicAccessBlock).toBeUndefined();
    expect(fake.calls[0]?.params).toEqual({
      Bucket: SCENARIO.bucketName,
      ExpectedBucketOwner: SCENARIO.accountId,
      PublicAccessBlockConfiguration: block,
    });
  });

  it('denies a public access block when the expected bucket owner does not match', async () => {
    const error = await failureOf(
      aws.s3.send(
        new s3.PutPublicAccessBlockCommand({
          Bucket: SCENARIO.bucketName,
          ExpectedBucketOwner: '444455556666',
          PublicAccessBlockConfiguration: block,
        }),
      ),
    );

    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(fake.state.buckets.get(SCENARIO.bucketName)?.publicAccessBlock).toBeUndefined();
  });

  it('answers a bucket without tags with NoSuchTagSet, then returns the tags put on it', async () => {
    const error = await failureOf(
      aws.s3.send(new s3.GetBucketTaggingCommand({ Bucket: SCENARIO.bucketName })),
    );

    await aws.s3.send(
      new s3.PutBucketTaggingCommand({
        Bucket: SCENARIO.bucketName,
        Tagging: { TagSet: [{ Key: 'riposte:finding', Value: 'abc123' }] },
      }),
    );
    const output = await aws.s3.send(new s3.GetBucketTaggingCommand({ Bucket: SCENARIO.bucketName }));

    expect(error.name).toBe('NoSuchTagSet');
    expect(output.TagSet).toEqual([{ Key: 'riposte:finding', Value: 'abc123' }]);
    expect(fake.calls[1]?.status).toBe(204);
  });

  it('refuses a tagging body that is not well-formed XML with MalformedXML and records it raw', async () => {
    const response = await fetch(`${fake.url}/${SCENARIO.bucketName}?tagging`, {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<Tagging><TagSet><Tag></TagSet></Tagging>',
    });

    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>MalformedXML</Code>');
    expect(response.headers.get('x-amz-request-id')).toBe(fake.calls[0]?.requestId);
    expect(fake.calls[0]).toMatchObject({
      operation: 'PutBucketTagging',
      params: { Bucket: SCENARIO.bucketName, Body: '<Tagging><TagSet><Tag></TagSet></Tagging>' },
    });
    expect(fake.state.buckets.get(SCENARIO.bucketName)?.tags).toBeUndefined();
  });

  it('answers an unknown bucket with NoSuchBucket (404)', async () => {
    const error = await failureOf(aws.s3.send(new s3.GetBucketTaggingCommand({ Bucket: 'no-such-bucket' })));

    expect(error.name).toBe('NoSuchBucket');
    expect(error.$metadata.httpStatusCode).toBe(404);
  });

  it('is reached path-style by a client without forcePathStyle, as the endpoint is an IP address', async () => {
    const client = new s3.S3Client(clientConfig(fake));

    await client.send(
      new s3.PutBucketTaggingCommand({ Bucket: SCENARIO.bucketName, Tagging: { TagSet: [] } }),
    );

    expect(fake.calls[0]).toMatchObject({ service: 'S3', operation: 'PutBucketTagging', status: 204 });
  });
});

describe('webhook sink', () => {
  it('records a JSON POST and answers ok as Slack does', async () => {
    const response = await fetch(`${fake.url}/webhook/slack/T000/B000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Riposte contained i-0a1b2c3d4e5f67890' }),
    });

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
    expect(fake.state.webhookPosts).toMatchObject([
      {
        path: '/webhook/slack/T000/B000',
        contentType: 'application/json',
        body: { text: 'Riposte contained i-0a1b2c3d4e5f67890' },
      },
    ]);
    expect(fake.mutatingCalls().map((call) => call.service)).toEqual(['Webhook']);
  });
});

describe('unknown operations', () => {
  it('answers an EC2 action it does not serve with InvalidAction and records it', async () => {
    const error = await failureOf(
      aws.ec2.send(new ec2.TerminateInstancesCommand({ InstanceIds: [SCENARIO.instanceId] })),
    );

    expect(error.name).toBe('InvalidAction');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(fake.calls[0]).toMatchObject({
      service: 'EC2',
      operation: 'TerminateInstances',
      errorCode: 'InvalidAction',
    });
  });

  it('answers an IAM action it does not serve with InvalidAction', async () => {
    const error = await failureOf(aws.iam.send(new iam.DeleteRoleCommand({ RoleName: SCENARIO.roleName })));

    expect(error.name).toBe('InvalidAction');
    expect(fake.calls[0]).toMatchObject({ service: 'IAM', operation: 'DeleteRole', status: 400 });
  });

  it('answers a CloudTrail operation it does not serve with UnknownOperationException', async () => {
    const error = await failureOf(
      aws.cloudtrail.send(new cloudtrail.DeleteTrailCommand({ Name: SCENARIO.trailArn })),
    );

    expect(error.name).toBe('UnknownOperationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('records a JSON request for a service it does not serve as Unknown and refuses it', async () => {
    const response = await fetch(fake.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      body: '{"TableName":"riposte-idempotency"}',
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
    expect(fake.calls[0]).toMatchObject({ service: 'Unknown', operation: 'DynamoDB_20120810.GetItem' });
  });

  it('answers a GuardDuty operation it does not serve with UnknownOperationException and records it', async () => {
    const error = await failureOf(
      aws.guardduty.send(
        new guardduty.UpdateFindingsFeedbackCommand({
          DetectorId: SCENARIO.detectorId,
          FindingIds: ['f'],
          Feedback: 'USEFUL',
        }),
      ),
    );

    expect(error.name).toBe('UnknownOperationException');
    expect(fake.calls[0]).toMatchObject({
      service: 'GuardDuty',
      operation: `POST /detector/${SCENARIO.detectorId}/findings/feedback`,
      params: { FindingIds: ['f'], Feedback: 'USEFUL' },
    });
  });

  it('answers an Organizations operation it does not serve with UnknownOperationException', async () => {
    const error = await failureOf(aws.organizations.send(new organizations.ListAccountsCommand({})));

    expect(error.name).toBe('UnknownOperationException');
    expect(fake.calls[0]).toMatchObject({ service: 'Organizations', operation: 'ListAccounts' });
  });

  it('answers an S3 operation it does not serve with NotImplemented (501)', async () => {
    const error = await failureOf(
      aws.s3.send(new s3.GetBucketPolicyCommand({ Bucket: SCENARIO.bucketName })),
    );

    expect(error.name).toBe('NotImplemented');
    expect(error.$metadata.httpStatusCode).toBe(501);
    expect(fake.calls[0]).toMatchObject({ service: 'S3', errorCode: 'NotImplemented' });
  });
});

describe('injected faults', () => {
  const probes = {
    EC2: (clients: ReturnType<typeof clientsFor>) =>
      clients.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [SCENARIO.instanceId] })),
    IAM: (clients: ReturnType<typeof clientsFor>) =>
      clients.iam.send(new iam.GetRoleCommand({ RoleName: SCENARIO.roleName })),
    STS: (clients: ReturnType<typeof clientsFor>) => clients.sts.send(new sts.GetCallerIdentityCommand({})),
    SNS: (clients: ReturnType<typeof clientsFor>) =>
      clients.sns.send(new sns.PublishCommand({ TopicArn: SCENARIO.topicArn, Message: 'm' })),
    CloudTrail: (clients: ReturnType<typeof clientsFor>) =>
      clients.cloudtrail.send(new cloudtrail.GetTrailStatusCommand({ Name: SCENARIO.trailArn })),
    S3: (clients: ReturnType<typeof clientsFor>) =>
      clients.s3.send(new s3.GetBucketTaggingCommand({ Bucket: SCENARIO.secondBucketName })),
    GuardDuty: (clients: ReturnType<typeof clientsFor>) =>
      clients.guardduty.send(new guardduty.ListDetectorsCommand({})),
    Organizations: (clients: ReturnType<typeof clientsFor>) =>
      clients.organizations.send(new organizations.DescribeAccountCommand({ AccountId: SCENARIO.accountId })),
  } as const;

  it.each([
    ['EC2', 'RequestLimitExceeded', 503],
    ['IAM', 'Throttling', 400],
    ['STS', 'Throttling', 400],
    ['SNS', 'Throttling', 400],
    ['CloudTrail', 'ThrottlingException', 400],
    ['S3', 'SlowDown', 503],
    ['GuardDuty', 'TooManyRequestsException', 429],
    ['Organizations', 'TooManyRequestsException', 400],
  ] as const)('throttles %s as %s (%i)', async (service, name, status) => {
    fake.fail({ service, kind: 'throttle' });

    const error = await failureOf(probes[service](aws));

    expect(error.name).toBe(name);
    expect(error.$metadata.httpStatusCode).toBe(status);
    expect(error.$metadata.requestId).toBe(fake.calls[0]?.requestId);
  });

  it.each(['EC2', 'IAM', 'STS', 'SNS', 'CloudTrail', 'S3', 'GuardDuty', 'Organizations'] as const)(
    'lets the SDK retry succeed after one throttled %s call',
    async (service) => {
      const seeded = await startFakeAws({ seed: withOrganization() });
      try {
        seeded.state.buckets.set(SCENARIO.secondBucketName, {
          name: SCENARIO.secondBucketName,
          ownerAccountId: SCENARIO.accountId,
          tags: { team: 'web' },
        });
        seeded.fail({ service, kind: 'throttle', times: 1 });

        const output = await probes[service](clientsFor(seeded, { maxAttempts: 3 }));

        expect(output.$metadata.attempts).toBe(2);
        expect(seeded.calls.map((call) => call.status)).toEqual([
          { EC2: 503, S3: 503, GuardDuty: 429 }[service as string] ?? 400,
          200,
        ]);
      } finally {
        await seeded.close();
      }
    },
  );

  it.each([
    [{ service: 'IAM', kind: 'error500' }, 'ServiceFailureException', 500],
    [{ service: 'EC2', kind: 'error500' }, 'InternalError', 500],
    [{ service: 'EC2', kind: 'accessDenied' }, 'UnauthorizedOperation', 403],
    [{ service: 'S3', kind: 'accessDenied' }, 'AccessDenied', 403],
    [{ service: 'SNS', kind: 'accessDenied' }, 'AuthorizationErrorException', 403],
    [{ service: 'CloudTrail', kind: 'accessDenied' }, 'AccessDeniedException', 400],
    [{ service: 'EC2', kind: 'notFound' }, 'InvalidInstanceID.NotFound', 400],
    [{ service: 'IAM', kind: 'notFound' }, 'NoSuchEntityException', 404],
    [{ service: 'CloudTrail', kind: 'notFound' }, 'TrailNotFoundException', 400],
    [{ service: 'S3', kind: 'slowdown' }, 'SlowDown', 503],
    [{ service: 'IAM', kind: 'accessDenied', code: 'ExplicitDeny' }, 'ExplicitDeny', 403],
    [{ service: 'GuardDuty', kind: 'error500' }, 'InternalServerErrorException', 500],
    [{ service: 'GuardDuty', kind: 'slowdown' }, 'ServiceUnavailableException', 503],
    [{ service: 'GuardDuty', kind: 'accessDenied' }, 'AccessDeniedException', 403],
    [{ service: 'GuardDuty', kind: 'notFound' }, 'BadRequestException', 400],
    [{ service: 'Organizations', kind: 'error500' }, 'ServiceException', 500],
    [{ service: 'Organizations', kind: 'accessDenied' }, 'AccessDeniedException', 400],
    [{ service: 'Organizations', kind: 'notFound' }, 'AccountNotFoundException', 400],
  ] as const)('surfaces %o as %s (%i)', async (rule: FaultRule, name, status) => {
    fake.fail(rule);

    const error = await failureOf(probes[rule.service as keyof typeof probes](aws));

    expect(error.name).toBe(name);
    expect(error.$metadata.httpStatusCode).toBe(status);
  });

  it('fails only the named operation, only as many times as asked, and changes nothing', async () => {
    fake.fail({ service: 'IAM', operation: 'PutRolePolicy', kind: 'accessDenied', times: 1 });
    const put = () =>
      aws.iam.send(
        new iam.PutRolePolicyCommand({
          RoleName: SCENARIO.roleName,
          PolicyName: 'riposte-deny-all',
          PolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
        }),
      );

    await aws.iam.send(new iam.GetRoleCommand({ RoleName: SCENARIO.roleName }));
    const error = await failureOf(put());
    const policiesAfterFault = { ...fake.state.roles.get(SCENARIO.roleName)?.inlinePolicies };
    await put();

    expect(error.name).toBe('AccessDenied');
    expect(policiesAfterFault).not.toHaveProperty('riposte-deny-all');
    expect(fake.state.roles.get(SCENARIO.roleName)?.inlinePolicies).toHaveProperty('riposte-deny-all');
    expect(fake.calls.map((call) => call.status)).toEqual([200, 403, 200]);
  });

  it('stops failing after clearFaults', async () => {
    fake.fail({ kind: 'error500' });
    fake.clearFaults();

    const output = await probes.STS(aws);

    expect(output.Account).toBe(SCENARIO.accountId);
  });

  it('holds a timed-out call open until the SDK gives up', async () => {
    fake.fail({ service: 'IAM', kind: 'timeout', times: 1 });

    const error = await failureOf(probes.IAM(clientsFor(fake, { requestTimeout: 200 })));

    expect(error.name).toBe('TimeoutError');
    expect(fake.calls[0]).toMatchObject({ service: 'IAM', status: 0, errorCode: 'Timeout' });
  });

  it('refuses a fault rule it cannot apply', () => {
    expect(() => fake.fail({ kind: 'meltdown' as FaultRule['kind'] })).toThrow(FakeAwsError);
    expect(() => fake.fail({ kind: 'throttle', times: 0 })).toThrow(FakeAwsError);
  });
});

describe('latency', () => {
  const getRole = (clients: ReturnType<typeof clientsFor>) =>
    clients.iam.send(new iam.GetRoleCommand({ RoleName: SCENARIO.roleName }));

  it('delays only the filtered service, and stops when set back to zero', async () => {
    fake.setLatency(10_000, { service: 'IAM' });
    const impatient = clientsFor(fake, { requestTimeout: 200 });

    const delayed = await failureOf(getRole(impatient));
    const unaffected = await impatient.sts.send(new sts.GetCallerIdentityCommand({}));
    fake.setLatency(0, { service: 'IAM' });
    const restored = await getRole(impatient);

    expect(delayed.name).toBe('TimeoutError');
    expect(unaffected.Account).toBe(SCENARIO.accountId);
    expect(restored.Role?.RoleName).toBe(SCENARIO.roleName);
  });

  it('applies the start-up latency to every call', async () => {
    const slow = await startFakeAws({ seed: scenarioSeed(), latencyMs: 10_000 });
    try {
      const error = await failureOf(
        clientsFor(slow, { requestTimeout: 200 }).sts.send(new sts.GetCallerIdentityCommand({})),
      );

      expect(error.name).toBe('TimeoutError');
    } finally {
      await slow.close();
    }
  });
});

describe('GuardDuty archiving', () => {
  const finding = scenarioFinding();
  const id = finding.id as string;
  const archive = (command: 'ArchiveFindingsCommand' | 'UnarchiveFindingsCommand', findingIds = [id]) =>
    aws.guardduty.send(new guardduty[command]({ DetectorId: SCENARIO.detectorId, FindingIds: findingIds }));
  const archived = async () =>
    (
      await aws.guardduty.send(
        new guardduty.GetFindingsCommand({ DetectorId: SCENARIO.detectorId, FindingIds: [id] }),
      )
    ).Findings?.[0]?.Service?.Archived;

  beforeEach(() => putFinding(fake.state, SCENARIO.detectorId, finding));

  it('archives a finding, which GetFindings then shows, and unarchives it', async () => {
    await archive('ArchiveFindingsCommand');
    const afterArchive = await archived();
    await archive('UnarchiveFindingsCommand');

    expect(afterArchive).toBe(true);
    expect(await archived()).toBe(false);
    expect(fake.mutatingCalls().map((call) => [call.operation, call.params])).toEqual([
      ['ArchiveFindings', { DetectorId: SCENARIO.detectorId, FindingIds: [id] }],
      ['UnarchiveFindings', { DetectorId: SCENARIO.detectorId, FindingIds: [id] }],
    ]);
  });

  it('is reached at POST /detector/{DetectorId}/findings/archive and /unarchive', async () => {
    await archive('ArchiveFindingsCommand');
    const response = await fetch(`${fake.url}/detector/${SCENARIO.detectorId}/findings/unarchive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedFor('guardduty') },
      body: JSON.stringify({ findingIds: [id] }),
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    expect(fake.calls.map((call) => call.operation)).toEqual(['ArchiveFindings', 'UnarchiveFindings']);
  });

  it('leaves out ids the detector does not hold', async () => {
    await archive('ArchiveFindingsCommand', ['0000aaaa', id]);

    expect(await archived()).toBe(true);
    expect(fake.state.findings.get(SCENARIO.detectorId)?.has('0000aaaa')).toBe(false);
  });

  it('answers a detector the account does not own, or no ids, with BadRequestException', async () => {
    const foreign = await failureOf(
      aws.guardduty.send(
        new guardduty.ArchiveFindingsCommand({
          DetectorId: '0f0e0d0c0b0a09080706050403020100',
          FindingIds: [id],
        }),
      ),
    );
    const none = await failureOf(archive('ArchiveFindingsCommand', []));

    expect([foreign.name, foreign.$metadata.httpStatusCode]).toEqual(['BadRequestException', 400]);
    expect(none.name).toBe('BadRequestException');
    expect(await archived()).toBe(false);
  });
});

describe('Security Hub', () => {
  const finding = scenarioFinding();
  const ID = finding.arn as string;
  const PRODUCT_ARN = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
  const IDENTIFIER = { Id: ID, ProductArn: PRODUCT_ARN };

  let hub: FakeAws;
  let client: InstanceType<typeof securityhub.SecurityHubClient>;

  const start = async (seed: FakeAccountSeed['securityHub'] = { enabled: true }) => {
    hub = await startFakeAws({ seed: { ...scenarioSeed(), securityHub: seed } });
    putFinding(hub.state, SCENARIO.detectorId, finding);
    client = clientsFor(hub).securityhub;
  };

  const copyOf = async (target = client) =>
    (
      await target.send(
        new securityhub.GetFindingsCommand({
          Filters: {
            Id: [{ Value: ID, Comparison: 'EQUALS' }],
            ProductArn: [{ Value: PRODUCT_ARN, Comparison: 'EQUALS' }],
          },
          MaxResults: 1,
        }),
      )
    ).Findings;

  const update = (input: Partial<ConstructorParameters<typeof securityhub.BatchUpdateFindingsCommand>[0]>) =>
    client.send(new securityhub.BatchUpdateFindingsCommand({ FindingIdentifiers: [IDENTIFIER], ...input }));

  afterEach(async () => {
    await hub?.close();
  });

  it("holds the GuardDuty integration's copy of each GuardDuty finding, NEW and active", async () => {
    await start();

    const findings = await copyOf();

    expect(findings).toEqual([
      expect.objectContaining({
        Id: ID,
        ProductArn: PRODUCT_ARN,
        ProductName: 'GuardDuty',
        AwsAccountId: SCENARIO.accountId,
        Region: 'us-east-1',
        GeneratorId: `arn:aws:guardduty:us-east-1:${SCENARIO.accountId}:detector/${SCENARIO.detectorId}`,
        Severity: { Product: 8, Label: 'HIGH', Normalized: 80 },
        Workflow: { Status: 'NEW' },
        RecordState: 'ACTIVE',
      }),
    ]);
    expect(findings?.[0]?.Note).toBeUndefined();
  });

  it('sets the workflow status and the note, which GetFindings then shows', async () => {
    await start();

    const output = await update({
      Workflow: { Status: 'RESOLVED' },
      Note: { Text: 'Riposte: contained.', UpdatedBy: 'riposte' },
    });

    expect(output).toMatchObject({ ProcessedFindings: [IDENTIFIER], UnprocessedFindings: [] });
    expect(await copyOf()).toEqual([
      expect.objectContaining({
        Workflow: { Status: 'RESOLVED' },
        Note: { Text: 'Riposte: contained.', UpdatedBy: 'riposte', UpdatedAt: expect.any(String) },
      }),
    ]);
    expect(hub.state.securityHub.workflows.get(ID)?.notes.map((note) => note.text)).toEqual([
      'Riposte: contained.',
    ]);
    expect(hub.mutatingCalls().map((call) => [call.service, call.operation])).toEqual([
      ['SecurityHub', 'BatchUpdateFindings'],
    ]);
    expect(hub.calls.at(-2)?.params).toEqual({
      FindingIdentifiers: [IDENTIFIER],
      Workflow: { Status: 'RESOLVED' },
      Note: { Text: 'Riposte: contained.', UpdatedBy: 'riposte' },
    });
  });

  it('keeps the workflow status when only a note is written, and the note when only the status changes', async () => {
    await start();

    await update({ Note: { Text: 'first', UpdatedBy: 'riposte' } });
    await update({ Workflow: { Status: 'NOTIFIED' } });

    expect(await copyOf()).toEqual([
      expect.objectContaining({
        Workflow: { Status: 'NOTIFIED' },
        Note: expect.objectContaining({ Text: 'first' }),
      }),
    ]);
  });

  it('lists a finding it does not hold as unprocessed (FindingNotFound), and a duplicate', async () => {
    await start();
    const unknown = { Id: ID.replace(/[a-z0-9]+$/, 'ffff0000'), ProductArn: PRODUCT_ARN };

    const output = await client.send(
      new securityhub.BatchUpdateFindingsCommand({
        FindingIdentifiers: [unknown, IDENTIFIER, IDENTIFIER],
        Workflow: { Status: 'NOTIFIED' },
      }),
    );

    expect(output.ProcessedFindings).toEqual([]);
    expect(output.UnprocessedFindings).toEqual([
      { FindingIdentifier: unknown, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' },
      {
        FindingIdentifier: IDENTIFIER,
        ErrorCode: 'DuplicatedFindingIdentifier',
        ErrorMessage: 'Duplicated Finding Identifier',
      },
      {
        FindingIdentifier: IDENTIFIER,
        ErrorCode: 'DuplicatedFindingIdentifier',
        ErrorMessage: 'Duplicated Finding Identifier',
      },
    ]);
    expect(hub.state.securityHub.workflows.size).toBe(0);
  });

  it.each([
    ['a workflow status Security Hub does not know', { Workflow: { Status: 'CLOSED' } }],
    ['a note longer than 512 characters', { Note: { Text: 'x'.repeat(513), UpdatedBy: 'riposte' } }],
    ['a note without UpdatedBy', { Note: { Text: 'x' } }],
    ['nothing to update', {}],
  ])('refuses %s with InvalidInputException (400) and changes nothing', async (_, input) => {
    await start();

    const error = await failureOf(update(input as never));

    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['InvalidInputException', 400]);
    expect(hub.state.securityHub.workflows.size).toBe(0);
  });

  it('answers InvalidAccessException (401) while the account has not enabled Security Hub', async () => {
    await start({});

    const read = await failureOf(copyOf());
    const write = await failureOf(update({ Workflow: { Status: 'NOTIFIED' } }));

    for (const error of [read, write]) {
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['InvalidAccessException', 401]);
      expect(error.message).toBe(`Account ${SCENARIO.accountId} is not subscribed to AWS Security Hub`);
    }
    expect(hub.calls.map((call) => call.errorCode)).toEqual([
      'InvalidAccessException',
      'InvalidAccessException',
    ]);
  });

  it('sends its errors as Security Hub does: x-amzn-ErrorType, and Code and Message in the body', async () => {
    await start({});

    const response = await fetch(`${hub.url}/findings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedFor('securityhub') },
      body: '{}',
    });

    expect(response.status).toBe(401);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidAccessException');
    expect(await response.json()).toEqual({
      Code: 'InvalidAccessException',
      Message: `Account ${SCENARIO.accountId} is not subscribed to AWS Security Hub`,
    });
  });

  it('is reached at PATCH /findings/batchupdate and POST /findings, and at nothing else', async () => {
    await start();
    const body = JSON.stringify({ FindingIdentifiers: [IDENTIFIER], Workflow: { Status: 'NOTIFIED' } });
    const send = (method: string, path: string) =>
      fetch(`${hub.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...signedFor('securityhub') },
        body,
      });

    const patched = await send('PATCH', '/findings/batchupdate');
    const posted = await send('POST', '/findings/batchupdate');

    expect(patched.status).toBe(200);
    expect(posted.status).toBe(400);
    expect(hub.calls.map((call) => [call.service, call.operation])).toEqual([
      ['SecurityHub', 'BatchUpdateFindings'],
      ['SecurityHub', 'POST /findings/batchupdate'],
    ]);
  });

  it("holds only its own region's copies", async () => {
    await start();
    const elsewhere = new securityhub.SecurityHubClient({ ...clientConfig(hub), region: 'eu-west-1' });

    expect(await copyOf(elsewhere)).toEqual([]);
    expect(await copyOf()).toHaveLength(1);
  });

  it('filters with EQUALS, NOT_EQUALS and PREFIX, and refuses a filter it does not know', async () => {
    await start();
    const find = (Filters: Record<string, { Value: string; Comparison: string }[]>) =>
      client.send(new securityhub.GetFindingsCommand({ Filters: Filters as never }));

    const resolved = await find({ WorkflowStatus: [{ Value: 'RESOLVED', Comparison: 'EQUALS' }] });
    const notResolved = await find({ WorkflowStatus: [{ Value: 'RESOLVED', Comparison: 'NOT_EQUALS' }] });
    const byPrefix = await find({ Id: [{ Value: 'arn:aws:guardduty:us-east-1:', Comparison: 'PREFIX' }] });
    const unknown = await failureOf(find({ Title: [{ Value: 'x', Comparison: 'EQUALS' }] }));

    expect(resolved.Findings).toEqual([]);
    expect(notResolved.Findings).toHaveLength(1);
    expect(byPrefix.Findings).toHaveLength(1);
    expect(unknown.name).toBe('InvalidInputException');
  });

  it('starts a copy at the workflow status and note the seed gives', async () => {
    await start({
      enabled: true,
      findings: [{ id: ID, workflowStatus: 'NOTIFIED', note: { text: 'triaged', updatedBy: 'analyst' } }],
    });

    expect(await copyOf()).toEqual([
      expect.objectContaining({
        Workflow: { Status: 'NOTIFIED' },
        Note: { Text: 'triaged', UpdatedBy: 'analyst', UpdatedAt: '2024-03-01T12:00:00.000Z' },
      }),
    ]);
  });

  it('shows a copy archived in GuardDuty with RecordState ARCHIVED', async () => {
    await start();
    await clientsFor(hub).guardduty.send(
      new guardduty.ArchiveFindingsCommand({
        DetectorId: SCENARIO.detectorId,
        FindingIds: [finding.id as string],
      }),
    );

    expect(await copyOf()).toEqual([expect.objectContaining({ RecordState: 'ARCHIVED' })]);
  });

  it('throttles with LimitExceededException (429), which the SDK retries', async () => {
    await start();
    hub.fail({ service: 'SecurityHub', kind: 'throttle', times: 1 });

    const output = await clientsFor(hub, { maxAttempts: 2 }).securityhub.send(
      new securityhub.GetFindingsCommand({}),
    );

    expect(output.$metadata.attempts).toBe(2);
    expect(hub.calls.map((call) => [call.status, call.errorCode])).toEqual([
      [429, 'LimitExceededException'],
      [200, undefined],
    ]);
  });
});

describe('EC2 for undo: tags, security groups, network interfaces', () => {
  const QUARANTINE_VPC_GROUP = {
    groupId: 'sg-0fedcba9876540099',
    groupName: 'riposte-quarantine',
    vpcId: SCENARIO.vpcId,
    egress: [],
  };

  let seeded: FakeAws;
  let client: InstanceType<typeof ec2.EC2Client>;

  beforeEach(async () => {
    const seed = scenarioSeed();
    seeded = await startFakeAws({
      seed: { ...seed, securityGroups: [...(seed.securityGroups ?? []), QUARANTINE_VPC_GROUP] },
    });
    client = clientsFor(seeded).ec2;
  });

  afterEach(async () => {
    await seeded.close();
  });

  const tagsOf = (instanceId: string) => seeded.state.instances.get(instanceId)?.tags;

  it('deletes the tags named by key, by key and value, or all of them', async () => {
    await client.send(
      new ec2.CreateTagsCommand({
        Resources: [SCENARIO.instanceId],
        Tags: [
          { Key: 'riposte:finding-id', Value: 'f1' },
          { Key: 'riposte:tagged-at', Value: 't' },
          { Key: 'team', Value: 'web' },
        ],
      }),
    );

    await client.send(
      new ec2.DeleteTagsCommand({
        Resources: [SCENARIO.instanceId],
        Tags: [{ Key: 'riposte:finding-id' }, { Key: 'team', Value: 'other' }],
      }),
    );
    const afterKeys = { ...tagsOf(SCENARIO.instanceId) };
    await client.send(
      new ec2.DeleteTagsCommand({ Resources: [SCENARIO.instanceId], Tags: [{ Key: 'team', Value: 'web' }] }),
    );
    const afterValue = { ...tagsOf(SCENARIO.instanceId) };
    await client.send(new ec2.DeleteTagsCommand({ Resources: [SCENARIO.instanceId] }));

    expect(afterKeys).toEqual({ Name: 'app-server', 'riposte:tagged-at': 't', team: 'web' });
    expect(afterValue).toEqual({ Name: 'app-server', 'riposte:tagged-at': 't' });
    expect(tagsOf(SCENARIO.instanceId)).toEqual({});
    expect(seeded.mutatingCalls().map((call) => call.operation)).toEqual([
      'CreateTags',
      'DeleteTags',
      'DeleteTags',
      'DeleteTags',
    ]);
  });

  it('refuses to delete the tags of an instance that does not exist', async () => {
    const error = await failureOf(
      client.send(new ec2.DeleteTagsCommand({ Resources: ['i-0000000000000000f'], Tags: [{ Key: 'Name' }] })),
    );

    expect(error.name).toBe('InvalidInstanceID.NotFound');
  });

  it('refuses to delete a group a network interface uses with DependencyViolation, then deletes it', async () => {
    await client.send(
      new ec2.ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: SCENARIO.networkInterfaceId,
        Groups: [QUARANTINE_VPC_GROUP.groupId],
      }),
    );
    const inUse = await failureOf(
      client.send(new ec2.DeleteSecurityGroupCommand({ GroupId: QUARANTINE_VPC_GROUP.groupId })),
    );
    await client.send(
      new ec2.ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: SCENARIO.networkInterfaceId,
        Groups: [SCENARIO.appSecurityGroupId],
      }),
    );

    const output = await client.send(
      new ec2.DeleteSecurityGroupCommand({ GroupId: QUARANTINE_VPC_GROUP.groupId }),
    );

    expect([inUse.name, inUse.message]).toEqual([
      'DependencyViolation',
      `resource ${QUARANTINE_VPC_GROUP.groupId} has a dependent object`,
    ]);
    expect(output).toMatchObject({ Return: true, GroupId: QUARANTINE_VPC_GROUP.groupId });
    expect(seeded.state.securityGroups.has(QUARANTINE_VPC_GROUP.groupId)).toBe(false);
    const again = await failureOf(
      client.send(new ec2.DeleteSecurityGroupCommand({ GroupId: QUARANTINE_VPC_GROUP.groupId })),
    );
    expect(again.name).toBe('InvalidGroup.NotFound');
  });

  it('refuses to delete a group another group references', async () => {
    seeded.state.securityGroups.get(SCENARIO.appSecurityGroupId)?.ingress.push({
      ruleId: 'sgr-0000000000000000a',
      ipProtocol: 'tcp',
      fromPort: 22,
      toPort: 22,
      referencedGroupId: QUARANTINE_VPC_GROUP.groupId,
    });

    const error = await failureOf(
      client.send(new ec2.DeleteSecurityGroupCommand({ GroupId: QUARANTINE_VPC_GROUP.groupId })),
    );

    expect(error.name).toBe('DependencyViolation');
  });

  it('describes network interfaces with their groups and attachment, by id and by filter', async () => {
    const byId = await client.send(
      new ec2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [SCENARIO.networkInterfaceId] }),
    );
    const byInstance = await client.send(
      new ec2.DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'attachment.instance-id', Values: [SCENARIO.secondInstanceId] }],
      }),
    );
    const byGroup = await client.send(
      new ec2.DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'group-id', Values: [SCENARIO.appSecurityGroupId] }],
      }),
    );
    const unused = await client.send(
      new ec2.DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'group-id', Values: [QUARANTINE_VPC_GROUP.groupId] }],
      }),
    );

    expect(byId.NetworkInterfaces).toEqual([
      expect.objectContaining({
        NetworkInterfaceId: SCENARIO.networkInterfaceId,
        VpcId: SCENARIO.vpcId,
        SubnetId: SCENARIO.subnetId,
        OwnerId: SCENARIO.accountId,
        Status: 'in-use',
        PrivateIpAddress: '10.0.1.25',
        Groups: [{ GroupId: SCENARIO.appSecurityGroupId, GroupName: 'app-server-sg' }],
        Attachment: expect.objectContaining({
          InstanceId: SCENARIO.instanceId,
          DeviceIndex: 0,
          Status: 'attached',
        }),
      }),
    ]);
    expect(byInstance.NetworkInterfaces?.map((eni) => eni.NetworkInterfaceId)).toEqual([
      SCENARIO.secondNetworkInterfaceId,
    ]);
    expect(byGroup.NetworkInterfaces).toHaveLength(2);
    expect(unused.NetworkInterfaces).toEqual([]);
  });

  it('answers an unknown network interface with InvalidNetworkInterfaceID.NotFound', async () => {
    const error = await failureOf(
      client.send(
        new ec2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-0000000000000000f'] }),
      ),
    );

    expect(error.name).toBe('InvalidNetworkInterfaceID.NotFound');
  });
});

describe('IAM and S3 for undo: untagging, deleting a public access block and a tag set', () => {
  it('untags a role and a user, ignoring keys they do not carry', async () => {
    await aws.iam.send(
      new iam.TagRoleCommand({
        RoleName: SCENARIO.roleName,
        Tags: [
          { Key: 'riposte:finding-id', Value: 'f1' },
          { Key: 'team', Value: 'web' },
        ],
      }),
    );
    await aws.iam.send(
      new iam.TagUserCommand({
        UserName: SCENARIO.userName,
        Tags: [{ Key: 'riposte:finding-id', Value: 'f1' }],
      }),
    );

    await aws.iam.send(
      new iam.UntagRoleCommand({ RoleName: SCENARIO.roleName, TagKeys: ['riposte:finding-id', 'absent'] }),
    );
    await aws.iam.send(
      new iam.UntagUserCommand({ UserName: SCENARIO.userName, TagKeys: ['riposte:finding-id'] }),
    );

    expect(fake.state.roles.get(SCENARIO.roleName)?.tags).toEqual({ team: 'web' });
    expect(fake.state.users.get(SCENARIO.userName)?.tags).toEqual({});
    expect(fake.mutatingCalls().map((call) => [call.operation, call.params.TagKeys])).toEqual([
      ['TagRole', undefined],
      ['TagUser', undefined],
      ['UntagRole', ['riposte:finding-id', 'absent']],
      ['UntagUser', ['riposte:finding-id']],
    ]);
  });

  it('answers UntagRole for an unknown role with NoSuchEntityException', async () => {
    const error = await failureOf(
      aws.iam.send(new iam.UntagRoleCommand({ RoleName: 'nobody', TagKeys: ['a'] })),
    );

    expect(error.name).toBe('NoSuchEntityException');
  });

  it('deletes a public access block and a tag set, after which S3 reports neither', async () => {
    await aws.s3.send(
      new s3.PutPublicAccessBlockCommand({
        Bucket: SCENARIO.bucketName,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true },
      }),
    );
    await aws.s3.send(
      new s3.PutBucketTaggingCommand({
        Bucket: SCENARIO.bucketName,
        Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] },
      }),
    );

    const deleted = await aws.s3.send(
      new s3.DeletePublicAccessBlockCommand({
        Bucket: SCENARIO.bucketName,
        ExpectedBucketOwner: SCENARIO.accountId,
      }),
    );
    await aws.s3.send(new s3.DeleteBucketTaggingCommand({ Bucket: SCENARIO.bucketName }));

    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const block = await failureOf(
      aws.s3.send(new s3.GetPublicAccessBlockCommand({ Bucket: SCENARIO.bucketName })),
    );
    const tags = await failureOf(
      aws.s3.send(new s3.GetBucketTaggingCommand({ Bucket: SCENARIO.bucketName })),
    );
    expect([block.name, tags.name]).toEqual(['NoSuchPublicAccessBlockConfiguration', 'NoSuchTagSet']);
    expect(fake.mutatingCalls().map((call) => call.operation)).toEqual([
      'PutPublicAccessBlock',
      'PutBucketTagging',
      'DeletePublicAccessBlock',
      'DeleteBucketTagging',
    ]);
  });

  it('denies deleting the public access block of a bucket of another owner', async () => {
    const error = await failureOf(
      aws.s3.send(
        new s3.DeletePublicAccessBlockCommand({
          Bucket: SCENARIO.bucketName,
          ExpectedBucketOwner: '444455556666',
        }),
      ),
    );

    expect(error.name).toBe('AccessDenied');
  });
});

describe('snapshot', () => {
  it('describes the seeded account with sorted keys and no generated ids', () => {
    const snapshot = fake.snapshot();

    expect(snapshot.instances[SCENARIO.instanceId]).toEqual({
      state: 'running',
      tags: { Name: 'app-server' },
      instanceProfileArn: SCENARIO.instanceProfileArn,
    });
    expect(snapshot.networkInterfaces[SCENARIO.networkInterfaceId]?.groupIds).toEqual([
      SCENARIO.appSecurityGroupId,
    ]);
    expect(snapshot.securityGroups[SCENARIO.appSecurityGroupId]?.egress).toEqual([
      { cidrIpv4: '0.0.0.0/0', ipProtocol: '-1' },
    ]);
    expect(snapshot.roles[SCENARIO.roleName]?.inlinePolicies).toHaveProperty('s3-full-access');
    expect(snapshot.buckets[SCENARIO.bucketName]).toEqual({ publicAccessBlock: null, tags: null });
    expect(snapshot.trails[SCENARIO.trailArn]).toEqual({ isLogging: false });
    expect(snapshot.securityHub).toEqual({ enabled: false, findings: {} });
    expect(JSON.stringify(snapshot)).not.toMatch(/iip-assoc|sgr-/);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });

  it('compares equal once a change is undone, whatever ids AWS generated on the way', async () => {
    putFinding(fake.state, SCENARIO.detectorId, scenarioFinding());
    const before = fake.snapshot();
    await aws.ec2.send(
      new ec2.DisassociateIamInstanceProfileCommand({ AssociationId: SCENARIO.associationId }),
    );
    await aws.ec2.send(
      new ec2.RevokeSecurityGroupEgressCommand({
        GroupId: SCENARIO.appSecurityGroupId,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    await aws.guardduty.send(
      new guardduty.ArchiveFindingsCommand({
        DetectorId: SCENARIO.detectorId,
        FindingIds: [scenarioFinding().id as string],
      }),
    );
    const during = fake.snapshot();

    await aws.ec2.send(
      new ec2.AssociateIamInstanceProfileCommand({
        InstanceId: SCENARIO.instanceId,
        IamInstanceProfile: { Name: SCENARIO.instanceProfileName },
      }),
    );
    fake.state.securityGroups.get(SCENARIO.appSecurityGroupId)?.egress.push({
      ruleId: 'sgr-0123456789abcdef0',
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });
    await aws.guardduty.send(
      new guardduty.UnarchiveFindingsCommand({
        DetectorId: SCENARIO.detectorId,
        FindingIds: [scenarioFinding().id as string],
      }),
    );

    expect(during).not.toEqual(before);
    expect(during.instances[SCENARIO.instanceId]?.instanceProfileArn).toBeNull();
    expect(during.guardDuty.findings[SCENARIO.detectorId]).toEqual({
      [scenarioFinding().id as string]: { archived: true },
    });
    expect(fake.snapshot()).toEqual(before);
  });
});

describe('Lambda (restJson1) through the real SDK client', () => {
  const ARN = 'arn:aws:lambda:us-east-1:111122223333:function:orders-api';
  const seed: FakeAccountSeed = {
    accountId: '111122223333',
    lambdaFunctions: [
      {
        name: 'orders-api',
        reservedConcurrency: 5,
        url: { authType: 'NONE', cors: { AllowOrigins: ['*'] } },
        statements: [
          { Sid: 'public', Effect: 'Allow', Principal: '*', Action: 'lambda:InvokeFunction', Resource: ARN },
        ],
        versions: { '3': {} },
      },
    ],
  };

  it('reads and changes concurrency, the function URL and the resource policy', async () => {
    await fake.close();
    fake = await startFakeAws({ seed });
    const client = new lambdaSdk.LambdaClient(clientConfig(fake));
    const before = fake.snapshot();

    expect(
      (await client.send(new lambdaSdk.GetFunctionConcurrencyCommand({ FunctionName: ARN })))
        .ReservedConcurrentExecutions,
    ).toBe(5);
    await client.send(
      new lambdaSdk.PutFunctionConcurrencyCommand({
        FunctionName: 'orders-api',
        ReservedConcurrentExecutions: 0,
      }),
    );
    const url = await client.send(new lambdaSdk.GetFunctionUrlConfigCommand({ FunctionName: ARN }));
    expect(url).toMatchObject({
      AuthType: 'NONE',
      InvokeMode: 'BUFFERED',
      Cors: { AllowOrigins: ['*'] },
      FunctionArn: ARN,
    });
    await client.send(new lambdaSdk.DeleteFunctionUrlConfigCommand({ FunctionName: ARN }));
    const policy = await client.send(new lambdaSdk.GetPolicyCommand({ FunctionName: ARN }));
    expect(JSON.parse(policy.Policy ?? '{}').Statement).toHaveLength(1);
    await client.send(new lambdaSdk.RemovePermissionCommand({ FunctionName: ARN, StatementId: 'public' }));

    expect(fake.snapshot().lambdaFunctions['orders-api']).toEqual({
      reservedConcurrency: 0,
      url: null,
      policies: { '(function)': [], '3': [] },
    });
    expect(fake.mutatingCalls().map((call) => call.operation)).toEqual([
      'PutFunctionConcurrency',
      'DeleteFunctionUrlConfig',
      'RemovePermission',
    ]);

    await client.send(
      new lambdaSdk.PutFunctionConcurrencyCommand({ FunctionName: ARN, ReservedConcurrentExecutions: 5 }),
    );
    await client.send(
      new lambdaSdk.CreateFunctionUrlConfigCommand({
        FunctionName: ARN,
        AuthType: 'NONE',
        InvokeMode: 'BUFFERED',
        Cors: { AllowOrigins: ['*'] },
      }),
    );
    const added = await client.send(
      new lambdaSdk.AddPermissionCommand({
        FunctionName: ARN,
        StatementId: 'public',
        Action: 'lambda:InvokeFunction',
        Principal: '*',
      }),
    );
    expect(JSON.parse(added.Statement ?? '{}')).toEqual({
      Sid: 'public',
      Effect: 'Allow',
      Principal: '*',
      Action: 'lambda:InvokeFunction',
      Resource: ARN,
    });
    expect(fake.snapshot()).toEqual(before);
  });

  it('answers a missing function, URL or policy with ResourceNotFoundException', async () => {
    await fake.close();
    fake = await startFakeAws({ seed });
    const client = new lambdaSdk.LambdaClient(clientConfig(fake));

    await expect(
      client.send(new lambdaSdk.GetFunctionConcurrencyCommand({ FunctionName: 'missing' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(
      client.send(new lambdaSdk.GetPolicyCommand({ FunctionName: ARN, Qualifier: '3' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await client.send(new lambdaSdk.DeleteFunctionConcurrencyCommand({ FunctionName: ARN }));
    expect(fake.snapshot().lambdaFunctions['orders-api']?.reservedConcurrency).toBeNull();
  });
});

describe('ECS (awsJson1_1) through the real SDK client', () => {
  const TASK = 'arn:aws:ecs:us-east-1:111122223333:task/payments/0b69d5c0d5d14f4a8d3f6c2b7e1a9f00';
  const seed: FakeAccountSeed = {
    accountId: '111122223333',
    ecsTasks: [
      {
        cluster: 'payments',
        taskId: '0b69d5c0d5d14f4a8d3f6c2b7e1a9f00',
        taskDefinition: 'payments-worker:7',
        containers: [{ name: 'worker', image: 'payments-worker:1.4.2', runtimeId: 'abc-123' }],
        tags: { team: 'payments' },
      },
    ],
  };

  it('describes, tags and stops a task', async () => {
    await fake.close();
    fake = await startFakeAws({ seed });
    const client = new ecsSdk.ECSClient(clientConfig(fake));

    const described = await client.send(
      new ecsSdk.DescribeTasksCommand({
        cluster: 'payments',
        tasks: [TASK, `${TASK.slice(0, -1)}1`],
        include: ['TAGS'],
      }),
    );
    expect(described.tasks?.[0]).toMatchObject({
      taskArn: TASK,
      lastStatus: 'RUNNING',
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:111122223333:task-definition/payments-worker:7',
      containers: [{ name: 'worker', image: 'payments-worker:1.4.2', runtimeId: 'abc-123' }],
      tags: [{ key: 'team', value: 'payments' }],
    });
    expect(described.failures).toEqual([{ arn: `${TASK.slice(0, -1)}1`, reason: 'MISSING' }]);

    await client.send(
      new ecsSdk.TagResourceCommand({
        resourceArn: TASK,
        tags: [{ key: 'riposte:finding-id', value: 'f1' }],
      }),
    );
    const stopped = await client.send(
      new ecsSdk.StopTaskCommand({ cluster: 'payments', task: TASK, reason: 'finding f1' }),
    );

    expect(stopped.task).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stoppedReason: 'finding f1',
    });
    expect(stopped.task?.stoppingAt).toBeInstanceOf(Date);
    expect((await client.send(new ecsSdk.ListTagsForResourceCommand({ resourceArn: TASK }))).tags).toEqual([
      { key: 'team', value: 'payments' },
      { key: 'riposte:finding-id', value: 'f1' },
    ]);
    expect(fake.mutatingCalls().map((call) => call.operation)).toEqual(['TagResource', 'StopTask']);
  });

  it('answers an unknown task with InvalidParameterException', async () => {
    await fake.close();
    fake = await startFakeAws({ seed });
    const client = new ecsSdk.ECSClient(clientConfig(fake));

    await expect(
      client.send(new ecsSdk.StopTaskCommand({ cluster: 'payments', task: `${TASK.slice(0, -1)}1` })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
  });
});

describe('EKS', () => {
  const ROLE = `arn:aws:iam::${SCENARIO.accountId}:role/ci-deployer`;
  const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
  let cluster: FakeAws;
  let client: InstanceType<typeof eks.EKSClient>;

  beforeEach(async () => {
    cluster = await startFakeAws({
      seed: {
        ...scenarioSeed(),
        eksClusters: [
          {
            name: 'prod',
            accessEntries: [
              { principalArn: ROLE, kubernetesGroups: ['deployers'], policies: [{ policyArn: ADMIN }] },
            ],
          },
        ],
      },
    });
    client = new eks.EKSClient(clientConfig(cluster));
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('describes a cluster with its endpoint access and authentication mode', async () => {
    const { cluster: described } = await client.send(new eks.DescribeClusterCommand({ name: 'prod' }));

    expect(described?.resourcesVpcConfig).toMatchObject({
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: ['0.0.0.0/0'],
    });
    expect(described?.accessConfig?.authenticationMode).toBe('API_AND_CONFIG_MAP');
    expect(described?.createdAt).toBeInstanceOf(Date);
  });

  it('updates the endpoint access, refuses turning both endpoints off, and describes the update', async () => {
    const { update } = await client.send(
      new eks.UpdateClusterConfigCommand({
        name: 'prod',
        resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
      }),
    );
    const both = await failureOf(
      client.send(
        new eks.UpdateClusterConfigCommand({
          name: 'prod',
          resourcesVpcConfig: { endpointPrivateAccess: false },
        }),
      ),
    );
    const described = await client.send(
      new eks.DescribeUpdateCommand({ name: 'prod', updateId: update?.id ?? '' }),
    );

    expect(cluster.snapshot().eks.prod).toMatchObject({
      endpointPublicAccess: false,
      endpointPrivateAccess: true,
    });
    expect(both).toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    expect(described.update?.status).toBe('Successful');
    expect(cluster.mutatingCalls().map((call) => call.operation)).toEqual([
      'UpdateClusterConfig',
      'UpdateClusterConfig',
    ]);
  });

  it('describes, lists, disassociates and associates access policies, and deletes and creates an entry', async () => {
    const entry = await client.send(
      new eks.DescribeAccessEntryCommand({ clusterName: 'prod', principalArn: ROLE }),
    );
    await client.send(
      new eks.DisassociateAccessPolicyCommand({ clusterName: 'prod', principalArn: ROLE, policyArn: ADMIN }),
    );
    const empty = await client.send(
      new eks.ListAssociatedAccessPoliciesCommand({ clusterName: 'prod', principalArn: ROLE }),
    );
    await client.send(new eks.DeleteAccessEntryCommand({ clusterName: 'prod', principalArn: ROLE }));
    const gone = await failureOf(
      client.send(new eks.DescribeAccessEntryCommand({ clusterName: 'prod', principalArn: ROLE })),
    );
    await client.send(
      new eks.CreateAccessEntryCommand({
        clusterName: 'prod',
        principalArn: ROLE,
        kubernetesGroups: ['deployers'],
      }),
    );
    await client.send(
      new eks.AssociateAccessPolicyCommand({
        clusterName: 'prod',
        principalArn: ROLE,
        policyArn: ADMIN,
        accessScope: { type: 'cluster' },
      }),
    );

    expect(entry.accessEntry).toMatchObject({
      principalArn: ROLE,
      type: 'STANDARD',
      kubernetesGroups: ['deployers'],
    });
    expect(empty.associatedAccessPolicies).toEqual([]);
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    expect(cluster.snapshot().eks.prod?.accessEntries[ROLE]?.policies).toEqual({
      [ADMIN]: { type: 'cluster', namespaces: [] },
    });
    expect(cluster.calls.find((call) => call.operation === 'DisassociateAccessPolicy')?.params).toMatchObject(
      { clusterName: 'prod', principalArn: ROLE, policyArn: ADMIN },
    );
  });

  it('answers an unknown cluster with ResourceNotFoundException and injects EKS faults', async () => {
    const missing = await failureOf(client.send(new eks.DescribeClusterCommand({ name: 'nope' })));
    cluster.fail({ service: 'EKS', kind: 'throttle', times: 1 });
    const throttled = await failureOf(client.send(new eks.DescribeClusterCommand({ name: 'prod' })));

    expect(missing.name).toBe('ResourceNotFoundException');
    expect(throttled).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
  });
});

describe('IAM user policies', () => {
  const V3 = 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3';
  const DENY_OLD = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-11-27T18:30:00.000Z' } },
      },
    ],
  });

  it('puts, reads (URL-encoded), lists and deletes an inline policy of a user', async () => {
    const before = fake.snapshot();
    const user = { UserName: SCENARIO.userName, PolicyName: 'RiposteRevokeOlderSessions' };

    await aws.iam.send(new iam.PutUserPolicyCommand({ ...user, PolicyDocument: DENY_OLD }));
    const read = await aws.iam.send(new iam.GetUserPolicyCommand(user));
    const listed = await aws.iam.send(new iam.ListUserPoliciesCommand({ UserName: SCENARIO.userName }));

    expect(read).toMatchObject({ ...user, PolicyDocument: encodeURIComponent(DENY_OLD) });
    expect(decodeURIComponent(read.PolicyDocument ?? '')).toBe(DENY_OLD);
    expect(listed).toMatchObject({ PolicyNames: ['RiposteRevokeOlderSessions'], IsTruncated: false });
    expect(fake.snapshot().userPolicies[SCENARIO.userName]).toEqual({
      inlinePolicies: { RiposteRevokeOlderSessions: DENY_OLD },
      attachedPolicyArns: [],
    });
    expect(fake.mutatingCalls().map((call) => call.operation)).toEqual(['PutUserPolicy']);

    await aws.iam.send(new iam.DeleteUserPolicyCommand(user));

    expect(fake.snapshot()).toEqual(before);
    const missing = await failureOf(aws.iam.send(new iam.GetUserPolicyCommand(user)));
    expect(missing).toMatchObject({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
    const deleteAgain = await failureOf(aws.iam.send(new iam.DeleteUserPolicyCommand(user)));
    expect(deleteAgain.name).toBe('NoSuchEntityException');
  });

  it('refuses a malformed document, an unknown user and an inline size beyond 2048 bytes', async () => {
    const user = { UserName: SCENARIO.userName, PolicyName: 'p' };
    const malformed = await failureOf(
      aws.iam.send(new iam.PutUserPolicyCommand({ ...user, PolicyDocument: '{not json' })),
    );
    const unknown = await failureOf(
      aws.iam.send(new iam.PutUserPolicyCommand({ ...user, UserName: 'nobody', PolicyDocument: DENY_OLD })),
    );
    const big = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: ['s3:GetObject'], Resource: ['x'.repeat(2100)] }],
    });
    const tooBig = await failureOf(
      aws.iam.send(new iam.PutUserPolicyCommand({ ...user, PolicyDocument: big })),
    );

    expect(malformed).toMatchObject({
      name: 'MalformedPolicyDocumentException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(unknown).toMatchObject({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
    expect(tooBig).toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 409 } });
    expect(fake.state.users.get(SCENARIO.userName)?.inlinePolicies).toEqual({});
  });

  it('attaches, lists and detaches an AWS managed policy; attaching twice changes nothing', async () => {
    const before = fake.snapshot();
    const input = { UserName: SCENARIO.userName, PolicyArn: V3 };

    await aws.iam.send(new iam.AttachUserPolicyCommand(input));
    await aws.iam.send(new iam.AttachUserPolicyCommand(input));
    const listed = await aws.iam.send(
      new iam.ListAttachedUserPoliciesCommand({ UserName: SCENARIO.userName }),
    );

    expect(listed).toMatchObject({
      AttachedPolicies: [{ PolicyName: 'AWSCompromisedKeyQuarantineV3', PolicyArn: V3 }],
      IsTruncated: false,
    });
    expect(fake.snapshot().userPolicies[SCENARIO.userName]?.attachedPolicyArns).toEqual([V3]);

    await aws.iam.send(new iam.DetachUserPolicyCommand(input));

    expect(fake.snapshot()).toEqual(before);
    const detachAgain = await failureOf(aws.iam.send(new iam.DetachUserPolicyCommand(input)));
    expect(detachAgain).toMatchObject({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
  });

  it('refuses an unknown policy ARN with NoSuchEntity and a malformed one with InvalidInput', async () => {
    const unknown = await failureOf(
      aws.iam.send(
        new iam.AttachUserPolicyCommand({
          UserName: SCENARIO.userName,
          PolicyArn: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV9',
        }),
      ),
    );
    const malformed = await failureOf(
      aws.iam.send(new iam.AttachUserPolicyCommand({ UserName: SCENARIO.userName, PolicyArn: 'not-an-arn' })),
    );

    expect(unknown).toMatchObject({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
    expect(unknown.message).toContain('does not exist or is not attachable');
    expect(malformed).toMatchObject({ name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
    expect(fake.mutatingCalls().map((call) => call.status)).toEqual([404, 400]);
  });

  it('seeds inline and attached policies of a user', async () => {
    await fake.close();
    const seed = scenarioSeed();
    fake = await startFakeAws({
      seed: {
        ...seed,
        users: [
          {
            name: 'analyst',
            inlinePolicies: { 'read-logs': { Version: '2012-10-17', Statement: [] } },
            attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
          },
        ],
      },
    });
    aws = clientsFor(fake);

    const names = await aws.iam.send(new iam.ListUserPoliciesCommand({ UserName: 'analyst' }));
    const attached = await aws.iam.send(new iam.ListAttachedUserPoliciesCommand({ UserName: 'analyst' }));

    expect(names.PolicyNames).toEqual(['read-logs']);
    expect(attached.AttachedPolicies).toEqual([
      { PolicyName: 'ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
    ]);
  });
});

describe('EC2 network ACLs', () => {
  const SUBNET_FILTER = [{ Name: 'association.subnet-id', Values: [SCENARIO.subnetId] }];
  const ALL = { Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' };

  it("answers the scenario subnet's default ACL with the default allow rules 100 and *", async () => {
    const { NetworkAcls } = await aws.ec2.send(
      new ec2.DescribeNetworkAclsCommand({ Filters: SUBNET_FILTER }),
    );

    expect(NetworkAcls).toHaveLength(1);
    const acl = NetworkAcls?.[0];
    expect(acl).toMatchObject({
      NetworkAclId: SCENARIO.networkAclId,
      VpcId: SCENARIO.vpcId,
      IsDefault: true,
      OwnerId: SCENARIO.accountId,
      Associations: [
        {
          NetworkAclId: SCENARIO.networkAclId,
          SubnetId: SCENARIO.subnetId,
          NetworkAclAssociationId: expect.stringMatching(/^aclassoc-/),
        },
      ],
    });
    expect(acl?.Entries).toEqual([
      { RuleNumber: 100, Egress: true, ...ALL },
      { RuleNumber: 32767, Egress: true, ...ALL, RuleAction: 'deny' },
      { RuleNumber: 100, Egress: false, ...ALL },
      { RuleNumber: 32767, Egress: false, ...ALL, RuleAction: 'deny' },
    ]);
  });

  it('filters by network-acl-id, vpc-id and subnet with EC2 wildcards, and by id', async () => {
    const ids = async (input: NonNullable<ConstructorParameters<typeof ec2.DescribeNetworkAclsCommand>[0]>) =>
      (await aws.ec2.send(new ec2.DescribeNetworkAclsCommand(input))).NetworkAcls?.map(
        (acl) => acl.NetworkAclId,
      );

    expect(await ids({ Filters: [{ Name: 'association.subnet-id', Values: ['subnet-0abc*'] }] })).toEqual([
      SCENARIO.networkAclId,
    ]);
    expect(await ids({ Filters: [{ Name: 'network-acl-id', Values: ['acl-0abc1234def56789?'] }] })).toEqual([
      SCENARIO.networkAclId,
    ]);
    expect(await ids({ Filters: [{ Name: 'vpc-id', Values: ['vpc-0000000000000000'] }] })).toEqual([]);
    expect(await ids({ NetworkAclIds: [SCENARIO.networkAclId] })).toEqual([SCENARIO.networkAclId]);
    const unknown = await failureOf(
      aws.ec2.send(new ec2.DescribeNetworkAclsCommand({ NetworkAclIds: ['acl-0123456789abcdef0'] })),
    );
    const badFilter = await failureOf(
      aws.ec2.send(new ec2.DescribeNetworkAclsCommand({ Filters: [{ Name: 'subnet-id', Values: ['x'] }] })),
    );
    expect(unknown).toMatchObject({
      name: 'InvalidNetworkAclID.NotFound',
      $metadata: { httpStatusCode: 400 },
    });
    expect(badFilter.name).toBe('InvalidParameterValue');
  });

  it('creates and deletes entries; a taken rule number or a missing entry is refused', async () => {
    const before = fake.snapshot();
    const deny = {
      NetworkAclId: SCENARIO.networkAclId,
      RuleNumber: 50,
      Protocol: '-1',
      RuleAction: 'deny' as const,
      CidrBlock: '81.2.69.144/32',
    };

    await aws.ec2.send(new ec2.CreateNetworkAclEntryCommand({ ...deny, Egress: false }));
    await aws.ec2.send(new ec2.CreateNetworkAclEntryCommand({ ...deny, Egress: true }));
    const taken = await failureOf(
      aws.ec2.send(new ec2.CreateNetworkAclEntryCommand({ ...deny, Egress: false })),
    );

    expect(taken).toMatchObject({ name: 'NetworkAclEntryAlreadyExists', $metadata: { httpStatusCode: 400 } });
    expect(fake.snapshot().networkAcls[SCENARIO.networkAclId]?.entries).toContainEqual({
      cidrBlock: '81.2.69.144/32',
      egress: false,
      protocol: '-1',
      ruleAction: 'deny',
      ruleNumber: 50,
    });
    const { NetworkAcls } = await aws.ec2.send(
      new ec2.DescribeNetworkAclsCommand({ Filters: SUBNET_FILTER }),
    );
    expect(NetworkAcls?.[0]?.Entries?.filter((entry) => entry.RuleNumber === 50)).toHaveLength(2);

    for (const Egress of [false, true]) {
      await aws.ec2.send(
        new ec2.DeleteNetworkAclEntryCommand({ NetworkAclId: SCENARIO.networkAclId, RuleNumber: 50, Egress }),
      );
    }
    const gone = await failureOf(
      aws.ec2.send(
        new ec2.DeleteNetworkAclEntryCommand({
          NetworkAclId: SCENARIO.networkAclId,
          RuleNumber: 50,
          Egress: false,
        }),
      ),
    );

    expect(gone).toMatchObject({
      name: 'InvalidNetworkAclEntry.NotFound',
      $metadata: { httpStatusCode: 400 },
    });
    expect(fake.snapshot()).toEqual(before);
    expect(fake.mutatingCalls().map((call) => call.operation)).toEqual([
      'CreateNetworkAclEntry',
      'CreateNetworkAclEntry',
      'CreateNetworkAclEntry',
      'DeleteNetworkAclEntry',
      'DeleteNetworkAclEntry',
      'DeleteNetworkAclEntry',
    ]);
  });

  it('keeps ports and ICMP codes, and refuses a TCP entry without ports', async () => {
    await aws.ec2.send(
      new ec2.CreateNetworkAclEntryCommand({
        NetworkAclId: SCENARIO.networkAclId,
        RuleNumber: 60,
        Protocol: '6',
        RuleAction: 'deny',
        Egress: false,
        Ipv6CidrBlock: '2001:db8::1/128',
        PortRange: { From: 22, To: 22 },
      }),
    );
    const noPorts = await failureOf(
      aws.ec2.send(
        new ec2.CreateNetworkAclEntryCommand({
          NetworkAclId: SCENARIO.networkAclId,
          RuleNumber: 61,
          Protocol: '6',
          RuleAction: 'deny',
          Egress: false,
          CidrBlock: '81.2.69.144/32',
        }),
      ),
    );
    const { NetworkAcls } = await aws.ec2.send(
      new ec2.DescribeNetworkAclsCommand({ NetworkAclIds: [SCENARIO.networkAclId] }),
    );

    expect(NetworkAcls?.[0]?.Entries).toContainEqual({
      RuleNumber: 60,
      Egress: false,
      Protocol: '6',
      RuleAction: 'deny',
      Ipv6CidrBlock: '2001:db8::1/128',
      PortRange: { From: 22, To: 22 },
    });
    expect(noPorts.name).toBe('MissingParameter');
  });

  it("gives a VPC without a seeded ACL a default one, associated with its instances' subnets", async () => {
    await fake.close();
    fake = await startFakeAws({ seed: { ...scenarioSeed(), networkAcls: [] } });
    aws = clientsFor(fake);

    const { NetworkAcls } = await aws.ec2.send(
      new ec2.DescribeNetworkAclsCommand({ Filters: SUBNET_FILTER }),
    );

    expect(NetworkAcls?.map((acl) => [acl.NetworkAclId, acl.IsDefault, acl.VpcId])).toEqual([
      [expect.stringMatching(/^acl-0[0-9a-f]{16}$/), true, SCENARIO.vpcId],
    ]);
    expect(Object.keys(fake.snapshot().networkAcls)).toEqual([NetworkAcls?.[0]?.NetworkAclId]);
  });
});

describe('WAFv2 IP sets (awsJson1_1)', () => {
  const SET = { Name: SCENARIO.ipSetName, Scope: 'REGIONAL' as const, Id: SCENARIO.ipSetId };
  const wafIn = (region: string) => new wafv2.WAFV2Client({ ...clientConfig(fake), region });

  it('reads an IP set with its lock token, and updates it with that token only', async () => {
    const client = wafIn('us-east-1');
    const before = fake.snapshot();

    const read = await client.send(new wafv2.GetIPSetCommand(SET));
    expect(read.IPSet).toEqual({
      Name: SCENARIO.ipSetName,
      Id: SCENARIO.ipSetId,
      ARN: SCENARIO.ipSetArn,
      Description: 'Addresses blocked by the incident response',
      IPAddressVersion: 'IPV4',
      Addresses: ['198.51.100.7/32'],
    });
    const update = {
      ...SET,
      Addresses: ['198.51.100.7/32', '81.2.69.144/32'],
      Description: read.IPSet?.Description,
    };
    const { NextLockToken } = await client.send(
      new wafv2.UpdateIPSetCommand({ ...update, LockToken: read.LockToken }),
    );
    const stale = await failureOf(
      client.send(new wafv2.UpdateIPSetCommand({ ...update, LockToken: read.LockToken })),
    );

    expect(NextLockToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(NextLockToken).not.toBe(read.LockToken);
    expect(stale).toMatchObject({ name: 'WAFOptimisticLockException', $metadata: { httpStatusCode: 400 } });
    expect(stale.message).toContain('someone changed the resource');
    const after = fake.snapshot();
    expect(after.wafIpSets[SCENARIO.ipSetArn]).toEqual({
      ipAddressVersion: 'IPV4',
      addresses: ['198.51.100.7/32', '81.2.69.144/32'],
      description: 'Addresses blocked by the incident response',
    });
    expect(JSON.stringify(after)).not.toContain(NextLockToken);
    expect(fake.mutatingCalls().map((call) => `${call.service} ${call.operation} ${call.status}`)).toEqual([
      'WAFV2 UpdateIPSet 200',
      'WAFV2 UpdateIPSet 400',
    ]);

    const current = await client.send(new wafv2.GetIPSetCommand(SET));
    await client.send(
      new wafv2.UpdateIPSetCommand({
        ...SET,
        Addresses: ['198.51.100.7/32'],
        Description: current.IPSet?.Description,
        LockToken: current.LockToken,
      }),
    );
    expect(fake.snapshot()).toEqual(before);
  });

  it('answers WAFNonexistentItemException for an unknown set or another region, and lists the sets', async () => {
    const unknown = await failureOf(
      wafIn('us-east-1').send(
        new wafv2.GetIPSetCommand({ ...SET, Id: 'a1b2c3d4-5678-90ab-cdef-000000000000' }),
      ),
    );
    const elsewhere = await failureOf(wafIn('eu-west-1').send(new wafv2.GetIPSetCommand(SET)));
    const listed = await wafIn('us-east-1').send(new wafv2.ListIPSetsCommand({ Scope: 'REGIONAL' }));

    expect(unknown).toMatchObject({
      name: 'WAFNonexistentItemException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(unknown.message).toContain('doesn’t exist');
    expect(elsewhere.name).toBe('WAFNonexistentItemException');
    expect(listed.IPSets).toEqual([
      {
        Name: SCENARIO.ipSetName,
        Id: SCENARIO.ipSetId,
        Description: 'Addresses blocked by the incident response',
        LockToken: expect.any(String),
        ARN: SCENARIO.ipSetArn,
      },
    ]);
  });

  it('serves CLOUDFRONT sets in us-east-1 only, and refuses addresses that are not CIDRs', async () => {
    await fake.close();
    const id = '0f0e0d0c-0b0a-4988-8776-655443322110';
    fake = await startFakeAws({
      seed: { ...scenarioSeed(), wafIpSets: [{ name: 'edge-blocked', id, scope: 'CLOUDFRONT' }] },
    });
    const edge = { Name: 'edge-blocked', Scope: 'CLOUDFRONT' as const, Id: id };

    const read = await wafIn('us-east-1').send(new wafv2.GetIPSetCommand(edge));
    const wrongRegion = await failureOf(wafIn('us-west-2').send(new wafv2.GetIPSetCommand(edge)));
    const notCidr = await failureOf(
      wafIn('us-east-1').send(
        new wafv2.UpdateIPSetCommand({ ...edge, Addresses: ['81.2.69.144'], LockToken: read.LockToken }),
      ),
    );

    expect(read.IPSet?.ARN).toBe(`arn:aws:wafv2:us-east-1:111122223333:global/ipset/edge-blocked/${id}`);
    expect(wrongRegion).toMatchObject({
      name: 'WAFInvalidParameterException',
      Field: 'SCOPE_VALUE',
      Parameter: 'CLOUDFRONT',
      $metadata: { httpStatusCode: 400 },
    });
    expect(wrongRegion.message).toBe(
      'Error reason: The scope is not valid., field: SCOPE_VALUE, parameter: CLOUDFRONT',
    );
    expect(notCidr).toMatchObject({ name: 'WAFInvalidParameterException', Field: 'IP_ADDRESS' });
  });

  it('injects faults in WAF wire format', async () => {
    fake.fail({ service: 'WAFV2', operation: 'GetIPSet', kind: 'notFound', times: 1 });
    fake.fail({ service: 'WAFV2', kind: 'error500', times: 1 });

    const missing = await failureOf(wafIn('us-east-1').send(new wafv2.GetIPSetCommand(SET)));
    const broken = await failureOf(
      wafIn('us-east-1').send(new wafv2.ListIPSetsCommand({ Scope: 'REGIONAL' })),
    );

    expect(missing.name).toBe('WAFNonexistentItemException');
    expect(broken).toMatchObject({ name: 'WAFInternalErrorException', $metadata: { httpStatusCode: 500 } });
  });
});

describe('RDS (awsQuery 2014-10-31) through the real SDK client', () => {
  const seed = (): FakeAccountSeed => ({
    accountId: '111122223333',
    securityGroups: [
      { groupId: 'sg-0a1a1a1a1a1a1a1a1', groupName: 'orders-db', vpcId: 'vpc-0db' },
      { groupId: 'sg-0b2b2b2b2b2b2b2b2', groupName: 'bastion-access', vpcId: 'vpc-0db' },
      { groupId: 'sg-0c3c3c3c3c3c3c3c3', groupName: 'quarantine', vpcId: 'vpc-0db', egress: [] },
      { groupId: 'sg-0d4d4d4d4d4d4d4d4', groupName: 'elsewhere', vpcId: 'vpc-0other' },
    ],
    rdsClusters: [{ id: 'orders-aurora', vpcId: 'vpc-0db', securityGroupIds: ['sg-0a1a1a1a1a1a1a1a1'] }],
    rdsInstances: [
      {
        id: 'orders-db',
        vpcId: 'vpc-0db',
        securityGroupIds: ['sg-0a1a1a1a1a1a1a1a1', 'sg-0b2b2b2b2b2b2b2b2'],
        publiclyAccessible: true,
        tags: { team: 'orders' },
      },
      { id: 'orders-aurora-1', clusterId: 'orders-aurora' },
    ],
  });

  const clientOf = (fake: FakeAws) => new rdsSdk.RDSClient(clientConfig(fake));

  it('describes a standalone instance and a cluster member as RDS lists them', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      const { DBInstances } = await client.send(
        new rdsSdk.DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' }),
      );
      expect(DBInstances).toHaveLength(1);
      expect(DBInstances?.[0]).toMatchObject({
        DBInstanceIdentifier: 'orders-db',
        DBInstanceStatus: 'available',
        Engine: 'postgres',
        PubliclyAccessible: true,
        DBSubnetGroup: { VpcId: 'vpc-0db' },
        VpcSecurityGroups: [
          { VpcSecurityGroupId: 'sg-0a1a1a1a1a1a1a1a1', Status: 'active' },
          { VpcSecurityGroupId: 'sg-0b2b2b2b2b2b2b2b2', Status: 'active' },
        ],
        DBInstanceArn: 'arn:aws:rds:us-east-1:111122223333:db:orders-db',
        TagList: [{ Key: 'team', Value: 'orders' }],
      });
      expect(DBInstances?.[0]?.DBClusterIdentifier).toBeUndefined();

      const members = await client.send(
        new rdsSdk.DescribeDBInstancesCommand({
          Filters: [{ Name: 'db-cluster-id', Values: ['orders-aurora'] }],
        }),
      );
      expect(members.DBInstances?.map((db) => [db.DBInstanceIdentifier, db.DBClusterIdentifier])).toEqual([
        ['orders-aurora-1', 'orders-aurora'],
      ]);
      expect(members.DBInstances?.[0]?.Engine).toBe('aurora-postgresql');
      const { DBClusters } = await client.send(
        new rdsSdk.DescribeDBClustersCommand({ DBClusterIdentifier: 'orders-aurora' }),
      );
      expect(DBClusters?.[0]?.DBClusterMembers).toEqual([
        { DBInstanceIdentifier: 'orders-aurora-1', IsClusterWriter: true },
      ]);

      const missing = await failureOf(
        client.send(new rdsSdk.DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope-db' })),
      );
      expect(missing).toMatchObject({ name: 'DBInstanceNotFoundFault', $metadata: { httpStatusCode: 404 } });
      expect(missing.message).toBe('DBInstance nope-db not found.');
      expect(fake.calls.at(-1)?.errorCode).toBe('DBInstanceNotFound');
    } finally {
      await fake.close();
    }
  });

  it('moves an instance into other groups and out of public access, and refuses a member or a group of another VPC', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      const { DBInstance } = await client.send(
        new rdsSdk.ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'orders-db',
          VpcSecurityGroupIds: ['sg-0c3c3c3c3c3c3c3c3'],
          PubliclyAccessible: false,
          ApplyImmediately: true,
        }),
      );
      expect(DBInstance?.VpcSecurityGroups).toEqual([
        { VpcSecurityGroupId: 'sg-0c3c3c3c3c3c3c3c3', Status: 'adding' },
        { VpcSecurityGroupId: 'sg-0a1a1a1a1a1a1a1a1', Status: 'removing' },
        { VpcSecurityGroupId: 'sg-0b2b2b2b2b2b2b2b2', Status: 'removing' },
      ]);
      expect(fake.mutatingCalls().map((call) => call.params)).toEqual([
        {
          DBInstanceIdentifier: 'orders-db',
          VpcSecurityGroupIds: ['sg-0c3c3c3c3c3c3c3c3'],
          PubliclyAccessible: 'false',
          ApplyImmediately: 'true',
        },
      ]);
      expect(fake.snapshot().rds.instances['orders-db']).toMatchObject({
        groupIds: ['sg-0c3c3c3c3c3c3c3c3'],
        publiclyAccessible: false,
      });
      const after = await client.send(
        new rdsSdk.DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' }),
      );
      expect(after.DBInstances?.[0]?.VpcSecurityGroups).toEqual([
        { VpcSecurityGroupId: 'sg-0c3c3c3c3c3c3c3c3', Status: 'active' },
      ]);

      const member = await failureOf(
        client.send(
          new rdsSdk.ModifyDBInstanceCommand({
            DBInstanceIdentifier: 'orders-aurora-1',
            VpcSecurityGroupIds: ['sg-0c3c3c3c3c3c3c3c3'],
          }),
        ),
      );
      expect(member.name).toBe('InvalidParameterCombination');
      const otherVpc = await failureOf(
        client.send(
          new rdsSdk.ModifyDBInstanceCommand({
            DBInstanceIdentifier: 'orders-db',
            VpcSecurityGroupIds: ['sg-0d4d4d4d4d4d4d4d4'],
          }),
        ),
      );
      expect(otherVpc.message).toContain('different VPCs');
      expect(fake.snapshot().rds.instances['orders-db']?.groupIds).toEqual(['sg-0c3c3c3c3c3c3c3c3']);
    } finally {
      await fake.close();
    }
  });

  it('takes tagged DB and cluster snapshots, lists them, and refuses a duplicate or a member instance', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      const created = await client.send(
        new rdsSdk.CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders-db',
          DBSnapshotIdentifier: 'riposte-5abcdefa-20261127183000',
          Tags: [{ Key: 'riposte:finding-id', Value: 'f-1' }],
        }),
      );
      expect(created.DBSnapshot).toMatchObject({
        Status: 'creating',
        SnapshotType: 'manual',
        VpcId: 'vpc-0db',
      });
      expect(fake.calls.at(-1)?.params.Tags).toEqual([{ Key: 'riposte:finding-id', Value: 'f-1' }]);
      const { DBSnapshots } = await client.send(
        new rdsSdk.DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: 'orders-db',
          SnapshotType: 'manual',
          MaxRecords: 100,
        }),
      );
      expect(DBSnapshots).toEqual([
        expect.objectContaining({
          DBSnapshotIdentifier: 'riposte-5abcdefa-20261127183000',
          DBInstanceIdentifier: 'orders-db',
          Status: 'available',
          TagList: [{ Key: 'riposte:finding-id', Value: 'f-1' }],
        }),
      ]);
      const duplicate = await failureOf(
        client.send(
          new rdsSdk.CreateDBSnapshotCommand({
            DBInstanceIdentifier: 'orders-db',
            DBSnapshotIdentifier: 'riposte-5abcdefa-20261127183000',
          }),
        ),
      );
      expect(duplicate).toMatchObject({
        name: 'DBSnapshotAlreadyExistsFault',
        $metadata: { httpStatusCode: 400 },
      });
      const member = await failureOf(
        client.send(
          new rdsSdk.CreateDBSnapshotCommand({
            DBInstanceIdentifier: 'orders-aurora-1',
            DBSnapshotIdentifier: 'x-1',
          }),
        ),
      );
      expect(member.message).toContain('CreateDBClusterSnapshot');

      await client.send(
        new rdsSdk.CreateDBClusterSnapshotCommand({
          DBClusterIdentifier: 'orders-aurora',
          DBClusterSnapshotIdentifier: 'riposte-cluster-1',
          Tags: [{ Key: 'riposte:finding-id', Value: 'f-1' }],
        }),
      );
      const { DBClusterSnapshots } = await client.send(
        new rdsSdk.DescribeDBClusterSnapshotsCommand({
          DBClusterIdentifier: 'orders-aurora',
          SnapshotType: 'manual',
        }),
      );
      expect(
        DBClusterSnapshots?.map((snapshot) => [snapshot.DBClusterSnapshotIdentifier, snapshot.TagList]),
      ).toEqual([['riposte-cluster-1', [{ Key: 'riposte:finding-id', Value: 'f-1' }]]]);
      const noCluster = await failureOf(
        client.send(
          new rdsSdk.CreateDBClusterSnapshotCommand({
            DBClusterIdentifier: 'nope',
            DBClusterSnapshotIdentifier: 'y-1',
          }),
        ),
      );
      expect(noCluster).toMatchObject({ name: 'DBClusterNotFoundFault', $metadata: { httpStatusCode: 404 } });
      expect(fake.snapshot().rds.snapshots).toEqual({
        'riposte-5abcdefa-20261127183000': {
          dbInstanceIdentifier: 'orders-db',
          type: 'manual',
          tags: { 'riposte:finding-id': 'f-1' },
        },
      });
      expect(fake.mutatingCalls().map((call) => `${call.operation} ${call.errorCode ?? 'ok'}`)).toEqual([
        'CreateDBSnapshot ok',
        'CreateDBSnapshot DBSnapshotAlreadyExists',
        'CreateDBSnapshot InvalidParameterValue',
        'CreateDBClusterSnapshot ok',
        'CreateDBClusterSnapshot DBClusterNotFoundFault',
      ]);
    } finally {
      await fake.close();
    }
  });

  it('answers injected faults as RDS does', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      fake.fail({ service: 'RDS', operation: 'DescribeDBInstances', kind: 'notFound', times: 1 });
      fake.fail({ service: 'RDS', kind: 'accessDenied', times: 1 });
      const missing = await failureOf(client.send(new rdsSdk.DescribeDBInstancesCommand({})));
      const denied = await failureOf(client.send(new rdsSdk.DescribeDBSnapshotsCommand({})));
      expect(missing).toMatchObject({ name: 'DBInstanceNotFoundFault', $metadata: { httpStatusCode: 404 } });
      expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    } finally {
      await fake.close();
    }
  });

  it('refuses a seed that names an unseeded security group or cluster', async () => {
    await expect(
      startFakeAws({
        seed: {
          accountId: '111122223333',
          rdsInstances: [{ id: 'db-1', vpcId: 'vpc-1', securityGroupIds: ['sg-0nope'] }],
        },
      }),
    ).rejects.toMatchObject({ code: 'SEED_INVALID' });
    await expect(
      startFakeAws({
        seed: { accountId: '111122223333', rdsInstances: [{ id: 'db-1', clusterId: 'nope' }] },
      }),
    ).rejects.toMatchObject({ code: 'SEED_INVALID' });
  });
});

describe('S3 objects through the real SDK client', () => {
  const OWNER = '111122223333';
  const seed = (): FakeAccountSeed => ({
    accountId: OWNER,
    buckets: [
      { name: 'acme-uploads', versioning: 'Enabled', objectOwnership: 'BucketOwnerPreferred' },
      { name: 'acme-flat' },
      { name: 'acme-enforced', objectOwnership: 'BucketOwnerEnforced' },
      { name: 'acme-quarantine' },
    ],
    s3Objects: [
      {
        bucket: 'acme-uploads',
        key: 'incoming/a b.exe',
        versionId: 'v1',
        body: 'old',
        tags: { stage: 'raw' },
      },
      {
        bucket: 'acme-uploads',
        key: 'incoming/a b.exe',
        versionId: 'v2',
        body: 'malware',
        tags: { stage: 'scanned' },
        acl: 'public-read',
      },
      { bucket: 'acme-flat', key: 'report.csv', body: 'a,b', contentType: 'text/csv' },
      { bucket: 'acme-enforced', key: 'x.bin', size: 10 },
    ],
  });

  const clientOf = (fake: FakeAws) => new s3.S3Client({ ...clientConfig(fake), forcePathStyle: true });
  const KEY = 'incoming/a b.exe';

  it('reads, replaces and deletes the tags of the current object or of a version', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      const current = await client.send(
        new s3.GetObjectTaggingCommand({ Bucket: 'acme-uploads', Key: KEY, ExpectedBucketOwner: OWNER }),
      );
      expect(current).toMatchObject({ VersionId: 'v2', TagSet: [{ Key: 'stage', Value: 'scanned' }] });
      const old = await client.send(
        new s3.GetObjectTaggingCommand({ Bucket: 'acme-uploads', Key: KEY, VersionId: 'v1' }),
      );
      expect(old.TagSet).toEqual([{ Key: 'stage', Value: 'raw' }]);

      const put = await client.send(
        new s3.PutObjectTaggingCommand({
          Bucket: 'acme-uploads',
          Key: KEY,
          VersionId: 'v2',
          ExpectedBucketOwner: OWNER,
          Tagging: { TagSet: [{ Key: 'riposte:finding-id', Value: 'f-1' }] },
        }),
      );
      expect(put.VersionId).toBe('v2');
      expect(fake.mutatingCalls()[0]?.params).toEqual({
        Bucket: 'acme-uploads',
        Key: KEY,
        VersionId: 'v2',
        ExpectedBucketOwner: OWNER,
        Tagging: { TagSet: [{ Key: 'riposte:finding-id', Value: 'f-1' }] },
      });
      expect(fake.snapshot().s3Objects[`acme-uploads/${KEY}`]?.tags).toEqual({ 'riposte:finding-id': 'f-1' });
      await client.send(new s3.DeleteObjectTaggingCommand({ Bucket: 'acme-uploads', Key: KEY }));
      expect(fake.snapshot().s3Objects[`acme-uploads/${KEY}`]?.tags).toEqual({});

      const tooMany = await failureOf(
        client.send(
          new s3.PutObjectTaggingCommand({
            Bucket: 'acme-flat',
            Key: 'report.csv',
            Tagging: { TagSet: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) },
          }),
        ),
      );
      expect(tooMany.name).toBe('BadRequest');
      const otherOwner = await failureOf(
        client.send(
          new s3.GetObjectTaggingCommand({
            Bucket: 'acme-uploads',
            Key: KEY,
            ExpectedBucketOwner: '444455556666',
          }),
        ),
      );
      expect(otherOwner).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      const noVersion = await failureOf(
        client.send(new s3.GetObjectTaggingCommand({ Bucket: 'acme-uploads', Key: KEY, VersionId: 'v9' })),
      );
      expect(noVersion).toMatchObject({ name: 'NoSuchVersion', $metadata: { httpStatusCode: 404 } });
      const noKey = await failureOf(
        client.send(new s3.GetObjectTaggingCommand({ Bucket: 'acme-flat', Key: 'nope' })),
      );
      expect(noKey).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    } finally {
      await fake.close();
    }
  });

  it('heads an object, and answers NotFound for a missing one', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      const head = await client.send(new s3.HeadObjectCommand({ Bucket: 'acme-flat', Key: 'report.csv' }));
      expect(head).toMatchObject({
        ContentLength: 3,
        ContentType: 'text/csv',
        ETag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
        ServerSideEncryption: 'AES256',
      });
      expect(head.VersionId).toBeUndefined();
      const versioned = await client.send(
        new s3.HeadObjectCommand({ Bucket: 'acme-uploads', Key: KEY, VersionId: 'v1' }),
      );
      expect(versioned).toMatchObject({ VersionId: 'v1', ContentLength: 3 });
      const missing = await failureOf(
        client.send(new s3.HeadObjectCommand({ Bucket: 'acme-flat', Key: 'nope' })),
      );
      expect(missing).toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    } finally {
      await fake.close();
    }
  });

  it('reads and writes ACLs (canned and as a policy), and refuses them where the bucket disables ACLs', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      const acl = await client.send(new s3.GetObjectAclCommand({ Bucket: 'acme-uploads', Key: KEY }));
      expect(acl.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
      expect(acl.Grants).toEqual([
        { Grantee: { Type: 'CanonicalUser', ID: acl.Owner?.ID }, Permission: 'FULL_CONTROL' },
        {
          Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
          Permission: 'READ',
        },
      ]);
      await client.send(new s3.PutObjectAclCommand({ Bucket: 'acme-uploads', Key: KEY, ACL: 'private' }));
      const restricted = await client.send(new s3.GetObjectAclCommand({ Bucket: 'acme-uploads', Key: KEY }));
      expect(restricted.Grants).toHaveLength(1);
      await client.send(
        new s3.PutObjectAclCommand({
          Bucket: 'acme-uploads',
          Key: KEY,
          AccessControlPolicy: { Owner: acl.Owner, Grants: acl.Grants },
        }),
      );
      expect(
        (await client.send(new s3.GetObjectAclCommand({ Bucket: 'acme-uploads', Key: KEY }))).Grants,
      ).toEqual(acl.Grants);

      const enforced = await failureOf(
        client.send(new s3.PutObjectAclCommand({ Bucket: 'acme-enforced', Key: 'x.bin', ACL: 'private' })),
      );
      expect(enforced.name).toBe('AccessControlListNotSupported');
      const controls = await client.send(
        new s3.GetBucketOwnershipControlsCommand({ Bucket: 'acme-enforced' }),
      );
      expect(controls.OwnershipControls?.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
      const none = await failureOf(
        client.send(new s3.GetBucketOwnershipControlsCommand({ Bucket: 'acme-flat' })),
      );
      expect(none).toMatchObject({
        name: 'OwnershipControlsNotFoundError',
        $metadata: { httpStatusCode: 404 },
      });
    } finally {
      await fake.close();
    }
  });

  it('copies a version with replaced tags, checking both bucket owners', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      const copied = await client.send(
        new s3.CopyObjectCommand({
          Bucket: 'acme-quarantine',
          Key: `acme-uploads/${KEY}`,
          CopySource: `acme-uploads/${KEY.split('/').map(encodeURIComponent).join('/')}?versionId=v2`,
          ExpectedBucketOwner: OWNER,
          ExpectedSourceBucketOwner: OWNER,
          MetadataDirective: 'COPY',
          TaggingDirective: 'REPLACE',
          Tagging: 'riposte%3Afinding-id=f-1&case=42',
        }),
      );
      expect(copied.CopySourceVersionId).toBe('v2');
      expect(copied.VersionId).toBeUndefined();
      const original = await client.send(new s3.HeadObjectCommand({ Bucket: 'acme-uploads', Key: KEY }));
      expect(copied.CopyObjectResult?.ETag).toBe(original.ETag);
      expect(fake.snapshot().s3Objects[`acme-quarantine/acme-uploads/${KEY}`]).toEqual({
        exists: true,
        size: 7,
        eTag: original.ETag,
        tags: { case: '42', 'riposte:finding-id': 'f-1' },
        grants: [expect.stringMatching(/^CanonicalUser:[0-9a-f]{64}:FULL_CONTROL$/)],
      });
      const wrongSource = await failureOf(
        client.send(
          new s3.CopyObjectCommand({
            Bucket: 'acme-quarantine',
            Key: 'other',
            CopySource: 'acme-flat/report.csv',
            ExpectedSourceBucketOwner: '444455556666',
          }),
        ),
      );
      expect(wrongSource).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    } finally {
      await fake.close();
    }
  });

  it('deletes with a delete marker in a versioned bucket, a version for good, and an unversioned object', async () => {
    const fake = await startFakeAws({ seed: seed() });
    try {
      const client = clientOf(fake);
      const marker = await client.send(new s3.DeleteObjectCommand({ Bucket: 'acme-uploads', Key: KEY }));
      expect(marker.DeleteMarker).toBe(true);
      expect(fake.snapshot().s3Objects[`acme-uploads/${KEY}`]).toEqual({ exists: false });
      const gone = await failureOf(
        client.send(new s3.HeadObjectCommand({ Bucket: 'acme-uploads', Key: KEY })),
      );
      expect(gone.name).toBe('NotFound');
      const stillThere = await client.send(
        new s3.GetObjectTaggingCommand({ Bucket: 'acme-uploads', Key: KEY, VersionId: 'v2' }),
      );
      expect(stillThere.TagSet).toEqual([{ Key: 'stage', Value: 'scanned' }]);

      await client.send(
        new s3.DeleteObjectCommand({ Bucket: 'acme-uploads', Key: KEY, VersionId: marker.VersionId }),
      );
      expect(fake.snapshot().s3Objects[`acme-uploads/${KEY}`]?.exists).toBe(true);
      await client.send(new s3.DeleteObjectCommand({ Bucket: 'acme-uploads', Key: KEY, VersionId: 'v2' }));
      expect(fake.snapshot().s3Objects[`acme-uploads/${KEY}`]?.tags).toEqual({ stage: 'raw' });

      const flat = await client.send(new s3.DeleteObjectCommand({ Bucket: 'acme-flat', Key: 'report.csv' }));
      expect(flat.DeleteMarker).toBeUndefined();
      expect(fake.snapshot().s3Objects['acme-flat/report.csv']).toBeUndefined();
      expect(fake.mutatingCalls().map((call) => call.operation)).toEqual([
        'DeleteObject',
        'DeleteObject',
        'DeleteObject',
        'DeleteObject',
      ]);
    } finally {
      await fake.close();
    }
  });
});
