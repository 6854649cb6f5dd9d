export { archiveGuardDutyFinding } from './actions/archive-guardduty-finding.js';
export { blockActorIp } from './actions/block-actor-ip.js';
export { blockS3PublicAccess } from './actions/block-s3-public-access.js';
export { deactivateAccessKey } from './actions/deactivate-access-key.js';
export { detachInstanceProfile } from './actions/detach-instance-profile.js';
export { isolateEksPod } from './actions/isolate-eks-pod.js';
export { isolateInstance } from './actions/isolate-instance.js';
export { isolateRdsInstance } from './actions/isolate-rds-instance.js';
export { lockUserSql, notify, oneLine, quoted } from './actions/notify.js';
export { quarantineLambdaFunction } from './actions/quarantine-lambda-function.js';
export { quarantineS3Object } from './actions/quarantine-s3-object.js';
export { quarantineUser } from './actions/quarantine-user.js';
export { restartCloudTrailLogging } from './actions/restart-cloudtrail-logging.js';
export { restrictEksEndpoint } from './actions/restrict-eks-endpoint.js';
export { revokeEksAccessEntry } from './actions/revoke-eks-access-entry.js';
export { revokeRoleSessions } from './actions/revoke-role-sessions.js';
export { revokeUserSessions } from './actions/revoke-user-sessions.js';
export { snapshotRds } from './actions/snapshot-rds.js';
export { snapshotVolumes } from './actions/snapshot-volumes.js';
export { stopEcsTask } from './actions/stop-ecs-task.js';
export { tagResource } from './actions/tag-resource.js';
export { tagS3Object } from './actions/tag-s3-object.js';
export { updateSecurityHubFinding } from './actions/update-securityhub-finding.js';
export { errorName, isCredentialsError, isRetryable, toExecutionError } from './aws-errors.js';
export { builtinActions } from './builtin.js';
export {
  awsCall,
  type CallContext,
  type CallOptions,
  type CallResult,
  type InputOf,
  type Mutation,
  mutation,
  type OperationOf,
  type OutputOf,
  read,
  type SdkCall,
  type SdkService,
  sendCall,
} from './call.js';
export {
  type AwsClientClasses,
  type AwsClientConfig,
  type AwsCredentials,
  type AwsCredentialsProvider,
  type AwsScope,
  type AwsServices,
  type AwsServicesOptions,
  createAwsServices,
  type PrincipalProtection,
} from './clients.js';
export { renderActionTable } from './docs.js';
export { type ActionErrorCode, ActionExecutionError, type StepErrorCode } from './error-codes.js';
export {
  checkPrincipal,
  globMatch,
  invalidPrincipalName,
  PRINCIPAL_PROTECTED,
  PROTECTED_TAG,
  PROTECTION_UNVERIFIED,
  type Principal,
  type PrincipalKind,
  type ProtectionCheck,
} from './protection.js';
export { type MemoAnswer, READ_MEMO_TTL_MS, ReadMemo, readMemoOf } from './read-memo.js';
export { createRegistry, type MutableActionRegistry } from './registry.js';
export { schemaFingerprint } from './schema-fingerprint.js';
export {
  ExecSession,
  type ExecuteDecision,
  executeAction,
  type PlanDecision,
  PlanSession,
  placeholder,
  planAction,
  type Read,
  type ReadSpec,
  type Session,
  scopeOf,
} from './session.js';
export {
  executeInspected,
  executeWith,
  type Inspection,
  type NoOp,
  noOp,
  planned,
  planWith,
  type Refusal,
  refused,
  type Step,
} from './step.js';
export { FINDING_ID_TAG, FINDING_TYPE_TAG, TAGGED_AT_TAG } from './tags.js';
export { refusal, resolved, targetOf } from './targets.js';
export {
  createGuardDutyVerifier,
  disagreement,
  type FindingVerifier,
  type GuardDutyVerifierOptions,
  type Verification,
  type VerificationRoute,
  wireShape,
} from './verify.js';
