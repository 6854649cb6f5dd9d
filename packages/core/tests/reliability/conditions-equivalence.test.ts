import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Engine, type TopLevelCondition } from 'json-rules-engine';
import { describe, expect, it } from 'vitest';
import { ConditionEvaluationError } from '../../src/errors.js';
import type { Finding } from '../../src/finding.js';
import { createMatcher } from '../../src/match/index.js';
import { normalize } from '../../src/normalize/index.js';
import type { ConditionTree } from '../../src/playbook.js';
import { buildPlaybook } from '../helpers/playbook.js';
import { recordCounts } from './counts.js';

/**
 * The matcher evaluates condition trees itself, with json-rules-engine's semantics. This property
 * holds it to that: for random trees over the real samples, Riposte's verdict is json-rules-engine's
 * (holds, fails, or cannot be evaluated), operators, decorators, paths and fact references included.
 */
const SUITE = 'core: conditions';
const FIXTURES = new URL('../fixtures/findings/elastic-integrations/', import.meta.url);

const FINDINGS: Finding[] = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .filter((_, index) => index % 3 === 0)
  .flatMap((name) => normalize(JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'))));

const FACTS = [
  'severity',
  'severityLabel',
  'type',
  'actor',
  'resources',
  'techniques',
  'tactics',
  'raw',
  'count',
  'accountId',
  'region',
  'title',
  'sample',
  'resourceRole',
  'firstSeen',
  'lastSeen',
];
const PATHS = [
  undefined,
  '$.name',
  '$.threatPurpose',
  '$.country',
  '$.api',
  '$.remotePort',
  '$.length',
  '$.service.action.actionType',
  '$.service.count',
  '$.resource.resourceType',
  '$.resource.instanceDetails.tags',
  '$[0].kind',
  '$[*].kind',
  '$..id',
  '$.service.action.awsApiCallAction.remoteIpDetails.country.countryName',
];
const BASES = [
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
];
const DECORATORS = ['not', 'someFact', 'everyFact', 'someValue', 'everyValue', 'swap'];
const SCALARS = [
  0,
  5,
  8,
  100,
  '5',
  '',
  'High',
  'Low',
  'instance',
  'access-key',
  'AWS_API_CALL',
  'UnauthorizedAccess',
  'United States',
  'us-east-1',
  true,
  false,
  null,
];

const leaf = fc.record(
  {
    fact: fc.constantFrom(...FACTS),
    path: fc.constantFrom(...PATHS),
    operator: fc
      .tuple(fc.subarray(DECORATORS, { maxLength: 2 }), fc.constantFrom(...BASES))
      .map(([decorators, base]) => [...decorators, base].join(':')),
    value: fc.oneof(
      fc.constantFrom(...SCALARS),
      fc.array(fc.constantFrom(...SCALARS), { maxLength: 3 }),
      fc.record({ fact: fc.constantFrom(...FACTS), path: fc.constantFrom(...PATHS) }),
    ),
  },
  { requiredKeys: ['fact', 'operator', 'value'] },
);

const tree: fc.Arbitrary<ConditionTree> = fc.letrec<{ node: ConditionTree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf as fc.Arbitrary<ConditionTree>,
    fc.record({ all: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('node') }),
  ),
})).node;

type Verdict = 'holds' | 'fails' | 'error';

/** json-rules-engine's verdict: the tree as the only rule of an engine, run on the finding's fields. */
const reference = async (conditions: ConditionTree, finding: Finding): Promise<Verdict> => {
  const engine = new Engine([], { allowUndefinedFacts: true });
  // Our tree type is narrower than the library's condition types, not wider: the cast only bridges them.
  const root = ('fact' in conditions ? { all: [conditions] } : conditions) as unknown as TopLevelCondition;
  engine.addRule({ conditions: root, event: { type: 'x' } });
  try {
    const { results } = await engine.run(finding as unknown as Record<string, unknown>);
    return results.length === 1 ? 'holds' : 'fails';
  } catch {
    return 'error';
  }
};

const riposte = async (conditions: ConditionTree, finding: Finding): Promise<Verdict> => {
  const matcher = createMatcher([buildPlaybook('p', { conditions })], {
    defaultExclusions: { samples: false, archived: false, exemptTag: null },
  });
  try {
    return (await matcher.match(finding)).length === 1 ? 'holds' : 'fails';
  } catch (error) {
    if (error instanceof ConditionEvaluationError) return 'error';
    throw error;
  }
};

describe('condition trees', () => {
  it('get the verdict json-rules-engine gives, on every sample', async () => {
    // Arrange
    let inputs = 0;
    const verdicts: Record<Verdict, number> = { holds: 0, fails: 0, error: 0 };

    // Act / Assert
    await fc.assert(
      fc.asyncProperty(tree, async (conditions) => {
        for (const finding of FINDINGS) {
          inputs += 1;
          const expected = await reference(conditions, finding);
          verdicts[expected] += 1;
          expect(await riposte(conditions, finding)).toBe(expected);
        }
      }),
      { seed: 20261127, numRuns: 250 },
    );
    recordCounts(SUITE, 'random trees against json-rules-engine', {
      inputs,
      codes: { ...verdicts },
    });
    expect(verdicts.holds).toBeGreaterThan(0);
    expect(verdicts.fails).toBeGreaterThan(0);
  });
});
