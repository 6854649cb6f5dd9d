// Runs the reliability suite (vitest) and collects the counts each test records.
// Usage alone: node bench/reliability-counts.mjs (prints them as JSON).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log, ROOT } from './lib/common.mjs';

export const RELIABILITY_DIRS = [
  'packages/core/tests/reliability',
  'packages/lambda-adapter/tests/reliability',
];

export const runReliability = async () => {
  const directory = mkdtempSync(join(tmpdir(), 'riposte-reliability-'));
  const file = join(directory, 'counts.jsonl');
  try {
    const started = performance.now();
    const { code, output } = await new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...RELIABILITY_DIRS],
        {
          cwd: ROOT,
          env: { ...process.env, RIPOSTE_RELIABILITY_COUNTS: file },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let text = '';
      child.stdout.on('data', (chunk) => {
        text += chunk;
      });
      child.stderr.on('data', (chunk) => {
        text += chunk;
      });
      child.on('close', (exit) => resolve({ code: exit, output: text }));
    });
    const seconds = (performance.now() - started) / 1000;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal colours vitest prints.
    const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
    const tests = /Tests\s+(.*)/.exec(plain)?.[1]?.trim() ?? 'unknown';
    let counts = [];
    try {
      counts = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    } catch {
      counts = [];
    }
    log(
      `reliability: ${tests} in ${seconds.toFixed(0)} s (exit ${code}), ${counts.length} tests recorded counts`,
    );
    return { passed: code === 0, tests, seconds, counts };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runReliability(), null, 2));
}
