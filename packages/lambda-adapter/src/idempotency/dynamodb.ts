import type { AttributeValue, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { IdempotencyStoreError } from '../errors.js';
import type { FindingResult } from '../result.js';
import { dynamoDbSdk, onFirstCall } from '../sdk.js';
import {
  type BeginOutcome,
  type BeginRequest,
  type CompleteRequest,
  decide,
  type IdempotencyRecord,
  type IdempotencyStore,
} from './store.js';

/** The DynamoDB calls this store makes; tests and callers may pass a configured client. */
export interface DynamoDbLike {
  send(command: GetItemCommand | UpdateItemCommand): Promise<unknown>;
}

export interface DynamoDbStoreOptions {
  /** Table name or ARN. Partition key `pk` (string); TTL attribute `expiresAt`. */
  tableName: string;
  /** Default: a client from the SDK's standard configuration chain, created on first use. */
  client?: DynamoDbLike;
}

// Attribute names DynamoDB reserves (or might) are always aliased.
const NAMES: Record<string, string> = {
  '#status': 'status',
  '#owner': 'owner',
  '#report': 'report',
  '#playbooks': 'playbooks',
};

/** The aliases the expressions use: DynamoDB refuses an alias it was given but does not see. */
const namesIn = (...expressions: string[]): Record<string, string> =>
  Object.fromEntries(
    Object.entries(NAMES).filter(([alias]) => expressions.some((text) => text.includes(alias))),
  );

const IN_PROGRESS = 'in-progress';
const COMPLETED = 'completed';

// The rule of `decide`, as DynamoDB checks it atomically against the stored item.
const CLAIMABLE = [
  'attribute_not_exists(pk)',
  'expiresAt <= :nowSeconds',
  '((#status = :completed OR inProgressUntil <= :now) AND (attribute_not_exists(completedUpdatedAt) OR completedUpdatedAt < :updatedAt))',
].join(' OR ');

const HELD = 'attribute_exists(pk) AND #owner = :owner AND #status = :inProgress';

const str = (value: string): AttributeValue => ({ S: value });
const num = (value: number): AttributeValue => ({ N: String(value) });

const errorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { name?: unknown }).name === 'string'
    ? (error as { name: string }).name
    : undefined;

const isConditionFailure = (error: unknown): boolean =>
  errorName(error) === 'ConditionalCheckFailedException';

/** Access and validation errors will not go away on a retry; everything else (throttling, 5xx, network) may. */
const PERMANENT = new Set([
  'AccessDeniedException',
  'ResourceNotFoundException',
  'ValidationException',
  'UnrecognizedClientException',
]);

const storeError = (operation: string, tableName: string, error: unknown): IdempotencyStoreError => {
  const name = errorName(error) ?? 'UnknownError';
  return new IdempotencyStoreError(`DynamoDB ${operation} on ${tableName} failed with ${name}`, {
    retryable: !PERMANENT.has(name),
    cause: error,
    details: { operation, tableName, errorCode: name },
  });
};

const readString = (item: Record<string, AttributeValue>, name: string): string | undefined => {
  const value = item[name];
  return value && 'S' in value && typeof value.S === 'string' ? value.S : undefined;
};

const readNumber = (item: Record<string, AttributeValue>, name: string): number | undefined => {
  const value = item[name];
  const parsed = value && 'N' in value ? Number(value.N) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : undefined;
};

const readReport = (text: string | undefined): FindingResult | undefined => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as FindingResult;
  } catch {
    return undefined;
  }
};

/** An item as the store wrote it; anything it did not write reads as absent fields, never a throw. */
export const recordOfItem = (item: Record<string, AttributeValue>): IdempotencyRecord => {
  const playbooks = item.playbooks && 'L' in item.playbooks ? (item.playbooks.L ?? []) : [];
  const completedUpdatedAt = readString(item, 'completedUpdatedAt');
  const report = readReport(readString(item, 'report'));
  return {
    key: readString(item, 'pk') ?? '',
    status: readString(item, 'status') === COMPLETED ? 'completed' : 'in-progress',
    updatedAt: readString(item, 'updatedAt') ?? '',
    ...(completedUpdatedAt === undefined ? {} : { completedUpdatedAt }),
    playbooks: playbooks.flatMap((value) => ('S' in value && typeof value.S === 'string' ? [value.S] : [])),
    ...(report === undefined ? {} : { report }),
    inProgressUntil: readNumber(item, 'inProgressUntil') ?? 0,
    expiresAt: readNumber(item, 'expiresAt') ?? 0,
    owner: readString(item, 'owner') ?? '',
  };
};

/**
 * Idempotency records in DynamoDB, shared by every container: claims are conditional writes, so of
 * any number of concurrent invocations for one occurrence exactly one acquires it.
 */
export const createDynamoDbStore = (options: DynamoDbStoreOptions): IdempotencyStore => {
  const { tableName } = options;
  const client: DynamoDbLike =
    options.client ??
    onFirstCall<GetItemCommand | UpdateItemCommand>(async () => new (await dynamoDbSdk()).DynamoDBClient({}));
  const key = (value: string) => ({ pk: str(value) });

  /** A conditional UpdateItem; resolves to the item as it was, or undefined when the condition failed. */
  const update = async (
    value: string,
    expressions: { update: string; condition: string },
    values: Record<string, AttributeValue>,
  ): Promise<{ old?: Record<string, AttributeValue> } | undefined> => {
    const { UpdateItemCommand } = await dynamoDbSdk();
    try {
      const output = (await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key(value),
          UpdateExpression: expressions.update,
          ConditionExpression: expressions.condition,
          ExpressionAttributeNames: namesIn(expressions.update, expressions.condition),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      )) as { Attributes?: Record<string, AttributeValue> };
      return output.Attributes ? { old: output.Attributes } : {};
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw storeError('UpdateItem', tableName, error);
    }
  };

  const read = async (value: string): Promise<IdempotencyRecord | undefined> => {
    const { GetItemCommand } = await dynamoDbSdk();
    try {
      const output = (await client.send(
        new GetItemCommand({ TableName: tableName, Key: key(value), ConsistentRead: true }),
      )) as { Item?: Record<string, AttributeValue> };
      return output.Item ? recordOfItem(output.Item) : undefined;
    } catch (error) {
      throw storeError('GetItem', tableName, error);
    }
  };

  return {
    begin: async (request: BeginRequest): Promise<BeginOutcome> => {
      const claim = async (): Promise<BeginOutcome | undefined> => {
        const claimed = await update(
          request.key,
          {
            update:
              'SET #status = :inProgress, updatedAt = :updatedAt, inProgressUntil = :until, expiresAt = :expiresAt, #owner = :owner',
            condition: CLAIMABLE,
          },
          {
            ':inProgress': str(IN_PROGRESS),
            ':completed': str(COMPLETED),
            ':updatedAt': str(request.updatedAt),
            ':until': num(request.inProgressUntil),
            ':expiresAt': num(request.expiresAt),
            ':owner': str(request.owner),
            ':now': num(request.now),
            ':nowSeconds': num(Math.floor(request.now / 1000)),
          },
        );
        if (!claimed) return undefined;
        // What was there before says whether this is a first run or an update of a completed one.
        const outcome = decide(claimed.old ? recordOfItem(claimed.old) : undefined, request);
        return outcome.status === 'acquired' ? outcome : { status: 'acquired' };
      };
      // A refused claim is explained by reading the record (DynamoDB Local and older endpoints do not
      // return the item with the condition failure). If it changed in between (completed, expired),
      // claim again; after a few rounds of that, treat it as in progress.
      let record: IdempotencyRecord | undefined;
      for (let round = 0; round < 3; round++) {
        const claimed = await claim();
        if (claimed) return claimed;
        record = await read(request.key);
        const outcome = decide(record, request);
        if (outcome.status !== 'acquired') return outcome;
      }
      return {
        status: 'in-progress',
        record: record ?? { ...request, status: 'in-progress', playbooks: [] },
      };
    },

    complete: async (request: CompleteRequest): Promise<boolean> => {
      const done = await update(
        request.key,
        {
          update:
            'SET #status = :completed, completedUpdatedAt = :updatedAt, #playbooks = :playbooks, #report = :report, inProgressUntil = :zero, expiresAt = :expiresAt',
          condition: HELD,
        },
        {
          ':completed': str(COMPLETED),
          ':inProgress': str(IN_PROGRESS),
          ':updatedAt': str(request.updatedAt),
          ':playbooks': { L: request.playbooks.map(str) },
          ':report': str(JSON.stringify(request.report)),
          ':zero': num(0),
          ':expiresAt': num(request.expiresAt),
          ':owner': str(request.owner),
        },
      );
      return done !== undefined;
    },

    release: async (value: string, owner: string, playbooks?: string[]): Promise<void> => {
      await update(
        value,
        {
          update: playbooks
            ? 'SET inProgressUntil = :zero, #playbooks = :playbooks'
            : 'SET inProgressUntil = :zero',
          condition: HELD,
        },
        {
          ':zero': num(0),
          ':owner': str(owner),
          ':inProgress': str(IN_PROGRESS),
          ...(playbooks ? { ':playbooks': { L: playbooks.map(str) } } : {}),
        },
      );
    },
  };
};
