import type { PutObjectCommand } from '@aws-sdk/client-s3';
import { HistoryError } from '../errors.js';
import { onFirstCall, s3Sdk } from '../sdk.js';
import type { Decision, HistoryQuery, HistoryRecord, HistoryStore } from './record.js';
import { checkedRecord } from './shape.js';

/** Where records are copied to, beside the store that keeps them. */
export interface HistoryWriter {
  write(record: HistoryRecord): Promise<void>;
}

/** The S3 call the writer makes; tests and callers may pass a configured client. */
export interface HistoryS3Like {
  send(command: PutObjectCommand): Promise<unknown>;
}

export interface S3HistoryWriterOptions {
  bucket: string;
  /** Key prefix, without a trailing slash. Default `riposte/history`. */
  prefix?: string;
  /** Default: a client from the SDK's standard configuration chain, created on first use. */
  client?: HistoryS3Like;
}

export const DEFAULT_HISTORY_PREFIX = 'riposte/history';

const errorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { name?: unknown }).name === 'string'
    ? (error as { name: string }).name
    : undefined;

/** Errors a retry will not cure: the bucket, its policy or the credentials are wrong. */
const PERMANENT = new Set(['AccessDenied', 'NoSuchBucket', 'InvalidBucketName', 'InvalidAccessKeyId']);

/** A key segment: anything but letters, digits, `.`, `_` and `-` becomes `_` (finding ids are hex). */
const segment = (value: string): string => value.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * The object key of a record: `<prefix>/year=YYYY/month=MM/day=DD/<findingId>-<kind>-<id>.json`,
 * the date being the UTC day of `at`. Hive-style partitions, so Athena projects them (see
 * examples/05-deploy).
 */
export const historyObjectKey = (record: HistoryRecord, prefix = DEFAULT_HISTORY_PREFIX): string => {
  const [year, month, day] = record.at.slice(0, 10).split('-');
  const base = prefix.replace(/\/+$/, '');
  return `${base === '' ? '' : `${base}/`}year=${year}/month=${month}/day=${day}/${segment(record.findingId)}-${record.kind}-${segment(record.id)}.json`;
};

/**
 * Writes each record to S3 as one line of JSON (the whole record, report included), for Athena.
 * Objects are encrypted as the bucket's default encryption says; the writer sets none.
 */
export const createS3HistoryWriter = (options: S3HistoryWriterOptions): HistoryWriter => {
  const { bucket } = options;
  const prefix = options.prefix ?? DEFAULT_HISTORY_PREFIX;
  const client: HistoryS3Like =
    options.client ?? onFirstCall<PutObjectCommand>(async () => new (await s3Sdk()).S3Client({}));
  return {
    write: async (record: HistoryRecord): Promise<void> => {
      const key = historyObjectKey(checkedRecord(record), prefix);
      const { PutObjectCommand } = await s3Sdk();
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: `${JSON.stringify(record)}\n`,
            ContentType: 'application/json',
          }),
        );
      } catch (error) {
        const name = errorName(error) ?? 'UnknownError';
        throw new HistoryError(
          'HISTORY_UNAVAILABLE',
          `S3 PutObject of s3://${bucket}/${key} failed with ${name}`,
          {
            retryable: !PERMANENT.has(name),
            cause: error,
            details: { operation: 'PutObject', bucket, key, errorCode: name },
          },
        );
      }
    },
  };
};

/**
 * A store that also copies every record to `writer`. The store (DynamoDB) is the record of truth and
 * is written first: when it fails, nothing is copied and its error is thrown. When only the copy
 * fails, a `HistoryError` (`HISTORY_UNAVAILABLE`, `recorded: true`, the S3 error as `cause`) is thrown
 * after the store succeeded: the record is kept and readable, the archive misses one object.
 *
 * What the handler should do with it: log it (with the finding id and the object key in `details`)
 * and count it, and go on. Not fail the finding, which would run the response again, nor retry
 * inline, which spends the invocation's time on a copy; a missing object can be written again from
 * the table (`forFinding`). Reads and decisions go to the store only.
 */
export const teeHistory = (store: HistoryStore, writer: HistoryWriter): HistoryStore => ({
  put: async (record: HistoryRecord): Promise<void> => {
    await store.put(record);
    try {
      await writer.write(record);
    } catch (error) {
      const copy = error instanceof HistoryError ? error : undefined;
      throw new HistoryError(
        'HISTORY_UNAVAILABLE',
        `the ${record.kind} record of finding ${record.findingId} is kept, but its copy failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          retryable: copy?.retryable ?? true,
          recorded: true,
          cause: error,
          details: {
            ...(copy?.details ?? {}),
            findingId: record.findingId,
            kind: record.kind,
            id: record.id,
          },
        },
      );
    }
  },
  forFinding: (findingId: string) => store.forFinding(findingId),
  list: (query: HistoryQuery) => store.list(query),
  decide: (findingId: string, decision: Decision) => store.decide(findingId, decision),
});
