import type { Report } from '@riposte/core';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';
import type { FindingResult } from './result.js';

export type { Logger } from 'pino';

/** Where log lines go: stdout in Lambda, a recording sink in tests. */
export interface LogDestination {
  write(line: string): void;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Values never to print (the webhook URL); any https URL on one of their hosts is masked too. */
  secrets?: string[];
  destination?: LogDestination;
}

const CENSOR = '[redacted]';

// Fields that hold credentials wherever they appear: the AWS SDK's spellings and ours.
const SECRET_KEYS = new Set([
  'secretAccessKey',
  'SecretAccessKey',
  'sessionToken',
  'SessionToken',
  'credentials',
  'Credentials',
  'authorization',
  'Authorization',
  'password',
  'webhookUrl',
]);

/** pino's fast path for the known places; `maskSecrets` catches the same keys deeper down. */
const REDACT_PATHS = [...SECRET_KEYS].flatMap((key) => [key, `*.${key}`]);

// A secret access key: 40 base64 characters with lower case, upper case and a digit (a SHA-1 in hex,
// 40 lower-case characters, is left alone). A session token: the STS prefixes, or any long base64 run.
const SECRET_ACCESS_KEY =
  /(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const SESSION_TOKEN =
  /(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9/+]*={0,2}|[A-Za-z0-9/+]{100,}={0,2}/g;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const hostOf = (text: string): string | undefined => {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' ? url.host : undefined;
  } catch {
    return undefined;
  }
};

/** Masks secrets in one string: the given values, https URLs on their hosts, AWS key and token shapes. */
export const createMasker = (secrets: readonly string[] = []): ((text: string) => string) => {
  const given = secrets.filter((secret) => secret.length > 0);
  const hosts = [...new Set(given.map(hostOf).filter((host): host is string => host !== undefined))];
  const urlPattern =
    hosts.length > 0
      ? new RegExp(`https://(?:${hosts.map(escapeRegExp).join('|')})[^\\s"'<>]*`, 'gi')
      : undefined;
  return (text) => {
    let masked = text;
    for (const secret of given) masked = masked.split(secret).join(CENSOR);
    if (urlPattern) masked = masked.replace(urlPattern, CENSOR);
    return masked.replace(SESSION_TOKEN, CENSOR).replace(SECRET_ACCESS_KEY, CENSOR);
  };
};

const MAX_DEPTH = 12;

/**
 * A copy of `value` with every secret masked: secret-named fields replaced, strings masked, errors
 * reduced to their name, code and message. Never throws (cycles and depth are cut).
 */
export const maskSecrets = (
  value: unknown,
  mask: (text: string) => string,
  depth = 0,
  seen: WeakSet<object> = new WeakSet(),
): unknown => {
  if (typeof value === 'string') return mask(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  if (value instanceof Error) {
    const error = value as Error & { code?: unknown; details?: unknown };
    const copy: Record<string, unknown> = { type: error.name, message: mask(error.message) };
    if (error.code !== undefined) copy.code = maskSecrets(error.code, mask, depth + 1, seen);
    if (error.details !== undefined) copy.details = maskSecrets(error.details, mask, depth + 1, seen);
    if (error.stack !== undefined) copy.stack = mask(error.stack);
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, mask, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEYS.has(key) ? CENSOR : maskSecrets(item, mask, depth + 1, seen);
  }
  return copy;
};

const stdout = (): DestinationStream => pino.destination({ dest: 1, sync: true });

/**
 * A pino JSON logger that cannot print a credential: redaction paths for the known fields, secret-named
 * fields masked at any depth, and every line masked for secret shapes and the configured secrets (the
 * webhook URL) just before it is written.
 * Writes synchronously to stdout, so nothing is lost when Lambda freezes the container.
 */
export const createLogger = (options: LoggerOptions): Logger => {
  const mask = createMasker(options.secrets);
  return pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      // Errors are already reduced (and masked) by `maskSecrets`; pino's own serializer would undo that.
      serializers: { err: (value: unknown) => value },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => maskSecrets(object, mask) as Record<string, unknown>,
      },
      // The last word on every line, bindings and message included: whatever slipped through is masked.
      hooks: { streamWrite: mask },
    },
    (options.destination as DestinationStream | undefined) ?? stdout(),
  );
};

const STEP_LEVEL = { failed: 'error', refused: 'warn' } as const;

/**
 * One line per step and one summary per finding, each bound to the finding (and playbook, action);
 * at debug, each call with its input.
 */
export const logReport = (logger: Logger, report: Report): void => {
  const findingLog = logger.child({ findingId: report.findingId });
  // Call inputs are what an investigation needs and what a busy log does not: debug and below. The
  // masking above still applies to them (credentials, webhook URLs).
  const inputs = logger.isLevelEnabled('debug');
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
          ...(inputs ? { input: call.input } : {}),
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

/**
 * One line per answer that is not a report (`logReport` wrote those): duplicates at info, refusals
 * and failures at warn.
 */
export const logResult = (logger: Logger, result: FindingResult): void => {
  if (result.code === 'HANDLED') return;
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
