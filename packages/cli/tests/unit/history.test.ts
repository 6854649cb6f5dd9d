import { fileURLToPath } from 'node:url';
import { createDynamoDbHistory, type HistoryRecord } from '@riposte/lambda-adapter';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalDynamoDb, startDynalite } from '../../../lambda-adapter/tests/helpers/dynalite.js';
import {
  ACCOUNT,
  createHistoryTable,
  FINDING_ID,
  FUNCTION_ARN,
  historyRecord,
  putRawItem,
} from '../../../lambda-adapter/tests/helpers/history.js';
import { parseSince, runHistory } from '../../src/commands/history.js';
import { EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const NOW = Date.parse('2025-06-03T15:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OTHER_ACCOUNT = '444455556666';
const OTHER_FINDING = '3a9c1e5f7b2d4f6a8c0e2b4d6f8a0c2e';
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityResponder/alice`;

let local: LocalDynamoDb;
let endpoint: string;
let tables = 0;

beforeAll(async () => {
  local = await startDynalite();
  const { hostname, port } = await local.client.config.endpoint!();
  endpoint = `http://${hostname}:${port}`;
});

afterAll(async () => {
  await local.close();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

/** A history table holding `records`, as the function would have written them. */
const tableWith = async (records: HistoryRecord[]): Promise<string> => {
  const tableName = `riposte-history-cli-${++tables}`;
  await createHistoryTable(local.client, tableName);
  const store = createDynamoDbHistory({ tableName, client: local.client });
  for (const record of records) await store.put(record);
  return tableName;
};

/** `riposte history` with the clock at NOW and the dynalite client. */
const history = async (args: string[], env: Record<string, string | undefined> = {}) => {
  const { io, out, err } = recordingIO(ROOT, env);
  const code = await runHistory(args, io, { clock: () => new Date(NOW), client: local.client });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

/** The whole command line, through main, with the SDK's default client from the environment. */
const run = async (argv: string[], env: Record<string, string | undefined> = {}) => {
  const { io, out, err } = recordingIO(ROOT, env);
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
};

/** The SDK's default client, as a user's shell configures it: credentials, region and endpoint from the environment. */
const useLocalDynamoDb = (): void => {
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local-dynalite-secret');
  vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
};

const at = (msBeforeNow: number): string => new Date(NOW - msBeforeNow).toISOString();

describe('riposte history', () => {
  it('lists the last 24 hours, one line per record, with the SDK client from the environment', async () => {
    useLocalDynamoDb();
    const now = Date.now();
    const recent = new Date(now - HOUR).toISOString();
    const response = historyRecord(recent);
    const approval = historyRecord(new Date(now - 30 * 60_000).toISOString(), {
      kind: 'approval',
      id: 'cli-3f2a9c',
      actor: CALLER,
    });
    const table = await tableWith([
      response,
      approval,
      historyRecord(new Date(now - 2 * DAY).toISOString(), { id: 'old' }),
    ]);

    const { code, out } = await run(['history', '--table', table]);

    expect(code).toBe(EXIT.ok);
    expect(out.split('\n')).toEqual([
      `${approval.at}  approval   ${FINDING_ID}  ${approval.findingType}  ${ACCOUNT}  applied  ${CALLER}`,
      `${recent}  response   ${FINDING_ID}  ${response.findingType}  ${ACCOUNT}  applied  ${FUNCTION_ARN}`,
    ]);
  });

  it('takes the table from RIPOSTE_HISTORY_TABLE, and --table over it', async () => {
    const table = await tableWith([historyRecord(at(HOUR))]);

    const fromEnv = await history([], { RIPOSTE_HISTORY_TABLE: table });
    const overridden = history(['--table', 'no-such-table'], { RIPOSTE_HISTORY_TABLE: table });

    expect(fromEnv.code).toBe(EXIT.ok);
    expect(fromEnv.out).toContain(FINDING_ID);
    await expect(overridden).rejects.toMatchObject({ details: { tableName: 'no-such-table' } });
  });

  it('lists since --since, newest first, across days', async () => {
    const table = await tableWith([
      historyRecord(at(2 * HOUR), { id: 'today' }),
      historyRecord(at(3 * DAY), { findingId: OTHER_FINDING, id: 'three-days' }),
      historyRecord(at(9 * DAY), { id: 'nine-days' }),
    ]);

    const week = await history(['--table', table, '--since', '7d', '--json']);
    const sinceDate = await history(['--table', table, '--since', '2025-05-20', '--json']);

    expect((JSON.parse(week.out) as HistoryRecord[]).map((record) => record.id)).toEqual([
      'today',
      'three-days',
    ]);
    expect((JSON.parse(sinceDate.out) as HistoryRecord[]).map((record) => record.id)).toEqual([
      'today',
      'three-days',
      'nine-days',
    ]);
  });

  it('keeps one account with --account', async () => {
    const table = await tableWith([
      historyRecord(at(HOUR), { id: 'ours' }),
      historyRecord(at(2 * HOUR), { id: 'theirs', accountId: OTHER_ACCOUNT }),
    ]);

    const { code, out } = await history(['--table', table, '--account', OTHER_ACCOUNT]);

    expect(code).toBe(EXIT.ok);
    expect(out.split('\n')).toHaveLength(1);
    expect(out).toContain(`  ${OTHER_ACCOUNT}  `);
  });

  it('says when --limit cut the list', async () => {
    const table = await tableWith(
      [1, 2, 3].map((hours) => historyRecord(at(hours * HOUR), { id: `r${hours}` })),
    );

    const { code, out, err } = await history(['--table', table, '--limit', '2']);

    expect(code).toBe(EXIT.ok);
    expect(out.split('\n')).toHaveLength(2);
    expect(err).toContain('the newest 2 since 2025-06-02T15:00:00.000Z; --limit <n> shows more');
  });

  it('says so when there is nothing to list', async () => {
    const table = await tableWith([]);

    const { code, out } = await history(['--table', table, '--account', OTHER_ACCOUNT]);

    expect(code).toBe(EXIT.ok);
    expect(out).toBe(`no history since 2025-06-02T15:00:00.000Z in account ${OTHER_ACCOUNT}`);
  });

  it("prints every record of a finding with --finding, oldest first, each report with every call's request id", async () => {
    const response = historyRecord(at(3 * HOUR), { heldUntil: at(-21 * HOUR) });
    const approval = historyRecord(at(HOUR), { kind: 'approval', id: 'cli-3f2a9c', actor: CALLER });
    const table = await tableWith([
      approval,
      response,
      historyRecord(at(HOUR), { findingId: OTHER_FINDING }),
    ]);

    const { code, out } = await history(['--table', table, '--finding', FINDING_ID]);

    expect(code).toBe(EXIT.ok);
    const blocks = out.split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain(`${response.at} response ${response.id} by ${FUNCTION_ARN}`);
    expect(blocks[0]).toContain(
      'GuardDuty: verified via own-detector (detector 12abc34d567e8fa901bc2d34e56789f0), request 3e1f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b',
    );
    expect(blocks[0]).toContain(`held for approval until ${response.heldUntil}`);
    expect(blocks[1]).toContain(`${approval.at} approval cli-3f2a9c by ${CALLER}`);
    for (const block of blocks) {
      expect(block).toContain(`${FINDING_ID} ${ACCOUNT} us-east-1: applied (enforce, 1284 ms)`);
      for (const requestId of [
        '5f1c2a4e-9d3b-4c6a-8e2f-1a2b3c4d5e6f',
        '0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f',
        'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
      ]) {
        expect(block).toContain(`(request ${requestId})`);
      }
    }
  });

  it('prints the records of a finding as a JSON array with --json', async () => {
    const records = [
      historyRecord(at(3 * HOUR)),
      historyRecord(at(HOUR), { kind: 'undo', id: 'cli-undo-1', actor: CALLER }),
    ];
    const table = await tableWith(records);

    const { code, out } = await history(['--table', table, '--finding', FINDING_ID, '--json']);

    expect(code).toBe(EXIT.ok);
    expect(JSON.parse(out)).toEqual(records);
  });

  it('says so when a finding has no history', async () => {
    const table = await tableWith([]);

    const { code, out } = await history(['--table', table, '--finding', OTHER_FINDING]);

    expect(code).toBe(EXIT.ok);
    expect(out).toBe(`no history of finding ${OTHER_FINDING}`);
  });

  it('exits 2 saying how to name the table when there is none', async () => {
    const { code, err } = await run(['history']);

    expect(code).toBe(EXIT.usage);
    expect(err).toContain('no history table: pass --table <name> or set RIPOSTE_HISTORY_TABLE');
    expect(err).toContain('riposte history [--since');
  });

  it.each([
    ['--since', 'yesterday'],
    ['--since', '0h'],
    ['--since', '24x'],
    ['--since', '2025-06-01T12:00'],
    ['--since', '2025-13-01'],
    ['--limit', '0'],
    ['--limit', 'all'],
  ])('exits 2 for %s %s', async (option, value) => {
    const { code, err } = await run(['history', '--table', 'riposte-history', option, value]);

    expect(code).toBe(EXIT.usage);
    expect(err).toContain(`riposte history: ${option} must be`);
  });

  it('exits 2 for --finding with a list option', async () => {
    const { code, err } = await run(['history', '--table', 't', '--finding', FINDING_ID, '--since', '7d']);

    expect(code).toBe(EXIT.usage);
    expect(err).toContain('--since applies to the list; --finding shows every record of one finding');
  });

  it('exits 1 with the code and the SDK error when the table cannot be read', async () => {
    useLocalDynamoDb();

    const { code, err } = await run(['history', '--table', 'no-such-table']);

    expect(code).toBe(EXIT.failed);
    expect(err).toContain(
      'riposte history: HISTORY_UNAVAILABLE: DynamoDB Query on no-such-table failed with ResourceNotFoundException',
    );
  });

  it('exits 1 when the table holds an item Riposte did not write', async () => {
    const table = await tableWith([]);
    await putRawItem(local.client, table, {
      pk: { S: `finding#${FINDING_ID}` },
      sk: { S: `${at(HOUR)}#response#x` },
      report: { S: '{}' },
    });
    useLocalDynamoDb();

    const { code, err } = await run(['history', '--table', table, '--finding', FINDING_ID]);

    expect(code).toBe(EXIT.failed);
    expect(err).toContain(`riposte history: HISTORY_INVALID: an item of ${table} is not a history record`);
  });

  it('is in the help', async () => {
    const { out } = await run(['--help']);

    expect(out).toContain('riposte history [--since <30m|24h|7d|date>]');
  });
});

describe('parseSince', () => {
  const now = new Date(NOW);

  it.each([
    ['30m', '2025-06-03T14:30:00.000Z'],
    ['24h', '2025-06-02T15:00:00.000Z'],
    ['7d', '2025-05-27T15:00:00.000Z'],
    ['2025-06-01', '2025-06-01T00:00:00.000Z'],
    ['2025-06-01T12:00:00Z', '2025-06-01T12:00:00.000Z'],
    ['2025-06-01T12:00:00.250+02:00', '2025-06-01T10:00:00.250Z'],
  ])('reads %s as %s', (text, expected) => {
    expect(parseSince(text, now).toISOString()).toBe(expected);
  });
});
