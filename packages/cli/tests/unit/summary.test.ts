import { describe, expect, it } from 'vitest';
import { formatRunSummary } from '../../src/summary.js';

describe('formatRunSummary', () => {
  it('counts steps by status in a fixed order, leaving out statuses no step has', () => {
    const line = formatRunSummary({
      findings: 2,
      matches: 3,
      steps: ['refused', 'planned', 'failed', 'planned', 'planned', 'planned', 'planned'],
    });

    expect(line).toBe('2 findings, 3 playbook matches, 7 steps: 5 planned, 1 refused, 1 failed');
  });

  it('uses the singular for one, and says no steps without a colon', () => {
    expect(formatRunSummary({ findings: 1, matches: 1, steps: ['no-op'] })).toBe(
      '1 finding, 1 playbook match, 1 step: 1 no-op',
    );
    expect(formatRunSummary({ findings: 1, matches: 0, steps: [] })).toBe(
      '1 finding, 0 playbook matches, 0 steps',
    );
  });

  it('says how many findings GuardDuty refused', () => {
    expect(formatRunSummary({ findings: 3, refusedFindings: 2, matches: 1, steps: ['planned'] })).toBe(
      '3 findings (2 refused: GuardDuty does not vouch for them), 1 playbook match, 1 step: 1 planned',
    );
  });

  it('counts no steps for match, which plans nothing', () => {
    expect(formatRunSummary({ findings: 4, matches: 4 })).toBe('4 findings, 4 playbook matches');
  });
});
