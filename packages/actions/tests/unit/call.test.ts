import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { ExecutionError } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { awsCall, mutation, read, sendCall } from '../../src/call.js';
import { type AwsScope, type AwsServices, createAwsServices } from '../../src/clients.js';
import { sentCommands } from '../helpers/context.js';

const ec2 = mockClient(EC2Client);
const s3 = mockClient(S3Client);
const sns = mockClient(SNSClient);
beforeEach(() => {
  ec2.reset();
  s3.reset();
  sns.reset();
});
afterAll(() => {
  ec2.restore();
  s3.restore();
  sns.restore();
});

const member: AwsScope = { accountId: '973743533182', region: 'us-east-2' };

/** Services that record each client asked for, by service and scope. */
const recordingServices = () => {
  const base = createAwsServices({ env: {} });
  const made: string[] = [];
  const services: AwsServices = {
    ...base,
    ec2: (scope) => {
      made.push(`ec2 ${scope.accountId}/${scope.region}`);
      return base.ec2(scope);
    },
    s3: (scope) => {
      made.push(`s3 ${scope.accountId}/${scope.region}`);
      return base.s3(scope);
    },
    sns: (scope) => {
      made.push(`sns ${scope.accountId}/${scope.region}`);
      return base.sns(scope);
    },
  };
  return { services, made };
};

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
      Promise.reject(new ExecutionError('WEBHOOK_REJECTED', 'HTTP 410')),
    );

    expect(result.record.errorCode).toBe('WEBHOOK_REJECTED');
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

describe('read and mutation', () => {
  it('describe the call as reports show it, and make no client before it is sent', () => {
    const { services, made } = recordingServices();

    const request = read({ services, target: member }, 'ec2', 'DescribeInstances', {
      InstanceIds: ['i-0a1b2c3d4e5f67890'],
    });
    const change = mutation({ services, target: member }, 'ec2', 'CreateTags', {
      Resources: ['i-0a1b2c3d4e5f67890'],
      Tags: [{ Key: 'riposte:finding-id', Value: 'f1' }],
    });

    expect(request.call).toEqual({
      service: 'EC2',
      operation: 'DescribeInstances',
      input: { InstanceIds: ['i-0a1b2c3d4e5f67890'] },
      mutating: false,
    });
    expect(change.call).toMatchObject({ service: 'EC2', operation: 'CreateTags', mutating: true });
    expect(made).toEqual([]);
  });

  it('are typed by the service and operation: only the commands of its list, with their input', () => {
    const { services } = recordingServices();
    const ctx = { services, target: member };

    const calls = [
      // @ts-expect-error DescribeVolumes is not one of the EC2 commands Riposte sends
      read(ctx, 'ec2', 'DescribeVolumes', {}),
      // @ts-expect-error CreateTags is an EC2 command, not an S3 one
      mutation(ctx, 's3', 'CreateTags', { Resources: ['i-0a1b2c3d4e5f67890'] }),
      // @ts-expect-error Resources is a list of ids
      mutation(ctx, 'ec2', 'CreateTags', { Resources: 'i-0a1b2c3d4e5f67890' }),
    ];

    expect(calls.map((item) => item.call.operation)).toEqual(['DescribeVolumes', 'CreateTags', 'CreateTags']);
  });

  it("sends the operation's command with the client of the target's account and region", async () => {
    const { services, made } = recordingServices();
    ec2
      .on(DescribeInstancesCommand, { InstanceIds: ['i-0a1b2c3d4e5f67890'] })
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0a1b2c3d4e5f67890' }] }] });

    const output = await read({ services, target: member }, 'ec2', 'DescribeInstances', {
      InstanceIds: ['i-0a1b2c3d4e5f67890'],
    }).send();

    expect(output.Reservations?.[0]?.Instances?.[0]?.InstanceId).toBe('i-0a1b2c3d4e5f67890');
    expect(made).toEqual(['ec2 973743533182/us-east-2']);
    expect(sentCommands(ec2)).toEqual(['DescribeInstancesCommand']);
  });

  it('goes to the scope it is given instead of the target', async () => {
    const { services, made } = recordingServices();
    sns.onAnyCommand().resolves({ MessageId: 'm-1' });
    const topicArn = 'arn:aws:sns:eu-west-1:973743533182:security-alerts';

    await mutation(
      { services, target: member },
      'sns',
      'Publish',
      { TopicArn: topicArn, Message: 'hello' },
      { scope: { accountId: '973743533182', region: 'eu-west-1' } },
    ).send();

    expect(made).toEqual(['sns 973743533182/eu-west-1']);
  });

  it("sends a custom action's command, showing only the input reports may show", async () => {
    const { services } = recordingServices();
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    const shown = { Bucket: 'acme-security-evidence', Key: 'guardduty/f1.json' };

    const put = mutation(
      { services, target: member },
      's3',
      'PutObject',
      { ...shown, Body: '{"a":1}' },
      { commands: { PutObjectCommand }, shown },
    );
    const output = await put.send();

    expect(put.call).toEqual({ service: 'S3', operation: 'PutObject', input: shown, mutating: true });
    expect(output.ETag).toBe('"e1"');
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({ ...shown, Body: '{"a":1}' });
  });
});
