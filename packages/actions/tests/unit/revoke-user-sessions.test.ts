import {
  DeleteUserPolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  IAMServiceException,
  ListUserTagsCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type EngineMode, hasInverse, type InverseContext, type UndoState } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type RevokeUserSessionsUndo,
  revokeUserSessions,
  USER_REVOKE_POLICY_NAME,
  userRevokePolicyDocument,
} from '../../src/actions/revoke-user-sessions.js';
import { createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, NOW, sentCommands } from '../helpers/context.js';
import { ACCOUNT, instanceCredentialExfiltration, maliciousIpCaller } from '../helpers/findings.js';

const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
const USER = 'ci-deployer';
const DOCUMENT = userRevokePolicyDocument(NOW);

const missing = () =>
  new NoSuchEntityException({
    message: 'The user policy cannot be found.',
    $metadata: { httpStatusCode: 404 },
  });

/** A user whose inline policy changes as the calls made to it say. */
const userHolding = (initial: string | undefined) => {
  let document = initial;
  iam.on(GetUserPolicyCommand).callsFake(() => {
    if (document === undefined) throw missing();
    return {
      UserName: USER,
      PolicyName: USER_REVOKE_POLICY_NAME,
      PolicyDocument: encodeURIComponent(document),
    };
  });
  iam.on(PutUserPolicyCommand).callsFake((input: { PolicyDocument: string }) => {
    document = input.PolicyDocument;
    return {};
  });
  iam.on(DeleteUserPolicyCommand).callsFake(() => {
    document = undefined;
    return {};
  });
  return { now: () => document };
};

beforeEach(() => {
  iam.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({
    Account: ACCOUNT,
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-responder/riposte`,
  });
  iam.on(GetUserCommand).resolves({
    User: {
      UserName: USER,
      Path: '/',
      Arn: `arn:aws:iam::${ACCOUNT}:user/${USER}`,
      UserId: 'AIDA',
      CreateDate: NOW,
    },
  });
  iam.on(ListUserTagsCommand).resolves({ Tags: [] });
  iam.on(GetUserPolicyCommand).rejects(missing());
  iam.on(PutUserPolicyCommand).resolves({});
});
afterAll(() => {
  iam.restore();
  sts.restore();
});

const run = async (mode: EngineMode = 'enforce') => {
  const ctx = contextFor(revokeUserSessions, maliciousIpCaller(), { mode });
  const plan = await revokeUserSessions.plan(ctx);
  return { plan, outcome: await revokeUserSessions.execute(ctx, plan) };
};

describe('revoke-user-sessions', () => {
  it('targets the IAM user the finding names, and no assumed-role credentials', () => {
    expect(revokeUserSessions.targets(maliciousIpCaller(), {}).targets.map((target) => target.id)).toEqual([
      USER,
    ]);
    expect(revokeUserSessions.targets(instanceCredentialExfiltration(), {})).toMatchObject({
      targets: [],
      reason: expect.stringContaining('revoke-role-sessions'),
    });
  });

  it('plans the deny-all policy conditioned on the token issue time', async () => {
    const { plan } = await run('dry-run');

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'IAM',
        operation: 'PutUserPolicy',
        input: { UserName: USER, PolicyName: USER_REVOKE_POLICY_NAME, PolicyDocument: DOCUMENT },
        mutating: true,
      },
    ]);
    expect(JSON.parse(DOCUMENT).Statement[0].Condition).toEqual({
      DateLessThan: { 'aws:TokenIssueTime': NOW.toISOString() },
    });
  });

  it('plans a no-op when a revocation already covers the finding', async () => {
    userHolding(DOCUMENT);

    const { plan, outcome } = await run();

    expect(plan).toMatchObject({ status: 'no-op', calls: [] });
    expect(plan.reason).toContain('already revoked');
    expect(outcome.status).toBe('skipped');
    expect(iam.commandCalls(PutUserPolicyCommand)).toHaveLength(0);
  });

  it('puts the policy and records what the inverse needs', async () => {
    const user = userHolding(undefined);

    const { outcome } = await run();

    expect(outcome.status).toBe('applied');
    expect(user.now()).toBe(DOCUMENT);
    expect(outcome.undo).toEqual({
      userName: USER,
      policyName: USER_REVOKE_POLICY_NAME,
      document: DOCUMENT,
      previous: 'none',
    });
    expect(createRegistry().validateUndoState('revoke-user-sessions', outcome.undo)).toEqual([]);
  });

  it('refuses a user tagged riposte:protected=true', async () => {
    iam.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const { plan, outcome } = await run();

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `user ${USER} is protected (tag riposte:protected=true); not changed`,
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PRINCIPAL_PROTECTED' } });
    expect(iam.commandCalls(PutUserPolicyCommand)).toHaveLength(0);
  });

  it('maps an SDK error to an execution error', async () => {
    iam.on(PutUserPolicyCommand).rejects(
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'denied',
      }),
    );

    const { outcome } = await run();

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AccessDenied', retryable: false } });
    expect(outcome.undo).toBeUndefined();
  });

  it('makes no mutating call in dry-run', async () => {
    const { outcome } = await run('dry-run');

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(sentCommands(iam)).not.toContain('PutUserPolicyCommand');
  });
});

const inverse = (() => {
  const { undo } = revokeUserSessions;
  if (!hasInverse(undo)) throw new Error('no inverse');
  return undo;
})();

const recorded = (): RevokeUserSessionsUndo => ({
  userName: USER,
  policyName: USER_REVOKE_POLICY_NAME,
  document: DOCUMENT,
  previous: 'none',
});

const undoContext = (
  state: unknown,
  mode: EngineMode = 'enforce',
): InverseContext<UndoState, ReturnType<typeof createAwsServices>> => ({
  findingId: maliciousIpCaller().id,
  target: revokeUserSessions.targets(maliciousIpCaller(), {}).targets[0]!,
  state: state as UndoState,
  services: createAwsServices({ env: {} }),
  mode,
  now: NOW,
});

const undo = async (state: unknown = recorded(), mode: EngineMode = 'enforce') => {
  const ctx = undoContext(state, mode);
  const plan = await inverse.plan(ctx);
  return { plan, outcome: await inverse.execute(ctx, plan) };
};

describe('revoke-user-sessions undo', () => {
  it('plans and deletes the policy while it is the document Riposte put', async () => {
    const user = userHolding(DOCUMENT);

    const { plan, outcome } = await undo();

    expect(plan.calls).toEqual([
      {
        service: 'IAM',
        operation: 'DeleteUserPolicy',
        input: { UserName: USER, PolicyName: USER_REVOKE_POLICY_NAME },
        mutating: true,
      },
    ]);
    expect(outcome.status).toBe('applied');
    expect(user.now()).toBeUndefined();
  });

  it('skips when the policy is already gone', async () => {
    userHolding(undefined);

    const { plan, outcome } = await undo();

    expect(plan.status).toBe('no-op');
    expect(outcome.status).toBe('skipped');
  });

  it('refuses when the policy changed since the response', async () => {
    userHolding(userRevokePolicyDocument(new Date('2030-01-01T00:00:00Z')));

    const { plan, outcome } = await undo();

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('differs from the document Riposte put');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(iam.commandCalls(DeleteUserPolicyCommand)).toHaveLength(0);
  });

  it('round-trips: revoke, then undo, leaves the user as it was', async () => {
    const user = userHolding(undefined);
    const { outcome } = await run();

    await undo(outcome.undo);

    expect(user.now()).toBeUndefined();
  });

  it.each([
    [{ ...recorded(), userName: 'ci deployer' }, '/userName'],
    [{ ...recorded(), policyName: 'Other' }, '/policyName'],
    [{ ...recorded(), extra: 1 }, '/extra'],
  ])('refuses an invalid recorded state: %j', (state, pointer) => {
    const problems = createRegistry([revokeUserSessions]).validateUndoState('revoke-user-sessions', state);

    expect(problems.map((problem) => problem.pointer)).toContain(pointer);
  });

  it('refuses a recorded document that allows anything, before any call', async () => {
    const allow = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    });

    const { plan } = await undo({ ...recorded(), previous: { document: allow } });

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(iam.calls()).toHaveLength(0);
  });
});
