import { describe, expect, it } from 'vitest';
import { reachableTypes } from '../../src/catalog/index.js';

const S3_EXFILTRATION = 'Exfiltration:S3/MaliciousIPCaller';
const IAM_EXFILTRATION = 'Exfiltration:IAMUser/AnomalousBehavior';
const TRAIL_DISABLED = 'Stealth:IAMUser/CloudTrailLoggingDisabled';
const ROOT_USAGE = 'Policy:IAMUser/RootCredentialUsage';
/** A type AWS may add later: the CTID mapping does not know it, its threat purpose is known. */
const FUTURE_EXFILTRATION = 'Exfiltration:S3/ObjectCopy.Future';

const TYPES = [S3_EXFILTRATION, IAM_EXFILTRATION, TRAIL_DISABLED, ROOT_USAGE, FUTURE_EXFILTRATION];

describe('reachableTypes', () => {
  it('reaches the types a pattern matches, mapped or not', () => {
    expect(reachableTypes({ types: ['Exfiltration:S3/*'] }, TYPES)).toEqual([
      S3_EXFILTRATION,
      FUTURE_EXFILTRATION,
    ]);
  });

  it('reaches by technique through the CTID mapping, a parent technique taking in its sub-techniques', () => {
    // Act
    const byWebService = reachableTypes({ techniques: ['T1567'] }, TYPES);
    const byImpairDefenses = reachableTypes({ techniques: ['T1562'] }, TYPES);

    // Assert: T1567.x are primary to both exfiltration types; T1562 to the trail finding.
    expect(byWebService).toEqual([S3_EXFILTRATION, IAM_EXFILTRATION]);
    expect(byImpairDefenses).toEqual([TRAIL_DISABLED]);
  });

  it('reaches through related techniques only when the block says relatedTechniques: true', () => {
    // CTID also maps S3 exfiltration to T1562.008 and T1530, as related techniques; the deployed
    // EventBridge pattern must let such findings through exactly when the matcher would match them.
    expect(reachableTypes({ techniques: ['T1562'], relatedTechniques: true }, TYPES)).toEqual([
      S3_EXFILTRATION,
      TRAIL_DISABLED,
    ]);
    expect(reachableTypes({ techniques: ['T1530'] }, TYPES)).toEqual([]);
    expect(reachableTypes({ techniques: ['T1530'], relatedTechniques: true }, TYPES)).toEqual([
      S3_EXFILTRATION,
    ]);
    // Defense Evasion is primary to the trail finding and (through T1078) to root usage.
    expect(reachableTypes({ tactics: ['TA0005'] }, TYPES)).toEqual([TRAIL_DISABLED, ROOT_USAGE]);
    // Related: T1562.x for S3 exfiltration, T1078.x (Valid Accounts) for IAM exfiltration.
    expect(reachableTypes({ tactics: ['TA0005'], relatedTechniques: true }, TYPES)).toEqual([
      S3_EXFILTRATION,
      IAM_EXFILTRATION,
      TRAIL_DISABLED,
      ROOT_USAGE,
    ]);
  });

  it('reaches by tactic through the techniques and through the threat purpose', () => {
    // The S3 type reaches Exfiltration (TA0010) through T1020 and its purpose; the other two through
    // their purpose alone, as the normalizer gives a finding its purpose's tactic.
    expect(reachableTypes({ tactics: ['TA0010'] }, TYPES)).toEqual([
      S3_EXFILTRATION,
      IAM_EXFILTRATION,
      FUTURE_EXFILTRATION,
    ]);
  });

  it('reaches a type only when every type criterion of the block holds for it', () => {
    // The future type matches the pattern, but no technique of the mapping ties it to T1567.
    expect(reachableTypes({ types: ['Exfiltration:S3/*'], techniques: ['T1567'] }, TYPES)).toEqual([
      S3_EXFILTRATION,
    ]);
  });

  it('reaches every type when the block has no type criterion', () => {
    expect(reachableTypes({ severity: { min: 7 }, resources: ['s3-bucket'] }, TYPES)).toEqual(TYPES);
  });
});
