import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCases } from '@riposte/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTest } from '../../src/commands/test.js';
import { EXIT, UsageError } from '../../src/io.js';
import { recordingIO } from '../helpers/io.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const RULES = join(ROOT, 'rules');

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-test-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('riposte test on the shipped rules', () => {
  it('passes every case of rules/ and ends with the counts alone on the last line', async () => {
    const { io, out } = recordingIO(ROOT);

    const code = await runTest([], io);
    const lines = out.join('\n').split('\n');
    const cases = (await loadCases([RULES])).flatMap((file) => file.cases);

    expect(code).toBe(EXIT.ok);
    expect(lines.at(-1)).toBe(`${cases.length} passed, 0 failed`);
    expect(lines).toContain('rules/ec2-instance-credential-exfiltration.cases.yaml');
    expect(lines).toContain('  ✓ does not match a GuardDuty sample finding');
  });

  it('gives every shipped playbook a cases file with hits, near-misses and a sample finding', async () => {
    const names = (await readdir(RULES))
      .filter((name) => name.endsWith('.yaml') && !name.endsWith('.cases.yaml'))
      .map((name) => name.replace(/\.yaml$/, ''));

    expect(names.length).toBeGreaterThanOrEqual(8);
    for (const name of names) {
      const [file] = await loadCases([join(RULES, `${name}.cases.yaml`)]);
      const cases = file?.cases ?? [];
      const hits = cases.filter((testCase) => testCase.expect.playbooks?.includes(name));
      const nearMisses = cases.filter(
        (testCase) =>
          testCase.expect.noMatch ||
          testCase.expect.notPlaybooks?.includes(name) ||
          (testCase.expect.playbooks !== undefined && !testCase.expect.playbooks.includes(name)),
      );
      const samples = cases.filter(
        (testCase) =>
          testCase.finding.sample &&
          testCase.expect.noMatch &&
          testCase.findingSource.startsWith('findings/samples/'),
      );

      expect({
        name,
        hits: hits.length > 0,
        nearMisses: nearMisses.length > 0,
        samples: samples.length,
      }).toEqual({
        name,
        hits: true,
        nearMisses: true,
        samples: 1,
      });
    }
  });

  it('plans offline even when credentials and an endpoint are configured', async () => {
    const requests: string[] = [];
    const server: Server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.stubEnv('AWS_ENDPOINT_URL', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    try {
      const { io } = recordingIO(ROOT);

      const code = await runTest(['rules/ec2-instance-credential-exfiltration.cases.yaml', '--json'], io);

      expect(code).toBe(EXIT.ok);
      expect(requests).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('riposte test on a broken case', () => {
  it('fails with exit 1, a cross and expected against actual', async () => {
    await cp(RULES, directory, { recursive: true });
    const file = join(directory, 's3-data-exfiltration.cases.yaml');
    const text = await readFile(file, 'utf8');
    const broken = text.replace(
      '{ action: deactivate-access-key, target: AKIAIOSFODNN7EXAMPLE, status: planned }',
      '{ action: deactivate-access-key, target: AKIAI44QH8DHBEXAMPLE, status: planned }',
    );
    expect(broken).not.toBe(text);
    await writeFile(file, broken);
    const total = (await loadCases([directory])).flatMap((caseFile) => caseFile.cases).length;
    const { io, out } = recordingIO(directory);

    const code = await runTest(['.'], io);
    const lines = out.join('\n').split('\n');

    expect(code).toBe(EXIT.failed);
    expect(lines).toContain(
      "  ✗ blocks the bucket and deactivates the IAM user's key on exfiltration from a malicious IP  s3-data-exfiltration.cases.yaml:2:3",
    );
    expect(lines).toContain('    steps: planned steps differ');
    expect(lines).toContain('      - *  deactivate-access-key  AKIAI44QH8DHBEXAMPLE  planned');
    expect(lines).toContain(
      '      + s3-data-exfiltration  deactivate-access-key  AKIAIOSFODNN7EXAMPLE  planned',
    );
    expect(lines.at(-1)).toBe(`${total - 1} passed, 1 failed`);
  });

  it('reports an invalid cases file with file:line:column and exits 1', async () => {
    await writeFile(
      join(directory, 'bad.cases.yaml'),
      '- name: typo\n  finding: f.json\n  expect:\n    playbook: [x]\n',
    );
    const { io, out, err } = recordingIO(directory);

    const code = await runTest(['.'], io);

    expect(code).toBe(EXIT.failed);
    expect(out).toEqual([]);
    expect(err).toEqual([
      'invalid cases: 1 problem(s)',
      'bad.cases.yaml:4:5 /0/expect has unknown key "playbook"',
    ]);
  });
});

describe('riposte test options', () => {
  it('prints machine-readable results with --json', async () => {
    const { io, out } = recordingIO(ROOT);

    const code = await runTest(['rules/root-credential-usage.cases.yaml', '--json'], io);
    const report = JSON.parse(out.join('\n'));

    expect(code).toBe(EXIT.ok);
    expect(report).toMatchObject({ passed: 5, failed: 0 });
    expect(report.files[0].file).toBe('rules/root-credential-usage.cases.yaml');
    expect(report.files[0].results[0]).toMatchObject({
      name: 'only notifies on root credential use',
      passed: true,
      failures: [],
      actual: { playbooks: ['root-credential-usage'] },
    });
    expect(report.files[0].results[0].actual.steps[0]).toMatchObject({ action: 'notify', status: 'planned' });
  });

  it('loads the playbooks --playbooks names instead of those next to the cases', async () => {
    const finding = join(RULES, 'findings', 'policy-iamuser-rootcredentialusage-1.json');
    await writeFile(
      join(directory, 'mine.cases.yaml'),
      `- name: root is only reported\n  finding: ${finding}\n  expect: { playbooks: [root-credential-usage] }\n`,
    );
    const { io, out } = recordingIO(directory);

    const code = await runTest(['mine.cases.yaml', '--playbooks', RULES], io);

    expect(code).toBe(EXIT.ok);
    expect(out.at(-1)).toBe('1 passed, 0 failed');
  });

  it('refuses an unknown option', async () => {
    const { io } = recordingIO(ROOT);

    await expect(runTest(['--bail'], io)).rejects.toBeInstanceOf(UsageError);
  });
});
