import type { ActionTarget, Finding, MutationGate, MutationRequest } from '@riposte/core';
import { normalizeFinding } from '@riposte/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbBreaker, createMemoryBreaker } from '../../src/index.js';
import { type LocalDynamoDb, startDynalite } from '../helpers/dynalite.js';
import { readEvent } from '../helpers/harness.js';

const ACCOUNT = '111122223333';
const finding: Finding = normalizeFinding(readEvent('scenario-instance-credential-exfiltration.json'));

const instance = (index: number, accountId = ACCOUNT): MutationRequest => {
  const id = `i-0a1b2c3d4e5f6${String(index).padStart(4, '0')}`;
  const target: ActionTarget = {
    kind: 'instance',
    id,
    accountId,
    region: 'us-east-1',
    label: `instance ${id}`,
  };
  return {
    finding,
    target,
    playbook: 'ec2-instance-credential-exfiltration',
    action: 'detach-instance-profile',
  };
};

const notification: MutationRequest = {
  finding,
  target: { kind: 'finding', id: finding.id, accountId: ACCOUNT, region: 'us-east-1', label: 'finding' },
  playbook: 'ec2-instance-credential-exfiltration',
  action: 'notify',
};

/** A clock the test moves. */
const clockAt = (start: string) => {
  let now = Date.parse(start);
  return {
    clock: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
};

const admitted = async (gate: MutationGate, requests: MutationRequest[]) => {
  const decisions = [];
  for (const request of requests) decisions.push((await gate.admit(request)).admitted);
  return decisions;
};

let dynamo: LocalDynamoDb;
let tables = 0;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});

const breakers: [string, (max: number, clock: () => Date) => Promise<MutationGate>][] = [
  ['in memory', async (max, clock) => createMemoryBreaker({ maxTargetsPerHour: max, clock })],
  [
    'in DynamoDB',
    async (max, clock) => {
      const tableName = `riposte-breaker-${++tables}`;
      await dynamo.createTable(tableName);
      return createDynamoDbBreaker({ tableName, client: dynamo.client, maxTargetsPerHour: max, clock });
    },
  ],
];

describe.each(breakers)('the circuit breaker %s', (_name, make) => {
  it('holds the targets past the hourly cap of an account, with the reason', async () => {
    const { clock } = clockAt('2025-06-03T16:00:00Z');
    const gate = await make(3, clock);

    const decisions = await admitted(
      gate,
      [1, 2, 3, 4, 5].map((index) => instance(index)),
    );
    const held = await gate.admit(instance(6));

    expect(decisions).toEqual([true, true, true, false, false]);
    expect(held).toEqual({
      admitted: false,
      reason: expect.stringContaining(`3 targets in account ${ACCOUNT} were changed in the last hour`),
    });
  });

  it('counts a target once, however many steps change it', async () => {
    const { clock } = clockAt('2025-06-03T16:00:00Z');
    const gate = await make(2, clock);

    expect(await admitted(gate, [instance(1), instance(1), instance(2), instance(1), instance(3)])).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('lets notifications through and keeps accounts apart', async () => {
    const { clock } = clockAt('2025-06-03T16:00:00Z');
    const gate = await make(1, clock);

    expect(
      await admitted(gate, [instance(1), instance(2), notification, instance(2, '444455556666')]),
    ).toEqual([true, false, true, true]);
  });

  it('forgets targets after a rolling hour', async () => {
    const { clock, advance } = clockAt('2025-06-03T16:00:00Z');
    const gate = await make(2, clock);
    await admitted(gate, [instance(1)]);
    advance(30 * 60_000);
    await admitted(gate, [instance(2)]);

    const atCap = await gate.admit(instance(3));
    advance(31 * 60_000);
    const afterFirstExpired = await gate.admit(instance(3));

    expect(atCap.admitted).toBe(false);
    expect(afterFirstExpired.admitted).toBe(true);
  });
});

describe('the circuit breaker in DynamoDB across containers', () => {
  it('admits exactly the cap when many containers race for it', async () => {
    const tableName = `riposte-breaker-${++tables}`;
    await dynamo.createTable(tableName);
    const { clock } = clockAt('2025-06-03T16:00:00Z');
    const containers = Array.from({ length: 4 }, () =>
      createDynamoDbBreaker({ tableName, client: dynamo.client, maxTargetsPerHour: 5, clock }),
    );

    const decisions = await Promise.all(
      Array.from({ length: 12 }, (_, index) => containers[index % 4]!.admit(instance(index))),
    );

    expect(decisions.filter((decision) => decision.admitted)).toHaveLength(5);
  });

  it('holds (fails closed) when the table cannot be reached', async () => {
    const gate = createDynamoDbBreaker({
      tableName: 'no-such-table',
      client: dynamo.client,
      maxTargetsPerHour: 50,
    });

    await expect(gate.admit(instance(1))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
