// Benchmark 3: remediation latency with every AWS call delayed at the endpoint. The canonical
// finding's plan (lookups) and execution (re-checks and mutations) against fake-aws answering each
// call after 50 ms: measured, against the critical path of the step graph and the sum of the calls.
// Usage alone: node bench/latency.mjs
import { readFileSync } from 'node:fs';
import { actions, core, fakeAws, log, median, path } from './lib/common.mjs';

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
      // Planning runs every step at once, each step's lookups in sequence. A call that is no step's
      // lookup (the caller identity, cached per account) is counted on the longest chain.
      planCritical:
        Math.max(0, ...plan.steps.map((step) => step.plan.lookups.length)) +
        planCalls -
        plan.steps.reduce((total, step) => total + step.plan.lookups.length, 0),
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

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runLatency(), null, 2));
}
