// Benchmark 2: cold start. A fresh `node` imports dist/handler.mjs and handles the canonical event in
// enforce mode against fake-aws, against a fresh `python3` running the naive boto3 responder on the
// same endpoint. Rounds alternate which goes first; each run gets a freshly seeded account.
// Usage alone: node bench/cold-start.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeAws, log, median, path } from './lib/common.mjs';

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

/** Runs a command to its exit; wall time from spawn to exit, as the parent sees it. */
const timed = (command, args, env) =>
  new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, wallMs: performance.now() - started, stdout, stderr }));
  });

/** What a Lambda container has: the endpoint and dummy keys, never the developer's AWS configuration. */
const containerEnv = (fake, directory, extra) => ({
  PATH: process.env.PATH,
  HOME: directory,
  ...fake.env(),
  AWS_CONFIG_FILE: join(directory, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(directory, 'no-credentials'),
  ...extra,
});

const riposteRun = async (aws, directory, bundle = BUNDLE) => {
  const fake = await aws.startFakeAws({ seed: aws.scenarioSeed() });
  // GuardDuty holds the finding, so the function's re-read (GetFindings) verifies it.
  aws.holdFindings(fake.state, [JSON.parse(readFileSync(EVENT, 'utf8'))]);
  try {
    const resultFile = join(directory, 'riposte.json');
    rmSync(resultFile, { force: true });
    const env = containerEnv(fake, directory, {
      RIPOSTE_MODE: 'enforce',
      RIPOSTE_SNS_TOPIC_ARN: aws.SCENARIO.topicArn,
      BENCH_ACCOUNT_ID: aws.SCENARIO.accountId,
    });
    const run = await timed(process.execPath, [CHILD, bundle, EVENT, resultFile], env);
    if (run.code !== 0) throw new Error(`the Riposte cold start failed (exit ${run.code}): ${run.stderr}`);
    const result = JSON.parse(readFileSync(resultFile, 'utf8'));
    const mutations = fake.mutatingCalls().map((call) => `${call.service} ${call.operation}`);
    if (result.outcome !== 'applied' || !mutations.includes('EC2 DisassociateIamInstanceProfile')) {
      throw new Error(`the Riposte cold start did not remediate: ${JSON.stringify(result)} ${mutations}`);
    }
    return { ...result, wallMs: run.wallMs, calls: fake.calls.length, mutations: mutations.length };
  } finally {
    await fake.close();
  }
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
export const compareBundles = async (bundles, rounds = 8) => {
  const aws = await fakeAws();
  const directory = mkdtempSync(join(tmpdir(), 'riposte-bench-'));
  try {
    const runs = bundles.map(() => []);
    for (let round = 0; round < rounds; round++) {
      const order =
        round % 2 === 0 ? bundles.map((_, i) => i) : bundles.map((_, i) => bundles.length - 1 - i);
      for (const index of order) runs[index].push(await riposteRun(aws, directory, bundles[index]));
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

export const runColdStart = async ({ rounds = 7 } = {}) => {
  const aws = await fakeAws();
  const directory = mkdtempSync(join(tmpdir(), 'riposte-bench-'));
  const python = pythonWithBoto3();
  const withBaseline = python !== undefined;
  try {
    // One unmeasured run of each warms the page cache, as a warm Lambda host's disk would be.
    await riposteRun(aws, directory);
    if (withBaseline) await naiveRun(aws, directory, python);
    const riposte = [];
    const naive = [];
    const floors = [];
    const pythonFloors = [];
    const ratios = [];
    for (let round = 0; round < rounds; round++) {
      let ours;
      let theirs;
      if (round % 2 === 0 || !withBaseline) {
        ours = await riposteRun(aws, directory);
        theirs = withBaseline ? await naiveRun(aws, directory, python) : undefined;
      } else {
        theirs = await naiveRun(aws, directory, python);
        ours = await riposteRun(aws, directory);
      }
      floors.push(await floor(process.execPath, ['-e', '0'], directory));
      if (withBaseline) pythonFloors.push(await floor(python, ['-c', 'pass'], directory));
      riposte.push(ours);
      if (theirs) {
        naive.push(theirs);
        ratios.push(ours.wallMs / theirs.wallMs);
      }
    }
    const pick = (runs, field) => median(runs.map((run) => run[field]));
    const result = {
      rounds,
      riposte: {
        wallMs: pick(riposte, 'wallMs'),
        startupMs: pick(riposte, 'startupMs'),
        importMs: pick(riposte, 'importMs'),
        handleMs: pick(riposte, 'handleMs'),
        verifyMs: pick(riposte, 'verifyMs'),
        returnedAtMs: pick(riposte, 'returnedAtMs'),
        peakRssMb: pick(riposte, 'peakRssKb') / 1024,
        maxPeakRssMb: Math.max(...riposte.map((run) => run.peakRssKb)) / 1024,
        calls: riposte[0].calls,
        mutations: riposte[0].mutations,
        walls: riposte.map((run) => run.wallMs),
      },
      nodeFloorMs: median(floors),
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
      ratio: withBaseline ? median(ratios) : undefined,
      ratios,
    };
    log(
      `cold start: riposte ${result.riposte.wallMs.toFixed(0)} ms (import ${result.riposte.importMs.toFixed(0)}, handle ${result.riposte.handleMs.toFixed(0)}), ` +
        `peak RSS ${result.riposte.peakRssMb.toFixed(1)} MB; ` +
        (withBaseline
          ? `boto3 baseline ${result.naive.wallMs.toFixed(0)} ms, ratio ${result.ratio.toFixed(2)}`
          : 'boto3 baseline skipped (python3 cannot import boto3)'),
    );
    return result;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  // `node bench/cold-start.mjs a.mjs b.mjs` compares bundles; with no argument, the benchmark itself.
  const bundles = process.argv.slice(2);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  const result = bundles.length > 0 ? await compareBundles(bundles, rounds) : await runColdStart({ rounds });
  console.log(JSON.stringify(result, null, 2));
}
