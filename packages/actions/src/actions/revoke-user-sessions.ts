import {
  type ActionContext,
  defineAction,
  defineInverse,
  type Finding,
  type InverseContext,
  identifierProblem,
  type JsonSchema,
  type PermissionGrant,
  regionPartition,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import {
  NO_SUCH_ENTITY,
  NO_USER_REASON,
  protectionContext,
  USER_NAME_PATTERN,
  userOfTarget,
  userTargets,
} from '../iam-user.js';
import {
  decoded,
  deniesOnly,
  isRevocationDocument,
  isStar,
  parsedStatements,
  sameDocument,
} from '../policy-document.js';
import { checkPrincipal } from '../protection.js';
import type { Read, Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { resolved, shown } from '../targets.js';

export type RevokeUserSessionsParams = Record<string, never>;

type Context = ActionContext<RevokeUserSessionsParams, AwsServices>;

/** The inline policy Riposte puts on the user. */
export const USER_REVOKE_POLICY_NAME = 'RiposteRevokeOlderSessions';

/**
 * Denies every request made with temporary credentials of the user issued before `issuedBefore`.
 * `aws:TokenIssueTime` is in the request context only for temporary credentials (IAM User Guide,
 * global condition keys), so requests signed with the user's long-term access keys are not matched:
 * those are deactivate-access-key's job.
 */
export const userRevokePolicyDocument = (issuedBefore: Date): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RiposteRevokeOlderSessions',
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore.toISOString() } },
      },
    ],
  });

const USERS = ['arn:{partition}:iam::{account}:user/*'];

/** Everything acts on IAM users of the deploying account: the protection check's reads, then the policy. */
const GRANTS: PermissionGrant[] = [
  {
    actions: ['iam:GetUser', 'iam:GetUserPolicy', 'iam:ListUserTags', 'iam:PutUserPolicy'],
    resources: USERS,
  },
];

/** Up to when a document denies every session (deny-all statements conditioned on the issue time only). */
const revokedBefore = (document: string): number | undefined => {
  const times = (parsedStatements(document) ?? []).flatMap((statement) => {
    const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
    const before = condition?.DateLessThan?.['aws:TokenIssueTime'];
    const onlyTime = Object.keys(condition ?? {}).every((operator) => operator === 'DateLessThan');
    return statement.Effect === 'Deny' &&
      isStar(statement.Action) &&
      isStar(statement.Resource) &&
      onlyTime &&
      typeof before === 'string'
      ? [Date.parse(before)]
      : [];
  });
  const valid = times.filter((time) => !Number.isNaN(time));
  return valid.length === 0 ? undefined : Math.max(...valid);
};

/** The moment the finding was last updated: sessions issued up to then must be denied. */
const lastUpdate = (finding: Finding): number =>
  Date.parse(finding.updatedAt ?? finding.lastSeen ?? finding.createdAt ?? '');

const readPolicy = (
  ctx: { services: AwsServices; target: { accountId: string; region: string } },
  session: Session,
  userName: string,
): Promise<Read<{ PolicyDocument?: string | undefined }>> =>
  session.read(
    read(ctx, 'iam', 'GetUserPolicy', { UserName: userName, PolicyName: USER_REVOKE_POLICY_NAME }),
    {
      key: `${userName} ${USER_REVOKE_POLICY_NAME}`,
      found: (output) => {
        const before = revokedBefore(decoded(output.PolicyDocument ?? ''));
        return before === undefined
          ? `${USER_REVOKE_POLICY_NAME} has no token-issue-time condition`
          : `${USER_REVOKE_POLICY_NAME} denies sessions issued before ${new Date(before).toISOString()}`;
      },
      absent: {
        codes: NO_SUCH_ENTITY,
        summary: `user ${userName} has no ${USER_REVOKE_POLICY_NAME} policy yet`,
      },
    },
  );

/** The user (as IAM spells it) and the document the policy replaces (decoded), if there was one. */
type Revocation = { userName: string; previous?: string };

/**
 * Refuses users the finding does not name and protected users, then reads the revocation policy: a
 * no-op when it already denies sessions issued up to the finding's last update.
 */
const inspect = async (ctx: Context, session: Session): Promise<Inspection<Revocation>> => {
  const named = userOfTarget(ctx);
  if (typeof named !== 'string') return named;
  const protection = await checkPrincipal(ctx, session, 'user', named);
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return noOp(protection.reason);
  const userName = protection.principal.name;
  const answer = await readPolicy(ctx, session, userName);
  if (answer.status !== 'found') return planned({ userName });
  const previous = decoded(answer.output.PolicyDocument ?? '');
  const before = revokedBefore(previous);
  const seen = lastUpdate(ctx.finding);
  if (before !== undefined && !Number.isNaN(seen) && before >= seen) {
    return noOp(
      `sessions of IAM user ${userName} issued before ${new Date(before).toISOString()} are already revoked, which covers the finding (updated ${new Date(seen).toISOString()})`,
    );
  }
  return planned({ userName, previous });
};

const mutations = (ctx: Context, { userName }: Revocation): Mutation[] => [
  mutation(ctx, 'iam', 'PutUserPolicy', {
    UserName: userName,
    PolicyName: USER_REVOKE_POLICY_NAME,
    PolicyDocument: userRevokePolicyDocument(ctx.now),
  }),
];

/** What the inverse reads back: the user, the document Riposte put, and the one it replaced (or `none`). */
export type RevokeUserSessionsUndo = {
  userName: string;
  policyName: typeof USER_REVOKE_POLICY_NAME;
  document: string;
  previous: 'none' | { document: string };
};

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, { userName }: Revocation) => ({
    userName,
    policyName: USER_REVOKE_POLICY_NAME,
    revokedBefore: ctx.now.toISOString(),
  }),
  undo: (ctx: Context, { userName, previous }: Revocation): RevokeUserSessionsUndo => ({
    userName,
    policyName: USER_REVOKE_POLICY_NAME,
    document: userRevokePolicyDocument(ctx.now),
    previous: previous === undefined ? 'none' : { document: previous },
  }),
};

// ---------------------------------------------------------------------------------------------
// Undo: the user's inline policy as it was before the response
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<RevokeUserSessionsUndo, AwsServices>;

/** PutUserPolicy's longest PolicyDocument (IAM API reference). */
const DOCUMENT_MAX_LENGTH = 131072;

const documentSchema = { type: 'string', minLength: 1, maxLength: DOCUMENT_MAX_LENGTH };

const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    userName: { type: 'string', pattern: USER_NAME_PATTERN },
    policyName: { type: 'string', const: USER_REVOKE_POLICY_NAME },
    document: documentSchema,
    previous: {
      oneOf: [
        { type: 'string', const: 'none' },
        {
          type: 'object',
          additionalProperties: false,
          properties: { document: documentSchema },
          required: ['document'],
        },
      ],
    },
  },
  required: ['userName', 'policyName', 'document', 'previous'],
};

/** Why the recorded state cannot be acted on (checked again here, whoever validated it before), or `undefined`. */
const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'access-key') return `the recorded target is a ${shown(target.kind)}, not an IAM user`;
  const invalid =
    identifierProblem('iam-user-name', state.userName) ??
    identifierProblem('account-id', target.accountId) ??
    identifierProblem('region', target.region);
  if (invalid !== undefined) return invalid;
  if (state.userName.toLowerCase() !== target.id.toLowerCase()) {
    return `the recorded user ${shown(state.userName)} is not the recorded target ${shown(target.id)}`;
  }
  if (state.policyName !== USER_REVOKE_POLICY_NAME)
    return `${shown(state.policyName)} is not a policy name Riposte writes`;
  if (!isRevocationDocument(state.document))
    return 'the recorded document is not a revocation policy Riposte writes';
  return state.previous === 'none' || deniesOnly(state.previous.document)
    ? undefined
    : 'the recorded previous document is not a policy that only denies, so putting it back could grant permissions';
};

/**
 * Deletes the policy (or puts back the one it replaced) only while it is exactly the document Riposte
 * wrote; changed or deleted since: refused, nothing changed. The user must exist and not be protected.
 */
const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<string>> => {
  const invalid = invalidUndo(ctx);
  const partition = regionPartition(ctx.target.region);
  if (invalid !== undefined || partition === undefined) {
    const why = invalid ?? `region ${shown(ctx.target.region)} is in no known partition`;
    return refused(`refused: ${why}; nothing was looked up or changed`);
  }
  const { state } = ctx;
  const protection = await checkPrincipal(protectionContext(ctx, partition), session, 'user', state.userName);
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return noOp(`${protection.reason}; nothing to restore`);
  const userName = protection.principal.name;
  const answer = await readPolicy(ctx, session, userName);
  // A plan made without credentials lists the restore; execute reads the policy again first.
  if (answer.status === 'unknown') return planned(userName);
  if (answer.status === 'absent') {
    return state.previous === 'none'
      ? noOp(`user ${userName} has no ${USER_REVOKE_POLICY_NAME} policy: already as before the response`)
      : refused(
          `the ${USER_REVOKE_POLICY_NAME} policy of user ${userName} was deleted since the response; not restored`,
        );
  }
  const current = decoded(answer.output.PolicyDocument ?? '');
  if (state.previous !== 'none' && sameDocument(current, state.previous.document)) {
    return noOp(
      `the ${USER_REVOKE_POLICY_NAME} policy of user ${userName} is already as before the response`,
    );
  }
  if (!sameDocument(current, state.document)) {
    return refused(
      `the ${USER_REVOKE_POLICY_NAME} policy of user ${userName} differs from the document Riposte put (changed since the response); not restored`,
    );
  }
  return planned(userName);
};

const undoMutations = (ctx: UndoContext, userName: string): Mutation[] => {
  const { previous } = ctx.state;
  return [
    previous === 'none'
      ? mutation(ctx, 'iam', 'DeleteUserPolicy', { UserName: userName, PolicyName: USER_REVOKE_POLICY_NAME })
      : mutation(ctx, 'iam', 'PutUserPolicy', {
          UserName: userName,
          PolicyName: USER_REVOKE_POLICY_NAME,
          PolicyDocument: previous.document,
        }),
  ];
};

const UNDO_PERMISSIONS = [
  'iam:DeleteUserPolicy',
  'iam:GetUser',
  'iam:GetUserPolicy',
  'iam:ListUserTags',
  'iam:PutUserPolicy',
];

const undo = defineInverse<RevokeUserSessionsUndo, AwsServices>({
  summary:
    'Delete the RiposteRevokeOlderSessions policy Riposte put on the user (DeleteUserPolicy), or put back the earlier revocation it replaced, only while the user still holds exactly the document Riposte wrote; refuses protected users as the action does.',
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: UNDO_PERMISSIONS,
  grants: () => [{ actions: UNDO_PERMISSIONS, resources: USERS }],
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

/**
 * Revokes the temporary credentials of the IAM user the finding names (sessions from
 * GetSessionToken or GetFederationToken, console sessions) issued before the response, with an inline
 * deny-all policy conditioned on `aws:TokenIssueTime`, as revoke-role-sessions does for roles.
 * Requests signed with the user's long-term access keys carry no token issue time and are not denied:
 * deactivating the key is deactivate-access-key's job. Protected users (see protection.ts) are refused.
 *
 * Undo: the policy is deleted (or the earlier revocation it replaced put back) while it is exactly the
 * document Riposte wrote.
 */
export const revokeUserSessions = defineAction<RevokeUserSessionsParams, AwsServices>({
  name: 'revoke-user-sessions',
  summary:
    "Deny the IAM user's temporary credentials (GetSessionToken, federation and console sessions) issued before the response with an inline RiposteRevokeOlderSessions policy; long-term keys are deactivate-access-key's job. Refuses protected users.",
  phase: 'revoke',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: ['iam:GetUser', 'iam:GetUserPolicy', 'iam:ListUserTags', 'iam:PutUserPolicy'],
  grants: () => GRANTS,
  resourceKinds: ['access-key'],
  example: '- action: revoke-user-sessions',
  idempotency:
    "Skipped when the user's RiposteRevokeOlderSessions policy already denies sessions issued up to the finding's last update (or the user no longer exists).",
  dryRun:
    'Refuses protected users and users the finding does not name; looks up the user, its tags and its RiposteRevokeOlderSessions policy; lists PutUserPolicy with the exact policy document.',

  targets: (finding) => resolved(userTargets(finding), NO_USER_REASON),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
