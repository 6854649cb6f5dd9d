import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HandlerResult } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const BUNDLE = join(ROOT, 'dist', 'riposte', 'handler.mjs');
const RUNNER = fileURLToPath(new URL('./invoke-bundle.mjs', import.meta.url));

const newestChange = (path: string): number => {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
};

/** Fails (never skips) when the bundle is missing or older than what it is built from. */
export const requireFreshBundle = (): void => {
  if (!existsSync(BUNDLE)) {
    throw new Error(
      `${BUNDLE} is missing: run \`pnpm build\` first (the root \`npm test\` builds before testing)`,
    );
  }
  const sources = ['core', 'actions', 'lambda-adapter', 'cli'].map((name) =>
    join(ROOT, 'packages', name, 'src'),
  );
  // The playbooks the bundle embeds: rules/*.yaml, not their cases or findings.
  const playbooks = readdirSync(join(ROOT, 'rules'))
    .filter((name) => /\.ya?ml$/.test(name) && !/\.cases\.ya?ml$/.test(name))
    .map((name) => join(ROOT, 'rules', name));
  const newest = Math.max(...[...sources, ...playbooks].map(newestChange));
  if (statSync(BUNDLE).mtimeMs < newest) {
    throw new Error(`${BUNDLE} is older than its sources or rules/: run \`pnpm build\` again`);
  }
};

export interface Invocation {
  event: unknown;
  context: { invokedFunctionArn: string; awsRequestId: string; remainingMs?: number };
}

export type InvocationOutcome =
  | { ok: true; response: HandlerResult }
  | { ok: false; error: { name?: string; code?: string; message: string } };

export interface BundleRun {
  initError?: { name?: string; code?: string; message: string };
  results: InvocationOutcome[];
  /** The function's log lines (JSON). */
  logs: Record<string, unknown>[];
  stderr: string;
}

/**
 * Runs a built bundle (default: this checkout's) in a child `node`, in one container: every event goes
 * to the same instance.
 */
export const runBundle = async (
  env: Record<string, string>,
  invocations: Invocation[],
  bundle: string = BUNDLE,
): Promise<BundleRun> => {
  const directory = await mkdtemp(join(tmpdir(), 'riposte-bundle-'));
  try {
    const input = join(directory, 'invocations.json');
    const output = join(directory, 'results.json');
    await writeFile(input, JSON.stringify(invocations));
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [RUNNER, bundle, input, output],
        {
          // Only what a Lambda container would have: never the developer's own AWS configuration.
          env: {
            ...env,
            AWS_CONFIG_FILE: join(directory, 'no-config'),
            AWS_SHARED_CREDENTIALS_FILE: join(directory, 'no-credentials'),
            NODE_NO_WARNINGS: '1',
          },
          maxBuffer: 64 * 1024 * 1024,
        },
        (_error, out, err) => resolve({ stdout: out, stderr: err }),
      );
    });
    const written = existsSync(output)
      ? (JSON.parse(await readFile(output, 'utf8')) as Pick<BundleRun, 'results' | 'initError'>)
      : { results: [] };
    const logs = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return {
      results: written.results ?? [],
      ...(written.initError ? { initError: written.initError } : {}),
      logs,
      stderr,
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
};
