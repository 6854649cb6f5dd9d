/**
 * Turns whatever carries GuardDuty findings into the one Finding model: `splitInput` (split.ts) finds
 * the findings in the input (EventBridge events, Security Hub events, bare GuardDuty or ASFF findings,
 * lists of them), then each is read from its own format (guardduty.ts, asff.ts). Both formats share
 * the readers of each part: resources.ts (which resources a finding is about), kubernetes.ts, rds.ts,
 * runtime.ts (process and context), sequence.ts (attack sequences), actor.ts and attack.ts; Security
 * Hub's flattened copies of GuardDuty blocks are rebuilt by flattened.ts for the same readers.
 *
 * Anything else throws FindingFormatError with the JSON pointer of the offending node.
 */
import { FindingFormatError } from '../errors.js';
import type { Finding } from '../finding.js';
import { normalizeAsffFinding } from './asff.js';
import { normalizeGuardDutyFinding } from './guardduty.js';
import { type FindingPart, type InputRejection, splitInput } from './split.js';

export { findingTypeFromAsffType, isGuardDutyAsff } from './asff.js';
export { parseFindingType } from './finding-type.js';
export { isObject, type JsonObject, kindOf, quoteValue } from './read.js';
export {
  type FindingPart,
  type InputPart,
  type InputRejection,
  type InputRejectionCode,
  splitInput,
} from './split.js';

/** The finding of one part, read from its format; pointers in errors are relative to the whole input. */
const normalizePart = (part: FindingPart): Finding =>
  part.format === 'asff'
    ? normalizeAsffFinding(part.finding, part.path)
    : normalizeGuardDutyFinding(part.finding, part.path);

/**
 * Every GuardDuty finding in `input` (see splitInput for the accepted shapes), normalized. ASFF
 * findings of other products are skipped while the input holds some GuardDuty finding; an input that
 * holds only those is an error. An empty list gives an empty result.
 *
 * @throws FindingFormatError (code FINDING_INVALID) with the JSON pointer of the first offending node.
 */
export const normalize = (input: unknown): Finding[] => {
  const findings: Finding[] = [];
  const skipped: InputRejection[] = [];
  for (const part of splitInput(input)) {
    if (part.kind === 'finding') findings.push(normalizePart(part));
    else if (part.code === 'FINDING_UNSUPPORTED') skipped.push(part);
    else throw new FindingFormatError(part.reason, part.path);
  }
  const [firstSkipped] = skipped;
  if (findings.length === 0 && firstSkipped !== undefined) {
    throw new FindingFormatError(firstSkipped.reason, firstSkipped.path, {
      details: { skipped: skipped.map((part) => part.path) },
    });
  }
  return findings;
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
