import type { Verification } from '@riposte/actions';
import { type EngineMode, formatPlan, type Plan } from '@riposte/core';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import {
  assertReadable,
  CONFIG_OPTION,
  commandPlaybooks,
  jsonOf,
  loadEngine,
  projectOf,
  readFindings,
} from '../load.js';
import { counted, formatRunSummary } from '../summary.js';

export const planHelp = `riposte plan --finding <file|dir> [--playbooks <dir>]... [--config <file>] [--mode dry-run|enforce] [--json]
  The dry-run plan: for every matching playbook (default: the project's playbooks), each step with its target and the exact AWS calls it
  would make. Never mutates. With AWS credentials, each finding is first re-read from GuardDuty (as the
  deployed function does) and the plan is made from GuardDuty's copy; a finding GuardDuty does not hold
  is refused. Without credentials the finding is planned as given, marked "unverified", and lookups are
  shown as "would look up ...". --mode shows the plan as a deployment in that mode would run it.
  Ends with a summary: findings, playbook matches, and steps by status (planned, no-op, refused, failed).
  notify sends to params.topicArn, else RIPOSTE_SNS_TOPIC_ARN, else the configuration's topicArn (the
  stack's NotificationTopicArn); with none of them its step is [refused], as the deployed function
  would record it: no notification would be sent.
  --json prints the Plan of each finding (an array when there are several), with "file", the finding
  file it came from (from the working directory), and "verification".`;

/** The notify steps that would send nothing because no destination is set anywhere plan looks. */
const undeliveredNotifications = (plan: Plan): number =>
  plan.steps.filter(
    (step) =>
      step.action === 'notify' &&
      step.plan.status === 'refused' &&
      !step.params.topicArn &&
      !step.params.webhookUrl,
  ).length;

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
  // Every path given that cannot be read is named at once (exit 2), before any is loaded.
  await assertReadable(
    [values.finding, ...(values.playbooks ?? []), ...(values.config ? [values.config] : [])],
    io,
  );
  // Findings are cheap to read: a file that is not a finding fails before the playbooks load.
  const findings = await readFindings(values.finding, io);
  const project = await projectOf(io, values.config);
  const playbooks = await commandPlaybooks(project, values.playbooks, io);
  const { engine, verifier } = loadEngine(project, playbooks, values.mode as EngineMode, io);
  const defaultDestination = Boolean(
    io.env.RIPOSTE_SNS_TOPIC_ARN || io.env.RIPOSTE_WEBHOOK_URL || project.config.topicArn,
  );
  // What --json prints: each finding's plan, or why GuardDuty's refusal left it unplanned.
  const results = [];
  const made: Plan[] = [];
  let refused = 0;
  for (const { file, finding } of findings) {
    const verification = await verifier.verify(finding);
    const shown = verificationLine(verification);
    if (verification.status === 'refused' || verification.status === 'failed') {
      refused += 1;
      results.push({ file, findingId: finding.id, verification: shown });
      if (!values.json) io.stdout(`${io.style('dim', file)}\n${io.style('red', shown.text)}\n`);
      continue;
    }
    const plan = await engine.plan(verification.status === 'verified' ? verification.finding : finding);
    made.push(plan);
    results.push({ ...plan, file, verification: shown });
    if (!values.json) {
      io.stdout(`${io.style('dim', file)}\n${io.style('dim', shown.text)}\n${formatPlan(plan, io.style)}\n`);
    }
  }
  if (values.json) {
    io.stdout(jsonOf(results));
    return refused > 0 ? EXIT.failed : EXIT.ok;
  }
  io.stdout(
    formatRunSummary({
      findings: findings.length,
      refusedFindings: refused,
      matches: made.reduce((sum, plan) => sum + plan.matches.length, 0),
      steps: made.flatMap((plan) => plan.steps.map((step) => step.plan.status)),
    }),
  );
  const undelivered = defaultDestination
    ? 0
    : made.reduce((sum, plan) => sum + undeliveredNotifications(plan), 0);
  if (undelivered > 0) {
    io.stdout(
      io.style(
        'yellow',
        `${counted(undelivered, 'notify step')} would send nothing: no SNS topic or webhook is set. ` +
          "Set topicArn in riposte.config.mjs (plan uses it; riposte template makes it the stack's " +
          'NotificationTopicArn), or RIPOSTE_SNS_TOPIC_ARN, or params.topicArn in the playbook.',
      ),
    );
  }
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
