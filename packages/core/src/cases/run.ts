import type { Engine } from '../engine/index.js';
import type { PlannedStep } from '../engine/types.js';
import type { ActualStep, CaseFailure, CaseResult, ExpectedStep, PlaybookCase } from './types.js';

/** How a case names a step the finding gave nothing to act on. */
export const NO_TARGET = 'none';

const actualStep = (step: PlannedStep): ActualStep => ({
  playbook: step.playbook,
  action: step.action,
  ...(step.target ? { target: step.target.id } : {}),
  ...(step.target?.arn ? { targetArn: step.target.arn } : {}),
  status: step.plan.status,
  ...(step.plan.reason === undefined ? {} : { reason: step.plan.reason }),
});

/** Whether a planned step is the one a case expects; fields the case leaves out are not checked. */
export const stepMatches = (expected: ExpectedStep, actual: ActualStep): boolean =>
  expected.action === actual.action &&
  (expected.playbook === undefined || expected.playbook === actual.playbook) &&
  (expected.status === undefined || expected.status === actual.status) &&
  (expected.target === undefined ||
    (expected.target === NO_TARGET
      ? actual.target === undefined
      : expected.target === actual.target || expected.target === actual.targetArn));

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((value, index) => value === b[index]);

const quoted = (names: string[]): string =>
  names.length === 0 ? 'none' : names.map((name) => `"${name}"`).join(', ');

/**
 * Runs one case: plans its finding with `engine` and checks each expectation. Planning is read-only;
 * give the engine services without credentials and lookups are reported as unavailable, never made.
 */
export const runCase = async (testCase: PlaybookCase, engine: Engine): Promise<CaseResult> => {
  const plan = await engine.plan(testCase.finding);
  const playbooks = plan.matches.map((match) => match.playbook);
  const steps = plan.steps.map(actualStep);
  const known = new Set(engine.playbooks.map((playbook) => playbook.name));
  const failures: CaseFailure[] = [];
  const { expect } = testCase;

  if (expect.noMatch && playbooks.length > 0) {
    failures.push({
      check: 'noMatch',
      message: `expected no playbook to match, but ${quoted(playbooks)} matched`,
      expected: [],
      actual: playbooks,
    });
  }
  if (expect.playbooks && !sameList(expect.playbooks, playbooks)) {
    const unknown = expect.playbooks.filter((name) => !known.has(name));
    failures.push({
      check: 'playbooks',
      message:
        unknown.length > 0
          ? `matching playbooks differ; no loaded playbook is called ${quoted(unknown)}`
          : 'matching playbooks differ',
      expected: expect.playbooks,
      actual: playbooks,
    });
  }
  if (expect.notPlaybooks) {
    // A name no playbook has would make the expectation pass whatever happens: a case that cannot fail.
    const unknown = expect.notPlaybooks.filter((name) => !known.has(name));
    const matched = expect.notPlaybooks.filter((name) => playbooks.includes(name));
    if (unknown.length > 0) {
      failures.push({
        check: 'notPlaybooks',
        message: `no loaded playbook is called ${quoted(unknown)}`,
        expected: expect.notPlaybooks,
        actual: playbooks,
      });
    }
    if (matched.length > 0) {
      failures.push({
        check: 'notPlaybooks',
        message: `${quoted(matched)} matched but must not`,
        expected: expect.notPlaybooks,
        actual: playbooks,
      });
    }
  }
  if (expect.steps) {
    const expectedSteps = expect.steps;
    const same =
      expectedSteps.length === steps.length &&
      expectedSteps.every((step, index) => stepMatches(step, steps[index]!));
    if (!same) {
      failures.push({
        check: 'steps',
        message: 'planned steps differ',
        expected: expectedSteps,
        actual: steps,
      });
    }
  }

  return {
    name: testCase.name,
    location: testCase.location,
    findingSource: testCase.findingSource,
    passed: failures.length === 0,
    failures,
    actual: { playbooks, steps },
  };
};

/** Runs cases one after another, in order. */
export const runCases = async (cases: readonly PlaybookCase[], engine: Engine): Promise<CaseResult[]> => {
  const results: CaseResult[] = [];
  for (const testCase of cases) results.push(await runCase(testCase, engine));
  return results;
};
