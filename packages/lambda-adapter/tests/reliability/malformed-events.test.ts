import { describe, expect, it } from 'vitest';
import { recordCounts, tally } from '../../../core/tests/reliability/counts.js';
import {
  jsonPaths,
  NON_GUARDDUTY_EVENTS,
  nested,
  replaceAt,
  WRONG_TYPES,
} from '../../../core/tests/reliability/inputs.js';
import type { FindingResult, HandlerResult, SqsBatchResult } from '../../src/index.js';
import { lambdaContext, scenarioEvent, testHandler } from '../helpers/harness.js';

/**
 * Malformed invocations: whatever arrives, the handler answers with a result code and never throws
 * (it throws only on purpose, to have Lambda retry, which none of these may ask for). The handler
 * runs the recording action on every finding it can read, so each readable input is also planned
 * and executed.
 */
const SUITE = 'lambda-adapter: malformed events';
const ACCOUNT = '111122223333';
const EXPECTED = new Set([
  'HANDLED',
  'EVENT_UNSUPPORTED',
  'FINDING_UNSUPPORTED',
  'FINDING_INVALID',
  'BODY_INVALID',
  // A wrong account, partition or time: refused before anything runs.
  'ACCOUNT_NOT_ALLOWED',
  'FINDING_TOO_OLD',
  'FINDING_FROM_FUTURE',
]);

const resultsOf = (response: HandlerResult): FindingResult[] =>
  'results' in response ? response.results : response.records.flatMap((record) => record.results);

const sqs = (bodies: string[]) => ({
  Records: bodies.map((body, index) => ({
    messageId: `c80e8021-a70a-42c7-a470-796e1186f${String(index).padStart(3, '0')}`,
    receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
    body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '7b270e59b47ff90a553787216d55d91d',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:riposte-findings`,
    awsRegion: 'us-east-1',
  })),
});

const sns = (message: string) => ({
  Records: [
    {
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `arn:aws:sns:us-east-1:${ACCOUNT}:guardduty-findings:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
      Sns: {
        Type: 'Notification',
        MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
        TopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:guardduty-findings`,
        Subject: null,
        Message: message,
        Timestamp: '2025-06-03T14:07:14.000Z',
        MessageAttributes: {},
      },
    },
  ],
});

/** Invokes and sorts the answer: the codes, and whatever escaped. */
const run = async (
  handler: Awaited<ReturnType<typeof testHandler>>['handler'],
  event: unknown,
  codes: ReturnType<typeof tally>,
  escapes: string[],
  where: string,
): Promise<HandlerResult | undefined> => {
  try {
    const response = await handler(event, lambdaContext(ACCOUNT));
    const results = resultsOf(response);
    if (results.length === 0) escapes.push(`${where}: no result`);
    for (const result of results) {
      codes.add(result.code);
      if (!EXPECTED.has(result.code)) escapes.push(`${where}: ${result.code} ${result.message}`);
    }
    return response;
  } catch (error) {
    escapes.push(`${where}: threw ${String(error)}`);
    return undefined;
  }
};

describe('the handler on malformed invocations', () => {
  it('answers every truncation of an event, in an SQS body or an SNS message, without throwing', async () => {
    // Arrange
    const { handler } = await testHandler();
    const text = JSON.stringify(scenarioEvent('01-instance-credential-exfiltration.json'));
    const cuts = Array.from({ length: 80 }, (_, index) => Math.floor((index * text.length) / 80));
    const codes = tally();
    const escapes: string[] = [];

    // Act
    const batch = (await run(handler, sqs(cuts.map((cut) => text.slice(0, cut))), codes, escapes, 'sqs')) as
      | SqsBatchResult
      | undefined;
    for (const cut of cuts) await run(handler, sns(text.slice(0, cut)), codes, escapes, `sns cut at ${cut}`);

    // Assert
    recordCounts(SUITE, 'truncated JSON in SQS bodies and SNS messages', {
      inputs: cuts.length * 2,
      codes: codes.counts,
    });
    expect(escapes.slice(0, 5)).toEqual([]);
    expect(codes.counts.BODY_INVALID).toBe(cuts.length * 2);
    // Garbage never goes back to the queue: it would come back forever.
    expect(batch?.batchItemFailures).toEqual([]);
  });

  it('answers a wrong type at every path of an event with a result code', async () => {
    // Arrange
    const { handler } = await testHandler();
    const event = scenarioEvent('01-instance-credential-exfiltration.json');
    const codes = tally();
    const escapes: string[] = [];
    let inputs = 0;

    // Act: each variant as a new finding, so none is answered from the idempotency record.
    for (const [index, path] of jsonPaths(event).entries()) {
      for (const wrong of WRONG_TYPES.slice(0, 5)) {
        inputs += 1;
        const variant = replaceAt(event, path, wrong) as { detail?: { id?: unknown } };
        if (typeof variant.detail?.id === 'string')
          variant.detail.id = `${variant.detail.id}-${index}-${inputs}`;
        await run(handler, variant, codes, escapes, `/${path.join('/')} = ${JSON.stringify(wrong)}`);
      }
    }

    // Assert
    recordCounts(SUITE, 'wrong types at every path', { inputs, codes: codes.counts });
    expect(escapes.slice(0, 5)).toEqual([]);
    expect(codes.counts.FINDING_INVALID).toBeGreaterThan(0);
    expect(codes.counts.HANDLED).toBeGreaterThan(0);
  });

  it('answers other services events, non-events, huge and deeply nested events with a result code', async () => {
    // Arrange
    const { handler } = await testHandler();
    // Each a finding of its own, so none is answered from the idempotency record of another.
    const event = (id: string) =>
      replaceAt(scenarioEvent('01-instance-credential-exfiltration.json'), ['detail', 'id'], id);
    const inputs: [string, unknown][] = [
      ...Object.entries(NON_GUARDDUTY_EVENTS),
      [
        'a 5 MB description',
        replaceAt(event('huge-description'), ['detail', 'description'], 'x'.repeat(5 * 1024 * 1024)),
      ],
      [
        'a 100,000-character finding type',
        replaceAt(event('huge-type'), ['detail', 'type'], `Recon:EC2/${'P'.repeat(100_000)}`),
      ],
      [
        '10,000 levels in service.additionalInfo',
        replaceAt(event('deep'), ['detail', 'service', 'additionalInfo'], nested(10_000, 1)),
      ],
      ['an SQS body 10,000 objects deep', sqs([`${'{"nested":'.repeat(10_000)}1${'}'.repeat(10_000)}`])],
      ['an SNS message of another service', sns(JSON.stringify(NON_GUARDDUTY_EVENTS['S3 Object Created']))],
    ];
    const codes = tally();
    const escapes: string[] = [];

    // Act
    for (const [where, input] of inputs) await run(handler, input, codes, escapes, where);

    // Assert
    recordCounts(SUITE, 'other events, huge and deep events', { inputs: inputs.length, codes: codes.counts });
    expect(escapes).toEqual([]);
    expect(codes.counts.EVENT_UNSUPPORTED).toBeGreaterThan(0);
  });
});
