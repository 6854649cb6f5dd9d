import {
  type ActionContext,
  type ActionTarget,
  type Finding,
  type InverseContext,
  resourcesOfKind,
} from '@riposte/core';
import type { AwsServices } from './clients.js';
import { type Refusal, refused } from './step.js';
import { shown, targetOf } from './targets.js';

/**
 * The IAM users a finding names, for the actions that change a user (revoke-user-sessions,
 * quarantine-user): each access-key resource with `userType: IAMUser` and a user name, once per user.
 * The target's id is the user name; root and assumed-role credentials are not users.
 */
export const userTargets = (finding: Finding): ActionTarget[] => {
  const users = new Map<string, ActionTarget>();
  for (const key of resourcesOfKind(finding, 'access-key')) {
    if (key.userType !== 'IAMUser' || key.userName === undefined || users.has(key.userName)) continue;
    const credentials = key.accessKeyId === undefined ? 'IAM user credentials' : `key ${key.accessKeyId}`;
    users.set(
      key.userName,
      targetOf(finding, 'access-key', key.userName, `IAM user ${key.userName} (${credentials})`),
    );
  }
  return [...users.values()];
};

export const NO_USER_REASON =
  'the finding names no IAM user (root credentials are rotated through the root user; assumed-role credentials: revoke-role-sessions)';

/**
 * The user the target names, when the finding names it as an IAM user: actions are a library others
 * call directly, so a target the finding does not back is refused.
 */
export const userOfTarget = (ctx: ActionContext<unknown, AwsServices>): string | Refusal => {
  const named = userTargets(ctx.finding).some((target) => target.id === ctx.target.id);
  return ctx.target.kind === 'access-key' && named
    ? ctx.target.id
    : refused(`refused: the finding names no IAM user ${shown(ctx.target.id)}; not changed`);
};

/**
 * The context the protection check reads (the services, the target's account and region, the
 * partition), made from an inverse's: an undo has no finding. `checkPrincipal` reads nothing else.
 */
export const protectionContext = (
  ctx: InverseContext<unknown, AwsServices>,
  partition: string,
): ActionContext<unknown, AwsServices> =>
  ({
    services: ctx.services,
    target: ctx.target,
    finding: { partition, accountId: ctx.target.accountId, region: ctx.target.region },
  }) as unknown as ActionContext<unknown, AwsServices>;

export const NO_SUCH_ENTITY = ['NoSuchEntityException', 'NoSuchEntity'];

/** The IAM user name pattern of `identifierProblem('iam-user-name')`, for recorded states. */
export const USER_NAME_PATTERN = '^[A-Za-z0-9_+=,.@-]{1,64}$';
