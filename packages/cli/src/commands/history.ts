import { formatReport, type Style } from '@riposte/core';
import {
  createDynamoDbHistory,
  DEFAULT_LIST_LIMIT,
  type HistoryDynamoDbLike,
  type HistoryRecord,
  type HistoryStore,
} from '@riposte/lambda-adapter';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';

export const historyHelp = `riposte history [--since <30m|24h|7d|date>] [--account <id>] [--limit <n>] [--table <name>] [--json]
riposte history --finding <id> [--table <name>] [--json]
  What Riposte did, from its history table, read with your AWS credentials (the SDK's usual chain;
  AWS_ENDPOINT_URL_DYNAMODB is honoured). The table is --table, else RIPOSTE_HISTORY_TABLE.
  Without --finding: the records since --since (default 24h; 30m, 24h, 7d, or an ISO 8601 date or
  time), newest first, one line each: time, kind, finding, type, account, outcome, who. --account
  keeps one account's; --limit caps the count (default ${DEFAULT_LIST_LIMIT}).
  --finding: every record of one finding, oldest first, each with its full report: every step and
  every AWS call with its request id.
  --json prints the records (an array of HistoryRecord).`;

export interface HistoryCommandOptions {
  /** Now, for `--since 24h` and the days `list` reads. Default: the system clock. */
  clock?: () => Date;
  /** Default: the SDK's client from the environment. */
  client?: HistoryDynamoDbLike;
}

/** The history table a command reads: `--table`, else `RIPOSTE_HISTORY_TABLE`; neither is a usage error. */
export const historyStoreOf = (
  table: string | undefined,
  io: CliIO,
  options: HistoryCommandOptions = {},
): HistoryStore => {
  const tableName = table ?? io.env.RIPOSTE_HISTORY_TABLE;
  if (tableName === undefined || tableName.trim() === '') {
    throw new UsageError(
      "no history table: pass --table <name> or set RIPOSTE_HISTORY_TABLE to the table the function writes its history to (the stack's HistoryTableName output)",
    );
  }
  return createDynamoDbHistory({
    tableName,
    ...(options.client ? { client: options.client } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
};

const UNITS_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const RELATIVE = /^(\d{1,6})([mhd])$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** `30m`, `24h`, `7d` before now, or an ISO 8601 date (midnight UTC) or time with its zone. */
export const parseSince = (text: string, now: Date): Date => {
  const relative = RELATIVE.exec(text);
  if (relative) {
    const amount = Number(relative[1]);
    if (amount > 0) return new Date(now.getTime() - amount * UNITS_MS[relative[2] as keyof typeof UNITS_MS]);
  } else if (ISO_DATE.test(text)) {
    const at = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
    if (Number.isFinite(at)) return new Date(at);
  }
  throw new UsageError(
    `--since must be a duration such as 30m, 24h or 7d, or an ISO 8601 date or time with its zone (2025-06-01, 2025-06-01T12:00:00Z), not "${text.slice(0, 40)}"`,
  );
};

const outcomeStyle = (outcome: string): Parameters<Style>[0] =>
  outcome === 'failed' || outcome === 'partial'
    ? 'red'
    : outcome === 'applied'
      ? 'green'
      : outcome === 'held'
        ? 'yellow'
        : 'cyan';

/** One record as one line: at, kind, finding id, type, account, outcome, actor. */
const recordLine = (record: HistoryRecord, style: Style): string =>
  [
    record.at,
    record.kind.padEnd(9),
    record.findingId,
    record.findingType,
    record.accountId,
    style(outcomeStyle(record.outcome), record.outcome),
    record.actor,
  ].join('  ');

/** One record in full: who did what and when, how GuardDuty vouched for the finding, and the report. */
const recordBlock = (record: HistoryRecord, style: Style): string => {
  const { verification } = record;
  const head = [
    `${style('bold', `${record.at} ${record.kind}`)} ${record.id} by ${record.actor}`,
    ...(verification
      ? [
          style(
            'dim',
            `  GuardDuty: ${verification.status}${verification.via ? ` via ${verification.via}` : ''}${verification.detectorId ? ` (detector ${verification.detectorId})` : ''}${verification.requestIds.length > 0 ? `, request ${verification.requestIds.join(', ')}` : ''}`,
          ),
        ]
      : []),
    ...(record.heldUntil ? [style('yellow', `  held for approval until ${record.heldUntil}`)] : []),
  ];
  return [...head, formatReport(record.report, style)].join('\n');
};

export const runHistory = async (
  args: string[],
  io: CliIO,
  options: HistoryCommandOptions = {},
): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    {
      finding: { type: 'string' },
      since: { type: 'string' },
      account: { type: 'string' },
      limit: { type: 'string' },
      table: { type: 'string' },
      json: { type: 'boolean' },
    },
    false,
  );
  const now = (options.clock ?? (() => new Date()))();
  if (values.finding !== undefined) {
    const listing = (['since', 'account', 'limit'] as const).find((name) => values[name] !== undefined);
    if (listing) {
      throw new UsageError(`--${listing} applies to the list; --finding shows every record of one finding`);
    }
    if (values.finding.trim() === '') throw new UsageError('--finding needs a finding id');
  }
  const since = parseSince(values.since ?? '24h', now);
  const limit = values.limit === undefined ? DEFAULT_LIST_LIMIT : Number(values.limit);
  if (!/^\d{1,5}$/.test(values.limit ?? '1') || !Number.isInteger(limit) || limit < 1) {
    throw new UsageError(`--limit must be a whole number from 1 to 99999, not "${values.limit}"`);
  }
  const history = historyStoreOf(values.table, io, options);

  if (values.finding !== undefined) {
    const records = await history.forFinding(values.finding);
    if (values.json) io.stdout(JSON.stringify(records, null, 2));
    else if (records.length === 0) io.stdout(`no history of finding ${values.finding}`);
    else io.stdout(records.map((record) => recordBlock(record, io.style)).join('\n\n'));
    return EXIT.ok;
  }

  const records = await history.list({
    since,
    limit,
    ...(values.account === undefined ? {} : { accountId: values.account }),
  });
  if (values.json) {
    io.stdout(JSON.stringify(records, null, 2));
    return EXIT.ok;
  }
  const scope = `since ${since.toISOString()}${values.account === undefined ? '' : ` in account ${values.account}`}`;
  if (records.length === 0) {
    io.stdout(`no history ${scope}`);
    return EXIT.ok;
  }
  io.stdout(records.map((record) => recordLine(record, io.style)).join('\n'));
  if (records.length === limit) {
    io.stderr(io.style('dim', `the newest ${limit} ${scope}; --limit <n> shows more`));
  }
  return EXIT.ok;
};
