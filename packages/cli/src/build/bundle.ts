import { mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ActionDefinition, Playbook } from '@riposte/core';
import { build, type Metafile } from 'esbuild';
import {
  generatedValidators,
  type PackageDirs,
  projectModules,
  pureSdkSchemas,
  withoutPinoTransports,
} from './plugins.js';
import { standaloneValidators } from './validators.js';

/**
 * The code a cold start loads before the first finding (`handler.mjs` and the chunks it imports
 * statically): over this, initialisation is slow enough to matter.
 */
export const INIT_BUDGET_BYTES = 1024 * 1024;

/** Where esbuild puts the chunks `handler.mjs` imports, beside it. */
const CHUNKS_DIR = 'chunks';

export interface BundleOptions {
  /** The project's compiled playbooks, embedded as they are. */
  playbooks: Playbook[];
  /** The configuration whose `actions` the function registers beside the built-ins. */
  configFile?: string;
  /** Every action the function registers (built-ins and the configuration's): their schemas' validators are generated now. */
  actions: readonly ActionDefinition<unknown, unknown>[];
  /** The project's root: the bundle's own sources are listed relative to it. */
  root: string;
  /** Where `handler.mjs` (and its license notices) are written. */
  outDir: string;
  /**
   * False keeps the code as written, with esbuild's `// path` comment before each module: what a CPU
   * profile needs to name the package behind each sample (`bench/profile.mjs`). Default true.
   */
  minify?: boolean;
}

export interface BundleResult {
  handlerFile: string;
  /** Every file written, by its path from the output directory: `handler.mjs`, its chunks and license notices. */
  files: Map<string, Buffer>;
  /** Bytes of `handler.mjs` and the chunks it imports statically: what initialisation loads. */
  initBytes: number;
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

/** `handler.mjs` and every chunk it imports statically, transitively: what initialisation loads. */
const initOutputs = (metafile: Metafile, outDir: string, root: string): string[] => {
  const entry = relative(root, join(outDir, 'handler.mjs')).split(sep).join('/');
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(entry);
  return [...seen];
};

/**
 * Bundles the Lambda handler: the adapter's entry, the built-in actions, the project's custom
 * actions (through its configuration) and its compiled playbooks, as ES modules for Node.js 22.
 * `handler.mjs` holds what initialisation needs; each AWS service's client, the YAML loader for
 * `RIPOSTE_PLAYBOOKS` and the rest are chunks beside it, loaded on first use.
 */
export const bundleFunction = async (options: BundleOptions): Promise<BundleResult> => {
  const dirs = await packageDirs();
  const handlerFile = join(options.outDir, 'handler.mjs');
  await mkdir(options.outDir, { recursive: true });
  await rm(join(options.outDir, CHUNKS_DIR), { recursive: true, force: true });
  await rm(`${handlerFile}.LEGAL.txt`, { force: true });
  const result = await build({
    entryPoints: { handler: join(dirs.adapter, 'dist', 'lambda.js') },
    outdir: options.outDir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: `${CHUNKS_DIR}/[name]-[hash]`,
    absWorkingDir: options.root,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The SDK's ES module builds, so unused commands and shapes are tree-shaken away.
    mainFields: ['module', 'main'],
    // Not esbuild's keepNames (it adds about 7% to init): the errors Lambda reports keep their names
    // through their own `errorName` (see RiposteError).
    minify: options.minify ?? true,
    legalComments: 'external',
    metafile: true,
    logLevel: 'silent',
    // CommonJS dependencies (pino, ajv's runtime) require Node built-ins, which an ES module must be given.
    banner: {
      js: "import { createRequire as __riposteCreateRequire } from 'node:module'; const require = __riposteCreateRequire(import.meta.url);",
    },
    plugins: [
      projectModules(dirs, JSON.stringify(options.playbooks), options.configFile),
      generatedValidators(
        dirs,
        standaloneValidators(options.actions, join(dirs.actions, 'dist', 'schema-fingerprint.js')),
      ),
      withoutPinoTransports,
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
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  const largest = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, bytes]) => ({ name, bytes }));
  const written = Object.keys(result.metafile.outputs).map((path) => resolve(options.root, path));
  const legal = `${handlerFile}.LEGAL.txt`;
  const files = new Map<string, Buffer>();
  for (const path of [...written, legal].sort()) {
    const content = await readFile(path).catch(() => undefined);
    if (content) files.set(relative(options.outDir, path).split(sep).join('/'), content);
  }
  const initBytes = initOutputs(result.metafile, options.outDir, options.root).reduce(
    (total, path) => total + (result.metafile.outputs[path]?.bytes ?? 0),
    0,
  );
  return { handlerFile, files, initBytes, sources, largest };
};
