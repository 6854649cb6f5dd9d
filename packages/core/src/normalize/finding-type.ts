import { FindingFormatError } from '../errors.js';
import type { FindingType } from '../finding.js';
import { quoteIdentifier } from '../identifiers.js';

/**
 * GuardDuty's longest types are well under 100 characters; a longer one is not a GuardDuty type, and
 * every later step (pattern matching included) may rely on this bound.
 */
export const MAX_FINDING_TYPE_LENGTH = 256;

// ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact
const FINDING_TYPE = /^([A-Za-z0-9]+):([A-Za-z0-9]+)\/([^.!]+)(?:\.([^!]+))?(?:!(.+))?$/;

/**
 * Splits a GuardDuty finding type into its parts (`Backdoor:EC2/C&CActivity.B!DNS` -> Backdoor, EC2,
 * C&CActivity, B, DNS). The family runs up to the first `.` or `!`, the mechanism from the first `.`
 * up to `!`, the artifact after `!`. Types GuardDuty has not published yet parse the same way.
 *
 * @throws FindingFormatError (at `path`) when the text does not have that shape or is longer than
 *   {@link MAX_FINDING_TYPE_LENGTH} characters.
 */
export const parseFindingType = (name: string, path = ''): FindingType => {
  if (name.length > MAX_FINDING_TYPE_LENGTH) {
    throw new FindingFormatError(
      `finding type ${quoteIdentifier(name)} is longer than ${MAX_FINDING_TYPE_LENGTH} characters`,
      path,
      { details: { length: name.length } },
    );
  }
  const match = FINDING_TYPE.exec(name);
  if (!match) {
    throw new FindingFormatError(
      `finding type "${name}" does not read ThreatPurpose:ResourceType/ThreatFamily[.Mechanism][!Artifact]`,
      path,
    );
  }
  const [, threatPurpose = '', resourceType = '', threatFamily = '', detectionMechanism, artifact] = match;
  const type: FindingType = { name, threatPurpose, resourceType, threatFamily };
  if (detectionMechanism !== undefined) type.detectionMechanism = detectionMechanism;
  if (artifact !== undefined) type.artifact = artifact;
  return type;
};
