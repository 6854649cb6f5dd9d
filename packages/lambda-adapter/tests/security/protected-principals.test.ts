import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/bundle-runner.js';
import {
  type AccessKeyDetails,
  bundleSuite,
  codesOf,
  enforceEnv,
  type GuardDutyEvent,
  invocations,
  notificationsAbout,
  reidentified,
  resultsOf,
  SCENARIO,
  scenarioEvent,
  scenarioFake,
} from './support.js';

/**
 * DESIGN.md, Trust: never act on protected principals (the function's own role, the member role,
 * organization and SSO roles, break-glass). GuardDuty itself may report their credentials as
 * misused, by accident or because an attacker arranged it so that Riposte locks the owners out: the
 * finding is genuine, the principal still is not touched, and the people told are told why.
 */

bundleSuite();

const OWN_ROLE = 'riposte-responder'; // SCENARIO.callerArn: assumed-role/riposte-responder/riposte
const ORGANIZATION_ROLE = 'OrganizationAccountAccessRole';
const SSO_ROLE = 'AWSReservedSSO_AdministratorAccess_0123456789abcdef';
const BREAK_GLASS_ROLE = 'BreakGlassAdmin';
const MEMBER_ROLE = 'riposte-member';
const BREAK_GLASS_USER = 'breakglass-oncall';
const BREAK_GLASS_KEY = 'AKIAEXAMPLEBREAKGLS1';
const PROTECTED_PRINCIPALS = `${BREAK_GLASS_ROLE},arn:aws:iam::${SCENARIO.accountId}:user/breakglass-*`;

/** The scenario's S3 exfiltration finding, by another principal's credentials. */
const exfiltrationBy = (label: string, key: AccessKeyDetails): GuardDutyEvent => {
  const event = reidentified(scenarioEvent(2), label);
  event.detail.resource.accessKeyDetails = key;
  return event;
};

const assumedRole = (roleName: string, session: string, roleId: string): AccessKeyDetails => ({
  accessKeyId: `ASIA${roleId.slice(4)}`,
  principalId: `${roleId}:${session}`,
  userType: 'AssumedRole',
  userName: roleName,
});

const IAM_CHANGES = ['PutRolePolicy', 'DeleteRolePolicy', 'TagRole', 'UpdateAccessKey', 'TagUser'];

describe('protected principals named by genuine findings', () => {
  it('changes no organization, SSO, break-glass, own or member role, nor a break-glass user key, and says so in the notification', async () => {
    // Arrange: GuardDuty reports each principal's credentials exfiltrating S3 data. The unchanged
    // scenario finding comes first: the same playbook does revoke an ordinary role's sessions.
    const control = scenarioEvent(2);
    const cases = [
      {
        principal: ORGANIZATION_ROLE,
        event: exfiltrationBy(
          'protected-organization-role',
          assumedRole(ORGANIZATION_ROLE, 'admin-session', 'AROAEXAMPLEORGROLE001'),
        ),
      },
      {
        // The instance-credential playbook also tags the role it names.
        principal: ORGANIZATION_ROLE,
        event: (() => {
          const event = reidentified(scenarioEvent(1), 'protected-organization-role-instance');
          event.detail.resource.accessKeyDetails!.userName = ORGANIZATION_ROLE;
          return event;
        })(),
      },
      {
        principal: SSO_ROLE,
        event: exfiltrationBy(
          'protected-sso-role',
          assumedRole(SSO_ROLE, 'alice@example.com', 'AROAEXAMPLESSOROLE001'),
        ),
      },
      {
        principal: BREAK_GLASS_ROLE,
        event: exfiltrationBy(
          'protected-break-glass-role',
          assumedRole(BREAK_GLASS_ROLE, 'incident-42', 'AROAEXAMPLEBREAKGL001'),
        ),
      },
      {
        principal: OWN_ROLE,
        event: exfiltrationBy(
          'protected-own-role',
          assumedRole(OWN_ROLE, 'riposte', 'AROAEXAMPLERIPOSTE001'),
        ),
      },
      {
        principal: MEMBER_ROLE,
        event: exfiltrationBy(
          'protected-member-role',
          assumedRole(MEMBER_ROLE, 'riposte-0123456789abcdef', 'AROAEXAMPLEMEMBER0001'),
        ),
      },
      {
        principal: BREAK_GLASS_USER,
        event: exfiltrationBy('protected-break-glass-user', {
          accessKeyId: BREAK_GLASS_KEY,
          principalId: 'AIDAEXAMPLEBREAKGLS01',
          userType: 'IAMUser',
          userName: BREAK_GLASS_USER,
        }),
      },
    ];
    const events = [control, ...cases.map((item) => item.event)];
    const fake = await scenarioFake({
      genuine: events,
      seed: (seed) => {
        seed.roles?.push(
          { name: ORGANIZATION_ROLE, description: 'Created by AWS Organizations' },
          { name: SSO_ROLE, path: '/aws-reserved/sso.amazonaws.com/', description: 'IAM Identity Center' },
          { name: BREAK_GLASS_ROLE, description: 'Break-glass administrator' },
          { name: OWN_ROLE, description: 'Riposte (the function itself)' },
          { name: MEMBER_ROLE, description: 'Riposte in member accounts' },
        );
        seed.users?.push({
          name: BREAK_GLASS_USER,
          accessKeys: [{ accessKeyId: BREAK_GLASS_KEY, status: 'Active' }],
        });
      },
    });

    // Act
    const run = await runBundle(
      enforceEnv(fake, {
        RIPOSTE_PROTECTED_PRINCIPALS: PROTECTED_PRINCIPALS,
        RIPOSTE_MEMBER_ROLE: MEMBER_ROLE,
        RIPOSTE_ACCOUNTS: `${SCENARIO.accountId},444455556666`,
      }),
      invocations(events),
    );

    // Assert
    expect(run.initError).toBeUndefined();
    expect(codesOf(run)).toEqual(events.map(() => ['HANDLED']));
    const iamChanges = fake.calls.filter(
      (call) => call.service === 'IAM' && IAM_CHANGES.includes(call.operation),
    );
    // The control: the ordinary role's sessions are revoked.
    expect(
      iamChanges.some(
        (call) => call.operation === 'PutRolePolicy' && call.params.RoleName === SCENARIO.roleName,
      ),
    ).toBe(true);
    // No change to any protected principal was even attempted.
    const protectedNames = cases.map((item) => item.principal);
    expect(
      iamChanges.filter((call) =>
        protectedNames.includes(String(call.params.RoleName ?? call.params.UserName)),
      ),
    ).toEqual([]);
    expect(fake.state.accessKeys.get(BREAK_GLASS_KEY)?.status).toBe('Active');
    cases.forEach(({ principal, event }, index) => {
      // Every step on the principal was refused as protected, and the notification says so.
      const steps = resultsOf(run.results[index + 1])[0]?.steps ?? [];
      // (deactivate-access-key refuses an assumed role's temporary key for that reason alone.)
      const changes =
        principal === BREAK_GLASS_USER ? ['deactivate-access-key'] : ['revoke-role-sessions', 'tag-resource'];
      const onPrincipal = steps.filter(
        (step) => changes.includes(step.action) && step.target?.includes(principal),
      );
      expect(onPrincipal.length, principal).toBeGreaterThan(0);
      for (const step of onPrincipal) {
        expect(step.status, `${principal} ${step.action}`).toBe('refused');
        expect(step.reason, `${principal} ${step.action}`).toContain('protected');
      }
      const [notification] = notificationsAbout(fake!, event.detail.id);
      expect(notification?.message, principal).toMatch(new RegExp(`${principal}[^\\n]*protected`));
    });
  });

  it('does not start, and changes nothing, when it cannot learn its own identity', async () => {
    // Arrange: STS refuses GetCallerIdentity; the function could not tell its own role from a target.
    const events = [scenarioEvent(1), scenarioEvent(2)];
    const fake = await scenarioFake({ genuine: events });
    fake.fail({ service: 'STS', operation: 'GetCallerIdentity', kind: 'accessDenied' });

    // Act
    const run = await runBundle(enforceEnv(fake), invocations(events));

    // Assert
    expect(run.initError).toMatchObject({ code: 'IDENTITY_UNKNOWN' });
    expect(run.results).toEqual([]);
    expect(fake.mutatingCalls()).toEqual([]);
    expect(fake.calls.every((call) => call.service === 'STS' && call.operation === 'GetCallerIdentity')).toBe(
      true,
    );
  });
});
