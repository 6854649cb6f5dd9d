import {
  DescribeTasksCommand,
  ECSClient,
  ECSServiceException,
  StopTaskCommand,
  TagResourceCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import type { Finding } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { stopEcsTask } from '../../src/actions/stop-ecs-task.js';
import { createRegistry } from '../../src/registry.js';
import { CLUSTER_ARN, ecsBitcoinTool, TASK_ARN, TASK_DEFINITION_ARN } from '../helpers/compute-findings.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import { ACCOUNT, commandAndControl } from '../helpers/findings.js';

const ecs = mockClient(ECSClient);

const FINDING_ID = ecsBitcoinTool().id;

const running = (change: Partial<Task> = {}): Task => ({
  taskArn: TASK_ARN,
  clusterArn: CLUSTER_ARN,
  taskDefinitionArn: TASK_DEFINITION_ARN,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  launchType: 'FARGATE',
  group: 'service:payments-worker',
  containers: [
    {
      name: 'worker',
      image: '123456789012.dkr.ecr.us-east-2.amazonaws.com/payments-worker:1.4.2',
      imageDigest: 'sha256:5f0b0c2a9e0d4b2e8f1a6c3d7e9b0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f70',
      runtimeId: '0b69d5c0d5d14f4a8d3f6c2b7e1a9f00-1234567890',
    },
  ],
  tags: [{ key: 'team', value: 'payments' }],
  ...change,
});

const EVIDENCE_TAGS = [
  { key: 'riposte:finding-id', value: FINDING_ID },
  { key: 'riposte:finding-type', value: 'CryptoCurrency:Runtime/BitcoinTool.B' },
  { key: 'riposte:tagged-at', value: NOW.toISOString() },
];

const REASON = `Stopped by Riposte for GuardDuty finding ${FINDING_ID} (CryptoCurrency:Runtime/BitcoinTool.B)`;

const describing = (task: Task | undefined) =>
  ecs
    .on(DescribeTasksCommand)
    .resolves(
      task === undefined
        ? { tasks: [], failures: [{ arn: TASK_ARN, reason: 'MISSING' }] }
        : { tasks: [task], failures: [] },
    );

beforeEach(() => ecs.reset());
afterAll(() => ecs.restore());

describe('stop-ecs-task targets', () => {
  it('targets the task the finding names once, from its task and cluster resources', () => {
    expect(stopEcsTask.targets(ecsBitcoinTool(), {}).targets).toEqual([
      expect.objectContaining({
        kind: 'ecs-task',
        id: TASK_ARN,
        arn: TASK_ARN,
        accountId: ACCOUNT,
        label: 'ECS task 0b69d5c0d5d14f4a8d3f6c2b7e1a9f00',
      }),
    ]);
  });

  it('has no target on an EC2 finding', () => {
    expect(stopEcsTask.targets(commandAndControl(), {})).toEqual({
      targets: [],
      reason: 'the finding names no ECS task',
    });
  });
});

describe('stop-ecs-task plan', () => {
  it('plans the evidence tags, then the stop with a reason naming the finding', async () => {
    describing(running());

    const plan = await stopEcsTask.plan(contextFor(stopEcsTask, ecsBitcoinTool()));

    expect(plan.status).toBe('planned');
    expect(plan.lookups[0]).toMatchObject({
      call: {
        operation: 'DescribeTasks',
        input: { cluster: CLUSTER_ARN, tasks: [TASK_ARN], include: ['TAGS'] },
      },
      summary: expect.stringContaining(
        `task is RUNNING (desired RUNNING), definition ${TASK_DEFINITION_ARN}`,
      ),
    });
    expect(plan.calls).toEqual([
      {
        service: 'ECS',
        operation: 'TagResource',
        input: { resourceArn: TASK_ARN, tags: EVIDENCE_TAGS },
        mutating: true,
      },
      {
        service: 'ECS',
        operation: 'StopTask',
        input: { cluster: CLUSTER_ARN, task: TASK_ARN, reason: REASON },
        mutating: true,
      },
    ]);
  });

  it('does not tag again a task already tagged for this finding', async () => {
    describing(running({ tags: EVIDENCE_TAGS.slice(0, 2) }));

    const plan = await stopEcsTask.plan(contextFor(stopEcsTask, ecsBitcoinTool()));

    expect(plan.calls.map((call) => call.operation)).toEqual(['StopTask']);
  });

  it.each([
    [running({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), `task ${TASK_ARN} is already stopped`],
    [
      running({ lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED' }),
      'is already stopping (DEPROVISIONING)',
    ],
    [undefined, `task ${TASK_ARN} no longer exists`],
  ])('plans a no-op for %#', async (task, reason) => {
    describing(task);

    const plan = await stopEcsTask.plan(contextFor(stopEcsTask, ecsBitcoinTool()));

    expect(plan).toMatchObject({ status: 'no-op', calls: [] });
    expect(plan.reason).toContain(reason);
  });

  it('plans offline, listing the lookup it would make', async () => {
    ecs.on(DescribeTasksCommand).rejects(credentialsError());

    const plan = await stopEcsTask.plan(contextFor(stopEcsTask, ecsBitcoinTool()));

    expect(plan.status).toBe('planned');
    expect(plan.lookups).toMatchObject([
      { status: 'unavailable', summary: `would look up DescribeTasks ${TASK_ARN}` },
    ]);
    expect(plan.calls.map((call) => call.operation)).toEqual(['TagResource', 'StopTask']);
  });

  it('sends no mutating command while planning', async () => {
    describing(running());

    await stopEcsTask.plan(contextFor(stopEcsTask, ecsBitcoinTool()));

    expect(sentCommands(ecs)).toEqual(['DescribeTasksCommand']);
  });
});

describe('stop-ecs-task execute', () => {
  it('records the task, tags it, then stops it', async () => {
    describing(running());
    ecs.on(TagResourceCommand).resolves({});
    ecs.on(StopTaskCommand).resolves({ task: running({ desiredStatus: 'STOPPED' }) });
    const ctx = contextFor(stopEcsTask, ecsBitcoinTool());

    const outcome = await stopEcsTask.execute(ctx, await stopEcsTask.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(sentCommands(ecs).slice(1)).toEqual([
      'DescribeTasksCommand',
      'TagResourceCommand',
      'StopTaskCommand',
    ]);
    expect(outcome.outputs).toEqual({
      taskArn: TASK_ARN,
      clusterArn: CLUSTER_ARN,
      taskDefinitionArn: TASK_DEFINITION_ARN,
      group: 'service:payments-worker',
      launchType: 'FARGATE',
      containers: [
        {
          name: 'worker',
          runtimeId: '0b69d5c0d5d14f4a8d3f6c2b7e1a9f00-1234567890',
          image: '123456789012.dkr.ecr.us-east-2.amazonaws.com/payments-worker:1.4.2',
          imageDigest: 'sha256:5f0b0c2a9e0d4b2e8f1a6c3d7e9b0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f70',
        },
      ],
      tags: { team: 'payments' },
    });
    expect(outcome.undo).toBeUndefined();
  });

  it('skips when the task stopped since planning', async () => {
    ecs
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [running()] })
      .resolves({ tasks: [running({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' })] });
    const ctx = contextFor(stopEcsTask, ecsBitcoinTool());

    const outcome = await stopEcsTask.execute(ctx, await stopEcsTask.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(0);
  });

  it('fails with the SDK error name, not stopping a task it could not tag', async () => {
    describing(running());
    ecs.on(TagResourceCommand).rejects(
      new ECSServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'denied-1' },
        message: 'User is not authorized to perform: ecs:TagResource',
      }),
    );
    const ctx = contextFor(stopEcsTask, ecsBitcoinTool());

    const outcome = await stopEcsTask.execute(ctx, await stopEcsTask.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'AccessDeniedException', retryable: false, details: { requestId: 'denied-1' } },
    });
    expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(0);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    describing(running());
    const ctx = contextFor(stopEcsTask, ecsBitcoinTool(), { mode: 'dry-run' });

    const outcome = await stopEcsTask.execute(ctx, await stopEcsTask.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(sentCommands(ecs)).toEqual(['DescribeTasksCommand', 'DescribeTasksCommand']);
  });
});

describe('stop-ecs-task against a forged finding', () => {
  const withTask = (taskArn: string, clusterArn = CLUSTER_ARN): Finding => {
    const finding = ecsBitcoinTool();
    return {
      ...finding,
      resources: [
        {
          kind: 'ecs-task',
          arn: taskArn,
          clusterArn,
          containers: [],
          tags: {},
        },
      ],
    };
  };

  it.each([
    ['another account', withTask(TASK_ARN.replace(ACCOUNT, '444455556666'))],
    ['another region', withTask(TASK_ARN.replace('us-east-2', 'eu-west-1'))],
    ['a wildcard', withTask(TASK_ARN.replace('0b69d5c0d5d14f4a8d3f6c2b7e1a9f00', '*'))],
    ['the old format without cluster', withTask(TASK_ARN.replace('task/payments/', 'task/'))],
    ['a task of another cluster', withTask(TASK_ARN, CLUSTER_ARN.replace('payments', 'billing'))],
    ['an EC2 ARN', withTask(`arn:aws:ec2:us-east-2:${ACCOUNT}:instance/i-0a1b2c3d4e5f67890`)],
  ])('refuses %s without any AWS call', async (_what, finding) => {
    const ctx = contextFor(stopEcsTask, finding);

    const plan = await stopEcsTask.plan(ctx);
    const outcome = await stopEcsTask.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toContain('nothing was looked up or changed');
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(sentCommands(ecs)).toEqual([]);
  });

  it('ignores a task the answer holds besides the one asked for', async () => {
    const other = TASK_ARN.replace('0b69d5c0d5d14f4a8d3f6c2b7e1a9f00', 'ffffffffffffffffffffffffffffffff');
    ecs.on(DescribeTasksCommand).resolves({ tasks: [running({ taskArn: other })] });

    const plan = await stopEcsTask.plan(contextFor(stopEcsTask, ecsBitcoinTool()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `task ${TASK_ARN} no longer exists` });
  });
});

describe('stop-ecs-task undo', () => {
  it('declares no inverse, and says why in words', () => {
    expect(stopEcsTask.undo).toEqual({ none: expect.stringContaining('a stopped task cannot be restarted') });
    expect(createRegistry([stopEcsTask]).validateUndoState('stop-ecs-task', {})).toEqual([
      expect.objectContaining({ message: expect.stringContaining('has no inverse') }),
    ]);
  });
});
