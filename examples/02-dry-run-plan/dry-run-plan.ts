/**
 * Example 02: the dry-run plan for the canonical scenario's findings, with the shipped playbooks
 * (`rules/`). Planning makes read-only lookups when AWS credentials are available; without them each
 * lookup shows as "would look up ...". Nothing is ever mutated: the engine's mode is the ceiling.
 * Run: `npx tsx examples/02-dry-run-plan/dry-run-plan.ts`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type AwsServices, createAwsServices, createRegistry } from '@riposte/actions';
import { createEngine, formatPlan, loadPlaybooks, normalize, type Plan } from '@riposte/core';

const RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const SCENARIO = new URL('../scenario/findings/', import.meta.url);

export interface DryRunOptions {
  /** How actions reach AWS; default: the SDK's standard credential chain and region. */
  services?: AwsServices;
}

export const dryRunPlan = async (options: DryRunOptions = {}): Promise<Plan[]> => {
  const registry = createRegistry();
  // Fails here, at load, on any invalid playbook, unknown action or bad params: never at 3 a.m.
  const playbooks = await loadPlaybooks([RULES], { registry });
  const engine = createEngine({
    playbooks,
    registry,
    services: options.services ?? createAwsServices(),
    mode: 'dry-run',
  });

  const files = (await readdir(SCENARIO)).filter((name) => name.endsWith('.json')).sort();
  const plans: Plan[] = [];
  for (const file of files) {
    for (const finding of normalize(JSON.parse(await readFile(new URL(file, SCENARIO), 'utf8')))) {
      plans.push(await engine.plan(finding));
    }
  }
  return plans;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const plan of await dryRunPlan()) console.log(`${formatPlan(plan)}\n`);
}
