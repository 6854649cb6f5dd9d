export {
  type AccountDecision,
  type AccountPolicy,
  createAccountPolicy,
  createMemberCredentials,
  type FindingAccount,
  type FunctionIdentity,
  learnIdentity,
  type MemberCredentials,
  type MemberCredentialsOptions,
  memberRoleArn,
  roleSessionName,
  type StsLike,
} from './accounts.js';
export {
  type Admission,
  type AdmissionGate,
  createAdmission,
  type VerificationSummary,
} from './admission.js';
export { createDynamoDbBreaker, createMemoryBreaker } from './breaker.js';
export { bundledPlaybooks } from './bundled-playbooks.js';
export { type AdapterConfig, LOG_LEVELS, type LogLevel, readConfig } from './config.js';
export {
  AdapterConfigurationError,
  type AdapterErrorCode,
  type ConfigProblem,
  IdempotencyStoreError,
  IdentityError,
  MemberRoleError,
  RetryableFailureError,
  TemplateError,
} from './errors.js';
export {
  classifyInvocation,
  type FindingInput,
  findingUnits,
  type Invocation,
  type Rejection,
} from './events.js';
export { createHandler, handler, type LambdaContext, type RiposteHandler } from './handler.js';
export { createDynamoDbStore, type DynamoDbLike, type DynamoDbStoreOptions } from './idempotency/dynamodb.js';
export {
  type Completion,
  createIdempotencyGuard,
  type GuardClaim,
  type GuardedWork,
  type IdempotencyGuard,
  type IdempotencyGuardOptions,
} from './idempotency/guard.js';
export { createMemoryStore, type MemoryStoreOptions } from './idempotency/memory.js';
export {
  type BeginOutcome,
  type BeginRequest,
  type CompleteRequest,
  findingKey,
  type IdempotencyRecord,
  type IdempotencyStore,
  occurrenceOf,
  type PreviousCompletion,
} from './idempotency/store.js';
export {
  createLogger,
  createMasker,
  type LogDestination,
  type LoggerOptions,
  maskSecrets,
} from './logger.js';
export { loadFunctionPlaybooks } from './playbooks.js';
export {
  type FindingResult,
  type FindingSubject,
  type HandlerResult,
  type InvocationResult,
  type ResultCode,
  type SqsBatchResult,
  type StepResult,
  subjectOf,
} from './result.js';
export { AWS_REQUEST_TIMEOUT_MS, type HandlerOptions, type VerifierServices } from './runtime.js';
