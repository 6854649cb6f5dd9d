import {
  GetUserCommand,
  IAMClient,
  IAMServiceException,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Finding } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { deactivateAccessKey } from '../../src/actions/deactivate-access-key.js';
import { createAwsServices } from '../../src/clients.js';
import { contextFor, credentialsError, sentCommands } from '../helpers/context.js';
import {
  ACCOUNT,
  instanceCredentialExfiltration,
  maliciousIpCaller,
  rootCredentialUsage,
} from '../helpers/findings.js';

const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const USER = 'ci-deployer';

const user = (name = USER) => ({
  User: {
    UserName: name,
    Path: '/',
    Arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
    UserId: 'AIDA6FLOREXAMPLEUSER2',
    CreateDate: new Date('2021-06-01T00:00:00Z'),
  },
});

const execute = async (finding: Finding = maliciousIpCaller(), services = createAwsServices({ env: {} })) => {
  const ctx = contextFor(deactivateAccessKey, finding, { services });
  return deactivateAccessKey.execute(ctx, await deactivateAccessKey.plan(ctx));
};

const keys = (status: 'Active' | 'Inactive') => ({
  AccessKeyMetadata: [
    { UserName: USER, AccessKeyId: 'AKIA6FLOREXAMPLEOLD1', Status: 'Inactive' as const },
    { UserName: USER, AccessKeyId: KEY, Status: status },
  ],
  $metadata: { requestId: 'list-1' },
});

beforeEach(() => {
  iam.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({
    Account: ACCOUNT,
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-responder/riposte`,
  });
  iam.on(GetUserCommand, { UserName: USER }).resolves(user());
  iam.on(ListUserTagsCommand).resolves({ Tags: [], IsTruncated: false });
  iam.on(ListAccessKeysCommand, { UserName: USER }).resolves(keys('Active'));
});
afterAll(() => {
  iam.restore();
  sts.restore();
});

describe('deactivate-access-key plan', () => {
  it('plans to deactivate the IAM user key the finding names', async () => {
    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'IAM',
        operation: 'UpdateAccessKey',
        input: { UserName: USER, AccessKeyId: KEY, Status: 'Inactive' },
        mutating: true,
      },
    ]);
    expect(plan.lookups.map((lookup) => [lookup.call.operation, lookup.summary])).toEqual([
      ['GetUser', `user arn:aws:iam::${ACCOUNT}:user/${USER} (path /)`],
      ['ListUserTags', `user ${USER}: 0 tag(s), no riposte:protected`],
      ['ListAccessKeys', `AKIA6FLOREXAMPLEOLD1 Inactive; ${KEY} Active`],
    ]);
  });

  it('refuses a key that the user the finding names does not own', async () => {
    iam.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [{ UserName: USER, AccessKeyId: 'AKIA6FLOREXAMPLEOLD1', Status: 'Active' }],
    });

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `access key ${KEY} is not a key of IAM user ${USER} (ListAccessKeys does not list it); not changed`,
      calls: [],
    });
  });

  it('refuses a user tagged riposte:protected=true', async () => {
    iam.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `user ${USER} is protected (tag riposte:protected=true); not changed`,
    });
    expect(iam.commandCalls(ListAccessKeysCommand)).toHaveLength(0);
  });

  it('refuses a user RIPOSTE_PROTECTED_PRINCIPALS names, before any lookup', async () => {
    const services = createAwsServices({ env: {}, protection: { ownRoleArns: [], extra: ['ci-*'] } });

    const plan = await deactivateAccessKey.plan(
      contextFor(deactivateAccessKey, maliciousIpCaller(), { services }),
    );

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `user ${USER} is protected (RIPOSTE_PROTECTED_PRINCIPALS entry "ci-*"); not changed`,
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses the IAM user Riposte runs as', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/${USER}` });

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `user ${USER} is protected (own user: Riposte runs as it); not changed`,
    });
  });

  it('does not apply the built-in role protections to a user of the same name', async () => {
    const finding = maliciousIpCaller();
    const key = finding.resources[0];
    if (key?.kind === 'access-key') key.userName = 'OrganizationAccountAccessRole';
    iam.on(GetUserCommand).resolves(user('OrganizationAccountAccessRole'));
    iam.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [{ UserName: 'OrganizationAccountAccessRole', AccessKeyId: KEY, Status: 'Active' }],
    });

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, finding));

    expect(plan.status).toBe('planned');
  });

  it('refuses a user name from the finding that is not a valid IAM user name', async () => {
    const finding = maliciousIpCaller();
    const key = finding.resources[0];
    if (key?.kind === 'access-key') key.userName = 'ci deployer';

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, finding));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('"ci deployer" is not a valid IAM user name');
    expect(iam.calls()).toHaveLength(0);
  });

  it('plans a no-op when the key is already inactive', async () => {
    iam.on(ListAccessKeysCommand).resolves(keys('Inactive'));

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `access key ${KEY} is already inactive` });
  });

  it('plans a no-op when the user no longer exists', async () => {
    iam.on(GetUserCommand).rejects(
      new NoSuchEntityException({
        message: 'The user cannot be found.',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `IAM user ${USER} no longer exists` });
  });

  it('refuses root credentials with the way to rotate them', async () => {
    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, rootCredentialUsage()));

    expect(plan).toMatchObject({
      status: 'refused',
      reason: 'root keys cannot be managed by an IAM call; rotate through the root user',
      calls: [],
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses temporary credentials and points to revoke-role-sessions', async () => {
    const plan = await deactivateAccessKey.plan(
      contextFor(deactivateAccessKey, instanceCredentialExfiltration()),
    );

    expect(plan).toMatchObject({
      status: 'refused',
      reason: 'temporary credentials: use revoke-role-sessions',
    });
  });

  it('plans offline without credentials', async () => {
    iam.on(GetUserCommand).rejects(credentialsError());

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [
        { status: 'unavailable', summary: `would look up GetUser ${USER}` },
        { status: 'unavailable', summary: `would look up ListUserTags ${USER}` },
        { status: 'unavailable', summary: `would look up ListAccessKeys ${USER}` },
      ],
    });
  });

  it('sends no mutating command while planning', async () => {
    await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(sentCommands(iam)).toEqual(['GetUserCommand', 'ListUserTagsCommand', 'ListAccessKeysCommand']);
  });
});

describe('deactivate-access-key execute', () => {
  it('sets the key Inactive', async () => {
    iam.on(UpdateAccessKeyCommand).resolves({ $metadata: { requestId: 'update-1' } });
    const ctx = contextFor(deactivateAccessKey, maliciousIpCaller());

    const outcome = await deactivateAccessKey.execute(ctx, await deactivateAccessKey.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(iam.commandCalls(UpdateAccessKeyCommand).map((call) => call.args[0].input)).toEqual([
      { UserName: USER, AccessKeyId: KEY, Status: 'Inactive' },
    ]);
  });

  it('skips when the key was deactivated since planning', async () => {
    iam.on(ListAccessKeysCommand).resolvesOnce(keys('Active')).resolves(keys('Inactive'));
    const ctx = contextFor(deactivateAccessKey, maliciousIpCaller());

    const outcome = await deactivateAccessKey.execute(ctx, await deactivateAccessKey.plan(ctx));

    expect(outcome).toMatchObject({ status: 'skipped', reason: `access key ${KEY} is already inactive` });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(0);
  });

  it('refuses a root key without calling IAM, as a failure rather than a skip', async () => {
    const outcome = await execute(rootCredentialUsage());

    expect(outcome).toMatchObject({
      status: 'failed',
      calls: [],
      error: {
        code: 'REFUSED',
        message: 'root keys cannot be managed by an IAM call; rotate through the root user',
      },
    });
  });

  it('fails with PRINCIPAL_PROTECTED when the user was tagged protected since planning', async () => {
    iam
      .on(ListUserTagsCommand)
      .resolvesOnce({ Tags: [] })
      .resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const outcome = await execute();

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'PRINCIPAL_PROTECTED', retryable: false },
    });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(0);
  });

  it('fails closed when the identity Riposte runs as cannot be read', async () => {
    sts.on(GetCallerIdentityCommand).rejects(new Error('connect ETIMEDOUT'));

    const outcome = await execute();

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PROTECTION_UNVERIFIED' } });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(0);
  });

  it('fails closed when ListUserTags is denied', async () => {
    iam.on(ListUserTagsCommand).rejects(
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'User is not authorized to perform: iam:ListUserTags',
      }),
    );
    const ctx = contextFor(deactivateAccessKey, maliciousIpCaller());

    const outcome = await deactivateAccessKey.execute(ctx, { status: 'planned', lookups: [], calls: [] });

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'PROTECTION_UNVERIFIED', details: { causeCode: 'AccessDenied' } },
    });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(0);
  });

  it('fails with REFUSED when the key moved away from the user since planning', async () => {
    iam
      .on(ListAccessKeysCommand)
      .resolvesOnce(keys('Active'))
      .resolves({
        AccessKeyMetadata: [{ UserName: USER, AccessKeyId: 'AKIA6FLOREXAMPLEOLD1', Status: 'Inactive' }],
      });

    const outcome = await execute();

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(0);
  });

  it('fails with AccessDenied when IAM refuses the update', async () => {
    iam.on(UpdateAccessKeyCommand).rejects(
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
        message: 'User is not authorized to perform: iam:UpdateAccessKey',
      }),
    );
    const ctx = contextFor(deactivateAccessKey, maliciousIpCaller());

    const outcome = await deactivateAccessKey.execute(ctx, await deactivateAccessKey.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: {
        code: 'AccessDenied',
        retryable: false,
        details: { httpStatusCode: 403, requestId: 'denied-1' },
      },
    });
  });
});
