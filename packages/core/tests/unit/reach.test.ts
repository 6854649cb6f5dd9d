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
    const byDataFromCloudStorage = reachableTypes({ techniques: ['T1530'] }, TYPES);
    const byImpairDefenses = reachableTypes({ techniques: ['T1562'] }, TYPES);

    // Assert: T1530 maps S3 exfiltration; T1562 maps the trail finding, T1562.008 the S3 one too.
    expect(byDataFromCloudStorage).toEqual([S3_EXFILTRATION]);
    expect(byImpairDefenses).toEqual([S3_EXFILTRATION, TRAIL_DISABLED]);
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
    // The future type matches the pattern, but no technique of the mapping ties it to T1530.
    expect(reachableTypes({ types: ['Exfiltration:S3/*'], techniques: ['T1530'] }, TYPES)).toEqual([
      S3_EXFILTRATION,
    ]);
  });

  it('reaches every type when the block has no type criterion', () => {
    expect(reachableTypes({ severity: { min: 7 }, resources: ['s3-bucket'] }, TYPES)).toEqual(TYPES);
  });
});
