import { describe, expect, it } from 'vitest';
import { createMatcher } from '../../src/match/index.js';
import type { Playbook } from '../../src/playbook.js';
import { sampleFinding } from '../helpers/finding.js';
import { buildPlaybook } from '../helpers/playbook.js';

/** 2,000 playbooks about other finding types: exact types, wildcards and exact types of the same purpose. */
const unrelatedPlaybooks = (): Playbook[] =>
  Array.from({ length: 2_000 }, (_, index) => {
    const types = [
      [`Recon:EC2/PortProbe${index}`],
      [`Backdoor:EC2/Family${index}.*`],
      [`CryptoCurrency:EC2/BitcoinTool${index}.B!DNS`, `Trojan:EC2/DropPoint${index}*`],
      [`UnauthorizedAccess:IAMUser/ConsoleLoginSuccess${index}.B`],
    ][index % 4] as string[];
    return buildPlaybook(`unrelated-${String(index).padStart(4, '0')}`, { types });
  });

const names = (playbooks: readonly Playbook[]) => playbooks.map((playbook) => playbook.name);

describe('Matcher index', () => {
  it('evaluates only the candidates for the finding type, not the 2,000 playbooks about other types', async () => {
    // Arrange
    const relevant = [
      buildPlaybook('exact', {
        types: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
      }),
      buildPlaybook('family', { types: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*'] }),
      buildPlaybook('same-purpose-other-resource', { types: ['UnauthorizedAccess:EC2/*'] }),
      buildPlaybook('any-iam-user', { types: ['*:IAMUser/**'] }),
      buildPlaybook('no-types', { severity: { min: 7 } }),
    ];
    const matcher = createMatcher([...unrelatedPlaybooks(), ...relevant], {
      defaultExclusions: { samples: false },
    });
    const finding = sampleFinding('instanceCredentialExfiltration');

    // Act
    const candidates = matcher.candidates(finding);
    const matches = await matcher.match(finding);

    // Assert
    expect(names(candidates).sort()).toEqual(names(relevant).sort());
    expect(names(matches.map((match) => match.playbook)).sort()).toEqual(
      ['any-iam-user', 'exact', 'family', 'no-types'].sort(),
    );
    expect(matcher.playbooks).toHaveLength(2_005);
  });

  it('looks up another finding type in its own buckets', () => {
    // Arrange
    const matcher = createMatcher([
      ...unrelatedPlaybooks(),
      buildPlaybook('s3', { types: ['*:S3/**'] }),
      buildPlaybook('exfiltration', { types: ['Exfiltration:**'] }),
      buildPlaybook('iam', { types: ['UnauthorizedAccess:IAMUser/*'] }),
    ]);

    // Act
    const candidates = matcher.candidates(sampleFinding('s3Exfiltration'));

    // Assert
    expect(names(candidates).sort()).toEqual(['exfiltration', 's3']);
  });

  it('yields a playbook filed under several patterns once, in priority order', () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('low', {
        types: ['Backdoor:EC2/C&CActivity.B', 'Backdoor:EC2/*', '*:EC2/**', 'Backdoor:**'],
      }),
      buildPlaybook('first', { types: ['Backdoor:EC2/C&CActivity.*'] }, { priority: 1 }),
      buildPlaybook('generic', {}, { priority: 2 }),
    ]);

    // Act
    const candidates = matcher.candidates(sampleFinding('backdoorCommandAndControl'));

    // Assert
    expect(names(candidates)).toEqual(['first', 'generic', 'low']);
  });

  it('leaves disabled playbooks out of the candidates', () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('off', { types: ['Policy:IAMUser/RootCredentialUsage'] }, { enabled: false }),
      buildPlaybook('on', { types: ['Policy:IAMUser/RootCredentialUsage'] }),
    ]);

    // Act
    const candidates = matcher.candidates(sampleFinding('rootCredentialUsage'));

    // Assert
    expect(names(candidates)).toEqual(['on']);
  });
});
