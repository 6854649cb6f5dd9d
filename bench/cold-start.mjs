// Benchmark 2: cold start. A fresh `node` imports dist/handler.mjs and handles the canonical event in
// enforce mode against fake-aws, against a fresh `python3` running the naive boto3 responder on the
// same endpoint. Rounds alternate which goes first; each run gets a freshly seeded account.
// Usage alone: node bench/cold-start.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { containerEnv, fakeAws, log, median, path, timed } from './lib/common.mjs';
import { node22 } from './lib/node22.mjs';

const BUNDLE = path('dist/riposte/handler.mjs');
const EVENT = path('examples/scenario/findings/01-instance-credential-exfiltration.json');
const CHILD = path('bench/cold-start-child.mjs');
const NAIVE = path('bench/naive_responder.py');

/**
 * The Python interpreter itself, when it can import boto3 (the baseline is skipped, with a note, when
 * it cannot). Spawned directly: a version manager's `python3` shim (pyenv's is a bash script) would
 * add its own start-up to the baseline's.
 */
export const pythonWithBoto3 = () => {
  const probe = spawnSync('python3', ['-c', 'import sys, boto3; print(sys.executable)'], {
    encoding: 'utf8',
  });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
};

/** One cold start of `file` (a bundle exporting `handler`) on `node`, against a freshly seeded fake-aws. */
const childRun = async (aws, directory, file, node, extraEnv) => {
  const fake = await aws.startFakeAws({ seed: aws.scenarioSeed() });
  // GuardDuty holds the finding, so the function's re-read (GetFindings) verifies it.
  aws.holdFindings(fake.state, [JSON.parse(readFileSync(EVENT, 'utf8'))]);
  try {
    const resultFile = join(directory, 'result.json');
    rmSync(resultFile, { force: true });
    const run = await timed(node, [CHILD, file, EVENT, resultFile], containerEnv(fake, directory, extraEnv));
    if (run.code !== 0) throw new Error(`the cold start of ${file} failed (exit ${run.code}): ${run.stderr}`);
    const named = (call) => `${call.service} ${call.operation}`;
    return {
      ...JSON.parse(readFileSync(resultFile, 'utf8')),
      wallMs: run.wallMs,
      calls: fake.calls.length,
      callNames: fake.calls.map(named),
      mutations: fake.mutatingCalls().map(named),
    };
  } finally {
    await fake.close();
  }
};

const riposteRun = async (aws, directory, bundle = BUNDLE, node = process.execPath) => {
  const result = await childRun(aws, directory, bundle, node, {
    RIPOSTE_MODE: 'enforce',
    RIPOSTE_SNS_TOPIC_ARN: aws.SCENARIO.topicArn,
    BENCH_ACCOUNT_ID: aws.SCENARIO.accountId,
  });
  if (result.outcome !== 'applied' || !result.mutations.includes('EC2 DisassociateIamInstanceProfile')) {
    throw new Error(`the Riposte cold start did not remediate: ${JSON.stringify(result)}`);
  }
  return { ...result, mutations: result.mutations.length };
};

/**
 * Yardsticks for the target, each on the deployed runtime: Riposte's own calls for this finding made
 * straight on the AWS SDK v3 (the least a response making them through the SDK can cost), and the
 * baseline's work in JavaScript, on the SDK and with requests signed by hand. The SDK ones are bundled
 * as `riposte build` bundles the function.
 */
const REFERENCES = [
  {
    name: "Riposte's calls, straight on the AWS SDK v3",
    source: 'bench/responders/riposte-calls-sdk.mjs',
    bundle: true,
    makesRipostesCalls: true,
  },
  { name: "the baseline's work on the AWS SDK v3", source: 'bench/responders/naive-sdk.mjs', bundle: true },
  {
    name: "the baseline's work, requests signed by hand (no SDK)",
    source: 'bench/responders/naive-signed.mjs',
  },
];

/** An SDK reference as the function is bundled: ES modules, minified, the SDK's unused schemas dropped. */
const bundleReference = async (source, outDir) => {
  const [{ build }, { pureSdkSchemas }] = await Promise.all([
    import('esbuild'),
    import(pathToFileURL(path('packages/cli/dist/build/plugins.js')).href),
  ]);
  const outfile = join(outDir, 'handler.mjs');
  await build({
    entryPoints: [path(source)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    minify: true,
    logLevel: 'silent',
    // The SDK is a dependency of @riposte/actions, not of the workspace root.
    nodePaths: [path('packages/actions/node_modules')],
    banner: {
      js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);",
    },
    plugins: [pureSdkSchemas],
  });
  return outfile;
};

/** `ripostesCalls`: what Riposte's own run called, which a reference made to mirror it must repeat. */
const referenceRun = async (aws, directory, reference, node, ripostesCalls) => {
  const result = await childRun(aws, directory, reference.file, node, {
    RIPOSTE_SNS_TOPIC_ARN: aws.SCENARIO.topicArn,
  });
  const did = (call) => result.mutations.includes(call);
  if (reference.makesRipostesCalls) {
    const sorted = (calls) => [...calls].sort().join(', ');
    if (sorted(result.callNames) !== sorted(ripostesCalls)) {
      throw new Error(
        `${reference.source} no longer makes Riposte's calls: it made ${sorted(result.callNames)}; Riposte made ${sorted(ripostesCalls)}`,
      );
    }
  } else if (!did('EC2 DisassociateIamInstanceProfile') || !did('S3 PutPublicAccessBlock')) {
    throw new Error(`${reference.source} did not do the baseline's work: ${result.mutations}`);
  }
  return { ...result, mutations: result.mutations.length };
};

const naiveRun = async (aws, directory, python) => {
  const fake = await aws.startFakeAws({ seed: aws.scenarioSeed() });
  try {
    const run = await timed(python, [NAIVE, EVENT], containerEnv(fake, directory, {}));
    if (run.code !== 0) throw new Error(`the boto3 baseline failed (exit ${run.code}): ${run.stderr}`);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1));
    if (result.disassociated.length === 0) throw new Error('the boto3 baseline disassociated nothing');
    return {
      ...result,
      wallMs: run.wallMs,
      calls: fake.calls.length,
      mutations: fake.mutatingCalls().length,
    };
  } finally {
    await fake.close();
  }
};

/** The floors: an interpreter that does nothing, spawned the same way. */
const floor = async (command, args, directory) =>
  (await timed(command, args, { PATH: process.env.PATH, HOME: directory })).wallMs;

/** Alternates two bundles (say, before and after a change to the bundle script): medians of each. */
export const compareBundles = async (bundles, rounds = 8, node = process.execPath) => {
  const aws = await fakeAws();
  const directory = mkdtempSync(join(tmpdir(), 'riposte-bench-'));
  try {
    const runs = bundles.map(() => []);
    for (let round = 0; round < rounds; round++) {
      const order =
        round % 2 === 0 ? bundles.map((_, i) => i) : bundles.map((_, i) => bundles.length - 1 - i);
      for (const index of order) runs[index].push(await riposteRun(aws, directory, bundles[index], node));
    }
    return bundles.map((bundle, index) => ({
      bundle,
      wallMs: median(runs[index].map((run) => run.wallMs)),
      importMs: median(runs[index].map((run) => run.importMs)),
      handleMs: median(runs[index].map((run) => run.handleMs)),
      peakRssMb: median(runs[index].map((run) => run.peakRssKb)) / 1024,
    }));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

/** A runtime the cold start is measured on: a name for the report and the `node` binary to spawn. */
const currentNode = () => ({ name: `Node ${process.versions.node.split('.')[0]}`, node: process.execPath });

/**
 * Riposte's cold start on each runtime against the Python baseline. Every round runs each of them once,
 * in an order rotated round by round, so no runtime always goes first or follows the same neighbour;
 * each runtime's ratio is the median of its per-round ratios to the baseline of the same round.
 */
export const runColdStart = async ({ rounds = 7, runtimes = [currentNode()] } = {}) => {
  const aws = await fakeAws();
  const directory = mkdtempSync(join(tmpdir(), 'riposte-bench-'));
  const python = pythonWithBoto3();
  const withBaseline = python !== undefined;
  try {
    const deployed = runtimes[0];
    const references = [];
    for (const [index, reference] of REFERENCES.entries()) {
      const file = reference.bundle
        ? await bundleReference(reference.source, join(directory, `reference-${index}`))
        : path(reference.source);
      references.push({ ...reference, file });
    }
    // One unmeasured run of each warms the page cache, as a warm Lambda host's disk would be.
    const warmed = [];
    for (const runtime of runtimes) warmed.push(await riposteRun(aws, directory, BUNDLE, runtime.node));
    const ripostesCalls = warmed[0].callNames;
    for (const reference of references)
      await referenceRun(aws, directory, reference, deployed.node, ripostesCalls);
    // Each participant but the baseline: Riposte on every runtime, then the references on the deployed one.
    const contenders = [
      ...runtimes.map((runtime) => () => riposteRun(aws, directory, BUNDLE, runtime.node)),
      ...references.map(
        (reference) => () => referenceRun(aws, directory, reference, deployed.node, ripostesCalls),
      ),
    ];
    if (withBaseline) await naiveRun(aws, directory, python);
    const runs = contenders.map(() => []);
    const ratios = contenders.map(() => []);
    const floors = runtimes.map(() => []);
    const naive = [];
    const pythonFloors = [];
    const participants = [...contenders.keys(), ...(withBaseline ? ['python'] : [])];
    for (let round = 0; round < rounds; round++) {
      const shift = round % participants.length;
      const order = [...participants.slice(shift), ...participants.slice(0, shift)];
      const ours = [];
      let theirs;
      for (const who of order) {
        if (who === 'python') theirs = await naiveRun(aws, directory, python);
        else ours[who] = await contenders[who]();
      }
      for (const index of contenders.keys()) {
        runs[index].push(ours[index]);
        if (theirs) ratios[index].push(ours[index].wallMs / theirs.wallMs);
      }
      if (theirs) naive.push(theirs);
      for (const [index, runtime] of runtimes.entries()) {
        floors[index].push(await floor(runtime.node, ['-e', '0'], directory));
      }
      if (withBaseline) pythonFloors.push(await floor(python, ['-c', 'pass'], directory));
    }
    const pick = (list, field) => median(list.map((run) => run[field]));
    const result = {
      rounds,
      runtimes: runtimes.map((runtime, index) => ({
        name: runtime.name,
        version: spawnSync(runtime.node, ['--version'], { encoding: 'utf8' }).stdout.trim(),
        wallMs: pick(runs[index], 'wallMs'),
        startupMs: pick(runs[index], 'startupMs'),
        importMs: pick(runs[index], 'importMs'),
        handleMs: pick(runs[index], 'handleMs'),
        verifyMs: pick(runs[index], 'verifyMs'),
        peakRssMb: pick(runs[index], 'peakRssKb') / 1024,
        maxPeakRssMb: Math.max(...runs[index].map((run) => run.peakRssKb)) / 1024,
        calls: runs[index][0].calls,
        mutations: runs[index][0].mutations,
        walls: runs[index].map((run) => run.wallMs),
        floorMs: median(floors[index]),
        ratio: withBaseline ? median(ratios[index]) : undefined,
        ratios: ratios[index],
      })),
      references: references.map((reference, at) => {
        const index = runtimes.length + at;
        return {
          name: reference.name,
          source: reference.source,
          runtime: deployed.name,
          wallMs: pick(runs[index], 'wallMs'),
          startupMs: pick(runs[index], 'startupMs'),
          importMs: pick(runs[index], 'importMs'),
          handleMs: pick(runs[index], 'handleMs'),
          peakRssMb: pick(runs[index], 'peakRssKb') / 1024,
          calls: runs[index][0].calls,
          services: new Set(runs[index][0].callNames.map((call) => call.split(' ')[0])).size,
          mutations: runs[index][0].mutations,
          walls: runs[index].map((run) => run.wallMs),
          ratio: withBaseline ? median(ratios[index]) : undefined,
        };
      }),
      pythonFloorMs: withBaseline ? median(pythonFloors) : undefined,
      python,
      naive: withBaseline
        ? {
            wallMs: pick(naive, 'wallMs'),
            importMs: pick(naive, 'importMs'),
            handleMs: pick(naive, 'handleMs'),
            peakRssMb: pick(naive, 'peakRssKb') / 1024,
            calls: naive[0].calls,
            mutations: naive[0].mutations,
            disassociated: naive[0].disassociated.length,
            walls: naive.map((run) => run.wallMs),
          }
        : undefined,
    };
    for (const runtime of result.runtimes) {
      log(
        `cold start on ${runtime.name}: riposte ${runtime.wallMs.toFixed(0)} ms (import ${runtime.importMs.toFixed(0)}, handle ${runtime.handleMs.toFixed(0)}), ` +
          `peak RSS ${runtime.peakRssMb.toFixed(1)} MB; ` +
          (withBaseline
            ? `boto3 baseline ${result.naive.wallMs.toFixed(0)} ms, ratio ${runtime.ratio.toFixed(2)}`
            : 'boto3 baseline skipped (python3 cannot import boto3)'),
      );
    }
    for (const reference of result.references) {
      log(
        `cold start of ${reference.name} on ${reference.runtime}: ${reference.wallMs.toFixed(0)} ms` +
          (withBaseline ? `, ratio ${reference.ratio.toFixed(2)}` : ''),
      );
    }
    return result;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  // `node bench/cold-start.mjs a.mjs b.mjs` compares bundles; with no argument, the benchmark itself
  // (on this Node, and on Node 22 first with BENCH_NODE_22=1).
  const bundles = process.argv.slice(2);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  const runtimes = process.env.BENCH_NODE_22
    ? [{ name: 'Node 22', node: node22() }, currentNode()]
    : undefined;
  const result =
    bundles.length > 0
      ? await compareBundles(bundles, rounds, runtimes?.[0].node)
      : await runColdStart({ rounds, runtimes });
  console.log(JSON.stringify(result, null, 2));
}
