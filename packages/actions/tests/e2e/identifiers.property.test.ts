import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createAwsServices, createRegistry } from '@riposte/actions';
import {
  arnProblem,
  createEngine,
  FindingFormatError,
  type IdentifierKind,
  identifierProblem,
  loadPlaybooks,
  normalize,
  type Playbook,
} from '@riposte/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAws,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';

/**
 * Property: whatever string stands in an identifier field of a real-shaped finding, no AWS call
 * carries it unless it is a valid identifier of that field's kind. The canonical scenario's findings
 * go through the shipped playbooks, enforced, with the real actions and SDK clients against the local
 * endpoint; every call it receives is searched for each injected value.
 */
const RULES = fileURLToPath(new URL('../../../../rules', import.meta.url));
const scenario = (file: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../../../examples/scenario/findings/${file}`, import.meta.url), 'utf8'),
  );

type Json = Record<string, unknown>;

/** Sets the value at a path into fixture JSON (`resource.s3BucketDetails.0.name`). */
const setAt =
  (path: string) =>
  (json: Json, value: string): void => {
    const keys = path.split('.');
    const last = keys.pop() ?? '';
    const parent = keys.reduce<Json>((node, key) => node[key] as Json, json);
    parent[last] = value;
  };

const OWN = { partition: 'aws', accountId: SCENARIO.accountId };
const kind = (name: IdentifierKind) => (value: string) => identifierProblem(name, value) === undefined;

/** Where each finding names a resource, and whether a value is a valid identifier there. */
const FIELDS: {
  file: string;
  set: (detail: Json, value: string) => void;
  valid: (value: string) => boolean;
}[] = [
  {
    file: '01-instance-credential-exfiltration.json',
    set: setAt('resource.instanceDetails.instanceId'),
    valid: kind('instance-id'),
  },
  {
    file: '01-instance-credential-exfiltration.json',
    set: setAt('resource.instanceDetails.iamInstanceProfile.arn'),
    valid: (v) =>
      arnProblem(v, { ...OWN, service: 'iam', resourcePrefix: 'instance-profile/' }) === undefined,
  },
  {
    file: '01-instance-credential-exfiltration.json',
    set: setAt('resource.instanceDetails.networkInterfaces.0.networkInterfaceId'),
    valid: kind('network-interface-id'),
  },
  {
    file: '01-instance-credential-exfiltration.json',
    set: setAt('resource.instanceDetails.networkInterfaces.0.securityGroups.0.groupId'),
    valid: kind('security-group-id'),
  },
  {
    file: '01-instance-credential-exfiltration.json',
    set: setAt('resource.accessKeyDetails.userName'),
    valid: kind('iam-role-name'),
  },
  {
    file: '01-instance-credential-exfiltration.json',
    set: setAt('resource.accessKeyDetails.principalId'),
    valid: kind('principal-id'),
  },
  {
    file: '02-s3-exfiltration.json',
    set: setAt('resource.s3BucketDetails.0.name'),
    valid: kind('s3-bucket-name'),
  },
  {
    file: '02-s3-exfiltration.json',
    set: setAt('resource.accessKeyDetails.accessKeyId'),
    valid: kind('access-key-id'),
  },
  {
    file: '02-s3-exfiltration.json',
    set: setAt('resource.accessKeyDetails.userName'),
    valid: kind('iam-role-name'),
  },
  {
    file: '03-cloudtrail-logging-disabled.json',
    set: setAt('service.action.awsApiCallAction.affectedResources.AWS::CloudTrail::Trail'),
    valid: (v) =>
      kind('cloudtrail-trail-name')(v) ||
      arnProblem(v, { ...OWN, region: SCENARIO.region, service: 'cloudtrail', resourcePrefix: 'trail/' }) ===
        undefined,
  },
];

/** Values an attacker would try, and arbitrary ones (marked, so a call that carries one is found). */
const hostile = fc.oneof(
  fc.constantFrom(
    '*',
    '?',
    'i-0*',
    'i-0a1b2c3d4e5f6789?',
    `${SCENARIO.instanceId}*`,
    `${SCENARIO.bucketName},${SCENARIO.secondBucketName}`,
    'arn:aws:iam::999999999999:role/X',
    'arn:aws:iam::111122223333:role/app-server-s3-full\nRemediation: none',
    'OrganizationAccountAccessRole',
    '../../etc',
    'acme-customer-exports ',
  ),
  fc.string({ minLength: 0, maxLength: 40 }).map((text) => `rpx7${text}`),
  fc.string({ unit: 'grapheme', minLength: 0, maxLength: 20 }).map((text) => `rpx7${text}`),
);

/** Every string in a call's input, however deep. */
const leaves = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(leaves)
      : typeof value === 'object' && value !== null
        ? Object.values(value).flatMap(leaves)
        : [];

let playbooks: Playbook[];
const registry = createRegistry();
let fake: FakeAws;

beforeAll(async () => {
  playbooks = await loadPlaybooks([RULES], { registry });
});
afterAll(async () => {
  await fake?.close();
});

describe('identifier fields of real-shaped findings', () => {
  it('never carry a value into an AWS call unless it is a valid identifier of its kind and account', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: FIELDS.length - 1 }), hostile, async (field, value) => {
        const { file, set, valid } = FIELDS[field]!;
        const event = scenario(file);
        set(event.detail as Json, value);
        let findings: ReturnType<typeof normalize>;
        try {
          findings = normalize(event);
        } catch (error) {
          // A value the normalizer refuses outright never gets near AWS.
          expect(error).toBeInstanceOf(FindingFormatError);
          return;
        }
        await fake?.close();
        fake = await startFakeAws({ seed: scenarioSeed() });
        const engine = createEngine({
          playbooks,
          registry,
          mode: 'enforce',
          services: createAwsServices({
            clientConfig: { endpoint: fake.url, maxAttempts: 1 },
            credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
            env: { RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn },
          }),
        });
        runs += 1;

        for (const finding of findings) await engine.handle(finding);

        // Wildcards never reach an EC2 filter or id (no legitimate EC2 input of the scenario has one).
        for (const call of fake.calls.filter((candidate) => candidate.service === 'EC2')) {
          for (const leaf of leaves(call.params))
            expect(leaf, `${call.operation} ${leaf}`).not.toMatch(/[*?]/);
        }
        // A distinctive value that is not a valid identifier reaches no call; the SNS message is the
        // notification's text, where it is shown quoted on one line.
        if (value.length < 4 || valid(value)) return;
        for (const call of fake.calls) {
          if (call.service === 'SNS' && call.operation === 'Publish') continue;
          for (const leaf of leaves(call.params)) {
            expect(
              leaf.includes(value),
              `${call.service} ${call.operation} carried ${JSON.stringify(leaf)}`,
            ).toBe(false);
          }
        }
      }),
      { numRuns: 60, seed: 20261206 },
    );
    expect(runs).toBeGreaterThan(30);
  });
});
