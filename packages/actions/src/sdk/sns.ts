// The SNS client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
