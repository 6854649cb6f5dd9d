import { afterEach, describe, expect, it } from 'vitest';
import { scenarioSeed, startFakeAws } from '../../../../testing/fake-aws/index.js';
import { recordCounts, tally } from '../../../core/tests/reliability/counts.js';
import { type LocalDynamoDb, startDynalite } from '../helpers/dynalite.js';
import { type Lambda, resultsOf, scenarioEvents, startLambda, successfulMutations } from './support.js';

/**
 * Duplicates: EventBridge, Lambda retries and GuardDuty's admin and member accounts can deliver one
 * finding many times at once. Several containers (handler instances) share the DynamoDB idempotency
 * table (dynalite) and the account (fake-aws); every copy is delivered at the same moment. Exactly one
 * copy runs the playbooks; every mutation happens once.
 */
const SUITE = 'lambda-adapter: duplicates';
const CONTAINERS = 4;
const COPIES = 16;
const TABLE = 'riposte-idempotency';

let dynamo: LocalDynamoDb | undefined;
let lambdas: Lambda[] = [];
afterEach(async () => {
  await lambdas[0]?.fake.close();
  await dynamo?.close();
  lambdas = [];
  dynamo = undefined;
});

describe('the same event delivered many times at once', () => {
  it('runs once across containers sharing the DynamoDB store, and every mutation happens once', async () => {
    // Arrange
    dynamo = await startDynalite();
    await dynamo.createTable(TABLE);
    const fake = await startFakeAws({ seed: scenarioSeed() });
    for (let index = 0; index < CONTAINERS; index++) {
      lambdas.push(
        await startLambda({
          fake,
          env: { RIPOSTE_IDEMPOTENCY_TABLE: TABLE },
          // The idempotency store and the circuit breaker share the table, as deployed.
          handler: { dynamodb: dynamo.client },
        }),
      );
    }
    const codes = tally();
    let sent = 0;
    const handledPerEvent: number[] = [];

    // Act: each scenario event, COPIES times at once, then COPIES more once the first wave is done.
    for (const event of scenarioEvents()) {
      for (const wave of [0, 1]) {
        const deliveries = Array.from({ length: COPIES }, (_, copy) =>
          (lambdas[copy % CONTAINERS] as Lambda).invoke(
            event,
            `wave-${wave}-copy-${copy}-${String(event.id)}`,
          ),
        );
        sent += COPIES;
        const results = (await Promise.all(deliveries)).flatMap((invocation) => resultsOf(invocation) ?? []);
        for (const result of results) codes.add(result.code);
        if (wave === 0) handledPerEvent.push(results.filter((result) => result.code === 'HANDLED').length);
        expect(results).toHaveLength(COPIES);
        expect(results.every((result) => !result.retryable)).toBe(true);
      }
    }

    // Assert
    const repeated = [...successfulMutations(fake)].filter(([, count]) => count > 1);
    recordCounts(SUITE, `${COPIES} concurrent copies of each scenario event, ${CONTAINERS} containers`, {
      inputs: scenarioEvents().length,
      duplicatesSent: sent,
      codes: { ...codes.counts, repeatedMutations: repeated.length },
    });
    expect(handledPerEvent).toEqual([1, 1, 1, 1]);
    expect(codes.counts.HANDLED).toBe(4);
    expect(repeated).toEqual([]);
    // The scenario's own response (see handler-bundle.test.ts): 10 mutations, 4 of them notifications.
    expect(fake.mutatingCalls()).toHaveLength(10);
  });
});
