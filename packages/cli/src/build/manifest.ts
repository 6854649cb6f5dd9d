import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Playbook } from '@riposte/core';
import type { Project } from '../config/load.js';

export const MANIFEST_FILE = 'manifest.json';

/**
 * What a build put in the function. `riposte template` recomputes it from the project and refuses
 * to print a template when the two differ: the role, the rule and the code come from one build.
 */
export interface Manifest {
  manifestVersion: 1;
  /** The Riposte packages the function was built with, which also decide the role's permissions. */
  packages: Record<string, string>;
  /** The configuration, from the project's root; absent when the defaults were used. */
  config?: string;
  playbooks: Array<{ name: string; file: string; enabled: boolean; sha256: string }>;
  actions: Array<{ name: string; origin: 'built-in' | 'custom'; sha256?: string }>;
  /** The project's own files in the bundle (configuration, custom actions), from its root. */
  sources: Array<{ path: string; sha256: string }>;
  handler: { file: string; bytes: number; sha256: string };
  /** Every file of the function (handler, chunks, notices), and the bytes initialisation loads of them. */
  bundle: { files: number; bytes: number; initBytes: number };
  zip: { file: string; bytes: number; sha256: string };
}

/** What a build's manifest must say for the project as it is now. */
export type ProjectFingerprint = Pick<Manifest, 'packages' | 'playbooks' | 'actions'>;

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

const PACKAGES = ['@riposte/cli', '@riposte/lambda-adapter', '@riposte/actions', '@riposte/core'] as const;

/** The installed versions of the packages a function is built from. */
export const riposteVersions = async (): Promise<Record<string, string>> => {
  const versions: Record<string, string> = {};
  let require = createRequire(import.meta.url);
  for (const name of PACKAGES) {
    const manifest =
      name === '@riposte/cli'
        ? fileURLToPath(new URL('../../package.json', import.meta.url))
        : require.resolve(`${name}/package.json`);
    const parsed = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
    versions[name] = parsed.version;
    // Each package is resolved from the one that depends on it, as the bundle resolves it.
    if (name !== '@riposte/cli') require = createRequire(manifest);
  }
  return versions;
};

/** An action's definition as data: its name, contract and the text of its functions. */
const actionFingerprint = (action: Record<string, unknown>): string =>
  sha256(
    JSON.stringify(
      Object.keys(action)
        .sort()
        .map((key) => {
          const value = action[key];
          return [key, typeof value === 'function' ? String(value) : value];
        }),
    ),
  );

/** A compiled playbook's hash: whatever the function would do differently changes it. */
const playbookFingerprint = (playbook: Playbook): string => sha256(JSON.stringify(playbook));

export const fingerprintOf = (
  project: Project,
  playbooks: Playbook[],
  packages: Record<string, string>,
): ProjectFingerprint => {
  const custom = new Set(project.customActions.map((action) => action.name));
  return {
    packages,
    playbooks: playbooks
      .map((playbook) => ({
        name: playbook.name,
        file: playbook.location.file,
        enabled: playbook.enabled,
        sha256: playbookFingerprint(playbook),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    actions: [
      ...project.registry
        .list()
        .filter((action) => !custom.has(action.name))
        .map((action) => ({ name: action.name, origin: 'built-in' as const })),
      ...project.customActions.map((action) => ({
        name: action.name,
        origin: 'custom' as const,
        sha256: actionFingerprint(action as unknown as Record<string, unknown>),
      })),
    ].sort((a, b) => a.name.localeCompare(b.name)),
  };
};

const byName = <T extends { name: string }>(items: T[]) => new Map(items.map((item) => [item.name, item]));

/**
 * How the built function differs from the project as it is now, one line per difference; none when
 * they agree. `sourceHashes` are the current hashes of the manifest's sources (undefined: gone).
 */
export const driftOf = (
  built: Manifest,
  now: ProjectFingerprint,
  sourceHashes: Map<string, string | undefined>,
): string[] => {
  const lines: string[] = [];
  for (const [name, version] of Object.entries(now.packages)) {
    const then = built.packages[name];
    if (then !== version) lines.push(`~ ${name}: built with ${then ?? 'none'}, installed ${version}`);
  }
  const compare = <T extends { name: string; sha256?: string }>(kind: string, then: T[], current: T[]) => {
    const before = byName(then);
    const after = byName(current);
    for (const [name, item] of after) {
      const old = before.get(name);
      if (!old) lines.push(`+ ${kind} "${name}": in the project, not in the built function`);
      else if (old.sha256 !== item.sha256) lines.push(`~ ${kind} "${name}": changed since the build`);
    }
    for (const name of before.keys()) {
      if (!after.has(name))
        lines.push(`- ${kind} "${name}": in the built function, no longer in the project`);
    }
  };
  compare('playbook', built.playbooks, now.playbooks);
  compare('action', built.actions, now.actions);
  for (const source of built.sources) {
    const current = sourceHashes.get(source.path);
    if (current === undefined) lines.push(`- source ${source.path}: bundled, now missing`);
    else if (current !== source.sha256) lines.push(`~ source ${source.path}: changed since the build`);
  }
  return lines;
};

/** The current hashes of files named from the project's root; a missing file maps to undefined. */
export const hashFiles = async (root: string, paths: string[]): Promise<Map<string, string | undefined>> =>
  new Map(
    await Promise.all(
      paths.map(async (path) => {
        const data = await readFile(join(root, path)).catch(() => undefined);
        return [path, data === undefined ? undefined : sha256(data)] as const;
      }),
    ),
  );
