/**
 * The envelopes a Lambda invocation wraps findings in: SQS batches, SNS notifications (also SNS through
 * SQS without raw delivery) and JSON message bodies. What is inside is core's to recognise
 * (`splitInput`), exactly as `normalize` recognises it.
 */
import {
  type InputRejectionCode,
  isObject,
  type JsonObject,
  kindOf,
  quoteValue,
  splitInput,
} from '@riposte/core';
import type { ResultCode } from './result.js';

/** An input that will not be handled, and why. */
export interface Rejection {
  kind: 'rejected';
  /** Core's reasons for a part of the input (`InputRejectionCode`), or a message body that is not JSON. */
  code: Extract<ResultCode, InputRejectionCode | 'BODY_INVALID'>;
  message: string;
}

/** One GuardDuty finding to normalize and handle: an EventBridge event, an ASFF finding, a bare finding. */
export interface FindingInput {
  kind: 'finding';
  input: unknown;
}

/** A person's decision on held steps: Security Hub's "Riposte: approve" or "Riposte: reject" on findings. */
export interface DecisionInput {
  decision: 'approval' | 'rejection';
  /** The custom action's ARN: who decided, as far as the event says. */
  actionTargetArn: string;
  units: (FindingInput | Rejection)[];
}

/** What an invocation carries. */
export type Invocation =
  | { kind: 'direct'; units: (FindingInput | Rejection)[] }
  | ({ kind: 'decision' } & DecisionInput)
  | { kind: 'sqs'; records: { messageId: string; units: (FindingInput | Rejection)[] }[] }
  | { kind: 'sns'; units: (FindingInput | Rejection)[] };

const reject = (code: Rejection['code'], message: string): Rejection => ({ kind: 'rejected', code, message });

/**
 * The findings an event, a finding or a list of them carries, one unit each (see core's `splitInput`):
 * a GuardDuty Finding event is one, a Security Hub event is each of its findings, and the findings of
 * other products are rejected one by one, so a bad neighbour never hides a good finding. An input that
 * holds nothing gets one rejection, so every message is answered.
 */
export const findingUnits = (event: unknown): (FindingInput | Rejection)[] => {
  const units = splitInput(event).map((part): FindingInput | Rejection =>
    part.kind === 'finding' ? { kind: 'finding', input: part.input } : reject(part.code, part.message),
  );
  return units.length > 0
    ? units
    : [reject('EVENT_UNSUPPORTED', 'the input holds no finding (an empty list)')];
};

const parseJson = (
  text: unknown,
  what: string,
): { ok: true; value: unknown } | { ok: false; rejection: Rejection } => {
  if (typeof text !== 'string')
    return { ok: false, rejection: reject('BODY_INVALID', `${what} is ${kindOf(text)}, not text`) };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, rejection: reject('BODY_INVALID', `${what} is not JSON`) };
  }
};

/** A message body: the event itself, or an SNS notification (not raw delivery) that carries it. */
const messageUnits = (text: unknown, what: string): (FindingInput | Rejection)[] => {
  const parsed = parseJson(text, what);
  if (!parsed.ok) return [parsed.rejection];
  const { value } = parsed;
  if (isObject(value) && value.Type === 'Notification' && 'Message' in value) {
    const inner = parseJson(value.Message, `${what}'s SNS Message`);
    return inner.ok ? findingUnits(inner.value) : [inner.rejection];
  }
  return findingUnits(value);
};

/** The ids the template gives the two custom actions (`AWS::SecurityHub::ActionTarget`). */
export const APPROVE_ACTION_ID = 'RiposteApprove';
export const REJECT_ACTION_ID = 'RiposteReject';

const ACTION_TARGET =
  /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12}):action\/custom\/(RiposteApprove|RiposteReject)$/;

/**
 * A Security Hub custom action event on one of Riposte's two actions, in the function's own account:
 * a decision. Any other custom action is an ordinary request to handle its findings.
 */
const decisionOf = (event: unknown, ownAccountId: string | undefined): DecisionInput | undefined => {
  if (!isObject(event) || event['detail-type'] !== 'Security Hub Findings - Custom Action') return undefined;
  if (event.source !== 'aws.securityhub' || !Array.isArray(event.resources)) return undefined;
  for (const resource of event.resources) {
    const match = typeof resource === 'string' ? ACTION_TARGET.exec(resource) : null;
    if (!match || (ownAccountId !== undefined && match[1] !== ownAccountId)) continue;
    return {
      decision: match[2] === APPROVE_ACTION_ID ? 'approval' : 'rejection',
      actionTargetArn: resource as string,
      units: findingUnits(event),
    };
  }
  return undefined;
};

/**
 * Sorts an invocation into direct events, decisions on held steps, SQS batches and SNS notifications.
 * Never throws.
 */
export const classifyInvocation = (event: unknown, ownAccountId?: string): Invocation => {
  const decision = decisionOf(event, ownAccountId);
  if (decision) return { kind: 'decision', ...decision };
  if (isObject(event) && Array.isArray(event.Records)) {
    const records = event.Records as unknown[];
    const sourceOf = (record: unknown): unknown =>
      isObject(record) ? (record.eventSource ?? record.EventSource) : undefined;
    if (records.length > 0 && records.every((record) => sourceOf(record) === 'aws:sqs')) {
      return {
        kind: 'sqs',
        records: records.map((record, index) => {
          const { messageId, body } = record as JsonObject;
          const id = typeof messageId === 'string' && messageId !== '' ? messageId : `record-${index}`;
          return { messageId: id, units: messageUnits(body, `SQS message ${id}`) };
        }),
      };
    }
    if (records.length > 0 && records.every((record) => sourceOf(record) === 'aws:sns')) {
      return {
        kind: 'sns',
        units: records.flatMap((record, index) => {
          const sns = (record as JsonObject).Sns;
          return messageUnits(isObject(sns) ? sns.Message : undefined, `SNS record ${index}`);
        }),
      };
    }
    const sources = [...new Set(records.map((record) => quoteValue(sourceOf(record))))].join(', ');
    return {
      kind: 'direct',
      units: [
        reject(
          'EVENT_UNSUPPORTED',
          `records from ${sources || 'nowhere'}: only SQS or SNS batches are handled`,
        ),
      ],
    };
  }
  return { kind: 'direct', units: findingUnits(event) };
};
