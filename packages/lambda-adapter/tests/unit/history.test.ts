import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { StepReport } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createDynamoDbHistory,
  createMemoryHistory,
  createS3HistoryWriter,
  type Decision,
  HISTORY_TABLE_SCHEMA,
  HistoryError,
  type HistoryRecord,
  type HistoryStore,
  historyObjectKey,
  teeHistory,
} from '../../src/index.js';
import { type LocalDynamoDb, startDynalite } from '../helpers/dynalite.js';
import {
  ACCOUNT,
  createHistoryTable,
  FINDING_ID,
  historyRecord,
  scenarioFinding,
  scenarioReport,
} from '../helpers/history.js';

const NOW = Date.parse('2025-06-03T15:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (msBeforeNow: number): string => new Date(NOW - msBeforeNow).toISOString();
const clock = () => new Date(NOW);
const OTHER_FINDING = '3a9c1e5f7b2d4f6a8c0e2b4d6f8a0c2e';
const OTHER_ACCOUNT = '444455556666';

let local: LocalDynamoDb;
let tables = 0;

beforeAll(async () => {
  local = await startDynalite();
});

afterAll(async () => {
  await local.close();
});

const newTable = async (): Promise<string> => {
  const tableName = `riposte-history-${++tables}`;
  await createHistoryTable(local.client, tableName);
  return tableName;
};

const stores: [string, () => Promise<HistoryStore>][] = [
  ['memory', async () => createMemoryHistory()],
  [
    'DynamoDB (dynalite)',
    async () => createDynamoDbHistory({ tableName: await newTable(), client: local.client, clock }),
  ],
];

/** A report of `size` bytes or more of JSON: a response that made many calls, each with its request id. */
const largeReport = (startedAt: string, minimumBytes: number) => {
  const base = scenarioReport(startedAt);
  const template = base.steps[0]!;
  const steps: StepReport[] = [];
  for (let index = 0, bytes = 0; bytes < minimumBytes; index++) {
    steps.push({
      ...template,
      key: `${template.playbook}/tag-resource#${index}`,
      calls: template.calls.map((call) => ({
        ...call,
        input: { ...call.input, Resources: [`i-0${index.toString(16).padStart(16, '0')}`] },
        requestId: `${index.toString(16).padStart(8, '0')}-9d3b-4c6a-8e2f-1a2b3c4d5e6f`,
      })),
    });
    bytes += JSON.stringify(steps.at(-1)).length + 1;
  }
  return { ...base, steps, counts: { applied: steps.length } };
};

const decision = (overrides: Partial<Decision> = {}): Decision => ({
  decision: 'approval',
  responseId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  actor: `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityResponder/alice`,
  at: at(0),
  ...overrides,
});

describe.each(stores)('%s history store', (_, createStore) => {
  it("returns a finding's records oldest first, whatever order they were put in", async () => {
    const store = await createStore();
    const response = historyRecord(at(3 * HOUR));
    const approval = historyRecord(at(1 * HOUR), { kind: 'approval', id: 'approval-1' });
    const rejection = historyRecord(at(2 * HOUR), { kind: 'rejection', id: 'rejection-1' });
    await store.put(approval);
    await store.put(response);
    await store.put(historyRecord(at(2 * HOUR), { findingId: OTHER_FINDING }));
    await store.decide(FINDING_ID, decision());
    await store.put(rejection);

    const records = await store.forFinding(FINDING_ID);

    expect(records.map((record) => [record.kind, record.at])).toEqual([
      ['response', response.at],
      ['rejection', rejection.at],
      ['approval', approval.at],
    ]);
  });

  it('reads a record back as it was put: report, finding and verification included', async () => {
    const store = await createStore();
    const record = historyRecord(at(HOUR), {
      finding: scenarioFinding(),
      heldUntil: at(-23 * HOUR),
    });

    await store.put(record);

    expect(await store.forFinding(FINDING_ID)).toEqual([record]);
  });

  it('answers nothing for a finding it holds no record of', async () => {
    const store = await createStore();

    expect(await store.forFinding(OTHER_FINDING)).toEqual([]);
  });

  it('keeps one record when the same record is put twice', async () => {
    const store = await createStore();
    const record = historyRecord(at(HOUR));

    await store.put(record);
    await store.put(record);

    expect(await store.forFinding(FINDING_ID)).toHaveLength(1);
  });

  it('keeps what was put, whatever the caller changes afterwards', async () => {
    const store = await createStore();
    const record = historyRecord(at(HOUR));
    await store.put(record);

    record.report.steps[0]!.status = 'failed';
    const [read] = await store.forFinding(FINDING_ID);
    read!.report.steps[1]!.status = 'failed';

    expect((await store.forFinding(FINDING_ID))[0]!.report.steps.map((step) => step.status)).toEqual([
      'applied',
      'applied',
      'applied',
    ]);
  });

  it('lists the records since a time, newest first, across days and findings', async () => {
    const store = await createStore();
    await store.put(historyRecord(at(2.5 * DAY), { id: 'oldest' }));
    await store.put(historyRecord(at(10 * DAY), { id: 'too-old' }));
    await store.put(historyRecord(at(0.5 * DAY), { id: 'newest' }));
    await store.put(historyRecord(at(1.5 * DAY), { findingId: OTHER_FINDING, id: 'middle' }));

    const records = await store.list({ since: new Date(NOW - 3 * DAY) });

    expect(records.map((record) => record.id)).toEqual(['newest', 'middle', 'oldest']);
  });

  it('lists from the exact time given, not from the start of its day', async () => {
    const store = await createStore();
    await store.put(historyRecord(at(5 * HOUR), { id: 'before' }));
    await store.put(historyRecord(at(3 * HOUR), { id: 'after' }));

    const records = await store.list({ since: new Date(NOW - 4 * HOUR) });

    expect(records.map((record) => record.id)).toEqual(['after']);
  });

  it('lists only the account asked for', async () => {
    const store = await createStore();
    await store.put(historyRecord(at(HOUR), { id: 'ours' }));
    await store.put(historyRecord(at(2 * HOUR), { id: 'theirs', accountId: OTHER_ACCOUNT }));
    await store.put(historyRecord(at(3 * DAY), { id: 'theirs-earlier', accountId: OTHER_ACCOUNT }));

    const records = await store.list({ since: new Date(NOW - 7 * DAY), accountId: OTHER_ACCOUNT });

    expect(records.map((record) => record.id)).toEqual(['theirs', 'theirs-earlier']);
  });

  it('lists at most limit records, the newest, across days', async () => {
    const store = await createStore();
    for (const [index, hoursAgo] of [1, 2, 30, 31, 60].entries()) {
      await store.put(historyRecord(at(hoursAgo * HOUR), { id: `record-${index}` }));
    }

    const records = await store.list({ since: new Date(NOW - 7 * DAY), limit: 3 });

    expect(records.map((record) => record.id)).toEqual(['record-0', 'record-1', 'record-2']);
  });

  it('lists 100 records unless told otherwise', async () => {
    const store = await createStore();
    await Promise.all(
      Array.from({ length: 101 }, (_, index) =>
        store.put(
          historyRecord(at((index + 1) * 60_000), {
            id: `record-${index}`,
            report: scenarioReport(at(0), { steps: [] }),
          }),
        ),
      ),
    );

    const records = await store.list({ since: new Date(NOW - DAY) });

    expect(records).toHaveLength(100);
    expect(records[0]!.id).toBe('record-0');
  });

  it('takes exactly one of two concurrent decisions on the same held steps', async () => {
    const store = await createStore();
    const approval = decision();
    const rejection = decision({ decision: 'rejection', actor: `arn:aws:iam::${ACCOUNT}:user/bob` });

    const outcomes = await Promise.all([
      store.decide(FINDING_ID, approval),
      store.decide(FINDING_ID, rejection),
    ]);

    const taken = outcomes.filter((outcome) => outcome.taken);
    const refused = outcomes.flatMap((outcome) => (outcome.taken ? [] : [outcome.existing]));
    expect(taken).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toEqual(outcomes[0]!.taken ? approval : rejection);
  });

  it('answers a second approval with the decision already taken', async () => {
    const store = await createStore();
    const first = decision();
    await store.decide(FINDING_ID, first);

    const second = await store.decide(
      FINDING_ID,
      decision({ actor: 'arn:aws:iam::111122223333:user/carol', at: at(-60_000) }),
    );

    expect(second).toEqual({ taken: false, existing: first });
  });

  it("decides each response's held steps on their own", async () => {
    const store = await createStore();
    await store.decide(FINDING_ID, decision());

    expect(await store.decide(FINDING_ID, decision({ responseId: 'a-later-response' }))).toEqual({
      taken: true,
    });
    expect(await store.decide(OTHER_FINDING, decision())).toEqual({ taken: true });
  });

  it('reads back a report larger than DynamoDB holds uncompressed, equal to what was put', async () => {
    const store = await createStore();
    const report = largeReport(at(HOUR), 600 * 1024);
    const record = historyRecord(at(HOUR), { report, finding: scenarioFinding() });

    await store.put(record);

    expect(JSON.stringify(report).length).toBeGreaterThan(600 * 1024);
    expect(await store.forFinding(FINDING_ID)).toEqual([record]);
    expect(await store.list({ since: new Date(NOW - DAY) })).toEqual([record]);
  });

  it.each([
    ['an at that is not an ISO 8601 UTC time', { at: '2025-06-03T17:00:00+02:00' }],
    ['an unknown kind', { kind: 'deletion' }],
    ['a report without steps', { report: { outcome: 'applied' } }],
    ['an empty actor', { actor: '' }],
  ])('refuses to keep a record with %s', async (_, overrides) => {
    const store = await createStore();

    const put = store.put(historyRecord(at(HOUR), overrides as Partial<HistoryRecord>));

    await expect(put).rejects.toBeInstanceOf(HistoryError);
    await expect(put).rejects.toMatchObject({ code: 'HISTORY_INVALID' });
    expect(await store.forFinding(FINDING_ID)).toEqual([]);
  });

  it('refuses a decision that is neither an approval nor a rejection', async () => {
    const store = await createStore();

    await expect(
      store.decide(FINDING_ID, decision({ decision: 'maybe' as Decision['decision'] })),
    ).rejects.toMatchObject({ code: 'HISTORY_INVALID' });
  });
});

describe('DynamoDB history table', () => {
  const rawItem = async (tableName: string, pk: string, sk: string) =>
    (
      await local.client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: pk }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      )
    ).Item!;

  it('declares the keys, the byDay index and the TTL attribute the store writes', () => {
    expect(HISTORY_TABLE_SCHEMA.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(HISTORY_TABLE_SCHEMA.GlobalSecondaryIndexes[0]).toMatchObject({
      IndexName: 'byDay',
      KeySchema: [
        { AttributeName: 'day', KeyType: 'HASH' },
        { AttributeName: 'at', KeyType: 'RANGE' },
      ],
    });
    expect(HISTORY_TABLE_SCHEMA.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });

  it('writes a record under its finding, time, kind and id, with its day and the report as JSON text', async () => {
    const tableName = await newTable();
    const record = historyRecord('2025-06-03T14:07:12.481Z');
    await createDynamoDbHistory({ tableName, client: local.client }).put(record);

    const item = await rawItem(
      tableName,
      `finding#${FINDING_ID}`,
      `2025-06-03T14:07:12.481Z#response#${record.id}`,
    );

    expect(item.day).toEqual({ S: '2025-06-03' });
    expect(item.at).toEqual({ S: '2025-06-03T14:07:12.481Z' });
    expect(JSON.parse(item.report!.S!)).toEqual(record.report);
    expect(item.reportGz).toBeUndefined();
  });

  it('sets expiresAt to the record time plus 400 days by default, and to ttlDays when given', async () => {
    const tableName = await newTable();
    const record = historyRecord('2025-06-03T14:07:12.481Z');
    const seconds = Math.floor(Date.parse(record.at) / 1000);
    await createDynamoDbHistory({ tableName, client: local.client }).put(record);
    await createDynamoDbHistory({ tableName, client: local.client, ttlDays: 30 }).put({
      ...record,
      id: 'short',
    });
    await createDynamoDbHistory({ tableName, client: local.client }).decide(
      FINDING_ID,
      decision({ at: record.at }),
    );

    const pk = `finding#${FINDING_ID}`;
    const kept = await rawItem(tableName, pk, `${record.at}#response#${record.id}`);
    const short = await rawItem(tableName, pk, `${record.at}#response#short`);
    const decided = await rawItem(tableName, pk, `decision#${decision().responseId}`);

    expect(kept.expiresAt).toEqual({ N: String(seconds + 400 * 86_400) });
    expect(short.expiresAt).toEqual({ N: String(seconds + 30 * 86_400) });
    expect(decided.expiresAt).toEqual({ N: String(seconds + 400 * 86_400) });
  });

  it('stores a report over 350 KB gzip-compressed in a binary attribute', async () => {
    const tableName = await newTable();
    const record = historyRecord(at(HOUR), { report: largeReport(at(HOUR), 600 * 1024) });
    await createDynamoDbHistory({ tableName, client: local.client }).put(record);

    const item = await rawItem(tableName, `finding#${FINDING_ID}`, `${record.at}#response#${record.id}`);

    expect(item.report).toBeUndefined();
    expect(item.reportGz?.B).toBeInstanceOf(Uint8Array);
    expect(item.reportGz!.B!.byteLength).toBeLessThan(350 * 1024);
  });

  it('refuses a record too large even compressed, before writing anything', async () => {
    const tableName = await newTable();
    const store = createDynamoDbHistory({ tableName, client: local.client });
    const report = scenarioReport(at(HOUR), {
      steps: [{ ...scenarioReport(at(HOUR)).steps[0]!, reason: randomBytes(600 * 1024).toString('base64') }],
    });

    await expect(store.put(historyRecord(at(HOUR), { report }))).rejects.toMatchObject({
      code: 'HISTORY_INVALID',
      message: expect.stringContaining('even compressed'),
    });
    expect(await store.forFinding(FINDING_ID)).toEqual([]);
  });

  describe('refuses an item it did not write', () => {
    const valid = (): Record<string, AttributeValue> => {
      const record = historyRecord(at(HOUR));
      return {
        pk: { S: `finding#${FINDING_ID}` },
        sk: { S: `${record.at}#response#${record.id}` },
        day: { S: record.at.slice(0, 10) },
        at: { S: record.at },
        findingId: { S: FINDING_ID },
        kind: { S: 'response' },
        id: { S: record.id },
        actor: { S: record.actor },
        accountId: { S: record.accountId },
        region: { S: record.region },
        findingType: { S: record.findingType },
        severity: { N: '8' },
        mode: { S: 'enforce' },
        outcome: { S: 'applied' },
        report: { S: JSON.stringify(record.report) },
      };
    };

    it('accepts the item the tests below alter', async () => {
      const tableName = await newTable();
      await local.client.send(new PutItemCommand({ TableName: tableName, Item: valid() }));

      const [record] = await createDynamoDbHistory({ tableName, client: local.client }).forFinding(
        FINDING_ID,
      );

      expect(record).toEqual(historyRecord(at(HOUR), { verification: undefined }));
    });

    it.each<[string, (item: Record<string, AttributeValue>) => void]>([
      [
        'a report that is not JSON',
        (item) => {
          item.report = { S: '{"steps": [' };
        },
      ],
      [
        'a report whose steps are not an array',
        (item) => {
          item.report = { S: '{"steps": "all", "matched": []}' };
        },
      ],
      [
        'a report that is an array',
        (item) => {
          item.report = { S: '[]' };
        },
      ],
      [
        'no report at all',
        (item) => {
          delete item.report;
        },
      ],
      [
        'a compressed report that is not gzip',
        (item) => {
          delete item.report;
          item.reportGz = { B: new TextEncoder().encode('not gzip') };
        },
      ],
      [
        'a compressed report that is gzip of garbage',
        (item) => {
          delete item.report;
          item.reportGz = { B: gzipSync('{"steps":') };
        },
      ],
      [
        'no actor',
        (item) => {
          delete item.actor;
        },
      ],
      [
        'a severity that is text',
        (item) => {
          item.severity = { S: 'high' };
        },
      ],
      [
        'an unknown kind',
        (item) => {
          item.kind = { S: 'deletion' };
        },
      ],
      [
        'a verification that is not JSON',
        (item) => {
          item.verification = { S: 'verified' };
        },
      ],
      [
        'a finding without resources',
        (item) => {
          item.finding = { S: '{"id":"x","accountId":"1"}' };
        },
      ],
      [
        'a heldUntil that is a number',
        (item) => {
          item.heldUntil = { N: '1' };
        },
      ],
      [
        'keys of another finding',
        (item) => {
          item.findingId = { S: OTHER_FINDING };
        },
      ],
    ])('%s: HISTORY_INVALID', async (_, alter) => {
      const tableName = await newTable();
      const item = valid();
      alter(item);
      await local.client.send(new PutItemCommand({ TableName: tableName, Item: item }));

      const read = createDynamoDbHistory({ tableName, client: local.client }).forFinding(FINDING_ID);

      await expect(read).rejects.toBeInstanceOf(HistoryError);
      await expect(read).rejects.toMatchObject({
        code: 'HISTORY_INVALID',
        details: { tableName, pk: `finding#${FINDING_ID}` },
      });
    });

    it('in a list as well', async () => {
      const tableName = await newTable();
      await local.client.send(
        new PutItemCommand({ TableName: tableName, Item: { ...valid(), outcome: { N: '1' } } }),
      );

      await expect(
        createDynamoDbHistory({ tableName, client: local.client, clock }).list({
          since: new Date(NOW - DAY),
        }),
      ).rejects.toMatchObject({ code: 'HISTORY_INVALID' });
    });

    it('a decision that is neither an approval nor a rejection', async () => {
      const tableName = await newTable();
      await local.client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: `finding#${FINDING_ID}` },
            sk: { S: `decision#${decision().responseId}` },
            decision: { S: 'maybe' },
            responseId: { S: decision().responseId },
            actor: { S: decision().actor },
            at: { S: decision().at },
          },
        }),
      );

      await expect(
        createDynamoDbHistory({ tableName, client: local.client }).decide(FINDING_ID, decision()),
      ).rejects.toMatchObject({ code: 'HISTORY_INVALID' });
    });
  });

  describe('when DynamoDB cannot be used', () => {
    let unreachable: DynamoDBClient;

    beforeAll(async () => {
      // A port that was just free: nothing listens there any more.
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      await new Promise<void>((resolve) => server.close(() => resolve()));
      unreachable = new DynamoDBClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'local-dynalite-secret' },
        maxAttempts: 1,
      });
    });

    afterAll(() => unreachable.destroy());

    it.each<[string, (store: HistoryStore) => Promise<unknown>]>([
      ['put', (store) => store.put(historyRecord(at(HOUR)))],
      ['forFinding', (store) => store.forFinding(FINDING_ID)],
      ['list', (store) => store.list({ since: new Date(NOW - DAY) })],
      ['decide', (store) => store.decide(FINDING_ID, decision())],
    ])('%s throws HISTORY_UNAVAILABLE with the SDK error as cause, retryable', async (_, call) => {
      const store = createDynamoDbHistory({ tableName: 'riposte-history', client: unreachable, clock });

      const error = await call(store).catch((thrown: unknown) => thrown);

      expect(error).toBeInstanceOf(HistoryError);
      expect(error).toMatchObject({ code: 'HISTORY_UNAVAILABLE', retryable: true });
      expect((error as HistoryError).cause).toBeInstanceOf(Error);
    });

    it('a table that does not exist is not retryable', async () => {
      const store = createDynamoDbHistory({ tableName: 'no-such-table', client: local.client });

      const error = await store.forFinding(FINDING_ID).catch((thrown: unknown) => thrown);

      expect(error).toMatchObject({
        code: 'HISTORY_UNAVAILABLE',
        retryable: false,
        details: { operation: 'Query', tableName: 'no-such-table', errorCode: 'ResourceNotFoundException' },
      });
      expect((error as HistoryError).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });
});

describe('S3 history writer', () => {
  const s3 = mockClient(S3Client);
  const client = new S3Client({ region: 'us-east-1' });

  beforeEach(() => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
  });

  it('writes the whole record as one line of JSON under Hive date partitions', async () => {
    const record = historyRecord('2025-06-03T14:07:12.481Z', { finding: scenarioFinding() });

    await createS3HistoryWriter({ bucket: 'security-archive', client }).write(record);

    const [call] = s3.commandCalls(PutObjectCommand);
    const input = call!.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'security-archive',
      Key: `riposte/history/year=2025/month=06/day=03/${FINDING_ID}-response-${record.id}.json`,
      ContentType: 'application/json',
    });
    expect(input.ServerSideEncryption).toBeUndefined();
    expect(input.SSEKMSKeyId).toBeUndefined();
    const body = input.Body as string;
    expect(body.endsWith('\n')).toBe(true);
    expect(body.trimEnd()).not.toContain('\n');
    expect(JSON.parse(body)).toEqual(record);
  });

  it('writes under the prefix given, and keeps keys to safe characters', () => {
    const record = historyRecord('2025-12-31T23:59:59.999Z', {
      findingId: 'arn:aws:securityhub:us-east-1:111122223333:finding/abc',
      kind: 'approval',
      id: 'cli/3f2a',
    });

    expect(historyObjectKey(record, 'archive/riposte/')).toBe(
      'archive/riposte/year=2025/month=12/day=31/arn_aws_securityhub_us-east-1_111122223333_finding_abc-approval-cli_3f2a.json',
    );
  });

  it('matches the Athena table of examples/05-deploy: its location template and a column per record field', () => {
    const readme = readFileSync(new URL('../../../../examples/05-deploy/README.md', import.meta.url), 'utf8');
    const ddl =
      /CREATE EXTERNAL TABLE riposte_history \(([\s\S]*?)\)\nPARTITIONED BY/.exec(readme)?.[1] ?? '';
    const template = /'storage\.location\.template' = 's3:\/\/my-bucket\/([^']+)'/.exec(readme)?.[1];
    const record = historyRecord('2025-06-03T14:07:12.481Z', {
      finding: scenarioFinding(),
      heldUntil: at(0),
    });

    const columns = [...ddl.matchAll(/^\s*`?(\w+)`?\s/gm)].map((match) => match[1]);

    const parts: Record<string, string> = { year: '2025', month: '06', day: '03' };
    expect(template?.replace(/\$\{(\w+)\}/g, (_, name: string) => parts[name] ?? name)).toBe(
      historyObjectKey(record).replace(/[^/]+$/, ''),
    );
    expect(columns.sort()).toEqual(
      Object.keys(record)
        .map((key) => key.toLowerCase())
        .sort(),
    );
  });

  it('throws HISTORY_UNAVAILABLE with the S3 error as cause', async () => {
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    });
    s3.on(PutObjectCommand).rejects(denied);

    const error = await createS3HistoryWriter({ bucket: 'security-archive', client })
      .write(historyRecord(at(HOUR)))
      .catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(HistoryError);
    expect(error).toMatchObject({ code: 'HISTORY_UNAVAILABLE', retryable: false, cause: denied });
  });

  it('puts to the store and to S3, and reads from the store', async () => {
    const store = createMemoryHistory();
    const history = teeHistory(store, createS3HistoryWriter({ bucket: 'security-archive', client }));
    const record = historyRecord(at(HOUR));

    await history.put(record);

    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(await history.forFinding(FINDING_ID)).toEqual([record]);
    expect(await history.list({ since: new Date(NOW - DAY) })).toEqual([record]);
    expect(await history.decide(FINDING_ID, decision())).toEqual({ taken: true });
    expect(await store.decide(FINDING_ID, decision())).toMatchObject({ taken: false });
  });

  it('reports a failed copy after the store kept the record (recorded: true)', async () => {
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: {}, message: 'Slow Down' }),
    );
    const store = createMemoryHistory();
    const history = teeHistory(store, createS3HistoryWriter({ bucket: 'security-archive', client }));
    const record = historyRecord(at(HOUR));

    const error = await history.put(record).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(HistoryError);
    expect(error).toMatchObject({ code: 'HISTORY_UNAVAILABLE', recorded: true, retryable: true });
    expect((error as HistoryError).cause).toBeInstanceOf(HistoryError);
    expect(await store.forFinding(FINDING_ID)).toEqual([record]);
  });

  it('copies nothing when the store fails', async () => {
    const history = teeHistory(
      createDynamoDbHistory({ tableName: 'no-such-table', client: local.client }),
      createS3HistoryWriter({ bucket: 'security-archive', client }),
    );

    await expect(history.put(historyRecord(at(HOUR)))).rejects.toMatchObject({
      code: 'HISTORY_UNAVAILABLE',
      recorded: false,
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
