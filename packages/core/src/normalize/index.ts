/**
 * Turns whatever carries GuardDuty findings into the one Finding model.
 *
 * Accepted input:
 * - an EventBridge event `GuardDuty Finding` (source `aws.guardduty`);
 * - an EventBridge event `Security Hub Findings - Imported` or `- Custom Action`: every GuardDuty
 *   finding of `detail.findings` (ASFF); findings of other products are skipped;
 * - a bare GuardDuty finding: the event `detail`, a GetFindings element (camelCase as the API and CLI
 *   write it, or PascalCase as the AWS SDK v3 returns it);
 * - a bare ASFF finding;
 * - an array of any of these, or `{ "Findings": [...] }` / `{ "findings": [...] }`.
 *
 * Anything else throws FindingFormatError with the JSON pointer of the offending node.
 */
import { FindingFormatError } from '../errors.js';
import type { Finding } from '../finding.js';
import { isAsffFinding, isGuardDutyAsff, normalizeAsffFinding } from './asff.js';
import { normalizeGuardDutyFinding } from './guardduty.js';
import { describe, isObject, type JsonObject, missing, pointer, wrongType } from './read.js';

export { findingTypeFromAsffType, isGuardDutyAsff } from './asff.js';
export { parseFindingType } from './finding-type.js';

const GUARDDUTY_DETAIL_TYPE = 'GuardDuty Finding';
const SECURITY_HUB_DETAIL_TYPES: ReadonlySet<string> = new Set([
  'Security Hub Findings - Imported',
  'Security Hub Findings - Custom Action',
]);

interface Collected {
  findings: Finding[];
  /** Where ASFF findings of other products were skipped. */
  skipped: string[];
}

const checkSource = (event: JsonObject, path: string, expected: string): void => {
  const source = event.source;
  if (source !== undefined && source !== expected) {
    throw new FindingFormatError(
      `expected source "${expected}", got ${describe(source)}`,
      pointer(path, 'source'),
    );
  }
};

const detailOf = (event: JsonObject, path: string): JsonObject => {
  const detail = event.detail;
  if (detail === undefined || detail === null) throw missing(path, 'detail', 'object');
  if (!isObject(detail)) throw wrongType(pointer(path, 'detail'), 'an object', detail);
  return detail;
};

const collectAsff = (finding: JsonObject, path: string, into: Collected): void => {
  if (isGuardDutyAsff(finding)) into.findings.push(normalizeAsffFinding(finding, path));
  else into.skipped.push(path);
};

const collectEvent = (event: JsonObject, path: string, into: Collected): void => {
  const detailType = event['detail-type'];
  if (detailType === GUARDDUTY_DETAIL_TYPE) {
    checkSource(event, path, 'aws.guardduty');
    into.findings.push(normalizeGuardDutyFinding(detailOf(event, path), pointer(path, 'detail')));
    return;
  }
  if (typeof detailType === 'string' && SECURITY_HUB_DETAIL_TYPES.has(detailType)) {
    checkSource(event, path, 'aws.securityhub');
    const detail = detailOf(event, path);
    const detailPath = pointer(path, 'detail');
    const findings = detail.findings;
    if (!Array.isArray(findings)) {
      throw findings === undefined
        ? missing(detailPath, 'findings', 'array')
        : wrongType(pointer(detailPath, 'findings'), 'an array', findings);
    }
    findings.forEach((finding, index) => {
      const findingPath = pointer(pointer(detailPath, 'findings'), index);
      if (!isObject(finding)) throw wrongType(findingPath, 'an ASFF finding object', finding);
      collectAsff(finding, findingPath, into);
    });
    return;
  }
  throw new FindingFormatError(
    `unsupported detail-type ${describe(detailType)}; expected "${GUARDDUTY_DETAIL_TYPE}" or ${[...SECURITY_HUB_DETAIL_TYPES].map((t) => `"${t}"`).join(' or ')}`,
    pointer(path, 'detail-type'),
  );
};

// Lists hold findings or events, never further lists: a nested list is refused, never recursed into
// (an input of arrays nested thousands deep must be a typed error, not a stack overflow).
const collect = (input: unknown, path: string, into: Collected, inList = false): void => {
  if (Array.isArray(input)) {
    if (inList)
      throw wrongType(path, 'a finding or an EventBridge event (lists of findings do not nest)', input);
    for (const [index, element] of input.entries()) collect(element, pointer(path, index), into, true);
    return;
  }
  if (!isObject(input)) {
    throw wrongType(path, 'a finding, an EventBridge event, or a list of findings', input);
  }
  if ('detail-type' in input) {
    collectEvent(input, path, into);
    return;
  }
  const listKey = Array.isArray(input.Findings)
    ? 'Findings'
    : Array.isArray(input.findings)
      ? 'findings'
      : undefined;
  if (listKey && !('id' in input) && !('Id' in input)) {
    collect(input[listKey], pointer(path, listKey), into, inList);
    return;
  }
  if (isAsffFinding(input)) collectAsff(input, path, into);
  else into.findings.push(normalizeGuardDutyFinding(input, path));
};

/**
 * Every GuardDuty finding in `input` (see the module comment for the accepted shapes), normalized.
 * An empty list gives an empty result; input that holds only non-GuardDuty ASFF findings is an error.
 *
 * @throws FindingFormatError (code FINDING_INVALID) with the JSON pointer of the offending node.
 */
export const normalize = (input: unknown): Finding[] => {
  const collected: Collected = { findings: [], skipped: [] };
  collect(input, '', collected);
  const [firstSkipped] = collected.skipped;
  if (collected.findings.length === 0 && firstSkipped !== undefined) {
    throw new FindingFormatError(
      'not a GuardDuty finding (ProductArn is not .../product/aws/guardduty)',
      pointer(firstSkipped, 'ProductArn'),
      { details: { skipped: collected.skipped } },
    );
  }
  return collected.findings;
};

/**
 * The one GuardDuty finding in `input`.
 *
 * @throws FindingFormatError when the input holds no finding or more than one.
 */
export const normalizeFinding = (input: unknown): Finding => {
  const findings = normalize(input);
  const [finding] = findings;
  if (findings.length !== 1 || finding === undefined) {
    throw new FindingFormatError(`expected exactly one finding, got ${findings.length}`, '');
  }
  return finding;
};
