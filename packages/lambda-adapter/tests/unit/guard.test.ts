import { randomUUID } from 'node:crypto';
import { type Finding, normalize } from '@riposte/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Completion,
  createDynamoDbStore,
  createIdempotencyGuard,
  createLogger,
  createMemoryStore,
  type FindingResult,
  findingKey,
  type GuardClaim,
  type GuardedWork,
  type IdempotencyStore,
  IdempotencyStoreError,
  occurrenceOf,
  type PreviousCompletion,
  subjectOf,
  type VerificationSummary,
} from '../../src/index.js';
import { startDynalite } from '../helpers/dynalite.js';
import { captureLogs, readEvent } from '../helpers/harness.js';

const NOW = Date.parse('2025-06-03T16:00:00.000Z');
const LATER = '2025-06-03T15:07:12.481Z';
const LATEST = '2025-06-03T15:37:12.481Z';
const DETECTOR = '12abc34d567e8fa901bc2d34e56789f0';
const PLAYBOOK = 'ec2-instance-credential-exfiltration';

const [scenario] = normalize(readEvent('scenario-instance-credential-exfiltration.json')) as [Finding];
const verified = (requestId: string): VerificationSummary => ({
  status: 'verified',
  via: 'own-detector',
  detectorId: DETECTOR,
  requestIds: [requestId],
  durationMs: 12,
});

/** The claim the handler makes for the scenario finding (or a later occurrence of it). */
const claimOf = (overrides: Partial<GuardClaim> = {}, finding: Finding = scenario): GuardClaim => ({
  key: findingKey({ ...finding, detectorId: DETECTOR }),
  occurrence: occurrenceOf(finding.updatedAt),
  invocationId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  holdMs: 60_000,
  subject: subjectOf(finding, 'enforce', verified('req-1')),
  ...overrides,
});

const handled = (claim: GuardClaim, message = 'remediation applied'): FindingResult => ({
  ...claim.subject,
  code: 'HANDLED',
  message,
  outcome: 'applied',
  matched: [PLAYBOOK],
  retryable: false,
});

/** Work that records each call and its `previous`, and hands back what `settle` says. */
const recordingWork = (settle: (previous: PreviousCompletion | undefined) => Completion) => {
  const calls: (PreviousCompletion | undefined)[] = [];
  const work: GuardedWork = async (previous) => {
    calls.push(previous);
    return settle(previous);
  };
  return { work, calls };
};

/** Work that runs until the test lets it finish. */
const heldWork = () => {
  let finish: (completion: Completion) => void = () => undefined;
  let started: () => void = () => undefined;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  const work: GuardedWork = () => {
    started();
    return new Promise((resolve) => {
      finish = resolve;
    });
  };
  return { work, running, finish: (completion: Completion) => finish(completion) };
};

const dynalite = await startDynalite();
afterAll(() => dynalite.close());

/** A fresh store of each kind the function runs with: in memory, and DynamoDB (on dynalite). */
const freshStore: Record<'memory' | 'DynamoDB', () => Promise<IdempotencyStore>> = {
  memory: async () => createMemoryStore(),
  DynamoDB: async () => {
    const tableName = `riposte-guard-${randomUUID()}`;
    await dynalite.createTable(tableName);
    return createDynamoDbStore({ tableName, client: dynalite.client });
  },
};

describe.each(['memory', 'DynamoDB'] as const)('the idempotency guard on the %s store', (kind) => {
  const setup = async () => {
    const clock = { now: NOW };
    const logs = captureLogs();
    const guard = createIdempotencyGuard({
      store: await freshStore[kind](),
      ttlSeconds: 30 * 24 * 3600,
      logger: createLogger({ level: 'info', destination: logs.destination }),
      clock: () => new Date(clock.now),
    });
    return { guard, clock, logs };
  };

  it('runs the work of a first delivery once, with nothing before it, and answers with its result', async () => {
    const { guard } = await setup();
    const claim = claimOf();
    const { work, calls } = recordingWork(() => ({
      result: handled(claim),
      done: [PLAYBOOK],
      finished: true,
    }));

    const result = await guard.run(claim, work);

    expect(result).toEqual(handled(claim));
    expect(calls).toEqual([undefined]);
  });

  it('answers a completed duplicate with the stored answer and the current verification, running nothing', async () => {
    const { guard } = await setup();
    const first = recordingWork(() => ({ result: handled(claimOf()), done: [PLAYBOOK], finished: true }));
    await guard.run(claimOf(), first.work);
    const again = recordingWork(() => {
      throw new Error('a duplicate must not run');
    });
    const claim = claimOf({ subject: subjectOf(scenario, 'enforce', verified('req-2')) });

    const result = await guard.run(claim, again.work);

    expect(again.calls).toEqual([]);
    expect(result).toEqual({
      ...handled(claimOf()),
      code: 'ALREADY_HANDLED',
      message: `already handled (occurrence ${claim.occurrence}); nothing was run again; earlier: remediation applied`,
      verification: verified('req-2'),
    });
  });

  it('answers IN_PROGRESS, not worth retrying, to a duplicate of the occurrence being handled', async () => {
    const { guard } = await setup();
    const first = heldWork();
    const running = guard.run(claimOf(), first.work);
    await first.running;
    const again = recordingWork(() => ({ result: handled(claimOf()), done: [], finished: true }));

    const duplicate = await guard.run(claimOf(), again.work);
    first.finish({ result: handled(claimOf()), done: [PLAYBOOK], finished: true });
    await running;

    expect(again.calls).toEqual([]);
    expect(duplicate).toMatchObject({
      code: 'IN_PROGRESS',
      message: 'a duplicate of a delivery being handled now; nothing was run',
      retryable: false,
      findingId: scenario.id,
    });
  });

  it('answers IN_PROGRESS, worth retrying, to another occurrence while one is being handled', async () => {
    const { guard } = await setup();
    const first = heldWork();
    const running = guard.run(claimOf(), first.work);
    await first.running;
    const update = { ...scenario, updatedAt: LATER };

    const duplicate = await guard.run(
      claimOf({}, update),
      recordingWork(() => ({ result: handled(claimOf()), done: [], finished: true })).work,
    );
    first.finish({ result: handled(claimOf()), done: [PLAYBOOK], finished: true });
    await running;

    expect(duplicate).toMatchObject({
      code: 'IN_PROGRESS',
      message: `another occurrence (${claimOf().occurrence}) of this finding is being handled; retry later`,
      retryable: true,
    });
  });

  it('releases the record when the work fails, so that a retry runs it', async () => {
    const { guard } = await setup();
    const failure = new Error('the engine broke');

    await expect(
      guard.run(claimOf(), async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    const retry = recordingWork(() => ({ result: handled(claimOf()), done: [PLAYBOOK], finished: true }));

    expect(await guard.run(claimOf(), retry.work)).toMatchObject({ code: 'HANDLED' });
    expect(retry.calls).toEqual([undefined]);
  });

  it('releases an unfinished occurrence, keeping the playbooks that are done for the next delivery', async () => {
    const { guard } = await setup();
    const partial = recordingWork(() => ({
      result: { ...handled(claimOf(), 'remediation partly applied'), retryable: true },
      done: [PLAYBOOK],
      finished: false,
    }));
    await guard.run(claimOf(), partial.work);
    const next = recordingWork((previous) => ({
      result: handled(claimOf()),
      done: [...(previous?.playbooks ?? []), 'notify-security'],
      finished: true,
    }));

    await guard.run(claimOf(), next.work);

    expect(next.calls).toEqual([{ playbooks: [PLAYBOOK] }]);
    const after = recordingWork(() => ({ result: handled(claimOf()), done: [], finished: true }));
    expect(await guard.run(claimOf(), after.work)).toMatchObject({ code: 'ALREADY_HANDLED' });
    expect(after.calls).toEqual([]);
  });

  it('runs a later occurrence with what earlier ones settled, and keeps the playbooks of every occurrence', async () => {
    const { guard } = await setup();
    await guard.run(
      claimOf(),
      recordingWork(() => ({ result: handled(claimOf()), done: [PLAYBOOK], finished: true })).work,
    );
    const update = claimOf({}, { ...scenario, updatedAt: LATER });
    const later = recordingWork(() => ({
      result: handled(update),
      done: ['notify-security'],
      finished: true,
    }));

    await guard.run(update, later.work);
    const earlier = recordingWork(() => ({ result: handled(claimOf()), done: [], finished: true }));
    const replay = await guard.run(claimOf(), earlier.work);

    const latest = claimOf({}, { ...scenario, updatedAt: LATEST });
    const third = recordingWork(() => ({ result: handled(latest), done: [], finished: true }));
    await guard.run(latest, third.work);

    expect(later.calls).toEqual([
      { updatedAt: claimOf().occurrence, playbooks: [PLAYBOOK], report: handled(claimOf()) },
    ]);
    expect(earlier.calls).toEqual([]);
    expect(replay).toMatchObject({ code: 'ALREADY_HANDLED', updatedAt: update.occurrence });
    expect(third.calls).toEqual([
      { updatedAt: update.occurrence, playbooks: [PLAYBOOK, 'notify-security'], report: handled(update) },
    ]);
  });

  // Lambda retries an invocation under the same request id: each attempt still holds the record as its own.
  it('lets a retry of the invocation take over once the hold passed, and the stalled attempt cannot overwrite it', async () => {
    const { guard, clock, logs } = await setup();
    const stalled = heldWork();
    const first = guard.run(claimOf({ holdMs: 1_000 }), stalled.work);
    await stalled.running;
    clock.now = NOW + 1_001;
    const taker = heldWork();
    const second = guard.run(claimOf(), taker.work);
    await taker.running;

    stalled.finish({
      result: handled(claimOf(), 'remediation applied late'),
      done: [PLAYBOOK],
      finished: true,
    });
    const late = await first;
    taker.finish({
      result: handled(claimOf(), 'remediation applied by the taker'),
      done: [],
      finished: true,
    });
    await second;
    const replay = await guard.run(
      claimOf(),
      recordingWork(() => ({ result: handled(claimOf()), done: [], finished: true })).work,
    );

    expect(late).toMatchObject({ code: 'HANDLED', message: 'remediation applied late' });
    expect(logs.entries()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        findingId: scenario.id,
        msg: 'the idempotency record was taken over while this invocation ran (its deadline passed)',
      }),
    );
    expect(replay.message).toContain('earlier: remediation applied by the taker');
  });
});

describe('the idempotency guard when the store fails', () => {
  const failing = (operation: 'begin' | 'complete', error: unknown): IdempotencyStore => {
    const store = createMemoryStore();
    return {
      ...store,
      [operation]: async () => {
        throw error;
      },
    };
  };
  const guardOn = (store: IdempotencyStore) => {
    const logs = captureLogs();
    const guard = createIdempotencyGuard({
      store,
      ttlSeconds: 3600,
      logger: createLogger({ level: 'info', destination: logs.destination }),
      clock: () => new Date(NOW),
    });
    return { guard, logs };
  };
  const throttled = new IdempotencyStoreError(
    'DynamoDB UpdateItem on riposte failed with ThrottlingException',
    {
      retryable: true,
    },
  );

  it('answers IDEMPOTENCY_FAILED, with the store’s retryability, and runs nothing when it cannot begin', async () => {
    const { guard } = guardOn(failing('begin', throttled));
    const { work, calls } = recordingWork(() => ({ result: handled(claimOf()), done: [], finished: true }));

    const result = await guard.run(claimOf(), work);

    expect(calls).toEqual([]);
    expect(result).toEqual({
      ...claimOf().subject,
      code: 'IDEMPOTENCY_FAILED',
      message: `${throttled.message}; nothing was run`,
      retryable: true,
    });
  });

  it('lets an error that is not the store’s go on to the caller', async () => {
    const defect = new TypeError('not a store error');
    const { guard } = guardOn(failing('begin', defect));

    await expect(
      guard.run(claimOf(), async () => ({ result: handled(claimOf()), done: [], finished: true })),
    ).rejects.toBe(defect);
  });

  it('keeps the answer and logs the error when the finished record cannot be written', async () => {
    const { guard, logs } = guardOn(failing('complete', throttled));

    const result = await guard.run(claimOf(), async () => ({
      result: handled(claimOf()),
      done: [PLAYBOOK],
      finished: true,
    }));

    expect(result).toEqual(handled(claimOf()));
    expect(logs.entries()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        findingId: scenario.id,
        msg: 'could not record the finding as handled',
      }),
    );
  });
});
