import { type ActionContext, defineAction, type PermissionGrant, resourcesOfKind } from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, noOp, planned, planWith, refused } from '../step.js';
import { invalidAccount, invalidTrail, resolved, targetOf, trailHomeRegion } from '../targets.js';

export type RestartCloudTrailLoggingParams = Record<string, never>;

type Context = ActionContext<RestartCloudTrailLoggingParams, AwsServices>;

/** Trails of the deploying account, in whichever region is their home. */
const GRANTS: PermissionGrant[] = [
  {
    actions: ['cloudtrail:GetTrailStatus', 'cloudtrail:StartLogging'],
    resources: ['arn:{partition}:cloudtrail:*:{account}:trail/*'],
  },
];

/**
 * Why this target cannot be acted on at all: checked before any client is made or call is sent. A
 * trail name must be one CloudTrail accepts; a trail ARN must also carry the finding's partition and
 * account and the target's region (where the calls go).
 */
const invalidTarget = (ctx: Context): string | undefined => {
  const invalid =
    invalidAccount(ctx.target, ctx.finding) ??
    invalidTrail(ctx.target.id, {
      partition: ctx.finding.partition,
      accountId: ctx.finding.accountId,
      region: ctx.target.region,
    });
  return invalid === undefined ? undefined : `${invalid}; nothing was looked up or changed`;
};

/** Whether the trail logs now; `undefined` when planning could not ask. */
const readStatus = async (ctx: Context, session: Session): Promise<boolean | 'missing' | undefined> => {
  const answer = await session.read(read(ctx, 'cloudtrail', 'GetTrailStatus', { Name: ctx.target.id }), {
    key: ctx.target.id,
    found: (output) =>
      output.IsLogging
        ? 'the trail is logging'
        : `the trail stopped logging${output.StopLoggingTime ? ` at ${output.StopLoggingTime.toISOString()}` : ''}`,
    absent: { codes: ['TrailNotFoundException'], summary: `trail ${ctx.target.id} does not exist` },
  });
  if (answer.status === 'found') return answer.output.IsLogging === true;
  return answer.status === 'absent' ? 'missing' : undefined;
};

const nothingToDo = (ctx: Context, status: boolean | 'missing' | undefined): string | undefined =>
  status === true
    ? `trail ${ctx.target.id} is already logging`
    : status === 'missing'
      ? `trail ${ctx.target.id} no longer exists`
      : undefined;

const inspect = async (ctx: Context, session: Session): Promise<Inspection<undefined>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const reason = nothingToDo(ctx, await readStatus(ctx, session));
  return reason ? noOp(reason) : planned(undefined);
};

const mutations = (ctx: Context): Mutation[] => [
  mutation(ctx, 'cloudtrail', 'StartLogging', { Name: ctx.target.id }),
];

const step = { inspect, mutations, outputs: (ctx: Context) => ({ trail: ctx.target.id }) };

/**
 * Turns logging back on for the trail the finding says was stopped
 * (`Stealth:IAMUser/CloudTrailLoggingDisabled`), addressing it by ARN in its home region. A trail
 * name or ARN that does not validate, or an ARN of another partition or account, is refused before
 * any call.
 */
export const restartCloudTrailLogging = defineAction<RestartCloudTrailLoggingParams, AwsServices>({
  name: 'restart-cloudtrail-logging',
  summary: 'Start logging again on the CloudTrail trail the finding names.',
  phase: 'contain',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: ['cloudtrail:GetTrailStatus', 'cloudtrail:StartLogging'],
  grants: () => GRANTS,
  resourceKinds: ['cloudtrail-trail'],
  example: '- action: restart-cloudtrail-logging',
  idempotency: 'Skipped when the trail is already logging.',
  dryRun:
    "Refuses a malformed trail name or an ARN outside the finding's partition and account; looks up the trail status; lists StartLogging with the trail ARN.",

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 'cloudtrail-trail').map((trail) => {
        // Only an ARN of the finding's partition and account moves the target to the trail's home
        // region; any other ARN stays in the finding's region, and planning refuses it.
        const region = trail.arn === undefined ? undefined : trailHomeRegion(trail.arn, finding);
        return targetOf(finding, 'cloudtrail-trail', trail.arn ?? trail.name, `trail ${trail.name}`, {
          ...(trail.arn === undefined ? {} : { arn: trail.arn }),
          ...(region === undefined ? {} : { region }),
        });
      }),
      'the finding names no CloudTrail trail',
    ),

  plan: planWith(step),
  execute: executeWith(step),
  undo: {
    none: 'logging that was restarted stays on: stopping a trail again would blind the audit log, which is what the finding reported',
  },
});
