import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { type ConfigurationIssue, loadPlaybooks, type Playbook } from '@riposte/core';
import { glob } from 'tinyglobby';
import type { PlaybookSource } from './define.js';
import { DEFAULT_PLAYBOOKS, type Project, ProjectConfigError } from './load.js';

/** One `playbooks` entry, resolved to files and directories on disk. */
export interface ResolvedSource {
  /** As written in the configuration. */
  from: string;
  /** Playbook files and directories to load. */
  paths: string[];
  /** This source's `.cases.yaml` files. */
  cases: string[];
  include?: string[];
  exclude?: string[];
}

const PACKAGE_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const GLOB = /[*?[\]{}]/;
const isCases = (file: string): boolean => /\.cases\.ya?ml$/.test(file);
const isYaml = (file: string): boolean => /\.ya?ml$/.test(file);

const isDirectory = async (path: string): Promise<boolean | undefined> =>
  stat(path).then(
    (found) => found.isDirectory(),
    () => undefined,
  );

/**
 * The playbook directory of an installed package: its package.json's `riposte.playbooks` (default:
 * the package's own directory). Looked up from the project first, then beside this CLI, which
 * depends on the shipped `@riposte/rules`.
 */
const packageDirectories = async (name: string, root: string): Promise<string[] | undefined> => {
  for (const from of [join(root, 'riposte.config.mjs'), import.meta.url]) {
    let manifest: string;
    try {
      manifest = createRequire(from).resolve(`${name}/package.json`);
    } catch {
      continue;
    }
    const parsed = JSON.parse(await readFile(manifest, 'utf8')) as { riposte?: { playbooks?: unknown } };
    const declared = parsed.riposte?.playbooks ?? '.';
    const list = Array.isArray(declared) ? declared : [declared];
    return list
      .filter((item): item is string => typeof item === 'string')
      .map((item) => resolve(dirname(manifest), item));
  }
  return undefined;
};

const casesUnder = async (directories: string[]): Promise<string[]> => {
  const found = await Promise.all(
    directories.map((cwd) =>
      glob('**/*.cases.{yaml,yml}', { cwd, absolute: true, ignore: ['**/node_modules/**'] }),
    ),
  );
  return found.flat().sort();
};

const sourceOf = (entry: PlaybookSource) => (typeof entry === 'string' ? { from: entry } : entry);

/** Resolves every `playbooks` entry; one that names nothing is an error at that entry. */
export const resolveSources = async (project: Project): Promise<ResolvedSource[]> => {
  const entries = project.config.playbooks ?? DEFAULT_PLAYBOOKS;
  const issues: ConfigurationIssue[] = [];
  const resolved: ResolvedSource[] = [];
  for (const [index, entry] of entries.entries()) {
    const { from, include, exclude } = sourceOf(entry);
    const narrowing = { ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) };
    const local = resolve(project.root, from);
    const kind = await isDirectory(local);
    if (kind !== undefined) {
      const cases = kind ? await casesUnder([local]) : [];
      resolved.push({ from, paths: [local], cases, ...narrowing });
      continue;
    }
    if (GLOB.test(from)) {
      const matched = (await glob(from, { cwd: project.root, absolute: true, onlyFiles: true }))
        .filter(isYaml)
        .sort();
      const playbookFiles = matched.filter((file) => !isCases(file));
      if (playbookFiles.length > 0) {
        resolved.push({ from, paths: playbookFiles, cases: matched.filter(isCases), ...narrowing });
        continue;
      }
    } else if (PACKAGE_NAME.test(from)) {
      const directories = await packageDirectories(from, project.root);
      if (directories) {
        resolved.push({ from, paths: directories, cases: await casesUnder(directories), ...narrowing });
        continue;
      }
    }
    issues.push({
      file: project.file ? relative(project.root, project.file) || project.file : '(defaults)',
      line: 1,
      column: 1,
      pointer: `/playbooks/${index}`,
      message: `"${from}" is no directory, playbook file, matching glob or installed package (from ${project.root})`,
    });
  }
  if (issues.length > 0) throw new ProjectConfigError(issues);
  return resolved;
};

/** The source's playbooks its include/exclude keep; a name in either that the source lacks is a typo. */
const narrow = (
  source: ResolvedSource,
  playbooks: Playbook[],
  issues: ConfigurationIssue[],
  file: string,
) => {
  const names = new Set(playbooks.map((playbook) => playbook.name));
  for (const name of [...(source.include ?? []), ...(source.exclude ?? [])]) {
    if (!names.has(name)) {
      issues.push({
        file,
        line: 1,
        column: 1,
        pointer: '/playbooks',
        message: `"${source.from}" has no playbook named "${name}"; it has ${[...names].sort().join(', ')}`,
      });
    }
  }
  return playbooks.filter(
    (playbook) =>
      (source.include === undefined || source.include.includes(playbook.name)) &&
      !(source.exclude ?? []).includes(playbook.name),
  );
};

/**
 * The playbook with its file named from the project's root: reports and the built function then say
 * `playbooks/x.yaml`, never where the project happened to be built.
 */
const relativeTo = (root: string, playbook: Playbook): Playbook => {
  const file = relative(root, playbook.location.file).split(sep).join('/');
  return {
    ...playbook,
    location: { ...playbook.location, file },
    actions: playbook.actions.map((step) => ({ ...step, location: { ...step.location, file } })),
  };
};

/** A playbook and the source it came from. */
export interface ProjectPlaybook {
  playbook: Playbook;
  source: ResolvedSource;
}

/**
 * The project's playbooks, compiled with its registry (so custom actions and their params are
 * checked) and narrowed by include/exclude. Two playbooks of one name, across sources, are an error.
 */
export const loadProjectPlaybooks = async (project: Project): Promise<ProjectPlaybook[]> => {
  const sources = await resolveSources(project);
  const file = project.file ? basename(project.file) : '(defaults)';
  const issues: ConfigurationIssue[] = [];
  const kept: ProjectPlaybook[] = [];
  for (const source of sources) {
    const playbooks = await loadPlaybooks(source.paths, { registry: project.registry });
    for (const playbook of narrow(source, playbooks, issues, file)) {
      kept.push({ playbook: relativeTo(project.root, playbook), source });
    }
  }
  const seen = new Map<string, ProjectPlaybook>();
  for (const entry of kept) {
    const earlier = seen.get(entry.playbook.name);
    if (earlier) {
      const { location } = entry.playbook;
      issues.push({
        ...location,
        message: `playbook "${entry.playbook.name}" is also defined in ${earlier.playbook.location.file} (from "${earlier.source.from}"); exclude one of them`,
      });
    }
    seen.set(entry.playbook.name, entry);
  }
  if (issues.length > 0) throw new ProjectConfigError(issues);
  return kept;
};
