import type { ActionPlan } from '../action.js';
import type { SourceLocation } from '../errors.js';
import type { Finding } from '../finding.js';

export type StepPlanStatus = ActionPlan['status'];

/** One planned step a case expects. Fields left out are not checked. */
export interface ExpectedStep {
  playbook?: string;
  action: string;
  /** The target's id or ARN; `none` for a step without a target. */
  target?: string;
  status?: StepPlanStatus;
}

/** What must happen to a case's finding. Every expectation given must hold. */
export interface CaseExpectation {
  /** Exactly these playbooks match, in the order they run. */
  playbooks?: string[];
  /** No playbook matches. */
  noMatch?: true;
  /** None of these playbooks matches. */
  notPlaybooks?: string[];
  /** Exactly these steps are planned, in plan order. */
  steps?: ExpectedStep[];
}

export interface PlaybookCase {
  name: string;
  description?: string;
  /** Where the case is written. */
  location: SourceLocation;
  /** The finding file as the case names it, or `inline`. */
  findingSource: string;
  finding: Finding;
  expect: CaseExpectation;
}

export interface CaseFile {
  file: string;
  cases: PlaybookCase[];
}

/** A planned step as a case sees it. */
export interface ActualStep {
  playbook: string;
  action: string;
  target?: string;
  targetArn?: string;
  status: StepPlanStatus;
  /** Why the step is a no-op, refused or failed. */
  reason?: string;
}

export type CaseCheck = 'noMatch' | 'playbooks' | 'notPlaybooks' | 'steps';

export interface CaseFailure {
  check: CaseCheck;
  message: string;
  expected: unknown;
  actual: unknown;
}

export interface CaseResult {
  name: string;
  location: SourceLocation;
  findingSource: string;
  passed: boolean;
  failures: CaseFailure[];
  actual: { playbooks: string[]; steps: ActualStep[] };
}
