import { describe, expect, it } from 'vitest';
import { recordCounts, tally } from '../../../core/tests/reliability/counts.js';
import { KINDS, runWithFault, FAULTS_SUITE as SUITE, targetsFor } from './faults.js';

describe('one fault on one call of the response', () => {
  it.each(KINDS)(
    '%s once on each call: retried or reported with its code, nothing lost or repeated',
    async (kind) => {
      // Arrange
      const codes = tally();
      let faults = 0;
      let lost = 0;

      // Act (runWithFault asserts each run)
      for (const target of targetsFor(kind)) {
        const run = await runWithFault(target, kind, false);
        faults += run.faultsInjected;
        lost += run.lostReports;
        for (const code of run.codes) codes.add(code);
      }

      // Assert
      recordCounts(SUITE, `${kind} once on each of ${targetsFor(kind).length} calls`, {
        inputs: targetsFor(kind).length,
        faultsInjected: faults,
        codes: { ...codes.counts, lostReports: lost },
      });
      expect(faults).toBe(targetsFor(kind).length);
      expect(lost).toBe(0);
    },
  );
});
