import type { Finding, InstanceResource, PublicAccessBlockFlags } from '@riposte/core';

/*
 * Normalized findings lifted by hand from the GuardDuty samples in
 * /work/shared/data/findings/elastic-integrations/ (the normalizer is written in parallel).
 * Ids, types, severities, timestamps, counts, account and region are the samples' own. Where a sample
 * holds a `GeneratedFinding…` placeholder, a realistic value stands in (instance i-0a1b2c3d4e5f67890,
 * role app-server-s3-full, bucket acme-customer-exports, users, key ids, VPC/subnet/group ids, geo);
 * each builder says which. Every builder returns a fresh object, so tests may modify it.
 */

const ACCOUNT = '973743533182';
const REGION = 'us-east-2';
const DETECTOR = '37da5a0204286ccd967d2395320d4dcd';

export const INSTANCE_ID = 'i-0a1b2c3d4e5f67890';
export const ROLE_NAME = 'app-server-s3-full';
export const INSTANCE_PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/${ROLE_NAME}`;
export const BUCKET = 'acme-customer-exports';
export const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/management-events`;
export { ACCOUNT, REGION };

const findingArn = (id: string) =>
  `arn:aws:guardduty:${REGION}:${ACCOUNT}:detector/${DETECTOR}/finding/${id}`;

const typeOf = (name: string): Finding['type'] => {
  const match = name.match(/^([^:]+):([^/]+)\/([^.!]+)(?:\.([^!]+))?(?:!(.+))?$/);
  if (!match) throw new Error(`not a GuardDuty finding type: ${name}`);
  const [, threatPurpose = '', resourceType = '', threatFamily = '', detectionMechanism, artifact] = match;
  return {
    name,
    threatPurpose,
    resourceType,
    threatFamily,
    ...(detectionMechanism === undefined ? {} : { detectionMechanism }),
    ...(artifact === undefined ? {} : { artifact }),
  };
};

// The samples' geo block is all placeholders; 81.2.69.144 (their real address) is a MaxMind test IP in London.
const remoteActor = (api: string, serviceName: string): Finding['actor'] => ({
  actionType: 'AWS_API_CALL',
  api,
  serviceName,
  callerType: 'Remote IP',
  errorCode: 'AccessDenied',
  remoteIp: '81.2.69.144',
  country: 'United Kingdom',
  city: 'London',
  asn: '-1',
  asnOrg: 'ExampleNet Ltd',
});

const open: PublicAccessBlockFlags = {
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: false,
  restrictPublicBuckets: false,
};

/** The sample's `instanceDetails` with its placeholders replaced (i-99999999 -> i-0a1b2c3d4e5f67890). */
const appServer = (role: InstanceResource['role']): InstanceResource => ({
  kind: 'instance',
  instanceId: INSTANCE_ID,
  arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE_ID}`,
  instanceProfile: { arn: INSTANCE_PROFILE_ARN, id: 'AIPA6FLOREXAMPLEPROF1' },
  tags: { Name: 'app-server', environment: 'production' },
  vpcId: 'vpc-06b1f2a3c4d5e6f70',
  subnetId: 'subnet-0a9b8c7d6e5f40312',
  securityGroups: [{ groupId: 'sg-0123456789abcdef0', groupName: 'app-server' }],
  networkInterfaces: [
    {
      networkInterfaceId: 'eni-bfcffe88',
      subnetId: 'subnet-0a9b8c7d6e5f40312',
      vpcId: 'vpc-06b1f2a3c4d5e6f70',
      privateIpAddress: '10.0.0.1',
      publicIp: '81.2.69.144',
      securityGroups: [{ groupId: 'sg-0123456789abcdef0', groupName: 'app-server' }],
    },
  ],
  imageId: 'ami-99999999',
  instanceType: 'm3.xlarge',
  availabilityZone: 'us-east-2a',
  state: 'running',
  launchTime: '2016-08-02T02:05:06.000Z',
  role,
});

interface Base {
  id: string;
  type: string;
  severity: number;
  severityLabel: Finding['severityLabel'];
  createdAt: string;
  updatedAt: string;
  resourceType: string;
  title: string;
}

const finding = (base: Base, rest: Pick<Finding, 'resources'> & Partial<Finding>): Finding => ({
  id: base.id,
  arn: findingArn(base.id),
  type: typeOf(base.type),
  severity: base.severity,
  severityLabel: base.severityLabel,
  title: base.title,
  accountId: ACCOUNT,
  region: REGION,
  partition: 'aws',
  createdAt: base.createdAt,
  updatedAt: base.updatedAt,
  firstSeen: '2022-01-12T19:22:44.000Z',
  lastSeen: '2022-01-28T21:12:25.000Z',
  count: 4,
  archived: false,
  sample: true,
  resourceRole: 'TARGET',
  resourceType: base.resourceType,
  techniques: [],
  tactics: [],
  source: 'guardduty',
  raw: {
    schemaVersion: '2.0',
    accountId: ACCOUNT,
    region: REGION,
    id: base.id,
    type: base.type,
    severity: base.severity,
  },
  ...rest,
});

/**
 * 39-unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.json. The AWS sample labels
 * the key `IAMUser`; real findings of this type carry the instance role's session (`AssumedRole`,
 * session name = instance id), which this builder models. `instanceCredentialExfiltrationAsSampled`
 * keeps the sample's `IAMUser`.
 */
export const instanceCredentialExfiltration = (): Finding =>
  finding(
    {
      id: 'bebf27df0aba6551425955dbdf409deb',
      type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      severity: 8,
      severityLabel: 'High',
      createdAt: '2022-01-12T19:22:44.468Z',
      updatedAt: '2022-01-28T21:12:25.495Z',
      resourceType: 'AccessKey',
      title: `Credentials for instance role ${ROLE_NAME} used from external IP address.`,
    },
    {
      resources: [
        {
          kind: 'access-key',
          accessKeyId: 'ASIA6FLOREXAMPLEKEY7',
          principalId: `AROA6FLOREXAMPLEROLE1:${INSTANCE_ID}`,
          userType: 'AssumedRole',
          userName: ROLE_NAME,
          roleName: ROLE_NAME,
          sessionName: INSTANCE_ID,
        },
        appServer('credential-source'),
      ],
      actor: remoteActor('ListBuckets', 's3.amazonaws.com'),
    },
  );

/** The same sample with its key as AWS labels it (`IAMUser`): the role must come from the instance profile. */
export const instanceCredentialExfiltrationAsSampled = (): Finding => {
  const base = instanceCredentialExfiltration();
  return {
    ...base,
    resources: [
      {
        kind: 'access-key',
        accessKeyId: 'ASIA6FLOREXAMPLEKEY7',
        principalId: 'AROA6FLOREXAMPLEROLE1',
        userType: 'IAMUser',
        userName: ROLE_NAME,
      },
      appServer('credential-source'),
    ],
  };
};

/**
 * 43-exfiltration-s3-maliciousipcaller.json: bucket acme-customer-exports, user etl-batch. Its placeholder
 * `instanceDetails` is not a resource of the finding.
 */
export const s3Exfiltration = (): Finding =>
  finding(
    {
      id: 'd2bf27df0ab79625e3331b89648e1328',
      type: 'Exfiltration:S3/MaliciousIPCaller',
      severity: 8,
      severityLabel: 'High',
      createdAt: '2022-01-12T19:22:44.463Z',
      updatedAt: '2022-01-28T21:12:25.489Z',
      resourceType: 'S3Bucket',
      title: 'S3 API GetObject was invoked from known malicious IP address 81.2.69.144.',
    },
    {
      resources: [
        {
          kind: 's3-bucket',
          name: BUCKET,
          arn: `arn:aws:s3:::${BUCKET}`,
          ownerId: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
          createdAt: '2017-12-18T15:58:11.551Z',
          type: 'Destination',
          tags: { foo: 'bar' },
          publicAccess: {
            effectivePermission: 'NOT_PUBLIC',
            accountLevelBlock: open,
            bucketLevelBlock: open,
          },
          encryptionType: 'SSEAlgorithm',
        },
        {
          kind: 'access-key',
          accessKeyId: 'AKIA6FLOREXAMPLEETL1',
          principalId: 'AIDA6FLOREXAMPLEUSER4',
          userType: 'IAMUser',
          userName: 'etl-batch',
        },
      ],
      actor: remoteActor('GetObject', 's3.amazonaws.com'),
      techniques: [
        {
          id: 'T1552.001',
          name: 'Credentials In Files',
          tactics: [{ id: 'TA0006', name: 'Credential Access' }],
          source: 'ctid',
          relation: 'related',
        },
      ],
      tactics: [
        { id: 'TA0006', name: 'Credential Access', relation: 'related' },
        { id: 'TA0010', name: 'Exfiltration', relation: 'primary' },
      ],
    },
  );

/**
 * 29-stealth-iamuser-cloudtrailloggingdisabled.json. The trail (`GeneratedFindingCloudTrailName`)
 * becomes management-events, given by ARN; the user becomes app-deployer.
 */
export const cloudTrailLoggingDisabled = (): Finding =>
  finding(
    {
      id: '50bf27df0ab7b131dfd23bb1c6958a0c',
      type: 'Stealth:IAMUser/CloudTrailLoggingDisabled',
      severity: 2,
      severityLabel: 'Low',
      createdAt: '2022-01-12T19:22:44.463Z',
      updatedAt: '2022-01-28T21:12:25.489Z',
      resourceType: 'AccessKey',
      title: 'AWS CloudTrail trail management-events was disabled.',
    },
    {
      resources: [
        {
          kind: 'access-key',
          accessKeyId: 'AKIA6FLOREXAMPLEDEP1',
          principalId: 'AIDA6FLOREXAMPLEUSER1',
          userType: 'IAMUser',
          userName: 'app-deployer',
        },
        { kind: 'cloudtrail-trail', name: 'management-events', arn: TRAIL_ARN },
      ],
      actor: remoteActor('StopLogging', 'cloudtrail.amazonaws.com'),
      techniques: [
        {
          id: 'T1562.008',
          name: 'Disable Cloud Logs',
          tactics: [{ id: 'TA0005', name: 'Defense Evasion' }],
          source: 'ctid',
          relation: 'primary',
        },
      ],
      tactics: [{ id: 'TA0005', name: 'Defense Evasion', relation: 'primary' }],
    },
  );

/** 31-backdoor-ec2-c-cactivity-b.json: the instance itself is affected (role `resource`). */
export const commandAndControl = (): Finding =>
  finding(
    {
      id: '64bf27df0ab4a19668efae51494f70e2',
      type: 'Backdoor:EC2/C&CActivity.B',
      severity: 8,
      severityLabel: 'High',
      createdAt: '2022-01-12T19:22:44.457Z',
      updatedAt: '2022-01-28T21:12:25.481Z',
      resourceType: 'Instance',
      title: `EC2 instance ${INSTANCE_ID} communicating outbound with C&C Server.`,
    },
    {
      resources: [appServer('resource')],
      actor: {
        actionType: 'NETWORK_CONNECTION',
        remoteIp: '81.2.69.144',
        country: 'United Kingdom',
        city: 'London',
        asn: '-1',
        remotePort: 25,
        localPort: 2000,
        protocol: 'TCP',
      },
      techniques: [
        {
          id: 'T1071.003',
          name: 'Mail Protocols',
          tactics: [{ id: 'TA0011', name: 'Command and Control' }],
          source: 'ctid',
          relation: 'primary',
        },
      ],
      tactics: [{ id: 'TA0011', name: 'Command and Control', relation: 'primary' }],
    },
  );

/** 46-unauthorizedaccess-iamuser-maliciousipcaller.json: a long-term IAM user key (user ci-deployer). */
export const maliciousIpCaller = (): Finding =>
  finding(
    {
      id: 'eebf27df0ab4541e38ed1259867c6aaf',
      type: 'UnauthorizedAccess:IAMUser/MaliciousIPCaller',
      severity: 5,
      severityLabel: 'Medium',
      createdAt: '2022-01-12T19:22:44.456Z',
      updatedAt: '2022-01-28T21:12:25.480Z',
      resourceType: 'AccessKey',
      title: 'API DescribeInstances was invoked from a known malicious IP address.',
    },
    {
      resources: [
        {
          kind: 'access-key',
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          principalId: 'AIDA6FLOREXAMPLEUSER2',
          userType: 'IAMUser',
          userName: 'ci-deployer',
        },
      ],
      actor: remoteActor('DescribeInstances', 'ec2.amazonaws.com'),
      techniques: [
        {
          id: 'T1078.004',
          name: 'Cloud Accounts',
          tactics: [{ id: 'TA0001', name: 'Initial Access' }],
          source: 'ctid',
          relation: 'primary',
        },
      ],
      tactics: [{ id: 'TA0001', name: 'Initial Access', relation: 'primary' }],
    },
  );

/**
 * 28-policy-iamuser-rootcredentialusage.json; its placeholder key fields take the values of the
 * non-sample 50-policy-iamuser-rootcredentialusage.json (ASIA key, principal = the account, user Root).
 */
export const rootCredentialUsage = (): Finding =>
  finding(
    {
      id: '4ebf27df0ab8936d93127d0c19e61ece',
      type: 'Policy:IAMUser/RootCredentialUsage',
      severity: 2,
      severityLabel: 'Low',
      createdAt: '2022-01-12T19:22:44.465Z',
      updatedAt: '2022-01-28T21:12:25.491Z',
      resourceType: 'AccessKey',
      title: 'API ListFindings was invoked using root credentials.',
    },
    {
      resources: [
        {
          kind: 'access-key',
          accessKeyId: 'ASIAJZ3DXJKMP7MG3EKA',
          principalId: ACCOUNT,
          userType: 'Root',
          userName: 'Root',
        },
      ],
      actor: remoteActor('ListFindings', 'guardduty.amazonaws.com'),
    },
  );

/** 13-policy-s3-bucketblockpublicaccessdisabled.json: bucket acme-customer-exports, user data-admin. */
export const bucketBlockPublicAccessDisabled = (): Finding =>
  finding(
    {
      id: '20bf27df0abb65c14b7e3f59c5943ad1',
      type: 'Policy:S3/BucketBlockPublicAccessDisabled',
      severity: 2,
      severityLabel: 'Low',
      createdAt: '2022-01-12T19:22:44.470Z',
      updatedAt: '2022-01-28T21:12:25.497Z',
      resourceType: 'AccessKey',
      title: `Amazon S3 Block Public Access was disabled for S3 bucket ${BUCKET}.`,
    },
    {
      resources: [
        {
          kind: 'access-key',
          accessKeyId: 'AKIA6FLOREXAMPLEADM1',
          principalId: 'AIDA6FLOREXAMPLEUSER3',
          userType: 'IAMUser',
          userName: 'data-admin',
        },
        {
          kind: 's3-bucket',
          name: BUCKET,
          arn: `arn:aws:s3:::${BUCKET}`,
          ownerId: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
          createdAt: '2017-12-18T15:58:11.551Z',
          type: 'Destination',
          tags: { foo: 'bar' },
          publicAccess: {
            effectivePermission: 'NOT_PUBLIC',
            accountLevelBlock: open,
            bucketLevelBlock: open,
          },
          encryptionType: 'SSEAlgorithm',
        },
      ],
      actor: remoteActor('PutBucketPublicAccessBlock', 's3.amazonaws.com'),
    },
  );

/**
 * 02-unauthorizedaccess-iamuser-toripcaller.json with the assumed-role key of
 * rules/findings/iamuser-toripcaller-assumed-role.json (role data-pipeline-role, session
 * etl-batch-session: credentials from sts:AssumeRole, not issued to an EC2 instance). The role and
 * session names can be swapped, e.g. for a protected role. The sample's placeholder `instanceDetails`
 * is not a resource of the finding.
 */
export const torIpCallerAssumedRole = (
  roleName = 'data-pipeline-role',
  sessionName = 'etl-batch-session',
): Finding =>
  finding(
    {
      id: '02bf27df0ab845eb066903f3edef806e',
      type: 'UnauthorizedAccess:IAMUser/TorIPCaller',
      severity: 5,
      severityLabel: 'Medium',
      createdAt: '2022-01-12T19:22:44.464Z',
      updatedAt: '2022-01-28T21:12:25.490Z',
      resourceType: 'AccessKey',
      title: 'API ListBuckets was invoked from a Tor exit node.',
    },
    {
      resources: [
        {
          kind: 'access-key',
          accessKeyId: 'ASIAQNOTREALEXAMPLE7',
          principalId: `AROAQNOTREALROLEID12:${sessionName}`,
          userType: 'AssumedRole',
          userName: roleName,
          roleName,
          sessionName,
        },
      ],
      actor: remoteActor('ListBuckets', 's3.amazonaws.com'),
      techniques: [
        {
          id: 'T1078.004',
          name: 'Cloud Accounts',
          tactics: [{ id: 'TA0001', name: 'Initial Access' }],
          source: 'ctid',
          relation: 'primary',
        },
      ],
      tactics: [{ id: 'TA0001', name: 'Initial Access', relation: 'primary' }],
    },
  );

/** The C&C sample as an attacker would forge it: the instance id replaced with `instanceId`. */
export const forgedInstance = (instanceId: string): Finding => {
  const finding = commandAndControl();
  return {
    ...finding,
    resources: finding.resources.map((resource) =>
      resource.kind === 'instance' ? { ...resource, instanceId } : resource,
    ),
  };
};
