import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  type AwsCredentialsProvider,
  type AwsServices,
  createAwsServices,
  createRegistry,
} from '@riposte/actions';
import { type ActionDefinition, createEngine, loadCases, loadPlaybooks, runCases } from '@riposte/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_S3_RANGE, GITIGNORE, runInit, SCAFFOLD_FILES, SCRIPTS } from '../../src/commands/init.js';
import { EXIT, UsageError } from '../../src/io.js';
import { recordingIO } from '../helpers/io.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TEMPLATES = fileURLToPath(new URL('../../templates/init/', import.meta.url));
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));
const CLI_VERSION: string = (await readJson(join(ROOT, 'packages/cli/package.json'))).version;

const init = async (cwd: string, args: string[] = []) => {
  const { io, out, err } = recordingIO(cwd);
  const code = await runInit(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
};

/** Every file under `directory`, as paths relative to it, sorted. */
const filesUnder = async (directory: string): Promise<string[]> =>
  (await readdir(directory, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .sort();

const ALL_PATHS = [...SCAFFOLD_FILES.map((file) => file.path), GITIGNORE.path, 'package.json'].sort();

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-init-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('riposte init', () => {
  it('writes every scaffold file, a .gitignore and a package.json into an empty directory', async () => {
    const { code, out, err } = await init(directory);

    expect(code).toBe(EXIT.ok);
    expect(err).toBe('');
    expect(await filesUnder(directory)).toEqual(ALL_PATHS);
    for (const file of [...SCAFFOLD_FILES, GITIGNORE]) {
      expect(await readFile(join(directory, file.path), 'utf8'), file.path).toBe(
        await readFile(join(TEMPLATES, file.template), 'utf8'),
      );
    }
    expect(await readJson(join(directory, 'package.json'))).toEqual({
      private: true,
      type: 'module',
      scripts: {
        validate: 'riposte validate',
        test: 'riposte test && node --test actions/archive-finding.test.mjs',
        build: 'riposte build',
        template: 'riposte template > template.yaml',
      },
      dependencies: {
        '@aws-sdk/client-s3': CLIENT_S3_RANGE,
        '@riposte/actions': `^${CLI_VERSION}`,
        '@riposte/cli': `^${CLI_VERSION}`,
        '@riposte/core': `^${CLI_VERSION}`,
        '@riposte/rules': `^${CLI_VERSION}`,
      },
    });
    for (const path of ALL_PATHS) expect(out).toContain(`created ${path}`);
    expect(out).toMatch(
      /npm install[\s\S]*npm run validate[\s\S]*npm test[\s\S]*npm run build[\s\S]*npm run template/,
    );
    expect(out).not.toContain('cd ');
  });

  it('scaffolds into the directory it is given, creating it, and says to cd there first', async () => {
    const { code, out } = await init(directory, ['acme-guardduty']);

    expect(code).toBe(EXIT.ok);
    expect(await filesUnder(join(directory, 'acme-guardduty'))).toEqual(ALL_PATHS);
    expect(out).toMatch(/Next steps:\n {2}cd acme-guardduty\n {2}npm install/);
  });

  it('refuses a second run, listing every file that exists, and writes nothing', async () => {
    await init(directory);
    await writeFile(join(directory, 'riposte.config.mjs'), '// mine\n');
    await rm(join(directory, 'actions', 'archive-finding.test.mjs'));
    await rm(join(directory, '.gitignore'));
    const packageBefore = await readFile(join(directory, 'package.json'), 'utf8');

    const { code, out, err } = await init(directory);

    const present = SCAFFOLD_FILES.map((file) => file.path).filter(
      (path) => path !== 'actions/archive-finding.test.mjs',
    );
    expect(code).toBe(EXIT.failed);
    expect(out).toBe('');
    expect(err.split('\n').filter((line) => line.startsWith('exists: '))).toEqual(
      present.map((path) => `exists: ${path}`),
    );
    expect(err).toContain('nothing was written');
    expect(await readFile(join(directory, 'riposte.config.mjs'), 'utf8')).toBe('// mine\n');
    expect(await readFile(join(directory, 'package.json'), 'utf8')).toBe(packageBefore);
    expect(await filesUnder(directory)).toEqual(
      ALL_PATHS.filter((path) => path !== 'actions/archive-finding.test.mjs' && path !== '.gitignore'),
    );
  });

  it('refuses when a parent of a scaffold file is a file', async () => {
    await writeFile(join(directory, 'actions'), 'not a directory\n');

    const { code, err } = await init(directory);

    expect(code).toBe(EXIT.failed);
    expect(err).toContain('exists: actions/archive-finding.mjs');
    expect(await filesUnder(directory)).toEqual(['actions']);
  });

  it('merges an existing package.json, adding only what is absent and changing no value', async () => {
    const existing = {
      name: 'acme-guardduty',
      version: '1.0.0',
      type: 'commonjs',
      scripts: { test: 'echo "Error: no test specified" && exit 1', lint: 'eslint .' },
      dependencies: { '@riposte/cli': '^0.0.9', zod: '^4.0.0' },
      devDependencies: { '@riposte/rules': '0.1.0' },
    };
    await writeFile(join(directory, 'package.json'), `${JSON.stringify(existing, null, 4)}\n`);

    const { code, out } = await init(directory);

    const text = await readFile(join(directory, 'package.json'), 'utf8');
    const merged = JSON.parse(text);
    expect(code).toBe(EXIT.ok);
    expect(merged).toEqual({
      ...existing,
      private: true,
      scripts: { ...SCRIPTS, ...existing.scripts },
      dependencies: {
        '@aws-sdk/client-s3': CLIENT_S3_RANGE,
        '@riposte/actions': `^${CLI_VERSION}`,
        '@riposte/cli': '^0.0.9',
        '@riposte/core': `^${CLI_VERSION}`,
        zod: '^4.0.0',
      },
    });
    expect(Object.keys(merged.dependencies)).toEqual(Object.keys(merged.dependencies).sort());
    expect(text).toContain('\n    "name": "acme-guardduty"');
    expect(out).toContain('updated package.json: added private, scripts.validate, scripts.build');
    expect(out).toContain('kept package.json type: "commonjs" (init would write "module")');
    expect(out).toContain('kept package.json scripts.test: "echo \\"Error: no test specified\\" && exit 1"');
    expect(out).toContain(
      `kept package.json dependencies.@riposte/cli: "^0.0.9" (init would write "^${CLI_VERSION}")`,
    );
    expect(out).toContain(`kept package.json devDependencies.@riposte/rules: "0.1.0"`);
  });

  it('leaves a package.json that already has everything as it is', async () => {
    await init(directory, ['first']);
    const text = await readFile(join(directory, 'first', 'package.json'), 'utf8');
    await writeFile(join(directory, 'package.json'), text);

    const { code, out } = await init(directory);

    expect(code).toBe(EXIT.ok);
    expect(await readFile(join(directory, 'package.json'), 'utf8')).toBe(text);
    expect(out).toContain('unchanged package.json');
    expect(out).not.toContain('kept package.json');
  });

  it('leaves an existing .gitignore alone and says so', async () => {
    await writeFile(join(directory, '.gitignore'), 'secrets/\n');

    const { code, out } = await init(directory);

    expect(code).toBe(EXIT.ok);
    expect(await readFile(join(directory, '.gitignore'), 'utf8')).toBe('secrets/\n');
    expect(out).toContain('skipped .gitignore (exists; left as it is)');
  });

  it('writes nothing when the existing package.json is not valid JSON', async () => {
    await writeFile(join(directory, 'package.json'), '{ "name": ');

    const { code, err } = await init(directory);

    expect(code).toBe(EXIT.failed);
    expect(err).toContain('cannot merge: package.json is not valid JSON');
    expect(await filesUnder(directory)).toEqual(['package.json']);
  });

  it('refuses unknown options, more than one directory, and a file as the directory', async () => {
    await writeFile(join(directory, 'file'), '');
    const { io } = recordingIO(directory);

    await expect(runInit(['--force'], io)).rejects.toThrow(UsageError);
    await expect(runInit(['a', 'b'], io)).rejects.toThrow(UsageError);
    await expect(runInit(['file'], io)).rejects.toThrow('file is not a directory');
    expect(await filesUnder(directory)).toEqual(['file']);
  });

  it('depends on the S3 client range @riposte/actions uses', async () => {
    const actions = await readJson(join(ROOT, 'packages/actions/package.json'));

    expect(CLIENT_S3_RANGE).toBe(actions.dependencies['@aws-sdk/client-s3']);
  });

  it('copies every template it ships, and ships every template it copies', async () => {
    expect(await filesUnder(TEMPLATES)).toEqual(
      [...SCAFFOLD_FILES, GITIGNORE].map((file) => file.template).sort(),
    );
  });
});

describe('the scaffolded project', () => {
  let project: string;

  // One scaffold for these tests; its node_modules link to this checkout's packages, as `npm install`
  // would install them.
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'riposte-init-project-'));
    expect((await init(project)).code).toBe(EXIT.ok);
    const links: [string, string][] = [
      ['@riposte/core', join(ROOT, 'packages/core')],
      ['@aws-sdk/client-s3', await realpath(join(ROOT, 'packages/actions/node_modules/@aws-sdk/client-s3'))],
    ];
    for (const [name, target] of links) {
      await mkdir(join(project, 'node_modules', name, '..'), { recursive: true });
      await symlink(target, join(project, 'node_modules', name), 'dir');
    }
  });

  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  const customAction = async (): Promise<ActionDefinition<{ bucket: string }, AwsServices>> => {
    const module = await import(pathToFileURL(join(project, 'actions/archive-finding.mjs')).href);
    return module.archiveFinding;
  };

  it('has a playbook that loads beside the shipped rules, and cases that pass with its custom action', async () => {
    const registry = createRegistry();
    registry.register(await customAction());
    const noCredentials: AwsCredentialsProvider = async () => {
      throw Object.assign(new Error('offline'), { name: 'CredentialsProviderError' });
    };
    const services = createAwsServices({
      env: { RIPOSTE_SNS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:riposte-test' },
      credentialsFor: () => noCredentials,
    });

    const playbooks = await loadPlaybooks([join(project, 'playbooks')], { registry });
    const withRules = await loadPlaybooks([join(ROOT, 'rules'), join(project, 'playbooks')], { registry });
    const [cases] = await loadCases([join(project, 'playbooks')]);
    const engine = createEngine({ playbooks, registry, services, mode: 'dry-run' });
    const results = await runCases(cases?.cases ?? [], engine);

    expect(playbooks.map((playbook) => playbook.name)).toEqual(['archive-c2-findings']);
    expect(withRules.length).toBeGreaterThan(playbooks.length);
    expect(results.map((result) => ({ name: result.name, failures: result.failures }))).toEqual(
      results.map((result) => ({ name: result.name, failures: [] })),
    );
    expect(results.length).toBe(3);
  });

  it("has action tests that pass with node's test runner", async () => {
    const run = promisify(execFile);

    const result = await run(process.execPath, ['--test', 'actions/archive-finding.test.mjs'], {
      cwd: project,
      env: { PATH: process.env.PATH, NO_COLOR: '1' },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);

    expect({ code: 'code' in result ? result.code : 0, output: `${result.stdout}${result.stderr}` }).toEqual({
      code: 0,
      output: expect.stringMatching(/# pass 8\n# fail 0/),
    });
  });
});
