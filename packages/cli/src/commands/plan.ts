import { type EngineMode, formatPlan } from '@riposte/core';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import { jsonOf, loadEngine, playbookPaths, readFindings } from '../load.js';

export const planHelp = `riposte plan --finding <file|dir> [--playbooks <dir>]... [--mode dry-run|enforce] [--json]
  The dry-run plan: for every matching playbook, each step with its target and the exact AWS calls it
  would make. Never mutates. Read-only lookups run when AWS credentials are available; without them
  they are shown as "would look up ...". --mode shows the plan as a deployment in that mode would run it.`;

export const runPlan = async (args: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    {
      finding: { type: 'string' },
      playbooks: { type: 'string', multiple: true },
      mode: { type: 'string', default: 'dry-run' },
      json: { type: 'boolean' },
    },
    false,
  );
  if (!values.finding) throw new UsageError('plan needs --finding <file|dir>');
  if (values.mode !== 'dry-run' && values.mode !== 'enforce') {
    throw new UsageError(`--mode must be dry-run or enforce, not "${values.mode}"`);
  }
  const engine = await loadEngine(playbookPaths(values.playbooks, io), values.mode as EngineMode, io);
  const plans = [];
  for (const { file, finding } of await readFindings(values.finding, io)) {
    const plan = await engine.plan(finding);
    plans.push(plan);
    if (!values.json) io.stdout(`${io.style('dim', file)}\n${formatPlan(plan, io.style)}\n`);
  }
  if (values.json) io.stdout(jsonOf(plans));
  return EXIT.ok;
};
