import type { Task } from '@aws-sdk/client-ecs';
import {
  type ActionContext,
  type ActionTarget,
  arnProblem,
  defineAction,
  type Finding,
  type PermissionGrant,
  parseArn,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, noOp, planned, planWith, refused } from '../step.js';
import { FINDING_ID_TAG, FINDING_TYPE_TAG, findingTags, TAGGED_AT_TAG } from '../tags.js';
import { invalidAccount, resolved, shown, targetOf } from '../targets.js';

export type StopEcsTaskParams = Record<string, never>;

type Context = ActionContext<StopEcsTaskParams, AwsServices>;

const TASKS = 'arn:{partition}:ecs:*:{account}:task/*/*';

/**
 * DescribeTasks and StopTask are authorised on the task (`task/<cluster>/<id>`); TagResource on the
 * task too, with only the riposte:* keys (`aws:TagKeys`), so the role cannot rewrite tags that other
 * policies key on.
 */
const GRANTS: PermissionGrant[] = [
  { actions: ['ecs:DescribeTasks', 'ecs:StopTask'], resources: [TASKS] },
  {
    actions: ['ecs:TagResource'],
    resources: [TASKS],
    conditions: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': [FINDING_ID_TAG, FINDING_TYPE_TAG, TAGGED_AT_TAG] },
    },
  },
];

/** The cluster a task ARN (`task/<cluster>/<id>`) names: its `cluster/<name>` ARN. */
const clusterArnOf = (taskArn: string): string | undefined => {
  const parts = parseArn(taskArn);
  const [, cluster, id] = parts?.resource.split('/') ?? [];
  return parts === undefined || cluster === undefined || id === undefined
    ? undefined
    : `arn:${parts.partition}:ecs:${parts.region}:${parts.account}:cluster/${cluster}`;
};

/** The clusters the finding places each task in, by task ARN. */
const clustersOf = (finding: Finding): Map<string, string[]> => {
  const clusters = new Map<string, string[]>();
  const add = (taskArn: string, clusterArn: string) =>
    clusters.set(taskArn, [...(clusters.get(taskArn) ?? []), clusterArn]);
  for (const task of resourcesOfKind(finding, 'ecs-task')) add(task.arn, task.clusterArn);
  for (const cluster of resourcesOfKind(finding, 'ecs-cluster')) {
    if (cluster.taskArn !== undefined) add(cluster.taskArn, cluster.arn);
  }
  return clusters;
};

/** Each task the finding names: its ECS task resources, and the task of an ECS cluster resource. */
const taskTargets = (finding: Finding): ActionTarget[] =>
  [...clustersOf(finding).keys()].map((taskArn) =>
    targetOf(finding, 'ecs-task', taskArn, `ECS task ${taskArn.split('/').pop() ?? taskArn}`, {
      arn: taskArn,
    }),
  );

/**
 * Why this target cannot be acted on at all: checked before any client is made or call is sent. The
 * task ARN must be the long format (`task/<cluster>/<id>`, the only one IAM's task resource type
 * matches), in the finding's partition, account and region, and every cluster the finding places it
 * in must be the cluster its ARN names.
 */
const invalidTarget = (ctx: Context): string | undefined => {
  const { target, finding } = ctx;
  const expected = {
    partition: finding.partition,
    accountId: finding.accountId,
    region: target.region,
    service: 'ecs',
  };
  const cluster = clusterArnOf(target.id);
  const other = (clustersOf(finding).get(target.id) ?? []).find((arn) => arn !== cluster);
  const problem =
    invalidAccount(target, finding) ??
    arnProblem(target.id, { ...expected, resourcePrefix: 'task/' }) ??
    (cluster === undefined
      ? `${shown(target.id)} is not a task ARN of the long format task/<cluster>/<id>`
      : undefined) ??
    (other === undefined ? undefined : arnProblem(other, { ...expected, resourcePrefix: 'cluster/' })) ??
    (other === undefined
      ? undefined
      : `task ${shown(target.id)} is not in the cluster the finding names, ${shown(other)}`);
  return problem === undefined ? undefined : `${problem}; nothing was looked up or changed`;
};

/** The task as DescribeTasks found it; `undefined` when planning could not read it. */
type State = Task | undefined;

const tagsOf = (task: Task): Record<string, string> =>
  Object.fromEntries(
    (task.tags ?? []).flatMap((tag) => (tag.key === undefined ? [] : [[tag.key, tag.value ?? '']])),
  );

const containersOf = (task: Task) =>
  (task.containers ?? []).map((container) => ({
    ...(container.name === undefined ? {} : { name: container.name }),
    ...(container.runtimeId === undefined ? {} : { runtimeId: container.runtimeId }),
    ...(container.image === undefined ? {} : { image: container.image }),
    ...(container.imageDigest === undefined ? {} : { imageDigest: container.imageDigest }),
  }));

const describe = (task: Task): string => {
  const containers = containersOf(task)
    .map(
      (container) =>
        `${container.name ?? '?'} (${container.image ?? 'unknown image'}, runtime ${container.runtimeId ?? 'unknown'})`,
    )
    .join(', ');
  return `task is ${task.lastStatus ?? 'unknown'} (desired ${task.desiredStatus ?? 'unknown'}), definition ${task.taskDefinitionArn ?? 'unknown'}, containers: ${containers || '(none)'}`;
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const cluster = clusterArnOf(ctx.target.id) as string;
  const input = { cluster, tasks: [ctx.target.id], include: ['TAGS' as const] };
  const answer = await session.read(read(ctx, 'ecs', 'DescribeTasks', input), {
    key: ctx.target.id,
    found: (output) => {
      const task = output.tasks?.find((item) => item.taskArn === ctx.target.id);
      return task === undefined ? `task ${ctx.target.id} was not found` : describe(task);
    },
  });
  if (answer.status !== 'found') return planned(undefined);
  // Only the task asked for counts, whatever else an answer holds.
  const task = answer.output.tasks?.find((item) => item.taskArn === ctx.target.id);
  if (task === undefined) return noOp(`task ${ctx.target.id} no longer exists`);
  if (task.lastStatus === 'STOPPED') return noOp(`task ${ctx.target.id} is already stopped`);
  if (task.desiredStatus === 'STOPPED')
    return noOp(`task ${ctx.target.id} is already stopping (${task.lastStatus ?? 'unknown'})`);
  return planned(task);
};

/** The tags that record the finding on the task; those it already carries are not written again. */
const evidenceTags = (ctx: Context, task: State) => {
  const wanted = [...findingTags(ctx.finding), { Key: TAGGED_AT_TAG, Value: ctx.now.toISOString() }];
  const current = task === undefined ? {} : tagsOf(task);
  const missing = wanted.filter((tag) =>
    tag.Key === TAGGED_AT_TAG ? current[FINDING_ID_TAG] === undefined : current[tag.Key] !== tag.Value,
  );
  return missing.map((tag) => ({ key: tag.Key, value: tag.Value }));
};

/** StopTask's reason (at most 255 characters, one line): it names the finding. */
const reasonOf = (ctx: Context): string =>
  [
    ...`Stopped by Riposte for GuardDuty finding ${ctx.finding.id} (${ctx.finding.type.name})`.replace(
      /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu,
      ' ',
    ),
  ]
    .slice(0, 255)
    .join('');

const mutations = (ctx: Context, task: State): Mutation[] => {
  const cluster = clusterArnOf(ctx.target.id) as string;
  const tags = evidenceTags(ctx, task);
  return [
    ...(tags.length === 0 ? [] : [mutation(ctx, 'ecs', 'TagResource', { resourceArn: ctx.target.id, tags })]),
    mutation(ctx, 'ecs', 'StopTask', { cluster, task: ctx.target.id, reason: reasonOf(ctx) }),
  ];
};

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, task: State) => ({
    taskArn: ctx.target.id,
    clusterArn: clusterArnOf(ctx.target.id),
    taskDefinitionArn: task?.taskDefinitionArn,
    ...(task?.group === undefined ? {} : { group: task.group }),
    ...(task?.launchType === undefined ? {} : { launchType: task.launchType }),
    containers: task === undefined ? [] : containersOf(task),
    tags: task === undefined ? {} : tagsOf(task),
  }),
};

/**
 * Stops each ECS task the finding names, evidence first: DescribeTasks records the task definition,
 * containers (names, runtime ids, images) and tags in the step's outputs and the report, TagResource
 * marks the task with the finding, then StopTask stops it with a reason naming the finding. Task and
 * cluster ARNs are checked against the finding's account and region before any call.
 */
export const stopEcsTask = defineAction<StopEcsTaskParams, AwsServices>({
  name: 'stop-ecs-task',
  summary:
    'Stop each ECS task the finding names, after recording its task definition, containers and tags and tagging it with the finding.',
  phase: 'contain',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: ['ecs:DescribeTasks', 'ecs:TagResource', 'ecs:StopTask'],
  grants: () => GRANTS,
  resourceKinds: ['ecs-task', 'ecs-cluster'],
  example: '- action: stop-ecs-task',
  idempotency: 'Skipped when the task is already stopped or stopping, or no longer exists.',
  dryRun:
    "Refuses a task or cluster ARN outside the finding's account and region; looks up the task (definition, containers, tags); lists TagResource with the riposte tags it lacks, then StopTask with a reason naming the finding.",

  targets: (finding) => resolved(taskTargets(finding), 'the finding names no ECS task'),

  plan: planWith(step),
  execute: executeWith(step),
  undo: {
    none: 'a stopped task cannot be restarted: its service, if it has one, starts a new task from the recorded task definition; otherwise run one from it by hand once the incident is closed. The riposte tags stay on the stopped task as evidence',
  },
});
