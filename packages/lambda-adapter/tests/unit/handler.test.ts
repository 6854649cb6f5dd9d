import type { AwsServicesOptions, Verification } from '@riposte/actions';
import { type Finding, PlaybookValidationError, parsePlaybooks } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import {
  AdapterConfigurationError,
  AWS_REQUEST_TIMEOUT_MS,
  createHandler,
  createMemoryStore,
  type FindingResult,
  type InvocationResult,
  RetryableFailureError,
  type SqsBatchResult,
} from '../../src/index.js';
import {
  fixture,
  identitySts,
  lambdaContext,
  readEvent,
  taggedServices,
  testHandler,
  vouchingVerifier,
} from '../helpers/harness.js';
import { createRecorder, recordingRegistry } from '../helpers/test-actions.js';

const ACCOUNT = '111122223333';
const FINDING_ID = '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01';
const SECURITY_HUB_ACCOUNT = '644160558196';

const exfiltrationEvent = () => readEvent('scenario-instance-credential-exfiltration.json');
const detailOf = (event: Record<string, unknown>) => event.detail as Record<string, unknown>;

/** The same finding re-published by GuardDuty: same id, later updatedAt, higher count. */
const republished = (event: Record<string, unknown>, updatedAt: string) => {
  const detail = detailOf(event);
  const service = detail.service as Record<string, unknown>;
  return {
    ...event,
    detail: { ...detail, updatedAt, service: { ...service, count: Number(service.count) + 1 } },
  };
};

const sqsRecord = (messageId: string, body: unknown) => ({
  messageId,
  receiptHandle: `handle-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: { ApproximateReceiveCount: '1' },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:riposte-findings`,
  awsRegion: 'us-east-1',
});

const snsRecord = (message: unknown) => ({
  EventSource: 'aws:sns',
  EventVersion: '1.0',
  EventSubscriptionArn: `arn:aws:sns:us-east-1:${ACCOUNT}:findings:6c7f1a4e-0d6e-4f2a-9a3e-0a1b2c3d4e5f`,
  Sns: {
    Type: 'Notification',
    MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
    TopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:findings`,
    Message: JSON.stringify(message),
    Timestamp: '2025-06-03T14:08:00.000Z',
  },
});

/** A function in the Security Hub samples' account, an hour after the finding's last update. */
const securityHubHandler = (findingUpdatedAt: string) =>
  testHandler(undefined, {
    sts: identitySts(SECURITY_HUB_ACCOUNT),
    clock: () => new Date(Date.parse(findingUpdatedAt) + 3_600_000),
  });

const only = (response: unknown): FindingResult => {
  const { results } = response as InvocationResult;
  expect(results).toHaveLength(1);
  return results[0]!;
};

describe('handler: event kinds', () => {
  it('handles a GuardDuty Finding event and answers with the report summary', async () => {
    const { handler, recorder } = await testHandler();

    const result = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(result).toMatchObject({
      code: 'HANDLED',
      findingId: FINDING_ID,
      findingType: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      accountId: ACCOUNT,
      mode: 'enforce',
      outcome: 'applied',
      matched: ['rerun-credential-exfiltration', 'respond-to-every-finding'],
      retryable: false,
    });
    expect(result.steps.map((step) => [step.playbook, step.action, step.status])).toEqual([
      ['rerun-credential-exfiltration', 'record-response', 'applied'],
      ['respond-to-every-finding', 'record-response', 'applied'],
    ]);
    expect(recorder.executed).toEqual([
      `${FINDING_ID}:rerun-credential-exfiltration`,
      `${FINDING_ID}:respond-to-every-finding`,
    ]);
  });

  it('plans without executing anything in dry-run, the default mode', async () => {
    const { handler, recorder } = await testHandler({});

    const result = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(result.mode).toBe('dry-run');
    expect(result.outcome).toBe('dry-run');
    expect(result.steps.map((step) => step.status)).toEqual(['dry-run', 'dry-run']);
    expect(recorder.executed).toEqual([]);
  });

  it('handles the GuardDuty finding of a Security Hub Custom Action event', async () => {
    const { handler, recorder } = await securityHubHandler('2019-06-12T15:34:50.346Z');

    const result = only(
      await handler(
        readEvent('securityhub-custom-action-consolelogin.json'),
        lambdaContext(SECURITY_HUB_ACCOUNT),
      ),
    );

    expect(result.code).toBe('HANDLED');
    expect(result.findingType).toBe('UnauthorizedAccess:IAMUser/ConsoleLogin');
    expect(result.matched).toEqual(['respond-to-every-finding']);
    expect(recorder.executed).toHaveLength(1);
  });

  it('handles the GuardDuty findings of an Imported event and rejects the other products one by one', async () => {
    const { handler, recorder } = await securityHubHandler('2019-06-24T18:06:33.303Z');
    const envelope = readEvent('securityhub-custom-action-consolelogin.json');
    const guardduty = readEvent('asff-recon-iamuser-resourcepermissions.json');
    const inspector = {
      ...guardduty,
      Id: 'arn:aws:inspector2:us-east-1:644160558196:finding/0a1b2c3d4e5f',
      ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector',
    };
    const event = {
      ...envelope,
      'detail-type': 'Security Hub Findings - Imported',
      detail: { findings: [inspector, guardduty] },
    };

    const { results } = (await handler(event, lambdaContext(SECURITY_HUB_ACCOUNT))) as InvocationResult;

    expect(results.map((result) => result.code)).toEqual(['FINDING_UNSUPPORTED', 'HANDLED']);
    expect(results[0]!.message).toContain('product/aws/inspector');
    expect(recorder.executed).toHaveLength(1);
  });

  it('answers each record of an SQS batch and lists only the retryable failures', async () => {
    const { handler, recorder } = await testHandler();
    const root = readEvent('finding-policy-rootcredentialusage.json');
    const throttled = {
      ...exfiltrationEvent(),
      detail: { ...detailOf(exfiltrationEvent()), id: 'throttled0000000000000000000000a' },
    };
    const denied = {
      ...exfiltrationEvent(),
      detail: { ...detailOf(exfiltrationEvent()), id: 'denied000000000000000000000000b' },
    };
    recorder.behaviour.set('throttled0000000000000000000000a', 'retryable');
    recorder.behaviour.set('denied000000000000000000000000b', 'permanent');
    const event = {
      Records: [
        sqsRecord('m-good', exfiltrationEvent()),
        sqsRecord('m-garbage', '{"not json'),
        sqsRecord('m-throttled', throttled),
        sqsRecord('m-denied', denied),
        sqsRecord('m-bare-finding', root),
      ],
    };

    const response = (await handler(event, lambdaContext(ACCOUNT))) as SqsBatchResult;

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-throttled' }]);
    expect(
      response.records.map((record) => [record.messageId, record.results.map((result) => result.code)]),
    ).toEqual([
      ['m-good', ['HANDLED']],
      ['m-garbage', ['BODY_INVALID']],
      ['m-throttled', ['HANDLED']],
      ['m-denied', ['HANDLED']],
      ['m-bare-finding', ['ACCOUNT_NOT_ALLOWED']],
    ]);
    expect(response.records[2]!.results[0]).toMatchObject({ outcome: 'failed', retryable: true });
    expect(response.records[3]!.results[0]).toMatchObject({ outcome: 'failed', retryable: false });
  });

  it('handles an SNS notification carrying the event', async () => {
    const { handler, recorder } = await testHandler();

    const result = only(await handler({ Records: [snsRecord(exfiltrationEvent())] }, lambdaContext(ACCOUNT)));

    expect(result).toMatchObject({ code: 'HANDLED', findingId: FINDING_ID });
    expect(recorder.executed).toHaveLength(2);
  });

  it('unwraps an SNS notification delivered through SQS without raw delivery', async () => {
    const { handler } = await testHandler();
    const notification = snsRecord(exfiltrationEvent()).Sns;

    const response = (await handler(
      { Records: [sqsRecord('m-1', notification)] },
      lambdaContext(ACCOUNT),
    )) as SqsBatchResult;

    expect(response.batchItemFailures).toEqual([]);
    expect(response.records[0]!.results[0]).toMatchObject({ code: 'HANDLED', findingId: FINDING_ID });
  });

  it('answers an event of another source with EVENT_UNSUPPORTED and runs nothing', async () => {
    const { handler, recorder } = await testHandler();
    const event = { ...exfiltrationEvent(), source: 'aws.inspector2', 'detail-type': 'Inspector2 Finding' };

    const result = only(await handler(event, lambdaContext(ACCOUNT)));

    expect(result.code).toBe('EVENT_UNSUPPORTED');
    expect(result.message).toContain('"aws.inspector2"');
    expect(recorder.executed).toEqual([]);
  });

  it('answers a malformed GuardDuty finding with FINDING_INVALID and the JSON pointer', async () => {
    const { handler } = await testHandler();
    const event = exfiltrationEvent();
    (detailOf(event) as Record<string, unknown>).severity = 'very high';

    const result = only(await handler(event, lambdaContext(ACCOUNT)));

    expect(result.code).toBe('FINDING_INVALID');
    expect(result.message).toContain('/detail/severity');
  });
});

describe('handler: failures and retries', () => {
  it('fails the invocation with RetryableFailureError when a step fails with a retryable error', async () => {
    const { handler, recorder } = await testHandler();
    recorder.behaviour.set(FINDING_ID, 'retryable');

    const invocation = handler(exfiltrationEvent(), lambdaContext(ACCOUNT));

    await expect(invocation).rejects.toBeInstanceOf(RetryableFailureError);
    await expect(invocation).rejects.toMatchObject({ code: 'RETRYABLE_FAILURE' });
  });

  it('runs the finding again on the retry that follows a retryable failure', async () => {
    const { handler, recorder } = await testHandler();
    recorder.behaviour.set(FINDING_ID, 'retryable');
    await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)).catch(() => undefined);
    recorder.behaviour.delete(FINDING_ID);

    const result = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(result).toMatchObject({ code: 'HANDLED', outcome: 'applied' });
    expect(recorder.executed).toHaveLength(4);
  });

  it('reports a non-retryable failure and lets the invocation succeed', async () => {
    const { handler, recorder } = await testHandler();
    recorder.behaviour.set(FINDING_ID, 'permanent');

    const result = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(result).toMatchObject({ code: 'HANDLED', outcome: 'failed', retryable: false });
    expect(result.steps[0]!.error).toMatchObject({ code: 'AuthorizationErrorException', retryable: false });
  });
  it('bounds every AWS call attempt, so a call that never answers cannot hold the invocation', async () => {
    const seen: AwsServicesOptions[] = [];
    const { handler } = await testHandler(undefined, {
      createServices: (options) => {
        seen.push(options);
        return taggedServices(options);
      },
    });

    await handler(exfiltrationEvent(), lambdaContext(ACCOUNT));

    expect(seen.length).toBeGreaterThan(0);
    for (const options of seen) expect(options.clientConfig?.requestTimeoutMs).toBe(AWS_REQUEST_TIMEOUT_MS);
  });
});

describe('handler: what initialisation learned', () => {
  it("hands the identity STS gave at initialisation to the function's own services, not a member account's", async () => {
    const seen: AwsServicesOptions[] = [];
    const { handler } = await testHandler(undefined, {
      createServices: (options) => {
        seen.push(options);
        return taggedServices(options);
      },
    });

    await handler(exfiltrationEvent(), lambdaContext(ACCOUNT));

    const own = seen.filter((options) => options.credentialsFor === undefined && options.protection);
    expect(own).toHaveLength(1);
    expect(own[0]?.identity).toEqual({
      account: ACCOUNT,
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-function/riposte`,
    });
    for (const member of seen.filter((options) => options.credentialsFor !== undefined)) {
      expect(member.identity).toBeUndefined();
    }
  });
});

describe('handler: idempotency', () => {
  it('answers a duplicate delivery with the stored report and executes nothing again', async () => {
    const { handler, recorder } = await testHandler();
    const first = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    const second = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));
    const third = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(recorder.executed).toHaveLength(2);
    for (const duplicate of [second, third]) {
      expect(duplicate.code).toBe('ALREADY_HANDLED');
      expect(duplicate.steps).toEqual(first.steps);
      expect(duplicate.matched).toEqual(first.matched);
    }
  });

  it('runs only the rerunOnUpdate playbooks when GuardDuty re-publishes the finding', async () => {
    const { handler, recorder } = await testHandler();
    await handler(exfiltrationEvent(), lambdaContext(ACCOUNT));

    const update = only(
      await handler(republished(exfiltrationEvent(), '2025-06-03T15:07:12.481Z'), lambdaContext(ACCOUNT)),
    );

    expect(update.matched).toEqual(['rerun-credential-exfiltration']);
    expect(recorder.executed).toEqual([
      `${FINDING_ID}:rerun-credential-exfiltration`,
      `${FINDING_ID}:respond-to-every-finding`,
      `${FINDING_ID}:rerun-credential-exfiltration`,
    ]);
  });

  it('remediates the next occurrence of a finding first handled in dry-run, once enforce is on', async () => {
    const store = createMemoryStore();
    const observing = await testHandler({ RIPOSTE_MODE: 'dry-run' }, { store });
    await observing.handler(exfiltrationEvent(), lambdaContext(ACCOUNT));
    const enforcing = await testHandler({ RIPOSTE_MODE: 'enforce' }, { store });

    const update = only(
      await enforcing.handler(
        republished(exfiltrationEvent(), '2025-06-03T15:07:12.481Z'),
        lambdaContext(ACCOUNT),
      ),
    );

    expect(observing.recorder.executed).toEqual([]);
    expect(update.matched).toEqual(['rerun-credential-exfiltration', 'respond-to-every-finding']);
    expect(enforcing.recorder.executed).toEqual([
      `${FINDING_ID}:rerun-credential-exfiltration`,
      `${FINDING_ID}:respond-to-every-finding`,
    ]);
  });

  it('treats an older occurrence arriving late as already handled', async () => {
    const { handler, recorder } = await testHandler();
    await handler(republished(exfiltrationEvent(), '2025-06-03T15:07:12.481Z'), lambdaContext(ACCOUNT));

    const late = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(late.code).toBe('ALREADY_HANDLED');
    expect(recorder.executed).toHaveLength(2);
  });

  it('answers IN_PROGRESS to a duplicate that arrives while the first delivery runs', async () => {
    const { handler, recorder } = await testHandler();
    let open: () => void = () => undefined;
    recorder.behaviour.set(FINDING_ID, { gate: new Promise<void>((resolve) => (open = resolve)) });
    const first = handler(exfiltrationEvent(), lambdaContext(ACCOUNT));

    const duplicate = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));
    open();
    await first;

    expect(duplicate).toMatchObject({ code: 'IN_PROGRESS', retryable: false });
    expect(recorder.executed).toHaveLength(2);
  });
});

describe('handler: initialisation', () => {
  it('refuses every event when the environment is invalid', async () => {
    const { handler, recorder } = await testHandler({ RIPOSTE_MODE: 'yolo' });

    await expect(handler.ready).rejects.toBeInstanceOf(AdapterConfigurationError);
    await expect(handler(exfiltrationEvent(), lambdaContext(ACCOUNT))).rejects.toMatchObject({
      code: 'LAMBDA_CONFIG_INVALID',
    });
    await expect(handler(exfiltrationEvent(), lambdaContext(ACCOUNT))).rejects.toBeInstanceOf(
      AdapterConfigurationError,
    );
    expect(recorder.executed).toEqual([]);
  });

  it('refuses every event when a playbook of RIPOSTE_PLAYBOOKS is invalid, naming the file', async () => {
    const recorder = createRecorder();
    const handler = createHandler({
      metricsOutput: () => undefined,
      env: { RIPOSTE_MODE: 'enforce', RIPOSTE_PLAYBOOKS: fixture('bad-playbooks') },
      registry: recordingRegistry(recorder),
      logDestination: { write: () => undefined },
      sts: identitySts(),
      verifier: vouchingVerifier,
      clock: () => new Date('2025-06-03T16:00:00.000Z'),
    });

    const error = await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(PlaybookValidationError);
    expect((error as PlaybookValidationError).message).toContain('unknown-action.yaml');
    expect((error as PlaybookValidationError).message).toContain('no-such-action');
  });

  it('refuses to start without a single playbook', async () => {
    const handler = createHandler({
      metricsOutput: () => undefined,
      env: { RIPOSTE_MODE: 'enforce' },
      registry: recordingRegistry(createRecorder()),
      bundled: async () => [],
      logDestination: { write: () => undefined },
      sts: identitySts(),
      verifier: vouchingVerifier,
      clock: () => new Date('2025-06-03T16:00:00.000Z'),
    });

    await expect(handler.ready).rejects.toThrow(/no playbooks found/);
  });

  it('loads and compiles the bundled playbooks once per container', async () => {
    const recorder = createRecorder();
    let loads = 0;
    const text = 'name: respond\nmatch:\n  types: ["**"]\nactions:\n  - action: record-response\n';
    const handler = createHandler({
      metricsOutput: () => undefined,
      env: { RIPOSTE_MODE: 'enforce' },
      registry: recordingRegistry(recorder),
      bundled: async (registry) => {
        loads += 1;
        return parsePlaybooks(text, 'rules/respond.yaml', { registry });
      },
      logDestination: { write: () => undefined },
      sts: identitySts(),
      verifier: vouchingVerifier,
      clock: () => new Date('2025-06-03T16:00:00.000Z'),
    });

    for (const updatedAt of [
      '2025-06-03T14:32:49.865Z',
      '2025-06-03T15:07:12.481Z',
      '2025-06-03T14:52:49.865Z',
    ]) {
      await handler(republished(exfiltrationEvent(), updatedAt), lambdaContext(ACCOUNT));
    }

    expect(loads).toBe(1);
    expect(recorder.executed).toEqual([`${FINDING_ID}:respond`]);
  });
});

describe('handler: admission', () => {
  /** GuardDuty as a table of the findings it holds: anything else is refused, as GetFindings would. */
  const guardDutyHolding =
    (...ids: string[]) =>
    () => ({
      verify: async (finding: Finding): Promise<Verification> =>
        ids.includes(finding.id)
          ? {
              status: 'verified',
              finding,
              detectorId: '12abc34d567e8fa901bc2d34e56789f0',
              via: 'own-detector',
              calls: [],
            }
          : { status: 'refused', reason: `GuardDuty holds no finding ${finding.id}`, calls: [] },
    });

  it('refuses a finding GuardDuty does not hold: nothing runs, nothing is remembered, a warning is logged', async () => {
    const store = createMemoryStore();
    const forged = await testHandler(undefined, { store, verifier: guardDutyHolding() });

    const refused = only(await forged.handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));
    const genuine = await testHandler(undefined, { store, verifier: guardDutyHolding(FINDING_ID) });
    const handled = only(await genuine.handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(refused).toMatchObject({
      code: 'FINDING_UNVERIFIED',
      retryable: false,
      matched: [],
      steps: [],
      verification: { status: 'refused', reason: `GuardDuty holds no finding ${FINDING_ID}` },
    });
    expect(forged.recorder.executed).toEqual([]);
    expect(forged.logs.entries().find((line) => line.code === 'FINDING_UNVERIFIED')).toMatchObject({
      level: 'warn',
    });
    // The refusal left no idempotency record behind: the genuine delivery runs.
    expect(handled.code).toBe('HANDLED');
    expect(genuine.recorder.executed).toHaveLength(2);
  });

  it("acts on GuardDuty's copy, not on what was delivered", async () => {
    const { handler, recorder } = await testHandler(undefined, {
      verifier: () => ({
        verify: async (delivered) => ({
          status: 'verified',
          finding: { ...delivered, type: { ...delivered.type, name: 'Policy:IAMUser/RootCredentialUsage' } },
          detectorId: '12abc34d567e8fa901bc2d34e56789f0',
          via: 'own-detector',
          calls: [],
        }),
      }),
    });

    const result = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(result.findingType).toBe('Policy:IAMUser/RootCredentialUsage');
    expect(result.matched).toEqual(['respond-to-every-finding']);
    expect(recorder.executed).toEqual([`${FINDING_ID}:respond-to-every-finding`]);
  });

  it('retries later when GuardDuty cannot be asked (throttled)', async () => {
    const { handler, recorder } = await testHandler(undefined, {
      verifier: () => ({
        verify: async () => ({
          status: 'failed',
          reason: 'GuardDuty could not be asked: TooManyRequestsException',
          retryable: true,
          errorCode: 'TooManyRequestsException',
          calls: [],
        }),
      }),
    });

    await expect(handler(exfiltrationEvent(), lambdaContext(ACCOUNT))).rejects.toMatchObject({
      code: 'RETRYABLE_FAILURE',
      details: { results: [expect.objectContaining({ code: 'VERIFICATION_FAILED', retryable: true })] },
    });
    expect(recorder.executed).toEqual([]);
  });

  it.each([
    ['2025-05-27T15:59:00.000Z', 'FINDING_TOO_OLD'],
    ['2025-06-03T16:06:00.000Z', 'FINDING_FROM_FUTURE'],
  ])('refuses a finding last updated at %s with %s', async (updatedAt, code) => {
    const { handler, recorder } = await testHandler();

    const result = only(await handler(republished(exfiltrationEvent(), updatedAt), lambdaContext(ACCOUNT)));

    expect(result).toMatchObject({ code, retryable: false });
    expect(recorder.executed).toEqual([]);
  });

  it('accepts the clock skew of up to five minutes', async () => {
    const { handler } = await testHandler();

    const result = only(
      await handler(republished(exfiltrationEvent(), '2025-06-03T16:04:00.000Z'), lambdaContext(ACCOUNT)),
    );

    expect(result.code).toBe('HANDLED');
  });

  it('runs a failed playbook again at the next delivery of the same occurrence, and only until it is done', async () => {
    const { handler, recorder } = await testHandler();
    recorder.behaviour.set(FINDING_ID, 'permanent');
    const failed = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    recorder.behaviour.delete(FINDING_ID);
    const again = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));
    const done = only(await handler(exfiltrationEvent(), lambdaContext(ACCOUNT)));

    expect(failed).toMatchObject({ code: 'HANDLED', outcome: 'failed', retryable: false });
    expect(again).toMatchObject({ code: 'HANDLED', outcome: 'applied' });
    expect(done.code).toBe('ALREADY_HANDLED');
    expect(recorder.executed).toEqual([
      `${FINDING_ID}:rerun-credential-exfiltration`,
      `${FINDING_ID}:respond-to-every-finding`,
      `${FINDING_ID}:rerun-credential-exfiltration`,
      `${FINDING_ID}:respond-to-every-finding`,
    ]);
  });
});
