import {
  type ActionContext,
  type ActionTarget,
  defineAction,
  type Finding,
  type PermissionGrant,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { checkPrincipal } from '../protection.js';
import { placeholder, type Read, type Session } from '../session.js';
import { executeWith, type Inspection, noOp, planned, planWith, refused } from '../step.js';
import { FINDING_ID_TAG, FINDING_TYPE_TAG, findingTags, TAGGED_AT_TAG, type Tag, tagValue } from '../tags.js';
import { instanceTargets, invalidBucketName, invalidEc2Id, resolved, targetOf } from '../targets.js';

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
  answer: Read<O>,
  tagsOf: (output: O) => { Key?: string; Value?: string }[] | undefined,
): Current => {
  if (answer.status === 'unknown') return undefined;
  if (answer.status === 'absent') return 'missing';
  return (tagsOf(answer.output) ?? []).map((tag) => ({ Key: tag.Key ?? '', Value: tag.Value ?? '' }));
};

const summarise = (tags: { Key?: string; Value?: string }[] | undefined): string => {
  const mark = tags?.find((tag) => tag.Key === FINDING_ID_TAG);
  return mark ? `${FINDING_ID_TAG} is ${mark.Value}` : `${tags?.length ?? 0} tag(s), no ${FINDING_ID_TAG}`;
};

/**
 * What the tags are written from: the resource's current tags (`undefined` when a plan could not read
 * them), and its name as AWS spells it.
 */
type State = { current: Tag[] | undefined; name: string };

const nothingToDo = (ctx: Context, current: Current): string | undefined => {
  if (current === 'missing') return `${ctx.target.label} no longer exists`;
  const mark = current?.find((tag) => tag.Key === FINDING_ID_TAG);
  return mark?.Value === tagValue(ctx.finding.id)
    ? `${ctx.target.label} is already tagged for finding ${ctx.finding.id}`
    : undefined;
};

/** The resource's tags as they are, and its name as AWS spells it, by the read that suits its kind. */
const readTags = async (
  ctx: Context,
  session: Session,
): Promise<Inspection<{ current: Current; name: string }>> => {
  const id = ctx.target.id;
  if (ctx.target.kind === 'instance') {
    const invalid = invalidEc2Id('instance', id);
    if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
    const input = {
      Filters: [
        { Name: 'resource-id', Values: [id] },
        { Name: 'key', Values: [FINDING_ID_TAG] },
      ],
    };
    const answer = await session.read(read(ctx, 'ec2', 'DescribeTags', input), {
      key: id,
      found: (output) => summarise(output.Tags),
    });
    return planned({ current: currentOf(answer, (output) => output.Tags), name: id });
  }
  if (ctx.target.kind === 's3-bucket') {
    const invalid = invalidBucketName(id);
    if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
    const input = { Bucket: id, ExpectedBucketOwner: ctx.target.accountId };
    const answer = await session.read(read(ctx, 's3', 'GetBucketTagging', input), {
      key: id,
      found: (output) => summarise(output.TagSet),
      absent: { codes: ['NoSuchTagSet'], summary: `bucket ${id} has no tags` },
    });
    // NoSuchTagSet means "no tags", not "no bucket".
    const current = answer.status === 'absent' ? [] : currentOf(answer, (output) => output.TagSet);
    return planned({ current, name: id });
  }
  const principal = principalOf(ctx.finding, ctx.target);
  if (!principal) return planned({ current: 'missing', name: id });
  const protection = await checkPrincipal(ctx, session, principal.kind, principal.name);
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return planned({ current: 'missing', name: id });
  return planned({ current: protection.tags, name: protection.principal.name });
};

/**
 * Validates the target's identifier and reads its current tags with the read that suits its kind.
 * An IAM role or user goes through the protected-principal check first, whose tag read also serves
 * the idempotency check.
 */
const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const tags = await readTags(ctx, session);
  if (tags.status !== 'planned') return tags;
  const { current, name } = tags.state;
  const reason = nothingToDo(ctx, current);
  return reason ? noOp(reason) : planned({ current: current === 'missing' ? undefined : current, name });
};

/**
 * The single mutating call that adds the tags; for S3 it carries the whole merged set it replaces.
 * Without credentials a plan does not know the bucket's current tags, and its input says so.
 */
const mutations = (ctx: Context, { current, name }: State): Mutation[] => {
  const tags = newTags(ctx);
  const id = ctx.target.id;
  if (ctx.target.kind === 'instance')
    return [mutation(ctx, 'ec2', 'CreateTags', { Resources: [id], Tags: tags })];
  if (ctx.target.kind === 's3-bucket') {
    // PutBucketTagging replaces the whole set, so existing tags are carried over.
    const names = new Set(tags.map((tag) => tag.Key));
    const kept =
      current === undefined
        ? // Only ever in a plan made offline: execute always reads the tags.
          [placeholder('TagSet', 'GetBucketTagging') as unknown as Tag]
        : current.filter((tag) => !names.has(tag.Key));
    return [
      mutation(ctx, 's3', 'PutBucketTagging', {
        Bucket: id,
        ExpectedBucketOwner: ctx.target.accountId,
        Tagging: { TagSet: [...kept, ...tags] },
      }),
    ];
  }
  return principalOf(ctx.finding, ctx.target)?.kind === 'role'
    ? [mutation(ctx, 'iam', 'TagRole', { RoleName: name, Tags: tags })]
    : [mutation(ctx, 'iam', 'TagUser', { UserName: name, Tags: tags })];
};

const step = { inspect, mutations, outputs: (ctx: Context) => ({ tags: newTags(ctx) }) };

/**
 * Marks each resource of the finding (instances, buckets, the IAM user or role behind an access key)
 * with the finding id, its type and when it was handled, so responders can find them later. Tagging
 * an IAM role or user changes a principal, so protected ones are refused (see protection.ts);
 * evidence tags on instances and buckets are always allowed.
 */
export const tagResource = defineAction<TagResourceParams, AwsServices>({
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
        required: [],
      },
    },
    required: [],
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

  plan: planWith(step),
  execute: executeWith(step),
});
