import { describe, expect, it } from 'vitest';
import {
  ConditionEvaluationError,
  EngineConfigurationError,
  PlaybookValidationError,
} from '../../src/errors.js';
import type { Finding } from '../../src/finding.js';
import { createMatcher, type MatcherOptions } from '../../src/match/index.js';
import type { Criteria, Playbook } from '../../src/playbook.js';
import { parsePlaybooks } from '../../src/playbooks/index.js';
import { sampleFinding, technique, withResourceTags } from '../helpers/finding.js';
import { buildPlaybook } from '../helpers/playbook.js';

/** Most real samples are GuardDuty sample findings; criterion tests look past that default exclusion. */
const INCLUDE_SAMPLES: MatcherOptions = { defaultExclusions: { samples: false } };

const matchNames = async (
  finding: Finding,
  playbooks: Playbook[],
  options: MatcherOptions = INCLUDE_SAMPLES,
) => (await createMatcher(playbooks, options).match(finding)).map((match) => match.playbook.name);

const matches = async (criteria: Criteria, finding: Finding): Promise<boolean> =>
  (await matchNames(finding, [buildPlaybook('under-test', criteria)])).length === 1;

const exfiltration = () => sampleFinding('instanceCredentialExfiltration');
const s3Exfiltration = () => sampleFinding('s3Exfiltration');
const backdoor = () => sampleFinding('backdoorCommandAndControl');
const rootUsage = () => sampleFinding('rootCredentialUsage');
/** Sample 39 as if GuardDuty had raised it for real (not a sample), so default exclusions do not hide it. */
const realExfiltration = () => sampleFinding('instanceCredentialExfiltration', { sample: false });

describe('createMatcher: criteria', () => {
  it.each<[string, Criteria, () => Finding, boolean]>([
    ['types: an exact type matches', { types: ['Exfiltration:S3/MaliciousIPCaller'] }, s3Exfiltration, true],
    [
      'types: another exact type does not',
      { types: ['Discovery:S3/MaliciousIPCaller'] },
      s3Exfiltration,
      false,
    ],
    [
      'types: any listed pattern may match',
      { types: ['Discovery:S3/*', 'Exfiltration:S3/*'] },
      s3Exfiltration,
      true,
    ],
    ['severity: min is inclusive', { severity: { min: 8 } }, exfiltration, true],
    ['severity: below min fails', { severity: { min: 7 } }, rootUsage, false],
    ['severity: max is inclusive', { severity: { max: 8 } }, exfiltration, true],
    ['severity: above max fails', { severity: { max: 7.9 } }, exfiltration, false],
    ['severity: a listed label matches', { severity: { labels: ['High', 'Critical'] } }, exfiltration, true],
    ['severity: an unlisted label fails', { severity: { labels: ['Critical'] } }, exfiltration, false],
    ['resources: a named kind matches', { resources: ['s3-bucket'] }, s3Exfiltration, true],
    ['resources: any listed kind may match', { resources: ['eks-cluster', 'instance'] }, backdoor, true],
    ['resources: an absent kind fails', { resources: ['s3-bucket'] }, backdoor, false],
    ['principals: the access key user type matches', { principals: ['Root'] }, rootUsage, true],
    ['principals: another user type fails', { principals: ['Root', 'AssumedRole'] }, exfiltration, false],
    ['principals: a finding without access key fails', { principals: ['IAMUser'] }, backdoor, false],
    [
      'accounts: the finding account matches',
      { accounts: ['111122223333', '973743533182'] },
      rootUsage,
      true,
    ],
    ['accounts: another account fails', { accounts: ['111122223333'] }, rootUsage, false],
    ['regions: the finding region matches', { regions: ['us-east-2'] }, rootUsage, true],
    ['regions: another region fails', { regions: ['us-east-1'] }, rootUsage, false],
    ['sample: true matches a sample finding', { sample: true }, exfiltration, true],
    ['sample: false fails on a sample finding', { sample: false }, exfiltration, false],
    ['sample: false matches a real finding', { sample: false }, rootUsage, true],
    ['archived: false matches an active finding', { archived: false }, rootUsage, true],
  ])('%s', async (_name, criteria, finding, expected) => {
    // Act
    const matched = await matches(criteria, finding());

    // Assert
    expect(matched).toBe(expected);
  });

  it('requires every given criterion to hold', async () => {
    // Arrange
    const criteria: Criteria = {
      types: ['Exfiltration:S3/MaliciousIPCaller'],
      severity: { min: 7 },
      resources: ['s3-bucket'],
      regions: ['us-east-1'],
    };

    // Act / Assert
    expect(await matches(criteria, s3Exfiltration())).toBe(false);
    expect(await matches({ ...criteria, regions: ['us-east-2'] }, s3Exfiltration())).toBe(true);
  });

  it('matches an archived finding only when the playbook asks for archived: true', async () => {
    // Arrange
    const archived = rootUsage();
    archived.archived = true;

    // Act / Assert
    expect(await matches({ archived: true }, archived)).toBe(true);
    expect(await matches({ archived: false }, archived)).toBe(false);
    expect(await matches({}, archived)).toBe(false);
  });

  it('reports each criterion that held, in evaluation order', async () => {
    // Arrange
    const playbook = buildPlaybook('contain-exfiltrated-credentials', {
      types: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*'],
      severity: { min: 7 },
      techniques: ['T1078'],
      principals: ['IAMUser'],
    });

    // Act
    const [match] = await createMatcher([playbook], INCLUDE_SAMPLES).match(exfiltration());

    // Assert
    expect(match?.playbook).toBe(playbook);
    expect(match?.matched).toEqual([
      {
        criterion: 'types',
        detail:
          'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.* matched UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      },
      { criterion: 'severity', detail: 'severity 8 (High) within min 7' },
      {
        criterion: 'principals',
        detail: 'access key GeneratedFindingAccessKeyId (IAMUser GeneratedFindingUserName)',
      },
      {
        criterion: 'techniques',
        detail:
          'T1078 matched T1078 (primary), T1078 matched T1078.001 (primary), T1078 matched T1078.004 (primary)',
      },
    ]);
  });
});

describe('createMatcher: finding-type patterns', () => {
  const exfiltrationType = 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS';
  // As in 35-backdoor-ec2-c-cactivity-b-dns.json: the same finding family with a DNS artifact.
  const backdoorDns = () => {
    const finding = backdoor();
    return { ...finding, type: { ...finding.type, name: 'Backdoor:EC2/C&CActivity.B!DNS', artifact: 'DNS' } };
  };

  it.each<[string, string, () => Finding, boolean]>([
    ['an exact type matches itself', exfiltrationType, exfiltration, true],
    ['exact types are case-sensitive', exfiltrationType.toLowerCase(), exfiltration, false],
    [
      'a trailing .* matches the mechanism',
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*',
      exfiltration,
      true,
    ],
    ['a trailing .* needs the family', 'UnauthorizedAccess:IAMUser/ConsoleLogin.*', exfiltration, false],
    ['* does not cross /', 'UnauthorizedAccess:*', exfiltration, false],
    ['* does not cross :', 'UnauthorizedAccess*', exfiltration, false],
    ['* covers one whole segment', '*:IAMUser/InstanceCredentialExfiltration.OutsideAWS', exfiltration, true],
    ['** crosses / and .', 'UnauthorizedAccess:**', exfiltration, true],
    ['** crosses :', '**/InstanceCredentialExfiltration.OutsideAWS', exfiltration, true],
    ['*:S3/** matches an S3 type', '*:S3/**', s3Exfiltration, true],
    ['*:S3/** does not match an IAMUser type', '*:S3/**', exfiltration, false],
    ['* within a segment spans ! and .', 'Backdoor:EC2/C&CActivity.*', backdoorDns, true],
    ['an exact type does not match its !artifact variant', 'Backdoor:EC2/C&CActivity.B', backdoorDns, false],
  ])('%s (%s)', async (_name, pattern, finding, expected) => {
    // Act
    const matched = await matches({ types: [pattern] }, finding());

    // Assert
    expect(matched).toBe(expected);
  });
});

describe('createMatcher: ATT&CK techniques and tactics', () => {
  it.each<[string, string[], Finding['techniques'], boolean]>([
    ['a technique matches its sub-technique', ['T1078'], [technique('T1078.004')], true],
    ['a sub-technique matches itself', ['T1078.004'], [technique('T1078.004')], true],
    ['a sub-technique does not match its parent', ['T1078.004'], [technique('T1078')], false],
    [
      'any finding technique may match any criterion',
      ['T1530', 'T1552'],
      [technique('T1078.004'), technique('T1552.005')],
      true,
    ],
    [
      'an unrelated technique does not match',
      ['T1530'],
      [technique('T1078.004'), technique('T1552.005')],
      false,
    ],
    ['a finding without techniques does not match', ['T1078'], [], false],
  ])('%s', async (_name, criterion, techniques, expected) => {
    // Arrange
    const finding = sampleFinding('instanceCredentialExfiltration', { techniques });

    // Act / Assert
    expect(await matches({ techniques: criterion }, finding)).toBe(expected);
  });

  it.each<[string, string[], boolean]>([
    ['by id', ['TA0001'], true],
    ['by name', ['Initial Access'], true],
    ['by name in another spelling', ['initial-access'], true],
    ['by any listed tactic', ['Exfiltration', 'TA0001'], true],
    ['not by a tactic the finding lacks', ['Exfiltration'], false],
    // Sample 39's Credential Access comes only from T1552.005, which CTID relates to the type.
    ['not by a tactic only a related technique brings', ['Credential Access'], false],
  ])('matches a tactic %s', async (_name, tactics, expected) => {
    // Act / Assert
    expect(await matches({ tactics }, exfiltration())).toBe(expected);
  });

  it('matches a tactic a related technique brings when the block says relatedTechniques: true', async () => {
    // Act / Assert
    expect(await matches({ tactics: ['Credential Access'], relatedTechniques: true }, exfiltration())).toBe(
      true,
    );
  });
});

describe('createMatcher: primary and related techniques (issue 14)', () => {
  // Exfiltration:S3/MaliciousIPCaller (sample 43): CTID maps it to 13 techniques; its threat purpose
  // makes the Exfiltration ones (T1020, T1567 and sub-techniques) primary, T1562.008 only related.
  it.each<[string, Criteria, () => Finding, boolean]>([
    ['a technique related to the type does not match', { techniques: ['T1562.008'] }, s3Exfiltration, false],
    [
      'a related technique matches with relatedTechniques: true',
      { techniques: ['T1562.008'], relatedTechniques: true },
      s3Exfiltration,
      true,
    ],
    [
      'relatedTechniques: false is the default, said out loud',
      { techniques: ['T1562.008'], relatedTechniques: false },
      s3Exfiltration,
      false,
    ],
    ['a primary technique matches by default', { techniques: ['T1567.002'] }, s3Exfiltration, true],
    ['a parent of primary sub-techniques matches', { techniques: ['T1567'] }, s3Exfiltration, true],
    [
      'a parent of related sub-techniques alone does not match',
      { techniques: ['T1562'] },
      s3Exfiltration,
      false,
    ],
    [
      'the technique matches the type it is primary to',
      { techniques: ['T1562.008'] },
      () => sampleFinding('cloudTrailLoggingDisabled'),
      true,
    ],
    [
      'a tactic only related techniques bring does not match',
      { tactics: ['Defense Evasion'] },
      s3Exfiltration,
      false,
    ],
    ["the threat purpose's tactic matches", { tactics: ['Exfiltration'] }, s3Exfiltration, true],
  ])('%s', async (_name, criteria, finding, expected) => {
    // Act / Assert
    expect(await matches(criteria, finding())).toBe(expected);
  });

  it('reads relatedTechniques from a YAML playbook', async () => {
    // Arrange
    const yaml = (related: string) =>
      `name: cloud-logs\nmatch:\n  techniques: [T1562.008]\n${related}actions:\n  - action: notify\n`;
    const [primaryOnly] = parsePlaybooks(yaml(''), 'cloud-logs.yaml');
    const [widened] = parsePlaybooks(yaml('  relatedTechniques: true\n'), 'cloud-logs.yaml');

    // Act / Assert
    expect(widened?.match.relatedTechniques).toBe(true);
    expect(await matchNames(s3Exfiltration(), [primaryOnly!])).toEqual([]);
    expect(await matchNames(s3Exfiltration(), [widened!])).toEqual(['cloud-logs']);
  });

  it('refuses a relatedTechniques that is not a boolean, at load', () => {
    // Act / Assert
    expect(() =>
      parsePlaybooks(
        'name: cloud-logs\nmatch:\n  techniques: [T1562.008]\n  relatedTechniques: yes please\nactions:\n  - action: notify\n',
        'cloud-logs.yaml',
      ),
    ).toThrow(
      expect.objectContaining({
        issues: [expect.objectContaining({ pointer: '/match/relatedTechniques', line: 4 })],
      }),
    );
  });

  it('excludes on primary techniques only, unless the exclude entry says relatedTechniques: true', async () => {
    // Arrange
    const playbook = (relatedTechniques: boolean) =>
      buildPlaybook(
        relatedTechniques ? 'excluding-related' : 'excluding-primary',
        { types: ['Exfiltration:S3/*'] },
        { exclude: [{ techniques: ['T1530'], relatedTechniques }] },
      );

    // Act
    const names = await matchNames(s3Exfiltration(), [playbook(false), playbook(true)]);

    // Assert: T1530 Data from Cloud Storage Object is related to the type.
    expect(names).toEqual(['excluding-primary']);
  });
});

describe('createMatcher: tags', () => {
  it.each<[string, Criteria['tags'], boolean]>([
    ['a key with its value', { foo: 'bar' }, true],
    ['a key with another value', { foo: 'baz' }, false],
    ['a key with any value (*)', { foo: '*' }, true],
    ['a key with one of the listed values', { foo: ['baz', 'bar'] }, true],
    ['a key the resource lacks', { owner: '*' }, false],
  ])('matches %s', async (_name, tags, expected) => {
    // Act / Assert
    expect(await matches({ tags }, s3Exfiltration())).toBe(expected);
  });

  it('needs one resource to carry every listed tag', async () => {
    // Arrange: the bucket carries foo=bar, the instance carries the GeneratedFinding tags.
    const bucketAndInstance = sampleFinding('s3Exfiltration', {
      resources: [...s3Exfiltration().resources, ...backdoor().resources],
    });

    // Act / Assert
    expect(await matches({ tags: { foo: 'bar', GeneratedFindingInstaceTag1: '*' } }, bucketAndInstance)).toBe(
      false,
    );
    expect(
      await matches(
        {
          tags: {
            GeneratedFindingInstaceTag1: 'GeneratedFindingInstaceValue1',
            GeneratedFindingInstaceTag2: '*',
          },
        },
        bucketAndInstance,
      ),
    ).toBe(true);
  });
});

describe('createMatcher: conditions', () => {
  const apiIs = (api: string) => ({
    fact: 'raw',
    path: '$.service.action.awsApiCallAction.api',
    operator: 'equal',
    value: api,
  });

  it.each<[string, Criteria['conditions'], () => Finding, boolean]>([
    [
      'a single fact condition holds',
      { fact: 'severity', operator: 'greaterThanInclusive', value: 7 },
      exfiltration,
      true,
    ],
    [
      'a single fact condition fails',
      { fact: 'severity', operator: 'greaterThanInclusive', value: 7 },
      rootUsage,
      false,
    ],
    ['a path into raw holds', apiIs('ListFindings'), rootUsage, true],
    ['a path into raw fails', apiIs('ListFindings'), exfiltration, false],
    [
      'all holds when every condition holds',
      { all: [apiIs('ListFindings'), { fact: 'count', operator: 'greaterThan', value: 100 }] },
      rootUsage,
      true,
    ],
    [
      'all fails when one condition fails',
      { all: [apiIs('ListFindings'), { fact: 'count', operator: 'lessThan', value: 100 }] },
      rootUsage,
      false,
    ],
    [
      'any holds when one condition holds',
      {
        any: [
          apiIs('GetObject'),
          { fact: 'actor', path: '$.country', operator: 'equal', value: 'United States' },
        ],
      },
      rootUsage,
      true,
    ],
    ['any fails when none holds', { any: [apiIs('GetObject'), apiIs('PutObject')] }, rootUsage, false],
    [
      'not holds when its condition fails',
      { not: { fact: 'sample', operator: 'equal', value: true } },
      rootUsage,
      true,
    ],
    [
      'not fails when its condition holds',
      { not: { fact: 'sample', operator: 'equal', value: true } },
      exfiltration,
      false,
    ],
    [
      'in holds for a listed value',
      { fact: 'actor', path: '$.asn', operator: 'in', value: ['7018', '7922'] },
      rootUsage,
      true,
    ],
    [
      'a decorated operator works',
      { fact: 'actor', path: '$.country', operator: 'not:equal', value: 'Canada' },
      rootUsage,
      true,
    ],
    [
      'a value may name another fact',
      { fact: 'firstSeen', operator: 'notEqual', value: { fact: 'lastSeen' } },
      rootUsage,
      true,
    ],
  ])('%s', async (_name, conditions, finding, expected) => {
    // Act / Assert
    expect(await matches({ conditions }, finding())).toBe(expected);
  });

  it('does not throw on a fact the finding lacks; the condition just fails', async () => {
    // Arrange: the real root-usage finding has no `actor.remotePort`, and this copy no `actor` at all.
    const { actor: _actor, ...withoutActor } = rootUsage();
    const conditions = { fact: 'actor', path: '$.remotePort', operator: 'equal', value: 25 };

    // Act / Assert
    expect(await matches({ conditions }, rootUsage())).toBe(false);
    expect(await matches({ conditions }, withoutActor)).toBe(false);
  });

  it('does not evaluate conditions when a cheaper criterion fails', async () => {
    // Arrange: this path throws inside JSONPath whenever it is evaluated.
    const broken = { fact: 'raw', path: '$..[?(@.x', operator: 'equal', value: 1 } as const;
    const cheapFails = buildPlaybook('cheap-fails', { severity: { min: 9 }, conditions: broken });
    const cheapHolds = buildPlaybook('cheap-holds', { severity: { max: 9 }, conditions: broken });

    // Act / Assert
    await expect(createMatcher([cheapFails]).match(rootUsage())).resolves.toEqual([]);
    await expect(createMatcher([cheapHolds]).match(rootUsage())).rejects.toSatisfy(
      (error) => error instanceof ConditionEvaluationError && error.code === 'MATCH_CONDITION_FAILED',
    );
  });

  it('names the playbook and the finding when a condition cannot be evaluated, the JSONPath error as cause', async () => {
    // Arrange
    const broken = { fact: 'raw', path: '$..[?(@.x', operator: 'equal', value: 1 } as const;
    const finding = rootUsage();

    // Act
    const error = await createMatcher([buildPlaybook('broken', { conditions: broken })])
      .match(finding)
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toBeInstanceOf(ConditionEvaluationError);
    expect((error as ConditionEvaluationError).details).toMatchObject({
      playbook: 'broken',
      findingId: finding.id,
    });
    expect((error as ConditionEvaluationError).cause).toBeInstanceOf(Error);
  });

  it.each<[string, string, number]>([
    ['holds', 'ListFindings', 1],
    ['fails', 'GetObject', 0],
  ])(
    'keeps each outcome when one matcher evaluates findings concurrently (condition %s)',
    async (_name, api, expected) => {
      // Arrange: runs started a few microtasks apart expose json-rules-engine's shared run status.
      const matcher = createMatcher([buildPlaybook('root-api', { conditions: apiIs(api) })]);
      const tick = async (count: number) => {
        for (let i = 0; i < count; i++) await Promise.resolve();
      };

      // Act
      const counts = new Set<number>();
      for (let delay = 0; delay < 40; delay++) {
        const first = matcher.match(rootUsage());
        await tick(delay);
        const second = matcher.match(rootUsage());
        for (const result of await Promise.all([first, second])) counts.add(result.length);
      }

      // Assert
      expect([...counts]).toEqual([expected]);
    },
  );
});

describe('createMatcher: exclusions', () => {
  const types = ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*'];

  it('does not match a playbook whose exclude entry holds, even when match holds', async () => {
    // Arrange
    const playbook = buildPlaybook('contain', { types }, { exclude: [{ resources: ['instance'] }] });

    // Act / Assert
    expect(await matchNames(exfiltration(), [playbook])).toEqual([]);
  });

  it('needs every criterion of an exclude entry to hold', async () => {
    // Arrange: the finding names an instance but its severity is 8.
    const playbook = buildPlaybook(
      'contain',
      { types },
      { exclude: [{ resources: ['instance'], severity: { max: 5 } }] },
    );

    // Act / Assert
    expect(await matchNames(exfiltration(), [playbook])).toEqual(['contain']);
  });

  it('excludes when any one exclude entry holds', async () => {
    // Arrange
    const playbook = buildPlaybook(
      'contain',
      { types },
      { exclude: [{ accounts: ['111122223333'] }, { regions: ['us-east-2'] }] },
    );

    // Act / Assert
    expect(await matchNames(exfiltration(), [playbook])).toEqual([]);
  });

  it('excludes by an entry with conditions', async () => {
    // Arrange
    const fromHome = { fact: 'actor', path: '$.country', operator: 'equal', value: 'United States' };
    const playbook = buildPlaybook(
      'root-usage',
      { principals: ['Root'] },
      { exclude: [{ conditions: fromHome }] },
    );

    // Act / Assert
    expect(await matchNames(rootUsage(), [playbook])).toEqual([]);
    expect(
      await matchNames(rootUsage(), [
        { ...playbook, exclude: [{ conditions: { ...fromHome, value: 'Canada' } }] },
      ]),
    ).toEqual(['root-usage']);
  });
});

describe('createMatcher: default exclusions', () => {
  const types = ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*'];

  it('excludes a GuardDuty sample finding by default', async () => {
    // Act / Assert
    expect(await matchNames(exfiltration(), [buildPlaybook('contain', { types })], {})).toEqual([]);
  });

  it('includes a sample finding when the playbook says sample: true', async () => {
    // Act / Assert
    expect(await matchNames(exfiltration(), [buildPlaybook('contain', { types, sample: true })], {})).toEqual(
      ['contain'],
    );
  });

  it('includes a sample finding when the sample exclusion is off', async () => {
    // Act / Assert
    expect(
      await matchNames(exfiltration(), [buildPlaybook('contain', { types })], {
        defaultExclusions: { samples: false },
      }),
    ).toEqual(['contain']);
  });

  it('includes an archived finding when the archived exclusion is off', async () => {
    // Arrange
    const archived = { ...rootUsage(), archived: true };

    // Act / Assert
    expect(await matchNames(archived, [buildPlaybook('root', {})], {})).toEqual([]);
    expect(
      await matchNames(archived, [buildPlaybook('root', {})], { defaultExclusions: { archived: false } }),
    ).toEqual(['root']);
  });

  it('excludes a finding whose resource carries the exempt tag, whatever the playbook says', async () => {
    // Arrange: index 1 is the instance whose credentials leaked.
    const exempt = withResourceTags(realExfiltration(), 1, { 'riposte:exempt': 'true' });

    // Act / Assert
    expect(await matchNames(exempt, [buildPlaybook('root', { principals: ['IAMUser'] })], {})).toEqual([]);
  });

  it('does not exempt on another value of the exempt tag', async () => {
    // Arrange
    const notExempt = withResourceTags(realExfiltration(), 1, { 'riposte:exempt': 'false' });

    // Act / Assert
    expect(await matchNames(notExempt, [buildPlaybook('root', { principals: ['IAMUser'] })], {})).toEqual([
      'root',
    ]);
  });

  it('uses a configured exempt tag, or none when it is null', async () => {
    // Arrange
    const tagged = withResourceTags(realExfiltration(), 1, {
      SecurityExempt: 'yes',
      'riposte:exempt': 'true',
    });
    const playbooks = [buildPlaybook('root', { principals: ['IAMUser'] })];

    // Act / Assert
    expect(
      await matchNames(tagged, playbooks, {
        defaultExclusions: { exemptTag: { key: 'SecurityExempt', value: 'yes' } },
      }),
    ).toEqual([]);
    expect(await matchNames(tagged, playbooks, { defaultExclusions: { exemptTag: null } })).toEqual(['root']);
  });

  it('refuses an exempt tag without a key', () => {
    // Act / Assert
    expect(() => createMatcher([], { defaultExclusions: { exemptTag: { key: '', value: 'true' } } })).toThrow(
      EngineConfigurationError,
    );
  });
});

describe('createMatcher: enabled and order', () => {
  it('never matches a disabled playbook', async () => {
    // Arrange
    const playbooks = [
      buildPlaybook('off', { principals: ['Root'] }, { enabled: false }),
      buildPlaybook('on', { principals: ['Root'] }),
    ];

    // Act / Assert
    expect(await matchNames(rootUsage(), playbooks)).toEqual(['on']);
  });

  it('returns matches by priority ascending, then by name', async () => {
    // Arrange
    const playbooks = [
      buildPlaybook('notify-security', {}),
      buildPlaybook('revoke-root-session', {}, { priority: 10 }),
      buildPlaybook('preserve-evidence', {}, { priority: 10 }),
      buildPlaybook('block-bucket', {}, { priority: 50 }),
    ];

    // Act
    const names = await matchNames(rootUsage(), playbooks);

    // Assert
    expect(names).toEqual(['preserve-evidence', 'revoke-root-session', 'block-bucket', 'notify-security']);
    expect(createMatcher(playbooks).playbooks.map((playbook) => playbook.name)).toEqual(names);
  });
});

describe('createMatcher: validation', () => {
  it('throws one PlaybookValidationError listing every problem with its location', () => {
    // Arrange
    const location = { file: 'rules/contain.yaml', line: 3, column: 3, pointer: '/0' };
    const playbook = buildPlaybook(
      'broken',
      {
        types: ['UnauthorizedAccess:***', 'Exfiltration:S3/*'],
        severity: { min: 8, max: 4 },
        techniques: ['T1078.4'],
        tactics: ['Exfiltrate'],
        regions: [],
        conditions: {
          all: [
            { fact: 'severty', operator: 'equal', value: 8 },
            { fact: 'raw', path: 'service.action', operator: 'equals', value: 1 },
            { fact: 'actor', operator: 'everyValue:in', value: ['x'] },
          ],
        },
      },
      { location, exclude: [{}] },
    );

    // Act
    let thrown: unknown;
    try {
      createMatcher([playbook]);
    } catch (error) {
      thrown = error;
    }

    // Assert
    expect(thrown).toBeInstanceOf(PlaybookValidationError);
    const issues = (thrown as PlaybookValidationError).issues;
    expect(issues.map((issue) => issue.pointer).sort()).toEqual(
      [
        '/0/match/types/0',
        '/0/match/severity',
        '/0/match/techniques/0',
        '/0/match/tactics/0',
        '/0/match/regions',
        '/0/match/conditions/all/0/fact',
        '/0/match/conditions/all/1/path',
        '/0/match/conditions/all/1/operator',
        '/0/exclude/0',
      ].sort(),
    );
    expect(issues.every((issue) => issue.file === 'rules/contain.yaml' && issue.line === 3)).toBe(true);
    expect((thrown as PlaybookValidationError).code).toBe('PLAYBOOK_INVALID');
  });

  it.each<[string, Criteria, Partial<Playbook>, string]>([
    ['in match', { types: ['Exfiltration:S3/*'], relatedTechniques: true }, {}, '/match/relatedTechniques'],
    [
      'as the only key of an exclude entry, which would exclude every finding',
      { types: ['Exfiltration:S3/*'] },
      { exclude: [{ relatedTechniques: true }] },
      '/exclude/0/relatedTechniques',
    ],
  ])('refuses relatedTechniques without techniques or tactics %s', (_name, match, overrides, pointer) => {
    // Act / Assert
    expect(() => createMatcher([buildPlaybook('widened', match, overrides)])).toThrow(
      expect.objectContaining({
        issues: [expect.objectContaining({ pointer, message: 'applies only with techniques or tactics' })],
      }),
    );
  });

  it('validates disabled playbooks too', () => {
    // Act / Assert
    expect(() => createMatcher([buildPlaybook('off', { tactics: ['Nope'] }, { enabled: false })])).toThrow(
      PlaybookValidationError,
    );
  });
});
