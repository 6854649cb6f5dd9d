import { type ActionContext, resourcesOfKind } from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { executeAction, planAction, type Session, scopeOf } from '../session.js';
import { resolved, targetOf } from '../targets.js';

export type DeactivateAccessKeyParams = Record<string, never>;

type Context = ActionContext<DeactivateAccessKeyParams, AwsServices>;

type Inspection = { status: 'planned'; userName: string } | { status: 'no-op' | 'refused'; reason: string };

/** Only a long-term IAM user key can be deactivated; every other kind of credential is refused with why. */
const refusal = (ctx: Context): { reason: string } | { userName: string } => {
  const key = resourcesOfKind(ctx.finding, 'access-key').find((item) => item.accessKeyId === ctx.target.id);
  switch (key?.userType) {
    case 'IAMUser':
      return key.userName === undefined
        ? { reason: `the finding does not name the IAM user of access key ${ctx.target.id}` }
        : { userName: key.userName };
    case 'Root':
      return { reason: 'root keys cannot be managed by an IAM call; rotate through the root user' };
    case 'AssumedRole':
      return { reason: 'temporary credentials: use revoke-role-sessions' };
    default:
      return { reason: `${key?.userType ?? 'unknown'} credentials are not an IAM user access key` };
  }
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection> => {
  const principal = refusal(ctx);
  if ('reason' in principal) return { status: 'refused', reason: principal.reason };
  const { userName } = principal;
  const iam = await ctx.services.iam(scopeOf(ctx.target));
  const { ListAccessKeysCommand } = await import('@aws-sdk/client-iam');
  const input = { UserName: userName };
  const read = await session.read({
    call: awsCall('IAM', 'ListAccessKeys', input),
    send: () => iam.send(new ListAccessKeysCommand(input)),
    key: userName,
    found: (output) =>
      (output.AccessKeyMetadata ?? []).map((key) => `${key.AccessKeyId} ${key.Status}`).join('; ') ||
      `${userName} has no access keys`,
    absent: {
      codes: ['NoSuchEntityException', 'NoSuchEntity'],
      summary: `IAM user ${userName} does not exist`,
    },
  });
  if (read.status === 'absent') return { status: 'no-op', reason: `IAM user ${userName} no longer exists` };
  if (read.status === 'found') {
    const key = (read.output.AccessKeyMetadata ?? []).find((item) => item.AccessKeyId === ctx.target.id);
    if (!key)
      return { status: 'no-op', reason: `access key ${ctx.target.id} of ${userName} no longer exists` };
    if (key.Status === 'Inactive')
      return { status: 'no-op', reason: `access key ${ctx.target.id} is already inactive` };
  }
  return { status: 'planned', userName };
};

const deactivate = (ctx: Context, userName: string): Mutation => {
  const input = { UserName: userName, AccessKeyId: ctx.target.id, Status: 'Inactive' as const };
  return mutation('IAM', 'UpdateAccessKey', input, async () => {
    const { UpdateAccessKeyCommand } = await import('@aws-sdk/client-iam');
    return (await ctx.services.iam(scopeOf(ctx.target))).send(new UpdateAccessKeyCommand(input));
  });
};

/**
 * Deactivates (does not delete) the IAM user access key the finding names: reversible, and the key id
 * stays as evidence. Root keys and temporary (assumed-role) credentials are refused with the reason.
 */
export const deactivateAccessKey: DocumentedAction<DeactivateAccessKeyParams, AwsServices> = {
  name: 'deactivate-access-key',
  summary: "Deactivate the IAM user's access key the finding names (refuses root and temporary credentials).",
  phase: 'revoke',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
  permissions: ['iam:ListAccessKeys', 'iam:UpdateAccessKey'],
  resourceKinds: ['access-key'],
  example: '- action: deactivate-access-key',
  idempotency: 'Skipped when the key is already Inactive (or no longer exists).',
  dryRun:
    "Looks up the user's access keys; lists UpdateAccessKey with Status Inactive, or the refusal for root and assumed-role credentials.",

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 'access-key').flatMap((key) =>
        key.accessKeyId === undefined
          ? []
          : [
              targetOf(
                finding,
                'access-key',
                key.accessKeyId,
                `access key ${key.accessKeyId} (${key.userType}${key.userName ? ` ${key.userName}` : ''})`,
              ),
            ],
      ),
      'the finding names no access key',
    ),

  plan: (ctx) =>
    planAction(async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status !== 'planned')
        return { status: inspection.status, reason: inspection.reason, calls: [] };
      return { status: 'planned', calls: [deactivate(ctx, inspection.userName).call] };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status !== 'planned') return { status: 'skipped', reason: inspection.reason };
      await session.mutate(deactivate(ctx, inspection.userName));
      return { status: 'applied', outputs: { userName: inspection.userName, accessKeyId: ctx.target.id } };
    }),
};
