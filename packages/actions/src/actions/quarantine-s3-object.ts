import type { Grant, HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import {
  type ActionContext,
  type ActionTarget,
  defineAction,
  defineInverse,
  type InverseContext,
  type PermissionGrant,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import {
  addressOf,
  IN_ACCOUNT,
  OBJECT_TAG_LIMIT,
  OBJECTS,
  type ObjectRef,
  objectOf,
  objectTargets,
} from '../s3-object.js';
import { placeholder, type Session } from '../session.js';
import { executeInspected, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { findingTags, TAGGED_AT_TAG, type Tag } from '../tags.js';
import { invalidBucketName, resolved } from '../targets.js';
import { invalidRecordedObject, merged, objectUndoProperties, readObjectTags } from './tag-s3-object.js';

export type QuarantineS3ObjectParams = {
  /** The bucket (of the finding's account) the object is copied into. */
  quarantineBucket: string;
  /** Prepended to `<source bucket>/<key>` in the quarantine bucket. */
  prefix?: string;
  /** What happens to the original once the copy is verified: `restrict` (default) or `delete`. */
  original?: 'restrict' | 'delete';
};

type Context = ActionContext<QuarantineS3ObjectParams, AwsServices>;
type Reader = { services: AwsServices; target: ActionTarget };

export const QUARANTINED_TAG = 'riposte:quarantined';
const OBJECT_ABSENT = ['NoSuchKey', 'NoSuchVersion', 'NotFound', 'NoSuchBucket'];
/** CopyObject copies at most 5 GB in one request. */
const COPY_MAX_BYTES = 5 * 1024 ** 3;
const KEY_MAX = 1024;

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

const modeOf = (params: QuarantineS3ObjectParams): 'restrict' | 'delete' => params.original ?? 'restrict';

export const quarantineKey = (params: QuarantineS3ObjectParams, object: ObjectRef): string =>
  `${params.prefix ?? ''}${object.bucket}/${object.key}`;

/** `bucket/key?versionId=...`, the key URL-encoded as CopyObject requires. */
const copySource = (object: ObjectRef): string =>
  `${object.bucket}/${object.key.split('/').map(encodeURIComponent).join('/')}${
    object.versionId === undefined ? '' : `?versionId=${encodeURIComponent(object.versionId)}`
  }`;

/** Tags as `x-amz-tagging` takes them: a URL query string. */
const taggingOf = (tags: Tag[]): string =>
  tags.map((tag) => `${encodeURIComponent(tag.Key)}=${encodeURIComponent(tag.Value)}`).join('&');

/**
 * Reading and copying authorise objects of the deploying account (`s3:ResourceAccount`); writing only
 * into the quarantine bucket; restricting the ACL and tagging only with `restrict`, deleting only with
 * `delete`. A finding that names a version needs the Version actions.
 */
const grantsFor = (params: QuarantineS3ObjectParams): PermissionGrant[] => {
  const destination =
    params.quarantineBucket === undefined ? OBJECTS : `arn:{partition}:s3:::${params.quarantineBucket}/*`;
  return [
    {
      actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging'],
      resources: [OBJECTS],
      conditions: IN_ACCOUNT,
    },
    { actions: ['s3:PutObject', 's3:PutObjectTagging'], resources: [destination], conditions: IN_ACCOUNT },
    ...(modeOf(params) === 'restrict'
      ? [
          {
            actions: ['s3:GetBucketOwnershipControls'],
            resources: ['arn:{partition}:s3:::*'],
            conditions: IN_ACCOUNT,
          },
          {
            actions: [
              's3:GetObjectAcl',
              's3:GetObjectVersionAcl',
              's3:PutObjectAcl',
              's3:PutObjectVersionAcl',
              's3:PutObjectTagging',
              's3:PutObjectVersionTagging',
            ],
            resources: [OBJECTS],
            conditions: IN_ACCOUNT,
          },
        ]
      : [
          {
            actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
            resources: [OBJECTS],
            conditions: IN_ACCOUNT,
          },
        ]),
  ];
};

/** HeadObject of one object: its metadata, `absent`, or `undefined` offline. */
const head = async (
  ctx: Reader,
  session: Session,
  object: ObjectRef,
): Promise<HeadObjectCommandOutput | 'absent' | undefined> => {
  const input = { ...addressOf(object), ExpectedBucketOwner: ctx.target.accountId };
  const answer = await session.read(read(ctx, 's3', 'HeadObject', input), {
    key: `s3://${object.bucket}/${object.key}`,
    found: (output) =>
      `s3://${object.bucket}/${object.key}: ${output.ContentLength ?? '?'} bytes, ETag ${output.ETag ?? '?'}`,
    absent: { codes: OBJECT_ABSENT, summary: `s3://${object.bucket}/${object.key} does not exist` },
  });
  if (answer.status === 'unknown') return undefined;
  return answer.status === 'absent' ? 'absent' : answer.output;
};

/**
 * Whether the copy is the original: the same size, and the same ETag unless the ETag is not a digest
 * of the content (multipart uploads, SSE-KMS), where only the size can be compared.
 */
const sameContent = (
  copy: HeadObjectCommandOutput,
  source: { eTag?: string; size?: number; comparableETag: boolean },
) => copy.ContentLength === source.size && (!source.comparableETag || copy.ETag === source.eTag);

interface Acl {
  owner: { id: string; displayName?: string };
  grants: { type: string; id?: string; uri?: string; emailAddress?: string; permission: string }[];
}

/** Private: the owner's FULL_CONTROL alone, as the canned ACL `private` sets it. */
const isPrivate = (acl: Acl): boolean =>
  acl.grants.length === 1 &&
  acl.grants[0]?.id === acl.owner.id &&
  acl.grants[0]?.permission === 'FULL_CONTROL';

const readAcl = async (
  ctx: Reader,
  session: Session,
  object: ObjectRef,
): Promise<Acl | 'absent' | undefined> => {
  const input = { ...addressOf(object), ExpectedBucketOwner: ctx.target.accountId };
  const toAcl = (output: { Owner?: { ID?: string; DisplayName?: string }; Grants?: Grant[] }): Acl => ({
    owner: {
      id: output.Owner?.ID ?? '',
      ...(output.Owner?.DisplayName ? { displayName: output.Owner.DisplayName } : {}),
    },
    grants: (output.Grants ?? []).map((grant) => ({
      type: grant.Grantee?.Type ?? '',
      ...(grant.Grantee?.ID ? { id: grant.Grantee.ID } : {}),
      ...(grant.Grantee?.URI ? { uri: grant.Grantee.URI } : {}),
      ...(grant.Grantee?.EmailAddress ? { emailAddress: grant.Grantee.EmailAddress } : {}),
      permission: grant.Permission ?? '',
    })),
  });
  const answer = await session.read(read(ctx, 's3', 'GetObjectAcl', input), {
    key: `s3://${object.bucket}/${object.key}`,
    found: (output) => {
      const acl = toAcl(output);
      const open = acl.grants.some((grant) => grant.uri === ALL_USERS);
      return isPrivate(acl)
        ? 'private (owner only)'
        : `${acl.grants.length} grant(s)${open ? ', readable by everyone' : ''}`;
    },
    absent: { codes: OBJECT_ABSENT, summary: `s3://${object.bucket}/${object.key} does not exist` },
  });
  if (answer.status === 'unknown') return undefined;
  return answer.status === 'absent' ? 'absent' : toAcl(answer.output);
};

/** Whether the bucket's ACLs are disabled (Object Ownership `BucketOwnerEnforced`); `undefined` offline. */
const aclsDisabled = async (ctx: Reader, session: Session, bucket: string): Promise<boolean | undefined> => {
  const input = { Bucket: bucket, ExpectedBucketOwner: ctx.target.accountId };
  const answer = await session.read(read(ctx, 's3', 'GetBucketOwnershipControls', input), {
    key: bucket,
    found: (output) =>
      `object ownership ${output.OwnershipControls?.Rules?.map((rule) => rule.ObjectOwnership).join(', ') || '(none)'}`,
    absent: {
      codes: ['OwnershipControlsNotFoundError'],
      summary: `${bucket} has no ownership controls (ACLs enabled)`,
    },
  });
  if (answer.status === 'unknown') return undefined;
  if (answer.status === 'absent') return false;
  return (answer.output.OwnershipControls?.Rules ?? []).some(
    (rule) => rule.ObjectOwnership === 'BucketOwnerEnforced',
  );
};

interface State {
  object: ObjectRef;
  destination: ObjectRef;
  /** The original's content as read (`undefined` offline). */
  source?: { eTag?: string; size?: number; comparableETag: boolean };
  /** Whether a verified copy is in quarantine already. */
  copied: boolean;
  acl?: Acl;
  tags?: Tag[];
}

const quarantineTags = (ctx: Context): Tag[] => [
  ...findingTags(ctx.finding),
  { Key: TAGGED_AT_TAG, Value: ctx.now.toISOString() },
];

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const object = objectOf(ctx.finding, ctx.target);
  const mode = modeOf(ctx.params);
  const invalid =
    typeof object === 'string'
      ? object
      : (invalidBucketName(ctx.params.quarantineBucket) ??
        (ctx.params.quarantineBucket === object.bucket
          ? `the quarantine bucket ${ctx.params.quarantineBucket} is the object's own bucket`
          : quarantineKey(ctx.params, object).length > KEY_MAX
            ? `the quarantine key ${ctx.params.prefix ?? ''}<bucket>/<key> would be longer than ${KEY_MAX} characters`
            : undefined));
  if (invalid || typeof object === 'string') return refused(`${invalid}; nothing was looked up or changed`);
  const destination: ObjectRef = {
    bucket: ctx.params.quarantineBucket,
    key: quarantineKey(ctx.params, object),
  };

  const original = await head(ctx, session, object);
  const copy = await head(ctx, session, destination);
  if (original === 'absent') {
    if (mode === 'delete' && typeof copy === 'object') {
      return noOp(
        `s3://${ctx.target.id} is already deleted and its copy is in quarantine at s3://${destination.bucket}/${destination.key}`,
      );
    }
    return noOp(`the object s3://${ctx.target.id} no longer exists`);
  }
  let source: State['source'];
  if (original !== undefined) {
    const size = original.ContentLength;
    if (size !== undefined && size > COPY_MAX_BYTES) {
      return refused(
        `s3://${ctx.target.id} is ${size} bytes; CopyObject copies at most 5 GB, so it is not quarantined`,
      );
    }
    const kms = original.ServerSideEncryption?.startsWith('aws:kms') === true;
    source = {
      ...(original.ETag === undefined ? {} : { eTag: original.ETag }),
      ...(size === undefined ? {} : { size }),
      comparableETag: !kms && !original.ETag?.includes('-'),
    };
  }
  const copied = source !== undefined && typeof copy === 'object' && sameContent(copy, source);

  const tags = await readObjectTags(ctx, session, object);
  if (tags === 'missing') return noOp(`the object s3://${ctx.target.id} no longer exists`);
  let acl: Acl | undefined;
  if (mode === 'restrict') {
    const disabled = await aclsDisabled(ctx, session, object.bucket);
    if (disabled === true) {
      return refused(
        `bucket ${object.bucket} has ACLs disabled (Object Ownership BucketOwnerEnforced), so restricting the object's ACL would change nothing but a tag: use original: delete, or restrict access with the bucket policy`,
      );
    }
    const read = await readAcl(ctx, session, object);
    if (read === 'absent') return noOp(`the object s3://${ctx.target.id} no longer exists`);
    acl = read;
    if (tags !== undefined) {
      const count = merged(tags, [{ Key: QUARANTINED_TAG, Value: 'true' }]).length;
      if (count > OBJECT_TAG_LIMIT) {
        return refused(
          `s3://${ctx.target.id} has ${tags.length} tag(s); adding ${QUARANTINED_TAG} would make ${count}, more than the ${OBJECT_TAG_LIMIT} S3 allows`,
        );
      }
    }
    const restricted =
      acl !== undefined &&
      isPrivate(acl) &&
      tags?.some((tag) => tag.Key === QUARANTINED_TAG && tag.Value === 'true');
    if (copied && restricted) {
      return noOp(
        `s3://${ctx.target.id} is already in quarantine with the same ETag, and the original is private and tagged ${QUARANTINED_TAG}=true`,
      );
    }
  }
  return planned({
    object,
    destination,
    ...(source === undefined ? {} : { source }),
    copied,
    ...(acl === undefined ? {} : { acl }),
    ...(tags === undefined ? {} : { tags }),
  });
};

const copyMutation = (ctx: Context, state: State): Mutation =>
  mutation(ctx, 's3', 'CopyObject', {
    Bucket: state.destination.bucket,
    Key: state.destination.key,
    CopySource: copySource(state.object),
    ExpectedBucketOwner: ctx.target.accountId,
    ExpectedSourceBucketOwner: ctx.target.accountId,
    MetadataDirective: 'COPY',
    TaggingDirective: 'REPLACE',
    Tagging: taggingOf(quarantineTags(ctx)),
  });

const originalMutations = (ctx: Context, state: State): Mutation[] => {
  const address = { ...addressOf(state.object), ExpectedBucketOwner: ctx.target.accountId };
  if (modeOf(ctx.params) === 'delete') return [mutation(ctx, 's3', 'DeleteObject', address)];
  const TagSet =
    state.tags === undefined
      ? [placeholder('TagSet', 'GetObjectTagging') as unknown as Tag, { Key: QUARANTINED_TAG, Value: 'true' }]
      : merged(state.tags, [{ Key: QUARANTINED_TAG, Value: 'true' }]);
  return [
    mutation(ctx, 's3', 'PutObjectAcl', { ...address, ACL: 'private' }),
    mutation(ctx, 's3', 'PutObjectTagging', { ...address, Tagging: { TagSet } }),
  ];
};

const mutations = (ctx: Context, state: State): Mutation[] => [
  ...(state.copied ? [] : [copyMutation(ctx, state)]),
  ...originalMutations(ctx, state),
];

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

export type QuarantineS3ObjectUndo = {
  bucket: string;
  key: string;
  versionId?: string;
  quarantineBucket: string;
  quarantineKey: string;
  original: 'restrict' | 'delete';
  /** The original's tag set before. */
  previousTags: { key: string; value: string }[];
  /** The original's ACL before (`restrict`). */
  previousAcl?: Acl;
};

const TEXT = '^[^\\u0000-\\u001f\\u007f]*$';
const TAG_ITEM = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'value'],
  properties: {
    key: { type: 'string', minLength: 1, maxLength: 128, pattern: TEXT },
    value: { type: 'string', maxLength: 256, pattern: TEXT },
  },
};

const undoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['bucket', 'key', 'quarantineBucket', 'quarantineKey', 'original', 'previousTags'],
  properties: {
    ...objectUndoProperties,
    quarantineBucket: objectUndoProperties.bucket,
    quarantineKey: objectUndoProperties.key,
    original: { type: 'string', enum: ['restrict', 'delete'] },
    previousTags: { type: 'array', maxItems: OBJECT_TAG_LIMIT, items: TAG_ITEM },
    previousAcl: {
      type: 'object',
      additionalProperties: false,
      required: ['owner', 'grants'],
      properties: {
        owner: {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: {
            id: { type: 'string', pattern: '^[0-9a-f]{1,128}$' },
            displayName: { type: 'string', maxLength: 256, pattern: TEXT },
          },
        },
        // S3 allows at most 100 grants in an ACL.
        grants: {
          type: 'array',
          maxItems: 100,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['type', 'permission'],
            properties: {
              type: { type: 'string', enum: ['CanonicalUser', 'Group', 'AmazonCustomerByEmail'] },
              id: { type: 'string', pattern: '^[0-9a-f]{1,128}$' },
              uri: { type: 'string', pattern: '^http://acs\\.amazonaws\\.com/groups/[A-Za-z/]+$' },
              emailAddress: { type: 'string', maxLength: 256, pattern: '^[^\\s@]+@[^\\s@]+$' },
              permission: {
                type: 'string',
                enum: ['FULL_CONTROL', 'READ', 'READ_ACP', 'WRITE', 'WRITE_ACP'],
              },
            },
          },
        },
      },
    },
  },
};

type InverseCtx = InverseContext<QuarantineS3ObjectUndo, AwsServices>;

const originalOf = (state: QuarantineS3ObjectUndo): ObjectRef => ({
  bucket: state.bucket,
  key: state.key,
  ...(state.versionId === undefined ? {} : { versionId: state.versionId }),
});

const asTags = (items: { key: string; value: string }[]): Tag[] =>
  items.map(({ key, value }) => ({ Key: key, Value: value }));

const sameTags = (a: Tag[], b: Tag[]): boolean =>
  a.length === b.length &&
  a.every((tag) => b.some((other) => other.Key === tag.Key && other.Value === tag.Value));

type Restore = { kind: 'copy-back' } | { kind: 'acl'; tags: boolean; acl: boolean };

/**
 * `delete`: copies the object back from quarantine while the original is still gone and the copy is
 * there. `restrict`: puts the ACL and tags back while the object is still private and tagged
 * `riposte:quarantined=true`. The quarantine copy is evidence, and is kept.
 */
const inspectUndo = async (ctx: InverseCtx, session: Session): Promise<Inspection<Restore>> => {
  const { state } = ctx;
  const invalid =
    invalidRecordedObject(ctx.target, state) ??
    invalidBucketName(state.quarantineBucket) ??
    (state.original === 'restrict' && state.previousAcl === undefined
      ? 'the previous ACL is not recorded'
      : undefined);
  if (invalid) return refused(`${invalid}; nothing was looked up or changed`);
  const object = originalOf(state);
  if (state.original === 'delete') {
    const current = await head(ctx, session, object);
    if (current === undefined) return planned({ kind: 'copy-back' });
    if (current !== 'absent') return noOp(`s3://${ctx.target.id} exists again, so nothing is copied back`);
    const copy = await head(ctx, session, { bucket: state.quarantineBucket, key: state.quarantineKey });
    if (copy === 'absent') {
      return refused(
        `not restored: the quarantine copy s3://${state.quarantineBucket}/${state.quarantineKey} is gone, so there is nothing to copy back`,
      );
    }
    return planned({ kind: 'copy-back' });
  }
  const tags = await readObjectTags(ctx, session, object);
  if (tags === 'missing') return noOp(`the object s3://${ctx.target.id} no longer exists`);
  const acl = await readAcl(ctx, session, object);
  if (acl === 'absent') return noOp(`the object s3://${ctx.target.id} no longer exists`);
  if (tags === undefined || acl === undefined) return planned({ kind: 'acl', tags: true, acl: true });
  const previousTags = asTags(state.previousTags);
  const tagsBack = sameTags(tags, previousTags);
  const aclBack = JSON.stringify(acl.grants) === JSON.stringify(state.previousAcl?.grants);
  if (tagsBack && aclBack)
    return noOp(`s3://${ctx.target.id} is restored already: its ACL and tags are as before`);
  const marked = tags.some((tag) => tag.Key === QUARANTINED_TAG && tag.Value === 'true');
  // Its ACL is back and its mark gone: undone already (a later undo, such as tag-s3-object's, may
  // have set the tags to what they were before that step).
  if (aclBack && !marked) {
    return noOp(
      `s3://${ctx.target.id} is restored already: its ACL is as before and it is not tagged ${QUARANTINED_TAG}`,
    );
  }
  if (!marked || !isPrivate(acl)) {
    return refused(
      `not restored: s3://${ctx.target.id} is no longer private with the tag ${QUARANTINED_TAG}=true as Riposte left it: changed since, so it is left as it is`,
    );
  }
  return planned({ kind: 'acl', tags: !tagsBack, acl: !aclBack });
};

const undoMutations = (ctx: InverseCtx, restore: Restore): Mutation[] => {
  const { state } = ctx;
  const object = originalOf(state);
  const owner = ctx.target.accountId;
  if (restore.kind === 'copy-back') {
    return [
      mutation(ctx, 's3', 'CopyObject', {
        Bucket: state.bucket,
        Key: state.key,
        CopySource: copySource({ bucket: state.quarantineBucket, key: state.quarantineKey }),
        ExpectedBucketOwner: owner,
        ExpectedSourceBucketOwner: owner,
        MetadataDirective: 'COPY',
        TaggingDirective: 'REPLACE',
        Tagging: taggingOf(asTags(state.previousTags)),
      }),
    ];
  }
  const address = { ...addressOf(object), ExpectedBucketOwner: owner };
  const acl = state.previousAcl as Acl;
  return [
    ...(restore.acl
      ? [
          mutation(ctx, 's3', 'PutObjectAcl', {
            ...address,
            AccessControlPolicy: {
              Owner: {
                ID: acl.owner.id,
                ...(acl.owner.displayName ? { DisplayName: acl.owner.displayName } : {}),
              },
              Grants: acl.grants.map((grant) => ({
                Grantee: {
                  Type: grant.type as 'CanonicalUser',
                  ...(grant.id ? { ID: grant.id } : {}),
                  ...(grant.uri ? { URI: grant.uri } : {}),
                  ...(grant.emailAddress ? { EmailAddress: grant.emailAddress } : {}),
                },
                Permission: grant.permission as 'READ',
              })),
            },
          }),
        ]
      : []),
    ...(restore.tags
      ? [
          state.previousTags.length === 0
            ? mutation(ctx, 's3', 'DeleteObjectTagging', address)
            : mutation(ctx, 's3', 'PutObjectTagging', {
                ...address,
                Tagging: { TagSet: asTags(state.previousTags) },
              }),
        ]
      : []),
  ];
};

const UNDO_PERMISSIONS = [
  's3:GetObject',
  's3:GetObjectVersion',
  's3:PutObject',
  's3:GetObjectAcl',
  's3:GetObjectVersionAcl',
  's3:PutObjectAcl',
  's3:PutObjectVersionAcl',
  's3:GetObjectTagging',
  's3:GetObjectVersionTagging',
  's3:PutObjectTagging',
  's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
];

const undo = defineInverse<QuarantineS3ObjectUndo, AwsServices>({
  summary:
    "Copy a deleted object back from quarantine (with its previous tags), or put a restricted object's previous ACL and tags back, while it is still as Riposte left it; the quarantine copy is kept as evidence.",
  stateSchema: undoSchema,
  permissions: UNDO_PERMISSIONS,
  grants: () => [{ actions: UNDO_PERMISSIONS, resources: [OBJECTS], conditions: IN_ACCOUNT }],
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

const toItems = (tags: Tag[]) => tags.map((tag) => ({ key: tag.Key, value: tag.Value }));

const undoOf = (ctx: Context, state: State): QuarantineS3ObjectUndo => ({
  ...state.object,
  quarantineBucket: state.destination.bucket,
  quarantineKey: state.destination.key,
  original: modeOf(ctx.params),
  previousTags: toItems(state.tags ?? []),
  ...(state.acl === undefined ? {} : { previousAcl: state.acl }),
});

/**
 * Contains a malicious object: copies it (one CopyObject, up to 5 GB) into the quarantine bucket under
 * `<prefix><source bucket>/<key>`, tagged with the finding, verifies the copy (HeadObject: same size,
 * and same ETag where the ETag is a digest of the content), then restricts the original (canned ACL
 * `private` and the tag `riposte:quarantined=true`) or deletes it (that exact version when the finding
 * names one; otherwise, in a versioned bucket, a delete marker).
 *
 * `restrict` only removes ACL grants: a bucket policy that grants read still applies, so pair it with
 * a bucket policy review. A bucket with ACLs disabled (Object Ownership `BucketOwnerEnforced`) would
 * make `restrict` a tag-only change, so it is refused there with the reason: use `delete`.
 */
export const quarantineS3Object = defineAction<QuarantineS3ObjectParams, AwsServices>({
  name: 'quarantine-s3-object',
  summary:
    'Copy each S3 object the finding names into a quarantine bucket, verify the copy, then make the original private and tag it (restrict) or delete it (delete).',
  phase: 'contain',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      quarantineBucket: {
        type: 'string',
        description: "Bucket of the finding's account the object is copied into.",
        pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      },
      prefix: {
        type: 'string',
        description: 'Prefix of the quarantine key, before <source bucket>/<key> (default none).',
        pattern: '^[\\x21-\\x7e]{0,256}$',
      },
      original: {
        type: 'string',
        description:
          'What happens to the original once the copy is verified: restrict (canned ACL private and tag riposte:quarantined=true; a bucket policy granting read still applies; refused where ACLs are disabled) or delete.',
        enum: ['restrict', 'delete'],
        default: 'restrict',
      },
    },
    required: ['quarantineBucket'],
  },
  permissions: [
    's3:GetObject',
    's3:GetObjectVersion',
    's3:GetObjectTagging',
    's3:GetObjectVersionTagging',
    's3:PutObject',
    's3:PutObjectTagging',
    's3:GetBucketOwnershipControls',
    's3:GetObjectAcl',
    's3:GetObjectVersionAcl',
    's3:PutObjectAcl',
    's3:PutObjectVersionAcl',
    's3:PutObjectVersionTagging',
    's3:DeleteObject',
    's3:DeleteObjectVersion',
  ],
  grants: grantsFor,
  paramExamples: [
    { quarantineBucket: 'acme-quarantine', prefix: 'malware/' },
    { quarantineBucket: 'acme-quarantine', original: 'delete' },
  ],
  resourceKinds: ['s3-object'],
  example: [
    '- action: quarantine-s3-object',
    '  params:',
    '    quarantineBucket: acme-quarantine',
    '    prefix: malware/',
    '    original: restrict',
  ].join('\n'),
  idempotency:
    'Skipped when the quarantine copy exists with the same ETag and the original is already private and tagged riposte:quarantined=true (restrict), or already deleted (delete).',
  dryRun:
    'Refuses a malformed object, a quarantine bucket equal to the source, an object over 5 GB, a bucket with ACLs disabled (restrict) and a tag set that would exceed 10; looks up both objects, the tags, the ACL and the ownership controls; lists CopyObject, then PutObjectAcl and PutObjectTagging, or DeleteObject.',

  targets: (finding) => resolved(objectTargets(finding), 'the finding names no S3 object'),

  plan: planWith({ inspect, mutations }),

  // Not single-shot: the copy is verified (HeadObject) before the original is touched.
  execute: (ctx) =>
    executeInspected(ctx, inspect, async (session, state) => {
      session.recordUndo(undoOf(ctx, state));
      if (!state.copied) {
        await session.mutate(copyMutation(ctx, state));
        const copy = await head(ctx, session, state.destination);
        if (typeof copy !== 'object' || state.source === undefined || !sameContent(copy, state.source)) {
          return session.fail(
            refused(
              `the copy s3://${state.destination.bucket}/${state.destination.key} does not match the original (size or ETag), so the original is left as it is`,
            ).error,
          );
        }
      }
      for (const item of originalMutations(ctx, state)) await session.mutate(item);
      return {
        status: 'applied',
        outputs: {
          quarantineObject: `s3://${state.destination.bucket}/${state.destination.key}`,
          original: modeOf(ctx.params),
        },
      };
    }),

  undo,
});
