// The CloudTrail client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  CloudTrailClient,
  GetTrailStatusCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
