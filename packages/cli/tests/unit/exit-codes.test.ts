import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';
import { offlineScratch } from '../helpers/offline.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FINDING = 'examples/scenario/findings/01-instance-credential-exfiltration.json';

const run = async (argv: string[], env: Record<string, string | undefined> = {}) => {
  const { io, out, err } = recordingIO(ROOT, env);
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
};

const scratch = offlineScratch('riposte-exit-');

/** `MISSING` in an argv stands for a path that does not exist. */
const MISSING = '<missing>';

// The rule `riposte --help` states: a path a command was given that cannot be read exits 2, with
// PATH_INACCESSIBLE and the path; content that was read and is invalid exits 1. One row per way each
// command takes a path. None of these reaches AWS or writes anything.
const unreadable: [string, string[]][] = [
  ['validate <path>', ['validate', MISSING]],
  ['validate --config', ['validate', '--config', MISSING]],
  ['test <path>', ['test', MISSING]],
  ['test --playbooks', ['test', '--playbooks', MISSING]],
  ['normalize <path>', ['normalize', MISSING]],
  ['match --finding', ['match', '--finding', MISSING]],
  ['match --playbooks', ['match', '--finding', FINDING, '--playbooks', MISSING]],
  ['plan --finding', ['plan', '--finding', MISSING]],
  ['plan --playbooks', ['plan', '--finding', FINDING, '--playbooks', MISSING]],
  ['coverage --playbooks', ['coverage', '--playbooks', MISSING]],
  ['coverage --fixtures', ['coverage', '--playbooks', 'rules', '--fixtures', MISSING]],
  ['build --config', ['build', '--config', MISSING]],
  ['template --config', ['template', '--config', MISSING]],
  ['template --playbooks', ['template', '--playbooks', MISSING]],
  ['undo --config', ['undo', 'f-1', '--table', 'history', '--config', MISSING]],
  ['approve --config', ['approve', 'f-1', '--table', 'history', '--config', MISSING]],
];

describe('exit codes', () => {
  it.each(unreadable)('%s: a path that does not exist exits 2 with PATH_INACCESSIBLE', async (_, argv) => {
    const missing = join(scratch(), 'nowhere');

    const { code, out, err } = await run(argv.map((arg) => (arg === MISSING ? missing : arg)));

    expect(code).toBe(EXIT.usage);
    expect(out).toBe('');
    expect(err).toBe(`riposte ${argv[0]}: PATH_INACCESSIBLE: ${missing}: no such file or directory`);
  });

  it.each([
    ['history without a table', ['history']],
    ['history with a bad --since', ['history', '--table', 'history', '--since', 'yesterday']],
    ['undo without a finding id', ['undo']],
    ['approve without a finding id', ['approve', '--table', 'history']],
    ['reject with two finding ids', ['reject', 'f-1', 'f-2', '--table', 'history']],
  ])('%s: a usage error exits 2', async (_, argv) => {
    const { code, err } = await run(argv);

    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(new RegExp(`^riposte ${argv[0]}: `));
  });

  it('lists every path that cannot be read at once', async () => {
    const first = join(scratch(), 'first.yaml');
    const second = join(scratch(), 'second');

    const { code, err } = await run(['validate', first, 'rules', second]);

    expect(code).toBe(EXIT.usage);
    expect(err).toBe(
      [
        'riposte validate: PATH_INACCESSIBLE: 2 paths cannot be used:',
        `  ${first}: no such file or directory`,
        `  ${second}: no such file or directory`,
      ].join('\n'),
    );
  });

  it.each([
    ['plan', (a: string, b: string, c: string) => ['plan', '--finding', a, '--playbooks', b, '--config', c]],
    [
      'match',
      (a: string, b: string, c: string) => ['match', '--finding', a, '--playbooks', b, '--config', c],
    ],
    ['test', (a: string, b: string, c: string) => ['test', a, '--playbooks', b, '--config', c]],
  ])('%s names every path it was given that cannot be read, of every option, at once', async (name, argv) => {
    const [a, b, c] = ['a.json', 'b', 'riposte.config.mjs'].map((path) => join(scratch(), path));

    const { code, out, err } = await run(argv(a!, b!, c!));

    expect(code).toBe(EXIT.usage);
    expect(out).toBe('');
    expect(err).toBe(
      [
        `riposte ${name}: PATH_INACCESSIBLE: 3 paths cannot be used:`,
        ...[a, b, c].map((path) => `  ${path}: no such file or directory`),
      ].join('\n'),
    );
  });

  it('names a path under the working directory from it', async () => {
    const { code, err } = await run(['normalize', 'examples/scenario/nowhere.json']);

    expect(code).toBe(EXIT.usage);
    expect(err).toBe(
      'riposte normalize: PATH_INACCESSIBLE: examples/scenario/nowhere.json: no such file or directory',
    );
  });

  it('exits 2 for a path that exists but cannot be read: a symbolic link loop', async () => {
    const loop = join(scratch(), 'loop');
    await symlink(loop, loop);

    const validate = await run(['validate', loop]);
    const plan = await run(['plan', '--finding', loop]);

    expect(validate.code).toBe(EXIT.usage);
    expect(validate.err).toBe(
      `riposte validate: PATH_INACCESSIBLE: ${loop}: too many symbolic links (a loop?)`,
    );
    expect(plan.code).toBe(EXIT.usage);
    expect(plan.err).toBe(`riposte plan: PATH_INACCESSIBLE: ${loop}: too many symbolic links (a loop?)`);
  });

  it('exits 2 for a finding in a directory that cannot be read as a file', async () => {
    const directory = join(scratch(), 'findings');
    await mkdir(join(directory, 'not-a-file.json'), { recursive: true });

    const { code, err } = await run(['normalize', directory]);

    expect(code).toBe(EXIT.usage);
    expect(err).toBe(
      `riposte normalize: PATH_INACCESSIBLE: ${join(directory, 'not-a-file.json')}: is a directory, not a file`,
    );
  });

  it('exits 2 when a file a command writes cannot be created', async () => {
    const layer = join(scratch(), 'no-such-directory', 'layer.json');

    const { code, err } = await run(['coverage', '--playbooks', 'rules', '--navigator', layer]);

    expect(code).toBe(EXIT.usage);
    expect(err).toBe(`riposte coverage: PATH_INACCESSIBLE: ${layer}: no such file or directory`);
  });

  it('exits 2 for a path through a file, which no one can list (root included)', async () => {
    const file = join(scratch(), 'finding.json');
    await writeFile(file, '{}');
    const through = join(file, 'more.yaml');

    const { code, err } = await run(['validate', through]);

    expect(code).toBe(EXIT.usage);
    expect(err).toBe(
      `riposte validate: PATH_INACCESSIBLE: ${through}: a part of the path is not a directory`,
    );
  });

  describe('invalid content that was read exits 1', () => {
    const truncated = async () => {
      const file = join(scratch(), 'truncated.json');
      await writeFile(file, '{"detail-type": "GuardDuty Finding", "detail": {');
      return file;
    };
    const badPlaybook = async () => {
      const file = join(scratch(), 'bad.yaml');
      await writeFile(file, 'name: bad\nmatch:\n  types: [Backdoor:EC2/*]\nactions:\n  - action: nope\n');
      return file;
    };

    it.each([
      ['normalize', (file: string) => ['normalize', file]],
      ['match', (file: string) => ['match', '--finding', file]],
      ['plan', (file: string) => ['plan', '--finding', file]],
    ])('%s: a finding file that is not valid JSON (FINDING_INVALID)', async (_, argv) => {
      const { code, err } = await run(argv(await truncated()));

      expect(code).toBe(EXIT.failed);
      expect(err).toMatch(/FINDING_INVALID: .*truncated\.json is not valid JSON/);
    });

    it.each([
      ['validate', (file: string) => ['validate', file]],
      ['test', (file: string) => ['test', '--playbooks', file, 'rules/s3-data-exfiltration.cases.yaml']],
      ['match', (file: string) => ['match', '--finding', FINDING, '--playbooks', file]],
      ['plan', (file: string) => ['plan', '--finding', FINDING, '--playbooks', file]],
      ['coverage', (file: string) => ['coverage', '--playbooks', file]],
      ['template', (file: string) => ['template', '--playbooks', file]],
    ])('%s: a playbook that does not validate', async (_, argv) => {
      const { code, err } = await run(argv(await badPlaybook()));

      expect(code).toBe(EXIT.failed);
      expect(err).toMatch(/bad\.yaml:5:\d+ \/actions\/0\/action unknown action "nope"/);
    });

    it('--config: a configuration that does not load', async () => {
      const config = join(scratch(), 'riposte.config.mjs');
      await writeFile(config, 'export default { mode: "sometimes" };\n');

      const { code, err } = await run(['validate', '--config', config]);

      expect(code).toBe(EXIT.failed);
      expect(err).toContain('riposte.config.mjs:1:');
    });
  });
});
