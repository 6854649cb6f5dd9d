import type {
  ActionContext,
  ActionOutcome,
  ActionPlan,
  ExecutionError,
  InverseContext,
  UndoState,
} from '@riposte/core';
import type { Mutation } from './call.js';
import type { AwsServices } from './clients.js';
import { readMemoOf } from './read-memo.js';
import {
  type ExecSession,
  type ExecuteDecision,
  executeAction,
  planAction,
  type Session,
} from './session.js';
import { refusal } from './targets.js';

/**
 * What inspecting a target found, shared by plan and execute:
 * - `planned`: there is work to do, and `state` holds what the mutations are built from;
 * - `no-op`: nothing to do (already in the desired state, or gone): plan says so, execute skips;
 * - `refused`: the action will not act on this target: plan says why, execute fails with `error`.
 */
export type Inspection<T> = { status: 'planned'; state: T } | NoOp | Refusal;

export type NoOp = { status: 'no-op'; reason: string };

export type Refusal = { status: 'refused'; reason: string; error: ExecutionError };

export const planned = <T>(state: T): Inspection<T> => ({ status: 'planned', state });

export const noOp = (reason: string): NoOp => ({ status: 'no-op', reason });

/** A refusal; its error is `REFUSED` unless a more precise one is given (`PRINCIPAL_PROTECTED`, ...). */
export const refused = (reason: string, error: ExecutionError = refusal(reason)): Refusal => ({
  status: 'refused',
  reason,
  error,
});

type Context<P> = ActionContext<P, AwsServices>;

/**
 * The two parts every built-in action is made of. `inspect` validates the target and reads what the
 * action needs (read-only, with the session's reads, so execute re-checks exactly what planning read);
 * `mutations` turns what it found into the mutating calls, in order. `outputs` is what execute
 * reports once they ran, from the state and their answers.
 */
export interface Step<P, T, O = unknown> {
  inspect(ctx: Context<P>, session: Session): Promise<Inspection<T>>;
  mutations(ctx: Context<P>, state: T): Mutation<O>[];
  outputs?(ctx: Context<P>, state: T, results: O[]): Record<string, unknown>;
  /**
   * What the inverse needs to put the target back, from the state as inspected before any mutation
   * (so it is recorded even when a later mutation fails).
   */
  undo?(ctx: Context<P>, state: T): UndoState;
}

/** `plan()` of an action made of `step`: the inspection, then the calls its mutations would make. */
export const planWith =
  <P, T, O>(step: Pick<Step<P, T, O>, 'inspect' | 'mutations'>) =>
  (ctx: Context<P>): Promise<ActionPlan> =>
    planAction(async (session) => {
      const inspection = await step.inspect(ctx, session);
      if (inspection.status !== 'planned') {
        return { status: inspection.status, reason: inspection.reason, calls: [] };
      }
      return { status: 'planned', calls: step.mutations(ctx, inspection.state).map((item) => item.call) };
    }, readMemoOf(ctx));

/**
 * `execute()` of any action made of an inspection: inspects again, fails on a refusal, skips a no-op,
 * else hands what it found to `apply`. Actions whose later calls need an earlier call's answer (a group
 * created, a copy checked) write `apply` themselves; the others use `executeWith`.
 */
export const executeInspected = <P, T>(
  ctx: Context<P>,
  inspect: Step<P, T>['inspect'],
  apply: (session: ExecSession, state: T) => Promise<ExecuteDecision>,
): Promise<ActionOutcome> =>
  executeAction(
    ctx.mode,
    async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status === 'refused') return session.fail(inspection.error);
      if (inspection.status === 'no-op') return { status: 'skipped', reason: inspection.reason };
      return apply(session, inspection.state);
    },
    readMemoOf(ctx),
  );

/** `execute()` of a single-shot action: sends each mutation in order and stops at the first that fails. */
export const executeWith =
  <P, T, O>(step: Step<P, T, O>) =>
  (ctx: Context<P>): Promise<ActionOutcome> =>
    executeInspected(
      ctx,
      (c, session) => step.inspect(c, session),
      async (session, state) => {
        if (step.undo !== undefined) session.recordUndo(step.undo(ctx, state));
        const results: O[] = [];
        for (const item of step.mutations(ctx, state)) results.push(await session.mutate(item));
        return {
          status: 'applied',
          ...(step.outputs === undefined ? {} : { outputs: step.outputs(ctx, state, results) }),
        };
      },
    );

type InverseOf<U> = InverseContext<U, AwsServices>;

/**
 * An inverse made of the same two parts as an action: `inspect` reads the target as it is now and
 * decides whether it still needs restoring (`no-op` when it is already as recorded), `mutations` are
 * the calls that restore it.
 */
export interface InverseStep<U, T> {
  inspect(ctx: InverseOf<U>, session: Session): Promise<Inspection<T>>;
  mutations(ctx: InverseOf<U>, state: T): Mutation[];
  /** What is left as it is (changed by someone since), for the reason of a partial restore. */
  left?(state: T): string | undefined;
}

/** `plan()` and `execute()` of an inverse made of `step`, as `planWith` and `executeWith` are for actions. */
export const inverseWith = <U, T>(step: InverseStep<U, T>) => {
  const leftOf = (state: T): { reason?: string } => {
    const reason = step.left?.(state);
    return reason === undefined ? {} : { reason };
  };
  return {
    plan: (ctx: InverseOf<U>): Promise<ActionPlan> =>
      planAction(async (session) => {
        const inspection = await step.inspect(ctx, session);
        if (inspection.status !== 'planned') {
          return { status: inspection.status, reason: inspection.reason, calls: [] };
        }
        const { state } = inspection;
        return {
          status: 'planned',
          ...leftOf(state),
          calls: step.mutations(ctx, state).map((item) => item.call),
        };
      }),
    execute: (ctx: InverseOf<U>): Promise<ActionOutcome> =>
      executeAction(ctx.mode, async (session) => {
        const inspection = await step.inspect(ctx, session);
        if (inspection.status === 'refused') return session.fail(inspection.error);
        if (inspection.status === 'no-op') return { status: 'skipped', reason: inspection.reason };
        for (const item of step.mutations(ctx, inspection.state)) await session.mutate(item);
        return { status: 'applied', ...leftOf(inspection.state) };
      }),
  };
};
