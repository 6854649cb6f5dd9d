import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/bundle-runner.js';
import {
  backdoorEvent,
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
 * EC2 filter values treat `*` and `?` as wildcards: an instance id of `i-0*` taken from a finding
 * would select nearly every instance in the region. Even a finding GuardDuty itself holds is not
 * trusted to name resources safely: no identifier reaches a call without passing its grammar.
 */

bundleSuite();

const withInstanceId = (event: GuardDutyEvent, instanceId: string): GuardDutyEvent => {
  const copy = structuredClone(event);
  copy.detail.resource.instanceDetails!.instanceId = instanceId;
  return copy;
};

/** The values of parameters that name resources (`InstanceIds`, `RoleName`, filter `Values`, `Bucket`, ...). */
const identifierValues = (value: unknown, key = ''): string[] => {
  if (Array.isArray(value)) return value.flatMap((item) => identifierValues(item, key));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([name, inner]) => identifierValues(inner, name));
  return typeof value === 'string' && /(?:Id|Ids|Name|Names|Values|Bucket|Arn)$/.test(key) ? [value] : [];
};

describe('wildcards in identifiers of genuine findings', () => {
  it('sends no EC2 call with * or ? in any parameter, refuses the detach step, and leaves the second instance associated', async () => {
    // Arrange: GuardDuty holds credential-exfiltration and C&C findings whose instance id is a wildcard.
    const events = [
      withInstanceId(reidentified(scenarioEvent(1), 'wildcard-star'), '*'),
      withInstanceId(reidentified(scenarioEvent(1), 'wildcard-prefix'), 'i-0*'),
      withInstanceId(reidentified(scenarioEvent(1), 'wildcard-question'), 'i-0?????????????????'),
      withInstanceId(backdoorEvent('first', 'wildcard-backdoor'), 'i-0*'),
    ];
    const fake = await scenarioFake({ genuine: events });

    // Act
    const run = await runBundle(enforceEnv(fake), invocations(events));

    // Assert
    expect(run.initError).toBeUndefined();
    const results = run.results.map((outcome) => resultsOf(outcome)[0]);
    expect(codesOf(run)).toEqual([['HANDLED'], ['HANDLED'], ['HANDLED'], ['HANDLED']]);
    const wildcardCalls = fake.calls.filter(
      (call) => call.service === 'EC2' && stringsIn(call.params).some((value) => /[*?]/.test(value)),
    );
    expect(wildcardCalls).toEqual([]);
    // Nor does any other call, in any parameter that names a resource.
    const wildcardIds = fake.calls.filter((call) =>
      identifierValues(call.params).some((value) => /[*?]/.test(value)),
    );
    expect(wildcardIds).toEqual([]);
    for (const result of results) {
      const detach = result?.steps.filter((step) => step.action === 'detach-instance-profile') ?? [];
      expect(detach.length).toBeGreaterThan(0);
      for (const step of detach) {
        expect(step.status).toBe('refused');
        expect(step.reason).toMatch(/\S/);
      }
    }
    expect(fake.calls.map(operationOf)).not.toContain('EC2 DisassociateIamInstanceProfile');
    expect(fake.state.associations.get(SCENARIO.secondAssociationId)?.state).toBe('associated');
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('associated');
  });
});
