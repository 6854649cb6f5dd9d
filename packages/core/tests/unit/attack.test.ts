import { TACTICS } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import {
  ATTACK_TECHNIQUES,
  ctidTechnique,
  tacticForThreatPurpose,
  techniqueIdForName,
  techniquesForType,
} from '../../src/attack/mapping.js';

const ids = (typeName: string): string[] => techniquesForType(typeName).map((technique) => technique.id);

describe('techniquesForType', () => {
  it('maps a type to its CTID techniques with their tactics as Tactic objects', () => {
    const techniques = techniquesForType('Policy:IAMUser/RootCredentialUsage');

    expect(techniques.map((technique) => technique.id)).toEqual(['T1078', 'T1078.001', 'T1078.004']);
    expect(techniques[2]).toEqual({
      id: 'T1078.004',
      name: 'Cloud Accounts',
      tactics: [
        { id: 'TA0001', name: 'Initial Access' },
        { id: 'TA0003', name: 'Persistence' },
        { id: 'TA0004', name: 'Privilege Escalation' },
        { id: 'TA0005', name: 'Defense Evasion' },
      ],
      source: 'ctid',
      relation: 'primary',
    });
  });

  it('gives both current InstanceCredentialExfiltration types the entry CTID keeps under the old name', () => {
    const ctid = ids('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration');

    expect(ctid).toEqual(['T1078', 'T1078.001', 'T1078.004', 'T1552.005']);
    expect(ids('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS')).toEqual(ctid);
    expect(ids('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS')).toEqual(ctid);
  });

  it('maps the scenario types to the techniques the design names', () => {
    expect(ids('Exfiltration:S3/MaliciousIPCaller')).toEqual(expect.arrayContaining(['T1530', 'T1567.002']));
    expect(ids('Stealth:IAMUser/CloudTrailLoggingDisabled')).toContain('T1562.008');
    expect(ids('Discovery:IAMUser/AnomalousBehavior')).toContain('T1619');
  });

  it('lists each technique once per type', () => {
    const typeNames = new Set(ATTACK_TECHNIQUES.flatMap((technique) => technique.findingTypes));

    for (const typeName of typeNames) {
      const found = ids(typeName);
      expect(found.length, typeName).toBeGreaterThan(0);
      expect(new Set(found).size, typeName).toBe(found.length);
    }
  });

  it('gives an unmapped or unknown type no technique', () => {
    expect(techniquesForType('Backdoor:EC2/Spambot')).toEqual([]);
    expect(techniquesForType('Execution:Kubernetes/ExecInKubeSystemPod')).toEqual([]);
    expect(techniquesForType('Impact:EC2/NotAType')).toEqual([]);
  });

  it('hands out a fresh list each call, so a caller cannot change the table', () => {
    const first = techniquesForType('Policy:IAMUser/RootCredentialUsage');
    first.pop();

    expect(techniquesForType('Policy:IAMUser/RootCredentialUsage')).toHaveLength(3);
    expect(() => {
      (first[0] as { name: string }).name = 'changed';
    }).toThrow(TypeError);
  });
});

describe('tacticForThreatPurpose', () => {
  it.each([
    ['Exfiltration', 'TA0010'],
    ['exfiltration', 'TA0010'],
    ['CredentialAccess', 'TA0006'],
    ['DefenseEvasion', 'TA0005'],
    ['InitialAccess', 'TA0001'],
    ['Execution', 'TA0002'],
  ])('maps %s to %s', (purpose, tacticId) => {
    expect(tacticForThreatPurpose(purpose)?.id).toBe(tacticId);
  });

  it.each([
    'Backdoor',
    'Policy',
    'Recon',
    'Stealth',
    'UnauthorizedAccess',
    'PenTest',
    'AttackSequence',
    'Nonsense',
  ])('gives %s no tactic', (purpose) => {
    expect(tacticForThreatPurpose(purpose)).toBeUndefined();
  });
});

describe('ATTACK_TECHNIQUES', () => {
  it('lists the 69 techniques of the mapping once each, every tactic an ATT&CK tactic', () => {
    expect(ATTACK_TECHNIQUES).toHaveLength(69);
    expect(new Set(ATTACK_TECHNIQUES.map((technique) => technique.id)).size).toBe(69);
    for (const technique of ATTACK_TECHNIQUES) {
      expect(technique.tactics.length, technique.id).toBeGreaterThan(0);
      for (const tactic of technique.tactics) expect(TACTICS).toContainEqual(tactic);
    }
  });

  it('names the finding types of each technique', () => {
    const t1530 = ATTACK_TECHNIQUES.find((technique) => technique.id === 'T1530');
    const t1595 = ATTACK_TECHNIQUES.find((technique) => technique.id === 'T1595');

    expect(t1530?.findingTypes).toEqual(
      expect.arrayContaining(['Exfiltration:S3/MaliciousIPCaller', 'Exfiltration:S3/ObjectRead.Unusual']),
    );
    expect(t1595).toMatchObject({ name: 'Active Scanning', findingTypes: [] });
  });

  it('finds techniques by id and by name', () => {
    expect(ctidTechnique('T1562.008')).toMatchObject({
      name: 'Disable Cloud Logs',
      tactics: [{ id: 'TA0005', name: 'Defense Evasion' }],
    });
    expect(ctidTechnique('T9999')).toBeUndefined();
    expect(techniqueIdForName('cloud accounts')).toBe('T1078.004');
    expect(techniqueIdForName('Data Destruction')).toBe('T1485');
    expect(techniqueIdForName('Not a technique')).toBeUndefined();
  });
});
