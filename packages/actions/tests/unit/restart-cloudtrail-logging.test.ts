import {
  CloudTrailClient,
  CloudTrailServiceException,
  GetTrailStatusCommand,
  StartLoggingCommand,
  TrailNotFoundException,
} from '@aws-sdk/client-cloudtrail';
import type { Finding } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { restartCloudTrailLogging } from '../../src/actions/restart-cloudtrail-logging.js';
import { contextFor, credentialsError, sentCommands } from '../helpers/context.js';
import { cloudTrailLoggingDisabled, maliciousIpCaller, TRAIL_ARN } from '../helpers/findings.js';

const cloudtrail = mockClient(CloudTrailClient);

const stopped = { IsLogging: false, StopLoggingTime: new Date('2022-01-28T21:10:00.000Z') };

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
