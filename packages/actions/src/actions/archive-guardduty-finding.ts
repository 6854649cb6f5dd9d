import type { Finding as GuardDutyApiFinding } from '@aws-sdk/client-guardduty';
import {
  type ActionContext,
  defineAction,
  defineInverse,
  type InverseContext,
  type JsonSchema,
  type PermissionGrant,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { findingTarget, originOfTarget, unfinishedSteps } from '../guardduty-finding.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { invalidId, shown } from '../targets.js';

export type ArchiveGuardDutyFindingParams = Record<string, never>;

type Context = ActionContext<ArchiveGuardDutyFindingParams, AwsServices>;

/** GuardDuty authorises ArchiveFindings, UnarchiveFindings and GetFindings on no resource type: only `*`. */
const GRANTS: PermissionGrant[] = [
  { actions: ['guardduty:ArchiveFindings', 'guardduty:GetFindings'], resources: ['*'] },
];
const UNDO_GRANTS: PermissionGrant[] = [
  { actions: ['guardduty:GetFindings', 'guardduty:UnarchiveFindings'], resources: ['*'] },
];

/** Where a GuardDuty finding is read and archived: its detector, and its id. */
type Address = {
  detectorId: string;
  findingId: string;
};

/**
 * GuardDuty's copy of the finding: `archived` (`service.archived`), `missing` when the detector no
 * longer holds it, `unknown` while planning without credentials.
 */
const readArchived = async (
  ctx: { services: AwsServices; target: { accountId: string; region: string } },
  address: Address,
  session: Session,
): Promise<boolean | 'missing' | 'unknown'> => {
  const input = { DetectorId: address.detectorId, FindingIds: [address.findingId] };
  const held = (findings: GuardDutyApiFinding[] | undefined) =>
    findings?.find((finding) => finding.Id === address.findingId);
  const answer = await session.read(read(ctx, 'guardduty', 'GetFindings', input), {
    key: `${address.detectorId}/${address.findingId}`,
    found: (output) => {
      const finding = held(output.Findings);
      if (finding === undefined)
        return `detector ${address.detectorId} holds no finding ${address.findingId}`;
      return finding.Service?.Archived === true ? 'the finding is archived' : 'the finding is active';
    },
  });
  if (answer.status !== 'found') return 'unknown';
  const finding = held(answer.output.Findings);
  return finding === undefined ? 'missing' : finding.Service?.Archived === true;
};

const describeUnfinished = (ctx: Context): string | undefined => {
  const unfinished = unfinishedSteps(ctx.previous);
  if (unfinished.length === 0) return undefined;
  const first = unfinished[0]!;
  return `a step of the response is ${first.status} (${shown(first.action)} on ${shown(first.target)}${unfinished.length > 1 ? ` and ${unfinished.length - 1} more` : ''}): the finding stays active for a person to look at`;
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<Address>> => {
  const checked = originOfTarget(ctx.finding, ctx.target);
  if ('problem' in checked) return refused(`${checked.problem}; nothing was looked up or changed`);
  const unfinished = describeUnfinished(ctx);
  if (unfinished !== undefined) return noOp(unfinished);
  const address = { detectorId: checked.origin.detectorId, findingId: checked.origin.findingId };
  const archived = await readArchived(ctx, address, session);
  if (archived === true) return noOp(`finding ${address.findingId} is already archived in GuardDuty`);
  if (archived === 'missing') {
    return noOp(`GuardDuty's detector ${address.detectorId} no longer holds finding ${address.findingId}`);
  }
  return planned(address);
};

const mutations = (ctx: Context, address: Address): Mutation[] => [
  mutation(ctx, 'guardduty', 'ArchiveFindings', {
    DetectorId: address.detectorId,
    FindingIds: [address.findingId],
  }),
];

/** What the inverse reads back: the detector and the finding it archived. */
export type ArchiveGuardDutyFindingUndo = Address;

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, address: Address) => ({ ...address }),
  undo: (_ctx: Context, address: Address): ArchiveGuardDutyFindingUndo => ({ ...address }),
};

// ---------------------------------------------------------------------------------------------
// Undo: unarchive the finding, while it is still archived
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<ArchiveGuardDutyFindingUndo, AwsServices>;

const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    detectorId: { type: 'string', pattern: '^[a-z0-9]{1,300}$' },
    findingId: { type: 'string', pattern: '^[a-z0-9]{1,300}$' },
  },
  required: ['detectorId', 'findingId'],
};

/** Why the recorded state cannot be acted on (checked again here, whoever validated it before), or `undefined`. */
const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'finding') return `the recorded target is a ${shown(target.kind)}, not a finding`;
  const invalid =
    invalidId('guardduty-detector-id', state.detectorId) ??
    invalidId('guardduty-finding-id', state.findingId) ??
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region);
  if (invalid !== undefined) return invalid;
  if (state.findingId !== target.id) {
    return `the recorded finding ${shown(state.findingId)} is not the recorded target ${shown(target.id)}`;
  }
  if (
    target.arn !== undefined &&
    !target.arn.endsWith(`:${target.accountId}:detector/${state.detectorId}/finding/${state.findingId}`)
  ) {
    return `the recorded detector ${shown(state.detectorId)} is not the one the target's ARN ${shown(target.arn)} names`;
  }
  return undefined;
};

const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<null>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const archived = await readArchived(ctx, ctx.state, session);
  if (archived === 'missing') {
    return noOp(
      `GuardDuty's detector ${ctx.state.detectorId} no longer holds finding ${ctx.state.findingId}`,
    );
  }
  if (archived === false)
    return noOp(`finding ${ctx.state.findingId} is not archived in GuardDuty (any more)`);
  // Archived, or a plan made without credentials: execute reads the finding again first.
  return planned(null);
};

const undoMutations = (ctx: UndoContext): Mutation[] => [
  mutation(ctx, 'guardduty', 'UnarchiveFindings', {
    DetectorId: ctx.state.detectorId,
    FindingIds: [ctx.state.findingId],
  }),
];

const undo = defineInverse<ArchiveGuardDutyFindingUndo, AwsServices>({
  summary: 'Unarchive the finding in GuardDuty (UnarchiveFindings), while it is still archived.',
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: ['guardduty:GetFindings', 'guardduty:UnarchiveFindings'],
  grants: () => UNDO_GRANTS,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

/**
 * Archives the finding in GuardDuty once the response is done, through the detector its ARN names:
 * for teams that track work elsewhere and want GuardDuty's list to show only what is still open. Off
 * unless a playbook asks for it. Leaves the finding active while any step before it is held, failed
 * or did not run. In an organization GuardDuty lets only the administrator account archive: run from
 * a member account, GuardDuty refuses the call and the step fails.
 */
export const archiveGuardDutyFinding = defineAction<ArchiveGuardDutyFindingParams, AwsServices>({
  name: 'archive-guardduty-finding',
  summary:
    'Archive the finding in GuardDuty once the response is done; left active while any step before it is held, failed or did not run.',
  phase: 'notify',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: ['guardduty:ArchiveFindings', 'guardduty:GetFindings'],
  grants: () => GRANTS,
  resourceKinds: ['finding'],
  example: '- action: archive-guardduty-finding',
  idempotency:
    'Skipped when GuardDuty already holds the finding archived, or no longer holds it; a no-op while a step before it is held, failed or did not run.',
  dryRun:
    'Refuses a finding whose GuardDuty ARN does not validate; looks up the finding through the detector its ARN names (GetFindings); lists ArchiveFindings with that detector and the finding id.',

  targets: (finding) => findingTarget(finding),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
