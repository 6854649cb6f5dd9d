import { AwsFault } from '../errors.js';
import type { OperationContext } from '../protocols.js';
import type { JsonOperation } from './cloudtrail.js';

/*
 * ECS (awsJson1_1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`), the operations
 * stop-ecs-task sends and ListTagsForResource. Members as @aws-sdk/client-ecs 3.1178's schemas give
 * them (dist-es/schemas/schemas_0.js):
 *   DescribeTasks        { cluster, tasks, include } -> { tasks: Task[], failures: { arn, reason, detail }[] }
 *   StopTask             { cluster, task, reason }   -> { task }
 *   TagResource          { resourceArn, tags: { key, value }[] }
 *   ListTagsForResource  { resourceArn }             -> { tags }
 * A Task carries taskArn, clusterArn, taskDefinitionArn, lastStatus, desiredStatus, launchType, group,
 * containers (containerArn, taskArn, name, image, imageDigest, runtimeId, lastStatus), tags (only with
 * `include: ['TAGS']`), and stopCode, stoppedReason, stoppingAt (epoch seconds) once stopped.
 */

export interface EcsTaskSeed {
  /** The cluster name. */
  cluster: string;
  /** 32 lowercase hex digits. */
  taskId: string;
  taskDefinition: string;
  lastStatus?: 'RUNNING' | 'PENDING' | 'STOPPED';
  launchType?: 'FARGATE' | 'EC2';
  group?: string;
  containers: Array<{ name: string; image: string; imageDigest?: string; runtimeId?: string }>;
  tags?: Record<string, string>;
}

export interface FakeEcsTask {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus: string;
  launchType: string;
  group?: string;
  containers: Array<{ name: string; image: string; imageDigest?: string; runtimeId?: string }>;
  tags: Record<string, string>;
  stoppedReason?: string;
}

export const ecsTasksOf = (
  seeds: readonly EcsTaskSeed[],
  accountId: string,
  region: string,
): Map<string, FakeEcsTask> =>
  new Map(
    seeds.map((seed) => {
      const prefix = `arn:aws:ecs:${region}:${accountId}`;
      const status = seed.lastStatus ?? 'RUNNING';
      const task: FakeEcsTask = {
        taskArn: `${prefix}:task/${seed.cluster}/${seed.taskId}`,
        clusterArn: `${prefix}:cluster/${seed.cluster}`,
        taskDefinitionArn: `${prefix}:task-definition/${seed.taskDefinition}`,
        lastStatus: status,
        desiredStatus: status === 'STOPPED' ? 'STOPPED' : 'RUNNING',
        launchType: seed.launchType ?? 'FARGATE',
        ...(seed.group === undefined ? {} : { group: seed.group }),
        containers: structuredClone(seed.containers),
        tags: { ...seed.tags },
      };
      return [task.taskArn, task];
    }),
  );

const invalid = (message: string): AwsFault => new AwsFault('InvalidParameterException', message, 400);

/** A cluster given by name or ARN, as the cluster's ARN in this account and region. */
const clusterArnOf = (cluster: unknown, { state }: OperationContext): string => {
  const name = typeof cluster === 'string' && cluster !== '' ? cluster : 'default';
  return name.startsWith('arn:') ? name : `arn:aws:ecs:${state.region}:${state.accountId}:cluster/${name}`;
};

const render = (task: FakeEcsTask, withTags: boolean): Record<string, unknown> => ({
  taskArn: task.taskArn,
  clusterArn: task.clusterArn,
  taskDefinitionArn: task.taskDefinitionArn,
  lastStatus: task.lastStatus,
  desiredStatus: task.desiredStatus,
  launchType: task.launchType,
  ...(task.group === undefined ? {} : { group: task.group }),
  containers: task.containers.map((container) => ({
    containerArn: `${task.clusterArn.replace(':cluster/', ':container/')}/${container.name}`,
    taskArn: task.taskArn,
    lastStatus: task.lastStatus,
    ...container,
  })),
  ...(task.stoppedReason === undefined
    ? {}
    : { stopCode: 'UserInitiated', stoppedReason: task.stoppedReason, stoppingAt: Date.now() / 1000 }),
  ...(withTags ? { tags: Object.entries(task.tags).map(([key, value]) => ({ key, value })) } : {}),
});

/** The task a resource ARN names; ECS answers an unknown ARN with InvalidParameterException. */
const taskOrThrow = (arn: unknown, { state }: OperationContext): FakeEcsTask => {
  const task = typeof arn === 'string' ? state.ecsTasks.get(arn) : undefined;
  if (!task) throw invalid('The specified task is not found.');
  return task;
};

export const ecsOperations: Record<string, JsonOperation> = {
  DescribeTasks: (input, context) => {
    const cluster = clusterArnOf(input.cluster, context);
    const asked = Array.isArray(input.tasks) ? input.tasks : [];
    if (asked.length === 0 || asked.length > 100) throw invalid('Tasks cannot be empty.');
    const withTags = Array.isArray(input.include) && input.include.includes('TAGS');
    const tasks: Record<string, unknown>[] = [];
    const failures: Record<string, unknown>[] = [];
    for (const arn of asked) {
      const task = typeof arn === 'string' ? context.state.ecsTasks.get(arn) : undefined;
      if (task && task.clusterArn === cluster) tasks.push(render(task, withTags));
      else failures.push({ arn, reason: 'MISSING' });
    }
    return { tasks, failures };
  },
  StopTask: (input, context) => {
    const task = taskOrThrow(input.task, context);
    if (task.clusterArn !== clusterArnOf(input.cluster, context))
      throw invalid('The specified task is not found.');
    if (task.lastStatus !== 'STOPPED') {
      task.desiredStatus = 'STOPPED';
      // The fake stops at once; ECS goes through DEACTIVATING and DEPROVISIONING first.
      task.lastStatus = 'STOPPED';
      task.stoppedReason = typeof input.reason === 'string' ? input.reason : 'Task stopped by user';
    }
    return { task: render(task, false) };
  },
  TagResource: (input, context) => {
    const task = taskOrThrow(input.resourceArn, context);
    const tags = Array.isArray(input.tags) ? input.tags : [];
    for (const tag of tags as Array<{ key?: unknown; value?: unknown }>) {
      if (typeof tag.key !== 'string' || tag.key.startsWith('aws:'))
        throw invalid('The tag key is not valid.');
      task.tags[tag.key] = typeof tag.value === 'string' ? tag.value : '';
    }
    return {};
  },
  ListTagsForResource: (input, context) => {
    const task = taskOrThrow(input.resourceArn, context);
    return { tags: Object.entries(task.tags).map(([key, value]) => ({ key, value })) };
  },
};

/** Tasks as `fake.snapshot()` lists them: status, stop reason and tags. */
export const ecsSnapshot = (tasks: Map<string, FakeEcsTask>) =>
  Object.fromEntries(
    [...tasks.values()]
      .sort((left, right) => (left.taskArn < right.taskArn ? -1 : 1))
      .map((task) => [
        task.taskArn,
        {
          lastStatus: task.lastStatus,
          stoppedReason: task.stoppedReason ?? null,
          tags: Object.fromEntries(
            Object.entries(task.tags).sort(([left], [right]) => (left < right ? -1 : 1)),
          ),
        },
      ]),
  );
