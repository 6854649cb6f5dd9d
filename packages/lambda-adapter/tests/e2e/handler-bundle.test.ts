import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAws,
  holdFindings,
  type RecordedCall,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import type { InvocationResult } from '../../src/index.js';
import { BUNDLE, type Invocation, requireFreshBundle, runBundle } from '../helpers/bundle-runner.js';

const SCENARIO_DIR = new URL('../../../../examples/scenario/findings/', import.meta.url);
const events = readdirSync(SCENARIO_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => JSON.parse(readFileSync(new URL(name, SCENARIO_DIR), 'utf8')) as unknown);

const invocation = (event: unknown, index: number): Invocation => ({
  event,
  context: {
    invokedFunctionArn: `arn:aws:lambda:${SCENARIO.region}:${SCENARIO.accountId}:function:riposte`,
    awsRequestId: `0f6e2c1a-0000-4000-8000-${String(index).padStart(12, '0')}`,
  },
});

/** `service operation target`: what a call changed, without its timestamps and messages. */
const describeCall = (call: RecordedCall): string => {
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

// The canonical response (DESIGN.md): evidence, containment, revocation, notification, and only on
// what each finding names. The two tags of the first finding are independent steps, run concurrently.
const EXPECTED_ENFORCE_CALLS = [
  ['EC2 CreateTags i-0a1b2c3d4e5f67890', 'IAM TagRole app-server-s3-full'],
  ['EC2 DisassociateIamInstanceProfile iip-assoc-0a1b2c3d4e5f60001'],
  ['IAM PutRolePolicy app-server-s3-full'],
  [`SNS Publish ${SCENARIO.topicArn}`],
  ['S3 PutPublicAccessBlock acme-customer-exports'],
  [`SNS Publish ${SCENARIO.topicArn}`],
  [`CloudTrail StartLogging ${SCENARIO.trailArn}`],
  [`SNS Publish ${SCENARIO.topicArn}`],
  [`SNS Publish ${SCENARIO.topicArn}`],
];

/** The recorded calls grouped as expected: calls within a group may come in any order. */
const inExpectedGroups = (calls: string[]): string[][] => {
  let offset = 0;
  return EXPECTED_ENFORCE_CALLS.map((group) => {
    const slice = calls.slice(offset, offset + group.length).sort();
    offset += group.length;
    return slice;
  }).concat(offset < calls.length ? [calls.slice(offset)] : []);
};

const expectedGroups = EXPECTED_ENFORCE_CALLS.map((group) => [...group].sort());

let fake: FakeAws | undefined;

/** The scenario's account, whose GuardDuty holds the four findings (so they verify). */
const scenarioFake = async (): Promise<FakeAws> => {
  const aws = await startFakeAws({ seed: scenarioSeed() });
  holdFindings(aws.state, events);
  return aws;
};

const environment = (aws: FakeAws, mode: 'enforce' | 'dry-run'): Record<string, string> => ({
  ...aws.env(),
  RIPOSTE_MODE: mode,
  RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn,
});

beforeAll(() => {
  requireFreshBundle();
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('dist/handler.mjs replaying the canonical scenario', () => {
  it('makes exactly the expected calls in enforce mode, on the named resources only', async () => {
    fake = await scenarioFake();

    const run = await runBundle(environment(fake, 'enforce'), events.map(invocation));

    expect(run.initError).toBeUndefined();
    expect(
      run.results.map((result) => result.ok && (result.response as InvocationResult).results[0]?.outcome),
    ).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(inExpectedGroups(fake.mutatingCalls().map(describeCall))).toEqual(expectedGroups);
    expect(fake.state.associations.get(SCENARIO.secondAssociationId)?.state).toBe('associated');
    const touched = JSON.stringify(fake.mutatingCalls().map((call) => call.params));
    expect(touched).not.toContain(SCENARIO.secondInstanceId);
    expect(touched).not.toContain(SCENARIO.secondBucketName);
  });

  it('makes no mutating call in dry-run, and reports every step it would take', async () => {
    fake = await scenarioFake();

    const run = await runBundle(environment(fake, 'dry-run'), events.map(invocation));

    expect(fake.mutatingCalls()).toEqual([]);
    const results = run.results.map((result) =>
      result.ok ? (result.response as InvocationResult).results[0] : undefined,
    );
    expect(results.map((result) => [result?.mode, result?.outcome])).toEqual(
      Array(4).fill(['dry-run', 'dry-run']),
    );
    const statuses = new Set(results.flatMap((result) => result?.steps.map((step) => step.status) ?? []));
    expect([...statuses].every((status) => ['dry-run', 'no-op', 'refused'].includes(status))).toBe(true);
    expect(fake.calls.length).toBeGreaterThan(0);
  });

  it('executes the same event delivered three times once', async () => {
    fake = await scenarioFake();
    const deliveries = events.flatMap((event) => [event, event, event]);

    const run = await runBundle(environment(fake, 'enforce'), deliveries.map(invocation));

    expect(inExpectedGroups(fake.mutatingCalls().map(describeCall))).toEqual(expectedGroups);
    const codes = run.results.map(
      (result) => result.ok && (result.response as InvocationResult).results[0]?.code,
    );
    expect(codes).toEqual(events.flatMap(() => ['HANDLED', 'ALREADY_HANDLED', 'ALREADY_HANDLED']));
  });

  it('logs JSON lines per step and per finding, without the credentials it runs with', async () => {
    fake = await scenarioFake();

    const run = await runBundle(environment(fake, 'enforce'), events.slice(0, 1).map(invocation));

    const steps = run.logs.filter((line) => typeof line.step === 'string');
    expect(steps.length).toBe(6);
    expect(
      steps.every(
        (line) => line.findingId === '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01' && line.playbook && line.action,
      ),
    ).toBe(true);
    expect(run.logs.filter((line) => line.code === 'HANDLED')).toHaveLength(1);
    expect(JSON.stringify(run.logs)).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
  });

  it('refuses to start, loudly, with an invalid mode', async () => {
    fake = await scenarioFake();

    const run = await runBundle(
      { ...environment(fake, 'enforce'), RIPOSTE_MODE: 'yolo' },
      events.map(invocation),
    );

    // The class name survives minification: Lambda reports it as the init error's errorType.
    expect(run.initError).toMatchObject({ name: 'AdapterConfigurationError', code: 'LAMBDA_CONFIG_INVALID' });
    expect(run.initError?.message).toContain('RIPOSTE_MODE');
    expect(run.logs.find((line) => line.level === 'fatal')).toBeDefined();
    expect(fake.calls).toEqual([]);
  });

  it('runs from function.zip alone, as Lambda unpacks it: handler.mjs and the chunks it loads', async () => {
    fake = await scenarioFake();
    const unpacked = await mkdtemp(join(tmpdir(), 'riposte-zip-'));
    try {
      const files = unzipSync(readFileSync(join(dirname(BUNDLE), 'function.zip')));
      expect(Object.keys(files).some((name) => name.startsWith('chunks/'))).toBe(true);
      for (const [name, content] of Object.entries(files)) {
        await mkdir(dirname(join(unpacked, name)), { recursive: true });
        await writeFile(join(unpacked, name), content);
      }

      const run = await runBundle(
        environment(fake, 'enforce'),
        events.map(invocation),
        join(unpacked, 'handler.mjs'),
      );

      expect(run.initError).toBeUndefined();
      expect(inExpectedGroups(fake.mutatingCalls().map(describeCall))).toEqual(expectedGroups);
    } finally {
      await rm(unpacked, { recursive: true, force: true });
    }
  });
});
