import { describe, expect, it } from 'vitest';
import { alignPattern, suggestTypePatterns, unknownFindingType } from '../../src/catalog/unknown-types.js';
import { compileTypePattern } from '../../src/match/pattern.js';

describe('unknownFindingType', () => {
  it.each([
    ['an active type', 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
    ['a retired type', 'Exfiltration:S3/ObjectRead.Unusual'],
    ['a pattern matching some type', 'Exfiltration:S3/*'],
    ['a pattern across segments', 'Discovery:S3/**'],
    ['a wildcard purpose', '*:S3/*'],
    ['a type with punctuation', 'Backdoor:EC2/C&CActivity.B'],
  ])('is undefined for %s', (_, pattern) => {
    expect(unknownFindingType(pattern)).toBeUndefined();
  });

  it('is undefined for an invalid pattern: the loader refuses that as an error instead', () => {
    expect(unknownFindingType('Exfiltration:S3/***')).toBeUndefined();
    expect(unknownFindingType('')).toBeUndefined();
  });

  it.each([
    ['a misspelt family', 'Exfiltration:S3/ObjectRead.Unusal', ['Exfiltration:S3/ObjectRead.Unusual']],
    [
      'the wrong resource, the rest exact',
      'UnauthorizedAccess:EC2/InstanceCredentialExfiltration.OutsideAWS',
      ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
    ],
    ['a misspelt purpose, wildcards kept', 'Exfiltraton:S3/*', ['Exfiltration:S3/*']],
    [
      'the wrong case',
      'unauthorizedaccess:iamuser/consoleloginsuccess.b',
      ['UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B'],
    ],
    [
      'a family without its mechanism, each completion offered',
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration',
      [
        'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
        'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      ],
    ],
  ])('flags %s, suggesting what was meant', (_, pattern, suggestions) => {
    expect(unknownFindingType(pattern)).toEqual({ suggestions });
  });

  it('flags a pattern near no type, suggesting nothing', () => {
    expect(unknownFindingType('Foo:Bar/Baz')).toEqual({ suggestions: [] });
  });

  it('flags a pattern longer than any type without simulating it', () => {
    const long = `Exfiltration:S3/${'A'.repeat(200)}*`;

    expect(unknownFindingType(long)).toEqual({ suggestions: [] });
  });
});

describe('suggestTypePatterns', () => {
  it('offers an active type before a retired one as near', () => {
    const types = ['Impact:S3/ObjectDelete.Unusual', 'Impact:S3/ObjectDelete.Unusual2'];

    expect(suggestTypePatterns('Impact:S3/ObjectDelete.Unusual1', types)).toEqual(types);
    expect(suggestTypePatterns('Impact:S3/ObjectDelete.Unusual1', [...types].reverse())).toEqual(
      [...types].reverse(),
    );
  });

  it('never swaps the family whole: it says what happened', () => {
    expect(
      suggestTypePatterns('Exfiltration:S3/MaliciousIPCaller', ['Exfiltration:S3/AnomalousBehavior']),
    ).toEqual([]);
  });

  it('every suggestion matches a known type', () => {
    for (const pattern of [
      'Exfiltraton:S3/*',
      'Recon:EC2/PortProbe*Port',
      'Stealth:IAMUser/CloudTrailLogingDisabled',
    ]) {
      const suggestions = suggestTypePatterns(pattern);

      expect(suggestions.length, pattern).toBeGreaterThan(0);
      for (const suggestion of suggestions)
        expect(unknownFindingType(suggestion), suggestion).toBeUndefined();
    }
  });
});

describe('alignPattern', () => {
  it('corrects the literals only, keeping the wildcards where they stood', () => {
    const { edits, corrected } = alignPattern(
      'Exfiltraton:*/Object*.Unusal',
      'Exfiltration:S3/ObjectRead.Unusual',
    );

    expect(edits).toBe(2);
    expect(corrected).toBe('Exfiltration:*/Object*.Unusual');
    expect(compileTypePattern(corrected).test('Exfiltration:S3/ObjectRead.Unusual')).toBe(true);
  });

  it('keeps `*` within a segment: it does not stand for a separator', () => {
    expect(alignPattern('Recon:*', 'Recon:EC2/Portscan').edits).toBeGreaterThan(0);
    expect(alignPattern('Recon:**', 'Recon:EC2/Portscan')).toEqual({ edits: 0, corrected: 'Recon:**' });
  });
});
