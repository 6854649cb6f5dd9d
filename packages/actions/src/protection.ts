import { type ActionContext, ExecutionError, identifierProblem } from '@riposte/core';
import { read, type SdkCall } from './call.js';
import type { AwsServices, PrincipalProtection } from './clients.js';
import { ActionExecutionError } from './error-codes.js';
import { ExecSession, type Read, type Session, scopeOf } from './session.js';
import type { Tag } from './tags.js';
import { shown } from './targets.js';

/**
 * One check for every action that changes an IAM principal (revoke-role-sessions, deactivate-access-key,
 * tag-resource on a role or user). A principal is protected when any of these holds:
 *
 * - built-in (roles only; no playbook or setting can lift it): service-linked roles (path
 *   `/aws-service-role/`), roles under `/aws-reserved/`, `AWSReservedSSO_*`,
 *   `OrganizationAccountAccessRole`, `AWSControlTowerExecution`, `stacksets-exec-*`,
 *   `AWSCloudFormationStackSetExecutionRole`;
 * - it is what Riposte runs as: `protection.ownRoleArns` (same account and name), or what
 *   `services.callerIdentity` reports for the target's account (`assumed-role/NAME/...`, `user/NAME`);
 * - it is the member role (`protection.memberRoleName`, last path segment, in every account);
 * - it matches an entry of `protection.extra` (`RIPOSTE_PROTECTED_PRINCIPALS`): a name, or an ARN
 *   pattern when the entry starts with `arn:`; `*` and `?` are wildcards;
 * - it carries the tag `riposte:protected` = `true` (read through the session, so a plan lists the
 *   lookup and execute reads it again).
 *
 * IAM names are unique regardless of case, so every comparison ignores case: a finding that spells a
 * protected name differently is still refused.
 *
 * Fail closed: while executing, a principal whose tags, existence or Riposte's own identity cannot be
 * read is refused (`PROTECTION_UNVERIFIED`), never changed. A plan made without credentials lists the
 * lookups it would make and still plans the change, because execute checks again.
 */

export const PROTECTED_TAG = 'riposte:protected';

export type PrincipalKind = 'role' | 'user';

/** Error codes a refusal carries in an execution outcome. */
export const PRINCIPAL_PROTECTED = 'PRINCIPAL_PROTECTED';
export const PROTECTION_UNVERIFIED = 'PROTECTION_UNVERIFIED';

/** An IAM role or user as IAM described it (or, in a plan without credentials, as the finding named it). */
export interface Principal {
  kind: PrincipalKind;
  /** The name as IAM spells it once read; the finding's spelling before. */
  name: string;
  /** Known once IAM answered. */
  path?: string;
  arn?: string;
}

export type ProtectionCheck =
  /** Not protected. `tags` is what IAM holds, `undefined` when a plan could not read them. */
  | { status: 'allowed'; principal: Principal; tags: Tag[] | undefined }
  /** The principal does not exist (nothing to change). */
  | { status: 'absent'; reason: string }
  /** Do not change it: plan reports `refused` with `reason`, execute fails with `error`. */
  | { status: 'refused'; reason: string; error: ExecutionError };

type Context = ActionContext<unknown, AwsServices>;

type Refused = Extract<ProtectionCheck, { status: 'refused' }>;

const NO_SUCH_ENTITY = ['NoSuchEntityException', 'NoSuchEntity'];

// ---------------------------------------------------------------------------------------------
// Names and patterns
// ---------------------------------------------------------------------------------------------

/** Why `name` (from a finding) is not a valid IAM role or user name (`[\w+=,.@-]`, 1-64), or `undefined`. */
export const invalidPrincipalName = (kind: PrincipalKind, name: unknown): string | undefined =>
  identifierProblem(kind === 'role' ? 'iam-role-name' : 'iam-user-name', name);

/** `x` of `/a/b/x`, `a/x` or `x`. */
const lastSegment = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/** `?` matches one character, `*` any run. Both sides are compared as given (callers lower-case them). */
const segmentAt = (segment: string, text: string, at: number): boolean => {
  if (at + segment.length > text.length) return false;
  for (let index = 0; index < segment.length; index += 1) {
    const char = segment[index];
    if (char !== '?' && char !== text[at + index]) return false;
  }
  return true;
};

/**
 * Whether `text` matches a glob of `*` and `?` wildcards, without building a regular expression from
 * the pattern. The pattern is cut at each `*`: the first piece must start the text, the last must
 * end it, and each piece between is taken at its leftmost place after the previous one (leftmost is
 * always safe, as a later `*` can absorb what is skipped). No backtracking: the work is bounded by
 * the text's length times the pattern's, whatever the pattern.
 */
export const globMatch = (pattern: string, text: string): boolean => {
  const pieces = pattern.split('*');
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return pattern.length === text.length && segmentAt(pattern, text, 0);
  const last = pieces[pieces.length - 1] ?? '';
  const end = text.length - last.length;
  if (end < first.length || !segmentAt(first, text, 0) || !segmentAt(last, text, end)) return false;
  let at = first.length;
  for (const piece of pieces.slice(1, -1)) {
    let found = -1;
    for (let start = at; start + piece.length <= end; start += 1) {
      if (segmentAt(piece, text, start)) {
        found = start;
        break;
      }
    }
    if (found === -1) return false;
    at = found + piece.length;
  }
  return true;
};

/** What an identity ARN names: `assumed-role/NAME/...` and `role/path/NAME` are roles, `user/path/NAME` users. */
const principalOfArn = (
  arn: string | undefined,
): { kind: PrincipalKind; accountId: string; name: string } | undefined => {
  const parts = arn?.split(':');
  if (parts === undefined || parts.length < 6 || parts[0] !== 'arn') return undefined;
  const accountId = parts[4] ?? '';
  const resource = parts.slice(5).join(':');
  const assumed = resource.match(/^assumed-role\/([^/]+)\/.+$/);
  if (assumed?.[1] !== undefined) return { kind: 'role', accountId, name: assumed[1] };
  const typed = resource.match(/^(role|user)\/(?:.*\/)?([^/]+)$/);
  if (typed?.[1] !== undefined && typed[2] !== undefined) {
    return { kind: typed[1] as PrincipalKind, accountId, name: typed[2] };
  }
  return undefined;
};

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

const BUILT_IN_ROLES: readonly { rule: string; applies: (name: string, path: string) => boolean }[] = [
  { rule: 'built-in: service-linked role', applies: (_, path) => path.startsWith('/aws-service-role/') },
  { rule: 'built-in: IAM Identity Center (SSO) role', applies: (name) => name.startsWith('awsreservedsso_') },
  { rule: 'built-in: AWS-reserved role', applies: (_, path) => path.startsWith('/aws-reserved/') },
  {
    rule: 'built-in: organization access role',
    applies: (name) => name === 'organizationaccountaccessrole',
  },
  { rule: 'built-in: Control Tower execution role', applies: (name) => name === 'awscontroltowerexecution' },
  {
    rule: 'built-in: StackSets execution role',
    applies: (name) =>
      name.startsWith('stacksets-exec-') || name === 'awscloudformationstacksetexecutionrole',
  },
];

/** The principal's ARN as IAM gave it, else as it would be (path `/` when not known yet). */
const arnOf = (ctx: Context, principal: Principal): string =>
  principal.arn ??
  `arn:${ctx.finding.partition}:iam::${ctx.target.accountId}:${principal.kind}${principal.path ?? '/'}${principal.name}`;

/** The rule that protects the principal without asking AWS anything but its path, or `undefined`. */
const configuredRule = (
  ctx: Context,
  protection: PrincipalProtection,
  principal: Principal,
): string | undefined => {
  const name = principal.name.toLowerCase();
  if (principal.kind === 'role') {
    const path = (principal.path ?? '').toLowerCase();
    const builtIn = BUILT_IN_ROLES.find((rule) => rule.applies(name, path));
    if (builtIn) return builtIn.rule;
  }
  for (const arn of protection.ownRoleArns) {
    const own = principalOfArn(arn);
    if (own?.kind === principal.kind && own.accountId === ctx.target.accountId && same(own.name, name)) {
      return `own ${principal.kind}: Riposte runs as it`;
    }
  }
  if (
    principal.kind === 'role' &&
    protection.memberRoleName !== undefined &&
    protection.memberRoleName.trim() !== '' &&
    same(lastSegment(protection.memberRoleName.trim()), name)
  ) {
    return 'member role: Riposte assumes it in member accounts';
  }
  const arn = arnOf(ctx, principal).toLowerCase();
  for (const entry of protection.extra) {
    const pattern = entry.trim().toLowerCase();
    if (pattern === '') continue;
    const matched = pattern.startsWith('arn:')
      ? globMatch(pattern, arn)
      : globMatch(lastSegment(pattern), name);
    if (matched) return `RIPOSTE_PROTECTED_PRINCIPALS entry ${shown(entry.trim())}`;
  }
  return undefined;
};

const hasProtectedTag = (tags: readonly Tag[]): boolean =>
  tags.some((tag) => same(tag.Key, PROTECTED_TAG) && tag.Value.trim().toLowerCase() === 'true');

// ---------------------------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------------------------

const protectedBy = (principal: Principal, rule: string): Refused => {
  const reason = `${principal.kind} ${principal.name} is protected (${rule}); not changed`;
  return {
    status: 'refused',
    reason,
    error: new ActionExecutionError(PRINCIPAL_PROTECTED, reason, {
      retryable: false,
      details: { kind: principal.kind, name: principal.name, rule },
    }),
  };
};

const unverified = (
  principal: Principal,
  what: string,
  options: { retryable: boolean; cause?: ExecutionError },
): Refused => {
  const reason = `cannot tell whether ${principal.kind} ${principal.name} is protected: ${what}; not changed`;
  return {
    status: 'refused',
    reason,
    error: new ActionExecutionError(PROTECTION_UNVERIFIED, reason, {
      retryable: options.retryable,
      details: {
        kind: principal.kind,
        name: principal.name,
        ...(options.cause ? { causeCode: options.cause.code } : {}),
      },
      ...(options.cause ? { cause: options.cause } : {}),
    }),
  };
};

/** The error of a read that failed while executing (the session ends the step with it). */
const failedRead = (error: unknown): ExecutionError | undefined => {
  const inner = (error as { error?: unknown } | null | undefined)?.error;
  return inner instanceof ExecutionError ? inner : undefined;
};

/**
 * A read that is part of the protection check. While executing, a failed read refuses the change
 * (`PROTECTION_UNVERIFIED`) instead of ending the step with the read's own error; while planning it
 * fails the plan as any lookup does.
 */
const guardedRead = async <O>(
  session: Session,
  principal: Principal,
  operation: string,
  reading: () => Promise<Read<O>>,
): Promise<Read<O> | Refused> => {
  try {
    return await reading();
  } catch (error) {
    const cause = failedRead(error);
    if (!(session instanceof ExecSession) || cause === undefined) throw error;
    return unverified(principal, `${operation} failed (${cause.code})`, {
      retryable: cause.retryable,
      cause,
    });
  }
};

const isRefused = (value: Read<unknown> | Refused): value is Refused => value.status === 'refused';

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/** A role or user as IAM describes it: its name as IAM spells it, its path and ARN. */
interface Described {
  name?: string;
  path?: string;
  arn?: string;
}

/** GetRole / GetUser: whether the principal exists, and its name, path and ARN as IAM spells them. */
const describe = async (ctx: Context, session: Session, principal: Principal): Promise<Read<Described>> => {
  const { name, kind } = principal;
  const described = async <O>(
    request: SdkCall<O>,
    entityOf: (output: O) => Described,
  ): Promise<Read<Described>> => {
    const answer = await session.read(request, {
      key: name,
      found: (output) => {
        const entity = entityOf(output);
        return `${kind} ${entity.arn ?? name} (path ${entity.path ?? '/'})`;
      },
      absent: { codes: NO_SUCH_ENTITY, summary: `IAM ${kind} ${name} does not exist` },
    });
    return answer.status === 'found' ? { status: 'found', output: entityOf(answer.output) } : answer;
  };
  return kind === 'role'
    ? described(read(ctx, 'iam', 'GetRole', { RoleName: name }), ({ Role: role }) => ({
        name: role?.RoleName,
        path: role?.Path,
        arn: role?.Arn,
      }))
    : described(read(ctx, 'iam', 'GetUser', { UserName: name }), ({ User: user }) => ({
        name: user?.UserName,
        path: user?.Path,
        arn: user?.Arn,
      }));
};

/**
 * ListRoleTags / ListUserTags. IAM allows at most 50 tags on a principal and answers up to 100 per
 * page, so one page holds them all.
 */
const readTags = async (ctx: Context, session: Session, principal: Principal): Promise<Read<Tag[]>> => {
  const { name, kind } = principal;
  const spec = {
    key: name,
    found: (output: { Tags?: { Key?: string; Value?: string }[] }) => {
      const tags = output.Tags;
      const mark = tags?.find((tag) => same(tag.Key ?? '', PROTECTED_TAG));
      return mark
        ? `${kind} ${name}: ${tags?.length ?? 0} tag(s), ${PROTECTED_TAG}=${mark.Value ?? ''}`
        : `${kind} ${name}: ${tags?.length ?? 0} tag(s), no ${PROTECTED_TAG}`;
    },
    absent: { codes: NO_SUCH_ENTITY, summary: `IAM ${kind} ${name} does not exist` },
  };
  const answer =
    kind === 'role'
      ? await session.read(read(ctx, 'iam', 'ListRoleTags', { RoleName: name }), spec)
      : await session.read(read(ctx, 'iam', 'ListUserTags', { UserName: name }), spec);
  return answer.status === 'found'
    ? {
        status: 'found',
        output: (answer.output.Tags ?? []).map((tag) => ({ Key: tag.Key ?? '', Value: tag.Value ?? '' })),
      }
    : answer;
};

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/** The first of these that failed, in the order given, so the error reported does not depend on timing. */
const inOrder = <T extends readonly unknown[]>(
  settled: {
    [K in keyof T]: PromiseSettledResult<T[K]>;
  },
): T => {
  for (const outcome of settled as readonly PromiseSettledResult<unknown>[]) {
    if (outcome.status === 'rejected') throw outcome.reason;
  }
  return (settled as readonly PromiseFulfilledResult<unknown>[]).map(
    (outcome) => outcome.value,
  ) as unknown as T;
};

/**
 * Why `name` may not be changed whatever AWS says (an invalid name, a built-in, own, member or
 * configured principal), checked before any read; `undefined` when the reads must decide.
 */
export const refusedUnread = (
  ctx: Context,
  kind: PrincipalKind,
  name: string,
): Extract<ProtectionCheck, { status: 'refused' }> | undefined => {
  const invalid = invalidPrincipalName(kind, name);
  if (invalid !== undefined) {
    const reason = `refused: ${invalid}; not changed`;
    return {
      status: 'refused',
      reason,
      error: new ActionExecutionError('REFUSED', reason, { details: { reason } }),
    };
  }
  const principal: Principal = { kind, name };
  const rule = configuredRule(ctx, protection(ctx), principal);
  return rule === undefined ? undefined : protectedBy(principal, rule);
};

const protection = (ctx: Context): PrincipalProtection =>
  ctx.services.protection ?? { ownRoleArns: [], extra: [] };

/**
 * Decides whether the action may change the IAM role or user `name` (in the target's account).
 * `name` may come from the finding: it must be a valid IAM name, and from then on the spelling IAM
 * returns is used. Rules that need no read are applied before any read; then GetRole / GetUser,
 * Riposte's own identity (cached by the services) and ListRoleTags / ListUserTags are asked at once,
 * as none needs another's answer (IAM names ignore case, so the tags are read by the name as given),
 * and their verdicts are applied in that order.
 */
export const checkPrincipal = async (
  ctx: Context,
  session: Session,
  kind: PrincipalKind,
  name: string,
): Promise<ProtectionCheck> => {
  const executing = session instanceof ExecSession;
  const unread = refusedUnread(ctx, kind, name);
  if (unread !== undefined) return unread;
  let principal: Principal = { kind, name };

  const [described, identity, tags] = inOrder<
    [Read<Described> | Refused, Awaited<ReturnType<AwsServices['callerIdentity']>>, Read<Tag[]> | Refused]
  >(
    await Promise.allSettled([
      guardedRead(session, principal, kind === 'role' ? 'GetRole' : 'GetUser', () =>
        describe(ctx, session, principal),
      ),
      ctx.services.callerIdentity(scopeOf(ctx.target)),
      guardedRead(session, principal, kind === 'role' ? 'ListRoleTags' : 'ListUserTags', () =>
        readTags(ctx, session, principal),
      ),
    ]),
  );

  if (isRefused(described)) return described;
  if (described.status === 'absent')
    return { status: 'absent', reason: `IAM ${kind} ${name} no longer exists` };
  if (described.status === 'found') {
    const { output } = described;
    principal = {
      kind,
      name: output.name ?? name,
      ...(output.path === undefined ? {} : { path: output.path }),
      ...(output.arn === undefined ? {} : { arn: output.arn }),
    };
    const rule = configuredRule(ctx, protection(ctx), principal);
    if (rule !== undefined) return protectedBy(principal, rule);
  }

  // A plan made without credentials does not know the identity either, and execute asks again.
  const own = principalOfArn(identity?.arn);
  if (identity?.arn === undefined) {
    // `callerIdentity` keeps no cause, so whether trying again may help is unknown: not retryable.
    if (executing) {
      return unverified(principal, 'the identity Riposte runs as (sts:GetCallerIdentity) could not be read', {
        retryable: false,
      });
    }
  } else if (own?.kind === kind && own.accountId === ctx.target.accountId && same(own.name, principal.name)) {
    return protectedBy(principal, `own ${kind}: Riposte runs as it`);
  }

  if (isRefused(tags)) return tags;
  if (tags.status === 'absent')
    return { status: 'absent', reason: `IAM ${kind} ${principal.name} no longer exists` };
  if (tags.status === 'found' && hasProtectedTag(tags.output)) {
    return protectedBy(principal, `tag ${PROTECTED_TAG}=true`);
  }
  return { status: 'allowed', principal, tags: tags.status === 'found' ? tags.output : undefined };
};
