import { FindingFormatError } from '../errors.js';
import type { FindingType } from '../finding.js';

// ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact
const FINDING_TYPE = /^([A-Za-z0-9]+):([A-Za-z0-9]+)\/([^.!]+)(?:\.([^!]+))?(?:!(.+))?$/;

/**
 * Splits a GuardDuty finding type into its parts (`Backdoor:EC2/C&CActivity.B!DNS` -> Backdoor, EC2,
 * C&CActivity, B, DNS). The family runs up to the first `.` or `!`, the mechanism from the first `.`
 * up to `!`, the artifact after `!`. Types GuardDuty has not published yet parse the same way.
 *
 * @throws FindingFormatError (at `path`) when the text does not have that shape.
 */
export const parseFindingType = (name: string, path = ''): FindingType => {
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
