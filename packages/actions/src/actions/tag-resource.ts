import {
  type ActionContext,
  type ActionTarget,
  defineAction,
  defineInverse,
  type Finding,
  type InverseContext,
  type PermissionGrant,
  resourcesOfKind,
  type UndoState,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { checkPrincipal } from '../protection.js';
import { placeholder, type Read, type Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { FINDING_ID_TAG, FINDING_TYPE_TAG, findingTags, TAGGED_AT_TAG, type Tag, tagValue } from '../tags.js';
import {
  instanceTargets,
  invalidBucketName,
  invalidEc2Id,
  invalidId,
  resolved,
  shown,
  targetOf,
} from '../targets.js';

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
 * The instance's tags of these keys: DescribeTags by resource id and key (the keys are tag keys the
 * params schema allows, with no `*` or `?`, so no filter value is a wildcard), keeping only the tags of
 * exactly that instance.
 */
const readInstanceTags = async (
  ctx: { services: AwsServices; target: ActionTarget },
  session: Session,
  keys: string[],
): Promise<Read<{ Tags?: Tag[] }>> => {
  const id = ctx.target.id;
  const input = {
    Filters: [
      { Name: 'resource-id', Values: [id] },
      { Name: 'key', Values: keys },
    ],
  };
  const answer = await session.read(read(ctx, 'ec2', 'DescribeTags', input), {
    key: id,
    found: (output) => summarise(output.Tags),
  });
  if (answer.status !== 'found') return answer;
  const tags = (answer.output.Tags ?? []).filter((tag) => tag.ResourceId === id);
  return {
    status: 'found',
    output: { Tags: tags.map((tag) => ({ Key: tag.Key ?? '', Value: tag.Value ?? '' })) },
  };
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
    // Every key it writes, so the undo state records what each held before.
    const answer = await readInstanceTags(
      ctx,
      session,
      newTags(ctx).map((tag) => tag.Key),
    );
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

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

type ResourceKind = 'instance' | 's3-bucket' | 'iam-role' | 'iam-user';

/**
 * What a step records before it tags: the resource (an IAM role or user by the name IAM spells), and
 * per key it writes the value it sets and the value the key held before (`previous`, absent when the
 * resource did not carry the key).
 */
export type TagResourceUndo = {
  resource: { kind: ResourceKind; id: string };
  tags: { key: string; value: string; previous?: string }[];
};

const resourceOf = (ctx: Context, name: string): TagResourceUndo['resource'] => {
  if (ctx.target.kind === 'instance' || ctx.target.kind === 's3-bucket')
    return { kind: ctx.target.kind, id: name };
  return { kind: principalOf(ctx.finding, ctx.target)?.kind === 'role' ? 'iam-role' : 'iam-user', id: name };
};

/** Recorded from the tags as read, before they are written (execute always has read them). */
const undoOf = (ctx: Context, { current, name }: State): UndoState => {
  // Not recorded rather than recorded wrong: an undo then says the step recorded nothing valid.
  if (current === undefined) return {};
  const before = new Map(current.map((tag) => [tag.Key, tag.Value]));
  return {
    resource: resourceOf(ctx, name),
    tags: newTags(ctx).map(({ Key: key, Value: value }) => {
      const previous = before.get(key);
      return { key, value, ...(previous === undefined ? {} : { previous }) };
    }),
  } satisfies TagResourceUndo;
};

/** The tag key and value grammars of the params schema (S3 and IAM allow no more), and any value it overwrote. */
const TAG_KEY = '^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{1,128}$';
const TAG_VALUE = '^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{0,256}$';
/** A value the resource held before: EC2 allows more characters than S3 and IAM, but never a control character. */
const PREVIOUS_VALUE = '^[^\\u0000-\\u001f\\u007f]{0,256}$';
const TAG_KEY_PATTERN = new RegExp(TAG_KEY, 'u');

const RESOURCE_IDS: Record<ResourceKind, string> = {
  instance: '^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$',
  's3-bucket': '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
  'iam-role': '^[\\w+=,.@-]{1,64}$',
  'iam-user': '^[\\w+=,.@-]{1,64}$',
};

/** History is read back from a table: every field is checked before the inverse reads it. */
const undoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['resource', 'tags'],
  properties: {
    resource: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'id'],
      properties: {
        kind: { type: 'string', enum: Object.keys(RESOURCE_IDS) },
        id: { type: 'string' },
      },
      allOf: Object.entries(RESOURCE_IDS).map(([kind, pattern]) => ({
        if: { properties: { kind: { const: kind } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
        then: { properties: { id: { type: 'string', pattern } } },
      })),
    },
    tags: {
      type: 'array',
      minItems: 1,
      // At most 20 tags of the step's own and the three riposte:* ones.
      maxItems: 23,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'value'],
        properties: {
          key: { type: 'string', pattern: TAG_KEY },
          value: { type: 'string', pattern: TAG_VALUE },
          previous: { type: 'string', pattern: PREVIOUS_VALUE },
        },
      },
    },
  },
};

type InverseCtx = InverseContext<TagResourceUndo, AwsServices>;

/** The target kind each recorded resource kind comes from. */
const TARGET_KINDS: Record<ResourceKind, ActionTarget['kind']> = {
  instance: 'instance',
  's3-bucket': 's3-bucket',
  'iam-role': 'access-key',
  'iam-user': 'access-key',
};

const invalidResourceId = (kind: ResourceKind, id: string): string | undefined => {
  switch (kind) {
    case 'instance':
      return invalidId('instance-id', id);
    case 's3-bucket':
      return invalidBucketName(id);
    case 'iam-role':
      return invalidId('iam-role-name', id);
    case 'iam-user':
      return invalidId('iam-user-name', id);
  }
};

/**
 * Why the recorded state cannot be acted on, checked again before any call (the schema checked it
 * once): the resource must be the recorded target (an IAM name as IAM spells it, so compared without
 * case), its id and every key well-formed, and each key recorded once.
 */
const invalidUndo = (ctx: InverseCtx): string | undefined => {
  const { target, state } = ctx;
  const { kind, id } = state.resource;
  const invalid =
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region) ??
    (TARGET_KINDS[kind] === undefined
      ? `${shown(kind)} is not a resource kind tag-resource tags`
      : undefined) ??
    invalidResourceId(kind, id);
  if (invalid !== undefined) return invalid;
  const same = kind.startsWith('iam-') ? id.toLowerCase() === target.id.toLowerCase() : id === target.id;
  if (TARGET_KINDS[kind] !== target.kind || !same)
    return `the recorded ${kind} ${shown(id)} is not the target ${target.label}`;
  const keys = state.tags.map((tag) => tag.key);
  const malformed = keys.find((key) => !TAG_KEY_PATTERN.test(key));
  if (malformed !== undefined) return `${shown(malformed)} is not a tag key tag-resource writes`;
  const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
  return repeated === undefined ? undefined : `tag ${repeated} is recorded twice`;
};

/** The resource's tags now; `undefined` while planning without credentials, `missing` when it is gone. */
const readCurrent = async (ctx: InverseCtx, session: Session): Promise<Current> => {
  const { kind, id } = ctx.state.resource;
  if (kind === 'instance') {
    const answer = await readInstanceTags(
      ctx,
      session,
      ctx.state.tags.map((tag) => tag.key),
    );
    return currentOf(answer, (output) => output.Tags);
  }
  if (kind === 's3-bucket') {
    const input = { Bucket: id, ExpectedBucketOwner: ctx.target.accountId };
    const answer = await session.read(read(ctx, 's3', 'GetBucketTagging', input), {
      key: id,
      found: (output) => summarise(output.TagSet),
      absent: {
        codes: ['NoSuchTagSet', 'NoSuchBucket'],
        summary: `bucket ${id} has no tags, or no longer exists`,
      },
    });
    if (answer.status === 'absent' && answer.code === 'NoSuchTagSet') return [];
    return currentOf(answer, (output) => output.TagSet);
  }
  const spec = {
    key: id,
    found: (output: { Tags?: { Key?: string; Value?: string }[] }) => summarise(output.Tags),
    absent: {
      codes: ['NoSuchEntityException', 'NoSuchEntity'],
      summary: `IAM ${kind.slice(4)} ${id} does not exist`,
    },
  };
  // IAM allows at most 50 tags on a principal and answers up to 100 per page, so one page holds them all.
  const answer =
    kind === 'iam-role'
      ? await session.read(read(ctx, 'iam', 'ListRoleTags', { RoleName: id }), spec)
      : await session.read(read(ctx, 'iam', 'ListUserTags', { UserName: id }), spec);
  return currentOf(answer, (output) => output.Tags);
};

/** What undoing does: tags to put back to their previous value, keys to remove; and what it leaves, and why. */
interface Restore {
  /** The resource's tags now; `undefined` while planning offline (S3 then shows a placeholder). */
  current: Tag[] | undefined;
  put: Tag[];
  /** Keys to remove, with the value Riposte set (EC2 deletes a tag only while it holds that value). */
  remove: Tag[];
  left: string[];
}

const MARK_KEYS: ReadonlySet<string> = new Set([FINDING_ID_TAG, FINDING_TYPE_TAG, TAGGED_AT_TAG]);

/**
 * Reads the resource's tags now and decides per recorded key: still what Riposte set, it goes back
 * (removed if the resource did not carry it, else set to its previous value); already as before,
 * nothing to do; anything else was changed since, and is left as it is and named. The riposte:* keys
 * go back together or not at all: when one was changed since (another response tagged the resource),
 * the others are that response's too.
 */
const inspectUndo = async (ctx: InverseCtx, session: Session): Promise<Inspection<Restore>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`${invalid}; nothing was looked up or changed`);
  const { label } = ctx.target;
  const current = await readCurrent(ctx, session);
  if (current === 'missing') return noOp(`${label} no longer exists`);
  const now = current === undefined ? undefined : new Map(current.map((tag) => [tag.Key, tag.Value]));

  const restoring: TagResourceUndo['tags'] = [];
  const changed: string[] = [];
  let markChanged = false;
  for (const tag of ctx.state.tags) {
    const value = now === undefined ? tag.value : now.get(tag.key);
    if (value === tag.value) restoring.push(tag);
    else if (value !== tag.previous) {
      markChanged ||= MARK_KEYS.has(tag.key);
      const is = value === undefined ? 'gone' : shown(value);
      changed.push(`tag ${tag.key} is ${is} now, not ${shown(tag.value)} as Riposte set it`);
    }
  }
  const kept = markChanged ? restoring.filter((tag) => MARK_KEYS.has(tag.key)) : [];
  const left = [
    ...changed.map((line) => `${line}: changed since, so it is left as it is`),
    ...kept.map((tag) => `tag ${tag.key} is left with the other riposte:* tags, which were changed since`),
  ];
  const restore = restoring.filter((tag) => !kept.includes(tag));
  if (restore.length === 0) {
    return left.length > 0
      ? refused(`not restored: ${left.join('; ')}`)
      : noOp(`${label} is restored already: no tag holds what Riposte set`);
  }
  return planned({
    current,
    put: restore.flatMap((tag) =>
      tag.previous === undefined ? [] : [{ Key: tag.key, Value: tag.previous }],
    ),
    remove: restore.flatMap((tag) =>
      tag.previous === undefined ? [{ Key: tag.key, Value: tag.value }] : [],
    ),
    left,
  });
};

/** The calls that restore the tags, with the APIs the action wrote them with. */
const undoMutations = (ctx: InverseCtx, { current, put, remove }: Restore): Mutation[] => {
  const { kind, id } = ctx.state.resource;
  if (kind === 'instance') {
    return [
      ...(put.length === 0 ? [] : [mutation(ctx, 'ec2', 'CreateTags', { Resources: [id], Tags: put })]),
      ...(remove.length === 0 ? [] : [mutation(ctx, 'ec2', 'DeleteTags', { Resources: [id], Tags: remove })]),
    ];
  }
  if (kind === 's3-bucket') {
    // PutBucketTagging replaces the whole set: the tags it keeps, with the previous values put back.
    const changed = new Set([...put, ...remove].map((tag) => tag.Key));
    const kept =
      current === undefined
        ? // Only ever in a plan made offline: execute always reads the tags.
          [placeholder('TagSet', 'GetBucketTagging') as unknown as Tag]
        : current.filter((tag) => !changed.has(tag.Key));
    const TagSet = [...kept, ...put];
    const bucket = { Bucket: id, ExpectedBucketOwner: ctx.target.accountId };
    return [
      TagSet.length === 0
        ? mutation(ctx, 's3', 'DeleteBucketTagging', bucket)
        : mutation(ctx, 's3', 'PutBucketTagging', { ...bucket, Tagging: { TagSet } }),
    ];
  }
  const keys = remove.map((tag) => tag.Key);
  if (kind === 'iam-role') {
    return [
      ...(put.length === 0 ? [] : [mutation(ctx, 'iam', 'TagRole', { RoleName: id, Tags: put })]),
      ...(keys.length === 0 ? [] : [mutation(ctx, 'iam', 'UntagRole', { RoleName: id, TagKeys: keys })]),
    ];
  }
  return [
    ...(put.length === 0 ? [] : [mutation(ctx, 'iam', 'TagUser', { UserName: id, Tags: put })]),
    ...(keys.length === 0 ? [] : [mutation(ctx, 'iam', 'UntagUser', { UserName: id, TagKeys: keys })]),
  ];
};

/** What stays as it is, named in the reason. */
const left = (restore: Restore): string | undefined =>
  restore.left.length === 0 ? undefined : restore.left.join('; ');

/**
 * The undo role's grants (people assume it to run `riposte undo`; the function's role never has
 * them). The keys to restore are whatever a playbook's `tags` named, so no `aws:TagKeys` list can
 * narrow them; `Null` keeps out a DeleteTags without keys, which would delete every tag. S3's
 * DeleteBucketTagging is authorised as s3:PutBucketTagging.
 */
const undoGrants = (): PermissionGrant[] => [
  { actions: ['ec2:DescribeTags'], resources: ['*'] },
  {
    actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
    resources: ['arn:{partition}:ec2:*:{account}:instance/*'],
    conditions: { Null: { 'aws:TagKeys': 'false' } },
  },
  {
    actions: ['s3:GetBucketTagging', 's3:PutBucketTagging'],
    resources: ['arn:{partition}:s3:::*'],
    conditions: { StringEquals: { 's3:ResourceAccount': '{account}' } },
  },
  {
    actions: ['iam:ListRoleTags', 'iam:TagRole', 'iam:UntagRole'],
    resources: ['arn:{partition}:iam::{account}:role/*'],
  },
  {
    actions: ['iam:ListUserTags', 'iam:TagUser', 'iam:UntagUser'],
    resources: ['arn:{partition}:iam::{account}:user/*'],
  },
];

const undo = defineInverse<TagResourceUndo, AwsServices>({
  summary:
    'Remove each tag the step added and put back the value of each tag it overwrote, where the tag still holds what Riposte set; tags changed since are left as they are.',
  stateSchema: undoSchema,
  permissions: [
    'ec2:DescribeTags',
    'ec2:CreateTags',
    'ec2:DeleteTags',
    's3:GetBucketTagging',
    's3:PutBucketTagging',
    'iam:ListRoleTags',
    'iam:TagRole',
    'iam:UntagRole',
    'iam:ListUserTags',
    'iam:TagUser',
    'iam:UntagUser',
  ],
  grants: undoGrants,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations, left }),
});

const step = { inspect, mutations, outputs: (ctx: Context) => ({ tags: newTags(ctx) }), undo: undoOf };

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
  undo,
});
