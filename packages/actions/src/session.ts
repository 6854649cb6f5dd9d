import type {
  ActionOutcome,
  ActionPlan,
  ActionTarget,
  CallRecord,
  EngineMode,
  ExecutionError,
  Lookup,
  UndoState,
} from '@riposte/core';
import { errorName, isCredentialsError, toExecutionError } from './aws-errors.js';
import { type CallResult, type Mutation, type SdkCall, sendCall } from './call.js';
import type { AwsScope } from './clients.js';
import { ActionExecutionError } from './error-codes.js';
import type { ReadMemo } from './read-memo.js';

/**
 * What a read found. `absent` is an expected "nothing there" error (NoSuchEntity, NoSuchTagSet...);
 * `unknown` happens only while planning without credentials.
 */
export type Read<O> =
  | { status: 'found'; output: O }
  | { status: 'absent'; code: string }
  | { status: 'unknown' };

/** How a read is reported, and which errors mean "nothing there". */
export interface ReadSpec<O> {
  /** The resource the read is about, for `would look up <Operation> <key>`. */
  key: string;
  /** One line on what the read found. */
  found: (output: O) => string;
  /** Error names that mean "nothing there", and what to say then. */
  absent?: { codes: readonly string[]; summary: string };
}

/**
 * The read side shared by plan and execute, so execute re-checks state with exactly the reads
 * planning made. Within a response the reads go through its read memo (read-memo.ts): a read the
 * response already made, and nothing has changed since, is not sent again. Reads may run
 * concurrently; lookups and calls are listed in the order the reads were asked for.
 */
export interface Session {
  /** Sends a read-only call (built by `read(ctx, ...)`) and reports it as `spec` says. */
  read<O>(request: SdkCall<O>, spec: ReadSpec<O>): Promise<Read<O>>;
}

/** Stops a plan or an execution at the first failed call; the runners below turn it into a result. */
class StepFailure extends Error {
  constructor(readonly error: ExecutionError) {
    super(error.message);
  }
}

const isAbsent = <O>(spec: ReadSpec<O>, error: unknown): string | undefined => {
  const name = errorName(error);
  return name !== undefined && spec.absent?.codes.includes(name) ? name : undefined;
};

/** Sends a read, or takes its answer from the memo; an answer or a "nothing there" may be kept. */
const answerOf = <O>(
  memo: ReadMemo | undefined,
  request: SdkCall<O>,
  spec: ReadSpec<O>,
): Promise<{ result: CallResult<O>; reused: boolean }> => {
  const send = () => sendCall(request.call, request.send);
  if (memo === undefined) return send().then((result) => ({ result, reused: false }));
  return memo.read(request, send, (result) => result.ok || isAbsent(spec, result.error) !== undefined);
};

/** A list filled in the order its places were taken, whatever order they are filled in. */
class Ordered<T> {
  private readonly slots: (T | undefined)[] = [];

  /** Takes the next place; the returned function fills it. */
  take(): (item: T) => void {
    const index = this.slots.push(undefined) - 1;
    return (item) => {
      this.slots[index] = item;
    };
  }

  get items(): T[] {
    return this.slots.filter((item): item is T => item !== undefined);
  }
}

/**
 * Planning reads. Without credentials the first read is recorded as `unavailable`, and every later
 * read of the step is too, without being sent: `riposte plan` works offline, and a read that needs an
 * earlier answer is never sent with a placeholder in it.
 */
export class PlanSession implements Session {
  private readonly listed = new Ordered<Lookup>();
  private offline = false;

  constructor(private readonly memo?: ReadMemo) {}

  get lookups(): Lookup[] {
    return this.listed.items;
  }

  async read<O>(request: SdkCall<O>, spec: ReadSpec<O>): Promise<Read<O>> {
    const { call } = request;
    const list = this.listed.take();
    const wouldLookUp = (): Read<O> => {
      list({
        call,
        status: 'unavailable',
        summary: `would look up ${call.operation} ${spec.key}`,
      });
      return { status: 'unknown' };
    };
    if (this.offline) return wouldLookUp();
    const { result } = await answerOf(this.memo, request, spec);
    const { requestId, errorCode } = result.record;
    const ids = {
      ...(requestId === undefined ? {} : { requestId }),
      ...(errorCode === undefined ? {} : { errorCode }),
    };
    if (result.ok) {
      list({ call, status: 'done', summary: spec.found(result.output), ...ids });
      return { status: 'found', output: result.output };
    }
    const absent = isAbsent(spec, result.error);
    if (absent !== undefined) {
      list({ call, status: 'done', summary: spec.absent?.summary ?? absent, ...ids });
      return { status: 'absent', code: absent };
    }
    if (isCredentialsError(result.error)) {
      this.offline = true;
      return wouldLookUp();
    }
    const error = toExecutionError(result.error, call);
    list({ call, status: 'failed', summary: error.message, ...ids });
    throw new StepFailure(error);
  }
}

/**
 * Execution: every call the step sends is recorded (a read the memo answered was sent by planning or
 * another step, and is listed there); the first failure ends the step.
 */
export class ExecSession implements Session {
  private readonly sent = new Ordered<CallRecord>();
  private recorded: UndoState | undefined;

  constructor(
    private readonly mode: EngineMode,
    private readonly memo?: ReadMemo,
  ) {}

  get calls(): CallRecord[] {
    return this.sent.items;
  }

  async read<O>(request: SdkCall<O>, spec: ReadSpec<O>): Promise<Read<O>> {
    const record = this.sent.take();
    const { result, reused } = await answerOf(this.memo, request, spec);
    if (!reused) record(result.record);
    if (result.ok) return { status: 'found', output: result.output };
    const absent = isAbsent(spec, result.error);
    if (absent !== undefined) return { status: 'absent', code: absent };
    throw new StepFailure(toExecutionError(result.error, request.call));
  }

  /** Sends a mutating call; the first failure ends the step. */
  async mutate<O>(mutation: Mutation<O>): Promise<O> {
    const result = await this.attempt(mutation);
    if (!result.ok) throw new StepFailure(result.error);
    return result.output;
  }

  /** Sends a mutating call and hands back a failure instead of ending the step (notify tries every destination). */
  async attempt<O>(
    mutation: Mutation<O>,
  ): Promise<{ ok: true; output: O } | { ok: false; error: ExecutionError }> {
    const { call } = mutation;
    // The engine never executes in dry-run; this keeps a wiring mistake from mutating anything.
    if (this.mode === 'dry-run') {
      return {
        ok: false,
        error: new ActionExecutionError(
          'DRY_RUN_MUTATION',
          `refused ${call.service} ${call.operation}: the engine is in dry-run mode`,
          { details: { service: call.service, operation: call.operation } },
        ),
      };
    }
    const record = this.sent.take();
    this.memo?.forget(mutation);
    const result = await sendCall(call, mutation.send);
    this.memo?.forget(mutation, result.record);
    record(result.record);
    return result.ok ? result : { ok: false, error: toExecutionError(result.error, call) };
  }

  /**
   * Records what the step's inverse needs (merged with what was recorded before). It is reported only
   * if a mutating call of the step then succeeds: a step that changed nothing has nothing to undo.
   */
  recordUndo(state: UndoState): void {
    this.recorded = { ...this.recorded, ...state };
  }

  /** The recorded undo state, when a mutating call succeeded. */
  get undo(): UndoState | undefined {
    const changed = this.calls.some((call) => call.mutating && call.errorCode === undefined);
    return changed ? this.recorded : undefined;
  }

  /** Ends the step as failed. */
  fail(error: ExecutionError): never {
    throw new StepFailure(error);
  }
}

const unexpected = (error: unknown): ExecutionError =>
  error instanceof StepFailure
    ? error.error
    : new ActionExecutionError('ACTION_FAILED', `the action failed unexpectedly: ${String(error)}`, {
        cause: error,
      });

export type PlanDecision = Pick<ActionPlan, 'status' | 'reason' | 'calls'>;
export type ExecuteDecision = {
  status: 'applied' | 'skipped';
  reason?: string;
  outputs?: Record<string, unknown>;
};

/** Runs a plan body; a failed lookup becomes a `failed` plan that still lists its lookups. */
export const planAction = async (
  body: (session: PlanSession) => Promise<PlanDecision>,
  memo?: ReadMemo,
): Promise<ActionPlan> => {
  const session = new PlanSession(memo);
  try {
    const decision = await body(session);
    return { ...decision, lookups: session.lookups };
  } catch (error) {
    return { status: 'failed', lookups: session.lookups, calls: [], error: unexpected(error) };
  }
};

const undoOf = (session: ExecSession): { undo?: UndoState } =>
  session.undo === undefined ? {} : { undo: session.undo };

/** Runs an execute body; a failed call becomes a `failed` outcome that lists every call made. */
export const executeAction = async (
  mode: EngineMode,
  body: (session: ExecSession) => Promise<ExecuteDecision>,
  memo?: ReadMemo,
): Promise<ActionOutcome> => {
  const session = new ExecSession(mode, memo);
  try {
    const decision = await body(session);
    return { ...decision, calls: session.calls, ...undoOf(session) };
  } catch (error) {
    return { status: 'failed', calls: session.calls, error: unexpected(error), ...undoOf(session) };
  }
};

/** Stands in for a value a lookup would have given, in a plan made without credentials. */
export const placeholder = (field: string, operation: string): string => `<${field} from ${operation}>`;

export const scopeOf = (target: ActionTarget): AwsScope => ({
  accountId: target.accountId,
  region: target.region,
});
