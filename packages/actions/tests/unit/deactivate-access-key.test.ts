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
import {
  type ActionTarget,
  type EngineMode,
  type Finding,
  hasInverse,
  type InverseContext,
  type UndoState,
} from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DeactivateAccessKeyUndo,
  deactivateAccessKey,
} from '../../src/actions/deactivate-access-key.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
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
    iam.reset();
    iam.onAnyCommand().rejects(credentialsError());

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

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = deactivateAccessKey;
  if (!hasInverse(undo)) throw new Error('deactivate-access-key declares no inverse');
  return undo;
})();

const keyTarget = (): ActionTarget => deactivateAccessKey.targets(maliciousIpCaller(), {}).targets[0]!;

/** What an enforced step records for the sample's key. */
const recorded = (): DeactivateAccessKeyUndo => ({
  userName: USER,
  accessKeyId: KEY,
  previousStatus: 'Active',
});

interface UndoOptions {
  mode?: EngineMode;
  target?: ActionTarget;
  services?: AwsServices;
}

const undoContext = (state: unknown, options: UndoOptions = {}): InverseContext<UndoState, AwsServices> => ({
  findingId: maliciousIpCaller().id,
  target: options.target ?? keyTarget(),
  state: state as UndoState,
  services: options.services ?? createAwsServices({ env: {} }),
  mode: options.mode ?? 'enforce',
  now: NOW,
});

const undo = async (state: unknown = recorded(), options: UndoOptions = {}) => {
  const ctx = undoContext(state, options);
  const plan = await inverse.plan(ctx);
  return { plan, outcome: await inverse.execute(ctx, plan) };
};

/** A user whose key's status changes as the calls made to it say. */
const keyHolding = (initial: 'Active' | 'Inactive') => {
  let status = initial;
  iam.on(ListAccessKeysCommand, { UserName: USER }).callsFake(() => keys(status));
  iam.on(UpdateAccessKeyCommand).callsFake((input: { Status: 'Active' | 'Inactive' }) => {
    status = input.Status;
    return {};
  });
  return { now: () => status };
};

describe('deactivate-access-key undo: what the step records', () => {
  it('records the user, the key and its status before the change', async () => {
    iam.on(UpdateAccessKeyCommand).resolves({});

    const outcome = await execute();

    expect(outcome.undo).toEqual(recorded());
    expect(createRegistry().validateUndoState('deactivate-access-key', outcome.undo)).toEqual([]);
  });

  it('records nothing when the key was already inactive', async () => {
    iam.on(ListAccessKeysCommand).resolves(keys('Inactive'));

    const outcome = await execute();

    expect(outcome.status).toBe('skipped');
    expect(outcome.undo).toBeUndefined();
  });

  it('records nothing when IAM refused the change', async () => {
    iam.on(UpdateAccessKeyCommand).rejects(
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'User is not authorized to perform: iam:UpdateAccessKey',
      }),
    );

    const outcome = await execute();

    expect(outcome.status).toBe('failed');
    expect(outcome.undo).toBeUndefined();
  });
});

describe('deactivate-access-key undo: plan', () => {
  it('plans to make the key Active again, after the protection check', async () => {
    iam.on(ListAccessKeysCommand).resolves(keys('Inactive'));

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'IAM',
        operation: 'UpdateAccessKey',
        input: { UserName: USER, AccessKeyId: KEY, Status: 'Active' },
        mutating: true,
      },
    ]);
    expect(plan.lookups.map((lookup) => [lookup.call.operation, lookup.summary])).toEqual([
      ['GetUser', `user arn:aws:iam::${ACCOUNT}:user/${USER} (path /)`],
      ['ListUserTags', `user ${USER}: 0 tag(s), no riposte:protected`],
      ['ListAccessKeys', `AKIA6FLOREXAMPLEOLD1 Inactive; ${KEY} Inactive`],
    ]);
  });

  it('plans a no-op when the key is already active', async () => {
    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `access key ${KEY} is already active`, calls: [] });
  });

  it('plans a no-op with the reason when the key was deleted since', async () => {
    iam.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [{ UserName: USER, AccessKeyId: 'AKIA6FLOREXAMPLEOLD1', Status: 'Inactive' }],
    });

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `access key ${KEY} is no longer a key of IAM user ${USER} (deleted since); nothing to restore`,
    });
  });

  it('plans a no-op when the user was deleted since', async () => {
    iam.on(GetUserCommand).rejects(
      new NoSuchEntityException({
        message: 'The user cannot be found.',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `IAM user ${USER} no longer exists, and its keys with it; nothing to restore`,
    });
  });

  it('refuses a user tagged riposte:protected=true, as the action does', async () => {
    iam.on(ListAccessKeysCommand).resolves(keys('Inactive'));
    iam.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const { plan, outcome } = await undo();

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `user ${USER} is protected (tag riposte:protected=true); not changed`,
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PRINCIPAL_PROTECTED' } });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(0);
  });

  it('refuses a user RIPOSTE_PROTECTED_PRINCIPALS names, before any lookup', async () => {
    const services = createAwsServices({ env: {}, protection: { ownRoleArns: [], extra: ['ci-*'] } });

    const plan = await inverse.plan(undoContext(recorded(), { services }));

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `user ${USER} is protected (RIPOSTE_PROTECTED_PRINCIPALS entry "ci-*"); not changed`,
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('fails closed when the protection check cannot read the tags', async () => {
    iam.on(ListAccessKeysCommand).resolves(keys('Inactive'));
    iam.on(ListUserTagsCommand).rejects(
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'User is not authorized to perform: iam:ListUserTags',
      }),
    );

    const outcome = await inverse.execute(undoContext(recorded()), {
      status: 'planned',
      lookups: [],
      calls: [],
    });

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PROTECTION_UNVERIFIED' } });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(0);
  });

  it('plans the restore offline, listing the lookups it would make', async () => {
    iam.reset();
    iam.onAnyCommand().rejects(credentialsError());

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [
        { status: 'unavailable', summary: `would look up GetUser ${USER}` },
        { status: 'unavailable', summary: `would look up ListUserTags ${USER}` },
        { status: 'unavailable', summary: `would look up ListAccessKeys ${USER}` },
      ],
    });
  });
});

describe('deactivate-access-key undo: execute', () => {
  it('makes the key Active again', async () => {
    const key = keyHolding('Inactive');

    const { outcome } = await undo();

    expect(outcome.status).toBe('applied');
    expect(iam.commandCalls(UpdateAccessKeyCommand).map((call) => call.args[0].input)).toEqual([
      { UserName: USER, AccessKeyId: KEY, Status: 'Active' },
    ]);
    expect(key.now()).toBe('Active');
  });

  it('skips when run again: the key is already active', async () => {
    keyHolding('Inactive');
    await undo();

    const { outcome } = await undo();

    expect(outcome).toMatchObject({ status: 'skipped', reason: `access key ${KEY} is already active` });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(1);
  });

  it('round-trips: deactivate, then undo, leaves the key as it was', async () => {
    const key = keyHolding('Active');
    const deactivated = await execute();
    expect(key.now()).toBe('Inactive');

    const { outcome } = await undo(deactivated.undo);

    expect(outcome.status).toBe('applied');
    expect(key.now()).toBe('Active');
  });

  it('refuses a key whose status is neither Active nor Inactive', async () => {
    iam.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [{ UserName: USER, AccessKeyId: KEY, Status: 'Expired' }],
    });

    const { plan, outcome } = await undo();

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `access key ${KEY} is "Expired", not Inactive; not changed`,
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
  });

  it('makes no mutating call in dry-run: the plan lists it, execute refuses to send it', async () => {
    iam.on(ListAccessKeysCommand).resolves(keys('Inactive'));

    const { plan, outcome } = await undo(recorded(), { mode: 'dry-run' });

    expect(plan.calls.map((call) => call.operation)).toEqual(['UpdateAccessKey']);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(iam.commandCalls(UpdateAccessKeyCommand)).toHaveLength(0);
  });

  it('sends only calls its permissions allow, and needs each of them', async () => {
    keyHolding('Inactive');

    await undo();
    const needed = new Set(sentCommands(iam).map((name) => `iam:${name.replace(/Command$/, '')}`));

    expect([...needed].sort()).toEqual([...inverse.permissions].sort());
  });
});

describe('deactivate-access-key undo: an untrusted recorded state', () => {
  const registry = createRegistry([deactivateAccessKey]);

  it.each([
    [{ ...recorded(), userName: 'ci deployer' }, '/userName'],
    [{ ...recorded(), accessKeyId: 'ASIA6FLOREXAMPLETEMP' }, '/accessKeyId'],
    [{ ...recorded(), previousStatus: 'Expired' }, '/previousStatus'],
    [{ userName: USER, accessKeyId: KEY }, '/previousStatus'],
    [{ ...recorded(), status: 'Active' }, '/status'],
  ])('is refused by validateUndoState: %j', (state, pointer) => {
    const problems = registry.validateUndoState('deactivate-access-key', state);

    expect(problems.map((problem) => problem.pointer)).toContain(pointer);
  });

  it('is checked again by the inverse before any call', async () => {
    const { plan, outcome } = await undo({ ...recorded(), userName: 'ci*' });

    expect(plan).toMatchObject({ status: 'refused', lookups: [], calls: [] });
    expect(plan.reason).toContain('"ci*" is not a valid IAM user name');
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses a recorded key that is not the recorded target, without any call', async () => {
    const plan = await inverse.plan(undoContext({ ...recorded(), accessKeyId: 'AKIA6FLOREXAMPLEOLD1' }));

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(plan.reason).toContain(`is not the recorded target "${KEY}"`);
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses a recorded target region in no partition, without any call', async () => {
    const plan = await inverse.plan(
      undoContext(recorded(), { target: { ...keyTarget(), region: 'zz-moon-1' } }),
    );

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(plan.reason).toContain('"zz-moon-1" is in no known partition');
    expect(iam.calls()).toHaveLength(0);
  });
});
