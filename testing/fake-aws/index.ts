export { AwsFault, FakeAwsError } from './errors.js';
export type { FakeService, FaultKind, FaultRule } from './faults.js';
export { roundsOf } from './rounds.js';
export { holdFindings, SCENARIO, scenarioSeed } from './scenario.js';
export {
  FAKE_CREDENTIALS,
  type FakeAws,
  type LatencyFilter,
  MUTATING_OPERATIONS,
  type RecordedCall,
  type StartFakeAwsOptions,
  startFakeAws,
} from './server.js';
export type { EcsTaskSeed, FakeEcsTask } from './services/ecs.js';
export type { FakeLambdaFunction, LambdaFunctionSeed } from './services/lambda.js';
export type {
  FakeNetworkAcl,
  FakeNetworkAclEntry,
  NetworkAclEntrySeed,
  NetworkAclSeed,
} from './services/network-acls.js';
export type {
  FakeDbSnapshot,
  FakeRds,
  FakeRdsCluster,
  FakeRdsInstance,
  RdsClusterSeed,
  RdsInstanceSeed,
} from './services/rds.js';
export type {
  CannedAcl,
  FakeGrant,
  FakeObjectVersion,
  FakeS3Objects,
  S3ObjectSeed,
} from './services/s3-objects.js';
export type { FakeWafIpSet, WafIpSetSeed, WafScope } from './services/wafv2.js';
export type { AccountSnapshot } from './snapshot.js';
export type {
  AssociationState,
  AssumedRoleSession,
  BucketSeed,
  FakeAccessKey,
  FakeAccountSeed,
  FakeAccountState,
  FakeAssociation,
  FakeBucket,
  FakeInstance,
  FakeInstanceProfile,
  FakeNetworkInterface,
  FakeOrganization,
  FakeOrganizationAccount,
  FakeRole,
  FakeSecurityGroup,
  FakeSecurityGroupRule,
  FakeSecurityHub,
  FakeSecurityHubWorkflow,
  FakeSnapshot,
  FakeTopic,
  FakeTrail,
  FakeUser,
  FakeVolume,
  FindingSeed,
  GuardDutyFinding,
  InstanceProfileSeed,
  InstanceSeed,
  OrganizationSeed,
  PublicAccessBlock,
  PublishedMessage,
  RoleSeed,
  RuleSeed,
  SecurityGroupSeed,
  SecurityHubFindingSeed,
  SecurityHubNote,
  SecurityHubSeed,
  SecurityHubWorkflowStatus,
  SnapshotSeed,
  TrailSeed,
  UserSeed,
  WebhookPost,
} from './state.js';
export { putFinding } from './state.js';
