import { readdirSync, readFileSync } from 'node:fs';
import {
  type Finding,
  FindingFormatError,
  type Resource,
  type ResourceKind,
  resourcesOfKind,
  severityLabel,
} from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { normalize, normalizeFinding, parseFindingType } from '../../src/normalize/index.js';

const FIXTURES = new URL('../fixtures/findings/', import.meta.url);
const SCENARIO = new URL('../../../../examples/scenario/findings/', import.meta.url);

const readJson = (url: URL): Record<string, unknown> => JSON.parse(readFileSync(url, 'utf8'));

/** A shared sample by folder and number, e.g. fixture('elastic-integrations', '43'). */
const fixture = (folder: string, number: string): Record<string, unknown> => {
  const dir = new URL(`${folder}/`, FIXTURES);
  const file = readdirSync(dir).find((name) => name.startsWith(`${number}-`));
  if (!file) throw new Error(`no fixture ${folder}/${number}`);
  return readJson(new URL(file, dir));
};

const elastic = (number: string) => fixture('elastic-integrations', number);

const kinds = (finding: Finding): ResourceKind[] => finding.resources.map((resource) => resource.kind);

const only = <K extends ResourceKind>(finding: Finding, kind: K): Extract<Resource, { kind: K }> => {
  const found = resourcesOfKind(finding, kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};

const allFixtures = (): { name: string; input: unknown }[] =>
  [
    'cloud-custodian',
    'elastic-integrations',
    'cdk-eks-blueprints-patterns',
    'aws-solutions-library-samples',
    'documented',
  ].flatMap((folder) =>
    readdirSync(new URL(`${folder}/`, FIXTURES))
      .filter((name) => name.endsWith('.json'))
      .map((name) => ({
        name: `${folder}/${name}`,
        input: readJson(new URL(`${folder}/${name}`, FIXTURES)),
      })),
  );

const scenario = (): Finding[] =>
  readdirSync(SCENARIO)
    .sort()
    .map((name) => normalizeFinding(readJson(new URL(name, SCENARIO))));

describe('normalize over every shared sample', () => {
  const samples = allFixtures();

  it('finds every sample (71 when this was written; documented/ grows as shapes are added)', () => {
    expect(samples.length).toBeGreaterThanOrEqual(71);
  });

  it.each(samples)('normalizes $name into one consistent finding', ({ input }) => {
    const [finding, ...rest] = normalize(input);

    expect(rest).toHaveLength(0);
    expect(finding).toBeDefined();
    expect(finding!.id).not.toBe('');
    expect(finding!.accountId).not.toBe('');
    expect(finding!.region).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
    expect(finding!.severityLabel).toBe(severityLabel(finding!.severity));
    expect(finding!.type.name).toBe(
      `${finding!.type.threatPurpose}:${finding!.type.resourceType}/${finding!.type.threatFamily}` +
        `${finding!.type.detectionMechanism === undefined ? '' : `.${finding!.type.detectionMechanism}`}` +
        `${finding!.type.artifact === undefined ? '' : `!${finding!.type.artifact}`}`,
    );
    expect(finding!.resources.length).toBeGreaterThan(0);
    expect(new Set(finding!.techniques.map((technique) => technique.id)).size).toBe(
      finding!.techniques.length,
    );
  });
});

describe('finding type parts', () => {
  it('splits purpose, resource, family, mechanism and artifact', () => {
    expect(parseFindingType('Backdoor:EC2/C&CActivity.B!DNS')).toEqual({
      name: 'Backdoor:EC2/C&CActivity.B!DNS',
      threatPurpose: 'Backdoor',
      resourceType: 'EC2',
      threatFamily: 'C&CActivity',
      detectionMechanism: 'B',
      artifact: 'DNS',
    });
  });

  it('reads an artifact without a mechanism', () => {
    expect(parseFindingType('Trojan:EC2/DropPoint!DNS')).toMatchObject({
      threatFamily: 'DropPoint',
      artifact: 'DNS',
    });
    expect(parseFindingType('Trojan:EC2/DropPoint!DNS').detectionMechanism).toBeUndefined();
  });

  it('keeps a mechanism that itself has a part, up to the artifact', () => {
    const type = parseFindingType(
      'Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount',
    );
    expect(type).toMatchObject({
      threatFamily: 'AnomalousBehavior',
      detectionMechanism: 'WorkloadDeployed',
      artifact: 'ContainerWithSensitiveMount',
    });
  });

  it('leaves mechanism and artifact unset when the type has neither', () => {
    const type = normalizeFinding(elastic('50')).type;
    expect(type).toEqual({
      name: 'Policy:IAMUser/RootCredentialUsage',
      threatPurpose: 'Policy',
      resourceType: 'IAMUser',
      threatFamily: 'RootCredentialUsage',
    });
  });

  it('normalizes a type GuardDuty has not published, with no techniques but its purpose tactic', () => {
    const finding = normalizeFinding({ ...elastic('44'), type: 'Impact:EC2/BrandNewThing.Heuristic' });

    expect(finding.type).toMatchObject({
      threatPurpose: 'Impact',
      threatFamily: 'BrandNewThing',
      detectionMechanism: 'Heuristic',
    });
    expect(finding.techniques).toEqual([]);
    expect(finding.tactics).toEqual([{ id: 'TA0040', name: 'Impact', relation: 'primary' }]);
    expect(kinds(finding)).toEqual(['instance']);
  });
});

describe('affected resources', () => {
  it('gives an EC2 finding its instance, with ARN, network and tags as a record', () => {
    const finding = normalizeFinding(elastic('44'));

    expect(finding.resourceType).toBe('Instance');
    expect(kinds(finding)).toEqual(['instance']);
    const instance = only(finding, 'instance');
    expect(instance).toMatchObject({
      instanceId: 'i-99999999',
      arn: 'arn:aws:ec2:us-east-2:973743533182:instance/i-99999999',
      role: 'resource',
      vpcId: 'GeneratedFindingVPCId',
      subnetId: 'GeneratedFindingSubnetId',
      securityGroups: [
        { groupId: 'GeneratedFindingSecurityId', groupName: 'GeneratedFindingSecurityGroupName' },
      ],
      instanceProfile: {
        arn: 'arn:aws:iam::973743533182:example/instance/profile',
        id: 'GeneratedFindingInstanceProfileId',
      },
      launchTime: '2016-08-02T02:05:06.000Z',
      state: 'running',
    });
    expect(instance.networkInterfaces).toEqual([
      expect.objectContaining({
        networkInterfaceId: 'eni-bfcffe88',
        privateIpAddress: '10.0.0.1',
        publicIp: '81.2.69.144',
      }),
    ]);
    expect(Object.keys(instance.tags)).toHaveLength(9);
    expect(instance.tags.GeneratedFindingInstaceTag1).toBe('GeneratedFindingInstaceValue1');
  });

  it('gives the S3 data-access sample its bucket and access key but not the placeholder instance', () => {
    const finding = normalizeFinding(elastic('43'));

    expect(finding.resourceType).toBe('S3Bucket');
    expect(kinds(finding)).toEqual(['s3-bucket', 'access-key']);
    expect(only(finding, 's3-bucket')).toEqual({
      kind: 's3-bucket',
      name: 'bucketName',
      arn: 'arn:aws:s3:::bucketName',
      ownerId: 'CanonicalId of Owner',
      createdAt: '2017-12-18T15:58:11.551Z',
      type: 'Destination',
      tags: { foo: 'bar' },
      publicAccess: {
        effectivePermission: 'NOT_PUBLIC',
        accountLevelBlock: {
          blockPublicAcls: false,
          ignorePublicAcls: false,
          blockPublicPolicy: false,
          restrictPublicBuckets: false,
        },
        bucketLevelBlock: {
          blockPublicAcls: false,
          ignorePublicAcls: false,
          blockPublicPolicy: false,
          restrictPublicBuckets: false,
        },
      },
      encryptionType: 'SSEAlgorithm',
    });
  });

  it('gives an S3 policy finding with resourceType AccessKey its bucket too', () => {
    const finding = normalizeFinding(elastic('23'));

    expect(finding.type.name).toBe('Policy:S3/BucketPublicAccessGranted');
    expect(finding.resourceType).toBe('AccessKey');
    expect(kinds(finding).sort()).toEqual(['access-key', 's3-bucket']);
    expect(only(finding, 's3-bucket').name).toBe('bucketName');
  });

  it.each(['08', '13', '32', '42'])(
    'gives the AccessKey-typed S3 sample %s its bucket and no instance',
    (number) => {
      const finding = normalizeFinding(elastic(number));

      expect(finding.type.resourceType).toBe('S3');
      expect(kinds(finding).sort()).toEqual(['access-key', 's3-bucket']);
    },
  );

  it('gives InstanceCredentialExfiltration.OutsideAWS the principal as given and the instance as credential source', () => {
    const finding = normalizeFinding(elastic('39'));

    expect(kinds(finding)).toEqual(['access-key', 'instance']);
    expect(only(finding, 'access-key')).toEqual({
      kind: 'access-key',
      accessKeyId: 'GeneratedFindingAccessKeyId',
      principalId: 'GeneratedFindingPrincipalId',
      userType: 'IAMUser',
      userName: 'GeneratedFindingUserName',
    });
    expect(only(finding, 'instance')).toMatchObject({ instanceId: 'i-99999999', role: 'credential-source' });
  });

  it('treats InstanceCredentialExfiltration.InsideAWS the same way', () => {
    const finding = normalizeFinding(elastic('49'));

    expect(only(finding, 'instance').role).toBe('credential-source');
  });

  it.each([
    ['02', 'UnauthorizedAccess:IAMUser/TorIPCaller'],
    ['11', 'Stealth:IAMUser/PasswordPolicyChange'],
    ['28', 'Policy:IAMUser/RootCredentialUsage'],
    ['45', 'UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B'],
  ])('ignores the placeholder instance of the AccessKey sample %s (%s)', (number, type) => {
    const finding = normalizeFinding(elastic(number));

    expect(finding.type.name).toBe(type);
    expect(kinds(finding)).toEqual(['access-key']);
  });

  it('keeps a root finding to the root principal, without the bucket its details happen to carry', () => {
    const finding = normalizeFinding(elastic('50'));

    expect(finding.resources).toEqual([
      {
        kind: 'access-key',
        accessKeyId: 'ASIAJZ3DXJKMP7MG3EKA',
        principalId: '973743533182',
        userType: 'Root',
        userName: 'Root',
      },
    ]);
  });

  it('adds the trail an API call affected, by name when no ARN is given', () => {
    const finding = normalizeFinding(elastic('29'));

    expect(finding.resources).toEqual([
      expect.objectContaining({ kind: 'access-key' }),
      { kind: 'cloudtrail-trail', name: 'GeneratedFindingCloudTrailName', arn: undefined },
    ]);
  });

  it('gives a Kubernetes finding its cluster, workload and user, and the IAM role when the finding names one', () => {
    const withoutKey = normalizeFinding(elastic('10'));
    const withKey = normalizeFinding(elastic('16'));

    expect(kinds(withoutKey)).toEqual(['eks-cluster', 'kubernetes-workload', 'kubernetes-user']);
    expect(resourcesOfKind(withoutKey, 'eks-cluster')).toEqual([
      {
        kind: 'eks-cluster',
        name: 'GeneratedFindingEKSClusterName',
        arn: 'GeneratedFindingEKSClusterArn',
        vpcId: 'GeneratedFindingEKSClusterVpcId',
        tags: {
          GeneratedFindingEKSClusterTag1: 'GeneratedFindingEKSClusterTagValue1',
          GeneratedFindingEKSClusterTag2: 'GeneratedFindingEKSClusterTagValue2',
          GeneratedFindingEKSClusterTag3: 'GeneratedFindingEKSClusterTagValue3',
        },
      },
    ]);
    expect(kinds(withKey)).toEqual(['eks-cluster', 'kubernetes-user', 'access-key']);
    expect(only(withKey, 'access-key')).toMatchObject({
      userType: 'Role',
      roleName: 'GeneratedFindingUserName',
    });
  });

  it('gives an RDS finding its DB instance, the cluster it names and the database user', () => {
    const finding = normalizeFinding(elastic('20'));

    expect(finding.resources).toEqual([
      {
        kind: 'rds-instance',
        dbInstanceIdentifier: 'GeneratedFindingDBInstanceId',
        arn: 'arn:aws:rds:us-east-1:123456789000:db:GeneratedFindingDBInstanceId',
        engine: 'GeneratedFindingEngine',
        dbClusterIdentifier: 'GeneratedFindingDBClusterId',
        tags: {},
      },
      {
        kind: 'rds-cluster',
        dbClusterIdentifier: 'GeneratedFindingDBClusterId',
        arn: 'arn:aws:rds:us-east-1:123412341234:cluster:GeneratedFindingDBClusterId',
        engine: 'GeneratedFindingEngine',
        tags: {},
      },
      {
        kind: 'rds-user',
        user: 'GeneratedFindingUserName',
        application: 'GeneratedFindingApplicationName',
        database: 'GeneratedFindingDatabaseName',
        ssl: 'GeneratedSSLValue',
        authMethod: 'GeneratedFindingAuthMethod',
        engine: 'GeneratedFindingEngine',
        dbInstanceIdentifier: 'GeneratedFindingDBInstanceId',
        dbClusterIdentifier: 'GeneratedFindingDBClusterId',
      },
    ]);
  });

  it('gives a Runtime container finding its container and the host instance', () => {
    const finding = normalizeFinding(elastic('21'));

    expect(kinds(finding)).toEqual(['container', 'instance']);
    expect(only(finding, 'container')).toMatchObject({ id: 'abcd1234', runtime: 'docker' });
    expect(only(finding, 'instance')).toMatchObject({
      instanceId: 'i-abcd1234',
      arn: 'arn:aws:ec2:us-west-1:123456789:instance/i-abcd1234',
      role: 'resource',
      tags: { Name: 'buildserver-a-0', group: 'build-server' },
      securityGroups: [{ groupId: 'sg-abcd1234', groupName: 'build' }],
    });
  });

  it('gives a malware-scan finding the scanned EBS volumes next to the instance', () => {
    const raw = elastic('44');
    const resource = raw.resource as Record<string, unknown>;
    const finding = normalizeFinding({
      ...raw,
      type: 'Execution:EC2/MaliciousFile',
      resource: {
        ...resource,
        ebsVolumeDetails: {
          scannedVolumeDetails: [
            {
              volumeArn: 'arn:aws:ec2:us-east-2:973743533182:volume/vol-0123456789abcdef0',
              volumeType: 'gp3',
              deviceName: '/dev/xvda',
              volumeSizeInGB: 8,
              encryptionType: 'UNENCRYPTED',
              snapshotArn: 'arn:aws:ec2:us-east-2:973743533182:snapshot/snap-0123456789abcdef0',
            },
          ],
          skippedVolumeDetails: [],
        },
      },
    });

    expect(kinds(finding)).toEqual(['instance', 'ebs-volume']);
    expect(only(finding, 'ebs-volume')).toEqual({
      kind: 'ebs-volume',
      volumeId: 'vol-0123456789abcdef0',
      volumeArn: 'arn:aws:ec2:us-east-2:973743533182:volume/vol-0123456789abcdef0',
      snapshotArn: 'arn:aws:ec2:us-east-2:973743533182:snapshot/snap-0123456789abcdef0',
      deviceName: '/dev/xvda',
      volumeType: 'gp3',
      volumeSizeInGB: 8,
      encryptionType: 'UNENCRYPTED',
    });
  });

  it('names a bucket given only by its ARN', () => {
    const raw = elastic('43');
    const resource = raw.resource as { s3BucketDetails: Record<string, unknown>[] };
    const { name: _name, ...bucket } = resource.s3BucketDetails[0]!;

    const finding = normalizeFinding({
      ...raw,
      resource: { ...resource, s3BucketDetails: [bucket, bucket] },
    });

    expect(resourcesOfKind(finding, 's3-bucket')).toEqual([
      expect.objectContaining({ name: 'bucketName', arn: 'arn:aws:s3:::bucketName' }),
    ]);
  });

  it('reads role and session from an assumed-role ARN given as the user name', () => {
    const raw = elastic('46');
    const finding = normalizeFinding({
      ...raw,
      resource: {
        resourceType: 'AccessKey',
        accessKeyDetails: {
          accessKeyId: 'ASIAEXAMPLEKEY000002',
          principalId: 'AROAEXAMPLEROLEID0002:build-42',
          userType: 'AssumedRole',
          userName: 'arn:aws:sts::973743533182:assumed-role/ci-deployer/build-42',
        },
      },
    });

    expect(only(finding, 'access-key')).toMatchObject({
      roleName: 'ci-deployer',
      sessionName: 'build-42',
      principalArn: 'arn:aws:sts::973743533182:assumed-role/ci-deployer/build-42',
    });
  });

  it('keeps a principal ARN of another account on the key, for the scope check to refuse', () => {
    // Arrange: a forged finding of account 973743533182 naming a role of account 999999999999
    const raw = elastic('46');
    const input = {
      ...raw,
      resource: {
        resourceType: 'AccessKey',
        accessKeyDetails: {
          accessKeyId: 'ASIAEXAMPLEKEY000002',
          principalId: 'AROAEXAMPLEROLEID0002:x',
          userType: 'AssumedRole',
          userName: 'arn:aws:iam::999999999999:role/X',
        },
      },
    };

    // Act
    const finding = normalizeFinding(input);

    // Assert: normalization keeps the finding (notify still runs); the ARN is not reduced to a name
    expect(only(finding, 'access-key')).toMatchObject({
      roleName: 'X',
      principalArn: 'arn:aws:iam::999999999999:role/X',
    });
  });

  it('keeps a malformed or wildcard identifier as given, without throwing', () => {
    const raw = elastic('44');
    const resource = raw.resource as { instanceDetails: Record<string, unknown> };

    const finding = normalizeFinding({
      ...raw,
      resource: { ...resource, instanceDetails: { ...resource.instanceDetails, instanceId: 'i-0*' } },
    });

    expect(only(finding, 'instance').instanceId).toBe('i-0*');
  });

  it('sets no principal ARN when the user name is a name', () => {
    expect(only(normalizeFinding(elastic('46')), 'access-key').principalArn).toBeUndefined();
  });

  it('builds ARNs in the finding partition', () => {
    const raw = elastic('44');
    const finding = normalizeFinding({ ...raw, partition: 'aws-us-gov', region: 'us-gov-west-1' });

    expect(only(finding, 'instance').arn).toBe(
      'arn:aws-us-gov:ec2:us-gov-west-1:973743533182:instance/i-99999999',
    );
  });
});

describe('actor', () => {
  it('reads an API call: api, service, caller, error and where it came from', () => {
    expect(normalizeFinding(elastic('50')).actor).toEqual({
      actionType: 'AWS_API_CALL',
      api: 'ListFindings',
      serviceName: 'guardduty.amazonaws.com',
      callerType: 'Remote IP',
      errorCode: 'NoSuchWebsiteConfiguration',
      remoteIp: '81.2.69.144',
      remoteIps: ['81.2.69.144'],
      country: 'United States',
      city: 'San Antonio',
      asn: '7018',
      asnOrg: 'ATT-INTERNET4',
      isp: 'AT&T U-verse',
      org: 'AT&T U-verse',
    });
  });

  it('reads a network connection with its ports and protocol', () => {
    expect(normalizeFinding(elastic('44')).actor).toMatchObject({
      actionType: 'NETWORK_CONNECTION',
      protocol: 'TCP',
      localPort: 22,
      remotePort: 32794,
      remoteIp: '81.2.69.144',
    });
  });

  it('reads the first probe of a port probe', () => {
    expect(normalizeFinding(elastic('25')).actor).toMatchObject({ actionType: 'PORT_PROBE', localPort: 80 });
  });

  it('reads a DNS request domain', () => {
    expect(normalizeFinding(fixture('cloud-custodian', '01')).actor).toEqual({
      actionType: 'DNS_REQUEST',
      domain: 'example.com',
      protocol: 'TCP',
    });
  });

  it('reads a Kubernetes API call verb and an ASN written as a number', () => {
    expect(normalizeFinding(elastic('18')).actor).toMatchObject({
      actionType: 'KUBERNETES_API_CALL',
      api: 'get',
    });
    expect(normalizeFinding(fixture('cloud-custodian', '02')).actor?.asn).toBe('-1');
  });

  it('gives no actor when the action is empty', () => {
    expect(normalizeFinding(elastic('21')).actor).toBeUndefined();
  });
});

describe('finding fields', () => {
  it('lifts identity, counts and times', () => {
    const finding = normalizeFinding(elastic('50'));

    expect(finding).toMatchObject({
      id: '34bf27e222d66dab11c677ad8276bde8',
      arn: 'arn:aws:guardduty:us-east-2:973743533182:detector/37da5a0204286ccd967d2395320d4dcd/finding/34bf27e222d66dab11c677ad8276bde8',
      accountId: '973743533182',
      region: 'us-east-2',
      partition: 'aws',
      severity: 2,
      severityLabel: 'Low',
      count: 204,
      archived: false,
      sample: false,
      resourceRole: 'TARGET',
      resourceType: 'AccessKey',
      createdAt: '2022-01-12T19:29:30.028Z',
      updatedAt: '2022-01-19T21:39:37.149Z',
      firstSeen: '2022-01-12T19:23:28.000Z',
      lastSeen: '2022-01-19T21:32:17.000Z',
      title: 'API ListFindings was invoked using root credentials.',
      source: 'guardduty',
    });
  });

  it('keeps the input finding untouched as raw', () => {
    const raw = elastic('43');
    const copy = structuredClone(raw);

    const finding = normalizeFinding(raw);

    expect(finding.raw).toBe(raw);
    expect(raw).toEqual(copy);
  });

  it('flags GuardDuty sample findings, and only them', () => {
    expect(normalizeFinding(elastic('39')).sample).toBe(true);
    expect(normalizeFinding(elastic('20')).sample).toBe(true);
    expect(normalizeFinding(fixture('cloud-custodian', '01')).sample).toBe(true);
    expect(normalizeFinding(elastic('50')).sample).toBe(false);
    expect(normalizeFinding(elastic('21')).sample).toBe(false);
  });

  it('reads the sample flag from the JSON text of additionalInfo.value', () => {
    const raw = elastic('50');
    const service = raw.service as Record<string, unknown>;

    const finding = normalizeFinding({
      ...raw,
      service: { ...service, additionalInfo: { value: '{"sample":true}', type: 'default' } },
    });

    expect(finding.sample).toBe(true);
  });

  it('reports an archived finding', () => {
    const raw = elastic('50');
    const finding = normalizeFinding({ ...raw, service: { ...(raw.service as object), archived: true } });

    expect(finding.archived).toBe(true);
  });

  it('counts one occurrence when the service gives no count', () => {
    const raw = elastic('50');
    const { count: _count, ...service } = raw.service as Record<string, unknown>;

    expect(normalizeFinding({ ...raw, service }).count).toBe(1);
  });

  it('accepts numbers written as text and in E-notation', () => {
    const raw = elastic('43');
    const finding = normalizeFinding({
      ...raw,
      severity: '8.0E0',
      createdAt: '1.513612691551E9',
      service: { ...(raw.service as object), count: '4' },
    });

    expect(finding.severity).toBe(8);
    expect(finding.createdAt).toBe('2017-12-18T15:58:11.551Z');
    expect(finding.count).toBe(4);
  });

  it.each([
    ['2017-12-08T15:32:49Z', '2017-12-08T15:32:49.000Z'],
    ['2017-12-08T15:32:49.865Z', '2017-12-08T15:32:49.865Z'],
    ['2017-12-08T15:32:49', '2017-12-08T15:32:49.000Z'],
    ['2017-12-08 15:32:49', '2017-12-08T15:32:49.000Z'],
    ['2017-12-08T16:32:49+01:00', '2017-12-08T15:32:49.000Z'],
    ['2017-12-08T10:32:49.5-0500', '2017-12-08T15:32:49.500Z'],
    ['2017-12-08', '2017-12-08T00:00:00.000Z'],
    [1512747169, '2017-12-08T15:32:49.000Z'],
    [1512747169.865, '2017-12-08T15:32:49.865Z'],
    [1512747169865, '2017-12-08T15:32:49.865Z'],
    ['1512747169865', '2017-12-08T15:32:49.865Z'],
    ['1.512747169865E9', '2017-12-08T15:32:49.865Z'],
  ])('normalizes the timestamp %j to %s', (written, iso) => {
    expect(normalizeFinding({ ...elastic('50'), createdAt: written }).createdAt).toBe(iso);
  });
});

describe('ATT&CK', () => {
  it('maps the type through the CTID table and adds the threat-purpose tactic', () => {
    const finding = normalizeFinding(elastic('39'));

    expect(finding.techniques.map((technique) => technique.id)).toEqual([
      'T1078',
      'T1078.001',
      'T1078.004',
      'T1552.005',
    ]);
    expect(finding.techniques.every((technique) => technique.source === 'ctid')).toBe(true);
    expect(finding.tactics.map((tactic) => tactic.id)).toEqual([
      'TA0001',
      'TA0003',
      'TA0004',
      'TA0005',
      'TA0006',
    ]);
  });

  it('marks each technique and tactic primary or related to the type', () => {
    // 39: InstanceCredentialExfiltration.OutsideAWS is about Valid Accounts; CTID also relates
    // T1552.005 Cloud Instance Metadata API, which alone brings Credential Access.
    const finding = normalizeFinding(elastic('39'));

    expect(finding.techniques.map(({ id, relation }) => `${id} ${relation}`)).toEqual([
      'T1078 primary',
      'T1078.001 primary',
      'T1078.004 primary',
      'T1552.005 related',
    ]);
    expect(finding.tactics.map(({ id, relation }) => `${id} ${relation}`)).toEqual([
      'TA0001 primary',
      'TA0003 primary',
      'TA0004 primary',
      'TA0005 primary',
      'TA0006 related',
    ]);
  });

  it("keeps the threat purpose's tactic primary, and T1562.008 related, for S3 exfiltration (issue 14)", () => {
    const finding = normalizeFinding(elastic('43'));

    expect(finding.type.name).toBe('Exfiltration:S3/MaliciousIPCaller');
    expect(finding.techniques.find((technique) => technique.id === 'T1562.008')?.relation).toBe('related');
    expect(finding.techniques.find((technique) => technique.id === 'T1567')?.relation).toBe('primary');
    expect(
      finding.tactics.filter((tactic) => tactic.relation === 'primary').map((tactic) => tactic.name),
    ).toEqual(['Exfiltration']);
  });

  it('makes a technique CTID only relates to the type primary when an attack-sequence indicator names it', () => {
    const raw = elastic('43');
    const finding = normalizeFinding({
      ...raw,
      service: {
        ...(raw.service as object),
        detection: {
          sequence: {
            uid: 'sequence-1',
            sequenceIndicators: [{ key: 'ATTACK_TECHNIQUE', values: ['T1530 - Data from Cloud Storage'] }],
          },
        },
      },
    });

    expect(finding.techniques.find((technique) => technique.id === 'T1530')).toMatchObject({
      source: 'ctid',
      relation: 'primary',
    });
    expect(finding.tactics.find((tactic) => tactic.name === 'Collection')?.relation).toBe('primary');
  });

  it('gives a type CTID does not map only the tactic of its threat purpose', () => {
    const finding = normalizeFinding(elastic('20'));

    expect(finding.techniques).toEqual([]);
    expect(finding.tactics).toEqual([{ id: 'TA0006', name: 'Credential Access', relation: 'primary' }]);
  });

  it('adds the techniques and tactics that attack-sequence indicators name', () => {
    const raw = elastic('46');
    const finding = normalizeFinding({
      ...raw,
      type: 'AttackSequence:IAM/CompromisedCredentials',
      severity: 9,
      service: {
        ...(raw.service as object),
        detection: {
          sequence: {
            uid: 'sequence-1',
            description: 'A sequence of suspicious API calls by one IAM principal.',
            sequenceIndicators: [
              { key: 'ATTACK_TACTIC', title: 'Attack Tactic', values: ['Defense Evasion', 'Persistence'] },
              { key: 'HIGH_RISK_API', values: ['cloudtrail:DeleteTrail'] },
              {
                key: 'ATTACK_TECHNIQUE',
                title: 'Attack Technique',
                values: [
                  'T1078.004 - Valid Accounts: Cloud Accounts',
                  'T1087.004 - Account Discovery: Cloud Account',
                ],
              },
            ],
            signals: [
              {
                uid: 'signal-1',
                type: 'FINDING',
                name: 'Test:IAMUser/KaliLinux',
                signalIndicators: [
                  { key: 'ATTACK_TACTIC', values: ['Impact'] },
                  { key: 'ATTACK_TECHNIQUE', values: ['Data Destruction'] },
                ],
              },
            ],
          },
        },
      },
    });

    expect(finding.techniques).toEqual([
      expect.objectContaining({ id: 'T1649', source: 'ctid' }),
      expect.objectContaining({ id: 'T1078.004', name: 'Cloud Accounts', source: 'indicator' }),
      {
        id: 'T1087.004',
        name: 'Account Discovery: Cloud Account',
        tactics: [],
        source: 'indicator',
        relation: 'primary',
      },
      {
        id: 'T1485',
        name: 'Data Destruction',
        tactics: [{ id: 'TA0040', name: 'Impact' }],
        source: 'indicator',
        relation: 'primary',
      },
    ]);
    expect(finding.techniques.every((technique) => technique.relation === 'primary')).toBe(true);
    expect(finding.tactics.every((tactic) => tactic.relation === 'primary')).toBe(true);
    expect(finding.tactics.map((tactic) => tactic.name)).toEqual([
      'Initial Access',
      'Persistence',
      'Privilege Escalation',
      'Defense Evasion',
      'Credential Access',
      'Impact',
    ]);
  });
});

describe('input shapes', () => {
  it('reads an EventBridge event like its bare detail', () => {
    const event = fixture('cloud-custodian', '01');

    const fromEvent = normalizeFinding(event);
    const fromDetail = normalizeFinding(event.detail);

    expect(fromEvent).toEqual(fromDetail);
    expect(fromEvent.raw).toBe(event.detail);
  });

  it('reads a list of findings and GetFindings output in either case', () => {
    const findings = [elastic('43'), elastic('44')];

    expect(normalize(findings).map((finding) => finding.id)).toEqual(findings.map((finding) => finding.id));
    expect(normalize({ Findings: findings })).toHaveLength(2);
    expect(normalize({ findings })).toHaveLength(2);
    expect(normalize({ findings: [] })).toEqual([]);
  });

  it('reads the PascalCase shape the AWS SDK v3 returns exactly like the camelCase one', () => {
    const pascal = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(pascal)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(
              Object.entries(value).map(([key, inner]) => [
                key[0]!.toUpperCase() + key.slice(1),
                pascal(inner),
              ]),
            )
          : value;
    for (const number of ['39', '43', '21']) {
      const camel = elastic(number);
      const sdk = pascal(camel) as Record<string, unknown>;

      const { raw: _camelRaw, ...fromCamel } = normalizeFinding(camel);
      const { raw: _sdkRaw, ...fromSdk } = normalizeFinding(sdk);

      expect(fromSdk).toEqual(fromCamel);
    }
  });

  it('accepts Date objects where the SDK gives them', () => {
    const finding = normalizeFinding({ ...elastic('50'), createdAt: new Date('2022-01-12T19:29:30.028Z') });

    expect(finding.createdAt).toBe('2022-01-12T19:29:30.028Z');
  });

  it('returns the findings of an array of events in order', () => {
    const events = [fixture('cloud-custodian', '01'), fixture('cloud-custodian', '02')];

    expect(normalize(events).map((finding) => finding.type.name)).toEqual([
      'Backdoor:EC2/C&CActivity.B!DNS',
      'UnauthorizedAccess:IAMUser/TorIPCaller',
    ]);
  });

  it('refuses a list where one finding is expected', () => {
    expect(() => normalizeFinding([elastic('43'), elastic('44')])).toThrow(FindingFormatError);
    expect(() => normalizeFinding([])).toThrow(/exactly one finding, got 0/);
  });
});

describe('the canonical scenario', () => {
  it('holds four real (non-sample) findings in one account and region', () => {
    const findings = scenario();

    expect(findings.map((finding) => finding.type.name)).toEqual([
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      'Exfiltration:S3/MaliciousIPCaller',
      'Stealth:IAMUser/CloudTrailLoggingDisabled',
      'Policy:IAMUser/RootCredentialUsage',
    ]);
    for (const finding of findings) {
      expect(finding).toMatchObject({ accountId: '111122223333', region: 'us-east-1', sample: false });
      expect(JSON.stringify(finding.raw)).not.toContain('GeneratedFinding');
    }
  });

  it('yields T1078.004, T1530 and T1562.008 across the four', () => {
    const ids = new Set(scenario().flatMap((finding) => finding.techniques.map((technique) => technique.id)));

    for (const id of ['T1078.004', 'T1530', 'T1562.008']) expect(ids.has(id)).toBe(true);
  });

  it('names the role session, and the instance only as the source of the leaked credentials', () => {
    const [exfiltration] = scenario();

    expect(only(exfiltration!, 'access-key')).toEqual({
      kind: 'access-key',
      accessKeyId: 'ASIAEXAMPLEKEY123456',
      principalId: 'AROAEXAMPLEROLEID1234:i-0a1b2c3d4e5f67890',
      userType: 'AssumedRole',
      userName: 'app-server-s3-full',
      roleName: 'app-server-s3-full',
      sessionName: 'i-0a1b2c3d4e5f67890',
    });
    expect(only(exfiltration!, 'instance')).toMatchObject({
      instanceId: 'i-0a1b2c3d4e5f67890',
      arn: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f67890',
      role: 'credential-source',
      vpcId: 'vpc-0abc1234def567890',
      instanceProfile: { arn: 'arn:aws:iam::111122223333:instance-profile/app-server-profile' },
    });
  });

  it('names exactly the bucket, the trail and the root principal of the other three', () => {
    const [, s3, cloudTrail, root] = scenario();

    expect(kinds(s3!)).toEqual(['s3-bucket', 'access-key']);
    expect(only(s3!, 's3-bucket')).toMatchObject({
      name: 'acme-customer-exports',
      arn: 'arn:aws:s3:::acme-customer-exports',
    });
    expect(cloudTrail!.resources).toEqual([
      expect.objectContaining({ kind: 'access-key', roleName: 'app-server-s3-full' }),
      {
        kind: 'cloudtrail-trail',
        name: 'org-audit-trail',
        arn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit-trail',
      },
    ]);
    expect(root!.resources).toEqual([
      {
        kind: 'access-key',
        accessKeyId: 'ASIAEXAMPLEROOT12345',
        principalId: '111122223333',
        userType: 'Root',
        userName: 'Root',
      },
    ]);
  });
});
