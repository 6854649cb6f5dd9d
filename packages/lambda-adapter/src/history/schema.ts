// The table's design alone, without the SDK: the template imports it too.

/** One attribute of the table's keys. */
export interface HistoryKeyAttribute {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

/**
 * The history table's design, in the property names `AWS::DynamoDB::Table` and `CreateTable` share:
 * the template spreads it into the table's properties, the tests create dynalite's table from it.
 * `TimeToLiveSpecification` is CloudFormation's; with the SDK it is `UpdateTimeToLive`'s input.
 */
export interface HistoryTableSchema {
  AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
  KeySchema: HistoryKeyAttribute[];
  GlobalSecondaryIndexes: {
    IndexName: string;
    KeySchema: HistoryKeyAttribute[];
    Projection: { ProjectionType: 'ALL' };
  }[];
  TimeToLiveSpecification: { AttributeName: string; Enabled: true };
}

/** The index `list` reads: partition `day` (YYYY-MM-DD, UTC, of `at`), sort `at`. */
export const HISTORY_BY_DAY_INDEX = 'byDay';

/**
 * Items:
 * - a record: `pk` = `finding#<findingId>`, `sk` = `<at>#<kind>#<id>` (so a finding's records sort
 *   oldest first), `day`, the record's fields as attributes, `report` as JSON text (or `reportGz`,
 *   gzip, binary), `finding` likewise, `verification` as JSON text, `expiresAt`;
 * - a decision: same `pk`, `sk` = `decision#<responseId>`, no `day` (so the index holds records
 *   only). Record sort keys start with a digit, so they all sort before `decision#`.
 *
 * `expiresAt` (epoch seconds) is `at` plus the store's `ttlDays`. The index projects every attribute:
 * `list` reads whole records without a second round trip.
 */
export const HISTORY_TABLE_SCHEMA: HistoryTableSchema = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'day', AttributeType: 'S' },
    { AttributeName: 'at', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: HISTORY_BY_DAY_INDEX,
      KeySchema: [
        { AttributeName: 'day', KeyType: 'HASH' },
        { AttributeName: 'at', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
  TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
};
