import type { Style } from '../report.js';
import { NO_TARGET, stepMatches } from './run.js';
import type { ActualStep, CaseFailure, CaseResult, ExpectedStep } from './types.js';

const plain: Style = (_style, text) => text;

type DiffLine = { kind: 'same' | 'expected' | 'actual'; text: string };

/**
 * A line diff of two lists (longest common subsequence under `same`): lines only the expectation
 * has, lines only the actual plan has, and the lines both share, in order.
 */
const diffLists = <E, A>(
  expected: readonly E[],
  actual: readonly A[],
  same: (expected: E, actual: A) => boolean,
  showExpected: (value: E) => string,
  showActual: (value: A) => string,
): DiffLine[] => {
  const rows = expected.length;
  const columns = actual.length;
  const lcs: number[][] = Array.from({ length: rows + 1 }, () => new Array<number>(columns + 1).fill(0));
  for (let i = rows - 1; i >= 0; i -= 1) {
    for (let j = columns - 1; j >= 0; j -= 1) {
      lcs[i]![j] = same(expected[i]!, actual[j]!)
        ? lcs[i + 1]![j + 1]! + 1
        : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < rows || j < columns) {
    if (i < rows && j < columns && same(expected[i]!, actual[j]!)) {
      lines.push({ kind: 'same', text: showActual(actual[j]!) });
      i += 1;
      j += 1;
    } else if (i < rows && (j === columns || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      lines.push({ kind: 'expected', text: showExpected(expected[i]!) });
      i += 1;
    } else {
      lines.push({ kind: 'actual', text: showActual(actual[j]!) });
      j += 1;
    }
  }
  return lines;
};

const ANY = '*';

const showExpectedStep = (step: ExpectedStep): string =>
  [step.playbook ?? ANY, step.action, step.target ?? ANY, step.status ?? ANY].join('  ');

const showActualStep = (step: ActualStep): string =>
  [step.playbook, step.action, step.target ?? NO_TARGET, step.status].join('  ') +
  (step.status !== 'planned' && step.reason ? ` (${step.reason})` : '');

const diffBlock = (lines: DiffLine[], style: Style): string[] => [
  `    ${style('dim', '(- expected, + actual)')}`,
  ...(lines.length === 0 ? ['      (both empty)'] : []),
  ...lines.map((line) =>
    line.kind === 'same'
      ? `        ${line.text}`
      : line.kind === 'expected'
        ? style('red', `      - ${line.text}`)
        : style('green', `      + ${line.text}`),
  ),
];

const failureLines = (failure: CaseFailure, style: Style): string[] => {
  const head = `    ${failure.check}: ${failure.message}`;
  if (failure.check === 'steps') {
    const lines = diffLists(
      failure.expected as ExpectedStep[],
      failure.actual as ActualStep[],
      stepMatches,
      showExpectedStep,
      showActualStep,
    );
    return [head, ...diffBlock(lines, style)];
  }
  if (failure.check === 'playbooks') {
    const same = (a: string, b: string) => a === b;
    const show = (name: string) => name;
    const lines = diffLists(failure.expected as string[], failure.actual as string[], same, show, show);
    return [head, ...diffBlock(lines, style)];
  }
  return [head];
};

/**
 * One case as a test runner prints it: `✓ name`, or `✗ name  file:line:col` followed by each failed
 * expectation and a diff of expected against actual.
 */
export const formatCaseResult = (result: CaseResult, style: Style = plain): string[] => {
  if (result.passed) return [`  ${style('green', '✓')} ${result.name}`];
  const { file, line, column } = result.location;
  return [
    `  ${style('red', '✗')} ${result.name}  ${style('dim', `${file}:${line}:${column}`)}`,
    `    ${style('dim', `finding: ${result.findingSource}`)}`,
    ...result.failures.flatMap((failure) => failureLines(failure, style)),
  ];
};

/** The last line of a run: `N passed, N failed`. */
export const formatCaseSummary = (results: readonly CaseResult[]): string => {
  const passed = results.filter((result) => result.passed).length;
  return `${passed} passed, ${results.length - passed} failed`;
};
