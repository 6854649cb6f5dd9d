/**
 * What a new user does, from an empty folder: install the packed packages with npm, `riposte init`,
 * add a playbook that uses the project's own custom action, validate, test, build, template, and
 * run the built function on that playbook's finding. Nothing here reads this repository at run time:
 * the project sees only the tarballs, what npm installs and what the test writes into it.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { FindingResult, InvocationResult } from '../../packages/lambda-adapter/src/index.js';
import { runBundle } from '../../packages/lambda-adapter/tests/helpers/bundle-runner.js';
import { holdFindings, startFakeAws } from '../fake-aws/index.js';
import { packWorkspace, ROOT, type Run, run } from '../packages.js';

// A real-shaped Discovery:S3/TorIPCaller finding (rules/findings/SOURCES.md): no shipped playbook acts
// on it, so only the user's playbook matches.
const FINDING = join(ROOT, 'rules', 'findings', 'discovery-s3-toripcaller.json');

const PLAYBOOK = `name: archive-tor-discovery
description: Keep the evidence of S3 discovery from Tor exit nodes, then tell the team.
match:
  types: ["Discovery:S3/TorIPCaller"]
actions:
  - action: archive-finding
    params:
      bucket: acme-security-evidence
      prefix: tor/
  - action: notify
`;

const CASES = `- name: archives a Tor discovery finding, then notifies
  finding: findings/discovery-s3-toripcaller.json
  expect:
    playbooks: [archive-tor-discovery]
    steps:
      - { action: archive-finding, status: planned }
      - { action: notify, status: planned }
`;

const TOPIC = 'arn:aws:sns:us-east-2:973743533182:security-alerts';

let project: string;
const npm = (...args: string[]): Promise<Run> =>
  run('npm', ['--no-audit', '--no-fund', ...args], project, 300_000);
const riposte = (...args: string[]): Promise<Run> =>
  run(process.execPath, [join(project, 'node_modules', '.bin', 'riposte'), ...args], project, 120_000);
const expectSuccess = (result: Run) =>
  expect(result, `${result.stdout}\n${result.stderr}`).toMatchObject({ code: 0 });

beforeAll(async () => {
  const { tarballs } = await packWorkspace();
  project = await mkdtemp(join(tmpdir(), 'riposte-new-user-'));
  const packages = [
    '@riposte/cli',
    '@riposte/rules',
    '@riposte/core',
    '@riposte/actions',
    '@riposte/lambda-adapter',
  ];
  expectSuccess(await npm('install', ...packages.map((name) => tarballs[name]!)));
}, 600_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('a new user, from an empty folder', () => {
  it('scaffolds a project with riposte init', async () => {
    const init = await riposte('init');

    expectSuccess(init);
    expect(init.stdout).toContain('created riposte.config.mjs');
    const scripts = (JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as { scripts: object })
      .scripts;
    expect(Object.keys(scripts).sort()).toEqual(['build', 'template', 'test', 'validate']);
    expectSuccess(await npm('install'));
  }, 300_000);

  it('adds a playbook that uses its own custom action, and validates and tests it', async () => {
    await writeFile(join(project, 'playbooks', 'archive-tor-discovery.yaml'), PLAYBOOK);
    await writeFile(join(project, 'playbooks', 'archive-tor-discovery.cases.yaml'), CASES);
    await copyFile(FINDING, join(project, 'playbooks', 'findings', 'discovery-s3-toripcaller.json'));

    const validate = await npm('run', 'validate');
    const test = await npm('test');

    // The shipped rules (one playbook per file), the scaffold's playbook and the one added here.
    const shipped = (await readdir(join(ROOT, 'rules'))).filter(
      (name) => name.endsWith('.yaml') && !name.endsWith('.cases.yaml'),
    ).length;
    expectSuccess(validate);
    expect(validate.stdout).toContain(
      `${shipped + 2} files, ${shipped + 2} playbooks, 1 custom action: 0 errors, 0 warnings`,
    );
    expectSuccess(test);
    expect(test.stdout).toContain('archives a Tor discovery finding, then notifies');
    expect(test.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(test.stdout).toMatch(/# fail 0/);
  }, 300_000);

  it('builds the function and prints a template for it', async () => {
    const build = await npm('run', 'build');
    const template = await npm('run', 'template');

    expectSuccess(build);
    expectSuccess(template);
    const parsed = parse(await readFile(join(project, 'template.yaml'), 'utf8')) as {
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    expect(parsed.Resources.RiposteFunction!.Properties.Code).toBe('dist/riposte/function.zip');
    // The custom action's grant, in one of the role's managed policies: writes under its prefix of its
    // bucket, nowhere else.
    const permissions = Object.entries(parsed.Resources).filter(([id]) =>
      id.startsWith('RipostePermissions'),
    );
    expect(permissions.length).toBeGreaterThan(0);
    expect(JSON.stringify(permissions)).toContain('acme-security-evidence/tor/*');
    const manifest = JSON.parse(
      await readFile(join(project, 'dist', 'riposte', 'manifest.json'), 'utf8'),
    ) as {
      playbooks: Array<{ name: string }>;
      actions: Array<{ name: string; origin: string }>;
    };
    expect(manifest.playbooks.map((playbook) => playbook.name)).toContain('archive-tor-discovery');
    expect(manifest.actions).toContainEqual(
      expect.objectContaining({ name: 'archive-finding', origin: 'custom' }),
    );
  }, 300_000);

  it("handles the playbook's finding in dry-run with the built handler.mjs", async () => {
    const finding = JSON.parse(await readFile(FINDING, 'utf8')) as { accountId: string; region: string };
    const fake = await startFakeAws({
      seed: {
        accountId: finding.accountId,
        region: finding.region,
        callerArn: `arn:aws:sts::${finding.accountId}:assumed-role/riposte-RiposteRole-1A2B3C/riposte`,
        topics: [TOPIC],
      },
    });
    try {
      holdFindings(fake.state, [finding]);
      const event = {
        version: '0',
        id: '7bf73129-1428-4cd3-a780-95db273d1602',
        'detail-type': 'GuardDuty Finding',
        source: 'aws.guardduty',
        account: finding.accountId,
        time: new Date().toISOString(),
        region: finding.region,
        resources: [],
        detail: finding,
      };

      const { initError, results, stderr } = await runBundle(
        { ...fake.env(), RIPOSTE_MODE: 'dry-run', RIPOSTE_SNS_TOPIC_ARN: TOPIC },
        [
          {
            event,
            context: {
              invokedFunctionArn: `arn:aws:lambda:${finding.region}:${finding.accountId}:function:riposte`,
              awsRequestId: '0f6e2c1a-0000-4000-8000-000000000001',
            },
          },
        ],
        join(project, 'dist', 'riposte', 'handler.mjs'),
      );

      expect(initError, stderr).toBeUndefined();
      const [outcome] = results;
      const result = outcome?.ok ? (outcome.response as InvocationResult).results[0] : undefined;
      expect(result).toMatchObject<Partial<FindingResult>>({
        mode: 'dry-run',
        matched: ['archive-tor-discovery'],
      });
      expect(result!.steps.map((step) => [step.action, step.status])).toEqual([
        ['archive-finding', 'dry-run'],
        ['notify', 'dry-run'],
      ]);
      expect(fake.mutatingCalls()).toEqual([]);
    } finally {
      await fake.close();
    }
  }, 120_000);
});
