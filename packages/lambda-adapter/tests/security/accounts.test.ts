import { describe, expect, it } from 'vitest';
import { type FakeAws, holdFindings } from '../../../../testing/fake-aws/index.js';
import { type Invocation, runBundle } from '../helpers/bundle-runner.js';
import {
  bundleSuite,
  codesOf,
  enforceEnv,
  type GuardDutyEvent,
  invocations,
  operationOf,
  reidentified,
  resultsOf,
  SCENARIO,
  scenarioEvent,
  scenarioFake,
  stringsIn,
} from './support.js';

/**
 * DESIGN.md, Trust: the function acts only in allowed accounts. A finding never chooses the account
 * to assume into, the function's own credentials never act on another account's finding, and an ARN
 * of another account is refused, never cut down to a bare name that exists in this one.
 */

bundleSuite();

const MEMBER = '444455556666';
const STRANGER = '999999999999';
const MEMBER_DETECTOR = '6c2f9e1a4b7d0c3e5f8a1b2c4d6e8f01';
const STRANGER_DETECTOR = '9a8b7c6d5e4f30211f2e3d4c5b6a7980';

/**
 * The scenario's credential-exfiltration finding as another account's GuardDuty writes it. The
 * function's own detector (a GuardDuty administrator's) holds it too, so it verifies: what stops it
 * is the account rule alone.
 */
const findingOf = (accountId: string, detectorId: string, label: string): GuardDutyEvent => {
  const event = reidentified(scenarioEvent(1), label, { accountId, detectorId });
  const instance = event.detail.resource.instanceDetails!;
  instance.iamInstanceProfile!.arn = `arn:aws:iam::${accountId}:instance-profile/${SCENARIO.instanceProfileName}`;
  return event;
};

/** A fake whose (administrator) detector holds these findings of other accounts. */
const administratorFake = async (events: GuardDutyEvent[]): Promise<FakeAws> => {
  const aws = await scenarioFake();
  holdFindings(aws.state, events, new Date(), SCENARIO.detectorId);
  return aws;
};

describe('accounts', () => {
  it('does not start with RIPOSTE_MEMBER_ROLE but neither RIPOSTE_ACCOUNTS nor RIPOSTE_ORGANIZATION_ID', async () => {
    // Arrange
    const event = findingOf(MEMBER, MEMBER_DETECTOR, 'member-without-accounts');
    const fake = await administratorFake([event]);

    // Act
    const run = await runBundle(
      enforceEnv(fake, { RIPOSTE_MEMBER_ROLE: 'riposte-member' }),
      invocations([event]),
    );

    // Assert
    expect(run.initError).toMatchObject({ code: 'LAMBDA_CONFIG_INVALID' });
    expect(run.initError?.message).toContain('RIPOSTE_MEMBER_ROLE');
    expect(fake.calls).toEqual([]);
  });

  it('refuses a finding of an account outside RIPOSTE_ACCOUNTS without assuming any role in it: ACCOUNT_NOT_ALLOWED', async () => {
    // Arrange: a listed member's finding (the control, which does assume the member role) and a
    // stranger's.
    const member = findingOf(MEMBER, MEMBER_DETECTOR, 'listed-member');
    const stranger = findingOf(STRANGER, STRANGER_DETECTOR, 'unlisted-account');
    const fake = await administratorFake([member, stranger]);

    // Act
    const run = await runBundle(
      enforceEnv(fake, { RIPOSTE_MEMBER_ROLE: 'riposte-member', RIPOSTE_ACCOUNTS: MEMBER }),
      invocations([stranger, member]),
    );

    // Assert
    expect(run.initError).toBeUndefined();
    expect(codesOf(run)[0]).toEqual(['ACCOUNT_NOT_ALLOWED']);
    expect(codesOf(run)[1]).toEqual(['HANDLED']);
    const assumed = fake.calls.filter((call) => operationOf(call) === 'STS AssumeRole');
    expect(assumed.map((call) => call.params.RoleArn)).toEqual([
      `arn:aws:iam::${MEMBER}:role/riposte-member`,
    ]);
    expect(
      fake.calls.filter((call) => stringsIn(call.params).some((value) => value.includes(STRANGER))),
    ).toEqual([]);
    expect(fake.state.assumedRoleSessions.every((session) => !session.roleArn.includes(STRANGER))).toBe(true);
  });

  it('never acts on a role named by another account ARN in an own-account finding, nor on its bare name', async () => {
    // Arrange: GuardDuty holds an own-account finding whose credentials belong to role X of another
    // account; this account has a role X too.
    const event = reidentified(scenarioEvent(1), 'foreign-role-arn');
    event.detail.resource.accessKeyDetails!.userName = `arn:aws:iam::${STRANGER}:role/X`;
    const fake = await scenarioFake({
      genuine: [event],
      seed: (seed) => {
        seed.roles?.push({ name: 'X', description: 'a role of this account that happens to be called X' });
      },
    });

    // Act
    const run = await runBundle(enforceEnv(fake), invocations([event]));

    // Assert
    expect(codesOf(run)).toEqual([['HANDLED']]);
    const naming = fake.calls.filter(
      (call) =>
        call.service === 'IAM' &&
        stringsIn(call.params).some((value) => value === 'X' || value.endsWith(':role/X')),
    );
    expect(naming).toEqual([]);
    const steps = resultsOf(run.results[0])[0]?.steps ?? [];
    const onX = steps.filter((step) => step.target?.includes(' X'));
    expect(onX.length).toBeGreaterThan(0);
    for (const step of onX) {
      expect(step.status).toBe('refused');
      expect(step.reason).toContain(STRANGER);
    }
    expect(fake.state.roles.get('X')?.inlinePolicies.size ?? 0).toBe(0);
  });

  it('refuses another account finding with the function own credentials, whatever the context says: ACCOUNT_NOT_ALLOWED', async () => {
    // Arrange: no member role; a member's finding (held by this administrator's detector) names
    // the same instance id as this account's instance.
    const events = [
      findingOf(MEMBER, MEMBER_DETECTOR, 'foreign-without-function-arn'),
      findingOf(MEMBER, MEMBER_DETECTOR, 'foreign-with-foreign-function-arn'),
      findingOf(MEMBER, MEMBER_DETECTOR, 'foreign-with-own-function-arn'),
    ];
    const fake = await administratorFake(events);
    const [withoutArn, withForeignArn, withOwnArn] = invocations(events);
    const calls: Invocation[] = [
      {
        event: withoutArn!.event,
        context: { awsRequestId: withoutArn!.context.awsRequestId } as Invocation['context'],
      },
      {
        ...withForeignArn!,
        context: {
          ...withForeignArn!.context,
          invokedFunctionArn: `arn:aws:lambda:${SCENARIO.region}:${MEMBER}:function:riposte`,
        },
      },
      withOwnArn!,
    ];

    // Act
    const run = await runBundle(enforceEnv(fake), calls);

    // Assert: refused before anything is asked of AWS in any account.
    expect(run.initError).toBeUndefined();
    expect(codesOf(run)).toEqual([['ACCOUNT_NOT_ALLOWED'], ['ACCOUNT_NOT_ALLOWED'], ['ACCOUNT_NOT_ALLOWED']]);
    expect(fake.mutatingCalls()).toEqual([]);
    expect(fake.calls.map(operationOf).filter((call) => !call.startsWith('STS GetCallerIdentity'))).toEqual(
      [],
    );
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('associated');
  });
});
