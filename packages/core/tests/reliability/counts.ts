/**
 * What each reliability test tried, printed with the test and, when `RIPOSTE_RELIABILITY_COUNTS`
 * names a file, appended to it as one JSON line (bench/reliability-counts.mjs collects them into
 * BENCHMARKS.md). Shared by the reliability suites of every package.
 */
import { appendFileSync } from 'node:fs';

export interface ReliabilityCounts {
  /** Inputs tried (events, findings, condition trees). */
  inputs?: number;
  faultsInjected?: number;
  duplicatesSent?: number;
  /** Planned or executed targets, or call inputs, outside the finding's resources. */
  outOfScope?: number;
  /** Typed errors or result codes seen, by code. */
  codes?: Record<string, number>;
}

export const recordCounts = (suite: string, test: string, counts: ReliabilityCounts): void => {
  const parts = Object.entries(counts)
    .filter(([key]) => key !== 'codes')
    .map(([key, value]) => `${key}=${value}`);
  if (counts.codes) parts.push(`codes=${JSON.stringify(counts.codes)}`);
  console.log(`[reliability] ${suite} / ${test}: ${parts.join(' ')}`);
  const file = process.env.RIPOSTE_RELIABILITY_COUNTS;
  if (file) appendFileSync(file, `${JSON.stringify({ suite, test, ...counts })}\n`);
};

/** Counts occurrences by key: `tally.add(code)`, then `tally.counts`. */
export const tally = () => {
  const counts: Record<string, number> = {};
  return {
    counts,
    add: (key: string) => {
      counts[key] = (counts[key] ?? 0) + 1;
    },
  };
};
