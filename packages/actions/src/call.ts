import type { AwsCall, CallRecord } from '@riposte/core';
import { errorCode } from './aws-errors.js';

export type CallResult<O> =
  | { ok: true; output: O; record: CallRecord }
  | { ok: false; error: unknown; record: CallRecord };

const requestIdOf = (value: unknown): string | undefined => {
  const metadata = (value as { $metadata?: { requestId?: unknown } } | null | undefined)?.$metadata;
  return typeof metadata?.requestId === 'string' ? metadata.requestId : undefined;
};

/** One AWS call, as an action describes it before sending. `input` is the SDK command input. */
export const awsCall = (service: string, operation: string, input: object, mutating = false): AwsCall => ({
  service,
  operation,
  input: input as Record<string, unknown>,
  mutating,
});

/**
 * A mutating call and the function that sends exactly that input: plan lists `call`, execute runs
 * `send`, so what a dry run shows is what an enforced run does.
 */
export interface Mutation<O = unknown> {
  call: AwsCall;
  send: () => Promise<O>;
}

export const mutation = <O>(
  service: string,
  operation: string,
  input: object,
  send: () => Promise<O>,
): Mutation<O> => ({
  call: awsCall(service, operation, input, true),
  send,
});

/**
 * Sends one call and records it: every AWS call an action makes goes through here, so the report
 * lists each one with its request id, error code and duration. The input is copied at send time.
 * `call.input` must already be safe to show (no credentials, webhook URLs masked).
 */
export const sendCall = async <O>(call: AwsCall, send: () => Promise<O>): Promise<CallResult<O>> => {
  const input = structuredClone(call.input);
  const started = performance.now();
  const finish = (outcome: { requestId?: string; errorCode?: string }): CallRecord => ({
    service: call.service,
    operation: call.operation,
    input,
    mutating: call.mutating,
    ...outcome,
    durationMs: Math.round(performance.now() - started),
  });
  try {
    const output = await send();
    const requestId = requestIdOf(output);
    return { ok: true, output, record: finish(requestId === undefined ? {} : { requestId }) };
  } catch (error) {
    const requestId = requestIdOf(error);
    return {
      ok: false,
      error,
      record: finish({
        ...(requestId === undefined ? {} : { requestId }),
        errorCode: errorCode(error),
      }),
    };
  }
};
