import { isGuardDutyAsff } from '@riposte/core';
import type { ResultCode } from './result.js';

/** An input that will not be handled, and why. */
export interface Rejection {
  kind: 'rejected';
  code: Extract<ResultCode, 'EVENT_UNSUPPORTED' | 'FINDING_UNSUPPORTED' | 'BODY_INVALID'>;
  message: string;
}

/** One GuardDuty finding to normalize and handle: an EventBridge event, an ASFF finding, a bare finding. */
export interface FindingInput {
  kind: 'finding';
  input: unknown;
}

/** What an invocation carries. */
export type Invocation =
  | { kind: 'direct'; units: (FindingInput | Rejection)[] }
  | { kind: 'sqs'; records: { messageId: string; units: (FindingInput | Rejection)[] }[] }
  | { kind: 'sns'; units: (FindingInput | Rejection)[] };

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : typeof value;

const quote = (value: unknown): string =>
  typeof value === 'string' ? `"${value.slice(0, 80)}"` : describe(value);

const reject = (code: Rejection['code'], message: string): Rejection => ({ kind: 'rejected', code, message });

const SECURITY_HUB_DETAIL_TYPES = new Set([
  'Security Hub Findings - Imported',
  'Security Hub Findings - Custom Action',
]);

const looksLikeFinding = (value: JsonObject): boolean =>
  ('schemaVersion' in value && 'type' in value && 'id' in value) ||
  ('SchemaVersion' in value && 'ProductArn' in value);

/**
 * The findings an EventBridge event (or a bare finding) carries: a GuardDuty Finding event is one, a
 * Security Hub event is each of its GuardDuty findings (the others are rejected one by one, so a
 * bad neighbour never hides a good finding).
 */
export const findingUnits = (event: unknown): (FindingInput | Rejection)[] => {
  if (!isObject(event)) {
    return [
      reject(
        'EVENT_UNSUPPORTED',
        `expected an EventBridge event or a GuardDuty finding, got ${describe(event)}`,
      ),
    ];
  }
  const source = event.source;
  const detailType = event['detail-type'];
  if (source === undefined && detailType === undefined) {
    return looksLikeFinding(event)
      ? [{ kind: 'finding', input: event }]
      : [
          reject(
            'EVENT_UNSUPPORTED',
            'an object that is neither an EventBridge event nor a GuardDuty finding',
          ),
        ];
  }
  if (source === 'aws.guardduty' && detailType === 'GuardDuty Finding')
    return [{ kind: 'finding', input: event }];
  if (
    source === 'aws.securityhub' &&
    typeof detailType === 'string' &&
    SECURITY_HUB_DETAIL_TYPES.has(detailType)
  ) {
    const findings = isObject(event.detail) ? event.detail.findings : undefined;
    if (!Array.isArray(findings) || findings.length === 0) {
      return [reject('EVENT_UNSUPPORTED', `a ${detailType} event without detail.findings`)];
    }
    return findings.map((finding, index) =>
      isObject(finding) && isGuardDutyAsff(finding)
        ? { kind: 'finding', input: finding }
        : reject(
            'FINDING_UNSUPPORTED',
            `detail.findings[${index}] is not a GuardDuty finding (ProductArn ${quote(isObject(finding) ? finding.ProductArn : finding)})`,
          ),
    );
  }
  return [reject('EVENT_UNSUPPORTED', `${quote(source)} ${quote(detailType)} events are not handled`)];
};

const parseJson = (
  text: unknown,
  what: string,
): { ok: true; value: unknown } | { ok: false; rejection: Rejection } => {
  if (typeof text !== 'string')
    return { ok: false, rejection: reject('BODY_INVALID', `${what} is ${describe(text)}, not text`) };
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

/** Sorts an invocation into direct events, SQS batches and SNS notifications. Never throws. */
export const classifyInvocation = (event: unknown): Invocation => {
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
    const sources = [...new Set(records.map((record) => quote(sourceOf(record))))].join(', ');
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
