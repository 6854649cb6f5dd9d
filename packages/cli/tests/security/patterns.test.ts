import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';
import { offlineScratch } from '../helpers/offline.js';

/**
 * Playbooks and findings are both inputs the CLI and the function compile or match: a type pattern
 * must not make matching a hostile type expensive (the regular expressions patterns once compiled to
 * took seconds on a 256-character type), a type longer than any GuardDuty type is refused, and a
 * playbook that would send findings over plain HTTP fails validation where it is written.
 */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MATCH_TYPES = fileURLToPath(new URL('./helpers/match-types.ts', import.meta.url));
const SCENARIO_FINDING = 'examples/scenario/findings/01-instance-credential-exfiltration.json';
const HOSTILE_PATTERN = 'Backdoor:EC2/*.*.*.*.*.*Z';
/** The longest finding type Riposte accepts (GuardDuty's longest are under 100 characters). */
const MAX_TYPE = 256;

const run = async (argv: string[]) => {
  const { io, out, err } = recordingIO(ROOT);
  const started = performance.now();
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n'), ms: performance.now() - started };
};

/** Matches in a child process (helpers/match-types.ts), killed after `timeoutMs`: a backtracking matcher fails, never hangs. */
const matchInChild = (cases: [string, string][], timeoutMs = 15_000) =>
  new Promise<{ verdict: boolean; ms: number }[]>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MATCH_TYPES, JSON.stringify(cases)],
      { cwd: ROOT, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`matching did not finish within ${timeoutMs} ms: ${error.message} ${stderr}`));
        else resolve(JSON.parse(stdout) as { verdict: boolean; ms: number }[]);
      },
    );
  });

/** `Backdoor:EC2/a` + dots + `:Z`: ends as the pattern ends, but no `*` may cross the `:`. */
const hostileType = (length: number): string => {
  const head = 'Backdoor:EC2/a';
  const tail = ':Z';
  return `${head}${'.'.repeat(length - head.length - tail.length)}${tail}`;
};

const playbook = (pattern: string, notify: string[] = []): string =>
  [
    'name: backdoor-lookalikes',
    'description: Flags Backdoor types with a long mechanism.',
    'match:',
    `  types: ["${pattern}"]`,
    'actions:',
    '  - action: notify',
    ...notify,
    '',
  ].join('\n');

const scratch = offlineScratch('riposte-cli-security-');

/** The scenario's finding with another type, written to the test directory. */
const findingWithType = async (type: string): Promise<string> => {
  const event = JSON.parse(readFileSync(join(ROOT, SCENARIO_FINDING), 'utf8')) as {
    detail: { type: string };
  };
  event.detail.type = type;
  const file = join(scratch(), 'finding.json');
  await writeFile(file, JSON.stringify(event, null, 2));
  return file;
};

// Set by the first test: running riposte match in this process with a backtracking matcher would
// block the test runner for hours, so the CLI test only runs once matching is known to be linear.
let matchingIsFast = false;

describe('type patterns against hostile types', () => {
  it(`matches ${HOSTILE_PATTERN} as its regular expression would, and ${MAX_TYPE}-character hostile types in well under a second`, async () => {
    // Arrange: types that end as the patterns end, so only the wildcards decide; `*` never crosses
    // `:` or `/`, `**` never crosses a line break.
    const dots = (count: number) => '.'.repeat(count);
    const hostile: [string, string][] = [
      [HOSTILE_PATTERN, hostileType(MAX_TYPE)],
      [HOSTILE_PATTERN, `Backdoor:EC2/${dots(MAX_TYPE - 13)}`],
      ['Backdoor:**.**.**.**.**.**Z', `Backdoor:EC2/a${dots(MAX_TYPE - 16)}\nZ`],
      ['**.*.**.*.**.*Z', `Backdoor:EC2/a${dots(MAX_TYPE - 16)}/Z`],
    ];
    expect(hostile.every(([, type]) => type.length === MAX_TYPE)).toBe(true);
    const ordinary: [string, string, boolean][] = [
      [HOSTILE_PATTERN, 'Backdoor:EC2/a.b.c.d.e.fZ', true],
      [HOSTILE_PATTERN, `Backdoor:EC2/${dots(240)}Z`, true],
      [HOSTILE_PATTERN, `Backdoor:EC2/a${dots(240)}\nZ`, true],
      [HOSTILE_PATTERN, 'Backdoor:EC2/a.b.c.d.eZ', false],
      [HOSTILE_PATTERN, 'Backdoor:EC2/a.b.c/d.e.fZ', false],
      [HOSTILE_PATTERN, 'Backdoor:EC2/a.b.c.d.e.f', false],
      ['Backdoor:**.**.**.**.**.**Z', 'Backdoor:EC2/a.b.c.d.e.fZ', true],
    ];

    // Act
    const answers = await matchInChild([
      ...hostile,
      ...ordinary.map(([pattern, type]) => [pattern, type] as [string, string]),
    ]);

    // Assert
    expect(answers.map((answer) => answer.verdict)).toEqual([
      ...hostile.map(() => false),
      ...ordinary.map(([, , verdict]) => verdict),
    ]);
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(1_000);
    matchingIsFast = true;
  });

  it(`riposte validate accepts a playbook with ${HOSTILE_PATTERN} at once, and riposte match answers a hostile type quickly`, async () => {
    // Arrange
    if (!matchingIsFast)
      expect.fail('not run: matching a hostile type is not known to be fast (see the test above)');
    const playbooks = join(scratch(), 'playbooks');
    await mkdir(playbooks);
    await writeFile(join(playbooks, 'backdoor-lookalikes.yaml'), playbook(HOSTILE_PATTERN));
    const finding = await findingWithType(hostileType(MAX_TYPE));

    // Act
    const validated = await run(['validate', playbooks]);
    const matched = await run(['match', '--finding', finding, '--playbooks', playbooks, '--json']);

    // Assert
    // It matches no GuardDuty type: a warning, found as quickly.
    expect(validated).toMatchObject({ code: EXIT.ok, out: '1 file, 1 playbook: 0 errors, 1 warning' });
    expect(validated.ms).toBeLessThan(2_000);
    expect(matched.code).toBe(EXIT.ok);
    expect([JSON.parse(matched.out)].flat()).toMatchObject([
      { findingType: hostileType(MAX_TYPE), matches: [] },
    ]);
    expect(matched.ms).toBeLessThan(2_000);
  });

  it(`refuses a finding type over ${MAX_TYPE} characters as FINDING_INVALID`, async () => {
    // Arrange
    const finding = await findingWithType(hostileType(MAX_TYPE + 1));

    // Act
    const { code, err, ms } = await run(['normalize', finding]);

    // Assert
    expect(code).toBe(EXIT.failed);
    expect(err).toContain('FINDING_INVALID');
    expect(err).toContain(`longer than ${MAX_TYPE} characters`);
    expect(ms).toBeLessThan(2_000);
  });
});

describe('notify destinations in playbooks', () => {
  it('fails riposte validate, at the line and column of the value, for a plain http:// webhookUrl', async () => {
    // Arrange: the URL starts on line 8, column 19.
    const file = join(scratch(), 'plain-http.yaml');
    await writeFile(
      file,
      playbook('Backdoor:EC2/*', [
        '    params:',
        '      webhookUrl: http://hooks.example.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX',
      ]),
    );

    // Act
    const { code, err } = await run(['validate', file]);

    // Assert
    expect(code).toBe(EXIT.failed);
    expect(err.split('\n')).toContainEqual(expect.stringMatching(/:8:19 \/actions\/0\/params\/webhookUrl /));
    expect(
      err
        .split('\n')
        .find((line) => line.includes('/webhookUrl'))
        ?.startsWith(`${file}:8:19 `),
    ).toBe(true);
    expect(err).not.toContain('XXXXXXXXXXXXXXXXXXXXXXXX');
  });
});
