// Builds dist/handler.mjs: the whole function in one ESM file for Lambda's Node.js runtime, with the
// shipped playbooks of rules/ embedded. Run by `pnpm build` (after `tsc -b`) through the package's
// `bundle` script.
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(packageDir, '../..');
const rulesDir = join(root, 'rules');
const outfile = join(packageDir, 'dist', 'handler.mjs');
const budgetBytes = 1.5 * 1024 * 1024;

const isPlaybookFile = (name) => /\.ya?ml$/.test(name) && !/\.cases\.ya?ml$/.test(name);

/**
 * Replaces src/bundled-playbooks.ts (which reads and compiles rules/ at run time) with the playbooks
 * compiled here, by the built core and the built-in actions: a bad playbook fails the build, and a
 * cold start neither parses YAML nor validates the playbook schema.
 */
const embedPlaybooks = {
  name: 'embed-playbooks',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]src[\\/]bundled-playbooks\.ts$/ }, async () => {
      const { compilePlaybooks } = await import(join(root, 'packages', 'core', 'dist', 'index.js'));
      const { createRegistry } = await import(join(root, 'packages', 'actions', 'dist', 'index.js'));
      const names = (await readdir(rulesDir)).filter(isPlaybookFile).sort();
      const sources = await Promise.all(
        names.map(async (name) => ({
          file: `rules/${name}`,
          text: await readFile(join(rulesDir, name), 'utf8'),
        })),
      );
      const playbooks = compilePlaybooks(sources, { registry: createRegistry() });
      console.log(
        `bundle: embedding ${playbooks.length} playbook(s) compiled from ${names.length} file(s) in ${relative(root, rulesDir) || '.'}/`,
      );
      return {
        // A JSON string parses faster than the same object literal compiles.
        contents: `export const bundledPlaybooks = async () => JSON.parse(${JSON.stringify(JSON.stringify(playbooks))});`,
        loader: 'js',
        watchFiles: names.map((name) => join(rulesDir, name)),
      };
    });
  },
};

/**
 * pino loads its transports (worker threads, thread-stream) eagerly; the function logs to stdout and
 * never uses them, so they stay out of the bundle.
 */
const withoutPinoTransports = {
  name: 'without-pino-transports',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/(lib\/)?transport$/ }, (args) =>
      args.importer.includes(`${sep}pino${sep}`)
        ? { path: 'pino-transport', namespace: 'riposte-stub' }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'riposte-stub' }, () => ({
      contents:
        'module.exports = function transport () { throw new Error("pino transports are not part of the Riposte bundle") }',
      loader: 'js',
    }));
  },
};

const actionsSrc = join(root, 'packages', 'actions', 'src');

const sourceFiles = async (directory) => {
  const files = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
};

const add = (names, client, list) => {
  const set = names.get(client) ?? new Set();
  for (const item of list.split(',')) {
    const name = item.trim().split(/\s*:\s*|\s+as\s+/)[0];
    if (!name || name.startsWith('type ')) continue;
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) return false;
    set.add(name);
  }
  names.set(client, set);
  return true;
};

/**
 * The SDK names the actions take from each client. They load commands with `await import(...)`
 * (lazily, for a fast cold start), which esbuild cannot tree-shake; a client module reached that way
 * is swapped for one re-exporting just these names. A client used in a form not recognised here is
 * bundled whole, so a missed name can cost size but never break the function.
 */
const sdkNamesOfActions = async () => {
  const names = new Map();
  const unrecognised = new Set();
  for (const file of await sourceFiles(actionsSrc)) {
    const text = await readFile(file, 'utf8');
    const seen = new Map();
    for (const [, client] of text.matchAll(/import\(\s*'(@aws-sdk\/client-[a-z0-9-]+)'\s*\)/g)) {
      seen.set(client, (seen.get(client) ?? 0) - 1);
    }
    for (const [, list, client] of text.matchAll(
      /\b(?:const|let)\s*\{([^{}]*)\}\s*=\s*await\s+import\(\s*'(@aws-sdk\/client-[a-z0-9-]+)'\s*\)/g,
    )) {
      if (add(names, client, list)) seen.set(client, (seen.get(client) ?? 0) + 1);
    }
    for (const [, client, name] of text.matchAll(
      /\(\s*await\s+import\(\s*'(@aws-sdk\/client-[a-z0-9-]+)'\s*\)\s*\)\.(\w+)/g,
    )) {
      if (add(names, client, name)) seen.set(client, (seen.get(client) ?? 0) + 1);
    }
    for (const [, list, client] of text.matchAll(
      /^import\s+(?!type\b)\{([^}]*)\}\s+from\s+'(@aws-sdk\/client-[a-z0-9-]+)'/gm,
    )) {
      if (!add(names, client, list)) unrecognised.add(client);
    }
    for (const [, client] of text.matchAll(
      /^import\s+(?!type\b)[^{'\n]*from\s+'(@aws-sdk\/client-[a-z0-9-]+)'/gm,
    )) {
      unrecognised.add(client);
    }
    for (const [client, balance] of seen) if (balance !== 0) unrecognised.add(client);
  }
  for (const client of unrecognised) {
    console.warn(`bundle: ${client} is imported by the actions in a form not recognised; bundling it whole`);
    names.delete(client);
  }
  return names;
};

const sdkNames = await sdkNamesOfActions();

const sdkBinding = (client) => `__riposte_${client.replace(/\W/g, '_')}`;

/**
 * In the bundle the actions' `await import('@aws-sdk/client-x')` become static imports of a module
 * re-exporting just the names they use: esbuild cannot tree-shake a module loaded dynamically (it
 * keeps the whole EC2 client then), and laziness buys nothing inside one already-parsed file.
 */
const treeShakenSdkClients = {
  name: 'tree-shaken-sdk-clients',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(actionsSrc)) return undefined;
      const text = await readFile(args.path, 'utf8');
      const clients = new Set();
      const rewritten = text.replace(/import\(\s*'(@aws-sdk\/client-[a-z0-9-]+)'\s*\)/g, (_, client) => {
        clients.add(client);
        return `Promise.resolve(${sdkBinding(client)})`;
      });
      if (clients.size === 0) return undefined;
      const imports = [...clients].map(
        (client) => `import * as ${sdkBinding(client)} from 'riposte-sdk:${client}';`,
      );
      return { contents: `${imports.join('\n')}\n${rewritten}`, loader: 'ts' };
    });
    pluginBuild.onResolve({ filter: /^riposte-sdk:/ }, (args) => ({
      path: args.path.slice('riposte-sdk:'.length),
      namespace: 'riposte-sdk',
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'riposte-sdk' }, (args) => {
      const names = sdkNames.get(args.path);
      return {
        contents: names
          ? `export { ${[...names].sort().join(', ')} } from '${args.path}';`
          : `export * from '${args.path}';`,
        loader: 'js',
        resolveDir: actionsSrc,
      };
    });
  },
};

/**
 * The SDK's generated schemas key their trait objects by constants (`{ [_jN]: "x" }`). A computed key
 * could run code, so esbuild keeps every schema of the service; written as the literal strings those
 * constants hold, unused schemas are dropped (the EC2 client shrinks from ~550 KB to a fraction).
 */
const pureSdkSchemas = {
  name: 'pure-sdk-schemas',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[a-z0-9-]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
      async (args) => {
        const text = await readFile(args.path, 'utf8');
        const constants = new Map();
        for (const [, name, literal] of text.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm))
          constants.set(name, literal);
        const contents = text.replace(/\[(_\w+)\]:/g, (key, name) =>
          constants.has(name) ? `${constants.get(name)}:` : key,
        );
        return { contents, loader: 'js' };
      },
    );
  },
};

const result = await build({
  entryPoints: [join(packageDir, 'src', 'lambda.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The SDK's ES module builds, so unused commands and shapes are tree-shaken away.
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'external',
  metafile: true,
  logLevel: 'warning',
  // The sibling packages from their sources, so the bundle never picks up a stale build.
  alias: {
    '@riposte/core': join(root, 'packages', 'core', 'src', 'index.ts'),
    '@riposte/actions': join(root, 'packages', 'actions', 'src', 'index.ts'),
  },
  // CommonJS dependencies (pino) require Node built-ins, which an ES module must be given.
  banner: {
    js: "import { createRequire as __riposteCreateRequire } from 'node:module'; const require = __riposteCreateRequire(import.meta.url);",
  },
  plugins: [embedPlaybooks, withoutPinoTransports, treeShakenSdkClients, pureSdkSchemas],
});

const { size } = await stat(outfile);
const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const byPackage = new Map();
const output = Object.values(result.metafile.outputs).find((candidate) => candidate.entryPoint);
for (const [path, input] of Object.entries(output?.inputs ?? {})) {
  const match = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(path);
  const name = match
    ? match[1]
    : path.startsWith('packages/') || path.includes('/packages/')
      ? 'riposte'
      : path;
  byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
}
const largest = [...byPackage.entries()]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 6)
  .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KB`)
  .join(', ');
console.log(`bundle: ${relative(root, outfile)} ${megabytes(size)} (${size} bytes); largest: ${largest}`);
if (size > budgetBytes) {
  console.error(`bundle: over the ${megabytes(budgetBytes)} budget`);
  process.exitCode = 1;
}
