import type { Finding } from '@riposte/core';
import { ACCOUNT, commandAndControl, REGION } from './findings.js';

/*
 * Normalized Lambda and ECS findings. No sample of either is among the shared findings yet
 * (/work/shared/data/findings/), so these are built from GuardDuty's documented finding format: the
 * finding types `Backdoor:Lambda/C&CActivity.B` (Lambda Protection) and
 * `CryptoCurrency:Runtime/BitcoinTool.B` (Runtime Monitoring on ECS), with `resource.resourceType`
 * `Lambda` and `lambdaDetails` (functionName, functionArn, functionVersion, role), and `ECSCluster`
 * with `ecsClusterDetails` (name, arn, taskDetails: arn, definitionArn, launchType, containers).
 * ("GuardDuty finding details", "Lambda Protection finding types", "Runtime Monitoring finding
 * types" in the GuardDuty User Guide.) The rest (account, region, timestamps, actor) is the C&C
 * sample's. Every builder returns a fresh object, so tests may modify it.
 */

export const FUNCTION_NAME = 'orders-api';
export const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${FUNCTION_NAME}`;
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/payments`;
export const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/payments/0b69d5c0d5d14f4a8d3f6c2b7e1a9f00`;
export const TASK_DEFINITION_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/payments-worker:7`;

/** `Backdoor:Lambda/C&CActivity.B` on function orders-api, version `version` (default `$LATEST`). */
export const lambdaCommandAndControl = (version = '$LATEST'): Finding => {
  const base = commandAndControl();
  return {
    ...base,
    id: 'a2c7f1e0b3d94e5f8a6b7c8d9e0f1a2b',
    arn: base.arn?.replace(base.id, 'a2c7f1e0b3d94e5f8a6b7c8d9e0f1a2b'),
    type: {
      name: 'Backdoor:Lambda/C&CActivity.B',
      threatPurpose: 'Backdoor',
      resourceType: 'Lambda',
      threatFamily: 'C&CActivity',
      detectionMechanism: 'B',
    },
    title: `Lambda function ${FUNCTION_NAME} is querying an IP address associated with a known command and control server.`,
    resourceType: 'Lambda',
    resources: [
      {
        kind: 'lambda-function',
        name: FUNCTION_NAME,
        arn: FUNCTION_ARN,
        version,
        role: `arn:aws:iam::${ACCOUNT}:role/orders-api-role`,
        tags: { team: 'orders' },
      },
    ],
  };
};

/** `CryptoCurrency:Runtime/BitcoinTool.B` in a Fargate task of cluster payments. */
export const ecsBitcoinTool = (): Finding => {
  const base = commandAndControl();
  return {
    ...base,
    id: 'c4e9a3f2d5b64c7e9f8a1b2c3d4e5f60',
    arn: base.arn?.replace(base.id, 'c4e9a3f2d5b64c7e9f8a1b2c3d4e5f60'),
    type: {
      name: 'CryptoCurrency:Runtime/BitcoinTool.B',
      threatPurpose: 'CryptoCurrency',
      resourceType: 'Runtime',
      threatFamily: 'BitcoinTool',
      detectionMechanism: 'B',
    },
    title: 'A container of an ECS task is querying a domain associated with cryptocurrency activity.',
    resourceType: 'ECSCluster',
    resources: [
      {
        kind: 'ecs-cluster',
        name: 'payments',
        arn: CLUSTER_ARN,
        taskArn: TASK_ARN,
        taskDefinitionArn: TASK_DEFINITION_ARN,
        tags: {},
      },
      {
        kind: 'ecs-task',
        arn: TASK_ARN,
        clusterArn: CLUSTER_ARN,
        definitionArn: TASK_DEFINITION_ARN,
        launchType: 'FARGATE',
        containers: [
          {
            name: 'worker',
            image: '123456789012.dkr.ecr.us-east-2.amazonaws.com/payments-worker:1.4.2',
            runtimeId: '0b69d5c0d5d14f4a8d3f6c2b7e1a9f00-1234567890',
          },
        ],
        tags: {},
      },
      {
        kind: 'container',
        name: 'worker',
        image: '123456789012.dkr.ecr.us-east-2.amazonaws.com/payments-worker:1.4.2',
      },
    ],
  };
};
