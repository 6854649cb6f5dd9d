import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CaseValidationError,
  createEngine,
  type Engine,
  formatCaseResult,
  formatCaseSummary,
  loadCases,
  type PlaybookCase,
  parseCases,
  runCase,
  runCases,
  stepMatches,
} from '@riposte/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPlaybook } from '../helpers/playbook.js';
import { probeAction, registryOf } from '../helpers/registry.js';

const FINDINGS = fileURLToPath(new URL('../../../../rules/findings/', import.meta.url));
const finding = (name: string): string => join(FINDINGS, name);

const ICX = finding('instance-credential-exfiltration-outside-aws.json');
const ICX_SAMPLE = finding(
  'samples/39-unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.json',
);
const S3_EXFILTRATION = finding('exfiltration-s3-maliciousipcaller-iam-user.json');
const INSTANCE = 'i-0b7e5f3a9c2d41e68';

/** Two playbooks over probe actions: one for leaked instance credentials, one for S3 exfiltration. */
const testEngine = (): Engine => {
  const journal = { entries: [] };
  const registry = registryOf([
    probeAction('tag-instance', journal, { phase: 'preserve', kind: 'instance' }),
    probeAction('block-bucket', journal, { phase: 'contain', kind: 's3-bucket' }),
    probeAction('notify', journal, { phase: 'notify', kind: 'finding' }),
  ]);
  const step = (action: string, index: number) => ({
    id: action,
    action,
    params: {},
    after: [],
    onError: 'continue' as const,
    location: { file: 'test.yaml', line: 1, column: 1, pointer: `/actions/${index}` },
  });
  const playbooks = [
    buildPlaybook(
      'leaked-credentials',
      { types: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*'] },
      { priority: 10, actions: ['tag-instance', 'block-bucket', 'notify'].map(step) },
    ),
    buildPlaybook('s3-exfiltration', { types: ['Exfiltration:S3/*'] }, { priority: 20 }),
  ];
  return createEngine({ playbooks, registry, services: {}, mode: 'dry-run' });
};

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-cases-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Writes a cases file into the test directory and parses it from there. */
const parse = async (text: string, name = 'test.cases.yaml'): Promise<PlaybookCase[]> => {
  const file = join(directory, name);
  await writeFile(file, text);
  return parseCases(text, file);
};

const issuesOf = async (text: string) => {
  const error = await parse(text).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CaseValidationError);
  return (error as CaseValidationError).issues.map(({ line, column, pointer, message }) => ({
    line,
    column,
    pointer,
    message,
  }));
};

describe('parseCases', () => {
  it('reads each case with its finding normalized and its location', async () => {
    const cases = await parse(
      [
        `- name: handles leaked credentials`,
        `  finding: ${ICX}`,
        `  expect:`,
        `    playbooks: [leaked-credentials]`,
        `    steps:`,
        `      - { action: tag-instance, target: ${INSTANCE}, status: planned }`,
        `- name: ignores the sample`,
        `  finding: ${ICX_SAMPLE}`,
        `  expect: { noMatch: true }`,
      ].join('\n'),
    );

    expect(cases.map((testCase) => testCase.name)).toEqual([
      'handles leaked credentials',
      'ignores the sample',
    ]);
    expect(cases[0]?.finding.type.name).toBe(
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    );
    expect(cases[0]?.expect).toEqual({
      playbooks: ['leaked-credentials'],
      steps: [{ action: 'tag-instance', target: INSTANCE, status: 'planned' }],
    });
    expect(cases[1]?.finding.sample).toBe(true);
    expect(cases[1]?.location).toMatchObject({ line: 7, column: 3, pointer: '/1' });
  });

  it('resolves a finding path relative to the cases file', async () => {
    await mkdir(join(directory, 'findings'));
    await writeFile(join(directory, 'findings', 'f.json'), await readFile(ICX, 'utf8'));

    const [testCase] = await parse(
      '- name: relative\n  finding: findings/f.json\n  expect: { noMatch: true }\n',
    );

    expect(testCase?.findingSource).toBe('findings/f.json');
    expect(testCase?.finding.resources.map((resource) => resource.kind)).toEqual(['access-key', 'instance']);
  });

  it('reads an inline finding', async () => {
    const [testCase] = await parse(
      [
        '- name: inline',
        '  finding:',
        '    schemaVersion: "2.0"',
        '    accountId: "111122223333"',
        '    region: us-east-1',
        '    partition: aws',
        '    id: 0123456789abcdef0123456789abcdef',
        '    type: Impact:S3/MaliciousIPCaller',
        '    resource: { resourceType: S3Bucket, s3BucketDetails: [{ name: acme-exports }] }',
        '    service: { serviceName: guardduty, archived: false, count: 1 }',
        '    severity: 8',
        '  expect: { playbooks: [] }',
      ].join('\n'),
    );

    expect(testCase?.findingSource).toBe('inline');
    expect(testCase?.finding.type.name).toBe('Impact:S3/MaliciousIPCaller');
    expect(testCase?.expect).toEqual({ playbooks: [] });
  });

  it('reports a YAML syntax error at its line and column', async () => {
    const issues = await issuesOf('- name: broken\n  finding: [unclosed\n');

    expect(issues).toHaveLength(1);
    expect(issues[0]?.line).toBe(3);
  });

  it('reports an unknown key at the key', async () => {
    const issues = await issuesOf(
      `- name: typo\n  finding: ${ICX}\n  expect:\n    playbook: [leaked-credentials]\n`,
    );

    expect(issues).toEqual([
      { line: 4, column: 5, pointer: '/0/expect', message: 'has unknown key "playbook"' },
    ]);
  });

  it('reports a missing expectation and an empty one', async () => {
    const issues = await issuesOf(
      `- name: nothing expected\n  finding: ${ICX}\n- name: empty\n  finding: ${ICX}\n  expect: {}\n`,
    );

    expect(issues).toEqual([
      { line: 1, column: 3, pointer: '/0', message: 'is missing required key "expect"' },
      {
        line: 5,
        column: 11,
        pointer: '/1/expect',
        message: 'must say what to expect: playbooks, noMatch, notPlaybooks or steps',
      },
    ]);
  });

  it('reports a step status that does not exist', async () => {
    const issues = await issuesOf(
      `- name: s\n  finding: ${ICX}\n  expect:\n    steps:\n      - { action: notify, status: done }\n`,
    );

    expect(issues).toEqual([
      {
        line: 5,
        column: 35,
        pointer: '/0/expect/steps/0/status',
        message: 'must be one of: planned, no-op, refused, failed',
      },
    ]);
  });

  it('reports a finding that is neither a path nor a mapping', async () => {
    const issues = await issuesOf('- name: n\n  finding: 42\n  expect: { noMatch: true }\n');

    expect(issues).toEqual([
      {
        line: 2,
        column: 12,
        pointer: '/0/finding',
        message: 'must be a finding file path or an inline finding (a mapping)',
      },
    ]);
  });

  it('reports a file that is not a list of cases', async () => {
    const issues = await issuesOf('name: a playbook, not cases\n');

    expect(issues).toEqual([{ line: 1, column: 1, pointer: '', message: 'must be a list of cases' }]);
  });

  it('reports duplicate case names and contradicting expectations', async () => {
    const issues = await issuesOf(
      [
        `- name: same`,
        `  finding: ${ICX}`,
        `  expect: { noMatch: true, playbooks: [leaked-credentials] }`,
        `- name: same`,
        `  finding: ${ICX}`,
        `  expect: { playbooks: [a], notPlaybooks: [a] }`,
      ].join('\n'),
    );

    expect(issues.map((issue) => [issue.line, issue.pointer, issue.message])).toEqual([
      [3, '/0/expect/noMatch', 'contradicts expect.playbooks: say one or the other'],
      [4, '/1/name', 'duplicate case name "same"; first at line 1'],
      [6, '/1/expect/notPlaybooks', '"a" is also in expect.playbooks'],
    ]);
  });

  it('reports a finding file that does not exist at the finding', async () => {
    const issues = await issuesOf(
      '- name: n\n  finding: findings/missing.json\n  expect: { noMatch: true }\n',
    );

    expect(issues).toEqual([
      {
        line: 2,
        column: 12,
        pointer: '/0/finding',
        message: 'finding file findings/missing.json: no such file or directory',
      },
    ]);
  });

  it('reports a finding file that is not JSON', async () => {
    await writeFile(join(directory, 'broken.json'), '{ "id": ');

    const issues = await issuesOf('- name: n\n  finding: broken.json\n  expect: { noMatch: true }\n');

    expect(issues[0]?.message).toMatch(/^finding file broken\.json is not valid JSON: /);
  });

  it('points into an inline finding the normalizer refuses', async () => {
    const issues = await issuesOf(
      [
        '- name: n',
        '  finding:',
        '    id: abc',
        '    type: Impact:S3/MaliciousIPCaller',
        '    accountId: "111122223333"',
        '    region: us-east-1',
        '    severity: high',
        '  expect: { noMatch: true }',
      ].join('\n'),
    );

    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 7, column: 15, pointer: '/0/finding/severity' });
    expect(issues[0]?.message).toMatch(/^inline finding: \/severity: /);
  });

  it('refuses a finding file that holds more than one finding', async () => {
    const text = await readFile(ICX, 'utf8');
    await writeFile(join(directory, 'two.json'), `[${text}, ${text}]`);

    const issues = await issuesOf('- name: n\n  finding: two.json\n  expect: { noMatch: true }\n');

    expect(issues[0]?.message).toBe('finding file two.json: expected exactly one finding, got 2');
  });
});

describe('loadCases', () => {
  it('loads every *.cases.yaml under a directory, in path order, and nothing else', async () => {
    const body = `- name: c\n  finding: ${ICX}\n  expect: { noMatch: true }\n`;
    await mkdir(join(directory, 'nested'));
    await writeFile(join(directory, 'b.cases.yaml'), body);
    await writeFile(join(directory, 'nested', 'a.cases.yml'), body);
    await writeFile(join(directory, 'playbook.yaml'), 'name: not-a-case\n');

    const files = await loadCases([directory]);

    expect(files.map((file) => file.file)).toEqual([
      join(directory, 'b.cases.yaml'),
      join(directory, 'nested', 'a.cases.yml'),
    ]);
    expect(files.every((file) => file.cases.length === 1)).toBe(true);
  });

  it('reports a path that does not exist and a directory without cases, together', async () => {
    const missing = join(directory, 'missing');

    const error = await loadCases([missing, directory]).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(CaseValidationError);
    expect((error as CaseValidationError).code).toBe('CASES_INVALID');
    expect((error as CaseValidationError).issues.map((issue) => [issue.file, issue.message])).toEqual([
      [missing, 'no such file or directory'],
      [directory, 'holds no *.cases.yaml file'],
    ]);
  });
});

describe('runCase', () => {
  const caseOf = async (expectation: string, file = ICX): Promise<PlaybookCase> => {
    const [testCase] = await parse(`- name: c\n  finding: ${file}\n  expect: ${expectation}\n`);
    if (!testCase) throw new Error('no case');
    return testCase;
  };

  it('passes when the playbooks and steps are as expected', async () => {
    const testCase = await caseOf(
      `{ playbooks: [leaked-credentials], notPlaybooks: [s3-exfiltration], steps: [` +
        `{ action: tag-instance, target: ${INSTANCE}, status: planned }, ` +
        `{ playbook: leaked-credentials, action: block-bucket, target: none, status: no-op }, ` +
        `{ action: notify } ] }`,
    );

    const result = await runCase(testCase, testEngine());

    expect(result.failures).toEqual([]);
    expect(result.passed).toBe(true);
    expect(result.actual.playbooks).toEqual(['leaked-credentials']);
    expect(result.actual.steps.map((step) => [step.action, step.target, step.status])).toEqual([
      ['tag-instance', INSTANCE, 'planned'],
      ['block-bucket', undefined, 'no-op'],
      ['notify', 'bebf27df0aba6551425955dbdf409deb', 'planned'],
    ]);
  });

  it('accepts a target given by its ARN, and none for a step without a target', () => {
    const arn = `arn:aws:ec2:us-east-2:973743533182:instance/${INSTANCE}`;
    const planned = {
      playbook: 'p',
      action: 'tag-instance',
      target: INSTANCE,
      targetArn: arn,
      status: 'planned' as const,
    };
    const noOp = { playbook: 'p', action: 'block-bucket', status: 'no-op' as const };

    expect(stepMatches({ action: 'tag-instance', target: arn }, planned)).toBe(true);
    expect(stepMatches({ action: 'tag-instance', target: 'none' }, planned)).toBe(false);
    expect(stepMatches({ action: 'block-bucket', target: 'none' }, noOp)).toBe(true);
    expect(stepMatches({ action: 'block-bucket', target: INSTANCE }, noOp)).toBe(false);
  });

  it('fails with expected and actual when other playbooks match', async () => {
    const testCase = await caseOf('{ playbooks: [s3-exfiltration] }');

    const result = await runCase(testCase, testEngine());

    expect(result.passed).toBe(false);
    expect(result.failures).toEqual([
      {
        check: 'playbooks',
        message: 'matching playbooks differ',
        expected: ['s3-exfiltration'],
        actual: ['leaked-credentials'],
      },
    ]);
  });

  it('fails noMatch when a playbook matches', async () => {
    const result = await runCase(await caseOf('{ noMatch: true }'), testEngine());

    expect(result.failures.map((failure) => [failure.check, failure.message])).toEqual([
      ['noMatch', 'expected no playbook to match, but "leaked-credentials" matched'],
    ]);
  });

  it('passes noMatch for a sample finding, which the default exclusions leave out', async () => {
    const result = await runCase(await caseOf('{ noMatch: true }', ICX_SAMPLE), testEngine());

    expect(result.passed).toBe(true);
  });

  it('fails notPlaybooks when one of them matches, and when one names no loaded playbook', async () => {
    const result = await runCase(
      await caseOf('{ notPlaybooks: [leaked-credentials, leaked-credential] }'),
      testEngine(),
    );

    expect(result.failures.map((failure) => failure.message)).toEqual([
      'no loaded playbook is called "leaked-credential"',
      '"leaked-credentials" matched but must not',
    ]);
  });

  it('fails steps when a target, a status or the count differs', async () => {
    const wrongTarget = await caseOf(
      '{ steps: [{ action: tag-instance, target: i-0000000000000beef }, { action: block-bucket }, { action: notify }] }',
    );
    const wrongStatus = await caseOf(
      '{ steps: [{ action: tag-instance }, { action: block-bucket, status: planned }, { action: notify }] }',
    );
    const missing = await caseOf('{ steps: [{ action: tag-instance }, { action: notify }] }');

    const results = await runCases([wrongTarget, wrongStatus, missing], testEngine());

    expect(results.map((result) => result.failures.map((failure) => failure.check))).toEqual([
      ['steps'],
      ['steps'],
      ['steps'],
    ]);
  });

  it('checks the exact step list, in order', async () => {
    const swapped = await caseOf(
      '{ steps: [{ action: block-bucket }, { action: tag-instance }, { action: notify }] }',
    );

    expect((await runCase(swapped, testEngine())).passed).toBe(false);
  });
});

describe('formatCaseResult', () => {
  it('prints a check for a passing case', async () => {
    const [testCase] = await parse(
      `- name: passes\n  finding: ${S3_EXFILTRATION}\n  expect: { playbooks: [s3-exfiltration] }\n`,
    );

    const [result] = await runCases([testCase!], testEngine());

    expect(formatCaseResult(result!)).toEqual(['  ✓ passes']);
  });

  it('prints a cross, the location and a diff of expected against actual for a failing case', async () => {
    const file = join(directory, 'test.cases.yaml');
    const [testCase] = await parse(
      [
        `- name: wrong target`,
        `  finding: ${ICX}`,
        `  expect:`,
        `    playbooks: [leaked-credentials, s3-exfiltration]`,
        `    steps:`,
        `      - { action: tag-instance, target: i-0000000000000beef }`,
        `      - { action: block-bucket, status: no-op }`,
        `      - { action: notify }`,
      ].join('\n'),
    );

    const [result] = await runCases([testCase!], testEngine());
    const lines = formatCaseResult(result!);

    expect(lines[0]).toBe(`  ✗ wrong target  ${file}:1:3`);
    expect(lines).toContain('    playbooks: matching playbooks differ');
    expect(lines).toContain('        leaked-credentials');
    expect(lines).toContain('      - s3-exfiltration');
    expect(lines).toContain('    steps: planned steps differ');
    expect(lines).toContain('      - *  tag-instance  i-0000000000000beef  *');
    expect(lines).toContain(`      + leaked-credentials  tag-instance  ${INSTANCE}  planned`);
    expect(lines).toContain(
      '        leaked-credentials  block-bucket  none  no-op (the finding names no s3-bucket)',
    );
  });

  it('ends a run with the pass and fail counts', async () => {
    const [passing] = await parse(
      `- name: p\n  finding: ${ICX}\n  expect: { playbooks: [leaked-credentials] }\n`,
      'p.cases.yaml',
    );
    const [failing] = await parse(
      `- name: f\n  finding: ${ICX}\n  expect: { noMatch: true }\n`,
      'f.cases.yaml',
    );

    const results = await runCases([passing!, failing!], testEngine());

    expect(formatCaseSummary(results)).toBe('1 passed, 1 failed');
  });
});
