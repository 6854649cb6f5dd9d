// Helpers every benchmark shares: paths, the built packages, a seeded random source, statistics.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const path = (relative) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

/** The built packages (`pnpm build` writes them): the bench measures what ships. */
export const core = () => import(pathToFileURL(path('packages/core/dist/index.js')).href);
export const actions = () => import(pathToFileURL(path('packages/actions/dist/index.js')).href);

/** A dependency of a workspace package (json-rules-engine lives under packages/core). */
export const requireFrom = (pkg) => createRequire(path(`packages/${pkg}/package.json`));

/** testing/fake-aws is TypeScript and not a package: tsx loads it. */
export const fakeAws = async () => {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(pathToFileURL(path('testing/fake-aws/index.ts')).href, import.meta.url);
};

/**
 * The environment of a Lambda container run against fake-aws: the endpoint and dummy keys, never the
 * developer's own AWS configuration, and `extra` (the function's settings).
 */
export const containerEnv = (fake, directory, extra = {}) => ({
  PATH: process.env.PATH,
  HOME: directory,
  ...fake.env(),
  AWS_CONFIG_FILE: join(directory, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(directory, 'no-credentials'),
  ...extra,
});

/** Runs a command to its exit, collecting its output; wall time from spawn to exit, as the parent sees it. */
export const timed = (command, args, env) =>
  new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, wallMs: performance.now() - started, stdout, stderr }));
  });

/** mulberry32: the same playbooks and inputs on every run. */
export const seededRandom = (seed) => {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (p) => next() < p,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    some: (list, count) => {
      const copy = [...list];
      const picked = [];
      while (picked.length < count && copy.length > 0)
        picked.push(copy.splice(Math.floor(next() * copy.length), 1)[0]);
      return picked;
    },
  };
};

/** The p-th percentile (0..100) of already sorted numbers, nearest rank. */
export const percentile = (sorted, p) => {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
};

export const median = (values) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

export const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** Microseconds with a sensible number of digits. */
export const micros = (ms) => {
  const us = ms * 1000;
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2);
};

export const log = (...parts) => console.log('[bench]', ...parts);
