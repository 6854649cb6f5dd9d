import type { PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import { type ActionContext, defineAction, type PermissionGrant, resourcesOfKind } from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, noOp, planned, planWith, refused } from '../step.js';
import { invalidAccount, invalidId, resolved, targetOf } from '../targets.js';

export type BlockS3PublicAccessParams = Record<string, never>;

type Context = ActionContext<BlockS3PublicAccessParams, AwsServices>;

/** The bucket's block settings before the change; `undefined` when planning could not read them. */
type State = PublicAccessBlockConfiguration | undefined;

const ALL_BLOCKED = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
} as const satisfies PublicAccessBlockConfiguration;

const FLAGS = Object.keys(ALL_BLOCKED) as (keyof typeof ALL_BLOCKED)[];

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
  if (answer.status === 'found') return answer.output.PublicAccessBlockConfiguration ?? {};
  return answer.status === 'absent' ? {} : undefined;
};

const nothingToDo = (ctx: Context, config: State): string | undefined =>
  config !== undefined && FLAGS.every((flag) => config[flag] === true)
    ? `public access to ${ctx.target.id} is already fully blocked`
    : undefined;

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const config = await readBlock(ctx, session);
  const reason = nothingToDo(ctx, config);
  return reason ? noOp(reason) : planned(config);
};

const mutations = (ctx: Context): Mutation[] => [
  mutation(ctx, 's3', 'PutPublicAccessBlock', {
    Bucket: ctx.target.id,
    ExpectedBucketOwner: ctx.finding.accountId,
    PublicAccessBlockConfiguration: ALL_BLOCKED,
  }),
];

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, previous: State) => ({ bucket: ctx.target.id, previous }),
};

/**
 * Turns on all four S3 Block Public Access settings on each bucket the finding names, and only
 * those buckets, and only while they belong to the finding's account. A malformed bucket name is
 * refused before any call. The account-level setting is left alone.
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
});
