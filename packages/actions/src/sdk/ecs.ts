// The ECS client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  DescribeTasksCommand,
  ECSClient,
  StopTaskCommand,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
