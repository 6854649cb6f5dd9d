import { randomUUID } from 'node:crypto';
import { type Finding, FindingFormatError, normalize, type Report } from '@riposte/core';
import type { VerificationSummary } from './admission.js';
import { HistoryError, RetryableFailureError } from './errors.js';
import { classifyInvocation, type DecisionInput, type FindingInput, type Rejection } from './events.js';
import type { Completion } from './idempotency/guard.js';
import { occurrenceOf, type PreviousCompletion } from './idempotency/store.js';
import { decideHeld, heldStepsOnly } from './lifecycle/decide.js';
import { recordOf } from './lifecycle/held.js';
import { logReport, logResult } from './logger.js';
import {
  answer,
  type FindingResult,
  type HandlerResult,
  type ResultCode,
  type SqsBatchResult,
  settledPlaybooks,
  subjectOf,
  summarizeReport,
  unhandled,
} from './result.js';
import { type HandlerOptions, initialise, type Runtime } from './runtime.js';

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
 * Builds the handler. Initialisation starts at once and runs once per container (`runtime.ts`): the
 * environment is checked, the function learns who it is from STS, the playbooks are loaded and
 * compiled, the engine is built. If any of it fails, every event is refused with that error: the
 * function never runs with half its playbooks, nor without knowing its own account. Each event is
 * then classified, and each finding it carries goes through admission, the idempotency guard and the
 * engine; the answers make the response.
 */
export const createHandler = (options: HandlerOptions = {}): RiposteHandler => {
  const ready = initialise(options);
  // Observed here so an unused handler does not raise an unhandled rejection; every event still sees it.
  ready.catch(() => undefined);

  const handler = async (event: unknown, context?: unknown): Promise<HandlerResult> => {
    const runtime = await ready;
    try {
      return await answerEvent(runtime, event, invocationOf(context));
    } finally {
      runtime.metrics.flush();
    }
  };

  const initialised = ready.then(() => undefined);
  initialised.catch(() => undefined);
  return Object.assign(handler, { ready: initialised });
};

/** One invocation's answer: each finding it carries handled, decided or refused. */
const answerEvent = async (
  runtime: Runtime,
  event: unknown,
  invocation: Invocation,
): Promise<HandlerResult> => {
  const { logger } = runtime;
  const run = async (units: (FindingInput | Rejection)[]): Promise<FindingResult[]> => {
    const results: FindingResult[] = [];
    for (const unit of units) results.push(...(await handleUnit(runtime, unit, invocation)));
    for (const result of results) settle(runtime, result);
    return results;
  };

  let classified: ReturnType<typeof classifyInvocation>;
  try {
    classified = classifyInvocation(event, runtime.own.accountId);
  } catch (error) {
    logger.error({ err: error }, 'could not classify the event');
    return { results: [unhandled(runtime.config.mode, 'INTERNAL_ERROR', errorMessage(error))] };
  }

  if (classified.kind === 'sqs') {
    const response: SqsBatchResult = { batchItemFailures: [], records: [] };
    for (const record of classified.records) {
      const results = await run(record.units);
      response.records.push({ messageId: record.messageId, results });
      // Only what may succeed later goes back to the queue: garbage would come back forever.
      if (results.some((result) => result.retryable))
        response.batchItemFailures.push({ itemIdentifier: record.messageId });
    }
    return response;
  }

  const results =
    classified.kind === 'decision'
      ? await decide(runtime, classified, invocation)
      : await run(classified.units);
  const retryable = results.filter((result) => result.retryable);
  if (retryable.length > 0) {
    throw new RetryableFailureError(
      `${retryable.length} finding(s) failed with errors worth retrying (${retryable
        .map((result) => `${result.findingId ?? '?'}: ${result.code}`)
        .join(', ')}); failing the invocation so Lambda retries it`,
      { results },
    );
  }
  return { results };
};

/** Logs an answer that is not a report, and counts every refusal (a report is counted where it is made). */
const settle = (runtime: Runtime, result: FindingResult): void => {
  logResult(runtime.logger, result);
  if (result.code !== 'HANDLED') runtime.metrics.recordRefusal(result.code);
};

/** One unit of an event: a rejection, or an input normalized into findings, each handled on its own. */
const handleUnit = async (
  runtime: Runtime,
  unit: FindingInput | Rejection,
  invocation: Invocation,
): Promise<FindingResult[]> => {
  const { mode } = runtime.config;
  if (unit.kind === 'rejected') return [unhandled(mode, unit.code, unit.message)];
  let findings: Finding[];
  try {
    findings = normalize(unit.input);
  } catch (error) {
    if (error instanceof FindingFormatError) return [unhandled(mode, 'FINDING_INVALID', error.message)];
    return [unhandled(mode, 'INTERNAL_ERROR', `the finding could not be read: ${errorMessage(error)}`)];
  }
  if (findings.length === 0)
    return [unhandled(mode, 'FINDING_UNSUPPORTED', 'the input holds no GuardDuty finding')];
  const results: FindingResult[] = [];
  for (const finding of findings) {
    try {
      results.push(await handleFinding(runtime, finding, invocation));
    } catch (error) {
      runtime.logger.error(
        { findingId: finding.id, err: error },
        'unexpected error while handling the finding',
      );
      results.push(unhandled(mode, 'INTERNAL_ERROR', `unexpected error: ${errorMessage(error)}`, finding.id));
    }
  }
  return results;
};

/** One finding: admission (the door), then the idempotency guard around the engine. */
const handleFinding = async (
  runtime: Runtime,
  delivered: Finding,
  invocation: Invocation,
): Promise<FindingResult> => {
  const { mode } = runtime.config;
  const entry = await runtime.admit(delivered);
  if (!entry.admitted) {
    const { finding, code, message, retryable, verification } = entry;
    return answer(subjectOf(finding, mode, verification), code, message, retryable);
  }
  const { finding, key, verification } = entry;
  const claim = {
    key,
    occurrence: occurrenceOf(finding.updatedAt),
    invocationId: invocation.id,
    holdMs: invocation.remainingMs(),
    subject: subjectOf(finding, mode, verification),
  };
  return runtime.guard.run(claim, (previous) =>
    respond(runtime, finding, verification, previous, invocation),
  );
};

/** Each finding of a Security Hub "Riposte: approve" or "Riposte: reject" event: a decision on held steps. */
const decide = async (
  runtime: Runtime,
  decision: DecisionInput,
  invocation: Invocation,
): Promise<FindingResult[]> => {
  const { mode } = runtime.config;
  const results: FindingResult[] = [];
  for (const unit of decision.units) {
    if (unit.kind === 'rejected') {
      results.push(unhandled(mode, unit.code, unit.message));
      continue;
    }
    let findings: Finding[];
    try {
      findings = normalize(unit.input);
    } catch (error) {
      results.push(unhandled(mode, 'FINDING_INVALID', errorMessage(error)));
      continue;
    }
    for (const finding of findings) {
      try {
        results.push(await decideFinding(runtime, finding, decision, invocation));
      } catch (error) {
        runtime.logger.error(
          { findingId: finding.id, err: error },
          `the ${decision.decision} could not be handled`,
        );
        results.push(
          answer(
            subjectOf(finding, mode),
            'HISTORY_FAILED',
            `the ${decision.decision} could not be handled: ${errorMessage(error)}; nothing was run`,
            true,
          ),
        );
      }
    }
  }
  for (const result of results) settle(runtime, result);
  return results;
};

const DECISION_CODES = {
  'nothing-held': 'NOTHING_HELD',
  expired: 'APPROVAL_EXPIRED',
  'already-decided': 'ALREADY_DECIDED',
  rejected: 'REJECTED',
} as const;

const decideFinding = async (
  runtime: Runtime,
  delivered: Finding,
  decision: DecisionInput,
  invocation: Invocation,
): Promise<FindingResult> => {
  const { config, engine, history } = runtime;
  const outcome = await decideHeld({
    findingId: delivered.id,
    decision: decision.decision,
    actor: decision.actionTargetArn,
    id: invocation.id,
    history,
    clock: runtime.clock,
    approvalTimeoutMs: config.approvalTimeoutHours * 3_600_000,
    verify: async () => {
      const entry = await runtime.admit(delivered, { ignoreAge: true });
      if (!entry.admitted)
        return { ok: false, code: entry.code, message: entry.message, retryable: entry.retryable };
      return { ok: true, finding: entry.finding, verification: entry.verification };
    },
    run: (finding, pending) => engine.handle(finding, heldStepsOnly(pending)),
  });
  const subject = subjectOf(delivered, config.mode);
  switch (outcome.status) {
    case 'approved':
      logReport(runtime.logger, outcome.record.report);
      runtime.metrics.record(outcome.record.report);
      return { ...summarizeReport(outcome.record.report), message: outcome.message };
    case 'refused':
      return answer(subject, outcome.code as ResultCode, outcome.message, outcome.retryable);
    default:
      return answer(subject, DECISION_CODES[outcome.status], outcome.message);
  }
};

/** The engine, on the playbooks an earlier occurrence left to do; its report is logged and answered. */
const respond = async (
  runtime: Runtime,
  finding: Finding,
  verification: VerificationSummary,
  previous: PreviousCompletion | undefined,
  invocation: Invocation,
): Promise<Completion> => {
  const report = await runtime.engine.handle(
    finding,
    // A later delivery re-runs the playbooks that ask to on a re-published finding, and every
    // playbook that is not done yet (never ran, or a step failed, was held or refused).
    previous
      ? { include: (playbook) => playbook.rerunOnUpdate || !previous.playbooks.includes(playbook.name) }
      : {},
  );
  logReport(runtime.logger, report);
  runtime.metrics.record(report);
  await remember(runtime, report, { finding, verification, invocation });
  const updatedAt = occurrenceOf(finding.updatedAt);
  const result = summarizeReport(report, { updatedAt, verification, previousUpdatedAt: previous?.updatedAt });
  const { done, all } = settledPlaybooks(report);
  return { result, done, finished: all && !result.retryable };
};

/**
 * Records a response in history. The response has happened by now: a history store that fails is
 * logged with the whole report (which the log line before already carries), never turned into a
 * failed finding that would run again.
 */
const remember = async (
  runtime: Runtime,
  report: Report,
  context: { finding: Finding; verification: VerificationSummary; invocation: Invocation },
): Promise<void> => {
  const record = recordOf(report, {
    kind: 'response',
    id: context.invocation.id,
    actor: context.invocation.functionArn ?? runtime.own.arn,
    verification: context.verification,
    finding: context.finding,
    approvalTimeoutMs: runtime.config.approvalTimeoutHours * 3_600_000,
  });
  try {
    await runtime.history.put(record);
  } catch (error) {
    const kept = error instanceof HistoryError && error.recorded;
    runtime.logger.error(
      { findingId: report.findingId, code: 'HISTORY_FAILED', err: error },
      kept
        ? 'the response is recorded in the history table, but its S3 copy failed (it can be written again from the table)'
        : 'the response could not be recorded in history',
    );
  }
};

/** One invocation, as the findings it carries see it: who claims them, and how long it has left. */
interface Invocation {
  id: string;
  /** The function's ARN as Lambda invoked it: the actor of its history records. */
  functionArn?: string;
  remainingMs(): number;
}

// Lambda's longest timeout: the in-progress deadline when the context does not say.
const DEFAULT_REMAINING_MS = 15 * 60_000;

const invocationOf = (value: unknown): Invocation => {
  const context = typeof value === 'object' && value !== null ? (value as LambdaContext) : {};
  const remainingMs = (): number => {
    try {
      const remaining = context.getRemainingTimeInMillis?.();
      return typeof remaining === 'number' && Number.isFinite(remaining) && remaining > 0
        ? remaining
        : DEFAULT_REMAINING_MS;
    } catch {
      return DEFAULT_REMAINING_MS;
    }
  };
  const { awsRequestId, invokedFunctionArn } = context;
  return {
    id: typeof awsRequestId === 'string' && awsRequestId !== '' ? awsRequestId : randomUUID(),
    ...(typeof invokedFunctionArn === 'string' && invokedFunctionArn.startsWith('arn:')
      ? { functionArn: invokedFunctionArn }
      : {}),
    remainingMs,
  };
};

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

let defaultHandler: RiposteHandler | undefined;

/**
 * The handler configured from `process.env`, initialised on its first event. The Lambda bundle uses
 * `lambda.ts`, which initialises during the container's init phase instead.
 */
export const handler = (event: unknown, context?: unknown): Promise<HandlerResult> => {
  defaultHandler ??= createHandler();
  return defaultHandler(event, context);
};
