// The GuardDuty client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  ArchiveFindingsCommand,
  GetFindingsCommand,
  GuardDutyClient,
  ListDetectorsCommand,
  UnarchiveFindingsCommand,
} from '@aws-sdk/client-guardduty';
