import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { recordCounts, tally } from '../../../core/tests/reliability/counts.js';
import {
  findingsOf,
  type Lambda,
  outOfScope,
  RESULT_CODES,
  resultsOf,
  ruleFindingEvents,
  SCENARIO,
  scenarioEvents,
  snapshotOf,
  startLambda,
} from './support.js';

/**
 * Property: whatever a (real-shaped) finding says, the response touches only what it names or what
 * that is attached to. The samples are mutated where a wrong target would hide: instance, bucket, key
 * and user ids swapped for other resources of the same account (the second instance shares the
 * compromised instance's profile), for unknown ones, or for another account's; severities and types
 * changed so other playbooks match. Every AWS call the fake receives and every step of the answer is
 * checked against the finding. Nothing but a retry request may escape the handler.
 */
const SUITE = 'lambda-adapter: scope';

const BASES = [...scenarioEvents(), ...ruleFindingEvents()];
const TYPES = [
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
  'UnauthorizedAccess:EC2/SSHBruteForce',
  'Backdoor:EC2/C&CActivity.B',
  'CryptoCurrency:EC2/BitcoinTool.B!DNS',
  'Exfiltration:S3/MaliciousIPCaller',
  'Policy:S3/BucketBlockPublicAccessDisabled',
  'Stealth:IAMUser/CloudTrailLoggingDisabled',
  'UnauthorizedAccess:IAMUser/MaliciousIPCaller',
  'CredentialAccess:IAMUser/AnomalousBehavior',
  'Impact:S3/MaliciousIPCaller',
];

/** A field left as the sample has it half the time. */
const maybe = <T>(values: fc.Arbitrary<T>) => fc.option(values, { freq: 2 });

const mutation = fc.record({
  // Half the time one of the scenario's events, whose resources the fake's account holds.
  base: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: BASES.length - 1 })),
  instanceId: maybe(
    fc.constantFrom(SCENARIO.instanceId, SCENARIO.secondInstanceId, 'i-0123456789abcdef0', 'i-99999999'),
  ),
  bucket: maybe(fc.constantFrom(SCENARIO.bucketName, SCENARIO.secondBucketName, 'someone-elses-bucket')),
  userName: maybe(
    fc.constantFrom(SCENARIO.roleName, SCENARIO.userName, 'AWSServiceRoleForAmazonGuardDuty', 'intern'),
  ),
  userType: maybe(fc.constantFrom('AssumedRole', 'IAMUser', 'Root', 'AWSService')),
  accessKeyId: maybe(fc.constantFrom(SCENARIO.accessKeyId, 'ASIAEXAMPLEOTHERKEY1')),
  trail: maybe(
    fc.constantFrom(SCENARIO.trailArn, 'arn:aws:cloudtrail:us-east-1:111122223333:trail/other-trail'),
  ),
  // Mostly the scenario's account (where the fake holds resources), sometimes another one.
  account: fc.constantFrom(SCENARIO.accountId, SCENARIO.accountId, SCENARIO.accountId, '444455556666'),
  severity: maybe(fc.constantFrom(1, 4.5, 7.2, 8, 9.5)),
  type: maybe(fc.constantFrom(...TYPES)),
  resourceRole: maybe(fc.constantFrom('TARGET', 'ACTOR')),
  dryRun: fc.boolean(),
});

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

const detailOf = (event: Record<string, unknown>): Record<string, unknown> =>
  (event['detail-type'] === 'GuardDuty Finding' ? event.detail : event) as Record<string, unknown>;

/** The base event with the chosen fields replaced where the event has them. */
const mutated = (choice: Mutation): Record<string, unknown> => {
  const event = structuredClone(BASES[choice.base] as Record<string, unknown>);
  const detail = detailOf(event);
  const resource = (detail.resource ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const instance = resource.instanceDetails;
  if (choice.instanceId && instance) instance.instanceId = choice.instanceId;
  const buckets = resource.s3BucketDetails as Record<string, unknown>[] | undefined;
  if (choice.bucket && buckets?.[0]) {
    buckets[0].name = choice.bucket;
    buckets[0].arn = `arn:aws:s3:::${choice.bucket}`;
  }
  const key = resource.accessKeyDetails;
  if (key) {
    if (choice.userName) key.userName = choice.userName;
    if (choice.userType) key.userType = choice.userType;
    if (choice.accessKeyId) key.accessKeyId = choice.accessKeyId;
  }
  const action = (
    detail.service as { action?: { awsApiCallAction?: { affectedResources?: Record<string, string> } } }
  )?.action;
  if (choice.trail && action?.awsApiCallAction?.affectedResources) {
    action.awsApiCallAction.affectedResources['AWS::CloudTrail::Trail'] = choice.trail;
  }
  detail.accountId = choice.account;
  if ('account' in event) event.account = choice.account;
  if (choice.severity !== null) detail.severity = choice.severity;
  if (choice.type) detail.type = choice.type;
  if (choice.resourceRole && detail.service)
    (detail.service as Record<string, unknown>).resourceRole = choice.resourceRole;
  return event;
};

let lambda: Lambda | undefined;
afterEach(async () => {
  await lambda?.fake.close();
  lambda = undefined;
});

describe('the handler on mutated real findings', () => {
  it('never calls AWS about, nor reports a step on, a resource the finding does not name', async () => {
    // Arrange
    let inputs = 0;
    let calls = 0;
    const found: string[] = [];
    const codes = tally();

    // Act / Assert
    await fc.assert(
      fc.asyncProperty(mutation, async (choice) => {
        await lambda?.fake.close();
        const event = mutated(choice);
        lambda = await startLambda({ env: { RIPOSTE_MODE: choice.dryRun ? 'dry-run' : 'enforce' } });
        const before = snapshotOf(lambda.fake.state);
        inputs += 1;

        const invocation = await lambda.invoke(event);

        const results = resultsOf(invocation) ?? [];
        if (!invocation.ok) {
          expect((invocation.error as { code?: string }).code).toBe('RETRYABLE_FAILURE');
        }
        for (const result of results)
          codes.add(result.outcome ? `${result.code} ${result.outcome}` : result.code);
        expect(results.every((result) => RESULT_CODES.has(result.code))).toBe(true);
        calls += lambda.fake.calls.length;
        const problems = outOfScope(findingsOf(event), lambda.fake.calls, results, before, lambda.fake.state);
        found.push(...problems);
        expect(problems).toEqual([]);
        if (choice.dryRun) expect(lambda.fake.mutatingCalls()).toEqual([]);
      }),
      { seed: 20261127, numRuns: 150 },
    );

    // Assert
    recordCounts(SUITE, 'mutated findings through the handler', {
      inputs,
      outOfScope: found.length,
      codes: { ...codes.counts, awsCalls: calls },
    });
    expect(codes.counts['HANDLED applied']).toBeGreaterThan(0);
    expect(calls).toBeGreaterThan(0);
  });
});
