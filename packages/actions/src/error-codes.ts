import { type AwsErrorName, type CoreErrorCode, ExecutionError } from '@riposte/core';

/** The codes the built-in actions record on a step, besides core's and the SDK's error names. */
export type ActionErrorCode =
  | 'BLAST_RADIUS_EXCEEDED'
  | 'PRINCIPAL_PROTECTED'
  | 'PROTECTION_UNVERIFIED'
  | 'DRY_RUN_MUTATION'
  | 'WEBHOOK_UNREACHABLE'
  | 'WEBHOOK_REJECTED';

export type StepErrorCode = ActionErrorCode | CoreErrorCode | AwsErrorName;

/** A step's error as the built-in actions record it: only a code listed above, or an SDK error name. */
export class ActionExecutionError extends ExecutionError<StepErrorCode> {
  static override readonly errorName: string = 'ActionExecutionError';
}
