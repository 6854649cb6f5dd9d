import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeTagsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  ListRoleTagsCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { detachInstanceProfile } from '../../src/actions/detach-instance-profile.js';
import { revokeRoleSessions } from '../../src/actions/revoke-role-sessions.js';
import { tagResource } from '../../src/actions/tag-resource.js';
import { read } from '../../src/call.js';
import { READ_MEMO_TTL_MS, ReadMemo } from '../../src/read-memo.js';
import { ExecSession } from '../../src/session.js';
import { contextFor, responseState } from '../helpers/context.js';
import { ACCOUNT, INSTANCE_ID, instanceCredentialExfiltration, ROLE_NAME } from '../helpers/findings.js';

const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);

const ASSOCIATION_ID = 'iip-assoc-0a1b2c3d4e5f60001';
const associated = {
  IamInstanceProfileAssociations: [
    {
      AssociationId: ASSOCIATION_ID,
      InstanceId: INSTANCE_ID,
      IamInstanceProfile: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${ROLE_NAME}`, Id: 'AIPAEXAMPLE' },
      State: 'associated' as const,
    },
  ],
};

const noSuchEntity = () =>
  new NoSuchEntityException({
    message: 'The role policy cannot be found.',
    $metadata: { httpStatusCode: 404 },
  });

const throttled = () =>
  new IAMServiceException({
    name: 'Throttling',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, requestId: 'throttled-1' },
    message: 'Rate exceeded',
  });

beforeEach(() => {
  ec2.reset();
  iam.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({
    Account: ACCOUNT,
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-responder/riposte`,
  });
  ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
  ec2.on(DescribeTagsCommand).resolves({ Tags: [] });
  ec2.on(DisassociateIamInstanceProfileCommand).resolves({});
  iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => ({
    Role: {
      RoleName: input.RoleName,
      Path: '/',
      Arn: `arn:aws:iam::${ACCOUNT}:role/${input.RoleName}`,
      RoleId: 'AROAQNOTREALROLEID12',
      CreateDate: new Date('2021-06-01T00:00:00Z'),
    },
  }));
  iam.on(ListRoleTagsCommand).resolves({ Tags: [], IsTruncated: false });
  iam.on(GetRolePolicyCommand).rejects(noSuchEntity());
});
afterAll(() => {
  ec2.restore();
  iam.restore();
  sts.restore();
});

/** A step of one response: the context the engine would give the action for its first target. */
const stepOf = <P>(
  action: Parameters<typeof contextFor<P>>[0],
  shared = responseState(),
  target?: number,
) => {
  const finding = instanceCredentialExfiltration();
  const ctx = contextFor(action, finding, {
    shared,
    ...(target === undefined ? {} : { target: action.targets(finding, {} as P).targets[target]! }),
  });
  return { ctx, shared };
};

describe('read memo: within one response', () => {
  it('lets execute re-check with the reads its plan just made, sending only the mutation', async () => {
    const { ctx } = stepOf(detachInstanceProfile);

    const plan = await detachInstanceProfile.plan(ctx);
    const outcome = await detachInstanceProfile.execute(ctx, plan);

    expect(outcome.status).toBe('applied');
    expect(outcome.calls.map((call) => call.operation)).toEqual(['DisassociateIamInstanceProfile']);
    expect(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)).toHaveLength(1);
  });

  it('re-reads in every execute when the action runs outside a response', async () => {
    const ctx = contextFor(detachInstanceProfile, instanceCredentialExfiltration());

    await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)).toHaveLength(2);
  });

  it('reads again after a mutation of the same service: a second step finds the profile gone', async () => {
    ec2
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .resolvesOnce(associated)
      .resolves({ IamInstanceProfileAssociations: [] });
    const { ctx, shared } = stepOf(detachInstanceProfile);
    const again = stepOf(detachInstanceProfile, shared).ctx;
    const [first, second] = [await detachInstanceProfile.plan(ctx), await detachInstanceProfile.plan(again)];

    const applied = await detachInstanceProfile.execute(ctx, first);
    const skipped = await detachInstanceProfile.execute(again, second);

    expect(applied.status).toBe('applied');
    expect(skipped).toMatchObject({
      status: 'skipped',
      reason: `no instance profile is associated with ${INSTANCE_ID}`,
    });
    expect(skipped.calls.map((call) => call.operation)).toEqual(['DescribeIamInstanceProfileAssociations']);
    expect(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)).toHaveLength(2);
  });

  it('keeps the association read across a tag write, and reads the tags again', async () => {
    const shared = responseState();
    const tagging = stepOf(tagResource, shared).ctx;
    const detaching = stepOf(detachInstanceProfile, shared).ctx;
    const [tagPlan, detachPlan] = await Promise.all([
      tagResource.plan(tagging),
      detachInstanceProfile.plan(detaching),
    ]);

    await tagResource.execute(tagging, tagPlan);
    const detached = await detachInstanceProfile.execute(detaching, detachPlan);
    await tagResource.plan(tagging);

    expect(detached.calls.map((call) => call.operation)).toEqual(['DisassociateIamInstanceProfile']);
    expect(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)).toHaveLength(1);
    // Before planning, for execute's check (none: the plan's answer served), after CreateTags.
    expect(ec2.commandCalls(DescribeTagsCommand)).toHaveLength(2);
  });

  it("reads again after a mutation another step reported, such as a custom action's own SDK call", async () => {
    const { ctx, shared } = stepOf(detachInstanceProfile);
    const plan = await detachInstanceProfile.plan(ctx);
    shared.mutations.push({
      service: 'EC2',
      operation: 'ReplaceIamInstanceProfileAssociation',
      input: { AssociationId: ASSOCIATION_ID },
      mutating: true,
      durationMs: 50,
    });

    const outcome = await detachInstanceProfile.execute(ctx, plan);

    expect(outcome.calls.map((call) => call.operation)).toEqual([
      'DescribeIamInstanceProfileAssociations',
      'DisassociateIamInstanceProfile',
    ]);
  });

  it('asks once when two steps read the same role, even while the first read is in flight', async () => {
    const shared = responseState();
    const tagging = stepOf(tagResource, shared, 1).ctx;
    const revoking = stepOf(revokeRoleSessions, shared).ctx;

    const plans = await Promise.all([tagResource.plan(tagging), revokeRoleSessions.plan(revoking)]);

    expect(plans.map((plan) => plan.status)).toEqual(['planned', 'planned']);
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1);
    expect(iam.commandCalls(ListRoleTagsCommand)).toHaveLength(1);
    // Both steps still list what they looked up.
    expect(plans[0]?.lookups.map((lookup) => lookup.call.operation)).toEqual(['GetRole', 'ListRoleTags']);
  });

  it('keeps a "nothing there" answer: execute does not ask again for a policy the role does not have', async () => {
    const { ctx } = stepOf(revokeRoleSessions);

    const outcome = await revokeRoleSessions.execute(ctx, await revokeRoleSessions.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(outcome.calls.map((call) => call.operation)).toEqual(['PutRolePolicy']);
    expect(iam.commandCalls(GetRolePolicyCommand)).toHaveLength(2);
  });

  it('never keeps a failed read: execute asks again, and acts on the new answer', async () => {
    iam
      .on(GetRoleCommand)
      .rejectsOnce(throttled())
      .callsFake((input: { RoleName: string }) => ({
        Role: { RoleName: input.RoleName, Path: '/', Arn: `arn:aws:iam::${ACCOUNT}:role/${input.RoleName}` },
      }));
    const { ctx } = stepOf(revokeRoleSessions);

    const plan = await revokeRoleSessions.plan(ctx);
    const outcome = await revokeRoleSessions.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'failed', error: { code: 'Throttling' } });
    expect(outcome.status).toBe('applied');
    expect(outcome.calls.map((call) => call.operation)).toEqual(['GetRole', 'PutRolePolicy']);
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(2);
  });
});

describe('read memo: concurrency', () => {
  it('asks the protection check and the policy reads of revoke-role-sessions at once', async () => {
    const spans: { operation: string; start: number; end: number }[] = [];
    const slow =
      <O>(operation: string, answer: () => O) =>
      async () => {
        const start = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 40));
        spans.push({ operation, start, end: performance.now() });
        return answer();
      };
    iam.on(GetRoleCommand).callsFake(
      slow('GetRole', () => ({
        Role: { RoleName: ROLE_NAME, Path: '/', Arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}` },
      })),
    );
    iam.on(ListRoleTagsCommand).callsFake(slow('ListRoleTags', () => ({ Tags: [] })));
    iam.on(GetRolePolicyCommand).callsFake(
      slow('GetRolePolicy', () => {
        throw noSuchEntity();
      }),
    );
    const { ctx } = stepOf(revokeRoleSessions);

    const plan = await revokeRoleSessions.plan(ctx);

    expect(plan.status).toBe('planned');
    expect(spans.map((span) => span.operation).sort()).toEqual([
      'GetRole',
      'GetRolePolicy',
      'GetRolePolicy',
      'ListRoleTags',
    ]);
    // One round: every read started before any was answered.
    const firstAnswer = Math.min(...spans.map((span) => span.end));
    for (const span of spans) expect(span.start).toBeLessThan(firstAnswer);
    // Listed in the order they were asked for, whatever order they were answered in.
    expect(plan.lookups.map((lookup) => lookup.call.operation)).toEqual([
      'GetRole',
      'ListRoleTags',
      'GetRolePolicy',
      'GetRolePolicy',
    ]);
  });
});

describe('ReadMemo', () => {
  const scope = { accountId: ACCOUNT, region: 'us-east-1' };
  const target = { ...scope, kind: 'instance' as const, id: INSTANCE_ID, label: 'instance' };
  const ctx = {
    services: contextFor(detachInstanceProfile, instanceCredentialExfiltration()).services,
    target,
  };
  const describe_ = () =>
    read(ctx, 'ec2', 'DescribeIamInstanceProfileAssociations', {
      Filters: [{ Name: 'instance-id', Values: [INSTANCE_ID] }],
    });

  it(`sends a read again once its answer is older than ${READ_MEMO_TTL_MS / 1000} s`, async () => {
    let now = 0;
    const memo = new ReadMemo([], () => now);
    const session = new ExecSession('enforce', memo);
    const spec = { key: INSTANCE_ID, found: () => 'found' };

    await session.read(describe_(), spec);
    now += READ_MEMO_TTL_MS;
    await session.read(describe_(), spec);
    now += 1;
    await session.read(describe_(), spec);

    expect(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)).toHaveLength(2);
  });

  it('tells inputs apart by what they ask, not by how their keys are ordered', async () => {
    const memo = new ReadMemo();
    const session = new ExecSession('enforce', memo);
    const spec = { key: INSTANCE_ID, found: () => 'found' };
    const filter = { Name: 'instance-id', Values: [INSTANCE_ID] };

    await session.read(
      read(ctx, 'ec2', 'DescribeIamInstanceProfileAssociations', { Filters: [filter], MaxResults: 5 }),
      spec,
    );
    await session.read(
      read(ctx, 'ec2', 'DescribeIamInstanceProfileAssociations', { MaxResults: 5, Filters: [filter] }),
      spec,
    );
    await session.read(
      read(ctx, 'ec2', 'DescribeIamInstanceProfileAssociations', { MaxResults: 6, Filters: [filter] }),
      spec,
    );
    await session.read(
      read(
        ctx,
        'ec2',
        'DescribeIamInstanceProfileAssociations',
        { MaxResults: 6, Filters: [filter] },
        { scope: { ...scope, accountId: '111122223333' } },
      ),
      spec,
    );

    expect(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)).toHaveLength(3);
  });

  it('hands every reader its own copy of the answer', async () => {
    const session = new ExecSession('enforce', new ReadMemo());
    const spec = { key: INSTANCE_ID, found: () => 'found' };

    const first = await session.read(describe_(), spec);
    if (first.status === 'found') first.output.IamInstanceProfileAssociations?.splice(0);
    const second = await session.read(describe_(), spec);

    expect(second).toMatchObject({
      status: 'found',
      output: { IamInstanceProfileAssociations: [{ AssociationId: ASSOCIATION_ID }] },
    });
  });
});
