import { describe, expect, it } from 'vitest';
import { holdFindings } from '../../../../testing/fake-aws/index.js';
import { runBundle } from '../helpers/bundle-runner.js';
import {
  bundleSuite,
  codesOf,
  enforceEnv,
  findingArn,
  type GuardDutyEvent,
  invocations,
  notificationsAbout,
  operationOf,
  resourceMutations,
  resultsOf,
  SCENARIO,
  scenarioEvent,
  scenarioFake,
} from './support.js';

/**
 * The idempotency record decides whether a delivery runs. Whoever can write to it through a
 * delivery (a forged copy) can silence the real finding; a key too coarse merges two findings into
 * one; a record written too early turns a failed containment into "already handled"; and a replay
 * of an old finding must not run again once its record has expired.
 */

bundleSuite();

const WEST_DETECTOR = '3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b';

/** The scenario's credential-exfiltration finding as us-west-2's detector reports it, with the same id. */
const sameIdInWest = (): GuardDutyEvent => {
  const event = scenarioEvent(1);
  const { detail } = event;
  detail.region = 'us-west-2';
  detail.service.detectorId = WEST_DETECTOR;
  detail.arn = findingArn(detail, WEST_DETECTOR);
  // The other instance of the scenario's account, whose session was used there.
  detail.resource.instanceDetails!.instanceId = SCENARIO.secondInstanceId;
  detail.resource.accessKeyDetails!.principalId = `AROAEXAMPLEROLEID1234:${SCENARIO.secondInstanceId}`;
  event.region = 'us-west-2';
  event.id = '7b3e9d2c-1f4a-4b6c-8d0e-2a4c6e8f0b13';
  return event;
};

const detachStep = (run: Awaited<ReturnType<typeof runBundle>>, index: number) =>
  resultsOf(run.results[index])[0]?.steps.find((step) => step.action === 'detach-instance-profile');

describe('idempotency poisoning', () => {
  it('handles the same finding id in two regions as two findings', async () => {
    // Arrange: GuardDuty holds both (each region's detector its own).
    const east = scenarioEvent(1);
    const west = sameIdInWest();
    expect(west.detail.id).toBe(east.detail.id);
    const fake = await scenarioFake({ genuine: [east, west] });

    // Act: each delivered twice.
    const run = await runBundle(enforceEnv(fake), invocations([east, west, east, west]));

    // Assert
    expect(codesOf(run)).toEqual([['HANDLED'], ['HANDLED'], ['ALREADY_HANDLED'], ['ALREADY_HANDLED']]);
    expect(resultsOf(run.results[1])[0]?.region).toBe('us-west-2');
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('disassociated');
    expect(fake.state.associations.get(SCENARIO.secondAssociationId)?.state).toBe('disassociated');
  });

  it('refuses a forged copy with the same id and a future updatedAt, then handles the real finding (not ALREADY_HANDLED)', async () => {
    // Arrange: the forged copy arrives first, dated far ahead so that the real one would look older.
    const genuine = scenarioEvent(1);
    const fake = await scenarioFake({ genuine: [genuine] });
    const forged = structuredClone(genuine);
    forged.detail.updatedAt = '2099-12-31T23:59:59.000Z';
    forged.detail.resource.instanceDetails!.instanceId = SCENARIO.secondInstanceId;
    forged.id = '0c9d8e7f-6a5b-4c3d-8e1f-0a9b8c7d6e5f';

    // Act
    const run = await runBundle(enforceEnv(fake), invocations([forged, genuine, genuine]));

    // Assert
    expect(codesOf(run)).toEqual([['FINDING_UNVERIFIED'], ['HANDLED'], ['ALREADY_HANDLED']]);
    expect(detachStep(run, 1)?.status).toBe('applied');
    expect(resultsOf(run.results[1])[0]?.updatedAt).not.toContain('2099');
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('disassociated');
    expect(fake.state.associations.get(SCENARIO.secondAssociationId)?.state).toBe('associated');
  });

  it('remembers a copy dated in the future under the time GuardDuty last updated the finding', async () => {
    // Arrange: the copy says what GuardDuty says, except a last update far ahead.
    const genuine = scenarioEvent(1);
    const fake = await scenarioFake({ genuine: [genuine] });
    const heldAt = fake.state.findings.get(SCENARIO.detectorId)?.get(genuine.detail.id)?.updatedAt;
    const postdated = structuredClone(genuine);
    postdated.detail.updatedAt = '2099-12-31T23:59:59.000Z';

    // Act
    const run = await runBundle(enforceEnv(fake), invocations([postdated, genuine]));

    // Assert: handled once, as GuardDuty's occurrence; the genuine delivery of that occurrence is a duplicate.
    expect(codesOf(run)).toEqual([['HANDLED'], ['ALREADY_HANDLED']]);
    expect(resultsOf(run.results[0])[0]?.updatedAt).toBe(heldAt);
    expect(
      fake.calls.filter((call) => operationOf(call) === 'EC2 DisassociateIamInstanceProfile'),
    ).toHaveLength(1);
  });

  it('runs a containment step that failed (not retryably) again at the next delivery of the same event', async () => {
    // Arrange: EC2 denies the first DisassociateIamInstanceProfile (a permission fixed in between).
    const event = scenarioEvent(1);
    const fake = await scenarioFake({ genuine: [event] });
    fake.fail({
      service: 'EC2',
      operation: 'DisassociateIamInstanceProfile',
      kind: 'accessDenied',
      times: 1,
    });

    // Act: the same event, delivered three times.
    const run = await runBundle(enforceEnv(fake), invocations([event, event, event]));

    // Assert
    expect(codesOf(run)).toEqual([['HANDLED'], ['HANDLED'], ['ALREADY_HANDLED']]);
    expect(detachStep(run, 0)).toMatchObject({ status: 'failed' });
    expect(resultsOf(run.results[0])[0]?.retryable).toBe(false);
    expect(detachStep(run, 1)).toMatchObject({ status: 'applied' });
    const detaches = fake.calls.filter((call) => operationOf(call) === 'EC2 DisassociateIamInstanceProfile');
    expect(detaches.map((call) => call.status)).toEqual([403, 200]);
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('disassociated');
  });

  it('refuses a replay of a finding GuardDuty last updated too long ago, or in the future: no mutation', async () => {
    // Arrange: RIPOSTE_MAX_FINDING_AGE is an hour. GuardDuty last updated the credential
    // exfiltration two hours ago, the trail finding ten minutes from now, the root finding (the
    // control) half an hour ago.
    const [credentials, , trail, root] = [scenarioEvent(1), undefined, scenarioEvent(3), scenarioEvent(4)];
    const fake = await scenarioFake();
    const now = Date.now();
    holdFindings(fake.state, [credentials], new Date(now - 2 * 3_600_000));
    holdFindings(fake.state, [trail], new Date(now + 10 * 60_000));
    holdFindings(fake.state, [root], new Date(now - 30 * 60_000));

    // Act
    const run = await runBundle(
      enforceEnv(fake, { RIPOSTE_MAX_FINDING_AGE: '1h' }),
      invocations([credentials, trail, root]),
    );

    // Assert
    expect(codesOf(run)).toEqual([['FINDING_TOO_OLD'], ['FINDING_FROM_FUTURE'], ['HANDLED']]);
    expect(resourceMutations(fake)).toEqual([]);
    expect(fake.mutatingCalls().map(operationOf)).toEqual(['SNS Publish']);
    expect(notificationsAbout(fake, root.detail.id)).toHaveLength(1);
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('associated');
  });
});
