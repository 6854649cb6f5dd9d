import { randomUUID } from 'node:crypto';
import {
  type AwsServices,
  type AwsServicesOptions,
  createAwsServices,
  createRegistry,
} from '@riposte/actions';
import {
  type ActionRegistry,
  createEngine,
  type Engine,
  type Finding,
  FindingFormatError,
  normalize,
  type Playbook,
  type Report,
} from '@riposte/core';
import {
  createMemberCredentials,
  type FunctionIdentity,
  functionIdentity,
  type MemberCredentials,
  type StsLike,
} from './accounts.js';
import { bundledPlaybooks } from './bundled-playbooks.js';
import { type AdapterConfig, readConfig } from './config.js';
import { IdempotencyStoreError, MemberRoleError, RetryableFailureError } from './errors.js';
import { classifyInvocation, type FindingInput, type Rejection } from './events.js';
import { createDynamoDbStore, type DynamoDbLike } from './idempotency/dynamodb.js';
import { createMemoryStore } from './idempotency/memory.js';
import { type IdempotencyStore, occurrenceOf } from './idempotency/store.js';
import { createLogger, type LogDestination, type Logger } from './logger.js';
import { loadFunctionPlaybooks } from './playbooks.js';
import {
  type FindingResult,
  type HandlerResult,
  type InvocationResult,
  type ResultCode,
  type SqsBatchResult,
  summarizeReport,
} from './result.js';

/** The parts of the Lambda context the handler reads; every one may be missing. */
export interface LambdaContext {
  awsRequestId?: string;
  invokedFunctionArn?: string;
  getRemainingTimeInMillis?: () => number;
}

/**
 * The most one attempt of one AWS call may take. Control-plane calls answer in well under a second;
 * without a limit, a call that never answers would hold the invocation until Lambda's own timeout and
 * lose the report. A timed-out attempt is retried by the SDK, then reported as a retryable failure.
 */
export const AWS_REQUEST_TIMEOUT_MS = 5_000;

export interface HandlerOptions {
  /** Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** Default: the built-in actions. */
  registry?: ActionRegistry<AwsServices>;
  /** Compiled playbooks to use instead of loading `RIPOSTE_PLAYBOOKS` or the bundled ones. */
  playbooks?: Playbook[];
  /** The bundled playbooks (the bundle embeds them compiled; default: this checkout's `rules/`). */
  bundled?: (registry: ActionRegistry<unknown>) => Promise<Playbook[]>;
  /** Builds the AWS service bag; default `createAwsServices`. Tests point it at a fake. */
  createServices?: (options: AwsServicesOptions) => AwsServices;
  /** Default: DynamoDB when `RIPOSTE_IDEMPOTENCY_TABLE` is set, else memory. */
  store?: IdempotencyStore;
  /** The DynamoDB client of the default DynamoDB store. */
  dynamodb?: DynamoDbLike;
  /** The STS client used to assume member roles. */
  sts?: StsLike;
  clock?: () => Date;
  /** Default: stdout. */
  logDestination?: LogDestination;
  /** How long an idempotency record lasts. Default 30 days. */
  idempotencyTtlSeconds?: number;
}

/** A Lambda handler, and the promise of its initialisation (config, playbooks, engine). */
export interface RiposteHandler {
  (event: unknown, context?: unknown): Promise<HandlerResult>;
  /** Rejects with the configuration error when the function cannot start. */
  readonly ready: Promise<void>;
}

interface Runtime {
  config: AdapterConfig;
  logger: Logger;
  engine: Engine;
  store: IdempotencyStore;
  members?: MemberCredentials;
}

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
 * Builds the handler. Initialisation starts at once and runs once per container: the environment is
 * checked, the playbooks are loaded and compiled, the engine is built. If any of it fails, every
 * event is refused with that error: the function never runs with half its playbooks.
 */
export const createHandler = (options: HandlerOptions = {}): RiposteHandler => {
  const env = options.env ?? process.env;
  const clock = options.clock ?? (() => new Date());
  const ttlSeconds = options.idempotencyTtlSeconds ?? 30 * 24 * 3600;

  const initialise = async (): Promise<Runtime> => {
    const destination = options.logDestination ? { destination: options.logDestination } : {};
    let config: AdapterConfig;
    try {
      config = readConfig(env);
    } catch (error) {
      // No level to honour yet: the refusal is logged at the default one, the webhook still masked.
      const secrets = env.RIPOSTE_WEBHOOK_URL ? [env.RIPOSTE_WEBHOOK_URL] : [];
      createLogger({ level: 'info', secrets, ...destination }).fatal(
        { err: error },
        'riposte cannot start: refusing every event until the configuration is fixed',
      );
      throw error;
    }
    const logger = createLogger({
      level: config.logLevel,
      secrets: config.webhookUrl ? [config.webhookUrl] : [],
      ...destination,
    });
    try {
      const registry = options.registry ?? createRegistry();
      const playbooks =
        options.playbooks ??
        (await loadFunctionPlaybooks(config.playbooksDir, registry, options.bundled ?? bundledPlaybooks));
      const createServices = options.createServices ?? createAwsServices;
      const clientConfig = { requestTimeoutMs: AWS_REQUEST_TIMEOUT_MS };
      const ownServices = createServices({ env, clientConfig });
      const members = config.memberRole
        ? createMemberCredentials({
            roleName: config.memberRole,
            clock,
            ...(options.sts ? { sts: options.sts } : {}),
          })
        : undefined;
      // One service bag per member account, its clients signed with the assumed role.
      const memberServices = new Map<string, AwsServices>();
      const servicesFor = (finding: Finding): AwsServices => {
        if (!members || !isMemberFinding(finding)) return ownServices;
        let services = memberServices.get(finding.accountId);
        if (!services) {
          const account = { accountId: finding.accountId, partition: finding.partition };
          services = createServices({ env, clientConfig, credentialsFor: () => members.provider(account) });
          memberServices.set(finding.accountId, services);
        }
        return services;
      };
      const engine = createEngine({
        playbooks,
        registry,
        services: ownServices,
        servicesFor,
        mode: config.mode,
        clock,
      });
      const store =
        options.store ??
        (config.idempotencyTable
          ? createDynamoDbStore({
              tableName: config.idempotencyTable,
              ...(options.dynamodb ? { client: options.dynamodb } : {}),
            })
          : createMemoryStore());
      logger.info(
        {
          mode: config.mode,
          playbooks: playbooks.map((playbook) => playbook.name),
          playbookSource: options.playbooks ? 'given' : (config.playbooksDir ?? 'bundled'),
          idempotency: config.idempotencyTable ? 'dynamodb' : 'memory',
          memberRole: config.memberRole ?? null,
        },
        'riposte initialised',
      );
      return { config, logger, engine, store, ...(members ? { members } : {}) };
    } catch (error) {
      logger.fatal(
        { err: error },
        'riposte cannot start: refusing every event until the configuration is fixed',
      );
      throw error;
    }
  };

  // The function's own account, learnt from the first context that names it.
  let own: FunctionIdentity | undefined;
  const isMemberFinding = (finding: Finding): boolean =>
    own !== undefined && finding.accountId !== own.accountId;

  const ready = initialise();
  // Observed here so an unused handler does not raise an unhandled rejection; every event still sees it.
  ready.catch(() => undefined);

  const handleFinding = async (
    runtime: Runtime,
    finding: Finding,
    context: LambdaContext,
    invocationId: string,
  ): Promise<FindingResult> => {
    const { config, engine, store, members } = runtime;
    const occurrence = occurrenceOf(finding.updatedAt);
    const base = {
      findingId: finding.id,
      findingType: finding.type.name,
      accountId: finding.accountId,
      region: finding.region,
      updatedAt: occurrence,
      mode: config.mode,
      matched: [],
      steps: [],
    };
    const result = (code: ResultCode, message: string, retryable = false): FindingResult => ({
      ...base,
      code,
      message,
      retryable,
    });

    if (isMemberFinding(finding)) {
      if (!members) {
        return result(
          'OTHER_ACCOUNT',
          `the finding belongs to account ${finding.accountId}, not this function's ${own?.accountId}; set RIPOSTE_MEMBER_ROLE to act in member accounts`,
        );
      }
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
    const key = `${finding.accountId}/${finding.id}`;
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
        ...(stored ?? base),
        code: 'ALREADY_HANDLED',
        message: `already handled (occurrence ${when}); nothing was run again${stored ? `; earlier: ${stored.message}` : ''}`,
        retryable: false,
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
        // A re-published occurrence re-runs only the playbooks that ask to, and any that never ran.
        previous
          ? { include: (playbook) => playbook.rerunOnUpdate || !previous.playbooks.includes(playbook.name) }
          : {},
      );
    } catch (error) {
      await store.release(key, owner).catch(() => undefined);
      throw error;
    }
    const summary = summarizeReport(report, occurrence);
    if (previous && summary.matched.length === 0) {
      summary.message = `an update of a finding handled at ${previous.updatedAt}; no playbook re-runs on update`;
    }
    logReport(runtime.logger, report);
    try {
      if (summary.retryable) await store.release(key, owner);
      else {
        // Only enforced playbooks count as done: a finding first seen while the function (or the
        // playbook) was in dry-run is remediated at its next occurrence once enforce is on.
        const enforced = report.matched
          .filter((match) => match.mode === 'enforce')
          .map((match) => match.playbook);
        const playbooks = [...new Set([...(previous?.playbooks ?? []), ...enforced])];
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
    if (quiet || result.code === 'OTHER_ACCOUNT') logger.info(fields, result.message);
    else logger.warn(fields, result.message);
  };

  const handler = async (event: unknown, rawContext?: unknown): Promise<HandlerResult> => {
    const runtime = await ready;
    const context = contextOf(rawContext);
    own ??= functionIdentity(context.invokedFunctionArn);
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
