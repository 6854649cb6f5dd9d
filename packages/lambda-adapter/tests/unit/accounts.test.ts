import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import type { AwsScope, AwsServicesOptions } from '@riposte/actions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createAccountPolicy,
  createMemberCredentials,
  type InvocationResult,
  learnIdentity,
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

describe('learnIdentity', () => {
  it("reads the function's account, partition and execution role from STS", async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: ADMIN,
      Arn: `arn:aws:sts::${ADMIN}:assumed-role/riposte-function/riposte`,
    });

    await expect(learnIdentity(new STSClient({ region: 'us-east-1' }))).resolves.toEqual({
      accountId: ADMIN,
      partition: 'aws',
      arn: `arn:aws:sts::${ADMIN}:assumed-role/riposte-function/riposte`,
      roleArn: `arn:aws:iam::${ADMIN}:role/riposte-function`,
    });
  });

  it('fails (and so fails the initialisation) when STS cannot answer, never guessing', async () => {
    sts.on(GetCallerIdentityCommand).rejects(stsError('ExpiredToken', 403));

    await expect(learnIdentity(new STSClient({ region: 'us-east-1' }))).rejects.toMatchObject({
      code: 'IDENTITY_UNKNOWN',
      message: expect.stringContaining('ExpiredToken'),
    });
  });

  it('refuses an identity whose ARN does not carry the account STS named', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ADMIN, Arn: `arn:aws:sts::${MEMBER}:assumed-role/x/y` });

    await expect(learnIdentity(new STSClient({ region: 'us-east-1' }))).rejects.toMatchObject({
      code: 'IDENTITY_UNKNOWN',
    });
  });
});

describe('createAccountPolicy', () => {
  const own = { accountId: ADMIN, partition: 'aws', arn: `arn:aws:sts::${ADMIN}:assumed-role/r/s` };

  it('allows only its own account when nothing else is configured', async () => {
    const policy = createAccountPolicy({ own, accounts: [] });

    await expect(policy.check(ADMIN)).resolves.toEqual({ allowed: true });
    await expect(policy.check(MEMBER)).resolves.toMatchObject({ allowed: false, retryable: false });
  });

  it('allows the listed accounts and refuses the others, and anything that is not 12 digits', async () => {
    const policy = createAccountPolicy({ own, accounts: [MEMBER] });

    await expect(policy.check(MEMBER)).resolves.toEqual({ allowed: true });
    await expect(policy.check(ADMIN)).resolves.toEqual({ allowed: true });
    await expect(policy.check('444455556666')).resolves.toMatchObject({
      allowed: false,
      reason: expect.stringContaining('RIPOSTE_ACCOUNTS'),
    });
    await expect(policy.check('1111*')).resolves.toMatchObject({ allowed: false });
  });

  it("allows the organization's accounts, asking Organizations once per account", async () => {
    const asked: string[] = [];
    const policy = createAccountPolicy({
      own,
      accounts: [],
      organizationId: 'o-a1b2c3d4e5',
      organizationOf: async (accountId) => {
        asked.push(accountId);
        return accountId === MEMBER ? 'o-a1b2c3d4e5' : 'o-zzzzzzzzzz';
      },
    });

    await expect(policy.check(MEMBER)).resolves.toEqual({ allowed: true });
    await expect(policy.check(MEMBER)).resolves.toEqual({ allowed: true });
    await expect(policy.check('444455556666')).resolves.toMatchObject({ allowed: false });
    expect(asked).toEqual([MEMBER, '444455556666']);
  });

  it('refuses (fails closed) when Organizations cannot say', async () => {
    const policy = createAccountPolicy({
      own,
      accounts: [],
      organizationId: 'o-a1b2c3d4e5',
      organizationOf: async () => {
        throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      },
    });

    await expect(policy.check(MEMBER)).resolves.toMatchObject({
      allowed: false,
      retryable: false,
      reason: expect.stringContaining('AccessDeniedException'),
    });
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

  it('sends the external id the member role trusts, when one is configured', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: credentials(new Date('2025-06-03T16:00:00Z')) });
    const members = createMemberCredentials({
      roleName: 'riposte-member',
      externalId: 'riposte-external-id',
      clock: () => new Date('2025-06-03T15:00:00Z'),
    });

    await members.get(account);

    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toEqual({
      RoleArn: 'arn:aws:iam::111122223333:role/riposte-member',
      RoleSessionName: `riposte-${FINDING_ID}`,
      DurationSeconds: 3600,
      ExternalId: 'riposte-external-id',
    });
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
  // The function runs in the administrator account; the scenario finding is the member's.
  const adminHandler = (env: Record<string, string>) =>
    testHandler({ RIPOSTE_MODE: 'enforce', ...env }, { sts: new STSClient({ region: 'us-east-1' }) });

  beforeEach(() => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: ADMIN,
      Arn: `arn:aws:sts::${ADMIN}:assumed-role/riposte-function/riposte`,
    });
  });

  it('refuses a finding of another account without a member role, before any AWS call', async () => {
    const { handler, recorder } = await adminHandler({});

    const { results } = (await handler(event(), lambdaContext(ADMIN))) as InvocationResult;

    expect(results).toEqual([
      expect.objectContaining({
        code: 'ACCOUNT_NOT_ALLOWED',
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

  it('refuses to start with a member role but no allowed accounts or organization', async () => {
    const { handler } = await adminHandler({ RIPOSTE_MEMBER_ROLE: 'riposte-member' });

    await expect(handler.ready).rejects.toMatchObject({ code: 'LAMBDA_CONFIG_INVALID' });
  });

  it('refuses an account outside RIPOSTE_ACCOUNTS before assuming anything', async () => {
    const { handler, recorder } = await adminHandler({
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
      RIPOSTE_ACCOUNTS: '444455556666',
    });

    const { results } = (await handler(event(), lambdaContext(ADMIN))) as InvocationResult;

    expect(results[0]).toMatchObject({ code: 'ACCOUNT_NOT_ALLOWED', retryable: false });
    expect(recorder.executed).toEqual([]);
    expect(sts.commandCalls(AssumeRoleCommand)).toEqual([]);
  });

  it("assumes the member role and acts with its credentials in the finding's account", async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: credentials(new Date('2025-06-03T17:00:00Z')) });
    const { handler, recorder, logs } = await adminHandler({
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
      RIPOSTE_ACCOUNTS: MEMBER,
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

  it('assumes the member role with RIPOSTE_MEMBER_EXTERNAL_ID as its ExternalId', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: credentials(new Date('2025-06-03T17:00:00Z')) });
    const { handler } = await adminHandler({
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
      RIPOSTE_ACCOUNTS: MEMBER,
      RIPOSTE_MEMBER_EXTERNAL_ID: 'riposte-external-id',
    });

    const { results } = (await handler(event(), lambdaContext(ADMIN))) as InvocationResult;

    expect(results[0]).toMatchObject({ code: 'HANDLED' });
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.ExternalId)).toEqual([
      'riposte-external-id',
    ]);
  });

  it("acts with the function's own credentials on its own account's findings, whatever the context says", async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: MEMBER,
      Arn: `arn:aws:sts::${MEMBER}:assumed-role/riposte-function/riposte`,
    });
    const { handler, recorder } = await adminHandler({
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
      RIPOSTE_ACCOUNTS: MEMBER,
    });

    // No invokedFunctionArn: the function knows its account from STS, not from the context.
    await handler(event(), {});

    expect(recorder.executed).toHaveLength(2);
    expect(
      (recorder.services[0] as Pick<AwsServicesOptions, 'credentialsFor'>).credentialsFor,
    ).toBeUndefined();
    expect(sts.commandCalls(AssumeRoleCommand)).toEqual([]);
  });

  it('reports ASSUME_ROLE_FAILED and runs nothing when the role cannot be assumed', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('AccessDenied', 403));
    const { handler, recorder } = await adminHandler({
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
      RIPOSTE_ACCOUNTS: MEMBER,
    });

    const { results } = (await handler(event(), lambdaContext(ADMIN))) as InvocationResult;

    expect(results[0]).toMatchObject({ code: 'ASSUME_ROLE_FAILED', retryable: false });
    expect(recorder.executed).toEqual([]);
  });

  it('fails the invocation so Lambda retries when STS throttles', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('Throttling', 400));
    const { handler } = await adminHandler({
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
      RIPOSTE_ACCOUNTS: MEMBER,
    });

    await expect(handler(event(), lambdaContext(ADMIN))).rejects.toBeInstanceOf(RetryableFailureError);
  });

  it('fails the initialisation when the function cannot learn its own identity', async () => {
    sts.on(GetCallerIdentityCommand).rejects(stsError('AccessDenied', 403));
    const { handler, recorder } = await adminHandler({});

    await expect(handler(event(), lambdaContext(ADMIN))).rejects.toMatchObject({ code: 'IDENTITY_UNKNOWN' });
    expect(recorder.executed).toEqual([]);
  });
});
