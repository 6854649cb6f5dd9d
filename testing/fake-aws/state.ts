import { createHash, randomBytes } from 'node:crypto';
import { FakeAwsError } from './errors.js';
import { type EcsTaskSeed, ecsTasksOf, type FakeEcsTask } from './services/ecs.js';
import { buildEksClusters, type EksClusterSeed, type FakeEksCluster } from './services/eks.js';
import { type FakeLambdaFunction, type LambdaFunctionSeed, lambdaFunctionsOf } from './services/lambda.js';
import { buildNetworkAcls, type FakeNetworkAcl, type NetworkAclSeed } from './services/network-acls.js';
import { type FakeRds, type RdsClusterSeed, type RdsInstanceSeed, rdsOf } from './services/rds.js';
import { type FakeS3Objects, type S3ObjectSeed, s3ObjectsOf } from './services/s3-objects.js';
import { type FakeWafIpSet, type WafIpSetSeed, wafIpSetsOf } from './services/wafv2.js';

// ---------------------------------------------------------------------------------------------
// Seed: what a test declares about the account before the run.
// ---------------------------------------------------------------------------------------------

export interface RuleSeed {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  referencedGroupId?: string;
  description?: string;
}

export interface SecurityGroupSeed {
  groupId: string;
  groupName: string;
  description?: string;
  vpcId: string;
  tags?: Record<string, string>;
  ingress?: RuleSeed[];
  /** Defaults to the allow-all egress rule every new VPC security group gets. */
  egress?: RuleSeed[];
}

export interface InstanceSeed {
  instanceId: string;
  vpcId: string;
  subnetId: string;
  availabilityZone?: string;
  imageId?: string;
  instanceType?: string;
  privateIpAddress?: string;
  state?: 'pending' | 'running' | 'stopping' | 'stopped';
  launchTime?: string;
  tags?: Record<string, string>;
  /** The instance profile associated with the instance (by name). */
  iamInstanceProfile?: { name: string; associationId?: string };
  networkInterfaces: Array<{ networkInterfaceId: string; groupIds: string[]; privateIpAddress?: string }>;
  volumes: Array<{ volumeId: string; deviceName: string; sizeGiB?: number; tags?: Record<string, string> }>;
}

export interface RoleSeed {
  name: string;
  path?: string;
  roleId?: string;
  description?: string;
  /** A JSON string or an object; defaults to a trust policy for ec2.amazonaws.com. */
  assumeRolePolicyDocument?: string | object;
  inlinePolicies?: Record<string, string | object>;
  tags?: Record<string, string>;
}

export interface InstanceProfileSeed {
  name: string;
  path?: string;
  instanceProfileId?: string;
  roleName?: string;
}

export interface UserSeed {
  name: string;
  path?: string;
  userId?: string;
  tags?: Record<string, string>;
  accessKeys?: Array<{ accessKeyId: string; status?: 'Active' | 'Inactive'; createDate?: string }>;
  /** Inline policies by name: a JSON string or an object. */
  inlinePolicies?: Record<string, string | object>;
  /** ARNs of managed policies attached to the user (AWS managed ones, see services/iam-user-policies.ts). */
  attachedPolicyArns?: string[];
}

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export interface BucketSeed {
  name: string;
  /** Defaults to the seeded account. */
  ownerAccountId?: string;
  publicAccessBlock?: PublicAccessBlock;
  tags?: Record<string, string>;
  /** Omitted: never versioned (objects have the version `null`). */
  versioning?: 'Enabled' | 'Suspended';
  /** Object Ownership; omitted: no ownership controls (GetBucketOwnershipControls answers not found). */
  objectOwnership?: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
}

export interface TrailSeed {
  name: string;
  homeRegion?: string;
  isLogging: boolean;
}

export interface SnapshotSeed {
  snapshotId: string;
  volumeId: string;
  description?: string;
  tags?: Record<string, string>;
}

/**
 * A GuardDuty finding as the GuardDuty API and EventBridge carry it: lowerCamel JSON, exactly an
 * EventBridge event's `detail` (`id`, `accountId`, `severity` as a number, ISO 8601 strings for times).
 */
export type GuardDutyFinding = Record<string, unknown>;

export interface FindingSeed {
  /**
   * The detector the finding is read through. An administrator account reads its members' findings
   * through its own detector, so a member's finding (its own `accountId`) may be stored here.
   */
  detectorId: string;
  finding: GuardDutyFinding;
}

/** The workflow of a GuardDuty finding's copy in Security Hub, by the copy's `Id` (the finding's ARN). */
export interface SecurityHubFindingSeed {
  /** The GuardDuty finding's ARN: the `Id` of its copy in Security Hub. */
  id: string;
  /** Defaults to NEW. */
  workflowStatus?: SecurityHubWorkflowStatus;
  note?: { text: string; updatedBy: string };
}

export interface SecurityHubSeed {
  /** Omitted or false: Security Hub answers InvalidAccessException ("not subscribed"). */
  enabled?: boolean;
  /** Workflow statuses and notes the copies start with (a copy not listed is NEW, without a note). */
  findings?: SecurityHubFindingSeed[];
}

export interface OrganizationSeed {
  /** `o-` and 10 to 32 lowercase letters or digits. */
  id: string;
  managementAccountId: string;
  /** Member account ids; the management account and the seeded account are members whether listed or not. */
  accounts: string[];
}

export interface FakeAccountSeed {
  accountId: string;
  /** Defaults to us-east-1. */
  region?: string;
  /** The identity GetCallerIdentity reports for the dummy credentials. */
  callerArn?: string;
  instances?: InstanceSeed[];
  securityGroups?: SecurityGroupSeed[];
  roles?: RoleSeed[];
  instanceProfiles?: InstanceProfileSeed[];
  users?: UserSeed[];
  buckets?: BucketSeed[];
  trails?: TrailSeed[];
  /** SNS topic ARNs. */
  topics?: string[];
  snapshots?: SnapshotSeed[];
  /** GuardDuty detector ids of the seeded account in its region. */
  detectors?: string[];
  /** Each under a seeded detector, with a string `id`. */
  findings?: FindingSeed[];
  /** Omitted: the account belongs to no organization. */
  organization?: OrganizationSeed;
  /** Omitted: Security Hub is not enabled in the account. */
  securityHub?: SecurityHubSeed;
  /** EKS clusters of the account's region, with their access entries. */
  eksClusters?: EksClusterSeed[];
  /** Lambda functions of the account's region, with their concurrency, URL and resource policy. */
  lambdaFunctions?: LambdaFunctionSeed[];
  /** ECS tasks of the account's region. */
  ecsTasks?: EcsTaskSeed[];
  /** RDS DB instances (standalone, or members of `rdsClusters`) with their VPC security groups. */
  rdsInstances?: RdsInstanceSeed[];
  rdsClusters?: RdsClusterSeed[];
  /** S3 objects (and versions, oldest first) of seeded buckets. */
  s3Objects?: S3ObjectSeed[];
  /** Network ACLs; each VPC without a seeded default ACL gets one, with instances' subnets associated. */
  networkAcls?: NetworkAclSeed[];
  /** AWS WAF IP sets (REGIONAL in the account's region unless given; CLOUDFRONT in us-east-1). */
  wafIpSets?: WafIpSetSeed[];
}

// ---------------------------------------------------------------------------------------------
// State: the live account the server reads and mutates; tests inspect it directly.
// ---------------------------------------------------------------------------------------------

export interface FakeInstance {
  instanceId: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped';
  vpcId: string;
  subnetId: string;
  availabilityZone: string;
  privateIpAddress: string;
  launchTime: string;
  rootDeviceName: string;
  /** Volume ids in device order. */
  volumeIds: string[];
  networkInterfaceIds: string[];
  tags: Record<string, string>;
}

export interface FakeVolume {
  volumeId: string;
  instanceId: string;
  deviceName: string;
  sizeGiB: number;
  attachTime: string;
  tags: Record<string, string>;
}

export interface FakeNetworkInterface {
  networkInterfaceId: string;
  instanceId: string;
  attachmentId: string;
  deviceIndex: number;
  vpcId: string;
  subnetId: string;
  privateIpAddress: string;
  groupIds: string[];
  tags: Record<string, string>;
}

export interface FakeSecurityGroupRule extends RuleSeed {
  ruleId: string;
}

export interface FakeSecurityGroup {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  ownerId: string;
  ingress: FakeSecurityGroupRule[];
  egress: FakeSecurityGroupRule[];
  tags: Record<string, string>;
}

export type AssociationState = 'associating' | 'associated' | 'disassociating' | 'disassociated';

export interface FakeAssociation {
  associationId: string;
  instanceId: string;
  instanceProfileArn: string;
  instanceProfileId: string;
  state: AssociationState;
  timestamp: string;
}

export interface FakeSnapshot {
  snapshotId: string;
  volumeId: string;
  ownerId: string;
  state: 'pending' | 'completed' | 'error';
  progress: string;
  startTime: string;
  description: string;
  volumeSizeGiB: number;
  encrypted: boolean;
  tags: Record<string, string>;
}

export interface FakeRole {
  roleName: string;
  roleId: string;
  path: string;
  arn: string;
  createDate: string;
  description?: string;
  maxSessionDuration: number;
  /** Plain JSON text; the wire format URL-encodes it as IAM does. */
  assumeRolePolicyDocument: string;
  /** Inline policies by name, as the JSON text PutRolePolicy received. */
  inlinePolicies: Record<string, string>;
  tags: Record<string, string>;
}

export interface FakeInstanceProfile {
  instanceProfileName: string;
  instanceProfileId: string;
  path: string;
  arn: string;
  createDate: string;
  roleNames: string[];
}

export interface FakeUser {
  userName: string;
  userId: string;
  path: string;
  arn: string;
  createDate: string;
  tags: Record<string, string>;
  /** Inline policies by name, as the JSON text PutUserPolicy received. */
  inlinePolicies: Record<string, string>;
  /** ARNs of the attached managed policies, in the order they were attached. */
  attachedPolicyArns: string[];
}

export interface FakeAccessKey {
  accessKeyId: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createDate: string;
}

export interface FakeBucket {
  name: string;
  ownerAccountId: string;
  publicAccessBlock?: PublicAccessBlock;
  /** Undefined when the bucket has no tag set (GetBucketTagging answers NoSuchTagSet). */
  tags?: Record<string, string>;
  versioning?: 'Enabled' | 'Suspended';
  objectOwnership?: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
}

export interface FakeTrail {
  name: string;
  arn: string;
  homeRegion: string;
  isLogging: boolean;
  startLoggingTime?: string;
  stopLoggingTime?: string;
}

export interface PublishedMessage {
  messageId: string;
  subject?: string;
  message: string;
  messageAttributes: Record<string, unknown>;
  at: string;
}

export interface FakeTopic {
  arn: string;
  messages: PublishedMessage[];
}

export interface AssumedRoleSession {
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
  durationSeconds: number;
  accessKeyId: string;
  expiration: string;
}

export interface WebhookPost {
  path: string;
  contentType?: string;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  at: string;
}

export type SecurityHubWorkflowStatus = 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED';

export interface SecurityHubNote {
  text: string;
  updatedBy: string;
  /** ISO 8601. */
  updatedAt: string;
}

/**
 * What Security Hub keeps of a GuardDuty finding's copy besides what GuardDuty sends: the fields
 * BatchUpdateFindings changes. Every other field of the copy is derived from the GuardDuty finding.
 */
export interface FakeSecurityHubWorkflow {
  status: SecurityHubWorkflowStatus;
  /** The latest note (ASFF keeps one). */
  note?: SecurityHubNote;
  /** Every note written, oldest first. */
  notes: SecurityHubNote[];
}

export interface FakeSecurityHub {
  enabled: boolean;
  /**
   * By copy `Id` (the GuardDuty finding's ARN). A GuardDuty finding the fake holds (with an ARN) has a
   * copy in the Security Hub of its ARN's region; one without an entry here is NEW, without a note.
   */
  workflows: Map<string, FakeSecurityHubWorkflow>;
}

export interface FakeOrganizationAccount {
  id: string;
  /** `arn:aws:organizations::<managementAccountId>:account/<organizationId>/<id>` */
  arn: string;
  email: string;
  name: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';
  joinedMethod: 'INVITED' | 'CREATED';
  joinedTimestamp: string;
}

export interface FakeOrganization {
  id: string;
  /** `arn:aws:organizations::<managementAccountId>:organization/<id>` */
  arn: string;
  managementAccountId: string;
  accounts: Map<string, FakeOrganizationAccount>;
}

export interface FakeAccountState {
  accountId: string;
  region: string;
  callerArn: string;
  instances: Map<string, FakeInstance>;
  volumes: Map<string, FakeVolume>;
  networkInterfaces: Map<string, FakeNetworkInterface>;
  securityGroups: Map<string, FakeSecurityGroup>;
  associations: Map<string, FakeAssociation>;
  snapshots: Map<string, FakeSnapshot>;
  roles: Map<string, FakeRole>;
  instanceProfiles: Map<string, FakeInstanceProfile>;
  users: Map<string, FakeUser>;
  accessKeys: Map<string, FakeAccessKey>;
  buckets: Map<string, FakeBucket>;
  /** By trail ARN. */
  trails: Map<string, FakeTrail>;
  topics: Map<string, FakeTopic>;
  assumedRoleSessions: AssumedRoleSession[];
  webhookPosts: WebhookPost[];
  /** GuardDuty detector ids of the account in its region. */
  detectors: string[];
  /** GuardDuty findings by detector id, then finding id (add one later with `putFinding`). */
  findings: Map<string, Map<string, GuardDutyFinding>>;
  /** Undefined when the account belongs to no organization. */
  organization?: FakeOrganization;
  securityHub: FakeSecurityHub;
  /** EKS clusters by name. */
  eksClusters: Map<string, FakeEksCluster>;
  /** By function name. */
  lambdaFunctions: Map<string, FakeLambdaFunction>;
  /** By task ARN. */
  ecsTasks: Map<string, FakeEcsTask>;
  /** RDS DB instances, clusters and their snapshots. */
  rds: FakeRds;
  /** S3 objects by bucket, then key (versions oldest first). */
  s3Objects: FakeS3Objects;
  /** By network ACL id. */
  networkAcls: Map<string, FakeNetworkAcl>;
  /** AWS WAF IP sets by ARN. */
  wafIpSets: Map<string, FakeWafIpSet>;
}

// ---------------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------------

/** A fresh EC2-style identifier: `prefix-` and 17 lowercase hex digits. */
export const newEc2Id = (prefix: string): string => `${prefix}-0${randomBytes(8).toString('hex')}`;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An IAM unique id (`AROA…`, `AIPA…`, `AIDA…`) derived from a name, so seeded ids are stable. */
export const derivedIamId = (prefix: string, source: string): string => {
  const digest = createHash('sha256').update(source).digest();
  const chars = Array.from(digest.subarray(0, 17), (byte) => ID_ALPHABET[byte % 32]).join('');
  return `${prefix}${chars}`;
};

export const randomIamId = (prefix: string, length: number): string =>
  prefix + Array.from(randomBytes(length), (byte) => ID_ALPHABET[byte % 32]).join('');

const SEEDED_AT = '2024-03-01T12:00:00.000Z';

const iamArn = (accountId: string, kind: string, path: string, name: string): string =>
  `arn:aws:iam::${accountId}:${kind}${path}${name}`;

const EC2_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

const asJsonText = (document: string | object): string =>
  typeof document === 'string' ? document : JSON.stringify(document);

export const allowAllEgress = (): FakeSecurityGroupRule => ({
  ruleId: newEc2Id('sgr'),
  ipProtocol: '-1',
  cidrIpv4: '0.0.0.0/0',
});

const seedError = (message: string, details: Record<string, unknown>): FakeAwsError =>
  new FakeAwsError('SEED_INVALID', message, details);

/** IAM paths start and end with `/` (`/`, `/aws-service-role/guardduty.amazonaws.com/`). */
const IAM_PATH = /^\/(?:[\x21-\x7e]*\/)?$/;

const iamPath = (path: string | undefined, entity: string): string => {
  const resolved = path ?? '/';
  if (!IAM_PATH.test(resolved)) {
    throw seedError(`${entity} has path ${resolved}, which does not start and end with /`, { entity, path });
  }
  return resolved;
};

// ---------------------------------------------------------------------------------------------
// Building the state from a seed
// ---------------------------------------------------------------------------------------------

const buildSecurityGroups = (seed: FakeAccountSeed, state: FakeAccountState): void => {
  for (const group of seed.securityGroups ?? []) {
    state.securityGroups.set(group.groupId, {
      groupId: group.groupId,
      groupName: group.groupName,
      description: group.description ?? group.groupName,
      vpcId: group.vpcId,
      ownerId: seed.accountId,
      ingress: (group.ingress ?? []).map((rule) => ({ ...rule, ruleId: newEc2Id('sgr') })),
      egress: group.egress
        ? group.egress.map((rule) => ({ ...rule, ruleId: newEc2Id('sgr') }))
        : [allowAllEgress()],
      tags: { ...group.tags },
    });
  }
};

const buildIam = (seed: FakeAccountSeed, state: FakeAccountState): void => {
  for (const role of seed.roles ?? []) {
    const path = iamPath(role.path, `role ${role.name}`);
    state.roles.set(role.name, {
      roleName: role.name,
      roleId: role.roleId ?? derivedIamId('AROA', `${seed.accountId}:role:${role.name}`),
      path,
      arn: iamArn(seed.accountId, 'role', path, role.name),
      createDate: SEEDED_AT,
      ...(role.description === undefined ? {} : { description: role.description }),
      maxSessionDuration: 3600,
      assumeRolePolicyDocument: asJsonText(role.assumeRolePolicyDocument ?? EC2_TRUST_POLICY),
      inlinePolicies: Object.fromEntries(
        Object.entries(role.inlinePolicies ?? {}).map(([name, document]) => [name, asJsonText(document)]),
      ),
      tags: { ...role.tags },
    });
  }
  for (const profile of seed.instanceProfiles ?? []) {
    if (profile.roleName !== undefined && !state.roles.has(profile.roleName)) {
      throw seedError(
        `instance profile ${profile.name} names role ${profile.roleName}, which is not seeded`,
        {
          instanceProfile: profile.name,
          role: profile.roleName,
        },
      );
    }
    const path = iamPath(profile.path, `instance profile ${profile.name}`);
    state.instanceProfiles.set(profile.name, {
      instanceProfileName: profile.name,
      instanceProfileId:
        profile.instanceProfileId ?? derivedIamId('AIPA', `${seed.accountId}:ip:${profile.name}`),
      path,
      arn: iamArn(seed.accountId, 'instance-profile', path, profile.name),
      createDate: SEEDED_AT,
      roleNames: profile.roleName === undefined ? [] : [profile.roleName],
    });
  }
  for (const user of seed.users ?? []) {
    const path = iamPath(user.path, `user ${user.name}`);
    state.users.set(user.name, {
      userName: user.name,
      userId: user.userId ?? derivedIamId('AIDA', `${seed.accountId}:user:${user.name}`),
      path,
      arn: iamArn(seed.accountId, 'user', path, user.name),
      createDate: SEEDED_AT,
      tags: { ...user.tags },
      inlinePolicies: Object.fromEntries(
        Object.entries(user.inlinePolicies ?? {}).map(([name, document]) => [name, asJsonText(document)]),
      ),
      attachedPolicyArns: [...(user.attachedPolicyArns ?? [])],
    });
    for (const key of user.accessKeys ?? []) {
      state.accessKeys.set(key.accessKeyId, {
        accessKeyId: key.accessKeyId,
        userName: user.name,
        status: key.status ?? 'Active',
        createDate: key.createDate ?? SEEDED_AT,
      });
    }
  }
};

const buildInstances = (seed: FakeAccountSeed, state: FakeAccountState, region: string): void => {
  for (const instance of seed.instances ?? []) {
    const launchTime = instance.launchTime ?? SEEDED_AT;
    instance.networkInterfaces.forEach((eni, deviceIndex) => {
      const unknown = eni.groupIds.filter((groupId) => !state.securityGroups.has(groupId));
      if (unknown.length > 0) {
        throw seedError(`network interface ${eni.networkInterfaceId} names unseeded security groups`, {
          networkInterface: eni.networkInterfaceId,
          groups: unknown,
        });
      }
      state.networkInterfaces.set(eni.networkInterfaceId, {
        networkInterfaceId: eni.networkInterfaceId,
        instanceId: instance.instanceId,
        attachmentId: newEc2Id('eni-attach'),
        deviceIndex,
        vpcId: instance.vpcId,
        subnetId: instance.subnetId,
        privateIpAddress: eni.privateIpAddress ?? instance.privateIpAddress ?? `10.0.1.${10 + deviceIndex}`,
        groupIds: [...eni.groupIds],
        tags: {},
      });
    });
    for (const volume of instance.volumes) {
      state.volumes.set(volume.volumeId, {
        volumeId: volume.volumeId,
        instanceId: instance.instanceId,
        deviceName: volume.deviceName,
        sizeGiB: volume.sizeGiB ?? 8,
        attachTime: launchTime,
        tags: { ...volume.tags },
      });
    }
    state.instances.set(instance.instanceId, {
      instanceId: instance.instanceId,
      reservationId: newEc2Id('r'),
      imageId: instance.imageId ?? 'ami-0abcdef1234567890',
      instanceType: instance.instanceType ?? 't3.micro',
      state: instance.state ?? 'running',
      vpcId: instance.vpcId,
      subnetId: instance.subnetId,
      availabilityZone: instance.availabilityZone ?? `${region}a`,
      privateIpAddress:
        instance.privateIpAddress ??
        state.networkInterfaces.get(instance.networkInterfaces[0]?.networkInterfaceId ?? '')
          ?.privateIpAddress ??
        '10.0.1.10',
      launchTime,
      rootDeviceName: instance.volumes[0]?.deviceName ?? '/dev/xvda',
      volumeIds: instance.volumes.map((volume) => volume.volumeId),
      networkInterfaceIds: instance.networkInterfaces.map((eni) => eni.networkInterfaceId),
      tags: { ...instance.tags },
    });
    if (instance.iamInstanceProfile) {
      const profile = state.instanceProfiles.get(instance.iamInstanceProfile.name);
      if (!profile) {
        throw seedError(
          `instance ${instance.instanceId} names instance profile ${instance.iamInstanceProfile.name}, which is not seeded`,
          { instance: instance.instanceId, instanceProfile: instance.iamInstanceProfile.name },
        );
      }
      const associationId = instance.iamInstanceProfile.associationId ?? newEc2Id('iip-assoc');
      state.associations.set(associationId, {
        associationId,
        instanceId: instance.instanceId,
        instanceProfileArn: profile.arn,
        instanceProfileId: profile.instanceProfileId,
        state: 'associated',
        timestamp: launchTime,
      });
    }
  }
};

const buildSnapshots = (seed: FakeAccountSeed, state: FakeAccountState): void => {
  for (const snapshot of seed.snapshots ?? []) {
    state.snapshots.set(snapshot.snapshotId, {
      snapshotId: snapshot.snapshotId,
      volumeId: snapshot.volumeId,
      ownerId: seed.accountId,
      state: 'completed',
      progress: '100%',
      startTime: SEEDED_AT,
      description: snapshot.description ?? '',
      volumeSizeGiB: state.volumes.get(snapshot.volumeId)?.sizeGiB ?? 8,
      encrypted: false,
      tags: { ...snapshot.tags },
    });
  }
};

/**
 * Stores a copy of a GuardDuty finding under a detector of the account, replacing one with the same
 * id: how a test makes a finding appear after the fake started. Throws SEED_INVALID for a detector the
 * account does not own or a finding without a string `id`.
 */
export const putFinding = (state: FakeAccountState, detectorId: string, finding: GuardDutyFinding): void => {
  if (!state.detectors.includes(detectorId)) {
    throw seedError(`finding is stored under detector ${detectorId}, which is not seeded`, { detectorId });
  }
  const id = finding.id;
  if (typeof id !== 'string' || id === '') {
    throw seedError('a GuardDuty finding needs a string id', { detectorId });
  }
  const stored = state.findings.get(detectorId) ?? new Map<string, GuardDutyFinding>();
  stored.set(id, structuredClone(finding));
  state.findings.set(detectorId, stored);
};

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT_ID = /^\d{12}$/;

const buildOrganization = (seed: OrganizationSeed, accountId: string): FakeOrganization => {
  const memberIds = [...new Set([seed.managementAccountId, accountId, ...seed.accounts])];
  const invalid = [seed.managementAccountId, ...seed.accounts].filter((id) => !ACCOUNT_ID.test(id));
  if (!ORGANIZATION_ID.test(seed.id) || invalid.length > 0) {
    throw seedError('organization id or account ids are malformed', { organization: seed.id, invalid });
  }
  const prefix = `arn:aws:organizations::${seed.managementAccountId}`;
  return {
    id: seed.id,
    arn: `${prefix}:organization/${seed.id}`,
    managementAccountId: seed.managementAccountId,
    accounts: new Map(
      memberIds.map((id) => [
        id,
        {
          id,
          arn: `${prefix}:account/${seed.id}/${id}`,
          email: `aws+${id}@example.com`,
          name: id === seed.managementAccountId ? 'management' : `account-${id}`,
          status: 'ACTIVE',
          joinedMethod: 'INVITED',
          joinedTimestamp: SEEDED_AT,
        },
      ]),
    ),
  };
};

const WORKFLOW_STATUSES: readonly SecurityHubWorkflowStatus[] = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];

const buildSecurityHub = (seed: SecurityHubSeed | undefined): FakeSecurityHub => {
  const workflows = new Map<string, FakeSecurityHubWorkflow>();
  for (const finding of seed?.findings ?? []) {
    const status = finding.workflowStatus ?? 'NEW';
    if (typeof finding.id !== 'string' || !WORKFLOW_STATUSES.includes(status)) {
      throw seedError('a Security Hub finding needs a string id and a workflow status Security Hub knows', {
        id: finding.id,
        workflowStatus: finding.workflowStatus,
      });
    }
    const note = finding.note && { ...finding.note, updatedAt: SEEDED_AT };
    workflows.set(finding.id, { status, ...(note ? { note } : {}), notes: note ? [note] : [] });
  }
  return { enabled: seed?.enabled === true, workflows };
};

export const createState = (seed: FakeAccountSeed): FakeAccountState => {
  const region = seed.region ?? 'us-east-1';
  const state: FakeAccountState = {
    accountId: seed.accountId,
    region,
    callerArn: seed.callerArn ?? `arn:aws:sts::${seed.accountId}:assumed-role/riposte-responder/riposte`,
    instances: new Map(),
    volumes: new Map(),
    networkInterfaces: new Map(),
    securityGroups: new Map(),
    associations: new Map(),
    snapshots: new Map(),
    roles: new Map(),
    instanceProfiles: new Map(),
    users: new Map(),
    accessKeys: new Map(),
    buckets: new Map(),
    trails: new Map(),
    topics: new Map(),
    assumedRoleSessions: [],
    webhookPosts: [],
    detectors: [...(seed.detectors ?? [])],
    findings: new Map((seed.detectors ?? []).map((detectorId) => [detectorId, new Map()])),
    ...(seed.organization ? { organization: buildOrganization(seed.organization, seed.accountId) } : {}),
    securityHub: buildSecurityHub(seed.securityHub),
    eksClusters: buildEksClusters(seed.eksClusters, seed.accountId, region),
    lambdaFunctions: lambdaFunctionsOf(seed.lambdaFunctions ?? [], seed.accountId, region),
    ecsTasks: ecsTasksOf(seed.ecsTasks ?? [], seed.accountId, region),
    rds: rdsOf({}, seed.accountId, region, new Map()),
    s3Objects: new Map(),
    networkAcls: new Map(),
    wafIpSets: wafIpSetsOf(seed.wafIpSets ?? [], seed.accountId, region),
  };
  buildSecurityGroups(seed, state);
  buildIam(seed, state);
  buildInstances(seed, state, region);
  buildSnapshots(seed, state);
  state.rds = rdsOf(seed, seed.accountId, region, state.securityGroups);
  buildNetworkAcls(seed.networkAcls, state);
  for (const bucket of seed.buckets ?? []) {
    state.buckets.set(bucket.name, {
      name: bucket.name,
      ownerAccountId: bucket.ownerAccountId ?? seed.accountId,
      ...(bucket.publicAccessBlock ? { publicAccessBlock: { ...bucket.publicAccessBlock } } : {}),
      ...(bucket.tags ? { tags: { ...bucket.tags } } : {}),
      ...(bucket.versioning ? { versioning: bucket.versioning } : {}),
      ...(bucket.objectOwnership ? { objectOwnership: bucket.objectOwnership } : {}),
    });
  }
  state.s3Objects = s3ObjectsOf(seed.s3Objects ?? [], state.buckets);
  for (const trail of seed.trails ?? []) {
    const homeRegion = trail.homeRegion ?? region;
    const arn = `arn:aws:cloudtrail:${homeRegion}:${seed.accountId}:trail/${trail.name}`;
    state.trails.set(arn, { name: trail.name, arn, homeRegion, isLogging: trail.isLogging });
  }
  for (const arn of seed.topics ?? []) state.topics.set(arn, { arn, messages: [] });
  for (const { detectorId, finding } of seed.findings ?? []) putFinding(state, detectorId, finding);
  return state;
};
