import type { PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import { type ActionContext, type PermissionGrant, resourcesOfKind } from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { executeAction, planAction, type Session, scopeOf } from '../session.js';
import { invalidAccount, invalidId, refusal, resolved, targetOf } from '../targets.js';

export type BlockS3PublicAccessParams = Record<string, never>;

type Context = ActionContext<BlockS3PublicAccessParams, AwsServices>;

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
const readBlock = async (
  ctx: Context,
  session: Session,
): Promise<PublicAccessBlockConfiguration | undefined> => {
  const s3 = await ctx.services.s3(scopeOf(ctx.target));
  const { GetPublicAccessBlockCommand } = await import('@aws-sdk/client-s3');
  // ExpectedBucketOwner makes S3 refuse (403) if the name now belongs to another account.
  const input = { Bucket: ctx.target.id, ExpectedBucketOwner: ctx.finding.accountId };
  const read = await session.read({
    call: awsCall('S3', 'GetPublicAccessBlock', input),
    send: () => s3.send(new GetPublicAccessBlockCommand(input)),
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
  if (read.status === 'found') return read.output.PublicAccessBlockConfiguration ?? {};
  return read.status === 'absent' ? {} : undefined;
};

const putBlock = (ctx: Context): Mutation => {
  const input = {
    Bucket: ctx.target.id,
    ExpectedBucketOwner: ctx.finding.accountId,
    PublicAccessBlockConfiguration: ALL_BLOCKED,
  };
  return mutation('S3', 'PutPublicAccessBlock', input, async () => {
    const { PutPublicAccessBlockCommand } = await import('@aws-sdk/client-s3');
    return (await ctx.services.s3(scopeOf(ctx.target))).send(new PutPublicAccessBlockCommand(input));
  });
};

const alreadyBlocked = (config: PublicAccessBlockConfiguration | undefined): boolean =>
  config !== undefined && FLAGS.every((flag) => config[flag] === true);

/**
 * Turns on all four S3 Block Public Access settings on each bucket the finding names, and only
 * those buckets, and only while they belong to the finding's account. A malformed bucket name is
 * refused before any call. The account-level setting is left alone.
 */
export const blockS3PublicAccess: DocumentedAction<BlockS3PublicAccessParams, AwsServices> = {
  name: 'block-s3-public-access',
  summary: 'Turn on all four Block Public Access settings of each S3 bucket the finding names.',
  phase: 'contain',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
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

  plan: (ctx) =>
    planAction(async (session) => {
      const invalid = invalidTarget(ctx);
      if (invalid) return { status: 'refused', reason: invalid, calls: [] };
      const config = await readBlock(ctx, session);
      if (alreadyBlocked(config)) {
        return {
          status: 'no-op',
          reason: `public access to ${ctx.target.id} is already fully blocked`,
          calls: [],
        };
      }
      return { status: 'planned', calls: [putBlock(ctx).call] };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const invalid = invalidTarget(ctx);
      if (invalid) session.fail(refusal(invalid));
      const config = await readBlock(ctx, session);
      if (alreadyBlocked(config)) {
        return { status: 'skipped', reason: `public access to ${ctx.target.id} is already fully blocked` };
      }
      await session.mutate(putBlock(ctx));
      return { status: 'applied', outputs: { bucket: ctx.target.id, previous: config } };
    }),
};
