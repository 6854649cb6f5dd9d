import { describe, expect, it } from 'vitest';
import type { SqsBatchResult } from '../../src/index.js';
import { runBundle } from '../helpers/bundle-runner.js';
import {
  bundleSuite,
  codesOf,
  enforceEnv,
  type FindingDetail,
  forgeryAlerts,
  GUARDDUTY_PRODUCT_ARN,
  type GuardDutyEvent,
  invocations,
  operationOf,
  reidentified,
  resourceMutations,
  resultsOf,
  SCENARIO,
  scenarioEvent,
  scenarioFake,
  securityHubEvent,
  snsEvent,
  snsNotification,
  sqsEvent,
} from './support.js';

/**
 * DESIGN.md, Trust: whoever can put a message on the function's queue, topic or invoke path can write
 * a finding, so a delivered finding is a claim. The function acts only on GuardDuty's own copy: a
 * finding GuardDuty does not hold, or holds otherwise, changes nothing and raises an alert.
 */

bundleSuite();

/** What an attacker writes: the scenario's credential-exfiltration finding under an id GuardDuty never issued. */
const forgedEvent = (label: string): GuardDutyEvent => reidentified(scenarioEvent(1), label);

const CONTAINMENT = [
  'EC2 DisassociateIamInstanceProfile',
  'IAM PutRolePolicy',
  'IAM UpdateAccessKey',
  'IAM TagRole',
  'EC2 CreateTags',
];

const deliveries: [string, (event: GuardDutyEvent) => unknown][] = [
  ['a bare GuardDuty finding in an SQS message body', (event) => sqsEvent([JSON.stringify(event.detail)])],
  [
    'an SNS notification (claiming source aws.guardduty) inside an SQS message body',
    (event) => sqsEvent([JSON.stringify(snsNotification(event))]),
  ],
  ['an SNS Records event claiming source aws.guardduty', (event) => snsEvent([event])],
  ['a direct invoke of a GuardDuty Finding event', (event) => event],
  [
    "a Security Hub event under GuardDuty's own product ARN",
    (event) => securityHubEvent(event, GUARDDUTY_PRODUCT_ARN),
  ],
];

describe('forged findings (GuardDuty does not hold them)', () => {
  it.each(deliveries)(
    'refuses a forged finding delivered as %s: no AWS mutation, an alert',
    async (how, wrap) => {
      // Arrange: GuardDuty holds no finding at all.
      const fake = await scenarioFake();
      const forged = forgedEvent(`forged ${how}`);

      // Act
      const run = await runBundle(enforceEnv(fake), invocations([wrap(forged)]));

      // Assert: refused as unverified, not retried, nothing changed.
      expect(run.initError).toBeUndefined();
      expect(codesOf(run)).toEqual([['FINDING_UNVERIFIED']]);
      const [result] = resultsOf(run.results[0]);
      expect(result).toMatchObject({ findingId: forged.detail.id, retryable: false, steps: [] });
      const response = run.results[0]?.ok ? run.results[0].response : undefined;
      if (response && 'batchItemFailures' in response) {
        expect((response as SqsBatchResult).batchItemFailures).toEqual([]);
      }
      // GuardDuty was asked, and that is all the function did in the account.
      expect(fake.calls.map(operationOf)).toContain('GuardDuty GetFindings');
      expect(resourceMutations(fake)).toEqual([]);
      expect(
        fake
          .mutatingCalls()
          .map(operationOf)
          .filter((call) => CONTAINMENT.includes(call)),
      ).toEqual([]);
      // The only thing published is the alert, to the function's topic, naming the forged finding.
      expect(fake.mutatingCalls().map((call) => [operationOf(call), call.params.TopicArn])).toEqual([
        ['SNS Publish', SCENARIO.topicArn],
      ]);
      const [alert] = forgeryAlerts(fake);
      expect(alert?.message).toContain('refused a finding that GuardDuty does not vouch for');
      expect(alert?.message).toContain(forged.detail.id);
      // And a warning log line says so.
      expect(
        run.logs.filter(
          (line) =>
            line.level === 'warn' &&
            line.code === 'FINDING_UNVERIFIED' &&
            line.findingId === forged.detail.id,
        ),
      ).not.toEqual([]);
    },
  );

  it('refuses a genuine finding altered in transit (type, instance, user name, an extra instance): no AWS mutation', async () => {
    // Arrange: GuardDuty holds the scenario's credential-exfiltration finding as it is.
    const genuine = scenarioEvent(1);
    const fake = await scenarioFake({ genuine: [genuine] });
    const altered = (change: (detail: FindingDetail) => void): GuardDutyEvent => {
      const copy = structuredClone(genuine);
      change(copy.detail);
      return copy;
    };
    // Security Hub lists resources: the genuine finding, with the other instance added to its list.
    const withExtraInstance = securityHubEvent(genuine, GUARDDUTY_PRODUCT_ARN) as {
      detail: { findings: { Resources: Record<string, unknown>[] }[] };
    };
    const [asff] = withExtraInstance.detail.findings;
    asff!.Resources.push({
      ...asff!.Resources[1],
      Id: `arn:aws:ec2:${SCENARIO.region}:${SCENARIO.accountId}:instance/${SCENARIO.secondInstanceId}`,
    });
    const events = [
      altered((detail) => {
        detail.type = 'Backdoor:EC2/C&CActivity.B';
      }),
      altered((detail) => {
        detail.resource.instanceDetails!.instanceId = SCENARIO.secondInstanceId;
      }),
      altered((detail) => {
        detail.resource.accessKeyDetails!.userName = SCENARIO.userName;
      }),
      withExtraInstance,
    ];

    // Act
    const run = await runBundle(enforceEnv(fake), invocations(events));

    // Assert
    expect(codesOf(run)).toEqual(events.map(() => ['FINDING_UNVERIFIED']));
    const reasons = run.results.map((outcome) => resultsOf(outcome)[0]?.verification?.reason ?? '');
    expect(reasons[0]).toContain('type');
    expect(reasons[1]).toContain(SCENARIO.secondInstanceId);
    expect(reasons[2]).toContain(SCENARIO.userName);
    expect(reasons[3]).toContain(SCENARIO.secondInstanceId);
    expect(resourceMutations(fake)).toEqual([]);
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('associated');
    expect(forgeryAlerts(fake)).toHaveLength(events.length);
  });

  it('refuses a Security Hub finding that calls itself GuardDuty from a custom integration: FINDING_UNSUPPORTED', async () => {
    // Arrange: the scenario's finding is genuine; a custom integration re-imports it into Security
    // Hub under its own product ARN (anyone with securityhub:BatchImportFindings can).
    const genuine = scenarioEvent(1);
    const fake = await scenarioFake({ genuine: [genuine] });
    const productArn = `arn:aws:securityhub:${SCENARIO.region}:${SCENARIO.accountId}:product/${SCENARIO.accountId}/default`;
    const event = securityHubEvent(genuine, productArn);

    // Act
    const run = await runBundle(enforceEnv(fake), invocations([event]));

    // Assert
    expect(codesOf(run)).toEqual([['FINDING_UNSUPPORTED']]);
    expect(resultsOf(run.results[0])[0]?.message).toContain(`product/${SCENARIO.accountId}/default`);
    expect(fake.mutatingCalls()).toEqual([]);
    expect(fake.state.associations.get(SCENARIO.associationId)?.state).toBe('associated');
  });
});
