import type { Tactic } from '../finding.js';

/** ATT&CK Enterprise tactics (v16). */
export const TACTICS: readonly Tactic[] = [
  { id: 'TA0043', name: 'Reconnaissance' },
  { id: 'TA0042', name: 'Resource Development' },
  { id: 'TA0001', name: 'Initial Access' },
  { id: 'TA0002', name: 'Execution' },
  { id: 'TA0003', name: 'Persistence' },
  { id: 'TA0004', name: 'Privilege Escalation' },
  { id: 'TA0005', name: 'Defense Evasion' },
  { id: 'TA0006', name: 'Credential Access' },
  { id: 'TA0007', name: 'Discovery' },
  { id: 'TA0008', name: 'Lateral Movement' },
  { id: 'TA0009', name: 'Collection' },
  { id: 'TA0011', name: 'Command and Control' },
  { id: 'TA0010', name: 'Exfiltration' },
  { id: 'TA0040', name: 'Impact' },
];

const squash = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]/g, '');

const byKey = new Map<string, Tactic>();
for (const tactic of TACTICS) {
  byKey.set(squash(tactic.id), tactic);
  byKey.set(squash(tactic.name), tactic);
}

/**
 * Finds a tactic by id (`TA0010`) or name, ignoring case, spaces and punctuation
 * (`Defense Evasion`, `defense-evasion` and `DefenseEvasion` are the same tactic).
 */
export const findTactic = (idOrName: string): Tactic | undefined => byKey.get(squash(idOrName));
