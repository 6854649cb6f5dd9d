import { fileURLToPath } from 'node:url';
import { loadPlaybooks, type Playbook, parsePlaybooks } from '@riposte/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  activeFindingTypes,
  type Coverage,
  computeCoverage,
  FINDING_TYPES,
  type FindingTypeEntry,
  findingTypeEntry,
} from '../../src/catalog/index.js';

const RULES = fileURLToPath(new URL('../../../../rules', import.meta.url));

const playbook = (yaml: string): Playbook => {
  const [parsed] = parsePlaybooks(`${yaml}\nactions:\n  - action: notify\n`, 'test.yaml');
  if (!parsed) throw new Error('no playbook');
  return parsed;
};

const typeCoverage = (coverage: Coverage, type: string) => {
  const found = coverage.types.find((entry) => entry.type === type);
  if (!found) throw new Error(`${type} is not an active catalogued type`);
  return found;
};

describe('the finding-type catalog', () => {
  it('holds the 221 catalogued types, 194 of them active', () => {
    expect(FINDING_TYPES).toHaveLength(221);
    expect(activeFindingTypes()).toHaveLength(194);
  });

  it('gives each type a known severity label, or none', () => {
    const labels = new Set(FINDING_TYPES.map((entry) => entry.severity));

    expect(
      [...labels].every((label) => [null, 'Low', 'Medium', 'High', 'Critical', 'Variable'].includes(label)),
    ).toBe(true);
  });

  it('finds an entry by type', () => {
    expect(findingTypeEntry('Stealth:IAMUser/CloudTrailLoggingDisabled')).toMatchObject({
      resourceType: 'AccessKey',
      severity: 'Low',
      deprecated: false,
      threatPurpose: 'Stealth',
    });
    expect(findingTypeEntry('Not:A/Type')).toBeUndefined();
  });
});

describe('computeCoverage over the shipped rules', () => {
  let coverage: Coverage;

  beforeAll(async () => {
    coverage = computeCoverage(await loadPlaybooks([RULES]));
  });

  it('measures every active type and no retired one', () => {
    expect(coverage.catalog).toEqual({ total: 221, active: 194, deprecated: 27 });
    expect(coverage.types).toHaveLength(194);
    expect(coverage.types.some((type) => type.type === 'UnauthorizedAccess:IAMUser/ConsoleLogin')).toBe(
      false,
    );
  });

  it('credits a type to the playbook whose pattern matches it', () => {
    expect(
      typeCoverage(coverage, 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS')
        .handledBy,
    ).toEqual([
      {
        playbook: 'ec2-instance-credential-exfiltration',
        via: 'type',
        by: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*',
        fallback: false,
        restrictedBy: [],
      },
    ]);
  });

  it('credits CloudTrailLoggingDisabled through technique T1562.008, restricted to findings that name a trail', () => {
    expect(typeCoverage(coverage, 'Stealth:IAMUser/CloudTrailLoggingDisabled').handledBy).toEqual([
      {
        playbook: 'cloudtrail-logging-disabled',
        via: 'technique',
        by: 'T1562.008',
        fallback: false,
        restrictedBy: ['resources'],
      },
    ]);
  });

  it('lists the severity threshold as a restriction, not a verdict', () => {
    const handler = typeCoverage(coverage, 'CryptoCurrency:EC2/BitcoinTool.B').handledBy.find(
      (entry) => entry.playbook === 'ec2-compromised-instance',
    );

    expect(handler?.restrictedBy).toEqual(['severity', 'resources']);
  });

  it('credits the catch-all through its tactics, marked as a fallback', () => {
    expect(typeCoverage(coverage, 'Impact:S3/MaliciousIPCaller').handledBy).toEqual([
      // CTID maps this type to T1562.008 too; the playbook's resources criterion is what keeps it out.
      {
        playbook: 'cloudtrail-logging-disabled',
        via: 'technique',
        by: 'T1562.008',
        fallback: false,
        restrictedBy: ['resources'],
      },
      {
        playbook: 'exfiltration-impact-catch-all',
        via: 'tactic',
        by: 'TA0040',
        fallback: true,
        restrictedBy: [],
      },
    ]);
  });

  it('leaves types no playbook reaches uncovered', () => {
    expect(typeCoverage(coverage, 'Discovery:S3/TorIPCaller').handledBy).toEqual([]);
    expect(typeCoverage(coverage, 'Execution:Kubernetes/ExecInKubeSystemPod').handledBy).toEqual([]);
  });

  it('groups types by resource type and severity, every active type in exactly one group', () => {
    const total = coverage.groups.reduce((sum, group) => sum + group.total, 0);
    const covered = coverage.groups.reduce((sum, group) => sum + group.covered, 0);
    const s3High = coverage.groups.find(
      (group) => group.resourceType === 'S3Bucket' && group.severity === 'High',
    );

    expect(total).toBe(194);
    expect(covered).toBe(coverage.summary.coveredTypes);
    expect(s3High?.uncovered).toEqual([]);
    expect(coverage.groups.at(-1)?.resourceType).toBe('(unknown)');
  });

  it('scores a technique a playbook names at 100, and one reached through some of its types in between', () => {
    const technique = (id: string) => coverage.techniques.find((entry) => entry.id === id);

    expect(technique('T1562.008')).toMatchObject({ namedBy: ['cloudtrail-logging-disabled'], score: 100 });
    expect(technique('T1078.004')?.score).toBeGreaterThan(0);
    expect(technique('T1078.004')?.score).toBeLessThan(100);
    expect(technique('T1078.004')?.playbooks).toContain('compromised-iam-credentials');
  });

  it('covers the tactics the catch-all names', () => {
    const tactic = (name: string) => coverage.tactics.find((entry) => entry.name === name);

    expect(tactic('Exfiltration')).toMatchObject({
      id: 'TA0010',
      namedBy: ['exfiltration-impact-catch-all'],
      covered: true,
    });
    expect(tactic('Impact')?.covered).toBe(true);
    expect(tactic('Lateral Movement')?.covered).toBe(false);
  });

  it('finds a catalogued type for every pattern of the shipped rules', () => {
    expect(coverage.playbooks.flatMap((entry) => entry.unmatchedPatterns)).toEqual([]);
    expect(coverage.playbooks.find((entry) => entry.name === 'root-credential-usage')?.types).toEqual([
      'Policy:IAMUser/RootCredentialUsage',
    ]);
  });

  it('keeps its summary consistent with its lists', () => {
    expect(coverage.summary.coveredTypes).toBe(
      coverage.types.filter((type) => type.handledBy.length > 0).length,
    );
    expect(coverage.summary.coveredTechniques).toBe(
      coverage.techniques.filter((entry) => entry.score > 0).length,
    );
    expect(coverage.summary.tactics).toBe(14);
  });
});

describe('computeCoverage rules', () => {
  const catalog: FindingTypeEntry[] = [
    {
      type: 'Exfiltration:S3/MaliciousIPCaller',
      resourceType: 'S3Bucket',
      severity: 'High',
      deprecated: false,
      threatPurpose: 'Exfiltration',
    },
    {
      type: 'Exfiltration:S3/ObjectRead.Unusual',
      resourceType: 'S3Bucket',
      severity: 'Medium',
      deprecated: false,
      threatPurpose: 'Exfiltration',
    },
    {
      type: 'Backdoor:EC2/Spambot',
      resourceType: 'Instance',
      severity: 'Medium',
      deprecated: false,
      threatPurpose: 'Backdoor',
    },
    {
      type: 'UnauthorizedAccess:IAMUser/ConsoleLogin',
      resourceType: 'AccessKey',
      severity: 'Medium',
      deprecated: true,
      threatPurpose: 'UnauthorizedAccess',
    },
  ];

  it('lists a pattern that matches no active type', () => {
    const coverage = computeCoverage(
      [playbook('name: typo\nmatch:\n  types: [Exfiltration:S3/MalicousIPCaller, Exfiltration:S3/*]')],
      { catalog },
    );

    expect(coverage.playbooks[0]?.unmatchedPatterns).toEqual(['Exfiltration:S3/MalicousIPCaller']);
    expect(coverage.playbooks[0]?.types).toEqual([
      'Exfiltration:S3/MaliciousIPCaller',
      'Exfiltration:S3/ObjectRead.Unusual',
    ]);
  });

  it('does not count retired types, even when a pattern names them', () => {
    const coverage = computeCoverage(
      [playbook('name: old\nmatch:\n  types: [UnauthorizedAccess:IAMUser/ConsoleLogin]')],
      { catalog },
    );

    expect(coverage.summary).toMatchObject({ types: 3, coveredTypes: 0 });
    expect(coverage.playbooks[0]?.unmatchedPatterns).toEqual(['UnauthorizedAccess:IAMUser/ConsoleLogin']);
  });

  it('credits nothing to a disabled playbook', () => {
    const coverage = computeCoverage([playbook('name: off\nenabled: false\nmatch:\n  types: ["**"]')], {
      catalog,
    });

    expect(coverage.summary.coveredTypes).toBe(0);
  });

  it('drops a type that an exclusion of type criteria removes, and flags other exclusions as restrictions', () => {
    const coverage = computeCoverage(
      [
        playbook(
          'name: s3\nmatch:\n  types: [Exfiltration:S3/*]\nexclude:\n  - types: [Exfiltration:S3/ObjectRead.Unusual]\n  - tags: { team: red }',
        ),
      ],
      { catalog },
    );

    expect(typeCoverage(coverage, 'Exfiltration:S3/ObjectRead.Unusual').handledBy).toEqual([]);
    expect(typeCoverage(coverage, 'Exfiltration:S3/MaliciousIPCaller').handledBy[0]?.restrictedBy).toEqual([
      'exclude',
    ]);
  });

  it('requires every type criterion to hold: a pattern and a technique together', () => {
    const coverage = computeCoverage(
      [playbook('name: both\nmatch:\n  types: [Exfiltration:S3/*]\n  techniques: [T1530]')],
      { catalog },
    );

    expect(coverage.types.filter((type) => type.handledBy.length > 0).map((type) => type.type)).toEqual([
      'Exfiltration:S3/MaliciousIPCaller',
      'Exfiltration:S3/ObjectRead.Unusual',
    ]);
    expect(coverage.types[0]?.handledBy[0]).toMatchObject({ via: 'type', by: 'Exfiltration:S3/*' });
  });

  it('credits every type to a playbook with no type criterion, with its restrictions', () => {
    const coverage = computeCoverage([playbook('name: loud\nmatch:\n  severity: Critical')], { catalog });

    expect(coverage.summary.coveredTypes).toBe(3);
    expect(coverage.types[2]?.handledBy).toEqual([
      { playbook: 'loud', via: 'any', by: '', fallback: false, restrictedBy: ['severity'] },
    ]);
  });
});
