import {
  AttachUserPolicyCommand,
  DetachUserPolicyCommand,
  GetUserCommand,
  IAMClient,
  IAMServiceException,
  ListAttachedUserPoliciesCommand,
  ListUserTagsCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type EngineMode, hasInverse, type InverseContext, type UndoState } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { quarantineUser } from '../../src/actions/quarantine-user.js';
import { createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, NOW, sentCommands } from '../helpers/context.js';
import { ACCOUNT, maliciousIpCaller } from '../helpers/findings.js';

const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
const USER = 'ci-deployer';
const V3 = 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3';

/** A user whose attached policies change as the calls made to it say. */
const attached = (initial: string[]) => {
  const arns = new Set(initial);
  iam.on(ListAttachedUserPoliciesCommand).callsFake(() => ({
    AttachedPolicies: [...arns].map((arn) => ({ PolicyArn: arn, PolicyName: arn.split('/').pop() })),
  }));
  iam.on(AttachUserPolicyCommand).callsFake((input: { PolicyArn: string }) => {
    arns.add(input.PolicyArn);
    return {};
  });
  iam.on(DetachUserPolicyCommand).callsFake((input: { PolicyArn: string }) => {
    arns.delete(input.PolicyArn);
    return {};
  });
  return { now: () => [...arns] };
};

beforeEach(() => {
  iam.reset();
  sts.reset();
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-responder/riposte` });
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
});
afterAll(() => {
  iam.restore();
  sts.restore();
});

const run = async (mode: EngineMode = 'enforce', params = {}) => {
  const ctx = contextFor(quarantineUser, maliciousIpCaller(), { mode, params });
  const plan = await quarantineUser.plan(ctx);
  return { plan, outcome: await quarantineUser.execute(ctx, plan) };
};

describe('quarantine-user', () => {
  it("plans to attach AWS's quarantine policy V3", async () => {
    attached(['arn:aws:iam::aws:policy/ReadOnlyAccess']);

    const { plan } = await run('dry-run');

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'IAM',
        operation: 'AttachUserPolicy',
        input: { UserName: USER, PolicyArn: V3 },
        mutating: true,
      },
    ]);
  });

  it('plans a no-op and skips when the policy is already attached, recording nothing', async () => {
    attached([V3]);

    const { plan, outcome } = await run();

    expect(plan).toMatchObject({ status: 'no-op', reason: `${V3} is already attached to IAM user ${USER}` });
    expect(outcome.status).toBe('skipped');
    expect(outcome.undo).toBeUndefined();
  });

  it('attaches the policy and records it for the inverse', async () => {
    const user = attached([]);

    const { outcome } = await run();

    expect(outcome.status).toBe('applied');
    expect(user.now()).toEqual([V3]);
    expect(outcome.undo).toEqual({ userName: USER, policyArn: V3 });
    expect(createRegistry().validateUndoState('quarantine-user', outcome.undo)).toEqual([]);
  });

  it('refuses a policy that is not a quarantine version, by schema', () => {
    const problems = createRegistry().validateParams('quarantine-user', {
      policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
    });

    expect(problems.map((problem) => problem.pointer)).toEqual(['/policyArn']);
  });

  it('refuses a policy of another partition', async () => {
    attached([]);

    const { plan } = await run('enforce', {
      policyArn: 'arn:aws-cn:iam::aws:policy/AWSCompromisedKeyQuarantineV3',
    });

    expect(plan.status).toBe('refused');
  });

  it('refuses a protected user', async () => {
    attached([]);
    iam.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const { outcome } = await run();

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PRINCIPAL_PROTECTED' } });
    expect(iam.commandCalls(AttachUserPolicyCommand)).toHaveLength(0);
  });

  it('maps an SDK error to an execution error', async () => {
    attached([]);
    iam.on(AttachUserPolicyCommand).rejects(
      new IAMServiceException({
        name: 'LimitExceeded',
        $fault: 'client',
        $metadata: { httpStatusCode: 409 },
        message: 'too many',
      }),
    );

    const { outcome } = await run();

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'LimitExceeded' } });
  });

  it('makes no mutating call in dry-run', async () => {
    attached([]);

    const { outcome } = await run('dry-run');

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(sentCommands(iam)).not.toContain('AttachUserPolicyCommand');
  });
});

const inverse = (() => {
  const { undo } = quarantineUser;
  if (!hasInverse(undo)) throw new Error('no inverse');
  return undo;
})();

const undo = async (state: unknown = { userName: USER, policyArn: V3 }, mode: EngineMode = 'enforce') => {
  const ctx: InverseContext<UndoState, ReturnType<typeof createAwsServices>> = {
    findingId: maliciousIpCaller().id,
    target: quarantineUser.targets(maliciousIpCaller(), {}).targets[0]!,
    state: state as UndoState,
    services: createAwsServices({ env: {} }),
    mode,
    now: NOW,
  };
  const plan = await inverse.plan(ctx);
  return { plan, outcome: await inverse.execute(ctx, plan) };
};

describe('quarantine-user undo', () => {
  it('detaches the policy Riposte attached', async () => {
    const user = attached([V3]);

    const { plan, outcome } = await undo();

    expect(plan.calls.map((call) => call.operation)).toEqual(['DetachUserPolicy']);
    expect(outcome.status).toBe('applied');
    expect(user.now()).toEqual([]);
  });

  it('skips when it was detached since', async () => {
    attached([]);

    const { plan, outcome } = await undo();

    expect(plan.status).toBe('no-op');
    expect(outcome.status).toBe('skipped');
  });

  it('refuses when the user was protected since', async () => {
    attached([V3]);
    iam.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const { plan } = await undo();

    expect(plan.status).toBe('refused');
  });

  it('round-trips: a policy attached before the response is never detached', async () => {
    const user = attached([V3]);
    const { outcome } = await run();

    expect(outcome.undo).toBeUndefined();
    expect(user.now()).toEqual([V3]);
  });

  it.each([
    [{ userName: USER, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }, '/policyArn'],
    [{ userName: 'a b', policyArn: V3 }, '/userName'],
    [{ userName: USER }, '/policyArn'],
  ])('refuses an invalid recorded state: %j', (state, pointer) => {
    const problems = createRegistry([quarantineUser]).validateUndoState('quarantine-user', state);

    expect(problems.map((problem) => problem.pointer)).toContain(pointer);
  });
});
