import { randomUUID } from 'node:crypto';
import { type Finding, FindingFormatError, normalize, type Report, type StepStatus } from '@riposte/core';
import { IDEMPOTENCY_TTL_SECONDS } from './config.js';
import { IdempotencyStoreError, MemberRoleError, RetryableFailureError } from './errors.js';
import { classifyInvocation, type FindingInput, type Rejection } from './events.js';
import { type IdempotencyStore, occurrenceOf } from './idempotency/store.js';
import type { Logger } from './logger.js';
import {
  type FindingResult,
  type HandlerResult,
  type InvocationResult,
  type ResultCode,
  type SqsBatchResult,
  summarizeReport,
} from './result.js';
import { type HandlerOptions, initialise, type Runtime } from './runtime.js';

export { AWS_REQUEST_TIMEOUT_MS, type HandlerOptions } from './runtime.js';

/** The parts of the Lambda context the handler reads; every one may be missing. */
export interface LambdaContext {
  awsRequestId?: string;
  invokedFunctionArn?: string;
  getRemainingTimeInMillis?: () => number;
}

/** A Lambda handler, and the promise of its initialisation (config, identity, playbooks, engine). */
export interface RiposteHandler {
  (event: unknown, context?: unknown): Promise<HandlerResult>;
  /** Rejects with the configuration error when the function cannot start. */
  readonly ready: Promise<void>;
}

/**
 * Step statuses after which a playbook has nothing left to do for this occurrence. A refusal is a
 * decision (out of scope, protected principal, root credentials) that a new attempt would only repeat,
 * with its notification; doubt (identity or tags unreadable) fails the step instead, so it runs again.
 */
const DONE: ReadonlySet<StepStatus> = new Set(['applied', 'skipped', 'no-op', 'refused']);

// Lambda's longest timeout: the in-progress deadline when the context does not say.
const DEFAULT_REMAINING_MS = 15 * 60_000;

const remainingMs = (context: LambdaContext): number => {
  try {
    const remaining = context.getRemainingTimeInMillis?.();
    return typeof remaining === 'number' && Number.isFinite(remaining) && remaining > 0
      ? remaining
      : DEFAULT_REMAINING_MS;
  } catch {
    return DEFAULT_REMAINING_MS;
  }
};

const contextOf = (value: unknown): LambdaContext =>
  typeof value === 'object' && value !== null ? (value as LambdaContext) : {};

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Builds the handler. Initialisation starts at once and runs once per container (`runtime.ts`): the
 * environment is checked, the function learns who it is from STS, the playbooks are loaded and
 * compiled, the engine is built. If any of it fails, every event is refused with that error: the
 * function never runs with half its playbooks, nor without knowing its own account. Each finding then
 * passes the admission (allowed account, GuardDuty's own copy, fresh enough) before anything else.
 */
export const createHandler = (options: HandlerOptions = {}): RiposteHandler => {
  const clock = options.clock ?? (() => new Date());
  const ttlSeconds = options.idempotencyTtlSeconds ?? IDEMPOTENCY_TTL_SECONDS;

  const ready = initialise(options);
  // Observed here so an unused handler does not raise an unhandled rejection; every event still sees it.
  ready.catch(() => undefined);

  const handleFinding = async (
    runtime: Runtime,
    delivered: Finding,
    context: LambdaContext,
    invocationId: string,
  ): Promise<FindingResult> => {
    const { config, engine, store, members } = runtime;
    const base = (finding: Finding) => ({
      findingId: finding.id,
      findingType: finding.type.name,
      accountId: finding.accountId,
      region: finding.region,
      updatedAt: occurrenceOf(finding.updatedAt),
      mode: config.mode,
      matched: [],
      steps: [],
    });

    // Nothing about the delivered copy is believed until GuardDuty vouches for it.
    const admission = await runtime.admission.admit(delivered);
    if (!admission.admitted) {
      if (admission.code === 'FINDING_UNVERIFIED') {
        await runtime.alarm.raise(delivered, admission.verification?.reason ?? admission.message);
      }
      return {
        ...base(delivered),
        code: admission.code,
        message: admission.message,
        retryable: admission.retryable,
        ...(admission.verification ? { verification: admission.verification } : {}),
      };
    }
    const { finding, key, verification } = admission;
    const occurrence = occurrenceOf(finding.updatedAt);
    const result = (code: ResultCode, message: string, retryable = false): FindingResult => ({
      ...base(finding),
      code,
      message,
      retryable,
      verification,
    });

    if (members && runtime.isMemberFinding(finding)) {
      try {
        await members.get({
          accountId: finding.accountId,
          partition: finding.partition,
          findingId: finding.id,
        });
      } catch (error) {
        if (!(error instanceof MemberRoleError)) throw error;
        return result('ASSUME_ROLE_FAILED', error.message, error.retryable);
      }
    }

    const now = clock().getTime();
    const owner = `${invocationId}/${randomUUID()}`;
    let begun: Awaited<ReturnType<IdempotencyStore['begin']>>;
    try {
      begun = await store.begin({
        key,
        updatedAt: occurrence,
        owner,
        now,
        inProgressUntil: now + remainingMs(context),
        expiresAt: Math.floor(now / 1000) + ttlSeconds,
      });
    } catch (error) {
      if (!(error instanceof IdempotencyStoreError)) throw error;
      return result('IDEMPOTENCY_FAILED', `${error.message}; nothing was run`, error.retryable);
    }

    if (begun.status === 'completed') {
      const stored = begun.record.report;
      const when = begun.record.completedUpdatedAt || 'its only occurrence';
      return {
        ...(stored ?? base(finding)),
        code: 'ALREADY_HANDLED',
        message: `already handled (occurrence ${when}); nothing was run again${stored ? `; earlier: ${stored.message}` : ''}`,
        retryable: false,
        verification,
      };
    }
    if (begun.status === 'in-progress') {
      // Another occurrence in progress: this one still needs handling once that one is done.
      const other = begun.record.updatedAt !== occurrence;
      return result(
        'IN_PROGRESS',
        other
          ? `another occurrence (${begun.record.updatedAt}) of this finding is being handled; retry later`
          : 'a duplicate of a delivery being handled now; nothing was run',
        other,
      );
    }

    const previous = begun.previous;
    let report: Report;
    try {
      report = await engine.handle(
        finding,
        // A later delivery re-runs the playbooks that ask to on a re-published finding, and every
        // playbook that is not done yet (never ran, or a step failed, was held or refused).
        previous
          ? { include: (playbook) => playbook.rerunOnUpdate || !previous.playbooks.includes(playbook.name) }
          : {},
      );
    } catch (error) {
      await store.release(key, owner).catch(() => undefined);
      throw error;
    }
    const summary = { ...summarizeReport(report, occurrence), verification };
    if (previous?.updatedAt !== undefined && summary.matched.length === 0) {
      summary.message = `an update of a finding handled at ${previous.updatedAt}; no playbook re-runs on update`;
    }
    logReport(runtime.logger, report);
    // Only enforced playbooks whose every step is DONE count as done: a finding first seen in dry-run
    // is remediated once enforce is on, and a failed or held step runs again at the next delivery.
    const enforced = report.matched
      .filter((match) => match.mode === 'enforce')
      .map((match) => match.playbook);
    const done = enforced.filter((playbook) =>
      report.steps.every((step) => step.playbook !== playbook || DONE.has(step.status)),
    );
    const playbooks = [...new Set([...(previous?.playbooks ?? []), ...done])];
    try {
      if (summary.retryable || done.length < enforced.length) await store.release(key, owner, playbooks);
      else {
        const kept = await store.complete({
          key,
          owner,
          updatedAt: occurrence,
          playbooks,
          report: summary,
          expiresAt: Math.floor(clock().getTime() / 1000) + ttlSeconds,
        });
        if (!kept) {
          runtime.logger.warn(
            { findingId: finding.id },
            'the idempotency record was taken over while this invocation ran (its deadline passed)',
          );
        }
      }
    } catch (error) {
      // The work is done; only its record is missing, so a duplicate may repeat idempotent steps.
      runtime.logger.error({ findingId: finding.id, err: error }, 'could not record the finding as handled');
    }
    return summary;
  };

  const handleUnit = async (
    runtime: Runtime,
    unit: FindingInput | Rejection,
    context: LambdaContext,
    invocationId: string,
  ): Promise<FindingResult[]> => {
    const { config } = runtime;
    const failure = (code: ResultCode, message: string): FindingResult[] => [
      { code, message, mode: config.mode, matched: [], steps: [], retryable: false },
    ];
    if (unit.kind === 'rejected') return failure(unit.code, unit.message);
    let findings: Finding[];
    try {
      findings = normalize(unit.input);
    } catch (error) {
      if (error instanceof FindingFormatError) return failure('FINDING_INVALID', error.message);
      return failure('INTERNAL_ERROR', `the finding could not be read: ${errorMessage(error)}`);
    }
    if (findings.length === 0) return failure('FINDING_UNSUPPORTED', 'the input holds no GuardDuty finding');
    const results: FindingResult[] = [];
    for (const finding of findings) {
      try {
        results.push(await handleFinding(runtime, finding, context, invocationId));
      } catch (error) {
        runtime.logger.error(
          { findingId: finding.id, err: error },
          'unexpected error while handling the finding',
        );
        results.push({
          code: 'INTERNAL_ERROR',
          message: `unexpected error: ${errorMessage(error)}`,
          findingId: finding.id,
          mode: config.mode,
          matched: [],
          steps: [],
          retryable: false,
        });
      }
    }
    return results;
  };

  const logResult = (logger: Logger, result: FindingResult): void => {
    if (result.code === 'HANDLED') return; // logReport wrote the summary
    const fields = {
      code: result.code,
      findingId: result.findingId,
      findingType: result.findingType,
      accountId: result.accountId,
      region: result.region,
      retryable: result.retryable,
    };
    const quiet = result.code === 'ALREADY_HANDLED' || result.code === 'IN_PROGRESS';
    if (quiet) logger.info(fields, result.message);
    else logger.warn(fields, result.message);
  };

  const handler = async (event: unknown, rawContext?: unknown): Promise<HandlerResult> => {
    const runtime = await ready;
    const context = contextOf(rawContext);
    const invocationId =
      typeof context.awsRequestId === 'string' && context.awsRequestId !== ''
        ? context.awsRequestId
        : randomUUID();
    const { logger } = runtime;
    const run = async (units: (FindingInput | Rejection)[]): Promise<FindingResult[]> => {
      const results: FindingResult[] = [];
      for (const unit of units) results.push(...(await handleUnit(runtime, unit, context, invocationId)));
      for (const result of results) logResult(logger, result);
      return results;
    };

    let invocation: ReturnType<typeof classifyInvocation>;
    try {
      invocation = classifyInvocation(event);
    } catch (error) {
      logger.error({ err: error }, 'could not classify the event');
      return {
        results: [
          {
            code: 'INTERNAL_ERROR',
            message: errorMessage(error),
            mode: runtime.config.mode,
            matched: [],
            steps: [],
            retryable: false,
          },
        ],
      };
    }

    if (invocation.kind === 'sqs') {
      const response: SqsBatchResult = { batchItemFailures: [], records: [] };
      for (const record of invocation.records) {
        const results = await run(record.units);
        response.records.push({ messageId: record.messageId, results });
        // Only what may succeed later goes back to the queue: garbage would come back forever.
        if (results.some((result) => result.retryable))
          response.batchItemFailures.push({ itemIdentifier: record.messageId });
      }
      return response;
    }

    const response: InvocationResult = { results: await run(invocation.units) };
    const retryable = response.results.filter((result) => result.retryable);
    if (retryable.length > 0) {
      throw new RetryableFailureError(
        `${retryable.length} finding(s) failed with errors worth retrying (${retryable
          .map((result) => `${result.findingId ?? '?'}: ${result.code}`)
          .join(', ')}); failing the invocation so Lambda retries it`,
        { results: response.results },
      );
    }
    return response;
  };

  const initialised = ready.then(() => undefined);
  initialised.catch(() => undefined);
  return Object.assign(handler, { ready: initialised });
};

const STEP_LEVEL = { failed: 'error', refused: 'warn' } as const;

/** One line per step and one summary per finding, each bound to the finding (and playbook, action). */
const logReport = (logger: Logger, report: Report): void => {
  const findingLog = logger.child({ findingId: report.findingId });
  for (const step of report.steps) {
    const level = STEP_LEVEL[step.status as keyof typeof STEP_LEVEL] ?? 'info';
    findingLog.child({ playbook: step.playbook, action: step.action })[level](
      {
        step: step.key,
        status: step.status,
        mode: step.mode,
        target: step.target?.label,
        reason: step.reason,
        error: step.error,
        calls: step.calls.map((call) => ({
          service: call.service,
          operation: call.operation,
          mutating: call.mutating,
          ...('requestId' in call && call.requestId ? { requestId: call.requestId } : {}),
          ...('errorCode' in call && call.errorCode ? { errorCode: call.errorCode } : {}),
        })),
        durationMs: step.durationMs,
      },
      `step ${step.status}: ${step.action}${step.target ? ` on ${step.target.label}` : ''}`,
    );
  }
  findingLog[report.outcome === 'failed' || report.outcome === 'partial' ? 'warn' : 'info'](
    {
      code: 'HANDLED',
      findingType: report.findingType,
      severity: report.severity,
      accountId: report.accountId,
      region: report.region,
      mode: report.mode,
      outcome: report.outcome,
      matched: report.matched.map((match) => match.playbook),
      counts: report.counts,
      retryable: report.retryable,
      durationMs: report.durationMs,
    },
    `finding ${report.outcome}`,
  );
};

let defaultHandler: RiposteHandler | undefined;

/**
 * The handler configured from `process.env`, initialised on its first event. The Lambda bundle uses
 * `lambda.ts`, which initialises during the container's init phase instead.
 */
export const handler = (event: unknown, context?: unknown): Promise<HandlerResult> => {
  defaultHandler ??= createHandler();
  return defaultHandler(event, context);
};
