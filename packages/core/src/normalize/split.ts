/**
 * The first step of normalize: which parts of an input are GuardDuty findings, one part per finding.
 * Core's `normalize` and the Lambda adapter both read input through `splitInput`, so they cannot
 * disagree on what is a finding.
 *
 * Recognised:
 * - an EventBridge event `GuardDuty Finding` (source `aws.guardduty`, or none): one finding, its `detail`;
 * - an EventBridge event `Security Hub Findings - Imported` or `- Custom Action` (source
 *   `aws.securityhub`, or none): one part per element of `detail.findings`, GuardDuty's own ASFF
 *   findings accepted, other products' refused one by one (a bad neighbour never hides a good finding);
 * - a bare GuardDuty finding: the event `detail`, a GetFindings element (camelCase as the API and CLI
 *   write it, or PascalCase as the AWS SDK v3 returns it);
 * - a bare ASFF finding;
 * - a list of any of these, or `{ "Findings": [...] }` / `{ "findings": [...] }` (a GetFindings
 *   response, the `detail` of a Security Hub event). Lists do not nest: a list inside a list is refused,
 *   never recursed into (arrays nested thousands deep must be a rejection, not a stack overflow).
 *
 * An object with `detail-type` or `source` is an event; one with `ProductArn` or `AwsAccountId` is ASFF;
 * one with any top-level field of GuardDuty's format is a GuardDuty finding; anything else is refused.
 */
import { isAsffFinding, isGuardDutyAsff } from './asff.js';
import { isGuardDutyFinding } from './guardduty.js';
import {
  isObject,
  type JsonObject,
  kindOf,
  missingReason,
  pointer,
  quoteValue,
  wrongTypeReason,
} from './read.js';

/**
 * Why a part of the input is not read:
 * - `EVENT_UNSUPPORTED`: not an event or finding Riposte reads (another source or detail-type, a bare
 *   value, an object of neither shape, a Security Hub event without a list of findings);
 * - `FINDING_UNSUPPORTED`: an ASFF finding of another product than GuardDuty;
 * - `FINDING_INVALID`: the input claims to carry a finding, but it is malformed.
 */
export type InputRejectionCode = 'EVENT_UNSUPPORTED' | 'FINDING_UNSUPPORTED' | 'FINDING_INVALID';

/** One GuardDuty finding in the input, not yet read. */
export interface FindingPart {
  kind: 'finding';
  /** How the finding is written: GuardDuty's own format, or ASFF (Security Hub). */
  format: 'guardduty' | 'asff';
  /** The part as delivered: a `GuardDuty Finding` event, or the finding itself. Split alone, it is one part. */
  input: JsonObject;
  /** The finding: the event's `detail`, or `input` itself. */
  finding: JsonObject;
  /** The JSON pointer of `finding` in the whole input. */
  path: string;
}

/** A part of the input that is not read, and why. */
export interface InputRejection {
  kind: 'rejected';
  code: InputRejectionCode;
  /** What is wrong, without where. */
  reason: string;
  /** The JSON pointer of the offending node in the whole input (`''` for the input itself). */
  path: string;
  /** `<path>: <reason>`, worded as FindingFormatError words the same problem. */
  message: string;
}

export type InputPart = FindingPart | InputRejection;

const GUARDDUTY_DETAIL_TYPE = 'GuardDuty Finding';
const SECURITY_HUB_DETAIL_TYPES: ReadonlySet<string> = new Set([
  'Security Hub Findings - Imported',
  'Security Hub Findings - Custom Action',
]);
const HANDLED_EVENTS = `"${GUARDDUTY_DETAIL_TYPE}" (aws.guardduty) and ${[...SECURITY_HUB_DETAIL_TYPES].map((type) => `"${type}"`).join(' and ')} (aws.securityhub)`;

const reject = (code: InputRejectionCode, reason: string, path: string): InputRejection => ({
  kind: 'rejected',
  code,
  reason,
  path,
  message: path ? `${path}: ${reason}` : reason,
});

const asffPart = (finding: JsonObject, path: string): InputPart =>
  isGuardDutyAsff(finding)
    ? { kind: 'finding', format: 'asff', input: finding, finding, path }
    : reject(
        'FINDING_UNSUPPORTED',
        `not a GuardDuty finding (ProductArn ${quoteValue(finding.ProductArn)}, not arn:…:securityhub:<region>::product/aws/guardduty)`,
        pointer(path, 'ProductArn'),
      );

const splitSecurityHubEvent = (event: JsonObject, detailType: string, path: string, parts: InputPart[]) => {
  const detail = event.detail;
  const findings = isObject(detail) ? detail.findings : undefined;
  if (!Array.isArray(findings)) {
    const where = isObject(detail) ? pointer(pointer(path, 'detail'), 'findings') : pointer(path, 'detail');
    parts.push(reject('EVENT_UNSUPPORTED', `a ${detailType} event without detail.findings`, where));
    return;
  }
  const listPath = pointer(pointer(path, 'detail'), 'findings');
  findings.forEach((finding, index) => {
    const findingPath = pointer(listPath, index);
    parts.push(
      isObject(finding)
        ? asffPart(finding, findingPath)
        : reject('FINDING_INVALID', wrongTypeReason('an ASFF finding object', finding), findingPath),
    );
  });
};

const splitEvent = (event: JsonObject, path: string, parts: InputPart[]): void => {
  const source = event.source;
  const detailType = event['detail-type'];
  const expectedSource =
    detailType === GUARDDUTY_DETAIL_TYPE
      ? 'aws.guardduty'
      : typeof detailType === 'string' && SECURITY_HUB_DETAIL_TYPES.has(detailType)
        ? 'aws.securityhub'
        : undefined;
  if (expectedSource === undefined || (source !== undefined && source !== expectedSource)) {
    parts.push(
      reject(
        'EVENT_UNSUPPORTED',
        `${quoteValue(source)} ${quoteValue(detailType)} events are not handled; Riposte reads ${HANDLED_EVENTS}`,
        pointer(path, expectedSource === undefined ? 'detail-type' : 'source'),
      ),
    );
    return;
  }
  if (expectedSource === 'aws.securityhub') {
    splitSecurityHubEvent(event, String(detailType), path, parts);
    return;
  }
  const detail = event.detail;
  const detailPath = pointer(path, 'detail');
  if (isObject(detail))
    parts.push({ kind: 'finding', format: 'guardduty', input: event, finding: detail, path: detailPath });
  else if (detail === undefined || detail === null)
    parts.push(reject('FINDING_INVALID', missingReason('detail', 'object'), detailPath));
  else parts.push(reject('FINDING_INVALID', wrongTypeReason('an object', detail), detailPath));
};

/** The key of the list in `{ "Findings": [...] }` / `{ "findings": [...] }`, unless the object is a finding. */
const listKeyOf = (value: JsonObject): 'Findings' | 'findings' | undefined => {
  if ('id' in value || 'Id' in value) return undefined;
  if (Array.isArray(value.Findings)) return 'Findings';
  if (Array.isArray(value.findings)) return 'findings';
  return undefined;
};

const split = (value: unknown, path: string, inList: boolean, parts: InputPart[]): void => {
  if (Array.isArray(value)) {
    if (inList) {
      parts.push(
        reject(
          'EVENT_UNSUPPORTED',
          'expected an EventBridge event or a GuardDuty finding, got an array (lists of findings do not nest)',
          path,
        ),
      );
      return;
    }
    for (const [index, element] of value.entries()) split(element, pointer(path, index), true, parts);
    return;
  }
  if (!isObject(value)) {
    parts.push(
      reject(
        'EVENT_UNSUPPORTED',
        `expected an EventBridge event or a GuardDuty finding, got ${kindOf(value)}`,
        path,
      ),
    );
    return;
  }
  if ('detail-type' in value || 'source' in value) {
    splitEvent(value, path, parts);
    return;
  }
  const listKey = listKeyOf(value);
  if (listKey) split(value[listKey], pointer(path, listKey), inList, parts);
  else if (isAsffFinding(value)) parts.push(asffPart(value, path));
  else if (isGuardDutyFinding(value))
    parts.push({ kind: 'finding', format: 'guardduty', input: value, finding: value, path });
  else
    parts.push(
      reject(
        'EVENT_UNSUPPORTED',
        'an object that is neither an EventBridge event nor a GuardDuty finding',
        path,
      ),
    );
};

/**
 * Each GuardDuty finding of `input`, or the reason a part of it is not one, in input order. An empty
 * list (or an event with an empty `detail.findings`) gives no part. Never throws.
 */
export const splitInput = (input: unknown): InputPart[] => {
  const parts: InputPart[] = [];
  split(input, '', false, parts);
  return parts;
};
