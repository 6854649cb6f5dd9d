import type {
  AwsSecurityFinding,
  BatchUpdateFindingsCommandOutput,
  WorkflowStatus,
} from '@aws-sdk/client-securityhub';
import {
  type ActionContext,
  awsErrorName,
  defineAction,
  defineInverse,
  type InverseContext,
  type JsonSchema,
  type PermissionGrant,
  parseArn,
  type StepSummary,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { ActionExecutionError } from '../error-codes.js';
import {
  findingTarget,
  type GuardDutyOrigin,
  guardDutyProductArn,
  originOfTarget,
} from '../guardduty-finding.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { invalidId, shown } from '../targets.js';
import { oneLine } from './notify.js';

/** The workflow statuses Riposte sets; it never suppresses a finding. */
type SetStatus = 'NOTIFIED' | 'RESOLVED';

export type UpdateSecurityHubFindingParams = {
  /** When a containment step applied and no step was held, failed or left out (default `RESOLVED`). */
  contained?: SetStatus;
  /** When a step of the response is held for approval or by the mutation limit (`NOTIFIED`). */
  held?: 'NOTIFIED';
  /** Any other outcome: nothing contained, or a step failed (default `NOTIFIED`). */
  otherwise?: SetStatus;
  /** Extra text appended to the note. */
  note?: string;
};

type Context = ActionContext<UpdateSecurityHubFindingParams, AwsServices>;

/** Who the notes say updated the finding. */
const UPDATED_BY = 'riposte';
/** Security Hub's limit on `Note.Text`. */
const NOTE_MAX = 512;
const UNDO_NOTE = 'Riposte undid its response';

/** Workflow statuses in the order a finding moves through them; Riposte never moves one back. */
const WORKFLOW_RANK: Readonly<Record<string, number>> = { NEW: 0, NOTIFIED: 1, RESOLVED: 2 };

/**
 * The hub of the account the finding belongs to, in whichever region the finding's detector is
 * (`securityhub:BatchUpdateFindings` and `GetFindings` authorise on the `hub` resource type).
 */
const GRANTS: PermissionGrant[] = [
  {
    actions: ['securityhub:BatchUpdateFindings', 'securityhub:GetFindings'],
    resources: ['arn:{partition}:securityhub:*:{account}:hub/default'],
  },
];

// ---------------------------------------------------------------------------------------------
// What the response came to: the workflow status and the note
// ---------------------------------------------------------------------------------------------

/** Phases whose applied steps contain the threat (credential revocation included). */
const CONTAINING = new Set(['contain', 'revoke']);

type Verdict = 'held' | 'contained' | 'otherwise';

const verdictOf = (steps: StepSummary[]): { verdict: Verdict; summary: string } => {
  if (steps.some((step) => step.status === 'held')) {
    return { verdict: 'held', summary: 'steps are held (awaiting approval or the mutation limit)' };
  }
  if (steps.some((step) => step.status === 'failed' || step.status === 'not-run')) {
    return { verdict: 'otherwise', summary: 'not contained: a step failed or did not run' };
  }
  if (steps.some((step) => step.status === 'applied' && CONTAINING.has(step.phase ?? ''))) {
    return { verdict: 'contained', summary: 'contained' };
  }
  return { verdict: 'otherwise', summary: 'nothing was contained' };
};

const statusFor = (params: UpdateSecurityHubFindingParams, verdict: Verdict): SetStatus =>
  verdict === 'held'
    ? (params.held ?? 'NOTIFIED')
    : verdict === 'contained'
      ? (params.contained ?? 'RESOLVED')
      : (params.otherwise ?? 'NOTIFIED');

/** Cuts the note to Security Hub's limit, on a character boundary. */
const capped = (text: string): string => {
  const chars = [...text];
  return chars.length > NOTE_MAX ? `${chars.slice(0, NOTE_MAX - 1).join('')}…` : text;
};

/**
 * One line per response: the playbook, what it came to, each step before this one, then the
 * playbook's own note. Steps of the notify phase are left out: they run beside this one, so whether
 * they finished first is chance. Values from the finding pass through `oneLine`, so none can break
 * the line.
 */
export const noteFor = (ctx: Context): { status: SetStatus; text: string } => {
  const steps = [...ctx.previous.values()].filter((step) => step.phase !== 'notify');
  const { verdict, summary } = verdictOf(steps);
  const listed = steps.map(
    (step) => `${oneLine(step.action, 60)} on ${oneLine(step.target, 80)}: ${oneLine(step.status, 20)}`,
  );
  const text = [
    `Riposte, playbook ${oneLine(ctx.playbook, 80)}: ${summary}.`,
    listed.length > 0 ? `${listed.join('; ')}.` : 'No steps ran before this update.',
    ...(ctx.params.note ? [oneLine(ctx.params.note, NOTE_MAX)] : []),
  ].join(' ');
  return { status: statusFor(ctx.params, verdict), text: capped(text) };
};

// ---------------------------------------------------------------------------------------------
// Reading and updating the finding's copy in Security Hub
// ---------------------------------------------------------------------------------------------

interface Copy {
  /** `Id` and `ProductArn`: how Security Hub names the copy. */
  id: string;
  productArn: string;
}

const copyOf = (origin: GuardDutyOrigin): Copy => ({
  id: origin.arn,
  productArn: guardDutyProductArn(origin.partition, origin.region),
});

/** The copy's workflow status; Security Hub gives a new finding `NEW`. */
const workflowOf = (finding: AwsSecurityFinding): string => finding.Workflow?.Status ?? 'NEW';

const describeCopy = (finding: AwsSecurityFinding | undefined): string =>
  finding === undefined
    ? 'Security Hub holds no copy of the finding'
    : `workflow status ${workflowOf(finding)}${finding.Note?.UpdatedBy ? `, note by ${oneLine(finding.Note.UpdatedBy, 60)}` : ''}`;

/**
 * The copy as Security Hub holds it now: `disabled` when the account has not enabled Security Hub in
 * that region (InvalidAccessException), `unknown` while planning without credentials.
 */
const readCopy = async (
  ctx: { services: AwsServices; target: { accountId: string; region: string } },
  copy: Copy,
  session: Session,
): Promise<
  | { status: 'found'; finding: AwsSecurityFinding | undefined }
  | { status: 'disabled' }
  | { status: 'unknown' }
> => {
  const input = {
    Filters: {
      Id: [{ Value: copy.id, Comparison: 'EQUALS' as const }],
      ProductArn: [{ Value: copy.productArn, Comparison: 'EQUALS' as const }],
    },
    MaxResults: 1,
  };
  const answer = await session.read(read(ctx, 'securityhub', 'GetFindings', input), {
    key: copy.id,
    found: (output) => describeCopy(output.Findings?.[0]),
    absent: {
      codes: ['InvalidAccessException'],
      summary: `Security Hub is not enabled in account ${ctx.target.accountId} in ${ctx.target.region}`,
    },
  });
  if (answer.status === 'found') {
    const finding = answer.output.Findings?.find(
      (item) => item.Id === copy.id && item.ProductArn === copy.productArn,
    );
    return { status: 'found', finding };
  }
  return answer.status === 'absent' ? { status: 'disabled' } : { status: 'unknown' };
};

// Unprocessed because of a race or an outage may work later; the other reasons will not.
const RETRYABLE_UNPROCESSED = new Set(['ConcurrentUpdateError', 'InternalFailure', 'FindingNotFound']);

/**
 * BatchUpdateFindings answers 200 even when it updated nothing: each finding it could not update is
 * listed in `UnprocessedFindings` with an error code. The call fails with that code instead, so the
 * report and the undo record see the update did not happen.
 */
const batchUpdate = (
  ctx: { services: AwsServices; target: { accountId: string; region: string } },
  copy: Copy,
  status: WorkflowStatus,
  text: string,
): Mutation<BatchUpdateFindingsCommandOutput> => {
  const sent = mutation(ctx, 'securityhub', 'BatchUpdateFindings', {
    FindingIdentifiers: [{ Id: copy.id, ProductArn: copy.productArn }],
    Workflow: { Status: status },
    Note: { Text: text, UpdatedBy: UPDATED_BY },
  });
  return {
    call: sent.call,
    send: async () => {
      const output = await sent.send();
      const [unprocessed] = output.UnprocessedFindings ?? [];
      if (unprocessed !== undefined) {
        const code = unprocessed.ErrorCode ?? 'UnprocessedFinding';
        throw new ActionExecutionError(
          awsErrorName(code),
          `Security Hub did not update ${copy.id}: ${code}${unprocessed.ErrorMessage ? ` (${oneLine(unprocessed.ErrorMessage, 200)})` : ''}`,
          {
            retryable: RETRYABLE_UNPROCESSED.has(code),
            details: {
              findingId: copy.id,
              ...(output.$metadata?.requestId ? { requestId: output.$metadata.requestId } : {}),
            },
          },
        );
      }
      return output;
    },
  };
};

// ---------------------------------------------------------------------------------------------
// The step
// ---------------------------------------------------------------------------------------------

interface State {
  copy: Copy;
  status: SetStatus;
  text: string;
  /** The copy's workflow status before the update; `undefined` when planning could not read it. */
  previous?: string;
}

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const checked = originOfTarget(ctx.finding, ctx.target);
  if ('problem' in checked) return refused(`${checked.problem}; nothing was looked up or changed`);
  const copy = copyOf(checked.origin);
  const { status, text } = noteFor(ctx);
  const current = await readCopy(ctx, copy, session);
  if (current.status === 'disabled') {
    return noOp(
      `Security Hub is not enabled in account ${ctx.target.accountId} in ${ctx.target.region}: nothing to update`,
    );
  }
  if (current.status === 'unknown') return planned({ copy, status, text });
  if (current.finding === undefined) {
    return noOp(`Security Hub holds no copy of finding ${ctx.finding.id} (yet): nothing to update`);
  }
  const previous = workflowOf(current.finding);
  if (previous === 'SUPPRESSED') return noOp('the finding is suppressed in Security Hub; left as it is');
  if (previous === status && current.finding.Note?.Text === text) {
    return noOp(`the finding is already ${status} in Security Hub, with this note`);
  }
  if ((WORKFLOW_RANK[previous] ?? 0) > (WORKFLOW_RANK[status] ?? 0)) {
    return noOp(
      `the finding is already ${shown(previous)} in Security Hub; Riposte does not move it back to ${status}`,
    );
  }
  return planned({ copy, status, text, previous });
};

const mutations = (ctx: Context, state: State): Mutation[] => [
  batchUpdate(ctx, state.copy, state.status, state.text),
];

/** What the inverse reads back: the copy, the status Riposte set and the one it replaced. */
export type UpdateSecurityHubFindingUndo = {
  findingArn: string;
  productArn: string;
  previousStatus: 'NEW' | 'NOTIFIED' | 'RESOLVED';
  status: SetStatus;
};

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, state: State) => ({
    findingArn: state.copy.id,
    workflowStatus: state.status,
    ...(state.previous === undefined ? {} : { previousStatus: state.previous }),
  }),
  // Execute reads the copy before updating it, so `previous` is known here (only a plan may lack it).
  undo: (_ctx: Context, state: State) => ({
    findingArn: state.copy.id,
    productArn: state.copy.productArn,
    status: state.status,
    ...(state.previous === undefined ? {} : { previousStatus: state.previous }),
  }),
};

// ---------------------------------------------------------------------------------------------
// Undo: the previous workflow status back, while the copy still has the one Riposte set
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<UpdateSecurityHubFindingUndo, AwsServices>;

const FINDING_ARN_PATTERN =
  '^arn:aws[a-z-]*:guardduty:[a-z0-9-]+:[0-9]{12}:detector/[a-z0-9]{1,300}/finding/[a-z0-9]{1,300}$';

const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    findingArn: { type: 'string', pattern: FINDING_ARN_PATTERN },
    productArn: { type: 'string', pattern: '^arn:aws[a-z-]*:securityhub:[a-z0-9-]+::product/aws/guardduty$' },
    previousStatus: { type: 'string', enum: ['NEW', 'NOTIFIED', 'RESOLVED'] },
    status: { type: 'string', enum: ['NOTIFIED', 'RESOLVED'] },
  },
  required: ['findingArn', 'productArn', 'previousStatus', 'status'],
};

/**
 * Why the recorded state cannot be acted on (checked again here, whoever validated it before), or
 * `undefined`: the copy must be the recorded target's finding, in its account and region.
 */
const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'finding') return `the recorded target is a ${shown(target.kind)}, not a finding`;
  const invalid = invalidId('account-id', target.accountId) ?? invalidId('region', target.region);
  if (invalid !== undefined) return invalid;
  const parts = typeof state.findingArn === 'string' ? parseArn(state.findingArn) : undefined;
  if (parts === undefined || !new RegExp(FINDING_ARN_PATTERN).test(state.findingArn)) {
    return `the recorded finding ARN ${shown(state.findingArn)} is not a GuardDuty finding ARN`;
  }
  if (parts.account !== target.accountId || parts.region !== target.region) {
    return `the recorded finding ARN ${shown(state.findingArn)} is not in the target's account ${target.accountId} and region ${target.region}`;
  }
  if (
    !parts.resource.endsWith(`/finding/${target.id}`) ||
    (target.arn !== undefined && target.arn !== state.findingArn)
  ) {
    return `the recorded finding ARN ${shown(state.findingArn)} is not the recorded target ${shown(target.arn ?? target.id)}`;
  }
  if (state.productArn !== guardDutyProductArn(parts.partition, parts.region)) {
    return `the recorded product ARN ${shown(state.productArn)} is not GuardDuty's in ${parts.region}`;
  }
  return undefined;
};

const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<null>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const { findingArn, productArn, previousStatus, status } = ctx.state;
  const current = await readCopy(ctx, { id: findingArn, productArn }, session);
  if (current.status === 'disabled') {
    return noOp(
      `Security Hub is no longer enabled in account ${ctx.target.accountId} in ${ctx.target.region}`,
    );
  }
  // A plan made without credentials lists the restore; execute reads the copy again first.
  if (current.status === 'unknown') return planned(null);
  if (current.finding === undefined) return noOp(`Security Hub no longer holds a copy of ${findingArn}`);
  const now = workflowOf(current.finding);
  if (now === previousStatus)
    return noOp(`the finding is already ${previousStatus} in Security Hub, as before the response`);
  if (now === status) return planned(null);
  return refused(
    `the finding's workflow status changed since the response: it is ${shown(now)}, neither Riposte's ${status} nor the previous ${previousStatus}; not restored`,
  );
};

const undoMutations = (ctx: UndoContext): Mutation[] => [
  batchUpdate(
    ctx,
    { id: ctx.state.findingArn, productArn: ctx.state.productArn },
    ctx.state.previousStatus,
    UNDO_NOTE,
  ),
];

const undo = defineInverse<UpdateSecurityHubFindingUndo, AwsServices>({
  summary: `Put the finding's Security Hub workflow status back to what it was before the response, with the note "${UNDO_NOTE}"; only while it still has the status Riposte set.`,
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: ['securityhub:BatchUpdateFindings', 'securityhub:GetFindings'],
  grants: () => GRANTS,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

/**
 * Feeds the response back to the finding's copy in Security Hub (the GuardDuty integration's), with
 * `BatchUpdateFindings`: its workflow status (RESOLVED when containment applied, NOTIFIED while a step
 * is held or when nothing was contained) and a note listing the steps it ran after. A no-op where the
 * account has not enabled Security Hub, where Security Hub holds no copy yet, on a suppressed copy,
 * and where the copy is already further along (Riposte never moves a finding back from RESOLVED).
 */
export const updateSecurityHubFinding = defineAction<UpdateSecurityHubFindingParams, AwsServices>({
  name: 'update-securityhub-finding',
  summary:
    "Set the workflow status of the finding's Security Hub copy (RESOLVED when containment applied, NOTIFIED when a step is held or nothing was contained) and add a note listing what the response did.",
  phase: 'notify',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      contained: {
        type: 'string',
        enum: ['RESOLVED', 'NOTIFIED'],
        description:
          'Workflow status when a containment or revocation step applied and no step was held, failed or left out (default RESOLVED).',
      },
      held: {
        type: 'string',
        enum: ['NOTIFIED'],
        description: 'Workflow status when a step is held for approval or by the mutation limit.',
      },
      otherwise: {
        type: 'string',
        enum: ['NOTIFIED', 'RESOLVED'],
        description:
          'Workflow status for any other outcome: nothing contained, or a step failed (default NOTIFIED).',
      },
      note: {
        type: 'string',
        description: 'Text appended to the note (the note is cut to 512 characters).',
        minLength: 1,
        maxLength: 400,
      },
    },
    required: [],
  },
  permissions: ['securityhub:BatchUpdateFindings', 'securityhub:GetFindings'],
  grants: () => GRANTS,
  paramExamples: [{ contained: 'NOTIFIED', note: 'Owner: platform team.' }],
  resourceKinds: ['finding'],
  example: ['- action: update-securityhub-finding', '  params:', '    contained: RESOLVED'].join('\n'),
  idempotency:
    'Skipped when the copy already has the status and the note, is suppressed, is further along (RESOLVED), or does not exist; a no-op where Security Hub is not enabled.',
  dryRun:
    "Refuses a finding whose GuardDuty ARN does not validate; looks up the finding's Security Hub copy (GetFindings by Id and GuardDuty's ProductArn); lists BatchUpdateFindings with the workflow status and the note (a plan has no steps before it yet, so it shows NOTIFIED and no steps).",

  targets: (finding) => findingTarget(finding),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
