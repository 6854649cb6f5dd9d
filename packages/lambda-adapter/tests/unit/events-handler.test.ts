import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InvocationResult, SqsBatchResult } from '../../src/index.js';
import { identitySts, lambdaContext, readEvent, testHandler } from '../helpers/harness.js';

/**
 * Security Hub input that core's normalize read and the handler refused as EVENT_UNSUPPORTED before the
 * adapter recognised findings with core's splitter. Both fixtures hold findings of account 644160558196.
 */
const SECURITY_HUB_ACCOUNT = '644160558196';

/** Security Hub's GetFindings response (core's input fixture; provenance in its SOURCES.md). */
const getFindingsResponse = () =>
  (
    JSON.parse(
      readFileSync(
        new URL(
          '../../../core/tests/fixtures/input/cloud-custodian-securityhub-getfindings.json',
          import.meta.url,
        ),
        'utf8',
      ),
    ) as { data: { Findings: Record<string, unknown>[] } }
  ).data;

/** A function in the findings' account, an hour after `updatedAt`. */
const handlerAt = (updatedAt: string) =>
  testHandler(undefined, {
    sts: identitySts(SECURITY_HUB_ACCOUNT),
    clock: () => new Date(Date.parse(updatedAt) + 3_600_000),
  });

describe('handler: Security Hub input it used to refuse', () => {
  it('handles each finding of a GetFindings response, refusing only the stale ones by age', async () => {
    // Arrange: five GuardDuty findings, updated from 2019-04-17 to 2019-06-24 (the newest first)
    const { handler, recorder } = await handlerAt('2019-06-24T18:06:33.303Z');

    // Act
    const { results } = (await handler(
      getFindingsResponse(),
      lambdaContext(SECURITY_HUB_ACCOUNT),
    )) as InvocationResult;

    // Assert: each finding was recognised and went on to admission; the four older than 7 days stop there
    expect(results.map((result) => [result.code, result.findingId])).toEqual([
      ['HANDLED', 'f6b5c52d7a829ed112f7556dd1cc40c4'],
      ['FINDING_TOO_OLD', '4cb5a629e9757b650d102f683cdbcd7b'],
      ['FINDING_TOO_OLD', '14b53c819ce4bebac32c31842a5d85f9'],
      ['FINDING_TOO_OLD', 'bab52b742e003b64aabbae94cb0c7888'],
      ['FINDING_TOO_OLD', 'f8b516324d4c8ef0f4c1228093268d82'],
    ]);
    expect(recorder.executed).toEqual(['f6b5c52d7a829ed112f7556dd1cc40c4:respond-to-every-finding']);
  });

  it("handles the detail of a Security Hub event in an SQS body (an input transformer's $.detail)", async () => {
    const { handler, recorder } = await handlerAt('2019-06-12T15:34:50.346Z');
    const { detail } = readEvent('securityhub-custom-action-consolelogin.json');

    const response = (await handler(
      {
        Records: [
          {
            eventSource: 'aws:sqs',
            messageId: 'm-detail',
            body: JSON.stringify(detail),
            eventSourceARN: `arn:aws:sqs:us-east-1:${SECURITY_HUB_ACCOUNT}:riposte-findings`,
          },
        ],
      },
      lambdaContext(SECURITY_HUB_ACCOUNT),
    )) as SqsBatchResult;

    expect(response.batchItemFailures).toEqual([]);
    expect(response.records[0]?.results).toEqual([
      expect.objectContaining({
        code: 'HANDLED',
        findingId: '4cb5a629e9757b650d102f683cdbcd7b',
        findingType: 'UnauthorizedAccess:IAMUser/ConsoleLogin',
      }),
    ]);
    expect(recorder.executed).toHaveLength(1);
  });
});
