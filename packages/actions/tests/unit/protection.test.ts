import {
  GetRoleCommand,
  GetUserCommand,
  IAMClient,
  IAMServiceException,
  ListRoleTagsCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { revokeRoleSessions } from '../../src/actions/revoke-role-sessions.js';
import { createAwsServices, type PrincipalProtection } from '../../src/clients.js';
import { checkPrincipal, globMatch, type PrincipalKind } from '../../src/protection.js';
import { ExecSession, PlanSession, type Session } from '../../src/session.js';
import { contextFor, credentialsError } from '../helpers/context.js';
import { ACCOUNT, torIpCallerAssumedRole } from '../helpers/findings.js';

const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);

const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-responder/riposte`;

const role = (name: string, path = '/') => ({
  Role: {
    RoleName: name,
    Path: path,
    Arn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
    RoleId: 'AROAQNOTREALROLEID12',
    CreateDate: new Date('2021-06-01T00:00:00Z'),
  },
});

const denied = (operation: string) =>
  new IAMServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
    message: `User is not authorized to perform: iam:${operation}`,
  });

/** Runs the check for a role (or user) named in a real-shaped finding, in plan or execute. */
const check = (
  name: string,
  options: { kind?: PrincipalKind; session?: Session; protection?: Partial<PrincipalProtection> } = {},
) => {
  const services = createAwsServices({
    env: {},
    protection: { ownRoleArns: [], extra: [], ...options.protection },
  });
  const ctx = contextFor(revokeRoleSessions, torIpCallerAssumedRole(), { services });
  return checkPrincipal(ctx, options.session ?? new PlanSession(), options.kind ?? 'role', name);
};

beforeEach(() => {
  iam.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: CALLER });
  iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => role(input.RoleName));
  iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'team', Value: 'data' }], IsTruncated: false });
  iam.on(GetUserCommand).callsFake((input: { UserName: string }) => ({
    User: {
      UserName: input.UserName,
      Path: '/',
      Arn: `arn:aws:iam::${ACCOUNT}:user/${input.UserName}`,
      UserId: 'AIDA6FLOREXAMPLEUSER2',
      CreateDate: new Date('2021-06-01T00:00:00Z'),
    },
  }));
  iam.on(ListUserTagsCommand).resolves({ Tags: [], IsTruncated: false });
});
afterAll(() => {
  iam.restore();
  sts.restore();
});

describe('globMatch', () => {
  it.each([
    ['breakglass', 'breakglass', true],
    ['breakglass', 'breakglass-admin', false],
    ['breakglass-*', 'breakglass-admin', true],
    ['*-admin', 'breakglass-admin', true],
    ['break?lass', 'breakglass', true],
    ['break?lass', 'breaklass', false],
    ['*', '', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXcYb', false],
    ['arn:aws:iam::*:role/admins/*', 'arn:aws:iam::973743533182:role/admins/alice', true],
    ['arn:aws:iam::*:role/admins/*', 'arn:aws:iam::973743533182:role/alice', false],
    ['a.b', 'aXb', false],
    ['(a+)+$', '(a+)+$', true],
  ])('matches %s against %s: %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('answers at once for a pattern that would make a backtracking matcher crawl', () => {
    const started = performance.now();

    expect(globMatch(`${'*a'.repeat(40)}b`, 'a'.repeat(2000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('checkPrincipal: built-in protection', () => {
  it('allows an ordinary role and hands back its tags as IAM returned them', async () => {
    const session = new PlanSession();

    const verdict = await check('data-pipeline-role', { session });

    expect(verdict).toEqual({
      status: 'allowed',
      principal: {
        kind: 'role',
        name: 'data-pipeline-role',
        path: '/',
        arn: `arn:aws:iam::${ACCOUNT}:role/data-pipeline-role`,
      },
      tags: [{ Key: 'team', Value: 'data' }],
    });
    expect(session.lookups.map((lookup) => [lookup.call.operation, lookup.status])).toEqual([
      ['GetRole', 'done'],
      ['ListRoleTags', 'done'],
    ]);
  });

  it('refuses OrganizationAccountAccessRole before looking anything up', async () => {
    const session = new PlanSession();

    const verdict = await check('OrganizationAccountAccessRole', { session });

    expect(verdict).toMatchObject({
      status: 'refused',
      reason:
        'role OrganizationAccountAccessRole is protected (built-in: organization access role); not changed',
      error: { code: 'PRINCIPAL_PROTECTED', retryable: false },
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses a protected name whatever its case, as IAM names ignore case', async () => {
    const verdict = await check('organizationaccountaccessrole');

    expect(verdict).toMatchObject({ status: 'refused', error: { code: 'PRINCIPAL_PROTECTED' } });
  });

  it.each([
    [
      'AWSReservedSSO_AdministratorAccess_abc',
      '/aws-reserved/sso.amazonaws.com/',
      'IAM Identity Center (SSO) role',
    ],
    ['AWSServiceRoleForAutoScaling', '/aws-service-role/autoscaling.amazonaws.com/', 'service-linked role'],
    ['custom-reserved', '/aws-reserved/', 'AWS-reserved role'],
    ['stacksets-exec-123', '/', 'StackSets execution role'],
    ['AWSCloudFormationStackSetExecutionRole', '/', 'StackSets execution role'],
    ['AWSControlTowerExecution', '/', 'Control Tower execution role'],
  ])('refuses %s (path %s) as a %s', async (name, path, rule) => {
    iam.on(GetRoleCommand).resolves(role(name, path));

    const verdict = await check(name);

    expect(verdict).toMatchObject({
      status: 'refused',
      reason: `role ${name} is protected (built-in: ${rule}); not changed`,
    });
  });

  it('uses the path IAM returns: a service-linked role is refused only once GetRole shows its path', async () => {
    iam.on(GetRoleCommand).resolves(role('innocent-looking', '/aws-service-role/ec2.amazonaws.com/'));
    const session = new PlanSession();

    const verdict = await check('innocent-looking', { session });

    expect(verdict).toMatchObject({ status: 'refused', reason: expect.stringContaining('service-linked') });
    expect(session.lookups.map((lookup) => lookup.call.operation)).toEqual(['GetRole', 'ListRoleTags']);
  });

  it('does not apply the built-in role names to IAM users', async () => {
    const verdict = await check('OrganizationAccountAccessRole', { kind: 'user' });

    expect(verdict.status).toBe('allowed');
  });
});

describe('checkPrincipal: what Riposte runs as', () => {
  it('refuses the role the caller identity says Riposte runs as', async () => {
    const verdict = await check('riposte-responder');

    expect(verdict).toMatchObject({
      status: 'refused',
      reason: 'role riposte-responder is protected (own role: Riposte runs as it); not changed',
    });
  });

  it('does not take a same-named role in another account for its own', async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: '111122223333',
      Arn: 'arn:aws:sts::111122223333:assumed-role/data-pipeline-role/riposte',
    });

    expect((await check('data-pipeline-role')).status).toBe('allowed');
  });

  it('refuses a role listed in ownRoleArns, whatever its path', async () => {
    const verdict = await check('riposte-function', {
      protection: { ownRoleArns: [`arn:aws:iam::${ACCOUNT}:role/service-role/riposte-function`] },
    });

    expect(verdict).toMatchObject({
      status: 'refused',
      reason: 'role riposte-function is protected (own role: Riposte runs as it); not changed',
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses the IAM user Riposte runs as', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops/riposte-ci` });

    const verdict = await check('riposte-ci', { kind: 'user' });

    expect(verdict).toMatchObject({
      status: 'refused',
      reason: 'user riposte-ci is protected (own user: Riposte runs as it); not changed',
    });
  });

  it('refuses the member role in every account, by the last segment of its name', async () => {
    const verdict = await check('RiposteMember', {
      protection: { memberRoleName: 'security/RiposteMember' },
    });

    expect(verdict).toMatchObject({
      status: 'refused',
      reason:
        'role RiposteMember is protected (member role: Riposte assumes it in member accounts); not changed',
    });
  });
});

describe('checkPrincipal: operators and tags', () => {
  it('refuses a role matching an ARN pattern of RIPOSTE_PROTECTED_PRINCIPALS, path included', async () => {
    iam.on(GetRoleCommand).resolves(role('alice', '/breakglass/'));

    const verdict = await check('alice', { protection: { extra: ['arn:aws:iam::*:role/breakglass/*'] } });

    expect(verdict).toMatchObject({
      status: 'refused',
      reason:
        'role alice is protected (RIPOSTE_PROTECTED_PRINCIPALS entry "arn:aws:iam::*:role/breakglass/*"); not changed',
    });
  });

  it('refuses a name pattern of RIPOSTE_PROTECTED_PRINCIPALS without looking anything up', async () => {
    const verdict = await check('Admin-BreakGlass', { protection: { extra: ['  ', 'admin-*'] } });

    expect(verdict).toMatchObject({
      status: 'refused',
      error: { details: { rule: expect.stringContaining('admin-*') } },
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('leaves a principal alone that no pattern matches (another account, another kind)', async () => {
    const verdict = await check('data-pipeline-role', {
      protection: { extra: ['arn:aws:iam::111122223333:role/*', `arn:aws:iam::${ACCOUNT}:user/*`] },
    });

    expect(verdict.status).toBe('allowed');
  });

  it('refuses a principal tagged riposte:protected=true', async () => {
    iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'True' }] });
    const session = new PlanSession();

    const verdict = await check('data-pipeline-role', { session });

    expect(verdict).toMatchObject({
      status: 'refused',
      reason: 'role data-pipeline-role is protected (tag riposte:protected=true); not changed',
    });
    expect(session.lookups.at(-1)?.summary).toBe('role data-pipeline-role: 1 tag(s), riposte:protected=True');
  });

  it('ignores riposte:protected with another value', async () => {
    iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'false' }] });

    expect((await check('data-pipeline-role')).status).toBe('allowed');
  });

  it('refuses a name from the finding that is not a valid IAM name, without any call', async () => {
    const verdict = await check('data-*');

    expect(verdict).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('"data-*" is not a valid IAM role name'),
      error: { code: 'REFUSED' },
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('reports a role that no longer exists', async () => {
    iam.on(GetRoleCommand).rejects(
      new NoSuchEntityException({
        message: 'The role cannot be found.',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    expect(await check('data-pipeline-role')).toEqual({
      status: 'absent',
      reason: 'IAM role data-pipeline-role no longer exists',
    });
  });
});

describe('checkPrincipal: fail closed', () => {
  it('plans offline with would-look-up lookups, whatever STS says', async () => {
    iam.reset();
    iam.onAnyCommand().rejects(credentialsError());
    sts.on(GetCallerIdentityCommand).rejects(credentialsError());
    const session = new PlanSession();

    const verdict = await check('data-pipeline-role', { session });

    expect(verdict).toEqual({
      status: 'allowed',
      principal: { kind: 'role', name: 'data-pipeline-role' },
      tags: undefined,
    });
    expect(session.lookups.map((lookup) => [lookup.status, lookup.summary])).toEqual([
      ['unavailable', 'would look up GetRole data-pipeline-role'],
      ['unavailable', 'would look up ListRoleTags data-pipeline-role'],
    ]);
  });

  it('refuses while executing when the caller identity cannot be read', async () => {
    sts.on(GetCallerIdentityCommand).rejects(new Error('connect ETIMEDOUT'));

    const verdict = await check('data-pipeline-role', { session: new ExecSession('enforce') });

    expect(verdict).toMatchObject({
      status: 'refused',
      reason:
        'cannot tell whether role data-pipeline-role is protected: the identity Riposte runs as (sts:GetCallerIdentity) could not be read; not changed',
      error: { code: 'PROTECTION_UNVERIFIED', retryable: false },
    });
  });

  it('refuses while executing when the tags cannot be read, keeping the call in the record', async () => {
    iam.on(ListRoleTagsCommand).rejects(denied('ListRoleTags'));
    const session = new ExecSession('enforce');

    const verdict = await check('data-pipeline-role', { session });

    expect(verdict).toMatchObject({
      status: 'refused',
      reason:
        'cannot tell whether role data-pipeline-role is protected: ListRoleTags failed (AccessDenied); not changed',
      error: { code: 'PROTECTION_UNVERIFIED', retryable: false, details: { causeCode: 'AccessDenied' } },
    });
    expect(session.calls.map((call) => [call.operation, call.errorCode])).toEqual([
      ['GetRole', undefined],
      ['ListRoleTags', 'AccessDenied'],
    ]);
  });

  it('fails the plan (not a silent pass) when the tags cannot be read while planning', async () => {
    iam.on(ListRoleTagsCommand).rejects(denied('ListRoleTags'));

    await expect(check('data-pipeline-role')).rejects.toMatchObject({ error: { code: 'AccessDenied' } });
  });

  it('keeps a throttled read retryable', async () => {
    iam.on(GetUserCommand).rejects(
      new IAMServiceException({
        name: 'Throttling',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );

    const verdict = await check('ci-deployer', { kind: 'user', session: new ExecSession('enforce') });

    expect(verdict).toMatchObject({ error: { code: 'PROTECTION_UNVERIFIED', retryable: true } });
  });
});
