import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createAwsServices, createRegistry } from '@riposte/actions';
import { createEngine, loadPlaybooks, normalize } from '@riposte/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAws,
  MUTATING_OPERATIONS,
  type RecordedCall,
  roundsOf,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';

/**
 * How many calls, and how many rounds of them, the canonical scenario's first finding costs: the
 * shipped playbooks and the real SDK clients against a local AWS-like endpoint.
 */
const RULES = fileURLToPath(new URL('../../../../rules', import.meta.url));

let fake: FakeAws | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const respond = async (latencyMs?: number) => {
  fake = await startFakeAws({ seed: scenarioSeed(), ...(latencyMs === undefined ? {} : { latencyMs }) });
  const registry = createRegistry();
  const engine = createEngine({
    playbooks: await loadPlaybooks([RULES], { registry }),
    registry,
    mode: 'enforce',
    services: createAwsServices({
      clientConfig: { endpoint: fake.url, maxAttempts: 1 },
      credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
      env: { RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn },
    }),
  });
  const event = JSON.parse(
    await readFile(
      new URL(
        '../../../../examples/scenario/findings/01-instance-credential-exfiltration.json',
        import.meta.url,
      ),
      'utf8',
    ),
  );
  const [finding] = normalize(event);
  const plan = await engine.plan(finding!);
  const planned = fake.calls.length;
  const report = await engine.execute(plan);
  return { fake, report, planCalls: fake.calls.slice(0, planned), executeCalls: fake.calls.slice(planned) };
};

const isMutation = (call: RecordedCall) => MUTATING_OPERATIONS[call.service].includes(call.operation);
const named = (call: RecordedCall) => `${call.service} ${call.operation}`;

describe("the scenario's first finding: calls", () => {
  it('sends no read twice unless a mutation of the same service came in between', async () => {
    const { report, fake } = await respond();

    expect(report.outcome).toBe('applied');
    const seen = new Map<string, number>();
    fake.calls.forEach((call, index) => {
      if (isMutation(call)) return;
      const key = `${named(call)} ${JSON.stringify(call.params)}`;
      const before = seen.get(key);
      if (before !== undefined) {
        const between = fake.calls.slice(before + 1, index);
        expect(
          between.some((other) => isMutation(other) && other.service === call.service),
          key,
        ).toBe(true);
      }
      seen.set(key, index);
    });
  });

  it('re-checks in execute only what a mutation of the response has changed since planning', async () => {
    const { planCalls, executeCalls } = await respond();

    expect(planCalls.map(named).sort()).toEqual([
      'EC2 DescribeIamInstanceProfileAssociations',
      'EC2 DescribeTags',
      'IAM GetRole',
      'IAM GetRolePolicy',
      'IAM GetRolePolicy',
      'IAM ListRoleTags',
      'STS GetCallerIdentity',
      'SecurityHub GetFindings',
    ]);
    // The role was tagged as evidence: its description and tags are read again before its sessions are revoked.
    expect(executeCalls.map(named)).toEqual([
      'EC2 CreateTags',
      'IAM TagRole',
      'EC2 DisassociateIamInstanceProfile',
      'IAM GetRole',
      'IAM ListRoleTags',
      'IAM PutRolePolicy',
      'SNS Publish',
    ]);
  });

  it('contains in the third round of calls: the lookups at once, the evidence at once, then containment', async () => {
    const { fake } = await respond(50);

    const rounds = roundsOf(fake.calls);
    const detach = fake.calls.find((call) => call.operation === 'DisassociateIamInstanceProfile');
    expect(detach && rounds.get(detach)).toBe(3);
    const lookups = fake.calls.filter((call) => rounds.get(call) === 1);
    expect(lookups.every((call) => !isMutation(call))).toBe(true);
    expect(
      fake.calls
        .filter((call) => rounds.get(call) === 2)
        .map(named)
        .sort(),
    ).toEqual(['EC2 CreateTags', 'IAM TagRole']);
  });
});
