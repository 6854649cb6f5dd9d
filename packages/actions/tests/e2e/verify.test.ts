import { readdirSync, readFileSync } from 'node:fs';
import { createAwsServices, createGuardDutyVerifier, type Verification } from '@riposte/actions';
import { type Finding, normalize, normalizeFinding } from '@riposte/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAws,
  holdFindings,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';

/**
 * Provenance against a local GuardDuty: the verifier re-reads each delivered finding with the real
 * SDK client, and only GuardDuty's own copy, as GuardDuty holds it, comes out. The findings are the
 * canonical scenario's and the shipped rules' real-shaped ones (sources in rules/findings/SOURCES.md).
 */
const SCENARIO_DIR = new URL('../../../../examples/scenario/findings/', import.meta.url);
const SOURCES = [
  SCENARIO_DIR,
  new URL('../../../../rules/findings/', import.meta.url),
  new URL('../../../core/tests/fixtures/findings/cloud-custodian/', import.meta.url),
  new URL('../../../core/tests/fixtures/findings/elastic-integrations/', import.meta.url),
];

const readJson = (url: URL): Record<string, unknown> => JSON.parse(readFileSync(url, 'utf8'));
const jsonFiles = (directory: URL): Record<string, unknown>[] =>
  readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => readJson(new URL(name, directory)));

const detailOf = (event: Record<string, unknown>) =>
  (event['detail-type'] === 'GuardDuty Finding' ? event.detail : event) as Record<string, unknown>;

/**
 * GuardDuty's own findings (not its sample generator's, whose ids GuardDuty never holds), as
 * EventBridge events or bare findings, with the ARN GuardDuty gives every finding.
 */
const events = (): Record<string, unknown>[] => {
  const seen = new Set<unknown>();
  // Variants of one finding (an exempt-tagged copy, say) share its id: GuardDuty holds one of them.
  return SOURCES.flatMap(jsonFiles).filter((event) => {
    const detail = detailOf(event) as {
      schemaVersion?: string;
      arn?: string;
      service?: { additionalInfo?: { sample?: boolean } };
    };
    // Some published findings are redacted to placeholders (`account abcd1234`): no GuardDuty holds those.
    const genuine =
      detail.schemaVersion !== undefined &&
      typeof detail.arn === 'string' &&
      /^arn:aws[a-z-]*:guardduty:[a-z0-9-]+:\d{12}:detector\/[a-z0-9]+\/finding\//.test(detail.arn) &&
      detail.service?.additionalInfo?.sample !== true &&
      !seen.has(detail.arn);
    seen.add(detail.arn);
    return genuine;
  });
};

/** The model without the raw input: what the engine decides from. */
const decided = (finding: Finding) => {
  const { raw: _raw, ...model } = finding;
  return model;
};

let fake: FakeAws | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const verifierOn = (aws: FakeAws, ownAccountId: string = SCENARIO.accountId) =>
  createGuardDutyVerifier({
    ownAccountId,
    services: createAwsServices({
      env: {},
      clientConfig: { endpoint: aws.url, maxAttempts: 1 },
      credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
    }),
  });

/** A fake whose account (and detectors) are the findings' own, holding them as delivered. */
const holding = async (delivered: Record<string, unknown>[]): Promise<FakeAws> => {
  const aws = await startFakeAws({ seed: scenarioSeed() });
  for (const event of delivered) {
    holdFindings(aws.state, [event], new Date(String(detailOf(event).updatedAt)));
  }
  return aws;
};

const expectRefused = (verification: Verification, reason: RegExp) => {
  expect(verification.status).toBe('refused');
  expect(verification.status === 'refused' && verification.reason).toMatch(reason);
};

describe('createGuardDutyVerifier against a local GuardDuty', () => {
  it("verifies every real-shaped finding and hands back GuardDuty's copy, read as the delivered one", async () => {
    const all = events();
    fake = await holding(all);
    let verified = 0;

    for (const event of all) {
      const delivered = normalizeFinding(event);
      const verification = await createGuardDutyVerifier({
        ownAccountId: delivered.accountId,
        services: createAwsServices({
          env: {},
          clientConfig: { endpoint: fake.url, maxAttempts: 1 },
          credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
        }),
      }).verify(delivered);

      expect(
        verification.status,
        `${delivered.type.name}: ${verification.status === 'verified' ? '' : verification.reason}`,
      ).toBe('verified');
      if (verification.status !== 'verified') continue;
      verified += 1;
      // The SDK's PascalCase answer, back in the wire spelling, normalizes to the same model.
      expect(decided(verification.finding)).toEqual(decided(delivered));
      expect(verification.via).toBe('own-detector');
      expect(verification.calls.map((call) => call.operation)).toEqual(['GetFindings']);
      expect(verification.calls[0]?.requestId).toMatch(/\S/);
    }
    expect(verified).toBe(events().length);
    expect(verified).toBeGreaterThanOrEqual(30);
  });

  it('keeps the keys of free-form maps, so a trail named in affectedResources survives the round trip', async () => {
    const [, , cloudtrail] = jsonFiles(SCENARIO_DIR);
    fake = await holding([cloudtrail!]);

    const verification = await verifierOn(fake).verify(normalizeFinding(cloudtrail));

    expect(verification.status).toBe('verified');
    const raw = verification.status === 'verified' ? verification.finding.raw : {};
    expect(
      (raw as { service: { action: { awsApiCallAction: { affectedResources: object } } } }).service.action
        .awsApiCallAction.affectedResources,
    ).toEqual({ 'AWS::CloudTrail::Trail': SCENARIO.trailArn });
  });

  it('refuses a finding GuardDuty does not hold, however well formed', async () => {
    const [exfiltration] = jsonFiles(SCENARIO_DIR);
    fake = await startFakeAws({ seed: scenarioSeed() });

    const verification = await verifierOn(fake).verify(normalizeFinding(exfiltration));

    expectRefused(verification, /GuardDuty holds no finding 7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01/);
  });

  it('refuses a genuine finding altered in transit: another type, an extra resource, a wildcard', async () => {
    const [exfiltration] = jsonFiles(SCENARIO_DIR);
    fake = await holding([exfiltration!]);
    const verifier = verifierOn(fake);

    const retyped = structuredClone(exfiltration!);
    detailOf(retyped).type = 'Backdoor:EC2/C&CActivity.B';
    const widened = structuredClone(exfiltration!);
    (detailOf(widened).resource as { instanceDetails: { instanceId: string } }).instanceDetails.instanceId =
      '*';
    const renamed = structuredClone(exfiltration!);
    (detailOf(renamed).resource as { accessKeyDetails: { userName: string } }).accessKeyDetails.userName =
      'OrganizationAccountAccessRole';

    expectRefused(await verifier.verify(normalizeFinding(retyped)), /type is UnauthorizedAccess/);
    expectRefused(
      await verifier.verify(normalizeFinding(widened)),
      /names resources GuardDuty's copy does not: "instance:\*"/,
    );
    expectRefused(
      await verifier.verify(normalizeFinding(renamed)),
      /"access-key:OrganizationAccountAccessRole"/,
    );
  });

  it("refuses a finding whose account does not match its own ARN's", async () => {
    const [exfiltration] = jsonFiles(SCENARIO_DIR);
    fake = await holding([exfiltration!]);
    const moved = structuredClone(exfiltration!);
    detailOf(moved).accountId = '444455556666';

    const verification = await verifierOn(fake).verify(normalizeFinding(moved));

    expectRefused(verification, /does not name finding .* of 444455556666/);
    expect(fake.calls.filter((call) => call.service === 'GuardDuty')).toEqual([]);
  });

  it("verifies a Security Hub copy of a GuardDuty finding through GuardDuty, and returns GuardDuty's copy", async () => {
    const asff = readJson(
      new URL(
        '../../../lambda-adapter/tests/fixtures/events/asff-recon-iamuser-resourcepermissions.json',
        import.meta.url,
      ),
    );
    const delivered = normalizeFinding(asff);
    const [guardduty] = normalize({
      schemaVersion: '2.0',
      accountId: delivered.accountId,
      region: delivered.region,
      partition: delivered.partition,
      id: delivered.id,
      arn: delivered.arn,
      type: delivered.type.name,
      severity: delivered.severity,
      createdAt: delivered.createdAt,
      updatedAt: delivered.updatedAt,
      title: delivered.title,
      resource: {
        resourceType: 'AccessKey',
        accessKeyDetails: {
          accessKeyId: (delivered.resources[0] as { accessKeyId?: string }).accessKeyId,
          principalId: (delivered.resources[0] as { principalId?: string }).principalId,
          userName: (delivered.resources[0] as { userName?: string }).userName,
          userType: 'IAMUser',
        },
      },
      service: { serviceName: 'guardduty', count: 1, archived: false },
    });
    fake = await startFakeAws({ seed: { ...scenarioSeed(), accountId: delivered.accountId } });
    holdFindings(fake.state, [guardduty!.raw]);

    const verification = await verifierOn(fake, delivered.accountId).verify(delivered);

    expect(verification.status).toBe('verified');
    expect(verification.status === 'verified' && verification.finding.source).toBe('guardduty');
  });

  it("verifies a member account's finding through the administrator's own detector", async () => {
    const [exfiltration] = jsonFiles(SCENARIO_DIR);
    const member = structuredClone(exfiltration!);
    detailOf(member).accountId = '444455556666';
    detailOf(member).arn =
      `arn:aws:guardduty:us-east-1:444455556666:detector/4f5e6d7c8b9a0f1e2d3c4b5a69788796/finding/${String(detailOf(member).id)}`;
    fake = await startFakeAws({ seed: scenarioSeed() });
    holdFindings(fake.state, [member], new Date(), SCENARIO.detectorId);

    const verification = await verifierOn(fake).verify(normalizeFinding(member));

    expect(verification).toMatchObject({
      status: 'verified',
      via: 'administrator-detector',
      detectorId: '4f5e6d7c8b9a0f1e2d3c4b5a69788796',
    });
    expect(verification.calls.map((call) => call.operation)).toEqual(['ListDetectors', 'GetFindings']);
  });

  it('asks again later when GuardDuty throttles, and refuses when it denies access', async () => {
    const [exfiltration] = jsonFiles(SCENARIO_DIR);
    fake = await holding([exfiltration!]);
    const delivered = normalizeFinding(exfiltration);

    fake.fail({ service: 'GuardDuty', operation: 'GetFindings', kind: 'throttle', times: 1 });
    const throttled = await verifierOn(fake).verify(delivered);
    fake.fail({ service: 'GuardDuty', operation: 'GetFindings', kind: 'accessDenied', times: 1 });
    const denied = await verifierOn(fake).verify(delivered);

    expect(throttled).toMatchObject({
      status: 'failed',
      retryable: true,
      errorCode: 'TooManyRequestsException',
    });
    expectRefused(denied, /GuardDuty refused to answer for 111122223333: AccessDeniedException/);
  });
});
