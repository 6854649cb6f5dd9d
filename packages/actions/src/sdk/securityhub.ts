// The Security Hub client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
