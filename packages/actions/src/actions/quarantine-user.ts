import {
  type ActionContext,
  defineAction,
  defineInverse,
  type InverseContext,
  identifierProblem,
  type JsonSchema,
  type PermissionGrant,
  regionPartition,
} from '@riposte/core';
import { type CallContext, type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import {
  NO_SUCH_ENTITY,
  NO_USER_REASON,
  protectionContext,
  USER_NAME_PATTERN,
  userOfTarget,
  userTargets,
} from '../iam-user.js';
import { checkPrincipal } from '../protection.js';
import type { Read, Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { resolved, shown } from '../targets.js';

/**
 * The AWS managed policies AWS attaches to users whose keys it finds exposed: they deny the actions an
 * attacker uses first (IAM, EC2 launches, ...), and AWS versions them (V2, V3): only those are allowed.
 */
export const QUARANTINE_POLICY_NAMES = [
  'AWSCompromisedKeyQuarantine',
  'AWSCompromisedKeyQuarantineV2',
  'AWSCompromisedKeyQuarantineV3',
] as const;

export type QuarantinePolicyName = (typeof QUARANTINE_POLICY_NAMES)[number];

/** An AWS managed quarantine policy's ARN, in any partition. */
const POLICY_ARN_PATTERN = `^arn:aws(?:-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?:iam::aws:policy/(?:${QUARANTINE_POLICY_NAMES.join('|')})$`;

export type QuarantineUserParams = {
  /**
   * Which version of AWS's managed quarantine policy: `arn:<partition>:iam::aws:policy/<name>` with a
   * name of `QUARANTINE_POLICY_NAMES`, in the finding's partition (default: `AWSCompromisedKeyQuarantineV3`).
   */
  policyArn?: string;
};

type Context = ActionContext<QuarantineUserParams, AwsServices>;

const DEFAULT_POLICY: QuarantinePolicyName = 'AWSCompromisedKeyQuarantineV3';

/** `arn:<partition>:iam::aws:policy/<name>`: an AWS managed policy, in the finding's partition. */
export const quarantinePolicyArn = (partition: string, name: QuarantinePolicyName): string =>
  `arn:${partition}:iam::aws:policy/${name}`;

const USERS = ['arn:{partition}:iam::{account}:user/*'];

/** The policy name of a `policyArn` param (the schema admits only the quarantine versions). */
const policyOf = (params: QuarantineUserParams): QuarantinePolicyName =>
  (params.policyArn?.slice(params.policyArn.lastIndexOf('/') + 1) as QuarantinePolicyName | undefined) ??
  DEFAULT_POLICY;

/** The partition of a `policyArn` param, `undefined` without one. */
const partitionOf = (params: QuarantineUserParams): string | undefined => params.policyArn?.split(':')[1];

/** The reads on users; attaching (and detaching, for the inverse) only the one managed policy (`iam:PolicyARN`). */
const grantsFor = (name: QuarantinePolicyName | undefined, change: string): PermissionGrant[] => [
  { actions: ['iam:GetUser', 'iam:ListAttachedUserPolicies', 'iam:ListUserTags'], resources: USERS },
  {
    actions: [change],
    resources: USERS,
    conditions: {
      ArnEquals: {
        'iam:PolicyARN':
          name === undefined
            ? QUARANTINE_POLICY_NAMES.map((item) => `arn:{partition}:iam::aws:policy/${item}`)
            : `arn:{partition}:iam::aws:policy/${name}`,
      },
    },
  },
];

/** ListAttachedUserPolicies: whether the policy is attached. IAM allows 20 managed policies per user; one page (up to 100) holds them. */
const readAttached = (
  ctx: CallContext,
  session: Session,
  userName: string,
  policyArn: string,
): Promise<Read<boolean>> =>
  session
    .read(read(ctx, 'iam', 'ListAttachedUserPolicies', { UserName: userName }), {
      key: userName,
      found: (output) => {
        const names = (output.AttachedPolicies ?? []).map((policy) => policy.PolicyName ?? policy.PolicyArn);
        return names.length === 0
          ? `user ${userName} has no managed policy attached`
          : `attached: ${names.join(', ')}`;
      },
      absent: { codes: NO_SUCH_ENTITY, summary: `IAM user ${userName} does not exist` },
    })
    .then((answer) =>
      answer.status === 'found'
        ? {
            status: 'found',
            output: (answer.output.AttachedPolicies ?? []).some((policy) => policy.PolicyArn === policyArn),
          }
        : answer,
    );

type Quarantine = { userName: string; policyArn: string };

/** Refuses users the finding does not name and protected users; a no-op when the policy is attached already. */
const inspect = async (ctx: Context, session: Session): Promise<Inspection<Quarantine>> => {
  const named = userOfTarget(ctx);
  if (typeof named !== 'string') return named;
  const partitionProblem = identifierProblem('partition', ctx.finding.partition);
  if (partitionProblem !== undefined) return refused(`refused: ${partitionProblem}; not changed`);
  const given = partitionOf(ctx.params);
  if (given !== undefined && given !== ctx.finding.partition) {
    return refused(
      `refused: policyArn ${shown(ctx.params.policyArn)} is not in the finding's partition ${ctx.finding.partition}; not changed`,
    );
  }
  const protection = await checkPrincipal(ctx, session, 'user', named);
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return noOp(protection.reason);
  const userName = protection.principal.name;
  const policyArn = quarantinePolicyArn(ctx.finding.partition, policyOf(ctx.params));
  const attached = await readAttached(ctx, session, userName, policyArn);
  if (attached.status === 'absent') return noOp(`IAM user ${userName} no longer exists`);
  if (attached.status === 'found' && attached.output) {
    return noOp(`${policyArn} is already attached to IAM user ${userName}`);
  }
  return planned({ userName, policyArn });
};

const mutations = (ctx: Context, { userName, policyArn }: Quarantine): Mutation[] => [
  mutation(ctx, 'iam', 'AttachUserPolicy', { UserName: userName, PolicyArn: policyArn }),
];

/** What the inverse reads back: the user and the policy Riposte attached (recorded only when it did). */
export type QuarantineUserUndo = Quarantine;

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, state: Quarantine) => ({ ...state }),
  undo: (_ctx: Context, state: Quarantine): QuarantineUserUndo => ({ ...state }),
};

// ---------------------------------------------------------------------------------------------
// Undo: the policy detached, when Riposte attached it
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<QuarantineUserUndo, AwsServices>;

const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    userName: { type: 'string', pattern: USER_NAME_PATTERN },
    policyArn: { type: 'string', pattern: POLICY_ARN_PATTERN },
  },
  required: ['userName', 'policyArn'],
};

const invalidUndo = ({ target, state }: UndoContext, partition: string): string | undefined => {
  if (target.kind !== 'access-key') return `the recorded target is a ${shown(target.kind)}, not an IAM user`;
  const invalid =
    identifierProblem('iam-user-name', state.userName) ??
    identifierProblem('account-id', target.accountId) ??
    identifierProblem('region', target.region);
  if (invalid !== undefined) return invalid;
  if (state.userName.toLowerCase() !== target.id.toLowerCase()) {
    return `the recorded user ${shown(state.userName)} is not the recorded target ${shown(target.id)}`;
  }
  return QUARANTINE_POLICY_NAMES.some((name) => quarantinePolicyArn(partition, name) === state.policyArn)
    ? undefined
    : `${shown(state.policyArn)} is not an AWS quarantine policy of partition ${partition}`;
};

/** Detaches the policy while it is attached and the user is not protected; already detached: a no-op. */
const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<string>> => {
  const partition = regionPartition(ctx.target.region);
  const invalid =
    partition === undefined
      ? `region ${shown(ctx.target.region)} is in no known partition`
      : invalidUndo(ctx, partition);
  if (invalid !== undefined || partition === undefined) {
    return refused(`refused: ${invalid}; nothing was looked up or changed`);
  }
  const protection = await checkPrincipal(
    protectionContext(ctx, partition),
    session,
    'user',
    ctx.state.userName,
  );
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return noOp(`${protection.reason}; nothing to restore`);
  const userName = protection.principal.name;
  const attached = await readAttached(ctx, session, userName, ctx.state.policyArn);
  if (attached.status === 'absent') return noOp(`IAM user ${userName} no longer exists; nothing to restore`);
  if (attached.status === 'found' && !attached.output) {
    return noOp(
      `${ctx.state.policyArn} is no longer attached to IAM user ${userName}: already as before the response`,
    );
  }
  return planned(userName);
};

const undoMutations = (ctx: UndoContext, userName: string): Mutation[] => [
  mutation(ctx, 'iam', 'DetachUserPolicy', { UserName: userName, PolicyArn: ctx.state.policyArn }),
];

const undo = defineInverse<QuarantineUserUndo, AwsServices>({
  summary:
    'Detach the AWS quarantine policy from the user (DetachUserPolicy) when Riposte attached it and it is still attached; a policy that was attached before the response is never recorded, so never detached. Refuses protected users as the action does.',
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: ['iam:DetachUserPolicy', 'iam:GetUser', 'iam:ListAttachedUserPolicies', 'iam:ListUserTags'],
  grants: () => grantsFor(undefined, 'iam:DetachUserPolicy'),
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

/**
 * Attaches AWS's managed `AWSCompromisedKeyQuarantineV3` policy (or the version `policy` names) to the
 * IAM user the finding names: it denies what an attacker does first with a user's credentials, long-term
 * keys and sessions alike, and leaves the user and its keys in place as evidence. Protected users are
 * refused (see protection.ts).
 *
 * Undo: the policy is detached while attached, only when Riposte attached it.
 */
export const quarantineUser = defineAction<QuarantineUserParams, AwsServices>({
  name: 'quarantine-user',
  summary:
    "Attach AWS's managed AWSCompromisedKeyQuarantineV3 policy (or an earlier version) to the IAM user the finding names; refuses protected users.",
  phase: 'contain',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      policyArn: {
        type: 'string',
        pattern: POLICY_ARN_PATTERN,
        description:
          "The AWS managed quarantine policy to attach, in the finding's partition; only AWS's AWSCompromisedKeyQuarantine versions (default arn:<partition>:iam::aws:policy/AWSCompromisedKeyQuarantineV3).",
      },
    },
    required: [],
  },
  permissions: ['iam:AttachUserPolicy', 'iam:GetUser', 'iam:ListAttachedUserPolicies', 'iam:ListUserTags'],
  grants: (params) => grantsFor(policyOf(params), 'iam:AttachUserPolicy'),
  paramExamples: [{ policyArn: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2' }],
  resourceKinds: ['access-key'],
  example: [
    '- action: quarantine-user',
    '  params:',
    '    policyArn: arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3',
  ].join('\n'),
  idempotency: 'Skipped when the policy is already attached to the user (or the user no longer exists).',
  dryRun:
    'Refuses protected users and users the finding does not name; looks up the user, its tags and its attached managed policies; lists AttachUserPolicy with the policy ARN.',

  targets: (finding) => resolved(userTargets(finding), NO_USER_REASON),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
