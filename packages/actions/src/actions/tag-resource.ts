import {
  type ActionContext,
  type ActionTarget,
  type AwsCall,
  type ExecutionError,
  type Finding,
  type PermissionGrant,
  resourcesOfKind,
} from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { checkPrincipal } from '../protection.js';
import { executeAction, placeholder, planAction, type Read, type Session, scopeOf } from '../session.js';
import { FINDING_ID_TAG, FINDING_TYPE_TAG, findingTags, TAGGED_AT_TAG, type Tag, tagValue } from '../tags.js';
import { instanceTargets, invalidBucketName, invalidEc2Id, refusal, resolved, targetOf } from '../targets.js';

export type TagResourceParams = {
  /** Extra tags; the riposte:* tags win on a clash. */
  tags?: Record<string, string>;
};

type Context = ActionContext<TagResourceParams, AwsServices>;

type Principal = { kind: 'user' | 'role'; name: string };

/** Which IAM principal an access-key target stands for: the key's user, or its assumed role. */
const principalOf = (finding: Finding, target: ActionTarget): Principal | undefined => {
  for (const key of resourcesOfKind(finding, 'access-key')) {
    if (key.userType === 'IAMUser' && key.userName === target.id) return { kind: 'user', name: target.id };
    if (key.userType === 'AssumedRole' && key.roleName === target.id)
      return { kind: 'role', name: target.id };
  }
  return undefined;
};

const principalTargets = (finding: Finding): ActionTarget[] => {
  const targets = new Map<string, ActionTarget>();
  for (const key of resourcesOfKind(finding, 'access-key')) {
    if (key.userType === 'IAMUser' && key.userName !== undefined) {
      targets.set(
        `user/${key.userName}`,
        targetOf(finding, 'access-key', key.userName, `IAM user ${key.userName}`),
      );
    } else if (key.userType === 'AssumedRole' && key.roleName !== undefined) {
      targets.set(
        `role/${key.roleName}`,
        targetOf(finding, 'access-key', key.roleName, `IAM role ${key.roleName}`),
      );
    }
  }
  return [...targets.values()];
};

/** The tags to write: the caller's, then the riposte:* ones (which win). */
const newTags = (ctx: Context): Tag[] => {
  const tags = new Map(Object.entries(ctx.params.tags ?? {}));
  for (const tag of [...findingTags(ctx.finding), { Key: TAGGED_AT_TAG, Value: ctx.now.toISOString() }]) {
    tags.set(tag.Key, tag.Value);
  }
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
};

/**
 * Where tag-resource writes: instances, buckets and IAM roles and users of the deploying account.
 * CreateTags, TagRole and TagUser may write only the riposte:* keys and the step's own `tags` keys
 * (`aws:TagKeys`), so the role cannot rewrite tags that other policies may key on. PutBucketTagging
 * replaces the whole tag set (IAM cannot see its keys); `s3:ResourceAccount` keeps it to the
 * deploying account's buckets, as `ExpectedBucketOwner` does per request.
 */
const grantsFor = (params: TagResourceParams): PermissionGrant[] => {
  const onlyTheseKeys = {
    'ForAllValues:StringEquals': {
      'aws:TagKeys': [
        ...new Set([FINDING_ID_TAG, FINDING_TYPE_TAG, TAGGED_AT_TAG, ...Object.keys(params.tags ?? {})]),
      ],
    },
  };
  return [
    { actions: ['ec2:DescribeTags'], resources: ['*'] },
    {
      actions: ['ec2:CreateTags'],
      resources: ['arn:{partition}:ec2:*:{account}:instance/*'],
      conditions: onlyTheseKeys,
    },
    {
      actions: ['s3:GetBucketTagging', 's3:PutBucketTagging'],
      resources: ['arn:{partition}:s3:::*'],
      conditions: { StringEquals: { 's3:ResourceAccount': '{account}' } },
    },
    {
      actions: ['iam:GetRole', 'iam:ListRoleTags'],
      resources: ['arn:{partition}:iam::{account}:role/*'],
    },
    {
      actions: ['iam:TagRole'],
      resources: ['arn:{partition}:iam::{account}:role/*'],
      conditions: onlyTheseKeys,
    },
    {
      actions: ['iam:GetUser', 'iam:ListUserTags'],
      resources: ['arn:{partition}:iam::{account}:user/*'],
    },
    {
      actions: ['iam:TagUser'],
      resources: ['arn:{partition}:iam::{account}:user/*'],
      conditions: onlyTheseKeys,
    },
  ];
};

/** The resource's tags as they are; `undefined` when planning could not read them, `'missing'` when it is gone. */
type Current = Tag[] | 'missing' | undefined;

const currentOf = <O>(
  read: Read<O>,
  tagsOf: (output: O) => { Key?: string; Value?: string }[] | undefined,
): Current => {
  if (read.status === 'unknown') return undefined;
  if (read.status === 'absent') return 'missing';
  return (tagsOf(read.output) ?? []).map((tag) => ({ Key: tag.Key ?? '', Value: tag.Value ?? '' }));
};

const summarise = (tags: { Key?: string; Value?: string }[] | undefined): string => {
  const mark = tags?.find((tag) => tag.Key === FINDING_ID_TAG);
  return mark ? `${FINDING_ID_TAG} is ${mark.Value}` : `${tags?.length ?? 0} tag(s), no ${FINDING_ID_TAG}`;
};

type Refusal = { status: 'refused'; reason: string; error: ExecutionError };

/** What execute builds on: the resource's current tags, and its name as AWS spells it. */
type Inspection = { status: 'inspected'; current: Current; name: string } | Refusal;

const refused = (reason: string): Refusal => ({ status: 'refused', reason, error: refusal(reason) });

/**
 * Validates the target's identifier and reads its current tags with the read that suits its kind.
 * An IAM role or user goes through the protected-principal check first, whose tag read also serves
 * the idempotency check.
 */
const inspect = async (ctx: Context, session: Session): Promise<Inspection> => {
  const scope = scopeOf(ctx.target);
  const id = ctx.target.id;
  if (ctx.target.kind === 'instance') {
    const invalid = invalidEc2Id('instance', id);
    if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
    const ec2 = await ctx.services.ec2(scope);
    const { DescribeTagsCommand } = await import('@aws-sdk/client-ec2');
    const input = {
      Filters: [
        { Name: 'resource-id', Values: [id] },
        { Name: 'key', Values: [FINDING_ID_TAG] },
      ],
    };
    const read = await session.read({
      call: awsCall('EC2', 'DescribeTags', input),
      send: () => ec2.send(new DescribeTagsCommand(input)),
      key: id,
      found: (output) => summarise(output.Tags),
    });
    return { status: 'inspected', current: currentOf(read, (output) => output.Tags), name: id };
  }
  if (ctx.target.kind === 's3-bucket') {
    const invalid = invalidBucketName(id);
    if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
    const s3 = await ctx.services.s3(scope);
    const { GetBucketTaggingCommand } = await import('@aws-sdk/client-s3');
    const input = { Bucket: id, ExpectedBucketOwner: ctx.target.accountId };
    const read = await session.read({
      call: awsCall('S3', 'GetBucketTagging', input),
      send: () => s3.send(new GetBucketTaggingCommand(input)),
      key: id,
      found: (output) => summarise(output.TagSet),
      absent: { codes: ['NoSuchTagSet'], summary: `bucket ${id} has no tags` },
    });
    // NoSuchTagSet means "no tags", not "no bucket".
    const current = read.status === 'absent' ? [] : currentOf(read, (output) => output.TagSet);
    return { status: 'inspected', current, name: id };
  }
  const principal = principalOf(ctx.finding, ctx.target);
  if (!principal) return { status: 'inspected', current: 'missing', name: id };
  const protection = await checkPrincipal(ctx, session, principal.kind, principal.name);
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return { status: 'inspected', current: 'missing', name: id };
  return { status: 'inspected', current: protection.tags, name: protection.principal.name };
};

/** The single mutating call that adds the tags; for S3 it carries the whole merged set it replaces. */
const tagMutation = (ctx: Context, current: Tag[], name: string): Mutation => {
  const tags = newTags(ctx);
  const scope = scopeOf(ctx.target);
  const id = ctx.target.id;
  if (ctx.target.kind === 'instance') {
    const input = { Resources: [id], Tags: tags };
    return mutation('EC2', 'CreateTags', input, async () => {
      const { CreateTagsCommand } = await import('@aws-sdk/client-ec2');
      return (await ctx.services.ec2(scope)).send(new CreateTagsCommand(input));
    });
  }
  if (ctx.target.kind === 's3-bucket') {
    // PutBucketTagging replaces the whole set, so existing tags are carried over.
    const names = new Set(tags.map((tag) => tag.Key));
    const input = {
      Bucket: id,
      ExpectedBucketOwner: ctx.target.accountId,
      Tagging: { TagSet: [...current.filter((tag) => !names.has(tag.Key)), ...tags] },
    };
    return mutation('S3', 'PutBucketTagging', input, async () => {
      const { PutBucketTaggingCommand } = await import('@aws-sdk/client-s3');
      return (await ctx.services.s3(scope)).send(new PutBucketTaggingCommand(input));
    });
  }
  if (principalOf(ctx.finding, ctx.target)?.kind === 'role') {
    const input = { RoleName: name, Tags: tags };
    return mutation('IAM', 'TagRole', input, async () => {
      const { TagRoleCommand } = await import('@aws-sdk/client-iam');
      return (await ctx.services.iam(scope)).send(new TagRoleCommand(input));
    });
  }
  const input = { UserName: name, Tags: tags };
  return mutation('IAM', 'TagUser', input, async () => {
    const { TagUserCommand } = await import('@aws-sdk/client-iam');
    return (await ctx.services.iam(scope)).send(new TagUserCommand(input));
  });
};

/** What plan lists. Without credentials the bucket's current tags are unknown, and the input says so. */
const plannedCall = (ctx: Context, current: Tag[] | undefined, name: string): AwsCall => {
  if (current !== undefined || ctx.target.kind !== 's3-bucket')
    return tagMutation(ctx, current ?? [], name).call;
  const TagSet = [placeholder('TagSet', 'GetBucketTagging'), ...newTags(ctx)];
  return awsCall(
    'S3',
    'PutBucketTagging',
    { Bucket: ctx.target.id, ExpectedBucketOwner: ctx.target.accountId, Tagging: { TagSet } },
    true,
  );
};

const noNeed = (ctx: Context, current: Current): string | undefined => {
  if (current === 'missing') return `${ctx.target.label} no longer exists`;
  const mark = current?.find((tag) => tag.Key === FINDING_ID_TAG);
  return mark?.Value === tagValue(ctx.finding.id)
    ? `${ctx.target.label} is already tagged for finding ${ctx.finding.id}`
    : undefined;
};

/**
 * Marks each resource of the finding (instances, buckets, the IAM user or role behind an access key)
 * with the finding id, its type and when it was handled, so responders can find them later. Tagging
 * an IAM role or user changes a principal, so protected ones are refused (see protection.ts);
 * evidence tags on instances and buckets are always allowed.
 */
export const tagResource: DocumentedAction<TagResourceParams, AwsServices> = {
  name: 'tag-resource',
  summary:
    'Tag each instance, bucket and IAM user or role the finding names with riposte:finding-id, riposte:finding-type and riposte:tagged-at.',
  phase: 'preserve',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      tags: {
        type: 'object',
        description: 'Extra tags to add (the riposte:* tags win on a clash).',
        maxProperties: 20,
        propertyNames: { pattern: '^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{1,128}$' },
        additionalProperties: { type: 'string', pattern: '^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{0,256}$' },
      },
    },
  },
  permissions: [
    'ec2:DescribeTags',
    'ec2:CreateTags',
    's3:GetBucketTagging',
    's3:PutBucketTagging',
    'iam:GetRole',
    'iam:ListRoleTags',
    'iam:TagRole',
    'iam:GetUser',
    'iam:ListUserTags',
    'iam:TagUser',
  ],
  grants: grantsFor,
  paramExamples: [{ tags: { incident: 'IR-2024-001' } }],
  resourceKinds: ['instance', 's3-bucket', 'access-key'],
  example: ['- action: tag-resource', '  params:', '    tags:', '      incident: IR-2024-001'].join('\n'),
  idempotency: "Skipped when the resource's riposte:finding-id tag already holds this finding's id.",
  dryRun:
    "Refuses invalid identifiers and protected IAM roles and users; looks up the resource's tags (and the role or user); lists CreateTags, PutBucketTagging (with the merged tag set), TagRole or TagUser with the exact tags.",

  targets: (finding) =>
    resolved(
      [
        ...instanceTargets(finding),
        ...resourcesOfKind(finding, 's3-bucket').map((bucket) =>
          targetOf(finding, 's3-bucket', bucket.name, `bucket ${bucket.name}`, { arn: bucket.arn }),
        ),
        ...principalTargets(finding),
      ],
      'the finding names no instance, bucket, IAM user or role',
    ),

  plan: (ctx) =>
    planAction(async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status === 'refused') return { status: 'refused', reason: inspection.reason, calls: [] };
      const { current, name } = inspection;
      const reason = noNeed(ctx, current);
      if (reason) return { status: 'no-op', reason, calls: [] };
      return {
        status: 'planned',
        calls: [plannedCall(ctx, current === 'missing' ? undefined : current, name)],
      };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status === 'refused') return session.fail(inspection.error);
      const { current, name } = inspection;
      const reason = noNeed(ctx, current);
      if (reason) return { status: 'skipped', reason };
      await session.mutate(
        tagMutation(ctx, current === 'missing' || current === undefined ? [] : current, name),
      );
      return { status: 'applied', outputs: { tags: newTags(ctx) } };
    }),
};
