import { createRegistry } from '@riposte/actions';
import { parsePlaybooks } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { createMemoryHistory, HistoryError, type HistoryRecord, type HistoryStore } from '../../src/index.js';
import { lambdaContext, readEvent, testHandler } from '../helpers/harness.js';
import { createRecorder, recordingAction } from '../helpers/test-actions.js';

// Cloud Custodian's recorded "Security Hub Findings - Custom Action" event wrapping one GuardDuty
// finding in ASFF (tests/data/cwe/event-securityhub-iamkey-finding-action.json; see fixtures SOURCES).
const ACCOUNT = '644160558196';
const APPROVE = `arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/RiposteApprove`;
const REJECT = `arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/RiposteReject`;
const FINDING_ID = '4cb5a629e9757b650d102f683cdbcd7b';

const customAction = (resource: string) => ({
  ...readEvent('securityhub-custom-action-consolelogin.json'),
  resources: [resource],
});

const PLAYBOOK = `
name: contain-with-approval
approval: required
match: { types: ['UnauthorizedAccess:IAMUser/ConsoleLogin'] }
actions:
  - id: contain
    action: contain-finding
  - id: tell
    action: record-response
`;

/** A handler whose clock a test moves, over a playbook that needs approval to contain. */
const setup = async (history: HistoryStore = createMemoryHistory(), level = 'info') => {
  const recorder = createRecorder();
  const notify = recordingAction(recorder);
  const registry = createRegistry([notify, { ...notify, name: 'contain-finding', phase: 'contain' }]);
  let now = new Date('2019-06-12T16:00:00.000Z');
  const test = await testHandler(
    { RIPOSTE_MODE: 'enforce', LOG_LEVEL: level },
    {
      registry,
      playbooks: parsePlaybooks(PLAYBOOK, 'approval.yaml'),
      history,
      clock: () => now,
      sts: {
        send: async () => ({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte/riposte` }),
      } as never,
    },
  );
  let invocation = 0;
  const invoke = async (event: unknown) => {
    invocation += 1;
    const answer = (await test.handler(
      event,
      lambdaContext(ACCOUNT, { awsRequestId: `request-${invocation}` }),
    )) as { results: { code: string; message: string; steps: { key: string; status: string }[] }[] };
    return answer.results[0]!;
  };
  const later = (hours: number) => {
    now = new Date(now.getTime() + hours * 3_600_000);
  };
  return { ...test, recorder, history, invoke, later };
};

const kinds = (records: HistoryRecord[]) => records.map((record) => record.kind);

describe('a playbook that requires approval', () => {
  it('holds containment, records the response with its expiry, and says how to approve', async () => {
    const { invoke, history, recorder } = await setup();

    const result = await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));

    expect(result.code).toBe('HANDLED');
    expect(result.steps.map((step) => [step.key, step.status])).toEqual([
      ['contain-with-approval/contain', 'held'],
      ['contain-with-approval/tell', 'applied'],
    ]);
    expect(recorder.executed).toEqual([`${FINDING_ID}:contain-with-approval`]);
    const [record] = await history.forFinding(FINDING_ID);
    expect(record).toMatchObject({
      kind: 'response',
      id: 'request-1',
      actor: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:riposte`,
      outcome: 'held',
      heldUntil: '2019-06-13T16:00:00.000Z',
    });
    expect(record!.finding?.id).toBe(FINDING_ID);
    expect(record!.report.steps[0]!.reason).toContain(`riposte approve ${FINDING_ID}`);
  });

  it('runs the held step once on approval, even when the approval arrives twice', async () => {
    const { invoke, history, recorder, later } = await setup();
    await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));
    later(2);

    const approved = await invoke(customAction(APPROVE));
    const again = await invoke(customAction(APPROVE));

    expect(approved.code).toBe('HANDLED');
    expect(approved.steps.map((step) => [step.key, step.status])).toEqual([
      ['contain-with-approval/contain', 'applied'],
    ]);
    expect(again.code).toBe('ALREADY_DECIDED');
    expect(recorder.executed.filter((entry) => entry.endsWith('contain-with-approval'))).toHaveLength(2);
    const records = await history.forFinding(FINDING_ID);
    expect(kinds(records)).toEqual(['response', 'approval']);
    expect(records[1]!.actor).toBe(APPROVE);
  });

  it('runs nothing after a rejection, and an approval after it finds the decision taken', async () => {
    const { invoke, history, recorder, later } = await setup();
    await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));
    later(1);

    const rejected = await invoke(customAction(REJECT));
    const approved = await invoke(customAction(APPROVE));

    expect(rejected.code).toBe('REJECTED');
    expect(approved.code).toBe('ALREADY_DECIDED');
    expect(recorder.executed).toHaveLength(1);
    const records = await history.forFinding(FINDING_ID);
    expect(kinds(records)).toEqual(['response', 'rejection']);
    expect(records[1]!.report.steps).toEqual([
      expect.objectContaining({
        key: 'contain-with-approval/contain',
        status: 'not-run',
        reason: `not run: rejected by ${REJECT}`,
      }),
    ]);
  });

  it('refuses an approval after the hold expired, and records the expiry', async () => {
    const { invoke, history, recorder, later } = await setup();
    await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));
    later(25);

    const result = await invoke(customAction(APPROVE));

    expect(result.code).toBe('APPROVAL_EXPIRED');
    expect(recorder.executed).toHaveLength(1);
    expect(kinds(await history.forFinding(FINDING_ID))).toEqual(['response', 'expiry']);
  });

  it('answers NOTHING_HELD for an approval of a finding with nothing held', async () => {
    const { invoke, recorder } = await setup();

    const result = await invoke(customAction(APPROVE));

    expect(result.code).toBe('NOTHING_HELD');
    expect(recorder.executed).toEqual([]);
  });

  it('treats Riposte’s action name in another account as an ordinary custom action', async () => {
    const { invoke } = await setup();

    const result = await invoke(
      customAction('arn:aws:securityhub:us-east-1:999988887777:action/custom/RiposteApprove'),
    );

    expect(result.code).toBe('HANDLED');
    expect(result.steps[0]!.status).toBe('held');
  });

  it('answers HISTORY_FAILED, retryable, when history cannot be read for a decision', async () => {
    const broken: HistoryStore = {
      ...createMemoryHistory(),
      forFinding: () =>
        Promise.reject(Object.assign(new Error('table unavailable'), { name: 'ResourceNotFoundException' })),
    };
    const { handler } = await setup(broken);

    await expect(handler(customAction(APPROVE), lambdaContext(ACCOUNT))).rejects.toThrow(/HISTORY_FAILED/);
  });

  it('keeps the response and logs HISTORY_FAILED when the response cannot be recorded', async () => {
    const broken: HistoryStore = {
      ...createMemoryHistory(),
      put: () => Promise.reject(new Error('table unavailable')),
    };
    const { invoke, logs } = await setup(broken);

    const result = await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));

    expect(result.code).toBe('HANDLED');
    expect(logs.entries()).toContainEqual(
      expect.objectContaining({ level: 'error', code: 'HISTORY_FAILED' }),
    );
  });

  it('says only the S3 copy failed when the table holds the record', async () => {
    const broken: HistoryStore = {
      ...createMemoryHistory(),
      put: () =>
        Promise.reject(
          new HistoryError('HISTORY_UNAVAILABLE', 'S3 PutObject: AccessDenied', { recorded: true }),
        ),
    };
    const { invoke, logs } = await setup(broken);

    await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));

    expect(logs.entries()).toContainEqual(
      expect.objectContaining({ code: 'HISTORY_FAILED', msg: expect.stringContaining('its S3 copy failed') }),
    );
  });
});

describe('metrics', () => {
  const metricsOf = (documents: Record<string, unknown>[], name: string) =>
    documents.filter((document) => name in document);

  it('flushes EMF documents for a held response and a decision, once per invocation', async () => {
    const { invoke, metrics, later } = await setup();

    await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));
    const afterResponse = metrics.length;
    later(1);
    await invoke(customAction(APPROVE));
    await invoke(customAction(APPROVE));

    const handled = metricsOf(metrics, 'FindingsHandled');
    expect(handled).toContainEqual(expect.objectContaining({ Outcome: 'held', FindingsHandled: 1 }));
    expect(handled).toContainEqual(expect.objectContaining({ Outcome: 'applied', FindingsHandled: 1 }));
    expect(metricsOf(metrics, 'Refusals')).toContainEqual(
      expect.objectContaining({ Reason: 'ALREADY_DECIDED', Refusals: 1 }),
    );
    expect(metricsOf(metrics, 'Steps')).toContainEqual(
      expect.objectContaining({ Action: 'contain-finding', Status: 'held', Steps: 1 }),
    );
    expect(afterResponse).toBeGreaterThan(0);
    for (const document of metrics) {
      expect(document._aws).toMatchObject({
        CloudWatchMetrics: [expect.objectContaining({ Namespace: 'Riposte' })],
      });
    }
  });
});

describe('call inputs in the logs', () => {
  const stepLines = (entries: Record<string, unknown>[]) =>
    entries.filter((entry) => typeof entry.step === 'string') as { calls: Record<string, unknown>[] }[];

  it('are logged at debug', async () => {
    const { invoke, logs } = await setup(createMemoryHistory(), 'debug');

    await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));

    const calls = stepLines(logs.entries()).flatMap((line) => line.calls);
    expect(calls).toContainEqual(
      expect.objectContaining({
        operation: 'Publish',
        input: { Subject: 'UnauthorizedAccess:IAMUser/ConsoleLogin' },
      }),
    );
  });

  it('are left out at info', async () => {
    const { invoke, logs } = await setup();

    await invoke(customAction(`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/aws`));

    const calls = stepLines(logs.entries()).flatMap((line) => line.calls);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((call) => !('input' in call))).toBe(true);
  });
});
