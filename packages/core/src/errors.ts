/**
 * Riposte's error tree. Every error carries a stable string `code` that callers may branch on,
 * structured `details`, and the low-level `cause` when there is one.
 *
 * Two families:
 * - configuration errors are thrown at load time (a bad playbook, an unknown action, bad params);
 * - execution errors are recorded per step in the report and never thrown out of the engine.
 *
 * Riposte's own codes are SCREAMING_SNAKE, and each package lists its own as a literal union; a failed
 * AWS call keeps the SDK's error name (`AccessDenied`), marked as such with `awsErrorName`.
 */
export type RiposteCode = Uppercase<string>;

declare const awsErrorNameBrand: unique symbol;
/** An AWS SDK error name, as the SDK spells it: the code of a step whose AWS call failed. */
export type AwsErrorName = string & { readonly [awsErrorNameBrand]: true };
export const awsErrorName = (name: string): AwsErrorName => name as AwsErrorName;

export type ErrorCode = RiposteCode | AwsErrorName;

/** The codes @riposte/core throws or records. */
export type CoreErrorCode =
  | 'FINDING_INVALID'
  | 'PLAYBOOK_INVALID'
  | 'ACTION_INVALID'
  | 'CASES_INVALID'
  | 'ENGINE_CONFIG_INVALID'
  | 'MATCH_CONDITION_FAILED'
  | 'REFUSED'
  | 'ACTION_UNKNOWN'
  | 'ACTION_FAILED'
  | 'PLAN_FAILED'
  | 'EXECUTE_FAILED';
export class RiposteError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code;
  readonly details: Record<string, unknown>;

  constructor(
    code: Code,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The input is not a finding Riposte understands. `path` is a JSON pointer into the input. */
export class FindingFormatError extends RiposteError<CoreErrorCode> {
  readonly path: string;

  constructor(
    message: string,
    path: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super('FINDING_INVALID', path ? `${path}: ${message}` : message, {
      ...options,
      details: { path, ...options.details },
    });
    this.path = path;
  }
}

/** Where a configuration problem sits: a file position (1-based) and the JSON pointer of the node. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  pointer: string;
}

export interface ConfigurationIssue extends SourceLocation {
  message: string;
}

export const formatIssue = (issue: ConfigurationIssue): string =>
  `${issue.file}:${issue.line}:${issue.column} ${issue.pointer || '/'} ${issue.message}`;

/** Base of every load-time error: carries every issue found, not just the first. */
export class ConfigurationError<Code extends RiposteCode = RiposteCode> extends RiposteError<Code> {
  readonly issues: ConfigurationIssue[];

  constructor(code: Code, summary: string, issues: ConfigurationIssue[], options: { cause?: unknown } = {}) {
    super(code, [summary, ...issues.map((issue) => `  ${formatIssue(issue)}`)].join('\n'), {
      details: { issues },
      ...options,
    });
    this.issues = issues;
  }
}

/** One or more playbooks are invalid: YAML syntax, schema, duplicate names, bad patterns or conditions. */
export class PlaybookValidationError extends ConfigurationError<CoreErrorCode> {
  constructor(issues: ConfigurationIssue[], options: { cause?: unknown } = {}) {
    super('PLAYBOOK_INVALID', `${issues.length} problem(s) in playbooks`, issues, options);
  }
}

/** A playbook names an action the registry does not hold, or gives it params its schema refuses. */
export class ActionConfigurationError extends ConfigurationError<CoreErrorCode> {
  constructor(issues: ConfigurationIssue[], options: { cause?: unknown } = {}) {
    super('ACTION_INVALID', `${issues.length} problem(s) in playbook actions`, issues, options);
  }
}

/** A registry or engine option is wrong (duplicate action name, bad engine option). */
export class EngineConfigurationError extends RiposteError<CoreErrorCode> {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ENGINE_CONFIG_INVALID', message, { details });
  }
}

/**
 * A playbook's conditions could not be evaluated for a finding (a JSONPath that throws on it).
 * `details` names the playbook, its location and the finding; the JSONPath error is the `cause`.
 */
export class ConditionEvaluationError extends RiposteError<CoreErrorCode> {
  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super('MATCH_CONDITION_FAILED', message, options);
  }
}

/**
 * A step failed while planning or executing. Recorded in the report, never thrown out of the engine.
 * `retryable` says whether running the same step again later may succeed (throttling, 5xx, timeouts).
 */
export class ExecutionError<Code extends ErrorCode = ErrorCode> extends RiposteError<Code> {
  readonly retryable: boolean;

  constructor(
    code: Code,
    message: string,
    options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.retryable = options.retryable ?? false;
  }
}

export const isRiposteError = (value: unknown): value is RiposteError => value instanceof RiposteError;
