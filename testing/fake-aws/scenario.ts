import { type FakeAccountSeed, type FakeAccountState, putFinding } from './state.js';

/**
 * The identifiers of the canonical scenario (DESIGN.md): an instance whose over-permissive profile
 * was stolen, a second instance sharing that role (so scoping can be proven), the exfiltrated bucket,
 * the trail the attacker stopped, the alert topic, a service-linked role that must never be touched,
 * a CI user with an active key and the account's GuardDuty detector (holding no findings: tests put
 * the ones they need).
 */
export const SCENARIO = {
  accountId: '111122223333',
  region: 'us-east-1',
  callerArn: 'arn:aws:sts::111122223333:assumed-role/riposte-responder/riposte',
  vpcId: 'vpc-0abc1234def567890',
  subnetId: 'subnet-0abc1234def567890',
  appSecurityGroupId: 'sg-0a1b2c3d4e5f60001',
  instanceId: 'i-0a1b2c3d4e5f67890',
  networkInterfaceId: 'eni-0a1b2c3d4e5f60001',
  volumeId: 'vol-0a1b2c3d4e5f60001',
  associationId: 'iip-assoc-0a1b2c3d4e5f60001',
  secondInstanceId: 'i-0fedcba9876543210',
  secondNetworkInterfaceId: 'eni-0fedcba9876540001',
  secondVolumeId: 'vol-0fedcba9876540001',
  secondAssociationId: 'iip-assoc-0fedcba9876540001',
  instanceProfileName: 'app-server-profile',
  instanceProfileArn: 'arn:aws:iam::111122223333:instance-profile/app-server-profile',
  roleName: 'app-server-s3-full',
  roleArn: 'arn:aws:iam::111122223333:role/app-server-s3-full',
  serviceLinkedRoleName: 'AWSServiceRoleForAmazonGuardDuty',
  bucketName: 'acme-customer-exports',
  secondBucketName: 'acme-public-assets',
  trailName: 'org-audit-trail',
  trailArn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit-trail',
  topicArn: 'arn:aws:sns:us-east-1:111122223333:riposte-alerts',
  userName: 'ci-deployer',
  accessKeyId: 'AKIAEXAMPLEUSERKEY01',
  detectorId: '12abc34d567e8fa901bc2d34e56789f0',
  /** The VPC's default network ACL, associated with the scenario's subnet (allow all at rule 100). */
  networkAclId: 'acl-0abc1234def567890',
  /** The operator's regional WAF IP set of blocked addresses. */
  ipSetName: 'riposte-blocked',
  ipSetId: 'a1b2c3d4-5678-90ab-cdef-0123456789ab',
  ipSetArn:
    'arn:aws:wafv2:us-east-1:111122223333:regional/ipset/riposte-blocked/a1b2c3d4-5678-90ab-cdef-0123456789ab',
} as const;

const S3_FULL_ACCESS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
};

/** The canonical scenario's account, freshly built on every call so tests never share state. */
export const scenarioSeed = (): FakeAccountSeed => ({
  accountId: SCENARIO.accountId,
  region: SCENARIO.region,
  callerArn: SCENARIO.callerArn,
  securityGroups: [
    {
      groupId: SCENARIO.appSecurityGroupId,
      groupName: 'app-server-sg',
      description: 'app server',
      vpcId: SCENARIO.vpcId,
      tags: { Name: 'app-server-sg' },
      ingress: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' }],
    },
  ],
  roles: [
    {
      name: SCENARIO.roleName,
      description: 'App server role (over-permissive: S3 full access)',
      inlinePolicies: { 's3-full-access': S3_FULL_ACCESS },
    },
    {
      name: SCENARIO.serviceLinkedRoleName,
      path: '/aws-service-role/guardduty.amazonaws.com/',
      description: 'A service-linked role for Amazon GuardDuty.',
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'guardduty.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
    },
  ],
  instanceProfiles: [{ name: SCENARIO.instanceProfileName, roleName: SCENARIO.roleName }],
  instances: [
    {
      instanceId: SCENARIO.instanceId,
      vpcId: SCENARIO.vpcId,
      subnetId: SCENARIO.subnetId,
      privateIpAddress: '10.0.1.25',
      instanceType: 'm5.large',
      tags: { Name: 'app-server' },
      iamInstanceProfile: { name: SCENARIO.instanceProfileName, associationId: SCENARIO.associationId },
      networkInterfaces: [
        { networkInterfaceId: SCENARIO.networkInterfaceId, groupIds: [SCENARIO.appSecurityGroupId] },
      ],
      volumes: [
        {
          volumeId: SCENARIO.volumeId,
          deviceName: '/dev/xvda',
          sizeGiB: 30,
          tags: { Name: 'app-server-root' },
        },
      ],
    },
    {
      instanceId: SCENARIO.secondInstanceId,
      vpcId: SCENARIO.vpcId,
      subnetId: SCENARIO.subnetId,
      privateIpAddress: '10.0.1.26',
      instanceType: 'm5.large',
      tags: { Name: 'batch-worker' },
      iamInstanceProfile: { name: SCENARIO.instanceProfileName, associationId: SCENARIO.secondAssociationId },
      networkInterfaces: [
        { networkInterfaceId: SCENARIO.secondNetworkInterfaceId, groupIds: [SCENARIO.appSecurityGroupId] },
      ],
      volumes: [{ volumeId: SCENARIO.secondVolumeId, deviceName: '/dev/xvda', sizeGiB: 30 }],
    },
  ],
  users: [{ name: SCENARIO.userName, accessKeys: [{ accessKeyId: SCENARIO.accessKeyId, status: 'Active' }] }],
  buckets: [{ name: SCENARIO.bucketName }, { name: SCENARIO.secondBucketName }],
  trails: [{ name: SCENARIO.trailName, isLogging: false }],
  topics: [SCENARIO.topicArn],
  detectors: [SCENARIO.detectorId],
  networkAcls: [
    {
      networkAclId: SCENARIO.networkAclId,
      vpcId: SCENARIO.vpcId,
      isDefault: true,
      subnetIds: [SCENARIO.subnetId],
    },
  ],
  wafIpSets: [
    {
      name: SCENARIO.ipSetName,
      id: SCENARIO.ipSetId,
      addresses: ['198.51.100.7/32'],
      description: 'Addresses blocked by the incident response',
    },
  ],
});

const DETECTOR_OF_ARN = /:detector\/([a-z0-9]+)\/finding\//;

/**
 * Makes GuardDuty hold the findings of these inputs (GuardDuty Finding events or bare findings), as
 * last updated `at` (GuardDuty re-publishes an active finding with a fresh `updatedAt`; fixtures keep
 * the time they were captured). Each is stored under the detector its ARN names, or under
 * `administratorDetectorId`: a GuardDuty administrator reads its members' findings through its own
 * detector. What a test stores here is genuine; whatever else it delivers is a forgery.
 */
export const holdFindings = (
  state: FakeAccountState,
  inputs: unknown[],
  at: Date = new Date(),
  administratorDetectorId?: string,
): void => {
  for (const input of inputs) {
    const event = input as { detail?: Record<string, unknown> };
    const finding = structuredClone(event.detail ?? (input as Record<string, unknown>));
    const detectorId = administratorDetectorId ?? DETECTOR_OF_ARN.exec(String(finding.arn))?.[1];
    if (detectorId === undefined) throw new Error(`finding ${String(finding.id)} has no GuardDuty ARN`);
    if (!state.detectors.includes(detectorId)) state.detectors.push(detectorId);
    putFinding(state, detectorId, { ...finding, updatedAt: at.toISOString() });
  }
};
