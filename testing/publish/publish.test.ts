// What `npm publish` would ship, checked on the tarballs a release publishes (`pnpm pack`, which rewrites
// `workspace:*`). Packs what is on disk: run after `pnpm build` (the root `npm test` builds first).
import { mkdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PackedWorkspace, PUBLISHABLE_PACKAGES, packWorkspace, ROOT, run } from '../packages.js';

interface Manifest {
  name: string;
  version: string;
  license?: string;
  repository?: unknown;
  files?: string[];
  engines?: Record<string, string>;
  publishConfig?: unknown;
  main?: string;
  types?: string;
  exports?: unknown;
  bin?: string | Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface SourceMap {
  sourceRoot?: string;
  sources: string[];
}

const rootManifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Manifest;

// The one warning that is about the machine, not the package: no npm token here.
const NOT_LOGGED_IN = /^npm warn publish This command requires you to be logged in to \S+ \(dry-run\)$/;

/** `npm warn` / `npm error` lines of a run, but for the not-logged-in warning. */
const complaints = (output: string): string[] =>
  output.split('\n').filter((line) => /^npm (warn|error|ERR!)/i.test(line) && !NOT_LOGGED_IN.test(line));

/**
 * `--offline`: the dry run needs no network; online it would also ask the registry whether this
 * version is already published, which the real `publish` refuses anyway.
 */
const dryRun = (spec: string, cwd: string) =>
  run('npm', ['publish', '--dry-run', '--offline', '--ignore-scripts', spec], cwd);

/** `./dist/x.js` as the tarball lists it: `dist/x.js`. */
const inPackage = (target: string): string => posix.normalize(target).replace(/^\.\//, '');

/** Every path an `exports` map names (conditions, subpaths, arrays), without the `null` exclusions. */
const exportTargets = (node: unknown): string[] => {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(exportTargets);
  if (node && typeof node === 'object') return Object.values(node).flatMap(exportTargets);
  return [];
};

let workspace: PackedWorkspace;

beforeAll(async () => {
  workspace = await packWorkspace();
}, 180_000);

const tarballOf = (name: string): string => {
  const tarball = workspace.tarballs[name];
  if (!tarball) throw new Error(`packWorkspace() packed no ${name}`);
  return tarball;
};

const readManifest = async (name: string): Promise<Manifest> => {
  const { code, stdout, stderr } = await run(
    'tar',
    ['-xzOf', tarballOf(name), 'package/package.json'],
    workspace.directory,
  );
  if (code !== 0) throw new Error(`cannot read package.json from ${tarballOf(name)}: ${stderr}`);
  return JSON.parse(stdout) as Manifest;
};

describe.each(Object.entries(PUBLISHABLE_PACKAGES))('%s', (name, path) => {
  /** The files in the tarball, relative to the package (`dist/index.js`). */
  let files: string[];
  /** The unpacked package. */
  let unpacked: string;
  let manifest: Manifest;

  beforeAll(async () => {
    const tarball = tarballOf(name);
    const listing = await run('tar', ['-tzf', tarball], workspace.directory);
    if (listing.code !== 0) throw new Error(`tar -tzf ${tarball}: ${listing.stderr}`);
    files = listing.stdout
      .split('\n')
      .filter((entry) => entry !== '' && !entry.endsWith('/'))
      .map((entry) => entry.replace(/^package\//, ''));
    const into = join(workspace.directory, name.replace('/', '+'));
    await mkdir(into, { recursive: true });
    const extract = await run('tar', ['-xzf', tarball, '-C', into], workspace.directory);
    if (extract.code !== 0) throw new Error(`tar -xzf ${tarball}: ${extract.stderr}`);
    unpacked = join(into, 'package');
    manifest = await readManifest(name);
  }, 60_000);

  it('passes npm publish --dry-run of its tarball with no warning or error', async () => {
    const result = await dryRun(tarballOf(name), workspace.directory);

    expect(result.code, result.stderr).toBe(0);
    expect(complaints(result.stderr + result.stdout)).toEqual([]);
  }, 60_000);

  it('passes npm publish --dry-run of its unpacked tarball, where npm also checks package.json', async () => {
    // Given a directory, npm reports what it would correct in package.json; given a tarball, it does not.
    const result = await dryRun(unpacked, workspace.directory);

    expect(result.code, result.stderr).toBe(0);
    expect(complaints(result.stderr + result.stdout)).toEqual([]);
  }, 60_000);

  it('declares files, publishConfig, repository, license and engines', () => {
    expect(manifest.name).toBe(name);
    expect(manifest.files?.length).toBeGreaterThan(0);
    expect(manifest.publishConfig).toEqual({ access: 'public' });
    expect(manifest.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/riposte-dev/riposte.git',
      directory: path,
    });
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.engines).toEqual(rootManifest.engines);
  });

  it('depends on versions, never on workspace: ranges', () => {
    const kinds = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;
    const workspaceRanges = kinds.flatMap((kind) =>
      Object.entries(manifest[kind] ?? {})
        .filter(([, range]) => range.startsWith('workspace:'))
        .map(([dependency, range]) => `${kind}.${dependency}: ${range}`),
    );

    expect(workspaceRanges).toEqual([]);
  });

  it('packs no tests', () => {
    // templates/ is what `riposte init` scaffolds, a test of the scaffolded action included: not ours.
    const tests = files.filter(
      (file) =>
        !file.startsWith('templates/') &&
        (/(^|\/)(tests?|__tests__)\//.test(file) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(file)),
    );

    expect(tests).toEqual([]);
  });

  it('ships its README and every file that main, types, exports and bin name', () => {
    const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
    const named: [field: string, target: unknown][] = [
      ['main', manifest.main],
      ['types', manifest.types],
      ...exportTargets(manifest.exports).map((target): [string, unknown] => ['exports', target]),
      ...bins.map((target): [string, unknown] => ['bin', target]),
    ];
    const missing = named.flatMap(([field, target]) =>
      typeof target === 'string' && !target.includes('*') && !files.includes(inPackage(target))
        ? [`${field}: ${inPackage(target)}`]
        : [],
    );

    expect([...new Set(missing)]).toEqual([]);
    expect(files).toContain('README.md');
  });

  it('ships source maps whose every source is in the package', async () => {
    const shipped = new Set(files);
    const problems: string[] = [];
    const checkSources = (map: SourceMap, mapDirectory: string, label: string) => {
      for (const source of map.sources) {
        const resolved = posix.normalize(posix.join(mapDirectory, map.sourceRoot ?? '', source));
        if (!shipped.has(resolved)) problems.push(`${label}: source ${source} (${resolved}) is not packed`);
      }
    };

    for (const file of files.filter((candidate) => /\.([cm]?js|d\.[cm]?ts)$/.test(candidate))) {
      const text = await readFile(join(unpacked, file), 'utf8');
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      if (url === undefined) continue;
      if (url.startsWith('data:')) {
        const json = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64').toString('utf8');
        checkSources(JSON.parse(json) as SourceMap, posix.dirname(file), `${file} (inline map)`);
      } else if (!shipped.has(posix.join(posix.dirname(file), url))) {
        problems.push(`${file}: its map ${url} is not packed`);
      }
    }
    for (const file of files.filter((candidate) => candidate.endsWith('.map'))) {
      const map = JSON.parse(await readFile(join(unpacked, file), 'utf8')) as SourceMap;
      checkSources(map, posix.dirname(file), file);
    }

    expect(problems).toEqual([]);
  });
});

it('packs @riposte/lambda-adapter without a bundle script', async () => {
  const manifest = await readManifest('@riposte/lambda-adapter');

  expect(manifest.scripts?.bundle).toBeUndefined();
});
