import { hasInverse } from '@riposte/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAccountSeed,
  type FakeAws,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import { quarantineLambdaFunction } from '../../src/actions/quarantine-lambda-function.js';
import { stopEcsTask } from '../../src/actions/stop-ecs-task.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import {
  ecsBitcoinTool,
  FUNCTION_ARN,
  FUNCTION_NAME,
  lambdaCommandAndControl,
} from '../helpers/compute-findings.js';
import { contextFor, NOW } from '../helpers/context.js';
import { ACCOUNT, REGION } from '../helpers/findings.js';

/**
 * quarantine-lambda-function and stop-ecs-task end to end: the real Lambda and ECS SDK clients talk
 * to the local endpoint, which holds an exposed function and a running task; the quarantine is
 * undone from what its step recorded, and the account compared before and after.
 */

const publicStatement = {
  Sid: 'FunctionURLAllowPublicAccess',
  Effect: 'Allow',
  Principal: '*',
  Action: 'lambda:InvokeFunctionUrl',
  Resource: FUNCTION_ARN,
  Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } },
};

const s3Statement = {
  Sid: 's3-invoke',
  Effect: 'Allow',
  Principal: { Service: 's3.amazonaws.com' },
  Action: 'lambda:InvokeFunction',
  Resource: FUNCTION_ARN,
  Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::acme-uploads' } },
};

const SEED: FakeAccountSeed = {
  accountId: ACCOUNT,
  region: REGION,
  lambdaFunctions: [
    {
      name: FUNCTION_NAME,
      reservedConcurrency: 25,
      url: { authType: 'NONE', invokeMode: 'BUFFERED', cors: { AllowOrigins: ['*'], MaxAge: 300 } },
      statements: [publicStatement, s3Statement],
    },
  ],
  ecsTasks: [
    {
      cluster: 'payments',
      taskId: '0b69d5c0d5d14f4a8d3f6c2b7e1a9f00',
      taskDefinition: 'payments-worker:7',
      group: 'service:payments-worker',
      containers: [
        {
          name: 'worker',
          image: '123456789012.dkr.ecr.us-east-2.amazonaws.com/payments-worker:1.4.2',
          runtimeId: '0b69d5c0d5d14f4a8d3f6c2b7e1a9f00-1234567890',
        },
      ],
      tags: { team: 'payments' },
    },
  ],
};

const servicesFor = (aws: FakeAws): AwsServices =>
  createAwsServices({
    clientConfig: { endpoint: aws.url, maxAttempts: 1 },
    credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
    env: {},
  });

let fake: FakeAws | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const account = async (): Promise<FakeAws> => {
  fake = await startFakeAws({ seed: SEED });
  return fake;
};

describe('quarantine-lambda-function against the local endpoint', () => {
  it('quarantines the function, and undoing it leaves the account as it was', async () => {
    const aws = await account();
    const services = servicesFor(aws);
    const before = aws.snapshot();
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl(), { services });

    const plan = await quarantineLambdaFunction.plan(ctx);
    const outcome = await quarantineLambdaFunction.execute(ctx, plan);

    expect(plan.calls.map((call) => call.operation)).toEqual([
      'PutFunctionConcurrency',
      'DeleteFunctionUrlConfig',
      'RemovePermission',
    ]);
    expect(outcome.status).toBe('applied');
    expect(aws.snapshot().lambdaFunctions[FUNCTION_NAME]).toMatchObject({
      reservedConcurrency: 0,
      url: null,
      policies: { '(function)': [expect.stringContaining('"Sid":"s3-invoke"')] },
    });
    expect(aws.mutatingCalls().map((call) => call.operation)).toEqual([
      'PutFunctionConcurrency',
      'DeleteFunctionUrlConfig',
      'RemovePermission',
    ]);
    expect(
      createRegistry([quarantineLambdaFunction]).validateUndoState(
        quarantineLambdaFunction.name,
        outcome.undo,
      ),
    ).toEqual([]);

    const { undo } = quarantineLambdaFunction;
    if (!hasInverse(undo)) throw new Error('no inverse');
    const undoCtx = {
      findingId: ctx.finding.id,
      target: ctx.target,
      state: outcome.undo ?? {},
      services,
      mode: 'enforce' as const,
      now: NOW,
    };
    const undone = await undo.execute(undoCtx, await undo.plan(undoCtx));

    expect(undone.status).toBe('applied');
    expect(aws.snapshot()).toEqual(before);

    const again = await undo.execute(undoCtx, await undo.plan(undoCtx));
    expect(again.status).toBe('skipped');
  });

  it('skips a function already quarantined', async () => {
    const aws = await account();
    const services = servicesFor(aws);
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl(), { services });
    await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    const second = await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    expect(second.status).toBe('skipped');
    expect(aws.mutatingCalls()).toHaveLength(3);
  });
});

describe('stop-ecs-task against the local endpoint', () => {
  it('records the task, tags it with the finding, then stops it', async () => {
    const aws = await account();
    const ctx = contextFor(stopEcsTask, ecsBitcoinTool(), { services: servicesFor(aws) });

    const outcome = await stopEcsTask.execute(ctx, await stopEcsTask.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(aws.mutatingCalls().map((call) => call.operation)).toEqual(['TagResource', 'StopTask']);
    const task = Object.values(aws.snapshot().ecsTasks)[0];
    expect(task).toEqual({
      lastStatus: 'STOPPED',
      stoppedReason: `Stopped by Riposte for GuardDuty finding ${ctx.finding.id} (CryptoCurrency:Runtime/BitcoinTool.B)`,
      tags: {
        'riposte:finding-id': ctx.finding.id,
        'riposte:finding-type': 'CryptoCurrency:Runtime/BitcoinTool.B',
        'riposte:tagged-at': NOW.toISOString(),
        team: 'payments',
      },
    });
    expect(outcome.outputs).toMatchObject({
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/payments-worker:7`,
      group: 'service:payments-worker',
      containers: [
        expect.objectContaining({ name: 'worker', runtimeId: '0b69d5c0d5d14f4a8d3f6c2b7e1a9f00-1234567890' }),
      ],
      tags: { team: 'payments' },
    });

    const second = await stopEcsTask.execute(ctx, await stopEcsTask.plan(ctx));
    expect(second).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('is already stopped'),
    });
  });
});
