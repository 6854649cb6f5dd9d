// The STS client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
