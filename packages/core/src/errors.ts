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
/**
 * Riposte's errors: a stable `code` for tools, `details` for logs. Every subclass Riposte ships
 * declares its name in a static `errorName`: the Lambda bundle is minified, which renames classes, and
 * the name is what Lambda reports as an error's `errorType`. A subclass without its own (a custom
 * action's) is named after its class.
 */
export class RiposteError<Code extends ErrorCode = ErrorCode> extends Error {
  static readonly errorName: string = 'RiposteError';

  readonly code: Code;
  readonly details: Record<string, unknown>;

  constructor(
    code: Code,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = Object.hasOwn(new.target, 'errorName') ? new.target.errorName : new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The input is not a finding Riposte understands. `path` is a JSON pointer into the input. */
export class FindingFormatError extends RiposteError<CoreErrorCode> {
  static override readonly errorName: string = 'FindingFormatError';

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
  /**
   * What kind of problem this is, stable for tools (`riposte validate --json`): for playbooks, one of
   * `PlaybookIssueCode`. Without one, the code of the error that carries the issue stands for it.
   */
  code?: RiposteCode;
  /** For a name Riposte does not know (a key, an action, a finding type): what was likely meant, nearest first. */
  suggestions?: string[];
}

/** The kinds of problem the playbook loader reports. */
export type PlaybookIssueCode =
  | 'FILE_UNREADABLE'
  | 'YAML_INVALID'
  | 'KEY_UNKNOWN'
  | 'KEY_MISSING'
  | 'KEY_INVALID'
  | 'VALUE_INVALID'
  | 'PLAYBOOK_NAME_DUPLICATE'
  | 'TYPE_PATTERN_INVALID'
  | 'FINDING_TYPE_UNKNOWN'
  | 'TACTIC_UNKNOWN'
  | 'SEVERITY_RANGE_INVALID'
  | 'CONDITION_INVALID'
  | 'STEP_ID_DUPLICATE'
  | 'STEP_UNKNOWN'
  | 'STEP_CYCLE'
  | 'ACTION_UNKNOWN'
  | 'ACTION_PARAMS_INVALID';

export const formatIssue = (issue: ConfigurationIssue): string =>
  `${issue.file}:${issue.line}:${issue.column} ${issue.pointer || '/'} ${issue.message}`;

/** Base of every load-time error: carries every issue found, not just the first. */
export class ConfigurationError<Code extends RiposteCode = RiposteCode> extends RiposteError<Code> {
  static override readonly errorName: string = 'ConfigurationError';

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
  static override readonly errorName: string = 'PlaybookValidationError';

  constructor(issues: ConfigurationIssue[], options: { cause?: unknown } = {}) {
    super('PLAYBOOK_INVALID', `${issues.length} problem(s) in playbooks`, issues, options);
  }
}

/** A playbook names an action the registry does not hold, or gives it params its schema refuses. */
export class ActionConfigurationError extends ConfigurationError<CoreErrorCode> {
  static override readonly errorName: string = 'ActionConfigurationError';

  constructor(issues: ConfigurationIssue[], options: { cause?: unknown } = {}) {
    super('ACTION_INVALID', `${issues.length} problem(s) in playbook actions`, issues, options);
  }
}

/** A registry or engine option is wrong (duplicate action name, bad engine option). */
export class EngineConfigurationError extends RiposteError<CoreErrorCode> {
  static override readonly errorName: string = 'EngineConfigurationError';

  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ENGINE_CONFIG_INVALID', message, { details });
  }
}

/**
 * A playbook's conditions could not be evaluated for a finding (a JSONPath that throws on it).
 * `details` names the playbook, its location and the finding; the JSONPath error is the `cause`.
 */
export class ConditionEvaluationError extends RiposteError<CoreErrorCode> {
  static override readonly errorName: string = 'ConditionEvaluationError';

  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super('MATCH_CONDITION_FAILED', message, options);
  }
}

/**
 * A step failed while planning or executing. Recorded in the report, never thrown out of the engine.
 * `retryable` says whether running the same step again later may succeed (throttling, 5xx, timeouts).
 */
export class ExecutionError<Code extends ErrorCode = ErrorCode> extends RiposteError<Code> {
  static override readonly errorName: string = 'ExecutionError';

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
