import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCoverage } from '../../src/commands/coverage.js';
import { EXIT, UsageError } from '../../src/io.js';
import { recordingIO } from '../helpers/io.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-coverage-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('riposte coverage', () => {
  it('reports handled and unhandled finding types, techniques, tactics and playbooks for the shipped rules', async () => {
    const { io, out } = recordingIO(ROOT);

    const code = await runCoverage(['--playbooks', 'rules'], io);
    const lines = out.join('\n').split('\n');

    expect(code).toBe(EXIT.ok);
    expect(lines[0]).toMatch(
      /^Finding types handled: \d+ of 194 active GuardDuty types \(\d+%; catalog 221 types, 27 retired\)$/,
    );
    expect(lines).toContain('By resource type and severity');
    expect(lines).toContain('  - Discovery:S3/TorIPCaller');
    expect(lines[1]).toMatch(/^ {2}contained: \d+ \(\d+%; a playbook contains or revokes\)$/);
    expect(lines[2]).toMatch(
      /^ {2}notify only: \d+ \(\d+%; playbooks preserve evidence and tell people, nothing more\)$/,
    );
    expect(lines[3]).toMatch(/^Finding types with a real-shaped fixture: \d+ of 194$/);
    expect(lines.some((line) => /^Contained \(\d+\)$/.test(line))).toBe(true);
    expect(lines.some((line) => /^Notify only \(\d+\)$/.test(line))).toBe(true);
    expect(lines).toContain(
      '  ~ Policy:IAMUser/RootCredentialUsage: root-credential-usage (type Policy:IAMUser/RootCredentialUsage)',
    );
    expect(lines.some((line) => /^Without a real-shaped fixture \(\d+\)$/.test(line))).toBe(true);
    expect(lines).toContain(
      '  + Stealth:IAMUser/CloudTrailLoggingDisabled: cloudtrail-logging-disabled (technique T1562.008, primary; if resources)',
    );
    // The catch-all takes related techniques: S3 access logging is only related to Impact.
    expect(lines).toContain(
      '  + Stealth:S3/ServerAccessLoggingDisabled: cloudtrail-logging-disabled (technique T1562.008, primary; if resources); ' +
        'exfiltration-impact-catch-all (fallback) (notify only) (tactic TA0040, related)',
    );
    expect(
      lines.some((line) =>
        /^ATT&CK techniques covered: \d+ of 69 \(CTID GuardDuty mapping; \d+ more reached only as related\)$/.test(
          line,
        ),
      ),
    ).toBe(true);
    // T1530 is only ever related to a type: handling the S3 exfiltration types does not cover it.
    expect(
      lines.some((line) =>
        /^ {2}T1530 +Data from Cloud Storage Object +0 +no type about it, related \d+\/\d+$/.test(line),
      ),
    ).toBe(true);
    expect(
      lines.some((line) =>
        /^ {2}T1562\.008 +Disable Cloud Logs +100 +\d+\/\d+ types, related \d+\/\d+, named by cloudtrail-logging-disabled$/.test(
          line,
        ),
      ),
    ).toBe(true);
    expect(
      lines.some((line) =>
        /^ {2}\+ TA0010 +Exfiltration .*named by exfiltration-impact-catch-all$/.test(line),
      ),
    ).toBe(true);
    expect(
      lines.some((line) =>
        /^ {2}exfiltration-impact-catch-all +\d+ types +tactics TA0010, TA0040, related techniques too \[fallback, notify only\]$/.test(
          line,
        ),
      ),
    ).toBe(true);
  });

  it('prints the whole report as JSON', async () => {
    const { io, out } = recordingIO(ROOT);

    await runCoverage(['--playbooks', 'rules', '--json'], io);
    const coverage = JSON.parse(out.join('\n'));

    expect(coverage.summary.types).toBe(194);
    expect(coverage.summary.coveredTypes).toBeGreaterThan(0);
    expect(coverage.playbooks.map((playbook: { name: string }) => playbook.name)).toContain(
      's3-data-exfiltration',
    );
    expect(
      coverage.types.find((type: { type: string }) => type.type === 'Exfiltration:S3/MaliciousIPCaller')
        .handledBy[0],
    ).toMatchObject({ playbook: 's3-data-exfiltration', via: 'type', by: 'Exfiltration:S3/*' });
  });

  it('counts the shipped rules as containing with the built-in actions, and each type as contained, notify-only or none', async () => {
    const { io, out } = recordingIO(ROOT);

    await runCoverage(['--playbooks', 'rules', '--json'], io);
    const coverage = JSON.parse(out.join('\n'));
    const type = (name: string) => coverage.types.find((entry: { type: string }) => entry.type === name);
    const count = (response: string) =>
      coverage.types.filter((entry: { response: string }) => entry.response === response).length;

    expect(type('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS').response).toBe(
      'contain',
    );
    expect(type('Policy:IAMUser/RootCredentialUsage').response).toBe('notify-only');
    expect(coverage.summary.containedTypes).toBe(count('contain'));
    expect(coverage.summary.notifyOnlyTypes).toBe(count('notify-only'));
    expect(coverage.summary.containedTypes + coverage.summary.notifyOnlyTypes + count('none')).toBe(194);
  });

  it('contains every attack sequence type and at least 150 active types with the shipped rules', async () => {
    const { io, out } = recordingIO(ROOT);

    await runCoverage(['--playbooks', 'rules', '--json'], io);
    const coverage = JSON.parse(out.join('\n'));
    const sequences = coverage.types.filter((entry: { type: string }) =>
      entry.type.startsWith('AttackSequence:'),
    );

    expect(sequences).toHaveLength(5);
    expect(sequences.every((entry: { response: string }) => entry.response === 'contain')).toBe(true);
    expect(coverage.summary.containedTypes).toBeGreaterThanOrEqual(150);
  });

  it('finds fixtures in the cases beside the playbooks and in --fixtures, never in sample findings', async () => {
    const findings = join(ROOT, 'rules', 'findings');
    await mkdir(join(directory, 'findings'));
    await mkdir(join(directory, 'more', 'nested'), { recursive: true });
    await copyFile(
      join(findings, 'backdoor-ec2-c-cactivity-b.json'),
      join(directory, 'findings', 'backdoor.json'),
    );
    await copyFile(
      join(findings, 'samples', '46-unauthorizedaccess-iamuser-maliciousipcaller.json'),
      join(directory, 'findings', 'sample.json'),
    );
    await copyFile(
      join(findings, 'recon-ec2-portprobeunprotectedport.json'),
      join(directory, 'more', 'nested', 'probe.json'),
    );
    await writeFile(join(directory, 'more', 'not-a-finding.json'), '{"hello": "world"}\n');
    await writeFile(
      join(directory, 'isolate.yaml'),
      'name: isolate\nmatch:\n  types: [Backdoor:EC2/*]\nactions:\n  - action: isolate-instance\n',
    );
    await writeFile(
      join(directory, 'isolate.cases.yaml'),
      [
        '- name: isolates',
        '  finding: findings/backdoor.json',
        '  expect: { playbooks: [isolate] }',
        '- name: not a sample',
        '  finding: findings/sample.json',
        '  expect: { noMatch: true }',
        '',
      ].join('\n'),
    );
    const { io, out, err } = recordingIO(directory);

    await runCoverage(['--playbooks', 'isolate.yaml', '--fixtures', 'more', '--json'], io);
    const coverage = JSON.parse(out.join('\n'));
    const fixture = (name: string) =>
      coverage.types.find((entry: { type: string }) => entry.type === name).fixture;

    expect(fixture('Backdoor:EC2/C&CActivity.B')).toBe(true);
    expect(fixture('Recon:EC2/PortProbeUnprotectedPort')).toBe(true);
    expect(fixture('UnauthorizedAccess:IAMUser/MaliciousIPCaller')).toBe(false);
    expect(coverage.summary.typesWithFixture).toBe(2);
    expect(coverage.summary.typesWithoutFixture).toHaveLength(192);
    expect(coverage.summary.typesWithoutFixture).toContain('UnauthorizedAccess:IAMUser/MaliciousIPCaller');
    expect(coverage.summary).toMatchObject({ containedTypes: 8, notifyOnlyTypes: 0 });
    expect(err).toEqual(['more: 1 file(s) hold no GuardDuty finding; skipped']);
  });

  it('warns about a cases file that does not load, and goes on without it', async () => {
    await writeFile(
      join(directory, 'tell.yaml'),
      'name: tell\nmatch:\n  types: [Backdoor:EC2/*]\nactions:\n  - action: notify\n',
    );
    await writeFile(
      join(directory, 'tell.cases.yaml'),
      '- name: broken\n  finding: missing.json\n  expect: { noMatch: true }\n',
    );
    const { io, out, err } = recordingIO(directory);

    const code = await runCoverage(['--playbooks', '.', '--json'], io);
    const coverage = JSON.parse(out.join('\n'));

    expect(code).toBe(EXIT.ok);
    expect(coverage.summary).toMatchObject({ typesWithFixture: 0, containedTypes: 0, notifyOnlyTypes: 8 });
    expect(err).toEqual([
      'tell.cases.yaml: cases not read for fixtures (1 problem(s); riposte test lists them)',
    ]);
  });

  it('writes an ATT&CK Navigator layer scoring techniques by coverage', async () => {
    const { io, err } = recordingIO(directory);

    const code = await runCoverage(['--playbooks', join(ROOT, 'rules'), '--navigator', 'layer.json'], io);
    const layer = JSON.parse(await readFile(join(directory, 'layer.json'), 'utf8'));

    expect(code).toBe(EXIT.ok);
    expect(err).toEqual(['wrote ATT&CK Navigator layer to layer.json']);
    expect(layer).toMatchObject({ domain: 'enterprise-attack', versions: { layer: '4.5' } });
    expect(
      layer.techniques.find((technique: { techniqueID: string }) => technique.techniqueID === 'T1562.008'),
    ).toMatchObject({
      score: 100,
      enabled: true,
    });
    expect(layer.gradient).toEqual({ colors: ['#ff6666', '#ffe766', '#8ec843'], minValue: 0, maxValue: 100 });
  });

  it('colours techniques the playbooks contain apart from those they only notify about', async () => {
    const { io } = recordingIO(directory);

    await runCoverage(['--playbooks', join(ROOT, 'rules'), '--navigator', 'layer.json'], io);
    const layer = JSON.parse(await readFile(join(directory, 'layer.json'), 'utf8'));
    const technique = (id: string) =>
      layer.techniques.find((entry: { techniqueID: string }) => entry.techniqueID === id);
    const colours = new Set(
      layer.techniques.flatMap((entry: { color?: string }) => (entry.color ? [entry.color] : [])),
    );

    expect(technique('T1562.008').color).toBe('#8ec843');
    // Grey: reached only through types the technique is related to (T1530 through the S3 types).
    expect(technique('T1530').color).toBe('#bfbfbf');
    expect(colours).toEqual(new Set(['#8ec843', '#66b1ff', '#bfbfbf']));
    expect(layer.legendItems.map((item: { color: string }) => item.color)).toEqual([
      '#ff6666',
      '#66b1ff',
      '#8ec843',
      '#bfbfbf',
    ]);
  });

  it('flags a playbook pattern that matches no GuardDuty finding type', async () => {
    await writeFile(
      join(directory, 'typo.yaml'),
      'name: typo\nmatch:\n  types: [Exfiltration:S3/MalicousIPCaller]\nactions:\n  - action: notify\n',
    );
    const { io, out } = recordingIO(directory);

    await runCoverage(['--playbooks', '.'], io);

    expect(out.join('\n')).toContain(
      '! pattern Exfiltration:S3/MalicousIPCaller matches no active GuardDuty finding type',
    );
    expect(out.join('\n')).toMatch(/^Finding types handled: 0 of 194 /);
  });

  it('refuses positional arguments and unknown options', async () => {
    const { io } = recordingIO(ROOT);

    await expect(runCoverage(['rules'], io)).rejects.toBeInstanceOf(UsageError);
    await expect(runCoverage(['--layer', 'x.json'], io)).rejects.toBeInstanceOf(UsageError);
  });
});
