import {
  IAMClient,
  IAMServiceException,
  ListAccessKeysCommand,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { deactivateAccessKey } from '../../src/actions/deactivate-access-key.js';
import { contextFor, credentialsError, sentCommands } from '../helpers/context.js';
import {
  instanceCredentialExfiltration,
  maliciousIpCaller,
  rootCredentialUsage,
} from '../helpers/findings.js';

const iam = mockClient(IAMClient);
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const USER = 'ci-deployer';

const keys = (status: 'Active' | 'Inactive') => ({
  AccessKeyMetadata: [
    { UserName: USER, AccessKeyId: 'AKIA6FLOREXAMPLEOLD1', Status: 'Inactive' as const },
    { UserName: USER, AccessKeyId: KEY, Status: status },
  ],
  $metadata: { requestId: 'list-1' },
});

beforeEach(() => {
  iam.reset();
  iam.on(ListAccessKeysCommand, { UserName: USER }).resolves(keys('Active'));
});
afterAll(() => iam.restore());

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
    expect(plan.lookups[0]?.summary).toBe(`AKIA6FLOREXAMPLEOLD1 Inactive; ${KEY} Active`);
  });

  it('plans a no-op when the key is already inactive', async () => {
    iam.on(ListAccessKeysCommand).resolves(keys('Inactive'));

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `access key ${KEY} is already inactive` });
  });

  it('plans a no-op when the user no longer exists', async () => {
    iam.on(ListAccessKeysCommand).rejects(
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
    iam.on(ListAccessKeysCommand).rejects(credentialsError());

    const plan = await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [{ status: 'unavailable', summary: `would look up ListAccessKeys ${USER}` }],
    });
  });

  it('sends no mutating command while planning', async () => {
    await deactivateAccessKey.plan(contextFor(deactivateAccessKey, maliciousIpCaller()));

    expect(sentCommands(iam)).toEqual(['ListAccessKeysCommand']);
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

  it('skips a root key without calling IAM', async () => {
    const ctx = contextFor(deactivateAccessKey, rootCredentialUsage());

    const outcome = await deactivateAccessKey.execute(ctx, await deactivateAccessKey.plan(ctx));

    expect(outcome).toMatchObject({ status: 'skipped', calls: [] });
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
