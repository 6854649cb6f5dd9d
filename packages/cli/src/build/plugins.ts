import { readdir, readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Plugin } from 'esbuild';

/** Where the built packages the function is made of are installed. */
export interface PackageDirs {
  adapter: string;
  actions: string;
}

/**
 * The adapter's two build-time modules, replaced: `bundled-playbooks` by the playbooks compiled by
 * the build (a cold start neither parses YAML nor validates the playbook schema), `custom-actions`
 * by the configuration's `actions`.
 */
export const projectModules = (
  dirs: PackageDirs,
  playbooksJson: string,
  configFile: string | undefined,
): Plugin => ({
  name: 'riposte-project',
  setup(build) {
    const distFile = (name: string) => join(dirs.adapter, 'dist', `${name}.js`);
    build.onLoad({ filter: /[\\/]bundled-playbooks\.js$/ }, (args) =>
      args.path === distFile('bundled-playbooks')
        ? {
            // A JSON string parses faster than the same object literal compiles.
            contents: `export const bundledPlaybooks = async () => JSON.parse(${JSON.stringify(playbooksJson)});`,
            loader: 'js',
          }
        : undefined,
    );
    build.onLoad({ filter: /[\\/]custom-actions\.js$/ }, (args) =>
      args.path === distFile('custom-actions')
        ? {
            contents: configFile
              ? `import config from ${JSON.stringify(configFile)};\nexport const customActions = () => config.actions ?? [];`
              : 'export const customActions = () => [];',
            loader: 'js',
          }
        : undefined,
    );
    // The configuration imports defineConfig from this CLI; the function needs nothing else of it.
    build.onResolve({ filter: /^@riposte\/cli$/ }, () => ({
      path: 'define-config',
      namespace: 'riposte-cli',
    }));
    build.onLoad({ filter: /.*/, namespace: 'riposte-cli' }, () => ({
      contents: 'export const defineConfig = (config) => config;',
      loader: 'js',
    }));
  },
});

/**
 * pino loads its transports (worker threads, thread-stream) eagerly; the function logs to stdout and
 * never uses them, so they stay out of the bundle.
 */
export const withoutPinoTransports: Plugin = {
  name: 'without-pino-transports',
  setup(build) {
    build.onResolve({ filter: /^\.\/(lib\/)?transport$/ }, (args) =>
      args.importer.includes(`${sep}pino${sep}`)
        ? { path: 'pino-transport', namespace: 'riposte-stub' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'riposte-stub' }, () => ({
      contents:
        'module.exports = function transport () { throw new Error("pino transports are not part of the Riposte bundle") }',
      loader: 'js',
    }));
  },
};

const jsFiles = async (directory: string): Promise<string[]> => {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await jsFiles(path)));
    else if (entry.name.endsWith('.js')) files.push(path);
  }
  return files;
};

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Adds the names of an import list to the client's set; false when one is not a plain name. */
const addNames = (names: Map<string, Set<string>>, client: string, list: string): boolean => {
  const set = names.get(client) ?? new Set<string>();
  for (const item of list.split(',')) {
    const name = item.trim().split(/\s*:\s*|\s+as\s+/)[0];
    if (!name || name.startsWith('type ')) continue;
    if (!IDENTIFIER.test(name)) return false;
    set.add(name);
  }
  names.set(client, set);
  return true;
};

/**
 * The SDK names the built-in actions take from each client. They load commands with
 * `await import(...)` (lazily, for a fast start when unbundled), which esbuild cannot tree-shake; a
 * client module reached that way is swapped for one re-exporting just these names. A client used in
 * a form not recognised here is bundled whole, so a missed name can cost size but never break the
 * function.
 */
const sdkNamesOf = async (actionsDist: string): Promise<Map<string, Set<string>>> => {
  const names = new Map<string, Set<string>>();
  const unrecognised = new Set<string>();
  for (const file of await jsFiles(actionsDist)) {
    const text = await readFile(file, 'utf8');
    const seen = new Map<string, number>();
    const count = (client: string, by: number) => seen.set(client, (seen.get(client) ?? 0) + by);
    for (const [, client] of text.matchAll(/import\(\s*['"](@aws-sdk\/client-[a-z0-9-]+)['"]\s*\)/g)) {
      count(client!, -1);
    }
    for (const [, list, client] of text.matchAll(
      /\b(?:const|let)\s*\{([^{}]*)\}\s*=\s*await\s+import\(\s*['"](@aws-sdk\/client-[a-z0-9-]+)['"]\s*\)/g,
    )) {
      if (addNames(names, client!, list!)) count(client!, 1);
    }
    for (const [, client, name] of text.matchAll(
      /\(\s*await\s+import\(\s*['"](@aws-sdk\/client-[a-z0-9-]+)['"]\s*\)\s*\)\.(\w+)/g,
    )) {
      if (addNames(names, client!, name!)) count(client!, 1);
    }
    for (const [, list, client] of text.matchAll(
      /^import\s+(?!type\b)\{([^}]*)\}\s+from\s+['"](@aws-sdk\/client-[a-z0-9-]+)['"]/gm,
    )) {
      if (!addNames(names, client!, list!)) unrecognised.add(client!);
    }
    for (const [, client] of text.matchAll(
      /^import\s+(?!type\b)[^{'"\n]*from\s+['"](@aws-sdk\/client-[a-z0-9-]+)['"]/gm,
    )) {
      unrecognised.add(client!);
    }
    for (const [client, balance] of seen) if (balance !== 0) unrecognised.add(client);
  }
  for (const client of unrecognised) names.delete(client);
  return names;
};

const sdkBinding = (client: string) => `__riposte_${client.replace(/\W/g, '_')}`;

/**
 * In the bundle the built-in actions' `await import('@aws-sdk/client-x')` become static imports of a
 * module re-exporting just the names they use: esbuild cannot tree-shake a module loaded
 * dynamically (it keeps the whole EC2 client then), and laziness buys nothing inside one
 * already-parsed file.
 */
export const treeShakenSdkClients = async (dirs: PackageDirs): Promise<Plugin> => {
  const actionsDist = join(dirs.actions, 'dist');
  const names = await sdkNamesOf(actionsDist);
  return {
    name: 'tree-shaken-sdk-clients',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(actionsDist + sep)) return undefined;
        const text = await readFile(args.path, 'utf8');
        const clients = new Set<string>();
        const rewritten = text.replace(
          /import\(\s*['"](@aws-sdk\/client-[a-z0-9-]+)['"]\s*\)/g,
          (_, client: string) => {
            clients.add(client);
            return `Promise.resolve(${sdkBinding(client)})`;
          },
        );
        if (clients.size === 0) return undefined;
        const imports = [...clients].map(
          (client) => `import * as ${sdkBinding(client)} from 'riposte-sdk:${client}';`,
        );
        return { contents: `${imports.join('\n')}\n${rewritten}`, loader: 'js' };
      });
      build.onResolve({ filter: /^riposte-sdk:/ }, (args) => ({
        path: args.path.slice('riposte-sdk:'.length),
        namespace: 'riposte-sdk',
      }));
      build.onLoad({ filter: /.*/, namespace: 'riposte-sdk' }, (args) => {
        const used = names.get(args.path);
        return {
          contents: used
            ? `export { ${[...used].sort().join(', ')} } from '${args.path}';`
            : `export * from '${args.path}';`,
          loader: 'js',
          resolveDir: actionsDist,
        };
      });
    },
  };
};

/**
 * The SDK's generated schemas key their trait objects by constants (`{ [_jN]: "x" }`). A computed key
 * could run code, so esbuild keeps every schema of the service; written as the literal strings those
 * constants hold, unused schemas are dropped (the EC2 client shrinks from ~550 KB to a fraction).
 */
export const pureSdkSchemas: Plugin = {
  name: 'pure-sdk-schemas',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[a-z0-9-]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
      async (args) => {
        const text = await readFile(args.path, 'utf8');
        const constants = new Map<string, string>();
        for (const [, name, literal] of text.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) {
          constants.set(name!, literal!);
        }
        const contents = text.replace(/\[(_\w+)\]:/g, (key, name: string) =>
          constants.has(name) ? `${constants.get(name)}:` : key,
        );
        return { contents, loader: 'js' };
      },
    );
  },
};
