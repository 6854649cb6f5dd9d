import { lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { isObject, type JsonObject } from '@riposte/core';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';

export const initHelp = `riposte init [dir]
  Scaffolds a Riposte project in dir (default: the current directory, created if absent):
  riposte.config.mjs; a custom action, actions/archive-finding.mjs, with its node:test tests; a playbook
  that uses it, playbooks/archive-c2-findings.yaml, with its cases and their findings; a GitHub Actions
  workflow; .gitignore; and the package.json scripts (validate, test, build, template) and dependencies.
  Never overwrites: if any file it would write exists, it writes nothing and lists them. An existing
  package.json is merged: only absent scripts, dependencies and fields are added, and existing values
  that differ are kept and listed. An existing .gitignore is left as it is.
  Exit 0 written, 1 conflicts (nothing written), 2 usage.`;

/** The scaffold ships in the package's `templates/init/`: two levels up from src/commands and dist/commands. */
const TEMPLATES = new URL('../../templates/init/', import.meta.url);
const CLI_PACKAGE = new URL('../../package.json', import.meta.url);

export interface ScaffoldFile {
  /** Where the file is under `templates/init/`. */
  template: string;
  /** Where it goes in the project. */
  path: string;
}

const same = (path: string): ScaffoldFile => ({ template: path, path });

/**
 * The files `init` copies as they are, refusing to overwrite any. Dot-files ship without their dot:
 * npm never publishes a file named `.gitignore`, and a `.github` folder inside a package is easy to
 * mistake for the repository's own.
 */
export const SCAFFOLD_FILES: readonly ScaffoldFile[] = [
  same('riposte.config.mjs'),
  same('actions/archive-finding.mjs'),
  same('actions/archive-finding.test.mjs'),
  same('playbooks/archive-c2-findings.yaml'),
  same('playbooks/archive-c2-findings.cases.yaml'),
  same('playbooks/findings/SOURCES.md'),
  same('playbooks/findings/backdoor-ec2-c-cactivity-b.json'),
  same('playbooks/findings/backdoor-ec2-c-cactivity-b-exempt-instance.json'),
  same('playbooks/findings/backdoor-ec2-denialofservice-tcp.json'),
  { template: 'github/workflows/riposte.yml', path: '.github/workflows/riposte.yml' },
];

/** Written only when the project has none; an existing one is the user's and is left alone. */
export const GITIGNORE: ScaffoldFile = { template: 'gitignore', path: '.gitignore' };

export const SCRIPTS: Readonly<Record<string, string>> = {
  validate: 'riposte validate',
  test: 'riposte test && node --test actions/archive-finding.test.mjs',
  build: 'riposte build',
  template: 'riposte template > template.yaml',
};

/** The range `@riposte/actions` itself depends on; the scaffolded action imports the S3 client. */
export const CLIENT_S3_RANGE = '^3.1175.0';

/** Where npm records a dependency; one listed in any of them is not added again. */
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];

/** What the scaffold needs in package.json, with the Riposte packages at this CLI's own version. */
export const wantedPackage = (version: string) => ({
  private: true,
  type: 'module',
  scripts: { ...SCRIPTS },
  dependencies: {
    '@aws-sdk/client-s3': CLIENT_S3_RANGE,
    '@riposte/actions': `^${version}`,
    '@riposte/cli': `^${version}`,
    '@riposte/core': `^${version}`,
    '@riposte/rules': `^${version}`,
  },
});

export interface PackageMerge {
  json: JsonObject;
  /** What was added, as `scripts.test`, `dependencies.@riposte/core`, `type`. */
  added: string[];
  /** Existing values that differ from what init would write, kept as they are. */
  kept: { key: string; value: unknown; wanted: unknown }[];
}

/**
 * Adds to an existing package.json what the scaffold needs and it lacks; never changes a value already
 * there. New dependencies are put in alphabetical order, as npm keeps them.
 */
export const mergePackage = (
  existing: JsonObject,
  wanted: ReturnType<typeof wantedPackage>,
): PackageMerge => {
  const json: JsonObject = structuredClone(existing);
  const added: string[] = [];
  const kept: PackageMerge['kept'] = [];
  const field = (key: string, value: unknown) => {
    if (!(key in json)) {
      json[key] = value;
      added.push(key);
    } else if (json[key] !== value) kept.push({ key, value: json[key], wanted: value });
  };
  field('private', wanted.private);
  field('type', wanted.type);

  const scripts = json.scripts ?? {};
  if (!isObject(scripts)) kept.push({ key: 'scripts', value: scripts, wanted: wanted.scripts });
  else {
    json.scripts = scripts;
    for (const [name, command] of Object.entries(wanted.scripts)) {
      if (!(name in scripts)) {
        scripts[name] = command;
        added.push(`scripts.${name}`);
      } else if (scripts[name] !== command)
        kept.push({ key: `scripts.${name}`, value: scripts[name], wanted: command });
    }
  }

  const dependencies = json.dependencies ?? {};
  if (!isObject(dependencies))
    kept.push({ key: 'dependencies', value: dependencies, wanted: wanted.dependencies });
  else {
    let changed = false;
    for (const [name, range] of Object.entries(wanted.dependencies)) {
      const where = DEPENDENCY_FIELDS.find((key) => isObject(json[key]) && name in (json[key] as JsonObject));
      if (where === undefined) {
        dependencies[name] = range;
        added.push(`dependencies.${name}`);
        changed = true;
      } else {
        const value = (json[where] as JsonObject)[name];
        if (value !== range) kept.push({ key: `${where}.${name}`, value, wanted: range });
      }
    }
    if (changed) {
      json.dependencies = Object.fromEntries(
        Object.entries(dependencies).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
  }
  return { json, added, kept };
};

/** The indentation of an existing JSON text (npm writes two spaces), so a merge keeps its look. */
const indentOf = (text: string): string | number => /^([ \t]+)"/m.exec(text)?.[1] ?? 2;

const exists = async (path: string): Promise<boolean> => {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    // ENOTDIR: a parent is a file, so this path cannot be written either.
    if (code === 'ENOTDIR') return true;
    throw error;
  }
};

/** A path for the user to type: relative to where they are, quoted when it holds a space. */
const typed = (path: string): string => (/[\s'"$`\\]/.test(path) ? JSON.stringify(path) : path);

const readTemplates = async (files: readonly ScaffoldFile[]): Promise<Map<ScaffoldFile, Buffer>> => {
  const contents = new Map<ScaffoldFile, Buffer>();
  for (const file of files) contents.set(file, await readFile(new URL(file.template, TEMPLATES)));
  return contents;
};

type PackagePlan =
  | { action: 'create'; text: string }
  | { action: 'merge'; text: string; merge: PackageMerge }
  | { action: 'none'; merge: PackageMerge };

const planPackage = async (path: string, version: string): Promise<PackagePlan | { error: string }> => {
  const wanted = wantedPackage(version);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return { action: 'create', text: `${JSON.stringify(wanted, null, 2)}\n` };
  }
  let existing: unknown;
  try {
    existing = JSON.parse(text);
  } catch (error) {
    return { error: `package.json is not valid JSON (${(error as Error).message})` };
  }
  if (!isObject(existing)) return { error: 'package.json does not hold a JSON object' };
  const merge = mergePackage(existing, wanted);
  if (merge.added.length === 0) return { action: 'none', merge };
  return { action: 'merge', text: `${JSON.stringify(merge.json, null, indentOf(text))}\n`, merge };
};

export const runInit = async (args: string[], io: CliIO): Promise<number> => {
  const { positionals } = parseCommandArgs(args, {});
  if (positionals.length > 1) throw new UsageError('init takes at most one directory');
  const directory = resolve(io.cwd, positionals[0] ?? '.');
  const shownDirectory = relative(io.cwd, directory);
  const found = await stat(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined; // created below
    throw error;
  });
  if (found && !found.isDirectory()) throw new UsageError(`${shownDirectory} is not a directory`);

  let templates: Map<ScaffoldFile, Buffer>;
  let version: string;
  try {
    templates = await readTemplates([...SCAFFOLD_FILES, GITIGNORE]);
    version = (JSON.parse(await readFile(CLI_PACKAGE, 'utf8')) as { version: string }).version;
  } catch (error) {
    io.stderr(
      `riposte init: cannot read the scaffold shipped with @riposte/cli (a broken installation?): ${(error as Error).message}`,
    );
    return EXIT.failed;
  }

  // Everything is checked before anything is written: a refused init leaves the directory as it was.
  const conflicts: string[] = [];
  for (const file of SCAFFOLD_FILES) if (await exists(join(directory, file.path))) conflicts.push(file.path);
  const packagePlan = await planPackage(join(directory, 'package.json'), version);
  if (conflicts.length > 0 || 'error' in packagePlan) {
    for (const path of conflicts) io.stderr(`${io.style('red', 'exists')}: ${join(shownDirectory, path)}`);
    if ('error' in packagePlan) io.stderr(`${io.style('red', 'cannot merge')}: ${packagePlan.error}`);
    io.stderr(
      `riposte init: nothing was written${conflicts.length > 0 ? '; move or delete the files above, or run init in another directory' : ''}`,
    );
    return EXIT.failed;
  }
  const writeGitignore = !(await exists(join(directory, GITIGNORE.path)));

  const lines: string[] = [];
  const write = async (path: string, content: Buffer | string, flag: 'wx' | 'w') => {
    await mkdir(dirname(join(directory, path)), { recursive: true });
    // wx: fail rather than overwrite a file that appeared since the check.
    await writeFile(join(directory, path), content, { flag });
  };
  for (const file of SCAFFOLD_FILES) {
    await write(file.path, templates.get(file)!, 'wx');
    lines.push(`  ${io.style('green', 'created')} ${file.path}`);
  }
  if (writeGitignore) {
    await write(GITIGNORE.path, templates.get(GITIGNORE)!, 'wx');
    lines.push(`  ${io.style('green', 'created')} ${GITIGNORE.path}`);
  } else lines.push(`  ${io.style('yellow', 'skipped')} ${GITIGNORE.path} (exists; left as it is)`);
  if (packagePlan.action === 'create') {
    await write('package.json', packagePlan.text, 'wx');
    lines.push(`  ${io.style('green', 'created')} package.json`);
  } else {
    if (packagePlan.action === 'merge') {
      await write('package.json', packagePlan.text, 'w');
      lines.push(
        `  ${io.style('green', 'updated')} package.json: added ${packagePlan.merge.added.join(', ')}`,
      );
    } else lines.push(`  ${io.style('yellow', 'unchanged')} package.json: it has everything init adds`);
    for (const { key, value, wanted } of packagePlan.merge.kept) {
      lines.push(
        `  ${io.style('yellow', 'kept')} package.json ${key}: ${JSON.stringify(value)} (init would write ${JSON.stringify(wanted)})`,
      );
    }
  }

  const steps = [
    ...(shownDirectory === '' ? [] : [[`cd ${typed(shownDirectory)}`, '']]),
    ['npm install', 'install what package.json lists'],
    ['npm run validate', 'check the config, its playbooks and custom actions'],
    ['npm test', "run the playbooks' cases and the action's tests, offline"],
    ['npm run build', 'bundle the function into dist/riposte/'],
    ['npm run template', 'write its CloudFormation template to template.yaml'],
  ];
  const width = Math.max(...steps.map(([command]) => command!.length));
  io.stdout(
    [
      `${io.style('bold', 'riposte init')}: scaffolded a Riposte project in ${shownDirectory === '' ? 'the current directory' : shownDirectory}`,
      ...lines,
      '',
      'Next steps:',
      ...steps.map(([command, what]) => `  ${command!.padEnd(width)}  ${what}`.trimEnd()),
      '',
      'Set your evidence bucket in playbooks/archive-c2-findings.yaml; the config starts in dry-run mode.',
    ].join('\n'),
  );
  return EXIT.ok;
};
