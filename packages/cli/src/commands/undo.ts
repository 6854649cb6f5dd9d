import { randomUUID } from 'node:crypto';
import { type EngineMode, executeUndo, formatReport, planUndo, type StepReport } from '@riposte/core';
import { recordOf } from '@riposte/lambda-adapter';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import { accountServices } from '../lifecycle.js';
import { CONFIG_OPTION, jsonOf, projectOf } from '../load.js';
import { historyStoreOf } from './history.js';

export const undoHelp = `riposte undo <finding-id> [--mode dry-run|enforce] [--table <name>] [--role <name>] [--config <file>] [--json]
  Undoes what Riposte did about a finding, from its history: each step that changed something gets its
  action's inverse, newest first (security groups back on each interface, the instance profile
  re-associated, the revocation policy removed, the bucket's previous public access block, the tags it
  added removed). Dry-run by default: shows the exact calls. --mode enforce runs them with your
  credentials, and records the undo in history with who you are. A target in another account is
  restored through --role (default RiposteUndo), assumed there. What has no safe inverse is listed and
  left: a snapshot is kept, a notification cannot be unsent, restarted logging stays on.`;

/** The steps of every response and approval, in the order they ran: what an undo reverses. */
const recordedSteps = (records: { kind: string; report: { steps: StepReport[] } }[]): StepReport[] =>
  records
    .filter((record) => record.kind === 'response' || record.kind === 'approval')
    .flatMap((record) => record.report.steps);

export const runUndo = async (args: string[], io: CliIO): Promise<number> => {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      mode: { type: 'string', default: 'dry-run' },
      table: { type: 'string' },
      role: { type: 'string', default: 'RiposteUndo' },
      json: { type: 'boolean' },
      ...CONFIG_OPTION,
    },
    true,
  );
  const [findingId, ...extra] = positionals;
  if (!findingId || extra.length > 0) throw new UsageError('undo needs exactly one finding id');
  if (values.mode !== 'dry-run' && values.mode !== 'enforce') {
    throw new UsageError(`--mode must be dry-run or enforce, not "${values.mode}"`);
  }
  const mode = values.mode as EngineMode;
  const history = historyStoreOf(values.table, io);
  const project = await projectOf(io, values.config);
  const records = await history.forFinding(findingId);
  const first = records[0];
  if (!first) {
    io.stderr(`riposte undo: history holds nothing about finding ${findingId}`);
    return EXIT.failed;
  }
  const { caller, servicesFor } = await accountServices(io, values.role);
  const steps = recordedSteps(records);
  const subject = {
    findingId,
    findingType: first.findingType,
    severity: first.severity,
    severityLabel: first.report.severityLabel,
    accountId: first.accountId,
    region: first.region,
  };
  const options = { registry: project.registry, servicesFor, mode };
  const plan = await planUndo(subject, steps, options);
  const report = await executeUndo(plan, steps, options);
  if (mode === 'enforce') {
    await history.put(
      recordOf(report, { kind: 'undo', id: randomUUID(), actor: caller.arn, approvalTimeoutMs: 0 }),
    );
  }
  if (values.json) io.stdout(jsonOf([{ ...report, actor: caller.arn }]));
  else {
    io.stdout(formatReport(report, io.style));
    const failed = report.counts.failed ?? 0;
    io.stdout(
      `${plan.steps.length} step(s) considered, ${failed} failed${mode === 'dry-run' ? '; dry-run: nothing was changed (--mode enforce runs it)' : `; recorded in history as undone by ${caller.arn}`}`,
    );
  }
  return (report.counts.failed ?? 0) > 0 || (report.counts.refused ?? 0) > 0 ? EXIT.failed : EXIT.ok;
};
