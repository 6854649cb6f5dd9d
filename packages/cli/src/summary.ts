import type { ActionPlan } from '@riposte/core';

/** `1 finding`, `2 findings`: a count with its noun. */
export const counted = (count: number, one: string, many = `${one}s`): string =>
  `${count} ${count === 1 ? one : many}`;

type StepStatus = ActionPlan['status'];

/** The step statuses a plan can hold, in the order a summary lists them. */
const STEP_STATUSES: readonly StepStatus[] = ['planned', 'no-op', 'refused', 'failed'];

/** What a run of match or plan went through: what the one-line summary it ends with counts. */
export interface RunCounts {
  findings: number;
  /** Findings GuardDuty does not vouch for, so never matched or planned. */
  refusedFindings?: number;
  /** Playbook matches over all findings: a playbook that matches two findings counts twice. */
  matches: number;
  /** The statuses of the planned steps, one per step; absent for match, which plans nothing. */
  steps?: readonly StepStatus[];
}

/**
 * The line match and plan end with, counting as `test` does ("N passed, N failed"):
 * `2 findings, 3 playbook matches, 7 steps: 6 planned, 1 refused`. Statuses no step has are left out.
 */
export const formatRunSummary = ({ findings, refusedFindings = 0, matches, steps }: RunCounts): string => {
  const parts = [
    `${counted(findings, 'finding')}${refusedFindings > 0 ? ` (${refusedFindings} refused: GuardDuty does not vouch for ${refusedFindings === 1 ? 'it' : 'them'})` : ''}`,
    counted(matches, 'playbook match', 'playbook matches'),
  ];
  if (steps) {
    const byStatus = STEP_STATUSES.flatMap((status) => {
      const count = steps.filter((each) => each === status).length;
      return count > 0 ? [`${count} ${status}`] : [];
    });
    parts.push(`${counted(steps.length, 'step')}${byStatus.length > 0 ? `: ${byStatus.join(', ')}` : ''}`);
  }
  return parts.join(', ');
};
