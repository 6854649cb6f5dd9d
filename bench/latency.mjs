// Benchmark 3: remediation latency with every AWS call delayed at the endpoint. The canonical
// finding's plan (lookups) and execution (re-checks and mutations) against fake-aws answering each
// call after 50 ms: measured, against the critical path of the step graph and the sum of the calls.
// Then time to containment: the built Lambda bundle, warm, from invocation to its first containing call.
// Usage alone: node bench/latency.mjs [handler.mjs]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { actions, containerEnv, core, fakeAws, log, median, path, timed } from './lib/common.mjs';

const EVENT = path('examples/scenario/findings/01-instance-credential-exfiltration.json');
export const LATENCY_MS = 50;

/** The longest chain of the step graph, each step weighing its sequential calls. */
const criticalCalls = (steps, weightOf) => {
  const byKey = new Map(steps.map((step) => [step.key, step]));
  const memo = new Map();
  const longest = (step) => {
    if (!memo.has(step.key)) {
      const before = step.after.map((key) => byKey.get(key)).filter(Boolean);
      memo.set(step.key, weightOf(step) + Math.max(0, ...before.map(longest)));
    }
    return memo.get(step.key);
  };
  return Math.max(0, ...steps.map(longest));
};

const once = async (aws, modules) => {
  const { createEngine, loadPlaybooks, normalize } = modules.core;
  const { createAwsServices, createGuardDutyVerifier, createRegistry } = modules.actions;
  const fake = await aws.startFakeAws({ seed: aws.scenarioSeed(), latencyMs: LATENCY_MS });
  try {
    const registry = createRegistry();
    const services = createAwsServices({
      clientConfig: { endpoint: fake.url, maxAttempts: 1 },
      credentialsFor: () => async () => ({ ...aws.FAKE_CREDENTIALS }),
      env: { RIPOSTE_SNS_TOPIC_ARN: aws.SCENARIO.topicArn },
    });
    const engine = createEngine({
      playbooks: await loadPlaybooks([path('rules')], { registry }),
      registry,
      mode: 'enforce',
      services,
    });
    const event = JSON.parse(readFileSync(EVENT, 'utf8'));
    aws.holdFindings(fake.state, [event]);
    const [delivered] = normalize(event);
    // What the Lambda does first with every finding: re-read it from GuardDuty, then act on that copy.
    const verifier = createGuardDutyVerifier({ services, ownAccountId: aws.SCENARIO.accountId });
    let started = performance.now();
    const verification = await verifier.verify(delivered);
    const verifyMs = performance.now() - started;
    if (verification.status !== 'verified') throw new Error(`not verified: ${verification.reason}`);
    const verifyCalls = fake.calls.length;
    const finding = verification.finding;
    started = performance.now();
    const plan = await engine.plan(finding);
    const planMs = performance.now() - started;
    const planCalls = fake.calls.length - verifyCalls;
    started = performance.now();
    const report = await engine.execute(plan);
    const executeMs = performance.now() - started;
    const executeCalls = fake.calls.length - planCalls - verifyCalls;
    if (report.outcome !== 'applied') throw new Error(`the scenario was not applied: ${report.outcome}`);
    const calls = new Map(report.steps.map((step) => [step.key, step.calls.length]));
    return {
      verifyMs,
      verifyCalls,
      planMs,
      executeMs,
      planCalls,
      executeCalls,
      steps: plan.steps.length,
      // Planning runs every step at once, and a step's independent lookups at once, reads shared
      // between steps: the rounds of overlapping calls the endpoint saw are its critical path.
      planCritical: Math.max(
        0,
        ...aws.roundsOf(fake.calls.slice(verifyCalls, verifyCalls + planCalls)).values(),
      ),
      executeCritical: criticalCalls(plan.steps, (step) => calls.get(step.key) ?? 0),
      graph: plan.steps.map(
        (step) => `${step.key} (${calls.get(step.key) ?? 0} calls) after [${step.after.join(', ')}]`,
      ),
    };
  } finally {
    await fake.close();
  }
};

export const runLatency = async ({ rounds = 3 } = {}) => {
  const aws = await fakeAws();
  const modules = { core: await core(), actions: await actions() };
  await once(aws, modules); // SDK modules and clients load once per process, as in a warm Lambda
  const runs = [];
  for (let round = 0; round < rounds; round++) runs.push(await once(aws, modules));
  const pick = (field) => median(runs.map((run) => run[field]));
  const first = runs[0];
  const result = {
    latencyMs: LATENCY_MS,
    rounds,
    steps: first.steps,
    graph: first.graph,
    verify: {
      measuredMs: pick('verifyMs'),
      calls: first.verifyCalls,
      criticalMs: first.verifyCalls * LATENCY_MS,
      sumMs: first.verifyCalls * LATENCY_MS,
    },
    plan: {
      measuredMs: pick('planMs'),
      calls: first.planCalls,
      criticalMs: first.planCritical * LATENCY_MS,
      sumMs: first.planCalls * LATENCY_MS,
    },
    execute: {
      measuredMs: pick('executeMs'),
      calls: first.executeCalls,
      criticalMs: first.executeCritical * LATENCY_MS,
      sumMs: first.executeCalls * LATENCY_MS,
    },
  };
  for (const phase of ['verify', 'plan', 'execute']) {
    const { measuredMs, criticalMs, sumMs } = result[phase];
    log(
      `latency (${LATENCY_MS} ms per call) ${phase}: measured ${measuredMs.toFixed(0)} ms, critical path ${criticalMs} ms, sum of calls ${sumMs} ms`,
    );
  }
  return result;
};

// ---------------------------------------------------------------------------------------------
// Time to containment
// ---------------------------------------------------------------------------------------------

const BUNDLE = path('dist/riposte/handler.mjs');
const CHILD_FLAG = '--containment-child';
/** The responses the target allows before the first containing call: verify, look up, preserve, contain. */
export const CONTAINMENT_ROUNDS_TARGET = 4;

const epochMs = () => performance.timeOrigin + performance.now();

/** The canonical event about another finding id (and, for the warm-up, another instance of the same role). */
const variant = (text, { instanceId } = {}) => {
  const original = JSON.parse(text).detail.id;
  let changed = text.replaceAll(original, randomBytes(16).toString('hex'));
  if (instanceId) changed = changed.replaceAll(instanceId.from, instanceId.to);
  return JSON.parse(changed);
};

const lambdaContext = (accountId, n) => ({
  awsRequestId: `0f6e2c1a-0000-4000-8000-00000000000${n}`,
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:${accountId}:function:riposte`,
  getRemainingTimeInMillis: () => 60_000,
});

/**
 * A warm container: the bundle initialises (init phase), handles the warm-up event (SDK modules and
 * clients load), then the measured event. Its structured log goes to standard output as in Lambda.
 */
const child = async ([bundle, warmFile, eventFile, resultFile]) => {
  const { handler } = await import(pathToFileURL(bundle).href);
  const accountId = process.env.BENCH_ACCOUNT_ID;
  await handler(JSON.parse(readFileSync(warmFile, 'utf8')), lambdaContext(accountId, 1));
  const event = JSON.parse(readFileSync(eventFile, 'utf8'));
  const invokedMs = epochMs();
  const response = await handler(event, lambdaContext(accountId, 2));
  const returnedMs = epochMs();
  writeFileSync(resultFile, JSON.stringify({ invokedMs, returnedMs, result: response.results?.[0] }));
};

/** The steps the handler logged for the measured finding: action, and the request ids of its calls. */
const loggedSteps = (stdout, findingId) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter(
      (entry) =>
        entry.findingId === findingId && typeof entry.step === 'string' && Array.isArray(entry.calls),
    );

const containmentOnce = async (aws, phaseOf, bundle, directory) => {
  const text = readFileSync(EVENT, 'utf8');
  const warm = variant(text, {
    instanceId: { from: aws.SCENARIO.instanceId, to: aws.SCENARIO.secondInstanceId },
  });
  const event = variant(text);
  const fake = await aws.startFakeAws({ seed: aws.scenarioSeed(), latencyMs: LATENCY_MS });
  aws.holdFindings(fake.state, [warm, event]);
  try {
    const files = ['warm.json', 'event.json', 'result.json'].map((name) => join(directory, name));
    writeFileSync(files[0], JSON.stringify(warm));
    writeFileSync(files[1], JSON.stringify(event));
    rmSync(files[2], { force: true });
    const env = containerEnv(fake, directory, {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      RIPOSTE_MODE: 'enforce',
      RIPOSTE_SNS_TOPIC_ARN: aws.SCENARIO.topicArn,
      BENCH_ACCOUNT_ID: aws.SCENARIO.accountId,
    });
    const script = fileURLToPath(import.meta.url);
    const exit = await timed(process.execPath, [script, CHILD_FLAG, bundle, ...files], env);
    if (exit.code !== 0) throw new Error(`the warm container failed (exit ${exit.code}): ${exit.stderr}`);
    const { invokedMs, returnedMs, result } = JSON.parse(readFileSync(files[2], 'utf8'));
    if (result?.outcome !== 'applied')
      throw new Error(`the measured finding was not applied: ${JSON.stringify(result)}`);

    const calls = fake.calls.filter((call) => call.receivedMs >= invokedMs);
    const byRequestId = new Map(calls.map((call) => [call.requestId, call]));
    const containing = loggedSteps(exit.stdout, event.detail.id)
      .filter((step) => phaseOf(step.action) === 'contain')
      .flatMap((step) => step.calls.filter((call) => call.mutating && byRequestId.has(call.requestId)))
      .map((call) => byRequestId.get(call.requestId))
      .sort((a, b) => a.receivedMs - b.receivedMs);
    const first = containing[0];
    if (first === undefined) throw new Error('the measured response made no containing call');
    const rounds = aws.roundsOf(calls);
    return {
      containMs: first.receivedMs - invokedMs,
      roundTrips: rounds.get(first),
      callsBefore: calls.filter((call) => call.receivedMs < first.receivedMs).length,
      handleMs: returnedMs - invokedMs,
      totalCalls: calls.length,
      containingCall: `${first.service} ${first.operation}`,
      calls: calls
        .sort((a, b) => a.receivedMs - b.receivedMs)
        .map(
          (call) =>
            `round ${rounds.get(call)} +${(call.receivedMs - invokedMs).toFixed(0)} ms: ${call.service} ${call.operation}${call === first ? ' (contain)' : ''}`,
        ),
    };
  } finally {
    await fake.close();
  }
};

/**
 * Time to containment on a warm container with 50 ms per AWS call, verification included: from the
 * invocation to the arrival of the first mutating call of a `contain` step, and the sequential round
 * trips up to it (counting its own). The bundle is the built one (`riposte build`).
 */
export const runContainment = async ({ rounds = 3, bundle = BUNDLE } = {}) => {
  const aws = await fakeAws();
  const registry = (await actions()).createRegistry();
  const phaseOf = (action) => registry.get(action)?.phase;
  const directory = mkdtempSync(join(tmpdir(), 'riposte-bench-'));
  try {
    const runs = [];
    for (let round = 0; round < rounds; round++)
      runs.push(await containmentOnce(aws, phaseOf, bundle, directory));
    const [first] = runs;
    const result = {
      latencyMs: LATENCY_MS,
      rounds,
      containMs: median(runs.map((r) => r.containMs)),
      handleMs: median(runs.map((r) => r.handleMs)),
      roundTrips: Math.max(...runs.map((run) => run.roundTrips)),
      roundTripsTarget: CONTAINMENT_ROUNDS_TARGET,
      callsBefore: first.callsBefore,
      totalCalls: first.totalCalls,
      containingCall: first.containingCall,
      calls: first.calls,
    };
    log(
      `time to containment (${LATENCY_MS} ms per call, warm): ${result.containMs.toFixed(0)} ms, ${result.roundTrips} round trips (target ${CONTAINMENT_ROUNDS_TARGET}), ${result.callsBefore} calls before ${result.containingCall}, ${result.totalCalls} calls in all`,
    );
    return result;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

if (process.argv[2] === CHILD_FLAG) {
  await child(process.argv.slice(3));
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const latency = await runLatency();
  const containment = await runContainment(process.argv[2] ? { bundle: process.argv[2] } : {});
  console.log(JSON.stringify({ latency, containment }, null, 2));
}
