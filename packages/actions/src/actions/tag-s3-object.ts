import {
  type ActionContext,
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
  VERSION_ID_PATTERN,
} from '../s3-object.js';
import { placeholder, type Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { FINDING_ID_TAG, findingTags, TAGGED_AT_TAG, type Tag, tagValue } from '../tags.js';
import { invalidBucketName, invalidId, resolved, shown } from '../targets.js';

export type TagS3ObjectParams = Record<string, never>;

type Context = ActionContext<TagS3ObjectParams, AwsServices>;
type Reader = { services: AwsServices; target: ActionContext['target'] };

const OBJECT_ABSENT = ['NoSuchKey', 'NoSuchVersion', 'NoSuchBucket', 'NotFound'];

/**
 * PutObjectTagging replaces the object's whole tag set, so IAM cannot narrow the keys it writes;
 * `s3:ResourceAccount` keeps it to objects of the deploying account, as `ExpectedBucketOwner` does per
 * request. A finding that names a version needs the Version actions.
 */
const GRANTS: PermissionGrant[] = [
  {
    actions: [
      's3:GetObjectTagging',
      's3:GetObjectVersionTagging',
      's3:PutObjectTagging',
      's3:PutObjectVersionTagging',
    ],
    resources: [OBJECTS],
    conditions: IN_ACCOUNT,
  },
];

/** The object's tag set now; `undefined` offline, `missing` when the object (or version) is gone. */
export const readObjectTags = async (
  ctx: Reader,
  session: Session,
  object: ObjectRef,
): Promise<Tag[] | 'missing' | undefined> => {
  const input = { ...addressOf(object), ExpectedBucketOwner: ctx.target.accountId };
  const answer = await session.read(read(ctx, 's3', 'GetObjectTagging', input), {
    key: `s3://${object.bucket}/${object.key}`,
    found: (output) => {
      const mark = output.TagSet?.find((tag) => tag.Key === FINDING_ID_TAG);
      return `${output.TagSet?.length ?? 0} tag(s)${mark ? `, ${FINDING_ID_TAG} is ${mark.Value}` : ''}`;
    },
    absent: {
      codes: OBJECT_ABSENT,
      summary: `the object s3://${object.bucket}/${object.key} does not exist`,
    },
  });
  if (answer.status === 'unknown') return undefined;
  if (answer.status === 'absent') return 'missing';
  return (answer.output.TagSet ?? []).map((tag) => ({ Key: tag.Key ?? '', Value: tag.Value ?? '' }));
};

/** The riposte:* tags written, with the time of the response. */
const markTags = (ctx: Context): Tag[] => [
  ...findingTags(ctx.finding),
  { Key: TAGGED_AT_TAG, Value: ctx.now.toISOString() },
];

/** `tags` with `added` set (added win). */
export const merged = (tags: Tag[], added: Tag[]): Tag[] => {
  const map = new Map(tags.map((tag) => [tag.Key, tag.Value]));
  for (const tag of added) map.set(tag.Key, tag.Value);
  return [...map].map(([Key, Value]) => ({ Key, Value }));
};

type State = { object: ObjectRef; current: Tag[] | undefined };

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const object = objectOf(ctx.finding, ctx.target);
  if (typeof object === 'string') return refused(`${object}; nothing was looked up or changed`);
  const current = await readObjectTags(ctx, session, object);
  if (current === 'missing') return noOp(`the object s3://${ctx.target.id} no longer exists`);
  if (current?.some((tag) => tag.Key === FINDING_ID_TAG && tag.Value === tagValue(ctx.finding.id))) {
    return noOp(`s3://${ctx.target.id} is already tagged ${FINDING_ID_TAG}=${tagValue(ctx.finding.id)}`);
  }
  if (current !== undefined) {
    const count = merged(current, markTags(ctx)).length;
    if (count > OBJECT_TAG_LIMIT) {
      return refused(
        `s3://${ctx.target.id} has ${current.length} tag(s); adding Riposte's would make ${count}, and S3 allows at most ${OBJECT_TAG_LIMIT} per object, so no tag is removed and none is added`,
      );
    }
  }
  return planned({ object, current });
};

const mutations = (ctx: Context, { object, current }: State): Mutation[] => [
  mutation(ctx, 's3', 'PutObjectTagging', {
    ...addressOf(object),
    ExpectedBucketOwner: ctx.target.accountId,
    Tagging: {
      TagSet:
        current === undefined
          ? [placeholder('TagSet', 'GetObjectTagging') as unknown as Tag, ...markTags(ctx)]
          : merged(current, markTags(ctx)),
    },
  }),
];

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

export type TagS3ObjectUndo = {
  bucket: string;
  key: string;
  versionId?: string;
  /** The object's tag set before. */
  previous: { key: string; value: string }[];
  /** The riposte:* tags the step wrote. */
  written: { key: string; value: string }[];
};

const TAG_ITEM = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'value'],
  properties: {
    key: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]*$' },
    value: { type: 'string', maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]*$' },
  },
};

export const objectUndoProperties = {
  bucket: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' },
  key: { type: 'string', pattern: '^[\\x21-\\x7e]{1,1024}$' },
  versionId: { type: 'string', pattern: VERSION_ID_PATTERN },
};

const undoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['bucket', 'key', 'previous', 'written'],
  properties: {
    ...objectUndoProperties,
    previous: { type: 'array', maxItems: OBJECT_TAG_LIMIT, items: TAG_ITEM },
    written: { type: 'array', minItems: 1, maxItems: 3, items: TAG_ITEM },
  },
};

type InverseCtx = InverseContext<TagS3ObjectUndo, AwsServices>;

/** Why a recorded object is not the recorded target, or is malformed. */
export const invalidRecordedObject = (
  target: InverseCtx['target'],
  state: { bucket: string; key: string },
): string | undefined => {
  if (target.kind !== 's3-object') return `the recorded target is a ${shown(target.kind)}, not an S3 object`;
  const invalid =
    invalidId('account-id', target.accountId) ??
    invalidBucketName(state.bucket) ??
    invalidId('s3-object-key', state.key) ??
    invalidId('s3-object', target.id);
  if (invalid) return invalid;
  return `${state.bucket}/${state.key}` === target.id
    ? undefined
    : `the recorded object ${shown(`${state.bucket}/${state.key}`)} is not the target ${target.id}`;
};

const objectOfState = (state: { bucket: string; key: string; versionId?: string }): ObjectRef => ({
  bucket: state.bucket,
  key: state.key,
  ...(state.versionId === undefined ? {} : { versionId: state.versionId }),
});

const asTags = (items: { key: string; value: string }[]): Tag[] =>
  items.map(({ key, value }) => ({ Key: key, Value: value }));

const sameTags = (a: Tag[], b: Tag[]): boolean =>
  a.length === b.length &&
  a.every((tag) => b.some((other) => other.Key === tag.Key && other.Value === tag.Value));

/** Restores the previous tag set while every riposte:* tag the step wrote still holds what it wrote. */
const inspectUndo = async (ctx: InverseCtx, session: Session): Promise<Inspection<null>> => {
  const invalid = invalidRecordedObject(ctx.target, ctx.state);
  if (invalid) return refused(`${invalid}; nothing was looked up or changed`);
  const object = objectOfState(ctx.state);
  const current = await readObjectTags(ctx, session, object);
  if (current === undefined) return planned(null);
  if (current === 'missing') return noOp(`the object s3://${ctx.target.id} no longer exists`);
  const previous = asTags(ctx.state.previous);
  if (sameTags(current, previous))
    return noOp(`s3://${ctx.target.id} is restored already: its tags are as before`);
  const now = new Map(current.map((tag) => [tag.Key, tag.Value]));
  const changed = ctx.state.written.filter((tag) => now.get(tag.key) !== tag.value);
  if (changed.length > 0) {
    return refused(
      `not restored: ${changed.map((tag) => `tag ${tag.key} of s3://${ctx.target.id} no longer holds ${shown(tag.value)} as Riposte set it`).join('; ')}: changed since, so it is left as it is`,
    );
  }
  return planned(null);
};

const undoMutations = (ctx: InverseCtx): Mutation[] => {
  const address = { ...addressOf(objectOfState(ctx.state)), ExpectedBucketOwner: ctx.target.accountId };
  return [
    ctx.state.previous.length === 0
      ? mutation(ctx, 's3', 'DeleteObjectTagging', address)
      : mutation(ctx, 's3', 'PutObjectTagging', {
          ...address,
          Tagging: { TagSet: asTags(ctx.state.previous) },
        }),
  ];
};

const undo = defineInverse<TagS3ObjectUndo, AwsServices>({
  summary:
    "Put the object's previous tag set back (or delete its tags when it had none), while the riposte:* tags the step wrote are still there as written.",
  stateSchema: undoSchema,
  permissions: [
    's3:GetObjectTagging',
    's3:GetObjectVersionTagging',
    's3:PutObjectTagging',
    's3:PutObjectVersionTagging',
    's3:DeleteObjectTagging',
    's3:DeleteObjectVersionTagging',
  ],
  grants: () => [
    {
      actions: [
        's3:GetObjectTagging',
        's3:GetObjectVersionTagging',
        's3:PutObjectTagging',
        's3:PutObjectVersionTagging',
        's3:DeleteObjectTagging',
        's3:DeleteObjectVersionTagging',
      ],
      resources: [OBJECTS],
      conditions: IN_ACCOUNT,
    },
  ],
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

const toItems = (tags: Tag[]) => tags.map((tag) => ({ key: tag.Key, value: tag.Value }));

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context) => ({ tags: markTags(ctx) }),
  undo: (ctx: Context, { object, current }: State) => {
    // Execute always reads the tags; only a plan made offline has none.
    if (current === undefined) return {};
    return {
      ...object,
      previous: toItems(current),
      written: toItems(markTags(ctx)),
    } satisfies TagS3ObjectUndo;
  },
};

/**
 * Marks each S3 object the finding names (a Malware Protection for S3 finding names the scanned
 * object) with the finding id, its type and when it was handled, merged into the object's own tags:
 * GetObjectTagging, then PutObjectTagging of the merged set, on the version the finding names.
 */
export const tagS3Object = defineAction<TagS3ObjectParams, AwsServices>({
  name: 'tag-s3-object',
  summary:
    'Merge riposte:finding-id, riposte:finding-type and riposte:tagged-at into the tags of each S3 object the finding names (of its version, when it names one).',
  phase: 'preserve',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: [
    's3:GetObjectTagging',
    's3:GetObjectVersionTagging',
    's3:PutObjectTagging',
    's3:PutObjectVersionTagging',
  ],
  grants: () => GRANTS,
  resourceKinds: ['s3-object'],
  example: '- action: tag-s3-object',
  idempotency: "Skipped when the object's riposte:finding-id tag already holds this finding's id.",
  dryRun:
    "Refuses a malformed bucket, key or version id, and an object whose tags and the three riposte:* tags would exceed the 10 S3 allows; looks up the object's tags; lists PutObjectTagging with the merged tag set, VersionId and ExpectedBucketOwner.",

  targets: (finding) => resolved(objectTargets(finding), 'the finding names no S3 object'),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
