import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ActionRegistry } from '../../src/action.js';
import { formatIssue, PlaybookValidationError } from '../../src/errors.js';
import { createMatcher } from '../../src/match/index.js';
import type { ConditionTree } from '../../src/playbook.js';
import { type LoadOptions, loadPlaybooks, parsePlaybooks } from '../../src/playbooks/index.js';
import { inertAction } from '../helpers/inert-action.js';
import { buildPlaybook } from '../helpers/playbook.js';

/** The YAML as written, without the opening newline and the indentation its lines share. */
const yaml = (strings: TemplateStringsArray): string => {
  const lines = strings.join('').split('\n').slice(1);
  if (lines.at(-1)?.trim() === '') lines.pop();
  const indent = Math.min(...lines.filter((line) => line.trim()).map((line) => line.search(/\S/)));
  return `${lines.map((line) => line.slice(indent)).join('\n')}\n`;
};

const refusal = (run: () => unknown): PlaybookValidationError => {
  try {
    run();
  } catch (error) {
    if (error instanceof PlaybookValidationError) return error;
    throw error;
  }
  return expect.fail('expected the playbooks to be refused');
};

/** What an unknown-operator issue says after the operator's name. */
const OPERATORS =
  'known operators: equal, notEqual, in, notIn, contains, doesNotContain, lessThan, lessThanInclusive, greaterThan, greaterThanInclusive, each may be prefixed by someFact:, someValue:, everyFact:, everyValue:, swap:, not:';

/** Every issue `parsePlaybooks` reports for `text`, formatted as the CLI prints them. */
const problems = (text: string, options?: LoadOptions): string[] =>
  refusal(() => parsePlaybooks(text, 'rules/s3.yaml', options)).issues.map(formatIssue);

const loadProblems = async (paths: string[]): Promise<string[]> => {
  try {
    await loadPlaybooks(paths);
  } catch (error) {
    if (error instanceof PlaybookValidationError) return error.issues.map(formatIssue);
    throw error;
  }
  return expect.fail('expected the playbooks to be refused');
};

describe('parsePlaybooks refuses', () => {
  it('a value of the wrong type, at the value', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        severity: { min: seven }
      actions:
        - action: notify
    `;

    expect(problems(text)).toEqual(['rules/s3.yaml:3:20 /match/severity/min must be number']);
  });

  it('an unknown key, at the key, naming it', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        types: Exfiltration:S3/*
      exclude:
        tag: { env: dev }
      actions:
        - action: notify
          param: { subject: Exfiltration }
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:5:3 /exclude has unknown key "tag"; did you mean "tags"?',
      'rules/s3.yaml:8:5 /actions/0 has unknown key "param"; did you mean "params"?',
    ]);
  });

  it('a missing required key, at the object that lacks it', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        types: Exfiltration:S3/*
      actions:
        - id: tell
    `;

    expect(problems(text)).toEqual(['rules/s3.yaml:5:5 /actions/0 is missing required key "action"']);
  });

  it('a value outside an enum, listing the allowed values', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      mode: enforced
      match: { types: Exfiltration:S3/* }
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual(['rules/s3.yaml:2:7 /mode must be one of: dry-run, enforce']);
  });

  it('a value that is none of the types a field takes, once', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        types: 42
        severity: 7
      exclude: true
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:3:10 /match/types must be string or array',
      'rules/s3.yaml:4:13 /match/severity must be string or object',
      'rules/s3.yaml:5:10 /exclude must be object or array',
    ]);
  });

  it('a misspelt severity label, against the labels only', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        severity: Hihg
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:3:13 /match/severity must be one of: Low, Medium, High, Critical',
    ]);
  });

  it('an empty match, an empty exclude entry and an empty action list', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: {}
      exclude:
        - {}
      actions: []
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:2:8 /match must name at least one criterion',
      'rules/s3.yaml:4:5 /exclude/0 must name at least one criterion',
      'rules/s3.yaml:5:10 /actions must not be empty',
    ]);
  });

  it('an unquoted account id, saying to quote it', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        accounts: [111122223333]
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual(['rules/s3.yaml:3:14 /match/accounts/0 must be string (quote the value)']);
  });

  it('a name that is not kebab-case', () => {
    const text = yaml`
      name: S3 Bucket Exfiltration
      match: { types: Exfiltration:S3/* }
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:1:7 /name must be kebab-case: lowercase letters and digits joined by single hyphens',
    ]);
  });

  it('a bad finding-type pattern, with what is wrong with it', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        types:
          - Exfiltration:S3/*
          - Exfiltration:S3/Anomalous Behavior
          - "***:S3/*"
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:5:7 /match/types/1 "Exfiltration:S3/Anomalous Behavior" may only contain letters, digits, : / . ! & _ - and wildcards',
      'rules/s3.yaml:6:7 /match/types/2 "***:S3/*" has "***"; use "*" within a segment or "**" across',
    ]);
  });

  it('a malformed technique id', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        techniques: [T1530, T1078.4, t1619]
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:3:23 /match/techniques/1 must be an ATT&CK technique id such as T1078 or T1078.004',
      'rules/s3.yaml:3:32 /match/techniques/2 must be an ATT&CK technique id such as T1078 or T1078.004',
    ]);
  });

  it('an unknown tactic, in match and in exclude', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        tactics: [Exfiltration, Exfil]
      exclude:
        tactics: [TA0099]
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:3:27 /match/tactics/1 unknown ATT&CK tactic "Exfil"; use a tactic id (TA0010) or name (Exfiltration)',
      'rules/s3.yaml:5:13 /exclude/tactics/0 unknown ATT&CK tactic "TA0099"; use a tactic id (TA0010) or name (Exfiltration)',
    ]);
  });

  it('a severity range whose minimum is above its maximum', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        severity: { min: 8, max: 5 }
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual(['rules/s3.yaml:3:13 /match/severity min 8 must not be above max 5']);
  });

  it('after: naming a step the playbook does not have, listing the steps it has', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions:
        - action: block-bucket-public-access
          id: block
        - action: notify
          after: [block, snapshot]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:7:20 /actions/1/after/1 names unknown step "snapshot"; steps in this playbook: block, notify',
    ]);
  });

  it('after: forming a cycle, once, at the first step in it', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions:
        - action: tag-resource
          after: notify
        - action: block-bucket-public-access
          after: tag-resource
        - action: notify
          after: block-bucket-public-access
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:5:12 /actions/0/after forms a cycle: tag-resource -> notify -> block-bucket-public-access -> tag-resource (each step waits for the next)',
    ]);
  });

  it('a step waiting for itself', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions:
        - action: notify
          after: notify
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:5:12 /actions/0/after forms a cycle: notify -> notify (each step waits for the next)',
    ]);
  });

  it('two steps with one id', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions:
        - action: tag-resource
          id: mark
        - action: notify
          id: mark
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:7:9 /actions/1/id step id "mark" is already used by the step at line 4',
    ]);
  });

  it('malformed condition trees', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        conditions:
          all:
            - { fact: severity, operator: greaterThen, value: 8 }
            - { fact: type, value: x }
            - { all: [], any: [{ fact: count, operator: equal, value: 1 }] }
            - { not: { fact: count, operator: equal, value: 1 }, operator: equal }
            - { fact: count, operator: equal, value: 1, unit: s }
            - {}
            - { operator: equal, value: 1 }
      exclude:
        conditions: { fact: severty, operator: equal, value: 8, path: severity }
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      `rules/s3.yaml:5:37 /match/conditions/all/0/operator unknown operator "greaterThen"; ${OPERATORS}`,
      'rules/s3.yaml:6:9 /match/conditions/all/1 is missing required key "operator"',
      'rules/s3.yaml:7:9 /match/conditions/all/2 must have only one of: all, any',
      'rules/s3.yaml:7:16 /match/conditions/all/2/all must not be empty',
      'rules/s3.yaml:8:60 /match/conditions/all/3 has "operator", which only a fact comparison takes',
      'rules/s3.yaml:9:51 /match/conditions/all/4 has unknown key "unit"',
      'rules/s3.yaml:10:9 /match/conditions/all/5 must not be empty',
      'rules/s3.yaml:11:9 /match/conditions/all/6 must have one of: all, any, not, fact',
      'rules/s3.yaml:13:23 /exclude/conditions/fact unknown fact "severty"; facts are the finding\'s fields: id, arn, type, severity, severityLabel, title, description, accountId, region, partition, createdAt, updatedAt, firstSeen, lastSeen, count, archived, sample, resourceRole, resourceType, resources, actor, process, runtimeContext, sequence, techniques, tactics, source, raw',
      'rules/s3.yaml:13:65 /exclude/conditions/path must be a JSONPath starting with $ (e.g. $.service.action.actionType)',
    ]);
  });

  it('an operator decorated with a decorator json-rules-engine does not have', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        conditions:
          any: [{ fact: resources, operator: "mostFacts:equal", value: x }]
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      `rules/s3.yaml:4:40 /match/conditions/any/0/operator unknown operator "mostFacts:equal"; ${OPERATORS}`,
    ]);
  });

  it('YAML syntax errors, at the first error of the document only', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: types: Exfiltration:S3/*
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:2:8 / Nested mappings are not allowed in compact mappings',
    ]);
  });

  it('a key given twice in one mapping', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions: [{ action: notify }]
      name: s3-bucket-exfiltration-2
    `;

    expect(problems(text)).toEqual(['rules/s3.yaml:4:1 / Map keys must be unique']);
  });

  it('a YAML tag Riposte does not resolve, such as a CloudFormation intrinsic', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        types: !Ref FindingType
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual(['rules/s3.yaml:3:10 / Unresolved tag: !Ref']);
  });

  it('aliases that expand without bound, at the document start', () => {
    const text = yaml`
      a: &a [x, x, x, x, x, x, x, x, x, x]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:1:1 / Excessive alias count indicates a resource exhaustion attack',
    ]);
  });

  it('two playbooks of one name in one file, at both names', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions: [{ action: notify }]
      ---
      name: s3-bucket-exfiltration
      match: { types: Discovery:S3/* }
      actions: [{ action: notify }]
    `;

    expect(problems(text)).toEqual([
      'rules/s3.yaml:1:7 /name duplicate playbook name "s3-bucket-exfiltration"; also defined at rules/s3.yaml:5:7',
      'rules/s3.yaml:5:7 /name duplicate playbook name "s3-bucket-exfiltration"; also defined at rules/s3.yaml:1:7',
    ]);
  });

  it('every problem of every document at once, in file order', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match:
        severity: { min: seven }
        techniques: [T15]
      actions:
        - action: notify
          after: snapshot
      ---
      # the next playbook has no actions
      name: s3-discovery
      match: { tactics: [Snooping] }
      priority: first
    `;

    const error = refusal(() => parsePlaybooks(text, 'rules/s3.yaml'));

    expect(error.code).toBe('PLAYBOOK_INVALID');
    expect(error.message).toBe(
      [
        '6 problem(s) in playbooks',
        '  rules/s3.yaml:3:20 /match/severity/min must be number',
        '  rules/s3.yaml:4:16 /match/techniques/0 must be an ATT&CK technique id such as T1078 or T1078.004',
        '  rules/s3.yaml:7:12 /actions/0/after names unknown step "snapshot"; steps in this playbook: notify',
        '  rules/s3.yaml:10:1 / is missing required key "actions"',
        '  rules/s3.yaml:11:20 /match/tactics/0 unknown ATT&CK tactic "Snooping"; use a tactic id (TA0010) or name (Exfiltration)',
        '  rules/s3.yaml:12:11 /priority must be integer',
      ].join('\n'),
    );
    expect(error.issues[0]).toEqual({
      file: 'rules/s3.yaml',
      line: 3,
      column: 20,
      pointer: '/match/severity/min',
      message: 'must be number',
      code: 'VALUE_INVALID',
    });
  });
});

describe('parsePlaybooks with a registry', () => {
  /** A registry double: two actions; tag-resource requires a `tags` object of strings. */
  const actions = [inertAction('tag-resource'), inertAction('notify')];
  const registry: ActionRegistry<{ region: string }> = {
    get: (name) => actions.find((candidate) => candidate.name === name),
    list: () => actions,
    validateUndoState: (name) => [{ pointer: '', message: `action "${name}" has no inverse` }],
    validateParams: (name, params) => {
      if (name !== 'tag-resource') return [];
      const tags = (params as { tags?: unknown }).tags;
      if (tags === undefined) return [{ pointer: '', message: 'must have required property tags' }];
      return Object.entries(tags as Record<string, unknown>).flatMap(([key, value]) =>
        typeof value === 'string' ? [] : [{ pointer: `/tags/${key}`, message: 'must be string' }],
      );
    },
  };

  it('accepts registered actions with valid params', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions:
        - action: tag-resource
          params: { tags: { quarantined: "true" } }
        - action: notify
    `;

    expect(parsePlaybooks(text, 'rules/s3.yaml', { registry })).toHaveLength(1);
  });

  it('refuses an unknown action, listing the known ones', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions:
        - action: notify
        - action: quarantine-bucket
    `;

    expect(problems(text, { registry })).toEqual([
      'rules/s3.yaml:5:13 /actions/1/action unknown action "quarantine-bucket"; known actions: notify, tag-resource',
    ]);
  });

  it('refuses bad params at the params node the action names', () => {
    const text = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions:
        - action: tag-resource
          params:
            tags:
              quarantined: true
        - action: tag-resource
          params: {}
        - action: tag-resource
    `;

    expect(problems(text, { registry })).toEqual([
      'rules/s3.yaml:7:22 /actions/0/params/tags/quarantined must be string',
      'rules/s3.yaml:9:13 /actions/1/params must have required property tags',
      'rules/s3.yaml:10:5 /actions/2/params must have required property tags',
    ]);
  });
});

describe('loadPlaybooks refuses', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'riposte-playbooks-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('one playbook name in two files, at both', async () => {
    const first = yaml`
      name: s3-bucket-exfiltration
      match: { types: Exfiltration:S3/* }
      actions: [{ action: notify }]
    `;
    const second = yaml`
      # copied from a.yaml and not renamed
      name: s3-bucket-exfiltration
      match: { types: Discovery:S3/* }
      actions: [{ action: notify }]
    `;
    await writeFile(join(directory, 'a.yaml'), first);
    await writeFile(join(directory, 'b.yml'), second);
    const a = join(directory, 'a.yaml');
    const b = join(directory, 'b.yml');

    expect(await loadProblems([directory])).toEqual([
      `${a}:1:7 /name duplicate playbook name "s3-bucket-exfiltration"; also defined at ${b}:2:7`,
      `${b}:2:7 /name duplicate playbook name "s3-bucket-exfiltration"; also defined at ${a}:1:7`,
    ]);
  });

  it('an operator the matcher does not know, at the operator node of its file', async () => {
    // Regression: `LoadOptions.operators` once let such an operator through, and createMatcher then
    // refused it at the playbook's first line (1:1).
    const file = join(directory, 'exfiltration.yaml');
    await writeFile(
      file,
      yaml`
        name: s3-exfiltration
        match:
          conditions:
            all:
              - { fact: type, operator: startsWith, value: "Exfiltration:" }
        actions: [{ action: notify }]
      `,
    );

    expect(await loadProblems([directory])).toEqual([
      `${file}:5:33 /match/conditions/all/0/operator unknown operator "startsWith"; ${OPERATORS}`,
    ]);
  });

  it('a path that does not exist, at line 0 column 0, alongside the problems of the files it could read', async () => {
    await writeFile(
      join(directory, 'a.yaml'),
      'name: a\nmatch: { sample: yes }\nactions: [{ action: notify }]\n',
    );
    const missing = join(directory, 'missing');

    expect(await loadProblems([missing, directory])).toEqual([
      `${missing}:0:0 / no such file or directory`,
      `${join(directory, 'a.yaml')}:2:18 /match/sample must be boolean`,
    ]);
  });
});

describe('conditions: the loader and the matcher check them alike', () => {
  // One check of the condition language serves both, so a condition createMatcher would refuse is
  // refused at load, at its own YAML node, with the same message; never later at the playbook's 1:1.
  it.each<[string, string, string, string]>([
    [
      'an operator the matcher does not know',
      '{ fact: type, operator: startsWith, value: "Exfiltration:" }',
      '/operator',
      'startsWith',
    ],
    ['a fact the finding does not have', '{ fact: severty, operator: equal, value: 8 }', '/fact', 'severty'],
    [
      'a path that is not JSONPath',
      '{ fact: actor, path: country, operator: equal, value: NL }',
      '/path',
      'country',
    ],
    [
      'a value naming a fact the finding does not have',
      '{ fact: firstSeen, operator: equal, value: { fact: lastSen } }',
      '/value/fact',
      'lastSen',
    ],
  ])('%s: refused by both, at its node by the loader', (_name, leaf, at, token) => {
    // Arrange: the leaf sits on line 5, its opening brace in column 9.
    const text = `name: p\nmatch:\n  conditions:\n    any:\n      - ${leaf}\nactions: [{ action: notify }]\n`;
    const conditions = { any: [parse(leaf)] } as ConditionTree;

    // Act
    const loaded = refusal(() => parsePlaybooks(text, 'rules/p.yaml')).issues;
    const matched = refusal(() => createMatcher([buildPlaybook('p', { conditions })])).issues;

    // Assert
    expect(loaded).toEqual([
      {
        file: 'rules/p.yaml',
        line: 5,
        column: 9 + leaf.indexOf(token),
        pointer: `/match/conditions/any/0${at}`,
        message: expect.any(String),
        code: 'CONDITION_INVALID',
      },
    ]);
    expect(matched.map(({ pointer, message }) => ({ pointer, message }))).toEqual(
      loaded.map(({ pointer, message }) => ({ pointer, message })),
    );
  });

  it('an operator the options once let through is refused at its node, whatever a caller passes', () => {
    // Arrange: `LoadOptions.operators` is gone; a JavaScript caller may still pass it.
    const text = yaml`
      name: p
      match:
        conditions:
          any: [{ fact: type, operator: startsWith, value: "Exfiltration:" }]
      actions: [{ action: notify }]
    `;
    const options = { operators: ['startsWith'] } as LoadOptions;

    // Act / Assert
    expect(problems(text, options)).toEqual([
      `rules/s3.yaml:4:35 /match/conditions/any/0/operator unknown operator "startsWith"; ${OPERATORS}`,
    ]);
  });

  it('a single comparison at the root: accepted by both', () => {
    // Arrange
    const text = yaml`
      name: p
      match:
        conditions: { fact: severity, operator: greaterThanInclusive, value: 7 }
      actions: [{ action: notify }]
    `;

    // Act
    const playbooks = parsePlaybooks(text, 'rules/p.yaml');

    // Assert
    expect(playbooks[0]?.match.conditions).toEqual({
      fact: 'severity',
      operator: 'greaterThanInclusive',
      value: 7,
    });
    expect(() => createMatcher(playbooks)).not.toThrow();
  });
});
