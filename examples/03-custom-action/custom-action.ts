/**
 * Example 03: register a custom action next to the built-ins and use it from a playbook.
 * Run: `npx tsx examples/03-custom-action/custom-action.ts`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type AwsServices, createAwsServices, createRegistry } from '@riposte/actions';
import { createEngine, formatPlan, normalize, type Plan, parsePlaybooks } from '@riposte/core';
import { archiveFinding } from './archive-finding.js';

export const customActionPlan = async (options: { services?: AwsServices } = {}): Promise<Plan> => {
  const registry = createRegistry();
  // Checked on registration: kebab-case name, phase, resource kinds, IAM permissions, and a params
  // schema that compiles under ajv strict mode. A broken action throws EngineConfigurationError here.
  registry.register(archiveFinding);

  // With the registry, the loader checks each step's action name and params against its schema.
  const playbookFile = new URL('playbook.yaml', import.meta.url);
  const playbooks = parsePlaybooks(await readFile(playbookFile, 'utf8'), 'playbook.yaml', { registry });
  const engine = createEngine({
    playbooks,
    registry,
    services: options.services ?? createAwsServices(),
    mode: 'dry-run',
  });

  const event = new URL('../scenario/findings/02-s3-exfiltration.json', import.meta.url);
  const [finding] = normalize(JSON.parse(await readFile(event, 'utf8')));
  if (!finding) throw new Error('the scenario file holds no finding');
  return engine.plan(finding);
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatPlan(await customActionPlan()));
}
