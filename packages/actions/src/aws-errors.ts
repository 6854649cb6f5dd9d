import { type AwsCall, awsErrorName, ExecutionError } from '@riposte/core';
import { ActionExecutionError } from './error-codes.js';

/** The parts of an AWS SDK v3 error Riposte reads: its `name` and `$metadata`, never its message text. */
interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
}

// The error names the SDK itself retries (smithy's service-error-classification), minus
// LimitExceededException: IAM and SNS use it for quotas that waiting does not lift.
const THROTTLING_NAMES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
]);

// Node socket errors surface with a `code`, not an SDK name.
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

const shapeOf = (error: unknown): SdkErrorShape =>
  typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};

/** The SDK error name (`AccessDenied`, `NoSuchEntityException`, ...), when the value is an error. */
export const errorName = (error: unknown): string | undefined => {
  const { name } = shapeOf(error);
  return typeof name === 'string' && name !== '' ? name : undefined;
};

/** What a call record shows as its error code: the SDK error name, or our own error's code. */
export const errorCode = (error: unknown): string =>
  error instanceof ExecutionError ? error.code : (errorName(error) ?? 'UnknownError');

/** The SDK could not find credentials: planning goes on offline instead of failing. */
export const isCredentialsError = (error: unknown): boolean =>
  errorName(error) === 'CredentialsProviderError';

/** Whether running the same call later may succeed: throttling, timeouts, 429 and 5xx. */
export const isRetryable = (error: unknown): boolean => {
  const shape = shapeOf(error);
  const status = shape.$metadata?.httpStatusCode;
  const name = errorName(error) ?? '';
  return (
    shape.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    THROTTLING_NAMES.has(name) ||
    TRANSIENT_NAMES.has(name) ||
    (typeof shape.code === 'string' && NETWORK_CODES.has(shape.code))
  );
};

/**
 * Turns whatever an SDK call threw into an `ExecutionError`: `code` is the SDK error name,
 * `details` carry the HTTP status and request id, `cause` the original error.
 */
export const toExecutionError = (error: unknown, call: AwsCall): ExecutionError => {
  if (error instanceof ExecutionError) return error;
  const shape = shapeOf(error);
  const code = awsErrorName(errorName(error) ?? 'UnknownError');
  const text = typeof shape.message === 'string' && shape.message !== '' ? `: ${shape.message}` : '';
  const details: Record<string, unknown> = { service: call.service, operation: call.operation };
  if (shape.$metadata?.httpStatusCode !== undefined) details.httpStatusCode = shape.$metadata.httpStatusCode;
  if (shape.$metadata?.requestId !== undefined) details.requestId = shape.$metadata.requestId;
  return new ActionExecutionError(code, `${call.service} ${call.operation} failed with ${code}${text}`, {
    retryable: isRetryable(error),
    details,
    cause: error,
  });
};
