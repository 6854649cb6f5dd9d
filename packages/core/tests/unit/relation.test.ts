import { describe, expect, it } from 'vitest';
import { CTID_FINDING_TYPES, techniquesForType } from '../../src/attack/mapping.js';
import { classifyTechniques, type MappedTechnique } from '../../src/attack/relation.js';
import { findTactic } from '../../src/attack/tactics.js';
import type { AttackRelation } from '../../src/finding.js';

const withRelation = (typeName: string, relation: AttackRelation): string[] =>
  techniquesForType(typeName)
    .filter((technique) => technique.relation === relation)
    .map((technique) => technique.id);

const tactic = (name: string) => {
  const found = findTactic(name);
  if (!found) throw new Error(`no tactic ${name}`);
  return found;
};

describe('techniquesForType: primary and related techniques', () => {
  it("makes the threat purpose's techniques primary and the rest of the mapping related (issue 14)", () => {
    // Act
    const primary = withRelation('Exfiltration:S3/MaliciousIPCaller', 'primary');
    const related = withRelation('Exfiltration:S3/MaliciousIPCaller', 'related');

    // Assert: 13 CTID techniques; the Exfiltration ones are what the type is about.
    expect(primary).toEqual(['T1020', 'T1567', 'T1567.001', 'T1567.002', 'T1567.003', 'T1567.004']);
    expect(related).toEqual([
      'T1562.008',
      'T1562.006',
      'T1562.001',
      'T1552.001',
      'T1530',
      'T1491.002',
      'T1491.001',
    ]);
  });

  it('falls back to the dominant tactic when none of the techniques belongs to the purpose tactic', () => {
    // Impact:EC2/PortSweep maps only to Reconnaissance (T1595.x) and Discovery (T1046).
    expect(withRelation('Impact:EC2/PortSweep', 'primary')).toEqual(['T1595.001', 'T1595.002']);
    expect(withRelation('Impact:EC2/PortSweep', 'related')).toEqual(['T1046']);
  });

  it('picks the dominant tactic among the best-scored entries when the purpose names no tactic', () => {
    // Stealth:IAMUser/PasswordPolicyChange: four Partial T1562 entries, four Minimal T1110 ones.
    expect(withRelation('Stealth:IAMUser/PasswordPolicyChange', 'primary')).toEqual([
      'T1562',
      'T1562.008',
      'T1562.006',
      'T1562.001',
    ]);
    // UnauthorizedAccess:EC2/TorRelay: T1496 Resource Hijacking (Partial) over T1090 Proxy (Minimal).
    expect(withRelation('UnauthorizedAccess:EC2/TorRelay', 'primary')).toEqual(['T1496']);
    expect(withRelation('UnauthorizedAccess:EC2/TorRelay', 'related')).toEqual(['T1090']);
  });

  it('counts entries, so a logging type stays about Defense Evasion', () => {
    expect(withRelation('Stealth:S3/ServerAccessLoggingDisabled', 'related')).toEqual(['T1485', 'T1486']);
    expect(withRelation('Stealth:IAMUser/CloudTrailLoggingDisabled', 'primary')).toContain('T1562.008');
  });

  it('keeps every tied tactic: a technique of four tactics makes all four primary', () => {
    // T1078 Valid Accounts and its sub-techniques belong to Initial Access, Persistence, Privilege
    // Escalation and Defense Evasion; T1552.005 (Credential Access) counts once.
    expect(
      withRelation('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 'primary'),
    ).toEqual(['T1078', 'T1078.001', 'T1078.004']);
    expect(
      withRelation('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 'related'),
    ).toEqual(['T1552.005']);
  });

  it('gives every mapped type at least one primary technique', () => {
    for (const typeName of CTID_FINDING_TYPES) {
      expect(withRelation(typeName, 'primary').length, typeName).toBeGreaterThan(0);
    }
  });

  it('classifies a type once and hands out the same frozen techniques', () => {
    // Act
    const [first] = techniquesForType('Exfiltration:S3/MaliciousIPCaller');
    const [again] = techniquesForType('Exfiltration:S3/MaliciousIPCaller');

    // Assert
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('classifyTechniques', () => {
  const entry = (
    id: string,
    tacticName: string,
    score: MappedTechnique['score'] = 'Partial',
  ): MappedTechnique => ({
    id,
    tactics: [tactic(tacticName)],
    score,
  });

  it("makes the purpose tactic's entries primary when one belongs to it, whatever their score", () => {
    // Act
    const relations = classifyTechniques(tactic('Exfiltration'), [
      entry('T1567', 'Exfiltration', 'Minimal'),
      entry('T1530', 'Collection'),
    ]);

    // Assert
    expect([...relations]).toEqual([
      ['T1567', 'primary'],
      ['T1530', 'related'],
    ]);
  });

  it('lets only the best-scored entries choose the dominant tactic', () => {
    // Act
    const relations = classifyTechniques(undefined, [
      entry('T1110', 'Credential Access', 'Minimal'),
      entry('T1110.001', 'Credential Access', 'Minimal'),
      entry('T1562', 'Defense Evasion'),
    ]);

    // Assert
    expect([...relations]).toEqual([
      ['T1110', 'related'],
      ['T1110.001', 'related'],
      ['T1562', 'primary'],
    ]);
  });

  it('classifies nothing for a type without entries', () => {
    expect(classifyTechniques(tactic('Impact'), [])).toEqual(new Map());
  });
});
