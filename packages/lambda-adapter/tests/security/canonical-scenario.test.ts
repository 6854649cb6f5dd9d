import { describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../../../testing/fake-aws/index.js';
import { runBundle } from '../helpers/bundle-runner.js';
import {
  bundleSuite,
  codesOf,
  enforceEnv,
  invocations,
  SCENARIO,
  scenarioEvents,
  scenarioFake,
} from './support.js';

/**
 * The checks this suite adds must not stop the canonical response: with GuardDuty holding the
 * scenario's four findings, they still make exactly the changes e2e/handler-bundle.test.ts expects
 * (that test also checks their order).
 */

bundleSuite();

const changed = (call: RecordedCall): string => {
  const { params } = call;
  const target = [
    params.ResourceId,
    params.AssociationId,
    params.RoleName,
    params.Bucket,
    params.Name,
    params.TopicArn,
  ].find((value) => value !== undefined);
  return `${call.service} ${call.operation} ${Array.isArray(target) ? target.join(',') : String(target)}`;
};

describe('the canonical scenario, genuine', () => {
  it('still makes exactly the expected mutating calls in enforce mode', async () => {
    // Arrange
    const events = scenarioEvents();
    const fake = await scenarioFake({ genuine: events });

    // Act
    const run = await runBundle(enforceEnv(fake), invocations(events));

    // Assert
    expect(codesOf(run)).toEqual([['HANDLED'], ['HANDLED'], ['HANDLED'], ['HANDLED']]);
    expect(fake.mutatingCalls().map(changed).sort()).toEqual(
      [
        `EC2 CreateTags ${SCENARIO.instanceId}`,
        `IAM TagRole ${SCENARIO.roleName}`,
        `EC2 DisassociateIamInstanceProfile ${SCENARIO.associationId}`,
        `IAM PutRolePolicy ${SCENARIO.roleName}`,
        `S3 PutPublicAccessBlock ${SCENARIO.bucketName}`,
        `CloudTrail StartLogging ${SCENARIO.trailArn}`,
        ...Array(4).fill(`SNS Publish ${SCENARIO.topicArn}`),
      ].sort(),
    );
    expect(fake.mutatingCalls().every((call) => call.status === 200)).toBe(true);
  });
});
