import { ConfigurationError, type ConfigurationIssue, RiposteError } from '@riposte/core';

/** The codes @riposte/cdk throws. */
export type CdkErrorCode = 'RESPONDER_PROPS_INVALID' | 'RESPONDER_BUILD_FAILED';

/** The construct's props contradict each other or name nothing usable. */
export class ResponderPropsError extends RiposteError<CdkErrorCode> {
  static override readonly errorName: string = 'ResponderPropsError';

  constructor(message: string, details: Record<string, unknown> = {}) {
    super('RESPONDER_PROPS_INVALID', message, { details });
  }
}

/**
 * `riposte build` or `riposte template` failed: an invalid playbook or configuration (each problem
 * in `issues`, with its file, line and column), a custom action that does not bundle, or a build the
 * template refuses. The CLI's own words are in `details.stderr`.
 */
export class ResponderBuildError extends ConfigurationError<CdkErrorCode> {
  static override readonly errorName: string = 'ResponderBuildError';

  constructor(
    command: string,
    result: { exitCode: number | null; stderr: string },
    issues: ConfigurationIssue[],
    options: { cause?: unknown } = {},
  ) {
    const said = result.stderr.trim();
    // With issues, the message lists them (file:line:column); without, it says what the CLI said.
    const detail = issues.length > 0 ? `: ${issues.length} problem(s)` : said ? `:\n${said}` : '';
    const summary = `riposte ${command} failed (exit ${result.exitCode ?? 'by signal'})${detail}`;
    super('RESPONDER_BUILD_FAILED', summary, issues, options);
    Object.assign(this.details, { command, exitCode: result.exitCode, stderr: result.stderr });
  }
}
