import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaybooks } from '@riposte/core';
import type { CloudFormationTemplate } from '@riposte/lambda-adapter/deploy';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { C2_PLAYBOOK, OPEN_CASE_ACTION } from '../../../../testing/fixtures/custom-action-project.js';
import type { Manifest } from '../../src/build/manifest.js';
import { loadProject, ProjectConfigError } from '../../src/config/load.js';
import { EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
// A real-shaped C&C finding (see rules/findings/SOURCES.md).
const C2_FINDING = join(ROOT, 'rules', 'findings', 'backdoor-ec2-c-cactivity-b.json');
const ROOT_FINDING = join(ROOT, 'rules', 'findings', 'policy-iamuser-rootcredentialusage-1.json');

const run = async (cwd: string, ...argv: string[]) => {
  const { io, out, err } = recordingIO(cwd);
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
};

const C2_CASES = `- name: opens a case for a C&C finding
  finding: findings/c2.json
  expect:
    playbooks: [c2-open-case]
    steps:
      - { action: open-case, status: planned }
`;

/** A project in an empty folder: its configuration, one playbook with cases, one custom action. */
const scaffold = async (config: string): Promise<string> => {
  const root = await mkdtemp(join(tmpdir(), 'riposte-project-'));
  await mkdir(join(root, 'playbooks', 'findings'), { recursive: true });
  await mkdir(join(root, 'actions'));
  await writeFile(join(root, 'actions', 'open-case.mjs'), OPEN_CASE_ACTION);
  await writeFile(join(root, 'playbooks', 'c2-open-case.yaml'), C2_PLAYBOOK);
  await writeFile(join(root, 'playbooks', 'c2-open-case.cases.yaml'), C2_CASES);
  await copyFile(C2_FINDING, join(root, 'playbooks', 'findings', 'c2.json'));
  await writeFile(join(root, 'riposte.config.mjs'), config);
  return root;
};

const PROJECT_CONFIG = `import { openCase } from './actions/open-case.mjs';

export default {
  playbooks: ['./playbooks', { from: '@riposte/rules', include: ['root-credential-usage'] }],
  actions: [openCase],
  mode: 'enforce',
  topicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts',
  accounts: ['111122223333', '444455556666'],
  limits: { maxTargetsPerHour: 20 },
};
`;

describe('riposte.config.mjs', () => {
  it('is found from a subdirectory, and holds the custom actions beside the built-ins', async () => {
    const root = await scaffold(PROJECT_CONFIG);

    const project = await loadProject(join(root, 'playbooks', 'findings'));

    expect(project.root).toBe(root);
    expect(project.customActions.map((action) => action.name)).toEqual(['open-case']);
    expect(project.registry.get('open-case')).toBeDefined();
    expect(project.registry.get('isolate-instance')).toBeDefined();
  });

  it('defaults to the shipped playbooks when there is none', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'riposte-empty-'));

    const shipped = await loadPlaybooks([join(ROOT, 'rules')]);

    const { code, out } = await run(empty, 'validate');

    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(new RegExp(`\\b${shipped.length} playbooks: 0 errors, 0 warnings$`));
  });

  it.each([
    [
      'an unknown setting',
      "export default { playbook: ['./playbooks'] };",
      /riposte\.config\.mjs:1:18 \/playbook unknown setting "playbook"/,
    ],
    [
      'a bad mode',
      "export default {\n  mode: 'on',\n};",
      /riposte\.config\.mjs:2:3 \/mode must be dry-run or enforce/,
    ],
    [
      'a bad account',
      "export default {\n  accounts: ['1234'],\n};",
      /:2:3 \/accounts must be an array of 12-digit account ids/,
    ],
    ['no default export', 'export const config = {};', /:1:1 \/ the default export must be defineConfig/],
    [
      'a syntax error',
      "export default {\n  mode: 'dry-run',,\n};",
      /riposte\.config\.mjs:\d+:\d+ \/ cannot be loaded: /,
    ],
    [
      'a broken custom action',
      "export default {\n  actions: [{ name: 'Open_Case' }],\n};",
      /:2:15 \/actions\/0 action "Open_Case": the name must be kebab-case/,
    ],
    [
      'a playbook source that names nothing',
      "export default { playbooks: ['./nowhere'] };",
      /\/playbooks\/0 "\.\/nowhere" is no directory, playbook file, matching glob or installed package/,
    ],
    [
      'an include naming no playbook',
      "export default { playbooks: [{ from: '@riposte/rules', include: ['root-usage'] }] };",
      /"@riposte\/rules" has no playbook named "root-usage"/,
    ],
  ])('is refused with file:line:col for %s', async (_, config, message) => {
    const root = await scaffold(config);

    const { code, err } = await run(root, 'validate');

    expect(code).toBe(EXIT.failed);
    expect(err).toMatch(message);
  });

  it("points at a custom action's name in the module that defines it", async () => {
    const root = await scaffold(PROJECT_CONFIG);
    await writeFile(
      join(root, 'actions', 'open-case.mjs'),
      OPEN_CASE_ACTION.replace("'open-case'", "'OpenCase'"),
    );

    const { code, err } = await run(root, 'validate');

    expect(code).toBe(EXIT.failed);
    expect(err).toMatch(
      /^actions\/open-case\.mjs:2:3 \/actions\/0 action "OpenCase": the name must be kebab-case$/m,
    );
  });

  it('throws a typed error with a code', async () => {
    const root = await scaffold("export default { mode: 'on' };");

    const error = await loadProject(root).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProjectConfigError);
    expect((error as ProjectConfigError).code).toBe('PROJECT_CONFIG_INVALID');
  });

  it('is named with --config from anywhere', async () => {
    const root = await scaffold(PROJECT_CONFIG);
    const elsewhere = await mkdtemp(join(tmpdir(), 'riposte-elsewhere-'));

    const { code, out } = await run(elsewhere, 'validate', '--config', join(root, 'riposte.config.mjs'));

    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/ playbooks \(2 in use\), 1 custom action: 0 errors, 0 warnings$/);
  });
});

describe('every command reads the project', () => {
  let root: string;
  beforeAll(async () => {
    root = await scaffold(PROJECT_CONFIG);
  });

  it('validate: its playbooks, narrowed by include, with its custom action', async () => {
    const { code, out } = await run(root, 'validate');

    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/ playbooks \(2 in use\), 1 custom action: 0 errors, 0 warnings$/);
  });

  it("test: each source's cases against its own playbooks, with the custom action", async () => {
    const { code, out } = await run(root, 'test');

    expect(code).toBe(EXIT.ok);
    expect(out).toContain('playbooks/c2-open-case.cases.yaml');
    expect(out).toMatch(/root-credential-usage\.cases\.yaml/);
    expect(out).toMatch(/\d+ passed, 0 failed/);
  });

  it('plan: the custom action step, and notify to the configured topic', async () => {
    const c2 = await run(root, 'plan', '--finding', 'playbooks/findings/c2.json', '--json');
    const rootUse = await run(root, 'plan', '--finding', ROOT_FINDING, '--json');

    type Plan = { steps: Array<{ action: string; plan: { status: string; calls: unknown[] } }> };
    const [custom] = (JSON.parse(c2.out) as Plan).steps;
    const [notify] = (JSON.parse(rootUse.out) as Plan).steps;
    expect([c2.code, rootUse.code]).toEqual([EXIT.ok, EXIT.ok]);
    expect(custom).toMatchObject({ action: 'open-case', plan: { status: 'planned' } });
    expect(custom!.plan.calls).toEqual([
      expect.objectContaining({
        operation: 'PutItem',
        input: { TableName: 'incidents', Key: expect.any(String) },
      }),
    ]);
    expect(notify).toMatchObject({ action: 'notify', plan: { status: 'planned' } });
    expect(notify!.plan.calls).toEqual([
      expect.objectContaining({
        operation: 'Publish',
        input: expect.objectContaining({ TopicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts' }),
      }),
    ]);
  });

  it('coverage: what the project handles', async () => {
    const { code, out } = await run(root, 'coverage', '--json');

    const coverage = JSON.parse(out) as { playbooks: Array<{ name: string }> };
    expect(code).toBe(EXIT.ok);
    expect(coverage.playbooks.map((playbook) => playbook.name).sort()).toEqual([
      'c2-open-case',
      'root-credential-usage',
    ]);
  });
});

describe('riposte build, then riposte template', () => {
  let root: string;
  let built: { code: number; out: string; err: string };
  beforeAll(async () => {
    root = await scaffold(PROJECT_CONFIG);
    built = await run(root, 'build');
  }, 60_000);

  const template = async () => {
    const result = await run(root, 'template', '--format', 'json');
    return {
      ...result,
      parsed: result.code === 0 ? (JSON.parse(result.out) as CloudFormationTemplate) : undefined,
    };
  };

  it('writes handler.mjs with its chunks, a reproducible function.zip holding them, and the manifest', async () => {
    const manifest = JSON.parse(await readFile(join(root, 'dist/riposte/manifest.json'), 'utf8')) as Manifest;
    const zip = await readFile(join(root, 'dist/riposte/function.zip'));
    const handler = await readFile(join(root, 'dist/riposte/handler.mjs'));

    expect(built.code).toBe(EXIT.ok);
    expect(built.out).toMatch(
      /^built dist\/riposte\/handler\.mjs and \d+ more file\(s\), \d+ KB \(\d+ KB loaded at init\), function\.zip \d+ KB, manifest\.json/,
    );
    const zipped = unzipSync(zip);
    expect(Buffer.from(zipped['handler.mjs']!).equals(handler)).toBe(true);
    // Each AWS service's client is a chunk of its own, loaded on its first call, not at init.
    const chunks = Object.keys(zipped).filter((name) => name.startsWith('chunks/'));
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(Buffer.from(zipped[chunk]!).equals(await readFile(join(root, 'dist/riposte', chunk)))).toBe(
        true,
      );
    }
    expect(manifest.bundle.files).toBe(Object.keys(zipped).length);
    expect(manifest.bundle.initBytes).toBeGreaterThanOrEqual(handler.byteLength);
    expect(manifest.bundle.initBytes).toBeLessThan(manifest.bundle.bytes);
    expect(manifest.playbooks.map((playbook) => [playbook.name, playbook.file])).toEqual([
      ['c2-open-case', 'playbooks/c2-open-case.yaml'],
      ['root-credential-usage', expect.stringMatching(/root-credential-usage\.yaml$/)],
    ]);
    expect(manifest.actions).toContainEqual({
      name: 'open-case',
      origin: 'custom',
      sha256: expect.any(String),
    });
    expect(manifest.sources.map((source) => source.path)).toEqual([
      'actions/open-case.mjs',
      'riposte.config.mjs',
    ]);

    const again = await run(root, 'build');
    expect(again.code).toBe(EXIT.ok);
    expect((await readFile(join(root, 'dist/riposte/function.zip'))).equals(zip)).toBe(true);
  });

  it("prints a template whose Code is the build's zip, whose role holds the custom action's grant, with the settings as defaults", async () => {
    const { code, parsed } = await template();

    // The role's statements: its managed policies (the allows) and its inline policy (the denies).
    const rolePolicies = Object.values(parsed!.Resources).filter(
      (resource) =>
        ['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy'].includes(resource.Type) &&
        JSON.stringify(resource.Properties?.Roles) === JSON.stringify([{ Ref: 'RiposteRole' }]),
    );
    const policy = JSON.stringify(rolePolicies);
    expect(code).toBe(EXIT.ok);
    expect(rolePolicies.map((resource) => resource.Type)).toContain('AWS::IAM::ManagedPolicy');
    expect(parsed!.Resources.RiposteFunction!.Properties.Code).toBe('dist/riposte/function.zip');
    expect(policy).toContain('dynamodb:PutItem');
    expect(policy).toContain(':table/incidents');
    expect(parsed!.Parameters.Mode!.Default).toBe('enforce');
    expect(parsed!.Parameters.NotificationTopicArn!.Default).toBe(
      'arn:aws:sns:us-east-1:111122223333:security-alerts',
    );
    expect(parsed!.Parameters.AllowedAccounts!.Default).toBe('111122223333,444455556666');
    expect(parsed!.Parameters.MaxTargetsPerHour!.Default).toBe(20);
  });

  it('refuses, listing the differences, when the project changed after the build', async () => {
    const playbook = join(root, 'playbooks', 'c2-open-case.yaml');
    const action = join(root, 'actions', 'open-case.mjs');
    await writeFile(playbook, C2_PLAYBOOK.replace('table: incidents', 'table: cases'));
    await writeFile(join(root, 'playbooks', 'extra.yaml'), C2_PLAYBOOK.replace('c2-open-case', 'extra'));
    await writeFile(action, OPEN_CASE_ACTION.replace('an open case', 'a case'));
    try {
      // A fresh process, as every riposte command is: this one has imported the action already.
      const {
        status: code,
        stdout: out,
        stderr,
      } = spawnSync(process.execPath, [BIN, 'template'], {
        cwd: root,
        encoding: 'utf8',
      });
      const err = stderr.trimEnd();

      expect(code).toBe(EXIT.failed);
      expect(out).toBe('');
      expect(err.split('\n')).toEqual([
        "refused: the function built in dist/riposte is not the project's; run riposte build",
        '  ~ playbook "c2-open-case": changed since the build',
        '  + playbook "extra": in the project, not in the built function',
        '  ~ action "open-case": changed since the build',
        '  ~ source actions/open-case.mjs: changed since the build',
      ]);
    } finally {
      await writeFile(playbook, C2_PLAYBOOK);
      await writeFile(action, OPEN_CASE_ACTION);
      await rm(join(root, 'playbooks', 'extra.yaml'));
    }
  });

  it('refuses when there is no build', async () => {
    const fresh = await scaffold(PROJECT_CONFIG);

    const { code, err } = await run(fresh, 'template');

    expect(code).toBe(EXIT.failed);
    expect(err).toMatch(
      /^refused: the function built in dist\/riposte is not the project's; run riposte build\n {2}no readable manifest\.json/,
    );
  });

  it('fails the build at file:line:col when a playbook is invalid', async () => {
    const broken = await scaffold(PROJECT_CONFIG);
    await writeFile(
      join(broken, 'playbooks', 'c2-open-case.yaml'),
      C2_PLAYBOOK.replace('table: incidents', 'table: "no"'),
    );

    const { code, err } = await run(broken, 'build');

    expect(code).toBe(EXIT.failed);
    expect(err).toMatch(/playbooks\/c2-open-case\.yaml:7:14 \/actions\/0\/params\/table must match pattern/);
  });
});
