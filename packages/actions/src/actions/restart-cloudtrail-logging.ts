import { type ActionContext, resourcesOfKind } from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { executeAction, planAction, type Session, scopeOf } from '../session.js';
import { resolved, targetOf } from '../targets.js';

export type RestartCloudTrailLoggingParams = Record<string, never>;

type Context = ActionContext<RestartCloudTrailLoggingParams, AwsServices>;

/** Whether the trail logs now; `undefined` when planning could not ask. */
const readStatus = async (ctx: Context, session: Session): Promise<boolean | 'missing' | undefined> => {
  const cloudtrail = await ctx.services.cloudtrail(scopeOf(ctx.target));
  const { GetTrailStatusCommand } = await import('@aws-sdk/client-cloudtrail');
  const input = { Name: ctx.target.id };
  const read = await session.read({
    call: awsCall('CloudTrail', 'GetTrailStatus', input),
    send: () => cloudtrail.send(new GetTrailStatusCommand(input)),
    key: ctx.target.id,
    found: (output) =>
      output.IsLogging
        ? 'the trail is logging'
        : `the trail stopped logging${output.StopLoggingTime ? ` at ${output.StopLoggingTime.toISOString()}` : ''}`,
    absent: { codes: ['TrailNotFoundException'], summary: `trail ${ctx.target.id} does not exist` },
  });
  if (read.status === 'found') return read.output.IsLogging === true;
  return read.status === 'absent' ? 'missing' : undefined;
};

const noNeed = (ctx: Context, status: boolean | 'missing' | undefined): string | undefined =>
  status === true
    ? `trail ${ctx.target.id} is already logging`
    : status === 'missing'
      ? `trail ${ctx.target.id} no longer exists`
      : undefined;

const startLogging = (ctx: Context): Mutation => {
  const input = { Name: ctx.target.id };
  return mutation('CloudTrail', 'StartLogging', input, async () => {
    const { StartLoggingCommand } = await import('@aws-sdk/client-cloudtrail');
    return (await ctx.services.cloudtrail(scopeOf(ctx.target))).send(new StartLoggingCommand(input));
  });
};

/** The home region of a trail ARN (`arn:aws:cloudtrail:<region>:<account>:trail/<name>`): trails are managed there. */
const homeRegion = (arn: string | undefined): string | undefined => arn?.split(':')[3] || undefined;

/**
 * Turns logging back on for the trail the finding says was stopped
 * (`Stealth:IAMUser/CloudTrailLoggingDisabled`), addressing it by ARN in its home region.
 */
export const restartCloudTrailLogging: DocumentedAction<RestartCloudTrailLoggingParams, AwsServices> = {
  name: 'restart-cloudtrail-logging',
  summary: 'Start logging again on the CloudTrail trail the finding names.',
  phase: 'contain',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
  permissions: ['cloudtrail:GetTrailStatus', 'cloudtrail:StartLogging'],
  resourceKinds: ['cloudtrail-trail'],
  example: '- action: restart-cloudtrail-logging',
  idempotency: 'Skipped when the trail is already logging.',
  dryRun: 'Looks up the trail status; lists StartLogging with the trail ARN.',

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 'cloudtrail-trail').map((trail) => {
        const region = homeRegion(trail.arn);
        return targetOf(finding, 'cloudtrail-trail', trail.arn ?? trail.name, `trail ${trail.name}`, {
          ...(trail.arn === undefined ? {} : { arn: trail.arn }),
          ...(region === undefined ? {} : { region }),
        });
      }),
      'the finding names no CloudTrail trail',
    ),

  plan: (ctx) =>
    planAction(async (session) => {
      const reason = noNeed(ctx, await readStatus(ctx, session));
      if (reason) return { status: 'no-op', reason, calls: [] };
      return { status: 'planned', calls: [startLogging(ctx).call] };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const reason = noNeed(ctx, await readStatus(ctx, session));
      if (reason) return { status: 'skipped', reason };
      await session.mutate(startLogging(ctx));
      return { status: 'applied', outputs: { trail: ctx.target.id } };
    }),
};
