// The GuardDuty client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  GetFindingsCommand,
  GuardDutyClient,
  ListDetectorsCommand,
} from '@aws-sdk/client-guardduty';
