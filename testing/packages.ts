import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Every package this repository publishes, and its directory in the checkout. */
export const PUBLISHABLE_PACKAGES: Readonly<Record<string, string>> = {
  '@riposte/core': 'packages/core',
  '@riposte/actions': 'packages/actions',
  '@riposte/lambda-adapter': 'packages/lambda-adapter',
  '@riposte/cli': 'packages/cli',
  '@riposte/rules': 'rules',
  '@riposte/cdk': 'packages/cdk',
};

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command and captures its output; never throws for a non-zero exit. The `npm_config_*` variables
 * that an enclosing `npm test` or `pnpm run` sets are left out: they point npm at the workspace root
 * (`npm_config_local_prefix`) and carry settings npm warns about as unknown.
 */
export const run = (command: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<Run> =>
  new Promise((settle) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')),
    );
    execFile(
      command,
      args,
      { cwd, env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        const reason = error && typeof error.code !== 'number' ? `\n${error.message}` : '';
        settle({ code, stdout, stderr: stderr + reason });
      },
    );
  });

export interface PackedWorkspace {
  /** The temporary directory that holds the tarballs; removed when the process exits. */
  directory: string;
  /** The path of each package's tarball, by package name. */
  tarballs: Record<string, string>;
}

let packed: Promise<PackedWorkspace> | undefined;

const pack = async (): Promise<PackedWorkspace> => {
  const directory = await mkdtemp(join(tmpdir(), 'riposte-pack-'));
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  const tarballs: Record<string, string> = {};
  // One at a time: the packs share the workspace and npx's cache, and each takes about a second.
  for (const [name, path] of Object.entries(PUBLISHABLE_PACKAGES)) {
    const args = ['--yes', 'pnpm@12.4.2', 'pack', '--pack-destination', directory, '--json'];
    const { code, stdout, stderr } = await run('npx', args, join(ROOT, path), 120_000);
    const output = `npx ${args.join(' ')} in ${path} exited with ${code}:\n${stdout}\n${stderr}`;
    if (code !== 0) throw new Error(output);
    let filename: unknown;
    try {
      filename = (JSON.parse(stdout) as { filename?: unknown }).filename;
    } catch (cause) {
      throw new Error(`pnpm pack printed no JSON for ${name}: ${output}`, { cause });
    }
    if (typeof filename !== 'string') throw new Error(`pnpm pack named no tarball for ${name}: ${output}`);
    tarballs[name] = resolve(directory, filename);
  }
  return { directory, tarballs };
};

/**
 * Packs every publishable package the way a release does (`pnpm pack`, which rewrites `workspace:*` to
 * versions), once per process. Packs what is on disk: build first (`pnpm build`).
 */
export const packWorkspace = (): Promise<PackedWorkspace> => {
  packed ??= pack();
  return packed;
};
