export { archiveGuardDutyFinding } from './actions/archive-guardduty-finding.js';
export { blockS3PublicAccess } from './actions/block-s3-public-access.js';
export { deactivateAccessKey } from './actions/deactivate-access-key.js';
export { detachInstanceProfile } from './actions/detach-instance-profile.js';
export { isolateInstance } from './actions/isolate-instance.js';
export { notify, oneLine, quoted } from './actions/notify.js';
export { restartCloudTrailLogging } from './actions/restart-cloudtrail-logging.js';
export { revokeRoleSessions } from './actions/revoke-role-sessions.js';
export { snapshotVolumes } from './actions/snapshot-volumes.js';
export { tagResource } from './actions/tag-resource.js';
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
export { createRegistry, type MutableActionRegistry } from './registry.js';
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
