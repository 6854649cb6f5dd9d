import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CheckedFile, loadPlaybooks } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';
import { offlineScratch } from '../helpers/offline.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const scratch = offlineScratch('riposte-validate-');

/** Runs the CLI in the test's scratch directory (or `cwd`), as a person would type it there. */
const run = async (argv: string[], cwd = scratch()) => {
  const { io, out, err } = recordingIO(cwd);
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
};

/** A playbook whose only problem is a finding type GuardDuty never raised (one letter is missing). */
const MISSPELT_TYPE = [
  'name: s3-object-read',
  'match:',
  '  types:',
  '    - Exfiltration:S3/*',
  '    - Exfiltration:S3/ObjectRead.Unusal',
  'actions:',
  '  - action: notify',
  '',
].join('\n');

const TYPE_WARNING =
  's3.yaml:5:7 /match/types/1 "Exfiltration:S3/ObjectRead.Unusal" matches no GuardDuty finding type, active or retired; did you mean "Exfiltration:S3/ObjectRead.Unusual"?';

/** A playbook with errors only the real action registry can find. */
const BAD_ACTIONS = [
  'name: ec2-contain',
  'match: { types: "Backdoor:EC2/*" }',
  'actions:',
  '  - action: isolate',
  '  - action: notify',
  '    params:',
  '      topicArm: arn:aws:sns:us-east-1:111122223333:security-alerts',
  '',
].join('\n');

const write = async (name: string, text: string): Promise<string> => {
  const file = join(scratch(), name);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, text);
  return file;
};

interface ValidateJson {
  valid: boolean;
  strict: boolean;
  files: { file: string; playbooks: number }[];
  issues: Record<string, unknown>[];
  counts: Record<string, number>;
}

describe('riposte validate: a type pattern that matches no finding type', () => {
  it('is a warning at its line and column, with the type meant; alone, it exits 0', async () => {
    await write('s3.yaml', MISSPELT_TYPE);

    const { code, out, err } = await run(['validate', 's3.yaml']);

    expect(code).toBe(EXIT.ok);
    expect(err.split('\n')).toEqual(['warning: 1 problem(s)', TYPE_WARNING]);
    expect(out).toBe('1 file, 1 playbook: 0 errors, 1 warning');
  });

  it('is an error under --strict: exit 1', async () => {
    await write('s3.yaml', MISSPELT_TYPE);

    const { code, out, err } = await run(['validate', '--strict', 's3.yaml']);

    expect(code).toBe(EXIT.failed);
    expect(err.split('\n')).toEqual(['invalid: 1 problem(s)', TYPE_WARNING]);
    expect(out).toBe('1 file, 1 playbook: 1 error, 0 warnings');
  });
});

describe('riposte validate: names Riposte does not know', () => {
  it('an action and a param, each with the name meant, from the real registry; exit 1', async () => {
    await write('ec2.yaml', BAD_ACTIONS);

    const { code, out, err } = await run(['validate', 'ec2.yaml']);

    expect(code).toBe(EXIT.failed);
    expect(err.split('\n')).toEqual([
      'invalid: 2 problem(s)',
      'ec2.yaml:4:13 /actions/0/action unknown action "isolate"; did you mean "isolate-instance"?',
      'ec2.yaml:7:7 /actions/1/params/topicArm is not a known param; did you mean "topicArn"?',
    ]);
    expect(out).toBe('1 file, 1 playbook: 2 errors, 0 warnings');
  });
});

describe('riposte validate --json', () => {
  it('prints the files, every problem with its severity, code and suggestions, and the counts; nothing else', async () => {
    await write('rules/ec2.yaml', BAD_ACTIONS);
    await write('rules/s3.yaml', MISSPELT_TYPE);

    const { code, out, err } = await run(['validate', '--json', 'rules']);

    expect(code).toBe(EXIT.failed);
    expect(err).toBe('');
    expect(JSON.parse(out)).toEqual({
      valid: false,
      strict: false,
      files: [
        { file: 'rules/ec2.yaml', playbooks: 1 },
        { file: 'rules/s3.yaml', playbooks: 1 },
      ],
      issues: [
        {
          severity: 'error',
          code: 'ACTION_UNKNOWN',
          file: 'rules/ec2.yaml',
          line: 4,
          column: 13,
          pointer: '/actions/0/action',
          message: 'unknown action "isolate"; did you mean "isolate-instance"?',
          suggestions: ['isolate-instance'],
        },
        {
          severity: 'error',
          code: 'KEY_UNKNOWN',
          file: 'rules/ec2.yaml',
          line: 7,
          column: 7,
          pointer: '/actions/1/params/topicArm',
          message: 'is not a known param; did you mean "topicArn"?',
          suggestions: ['topicArn'],
        },
        {
          severity: 'warning',
          code: 'FINDING_TYPE_UNKNOWN',
          file: 'rules/s3.yaml',
          line: 5,
          column: 7,
          pointer: '/match/types/1',
          message:
            '"Exfiltration:S3/ObjectRead.Unusal" matches no GuardDuty finding type, active or retired; did you mean "Exfiltration:S3/ObjectRead.Unusual"?',
          suggestions: ['Exfiltration:S3/ObjectRead.Unusual'],
        },
      ],
      counts: { files: 2, playbooks: 2, customActions: 0, errors: 2, warnings: 1 },
    } satisfies ValidateJson);
  });

  it('with --strict, says each warning is an error, and exits 1 on warnings alone', async () => {
    await write('s3.yaml', MISSPELT_TYPE);

    const lenient = await run(['validate', '--json', 's3.yaml']);
    const strict = await run(['validate', '--json', '--strict', 's3.yaml']);

    const lenientJson = JSON.parse(lenient.out) as ValidateJson;
    const strictJson = JSON.parse(strict.out) as ValidateJson;
    expect([lenient.code, strict.code]).toEqual([EXIT.ok, EXIT.failed]);
    expect([lenientJson.valid, strictJson.valid]).toEqual([true, false]);
    expect(lenientJson.issues.map((issue) => issue.severity)).toEqual(['warning']);
    expect(strictJson.issues.map((issue) => issue.severity)).toEqual(['error']);
    expect(strictJson.counts).toMatchObject({ errors: 1, warnings: 0 });
  });
});

describe('riposte validate: exit codes', () => {
  it('exits 2 for a path that cannot be read, even with --json: the command line is wrong', async () => {
    await write('s3.yaml', MISSPELT_TYPE);

    const { code, out, err } = await run(['validate', '--json', 's3.yaml', 'nowhere']);

    expect(code).toBe(EXIT.usage);
    expect(out).toBe('');
    expect(err).toBe('riposte validate: PATH_INACCESSIBLE: nowhere: no such file or directory');
  });

  it('exits 2 for an option it does not take', async () => {
    const { code, err } = await run(['validate', '--stict']);

    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(/^riposte validate: Unknown option '--stict'/);
  });

  it('exits 1 for a YAML syntax error: the file was read, its content is invalid', async () => {
    await write('broken.yaml', 'name: [broken\n');

    const { code, out } = await run(['validate', '--json', 'broken.yaml']);

    const json = JSON.parse(out) as ValidateJson;
    expect(code).toBe(EXIT.failed);
    expect(json.issues.map(({ code: kind, severity }) => [kind, severity])).toEqual([
      ['YAML_INVALID', 'error'],
    ]);
  });
});

describe('riposte validate: the project', () => {
  it('reports every source at once, errors and warnings in file and position order', async () => {
    await write('riposte.config.mjs', "export default { playbooks: ['./ec2', './s3'] };\n");
    await write('ec2/ec2.yaml', BAD_ACTIONS);
    await write('s3/s3.yaml', MISSPELT_TYPE.replace('actions:', '  sevrity: high\nactions:'));

    const { code, out } = await run(['validate', '--json']);

    const json = JSON.parse(out) as ValidateJson;
    expect(code).toBe(EXIT.failed);
    expect(json.files).toEqual([
      { file: 'ec2/ec2.yaml', playbooks: 1 },
      { file: 's3/s3.yaml', playbooks: 1 },
    ]);
    expect(json.issues.map(({ file, code: kind, suggestions }) => [file, kind, suggestions])).toEqual([
      ['ec2/ec2.yaml', 'ACTION_UNKNOWN', ['isolate-instance']],
      ['ec2/ec2.yaml', 'KEY_UNKNOWN', ['topicArn']],
      ['s3/s3.yaml', 'FINDING_TYPE_UNKNOWN', ['Exfiltration:S3/ObjectRead.Unusual']],
      ['s3/s3.yaml', 'KEY_UNKNOWN', ['severity']],
    ]);
  });

  it('checks what only the whole project can get wrong, once its sources are valid', async () => {
    await write(
      'riposte.config.mjs',
      "export default { playbooks: [{ from: './s3', include: ['s3-objects-read'] }] };\n",
    );
    await write('s3/s3.yaml', MISSPELT_TYPE);

    const { code, out } = await run(['validate', '--json']);

    const json = JSON.parse(out) as ValidateJson;
    expect(code).toBe(EXIT.failed);
    expect(json.issues).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'PROJECT_CONFIG_INVALID',
        message: '"./s3" has no playbook named "s3-objects-read"; it has s3-object-read',
      }),
      expect.objectContaining({ severity: 'warning', code: 'FINDING_TYPE_UNKNOWN' }),
    ]);
  });

  it('sums up the shipped rules as every file and playbook it checked, without a problem', async () => {
    const files: CheckedFile[] = [];
    await loadPlaybooks([join(ROOT, 'rules')], { onFileChecked: (file) => void files.push(file) });
    const playbooks = files.reduce((sum, file) => sum + file.playbooks, 0);

    const { code, out, err } = await run(['validate', 'rules'], ROOT);

    expect(code).toBe(EXIT.ok);
    expect(err).toBe('');
    expect(out).toBe(`${files.length} files, ${playbooks} playbooks: 0 errors, 0 warnings`);
  });
});

describe("the README's validate example", () => {
  it('is what validate prints for the playbook it shows', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /```\n\$ riposte validate (broken\/s3\.yaml)\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();

    const { code, out, err } = await run(['validate', block![1]!], join(ROOT, 'packages/cli/tests/fixtures'));

    expect(code).toBe(EXIT.failed);
    expect(`${err}\n${out}\n`).toBe(block![2]);
  });
});
