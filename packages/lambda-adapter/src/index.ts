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
  HistoryError,
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
export {
  COMPRESS_ABOVE_BYTES,
  createDynamoDbHistory,
  createMemoryHistory,
  createS3HistoryWriter,
  DEFAULT_HISTORY_PREFIX,
  DEFAULT_HISTORY_TTL_DAYS,
  DEFAULT_LIST_LIMIT,
  type Decision,
  type DynamoDbHistoryOptions,
  HISTORY_BY_DAY_INDEX,
  HISTORY_KINDS,
  HISTORY_TABLE_SCHEMA,
  type HistoryDynamoDbLike,
  type HistoryKeyAttribute,
  type HistoryKind,
  type HistoryQuery,
  type HistoryRecord,
  type HistoryS3Like,
  type HistoryStore,
  type HistoryTableSchema,
  type HistoryWriter,
  historyObjectKey,
  type S3HistoryWriterOptions,
  teeHistory,
} from './history/index.js';
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
export { type DecisionOutcome, type DecisionRequest, decideHeld, heldStepsOnly } from './lifecycle/decide.js';
export { type HeldStep, type PendingApproval, pendingApproval, recordOf } from './lifecycle/held.js';
export {
  createLogger,
  createMasker,
  type LogDestination,
  type LoggerOptions,
  maskSecrets,
} from './logger.js';
export {
  createResponseMetrics,
  METRICS_NAMESPACE,
  type MetricsLogger,
  RESPONSE_METRICS,
  type ResponseMetrics,
  type ResponseMetricsOptions,
  timeToFirstContainment,
} from './metrics.js';
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
