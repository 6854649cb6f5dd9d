import { ExecutionError } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { awsCall, sendCall } from '../../src/call.js';

describe('sendCall', () => {
  it('records the call with the request id of the answer', async () => {
    const call = awsCall('EC2', 'DescribeInstances', { InstanceIds: ['i-0a1b2c3d4e5f67890'] });

    const result = await sendCall(call, async () => ({
      Reservations: [],
      $metadata: { requestId: 'req-1' },
    }));

    expect(result.ok).toBe(true);
    expect(result.record).toEqual({
      service: 'EC2',
      operation: 'DescribeInstances',
      input: { InstanceIds: ['i-0a1b2c3d4e5f67890'] },
      mutating: false,
      requestId: 'req-1',
      durationMs: expect.any(Number),
    });
  });

  it('records the error code and request id of a failure without throwing', async () => {
    const call = awsCall('IAM', 'UpdateAccessKey', { UserName: 'ci-deployer' }, true);
    const failure = Object.assign(new Error('denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403, requestId: 'req-2' },
    });

    const result = await sendCall(call, () => Promise.reject(failure));

    expect(result).toMatchObject({
      ok: false,
      error: failure,
      record: { mutating: true, requestId: 'req-2', errorCode: 'AccessDenied' },
    });
  });

  it('records the code of our own errors', async () => {
    const call = awsCall('Webhook', 'POST', { destination: 'webhook:hooks.slack.com' }, true);

    const result = await sendCall(call, () =>
      Promise.reject(new ExecutionError('WebhookRejected', 'HTTP 410')),
    );

    expect(result.record.errorCode).toBe('WebhookRejected');
  });

  it('keeps the input as it was when sent', async () => {
    const input = { Tags: [{ Key: 'riposte:finding-id', Value: 'bebf27df0aba6551425955dbdf409deb' }] };

    const result = await sendCall(awsCall('EC2', 'CreateTags', input, true), async () => {
      input.Tags.push({ Key: 'added-by-middleware', Value: 'x' });
      return {};
    });

    expect(result.record.input).toEqual({
      Tags: [{ Key: 'riposte:finding-id', Value: 'bebf27df0aba6551425955dbdf409deb' }],
    });
  });
});
