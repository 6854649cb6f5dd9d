import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccountSnapshot,
  FAKE_CREDENTIALS,
  type FakeAws,
  holdFindings,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import type { HistoryRecord } from '../../src/index.js';
import { requireFreshBundle, runBundle } from '../helpers/bundle-runner.js';
import { type LocalDynamoDb, startDynalite } from '../helpers/dynalite.js';
import { createHistoryTable } from '../helpers/history.js';
import { GUARDDUTY_PRODUCT_ARN, scenarioEvent, securityHubEvent } from '../security/support.js';

/**
 * The response lifecycle end to end, as it is deployed and operated: the BUILT bundle handles the
 * canonical scenario in enforce against the local AWS endpoint, its history in a real DynamoDB-compatible
 * server (dynalite); then the BUILT CLI reads that history and undoes the response with an operator's
 * credentials, and the endpoint's state is compared with its state before the response.
 */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
const FUNCTION_ARN = `arn:aws:lambda:${SCENARIO.region}:${SCENARIO.accountId}:function:riposte`;
const HISTORY_TABLE = 'riposte-history';
const APPROVE_ARN = `arn:aws:securityhub:${SCENARIO.region}:${SCENARIO.accountId}:action/custom/RiposteApprove`;

const open: { fake?: FakeAws; dynamo?: LocalDynamoDb; dir?: string } = {};
afterEach(async () => {
  await open.fake?.close();
  await open.dynamo?.close();
  if (open.dir) await rm(open.dir, { recursive: true, force: true });
  open.fake = undefined;
  open.dynamo = undefined;
  open.dir = undefined;
});
beforeAll(() => requireFreshBundle());

/** The scenario's account with Security Hub on, GuardDuty holding the scenario's four findings. */
const setUp = async () => {
  const events = [1, 2, 3, 4].map((n) => scenarioEvent(n as 1 | 2 | 3 | 4));
  const seed = scenarioSeed();
  seed.securityHub = { enabled: true };
  const fake = await startFakeAws({ seed });
  open.fake = fake;
  holdFindings(fake.state, events, new Date());
  const dynamo = await startDynalite();
  open.dynamo = dynamo;
  await createHistoryTable(dynamo.client, HISTORY_TABLE);
  const env = {
    ...fake.env(),
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    RIPOSTE_HISTORY_TABLE: HISTORY_TABLE,
    RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn,
  };
  return { fake, events, env };
};

const invocation = (event: unknown, id: string) => ({
  event,
  context: { invokedFunctionArn: FUNCTION_ARN, awsRequestId: id },
});

/** The built CLI, run as an operator runs it: the operator's own (here: the fake's) credentials. */
const riposte = (args: string[], env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          ...env,
          AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
          AWS_REGION: SCENARIO.region,
          NO_COLOR: '1',
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

/** What no undo takes back: the evidence snapshot, the notifications sent, the trail's logging, and Security Hub's latest note. */
const comparable = (snapshot: AccountSnapshot) => {
  const {
    snapshots: _kept,
    topics: _sent,
    webhookPosts: _posted,
    trails: _logging,
    securityHub,
    ...rest
  } = snapshot;
  const workflow = Object.fromEntries(
    Object.entries(securityHub.findings).map(([id, finding]) => [id, finding.workflowStatus]),
  );
  return { ...rest, securityHubWorkflow: workflow };
};

describe('the response lifecycle, deployed', () => {
  it('records every call with its request id, and undo puts the account back as it was', async () => {
    const { fake, events, env } = await setUp();
    const before = fake.snapshot();

    const run = await runBundle(
      { ...env, RIPOSTE_MODE: 'enforce' },
      events.map((event, index) => invocation(event, `response-${index + 1}`)),
    );
    expect(run.initError).toBeUndefined();
    const changed = fake.snapshot();
    expect(comparable(changed)).not.toEqual(comparable(before));
    expect(fake.state.securityHub.workflows.size).toBeGreaterThan(0);

    for (const event of events) {
      const { id } = event.detail;
      const shown = await riposte(['history', '--finding', id, '--json'], env);
      expect(shown.code, shown.stderr).toBe(0);
      const [response] = JSON.parse(shown.stdout) as HistoryRecord[];
      expect(response).toMatchObject({ kind: 'response', findingId: id, actor: FUNCTION_ARN });
      const calls = response!.report.steps.flatMap((step) => step.calls);
      expect(calls.some((call) => call.mutating)).toBe(true);
      for (const call of calls)
        expect(call).toMatchObject({ requestId: expect.any(String), input: expect.any(Object) });

      const undone = await riposte(['undo', id, '--mode', 'enforce'], env);
      expect(undone.code, `${undone.stdout}\n${undone.stderr}`).toBe(0);
    }

    const after = fake.snapshot();
    expect(comparable(after)).toEqual(comparable(before));
    // What stays, by design: the trail logs again, and the notifications were sent.
    expect(Object.values(before.trails).map((trail) => trail.isLogging)).toContain(false);
    expect(Object.values(after.trails).every((trail) => trail.isLogging)).toBe(true);
    expect(after.topics[SCENARIO.topicArn]?.messages).toBeGreaterThan(0);

    const history = await riposte(['history', '--finding', events[0]!.detail.id, '--json'], env);
    const kinds = (JSON.parse(history.stdout) as HistoryRecord[]).map((record) => record.kind);
    expect(kinds).toEqual(['response', 'undo']);
  });

  it('shows an undo plan without changing anything in dry-run', async () => {
    const { fake, events, env } = await setUp();
    await runBundle({ ...env, RIPOSTE_MODE: 'enforce' }, [invocation(events[0], 'response-1')]);
    const responded = fake.snapshot();

    const planned = await riposte(['undo', events[0]!.detail.id], env);

    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('would call EC2 AssociateIamInstanceProfile');
    expect(planned.stdout).toContain('would call IAM DeleteRolePolicy');
    expect(planned.stdout).toContain('dry-run: nothing was changed');
    expect(fake.snapshot()).toEqual(responded);
  });

  it('holds an approval-required containment until approval, then runs it once when approval comes twice', async () => {
    const { fake, events, env } = await setUp();
    open.dir = await mkdtemp(join(tmpdir(), 'riposte-approval-'));
    const shipped = await readFile(join(ROOT, 'rules', 'ec2-instance-credential-exfiltration.yaml'), 'utf8');
    await writeFile(
      join(open.dir, 'approval.yaml'),
      shipped.replace(/^priority:/m, 'approval: required\npriority:'),
    );
    const approve = {
      ...securityHubEvent(events[0]!, GUARDDUTY_PRODUCT_ARN),
      'detail-type': 'Security Hub Findings - Custom Action',
      resources: [APPROVE_ARN],
    };

    const run = await runBundle({ ...env, RIPOSTE_MODE: 'enforce', RIPOSTE_PLAYBOOKS: open.dir }, [
      invocation(events[0], 'response-1'),
      invocation(approve, 'approve-1'),
      invocation(approve, 'approve-2'),
    ]);

    expect(run.initError).toBeUndefined();
    const codes = run.results.map((result) =>
      result.ok && 'results' in result.response ? result.response.results[0]?.code : 'error',
    );
    expect(codes).toEqual(['HANDLED', 'HANDLED', 'ALREADY_DECIDED']);
    const [held, approved] = run.results.map((result) =>
      result.ok && 'results' in result.response ? result.response.results[0]! : undefined,
    );
    expect(held?.steps.filter((step) => step.status === 'held').map((step) => step.action)).toEqual([
      'detach-instance-profile',
      'revoke-role-sessions',
    ]);
    expect(approved?.steps.map((step) => [step.action, step.status])).toEqual([
      ['detach-instance-profile', 'applied'],
      ['revoke-role-sessions', 'applied'],
    ]);
    const detaches = fake.calls.filter((call) => call.operation === 'DisassociateIamInstanceProfile');
    expect(detaches).toHaveLength(1);
    const notified = fake.calls.filter((call) => call.operation === 'Publish');
    expect(JSON.stringify(notified[0]?.params)).toContain('riposte approve');

    const history = await riposte(['history', '--finding', events[0]!.detail.id, '--json'], env);
    const records = JSON.parse(history.stdout) as HistoryRecord[];
    expect(records.map((record) => [record.kind, record.actor])).toEqual([
      ['response', FUNCTION_ARN],
      ['approval', APPROVE_ARN],
    ]);
  });
});
