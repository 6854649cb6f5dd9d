import { fileURLToPath } from 'node:url';
import { type ActionPhase, loadPlaybooks, type Playbook, parsePlaybooks } from '@riposte/core';
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

const playbook = (yaml: string, actions: string[] = ['notify']): Playbook => {
  const steps = actions.map((action) => `  - action: ${action}\n`).join('');
  const [parsed] = parsePlaybooks(`${yaml}\nactions:\n${steps}`, 'test.yaml');
  if (!parsed) throw new Error('no playbook');
  return parsed;
};

/** The phases of the actions the tests name, as the built-in registry declares them. */
const PHASES: Record<string, ActionPhase> = {
  'snapshot-volumes': 'preserve',
  'tag-resource': 'preserve',
  'isolate-instance': 'contain',
  'detach-instance-profile': 'contain',
  'block-s3-public-access': 'contain',
  'restart-cloudtrail-logging': 'contain',
  'revoke-role-sessions': 'revoke',
  'deactivate-access-key': 'revoke',
  notify: 'notify',
  'update-securityhub-finding': 'notify',
  'archive-guardduty-finding': 'notify',
  'revoke-user-sessions': 'revoke',
  'quarantine-user': 'contain',
  'block-actor-ip': 'contain',
  'quarantine-lambda-function': 'contain',
  'stop-ecs-task': 'contain',
  'restrict-eks-endpoint': 'contain',
  'revoke-eks-access-entry': 'revoke',
  'isolate-eks-pod': 'contain',
  'snapshot-rds': 'preserve',
  'isolate-rds-instance': 'contain',
  'tag-s3-object': 'preserve',
  'quarantine-s3-object': 'contain',
};
const phaseOf = (action: string): ActionPhase | undefined => PHASES[action];

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
    coverage = computeCoverage(await loadPlaybooks([RULES]), { phaseOf });
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
        response: 'contain',
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
        relation: 'primary',
        fallback: false,
        response: 'contain',
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
      {
        playbook: 's3-destructive-access',
        via: 'type',
        by: 'Impact:S3/*',
        fallback: false,
        response: 'contain',
        restrictedBy: ['principals'],
      },
      // CTID also relates this type to T1562.008, which cloudtrail-logging-disabled does not take.
      {
        playbook: 'exfiltration-impact-catch-all',
        via: 'tactic',
        by: 'TA0040',
        relation: 'primary',
        fallback: true,
        response: 'notify-only',
        restrictedBy: [],
      },
    ]);
  });

  it('credits the catch-all, which takes related techniques, with a type only related to Impact', () => {
    // Stealth:S3/ServerAccessLoggingDisabled is about Defense Evasion; CTID relates T1485/T1486 (Impact).
    expect(typeCoverage(coverage, 'Stealth:S3/ServerAccessLoggingDisabled').handledBy).toEqual([
      // T1562.008 is primary to it; the playbook's resources criterion is what keeps it out.
      expect.objectContaining({
        playbook: 'cloudtrail-logging-disabled',
        by: 'T1562.008',
        relation: 'primary',
      }),
      expect.objectContaining({
        playbook: 'exfiltration-impact-catch-all',
        by: 'TA0040',
        relation: 'related',
      }),
    ]);
  });

  it('leaves types no playbook reaches uncovered', () => {
    expect(typeCoverage(coverage, 'Discovery:S3/TorIPCaller').handledBy).toEqual([]);
    expect(typeCoverage(coverage, 'Execution:Kubernetes/MaliciousFile').handledBy).toEqual([]);
    expect(typeCoverage(coverage, 'Execution:Kubernetes/MaliciousFile').response).toBe('none');
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
    expect(tactic('Resource Development')?.covered).toBe(false);
  });

  it('finds a catalogued type for every pattern of the shipped rules', () => {
    expect(coverage.playbooks.flatMap((entry) => entry.unmatchedPatterns)).toEqual([]);
    expect(coverage.playbooks.find((entry) => entry.name === 'root-credential-usage')?.types).toEqual([
      'Policy:IAMUser/RootCredentialUsage',
      'Policy:IAMUser/ShortTermRootCredentialUsage',
    ]);
  });

  it('tells a type a playbook contains from one it only reports', () => {
    expect(
      typeCoverage(coverage, 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS').response,
    ).toBe('contain');
    expect(typeCoverage(coverage, 'Policy:IAMUser/RootCredentialUsage').response).toBe('notify-only');
    expect(coverage.playbooks.find((entry) => entry.name === 'root-credential-usage')?.response).toBe(
      'notify-only',
    );
    expect(coverage.playbooks.find((entry) => entry.name === 'ec2-compromised-instance')?.response).toBe(
      'contain',
    );
  });

  it('contains at least 150 of the active types', () => {
    expect(coverage.summary.containedTypes).toBeGreaterThanOrEqual(150);
  });

  it('contains all five attack sequence types', () => {
    const sequences = coverage.types.filter((type) => type.type.startsWith('AttackSequence:'));

    expect(sequences.map((type) => [type.type, type.response])).toEqual([
      ['AttackSequence:EC2/CompromisedInstanceGroup', 'contain'],
      ['AttackSequence:ECS/CompromisedCluster', 'contain'],
      ['AttackSequence:EKS/CompromisedCluster', 'contain'],
      ['AttackSequence:IAM/CompromisedCredentials', 'contain'],
      ['AttackSequence:S3/CompromisedData', 'contain'],
    ]);
  });

  it('keeps its summary consistent with its lists', () => {
    expect(coverage.summary.coveredTypes).toBe(
      coverage.types.filter((type) => type.handledBy.length > 0).length,
    );
    expect(coverage.summary.containedTypes + coverage.summary.notifyOnlyTypes).toBe(
      coverage.summary.coveredTypes,
    );
    expect(coverage.summary.coveredTechniques).toBe(
      coverage.techniques.filter((entry) => entry.score > 0).length,
    );
    expect(coverage.summary.relatedOnlyTechniques).toBe(
      coverage.techniques.filter((entry) => entry.coveredAs === 'related').length,
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
      [playbook('name: both\nmatch:\n  types: [Exfiltration:S3/*]\n  techniques: [T1567]')],
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
      {
        playbook: 'loud',
        via: 'any',
        by: '',
        fallback: false,
        response: 'notify-only',
        restrictedBy: ['severity'],
      },
    ]);
  });
});

describe('computeCoverage: containment and fixtures', () => {
  const catalog: FindingTypeEntry[] = [
    {
      type: 'Backdoor:EC2/C&CActivity.B',
      resourceType: 'Instance',
      severity: 'High',
      deprecated: false,
      threatPurpose: 'Backdoor',
    },
    {
      type: 'Recon:EC2/Portscan',
      resourceType: 'Instance',
      severity: 'Medium',
      deprecated: false,
      threatPurpose: 'Recon',
    },
    {
      type: 'Stealth:IAMUser/CloudTrailLoggingDisabled',
      resourceType: 'AccessKey',
      severity: 'Low',
      deprecated: false,
      threatPurpose: 'Stealth',
    },
  ];
  const types = (coverage: Coverage) => coverage.types.map((type) => [type.type, type.response]);

  it('counts a type as contained when a playbook that handles it has a contain or revoke step', () => {
    const coverage = computeCoverage(
      [
        playbook('name: isolate\nmatch:\n  types: [Backdoor:EC2/*]', [
          'snapshot-volumes',
          'isolate-instance',
        ]),
        playbook('name: revoke\nmatch:\n  types: [Stealth:IAMUser/*]', ['deactivate-access-key', 'notify']),
        playbook('name: tell\nmatch:\n  types: [Recon:EC2/*]', ['tag-resource', 'notify']),
      ],
      { catalog, phaseOf },
    );

    expect(types(coverage)).toEqual([
      ['Backdoor:EC2/C&CActivity.B', 'contain'],
      ['Recon:EC2/Portscan', 'notify-only'],
      ['Stealth:IAMUser/CloudTrailLoggingDisabled', 'contain'],
    ]);
    expect(coverage.summary).toMatchObject({ coveredTypes: 3, containedTypes: 2, notifyOnlyTypes: 1 });
    expect(coverage.playbooks.map((entry) => [entry.name, entry.response])).toEqual([
      ['isolate', 'contain'],
      ['revoke', 'contain'],
      ['tell', 'notify-only'],
    ]);
  });

  it('says none for a type no playbook handles', () => {
    const coverage = computeCoverage(
      [playbook('name: isolate\nmatch:\n  types: [Backdoor:EC2/*]', ['isolate-instance'])],
      { catalog, phaseOf },
    );

    expect(types(coverage)).toEqual([
      ['Backdoor:EC2/C&CActivity.B', 'contain'],
      ['Recon:EC2/Portscan', 'none'],
      ['Stealth:IAMUser/CloudTrailLoggingDisabled', 'none'],
    ]);
    expect(coverage.summary).toMatchObject({ containedTypes: 1, notifyOnlyTypes: 0 });
  });

  it('counts a type as contained when any one of its playbooks contains', () => {
    const coverage = computeCoverage(
      [
        playbook('name: tell\npriority: 1\nmatch:\n  types: [Backdoor:EC2/*]'),
        playbook('name: isolate\npriority: 2\nmatch:\n  types: [Backdoor:EC2/*]', ['isolate-instance']),
      ],
      { catalog, phaseOf },
    );
    const backdoor = typeCoverage(coverage, 'Backdoor:EC2/C&CActivity.B');

    expect(backdoor.response).toBe('contain');
    expect(backdoor.handledBy.map((handler) => [handler.playbook, handler.response])).toEqual([
      ['tell', 'notify-only'],
      ['isolate', 'contain'],
    ]);
  });

  it('does not count a playbook pinned to dry-run as containing: it only reports what it would do', () => {
    const coverage = computeCoverage(
      [playbook('name: watch\nmode: dry-run\nmatch:\n  types: [Backdoor:EC2/*]', ['isolate-instance'])],
      { catalog, phaseOf },
    );

    expect(typeCoverage(coverage, 'Backdoor:EC2/C&CActivity.B').response).toBe('notify-only');
    expect(coverage.playbooks[0]?.response).toBe('notify-only');
  });

  it('counts nothing as contained without the phases of the actions, or for an action it does not know', () => {
    const playbooks = [
      playbook('name: isolate\nmatch:\n  types: [Backdoor:EC2/*]', ['isolate-instance']),
      playbook('name: custom\nmatch:\n  types: [Recon:EC2/*]', ['my-custom-action']),
    ];

    expect(computeCoverage(playbooks, { catalog }).summary).toMatchObject({
      containedTypes: 0,
      notifyOnlyTypes: 2,
    });
    expect(computeCoverage(playbooks, { catalog, phaseOf }).summary).toMatchObject({
      containedTypes: 1,
      notifyOnlyTypes: 1,
    });
  });

  it('credits a technique with containment through a contained type or a containing playbook that names it', () => {
    const byType = computeCoverage(
      [playbook('name: revoke\nmatch:\n  types: [Stealth:IAMUser/*]', ['deactivate-access-key'])],
      { catalog, phaseOf },
    );
    const byName = computeCoverage(
      [playbook('name: restart\nmatch:\n  techniques: [T1562.008]', ['restart-cloudtrail-logging'])],
      { catalog: [], phaseOf },
    );
    const told = computeCoverage([playbook('name: tell\nmatch:\n  types: [Stealth:IAMUser/*]', ['notify'])], {
      catalog,
      phaseOf,
    });
    const technique = (coverage: Coverage) => coverage.techniques.find((entry) => entry.id === 'T1562.008');

    expect(technique(byType)).toMatchObject({
      response: 'contain',
      containedTypes: ['Stealth:IAMUser/CloudTrailLoggingDisabled'],
    });
    expect(technique(byName)).toMatchObject({ response: 'contain', containedTypes: [], score: 100 });
    expect(technique(told)).toMatchObject({ response: 'notify-only', containedTypes: [] });
    expect(
      computeCoverage([], { catalog, phaseOf }).techniques.every((entry) => entry.response === 'none'),
    ).toBe(true);
  });

  it('marks the types a fixture finding has, and lists the others in catalog order', () => {
    const coverage = computeCoverage([], {
      catalog,
      fixtureTypes: ['Recon:EC2/Portscan', 'Recon:EC2/Portscan', 'Not:A/Type'],
    });

    expect(coverage.types.map((type) => [type.type, type.fixture])).toEqual([
      ['Backdoor:EC2/C&CActivity.B', false],
      ['Recon:EC2/Portscan', true],
      ['Stealth:IAMUser/CloudTrailLoggingDisabled', false],
    ]);
    expect(coverage.summary.typesWithFixture).toBe(1);
    expect(coverage.summary.typesWithoutFixture).toEqual([
      'Backdoor:EC2/C&CActivity.B',
      'Stealth:IAMUser/CloudTrailLoggingDisabled',
    ]);
  });

  it('counts every type as without a fixture when no fixture is given', () => {
    const coverage = computeCoverage([], { catalog });

    expect(coverage.summary.typesWithFixture).toBe(0);
    expect(coverage.summary.typesWithoutFixture).toHaveLength(3);
  });
});

describe('computeCoverage: primary and related techniques (issue 14)', () => {
  const catalog: FindingTypeEntry[] = [
    {
      type: 'Exfiltration:S3/MaliciousIPCaller',
      resourceType: 'S3Bucket',
      severity: 'High',
      deprecated: false,
      threatPurpose: 'Exfiltration',
    },
    {
      type: 'Stealth:IAMUser/CloudTrailLoggingDisabled',
      resourceType: 'AccessKey',
      severity: 'Low',
      deprecated: false,
      threatPurpose: 'Stealth',
    },
  ];
  const technique = (coverage: Coverage, id: string) => coverage.techniques.find((entry) => entry.id === id);

  it("splits a type's techniques and tactics into primary and related", () => {
    const type = typeCoverage(computeCoverage([], { catalog }), 'Exfiltration:S3/MaliciousIPCaller');

    expect(type.techniques).toEqual(['T1020', 'T1567', 'T1567.001', 'T1567.002', 'T1567.003', 'T1567.004']);
    expect(type.relatedTechniques).toContain('T1562.008');
    expect(type.tactics).toEqual(['TA0010']);
    expect(type.relatedTactics).toEqual(['TA0005', 'TA0006', 'TA0009', 'TA0040']);
  });

  it('does not credit a technique-matched playbook with a type the technique is only related to', () => {
    const coverage = computeCoverage([playbook('name: cloud-logs\nmatch:\n  techniques: [T1562.008]')], {
      catalog,
    });

    expect(typeCoverage(coverage, 'Exfiltration:S3/MaliciousIPCaller').handledBy).toEqual([]);
    expect(typeCoverage(coverage, 'Stealth:IAMUser/CloudTrailLoggingDisabled').handledBy).toEqual([
      expect.objectContaining({ playbook: 'cloud-logs', by: 'T1562.008', relation: 'primary' }),
    ]);
  });

  it('credits it, as related, when the playbook says relatedTechniques: true', () => {
    const coverage = computeCoverage(
      [playbook('name: cloud-logs\nmatch:\n  techniques: [T1562.008]\n  relatedTechniques: true')],
      { catalog },
    );

    expect(typeCoverage(coverage, 'Exfiltration:S3/MaliciousIPCaller').handledBy).toEqual([
      expect.objectContaining({
        playbook: 'cloud-logs',
        via: 'technique',
        by: 'T1562.008',
        relation: 'related',
      }),
    ]);
    expect(coverage.playbooks[0]).toMatchObject({
      relatedTechniques: true,
      types: catalog.map((entry) => entry.type),
    });
  });

  it('scores a technique by the types it is primary to, and reports one reached only as related', () => {
    // Handling the S3 exfiltration type covers T1567 (primary to it), not T1562.008 (related to it).
    const coverage = computeCoverage([playbook('name: s3\nmatch:\n  types: [Exfiltration:S3/*]')], {
      catalog,
    });

    expect(technique(coverage, 'T1567')).toMatchObject({
      findingTypes: ['Exfiltration:S3/MaliciousIPCaller'],
      coveredTypes: ['Exfiltration:S3/MaliciousIPCaller'],
      score: 100,
      coveredAs: 'primary',
    });
    expect(technique(coverage, 'T1562.008')).toMatchObject({
      findingTypes: ['Stealth:IAMUser/CloudTrailLoggingDisabled'],
      coveredTypes: [],
      relatedTypes: ['Exfiltration:S3/MaliciousIPCaller'],
      coveredRelatedTypes: ['Exfiltration:S3/MaliciousIPCaller'],
      score: 0,
      coveredAs: 'related',
      response: 'none',
    });
    expect(technique(coverage, 'T1046')?.coveredAs).toBe('none');
    expect(coverage.summary.relatedOnlyTechniques).toBe(
      coverage.techniques.filter((entry) => entry.coveredAs === 'related').length,
    );
    expect(coverage.summary.relatedOnlyTechniques).toBeGreaterThan(0);
  });
});
