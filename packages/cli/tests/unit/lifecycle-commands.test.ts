import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAwsServices, createRegistry } from '@riposte/actions';
import { parsePlaybooks } from '@riposte/core';
import { createDynamoDbHistory, createHandler } from '@riposte/lambda-adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AccountSnapshot,
  FAKE_CREDENTIALS,
  type FakeAws,
  holdFindings,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import { type LocalDynamoDb, startDynalite } from '../../../lambda-adapter/tests/helpers/dynalite.js';
import { createHistoryTable } from '../../../lambda-adapter/tests/helpers/history.js';
import { EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';

// The end-to-end behaviour of undo and approve (history in dynalite, the local AWS endpoint) is in
// packages/lambda-adapter/tests/e2e/lifecycle.test.ts; these are the command lines a person gets wrong.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const run = async (argv: string[], env: Record<string, string | undefined> = {}) => {
  const { io, out, err } = recordingIO(ROOT, env);
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('riposte undo, approve and reject', () => {
  it.each([
    [['undo'], /undo needs exactly one finding id/],
    [['undo', 'a', 'b'], /undo needs exactly one finding id/],
    [['approve'], /approve needs exactly one finding id/],
    [['reject', 'a', 'b'], /reject needs exactly one finding id/],
    [['undo', 'abc', '--mode', 'yolo'], /--mode must be dry-run or enforce, not "yolo"/],
    [['approve', 'abc', '--surprise'], /Unknown option '--surprise'/],
  ])('refuses %j as a usage error (exit 2)', async (argv, message) => {
    const { code, err } = await run(argv, { RIPOSTE_HISTORY_TABLE: 'riposte-history' });

    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(message);
  });

  it.each([['undo'], ['approve'], ['reject']])(
    '%s says how to name the history table when none is set',
    async (command) => {
      const { code, err } = await run([command, '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01']);

      expect(code).toBe(EXIT.usage);
      expect(err).toContain('pass --table <name> or set RIPOSTE_HISTORY_TABLE');
    },
  );

  it('lists the lifecycle commands in the usage text', async () => {
    const { out } = await run(['--help']);

    expect(out).toContain('riposte undo <finding-id>');
    expect(out).toContain('riposte approve <finding-id>');
    expect(out).toContain('riposte reject <finding-id>');
    expect(out).toContain('riposte history');
  });
});

// ---- in process, against the local AWS endpoint and dynalite ---------------------------------------

const HISTORY_TABLE = 'riposte-history-cli-lifecycle';

interface World {
  fake: FakeAws;
  dynamo: LocalDynamoDb;
  findingId: string;
  /** The account as it was before the response. */
  before: AccountSnapshot;
}

let world: World | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await world?.fake.close();
  await world?.dynamo.close();
  world = undefined;
});

/**
 * The scenario's instance credential exfiltration handled in enforce by the function (in process),
 * its history in dynalite; with `approval`, by the shipped playbook made to require approval.
 */
const responded = async (approval: boolean): Promise<World> => {
  const event = JSON.parse(
    await readFile(
      new URL(
        '../../../../examples/scenario/findings/01-instance-credential-exfiltration.json',
        import.meta.url,
      ),
      'utf8',
    ),
  ) as { detail: { id: string } };
  const seed = scenarioSeed();
  seed.securityHub = { enabled: true };
  const fake = await startFakeAws({ seed });
  holdFindings(fake.state, [event], new Date());
  const dynamo = await startDynalite();
  await createHistoryTable(dynamo.client, HISTORY_TABLE);
  world = { fake, dynamo, findingId: event.detail.id, before: fake.snapshot() };
  const registry = createRegistry();
  const shipped = await readFile(join(ROOT, 'rules', 'ec2-instance-credential-exfiltration.yaml'), 'utf8');
  const handler = createHandler({
    env: { RIPOSTE_MODE: 'enforce', RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn, AWS_REGION: SCENARIO.region },
    registry,
    ...(approval
      ? {
          playbooks: parsePlaybooks(
            shipped.replace(/^priority:/m, 'approval: required\npriority:'),
            'approval.yaml',
          ),
        }
      : {}),
    createServices: (options) =>
      createAwsServices({
        ...options,
        clientConfig: { endpoint: fake.url, maxAttempts: 1 },
        credentialsFor: options.credentialsFor ?? (() => async () => ({ ...FAKE_CREDENTIALS })),
      }),
    history: createDynamoDbHistory({ tableName: HISTORY_TABLE, client: dynamo.client }),
    logDestination: { write: () => undefined },
    metricsOutput: () => undefined,
  });
  await handler(event, { awsRequestId: 'response-1', invokedFunctionArn: FUNCTION_ARN });
  return world;
};

/** An operator's shell: the fake's credentials and endpoint, the history table in dynalite. */
const operatorEnv = ({ fake, dynamo }: World): Record<string, string> => {
  const env = {
    AWS_ENDPOINT_URL: fake.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_REGION: SCENARIO.region,
    AWS_MAX_ATTEMPTS: '1',
    RIPOSTE_HISTORY_TABLE: HISTORY_TABLE,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return env;
};

const FUNCTION_ARN = `arn:aws:lambda:${SCENARIO.region}:${SCENARIO.accountId}:function:riposte`;

describe('riposte undo, in process', () => {
  it('plans the inverses without changing anything, then restores the account in enforce', async () => {
    const current = await responded(false);
    const env = operatorEnv(current);
    const afterResponse = current.fake.snapshot();

    const planned = await run(['undo', current.findingId], env);
    expect(planned.code, planned.err).toBe(EXIT.ok);
    expect(planned.out).toContain('would call EC2 AssociateIamInstanceProfile');
    expect(current.fake.snapshot()).toEqual(afterResponse);

    const undone = await run(['undo', current.findingId, '--mode', 'enforce', '--json'], env);
    expect(undone.code, undone.err).toBe(EXIT.ok);
    const report = JSON.parse(undone.out) as { actor: string; steps: { status: string }[] };
    expect(report.actor).toMatch(/^arn:aws:/);
    const { instances, roles, buckets } = current.fake.snapshot();
    expect({ instances, roles, buckets }).toEqual({
      instances: current.before.instances,
      roles: current.before.roles,
      buckets: current.before.buckets,
    });
  });

  it('says when history holds nothing about the finding', async () => {
    const current = await responded(false);
    const env = operatorEnv(current);

    const { code, err } = await run(['undo', '0123456789abcdef0123456789abcdef'], env);

    expect(code).toBe(EXIT.failed);
    expect(err).toContain('history holds nothing about finding');
  });
});

describe('riposte approve and reject, in process', () => {
  it('runs the held steps once: a second approval runs nothing', async () => {
    const current = await responded(true);
    const env = operatorEnv(current);
    expect(current.fake.calls.filter((call) => call.operation === 'DisassociateIamInstanceProfile')).toEqual(
      [],
    );

    const approved = await run(['approve', current.findingId], env);
    const again = await run(['approve', current.findingId, '--json'], env);

    expect(approved.code, approved.err + approved.out).toBe(EXIT.ok);
    expect(approved.out).toContain('held step(s) of finding');
    expect(again.code).toBe(EXIT.failed);
    expect(JSON.parse(again.out).status).toBe('already-decided');
    expect(
      current.fake.calls.filter((call) => call.operation === 'DisassociateIamInstanceProfile'),
    ).toHaveLength(1);
  });

  it('rejects the held steps: nothing runs, and an approval after finds it decided', async () => {
    const current = await responded(true);
    const env = operatorEnv(current);

    const rejected = await run(['reject', current.findingId], env);
    const approved = await run(['approve', current.findingId], env);

    expect(rejected.code, rejected.err).toBe(EXIT.ok);
    expect(rejected.out).toContain('rejected; nothing was run');
    expect(approved.code).toBe(EXIT.failed);
    expect(current.fake.calls.filter((call) => call.operation === 'DisassociateIamInstanceProfile')).toEqual(
      [],
    );
  });
});
