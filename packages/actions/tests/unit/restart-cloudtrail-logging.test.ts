import {
  CloudTrailClient,
  CloudTrailServiceException,
  GetTrailStatusCommand,
  StartLoggingCommand,
  TrailNotFoundException,
} from '@aws-sdk/client-cloudtrail';
import { type Finding, hasInverse } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { restartCloudTrailLogging } from '../../src/actions/restart-cloudtrail-logging.js';
import { contextFor, credentialsError, sentCommands } from '../helpers/context.js';
import { ACCOUNT, cloudTrailLoggingDisabled, maliciousIpCaller, TRAIL_ARN } from '../helpers/findings.js';

const cloudtrail = mockClient(CloudTrailClient);

const stopped = { IsLogging: false, StopLoggingTime: new Date('2022-01-28T21:10:00.000Z') };

/** The sample as an attacker would forge it: the trail named by `arn` (and `name`). */
const forged = (arn: string | undefined, name = 'management-events'): Finding => {
  const finding = cloudTrailLoggingDisabled();
  return {
    ...finding,
    resources: finding.resources.map((resource) =>
      resource.kind === 'cloudtrail-trail'
        ? { kind: 'cloudtrail-trail', name, ...(arn === undefined ? {} : { arn }) }
        : resource,
    ),
  };
};

beforeEach(() => {
  cloudtrail.reset();
  cloudtrail.on(GetTrailStatusCommand, { Name: TRAIL_ARN }).resolves(stopped);
});
afterAll(() => cloudtrail.restore());

describe('restart-cloudtrail-logging', () => {
  it('targets the trail by ARN in its home region', () => {
    const finding: Finding = { ...cloudTrailLoggingDisabled(), region: 'eu-west-1' };

    expect(restartCloudTrailLogging.targets(finding, {}).targets).toEqual([
      expect.objectContaining({ kind: 'cloudtrail-trail', id: TRAIL_ARN, region: 'us-east-2' }),
    ]);
    expect(restartCloudTrailLogging.targets(maliciousIpCaller(), {}).targets).toEqual([]);
  });

  it('plans StartLogging on the stopped trail', async () => {
    const plan = await restartCloudTrailLogging.plan(
      contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled()),
    );

    expect(plan.status).toBe('planned');
    expect(plan.lookups[0]?.summary).toBe('the trail stopped logging at 2022-01-28T21:10:00.000Z');
    expect(plan.calls).toEqual([
      { service: 'CloudTrail', operation: 'StartLogging', input: { Name: TRAIL_ARN }, mutating: true },
    ]);
  });

  it('plans a no-op when the trail is already logging', async () => {
    cloudtrail.on(GetTrailStatusCommand).resolves({ IsLogging: true });

    const plan = await restartCloudTrailLogging.plan(
      contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled()),
    );

    expect(plan).toMatchObject({ status: 'no-op', reason: `trail ${TRAIL_ARN} is already logging` });
  });

  it('plans a no-op when the trail was deleted', async () => {
    cloudtrail
      .on(GetTrailStatusCommand)
      .rejects(new TrailNotFoundException({ message: 'Unknown trail', $metadata: { httpStatusCode: 400 } }));

    const plan = await restartCloudTrailLogging.plan(
      contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled()),
    );

    expect(plan).toMatchObject({ status: 'no-op', reason: `trail ${TRAIL_ARN} no longer exists` });
  });

  it('plans offline without credentials', async () => {
    cloudtrail.on(GetTrailStatusCommand).rejects(credentialsError());

    const plan = await restartCloudTrailLogging.plan(
      contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled()),
    );

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [{ status: 'unavailable', summary: `would look up GetTrailStatus ${TRAIL_ARN}` }],
    });
  });

  it('sends no mutating command while planning', async () => {
    await restartCloudTrailLogging.plan(contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled()));

    expect(sentCommands(cloudtrail)).toEqual(['GetTrailStatusCommand']);
  });

  it('starts logging again', async () => {
    cloudtrail.on(StartLoggingCommand).resolves({ $metadata: { requestId: 'start-1' } });
    const ctx = contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled());

    const outcome = await restartCloudTrailLogging.execute(ctx, await restartCloudTrailLogging.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(cloudtrail.commandCalls(StartLoggingCommand).map((call) => call.args[0].input)).toEqual([
      { Name: TRAIL_ARN },
    ]);
    expect(outcome.calls.at(-1)).toMatchObject({ operation: 'StartLogging', requestId: 'start-1' });
  });

  it('skips when logging was restarted since planning', async () => {
    cloudtrail.on(GetTrailStatusCommand).resolvesOnce(stopped).resolves({ IsLogging: true });
    const ctx = contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled());

    const outcome = await restartCloudTrailLogging.execute(ctx, await restartCloudTrailLogging.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(cloudtrail.commandCalls(StartLoggingCommand)).toHaveLength(0);
  });

  it('fails retryably on a CloudTrail throttling error', async () => {
    cloudtrail.on(StartLoggingCommand).rejects(
      new CloudTrailServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'throttled-1' },
        message: 'Rate exceeded',
      }),
    );
    const ctx = contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled());

    const outcome = await restartCloudTrailLogging.execute(ctx, await restartCloudTrailLogging.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'ThrottlingException', retryable: true },
    });
  });

  it('fails without retry when the caller lacks permission', async () => {
    cloudtrail.on(StartLoggingCommand).rejects(
      new CloudTrailServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'denied-1' },
        message: 'User is not authorized to perform: cloudtrail:StartLogging',
      }),
    );
    const ctx = contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled());

    const outcome = await restartCloudTrailLogging.execute(ctx, await restartCloudTrailLogging.plan(ctx));

    expect(outcome.error).toMatchObject({ code: 'AccessDeniedException', retryable: false });
  });
});

describe('restart-cloudtrail-logging against a forged finding', () => {
  it.each([
    [
      'another account',
      `arn:aws:cloudtrail:us-east-2:444455556666:trail/management-events`,
      "not the finding's account",
    ],
    ['another partition', `arn:aws-cn:cloudtrail:cn-north-1:${ACCOUNT}:trail/management-events`, 'partition'],
    ['another service', `arn:aws:s3:::management-events`, 'ARN'],
    ['a wildcard', `arn:aws:cloudtrail:us-east-2:${ACCOUNT}:trail/*`, 'wildcard'],
    ['a newline', `arn:aws:cloudtrail:us-east-2:${ACCOUNT}:trail/management-events\nx`, 'control'],
  ])('refuses a trail ARN in %s without any AWS call', async (_, arn, why) => {
    const ctx = contextFor(restartCloudTrailLogging, forged(arn));

    const plan = await restartCloudTrailLogging.plan(ctx);
    const outcome = await restartCloudTrailLogging.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toContain(why);
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(sentCommands(cloudtrail)).toEqual([]);
  });

  it('keeps a malformed ARN in the finding region rather than taking its region', () => {
    const finding = forged('arn:aws:cloudtrail:evil.example.com#:444455556666:trail/x');

    expect(restartCloudTrailLogging.targets(finding, {}).targets).toEqual([
      expect.objectContaining({ region: 'us-east-2' }),
    ]);
  });

  it.each([['*'], ['a'], ['my--trail'], ['10.0.0.1'], ['trail name']])(
    'refuses the trail name %j without any AWS call',
    async (name) => {
      const plan = await restartCloudTrailLogging.plan(
        contextFor(restartCloudTrailLogging, forged(undefined, name)),
      );

      expect(plan).toMatchObject({ status: 'refused', calls: [] });
      expect(plan.reason).toContain('is not a valid CloudTrail trail name');
      expect(sentCommands(cloudtrail)).toEqual([]);
    },
  );

  it('addresses a trail the finding names only by name, in the finding region', async () => {
    cloudtrail.on(GetTrailStatusCommand, { Name: 'management-events' }).resolves(stopped);

    const plan = await restartCloudTrailLogging.plan(contextFor(restartCloudTrailLogging, forged(undefined)));

    expect(plan.calls).toEqual([expect.objectContaining({ input: { Name: 'management-events' } })]);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    const ctx = contextFor(restartCloudTrailLogging, cloudTrailLoggingDisabled(), { mode: 'dry-run' });

    const outcome = await restartCloudTrailLogging.execute(ctx, await restartCloudTrailLogging.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(cloudtrail.commandCalls(StartLoggingCommand)).toHaveLength(0);
  });
});

describe('restart-cloudtrail-logging undo', () => {
  it('declares no inverse: logging that was restarted stays on', () => {
    expect(hasInverse(restartCloudTrailLogging.undo)).toBe(false);
    expect(restartCloudTrailLogging.undo).toEqual({
      none: 'logging that was restarted stays on: stopping a trail again would blind the audit log, which is what the finding reported',
    });
  });
});
