import { mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Playbook } from '@riposte/core';
import { build } from 'esbuild';
import {
  type PackageDirs,
  projectModules,
  pureSdkSchemas,
  staticSdkModules,
  withoutPinoTransports,
} from './plugins.js';

/** The bundle Lambda loads: over this, a cold start is slow enough to matter. */
export const BUNDLE_BUDGET_BYTES = 1.5 * 1024 * 1024;

export interface BundleOptions {
  /** The project's compiled playbooks, embedded as they are. */
  playbooks: Playbook[];
  /** The configuration whose `actions` the function registers beside the built-ins. */
  configFile?: string;
  /** The project's root: the bundle's own sources are listed relative to it. */
  root: string;
  /** Where `handler.mjs` (and its license notices) are written. */
  outDir: string;
}

export interface BundleResult {
  handlerFile: string;
  code: Buffer;
  /** Third-party license notices of the bundled code (esbuild's `legalComments: 'external'`). */
  legal?: Buffer;
  /** The project's own files that went into the bundle (not installed packages), from its root. */
  sources: string[];
  /** Bytes in the bundle per package, largest first. */
  largest: Array<{ name: string; bytes: number }>;
}

/** The installed adapter and actions packages, as this CLI resolves them. */
export const packageDirs = async (): Promise<PackageDirs> => {
  const require = createRequire(import.meta.url);
  const adapter = await realpath(dirname(require.resolve('@riposte/lambda-adapter/package.json')));
  const actions = await realpath(
    dirname(createRequire(join(adapter, 'package.json')).resolve('@riposte/actions/package.json')),
  );
  return { adapter, actions };
};

const packageOf = (path: string): string => {
  const match = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(path);
  return match ? match[1]! : path.includes('packages/') ? 'riposte' : path;
};

/**
 * Bundles the Lambda handler: the adapter's entry, the built-in actions, the project's custom
 * actions (through its configuration) and its compiled playbooks, in one ESM file for Node.js 22.
 */
export const bundleFunction = async (options: BundleOptions): Promise<BundleResult> => {
  const dirs = await packageDirs();
  const handlerFile = join(options.outDir, 'handler.mjs');
  const legalFile = `${handlerFile}.LEGAL.txt`;
  await mkdir(options.outDir, { recursive: true });
  await rm(legalFile, { force: true });
  const result = await build({
    entryPoints: [join(dirs.adapter, 'dist', 'lambda.js')],
    outfile: handlerFile,
    absWorkingDir: options.root,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The SDK's ES module builds, so unused commands and shapes are tree-shaken away.
    mainFields: ['module', 'main'],
    minify: true,
    legalComments: 'external',
    metafile: true,
    logLevel: 'silent',
    // CommonJS dependencies (pino) require Node built-ins, which an ES module must be given.
    banner: {
      js: "import { createRequire as __riposteCreateRequire } from 'node:module'; const require = __riposteCreateRequire(import.meta.url);",
    },
    plugins: [
      projectModules(dirs, JSON.stringify(options.playbooks), options.configFile),
      withoutPinoTransports,
      staticSdkModules(dirs),
      pureSdkSchemas,
    ],
  });
  const sources = Object.keys(result.metafile.inputs)
    .filter((input) => !input.includes(':') && !input.split(/[\\/]/).includes('node_modules'))
    .map((input) => resolve(options.root, input))
    .filter((path) => path.startsWith(options.root + sep))
    .map((path) => relative(options.root, path).split(sep).join('/'))
    .sort();
  const byPackage = new Map<string, number>();
  const output = Object.values(result.metafile.outputs).find((candidate) => candidate.entryPoint);
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(path);
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  const largest = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, bytes]) => ({ name, bytes }));
  const code = await readFile(handlerFile);
  const legal = await readFile(legalFile).catch(() => undefined);
  return { handlerFile, code, ...(legal ? { legal } : {}), sources, largest };
};
