import { DescribeIamInstanceProfileAssociationsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Finding } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { REVOKE_POLICY_NAME, revokeRoleSessions } from '../../src/actions/revoke-role-sessions.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import {
  INSTANCE_ID,
  INSTANCE_PROFILE_ARN,
  instanceCredentialExfiltration,
  instanceCredentialExfiltrationAsSampled,
  maliciousIpCaller,
  ROLE_NAME,
} from '../helpers/findings.js';

const iam = mockClient(IAMClient);
const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

const role = (path = '/') => ({
  Role: {
    RoleName: ROLE_NAME,
    Path: path,
    Arn: `arn:aws:iam::973743533182:role${path}${ROLE_NAME}`,
    RoleId: 'AROA6FLOREXAMPLEROLE1',
    CreateDate: new Date('2021-06-01T00:00:00Z'),
  },
  $metadata: { requestId: 'get-role-1' },
});

const noSuchEntity = () =>
  new NoSuchEntityException({
    message: `The role policy with name ${REVOKE_POLICY_NAME} cannot be found.`,
    $metadata: { httpStatusCode: 404, requestId: 'no-policy-1' },
  });

/** The policy as IAM returns it: URL-encoded. */
const existingPolicy = (issuedBefore: string) => ({
  RoleName: ROLE_NAME,
  PolicyName: REVOKE_POLICY_NAME,
  PolicyDocument: encodeURIComponent(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
        },
      ],
    }),
  ),
});

const expectedDocument = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Deny',
      Action: ['*'],
      Resource: ['*'],
      Condition: { DateLessThan: { 'aws:TokenIssueTime': NOW.toISOString() } },
    },
  ],
});

beforeEach(() => {
  iam.reset();
  ec2.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({
    Account: '973743533182',
    Arn: 'arn:aws:sts::973743533182:assumed-role/riposte-responder/riposte',
  });
  iam.on(GetRoleCommand, { RoleName: ROLE_NAME }).resolves(role());
  iam.on(GetRolePolicyCommand).rejects(noSuchEntity());
  iam.on(GetInstanceProfileCommand, { InstanceProfileName: ROLE_NAME }).resolves({
    InstanceProfile: {
      InstanceProfileName: ROLE_NAME,
      InstanceProfileId: 'AIPA6FLOREXAMPLEPROF1',
      Arn: INSTANCE_PROFILE_ARN,
      Path: '/',
      CreateDate: new Date('2021-06-01T00:00:00Z'),
      Roles: [role().Role],
    },
  });
});
afterAll(() => {
  iam.restore();
  ec2.restore();
  sts.restore();
});

describe('revoke-role-sessions targets', () => {
  it('targets the assumed role once when the finding also names its credential-source instance', () => {
    const { targets } = revokeRoleSessions.targets(instanceCredentialExfiltration(), {});

    expect(targets).toEqual([expect.objectContaining({ kind: 'access-key', id: ROLE_NAME })]);
  });

  it('targets the credential-source instance when no assumed-role key names the role', () => {
    const { targets } = revokeRoleSessions.targets(instanceCredentialExfiltrationAsSampled(), {});

    expect(targets).toEqual([expect.objectContaining({ kind: 'instance', id: INSTANCE_ID })]);
  });

  it('has no target for a long-term IAM user key', () => {
    expect(revokeRoleSessions.targets(maliciousIpCaller(), {}).targets).toEqual([]);
  });
});

describe('revoke-role-sessions plan', () => {
  it('plans the console-style revoke policy dated at the moment of the response', async () => {
    const plan = await revokeRoleSessions.plan(
      contextFor(revokeRoleSessions, instanceCredentialExfiltration()),
    );

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'IAM',
        operation: 'PutRolePolicy',
        input: {
          RoleName: ROLE_NAME,
          PolicyName: 'AWSRevokeOlderSessions',
          PolicyDocument: expectedDocument,
        },
        mutating: true,
      },
    ]);
    expect(plan.lookups.map((lookup) => [lookup.call.operation, lookup.status])).toEqual([
      ['GetRole', 'done'],
      ['GetRolePolicy', 'done'],
    ]);
  });

  it("resolves the role through the instance profile named in the finding's instance", async () => {
    const plan = await revokeRoleSessions.plan(
      contextFor(revokeRoleSessions, instanceCredentialExfiltrationAsSampled()),
    );

    expect(plan.calls[0]?.input).toMatchObject({ RoleName: ROLE_NAME });
    expect(plan.lookups[0]).toMatchObject({
      call: { operation: 'GetInstanceProfile', input: { InstanceProfileName: ROLE_NAME } },
      summary: `instance profile ${ROLE_NAME} holds role ${ROLE_NAME}`,
    });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('asks EC2 for the instance profile when the finding gives only its id', async () => {
    const finding = instanceCredentialExfiltrationAsSampled();
    const instance = finding.resources.find((resource) => resource.kind === 'instance');
    if (instance?.kind === 'instance') instance.instanceProfile = { id: 'AIPA6FLOREXAMPLEPROF1' };
    ec2
      .on(DescribeIamInstanceProfileAssociationsCommand, {
        Filters: [{ Name: 'instance-id', Values: [INSTANCE_ID] }],
      })
      .resolves({
        IamInstanceProfileAssociations: [
          {
            AssociationId: 'iip-assoc-1',
            IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN },
            State: 'disassociated',
          },
        ],
      });

    const plan = await revokeRoleSessions.plan(contextFor(revokeRoleSessions, finding));

    expect(plan.status).toBe('planned');
    expect(plan.calls[0]?.input).toMatchObject({ RoleName: ROLE_NAME });
  });

  it('plans a no-op when sessions up to the finding update are already revoked', async () => {
    iam.on(GetRolePolicyCommand).resolves(existingPolicy('2022-01-28T21:20:00.000Z'));

    const plan = await revokeRoleSessions.plan(
      contextFor(revokeRoleSessions, instanceCredentialExfiltration()),
    );

    expect(plan.status).toBe('no-op');
    expect(plan.reason).toContain('issued before 2022-01-28T21:20:00.000Z are already revoked');
  });

  it('plans a new revocation when the existing one predates the finding update', async () => {
    iam.on(GetRolePolicyCommand).resolves(existingPolicy('2022-01-20T00:00:00.000Z'));

    const plan = await revokeRoleSessions.plan(
      contextFor(revokeRoleSessions, instanceCredentialExfiltration()),
    );

    expect(plan.status).toBe('planned');
  });

  it('refuses a service-linked role', async () => {
    iam.on(GetRoleCommand).resolves(role('/aws-service-role/ec2.amazonaws.com/'));

    const plan = await revokeRoleSessions.plan(
      contextFor(revokeRoleSessions, instanceCredentialExfiltration()),
    );

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('service-linked');
  });

  it('refuses the role Riposte itself runs as', async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: '973743533182',
      Arn: `arn:aws:sts::973743533182:assumed-role/${ROLE_NAME}/riposte`,
    });

    const plan = await revokeRoleSessions.plan(
      contextFor(revokeRoleSessions, instanceCredentialExfiltration()),
    );

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('the role Riposte runs as');
  });

  it('plans offline with every lookup marked as would-look-up', async () => {
    iam.on(GetRoleCommand).rejects(credentialsError());

    const plan = await revokeRoleSessions.plan(
      contextFor(revokeRoleSessions, instanceCredentialExfiltration()),
    );

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => [lookup.status, lookup.summary])).toEqual([
      ['unavailable', `would look up GetRole ${ROLE_NAME}`],
      ['unavailable', `would look up GetRolePolicy ${ROLE_NAME} AWSRevokeOlderSessions`],
    ]);
    expect(iam.commandCalls(GetRolePolicyCommand)).toHaveLength(0);
  });

  it('uses a placeholder role when the instance profile cannot be read offline', async () => {
    iam.on(GetInstanceProfileCommand).rejects(credentialsError());

    const plan = await revokeRoleSessions.plan(
      contextFor(revokeRoleSessions, instanceCredentialExfiltrationAsSampled()),
    );

    expect(plan.calls[0]?.input).toMatchObject({ RoleName: '<RoleName from GetInstanceProfile>' });
  });

  it('sends no mutating command while planning', async () => {
    await revokeRoleSessions.plan(contextFor(revokeRoleSessions, instanceCredentialExfiltrationAsSampled()));

    expect(sentCommands(iam, ec2)).toEqual([
      'GetInstanceProfileCommand',
      'GetRoleCommand',
      'GetRolePolicyCommand',
    ]);
  });
});

describe('revoke-role-sessions execute', () => {
  const run = async (finding: Finding = instanceCredentialExfiltration()) => {
    const ctx = contextFor(revokeRoleSessions, finding);
    return revokeRoleSessions.execute(ctx, await revokeRoleSessions.plan(ctx));
  };

  it('puts the revoke policy with the exact document', async () => {
    iam.on(PutRolePolicyCommand).resolves({ $metadata: { requestId: 'put-1' } });

    const outcome = await run();

    expect(outcome.status).toBe('applied');
    expect(iam.commandCalls(PutRolePolicyCommand).map((call) => call.args[0].input)).toEqual([
      { RoleName: ROLE_NAME, PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: expectedDocument },
    ]);
    expect(outcome.outputs).toEqual({ roleName: ROLE_NAME, revokedBefore: NOW.toISOString() });
    expect(outcome.calls.at(-1)).toMatchObject({
      operation: 'PutRolePolicy',
      requestId: 'put-1',
      mutating: true,
    });
  });

  it('skips when the sessions were revoked since planning', async () => {
    iam
      .on(GetRolePolicyCommand)
      .rejectsOnce(noSuchEntity())
      .resolves(existingPolicy('2022-01-28T21:25:00.000Z'));

    const outcome = await run();

    expect(outcome.status).toBe('skipped');
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('skips a refused role without mutating', async () => {
    iam.on(GetRoleCommand).resolves(role('/aws-service-role/ec2.amazonaws.com/'));

    const outcome = await run();

    expect(outcome.status).toBe('skipped');
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('fails with AccessDenied, not retryable, when IAM refuses the policy', async () => {
    iam.on(PutRolePolicyCommand).rejects(
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
        message: 'User is not authorized to perform: iam:PutRolePolicy',
      }),
    );

    const outcome = await run();

    expect(outcome).toMatchObject({
      status: 'failed',
      error: {
        code: 'AccessDenied',
        retryable: false,
        details: { httpStatusCode: 403, requestId: 'denied-1' },
      },
    });
  });

  it('fails retryably when IAM throttles', async () => {
    iam.on(PutRolePolicyCommand).rejects(
      new IAMServiceException({
        name: 'Throttling',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'throttled-1' },
        message: 'Rate exceeded',
      }),
    );

    const outcome = await run();

    expect(outcome.error).toMatchObject({ code: 'Throttling', retryable: true });
  });
});
