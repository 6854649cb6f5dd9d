import { readFile } from 'node:fs/promises';
import { createAwsServices, createRegistry } from '@riposte/actions';
import { createEngine, type EngineOptions, parsePlaybooks, type Report } from '@riposte/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FAKE_CREDENTIALS,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import {
  createResponseMetrics,
  METRICS_NAMESPACE,
  RESPONSE_METRICS,
  type ResponseMetricsOptions,
  timeToFirstContainment,
} from '../../src/index.js';

/**
 * The response metrics as CloudWatch reads them: each EMF line parsed, its `_aws.CloudWatchMetrics`
 * directive (namespace, dimension sets, metric names and units) and its values checked. The reports
 * are the engine's own, for the scenario's instance-credential finding through the built-in actions of
 * its shipped playbook against testing/fake-aws: applied in enforce mode, and held by a mutation gate.
 */

/** The shipped playbook for this finding, as of this test: the engine's report of it is the subject. */
const PLAYBOOK = `name: ec2-instance-credential-exfiltration
match:
  types:
    - UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*
actions:
  - action: tag-resource
  - action: detach-instance-profile
  - action: revoke-role-sessions
  - action: notify
    params:
      message: The instance profile was taken off the instance and its sessions revoked.
`;
const RESPONSE_TIME = new Date('2026-11-27T18:30:00.000Z');
const FUNCTION = 'riposte-RiposteFunction-ABC123';

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** A recorder writing to a list, and the EMF documents it wrote. */
const capture = (options: ResponseMetricsOptions = {}) => {
  const lines: string[] = [];
  const now = Date.now();
  const metrics = createResponseMetrics({
    serviceName: FUNCTION,
    output: (line) => void lines.push(line),
    clock: () => new Date(now),
    ...options,
  });
  const documents = () => lines.map((line) => JSON.parse(line) as EmfDocument);
  return { metrics, lines, now, documents };
};

/** The one document declaring this metric with these dimension values; fails on none or several. */
const documentOf = (documents: EmfDocument[], metric: string, dimensions: Record<string, string> = {}) => {
  const found = documents.filter(
    (document) =>
      document._aws.CloudWatchMetrics[0]!.Metrics.some((definition) => definition.Name === metric) &&
      Object.entries(dimensions).every(([name, value]) => document[name] === value),
  );
  expect(found, `${metric} ${JSON.stringify(dimensions)}`).toHaveLength(1);
  return found[0]!;
};

/** The documents' metrics as `<metric> <dimension values>: <value>`, to compare whole sets. */
const summary = (documents: EmfDocument[]) =>
  documents
    .flatMap((document) =>
      document._aws.CloudWatchMetrics[0]!.Metrics.map((definition) => {
        const names = document._aws.CloudWatchMetrics[0]!.Dimensions[0]!.filter((name) => name !== 'service');
        const where = names.map((name) => `${name}=${String(document[name])}`).join(',');
        return `${definition.Name} ${where}: ${JSON.stringify(document[definition.Name])}`;
      }),
    )
    .sort();

/** Every call the report says was made took 10 ms: a real report with timings a test can state. */
const timedAt10ms = (report: Report, durationMs: number): Report => ({
  ...report,
  durationMs,
  steps: report.steps.map((step) => ({
    ...step,
    calls: step.calls.map((call) => ('durationMs' in call ? { ...call, durationMs: 10 } : call)),
  })),
});

const respond = async (extra: Partial<EngineOptions<unknown>> = {}): Promise<Report> => {
  const fake = await startFakeAws({ seed: scenarioSeed() });
  try {
    const registry = createRegistry();
    const engine = createEngine({
      playbooks: parsePlaybooks(PLAYBOOK, 'ec2-instance-credential-exfiltration.yaml', { registry }),
      registry,
      mode: 'enforce',
      clock: () => RESPONSE_TIME,
      services: createAwsServices({
        clientConfig: { endpoint: fake.url, maxAttempts: 1 },
        credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
        env: { RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn },
      }),
      ...extra,
    });
    const event = JSON.parse(
      await readFile(
        new URL(
          '../../../../examples/scenario/findings/01-instance-credential-exfiltration.json',
          import.meta.url,
        ),
        'utf8',
      ),
    );
    const reports = await engine.handleEvent(event);
    expect(reports).toHaveLength(1);
    return reports[0]!;
  } finally {
    await fake.close();
  }
};

let applied: Report;
let held: Report;

beforeAll(async () => {
  applied = timedAt10ms(await respond(), 1_500);
  held = timedAt10ms(
    await respond({
      gate: { admit: async () => ({ admitted: false, reason: 'over 50 targets this hour in 111122223333' }) },
    }),
    40,
  );
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('an applied containment report', () => {
  it('is the engine’s: tags preserved, the profile detached, the sessions revoked, people told', () => {
    expect(applied.outcome).toBe('applied');
    expect(applied.steps.map((step) => `${step.phase} ${step.action} ${step.status}`)).toEqual([
      'preserve tag-resource applied',
      'preserve tag-resource applied',
      'contain detach-instance-profile applied',
      'revoke revoke-role-sessions applied',
      'notify notify applied',
    ]);
  });

  it('counts the finding under its outcome, with the service and Outcome dimensions', () => {
    const { metrics, documents, now } = capture();

    metrics.record(applied);
    metrics.flush();

    const handled = documentOf(documents(), RESPONSE_METRICS.findingsHandled);
    expect(handled).toEqual({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: 'Riposte',
            Dimensions: [['service', 'Outcome']],
            Metrics: [{ Name: 'FindingsHandled', Unit: 'Count' }],
          },
        ],
      },
      service: FUNCTION,
      Outcome: 'applied',
      FindingsHandled: 1,
    });
  });

  it('counts each step by action and status, also by status alone', () => {
    const { metrics, documents } = capture();

    metrics.record(applied);
    metrics.flush();

    const tags = documentOf(documents(), RESPONSE_METRICS.steps, { Action: 'tag-resource' });
    expect(tags._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Riposte',
        Dimensions: [
          ['service', 'Action', 'Status'],
          ['service', 'Status'],
        ],
        Metrics: [{ Name: 'Steps', Unit: 'Count' }],
      },
    ]);
    expect(tags).toMatchObject({ service: FUNCTION, Action: 'tag-resource', Status: 'applied', Steps: 2 });
    expect(summary(documents()).filter((line) => line.startsWith('Steps '))).toEqual([
      'Steps Action=detach-instance-profile,Status=applied: 1',
      'Steps Action=notify,Status=applied: 1',
      'Steps Action=revoke-role-sessions,Status=applied: 1',
      'Steps Action=tag-resource,Status=applied: 2',
    ]);
  });

  it('times the first containment to the detach call, not to the earlier notification or tags', () => {
    const { metrics, documents } = capture();

    metrics.record(applied);
    metrics.flush();

    // Every step started at the response's start; the detach step re-checked with the association its
    // plan had read, and its DisassociateIamInstanceProfile took 10 ms. notify's Publish (10 ms) does not contain.
    const timings = documentOf(documents(), RESPONSE_METRICS.timeToFirstContainment);
    expect(timings).toEqual({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: 'Riposte',
            Dimensions: [['service']],
            Metrics: [
              { Name: 'TimeToFirstContainment', Unit: 'Milliseconds' },
              { Name: 'ResponseDuration', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      service: FUNCTION,
      TimeToFirstContainment: 10,
      ResponseDuration: 1_500,
    });
    expect(timeToFirstContainment(applied)).toBe(10);
  });

  it('writes one document per dimension set, and no refusal, without a warning from Powertools', () => {
    const warnings: unknown[][] = [];
    const note = (...args: unknown[]) => void warnings.push(args);
    const { metrics, documents } = capture({
      logger: { debug: () => {}, info: () => {}, warn: note, error: note },
    });

    metrics.record(applied);
    metrics.flush();

    expect(summary(documents())).toEqual([
      'FindingsHandled Outcome=applied: 1',
      'ResponseDuration : 1500',
      'Steps Action=detach-instance-profile,Status=applied: 1',
      'Steps Action=notify,Status=applied: 1',
      'Steps Action=revoke-role-sessions,Status=applied: 1',
      'Steps Action=tag-resource,Status=applied: 2',
      'TimeToFirstContainment : 10',
    ]);
    expect(documents()).toHaveLength(6);
    expect(warnings).toEqual([]);
    for (const document of documents()) {
      expect(document._aws.CloudWatchMetrics).toHaveLength(1);
      expect(document._aws.CloudWatchMetrics[0]!.Namespace).toBe(METRICS_NAMESPACE);
    }
  });
});

describe('a held report', () => {
  it('counts the finding as held and every step as held, with no containment time', () => {
    const { metrics, documents } = capture();

    metrics.record(held);
    metrics.flush();

    expect(held.outcome).toBe('held');
    expect(held.steps.every((step) => step.status === 'held' && step.hold === 'limit')).toBe(true);
    expect(summary(documents())).toEqual([
      'FindingsHandled Outcome=held: 1',
      'ResponseDuration : 40',
      'Steps Action=detach-instance-profile,Status=held: 1',
      'Steps Action=notify,Status=held: 1',
      'Steps Action=revoke-role-sessions,Status=held: 1',
      'Steps Action=tag-resource,Status=held: 2',
    ]);
    expect(documentOf(documents(), RESPONSE_METRICS.steps, { Action: 'notify' })).toMatchObject({
      Status: 'held',
      Steps: 1,
    });
    expect(timeToFirstContainment(held)).toBeUndefined();
  });
});

describe('a refusal', () => {
  it('counts the finding under its result code and the refusal by reason', () => {
    const { metrics, documents, now } = capture();

    metrics.recordRefusal('FINDING_UNVERIFIED');
    metrics.recordRefusal('ACCOUNT_NOT_ALLOWED');
    metrics.recordRefusal('FINDING_UNVERIFIED');
    metrics.flush();

    expect(documentOf(documents(), RESPONSE_METRICS.refusals, { Reason: 'FINDING_UNVERIFIED' })).toEqual({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: 'Riposte',
            Dimensions: [['service', 'Reason']],
            Metrics: [{ Name: 'Refusals', Unit: 'Count' }],
          },
        ],
      },
      service: FUNCTION,
      Reason: 'FINDING_UNVERIFIED',
      Refusals: 2,
    });
    expect(summary(documents())).toEqual([
      'FindingsHandled Outcome=ACCOUNT_NOT_ALLOWED: 1',
      'FindingsHandled Outcome=FINDING_UNVERIFIED: 2',
      'Refusals Reason=ACCOUNT_NOT_ALLOWED: 1',
      'Refusals Reason=FINDING_UNVERIFIED: 2',
    ]);
    expect(summary(documents()).some((line) => line.startsWith('Steps') || line.startsWith('Response'))).toBe(
      false,
    );
  });
});

describe('flushing', () => {
  it('writes nothing when nothing was recorded, and forgets what it wrote', () => {
    const { metrics, lines } = capture();

    metrics.flush();
    metrics.recordRefusal('ACCOUNT_NOT_ALLOWED');
    metrics.flush();
    const afterFirst = lines.length;
    metrics.flush();

    expect(afterFirst).toBe(2);
    expect(lines).toHaveLength(2);
  });

  it('splits more than 99 samples of a metric over several documents, counts in the first', () => {
    const { metrics, documents } = capture();

    for (let index = 0; index < 250; index++) metrics.record(held);
    metrics.flush();

    const timings = documents().filter((document) => 'ResponseDuration' in document);
    expect(timings.map((document) => (document.ResponseDuration as number[]).length)).toEqual([99, 99, 52]);
    expect(documentOf(documents(), RESPONSE_METRICS.findingsHandled)).toMatchObject({
      Outcome: 'held',
      FindingsHandled: 250,
    });
  });

  it('names the service after the function, else riposte, and writes lines on standard output', () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });

    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'riposte-prod');
    const named = createResponseMetrics();
    named.recordRefusal('FINDING_TOO_OLD');
    named.flush();
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', '');
    const unnamed = createResponseMetrics({ namespace: 'RiposteStaging' });
    unnamed.recordRefusal('FINDING_TOO_OLD');
    unnamed.flush();
    vi.restoreAllMocks();

    const documents = written.map((line) => JSON.parse(line) as EmfDocument);
    expect(written.every((line) => line.endsWith('}\n'))).toBe(true);
    expect(
      documents.map((document) => [document.service, document._aws.CloudWatchMetrics[0]!.Namespace]),
    ).toEqual([
      ['riposte-prod', 'Riposte'],
      ['riposte-prod', 'Riposte'],
      ['riposte', 'RiposteStaging'],
      ['riposte', 'RiposteStaging'],
    ]);
  });
});

describe('timeToFirstContainment', () => {
  it('counts a failed mutating call before the successful one, from the step’s start', () => {
    const report: Report = {
      ...applied,
      startedAt: '2026-11-27T18:30:00.000Z',
      steps: [
        {
          ...applied.steps[2]!,
          startedAt: '2026-11-27T18:30:00.250Z',
          calls: [
            {
              service: 'EC2',
              operation: 'DisassociateIamInstanceProfile',
              input: {},
              mutating: true,
              durationMs: 30,
              errorCode: 'RequestLimitExceeded',
            },
            {
              service: 'EC2',
              operation: 'DisassociateIamInstanceProfile',
              input: {},
              mutating: true,
              durationMs: 45,
            },
          ],
        },
        {
          ...applied.steps[4]!,
          startedAt: '2026-11-27T18:30:00.000Z',
          calls: [{ service: 'SNS', operation: 'Publish', input: {}, mutating: true, durationMs: 5 }],
        },
      ],
    };

    expect(timeToFirstContainment(report)).toBe(325);
  });

  it('is undefined for a dry run, whose calls were planned and not made', () => {
    const dryRun: Report = {
      ...applied,
      mode: 'dry-run',
      outcome: 'dry-run',
      steps: applied.steps.map(({ startedAt: _startedAt, ...rest }) => ({
        ...rest,
        status: 'dry-run' as const,
        calls: rest.calls.map(({ service, operation, input, mutating }) => ({
          service,
          operation,
          input,
          mutating,
        })),
      })),
    };

    expect(timeToFirstContainment(dryRun)).toBeUndefined();
  });
});
