import { describe, expect, it } from 'vitest';
import { createMatcher } from '../../src/match/index.js';
import { sampleFinding, withResourceTags } from '../helpers/finding.js';
import { buildPlaybook } from '../helpers/playbook.js';

const rootUsage = () => sampleFinding('rootCredentialUsage');
const exfiltration = () => sampleFinding('instanceCredentialExfiltration');
const exfiltrationTypes = ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*'];
const s3Exfiltration = () => sampleFinding('s3Exfiltration', { sample: false });

describe('Matcher.explain', () => {
  it('explains every playbook in priority order, matched or not', async () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('contain-exfiltration', { types: exfiltrationTypes }),
      buildPlaybook('root-usage', { types: ['Policy:IAMUser/RootCredentialUsage'] }, { priority: 10 }),
    ]);

    // Act
    const explanations = await matcher.explain(rootUsage());

    // Assert
    expect(explanations).toEqual([
      {
        playbook: 'root-usage',
        matched: true,
        criteria: [
          {
            criterion: 'types',
            detail: 'Policy:IAMUser/RootCredentialUsage matched Policy:IAMUser/RootCredentialUsage',
          },
        ],
      },
      {
        playbook: 'contain-exfiltration',
        matched: false,
        criteria: [],
        failed: {
          criterion: 'types',
          reason:
            'Policy:IAMUser/RootCredentialUsage matched none of UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*',
        },
      },
    ]);
  });

  it('names the first criterion that failed in evaluation order, with those that held before it', async () => {
    // Arrange: tags and regions both fail; regions is cheaper, so it is checked (and reported) first.
    const matcher = createMatcher([
      buildPlaybook('root-in-eu', {
        tags: { environment: 'production' },
        types: ['Policy:IAMUser/*'],
        regions: ['eu-west-1'],
        accounts: ['973743533182'],
      }),
    ]);

    // Act
    const [explanation] = await matcher.explain(rootUsage());

    // Assert
    expect(explanation).toEqual({
      playbook: 'root-in-eu',
      matched: false,
      criteria: [
        { criterion: 'types', detail: 'Policy:IAMUser/* matched Policy:IAMUser/RootCredentialUsage' },
        { criterion: 'accounts', detail: 'account 973743533182' },
      ],
      failed: { criterion: 'regions', reason: 'region us-east-2 is not one of eu-west-1' },
    });
  });

  it.each([
    ['severity', { severity: { min: 7 } }, 'severity 2 (Low) is below min 7'],
    ['severity', { severity: { labels: ['High' as const] } }, 'severity 2 (Low): label is not one of High'],
    [
      'resources',
      { resources: ['instance' as const] },
      'finding names access key ASIAJZ3DXJKMP7MG3EKA (Root); wanted instance',
    ],
    ['principals', { principals: ['IAMUser' as const] }, 'access key user type Root is not one of IAMUser'],
    [
      'techniques',
      { techniques: ['T1530'] },
      'primary techniques T1078, T1078.001, T1078.004 match none of T1530',
    ],
    [
      'tactics',
      { tactics: ['Exfiltration'] },
      'primary tactics TA0001 (Initial Access), TA0003 (Persistence), TA0004 (Privilege Escalation), TA0005 (Defense Evasion) are none of TA0010 (Exfiltration)',
    ],
    ['tags', { tags: { owner: ['alice', 'bob'] } }, 'no resource of the finding carries owner=alice|bob'],
    ['sample', { sample: true }, 'sample is false (wanted true)'],
  ])('explains why %s failed', async (criterion, match, reason) => {
    // Arrange
    const matcher = createMatcher([buildPlaybook('under-test', match)]);

    // Act
    const [explanation] = await matcher.explain(rootUsage());

    // Assert
    expect(explanation?.failed).toEqual({ criterion, reason });
  });

  it('says a disabled playbook is disabled', async () => {
    // Arrange
    const matcher = createMatcher([buildPlaybook('paused', {}, { enabled: false })]);

    // Act
    const [explanation] = await matcher.explain(rootUsage());

    // Assert
    expect(explanation).toEqual({
      playbook: 'paused',
      matched: false,
      criteria: [],
      failed: { criterion: 'enabled', reason: 'disabled (enabled: false)' },
    });
  });

  it('names the exclude entry that won over a holding match, with the criteria that held in it', async () => {
    // Arrange
    const matcher = createMatcher(
      [
        buildPlaybook(
          'contain-exfiltration',
          { types: exfiltrationTypes },
          { exclude: [{ accounts: ['111122223333'] }, { principals: ['IAMUser'], regions: ['us-east-2'] }] },
        ),
      ],
      { defaultExclusions: { samples: false } },
    );

    // Act
    const [explanation] = await matcher.explain(exfiltration());

    // Assert
    expect(explanation).toEqual({
      playbook: 'contain-exfiltration',
      matched: false,
      criteria: [
        {
          criterion: 'types',
          detail:
            'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.* matched UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
        },
      ],
      excludedBy: {
        index: 1,
        criteria: [
          { criterion: 'regions', detail: 'region us-east-2' },
          {
            criterion: 'principals',
            detail: 'access key GeneratedFindingAccessKeyId (IAMUser GeneratedFindingUserName)',
          },
        ],
      },
    });
  });

  it('reports the lowest-index exclude entry that holds, even when it needs conditions', async () => {
    // Arrange: entry 0 holds only through its conditions; entry 1 holds without any.
    const fromHome = { fact: 'actor', path: '$.country', operator: 'equal', value: 'United States' };
    const matcher = createMatcher([
      buildPlaybook('root-usage', {}, { exclude: [{ conditions: fromHome }, { principals: ['Root'] }] }),
    ]);

    // Act
    const [explanation] = await matcher.explain(rootUsage());

    // Assert
    expect(explanation?.excludedBy).toEqual({
      index: 0,
      criteria: [{ criterion: 'conditions', detail: 'actor $.country equal "United States"' }],
    });
  });

  it('names the default exclusion of a sample finding', async () => {
    // Arrange
    const matcher = createMatcher([buildPlaybook('contain-exfiltration', { types: exfiltrationTypes })]);

    // Act
    const [explanation] = await matcher.explain(exfiltration());

    // Assert
    expect(explanation?.matched).toBe(false);
    expect(explanation?.excludedBy).toEqual({
      default: 'sample',
      reason: 'GuardDuty sample finding; the playbook does not say sample: true',
    });
  });

  it('names the default exclusion of an archived finding', async () => {
    // Arrange
    const matcher = createMatcher([buildPlaybook('root-usage', {})]);

    // Act
    const [explanation] = await matcher.explain({ ...rootUsage(), archived: true });

    // Assert
    expect(explanation?.excludedBy).toEqual({
      default: 'archived',
      reason: 'archived finding; the playbook does not say archived: true',
    });
  });

  it('names the resource that carries the exempt tag', async () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('contain-exfiltration', { types: exfiltrationTypes, sample: true }),
    ]);
    const exempt = withResourceTags(exfiltration(), 1, { 'riposte:exempt': 'true' });

    // Act
    const [explanation] = await matcher.explain(exempt);

    // Assert
    expect(explanation?.excludedBy).toEqual({
      default: 'exempt-tag',
      reason:
        'EC2 instance i-99999999 (credential source), profile arn:aws:iam::973743533182:example/instance/profile carries riposte:exempt=true',
    });
  });

  it('explains failed conditions by the leaf that failed and the value the finding gave it', async () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('root-reads-objects', {
        principals: ['Root'],
        conditions: {
          all: [
            { fact: 'count', operator: 'greaterThan', value: 100 },
            {
              fact: 'raw',
              path: '$.service.action.awsApiCallAction.api',
              operator: 'in',
              value: ['GetObject', 'ListObjects'],
            },
          ],
        },
      }),
    ]);

    // Act
    const [explanation] = await matcher.explain(rootUsage());

    // Assert
    expect(explanation?.criteria.map((criterion) => criterion.criterion)).toEqual(['principals']);
    expect(explanation?.failed).toEqual({
      criterion: 'conditions',
      reason:
        'raw $.service.action.awsApiCallAction.api in ["GetObject","ListObjects"] is false (raw $.service.action.awsApiCallAction.api is "ListFindings")',
    });
  });

  it('explains failed any and not conditions', async () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('any', {
        conditions: {
          any: [
            { fact: 'actor', path: '$.country', operator: 'equal', value: 'Canada' },
            { fact: 'actor', path: '$.remotePort', operator: 'equal', value: 22 },
          ],
        },
      }),
      buildPlaybook('not', {
        conditions: { not: { fact: 'severityLabel', operator: 'equal', value: 'Low' } },
      }),
    ]);

    // Act
    const [any, not] = await matcher.explain(rootUsage());

    // Assert
    expect(any?.failed?.reason).toBe(
      'none held: actor $.country equal "Canada" is false (actor $.country is "United States"); actor $.remotePort equal 22 is false (actor $.remotePort is undefined)',
    );
    expect(not?.failed?.reason).toBe('not held because severityLabel equal "Low" held');
  });

  it('lists conditions that held as text', async () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('root-listing', {
        conditions: {
          all: [
            { fact: 'actor', path: '$.api', operator: 'equal', value: 'ListFindings' },
            { not: { fact: 'count', operator: 'lessThan', value: 10 } },
          ],
        },
      }),
    ]);

    // Act
    const [explanation] = await matcher.explain(rootUsage());

    // Assert
    expect(explanation).toEqual({
      playbook: 'root-listing',
      matched: true,
      criteria: [
        { criterion: 'conditions', detail: 'actor $.api equal "ListFindings" and (not count lessThan 10)' },
      ],
    });
  });

  it('says which technique and tactic matched and that each is primary to the finding', async () => {
    // Arrange: Exfiltration:S3/MaliciousIPCaller is about exfiltration (its threat purpose).
    const matcher = createMatcher([
      buildPlaybook('web-exfiltration', { techniques: ['T1567'], tactics: ['TA0010'] }),
    ]);

    // Act
    const [explanation] = await matcher.explain(s3Exfiltration());

    // Assert
    expect(explanation?.criteria).toEqual([
      {
        criterion: 'techniques',
        detail:
          'T1567 matched T1567 (primary), T1567 matched T1567.001 (primary), T1567 matched T1567.002 (primary), ' +
          'T1567 matched T1567.003 (primary), T1567 matched T1567.004 (primary)',
      },
      { criterion: 'tactics', detail: 'TA0010 Exfiltration (primary)' },
    ]);
  });

  it('says a technique matched as related when the playbook takes related techniques', async () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('cloud-logs', {
        techniques: ['T1562.008'],
        tactics: ['TA0005'],
        relatedTechniques: true,
      }),
    ]);

    // Act
    const [explanation] = await matcher.explain(s3Exfiltration());

    // Assert
    expect(explanation?.matched).toBe(true);
    expect(explanation?.criteria).toEqual([
      { criterion: 'techniques', detail: 'T1562.008 matched T1562.008 (related)' },
      { criterion: 'tactics', detail: 'TA0005 Defense Evasion (related)' },
    ]);
  });

  it('names the related technique and tactic that would match with relatedTechniques: true', async () => {
    // Arrange
    const matcher = createMatcher([
      buildPlaybook('cloud-logs', { techniques: ['T1562.008'] }),
      buildPlaybook('evasion', { tactics: ['Defense Evasion'] }),
    ]);

    // Act
    const explanations = await matcher.explain(s3Exfiltration());

    // Assert
    expect(explanations.map((explanation) => explanation.failed)).toEqual([
      {
        criterion: 'techniques',
        reason:
          'primary techniques T1020, T1567, T1567.001, T1567.002, T1567.003, T1567.004 match none of T1562.008; ' +
          'related T1562.008 would match with relatedTechniques: true',
      },
      {
        criterion: 'tactics',
        reason:
          'primary tactics TA0010 (Exfiltration) are none of TA0005 (Defense Evasion); ' +
          'related TA0005 (Defense Evasion) would match with relatedTechniques: true',
      },
    ]);
  });
});
