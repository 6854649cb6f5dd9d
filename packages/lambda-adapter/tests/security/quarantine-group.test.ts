import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/bundle-runner.js';
import {
  backdoorEvent,
  bundleSuite,
  callsMentioning,
  codesOf,
  enforceEnv,
  invocations,
  operationOf,
  resourceMutations,
  resultsOf,
  SCENARIO,
  scenarioFake,
} from './support.js';

/**
 * isolate-instance moves a compromised instance into Riposte's quarantine group. Anyone who can
 * create and tag a security group could plant an allow-all group named or tagged like Riposte's:
 * the instance would be "isolated" into the attacker's open door. A group is only ever used once it
 * is checked to have no rule at all.
 */

bundleSuite();

const PLANTED = 'sg-0bad0c0ffee000001';

describe('a planted quarantine group', () => {
  it.each([
    // Found by its name, and refused: it has rules.
    ['named like Riposte own group', `riposte-quarantine-${SCENARIO.vpcId}`, 'refused'],
    // Ignored: a tag alone adopts nothing; Riposte creates (and empties) its own group.
    ['of another name', 'quarantine-debug-access', 'applied'],
  ] as const)(
    'never receives the instance network interfaces: an allow-all group tagged riposte:quarantine=true, %s',
    async (_how, groupName, status) => {
      // Arrange: GuardDuty holds a High C&C finding on the instance (ec2-compromised-instance isolates it).
      const event = backdoorEvent('first', `quarantine-hijack ${groupName}`);
      const fake = await scenarioFake({
        genuine: [event],
        seed: (seed) => {
          seed.securityGroups?.push({
            groupId: PLANTED,
            groupName,
            description: 'Riposte quarantine: no inbound or outbound rules',
            vpcId: SCENARIO.vpcId,
            tags: { 'riposte:quarantine': 'true', Name: groupName },
            ingress: [{ ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' }],
          });
        },
      });

      // Act
      const run = await runBundle(enforceEnv(fake), invocations([event]));

      // Assert
      expect(codesOf(run)).toEqual([['HANDLED']]);
      const moves = fake.calls.filter((call) => operationOf(call) === 'EC2 ModifyNetworkInterfaceAttribute');
      expect(callsMentioning(moves, PLANTED)).toEqual([]);
      expect(fake.state.networkInterfaces.get(SCENARIO.networkInterfaceId)?.groupIds).not.toContain(PLANTED);
      // The planted group itself is left as it is: Riposte does not edit groups it did not create.
      expect(callsMentioning(resourceMutations(fake), PLANTED)).toEqual([]);
      const isolate = resultsOf(run.results[0])[0]?.steps.find((step) => step.action === 'isolate-instance');
      expect(isolate?.status).toBe(status);
      if (status === 'applied') {
        // Isolated into a group Riposte created and emptied itself.
        const [groupId] = fake.state.networkInterfaces.get(SCENARIO.networkInterfaceId)?.groupIds ?? [];
        const group = fake.state.securityGroups.get(groupId ?? '');
        expect(group?.ingress).toEqual([]);
        expect(group?.egress).toEqual([]);
        expect(group?.groupName).toBe(`riposte-quarantine-${SCENARIO.vpcId}`);
      } else {
        expect(isolate?.reason).toContain(PLANTED);
        expect(moves).toEqual([]);
      }
    },
  );
});
