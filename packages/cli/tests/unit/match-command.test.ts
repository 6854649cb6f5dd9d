import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMatch } from '../../src/commands/match.js';
import { EXIT } from '../../src/io.js';
import { recordingIO } from '../helpers/io.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** Sample 43 made real-shaped (rules/findings/SOURCES.md): CTID maps its type to 13 techniques. */
const S3_EXFILTRATION = join(ROOT, 'rules/findings/exfiltration-s3-maliciousipcaller-iam-user.json');

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-match-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Writes one notify-only playbook matching on `match` (YAML lines) and runs `match --explain` over it. */
const matchWith = async (name: string, match: string[]) => {
  await writeFile(
    join(directory, `${name}.yaml`),
    [
      `name: ${name}`,
      'match:',
      ...match.map((line) => `  ${line}`),
      'actions:',
      '  - action: notify',
      '',
    ].join('\n'),
  );
  const { io, out } = recordingIO(directory);
  const code = await runMatch(['--finding', S3_EXFILTRATION, '--playbooks', directory, '--explain'], io);
  return { code, lines: out.join('\n').split('\n') };
};

describe('riposte match: primary and related techniques', () => {
  it('does not match a technique the mapping only relates to the type, and says how to take it', async () => {
    // Act
    const { code, lines } = await matchWith('cloud-logs', ['techniques: [T1562.008]']);

    // Assert
    expect(code).toBe(EXIT.ok);
    expect(lines).toContain(
      '  no match  cloud-logs: techniques: primary techniques T1020, T1567, T1567.001, T1567.002, T1567.003, ' +
        'T1567.004 match none of T1562.008; related T1562.008 would match with relatedTechniques: true',
    );
  });

  it('matches it with relatedTechniques: true and shows it matched as related', async () => {
    // Act
    const { lines } = await matchWith('cloud-logs', ['techniques: [T1562.008]', 'relatedTechniques: true']);

    // Assert
    expect(lines).toContain('  matches cloud-logs');
    expect(lines).toContain('    techniques: T1562.008 matched T1562.008 (related)');
  });

  it('shows a primary technique as primary', async () => {
    // Act
    const { lines } = await matchWith('web-exfiltration', [
      'techniques: [T1567.002]',
      'tactics: [Exfiltration]',
    ]);

    // Assert
    expect(lines).toContain('  matches web-exfiltration');
    expect(lines).toContain('    techniques: T1567.002 matched T1567.002 (primary)');
    expect(lines).toContain('    tactics: TA0010 Exfiltration (primary)');
  });
});

describe('riposte match: summary', () => {
  it('ends its text output with the number of findings and playbook matches', async () => {
    // Act: the second run sees both playbooks, of which only web-exfiltration matches.
    const none = await matchWith('cloud-logs', ['techniques: [T1562.008]']);
    const one = await matchWith('web-exfiltration', ['techniques: [T1567]']);

    // Assert
    expect(none.lines.at(-1)).toBe('1 finding, 0 playbook matches');
    expect(one.lines.at(-1)).toBe('1 finding, 1 playbook match');
  });

  it('counts every finding of a directory and every match, and prints no summary with --json', async () => {
    // Arrange
    const { io, out } = recordingIO(ROOT);
    const json = recordingIO(ROOT);
    const args = ['--finding', 'examples/scenario/findings', '--playbooks', 'rules'];

    // Act
    await runMatch(args, io);
    await runMatch([...args, '--json'], json.io);

    // Assert
    const results = JSON.parse(json.out.join('\n')) as { matches: unknown[] }[];
    const matches = results.reduce((sum, result) => sum + result.matches.length, 0);
    expect(out.at(-1)).toBe(`${results.length} findings, ${matches} playbook matches`);
    expect(results.length).toBeGreaterThan(1);
    expect(json.out.join('\n')).not.toMatch(/playbook match(es)?$/);
  });
});
