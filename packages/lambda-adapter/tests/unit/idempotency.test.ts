import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BeginRequest,
  createDynamoDbStore,
  createMemoryStore,
  type FindingResult,
  type IdempotencyStore,
  type InvocationResult,
  occurrenceOf,
} from '../../src/index.js';
import { type LocalDynamoDb, startDynalite } from '../helpers/dynalite.js';
import { lambdaContext, readEvent, testHandler } from '../helpers/harness.js';

const NOW = Date.parse('2025-06-03T15:00:00.000Z');
const FIRST = '2025-06-03T14:07:12.481Z';
const LATER = '2025-06-03T15:07:12.481Z';
const DAY = 24 * 3600;
const DETECTOR = '12abc34d567e8fa901bc2d34e56789f0';

const report = (updatedAt: string): FindingResult => ({
  code: 'HANDLED',
  message: 'remediation applied',
  findingId: '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01',
  updatedAt,
  mode: 'enforce',
  outcome: 'applied',
  matched: ['ec2-instance-credential-exfiltration'],
  steps: [],
  retryable: false,
});

let local: LocalDynamoDb;
let tables = 0;

beforeAll(async () => {
  local = await startDynalite();
});

afterAll(async () => {
  await local.close();
});

const stores: [string, () => Promise<IdempotencyStore>][] = [
  ['memory', async () => createMemoryStore()],
  [
    'DynamoDB (dynalite)',
    async () => {
      const tableName = `riposte-idempotency-${++tables}`;
      await local.createTable(tableName);
      return createDynamoDbStore({ tableName, client: local.client });
    },
  ],
];

describe.each(stores)('%s idempotency store', (_, createStore) => {
  const request = (overrides: Partial<BeginRequest> = {}): BeginRequest => ({
    key: '111122223333/7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01',
    updatedAt: FIRST,
    owner: 'invocation-1',
    now: NOW,
    inProgressUntil: NOW + 60_000,
    expiresAt: NOW / 1000 + 30 * DAY,
    ...overrides,
  });
  const complete = (store: IdempotencyStore, owner = 'invocation-1', updatedAt = FIRST) =>
    store.complete({
      key: request().key,
      owner,
      updatedAt,
      playbooks: ['ec2-instance-credential-exfiltration'],
      report: report(updatedAt),
      expiresAt: NOW / 1000 + 30 * DAY,
    });

  it('acquires a finding seen for the first time, with nothing before it', async () => {
    const store = await createStore();

    expect(await store.begin(request())).toEqual({ status: 'acquired' });
  });

  it('refuses a duplicate while the first delivery is in progress', async () => {
    const store = await createStore();
    await store.begin(request());

    const duplicate = await store.begin(request({ owner: 'invocation-2' }));

    expect(duplicate).toMatchObject({
      status: 'in-progress',
      record: { owner: 'invocation-1', updatedAt: FIRST },
    });
  });

  it('answers a completed occurrence with the stored report', async () => {
    const store = await createStore();
    await store.begin(request());
    expect(await complete(store)).toBe(true);

    const duplicate = await store.begin(request({ owner: 'invocation-2' }));

    expect(duplicate).toMatchObject({
      status: 'completed',
      record: {
        completedUpdatedAt: FIRST,
        playbooks: ['ec2-instance-credential-exfiltration'],
        report: report(FIRST),
      },
    });
  });

  it('acquires a later occurrence with the previous completion', async () => {
    const store = await createStore();
    await store.begin(request());
    await complete(store);

    const update = await store.begin(request({ owner: 'invocation-2', updatedAt: LATER }));

    expect(update).toEqual({
      status: 'acquired',
      previous: {
        updatedAt: FIRST,
        playbooks: ['ec2-instance-credential-exfiltration'],
        report: report(FIRST),
      },
    });
  });

  it('treats an older occurrence after a later one completed as handled', async () => {
    const store = await createStore();
    await store.begin(request({ updatedAt: LATER }));
    await complete(store, 'invocation-1', LATER);

    expect(await store.begin(request({ owner: 'invocation-2' }))).toMatchObject({ status: 'completed' });
  });

  it('lets another invocation take over once the in-progress deadline passed', async () => {
    const store = await createStore();
    await store.begin(request({ inProgressUntil: NOW + 1_000 }));

    const takeover = await store.begin(request({ owner: 'invocation-2', now: NOW + 1_001 }));

    expect(takeover).toEqual({ status: 'acquired' });
    expect(await complete(store, 'invocation-1')).toBe(false);
    expect(await complete(store, 'invocation-2')).toBe(true);
  });

  it('lets a retry acquire a released record at once', async () => {
    const store = await createStore();
    await store.begin(request());
    await store.release(request().key, 'invocation-1');

    expect(await store.begin(request({ owner: 'invocation-2' }))).toEqual({ status: 'acquired' });
  });

  it('ignores a release by an invocation that does not hold the record', async () => {
    const store = await createStore();
    await store.begin(request());
    await store.release(request().key, 'invocation-2');

    expect(await store.begin(request({ owner: 'invocation-3' }))).toMatchObject({ status: 'in-progress' });
  });

  it('forgets a record once its TTL passed, as DynamoDB may not have deleted it yet', async () => {
    const store = await createStore();
    await store.begin(request({ expiresAt: NOW / 1000 + 10 }));
    await complete(store);

    const much = NOW + 31 * DAY * 1000;
    const again = await store.begin(
      request({ owner: 'invocation-2', now: much, inProgressUntil: much + 60_000 }),
    );

    expect(again).toEqual({ status: 'acquired' });
  });

  it('lets exactly one of many concurrent duplicates acquire', async () => {
    const store = await createStore();

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, index) => store.begin(request({ owner: `invocation-${index}` }))),
    );

    expect(outcomes.filter((outcome) => outcome.status === 'acquired')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === 'in-progress')).toHaveLength(19);
  });
});

describe('DynamoDB idempotency through the handler', () => {
  const event = () => readEvent('scenario-instance-credential-exfiltration.json');
  const context = lambdaContext('111122223333');

  it('executes exactly once when many containers receive the same event at the same time', async () => {
    const tableName = `riposte-idempotency-${++tables}`;
    await local.createTable(tableName);
    const env = { RIPOSTE_MODE: 'enforce', RIPOSTE_IDEMPOTENCY_TABLE: tableName, LOG_LEVEL: 'silent' };
    const containers = await Promise.all(
      Array.from({ length: 8 }, () => testHandler(env, { dynamodb: local.client })),
    );

    const responses = (await Promise.all(
      containers.map(({ handler }) => handler(event(), context)),
    )) as InvocationResult[];

    const executed = containers.flatMap(({ recorder }) => recorder.executed);
    const codes = responses.map((response) => response.results[0]!.code);
    expect(executed).toHaveLength(2);
    expect(codes.filter((code) => code === 'HANDLED')).toHaveLength(1);
    expect(
      codes
        .filter((code) => code !== 'HANDLED')
        .every((code) => code === 'IN_PROGRESS' || code === 'ALREADY_HANDLED'),
    ).toBe(true);
  });

  it('keeps the record with a TTL and the report for the duplicate', async () => {
    const tableName = `riposte-idempotency-${++tables}`;
    await local.createTable(tableName);
    const { handler } = await testHandler(
      { RIPOSTE_MODE: 'enforce', RIPOSTE_IDEMPOTENCY_TABLE: tableName, LOG_LEVEL: 'silent' },
      { dynamodb: local.client },
    );
    await handler(event(), context);

    const { Item: item } = await local.client.send(
      new GetItemCommand({
        TableName: tableName,
        // partition/account/region/detector/finding id: one record per finding wherever it comes from.
        Key: { pk: { S: `aws/111122223333/us-east-1/${DETECTOR}/7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01` } },
      }),
    );

    expect(item?.status).toEqual({ S: 'completed' });
    expect(item?.completedUpdatedAt).toEqual({ S: occurrenceOf('2025-06-03T14:07:12.481Z') });
    expect(Number(item?.expiresAt?.N)).toBe(Date.parse('2025-06-03T16:00:00.000Z') / 1000 + 30 * DAY);
    expect(JSON.parse(item?.report?.S ?? '{}')).toMatchObject({ code: 'HANDLED', outcome: 'applied' });
  });
});

describe('occurrenceOf', () => {
  it('writes equal instants the same way so they compare equal', () => {
    expect(occurrenceOf('2025-06-03T14:07:12.5Z')).toBe(occurrenceOf('2025-06-03T14:07:12.500Z'));
  });

  it('orders occurrences in time', () => {
    expect(occurrenceOf('2025-06-03T14:07:12Z') < occurrenceOf('2025-06-03T14:07:12.001Z')).toBe(true);
  });

  it('keeps unparseable text and maps a missing time to the empty string', () => {
    expect(occurrenceOf('yesterday')).toBe('yesterday');
    expect(occurrenceOf(undefined)).toBe('');
  });
});
