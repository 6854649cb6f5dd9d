import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createAwsServices, createRegistry } from '@riposte/actions';
import { createEngine, type EngineMode, loadPlaybooks, type Report } from '@riposte/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAws,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';

/**
 * The canonical scenario end to end: the four findings of examples/scenario through the shipped
 * playbooks, with the real AWS SDK clients talking to a local AWS-like endpoint that holds the
 * scenario's account (two instances sharing one instance profile, two buckets, a stopped trail).
 */
const RULES = fileURLToPath(new URL('../../../../rules', import.meta.url));
const FINDINGS = [
  '01-instance-credential-exfiltration.json',
  '02-s3-exfiltration.json',
  '03-cloudtrail-logging-disabled.json',
  '04-root-credential-usage.json',
];
const RESPONSE_TIME = new Date('2026-11-27T18:30:00.000Z');

const scenarioEvents = () =>
  Promise.all(
    FINDINGS.map(async (file) =>
      JSON.parse(
        await readFile(new URL(`../../../../examples/scenario/findings/${file}`, import.meta.url), 'utf8'),
      ),
    ),
  );

let fake: FakeAws | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const respond = async (mode: EngineMode): Promise<{ fake: FakeAws; reports: Report[] }> => {
  fake = await startFakeAws({ seed: scenarioSeed() });
  const registry = createRegistry();
  const engine = createEngine({
    playbooks: await loadPlaybooks([RULES], { registry }),
    registry,
    mode,
    clock: () => RESPONSE_TIME,
    services: createAwsServices({
      clientConfig: { endpoint: fake.url, maxAttempts: 2 },
      credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
      env: { RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn },
    }),
  });
  const reports: Report[] = [];
  for (const event of await scenarioEvents()) reports.push(...(await engine.handleEvent(event)));
  return { fake, reports };
};

const mutations = (aws: FakeAws) => aws.mutatingCalls().map((call) => `${call.service} ${call.operation}`);

describe('the canonical scenario, enforced', () => {
  it('detaches the profile of the compromised instance only', async () => {
    const { fake } = await respond('enforce');

    const detaches = fake.calls.filter((call) => call.operation === 'DisassociateIamInstanceProfile');
    expect(detaches).toHaveLength(1);
    expect(detaches[0]?.params).toMatchObject({ AssociationId: SCENARIO.associationId });
    const lookups = fake.calls.filter((call) => call.operation === 'DescribeIamInstanceProfileAssociations');
    expect(lookups.length).toBeGreaterThan(0);
    for (const lookup of lookups) expect(JSON.stringify(lookup.params)).toContain(SCENARIO.instanceId);
    expect(JSON.stringify(fake.calls)).not.toContain(SCENARIO.secondAssociationId);
    const states = Object.fromEntries(
      [...fake.state.associations.values()].map((association) => [association.instanceId, association.state]),
    );
    expect(states).toEqual({
      [SCENARIO.instanceId]: 'disassociated',
      [SCENARIO.secondInstanceId]: 'associated',
    });
  });

  it('revokes only the sessions issued to the compromised instance before the response', async () => {
    const { fake } = await respond('enforce');

    const puts = fake.calls.filter((call) => call.operation === 'PutRolePolicy');
    const instanceArn = `arn:aws:ec2:${SCENARIO.region}:${SCENARIO.accountId}:instance/${SCENARIO.instanceId}`;
    const before = { 'aws:TokenIssueTime': RESPONSE_TIME.toISOString() };
    expect(puts).toHaveLength(1);
    expect(puts[0]?.params).toMatchObject({
      RoleName: SCENARIO.roleName,
      PolicyName: `RiposteRevokeInstance-${SCENARIO.instanceId}`,
    });
    // The second instance shares the role: its sessions keep working.
    expect(JSON.parse(String(puts[0]?.params.PolicyDocument))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RevokeSessionsIssuedToInstance',
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: { StringEquals: { 'ec2:SourceInstanceARN': instanceArn }, DateLessThan: before },
        },
        {
          Sid: 'RevokeSessionsNamedAfterInstance',
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: { StringLike: { 'aws:userid': `*:${SCENARIO.instanceId}` }, DateLessThan: before },
        },
      ],
    });
  });

  it('blocks public access on the bucket the finding names and no other', async () => {
    const { fake } = await respond('enforce');

    const blocks = fake.calls.filter((call) => call.operation === 'PutPublicAccessBlock');
    expect(blocks.map((call) => call.params.Bucket)).toEqual([SCENARIO.bucketName]);
    expect(fake.state.buckets.get(SCENARIO.bucketName)?.publicAccessBlock).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(fake.state.buckets.get(SCENARIO.secondBucketName)?.publicAccessBlock).toBeUndefined();
  });

  it('restarts CloudTrail logging and notifies SNS once per finding', async () => {
    const { fake, reports } = await respond('enforce');

    expect(fake.calls.filter((call) => call.operation === 'StartLogging').map((call) => call.params)).toEqual(
      [{ Name: SCENARIO.trailArn }],
    );
    expect(fake.state.trails.get(SCENARIO.trailArn)?.isLogging).toBe(true);
    const messages = fake.state.topics.get(SCENARIO.topicArn)?.messages ?? [];
    expect(messages).toHaveLength(4);
    expect(messages.map((message) => message.message).join('\n')).toContain(SCENARIO.instanceId);
    expect(reports.map((report) => [report.findingType, report.outcome])).toEqual([
      ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 'applied'],
      ['Exfiltration:S3/MaliciousIPCaller', 'applied'],
      ['Stealth:IAMUser/CloudTrailLoggingDisabled', 'applied'],
      ['Policy:IAMUser/RootCredentialUsage', 'applied'],
    ]);
    expect(reports.flatMap((report) => report.steps).filter((step) => step.status === 'failed')).toEqual([]);
  });

  it('makes exactly these mutations, in the order the playbooks give', async () => {
    const { fake } = await respond('enforce');

    expect(mutations(fake)).toEqual([
      // instance credential exfiltration: evidence, containment, revocation, notification
      'EC2 CreateTags',
      'IAM TagRole',
      'EC2 DisassociateIamInstanceProfile',
      'IAM PutRolePolicy',
      'SNS Publish',
      // S3 exfiltration: the bucket; the role's sessions are already revoked, so that step is skipped
      'S3 PutPublicAccessBlock',
      'SNS Publish',
      // CloudTrail logging disabled
      'CloudTrail StartLogging',
      'SNS Publish',
      // root credential usage: a human decides
      'SNS Publish',
    ]);
  });
});

describe('the canonical scenario, twice or in dry-run', () => {
  it('repeats no mutation when the same findings are handled again', async () => {
    const { fake } = await respond('enforce');
    const first = mutations(fake).filter((call) => call !== 'SNS Publish');
    const registry = createRegistry();
    const again = createEngine({
      playbooks: await loadPlaybooks([RULES], { registry }),
      registry,
      mode: 'enforce',
      clock: () => new Date(RESPONSE_TIME.getTime() + 60_000),
      services: createAwsServices({
        clientConfig: { endpoint: fake.url },
        credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
        env: {},
      }),
    });

    const reports = [];
    for (const event of await scenarioEvents()) reports.push(...(await again.handleEvent(event)));

    expect(mutations(fake).filter((call) => call !== 'SNS Publish')).toEqual(first);
    const statuses = new Set(reports.flatMap((report) => report.steps.map((step) => step.status)));
    expect(statuses.has('applied')).toBe(false);
  });

  it('makes no mutating call in dry-run, and plans the same calls', async () => {
    const { fake, reports } = await respond('dry-run');

    expect(fake.mutatingCalls()).toEqual([]);
    expect(fake.calls.length).toBeGreaterThan(0);
    const planned = reports.flatMap((report) =>
      report.steps.flatMap((step) => step.calls.map((call) => `${call.service} ${call.operation}`)),
    );
    expect(planned).toEqual(
      expect.arrayContaining([
        'EC2 DisassociateIamInstanceProfile',
        'IAM PutRolePolicy',
        'S3 PutPublicAccessBlock',
        'CloudTrail StartLogging',
        'SNS Publish',
      ]),
    );
    expect(reports.every((report) => report.outcome === 'dry-run')).toBe(true);
  });
});
