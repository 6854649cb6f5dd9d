import type { Verification } from '@riposte/actions';
import { type EngineMode, formatPlan } from '@riposte/core';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import { CONFIG_OPTION, commandPlaybooks, jsonOf, loadEngine, projectOf, readFindings } from '../load.js';

export const planHelp = `riposte plan --finding <file|dir> [--playbooks <dir>]... [--config <file>] [--mode dry-run|enforce] [--json]
  The dry-run plan: for every matching playbook (default: the project's playbooks), each step with its target and the exact AWS calls it
  would make. Never mutates. With AWS credentials, each finding is first re-read from GuardDuty (as the
  deployed function does) and the plan is made from GuardDuty's copy; a finding GuardDuty does not hold
  is refused. Without credentials the finding is planned as given, marked "unverified", and lookups are
  shown as "would look up ...". --mode shows the plan as a deployment in that mode would run it.`;

export const runPlan = async (args: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    {
      finding: { type: 'string' },
      playbooks: { type: 'string', multiple: true },
      mode: { type: 'string', default: 'dry-run' },
      json: { type: 'boolean' },
      ...CONFIG_OPTION,
    },
    false,
  );
  if (!values.finding) throw new UsageError('plan needs --finding <file|dir>');
  if (values.mode !== 'dry-run' && values.mode !== 'enforce') {
    throw new UsageError(`--mode must be dry-run or enforce, not "${values.mode}"`);
  }
  const project = await projectOf(io, values.config);
  const playbooks = await commandPlaybooks(project, values.playbooks, io);
  const { engine, verifier } = loadEngine(project, playbooks, values.mode as EngineMode, io);
  const plans = [];
  let refused = 0;
  for (const { file, finding } of await readFindings(values.finding, io)) {
    const verification = await verifier.verify(finding);
    const shown = verificationLine(verification);
    if (verification.status === 'refused' || verification.status === 'failed') {
      refused += 1;
      plans.push({ file, findingId: finding.id, verification: shown });
      if (!values.json) io.stdout(`${io.style('dim', file)}\n${io.style('red', shown.text)}\n`);
      continue;
    }
    const plan = await engine.plan(verification.status === 'verified' ? verification.finding : finding);
    plans.push({ ...plan, file, verification: shown });
    if (!values.json) {
      io.stdout(`${io.style('dim', file)}\n${io.style('dim', shown.text)}\n${formatPlan(plan, io.style)}\n`);
    }
  }
  if (values.json) io.stdout(jsonOf(plans));
  return refused > 0 ? EXIT.failed : EXIT.ok;
};

const verificationLine = (verification: Verification) => {
  switch (verification.status) {
    case 'verified':
      return {
        status: 'verified' as const,
        via: verification.via,
        text: `verified: GuardDuty holds this finding (detector ${verification.detectorId}); planned from its copy`,
      };
    case 'unavailable':
      return {
        status: 'unverified' as const,
        text: `unverified: ${verification.reason}; planned from the finding as given`,
      };
    default:
      return {
        status: verification.status,
        text: `FINDING_UNVERIFIED: ${verification.reason}; the deployed function would refuse it`,
      };
  }
};
