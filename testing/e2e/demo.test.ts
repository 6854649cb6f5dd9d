/**
 * `npm run demo` (scripts/demo.mjs): the plan is what a new user reads, not pages of install and build
 * output, yet a failed install or build still shows everything it printed. The install and the build
 * run through `npx`; here a stand-in `npx` first on PATH prints as much as pnpm and tsc would and exits
 * as told, while the plan itself runs for real on this checkout's build.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../packages.js';

const NOISE = Array.from({ length: 25 }, (_, index) => `progress: resolved ${index + 1}, reused ${index}`);

let bin: string;

beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), 'riposte-demo-'));
  // Fails the step named by DEMO_FAIL (install, or run for the build), after printing its noise.
  await writeFile(
    join(bin, 'npx'),
    [
      '#!/bin/sh',
      ...NOISE.map((line) => `echo "${line}"`),
      'echo "npx $*" >&2',
      'case " $* " in *" $DEMO_FAIL "*) exit 3;; esac',
      'exit 0',
      '',
    ].join('\n'),
  );
  await chmod(join(bin, 'npx'), 0o755);
});

afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
});

const demo = (fail?: 'install' | 'run') =>
  new Promise<{ code: number; stdout: string; stderr: string }>((settle) => {
    execFile(
      process.execPath,
      [join(ROOT, 'scripts', 'demo.mjs')],
      {
        cwd: ROOT,
        env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, DEMO_FAIL: fail ?? 'none' },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        settle({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });

describe('npm run demo', () => {
  it('prints one line per step, then the plan of the canonical scenario', async () => {
    const { code, stdout, stderr } = await demo();

    expect(code).toBe(0);
    expect(stderr.split('\n').slice(0, 2)).toEqual(['installing...', 'building...']);
    expect(`${stdout}${stderr}`).not.toContain('progress:');
    expect(stdout.split('\n')[0]).toBe('examples/scenario/findings/01-instance-credential-exfiltration.json');
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^4 findings, \d+ playbook matches, \d+ steps: /);
  });

  it.each([
    ['install', 'installing'],
    ['run', 'building'],
  ] as const)('shows all a failed %s printed, and stops there', async (step, what) => {
    const { code, stdout, stderr } = await demo(step);

    expect(code).toBe(1);
    expect(stderr).toContain(NOISE.join('\n'));
    expect(stderr).toContain(`npm run demo: ${what} failed (exit 3)`);
    expect(stdout).toBe('');
  });
});
