/**
 * What each reliability test tried, appended as one JSON line to the file `RIPOSTE_RELIABILITY_COUNTS`
 * names (bench/reliability-counts.mjs sets it and collects them into BENCHMARKS.md). Not printed: a
 * test run shows results and failures. Shared by the reliability suites of every package.
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
