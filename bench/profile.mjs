// Where a cold start's time goes: the canonical cold start (as cold-start.mjs runs it) of a bundle
// built without minification, under `node --cpu-prof`. esbuild writes `// <path>` before each module
// of an unminified bundle, so every sample's line names the package whose code was running; samples
// are split at the moment the import (init) ended. Usage alone: node bench/profile.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { containerEnv, fakeAws, log, path } from './lib/common.mjs';

const EVENT = path('examples/scenario/findings/01-instance-credential-exfiltration.json');
const CHILD = path('bench/cold-start-child.mjs');
/** Sampling every 100 µs: fine enough for a run of a few hundred milliseconds. */
const INTERVAL_US = 100;

const cli = (module) => import(pathToFileURL(path(`packages/cli/dist/${module}`)).href);

/** The project's bundle, unminified, into `outDir`: the same inputs `riposte build` bundles. */
const buildUnminified = async (outDir) => {
  const [{ loadProject }, { loadProjectPlaybooks }, { bundleFunction }] = await Promise.all([
    cli('config/load.js'),
    cli('config/playbooks.js'),
    cli('build/bundle.js'),
  ]);
  const project = await loadProject(path(''));
  const playbooks = (await loadProjectPlaybooks(project)).map(({ playbook }) => playbook);
  const built = await bundleFunction({
    playbooks,
    root: project.root,
    outDir,
    actions: project.registry.list(),
    minify: false,
    ...(project.file ? { configFile: project.file } : {}),
  });
  return built.handlerFile;
};

/** Where each module of an unminified output file starts: [line, module path], in line order. */
const moduleStarts = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, index) => {
      const marker = /^\/\/ (\S+\.(?:m?js|cjs|json))$/.exec(line);
      return marker ? [[index, marker[1]]] : [];
    });

/** The package a module path belongs to: an npm package, or a Riposte package's directory. */
const packageOf = (module) => {
  const installed = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(module);
  if (installed) return installed[1];
  const own = /packages\/([^/]+)\/dist\/([^/.]+)/.exec(module);
  return own ? `@riposte/${own[1]} ${own[2]}` : module;
};

/** Self time per package (or V8 / Node.js category) in a profile, split at `splitUs`. */
export const breakdown = (profile, outDir, splitUs) => {
  const starts = new Map();
  const owner = (frame) => {
    if (frame.url === '') {
      const name = frame.functionName || 'native';
      return name.startsWith('(') ? name : `(${name})`;
    }
    // V8 compiling a module's code is sampled inside Node.js's module loader.
    if (frame.url.startsWith('node:internal/modules/')) return 'loading and compiling modules';
    if (frame.url.startsWith('node:')) return 'Node.js built-ins (http, net, streams, crypto)';
    const file = frame.url.replace(/^file:\/\//, '');
    if (!file.startsWith(outDir)) return 'bench harness';
    if (!starts.has(file)) starts.set(file, moduleStarts(file));
    let found = '(esbuild runtime)';
    for (const [line, module] of starts.get(file)) {
      if (line > frame.lineNumber) break;
      found = packageOf(module);
    }
    return found;
  };
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const phases = { import: new Map(), handle: new Map() };
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas[index];
    const spent = (profile.timeDeltas[index + 1] ?? 0) / 1000;
    const phase = at < splitUs ? phases.import : phases.handle;
    const key = owner(nodes.get(id).callFrame);
    phase.set(key, (phase.get(key) ?? 0) + spent);
  });
  const rows = (phase) => {
    const total = [...phase.values()].reduce((sum, ms) => sum + ms, 0);
    return {
      totalMs: total,
      top: [...phase.entries()]
        .filter(([key]) => key !== '(idle)' && key !== 'bench harness')
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([owner, ms]) => ({ owner, ms, share: ms / total })),
      idleMs: phase.get('(idle)') ?? 0,
    };
  };
  return { import: rows(phases.import), handle: rows(phases.handle) };
};

/** One profiled cold start on `node` (default: this one). */
export const runProfile = async ({
  node = process.execPath,
  name = `Node ${process.versions.node}`,
} = {}) => {
  const directory = mkdtempSync(join(tmpdir(), 'riposte-profile-'));
  const aws = await fakeAws();
  const fake = await aws.startFakeAws({ seed: aws.scenarioSeed() });
  try {
    const outDir = join(directory, 'bundle');
    const handler = await buildUnminified(outDir);
    aws.holdFindings(fake.state, [JSON.parse(readFileSync(EVENT, 'utf8'))]);
    const profiles = join(directory, 'profiles');
    const resultFile = join(directory, 'result.json');
    const env = containerEnv(fake, directory, {
      RIPOSTE_MODE: 'enforce',
      RIPOSTE_SNS_TOPIC_ARN: aws.SCENARIO.topicArn,
      BENCH_ACCOUNT_ID: aws.SCENARIO.accountId,
    });
    const args = ['--cpu-prof', `--cpu-prof-dir=${profiles}`, `--cpu-prof-interval=${INTERVAL_US}`];
    const code = await new Promise((resolve) => {
      const child = spawn(node, [...args, CHILD, handler, EVENT, resultFile], { env, stdio: 'ignore' });
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`the profiled cold start failed (exit ${code})`);
    const result = JSON.parse(readFileSync(resultFile, 'utf8'));
    const [file] = readdirSync(profiles);
    const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8'));
    const split = breakdown(profile, outDir, result.importedAtUs);
    log(
      `profile on ${name}: import ${split.import.totalMs.toFixed(0)} ms of samples, handle ${split.handle.totalMs.toFixed(0)} ms`,
    );
    return { name, intervalUs: INTERVAL_US, ...split };
  } finally {
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runProfile(), null, 2));
}
