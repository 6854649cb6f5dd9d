import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { FindingFormatError } from '../../src/errors.js';
import type { Finding } from '../../src/finding.js';
import { createMatcher, type Matcher } from '../../src/match/index.js';
import { normalize } from '../../src/normalize/index.js';
import { loadPlaybooks } from '../../src/playbooks/index.js';
import { recordCounts, tally } from './counts.js';
import {
  jsonPaths,
  NON_GUARDDUTY_EVENTS,
  nested,
  replaceAt,
  SAMPLES,
  scalarCount,
  truncated,
  WRONG_TYPES,
} from './inputs.js';

const SUITE = 'core: malformed input';
const RULES = fileURLToPath(new URL('../../../../rules', import.meta.url));

let matcher: Matcher;
beforeAll(async () => {
  // The shipped playbooks, every default exclusion on: what a finding meets in production.
  matcher = createMatcher(await loadPlaybooks([RULES]));
});

/**
 * Runs one input through normalize, then match and explain for each finding. Returns the outcome's
 * code; anything thrown that is not a FindingFormatError with a code and a JSON pointer is collected.
 */
const attempt = async (input: unknown, escapes: string[], where: string): Promise<string> => {
  let findings: Finding[];
  try {
    findings = normalize(input);
  } catch (error) {
    if (
      error instanceof FindingFormatError &&
      error.code === 'FINDING_INVALID' &&
      /^(\/.*)?$/.test(error.path)
    ) {
      return error.code;
    }
    escapes.push(
      `${where}: normalize threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    return 'ESCAPED';
  }
  for (const finding of findings) {
    try {
      await matcher.match(finding);
      await matcher.explain(finding);
    } catch (error) {
      escapes.push(`${where}: match threw ${String(error)}`);
      return 'ESCAPED';
    }
  }
  return findings.length === 0 ? 'NO_FINDING' : 'NORMALIZED';
};

describe('normalize, match and explain on malformed input', () => {
  it('answer a wrong type at every path of every sample with findings or a typed error', async () => {
    // Arrange
    const codes = tally();
    const escapes: string[] = [];
    let inputs = 0;

    // Act
    for (const [name, sample] of Object.entries(SAMPLES)) {
      for (const path of jsonPaths(sample)) {
        for (const wrong of WRONG_TYPES) {
          inputs += 1;
          codes.add(await attempt(replaceAt(sample, path, wrong), escapes, `${name} /${path.join('/')}`));
        }
      }
    }

    // Assert
    recordCounts(SUITE, 'wrong types at every path', { inputs, codes: codes.counts });
    expect(escapes.slice(0, 5)).toEqual([]);
    expect(codes.counts.FINDING_INVALID).toBeGreaterThan(0);
    expect(codes.counts.NORMALIZED).toBeGreaterThan(0);
  });

  it('answer every truncation of every sample with findings or a typed error', async () => {
    // Arrange
    const codes = tally();
    const escapes: string[] = [];
    let inputs = 0;

    // Act: cut after 0, 1, 2, ... scalars, so every field is at some point the last one read.
    for (const [name, sample] of Object.entries(SAMPLES)) {
      const total = scalarCount(sample);
      for (let budget = 0; budget <= total; budget++) {
        inputs += 1;
        codes.add(await attempt(truncated(sample, budget), escapes, `${name} cut after ${budget} values`));
      }
    }

    // Assert
    recordCounts(SUITE, 'truncated documents', { inputs, codes: codes.counts });
    expect(escapes.slice(0, 5)).toEqual([]);
    expect(codes.counts.FINDING_INVALID).toBeGreaterThan(0);
  });

  it('handles huge strings in every string field without throwing anything untyped', async () => {
    // Arrange: one megabyte in each string field in turn (ids, types, names, tags, timestamps).
    const huge = 'A'.repeat(1024 * 1024);
    const codes = tally();
    const escapes: string[] = [];
    let inputs = 0;

    // Act
    for (const [name, sample] of Object.entries(SAMPLES)) {
      const strings = jsonPaths(sample).filter((path) => {
        let node: unknown = sample;
        for (const key of path) node = (node as Record<string | number, unknown>)[key];
        return typeof node === 'string';
      });
      for (const path of strings) {
        inputs += 1;
        codes.add(await attempt(replaceAt(sample, path, huge), escapes, `${name} /${path.join('/')}`));
      }
    }

    // Assert
    recordCounts(SUITE, 'huge strings', { inputs, codes: codes.counts });
    expect(escapes.slice(0, 5)).toEqual([]);
    expect(inputs).toBeGreaterThan(300);
  });

  it('handles objects and arrays nested 10,000 deep inside a finding', async () => {
    // Arrange: deep nesting where the model keeps the raw finding, and where it reads lists.
    const codes = tally();
    const escapes: string[] = [];
    const sample = SAMPLES['bare GuardDuty finding (instance credential exfiltration)'] as Record<
      string,
      never
    >;
    const cases: [string, unknown][] = [
      ['service.additionalInfo', replaceAt(sample, ['service', 'additionalInfo'], nested(10_000, 1))],
      ['service.action', replaceAt(sample, ['service', 'action'], nested(10_000, {}, 'array'))],
      [
        'resource.instanceDetails.tags',
        replaceAt(sample, ['resource', 'instanceDetails', 'tags'], nested(10_000, [])),
      ],
      [
        'resource.instanceDetails.networkInterfaces',
        replaceAt(sample, ['resource', 'instanceDetails', 'networkInterfaces'], nested(10_000, [], 'array')),
      ],
      ['the finding inside 1,000 arrays', nested(1_000, sample, 'array')],
    ];

    // Act
    for (const [where, input] of cases) codes.add(await attempt(input, escapes, where));

    // Assert
    recordCounts(SUITE, 'deep nesting', { inputs: cases.length, codes: codes.counts });
    expect(escapes).toEqual([]);
  });

  it('answers an input nested 10,000 arrays deep with a typed error', async () => {
    const escapes: string[] = [];
    const code = await attempt(
      nested(10_000, SAMPLES['bare GuardDuty finding (instance credential exfiltration)'], 'array'),
      escapes,
      'the finding inside 10,000 arrays',
    );
    recordCounts(SUITE, 'arrays nested 10,000 deep', { inputs: 1, codes: { [code]: 1 } });
    expect(code).toBe('FINDING_INVALID');
    expect(escapes).toEqual([]);
  });

  it('refuses events of other services and non-events with FINDING_INVALID and a pointer', async () => {
    // Arrange
    const codes = tally();
    const escapes: string[] = [];

    // Act
    const outcomes = [];
    for (const [name, event] of Object.entries(NON_GUARDDUTY_EVENTS)) {
      const code = await attempt(event, escapes, name);
      codes.add(code);
      outcomes.push([name, code]);
    }

    // Assert
    recordCounts(SUITE, 'non-GuardDuty events', { inputs: outcomes.length, codes: codes.counts });
    expect(escapes).toEqual([]);
    // Only the empty array holds no finding without being wrong; everything else is refused.
    expect(outcomes.filter(([, code]) => code !== 'FINDING_INVALID')).toEqual([
      ['an empty array', 'NO_FINDING'],
    ]);
  });
});
