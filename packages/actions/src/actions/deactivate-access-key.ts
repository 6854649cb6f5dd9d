import {
  type ActionContext,
  type ExecutionError,
  identifierProblem,
  type PermissionGrant,
  resourcesOfKind,
} from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { checkPrincipal } from '../protection.js';
import { executeAction, planAction, type Session, scopeOf } from '../session.js';
import { refusal, resolved, shown, targetOf } from '../targets.js';

export type DeactivateAccessKeyParams = Record<string, never>;

type Context = ActionContext<DeactivateAccessKeyParams, AwsServices>;

type Refusal = { status: 'refused'; reason: string; error: ExecutionError };

/** IAM users of the deploying account (their path included): the protection check's reads, then the key. */
const GRANTS: PermissionGrant[] = [
  {
    actions: ['iam:GetUser', 'iam:ListUserTags', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'],
    resources: ['arn:{partition}:iam::{account}:user/*'],
  },
];

type Inspection = { status: 'planned'; userName: string } | { status: 'no-op'; reason: string } | Refusal;

const refused = (reason: string): Refusal => ({ status: 'refused', reason, error: refusal(reason) });

/** Why the target is not a long-term IAM user key id (`AKIA...`; `ASIA` keys are temporary), or `undefined`. */
const invalidUserKeyId = (id: string): string | undefined =>
  identifierProblem('access-key-id', id) ??
  (id.startsWith('AKIA') ? undefined : `${shown(id)} is not a long-term (AKIA) access key id`);

/** Only a long-term IAM user key can be deactivated; every other kind of credential is refused with why. */
const userOf = (ctx: Context): Refusal | { userName: string } => {
  const key = resourcesOfKind(ctx.finding, 'access-key').find((item) => item.accessKeyId === ctx.target.id);
  switch (key?.userType) {
    case 'IAMUser': {
      if (key.userName === undefined) {
        return refused(`the finding does not name the IAM user of access key ${ctx.target.id}`);
      }
      const invalid = invalidUserKeyId(ctx.target.id);
      return invalid === undefined ? { userName: key.userName } : refused(`refused: ${invalid}; not changed`);
    }
    case 'Root':
      return refused('root keys cannot be managed by an IAM call; rotate through the root user');
    case 'AssumedRole':
      return refused('temporary credentials: use revoke-role-sessions');
    default:
      return refused(`${key?.userType ?? 'unknown'} credentials are not an IAM user access key`);
  }
};

/**
 * Refuses protected users (protection.ts), then checks that the key is one of the user's: the finding
 * names both, and a key the named user does not own is never touched.
 */
const inspect = async (ctx: Context, session: Session): Promise<Inspection> => {
  const user = userOf(ctx);
  if ('status' in user) return user;
  const protection = await checkPrincipal(ctx, session, 'user', user.userName);
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return { status: 'no-op', reason: protection.reason };
  const userName = protection.principal.name;
  const iam = await ctx.services.iam(scopeOf(ctx.target));
  const { ListAccessKeysCommand } = await import('@aws-sdk/client-iam');
  const input = { UserName: userName };
  // A user has at most two access keys; one page (up to 100) lists them all.
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
    const key = (read.output.AccessKeyMetadata ?? []).find(
      (item) =>
        item.AccessKeyId === ctx.target.id && (item.UserName === undefined || item.UserName === userName),
    );
    if (!key) {
      return refused(
        `access key ${ctx.target.id} is not a key of IAM user ${userName} (ListAccessKeys does not list it); not changed`,
      );
    }
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
 * stays as evidence. Root keys and temporary (assumed-role) credentials are refused with the reason,
 * and so are protected users (RIPOSTE_PROTECTED_PRINCIPALS, the user Riposte runs as, the
 * `riposte:protected` tag) and keys the named user does not own.
 */
export const deactivateAccessKey: DocumentedAction<DeactivateAccessKeyParams, AwsServices> = {
  name: 'deactivate-access-key',
  summary:
    "Deactivate the IAM user's access key the finding names (refuses root and temporary credentials, protected users, and keys the user does not own).",
  phase: 'revoke',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
  permissions: ['iam:GetUser', 'iam:ListUserTags', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'],
  grants: () => GRANTS,
  resourceKinds: ['access-key'],
  example: '- action: deactivate-access-key',
  idempotency: 'Skipped when the key is already Inactive (or its user no longer exists).',
  dryRun:
    'Looks up the user, its tags and its access keys; lists UpdateAccessKey with Status Inactive, or the refusal for root and assumed-role credentials, protected users and keys the user does not own.',

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
      if (inspection.status === 'refused') return session.fail(inspection.error);
      if (inspection.status === 'no-op') return { status: 'skipped', reason: inspection.reason };
      await session.mutate(deactivate(ctx, inspection.userName));
      return { status: 'applied', outputs: { userName: inspection.userName, accessKeyId: ctx.target.id } };
    }),
};
