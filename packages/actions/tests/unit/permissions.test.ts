import { IAMServiceException } from '@aws-sdk/client-iam';
import { type AwsCall, type Finding, resourcesOfKind } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeKubernetes } from '../../../../testing/fake-kubernetes/index.js';
import { builtinActions } from '../../src/builtin.js';
import { createAwsServices } from '../../src/clients.js';
import * as CloudTrail from '../../src/sdk/cloudtrail.js';
import * as EC2 from '../../src/sdk/ec2.js';
import * as ECS from '../../src/sdk/ecs.js';
import * as EKS from '../../src/sdk/eks.js';
import * as GuardDuty from '../../src/sdk/guardduty.js';
import * as IAM from '../../src/sdk/iam.js';
import * as Lambda from '../../src/sdk/lambda.js';
import * as RDS from '../../src/sdk/rds.js';
import * as S3 from '../../src/sdk/s3.js';
import * as SecurityHub from '../../src/sdk/securityhub.js';
import * as SNS from '../../src/sdk/sns.js';
import * as STS from '../../src/sdk/sts.js';
import * as WAFV2 from '../../src/sdk/wafv2.js';
import { ecsBitcoinTool, lambdaCommandAndControl } from '../helpers/compute-findings.js';
import { contextFor } from '../helpers/context.js';
import { CLUSTER, DEPLOYER_ROLE_ARN, execInPod, torIpCaller } from '../helpers/eks-findings.js';
import {
  bucketBlockPublicAccessDisabled,
  cloudTrailLoggingDisabled,
  commandAndControl,
  instanceCredentialExfiltration,
  instanceCredentialExfiltrationAsSampled,
  maliciousIpCaller,
  s3Exfiltration,
  torIpCallerAssumedRole,
} from '../helpers/findings.js';
import { maliciousObject, QUARANTINE_BUCKET, rdsSuccessfulLogin } from '../helpers/rds-s3-findings.js';

/**
 * Meta-test of every built-in action's IAM permissions against the AWS calls it makes: each action is
 * planned and executed (enforce mode) against mocked clients (answering the commands of src/sdk/, the
 * only ones the actions can send) as an account that needs the change, and every call its lookups and outcome record must be allowed by one of its `permissions`,
 * as IAM names them. The other way round, every permission it declares is used by some call (or is
 * one IAM requires for a call it made, such as `iam:PassRole` for a profile replacement).
 */

/** The IAM action prefix of each service, as call records name services. */
const IAM_PREFIX: Readonly<Record<string, string>> = {
  CloudTrail: 'cloudtrail',
  EC2: 'ec2',
  EKS: 'eks',
  ECS: 'ecs',
  GuardDuty: 'guardduty',
  IAM: 'iam',
  RDS: 'rds',
  Lambda: 'lambda',
  S3: 's3',
  SecurityHub: 'securityhub',
  SNS: 'sns',
  STS: 'sts',
  WAFV2: 'wafv2',
};

/** Operations IAM authorises under another name (the S3 API reference lists the permission per operation). */
const IAM_NAMES: Readonly<Record<string, string>> = {
  'S3 GetPublicAccessBlock': 's3:GetBucketPublicAccessBlock',
  'S3 PutPublicAccessBlock': 's3:PutBucketPublicAccessBlock',
  'S3 HeadObject': 's3:GetObject',
  'S3 CopyObject': 's3:PutObject',
};

/**
 * What IAM also authorises for a call, besides the operation itself: tags written by the call
 * (`TagSpecifications`) need `ec2:CreateTags`, and handing a role to EC2 needs `iam:PassRole`.
 */
const ALSO_AUTHORISED: Readonly<Record<string, readonly string[]>> = {
  'ec2:CreateSnapshots': ['ec2:CreateTags'],
  'ec2:CreateSecurityGroup': ['ec2:CreateTags'],
  'ec2:ReplaceIamInstanceProfileAssociation': ['iam:PassRole'],
  // Snapshots are tagged as they are created; CopyObject reads its source.
  'rds:CreateDBSnapshot': ['rds:AddTagsToResource'],
  'rds:CreateDBClusterSnapshot': ['rds:AddTagsToResource'],
  's3:PutObject': ['s3:GetObject'],
  // With the VersionId a finding gives, S3 authorises the Version variant of the object action.
  's3:GetObject': ['s3:GetObjectVersion'],
  's3:GetObjectTagging': ['s3:GetObjectVersionTagging'],
  's3:PutObjectTagging': ['s3:PutObjectVersionTagging'],
  's3:GetObjectAcl': ['s3:GetObjectVersionAcl'],
  's3:PutObjectAcl': ['s3:PutObjectVersionAcl'],
  's3:DeleteObject': ['s3:DeleteObjectVersion'],
};

/** The IAM action a recorded call needs; `undefined` for a call that is not AWS (the webhook POST). */
const iamActionOf = (call: Pick<AwsCall, 'service' | 'operation'>): string | undefined => {
  const prefix = IAM_PREFIX[call.service];
  if (prefix === undefined) return undefined;
  return IAM_NAMES[`${call.service} ${call.operation}`] ?? `${prefix}:${call.operation}`;
};

const ACCOUNT = '973743533182';
const VPC_ID = 'vpc-06b1f2a3c4d5e6f70';
const NEW_GROUP_ID = 'sg-0fedcba9876543210';
const QUARANTINE = 'quarantine-no-permissions';
const IP_SET_ID = 'a1b2c3d4-5678-90ab-cdef-0123456789ab';

const ec2 = mockClient(EC2.EC2Client);
const iam = mockClient(IAM.IAMClient);
const s3 = mockClient(S3.S3Client);
const sns = mockClient(SNS.SNSClient);
const cloudtrail = mockClient(CloudTrail.CloudTrailClient);
const sts = mockClient(STS.STSClient);
const guardduty = mockClient(GuardDuty.GuardDutyClient);
const securityhub = mockClient(SecurityHub.SecurityHubClient);
const wafv2 = mockClient(WAFV2.WAFV2Client);
const lambda = mockClient(Lambda.LambdaClient);
const ecs = mockClient(ECS.ECSClient);
const rds = mockClient(RDS.RDSClient);
// isolate-eks-pod talks to a Kubernetes API (a fake one here) with a token signed with the function's
// credentials: the STS client resolves them from the environment.
const eks = mockClient(EKS.EKSClient);
const mocks: { restore(): void; reset(): void }[] = [
  ec2,
  iam,
  s3,
  sns,
  cloudtrail,
  sts,
  guardduty,
  securityhub,
  wafv2,
  lambda,
  ecs,
  rds,
  eks,
];

afterAll(() => {
  for (const mock of mocks) mock.restore();
});

const kube = await startFakeKubernetes({ clusterName: CLUSTER });
vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
afterAll(async () => {
  vi.unstubAllEnvs();
  await kube.close();
});

const noSuchEntity = () =>
  new IAMServiceException({
    name: 'NoSuchEntityException',
    $fault: 'client',
    $metadata: { httpStatusCode: 404 },
    message: 'The policy cannot be found.',
  });

/**
 * An account where every action has something to do for `finding`: the instance runs with its
 * profile, no snapshot or quarantine group exists yet, the bucket is open and untagged, the trail is
 * stopped, the key active, and no revocation policy is in place.
 */
const world = (finding: Finding): void => {
  for (const mock of mocks) mock.reset();
  let egressRevoked = false;
  const instanceOf = (instanceId: string) => ({
    InstanceId: instanceId,
    State: { Name: 'running' as const },
    VpcId: VPC_ID,
    SubnetId: 'subnet-0123456789abcdef0',
    NetworkInterfaces: [
      { NetworkInterfaceId: 'eni-bfcffe88', VpcId: VPC_ID, Groups: [{ GroupId: 'sg-0123456789abcdef0' }] },
    ],
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-0123456789abcdef0' } }],
  });
  ec2.on(EC2.DescribeInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => ({
    Reservations: [{ Instances: (input.InstanceIds ?? ['i-0fedcba9876543210']).map(instanceOf) }],
  }));
  ec2.on(EC2.DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  ec2.on(EC2.CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-0123456789abcdef0' }] });
  ec2
    .on(EC2.DescribeIamInstanceProfileAssociationsCommand)
    .callsFake((input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
      const instanceId = input.Filters?.find((filter) => filter.Name === 'instance-id')?.Values?.[0];
      return {
        IamInstanceProfileAssociations: [
          {
            AssociationId: 'iip-assoc-0123456789abcdef0',
            InstanceId: instanceId,
            State: 'associated',
            IamInstanceProfile: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/app-server-s3-full` },
          },
        ],
      };
    });
  ec2.on(EC2.DisassociateIamInstanceProfileCommand).resolves({});
  ec2.on(EC2.ReplaceIamInstanceProfileAssociationCommand).resolves({});
  ec2.on(EC2.DescribeSecurityGroupsCommand).callsFake((input: { GroupIds?: string[] }) => ({
    SecurityGroups: (input.GroupIds ?? []).map((groupId) => ({
      GroupId: groupId,
      VpcId: VPC_ID,
      IpPermissions: [],
      IpPermissionsEgress: egressRevoked ? [] : [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    })),
  }));
  ec2.on(EC2.CreateSecurityGroupCommand).resolves({ GroupId: NEW_GROUP_ID });
  ec2.on(EC2.RevokeSecurityGroupEgressCommand).callsFake(() => {
    egressRevoked = true;
    return {};
  });
  ec2.on(EC2.CreateTagsCommand).resolves({});
  ec2.on(EC2.ModifyNetworkInterfaceAttributeCommand).resolves({});
  ec2.on(EC2.DescribeTagsCommand).resolves({ Tags: [] });

  iam.on(IAM.GetRoleCommand).callsFake((input: { RoleName: string }) => ({
    Role: { RoleName: input.RoleName, Path: '/', Arn: `arn:aws:iam::${ACCOUNT}:role/${input.RoleName}` },
  }));
  iam.on(IAM.GetUserCommand).callsFake((input: { UserName: string }) => ({
    User: { UserName: input.UserName, Path: '/', Arn: `arn:aws:iam::${ACCOUNT}:user/${input.UserName}` },
  }));
  iam.on(IAM.ListRoleTagsCommand).resolves({ Tags: [] });
  iam.on(IAM.ListUserTagsCommand).resolves({ Tags: [] });
  iam.on(IAM.ListAccessKeysCommand).callsFake((input: { UserName: string }) => ({
    AccessKeyMetadata: resourcesOfKind(finding, 'access-key')
      .filter((key) => key.userName === input.UserName)
      .map((key) => ({ AccessKeyId: key.accessKeyId, Status: 'Active', UserName: input.UserName })),
  }));
  iam.on(IAM.UpdateAccessKeyCommand).resolves({});
  iam.on(IAM.GetInstanceProfileCommand).callsFake((input: { InstanceProfileName: string }) => ({
    InstanceProfile: {
      Roles: [{ RoleName: input.InstanceProfileName === QUARANTINE ? QUARANTINE : 'app-server-s3-full' }],
    },
  }));
  iam.on(IAM.GetRolePolicyCommand).rejects(noSuchEntity());
  iam.on(IAM.ListInstanceProfilesForRoleCommand).resolves({
    InstanceProfiles: [
      {
        Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/app-server-s3-full`,
        InstanceProfileName: 'app-server-s3-full',
        InstanceProfileId: 'AIPA6FLOREXAMPLEPROF1',
        Path: '/',
        Roles: [],
        CreateDate: new Date('2022-01-01T00:00:00Z'),
      },
    ],
  });
  iam.on(IAM.PutRolePolicyCommand).resolves({});
  iam.on(IAM.TagRoleCommand).resolves({});
  iam.on(IAM.TagUserCommand).resolves({});
  iam.on(IAM.GetUserPolicyCommand).rejects(noSuchEntity());
  iam.on(IAM.PutUserPolicyCommand).resolves({});
  iam.on(IAM.ListAttachedUserPoliciesCommand).resolves({ AttachedPolicies: [] });
  iam.on(IAM.AttachUserPolicyCommand).resolves({});
  ec2.on(EC2.DescribeNetworkAclsCommand).resolves({
    NetworkAcls: [
      {
        NetworkAclId: 'acl-0123456789abcdef0',
        Associations: [{ SubnetId: 'subnet-0123456789abcdef0' }],
        Entries: [
          { RuleNumber: 100, Egress: false, RuleAction: 'allow', Protocol: '-1', CidrBlock: '0.0.0.0/0' },
        ],
      },
    ],
  });
  ec2.on(EC2.CreateNetworkAclEntryCommand).resolves({});
  wafv2.on(WAFV2.GetIPSetCommand).resolves({
    IPSet: { Name: 'riposte-blocked', Id: IP_SET_ID, ARN: 'arn', IPAddressVersion: 'IPV4', Addresses: [] },
    LockToken: 'lock-1',
  });
  wafv2.on(WAFV2.UpdateIPSetCommand).resolves({ NextLockToken: 'lock-2' });

  rds.on(RDS.DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => ({
    DBInstances: [
      {
        DBInstanceIdentifier: input.DBInstanceIdentifier,
        DBInstanceStatus: 'available',
        Engine: 'postgres',
        DBSubnetGroup: { VpcId: VPC_ID },
        VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0123456789abcdef0', Status: 'active' }],
        PubliclyAccessible: true,
      },
    ],
  }));
  rds.on(RDS.DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(RDS.DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  rds.on(RDS.CreateDBSnapshotCommand).resolves({});
  rds.on(RDS.CreateDBClusterSnapshotCommand).resolves({});
  rds.on(RDS.ModifyDBInstanceCommand).resolves({});
  let objectCopied = false;
  s3.on(S3.HeadObjectCommand).callsFake((input: { Bucket: string }) => {
    if (input.Bucket === QUARANTINE_BUCKET && !objectCopied)
      throw Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    return { ETag: '"0cc175b9c0f1b6a831c399e269772661"', ContentLength: 1 };
  });
  s3.on(S3.CopyObjectCommand).callsFake(() => {
    objectCopied = true;
    return {};
  });
  s3.on(S3.GetObjectTaggingCommand).resolves({ TagSet: [] });
  s3.on(S3.PutObjectTaggingCommand).resolves({});
  s3.on(S3.GetBucketOwnershipControlsCommand).resolves({
    OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
  });
  s3.on(S3.GetObjectAclCommand).resolves({
    Owner: { ID: 'a1b2c3' },
    Grants: [
      { Grantee: { Type: 'CanonicalUser', ID: 'a1b2c3' }, Permission: 'FULL_CONTROL' },
      {
        Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
        Permission: 'READ',
      },
    ],
  });
  s3.on(S3.PutObjectAclCommand).resolves({});
  s3.on(S3.DeleteObjectCommand).resolves({});
  s3.on(S3.GetPublicAccessBlockCommand).resolves({
    PublicAccessBlockConfiguration: { BlockPublicAcls: false },
  });
  s3.on(S3.PutPublicAccessBlockCommand).resolves({});
  s3.on(S3.GetBucketTaggingCommand).resolves({ TagSet: [] });
  s3.on(S3.PutBucketTaggingCommand).resolves({});
  cloudtrail.on(CloudTrail.GetTrailStatusCommand).resolves({ IsLogging: false });
  cloudtrail.on(CloudTrail.StartLoggingCommand).resolves({});
  sns.on(SNS.PublishCommand).resolves({ MessageId: 'message-1' });
  guardduty.on(GuardDuty.GetFindingsCommand).resolves({
    Findings: [{ Id: finding.id, Service: { Archived: false } } as never],
  });
  guardduty.on(GuardDuty.ArchiveFindingsCommand).resolves({});
  securityhub.on(SecurityHub.GetFindingsCommand).resolves({
    Findings: [
      {
        Id: finding.arn,
        ProductArn: `arn:aws:securityhub:${finding.region}::product/aws/guardduty`,
        Workflow: { Status: 'NEW' },
      } as never,
    ],
  });
  securityhub
    .on(SecurityHub.BatchUpdateFindingsCommand)
    .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
  eks.on(EKS.DescribeClusterCommand).resolves({
    cluster: {
      name: CLUSTER,
      endpoint: kube.url,
      certificateAuthority: { data: kube.ca },
      resourcesVpcConfig: {
        endpointPublicAccess: true,
        endpointPrivateAccess: true,
        publicAccessCidrs: ['0.0.0.0/0'],
      },
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    },
  });
  eks.on(EKS.UpdateClusterConfigCommand).resolves({ update: { id: 'update-1' } });
  eks
    .on(EKS.DescribeAccessEntryCommand)
    .resolves({ accessEntry: { principalArn: DEPLOYER_ROLE_ARN, type: 'STANDARD' } });
  eks.on(EKS.ListAssociatedAccessPoliciesCommand).resolves({
    associatedAccessPolicies: [
      {
        policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
        accessScope: { type: 'cluster' },
      },
    ],
  });
  eks.on(EKS.DisassociateAccessPolicyCommand).resolves({});
  eks.on(EKS.DeleteAccessEntryCommand).resolves({});
  kube.policies.clear();
  sts.on(STS.GetCallerIdentityCommand).resolves({
    Account: ACCOUNT,
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-responder/riposte`,
  });
  // A function with reserved concurrency, a public URL and a public statement; a running ECS task.
  lambda.on(Lambda.GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 10 });
  lambda.on(Lambda.PutFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 0 });
  lambda.on(Lambda.GetFunctionUrlConfigCommand).resolves({ AuthType: 'NONE' });
  lambda.on(Lambda.DeleteFunctionUrlConfigCommand).resolves({});
  lambda.on(Lambda.GetPolicyCommand).resolves({
    Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'public', Effect: 'Allow', Principal: '*', Action: 'lambda:InvokeFunction' }],
    }),
  });
  lambda.on(Lambda.RemovePermissionCommand).resolves({});
  ecs.on(ECS.DescribeTasksCommand).callsFake((input: { tasks?: string[] }) => ({
    tasks: (input.tasks ?? []).map((taskArn) => ({
      taskArn,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
    })),
  }));
  ecs.on(ECS.TagResourceCommand).resolves({});
  ecs.on(ECS.StopTaskCommand).resolves({});
};

/** The sample whose key is labelled `IAMUser`, without the instance profile: the role is looked up from EC2. */
const credentialSourceOnly = (): Finding => {
  const finding = instanceCredentialExfiltrationAsSampled();
  return {
    ...finding,
    resources: finding.resources.map((resource) => {
      if (resource.kind !== 'instance') return resource;
      const { instanceProfile: _profile, ...instance } = resource;
      return instance;
    }),
  };
};

/** The findings and params each action is exercised with: together they reach every call it can make. */
const SCENARIOS: Readonly<Record<string, readonly { finding: () => Finding; params?: object }[]>> = {
  'snapshot-volumes': [{ finding: commandAndControl }],
  'tag-resource': [
    { finding: commandAndControl },
    { finding: s3Exfiltration },
    { finding: maliciousIpCaller },
    { finding: () => torIpCallerAssumedRole() },
  ],
  'detach-instance-profile': [
    { finding: commandAndControl },
    { finding: commandAndControl, params: { quarantineProfile: QUARANTINE, quarantineRole: QUARANTINE } },
  ],
  'isolate-instance': [{ finding: commandAndControl }],
  'block-s3-public-access': [{ finding: bucketBlockPublicAccessDisabled }],
  'restrict-eks-endpoint': [
    { finding: () => execInPod() },
    { finding: () => execInPod(), params: { publicAccessCidrs: ['203.0.113.0/24'] } },
  ],
  'isolate-eks-pod': [{ finding: () => execInPod(), params: { confirm: true } }],
  'revoke-eks-access-entry': [
    { finding: () => torIpCaller() },
    { finding: () => torIpCaller(), params: { mode: 'delete-entry' } },
    { finding: () => torIpCaller('arn:aws:iam::973743533182:user/ci-bot') },
  ],
  'quarantine-lambda-function': [{ finding: () => lambdaCommandAndControl() }],
  'stop-ecs-task': [{ finding: ecsBitcoinTool }],
  'restart-cloudtrail-logging': [{ finding: cloudTrailLoggingDisabled }],
  'revoke-role-sessions': [
    { finding: instanceCredentialExfiltration, params: { scope: 'instance' } },
    { finding: instanceCredentialExfiltration, params: { scope: 'role' } },
    { finding: credentialSourceOnly },
    { finding: () => torIpCallerAssumedRole() },
  ],
  'deactivate-access-key': [{ finding: maliciousIpCaller }],
  'snapshot-rds': [
    { finding: () => rdsSuccessfulLogin() },
    { finding: () => rdsSuccessfulLogin({ cluster: true }) },
  ],
  'isolate-rds-instance': [{ finding: () => rdsSuccessfulLogin() }],
  'tag-s3-object': [{ finding: () => maliciousObject({ versionId: 'L4kqtJlcpXroDTDmpUMLUo' }) }],
  'quarantine-s3-object': [
    { finding: () => maliciousObject(), params: { quarantineBucket: QUARANTINE_BUCKET } },
    { finding: () => maliciousObject(), params: { quarantineBucket: QUARANTINE_BUCKET, original: 'delete' } },
  ],
  'revoke-user-sessions': [{ finding: maliciousIpCaller }],
  'quarantine-user': [{ finding: maliciousIpCaller }],
  'block-actor-ip': [
    { finding: commandAndControl, params: { via: 'nacl' } },
    { finding: commandAndControl, params: { via: 'waf', ipSetName: 'riposte-blocked', ipSetId: IP_SET_ID } },
  ],
  notify: [
    { finding: commandAndControl, params: { topicArn: `arn:aws:sns:us-east-2:${ACCOUNT}:security-alerts` } },
  ],
  'update-securityhub-finding': [{ finding: commandAndControl }],
  'archive-guardduty-finding': [{ finding: commandAndControl }],
};

type Action = (typeof builtinActions)[number];

/** Every call the action's lookups and outcomes record over its scenarios, one per target. */
const recordedCalls = async (action: Action): Promise<{ calls: AwsCall[]; statuses: string[] }> => {
  const calls: AwsCall[] = [];
  const statuses: string[] = [];
  for (const scenario of SCENARIOS[action.name] ?? []) {
    const finding = scenario.finding();
    const params = scenario.params ?? {};
    for (const target of action.targets(finding, params).targets) {
      world(finding);
      const services = createAwsServices({ env: {} });
      const ctx = contextFor(action, finding, { params, target, services });
      const plan = await action.plan(ctx);
      const outcome = await action.execute(ctx, plan);
      calls.push(...plan.lookups.map((lookup) => lookup.call), ...outcome.calls);
      statuses.push(`${target.label}: ${outcome.status}${outcome.error ? ` ${outcome.error.message}` : ''}`);
    }
  }
  return { calls, statuses };
};

const byName = builtinActions.map((action) => [action.name, action] as const);

beforeEach(() => {
  for (const mock of mocks) mock.reset();
});

describe('built-in permissions (meta)', () => {
  it('exercises every built-in action', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(builtinActions.map((action) => action.name).sort());
  });

  it.each(byName)('%s: every call it records is allowed by one of its permissions', async (_name, action) => {
    const { calls, statuses } = await recordedCalls(action);
    const needed = [...new Set(calls.flatMap((call) => iamActionOf(call) ?? []))];

    expect(statuses.filter((status) => !status.endsWith(': applied'))).toEqual([]);
    expect(calls.length).toBeGreaterThan(0);
    expect(needed.filter((permission) => !action.permissions.includes(permission))).toEqual([]);
  });

  it.each(byName)(
    '%s: every permission it declares is needed by a call it records',
    async (_name, action) => {
      const { calls } = await recordedCalls(action);
      const used = new Set(
        calls
          .flatMap((call) => iamActionOf(call) ?? [])
          .flatMap((permission) => [permission, ...(ALSO_AUTHORISED[permission] ?? [])]),
      );

      expect(action.permissions.filter((permission) => !used.has(permission))).toEqual([]);
    },
  );
});

describe('iamActionOf', () => {
  it('spells the IAM action as IAM does, also where it differs from the operation', () => {
    expect(iamActionOf({ service: 'EC2', operation: 'DescribeInstances' })).toBe('ec2:DescribeInstances');
    expect(iamActionOf({ service: 'S3', operation: 'PutPublicAccessBlock' })).toBe(
      's3:PutBucketPublicAccessBlock',
    );
    expect(iamActionOf({ service: 'CloudTrail', operation: 'StartLogging' })).toBe('cloudtrail:StartLogging');
    expect(iamActionOf({ service: 'Webhook', operation: 'POST' })).toBeUndefined();
  });
});
