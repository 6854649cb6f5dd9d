import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ActionPhase, Report } from '@riposte/core';
import type { ResultCode } from './result.js';

/**
 * The response metrics, in CloudWatch Embedded Metric Format (EMF) through Powertools' `Metrics`:
 * one JSON line per dimension set, which CloudWatch Logs turns into metrics. Each has the dimension
 * `service` (the function's name) and:
 *
 * - `FindingsHandled` (Count) by `Outcome`: the report's outcome, or the result code of a refusal;
 * - `Steps` (Count) by `Action` and `Status`, and by `Status` alone (for a dashboard across actions);
 * - `Refusals` (Count) by `Reason`: the result code (`FINDING_UNVERIFIED`, `ACCOUNT_NOT_ALLOWED`, ...);
 * - `TimeToFirstContainment` (Milliseconds): from the report's start to the first successful mutating
 *   call of a `contain` or `revoke` step, for a report that has one;
 * - `ResponseDuration` (Milliseconds): the report's duration.
 *
 * The dimensions take few values (outcomes, statuses, result codes, action names): never a finding
 * id or a resource, which would make a metric per finding.
 */
export const METRICS_NAMESPACE = 'Riposte';

export const RESPONSE_METRICS = {
  findingsHandled: 'FindingsHandled',
  steps: 'Steps',
  refusals: 'Refusals',
  timeToFirstContainment: 'TimeToFirstContainment',
  responseDuration: 'ResponseDuration',
} as const;

/** Where Powertools' own warnings go (an invalid dimension, a timestamp out of range). */
export interface MetricsLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface ResponseMetricsOptions {
  /** Default `Riposte`. */
  namespace?: string;
  /** The `service` dimension. Default: `AWS_LAMBDA_FUNCTION_NAME`, else `riposte`. */
  serviceName?: string;
  /**
   * Receives each EMF document, one JSON line without its newline. Default: written to standard
   * output with a newline, unprefixed (as Powertools writes them), where Lambda's log capture finds it.
   */
  output?: (line: string) => void;
  /** The documents' timestamp. Default: the system clock at `flush()`. */
  clock?: () => Date;
  /** Default: Powertools' (warnings on standard error and output, debug messages dropped). */
  logger?: MetricsLogger;
}

/**
 * Collects the metrics of one invocation's findings and writes them at `flush()`, one document per
 * dimension set: call `record` or `recordRefusal` once per finding result, `flush` once per invocation.
 */
export interface ResponseMetrics {
  /** A finding the playbooks ran for (`HANDLED`): its outcome, its steps and its timings. */
  record(report: Report): void;
  /** A finding refused before any playbook ran: counted under `FindingsHandled` and `Refusals`. */
  recordRefusal(code: Exclude<ResultCode, 'HANDLED'>): void;
  /** Writes what was recorded since the last flush and forgets it; writes nothing when nothing was. */
  flush(): void;
}

/** The phases whose first successful change contains the threat. */
const CONTAINING: ReadonlySet<ActionPhase> = new Set(['contain', 'revoke']);

/**
 * Milliseconds from the report's start to the first successful mutating call of a `contain` or
 * `revoke` step: each step's `startedAt` plus the durations of its calls, in order, up to and
 * including that call (steps may run side by side, so the earliest over all steps). Undefined when no
 * such call succeeded (a dry run, a held or failed response, only notifications).
 */
export const timeToFirstContainment = (report: Report): number | undefined => {
  let first: number | undefined;
  for (const step of report.steps) {
    if (!CONTAINING.has(step.phase) || step.startedAt === undefined) continue;
    let at = Date.parse(step.startedAt);
    for (const call of step.calls) {
      // A call without a duration was planned, not made.
      if (!('durationMs' in call)) break;
      at += call.durationMs;
      if (call.mutating && call.errorCode === undefined) {
        first = first === undefined ? at : Math.min(first, at);
        break;
      }
    }
  }
  return first === undefined ? undefined : Math.max(0, first - Date.parse(report.startedAt));
};

type Dimensions = Record<string, string>;

/** The dimension Powertools names after `serviceName`, in every dimension set. */
const SERVICE_DIMENSION = 'service';

interface Group {
  dimensions: Dimensions;
  /** Subsets of the dimensions' names the same values are also published under (each with `service`). */
  rollups: string[][];
  /** Counts add up into one value; samples keep every value, for percentiles. */
  counts: Map<string, number>;
  samples: Map<string, number[]>;
}

/**
 * Powertools publishes by itself, to standard output, when a metric reaches 100 values: a document
 * holds at most this many values of one metric, and more go to further documents.
 */
const VALUES_PER_DOCUMENT = 99;

const writeLine = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * The response metrics of a function. EMF documents are built by Powertools (`serializeMetrics`) and
 * written by `output`, so Powertools' `POWERTOOLS_METRICS_DISABLED` does not apply; leave `output`
 * a no-op to turn them off.
 */
export const createResponseMetrics = (options: ResponseMetricsOptions = {}): ResponseMetrics => {
  const namespace = options.namespace ?? METRICS_NAMESPACE;
  const serviceName = options.serviceName || process.env.AWS_LAMBDA_FUNCTION_NAME || 'riposte';
  const output = options.output ?? writeLine;
  const clock = options.clock ?? (() => new Date());
  const groups = new Map<string, Group>();

  const groupOf = (dimensions: Dimensions, rollups: string[][] = []): Group => {
    const key = JSON.stringify([dimensions, rollups]);
    let group = groups.get(key);
    if (!group) {
      group = { dimensions, rollups, counts: new Map(), samples: new Map() };
      groups.set(key, group);
    }
    return group;
  };
  const count = (group: Group, name: string) => group.counts.set(name, (group.counts.get(name) ?? 0) + 1);
  const sample = (group: Group, name: string, value: number) => {
    const values = group.samples.get(name) ?? [];
    values.push(value);
    group.samples.set(name, values);
  };

  /** One document: the group's dimensions, its counts (in the first only) and a slice of its samples. */
  const documentOf = (group: Group, slice: number, timestamp: Date): string | undefined => {
    const metrics = new Metrics({
      namespace,
      serviceName,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    metrics.setTimestamp(timestamp);
    for (const [name, value] of Object.entries(group.dimensions)) metrics.addDimension(name, value);
    if (slice === 0) {
      for (const [name, value] of group.counts) metrics.addMetric(name, MetricUnit.Count, value);
    }
    for (const [name, values] of group.samples) {
      const part = values.slice(slice * VALUES_PER_DOCUMENT, (slice + 1) * VALUES_PER_DOCUMENT);
      for (const value of part) metrics.addMetric(name, MetricUnit.Milliseconds, value);
    }
    if (!metrics.hasStoredMetrics()) return undefined;
    const emf = metrics.serializeMetrics();
    metrics.clearMetrics();
    metrics.clearDimensions();
    if (group.rollups.length === 0) return JSON.stringify(emf);
    // The rollups name dimensions the document already holds: only the directive lists them again
    // (Powertools' addDimensions would repeat the keys, and warn about each).
    const [directive, ...others] = emf._aws.CloudWatchMetrics;
    return JSON.stringify({
      ...emf,
      _aws: {
        ...emf._aws,
        CloudWatchMetrics: [
          {
            ...directive,
            Dimensions: [
              ...(directive?.Dimensions ?? []),
              ...group.rollups.map((names) => [SERVICE_DIMENSION, ...names]),
            ],
          },
          ...others,
        ],
      },
    });
  };

  return {
    record: (report) => {
      count(groupOf({ Outcome: report.outcome }), RESPONSE_METRICS.findingsHandled);
      for (const step of report.steps) {
        const group = groupOf({ Action: step.action, Status: step.status }, [['Status']]);
        count(group, RESPONSE_METRICS.steps);
      }
      const containedAfter = timeToFirstContainment(report);
      if (containedAfter !== undefined) {
        sample(groupOf({}), RESPONSE_METRICS.timeToFirstContainment, containedAfter);
      }
      sample(groupOf({}), RESPONSE_METRICS.responseDuration, report.durationMs);
    },
    recordRefusal: (code) => {
      count(groupOf({ Outcome: code }), RESPONSE_METRICS.findingsHandled);
      count(groupOf({ Reason: code }), RESPONSE_METRICS.refusals);
    },
    flush: () => {
      const pending = [...groups.values()];
      groups.clear();
      const timestamp = clock();
      for (const group of pending) {
        const longest = Math.max(0, ...[...group.samples.values()].map((values) => values.length));
        const documents = Math.max(1, Math.ceil(longest / VALUES_PER_DOCUMENT));
        for (let slice = 0; slice < documents; slice++) {
          const document = documentOf(group, slice, timestamp);
          if (document !== undefined) output(document);
        }
      }
    },
  };
};
