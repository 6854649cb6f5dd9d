import type { AttributeValue, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { MutationGate, MutationRequest } from '@riposte/core';
import type { DynamoDbLike } from './idempotency/dynamodb.js';
import { dynamoDbSdk, onFirstCall } from './sdk.js';

const HOUR_MS = 3_600_000;

/** One mutated target: `kind:id` and when it was first admitted (epoch ms). */
type Entry = [target: string, at: number];

export interface BreakerOptions {
  /** Distinct targets one account may have changed over any rolling hour. */
  maxTargetsPerHour: number;
  clock?: () => Date;
}

const targetKey = (request: MutationRequest): string => `${request.target.kind}:${request.target.id}`;

/**
 * The one rule every store applies: a target already admitted within the hour passes again (two steps
 * on one instance are one target); a new one passes while the account is under its cap.
 */
const decide = (
  entries: readonly Entry[],
  target: string,
  now: number,
  max: number,
): { admitted: true; entries: Entry[] | undefined } | { admitted: false; count: number } => {
  const recent = entries.filter(([, at]) => at > now - HOUR_MS);
  if (recent.some(([key]) => key === target)) return { admitted: true, entries: undefined };
  if (recent.length >= max) return { admitted: false, count: recent.length };
  return { admitted: true, entries: [...recent, [target, now]] };
};

const heldReason = (accountId: string, count: number, max: number): string =>
  `circuit breaker: ${count} targets in account ${accountId} were changed in the last hour (RIPOSTE_MAX_TARGETS_PER_HOUR is ${max}); held, not changed`;

/**
 * Only resource changes count: a notification (a `finding` target) always passes, so the people who
 * must look at a held response hear about it.
 */
const counts = (request: MutationRequest): boolean => request.target.kind !== 'finding';

/** The breaker in the container's memory: one container's view, for functions without a table. */
export const createMemoryBreaker = (options: BreakerOptions): MutationGate => {
  const clock = options.clock ?? (() => new Date());
  const byAccount = new Map<string, Entry[]>();
  return {
    admit: async (request) => {
      if (!counts(request)) return { admitted: true };
      const { accountId } = request.target;
      const decision = decide(
        byAccount.get(accountId) ?? [],
        targetKey(request),
        clock().getTime(),
        options.maxTargetsPerHour,
      );
      if (!decision.admitted)
        return { admitted: false, reason: heldReason(accountId, decision.count, options.maxTargetsPerHour) };
      if (decision.entries) byAccount.set(accountId, decision.entries);
      return { admitted: true };
    },
  };
};

export interface DynamoDbBreakerOptions extends BreakerOptions {
  /** The idempotency table: one item per account, `pk` = `breaker/<account>`. */
  tableName: string;
  /** Default: a client from the SDK's standard configuration chain, created on first use. */
  client?: DynamoDbLike;
}

const str = (value: string): AttributeValue => ({ S: value });
const num = (value: number): AttributeValue => ({ N: String(value) });

const readEntries = (
  item: Record<string, AttributeValue> | undefined,
): { entries: Entry[]; version: number } => {
  const version = item?.version && 'N' in item.version ? Number(item.version.N) : 0;
  const text = item?.entries && 'S' in item.entries ? item.entries.S : undefined;
  try {
    const parsed: unknown = JSON.parse(text ?? '[]');
    const entries = Array.isArray(parsed)
      ? parsed.filter(
          (entry): entry is Entry =>
            Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'number',
        )
      : [];
    return { entries, version: Number.isFinite(version) ? version : 0 };
  } catch {
    return { entries: [], version: Number.isFinite(version) ? version : 0 };
  }
};

/**
 * The breaker shared by every container through DynamoDB: read the account's item, decide, and write
 * it back only if nobody wrote in between (optimistic concurrency on `version`). A store that cannot
 * be read or written holds the step: the breaker fails closed.
 */
export const createDynamoDbBreaker = (options: DynamoDbBreakerOptions): MutationGate => {
  const clock = options.clock ?? (() => new Date());
  const { tableName } = options;
  const client: DynamoDbLike =
    options.client ??
    onFirstCall<GetItemCommand | UpdateItemCommand>(async () => new (await dynamoDbSdk()).DynamoDBClient({}));

  const admit = async (request: MutationRequest, attempt = 0): ReturnType<MutationGate['admit']> => {
    if (!counts(request)) return { admitted: true };
    const { accountId } = request.target;
    const key = { pk: str(`breaker/${accountId}`) };
    const { GetItemCommand, UpdateItemCommand } = await dynamoDbSdk();
    const output = (await client.send(
      new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
    )) as { Item?: Record<string, AttributeValue> };
    const { entries, version } = readEntries(output.Item);
    const now = clock().getTime();
    const decision = decide(entries, targetKey(request), now, options.maxTargetsPerHour);
    if (!decision.admitted)
      return { admitted: false, reason: heldReason(accountId, decision.count, options.maxTargetsPerHour) };
    if (!decision.entries) return { admitted: true };
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          // Both names are aliased: DynamoDB reserves many words, and may reserve more.
          UpdateExpression: 'SET #entries = :entries, #version = :next, expiresAt = :expiresAt',
          ConditionExpression: version === 0 ? 'attribute_not_exists(#version)' : '#version = :version',
          ExpressionAttributeNames: { '#entries': 'entries', '#version': 'version' },
          ExpressionAttributeValues: {
            ':entries': str(JSON.stringify(decision.entries)),
            ':next': num(version + 1),
            ':expiresAt': num(Math.floor((now + 2 * HOUR_MS) / 1000)),
            ...(version === 0 ? {} : { ':version': num(version) }),
          },
        }),
      );
      return { admitted: true };
    } catch (error) {
      const lostRace = (error as { name?: unknown })?.name === 'ConditionalCheckFailedException';
      if (lostRace && attempt < 8) return admit(request, attempt + 1);
      throw error;
    }
  };

  return { admit: (request) => admit(request) };
};
