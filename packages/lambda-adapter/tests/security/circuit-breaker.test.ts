import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/bundle-runner.js';
import {
  backdoorEvent,
  bundleSuite,
  callsMentioning,
  codesOf,
  enforceEnv,
  invocations,
  notificationsAbout,
  resourceMutations,
  resultsOf,
  SCENARIO,
  scenarioFake,
} from './support.js';

/**
 * A flood of genuine findings (an attacker who can make GuardDuty report on many resources, or a
 * misfiring playbook) must not let Riposte isolate a whole fleet: past RIPOSTE_MAX_TARGETS_PER_HOUR
 * distinct targets per account, containment steps are held, and people are told.
 */

bundleSuite();

const CONTAINMENT = ['snapshot-volumes', 'tag-resource', 'isolate-instance', 'detach-instance-profile'];

describe('circuit breaker', () => {
  it('holds the containment of a second instance past RIPOSTE_MAX_TARGETS_PER_HOUR=1, and still notifies that it is held', async () => {
    // Arrange: GuardDuty reports C&C traffic from both of the scenario's instances.
    const first = backdoorEvent('first', 'breaker-first');
    const second = backdoorEvent('second', 'breaker-second');
    const fake = await scenarioFake({ genuine: [first, second] });

    // Act
    const run = await runBundle(
      enforceEnv(fake, { RIPOSTE_MAX_TARGETS_PER_HOUR: '1' }),
      invocations([first, second]),
    );

    // Assert
    expect(codesOf(run)).toEqual([['HANDLED'], ['HANDLED']]);
    const [firstResult] = resultsOf(run.results[0]);
    const [secondResult] = resultsOf(run.results[1]);
    expect(
      firstResult?.steps.filter((step) => CONTAINMENT.includes(step.action)).map((step) => step.status),
    ).not.toContain('held');
    const held = secondResult?.steps.filter((step) => CONTAINMENT.includes(step.action)) ?? [];
    expect(held.map((step) => [step.action, step.status])).toEqual(
      CONTAINMENT.map((action) => [action, 'held']),
    );
    for (const step of held) expect(step.reason).toContain('RIPOSTE_MAX_TARGETS_PER_HOUR');
    expect(secondResult?.steps.find((step) => step.action === 'notify')?.status).toBe('applied');
    expect(secondResult).toMatchObject({
      outcome: 'held',
      message: expect.stringContaining('circuit breaker'),
    });
    // Nothing about the second instance changed.
    const secondIds = [
      SCENARIO.secondInstanceId,
      SCENARIO.secondNetworkInterfaceId,
      SCENARIO.secondVolumeId,
      SCENARIO.secondAssociationId,
    ];
    expect(secondIds.flatMap((id) => callsMentioning(resourceMutations(fake!), id))).toEqual([]);
    expect(fake.state.associations.get(SCENARIO.secondAssociationId)?.state).toBe('associated');
    expect(fake.state.networkInterfaces.get(SCENARIO.secondNetworkInterfaceId)?.groupIds).toEqual([
      SCENARIO.appSecurityGroupId,
    ]);
    // The first instance was contained.
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('disassociated');
    // The notification about the second says it is held.
    const [notification] = notificationsAbout(fake, second.detail.id);
    expect(notification?.message).toMatch(/held/);
    expect(notification?.message).toContain('RIPOSTE_MAX_TARGETS_PER_HOUR');
  });
});
