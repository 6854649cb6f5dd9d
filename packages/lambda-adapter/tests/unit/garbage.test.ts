import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HandlerResult } from '../../src/index.js';
import { lambdaContext, readEvent, testHandler } from '../helpers/harness.js';

const ACCOUNT = '111122223333';
const base = readEvent('scenario-instance-credential-exfiltration.json');

/** Every JSON path of a value, so a generated mutation can hit any field of a real event. */
const pathsOf = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value)
    ? value.map((item, index) => [index, item] as const)
    : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, item]) => pathsOf(item, [...prefix, key]))];
};
const PATHS = pathsOf(base).filter((path) => path.length > 0);

const mutate = (
  event: unknown,
  path: (string | number)[],
  replacement: unknown,
  remove: boolean,
): unknown => {
  const copy = structuredClone(event) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete node[last];
  else node[last] = replacement;
  return copy;
};

const garbageValue = fc.anything({ maxDepth: 3, maxKeys: 5, withNullPrototype: true, withBigInt: false });

const mutatedEvent = fc
  .tuple(fc.nat(PATHS.length - 1), garbageValue, fc.boolean())
  .map(([index, replacement, remove]) => mutate(base, PATHS[index]!, replacement, remove));

const envelope = fc.record({
  source: fc.constantFrom('aws.guardduty', 'aws.securityhub', 'aws.ec2'),
  'detail-type': fc.constantFrom(
    'GuardDuty Finding',
    'Security Hub Findings - Imported',
    'Security Hub Findings - Custom Action',
    'Other',
  ),
  detail: fc.oneof(garbageValue, fc.record({ findings: fc.array(garbageValue, { maxLength: 3 }) })),
});

const body = fc.oneof(
  fc.string(),
  garbageValue.map((value) => JSON.stringify(value) ?? 'undefined'),
  mutatedEvent.map((event) => JSON.stringify(event)),
);

const batch = fc.record({
  Records: fc.array(
    fc.oneof(
      fc.record({
        eventSource: fc.constant('aws:sqs'),
        messageId: fc.oneof(fc.string(), garbageValue),
        body: fc.oneof(body, garbageValue),
      }),
      fc.record({
        EventSource: fc.constant('aws:sns'),
        Sns: fc.oneof(garbageValue, fc.record({ Message: body })),
      }),
      garbageValue,
    ),
    { maxLength: 4 },
  ),
});

const garbageContext = fc.oneof(
  garbageValue,
  fc.constant(lambdaContext(ACCOUNT)),
  fc.record({ getRemainingTimeInMillis: fc.constant(() => Number.NaN), invokedFunctionArn: garbageValue }),
);

const answers = (response: HandlerResult): boolean =>
  'batchItemFailures' in response
    ? Array.isArray(response.batchItemFailures) && Array.isArray(response.records)
    : Array.isArray(response.results) && response.results.every((result) => typeof result.code === 'string');

describe('handler with garbage', () => {
  it.each([
    ['arbitrary values', garbageValue],
    ['real events with one field replaced or removed', mutatedEvent],
    ['EventBridge envelopes with garbage details', envelope],
    ['SQS and SNS batches of garbage', batch],
  ])('never throws for %s', async (_, events) => {
    const { handler } = await testHandler({ RIPOSTE_MODE: 'enforce', LOG_LEVEL: 'silent' });

    await fc.assert(
      fc.asyncProperty(events, garbageContext, async (event, context) => {
        const response = await handler(event, context);
        expect(answers(response)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
