import type { AwsServices } from '@riposte/actions';
import { createRegistry } from '@riposte/actions';
import { type ActionDefinition, awsErrorName, ExecutionError } from '@riposte/core';

/** How the recording action behaves for a finding id (default: applies). */
export type Behaviour = 'apply' | 'retryable' | 'permanent' | { gate: Promise<void> } | { leak: string };

export interface Recorder {
  /** `<finding id>:<playbook>` for every execution, in order. */
  executed: string[];
  /** The services each execution ran with. */
  services: unknown[];
  behaviour: Map<string, Behaviour>;
}

/**
 * A stand-in for a remediation action: it targets the finding itself, plans one mutating call and
 * records each execution, so handler tests count executions without any AWS endpoint.
 */
export const recordingAction = (
  recorder: Recorder,
): ActionDefinition<Record<string, unknown>, AwsServices> => ({
  name: 'record-response',
  summary: 'Records that the response ran (test action)',
  phase: 'notify',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
  permissions: ['sns:Publish'],
  grants: () => [{ actions: ['sns:Publish'], resources: ['{notification-topic}'] }],
  resourceKinds: ['finding'],
  example: '- action: record-response',
  idempotency: 'Records every execution.',
  targets: (finding) => ({
    targets: [
      {
        kind: 'finding',
        id: finding.id,
        accountId: finding.accountId,
        region: finding.region,
        label: `finding ${finding.id}`,
      },
    ],
  }),
  plan: async ({ finding }) => ({
    status: 'planned',
    lookups: [],
    calls: [{ service: 'SNS', operation: 'Publish', input: { Subject: finding.type.name }, mutating: true }],
  }),
  execute: async ({ finding, playbook, services }) => {
    const behaviour = recorder.behaviour.get(finding.id) ?? 'apply';
    if (typeof behaviour === 'object' && 'gate' in behaviour) await behaviour.gate;
    recorder.executed.push(`${finding.id}:${playbook}`);
    recorder.services.push(services);
    const call = { service: 'SNS', operation: 'Publish', input: {}, mutating: true, durationMs: 1 };
    if (behaviour === 'retryable' || behaviour === 'permanent') {
      const retryable = behaviour === 'retryable';
      return {
        status: 'failed',
        calls: [{ ...call, errorCode: retryable ? 'ThrottlingException' : 'AuthorizationErrorException' }],
        error: new ExecutionError(
          awsErrorName(retryable ? 'ThrottlingException' : 'AuthorizationErrorException'),
          'SNS Publish failed',
          {
            retryable,
          },
        ),
      };
    }
    if (typeof behaviour === 'object' && 'leak' in behaviour) {
      return { status: 'applied', reason: `posted to ${behaviour.leak}`, calls: [call] };
    }
    return { status: 'applied', calls: [{ ...call, requestId: `req-${recorder.executed.length}` }] };
  },
});

export const createRecorder = (): Recorder => ({ executed: [], services: [], behaviour: new Map() });

export const recordingRegistry = (recorder: Recorder) => createRegistry([recordingAction(recorder)]);
