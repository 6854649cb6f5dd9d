import { readFileSync } from 'node:fs';
import type { AwsServices, AwsServicesOptions, FindingVerifier } from '@riposte/actions';
import { loadPlaybooks, type Playbook } from '@riposte/core';
import { createHandler, type HandlerOptions, type LambdaContext, type StsLike } from '../../src/index.js';
import { createRecorder, type Recorder, recordingRegistry } from './test-actions.js';

export const fixture = (path: string): string => new URL(`../fixtures/${path}`, import.meta.url).pathname;

/** A fresh copy of a fixture event (tests mutate them). */
export const readEvent = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(fixture(`events/${name}`), 'utf8')) as Record<string, unknown>;

/** The canonical scenario's EventBridge events. */
export const scenarioEvent = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../../../examples/scenario/findings/${name}`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;

export const lambdaContext = (accountId: string, overrides: Partial<LambdaContext> = {}): LambdaContext => ({
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:${accountId}:function:riposte`,
  getRemainingTimeInMillis: () => 60_000,
  ...overrides,
});

export interface LogCapture {
  destination: { write(line: string): void };
  text(): string;
  entries(): Record<string, unknown>[];
}

export const captureLogs = (): LogCapture => {
  const lines: string[] = [];
  return {
    destination: { write: (line) => void lines.push(line) },
    text: () => lines.join(''),
    entries: () =>
      lines
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
};

/** A service bag that only says which credentials it was built with. */
export const taggedServices = (options: AwsServicesOptions): AwsServices =>
  ({ credentialsFor: options.credentialsFor, env: options.env }) as unknown as AwsServices;

/** The account the test functions run in, unless a test says otherwise. */
export const OWN_ACCOUNT = '111122223333';

/** STS as it answers a Lambda function: its execution role's session. */
export const identitySts = (accountId = OWN_ACCOUNT): StsLike =>
  ({
    send: async (command: { constructor: { name: string } }) => {
      if (command.constructor.name !== 'GetCallerIdentityCommand') {
        throw Object.assign(new Error('AssumeRole is not served by this stub'), { name: 'AccessDenied' });
      }
      return {
        Account: accountId,
        Arn: `arn:aws:sts::${accountId}:assumed-role/riposte-function/riposte`,
      };
    },
  }) as StsLike;

/**
 * GuardDuty holding exactly the findings delivered: handler tests that are not about provenance
 * use it. Provenance itself is tested with the GuardDuty verifier (verify.test.ts, the security suite).
 */
export const vouchingVerifier = (): FindingVerifier => ({
  verify: async (finding) => ({
    status: 'verified',
    finding,
    detectorId: /detector\/([a-z0-9]+)\//.exec(finding.arn ?? '')?.[1] ?? 'detector-of-the-test',
    via: 'own-detector',
    calls: [],
  }),
});

export interface TestHandler {
  handler: ReturnType<typeof createHandler>;
  recorder: Recorder;
  logs: LogCapture;
  /** The EMF documents the handler flushed, parsed. */
  metrics: Record<string, unknown>[];
  playbooks: Playbook[];
}

/** A handler over the fixture playbooks and the recording action, logging into memory. */
export const testHandler = async (
  env: Record<string, string | undefined> = { RIPOSTE_MODE: 'enforce' },
  options: Partial<HandlerOptions> = {},
): Promise<TestHandler> => {
  const recorder = createRecorder();
  const registry = recordingRegistry(recorder);
  const playbooks = await loadPlaybooks([fixture('playbooks')], { registry });
  const logs = captureLogs();
  const metrics: Record<string, unknown>[] = [];
  const handler = createHandler({
    env,
    registry,
    playbooks,
    createServices: taggedServices,
    logDestination: logs.destination,
    clock: () => new Date('2025-06-03T16:00:00.000Z'),
    sts: identitySts(),
    verifier: vouchingVerifier,
    metricsOutput: (line) => void metrics.push(JSON.parse(line) as Record<string, unknown>),
    ...options,
  });
  return { handler, recorder, logs, metrics, playbooks };
};
