import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  ListInstanceProfilesForRoleCommand,
  ListRoleTagsCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
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
  REVOKE_POLICY_NAME,
  type RevokeRoleSessionsParams,
  type RevokeRoleSessionsUndo,
  revokeRoleSessions,
} from '../../src/actions/revoke-role-sessions.js';
import { createAwsServices, type PrincipalProtection } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { type ContextOptions, contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import {
  ACCOUNT,
  INSTANCE_ID,
  INSTANCE_PROFILE_ARN,
  instanceCredentialExfiltration,
  instanceCredentialExfiltrationAsSampled,
  maliciousIpCaller,
  REGION,
  ROLE_NAME,
  torIpCallerAssumedRole,
} from '../helpers/findings.js';

const iam = mockClient(IAMClient);
const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

const INSTANCE_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE_ID}`;
const INSTANCE_POLICY = `RiposteRevokeInstance-${INSTANCE_ID}`;
const OTHER_INSTANCE_ID = 'i-0fedcba9876543210';
const PIPELINE_ROLE = 'data-pipeline-role';

const role = (name = ROLE_NAME, path = '/') => ({
  Role: {
    RoleName: name,
    Path: path,
    Arn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
    RoleId: 'AROA6FLOREXAMPLEROLE1',
    CreateDate: new Date('2021-06-01T00:00:00Z'),
  },
  $metadata: { requestId: 'get-role-1' },
});

const noSuchEntity = (message = 'The role policy cannot be found.') =>
  new NoSuchEntityException({ message, $metadata: { httpStatusCode: 404, requestId: 'no-policy-1' } });

const denied = (operation: string) =>
  new IAMServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
    message: `User is not authorized to perform: iam:${operation}`,
  });

/** The instance-scoped policy, as the action must write it. */
const instanceDocument = (instanceId = INSTANCE_ID, issuedBefore = NOW.toISOString()) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RevokeSessionsIssuedToInstance',
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: {
          StringEquals: {
            'ec2:SourceInstanceARN': `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${instanceId}`,
          },
          DateLessThan: { 'aws:TokenIssueTime': issuedBefore },
        },
      },
      {
        Sid: 'RevokeSessionsNamedAfterInstance',
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: {
          StringLike: { 'aws:userid': `*:${instanceId}` },
          DateLessThan: { 'aws:TokenIssueTime': issuedBefore },
        },
      },
    ],
  });

/** The console-style whole-role policy. */
const roleDocument = (issuedBefore = NOW.toISOString()) =>
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
  });

/** A policy as IAM returns it: URL-encoded. */
const stored = (roleName: string, policyName: string, document: string) => ({
  RoleName: roleName,
  PolicyName: policyName,
  PolicyDocument: encodeURIComponent(document),
});

const profile = (name: string, roleName = ROLE_NAME) => ({
  InstanceProfileName: name,
  InstanceProfileId: 'AIPA6FLOREXAMPLEPROF1',
  Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`,
  Path: '/',
  CreateDate: new Date('2021-06-01T00:00:00Z'),
  Roles: [role(roleName).Role],
});

/** Instances using the role, as DescribeInstances answers. */
const instances = (...ids: string[]) => ({
  Reservations: [
    { ReservationId: 'r-0a1b2c3d4e5f60001', Instances: ids.map((InstanceId) => ({ InstanceId })) },
  ],
});

const servicesWith = (protection: Partial<PrincipalProtection>) =>
  createAwsServices({ env: {}, protection: { ownRoleArns: [], extra: [], ...protection } });

const plan = (finding: Finding, options: ContextOptions<RevokeRoleSessionsParams> = {}) =>
  revokeRoleSessions.plan(contextFor(revokeRoleSessions, finding, options));

const run = async (
  finding: Finding = instanceCredentialExfiltration(),
  options: ContextOptions<RevokeRoleSessionsParams> = {},
) => {
  const ctx = contextFor(revokeRoleSessions, finding, options);
  return revokeRoleSessions.execute(ctx, await revokeRoleSessions.plan(ctx));
};

beforeEach(() => {
  iam.reset();
  ec2.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({
    Account: ACCOUNT,
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-responder/riposte`,
  });
  iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => role(input.RoleName));
  iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'team', Value: 'payments' }], IsTruncated: false });
  iam.on(GetRolePolicyCommand).rejects(noSuchEntity());
  iam
    .on(GetInstanceProfileCommand, { InstanceProfileName: ROLE_NAME })
    .resolves({ InstanceProfile: profile(ROLE_NAME) });
  iam
    .on(ListInstanceProfilesForRoleCommand)
    .resolves({ InstanceProfiles: [profile(ROLE_NAME)], IsTruncated: false });
  ec2.on(DescribeInstancesCommand).resolves(instances(INSTANCE_ID, OTHER_INSTANCE_ID));
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

describe('revoke-role-sessions plan, instance scope', () => {
  it('denies only the sessions issued to the instance the credentials came from', async () => {
    const result = await plan(instanceCredentialExfiltration());

    expect(result.status).toBe('planned');
    expect(result.calls).toEqual([
      {
        service: 'IAM',
        operation: 'PutRolePolicy',
        input: { RoleName: ROLE_NAME, PolicyName: INSTANCE_POLICY, PolicyDocument: instanceDocument() },
        mutating: true,
      },
    ]);
    expect(result.lookups.map((lookup) => [lookup.call.operation, lookup.call.input, lookup.status])).toEqual(
      [
        ['GetRole', { RoleName: ROLE_NAME }, 'done'],
        ['ListRoleTags', { RoleName: ROLE_NAME }, 'done'],
        ['GetRolePolicy', { RoleName: ROLE_NAME, PolicyName: INSTANCE_POLICY }, 'done'],
        ['GetRolePolicy', { RoleName: ROLE_NAME, PolicyName: REVOKE_POLICY_NAME }, 'done'],
      ],
    );
  });

  it('writes a policy whose conditions name the instance ARN and the response time', async () => {
    const result = await plan(instanceCredentialExfiltration());

    const document = JSON.parse(String(result.calls[0]?.input.PolicyDocument));
    expect(document.Statement.map((statement: { Condition: unknown }) => statement.Condition)).toEqual([
      {
        StringEquals: { 'ec2:SourceInstanceARN': INSTANCE_ARN },
        DateLessThan: { 'aws:TokenIssueTime': '2022-01-28T21:30:00.000Z' },
      },
      {
        StringLike: { 'aws:userid': `*:${INSTANCE_ID}` },
        DateLessThan: { 'aws:TokenIssueTime': '2022-01-28T21:30:00.000Z' },
      },
    ]);
  });

  it("resolves the role through the instance profile named in the finding's instance", async () => {
    const result = await plan(instanceCredentialExfiltrationAsSampled());

    expect(result.calls[0]?.input).toMatchObject({ RoleName: ROLE_NAME, PolicyName: INSTANCE_POLICY });
    expect(result.lookups[0]).toMatchObject({
      call: { operation: 'GetInstanceProfile', input: { InstanceProfileName: ROLE_NAME } },
      summary: `instance profile ${ROLE_NAME} holds role ${ROLE_NAME}`,
    });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('refuses an instance profile ARN of another account instead of cutting it down to a name', async () => {
    const finding = instanceCredentialExfiltrationAsSampled();
    const instance = finding.resources.find((resource) => resource.kind === 'instance');
    if (instance?.kind === 'instance') {
      instance.instanceProfile = { arn: `arn:aws:iam::111122223333:instance-profile/${ROLE_NAME}` };
    }

    const result = await plan(finding);

    expect(result).toMatchObject({ status: 'refused', calls: [] });
    expect(result.reason).toContain("not the finding's account 973743533182");
    expect(sentCommands(iam, ec2)).toEqual([]);
  });

  it('asks EC2 for the instance profile when the finding gives only its id, ignoring other instances', async () => {
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
            AssociationId: 'iip-assoc-0fedcba9876540001',
            InstanceId: OTHER_INSTANCE_ID,
            IamInstanceProfile: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/batch-profile` },
            State: 'associated',
          },
          {
            AssociationId: 'iip-assoc-0a1b2c3d4e5f60001',
            InstanceId: INSTANCE_ID,
            IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN },
            State: 'disassociated',
          },
        ],
      });

    const result = await plan(finding);

    expect(result.status).toBe('planned');
    expect(iam.commandCalls(GetInstanceProfileCommand)[0]?.args[0].input).toEqual({
      InstanceProfileName: ROLE_NAME,
    });
    expect(result.calls[0]?.input).toMatchObject({ RoleName: ROLE_NAME, PolicyName: INSTANCE_POLICY });
  });

  it('plans a no-op when the instance policy already covers the finding update', async () => {
    iam
      .on(GetRolePolicyCommand, { PolicyName: INSTANCE_POLICY })
      .resolves(
        stored(ROLE_NAME, INSTANCE_POLICY, instanceDocument(INSTANCE_ID, '2022-01-28T21:20:00.000Z')),
      );

    const result = await plan(instanceCredentialExfiltration());

    expect(result).toMatchObject({
      status: 'no-op',
      reason: `sessions of ${ROLE_NAME} issued to ${INSTANCE_ID} before 2022-01-28T21:20:00.000Z are already revoked, which covers the finding (updated 2022-01-28T21:12:25.495Z)`,
    });
    // The role-wide policy is read alongside, so that planning takes one round of lookups.
    expect(iam.commandCalls(GetRolePolicyCommand)).toHaveLength(2);
  });

  it('plans a no-op when the whole role was revoked after the finding update', async () => {
    iam
      .on(GetRolePolicyCommand, { PolicyName: REVOKE_POLICY_NAME })
      .resolves(stored(ROLE_NAME, REVOKE_POLICY_NAME, roleDocument('2022-01-28T21:20:00.000Z')));

    const result = await plan(instanceCredentialExfiltration());

    expect(result.status).toBe('no-op');
    expect(result.reason).toContain('issued before 2022-01-28T21:20:00.000Z are already revoked');
  });

  it('plans a new revocation when the instance policy predates the finding update', async () => {
    iam
      .on(GetRolePolicyCommand, { PolicyName: INSTANCE_POLICY })
      .resolves(
        stored(ROLE_NAME, INSTANCE_POLICY, instanceDocument(INSTANCE_ID, '2022-01-20T00:00:00.000Z')),
      );

    const result = await plan(instanceCredentialExfiltration());

    expect(result.status).toBe('planned');
  });

  it('does not count a same-named policy that denies another instance', async () => {
    iam
      .on(GetRolePolicyCommand, { PolicyName: INSTANCE_POLICY })
      .resolves(
        stored(ROLE_NAME, INSTANCE_POLICY, instanceDocument(OTHER_INSTANCE_ID, '2022-01-28T21:20:00.000Z')),
      );

    expect((await plan(instanceCredentialExfiltration())).status).toBe('planned');
  });

  it('plans offline with every lookup marked as would-look-up', async () => {
    iam.reset();
    iam.onAnyCommand().rejects(credentialsError());

    const result = await plan(instanceCredentialExfiltration());

    expect(result.status).toBe('planned');
    expect(result.calls[0]?.input).toEqual({
      RoleName: ROLE_NAME,
      PolicyName: INSTANCE_POLICY,
      PolicyDocument: instanceDocument(),
    });
    expect(result.lookups.map((lookup) => [lookup.status, lookup.summary])).toEqual([
      ['unavailable', `would look up GetRole ${ROLE_NAME}`],
      ['unavailable', `would look up ListRoleTags ${ROLE_NAME}`],
      ['unavailable', `would look up GetRolePolicy ${ROLE_NAME} ${INSTANCE_POLICY}`],
      ['unavailable', `would look up GetRolePolicy ${ROLE_NAME} ${REVOKE_POLICY_NAME}`],
    ]);
    // The reads that need no other's answer were sent at once; none was sent with a placeholder.
    expect(sentCommands(iam)).toEqual([
      'GetRoleCommand',
      'ListRoleTagsCommand',
      'GetRolePolicyCommand',
      'GetRolePolicyCommand',
    ]);
  });

  it('uses a placeholder role when the instance profile cannot be read offline', async () => {
    iam.on(GetInstanceProfileCommand).rejects(credentialsError());

    const result = await plan(instanceCredentialExfiltrationAsSampled());

    expect(result.calls[0]?.input).toMatchObject({
      RoleName: '<RoleName from GetInstanceProfile>',
      PolicyName: INSTANCE_POLICY,
    });
  });

  it('sends no mutating command while planning', async () => {
    await plan(instanceCredentialExfiltrationAsSampled());

    expect(sentCommands(iam, ec2)).toEqual([
      'GetInstanceProfileCommand',
      'GetRoleCommand',
      'ListRoleTagsCommand',
      'GetRolePolicyCommand',
      'GetRolePolicyCommand',
    ]);
  });
});

describe('revoke-role-sessions plan, whole role', () => {
  it('revokes the whole role for assumed-role credentials not issued to an instance', async () => {
    iam
      .on(ListInstanceProfilesForRoleCommand)
      .resolves({ InstanceProfiles: [profile('pipeline-profile', PIPELINE_ROLE)], IsTruncated: false });
    ec2.on(DescribeInstancesCommand).resolves(instances('i-0123456789abcdef0'));

    const result = await plan(torIpCallerAssumedRole());

    expect(result.status).toBe('planned');
    expect(result.calls).toEqual([
      {
        service: 'IAM',
        operation: 'PutRolePolicy',
        input: { RoleName: PIPELINE_ROLE, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: roleDocument() },
        mutating: true,
      },
    ]);
    expect(result.lookups.map((lookup) => lookup.call.operation)).toEqual([
      'GetRole',
      'ListRoleTags',
      'GetRolePolicy',
      'ListInstanceProfilesForRole',
      'DescribeInstances',
    ]);
  });

  it('counts the instances by the exact instance profile ARNs IAM returned', async () => {
    await plan(instanceCredentialExfiltration(), { params: { scope: 'role' } });

    expect(ec2.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input)).toEqual([
      {
        Filters: [
          { Name: 'iam-instance-profile.arn', Values: [INSTANCE_PROFILE_ARN] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      },
    ]);
  });

  it('refuses when more instances than limits.maxTargets would lose their sessions', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolves(instances(INSTANCE_ID, OTHER_INSTANCE_ID, 'i-0123456789abcdef0'));

    const result = await plan(instanceCredentialExfiltration(), { params: { scope: 'role' }, maxTargets: 2 });

    expect(result).toMatchObject({
      status: 'refused',
      calls: [],
      reason: `revoking every session of role ${ROLE_NAME} would cut off 3 instances that use it, more than limits.maxTargets (2); not changed (scope: instance revokes only the sessions of the instance the credentials were issued to)`,
    });
  });

  it('counts every page of instances', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({ ...instances(INSTANCE_ID, OTHER_INSTANCE_ID), NextToken: 'page-2' })
      .resolves(instances('i-0123456789abcdef0'));

    const result = await plan(instanceCredentialExfiltration(), { params: { scope: 'role' }, maxTargets: 2 });

    expect(result.status).toBe('refused');
    expect(ec2.commandCalls(DescribeInstancesCommand)[1]?.args[0].input).toMatchObject({
      NextToken: 'page-2',
    });
  });

  it('plans the whole-role policy within the limit', async () => {
    const result = await plan(instanceCredentialExfiltration(), { params: { scope: 'role' }, maxTargets: 2 });

    expect(result.calls).toEqual([
      expect.objectContaining({
        input: { RoleName: ROLE_NAME, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: roleDocument() },
      }),
    ]);
  });

  it('plans a no-op when the whole role is already revoked up to the finding update', async () => {
    iam
      .on(GetRolePolicyCommand, { PolicyName: REVOKE_POLICY_NAME })
      .resolves(stored(PIPELINE_ROLE, REVOKE_POLICY_NAME, roleDocument('2022-01-28T21:20:00.000Z')));

    const result = await plan(torIpCallerAssumedRole());

    expect(result.status).toBe('no-op');
    expect(iam.commandCalls(ListInstanceProfilesForRoleCommand)).toHaveLength(0);
  });
});

describe('revoke-role-sessions plan, protected roles', () => {
  it.each<[string, string, () => void, Partial<PrincipalProtection>?]>([
    ['OrganizationAccountAccessRole', 'built-in: organization access role', () => {}],
    [
      'AWSReservedSSO_AdministratorAccess_abc',
      'built-in: IAM Identity Center (SSO) role',
      () => {
        iam
          .on(GetRoleCommand)
          .resolves(role('AWSReservedSSO_AdministratorAccess_abc', '/aws-reserved/sso.amazonaws.com/'));
      },
    ],
    [
      'AWSServiceRoleForAutoScaling',
      'built-in: service-linked role',
      () => {
        iam
          .on(GetRoleCommand)
          .resolves(role('AWSServiceRoleForAutoScaling', '/aws-service-role/autoscaling.amazonaws.com/'));
      },
    ],
    ['stacksets-exec-123', 'built-in: StackSets execution role', () => {}],
    [
      'riposte-responder',
      'own role: Riposte runs as it',
      () => {
        // the beforeEach caller identity is assumed-role/riposte-responder
      },
    ],
    [
      'riposte-function',
      'own role: Riposte runs as it',
      () => {},
      {
        ownRoleArns: [`arn:aws:iam::${ACCOUNT}:role/riposte-function`],
      },
    ],
    [
      'RiposteMember',
      'member role: Riposte assumes it in member accounts',
      () => {},
      { memberRoleName: 'RiposteMember' },
    ],
    [
      'breakglass-admin',
      'RIPOSTE_PROTECTED_PRINCIPALS entry "arn:aws:iam::*:role/breakglass-*"',
      () => {},
      { extra: ['arn:aws:iam::*:role/breakglass-*'] },
    ],
    [
      PIPELINE_ROLE,
      'tag riposte:protected=true',
      () => {
        iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });
      },
    ],
  ])('refuses %s (%s) without any mutating call', async (name, rule, arrange, protection) => {
    arrange();

    const result = await plan(torIpCallerAssumedRole(name), { services: servicesWith(protection ?? {}) });

    expect(result).toMatchObject({
      status: 'refused',
      reason: `role ${name} is protected (${rule}); not changed`,
      calls: [],
    });
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('refuses a role that its name alone protects before reading anything of it', async () => {
    const result = await plan(torIpCallerAssumedRole('RiposteMember'), {
      services: servicesWith({ memberRoleName: 'RiposteMember' }),
    });

    expect(result).toMatchObject({ status: 'refused', lookups: [] });
    expect(sentCommands(iam, sts)).toEqual([]);
  });

  it('refuses a role name from the finding that is not a valid IAM role name', async () => {
    const result = await plan(torIpCallerAssumedRole('data pipeline*'));

    expect(result).toMatchObject({ status: 'refused', calls: [] });
    expect(result.reason).toContain('is not a valid IAM role name');
    expect(sentCommands(iam, ec2)).toEqual([]);
  });

  it('plans a no-op when the role no longer exists', async () => {
    iam.on(GetRoleCommand).rejects(noSuchEntity('The role cannot be found.'));

    const result = await plan(instanceCredentialExfiltration());

    expect(result).toMatchObject({ status: 'no-op', reason: `IAM role ${ROLE_NAME} no longer exists` });
  });
});

describe('revoke-role-sessions execute', () => {
  it('puts the instance policy with the exact document', async () => {
    iam.on(PutRolePolicyCommand).resolves({ $metadata: { requestId: 'put-1' } });

    const outcome = await run();

    expect(outcome.status).toBe('applied');
    expect(iam.commandCalls(PutRolePolicyCommand).map((call) => call.args[0].input)).toEqual([
      { RoleName: ROLE_NAME, PolicyName: INSTANCE_POLICY, PolicyDocument: instanceDocument() },
    ]);
    expect(outcome.outputs).toEqual({
      roleName: ROLE_NAME,
      scope: 'instance',
      policyNames: [INSTANCE_POLICY],
      instanceIds: [INSTANCE_ID],
      revokedBefore: NOW.toISOString(),
    });
    expect(outcome.calls.at(-1)).toMatchObject({
      operation: 'PutRolePolicy',
      requestId: 'put-1',
      mutating: true,
    });
  });

  it('keeps one policy per instance, so two instances of one role are both revoked', async () => {
    iam.on(PutRolePolicyCommand).resolves({});
    const other = instanceCredentialExfiltration();
    const key = other.resources.find((resource) => resource.kind === 'access-key');
    if (key?.kind === 'access-key') {
      key.sessionName = OTHER_INSTANCE_ID;
      key.principalId = `AROA6FLOREXAMPLEROLE1:${OTHER_INSTANCE_ID}`;
    }

    await run(instanceCredentialExfiltration());
    await run(other);

    expect(iam.commandCalls(PutRolePolicyCommand).map((call) => call.args[0].input.PolicyName)).toEqual([
      INSTANCE_POLICY,
      `RiposteRevokeInstance-${OTHER_INSTANCE_ID}`,
    ]);
    expect(iam.commandCalls(PutRolePolicyCommand)[1]?.args[0].input.PolicyDocument).toBe(
      instanceDocument(OTHER_INSTANCE_ID),
    );
  });

  it('skips when the sessions were revoked since planning', async () => {
    iam
      .on(GetRolePolicyCommand, { PolicyName: INSTANCE_POLICY })
      .rejectsOnce(noSuchEntity())
      .resolves(
        stored(ROLE_NAME, INSTANCE_POLICY, instanceDocument(INSTANCE_ID, '2022-01-28T21:25:00.000Z')),
      );

    const outcome = await run();

    expect(outcome.status).toBe('skipped');
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('fails with PRINCIPAL_PROTECTED when the role was tagged protected since planning', async () => {
    iam
      .on(ListRoleTagsCommand)
      .resolvesOnce({ Tags: [] })
      .resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const outcome = await run();

    expect(outcome).toMatchObject({
      status: 'failed',
      error: {
        code: 'PRINCIPAL_PROTECTED',
        retryable: false,
        message: `role ${ROLE_NAME} is protected (tag riposte:protected=true); not changed`,
      },
    });
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('fails closed when the identity Riposte runs as cannot be read', async () => {
    sts.on(GetCallerIdentityCommand).rejects(new Error('connect ETIMEDOUT'));

    const outcome = await run();

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PROTECTION_UNVERIFIED' } });
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('fails closed when ListRoleTags is denied', async () => {
    iam.on(ListRoleTagsCommand).rejects(denied('ListRoleTags'));
    const ctx = contextFor(revokeRoleSessions, instanceCredentialExfiltration());

    const outcome = await revokeRoleSessions.execute(ctx, {
      status: 'planned',
      lookups: [],
      calls: [],
    });

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'PROTECTION_UNVERIFIED', retryable: false, details: { causeCode: 'AccessDenied' } },
    });
    // The policies were read alongside the protection check; the refusal wins over what they found.
    expect(outcome.calls.map((call) => [call.operation, call.errorCode])).toEqual([
      ['GetRole', undefined],
      ['ListRoleTags', 'AccessDenied'],
      ['GetRolePolicy', 'NoSuchEntityException'],
      ['GetRolePolicy', 'NoSuchEntityException'],
    ]);
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('fails with BLAST_RADIUS_EXCEEDED when more instances took up the role since planning', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce(instances(INSTANCE_ID))
      .resolves(instances(INSTANCE_ID, OTHER_INSTANCE_ID, 'i-0123456789abcdef0'));

    const outcome = await run(instanceCredentialExfiltration(), { params: { scope: 'role' }, maxTargets: 2 });

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'BLAST_RADIUS_EXCEEDED', details: { roleName: ROLE_NAME, instances: 3, maxTargets: 2 } },
    });
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('fails with AccessDenied, not retryable, when IAM refuses the policy', async () => {
    iam.on(PutRolePolicyCommand).rejects(denied('PutRolePolicy'));

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

  it('refuses to mutate in dry-run mode', async () => {
    const outcome = await run(instanceCredentialExfiltration(), { mode: 'dry-run' });

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = revokeRoleSessions;
  if (!hasInverse(undo)) throw new Error('revoke-role-sessions declares no inverse');
  return undo;
})();

/** A console-style revocation older than the finding's last update (2022-01-28T21:12:25Z). */
const OLDER = '2022-01-01T00:00:00.000Z';

const roleTarget = (): ActionTarget =>
  revokeRoleSessions.targets(instanceCredentialExfiltration(), {}).targets[0]!;
const instanceTarget = (): ActionTarget =>
  revokeRoleSessions.targets(instanceCredentialExfiltrationAsSampled(), {}).targets[0]!;

/** What an enforced instance-scoped step records on a role that had no policy of that name. */
const recorded = (): RevokeRoleSessionsUndo => ({
  roleName: ROLE_NAME,
  policies: [{ policyName: INSTANCE_POLICY, document: instanceDocument(), previous: 'none' }],
});

/** What an enforced whole-role step records on a role that held an older console revocation. */
const recordedWholeRole = (): RevokeRoleSessionsUndo => ({
  roleName: ROLE_NAME,
  policies: [
    { policyName: REVOKE_POLICY_NAME, document: roleDocument(), previous: { document: roleDocument(OLDER) } },
  ],
});

interface UndoOptions {
  mode?: EngineMode;
  target?: ActionTarget;
  services?: ReturnType<typeof createAwsServices>;
}

const undoContext = (
  state: unknown,
  options: UndoOptions = {},
): InverseContext<UndoState, ReturnType<typeof createAwsServices>> => ({
  findingId: instanceCredentialExfiltration().id,
  target: options.target ?? roleTarget(),
  state: state as UndoState,
  services: options.services ?? createAwsServices({ env: {} }),
  mode: options.mode ?? 'enforce',
  now: NOW,
});

const undo = async (state: unknown = recorded(), options: UndoOptions = {}) => {
  const ctx = undoContext(state, options);
  const planned = await inverse.plan(ctx);
  return { plan: planned, outcome: await inverse.execute(ctx, planned) };
};

/**
 * The role's inline policies, changed as the calls made to them say: what IAM answers is what was
 * put, URL-encoded as IAM returns it.
 */
const policiesHeld = (initial: Record<string, string> = {}) => {
  const held = new Map(Object.entries(initial));
  iam.on(GetRolePolicyCommand).callsFake((input: { RoleName: string; PolicyName: string }) => {
    const document = held.get(input.PolicyName);
    if (document === undefined) throw noSuchEntity();
    return stored(input.RoleName, input.PolicyName, document);
  });
  iam.on(PutRolePolicyCommand).callsFake((input: { PolicyName: string; PolicyDocument: string }) => {
    held.set(input.PolicyName, input.PolicyDocument);
    return {};
  });
  iam.on(DeleteRolePolicyCommand).callsFake((input: { PolicyName: string }) => {
    held.delete(input.PolicyName);
    return {};
  });
  return { now: () => Object.fromEntries(held) };
};

describe('revoke-role-sessions undo: what the step records', () => {
  it('records the role, the instance policy it put and that there was none before', async () => {
    iam.on(PutRolePolicyCommand).resolves({});

    const outcome = await run();

    expect(outcome.undo).toEqual(recorded());
    expect(createRegistry().validateUndoState('revoke-role-sessions', outcome.undo)).toEqual([]);
  });

  it('records the policy of that name that was there before, decoded', async () => {
    policiesHeld({ [REVOKE_POLICY_NAME]: roleDocument(OLDER) });

    const outcome = await run(instanceCredentialExfiltration(), { params: { scope: 'role' } });

    expect(outcome.status).toBe('applied');
    expect(outcome.undo).toEqual(recordedWholeRole());
  });

  it('records an older revocation of the same instance as what to put back', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument(INSTANCE_ID, OLDER) });

    const outcome = await run();

    expect(outcome.undo).toEqual({
      roleName: ROLE_NAME,
      policies: [
        {
          policyName: INSTANCE_POLICY,
          document: instanceDocument(),
          previous: { document: instanceDocument(INSTANCE_ID, OLDER) },
        },
      ],
    });
  });

  it('records nothing when the sessions were already revoked', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument() });

    const outcome = await run();

    expect(outcome.status).toBe('skipped');
    expect(outcome.undo).toBeUndefined();
  });
});

describe('revoke-role-sessions undo: plan', () => {
  it('plans to delete the policy Riposte put, while the role holds exactly its document', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument() });

    const result = await inverse.plan(undoContext(recorded()));

    expect(result.status).toBe('planned');
    expect(result.calls).toEqual([
      {
        service: 'IAM',
        operation: 'DeleteRolePolicy',
        input: { RoleName: ROLE_NAME, PolicyName: INSTANCE_POLICY },
        mutating: true,
      },
    ]);
    expect(result.lookups.map((lookup) => [lookup.call.operation, lookup.summary])).toEqual([
      ['GetRole', `role arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME} (path /)`],
      ['ListRoleTags', `role ${ROLE_NAME}: 1 tag(s), no riposte:protected`],
      ['GetRolePolicy', `${INSTANCE_POLICY} is the document Riposte put`],
    ]);
  });

  it('plans to put back the policy of that name that was there before', async () => {
    policiesHeld({ [REVOKE_POLICY_NAME]: roleDocument() });

    const result = await inverse.plan(undoContext(recordedWholeRole()));

    expect(result.calls).toEqual([
      {
        service: 'IAM',
        operation: 'PutRolePolicy',
        input: { RoleName: ROLE_NAME, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: roleDocument(OLDER) },
        mutating: true,
      },
    ]);
  });

  it('recognises the document it put whatever the spacing and key order IAM returns', async () => {
    const { Version, Statement } = JSON.parse(instanceDocument()) as { Version: string; Statement: unknown };
    policiesHeld({ [INSTANCE_POLICY]: JSON.stringify({ Statement, Version }, null, 2) });

    const result = await inverse.plan(undoContext(recorded()));

    expect(result.status).toBe('planned');
  });

  it('plans a no-op when the policy is already gone and there was none before', async () => {
    const result = await inverse.plan(undoContext(recorded()));

    expect(result).toMatchObject({
      status: 'no-op',
      reason: `the inline policies ${INSTANCE_POLICY} of role ${ROLE_NAME} are already as before the response`,
      calls: [],
    });
  });

  it('plans a no-op when the previous policy is already back', async () => {
    policiesHeld({ [REVOKE_POLICY_NAME]: roleDocument(OLDER) });

    const result = await inverse.plan(undoContext(recordedWholeRole()));

    expect(result.status).toBe('no-op');
  });

  it('refuses when someone changed the policy since, and changes nothing', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument(INSTANCE_ID, '2022-02-01T00:00:00.000Z') });

    const { plan: result, outcome } = await undo();

    expect(result).toMatchObject({
      status: 'refused',
      reason: `the inline policies of role ${ROLE_NAME} changed since the response: ${INSTANCE_POLICY} differs from the document Riposte put; not restored`,
      calls: [],
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(sentCommands(iam).filter((name) => /^(Put|Delete)/.test(name))).toEqual([]);
  });

  it('refuses when someone deleted the policy since, though one was there before', async () => {
    const result = await inverse.plan(undoContext(recordedWholeRole()));

    expect(result).toMatchObject({ status: 'refused' });
    expect(result.reason).toContain(`${REVOKE_POLICY_NAME} was deleted since the response`);
  });

  it('refuses the whole undo when one of its policies changed since', async () => {
    const other = `RiposteRevokeInstance-${OTHER_INSTANCE_ID}`;
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument(), [other]: roleDocument() });
    const state: RevokeRoleSessionsUndo = {
      roleName: ROLE_NAME,
      policies: [
        ...recorded().policies,
        { policyName: other, document: instanceDocument(OTHER_INSTANCE_ID), previous: 'none' },
      ],
    };

    const { plan: result, outcome } = await undo(state);

    expect(result.status).toBe('refused');
    expect(outcome.status).toBe('failed');
    expect(sentCommands(iam).filter((name) => /^(Put|Delete)/.test(name))).toEqual([]);
  });

  it('refuses a role tagged riposte:protected=true, as the action does', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument() });
    iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const { plan: result, outcome } = await undo();

    expect(result).toMatchObject({
      status: 'refused',
      reason: `role ${ROLE_NAME} is protected (tag riposte:protected=true); not changed`,
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PRINCIPAL_PROTECTED' } });
    expect(iam.commandCalls(GetRolePolicyCommand)).toHaveLength(0);
  });

  it('refuses a role RIPOSTE_PROTECTED_PRINCIPALS names, before any lookup', async () => {
    const result = await inverse.plan(
      undoContext(recorded(), { services: servicesWith({ extra: ['app-server-*'] }) }),
    );

    expect(result).toMatchObject({
      status: 'refused',
      reason: `role ${ROLE_NAME} is protected (RIPOSTE_PROTECTED_PRINCIPALS entry "app-server-*"); not changed`,
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('plans a no-op when the role no longer exists', async () => {
    iam.on(GetRoleCommand).rejects(noSuchEntity('The role cannot be found.'));

    const result = await inverse.plan(undoContext(recorded()));

    expect(result).toMatchObject({
      status: 'no-op',
      reason: `IAM role ${ROLE_NAME} no longer exists; nothing to restore`,
    });
  });

  it('plans the restore offline, listing the lookups it would make', async () => {
    iam.reset();
    iam.onAnyCommand().rejects(credentialsError());

    const result = await inverse.plan(undoContext(recorded()));

    expect(result.status).toBe('planned');
    expect(result.lookups.map((lookup) => [lookup.status, lookup.summary])).toEqual([
      ['unavailable', `would look up GetRole ${ROLE_NAME}`],
      ['unavailable', `would look up ListRoleTags ${ROLE_NAME}`],
      ['unavailable', `would look up GetRolePolicy ${ROLE_NAME} ${INSTANCE_POLICY}`],
    ]);
  });
});

describe('revoke-role-sessions undo: execute', () => {
  it('deletes the policy Riposte put', async () => {
    const policies = policiesHeld({ [INSTANCE_POLICY]: instanceDocument() });

    const { outcome } = await undo();

    expect(outcome.status).toBe('applied');
    expect(iam.commandCalls(DeleteRolePolicyCommand).map((call) => call.args[0].input)).toEqual([
      { RoleName: ROLE_NAME, PolicyName: INSTANCE_POLICY },
    ]);
    expect(policies.now()).toEqual({});
  });

  it('puts back the policy it replaced', async () => {
    const policies = policiesHeld({ [REVOKE_POLICY_NAME]: roleDocument() });

    const { outcome } = await undo(recordedWholeRole());

    expect(outcome.status).toBe('applied');
    expect(policies.now()).toEqual({ [REVOKE_POLICY_NAME]: roleDocument(OLDER) });
  });

  it('skips when run again: the policies are already as before', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument() });
    await undo();

    const { outcome } = await undo();

    expect(outcome.status).toBe('skipped');
    expect(iam.commandCalls(DeleteRolePolicyCommand)).toHaveLength(1);
  });

  it.each<[string, Record<string, string>]>([
    ['no policy of that name', {}],
    ['an older instance revocation', { [INSTANCE_POLICY]: instanceDocument(INSTANCE_ID, OLDER) }],
    ['another policy next to it', { ReadOnlyDebugging: roleDocument(OLDER) }],
  ])('round-trips on a role with %s: its inline policies end exactly as before', async (_name, before) => {
    const policies = policiesHeld(before);
    const revoked = await run();
    expect(policies.now()).not.toEqual(before);

    const { outcome } = await undo(revoked.undo);

    expect(outcome.status).toBe('applied');
    expect(policies.now()).toEqual(before);
  });

  it('round-trips a whole-role revocation over the console policy it replaced', async () => {
    const before = { [REVOKE_POLICY_NAME]: roleDocument(OLDER) };
    const policies = policiesHeld(before);
    const revoked = await run(instanceCredentialExfiltration(), { params: { scope: 'role' } });

    const { outcome } = await undo(revoked.undo);

    expect(outcome.status).toBe('applied');
    expect(policies.now()).toEqual(before);
  });

  it('undoes a step on a credential-source instance target', async () => {
    const policies = policiesHeld();
    const ctx = contextFor(revokeRoleSessions, instanceCredentialExfiltrationAsSampled());
    const revoked = await revokeRoleSessions.execute(ctx, await revokeRoleSessions.plan(ctx));

    const { outcome } = await undo(revoked.undo, { target: instanceTarget() });

    expect(outcome.status).toBe('applied');
    expect(policies.now()).toEqual({});
  });

  it('fails with AccessDenied when IAM refuses the delete', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument() });
    iam.on(DeleteRolePolicyCommand).rejects(denied('DeleteRolePolicy'));

    const { outcome } = await undo();

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AccessDenied', retryable: false } });
  });

  it('makes no mutating call in dry-run: the plan lists it, execute refuses to send it', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument() });

    const { plan: result, outcome } = await undo(recorded(), { mode: 'dry-run' });

    expect(result.calls.map((call) => call.operation)).toEqual(['DeleteRolePolicy']);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(sentCommands(iam).filter((name) => /^(Put|Delete)/.test(name))).toEqual([]);
  });

  it('sends only calls its permissions allow, and needs each of them', async () => {
    policiesHeld({ [INSTANCE_POLICY]: instanceDocument(), [REVOKE_POLICY_NAME]: roleDocument() });
    await undo();
    await undo(recordedWholeRole());

    const needed = new Set(sentCommands(iam).map((name) => `iam:${name.replace(/Command$/, '')}`));

    expect([...needed].sort()).toEqual([...inverse.permissions].sort());
  });
});

describe('revoke-role-sessions undo: an untrusted recorded state', () => {
  const registry = createRegistry([revokeRoleSessions]);
  const policy = recorded().policies[0]!;

  it.each([
    [{ ...recorded(), roleName: 'app-server-*' }, '/roleName'],
    [{ ...recorded(), policies: [] }, '/policies'],
    [
      { ...recorded(), policies: [{ ...policy, policyName: 'AdministratorAccess' }] },
      '/policies/0/policyName',
    ],
    [{ ...recorded(), policies: [{ ...policy, previous: 'some' }] }, '/policies/0/previous'],
    [
      { ...recorded(), policies: [{ ...policy, previous: { document: '' } }] },
      '/policies/0/previous/document',
    ],
    [
      {
        ...recorded(),
        policies: [{ ...policy, managedPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }],
      },
      '/policies/0/managedPolicyArn',
    ],
    [{ roleName: ROLE_NAME }, '/policies'],
  ])('is refused by validateUndoState: %j', (state, pointer) => {
    const problems = registry.validateUndoState('revoke-role-sessions', state);

    expect(problems.map((problem) => problem.pointer)).toContain(pointer);
  });

  it('refuses to put back a previous document that allows anything, without any call', async () => {
    const allowAll = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    });
    const state = { ...recorded(), policies: [{ ...policy, previous: { document: allowAll } }] };
    expect(registry.validateUndoState('revoke-role-sessions', state)).toEqual([]);

    const { plan: result, outcome } = await undo(state);

    expect(result).toMatchObject({ status: 'refused', lookups: [], calls: [] });
    expect(result.reason).toContain(
      `the recorded previous document of ${INSTANCE_POLICY} is not a policy that only denies`,
    );
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses a recorded document that is not a revocation Riposte writes, without any call', async () => {
    const state = {
      ...recorded(),
      policies: [
        {
          ...policy,
          document: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
        },
      ],
    };

    const result = await inverse.plan(undoContext(state));

    expect(result).toMatchObject({ status: 'refused', lookups: [] });
    expect(result.reason).toContain(`the recorded document of ${INSTANCE_POLICY} is not a revocation policy`);
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses a recorded role that is not the recorded target, without any call', async () => {
    const result = await inverse.plan(undoContext({ ...recorded(), roleName: PIPELINE_ROLE }));

    expect(result).toMatchObject({ status: 'refused', lookups: [] });
    expect(result.reason).toContain(`is not the recorded target "${ROLE_NAME}"`);
    expect(iam.calls()).toHaveLength(0);
  });

  it("refuses another instance's policy on an instance target, without any call", async () => {
    const state = {
      ...recorded(),
      policies: [{ ...policy, policyName: `RiposteRevokeInstance-${OTHER_INSTANCE_ID}` }],
    };

    const result = await inverse.plan(undoContext(state, { target: instanceTarget() }));

    expect(result).toMatchObject({ status: 'refused', lookups: [] });
    expect(result.reason).toContain(`is not the one of the recorded instance ${INSTANCE_ID}`);
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses a policy recorded twice, without any call', async () => {
    const result = await inverse.plan(undoContext({ ...recorded(), policies: [policy, policy] }));

    expect(result).toMatchObject({ status: 'refused', lookups: [] });
    expect(result.reason).toContain('a policy is recorded twice');
  });
});
