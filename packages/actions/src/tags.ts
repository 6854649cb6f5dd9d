import type { Finding } from '@riposte/core';

export const FINDING_ID_TAG = 'riposte:finding-id';
export const FINDING_TYPE_TAG = 'riposte:finding-type';
export const TAGGED_AT_TAG = 'riposte:tagged-at';

export interface Tag {
  Key: string;
  Value: string;
}

/**
 * A value every tagging API accepts. S3 and IAM allow only letters, digits, spaces and `_.:/=+-@`,
 * so `Backdoor:EC2/C&CActivity.B!DNS` is stored as `Backdoor:EC2/C_CActivity.B_DNS`.
 */
export const tagValue = (value: string): string =>
  value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);

/** The tags that tie a resource or snapshot to the finding it was handled for. */
export const findingTags = (finding: Finding): Tag[] => [
  { Key: FINDING_ID_TAG, Value: tagValue(finding.id) },
  { Key: FINDING_TYPE_TAG, Value: tagValue(finding.type.name) },
];
