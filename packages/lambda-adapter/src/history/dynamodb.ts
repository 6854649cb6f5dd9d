import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { AttributeValue, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { isObject } from '@riposte/core';
import { HistoryError } from '../errors.js';
import { dynamoDbSdk, onFirstCall } from '../sdk.js';
import type { Decision, HistoryQuery, HistoryRecord, HistoryStore } from './record.js';
import { HISTORY_BY_DAY_INDEX } from './schema.js';
import { checkedDecision, checkedQuery, checkedRecord, decisionProblem, recordProblem } from './shape.js';

/** The DynamoDB calls this store makes; tests and callers may pass a configured client. */
export interface HistoryDynamoDbLike {
  send(command: PutItemCommand | GetItemCommand | QueryCommand): Promise<unknown>;
}

export interface DynamoDbHistoryOptions {
  /** Table name or ARN, shaped as `HISTORY_TABLE_SCHEMA`. */
  tableName: string;
  /** Default: a client from the SDK's standard configuration chain, created on first use. */
  client?: HistoryDynamoDbLike;
  /** How long records and decisions are kept, from their `at`. Default 400. */
  ttlDays?: number;
  /** Today, for `list`. Default: the system clock. */
  clock?: () => Date;
}

export const DEFAULT_HISTORY_TTL_DAYS = 400;

/**
 * Above this, the report and the finding are stored gzip-compressed: DynamoDB refuses items over
 * 400 KB (names and values together), and the rest of the record needs room too.
 */
export const COMPRESS_ABOVE_BYTES = 350 * 1024;
/** The most an item may hold once compressed; DynamoDB's limit is 400 KB. */
const MAX_ITEM_BYTES = 390 * 1024;
/** A compressed attribute never inflates past this on reading (an altered item is no gzip bomb). */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;
/** `list` reads this many days at once. */
const DAYS_AT_ONCE = 8;
const DAY_MS = 86_400_000;

// Attribute names DynamoDB reserves (AT, DAY) or might are always aliased.
const NAMES = { '#pk': 'pk', '#sk': 'sk', '#day': 'day', '#at': 'at', '#accountId': 'accountId' };
const namesIn = (...expressions: string[]): Record<string, string> =>
  Object.fromEntries(
    Object.entries(NAMES).filter(([alias]) => expressions.some((text) => text.includes(alias))),
  );

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

type Item = Record<string, AttributeValue>;

const str = (value: string): AttributeValue => ({ S: value });
const num = (value: number): AttributeValue => ({ N: String(value) });

const errorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { name?: unknown }).name === 'string'
    ? (error as { name: string }).name
    : undefined;

const errorText = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);

/** Access and validation errors will not go away on a retry; everything else (throttling, 5xx, network) may. */
const PERMANENT = new Set([
  'AccessDeniedException',
  'ResourceNotFoundException',
  'ValidationException',
  'UnrecognizedClientException',
  'CredentialsProviderError',
]);

const unavailable = (operation: string, tableName: string, error: unknown): HistoryError => {
  const name = errorName(error) ?? 'UnknownError';
  return new HistoryError(
    'HISTORY_UNAVAILABLE',
    `DynamoDB ${operation} on ${tableName} failed with ${name}: ${errorText(error)}`,
    { retryable: !PERMANENT.has(name), cause: error, details: { operation, tableName, errorCode: name } },
  );
};

/** The record's fields stored as string attributes under their own names. */
const STRING_FIELDS = [
  'findingId',
  'kind',
  'id',
  'at',
  'actor',
  'accountId',
  'region',
  'findingType',
  'mode',
  'outcome',
] as const;

const recordPk = (findingId: string): string => `finding#${findingId}`;
const recordSk = (record: Pick<HistoryRecord, 'at' | 'kind' | 'id'>): string =>
  `${record.at}#${record.kind}#${record.id}`;
const DECISION_PREFIX = 'decision#';
const decisionSk = (responseId: string): string => `${DECISION_PREFIX}${responseId}`;
const dayOf = (at: string): string => at.slice(0, 10);

const expiresAt = (at: string, ttlDays: number): number =>
  Math.floor(Date.parse(at) / 1000) + ttlDays * 86_400;

/** The approximate size DynamoDB counts: attribute names plus values. */
const itemBytes = (item: Item): number =>
  Object.entries(item).reduce((total, [name, value]) => {
    const size =
      'S' in value && value.S !== undefined
        ? Buffer.byteLength(value.S)
        : 'B' in value && value.B !== undefined
          ? value.B.byteLength
          : 'N' in value && value.N !== undefined
            ? value.N.length
            : 0;
    return total + Buffer.byteLength(name) + size;
  }, 0);

const readString = (item: Item, name: string): string | undefined => {
  const value = item[name];
  return value && 'S' in value && typeof value.S === 'string' ? value.S : undefined;
};

const readNumber = (item: Item, name: string): number | undefined => {
  const value = item[name];
  const parsed = value && 'N' in value && typeof value.N === 'string' ? Number(value.N) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : undefined;
};

const readBinary = (item: Item, name: string): Uint8Array | undefined => {
  const value = item[name];
  return value && 'B' in value && value.B instanceof Uint8Array ? value.B : undefined;
};

/**
 * History in DynamoDB: the record of truth the function writes with its role and `riposte history`,
 * `approve` and `undo` read with the caller's. Every item read back is checked; one that is not a
 * record the store wrote throws `HistoryError` (`HISTORY_INVALID`) rather than reaching an approval.
 */
export const createDynamoDbHistory = (options: DynamoDbHistoryOptions): HistoryStore => {
  const { tableName } = options;
  const ttlDays = options.ttlDays ?? DEFAULT_HISTORY_TTL_DAYS;
  if (!Number.isFinite(ttlDays) || ttlDays <= 0) {
    throw new RangeError(`history ttlDays must be a positive number of days, not ${ttlDays}`);
  }
  const clock = options.clock ?? (() => new Date());
  // DynamoDB deletes items past their TTL (at most 3650 days as the function is configured, or this
  // store's): a `since` further back reads no more days than that.
  const maxDays = Math.ceil(Math.max(ttlDays, 3650)) + 2;
  const client: HistoryDynamoDbLike =
    options.client ??
    onFirstCall<PutItemCommand | GetItemCommand | QueryCommand>(
      async () => new (await dynamoDbSdk()).DynamoDBClient({}),
    );

  const send = async <T>(
    operation: string,
    command: PutItemCommand | GetItemCommand | QueryCommand,
  ): Promise<T> => {
    try {
      return (await client.send(command)) as T;
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') throw error;
      throw unavailable(operation, tableName, error);
    }
  };

  const invalid = (problem: string, item: Item): HistoryError =>
    new HistoryError('HISTORY_INVALID', `an item of ${tableName} is not a history record: ${problem}`, {
      details: { tableName, pk: readString(item, 'pk'), sk: readString(item, 'sk') },
    });

  /** JSON text, or gzip of it in a binary attribute; absent when neither is there. */
  const readJson = async (item: Item, name: string): Promise<unknown> => {
    const text = readString(item, name);
    const compressed = readBinary(item, `${name}Gz`);
    if (text === undefined && compressed === undefined) return undefined;
    let json = text;
    if (json === undefined) {
      try {
        json = (await gunzipAsync(compressed!, { maxOutputLength: MAX_INFLATED_BYTES })).toString('utf8');
      } catch {
        throw invalid(`${name}Gz is not gzip of at most ${MAX_INFLATED_BYTES} bytes`, item);
      }
    }
    try {
      return JSON.parse(json);
    } catch {
      throw invalid(`${name} is not JSON`, item);
    }
  };

  const recordOfItem = async (item: unknown): Promise<HistoryRecord> => {
    if (!isObject(item))
      throw new HistoryError('HISTORY_INVALID', `an item of ${tableName} is not an object`);
    const attributes = item as Item;
    const record: Record<string, unknown> = {};
    for (const name of STRING_FIELDS) record[name] = readString(attributes, name);
    record.severity = readNumber(attributes, 'severity');
    record.report = await readJson(attributes, 'report');
    const verification = await readJson(attributes, 'verification');
    if (verification !== undefined) record.verification = verification;
    const finding = await readJson(attributes, 'finding');
    if (finding !== undefined) record.finding = finding;
    const heldUntil = attributes.heldUntil;
    if (heldUntil !== undefined) record.heldUntil = readString(attributes, 'heldUntil') ?? null;
    const problem = recordProblem(record);
    if (problem) throw invalid(problem, attributes);
    const checked = record as unknown as HistoryRecord;
    // The keys must be the record's own: an item copied under another finding is not that finding's.
    if (
      readString(attributes, 'pk') !== recordPk(checked.findingId) ||
      readString(attributes, 'sk') !== recordSk(checked)
    ) {
      throw invalid('its keys are not those of its finding, time, kind and id', attributes);
    }
    return checked;
  };

  const decisionOfItem = (item: Item): Decision => {
    const decision = {
      decision: readString(item, 'decision'),
      responseId: readString(item, 'responseId'),
      actor: readString(item, 'actor'),
      at: readString(item, 'at'),
    };
    const problem = decisionProblem(decision);
    if (problem) throw invalid(problem, item);
    return decision as Decision;
  };

  const itemOfRecord = async (record: HistoryRecord): Promise<Item> => {
    const report = JSON.stringify(record.report);
    const finding = record.finding === undefined ? undefined : JSON.stringify(record.finding);
    const compress =
      Buffer.byteLength(report) + (finding === undefined ? 0 : Buffer.byteLength(finding)) >
      COMPRESS_ABOVE_BYTES;
    const json = async (name: string, text: string): Promise<Item> =>
      compress ? { [`${name}Gz`]: { B: await gzipAsync(text) } } : { [name]: str(text) };
    const item: Item = {
      pk: str(recordPk(record.findingId)),
      sk: str(recordSk(record)),
      day: str(dayOf(record.at)),
      at: str(record.at),
      findingId: str(record.findingId),
      kind: str(record.kind),
      id: str(record.id),
      actor: str(record.actor),
      accountId: str(record.accountId),
      region: str(record.region),
      findingType: str(record.findingType),
      severity: num(record.severity),
      mode: str(record.mode),
      outcome: str(record.outcome),
      ...(await json('report', report)),
      ...(finding === undefined ? {} : await json('finding', finding)),
      ...(record.verification === undefined
        ? {}
        : { verification: str(JSON.stringify(record.verification)) }),
      ...(record.heldUntil === undefined ? {} : { heldUntil: str(record.heldUntil) }),
      expiresAt: num(expiresAt(record.at, ttlDays)),
    };
    const bytes = itemBytes(item);
    if (bytes > MAX_ITEM_BYTES) {
      throw new HistoryError(
        'HISTORY_INVALID',
        `the ${record.kind} record of finding ${record.findingId} is ${bytes} bytes even compressed; DynamoDB stores at most 400 KB`,
        { details: { tableName, findingId: record.findingId, bytes } },
      );
    }
    return item;
  };

  /** The items of one query, every page, up to `enough` when given. */
  const query = async (
    input: ConstructorParameters<typeof QueryCommand>[0],
    enough = Number.POSITIVE_INFINITY,
  ): Promise<unknown[]> => {
    const items: unknown[] = [];
    let start: Item | undefined;
    const { QueryCommand } = await dynamoDbSdk();
    do {
      const output = await send<{ Items?: unknown[]; LastEvaluatedKey?: Item }>(
        'Query',
        new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      if (output.Items !== undefined && !Array.isArray(output.Items)) {
        throw new HistoryError('HISTORY_INVALID', `a Query of ${tableName} answered no list of items`);
      }
      items.push(...(output.Items ?? []));
      start = output.LastEvaluatedKey;
    } while (start && items.length < enough);
    return items;
  };

  const putDecision = async (findingId: string, decision: Decision): Promise<boolean> => {
    const { PutItemCommand } = await dynamoDbSdk();
    try {
      await send(
        'PutItem',
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: str(recordPk(findingId)),
            sk: str(decisionSk(decision.responseId)),
            findingId: str(findingId),
            decision: str(decision.decision),
            responseId: str(decision.responseId),
            actor: str(decision.actor),
            at: str(decision.at),
            expiresAt: num(expiresAt(decision.at, ttlDays)),
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: namesIn('#pk'),
        }),
      );
      return true;
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  };

  const readDecision = async (findingId: string, responseId: string): Promise<Decision | undefined> => {
    const { GetItemCommand } = await dynamoDbSdk();
    const output = await send<{ Item?: Item }>(
      'GetItem',
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: str(recordPk(findingId)), sk: str(decisionSk(responseId)) },
        ConsistentRead: true,
      }),
    );
    return output.Item ? decisionOfItem(output.Item) : undefined;
  };

  return {
    put: async (record: HistoryRecord): Promise<void> => {
      const item = await itemOfRecord(checkedRecord(record));
      const { PutItemCommand } = await dynamoDbSdk();
      await send('PutItem', new PutItemCommand({ TableName: tableName, Item: item }));
    },

    forFinding: async (findingId: string): Promise<HistoryRecord[]> => {
      const items = await query({
        TableName: tableName,
        // Records only: their sort keys (a time) sort before every `decision#...`.
        KeyConditionExpression: '#pk = :pk AND #sk < :decisions',
        ExpressionAttributeNames: namesIn('#pk', '#sk'),
        ExpressionAttributeValues: { ':pk': str(recordPk(findingId)), ':decisions': str(DECISION_PREFIX) },
        ScanIndexForward: true,
        // An approval must see the response written a moment ago.
        ConsistentRead: true,
      });
      return Promise.all(items.map(recordOfItem));
    },

    list: async (historyQuery: HistoryQuery): Promise<HistoryRecord[]> => {
      const { since, accountId, limit } = checkedQuery(historyQuery);
      // Day by day, newest first, from tomorrow (a writer's clock may run ahead of this one's) back
      // to the day of `since`, a few days at once.
      const first = Date.parse(`${dayOf(clock().toISOString())}T00:00:00.000Z`) + DAY_MS;
      const last = Math.max(Date.parse(`${dayOf(since)}T00:00:00.000Z`), first - maxDays * DAY_MS);
      const days: string[] = [];
      for (let day = first; day >= last; day -= DAY_MS) days.push(dayOf(new Date(day).toISOString()));
      const filter = accountId === undefined ? {} : { FilterExpression: '#accountId = :accountId' };
      const records: HistoryRecord[] = [];
      for (let index = 0; index < days.length && records.length < limit; index += DAYS_AT_ONCE) {
        const pages = await Promise.all(
          days.slice(index, index + DAYS_AT_ONCE).map((day) =>
            query(
              {
                TableName: tableName,
                IndexName: HISTORY_BY_DAY_INDEX,
                KeyConditionExpression: '#day = :day AND #at >= :since',
                ...filter,
                ExpressionAttributeNames: namesIn('#day', '#at', filter.FilterExpression ?? ''),
                ExpressionAttributeValues: {
                  ':day': str(day),
                  ':since': str(since),
                  ...(accountId === undefined ? {} : { ':accountId': str(accountId) }),
                },
                ScanIndexForward: false,
                Limit: limit,
              },
              limit,
            ),
          ),
        );
        for (const items of pages) {
          for (const item of items) {
            if (records.length >= limit) break;
            const record = await recordOfItem(item);
            if (readString(item as Item, 'day') !== dayOf(record.at)) {
              throw invalid('its day is not the day of its time', item as Item);
            }
            records.push(record);
          }
        }
      }
      return records;
    },

    decide: async (findingId: string, decision: Decision) => {
      const checked = checkedDecision(findingId, decision);
      // A refused write is explained by reading the decision that won. Should it vanish in between
      // (its TTL passed), write again; a few rounds of that is a table misbehaving.
      for (let round = 0; round < 3; round++) {
        if (await putDecision(findingId, checked)) return { taken: true };
        const existing = await readDecision(findingId, checked.responseId);
        if (existing) return { taken: false, existing };
      }
      throw new HistoryError(
        'HISTORY_UNAVAILABLE',
        `DynamoDB refused the decision on ${findingId}/${checked.responseId} in ${tableName} but holds none`,
        { retryable: true, details: { tableName, findingId, responseId: checked.responseId } },
      );
    },
  };
};
