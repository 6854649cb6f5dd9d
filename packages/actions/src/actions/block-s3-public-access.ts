import type { PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import {
  type ActionContext,
  defineAction,
  defineInverse,
  type InverseContext,
  type JsonSchema,
  type PermissionGrant,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { invalidAccount, invalidId, resolved, shown, targetOf } from '../targets.js';

export type BlockS3PublicAccessParams = Record<string, never>;

type Context = ActionContext<BlockS3PublicAccessParams, AwsServices>;

/**
 * The bucket's block settings before the change (`existed: false` when it had no configuration);
 * `undefined` when planning could not read them.
 */
type State = { existed: boolean; config: PublicAccessBlockConfiguration } | undefined;

const ALL_BLOCKED = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
} as const satisfies PublicAccessBlockConfiguration;

const FLAGS = Object.keys(ALL_BLOCKED) as (keyof typeof ALL_BLOCKED)[];

/** The four settings as S3 applies them: a flag S3 does not return is off. */
export type PublicAccessFlags = Record<(typeof FLAGS)[number], boolean>;

/**
 * A bucket ARN names no account, so `s3:ResourceAccount` keeps the calls to buckets the deploying
 * account owns, as `ExpectedBucketOwner` does for each request.
 */
const GRANTS: PermissionGrant[] = [
  {
    actions: ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
    resources: ['arn:{partition}:s3:::*'],
    conditions: { StringEquals: { 's3:ResourceAccount': '{account}' } },
  },
];

/**
 * Why this target cannot be acted on at all: checked before any client is made or call is sent. The
 * bucket must be named as S3 names buckets, and the calls go with `ExpectedBucketOwner` set to the
 * finding's account, so a bucket of that name in any other account answers 403 and is not touched.
 */
const invalidTarget = (ctx: Context): string | undefined => {
  const invalid = invalidId('s3-bucket-name', ctx.target.id) ?? invalidAccount(ctx.target, ctx.finding);
  return invalid === undefined ? undefined : `${invalid}; nothing was looked up or changed`;
};

/** The bucket's current block settings; `undefined` when planning could not read them. */
const readBlock = async (ctx: Context, session: Session): Promise<State> => {
  // ExpectedBucketOwner makes S3 refuse (403) if the name now belongs to another account.
  const input = { Bucket: ctx.target.id, ExpectedBucketOwner: ctx.finding.accountId };
  const answer = await session.read(read(ctx, 's3', 'GetPublicAccessBlock', input), {
    key: ctx.target.id,
    found: (output) => {
      const config = output.PublicAccessBlockConfiguration ?? {};
      const off = FLAGS.filter((flag) => config[flag] !== true);
      return off.length === 0 ? 'all four block settings are on' : `off: ${off.join(', ')}`;
    },
    absent: {
      codes: ['NoSuchPublicAccessBlockConfiguration'],
      summary: `bucket ${ctx.target.id} has no public access block`,
    },
  });
  if (answer.status === 'found') {
    return { existed: true, config: answer.output.PublicAccessBlockConfiguration ?? {} };
  }
  return answer.status === 'absent' ? { existed: false, config: {} } : undefined;
};

const nothingToDo = (ctx: Context, state: State): string | undefined =>
  state !== undefined && FLAGS.every((flag) => state.config[flag] === true)
    ? `public access to ${ctx.target.id} is already fully blocked`
    : undefined;

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const state = await readBlock(ctx, session);
  const reason = nothingToDo(ctx, state);
  return reason ? noOp(reason) : planned(state);
};

const mutations = (ctx: Context): Mutation[] => [
  mutation(ctx, 's3', 'PutPublicAccessBlock', {
    Bucket: ctx.target.id,
    ExpectedBucketOwner: ctx.finding.accountId,
    PublicAccessBlockConfiguration: ALL_BLOCKED,
  }),
];

const flagsOf = (config: PublicAccessBlockConfiguration): PublicAccessFlags => ({
  BlockPublicAcls: config.BlockPublicAcls === true,
  IgnorePublicAcls: config.IgnorePublicAcls === true,
  BlockPublicPolicy: config.BlockPublicPolicy === true,
  RestrictPublicBuckets: config.RestrictPublicBuckets === true,
});

/** What the inverse reads back: the bucket, and its settings before the response, or `none` when it had none. */
export type BlockS3PublicAccessUndo = {
  bucket: string;
  previous: PublicAccessFlags | 'none';
};

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, state: State) => ({ bucket: ctx.target.id, previous: state?.config }),
  // Execute reads the block before changing it, so `state` is known here (only a plan may lack it).
  undo: (ctx: Context, state: State): BlockS3PublicAccessUndo | { bucket: string } =>
    state === undefined
      ? { bucket: ctx.target.id }
      : { bucket: ctx.target.id, previous: state.existed ? flagsOf(state.config) : 'none' },
};

// ---------------------------------------------------------------------------------------------
// Undo: the previous settings back, while the bucket is still as Riposte left it
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<BlockS3PublicAccessUndo, AwsServices>;

const FLAGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(FLAGS.map((flag) => [flag, { type: 'boolean' }])),
  required: FLAGS,
};

/**
 * The recorded state as history holds it: read back from a table, so nothing else is accepted. The
 * bucket name pattern is the general purpose naming rules' alphabet and length; the inverse checks
 * the full rules (`invalidId`) again before any call.
 */
const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bucket: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' },
    previous: { oneOf: [{ type: 'string', const: 'none' }, FLAGS_SCHEMA] },
  },
  required: ['bucket', 'previous'],
};

const isFlags = (value: unknown): value is PublicAccessFlags =>
  typeof value === 'object' &&
  value !== null &&
  Object.keys(value).length === FLAGS.length &&
  FLAGS.every((flag) => typeof (value as Record<string, unknown>)[flag] === 'boolean');

/** Why the recorded state cannot be acted on (checked again here, whoever validated it before), or `undefined`. */
const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 's3-bucket') return `the recorded target is a ${shown(target.kind)}, not an S3 bucket`;
  const invalid =
    invalidId('s3-bucket-name', state.bucket) ??
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region);
  if (invalid !== undefined) return invalid;
  if (state.bucket !== target.id) {
    return `the recorded bucket ${shown(state.bucket)} is not the recorded target ${shown(target.id)}`;
  }
  return state.previous === 'none' || isFlags(state.previous)
    ? undefined
    : 'the recorded previous settings are neither "none" nor the four Block Public Access flags';
};

const describeFlags = (flags: PublicAccessFlags | 'none'): string => {
  if (flags === 'none') return 'no public access block';
  const on = FLAGS.filter((flag) => flags[flag]);
  if (on.length === FLAGS.length) return 'all four settings on';
  return on.length === 0 ? 'all four settings off' : `on: ${on.join(', ')}`;
};

const sameFlags = (a: PublicAccessFlags | 'none', b: PublicAccessFlags | 'none'): boolean =>
  a === 'none' || b === 'none' ? a === b : FLAGS.every((flag) => a[flag] === b[flag]);

/**
 * Restores only what Riposte set: the bucket must still have all four settings on. Already as before:
 * nothing to do; anything else means someone changed the settings since, and they are left alone.
 */
const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<null>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const { bucket, previous } = ctx.state;
  const input = { Bucket: bucket, ExpectedBucketOwner: ctx.target.accountId };
  const answer = await session.read(read(ctx, 's3', 'GetPublicAccessBlock', input), {
    key: bucket,
    found: (output) => describeFlags(flagsOf(output.PublicAccessBlockConfiguration ?? {})),
    absent: {
      codes: ['NoSuchPublicAccessBlockConfiguration'],
      summary: `bucket ${bucket} has no public access block`,
    },
  });
  // A plan made without credentials lists the restore; execute reads the bucket again first.
  if (answer.status === 'unknown') return planned(null);
  const current =
    answer.status === 'absent' ? 'none' : flagsOf(answer.output.PublicAccessBlockConfiguration ?? {});
  if (sameFlags(current, previous)) {
    return noOp(`${bucket} already has its settings from before the response (${describeFlags(previous)})`);
  }
  if (sameFlags(current, flagsOf(ALL_BLOCKED))) return planned(null);
  return refused(
    `the public access block of ${bucket} changed since the response: it has ${describeFlags(current)}, neither Riposte's (all four settings on) nor the previous ${describeFlags(previous)}; not restored`,
  );
};

const undoMutations = (ctx: UndoContext): Mutation[] => {
  const { bucket, previous } = ctx.state;
  const owner = { Bucket: bucket, ExpectedBucketOwner: ctx.target.accountId };
  return previous === 'none'
    ? [mutation(ctx, 's3', 'DeletePublicAccessBlock', owner)]
    : [mutation(ctx, 's3', 'PutPublicAccessBlock', { ...owner, PublicAccessBlockConfiguration: previous })];
};

/**
 * DeletePublicAccessBlock is authorised by s3:PutBucketPublicAccessBlock (S3 API reference), so the
 * inverse needs the action's own two permissions, on the same buckets.
 */
const undo = defineInverse<BlockS3PublicAccessUndo, AwsServices>({
  summary:
    "Put back the bucket's Block Public Access settings from before the response (PutPublicAccessBlock), or delete the configuration when it had none (DeletePublicAccessBlock); only while all four settings are still on as Riposte set them.",
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  grants: () => GRANTS,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

/**
 * Turns on all four S3 Block Public Access settings on each bucket the finding names, and only
 * those buckets, and only while they belong to the finding's account. A malformed bucket name is
 * refused before any call. The account-level setting is left alone.
 *
 * Undo: the settings from before (or no configuration, when there was none) go back while all four
 * are still on; settings someone changed since are left as they are.
 */
export const blockS3PublicAccess = defineAction<BlockS3PublicAccessParams, AwsServices>({
  name: 'block-s3-public-access',
  summary: 'Turn on all four Block Public Access settings of each S3 bucket the finding names.',
  phase: 'contain',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  grants: () => GRANTS,
  resourceKinds: ['s3-bucket'],
  example: '- action: block-s3-public-access',
  idempotency: 'Skipped when all four Block Public Access settings of the bucket are already on.',
  dryRun:
    "Refuses a malformed bucket name; looks up the bucket's public access block (ExpectedBucketOwner: the finding's account); lists PutPublicAccessBlock with all four settings on and ExpectedBucketOwner.",

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 's3-bucket').map((bucket) =>
        targetOf(finding, 's3-bucket', bucket.name, `bucket ${bucket.name}`, { arn: bucket.arn }),
      ),
      'the finding names no S3 bucket',
    ),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
