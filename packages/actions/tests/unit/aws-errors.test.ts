import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { NoSuchEntityException } from '@aws-sdk/client-iam';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { ExecutionError } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { errorName, isCredentialsError, isRetryable, toExecutionError } from '../../src/aws-errors.js';
import { awsCall } from '../../src/call.js';
import { credentialsError } from '../helpers/context.js';

const call = awsCall('EC2', 'DescribeInstances', { InstanceIds: ['i-0a1b2c3d4e5f67890'] });

const ec2Error = (name: string, httpStatusCode: number) =>
  new EC2ServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: `${name}-request` },
    message: `${name} happened`,
  });

describe('toExecutionError', () => {
  it('uses the SDK error name as the code and keeps status, request id and cause', () => {
    const cause = ec2Error('UnauthorizedOperation', 403);

    const error = toExecutionError(cause, call);

    expect(error).toBeInstanceOf(ExecutionError);
    expect(error).toMatchObject({
      code: 'UnauthorizedOperation',
      retryable: false,
      details: {
        service: 'EC2',
        operation: 'DescribeInstances',
        httpStatusCode: 403,
        requestId: 'UnauthorizedOperation-request',
      },
    });
    expect(error.message).toBe(
      'EC2 DescribeInstances failed with UnauthorizedOperation: UnauthorizedOperation happened',
    );
    expect(error.cause).toBe(cause);
  });

  it('keeps the name of modelled exceptions', () => {
    const error = toExecutionError(
      new NoSuchEntityException({ message: 'The role cannot be found.', $metadata: { httpStatusCode: 404 } }),
      awsCall('IAM', 'GetRole', { RoleName: 'app-server-s3-full' }),
    );

    expect(error.code).toBe('NoSuchEntityException');
  });

  it('passes an ExecutionError through unchanged', () => {
    const original = new ExecutionError(
      'WEBHOOK_REJECTED',
      'the webhook at webhook:hooks.slack.com answered HTTP 410',
    );

    expect(toExecutionError(original, call)).toBe(original);
  });

  it('names a thrown non-error UnknownError', () => {
    expect(toExecutionError('socket hang up', call)).toMatchObject({
      code: 'UnknownError',
      retryable: false,
    });
  });
});

describe('isRetryable', () => {
  it.each([
    ['RequestLimitExceeded', 503],
    ['Throttling', 400],
    ['ThrottlingException', 400],
    ['SlowDown', 503],
    ['InternalError', 500],
    ['RequestTimeout', 400],
    ['ServiceUnavailable', 503],
    ['TooManyRequestsException', 429],
  ])('retries %s (HTTP %i)', (name, status) => {
    expect(isRetryable(ec2Error(name, status))).toBe(true);
  });

  it.each([
    ['AccessDenied', 403],
    ['UnauthorizedOperation', 403],
    ['InvalidInstanceID.NotFound', 400],
    ['LimitExceededException', 409],
  ])('does not retry %s (HTTP %i)', (name, status) => {
    expect(isRetryable(ec2Error(name, status))).toBe(false);
  });

  it('retries whatever the SDK marked $retryable', () => {
    const error = Object.assign(
      new S3ServiceException({ name: 'Busy', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      { $retryable: {} },
    );

    expect(isRetryable(error)).toBe(true);
  });

  it('retries a reset socket', () => {
    expect(isRetryable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('does not retry a missing-credentials error', () => {
    expect(isRetryable(credentialsError())).toBe(false);
  });
});

describe('error recognition', () => {
  it('recognises missing credentials by name', () => {
    expect(isCredentialsError(credentialsError())).toBe(true);
    expect(isCredentialsError(ec2Error('AuthFailure', 401))).toBe(false);
  });

  it('reads the name of error-shaped values only', () => {
    expect(errorName(ec2Error('AuthFailure', 401))).toBe('AuthFailure');
    expect(errorName(undefined)).toBeUndefined();
    expect(errorName({ name: '' })).toBeUndefined();
  });
});
