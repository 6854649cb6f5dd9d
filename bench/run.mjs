// `pnpm bench`: runs every benchmark against the built packages and writes BENCHMARKS.md.
// `node bench/run.mjs --only matching,cold-start` runs some and prints them without writing the file.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { runColdStart } from './cold-start.mjs';
import { CONTAINMENT_ROUNDS_TARGET, runContainment, runLatency } from './latency.mjs';
import { fixed, log, micros, path } from './lib/common.mjs';
import { node22 } from './lib/node22.mjs';
import { runMatching } from './matching.mjs';
import { runProfile } from './profile.mjs';
import { runReliability } from './reliability-counts.mjs';
import { INIT_BUDGET_BYTES, runSize } from './size.mjs';

const STEPS = ['matching', 'cold-start', 'profile', 'latency', 'containment', 'size', 'reliability'];
const onlyFlag = process.argv.indexOf('--only');
const only = onlyFlag === -1 ? STEPS : (process.argv[onlyFlag + 1] ?? '').split(',');

/**
 * The deployed runtime (`nodejs22.x`) and the one running the bench, when it is another: a cold start
 * must meet its target on both.
 */
const runtimes = () => {
  const deployed = { name: 'Node 22', node: node22() };
  const major = process.versions.node.split('.')[0];
  return major === '22' ? [deployed] : [deployed, { name: `Node ${major}`, node: process.execPath }];
};

const started = performance.now();
const results = {};
if (only.includes('matching')) results.matching = await runMatching({ budgetMsPerSize: 12_000 });
if (only.includes('cold-start')) results.coldStart = await runColdStart({ rounds: 7, runtimes: runtimes() });
if (only.includes('profile')) results.profile = await runProfile(runtimes()[0]);
if (only.includes('latency')) results.latency = await runLatency({ rounds: 3 });
if (only.includes('containment')) results.containment = await runContainment({ rounds: 3 });
if (only.includes('size')) results.size = runSize();
if (only.includes('reliability')) results.reliability = await runReliability();
const elapsed = (performance.now() - started) / 1000;
log(`done in ${elapsed.toFixed(0)} s`);

if (onlyFlag !== -1) {
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}

// ---- BENCHMARKS.md ---------------------------------------------------------------------------------

const yes = (met) => (met ? 'met' : '**not met**');
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const { matching, coldStart, profile, latency, containment, size, reliability } = results;
const at1000 = matching.results.find((result) => result.size === 1000);
const executeClose = latency.execute.measuredMs <= latency.execute.criticalMs * 1.25;

const lines = [];
const add = (...more) => lines.push(...more);

add(
  '# Benchmarks',
  '',
  'Written by `pnpm bench` (`node bench/run.mjs` after the build); every figure below is from the run that',
  'wrote this file. The machine is shared and noisy, so each comparison is a ratio of A and B measured in',
  'the same run, alternated in rounds (order flipped each round); medians are reported.',
  '',
  `- Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GB memory`,
  `- Node.js ${process.version} (${process.platform} ${process.arch})`,
  `- Date: ${new Date().toISOString()}`,
  `- Whole run: ${elapsed.toFixed(0)} s`,
  '',
  '## Targets',
  '',
  '| target | measured | |',
  '| --- | --- | --- |',
  `| matching at 1,000 playbooks: ≥ 20× the naive throughput | ×${fixed(at1000.speedup, 0)} (lowest round ×${fixed(at1000.speedupMin, 0)}) | ${yes(at1000.speedup >= 20)} |`,
  `| matching one finding costs no more than \`JSON.parse\` of its event (1,000 playbooks) | ${fixed(at1000.matchOverParse, 2)}× (mean match ${micros(at1000.riposte.meanMs)} µs, parse ${micros(at1000.jsonParse.meanMs)} µs) | ${yes(at1000.matchOverParse <= 1)} |`,
  ...coldStart.runtimes.map((runtime) =>
    runtime.ratio === undefined
      ? `| cold start on ${runtime.name} ≤ 1/3 of the Python + boto3 baseline | baseline skipped: python3 cannot import boto3 | not measured |`
      : `| cold start on ${runtime.name} ≤ 1/3 of the Python + boto3 baseline | ${fixed(runtime.ratio, 2)} (${fixed(runtime.wallMs, 0)} ms vs ${fixed(coldStart.naive.wallMs, 0)} ms) | ${yes(runtime.ratio <= 1 / 3)} |`,
  ),
  ...coldStart.runtimes.map(
    (runtime) =>
      `| cold start peak RSS on ${runtime.name} ≤ 100 MB | ${fixed(runtime.maxPeakRssMb, 1)} MB (highest of ${coldStart.rounds}) | ${yes(runtime.maxPeakRssMb <= 100)} |`,
  ),
  `| remediation with ${latency.latencyMs} ms per call completes close to its critical path, not the sum of its calls | execute ${fixed(latency.execute.measuredMs, 0)} ms; critical path ${latency.execute.criticalMs} ms; sum ${latency.execute.sumMs} ms | ${yes(executeClose && latency.execute.measuredMs < latency.execute.sumMs)} |`,
  `| time to containment with ${containment.latencyMs} ms per call (warm, verification included): ≤ ${CONTAINMENT_ROUNDS_TARGET} sequential round trips before the first containing call leaves | ${containment.roundTrips} round trips, ${fixed(containment.containMs, 0)} ms (${containment.containingCall}) | ${yes(containment.roundTrips <= CONTAINMENT_ROUNDS_TARGET)} |`,
  `| code loaded at init (\`handler.mjs\` and its static chunks) ≤ 1 MB | ${mb(size.initBytes)} | ${yes(size.initBytes <= INIT_BUDGET_BYTES)} |`,
  '',
);

add(
  '## 1. Matching',
  '',
  `Findings: the ${matching.corpus} real-shaped findings the project keeps (\`packages/core/tests/fixtures/findings\`,`,
  '`rules/findings`), each normalized once; the event text is the file as EventBridge delivers it (compact JSON).',
  'Playbooks are generated with a fixed seed over the GuardDuty finding-type catalog',
  '(`packages/core/src/catalog/data/guardduty-finding-types.json`, current types): 98% name types (60% one to',
  'three exact types, 25% a family such as `Purpose:Resource/Family*`, 10% a whole resource `Purpose:Resource/*`,',
  '3% a whole purpose `Purpose:**`, 2% every type of a resource `*:Resource/**`), 2% only tactics or techniques;',
  'then severities (35% a minimum, 10% labels), resource kinds (20%), principals (8%), accounts and regions (10%',
  'each), techniques and tactics (6% each), tags taken from the samples (8%), json-rules-engine conditions (15%)',
  'and an exclusion (10%). Default exclusions are off on both sides, so both judge the same criteria.',
  '',
  '- **Riposte**: `createMatcher(playbooks).match(finding)` (type index, precompiled checks, condition trees).',
  '- **Naive**: one json-rules-engine `Engine` with one rule per playbook whose conditions express the same',
  '  criteria (custom operators for type patterns, resource kinds, principals, techniques, tactics and tags;',
  '  exclusions as `not`), `engine.run(finding)` per finding. Before timing, both must return the same playbooks',
  '  for every finding the naive side runs (at 1,000 and 5,000 playbooks an even spread of the findings, so the',
  '  naive side finishes in time).',
  '- Speedup: per-finding time of naive over Riposte, the two alternated in rounds on the same findings.',
  "- Against `JSON.parse`: Riposte and `JSON.parse` of each finding's event alternated in separate rounds",
  "  (so the naive side's garbage is not collected on Riposte's clock); mean match time over mean parse time.",
  '',
  '| playbooks | with conditions | candidates / finding | matches / finding | Riposte findings/s | p50 | p99 | naive findings/s | p50 | p99 | speedup (median, lowest) | `JSON.parse` mean | match / parse |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...matching.results.map(
    (result) =>
      `| ${result.size} | ${result.playbooksWithConditions} | ${fixed(result.meanCandidates)} | ${fixed(result.meanMatched)} | ${fixed(result.riposte.throughputPerSec, 0)} | ${micros(result.riposte.p50Ms)} µs | ${micros(result.riposte.p99Ms)} µs | ${fixed(result.naive.throughputPerSec, 1)} | ${fixed(result.naive.p50Ms, 1)} ms | ${fixed(result.naive.p99Ms, 1)} ms | ×${fixed(result.speedup, 0)}, ×${fixed(result.speedupMin, 0)} | ${micros(result.jsonParse.meanMs)} µs | ${fixed(result.matchOverParse, 2)} |`,
  ),
  '',
  `Rounds: ${matching.results.map((result) => `${result.size}: ${result.roundsVsNaive} against naive (${result.naiveFindings} findings), ${result.roundsVsParse} against JSON.parse`).join('; ')}.`,
  '',
);

/**
 * What the yardsticks say about the target: the cold start left with all of Riposte's own code removed
 * (its calls straight on the SDK), and what that code adds on top.
 */
const yardstickNote = (coldStart) => {
  const [ripostesCalls, baselineOnSdk, signedByHand] = coldStart.references;
  const riposte = coldStart.runtimes.find((runtime) => runtime.name === ripostesCalls?.runtime);
  if (!coldStart.naive || !riposte || !signedByHand) return [];
  const reachable = ripostesCalls.ratio <= 1 / 3;
  return [
    `**What the target leaves to Riposte.** Riposte's calls for this finding, straight on the AWS SDK v3 with none of`,
    `Riposte's code, take ${fixed(ripostesCalls.wallMs, 0)} ms on ${riposte.name}, ${fixed(ripostesCalls.ratio, 2)} of the baseline: the cold start left once every`,
    `piece of Riposte's own work is removed. ${reachable ? 'The target is within reach of the SDK for these calls.' : 'For this response, the ≤ 1/3 target is out of reach while its calls go through the SDK.'}`,
    `Riposte's own code adds ${fixed(riposte.wallMs - ripostesCalls.wallMs, 0)} ms (${fixed(riposte.ratio - ripostesCalls.ratio, 2)} of the baseline). The baseline's own 4 calls on`,
    `the SDK take ${fixed(baselineOnSdk.wallMs, 0)} ms (${fixed(baselineOnSdk.ratio, 2)}) and, signed by hand without the SDK, ${fixed(signedByHand.wallMs, 0)} ms (${fixed(signedByHand.ratio, 2)}):`,
    `Node.js starts fast; the cost is the SDK's, per client and per call, and Riposte's response makes ${ripostesCalls.calls} calls to ${ripostesCalls.services} services.`,
    '',
  ];
};

add('## 2. Cold start', '');
add(
  'A fresh `node` process imports `dist/riposte/handler.mjs` (its init: configuration, the bundled',
  'playbooks, the engine; the chunks `handler.mjs` imports statically load with it, the rest on first use) and',
  'handles `examples/scenario/findings/01-instance-credential-exfiltration.json` in enforce mode against fake-aws',
  'seeded with the scenario, until the handler returns; wall time is from spawn to exit as the parent sees it,',
  "peak RSS is the child's `VmHWM`. It runs on Node 22, the deployed runtime (`nodejs22.x`; the bench installs",
  `\`node@${coldStart.runtimes[0].version.slice(1)}\` from npm), and on the Node running the bench. The baseline`,
  '(`bench/naive_responder.py`) is the naive response Lambda in Python 3 + boto3: EC2 and S3 clients, describe',
  'every instance-profile association, disassociate each, put a public access block on a hard-coded bucket,',
  'against the same endpoint. Three yardsticks run on Node 22 beside them (`bench/responders/`): the AWS calls',
  "Riposte made for this finding, made straight on the AWS SDK v3 with none of Riposte's code (the bench checks",
  "that they are the same calls), and the baseline's own work in JavaScript, on the SDK and with requests signed",
  'by hand; the SDK ones are bundled as `riposte build` bundles the function. Every round runs each of them and',
  'the baseline once, in an order rotated round by round; a ratio is the median of the per-round ratios. Each run',
  'gets a freshly seeded account; one unmeasured run of each warms the disk cache first.',
  '',
  '| | wall (median) | process start → import | import (init) | handle | peak RSS | AWS calls | mutations | ratio to baseline |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...coldStart.runtimes.map(
    (runtime) =>
      `| Riposte on ${runtime.name} (${runtime.version}) | ${fixed(runtime.wallMs, 0)} ms | ${fixed(runtime.startupMs, 0)} ms | ${fixed(runtime.importMs, 0)} ms | ${fixed(runtime.handleMs, 0)} ms | ${fixed(runtime.peakRssMb, 1)} MB | ${runtime.calls} | ${runtime.mutations} | ${fixed(runtime.ratio, 2)} |`,
  ),
  ...coldStart.references.map(
    (reference) =>
      `| Yardstick: ${reference.name}, on ${reference.runtime} | ${fixed(reference.wallMs, 0)} ms | ${fixed(reference.startupMs, 0)} ms | ${fixed(reference.importMs, 0)} ms | ${fixed(reference.handleMs, 0)} ms | ${fixed(reference.peakRssMb, 1)} MB | ${reference.calls} | ${reference.mutations} | ${fixed(reference.ratio, 2)} |`,
  ),
  coldStart.naive
    ? `| Python + boto3 baseline | ${fixed(coldStart.naive.wallMs, 0)} ms | | ${fixed(coldStart.naive.importMs, 0)} ms (\`import boto3\`) | ${fixed(coldStart.naive.handleMs, 0)} ms | ${fixed(coldStart.naive.peakRssMb, 1)} MB | ${coldStart.naive.calls} | ${coldStart.naive.mutations} (${coldStart.naive.disassociated} profiles detached: every instance's) | |`
    : '| Python + boto3 baseline | skipped: `python3 -c "import boto3"` fails here (`apt-get install python3-boto3`) | | | | | | | |',
  ...coldStart.runtimes.map(
    (runtime) =>
      `| \`node -e 0\` on ${runtime.name} (floor) | ${fixed(runtime.floorMs, 0)} ms | | | | | | | |`,
  ),
  ...(coldStart.naive
    ? [
        `| \`python3 -c pass\` (floor; \`${coldStart.python}\`, spawned directly) | ${fixed(coldStart.pythonFloorMs, 0)} ms | | | | | | | |`,
      ]
    : []),
  '',
  ...coldStart.runtimes.map(
    (runtime) =>
      `Raw walls (ms) on ${runtime.name}: ${runtime.walls.map((wall) => fixed(wall, 0)).join(', ')}` +
      (coldStart.naive ? `; ratios: ${runtime.ratios.map((ratio) => fixed(ratio, 2)).join(', ')}.` : '.'),
  ),
  ...(coldStart.naive
    ? ['', `Baseline walls (ms): ${coldStart.naive.walls.map((wall) => fixed(wall, 0)).join(', ')}.`]
    : []),
  '',
  ...yardstickNote(coldStart),
  `**What verification adds.** Every finding is re-read from GuardDuty before anything else (one`,
  `\`GetFindings\` for a finding of the function's own account): ${fixed(coldStart.runtimes[0].verifyMs, 0)} ms of this cold start's`,
  `handle time on ${coldStart.runtimes[0].name}. Initialisation also asks STS who the function is (\`GetCallerIdentity\`), once per container.`,
  '',
);
if (profile) {
  const rows = (phase) =>
    phase.top.map((row) => `| ${row.owner} | ${fixed(row.ms, 1)} ms | ${fixed(row.share * 100, 0)}% |`);
  add(
    `**Where the time goes** (\`bench/profile.mjs\`: one cold start on ${profile.name} of the same bundle built`,
    `without minification, under \`node --cpu-prof\` sampling every ${profile.intervalUs} µs; esbuild's module markers`,
    "name each sample's package; self time, split where the import ended; a profiled run is slower than the runs",
    'above, so read the shares rather than the milliseconds).',
    '',
    `Import (init), ${fixed(profile.import.totalMs, 0)} ms sampled, ${fixed(profile.import.idleMs, 0)} ms of it idle:`,
    '',
    '| where | self time | share |',
    '| --- | ---: | ---: |',
    ...rows(profile.import),
    '',
    `Handle, ${fixed(profile.handle.totalMs, 0)} ms sampled, ${fixed(profile.handle.idleMs, 0)} ms of it idle (waiting for the endpoint):`,
    '',
    '| where | self time | share |',
    '| --- | ---: | ---: |',
    ...rows(profile.handle),
    '',
  );
}

add(
  '## 3. Remediation latency',
  '',
  `fake-aws answers every call after ${latency.latencyMs} ms. The engine (built packages, real actions and SDK`,
  'clients, one retry-free attempt per call) plans and executes the canonical finding; SDK modules are loaded by an',
  'unmeasured run first. Critical path: for plan, the rounds of overlapping calls the endpoint saw (every step plans',
  "at once, a step's independent lookups at once, reads shared between steps); for execute, the longest chain of the",
  'step graph, each step weighing its own calls (steps wait only for the steps they come after). Sum: every call, one',
  'after another.',
  '',
  '| phase | measured (median) | critical path | sum of calls | calls |',
  '| --- | ---: | ---: | ---: | ---: |',
  `| verify (GuardDuty re-read) | ${fixed(latency.verify.measuredMs, 0)} ms | ${latency.verify.criticalMs} ms | ${latency.verify.sumMs} ms | ${latency.verify.calls} |`,
  `| plan (lookups) | ${fixed(latency.plan.measuredMs, 0)} ms | ${latency.plan.criticalMs} ms | ${latency.plan.sumMs} ms | ${latency.plan.calls} |`,
  `| execute | ${fixed(latency.execute.measuredMs, 0)} ms | ${latency.execute.criticalMs} ms | ${latency.execute.sumMs} ms | ${latency.execute.calls} |`,
  '',
  'The step graph (execution):',
  '',
  ...latency.graph.map((step) => `- ${step}`),
  '',
  '### Time to containment',
  '',
  `What decides an incident is how soon the first containing call leaves. \`bench/latency.mjs\` runs the built bundle as a`,
  `warm container (one warm-up finding first) against fake-aws answering every call after ${containment.latencyMs} ms, and measures,`,
  'for the canonical finding, the time from the invocation to the arrival of the first mutating call of a `contain` step,',
  'and the sequential round trips up to it, its own included (a round: calls that overlap). Target: at most',
  `${CONTAINMENT_ROUNDS_TARGET}: verify, look up, preserve, contain. Median of ${containment.rounds} runs: **${fixed(containment.containMs, 0)} ms, ${containment.roundTrips} round trips**,`,
  `${containment.callsBefore} calls before ${containment.containingCall}, ${containment.totalCalls} calls for the whole response (${fixed(containment.handleMs, 0)} ms).`,
  '',
  ...containment.calls.map((call) => `- ${call}`),
  '',
);

add(
  '## 4. Size',
  '',
  '| artifact | size |',
  '| --- | ---: |',
  `| loaded at init: \`handler.mjs\` and the chunks it imports statically | ${mb(size.initBytes)} (\`handler.mjs\` alone ${mb(size.handlerBytes)}) |`,
  `| the whole bundle (\`dist/riposte\`: ${size.bundleFiles} files, each AWS service's client a chunk loaded on first use) | ${mb(size.bundleBytes)} |`,
  `| \`function.zip\` (what CloudFormation deploys) | ${mb(size.zipBytes)} |`,
  `| \`riposte template\` (CloudFormation, YAML) | ${size.templateBytes} bytes, ${size.templateLines} lines |`,
  '',
);

add(
  '## 5. Reliability',
  '',
  `The reliability suite (${['packages/core/tests/reliability', 'packages/lambda-adapter/tests/reliability'].map((dir) => `\`${dir}\``).join(', ')}, part of`,
  '`pnpm test`), run by this benchmark with `RIPOSTE_RELIABILITY_COUNTS` set so each test records what it tried.',
  `Result: ${reliability.passed ? 'passed' : '**failed**'}, ${reliability.tests}, ${fixed(reliability.seconds, 0)} s.`,
  '',
  '| suite | test | inputs | faults injected | duplicates sent | out-of-scope targets | outcomes |',
  '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  ...reliability.counts.map(
    (entry) =>
      `| ${entry.suite} | ${entry.test} | ${entry.inputs ?? ''} | ${entry.faultsInjected ?? ''} | ${entry.duplicatesSent ?? ''} | ${entry.outOfScope ?? ''} | ${Object.entries(
        entry.codes ?? {},
      )
        .map(([code, count]) => `${code} ${count}`)
        .join(', ')} |`,
  ),
  '',
);

writeFileSync(path('BENCHMARKS.md'), `${lines.join('\n')}\n`);
log('wrote BENCHMARKS.md');
