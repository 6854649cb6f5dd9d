/**
 * The fault matrix both fault suites run: a fault of each kind on each call of the scenario's
 * responses, once (transient) or on every attempt (persistent), through the real handler and SDK
 * clients. After a persistent fault the invocation is delivered again with the fault gone, as Lambda
 * retries it.
 */
import { expect } from 'vitest';
import type { FakeService, FaultKind } from '../../../../testing/fake-aws/index.js';
import { recordCounts } from '../../../core/tests/reliability/counts.js';
import type { FindingResult } from '../../src/index.js';
import {
  type Invocation,
  type Lambda,
  resultsOf,
  scenarioEvents,
  startLambda,
  successfulMutations,
} from './support.js';

export interface FaultTarget {
  /** Index into the scenario's events. */
  event: number;
  service: FakeService;
  operation: string;
  mutating: boolean;
}

export const TARGETS: FaultTarget[] = [
  { event: 0, service: 'EC2', operation: 'DescribeIamInstanceProfileAssociations', mutating: false },
  { event: 0, service: 'EC2', operation: 'DisassociateIamInstanceProfile', mutating: true },
  { event: 0, service: 'EC2', operation: 'CreateTags', mutating: true },
  { event: 0, service: 'IAM', operation: 'GetRole', mutating: false },
  { event: 0, service: 'IAM', operation: 'PutRolePolicy', mutating: true },
  { event: 0, service: 'STS', operation: 'GetCallerIdentity', mutating: false },
  { event: 0, service: 'SNS', operation: 'Publish', mutating: true },
  { event: 1, service: 'S3', operation: 'GetPublicAccessBlock', mutating: false },
  { event: 1, service: 'S3', operation: 'PutPublicAccessBlock', mutating: true },
  { event: 2, service: 'CloudTrail', operation: 'StartLogging', mutating: true },
];

export const KINDS: FaultKind[] = ['throttle', 'slowdown', 'error500', 'timeout', 'accessDenied', 'notFound'];

/** Where throttling answers RequestLimitExceeded (EC2), Throttling (IAM) and 503 SlowDown (S3). */
const SLOW_KIND_TARGETS = new Set([
  'DisassociateIamInstanceProfile',
  'PutRolePolicy',
  'PutPublicAccessBlock',
]);

/**
 * The calls each kind is injected on. Throttling, 503s and timeouts cost real seconds (after one the
 * clients' adaptive retry slows every later call; a timeout waits its time out), so they hit one
 * mutating call of EC2, IAM and S3; the other kinds hit every call.
 */
export const targetsFor = (kind: FaultKind): FaultTarget[] =>
  kind === 'throttle' || kind === 'slowdown' || kind === 'timeout'
    ? TARGETS.filter((target) => SLOW_KIND_TARGETS.has(target.operation))
    : TARGETS;

export const RETRYABLE_KINDS = new Set<FaultKind>(['throttle', 'slowdown', 'error500', 'timeout']);

/** Long enough for a loaded CI machine to answer a healthy call, short enough to keep the suite quick. */
const REQUEST_TIMEOUT_MS = 400;

export interface FaultRun {
  faultsInjected: number;
  retried: boolean;
  codes: string[];
  repeatedMutations: string[];
  lostReports: number;
}

const onlyResult = (invocation: Invocation): FindingResult => {
  const results = resultsOf(invocation) ?? [];
  expect(results).toHaveLength(1);
  return results[0] as FindingResult;
};

/**
 * Runs the target's event with the fault injected and checks what must hold whatever the fault:
 * one result (returned, or carried by the retry request), every failed step with a code, a thrown
 * retry request exactly when the result is retryable, and no change to the account made twice.
 */
export const runWithFault = async (
  target: FaultTarget,
  kind: FaultKind,
  persistent: boolean,
): Promise<FaultRun> => {
  // Clients time out (the handler's own clients set no timeout: see the report), and retry as by default.
  const lambda: Lambda = await startLambda({ clientConfig: { requestTimeoutMs: REQUEST_TIMEOUT_MS } });
  try {
    const event = scenarioEvents()[target.event];
    lambda.fake.fail({
      service: target.service,
      operation: target.operation,
      kind,
      ...(persistent ? {} : { times: 1 }),
    });

    const first = await lambda.invoke(event);
    const result = onlyResult(first);
    const faulted = lambda.fake.calls.filter((call) => call.operation === target.operation);
    // A bucket without a public access block answers GetPublicAccessBlock with an error of its own.
    const faultsInjected = faulted.filter(
      (call) => call.errorCode !== undefined && call.errorCode !== 'NoSuchPublicAccessBlockConfiguration',
    ).length;

    expect(result.code).toBe('HANDLED');
    for (const step of result.steps.filter((candidate) => candidate.status === 'failed')) {
      expect(step.error?.code).toMatch(/\S/);
      expect(typeof step.error?.retryable).toBe('boolean');
    }
    // Retry requested (thrown) exactly when a retry may help; the results travel with it.
    expect(first.ok).toBe(!result.retryable);
    const retryable = RETRYABLE_KINDS.has(kind);
    if (!persistent && retryable) {
      // The SDK retried the call: the response is whole.
      expect(faulted.length).toBeGreaterThan(1);
      expect(result.outcome).toBe('applied');
    }
    if (persistent && target.mutating && target.service !== 'SNS') {
      const failed = result.steps.filter((step) => step.status === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.some((step) => step.error?.retryable === retryable)).toBe(true);
      // The SDK names the error after the wire code (NoSuchEntity -> NoSuchEntityException).
      if (!retryable) {
        const wire = faulted[0]?.errorCode ?? '?';
        expect(failed.some((step) => step.error?.code.startsWith(wire))).toBe(true);
      }
    }

    let retried = false;
    if (!first.ok) {
      // Lambda delivers the event again; by then the fault has passed.
      lambda.fake.clearFaults();
      const second = onlyResult(await lambda.invoke(event));
      retried = true;
      expect(second.code).toBe('HANDLED');
      expect(second.retryable).toBe(false);
      expect(['applied', 'nothing-to-do']).toContain(second.outcome);
    }

    const logged = lambda.logs
      .entries()
      .filter((line) => line.code === 'HANDLED' && line.findingId === result.findingId);
    const repeatedMutations = [...successfulMutations(lambda.fake)]
      .filter(([, count]) => count > 1)
      .map(([key, count]) => `${key} x${count}`);
    expect(repeatedMutations).toEqual([]);
    return {
      faultsInjected,
      retried,
      codes: result.steps.flatMap((step) => (step.error ? [step.error.code] : [])),
      repeatedMutations,
      lostReports: (retried ? 2 : 1) - logged.length,
    };
  } finally {
    await lambda.fake.close();
  }
};

export const FAULTS_SUITE = 'lambda-adapter: faults';

/**
 * A fault of one kind on every attempt of each of its calls: reported with its code, the invocation
 * failed (so Lambda delivers it again) exactly when retrying may help, nothing lost or repeated.
 */
export const persistentFaultsHold = async (kind: FaultKind): Promise<void> => {
  const codes: Record<string, number> = {};
  let faults = 0;
  let lost = 0;
  let redelivered = 0;

  for (const target of targetsFor(kind)) {
    const run = await runWithFault(target, kind, true);
    faults += run.faultsInjected;
    lost += run.lostReports;
    if (run.retried) redelivered += 1;
    for (const code of run.codes) codes[code] = (codes[code] ?? 0) + 1;
  }

  recordCounts(FAULTS_SUITE, `${kind} on every attempt of each of ${targetsFor(kind).length} calls`, {
    inputs: targetsFor(kind).length,
    faultsInjected: faults,
    codes: { ...codes, lostReports: lost, redeliveredByLambda: redelivered },
  });
  expect(faults).toBeGreaterThanOrEqual(targetsFor(kind).length);
  expect(lost).toBe(0);
  if (RETRYABLE_KINDS.has(kind)) expect(redelivered).toBeGreaterThan(0);
  else expect(redelivered).toBe(0);
};
