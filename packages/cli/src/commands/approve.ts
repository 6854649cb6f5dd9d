import { randomUUID } from 'node:crypto';
import { createGuardDutyVerifier } from '@riposte/actions';
import { createEngine, formatReport } from '@riposte/core';
import { type DecisionOutcome, decideHeld, heldStepsOnly } from '@riposte/lambda-adapter';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import { accountServices } from '../lifecycle.js';
import { CONFIG_OPTION, commandPlaybooks, jsonOf, projectOf } from '../load.js';
import { historyStoreOf } from './history.js';

const DECISION_OPTIONS = {
  table: { type: 'string' },
  role: { type: 'string' },
  json: { type: 'boolean' },
  ...CONFIG_OPTION,
} as const;

export const approveHelp = `riposte approve <finding-id> [--table <name>] [--role <name>] [--config <file>] [--json]
  Approves the steps a playbook with "approval: required" held for a finding, and runs them once, with
  your credentials, in enforce: the finding is first re-read from GuardDuty, and the held steps are
  planned again from its fresh copy with the project's playbooks. A second approval (here or from
  Security Hub's "Riposte: approve") runs nothing. Held steps expire (RIPOSTE_APPROVAL_TIMEOUT_HOURS).
  A finding in another account is acted on through --role, assumed there. Recorded in history.`;

export const rejectHelp = `riposte reject <finding-id> [--table <name>] [--json]
  Rejects the steps held for approval: they never run. Recorded in history with who you are.`;

const findingIdOf = (positionals: string[], command: string): string => {
  const [findingId, ...extra] = positionals;
  if (!findingId || extra.length > 0) throw new UsageError(`${command} needs exactly one finding id`);
  return findingId;
};

const show = (outcome: DecisionOutcome, json: boolean | undefined, io: CliIO): number => {
  const record = 'record' in outcome ? outcome.record : undefined;
  if (json)
    io.stdout(jsonOf([{ status: outcome.status, message: outcome.message, ...(record ? { record } : {}) }]));
  else {
    if (record && outcome.status === 'approved') io.stdout(formatReport(record.report, io.style));
    io.stdout(outcome.message);
  }
  if (outcome.status === 'approved') {
    return (record?.report.counts.failed ?? 0) > 0 ? EXIT.failed : EXIT.ok;
  }
  return outcome.status === 'rejected' ? EXIT.ok : EXIT.failed;
};

export const runApprove = async (args: string[], io: CliIO): Promise<number> => {
  const { values, positionals } = parseCommandArgs(args, DECISION_OPTIONS, true);
  const findingId = findingIdOf(positionals, 'approve');
  const history = historyStoreOf(values.table, io);
  const project = await projectOf(io, values.config);
  const playbooks = await commandPlaybooks(project, undefined, io);
  const { caller, servicesFor } = await accountServices(io, values.role ?? project.config.memberRole);
  const own = servicesFor({ accountId: caller.accountId });
  const engine = createEngine({
    playbooks,
    registry: project.registry,
    services: own,
    servicesFor: (finding) => servicesFor(finding),
    mode: 'enforce',
  });
  const verifier = createGuardDutyVerifier({
    services: own,
    memberServices: (finding) => servicesFor(finding),
  });
  const outcome = await decideHeld({
    findingId,
    decision: 'approval',
    actor: caller.arn,
    id: randomUUID(),
    history,
    clock: () => new Date(),
    approvalTimeoutMs: 24 * 3_600_000,
    verify: async (pending) => {
      const delivered = pending.record.finding;
      if (!delivered) {
        return {
          ok: false,
          code: 'HISTORY_INVALID',
          message: 'the held response recorded no finding to verify',
          retryable: false,
        };
      }
      const verification = await verifier.verify(delivered);
      if (verification.status !== 'verified') {
        return {
          ok: false,
          code: 'FINDING_UNVERIFIED',
          message: `GuardDuty does not vouch for finding ${findingId} now (${verification.reason}); nothing was run`,
          retryable: verification.status === 'failed' && verification.retryable,
        };
      }
      return { ok: true, finding: verification.finding };
    },
    run: (finding, pending) => engine.handle(finding, heldStepsOnly(pending)),
  });
  return show(outcome, values.json, io);
};

export const runReject = async (args: string[], io: CliIO): Promise<number> => {
  const { values, positionals } = parseCommandArgs(args, DECISION_OPTIONS, true);
  const findingId = findingIdOf(positionals, 'reject');
  const history = historyStoreOf(values.table, io);
  const { caller } = await accountServices(io, undefined);
  const outcome = await decideHeld({
    findingId,
    decision: 'rejection',
    actor: caller.arn,
    id: randomUUID(),
    history,
    clock: () => new Date(),
    approvalTimeoutMs: 0,
    verify: () => Promise.reject(new Error('a rejection verifies nothing')),
    run: () => Promise.reject(new Error('a rejection runs nothing')),
  });
  return show(outcome, values.json, io);
};
