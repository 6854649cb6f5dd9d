export {
  COMPRESS_ABOVE_BYTES,
  createDynamoDbHistory,
  DEFAULT_HISTORY_TTL_DAYS,
  type DynamoDbHistoryOptions,
  type HistoryDynamoDbLike,
} from './dynamodb.js';
export { createMemoryHistory } from './memory.js';
export type { Decision, HistoryKind, HistoryQuery, HistoryRecord, HistoryStore } from './record.js';
export {
  createS3HistoryWriter,
  DEFAULT_HISTORY_PREFIX,
  type HistoryS3Like,
  type HistoryWriter,
  historyObjectKey,
  type S3HistoryWriterOptions,
  teeHistory,
} from './s3.js';
export {
  HISTORY_BY_DAY_INDEX,
  HISTORY_TABLE_SCHEMA,
  type HistoryKeyAttribute,
  type HistoryTableSchema,
} from './schema.js';
export { DEFAULT_LIST_LIMIT, HISTORY_KINDS } from './shape.js';
