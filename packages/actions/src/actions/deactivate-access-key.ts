import {
  type ActionContext,
  defineAction,
  identifierProblem,
  type PermissionGrant,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { checkPrincipal } from '../protection.js';
import type { Session } from '../session.js';
import { executeWith, type Inspection, noOp, planned, planWith, type Refusal, refused } from '../step.js';
import { resolved, shown, targetOf } from '../targets.js';

export type DeactivateAccessKeyParams = Record<string, never>;

type Context = ActionContext<DeactivateAccessKeyParams, AwsServices>;

/** IAM users of the deploying account (their path included): the protection check's reads, then the key. */
const GRANTS: PermissionGrant[] = [
  {
    actions: ['iam:GetUser', 'iam:ListUserTags', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'],
    resources: ['arn:{partition}:iam::{account}:user/*'],
  },
];

/** The user whose key is deactivated, as IAM spells the name. */
type State = { userName: string };

/** Why the target is not a long-term IAM user key id (`AKIA...`; `ASIA` keys are temporary), or `undefined`. */
const invalidUserKeyId = (id: string): string | undefined =>
  identifierProblem('access-key-id', id) ??
  (id.startsWith('AKIA') ? undefined : `${shown(id)} is not a long-term (AKIA) access key id`);

/** Only a long-term IAM user key can be deactivated; every other kind of credential is refused with why. */
const userOf = (ctx: Context): Refusal | State => {
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
const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const user = userOf(ctx);
  if ('status' in user) return user;
  const protection = await checkPrincipal(ctx, session, 'user', user.userName);
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return noOp(protection.reason);
  const userName = protection.principal.name;
  // A user has at most two access keys; one page (up to 100) lists them all.
  const answer = await session.read(read(ctx, 'iam', 'ListAccessKeys', { UserName: userName }), {
    key: userName,
    found: (output) =>
      (output.AccessKeyMetadata ?? []).map((key) => `${key.AccessKeyId} ${key.Status}`).join('; ') ||
      `${userName} has no access keys`,
    absent: {
      codes: ['NoSuchEntityException', 'NoSuchEntity'],
      summary: `IAM user ${userName} does not exist`,
    },
  });
  if (answer.status === 'absent') return noOp(`IAM user ${userName} no longer exists`);
  if (answer.status === 'found') {
    const key = (answer.output.AccessKeyMetadata ?? []).find(
      (item) =>
        item.AccessKeyId === ctx.target.id && (item.UserName === undefined || item.UserName === userName),
    );
    if (!key) {
      return refused(
        `access key ${ctx.target.id} is not a key of IAM user ${userName} (ListAccessKeys does not list it); not changed`,
      );
    }
    const reason = nothingToDo(ctx, key.Status);
    if (reason) return noOp(reason);
  }
  return planned({ userName });
};

const nothingToDo = (ctx: Context, status: string | undefined): string | undefined =>
  status === 'Inactive' ? `access key ${ctx.target.id} is already inactive` : undefined;

const mutations = (ctx: Context, { userName }: State): Mutation[] => [
  mutation(ctx, 'iam', 'UpdateAccessKey', {
    UserName: userName,
    AccessKeyId: ctx.target.id,
    Status: 'Inactive',
  }),
];

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, { userName }: State) => ({ userName, accessKeyId: ctx.target.id }),
};

/**
 * Deactivates (does not delete) the IAM user access key the finding names: reversible, and the key id
 * stays as evidence. Root keys and temporary (assumed-role) credentials are refused with the reason,
 * and so are protected users (RIPOSTE_PROTECTED_PRINCIPALS, the user Riposte runs as, the
 * `riposte:protected` tag) and keys the named user does not own.
 */
export const deactivateAccessKey = defineAction<DeactivateAccessKeyParams, AwsServices>({
  name: 'deactivate-access-key',
  summary:
    "Deactivate the IAM user's access key the finding names (refuses root and temporary credentials, protected users, and keys the user does not own).",
  phase: 'revoke',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
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

  plan: planWith(step),
  execute: executeWith(step),
});
