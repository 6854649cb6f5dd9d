import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ConfigurationError, type ConfigurationIssue } from '@riposte/core';
import type { BuildFailure } from 'esbuild';
import { parseCommandArgs } from '../args.js';
import { bundleFunction, INIT_BUDGET_BYTES } from '../build/bundle.js';
import {
  fingerprintOf,
  hashFiles,
  MANIFEST_FILE,
  type Manifest,
  riposteVersions,
  sha256,
} from '../build/manifest.js';
import { zipFiles } from '../build/zip.js';
import { DEFAULT_OUT_DIR, type Project } from '../config/load.js';
import { loadProjectPlaybooks } from '../config/playbooks.js';
import type { CliErrorCode } from '../errors.js';
import { type CliIO, EXIT } from '../io.js';
import { CONFIG_OPTION, projectOf } from '../load.js';

export const buildHelp = `riposte build [--out <dir>] [--config <file>] [--json]
  Bundles the Lambda function with esbuild: the project's playbooks (riposte.config.mjs, else the
  shipped @riposte/rules), compiled now, and its custom actions, registered beside the built-ins.
  Writes handler.mjs, function.zip (what CloudFormation deploys) and manifest.json (the packages,
  playbooks with their hashes, actions and bundled project files) to --out (default: the
  configuration's outDir, else dist/riposte). A playbook or custom action that fails validation fails
  the build with file:line:column. riposte template reads the manifest.`;

/** esbuild could not bundle the project (a custom action imports what is not installed, a syntax error). */
export class BuildError extends ConfigurationError<CliErrorCode> {
  static override readonly errorName: string = 'BuildError';

  constructor(issues: ConfigurationIssue[], options: { cause?: unknown } = {}) {
    super('BUILD_FAILED', `${issues.length} problem(s) bundling the function`, issues, options);
  }
}

const isBuildFailure = (error: unknown): error is BuildFailure =>
  error instanceof Error && Array.isArray((error as Partial<BuildFailure>).errors);

const kilobytes = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;

/** Where a project's build goes: --out (from the working directory), the configuration's, the default. */
export const outDirOf = (project: Project, given: string | undefined, io: CliIO): string =>
  given !== undefined
    ? resolve(io.cwd, given)
    : resolve(project.root, project.config.outDir ?? DEFAULT_OUT_DIR);

export const runBuild = async (args: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    { out: { type: 'string' }, json: { type: 'boolean' }, ...CONFIG_OPTION },
    false,
  );
  const project = await projectOf(io, values.config);
  const playbooks = (await loadProjectPlaybooks(project)).map(({ playbook }) => playbook);
  if (playbooks.length === 0) {
    io.stderr(`${io.style('red', 'invalid')}: the project has no playbooks: the function would never act`);
    return EXIT.failed;
  }
  const outDir = outDirOf(project, values.out, io);
  let bundled: Awaited<ReturnType<typeof bundleFunction>>;
  try {
    bundled = await bundleFunction({
      playbooks,
      root: project.root,
      outDir,
      actions: project.registry.list(),
      ...(project.file ? { configFile: project.file } : {}),
    });
  } catch (error) {
    if (!isBuildFailure(error)) throw error;
    throw new BuildError(
      error.errors.map((message) => ({
        file: message.location?.file ?? project.file ?? '(bundle)',
        line: message.location?.line ?? 0,
        column: (message.location?.column ?? -1) + 1,
        pointer: '',
        message: message.text,
      })),
      { cause: error },
    );
  }

  const zip = zipFiles(Object.fromEntries(bundled.files));
  const handler = bundled.files.get('handler.mjs')!;
  const bundleBytes = [...bundled.files.values()].reduce((total, file) => total + file.byteLength, 0);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'function.zip'), zip);
  const sourceHashes = await hashFiles(project.root, bundled.sources);
  const manifest: Manifest = {
    manifestVersion: 1,
    ...fingerprintOf(project, playbooks, await riposteVersions()),
    ...(project.file ? { config: relative(project.root, project.file).split(sep).join('/') } : {}),
    sources: bundled.sources.map((path) => ({ path, sha256: sourceHashes.get(path)! })),
    handler: { file: 'handler.mjs', bytes: handler.byteLength, sha256: sha256(handler) },
    bundle: { files: bundled.files.size, bytes: bundleBytes, initBytes: bundled.initBytes },
    zip: { file: 'function.zip', bytes: zip.byteLength, sha256: sha256(zip) },
  };
  await writeFile(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

  if (values.json) {
    io.stdout(JSON.stringify({ outDir, ...manifest }, null, 2));
    return EXIT.ok;
  }
  const shown = relative(io.cwd, outDir) || '.';
  const custom = manifest.actions.filter((action) => action.origin === 'custom').map((action) => action.name);
  io.stdout(
    `${io.style('green', 'built')} ${shown}/handler.mjs and ${bundled.files.size - 1} more file(s), ${kilobytes(bundleBytes)} (${kilobytes(bundled.initBytes)} loaded at init), function.zip ${kilobytes(manifest.zip.bytes)}, manifest.json`,
  );
  io.stdout(
    `  ${playbooks.length} playbook(s): ${playbooks.map((playbook) => playbook.name).join(', ')}` +
      (custom.length > 0 ? `\n  custom action(s): ${custom.join(', ')}` : ''),
  );
  io.stdout(
    io.style(
      'dim',
      `  largest: ${bundled.largest.map(({ name, bytes }) => `${name} ${kilobytes(bytes)}`).join(', ')}`,
    ),
  );
  if (bundled.initBytes > INIT_BUDGET_BYTES) {
    io.stderr(
      io.style(
        'yellow',
        `initialisation loads ${kilobytes(bundled.initBytes)}, over ${kilobytes(INIT_BUDGET_BYTES)}: a cold start is slower; check what the custom actions import at their top level`,
      ),
    );
  }
  return EXIT.ok;
};
