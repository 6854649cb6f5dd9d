import type { AccessKeyMetadata, ListAccessKeysCommandOutput, StatusType } from '@aws-sdk/client-iam';
import {
  type ActionContext,
  defineAction,
  defineInverse,
  type InverseContext,
  identifierProblem,
  type JsonSchema,
  type PermissionGrant,
  regionPartition,
  resourcesOfKind,
} from '@riposte/core';
import { type CallContext, type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { checkPrincipal } from '../protection.js';
import type { Session } from '../session.js';
import {
  executeWith,
  type Inspection,
  inverseWith,
  noOp,
  planned,
  planWith,
  type Refusal,
  refused,
} from '../step.js';
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

/** The user whose key is deactivated, as IAM spells the name, and the key's status before (once listed). */
type State = { userName: string; keyStatus?: StatusType | undefined };

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

/** The user's access keys: a user has at most two, so one page (up to 100) lists them all. */
const listKeys = (ctx: CallContext, session: Session, userName: string) =>
  session.read(read(ctx, 'iam', 'ListAccessKeys', { UserName: userName }), {
    key: userName,
    found: (output) =>
      (output.AccessKeyMetadata ?? []).map((key) => `${key.AccessKeyId} ${key.Status}`).join('; ') ||
      `${userName} has no access keys`,
    absent: {
      codes: ['NoSuchEntityException', 'NoSuchEntity'],
      summary: `IAM user ${userName} does not exist`,
    },
  });

/** The key with this id among those ListAccessKeys listed for the user, if it is one of them. */
const keyOf = (
  output: ListAccessKeysCommandOutput,
  accessKeyId: string,
  userName: string,
): AccessKeyMetadata | undefined =>
  (output.AccessKeyMetadata ?? []).find(
    (item) => item.AccessKeyId === accessKeyId && (item.UserName === undefined || item.UserName === userName),
  );

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
  const answer = await listKeys(ctx, session, userName);
  if (answer.status === 'absent') return noOp(`IAM user ${userName} no longer exists`);
  if (answer.status === 'found') {
    const key = keyOf(answer.output, ctx.target.id, userName);
    if (!key) {
      return refused(
        `access key ${ctx.target.id} is not a key of IAM user ${userName} (ListAccessKeys does not list it); not changed`,
      );
    }
    const reason = nothingToDo(ctx, key.Status);
    if (reason) return noOp(reason);
    return planned({ userName, keyStatus: key.Status });
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

/** What the inverse reads back: whose key, which key, and its status before the response. */
export type DeactivateAccessKeyUndo = {
  userName: string;
  accessKeyId: string;
  previousStatus: 'Active';
};

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, { userName }: State) => ({ userName, accessKeyId: ctx.target.id }),
  // Execute lists the keys before changing one, so the status is known; a key that was not Active
  // (IAM's `Expired`) is recorded as it was, and the inverse's schema refuses to make it Active.
  undo: (ctx: Context, { userName, keyStatus }: State) => ({
    userName,
    accessKeyId: ctx.target.id,
    ...(keyStatus === undefined ? {} : { previousStatus: keyStatus }),
  }),
};

// ---------------------------------------------------------------------------------------------
// Undo: the key active again, while it exists and its user is not protected
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<DeactivateAccessKeyUndo, AwsServices>;

/**
 * The recorded state as history holds it: read back from a table, so nothing else is accepted. The
 * patterns are those of `identifierProblem` (`iam-user-name`, a long-term `AKIA` key id); the inverse
 * checks both again before any call.
 */
const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    userName: { type: 'string', pattern: '^[A-Za-z0-9_+=,.@-]{1,64}$' },
    accessKeyId: { type: 'string', pattern: '^AKIA[A-Z0-9]{12,124}$' },
    previousStatus: { type: 'string', enum: ['Active'] },
  },
  required: ['userName', 'accessKeyId', 'previousStatus'],
};

/** Why the recorded state cannot be acted on (checked again here, whoever validated it before), or `undefined`. */
const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'access-key') {
    return `the recorded target is a ${shown(target.kind)}, not an access key`;
  }
  const invalid =
    invalidUserKeyId(state.accessKeyId) ??
    identifierProblem('iam-user-name', state.userName) ??
    identifierProblem('account-id', target.accountId) ??
    identifierProblem('region', target.region);
  if (invalid !== undefined) return invalid;
  if (state.accessKeyId !== target.id) {
    return `the recorded key ${shown(state.accessKeyId)} is not the recorded target ${shown(target.id)}`;
  }
  return state.previousStatus === 'Active'
    ? undefined
    : `the recorded previous status ${shown(state.previousStatus)} is not Active`;
};

/**
 * The context the protection check reads (the services, the target's account and region, the
 * partition), made from an inverse's: an undo has no finding, so the partition is the one of the
 * recorded target's region. `checkPrincipal` reads nothing else of it.
 */
const protectionContext = (ctx: UndoContext, partition: string): ActionContext<unknown, AwsServices> =>
  ({
    services: ctx.services,
    target: ctx.target,
    finding: { partition, accountId: ctx.target.accountId, region: ctx.target.region },
  }) as unknown as ActionContext<unknown, AwsServices>;

/**
 * Makes the key Active again only when it is Inactive, is still a key of the recorded user, and that
 * user is not protected (the same check as the action's: a user protected since is not changed).
 */
const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<string>> => {
  const invalid = invalidUndo(ctx);
  const partition = regionPartition(ctx.target.region);
  if (invalid !== undefined || partition === undefined) {
    const why = invalid ?? `region ${shown(ctx.target.region)} is in no known partition`;
    return refused(`refused: ${why}; nothing was looked up or changed`);
  }
  const { accessKeyId } = ctx.state;
  const protection = await checkPrincipal(
    protectionContext(ctx, partition),
    session,
    'user',
    ctx.state.userName,
  );
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') {
    return noOp(`${protection.reason}, and its keys with it; nothing to restore`);
  }
  const userName = protection.principal.name;
  const answer = await listKeys(ctx, session, userName);
  if (answer.status === 'absent') return noOp(`IAM user ${userName} no longer exists; nothing to restore`);
  // A plan made without credentials lists the restore; execute lists the keys again first.
  if (answer.status === 'unknown') return planned(userName);
  const key = keyOf(answer.output, accessKeyId, userName);
  if (key === undefined) {
    return noOp(
      `access key ${accessKeyId} is no longer a key of IAM user ${userName} (deleted since); nothing to restore`,
    );
  }
  if (key.Status === 'Active') return noOp(`access key ${accessKeyId} is already active`);
  if (key.Status !== 'Inactive') {
    return refused(`access key ${accessKeyId} is ${shown(key.Status)}, not Inactive; not changed`);
  }
  return planned(userName);
};

const undoMutations = (ctx: UndoContext, userName: string): Mutation[] => [
  mutation(ctx, 'iam', 'UpdateAccessKey', {
    UserName: userName,
    AccessKeyId: ctx.state.accessKeyId,
    Status: 'Active',
  }),
];

/** The action's reads (the protection check, the user's keys) and UpdateAccessKey, on the same users. */
const undo = defineInverse<DeactivateAccessKeyUndo, AwsServices>({
  summary:
    'Make the access key Active again (UpdateAccessKey) when it is still Inactive and still a key of the recorded user; refuses protected users as the action does.',
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: ['iam:GetUser', 'iam:ListUserTags', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'],
  grants: () => GRANTS,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

/**
 * Deactivates (does not delete) the IAM user access key the finding names: reversible, and the key id
 * stays as evidence. Root keys and temporary (assumed-role) credentials are refused with the reason,
 * and so are protected users (RIPOSTE_PROTECTED_PRINCIPALS, the user Riposte runs as, the
 * `riposte:protected` tag) and keys the named user does not own.
 *
 * Undo: the key is made Active again while it is Inactive and still the user's, and the user is not
 * protected; a key deleted since stays deleted.
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
  undo,
});
