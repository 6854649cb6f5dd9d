import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import type { AwsScope, AwsServicesOptions } from '@riposte/actions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createMemberCredentials,
  functionIdentity,
  type InvocationResult,
  MemberRoleError,
  memberRoleArn,
  RetryableFailureError,
  roleSessionName,
} from '../../src/index.js';
import { lambdaContext, readEvent, testHandler } from '../helpers/harness.js';

const ADMIN = '999988887777';
const MEMBER = '111122223333';
const FINDING_ID = '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = `IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD${'x9Y8w7V6u5T4'.repeat(24)}`;

const sts = mockClient(STSClient);

const stsError = (name: string, httpStatusCode: number) =>
  new STSServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: name,
  });

const credentials = (expiration: Date) => ({
  AccessKeyId: 'ASIAMEMBEREXAMPLE001',
  SecretAccessKey: SECRET,
  SessionToken: TOKEN,
  Expiration: expiration,
});

beforeEach(() => {
  sts.reset();
});

afterEach(() => {
  sts.reset();
});

describe('functionIdentity', () => {
  it.each([
    [
      'arn:aws:lambda:us-east-1:999988887777:function:riposte',
      { partition: 'aws', region: 'us-east-1', accountId: ADMIN },
    ],
    [
      'arn:aws:lambda:eu-west-1:999988887777:function:riposte:live',
      { partition: 'aws', region: 'eu-west-1', accountId: ADMIN },
    ],
    [
      'arn:aws-us-gov:lambda:us-gov-west-1:999988887777:function:riposte',
      { partition: 'aws-us-gov', region: 'us-gov-west-1', accountId: ADMIN },
    ],
  ])('reads the account, partition and region of %s', (arn, identity) => {
    expect(functionIdentity(arn)).toEqual(identity);
  });

  it.each([undefined, 42, '', 'arn:aws:sqs:us-east-1:999988887777:queue'])('knows nothing from %s', (arn) => {
    expect(functionIdentity(arn)).toBeUndefined();
  });
});

describe('member role names', () => {
  it('builds the role ARN in the finding partition', () => {
    expect(memberRoleArn('aws-cn', MEMBER, 'security/riposte-member')).toBe(
      'arn:aws-cn:iam::111122223333:role/security/riposte-member',
    );
  });

  it('names the session after the finding', () => {
    expect(roleSessionName(FINDING_ID)).toBe(`riposte-${FINDING_ID}`);
  });

  it('keeps the session name within the characters and 64-character length STS allows', () => {
    const name = roleSessionName(`arn:aws:securityhub:us-east-1:${MEMBER}:finding/${'a'.repeat(80)}`);

    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(name.startsWith('riposte-arn-aws-securityhub')).toBe(true);
  });
});

describe('createMemberCredentials', () => {
  const account = { accountId: MEMBER, partition: 'aws', findingId: FINDING_ID };

  it('assumes the member role with a session named after the finding', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: credentials(new Date('2025-06-03T16:00:00Z')) });
    const members = createMemberCredentials({
      roleName: 'riposte-member',
      clock: () => new Date('2025-06-03T15:00:00Z'),
    });

    const assumed = await members.get(account);

    expect(assumed).toEqual({
      accessKeyId: 'ASIAMEMBEREXAMPLE001',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: new Date('2025-06-03T16:00:00Z'),
    });
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      {
        RoleArn: 'arn:aws:iam::111122223333:role/riposte-member',
        RoleSessionName: `riposte-${FINDING_ID}`,
        DurationSeconds: 3600,
      },
    ]);
  });

  it('reuses cached credentials until five minutes before they expire', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: credentials(new Date('2025-06-03T16:00:00Z')) });
    let now = new Date('2025-06-03T15:00:00Z');
    const members = createMemberCredentials({ roleName: 'riposte-member', clock: () => now });

    await members.get(account);
    now = new Date('2025-06-03T15:54:59Z');
    await members.provider({ accountId: MEMBER, partition: 'aws' })();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);

    now = new Date('2025-06-03T15:55:01Z');
    await members.get({ ...account, findingId: 'a2c4e6f8b0d24f6a8c0e2b4d6f8a0c02' });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(sts.commandCalls(AssumeRoleCommand)[1]!.args[0].input.RoleSessionName).toBe(
      'riposte-a2c4e6f8b0d24f6a8c0e2b4d6f8a0c02',
    );
  });

  it('maps AccessDenied to a non-retryable MemberRoleError and does not cache the failure', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(stsError('AccessDenied', 403))
      .resolves({
        Credentials: credentials(new Date('2025-06-03T16:00:00Z')),
      });
    const members = createMemberCredentials({
      roleName: 'riposte-member',
      clock: () => new Date('2025-06-03T15:00:00Z'),
    });

    const error = await members.get(account).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MemberRoleError);
    expect(error).toMatchObject({ code: 'ASSUME_ROLE_FAILED', retryable: false });
    expect((error as Error).message).toContain('arn:aws:iam::111122223333:role/riposte-member');
    await expect(members.get(account)).resolves.toMatchObject({ accessKeyId: 'ASIAMEMBEREXAMPLE001' });
  });

  it('maps throttling to a retryable MemberRoleError', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('Throttling', 400));
    const members = createMemberCredentials({ roleName: 'riposte-member' });

    await expect(members.get(account)).rejects.toMatchObject({ code: 'ASSUME_ROLE_FAILED', retryable: true });
  });
});

describe('handler across accounts', () => {
  const event = () => readEvent('scenario-instance-credential-exfiltration.json');

  it('reports a finding of another account without a member role, and plans nothing', async () => {
    const { handler, recorder } = await testHandler({ RIPOSTE_MODE: 'enforce' });

    const { results } = (await handler(event(), lambdaContext(ADMIN))) as InvocationResult;

    expect(results).toEqual([
      expect.objectContaining({
        code: 'OTHER_ACCOUNT',
        findingId: FINDING_ID,
        accountId: MEMBER,
        matched: [],
        steps: [],
        message: expect.stringContaining('RIPOSTE_MEMBER_ROLE'),
      }),
    ]);
    expect(recorder.executed).toEqual([]);
    expect(sts.commandCalls(AssumeRoleCommand)).toEqual([]);
  });

  it("assumes the member role and acts with its credentials in the finding's account", async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: credentials(new Date('2025-06-03T16:00:00Z')) });
    const { handler, recorder, logs } = await testHandler({
      RIPOSTE_MODE: 'enforce',
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
    });

    const { results } = (await handler(event(), lambdaContext(ADMIN))) as InvocationResult;

    expect(results[0]).toMatchObject({ code: 'HANDLED', outcome: 'applied' });
    expect(recorder.executed).toHaveLength(2);
    const services = recorder.services[0] as Pick<AwsServicesOptions, 'credentialsFor'>;
    const provider = services.credentialsFor?.({ accountId: MEMBER, region: 'us-east-1' } satisfies AwsScope);
    await expect(provider?.()).resolves.toMatchObject({ accessKeyId: 'ASIAMEMBEREXAMPLE001' });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(logs.text()).not.toContain(SECRET);
    expect(logs.text()).not.toContain(TOKEN.slice(0, 40));
  });

  it("acts with the function's own credentials on its own account's findings", async () => {
    const { handler, recorder } = await testHandler({
      RIPOSTE_MODE: 'enforce',
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
    });

    await handler(event(), lambdaContext(MEMBER));

    expect(
      (recorder.services[0] as Pick<AwsServicesOptions, 'credentialsFor'>).credentialsFor,
    ).toBeUndefined();
    expect(sts.commandCalls(AssumeRoleCommand)).toEqual([]);
  });

  it('reports ASSUME_ROLE_FAILED and runs nothing when the role cannot be assumed', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('AccessDenied', 403));
    const { handler, recorder } = await testHandler({
      RIPOSTE_MODE: 'enforce',
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
    });

    const { results } = (await handler(event(), lambdaContext(ADMIN))) as InvocationResult;

    expect(results[0]).toMatchObject({ code: 'ASSUME_ROLE_FAILED', retryable: false });
    expect(recorder.executed).toEqual([]);
  });

  it('fails the invocation so Lambda retries when STS throttles', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('Throttling', 400));
    const { handler } = await testHandler({ RIPOSTE_MODE: 'enforce', RIPOSTE_MEMBER_ROLE: 'riposte-member' });

    await expect(handler(event(), lambdaContext(ADMIN))).rejects.toBeInstanceOf(RetryableFailureError);
  });
});
