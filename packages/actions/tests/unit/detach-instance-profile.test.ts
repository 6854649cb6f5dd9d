import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  EC2ServiceException,
  ReplaceIamInstanceProfileAssociationCommand,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { type EngineMode, hasInverse, type InverseContext, type UndoState } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { detachInstanceProfile } from '../../src/actions/detach-instance-profile.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import {
  contextFor,
  credentialsError,
  expectRefusedInstanceId,
  NOW,
  sentCommands,
} from '../helpers/context.js';
import {
  commandAndControl,
  forgedInstance,
  INSTANCE_ID,
  INSTANCE_PROFILE_ARN,
  instanceCredentialExfiltration,
  s3Exfiltration,
} from '../helpers/findings.js';

const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);

/** The params of a step that swaps in a quarantine profile: the profile and the one role it holds. */
const QUARANTINE = { quarantineProfile: 'quarantine', quarantineRole: 'quarantine-role' };

/** GetInstanceProfile of the quarantine profile, holding these roles. */
const quarantineProfile = (...roleNames: string[]) => ({
  InstanceProfile: {
    InstanceProfileName: 'quarantine',
    InstanceProfileId: 'AIPA6FLOREXAMPLEQUAR1',
    Arn: 'arn:aws:iam::973743533182:instance-profile/quarantine',
    Path: '/',
    CreateDate: new Date('2022-01-01T00:00:00Z'),
    Roles: roleNames.map((RoleName) => ({
      RoleName,
      RoleId: 'AROA6FLOREXAMPLEROLE1',
      Arn: `arn:aws:iam::973743533182:role/${RoleName}`,
      Path: '/',
      CreateDate: new Date('2022-01-01T00:00:00Z'),
    })),
  },
  $metadata: { requestId: 'profile-1' },
});

const associated = {
  IamInstanceProfileAssociations: [
    {
      AssociationId: 'iip-assoc-08049da59357d598c',
      InstanceId: INSTANCE_ID,
      IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN, Id: 'AIPA6FLOREXAMPLEPROF1' },
      State: 'associated' as const,
    },
  ],
  $metadata: { requestId: 'describe-1' },
};

const describeInput = {
  Filters: [
    { Name: 'instance-id', Values: [INSTANCE_ID] },
    { Name: 'state', Values: ['associated'] },
  ],
};

/** What a lookup that ignored its filter would answer: the target's association and another instance's. */
const withNeighbour = {
  IamInstanceProfileAssociations: [
    ...associated.IamInstanceProfileAssociations,
    {
      AssociationId: 'iip-assoc-0fedcba9876540001',
      InstanceId: 'i-0fedcba9876543210',
      IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN, Id: 'AIPA6FLOREXAMPLEPROF1' },
      State: 'associated' as const,
    },
    {
      AssociationId: 'iip-assoc-0aaaabbbbccccdddd',
      IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN, Id: 'AIPA6FLOREXAMPLEPROF1' },
      State: 'associated' as const,
    },
  ],
  $metadata: { requestId: 'describe-2' },
};

beforeEach(() => {
  ec2.reset();
  iam.reset();
});
afterAll(() => {
  ec2.restore();
  iam.restore();
});

describe('detach-instance-profile targets', () => {
  it('targets the credential-source instance of an InstanceCredentialExfiltration finding', () => {
    const { targets } = detachInstanceProfile.targets(instanceCredentialExfiltration(), {});

    expect(targets).toEqual([
      expect.objectContaining({
        kind: 'instance',
        id: INSTANCE_ID,
        label: `instance ${INSTANCE_ID} (credential source)`,
      }),
    ]);
  });

  it('has no target on an S3 finding whose sample carries a placeholder instanceDetails', () => {
    const resolution = detachInstanceProfile.targets(s3Exfiltration(), {});

    expect(resolution).toEqual({ targets: [], reason: 'the finding names no EC2 instance' });
  });
});

describe('detach-instance-profile plan', () => {
  it('plans to disassociate only the association of the instance the finding names', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand, describeInput).resolves(associated);

    const plan = await detachInstanceProfile.plan(contextFor(detachInstanceProfile, commandAndControl()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'EC2',
        operation: 'DisassociateIamInstanceProfile',
        input: { AssociationId: 'iip-assoc-08049da59357d598c' },
        mutating: true,
      },
    ]);
    expect(plan.lookups).toEqual([
      expect.objectContaining({
        status: 'done',
        requestId: 'describe-1',
        call: expect.objectContaining({ input: describeInput }),
      }),
    ]);
  });

  it('plans a no-op when no instance profile is associated', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });

    const plan = await detachInstanceProfile.plan(contextFor(detachInstanceProfile, commandAndControl()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `no instance profile is associated with ${INSTANCE_ID}`,
      calls: [],
    });
  });

  it('plans a replacement with the quarantine profile once it holds exactly the quarantine role', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    iam
      .on(GetInstanceProfileCommand, { InstanceProfileName: 'quarantine' })
      .resolves(quarantineProfile('quarantine-role'));
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { params: QUARANTINE });

    const plan = await detachInstanceProfile.plan(ctx);

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'ReplaceIamInstanceProfileAssociation',
        input: { AssociationId: 'iip-assoc-08049da59357d598c', IamInstanceProfile: { Name: 'quarantine' } },
      }),
    ]);
    expect(plan.lookups[1]).toMatchObject({
      status: 'done',
      summary: 'instance profile quarantine holds role quarantine-role',
      requestId: 'profile-1',
      call: { service: 'IAM', operation: 'GetInstanceProfile', input: { InstanceProfileName: 'quarantine' } },
    });
  });

  it.each([
    [['other-role'], 'holds role(s) "other-role", not exactly quarantineRole "quarantine-role"'],
    [['quarantine-role', 'other-role'], 'holds role(s) "quarantine-role", "other-role", not exactly'],
    [[], 'holds no role, not exactly quarantineRole "quarantine-role"'],
  ])('refuses a quarantine profile holding %j', async (roles, reason) => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    iam.on(GetInstanceProfileCommand).resolves(quarantineProfile(...roles));
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { params: QUARANTINE });

    const plan = await detachInstanceProfile.plan(ctx);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain(reason);
  });

  it('refuses a quarantine profile that does not exist', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    iam
      .on(GetInstanceProfileCommand)
      .rejects(new NoSuchEntityException({ message: 'not found', $metadata: { httpStatusCode: 404 } }));
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { params: QUARANTINE });

    const plan = await detachInstanceProfile.plan(ctx);

    expect(plan).toMatchObject({
      status: 'refused',
      reason: 'the quarantine profile "quarantine" does not exist; not changed',
    });
  });

  it('refuses a quarantine profile given without its role, before looking it up', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), {
      params: { quarantineProfile: 'quarantine' },
    });

    const plan = await detachInstanceProfile.plan(ctx);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('without quarantineRole');
    expect(iam.calls()).toHaveLength(0);
  });

  it('plans the replacement offline, listing the profile lookup it would make', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).rejects(credentialsError());
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { params: QUARANTINE });

    const plan = await detachInstanceProfile.plan(ctx);

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => lookup.summary)).toEqual([
      `would look up DescribeIamInstanceProfileAssociations ${INSTANCE_ID}`,
      'would look up GetInstanceProfile quarantine',
    ]);
    expect(plan.calls[0]?.operation).toBe('ReplaceIamInstanceProfileAssociation');
  });

  it('plans with a placeholder association id when no credentials are available', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).rejects(credentialsError());

    const plan = await detachInstanceProfile.plan(contextFor(detachInstanceProfile, commandAndControl()));

    expect(plan.status).toBe('planned');
    expect(plan.lookups).toEqual([
      expect.objectContaining({
        status: 'unavailable',
        summary: `would look up DescribeIamInstanceProfileAssociations ${INSTANCE_ID}`,
      }),
    ]);
    expect(plan.calls[0]?.input).toEqual({
      AssociationId: '<AssociationId from DescribeIamInstanceProfileAssociations>',
    });
  });

  it('sends no mutating command while planning', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);

    await detachInstanceProfile.plan(contextFor(detachInstanceProfile, commandAndControl()));

    expect(sentCommands(ec2)).toEqual(['DescribeIamInstanceProfileAssociationsCommand']);
  });
});

describe('detach-instance-profile execute', () => {
  it('disassociates the association it re-read and records both calls', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    ec2.on(DisassociateIamInstanceProfileCommand).resolves({ $metadata: { requestId: 'disassociate-1' } });
    const ctx = contextFor(detachInstanceProfile, commandAndControl());

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(DisassociateIamInstanceProfileCommand).map((call) => call.args[0].input)).toEqual(
      [{ AssociationId: 'iip-assoc-08049da59357d598c' }],
    );
    expect(outcome.calls.map((call) => [call.operation, call.requestId])).toEqual([
      ['DescribeIamInstanceProfileAssociations', 'describe-1'],
      ['DisassociateIamInstanceProfile', 'disassociate-1'],
    ]);
    expect(outcome.outputs).toEqual({ detachedProfiles: [INSTANCE_PROFILE_ARN] });
  });

  it('replaces the association with the quarantine profile', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    ec2.on(ReplaceIamInstanceProfileAssociationCommand).resolves({});
    iam.on(GetInstanceProfileCommand).resolves(quarantineProfile('quarantine-role'));
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { params: QUARANTINE });

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)[0]?.args[0].input).toEqual({
      AssociationId: 'iip-assoc-08049da59357d598c',
      IamInstanceProfile: { Name: 'quarantine' },
    });
    expect(ec2.commandCalls(DisassociateIamInstanceProfileCommand)).toHaveLength(0);
  });

  it('refuses to replace when the quarantine profile changed role since planning', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    iam
      .on(GetInstanceProfileCommand)
      .resolvesOnce(quarantineProfile('quarantine-role'))
      .resolves(quarantineProfile('admin'));
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { params: QUARANTINE });
    const plan = await detachInstanceProfile.plan(ctx);

    const outcome = await detachInstanceProfile.execute(ctx, plan);

    expect(plan.status).toBe('planned');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED', retryable: false } });
    expect(outcome.error?.message).toContain('holds role(s) "admin"');
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
    expect(outcome.calls.map((call) => call.operation)).toEqual([
      'DescribeIamInstanceProfileAssociations',
      'GetInstanceProfile',
    ]);
  });

  it('skips when the profile was detached since planning', async () => {
    ec2
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .resolvesOnce(associated)
      .resolves({ IamInstanceProfileAssociations: [] });
    const ctx = contextFor(detachInstanceProfile, commandAndControl());
    const plan = await detachInstanceProfile.plan(ctx);

    const outcome = await detachInstanceProfile.execute(ctx, plan);

    expect(outcome).toMatchObject({
      status: 'skipped',
      reason: `no instance profile is associated with ${INSTANCE_ID}`,
    });
    expect(ec2.commandCalls(DisassociateIamInstanceProfileCommand)).toHaveLength(0);
  });

  it('skips when the instance already carries only the quarantine profile', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
      IamInstanceProfileAssociations: [
        {
          AssociationId: 'iip-assoc-0f1e2d3c4b5a69788',
          InstanceId: INSTANCE_ID,
          IamInstanceProfile: { Arn: 'arn:aws:iam::973743533182:instance-profile/quarantine' },
          State: 'associated',
        },
      ],
    });
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { params: QUARANTINE });

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
    expect(iam.calls()).toHaveLength(0);
  });

  it('fails with the SDK error code when EC2 denies the disassociation', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    ec2.on(DisassociateIamInstanceProfileCommand).rejects(
      new EC2ServiceException({
        name: 'UnauthorizedOperation',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
        message: 'You are not authorized to perform this operation.',
      }),
    );
    const ctx = contextFor(detachInstanceProfile, commandAndControl());

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatchObject({
      code: 'UnauthorizedOperation',
      retryable: false,
      details: { httpStatusCode: 403, requestId: 'denied-1' },
    });
    expect(outcome.calls.at(-1)).toMatchObject({
      operation: 'DisassociateIamInstanceProfile',
      errorCode: 'UnauthorizedOperation',
    });
  });

  it('fails retryably when EC2 throttles the lookup', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).rejects(
      new EC2ServiceException({
        name: 'RequestLimitExceeded',
        $fault: 'client',
        $metadata: { httpStatusCode: 503, requestId: 'throttled-1' },
        message: 'Request limit exceeded.',
      }),
    );
    const ctx = contextFor(detachInstanceProfile, commandAndControl());

    const plan = await detachInstanceProfile.plan(ctx);

    expect(plan.status).toBe('failed');
    expect(plan.error).toMatchObject({ code: 'RequestLimitExceeded', retryable: true });
    expect(plan.lookups[0]).toMatchObject({ status: 'failed', errorCode: 'RequestLimitExceeded' });
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { mode: 'dry-run' });

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(ec2.commandCalls(DisassociateIamInstanceProfileCommand)).toHaveLength(0);
  });
});

describe('detach-instance-profile against a forged finding', () => {
  it.each([['*'], ['i-0*'], ['i-0a1b2c3d4e5f6789?'], ['I-0A1B2C3D4E5F67890'], [`${INSTANCE_ID}\n`]])(
    'refuses the instance id %j without any AWS call',
    async (instanceId) => {
      await expectRefusedInstanceId(detachInstanceProfile, forgedInstance(instanceId), ec2);
    },
  );

  it('never plans a change to an association the lookup returns for another instance', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(withNeighbour);

    const plan = await detachInstanceProfile.plan(contextFor(detachInstanceProfile, commandAndControl()));

    expect(plan.calls.map((call) => call.input)).toEqual([{ AssociationId: 'iip-assoc-08049da59357d598c' }]);
    expect(plan.lookups[0]?.summary).toContain(
      'ignored 2 association(s) of other instances: "i-0fedcba9876543210", "(none)"',
    );
  });

  it('disassociates only the association of the target when the lookup returns others', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(withNeighbour);
    ec2.on(DisassociateIamInstanceProfileCommand).resolves({});
    const ctx = contextFor(detachInstanceProfile, commandAndControl());

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(DisassociateIamInstanceProfileCommand).map((call) => call.args[0].input)).toEqual(
      [{ AssociationId: 'iip-assoc-08049da59357d598c' }],
    );
    expect(outcome.outputs).toEqual({ detachedProfiles: [INSTANCE_PROFILE_ARN] });
  });

  it('skips when every association the lookup returns belongs to another instance', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
      IamInstanceProfileAssociations: withNeighbour.IamInstanceProfileAssociations.slice(1),
    });
    const ctx = contextFor(detachInstanceProfile, commandAndControl());

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'skipped',
      reason: `no instance profile is associated with ${INSTANCE_ID}`,
    });
    expect(
      sentCommands(ec2).filter((name) => name !== 'DescribeIamInstanceProfileAssociationsCommand'),
    ).toEqual([]);
  });

  it('ignores an association of the target that is not in state associated', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
      IamInstanceProfileAssociations: [
        { ...associated.IamInstanceProfileAssociations[0], State: 'disassociating' as const },
      ],
    });

    const plan = await detachInstanceProfile.plan(contextFor(detachInstanceProfile, commandAndControl()));

    expect(plan).toMatchObject({ status: 'no-op', calls: [] });
    expect(plan.lookups[0]?.summary).toContain('not in state associated');
  });
});

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = detachInstanceProfile;
  if (!hasInverse(undo)) throw new Error('detach-instance-profile declares no inverse');
  return undo;
})();

const QUARANTINE_ARN = 'arn:aws:iam::973743533182:instance-profile/quarantine';

/** What a step that detached the profile recorded. */
const detached = { instanceId: INSTANCE_ID, associations: [{ instanceProfileArn: INSTANCE_PROFILE_ARN }] };

/** What a step that swapped in the quarantine profile recorded. */
const replaced = {
  instanceId: INSTANCE_ID,
  associations: [{ instanceProfileArn: INSTANCE_PROFILE_ARN, quarantineProfile: 'quarantine' }],
};

/** The context `riposte undo` builds from a recorded step of the instance the finding names. */
const undoContext = (
  state: UndoState,
  options: { mode?: EngineMode } = {},
): InverseContext<UndoState, AwsServices> => {
  const ctx = contextFor(detachInstanceProfile, commandAndControl());
  return {
    findingId: ctx.finding.id,
    target: ctx.target,
    state,
    services: ctx.services,
    mode: options.mode ?? 'enforce',
    now: NOW,
  };
};

/** The instance's one association, holding this profile. */
const holding = (arn: string, associationId = 'iip-assoc-0f1e2d3c4b5a69788') => ({
  IamInstanceProfileAssociations: [
    {
      AssociationId: associationId,
      InstanceId: INSTANCE_ID,
      IamInstanceProfile: { Arn: arn },
      State: 'associated' as const,
    },
  ],
  $metadata: { requestId: 'describe-undo-1' },
});

const none = { IamInstanceProfileAssociations: [], $metadata: { requestId: 'describe-undo-0' } };

describe('detach-instance-profile records what undo needs', () => {
  it('records the instance and the detached profile when it disassociates', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    ec2.on(DisassociateIamInstanceProfileCommand).resolves({});
    const ctx = contextFor(detachInstanceProfile, commandAndControl());

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(outcome.undo).toEqual(detached);
    expect(createRegistry().validateUndoState('detach-instance-profile', outcome.undo)).toEqual([]);
  });

  it('records the quarantine profile it swapped in when it replaces the association', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    ec2.on(ReplaceIamInstanceProfileAssociationCommand).resolves({});
    iam.on(GetInstanceProfileCommand).resolves(quarantineProfile('quarantine-role'));
    const ctx = contextFor(detachInstanceProfile, commandAndControl(), { params: QUARANTINE });

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome.undo).toEqual(replaced);
  });

  it('records nothing when its only change fails: nothing was changed', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(associated);
    ec2.on(DisassociateIamInstanceProfileCommand).rejects(
      new EC2ServiceException({
        name: 'UnauthorizedOperation',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'You are not authorized to perform this operation.',
      }),
    );
    const ctx = contextFor(detachInstanceProfile, commandAndControl());

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome.status).toBe('failed');
    expect(outcome.undo).toBeUndefined();
  });

  it('records nothing when it skips', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(none);
    const ctx = contextFor(detachInstanceProfile, commandAndControl());

    const outcome = await detachInstanceProfile.execute(ctx, await detachInstanceProfile.plan(ctx));

    expect(outcome).toMatchObject({ status: 'skipped' });
    expect(outcome.undo).toBeUndefined();
  });
});

describe('detach-instance-profile undo plan', () => {
  it('plans to associate the recorded profile again when the instance has none', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand, describeInput).resolves(none);

    const plan = await inverse.plan(undoContext(detached));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'EC2',
        operation: 'AssociateIamInstanceProfile',
        input: { IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN }, InstanceId: INSTANCE_ID },
        mutating: true,
      },
    ]);
    expect(plan.lookups).toEqual([
      expect.objectContaining({ status: 'done', call: expect.objectContaining({ input: describeInput }) }),
    ]);
  });

  it('plans to swap the recorded profile back in for the quarantine profile', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(holding(QUARANTINE_ARN));

    const plan = await inverse.plan(undoContext(replaced));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'ReplaceIamInstanceProfileAssociation',
        input: {
          AssociationId: 'iip-assoc-0f1e2d3c4b5a69788',
          IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN },
        },
      }),
    ]);
  });

  it('plans a no-op when the recorded profile is associated already', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(holding(INSTANCE_PROFILE_ARN));

    const plan = await inverse.plan(undoContext(replaced));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `${INSTANCE_ID} already carries instance profile ${INSTANCE_PROFILE_ARN}`,
      calls: [],
    });
  });

  it('plans offline the calls it would make, with the association id it would look up', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).rejects(credentialsError());

    const plan = await inverse.plan(undoContext(replaced));

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => lookup.status)).toEqual(['unavailable']);
    expect(plan.calls[0]?.input).toEqual({
      AssociationId: '<AssociationId from DescribeIamInstanceProfileAssociations>',
      IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN },
    });
  });

  it('sends no mutating command while planning', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(none);

    await inverse.plan(undoContext(detached));

    expect(sentCommands(ec2, iam)).toEqual(['DescribeIamInstanceProfileAssociationsCommand']);
  });
});

describe('detach-instance-profile undo execute', () => {
  it('associates the recorded profile again', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(none);
    ec2.on(AssociateIamInstanceProfileCommand).resolves({ $metadata: { requestId: 'associate-1' } });
    const ctx = undoContext(detached);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(AssociateIamInstanceProfileCommand).map((call) => call.args[0].input)).toEqual([
      { IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN }, InstanceId: INSTANCE_ID },
    ]);
    expect(outcome.calls.map((call) => [call.operation, call.requestId])).toEqual([
      ['DescribeIamInstanceProfileAssociations', 'describe-undo-0'],
      ['AssociateIamInstanceProfile', 'associate-1'],
    ]);
  });

  it('replaces the quarantine association with the recorded profile', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(holding(QUARANTINE_ARN));
    ec2.on(ReplaceIamInstanceProfileAssociationCommand).resolves({});
    const ctx = undoContext(replaced);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)[0]?.args[0].input).toEqual({
      AssociationId: 'iip-assoc-0f1e2d3c4b5a69788',
      IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN },
    });
    expect(ec2.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(0);
  });

  it('skips when run again after it restored the profile', async () => {
    ec2
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .resolvesOnce(none)
      .resolvesOnce(none)
      .resolves(holding(INSTANCE_PROFILE_ARN));
    ec2.on(AssociateIamInstanceProfileCommand).resolves({});
    const ctx = undoContext(detached);
    await inverse.execute(ctx, await inverse.plan(ctx));

    const again = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(again).toMatchObject({
      status: 'skipped',
      reason: `${INSTANCE_ID} already carries instance profile ${INSTANCE_PROFILE_ARN}`,
    });
    expect(ec2.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(1);
  });

  it('skips when the profile was associated again since planning', async () => {
    ec2
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .resolvesOnce(none)
      .resolves(holding(INSTANCE_PROFILE_ARN));
    const ctx = undoContext(detached);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(0);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(none);
    const ctx = undoContext(detached, { mode: 'dry-run' });

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(sentCommands(ec2)).toEqual([
      'DescribeIamInstanceProfileAssociationsCommand',
      'DescribeIamInstanceProfileAssociationsCommand',
    ]);
  });

  it('fails with the SDK error code when EC2 refuses the association', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves(none);
    ec2.on(AssociateIamInstanceProfileCommand).rejects(
      new EC2ServiceException({
        name: 'UnauthorizedOperation',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
        message: 'You are not authorized to perform this operation.',
      }),
    );
    const ctx = undoContext(detached);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'UnauthorizedOperation', retryable: false },
    });
  });
});

describe('detach-instance-profile undo when the instance changed since', () => {
  it('refuses when another profile was associated since the step detached it', async () => {
    ec2
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .resolves(holding('arn:aws:iam::973743533182:instance-profile/ops-admin'));
    const ctx = undoContext(detached);

    const plan = await inverse.plan(ctx);
    const outcome = await inverse.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toBe(
      `${INSTANCE_ID} carries instance profile "arn:aws:iam::973743533182:instance-profile/ops-admin", not no profile (the step detached it): it was changed since, so it is left as it is`,
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(sentCommands(ec2).filter((name) => !name.startsWith('Describe'))).toEqual([]);
  });

  it('refuses when a profile other than the quarantine one replaced it since', async () => {
    ec2
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .resolves(holding('arn:aws:iam::973743533182:instance-profile/ops-admin'));

    const plan = await inverse.plan(undoContext(replaced));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('not the quarantine profile quarantine: it was changed since');
  });

  it('touches no association the lookup returns for another instance', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
      IamInstanceProfileAssociations: withNeighbour.IamInstanceProfileAssociations.slice(1),
    });
    ec2.on(AssociateIamInstanceProfileCommand).resolves({});
    const ctx = undoContext(replaced);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
    expect(ec2.commandCalls(AssociateIamInstanceProfileCommand)[0]?.args[0].input).toMatchObject({
      InstanceId: INSTANCE_ID,
    });
  });
});

describe('detach-instance-profile undo against a forged record', () => {
  const registry = createRegistry();

  it('accepts the state a step records', () => {
    expect(registry.validateUndoState('detach-instance-profile', replaced)).toEqual([]);
  });

  it.each([
    [
      'a wildcard instance id',
      { ...detached, instanceId: 'i-0*' },
      '/instanceId',
      'must match pattern "^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$"',
    ],
    [
      'a wildcard in the profile path',
      {
        ...detached,
        associations: [{ instanceProfileArn: 'arn:aws:iam::973743533182:instance-profile/*/x' }],
      },
      '/associations/0/instanceProfileArn',
      expect.stringContaining('must match pattern'),
    ],
    // The registry words an unknown key as it does for params.
    [
      'an unknown key',
      { ...detached, roleArn: 'arn:aws:iam::973743533182:role/admin' },
      '/roleArn',
      expect.any(String),
    ],
    ['no profile', { ...detached, associations: [] }, '/associations', 'must not be empty'],
    [
      'a quarantine profile name with a space',
      { ...replaced, associations: [{ instanceProfileArn: INSTANCE_PROFILE_ARN, quarantineProfile: 'a b' }] },
      '/associations/0/quarantineProfile',
      expect.stringContaining('must match pattern'),
    ],
  ])('refuses a recorded state with %s', (_, state, pointer, message) => {
    expect(registry.validateUndoState('detach-instance-profile', state)).toContainEqual({ pointer, message });
  });

  it('refuses, without any call, a record of another instance than the target', async () => {
    const plan = await inverse.plan(undoContext({ ...detached, instanceId: 'i-0fedcba9876543210' }));

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toBe(
      `the recorded instance "i-0fedcba9876543210" is not the target ${INSTANCE_ID}; nothing was looked up or changed`,
    );
    expect(sentCommands(ec2, iam)).toEqual([]);
  });

  it('refuses, without any call, a profile of another account', async () => {
    const state = {
      ...detached,
      associations: [{ instanceProfileArn: 'arn:aws:iam::111122223333:instance-profile/admin' }],
    };

    const plan = await inverse.plan(undoContext(state));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('is in account "111122223333", not the finding\'s account 973743533182');
    expect(sentCommands(ec2, iam)).toEqual([]);
  });

  it('passes roles to EC2 only, from the undo role', () => {
    expect(inverse.grants().find((grant) => grant.actions.includes('iam:PassRole'))).toEqual({
      actions: ['iam:PassRole'],
      resources: ['arn:{partition}:iam::{account}:role/*'],
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
    expect([...new Set(inverse.grants().flatMap((grant) => grant.actions))].sort()).toEqual(
      [...inverse.permissions].sort(),
    );
  });
});
