import { readFile } from 'node:fs/promises';
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

/**
 * The actions' schema compiler (ajv), replaced by the validators generated at build time for exactly
 * the schemas the function's registry compiles (`validators.ts`): ajv's compiler leaves the bundle.
 */
export const generatedValidators = (dirs: PackageDirs, source: string): Plugin => ({
  name: 'generated-validators',
  setup(build) {
    const compiler = join(dirs.actions, 'dist', 'schema-compiler.js');
    build.onLoad({ filter: /[\\/]schema-compiler\.js$/ }, (args) =>
      args.path === compiler
        ? { contents: source, loader: 'js', resolveDir: join(dirs.actions, 'dist') }
        : undefined,
    );
  },
});

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
