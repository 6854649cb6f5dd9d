import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
    expect(lines).toContain(
      '  + Policy:IAMUser/RootCredentialUsage: root-credential-usage (type Policy:IAMUser/RootCredentialUsage)',
    );
    expect(lines).toContain(
      '  + Stealth:IAMUser/CloudTrailLoggingDisabled: cloudtrail-logging-disabled (technique T1562.008; if resources)',
    );
    expect(
      lines.some((line) =>
        /^ {2}T1562\.008 +Disable Cloud Logs +100 +\d+\/\d+ types, named by cloudtrail-logging-disabled$/.test(
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
        /^ {2}exfiltration-impact-catch-all +\d+ types +tactics TA0010, TA0040 \[fallback\]$/.test(line),
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
