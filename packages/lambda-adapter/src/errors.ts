import { RiposteError } from '@riposte/core';

/** The codes @riposte/lambda-adapter throws (its per-finding result codes are `ResultCode`). */
export type AdapterErrorCode =
  | 'LAMBDA_CONFIG_INVALID'
  | 'RETRYABLE_FAILURE'
  | 'IDEMPOTENCY_STORE_FAILED'
  | 'TEMPLATE_INVALID'
  | 'ASSUME_ROLE_FAILED'
  | 'IDENTITY_UNKNOWN'
  | 'HISTORY_INVALID'
  | 'HISTORY_UNAVAILABLE';

/** One environment variable the function cannot start with, and why. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

/**
 * The function's environment is wrong (an unknown mode, a malformed role name or topic ARN). Thrown at
 * initialisation: the function refuses every event rather than run half-configured.
 */
export class AdapterConfigurationError extends RiposteError<AdapterErrorCode> {
  static override readonly errorName: string = 'AdapterConfigurationError';

  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(
      'LAMBDA_CONFIG_INVALID',
      [
        `${problems.length} problem(s) in the function's environment`,
        ...problems.map(({ variable, message }) => `  ${variable}: ${message}`),
      ].join('\n'),
      { details: { problems } },
    );
    this.problems = problems;
  }
}

/**
 * Some step failed with an error worth retrying (throttling, 5xx, timeout). Thrown out of the handler
 * on purpose so Lambda retries the event and its on-failure destination catches what is left.
 */
export class RetryableFailureError extends RiposteError<AdapterErrorCode> {
  static override readonly errorName: string = 'RetryableFailureError';

  constructor(message: string, details: Record<string, unknown>) {
    super('RETRYABLE_FAILURE', message, { details });
  }
}

/** The idempotency store could not be read or written; the finding is not handled this time. */
export class IdempotencyStoreError extends RiposteError<AdapterErrorCode> {
  static override readonly errorName: string = 'IdempotencyStoreError';

  readonly retryable: boolean;

  constructor(
    message: string,
    options: { retryable: boolean; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super('IDEMPOTENCY_STORE_FAILED', message, options);
    this.retryable = options.retryable;
  }
}

/** The playbooks cannot be turned into a deployable template (e.g. none is enabled). */
export class TemplateError extends RiposteError<AdapterErrorCode> {
  static override readonly errorName: string = 'TemplateError';

  constructor(message: string, details: Record<string, unknown> = {}) {
    super('TEMPLATE_INVALID', message, { details });
  }
}

/** The member role could not be assumed in the finding's account; nothing was planned there. */
export class MemberRoleError extends RiposteError<AdapterErrorCode> {
  static override readonly errorName: string = 'MemberRoleError';

  readonly retryable: boolean;

  constructor(
    message: string,
    options: { retryable: boolean; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super('ASSUME_ROLE_FAILED', message, options);
    this.retryable = options.retryable;
  }
}

/** STS could not say who the function is; it does not start rather than guess its own account. */
export class IdentityError extends RiposteError<AdapterErrorCode> {
  static override readonly errorName: string = 'IdentityError';

  constructor(message: string, cause?: unknown) {
    super('IDENTITY_UNKNOWN', message, cause === undefined ? {} : { cause });
  }
}

/**
 * The response history could not be used:
 * - `HISTORY_INVALID`: what was read back is not a history record (altered or foreign items, a
 *   report that does not parse), or a record cannot be stored (its `at` is not an ISO 8601 UTC time,
 *   its report is too large even compressed);
 * - `HISTORY_UNAVAILABLE`: the table or the bucket could not be read or written (`retryable` when
 *   the service error may go away: throttling, 5xx, network).
 *
 * `recorded` is true when only the S3 copy failed: DynamoDB, the record of truth, holds the record.
 */
export class HistoryError extends RiposteError<AdapterErrorCode> {
  static override readonly errorName: string = 'HistoryError';

  readonly retryable: boolean;
  readonly recorded: boolean;

  constructor(
    code: Extract<AdapterErrorCode, 'HISTORY_INVALID' | 'HISTORY_UNAVAILABLE'>,
    message: string,
    options: {
      retryable?: boolean;
      recorded?: boolean;
      cause?: unknown;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(code, message, {
      details: options.details ?? {},
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.retryable = options.retryable ?? false;
    this.recorded = options.recorded ?? false;
  }
}
