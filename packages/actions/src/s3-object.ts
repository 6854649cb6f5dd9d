import type { ActionTarget, Finding, S3ObjectResource } from '@riposte/core';
import { resourcesOfKind } from '@riposte/core';
import { invalidBucketName, invalidId, targetOf } from './targets.js';

/** An S3 object as the actions on objects address it: bucket, key and, when the finding gives one, version. */
export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

/** S3 version ids: up to 1024 URL-safe characters (`null` for objects written before versioning). */
const VERSION_ID = /^[A-Za-z0-9._+/=-]{1,1024}$/;

export const objectTargets = (finding: Finding): ActionTarget[] => {
  const seen = new Set<string>();
  return resourcesOfKind(finding, 's3-object').flatMap((object) => {
    const id = `${object.bucket}/${object.key}`;
    if (seen.has(id)) return [];
    seen.add(id);
    return [
      targetOf(
        finding,
        's3-object',
        id,
        `object s3://${id}${object.versionId ? ` (version ${object.versionId})` : ''}`,
        {
          ...(object.arn === undefined ? {} : { arn: object.arn }),
        },
      ),
    ];
  });
};

/** The object the finding names under the target's id. */
export const namedObject = (finding: Finding, target: ActionTarget): S3ObjectResource | undefined =>
  resourcesOfKind(finding, 's3-object').find((object) => `${object.bucket}/${object.key}` === target.id);

/** The object a target stands for, checked, or why it cannot be acted on. */
export const objectOf = (finding: Finding, target: ActionTarget): ObjectRef | string => {
  const invalid = invalidId('s3-object', target.id);
  if (invalid) return invalid;
  const named = namedObject(finding, target);
  if (!named) return `the finding names no S3 object ${target.id}`;
  const problem =
    invalidBucketName(named.bucket) ??
    invalidId('s3-object-key', named.key) ??
    (named.versionId === undefined || VERSION_ID.test(named.versionId)
      ? undefined
      : `the version id of s3://${target.id} is not a valid S3 version id`);
  if (problem) return problem;
  return {
    bucket: named.bucket,
    key: named.key,
    ...(named.versionId === undefined ? {} : { versionId: named.versionId }),
  };
};

export const VERSION_ID_PATTERN = VERSION_ID.source;

/** `{ Bucket, Key, VersionId? }` as every object call takes it. */
export const addressOf = (object: ObjectRef): { Bucket: string; Key: string; VersionId?: string } => ({
  Bucket: object.bucket,
  Key: object.key,
  ...(object.versionId === undefined ? {} : { VersionId: object.versionId }),
});

/** The object tag limit: S3 allows at most 10 tags per object. */
export const OBJECT_TAG_LIMIT = 10;

/** S3 object ARNs of any bucket of the deploying account: `s3:ResourceAccount` narrows them per request. */
export const OBJECTS = 'arn:{partition}:s3:::*/*';
export const IN_ACCOUNT = { StringEquals: { 's3:ResourceAccount': '{account}' } };
