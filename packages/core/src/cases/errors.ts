import { ConfigurationError, type ConfigurationIssue, type CoreErrorCode } from '../errors.js';

/** One or more case files are invalid: YAML syntax, shape, duplicate names, or a finding that cannot be read. */
export class CaseValidationError extends ConfigurationError<CoreErrorCode> {
  static override readonly errorName: string = 'CaseValidationError';

  constructor(issues: ConfigurationIssue[], options: { cause?: unknown } = {}) {
    super('CASES_INVALID', `${issues.length} problem(s) in test cases`, issues, options);
  }
}
