import {
  type ActionContext,
  type ActionTarget,
  arnProblem,
  defineAction,
  defineInverse,
  type Finding,
  type InverseContext,
  identifierProblem,
  type JsonSchema,
  type PermissionGrant,
  regionPartition,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { ActionExecutionError } from '../error-codes.js';
import { decoded, deniesOnly, isRevocationDocument, sameDocument } from '../policy-document.js';
import { checkPrincipal, refusedUnread } from '../protection.js';
import { placeholder, type Read, type Session } from '../session.js';
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
import { invalidEc2Id, nameFromArn, ownedBy, resolved, shown, targetOf } from '../targets.js';

export type RevokeRoleSessionsParams = {
  /**
   * `instance` (default): only the sessions issued to the EC2 instance the credentials came from.
   * `role`: every session of the role.
   */
  scope?: 'instance' | 'role';
};

type Context = ActionContext<RevokeRoleSessionsParams, AwsServices>;

/** The inline policy name and shape the IAM console's "Revoke active sessions" writes (whole role). */
export const REVOKE_POLICY_NAME = 'AWSRevokeOlderSessions';

/** One inline policy per instance, so revoking two instances that share the role keeps both. */
export const instancePolicyName = (instanceId: string): string => `RiposteRevokeInstance-${instanceId}`;

/** Code of the refusal of a whole-role revocation that would reach more instances than the playbook allows. */
export const BLAST_RADIUS_EXCEEDED = 'BLAST_RADIUS_EXCEEDED';

export const revokePolicyDocument = (issuedBefore: Date): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore.toISOString() } },
      },
    ],
  });

/**
 * Denies the sessions issued to one instance before `issuedBefore`; sessions of other instances
 * with the same role, and the instance's own later sessions, are untouched.
 *
 * `ec2:SourceInstanceARN` is a property of the session, not of where a request comes from: the IAM
 * User Guide (AWS global condition context keys, `ec2:SourceInstanceArn`) says it is "included in the
 * request context whenever the role session is created by an Amazon EC2 instance", so it is present
 * when credentials taken from the instance metadata service are used from outside AWS
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-ec2-source-instance-arn).
 *
 * The second statement covers sessions whose name is the instance id (`aws:userid` is
 * `ROLEID:session-name`) but that were not created by EC2: anyone who may call sts:AssumeRole on the
 * role can name a session after the instance, and such a session carries no `ec2:SourceInstanceARN`.
 */
export const instanceRevokePolicyDocument = (
  instanceArn: string,
  instanceId: string,
  issuedBefore: Date,
): string => {
  const before = { 'aws:TokenIssueTime': issuedBefore.toISOString() };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RevokeSessionsIssuedToInstance',
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { StringEquals: { 'ec2:SourceInstanceARN': instanceArn }, DateLessThan: before },
      },
      {
        Sid: 'RevokeSessionsNamedAfterInstance',
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { StringLike: { 'aws:userid': `*:${instanceId}` }, DateLessThan: before },
      },
    ],
  });
};

const NO_SUCH_ENTITY = ['NoSuchEntityException', 'NoSuchEntity'];
/** Instance states whose instances hold (or will fetch again) sessions of the role. */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];
/** EC2 accepts up to 200 values in one filter. */
const FILTER_VALUES_MAX = 200;

/**
 * The instance and association reads support no resource-level permissions; everything else is on
 * IAM roles and instance profiles of the deploying account. Whatever the scope, the same calls may
 * be made (an instance-scoped revocation falls back to the whole role), so the grants do not vary.
 */
const GRANTS: PermissionGrant[] = [
  {
    actions: ['ec2:DescribeIamInstanceProfileAssociations', 'ec2:DescribeInstances'],
    resources: ['*'],
  },
  {
    actions: ['iam:GetInstanceProfile'],
    resources: ['arn:{partition}:iam::{account}:instance-profile/*'],
  },
  {
    actions: [
      'iam:GetRole',
      'iam:GetRolePolicy',
      'iam:ListInstanceProfilesForRole',
      'iam:ListRoleTags',
      'iam:PutRolePolicy',
    ],
    resources: ['arn:{partition}:iam::{account}:role/*'],
  },
];

// ---------------------------------------------------------------------------------------------
// The role
// ---------------------------------------------------------------------------------------------

/**
 * The instance profile named in the finding's instance: an `instance-profile/` ARN of the finding's
 * partition and the target's account, never cut down to a bare name otherwise.
 */
const profileFromFinding = (ctx: Context, arn: string): { name: string } | Refusal => {
  const problem = arnProblem(arn, {
    partition: ctx.finding.partition,
    accountId: ctx.target.accountId,
    service: 'iam',
    resourcePrefix: 'instance-profile/',
  });
  const name = problem === undefined ? nameFromArn(arn) : undefined;
  if (name === undefined) {
    const why = problem ?? `${shown(arn)} names no instance profile`;
    return refused(`refused: the finding's instance profile ${why}; nothing was changed`);
  }
  return { name };
};

/** The instance profile of a credential-source instance: from the finding's ARN, else from EC2. */
const instanceProfileName = async (
  ctx: Context,
  session: Session,
): Promise<{ name: string } | { reason: string } | Refusal> => {
  const instanceId = ctx.target.id;
  const instance = resourcesOfKind(ctx.finding, 'instance').find((item) => item.instanceId === instanceId);
  if (instance?.instanceProfile?.arn !== undefined)
    return profileFromFinding(ctx, instance.instanceProfile.arn);
  // No state filter: after detach-instance-profile ran, the association is `disassociated` for a while
  // and still names the profile whose role must be revoked.
  const input = { Filters: [{ Name: 'instance-id', Values: [instanceId] }] };
  const answer = await session.read(read(ctx, 'ec2', 'DescribeIamInstanceProfileAssociations', input), {
    key: instanceId,
    found: (output) =>
      ownedBy(output.IamInstanceProfileAssociations ?? [], (a) => a.InstanceId, instanceId)
        .owned.map((a) => `${a.IamInstanceProfile?.Arn} (${a.State})`)
        .join('; ') || `no instance profile association for ${instanceId}`,
  });
  if (answer.status !== 'found') {
    return { name: placeholder('InstanceProfileName', 'DescribeIamInstanceProfileAssociations') };
  }
  // Only associations of this very instance count, whatever else the filter let through.
  const { owned } = ownedBy(
    answer.output.IamInstanceProfileAssociations ?? [],
    (a) => a.InstanceId,
    instanceId,
  );
  const association = owned.find((a) => a.State === 'associated') ?? owned[0];
  const name = association?.IamInstanceProfile?.Arn
    ? nameFromArn(association.IamInstanceProfile.Arn)
    : undefined;
  return name === undefined
    ? { reason: `no instance profile is or was associated with ${instanceId}, so no role to revoke` }
    : { name };
};

/** The role to revoke; `known: false` only in a plan made without credentials (a placeholder name). */
const roleOf = async (
  ctx: Context,
  session: Session,
): Promise<{ roleName: string; known: boolean } | { reason: string } | Refusal> => {
  if (ctx.target.kind === 'access-key') return { roleName: ctx.target.id, known: true };
  const invalid = invalidEc2Id('instance', ctx.target.id);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const profile = await instanceProfileName(ctx, session);
  if ('reason' in profile) return profile;
  const input = { InstanceProfileName: profile.name };
  const answer = await session.read(read(ctx, 'iam', 'GetInstanceProfile', input), {
    key: profile.name,
    found: (output) =>
      `instance profile ${profile.name} holds role ${output.InstanceProfile?.Roles?.[0]?.RoleName ?? '(none)'}`,
    absent: { codes: NO_SUCH_ENTITY, summary: `instance profile ${profile.name} does not exist` },
  });
  if (answer.status === 'unknown')
    return { roleName: placeholder('RoleName', 'GetInstanceProfile'), known: false };
  if (answer.status === 'absent') return { reason: `instance profile ${profile.name} no longer exists` };
  const roleName = answer.output.InstanceProfile?.Roles?.[0]?.RoleName;
  return roleName === undefined
    ? { reason: `instance profile ${profile.name} holds no role` }
    : { roleName, known: true };
};

// ---------------------------------------------------------------------------------------------
// Which sessions
// ---------------------------------------------------------------------------------------------

const isInstanceId = (value: string | undefined): value is string =>
  value !== undefined && invalidEc2Id('instance', value) === undefined;

/**
 * The EC2 instances the credentials were issued to: the credential-source instance of the target,
 * or the instance ids that are the session names of the finding's assumed-role keys of this role
 * (`AROA...:i-0abc...`). Empty when any key of the role is not an instance session: then only a
 * whole-role revocation reaches it.
 */
const credentialInstances = (ctx: Context): string[] => {
  if (ctx.target.kind === 'instance') return [ctx.target.id];
  const ids = new Set<string>();
  for (const key of resourcesOfKind(ctx.finding, 'access-key')) {
    if (key.userType !== 'AssumedRole' || key.roleName !== ctx.target.id) continue;
    const colon = key.principalId?.indexOf(':') ?? -1;
    const session = key.sessionName ?? (colon >= 0 ? key.principalId?.slice(colon + 1) : undefined);
    if (!isInstanceId(session)) return [];
    ids.add(session);
  }
  return [...ids];
};

interface InstanceSessions {
  id: string;
  arn: string;
}

/** `arn:<partition>:ec2:<region>:<account>:instance/<id>` from the finding's partition, region and account. */
const instanceArns = (ctx: Context, ids: string[]): InstanceSessions[] | Refusal => {
  const { partition } = ctx.finding;
  const { region, accountId } = ctx.target;
  const problem =
    identifierProblem('partition', partition) ??
    identifierProblem('region', region) ??
    identifierProblem('account-id', accountId);
  if (problem !== undefined) {
    return refused(`refused: ${problem}, so no instance ARN can be built; nothing was changed`);
  }
  return ids.map((id) => ({ id, arn: `arn:${partition}:ec2:${region}:${accountId}:instance/${id}` }));
};

// ---------------------------------------------------------------------------------------------
// Existing revocations
// ---------------------------------------------------------------------------------------------

interface Statement {
  Effect?: unknown;
  Condition?: Record<string, Record<string, unknown> | undefined>;
}

/** The statements of a policy document as IAM returns it (URL-encoded, RFC 3986). */
const statementsOf = (encodedDocument: string | undefined): Statement[] => {
  if (encodedDocument === undefined) return [];
  try {
    const document = JSON.parse(decodeURIComponent(encodedDocument)) as { Statement?: unknown };
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    return statements.filter((item): item is Statement => typeof item === 'object' && item !== null);
  } catch {
    return [];
  }
};

const issueTimeOf = (statement: Statement): number => {
  const value = statement.Condition?.DateLessThan?.['aws:TokenIssueTime'];
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
};

const latest = (times: number[]): number | undefined => {
  const valid = times.filter((time) => !Number.isNaN(time));
  return valid.length === 0 ? undefined : Math.max(...valid);
};

/** Up to when the role-wide policy denies every session: deny statements conditioned on the issue time only. */
const roleRevokedBefore = (encodedDocument: string | undefined): number | undefined =>
  latest(
    statementsOf(encodedDocument)
      .filter(
        (s) => s.Effect === 'Deny' && Object.keys(s.Condition ?? {}).every((op) => op === 'DateLessThan'),
      )
      .map(issueTimeOf),
  );

/** Up to when the instance policy denies the sessions issued to `instanceArn`. */
const instanceRevokedBefore = (
  encodedDocument: string | undefined,
  instanceArn: string,
): number | undefined =>
  latest(
    statementsOf(encodedDocument)
      .filter((s) => {
        const source = s.Condition?.StringEquals?.['ec2:SourceInstanceARN'];
        return (
          s.Effect === 'Deny' &&
          (source === instanceArn || (Array.isArray(source) && source.includes(instanceArn)))
        );
      })
      .map(issueTimeOf),
  );

/** The moment the finding was last updated: sessions issued up to then must be denied. */
const lastUpdate = (finding: Finding): number =>
  Date.parse(finding.updatedAt ?? finding.lastSeen ?? finding.createdAt ?? '');

/** Reads one inline policy of the role; `undefined` when it is absent or could not be read offline. */
const readPolicy = async (
  ctx: Context,
  session: Session,
  roleName: string,
  policyName: string,
  describeFound: (document: string | undefined) => string,
): Promise<string | undefined> => {
  const input = { RoleName: roleName, PolicyName: policyName };
  const answer = await session.read(read(ctx, 'iam', 'GetRolePolicy', input), {
    key: `${roleName} ${policyName}`,
    found: (output) => describeFound(output.PolicyDocument),
    absent: { codes: NO_SUCH_ENTITY, summary: `role ${roleName} has no ${policyName} policy yet` },
  });
  return answer.status === 'found' ? answer.output.PolicyDocument : undefined;
};

const sinceText = (before: number | undefined, what: string): string =>
  before === undefined
    ? `${what} has no token-issue-time condition`
    : `${what} denies sessions issued before ${new Date(before).toISOString()}`;

/** The role-wide policy as IAM holds it now (URL-encoded), `undefined` when there is none. */
const readRoleWidePolicy = (ctx: Context, session: Session, roleName: string): Promise<string | undefined> =>
  readPolicy(ctx, session, roleName, REVOKE_POLICY_NAME, (doc) =>
    sinceText(roleRevokedBefore(doc), REVOKE_POLICY_NAME),
  );

/** Why nothing is left to revoke: the role-wide policy already denies sessions up to the finding's last update. */
const nothingToDo = (ctx: Context, roleName: string, before: number | undefined): string | undefined => {
  const seen = lastUpdate(ctx.finding);
  return before !== undefined && !Number.isNaN(seen) && before >= seen
    ? `sessions of ${roleName} issued before ${new Date(before).toISOString()} are already revoked, which covers the finding (updated ${new Date(seen).toISOString()})`
    : undefined;
};

// ---------------------------------------------------------------------------------------------
// Blast radius of a whole-role revocation
// ---------------------------------------------------------------------------------------------

/**
 * How many instances hold sessions of the role: ListInstanceProfilesForRole, then DescribeInstances
 * filtered by the exact instance profile ARNs IAM returned (never a value from the finding).
 * `undefined` when a plan could not read them (execute always can, or fails).
 */
const instancesUsingRole = async (
  ctx: Context,
  session: Session,
  roleName: string,
): Promise<number | undefined> => {
  const profileArns: string[] = [];
  let unknown = false;
  let marker: string | undefined;
  do {
    const input = { RoleName: roleName, ...(marker === undefined ? {} : { Marker: marker }) };
    const answer = await session.read(read(ctx, 'iam', 'ListInstanceProfilesForRole', input), {
      key: roleName,
      found: (output) =>
        `${roleName} is in ${output.InstanceProfiles?.length ?? 0} instance profile(s)${
          output.InstanceProfiles?.length ? `: ${output.InstanceProfiles.map((p) => p.Arn).join(', ')}` : ''
        }`,
      absent: { codes: NO_SUCH_ENTITY, summary: `role ${roleName} does not exist` },
    });
    if (answer.status !== 'found') {
      unknown = answer.status === 'unknown';
      break;
    }
    profileArns.push(...(answer.output.InstanceProfiles ?? []).flatMap((profile) => profile.Arn ?? []));
    marker = answer.output.IsTruncated ? answer.output.Marker : undefined;
  } while (marker !== undefined);
  if (!unknown && profileArns.length === 0) return 0;

  const values = unknown ? [placeholder('InstanceProfile ARNs', 'ListInstanceProfilesForRole')] : profileArns;
  let count = 0;
  for (let start = 0; start < values.length; start += FILTER_VALUES_MAX) {
    let nextToken: string | undefined;
    do {
      const input = {
        Filters: [
          { Name: 'iam-instance-profile.arn', Values: values.slice(start, start + FILTER_VALUES_MAX) },
          { Name: 'instance-state-name', Values: LIVE_STATES },
        ],
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      };
      const answer = await session.read(read(ctx, 'ec2', 'DescribeInstances', input), {
        key: `instances with the instance profile(s) of ${roleName}`,
        found: (output) => {
          const ids = (output.Reservations ?? []).flatMap((r) =>
            (r.Instances ?? []).map((i) => i.InstanceId),
          );
          return `${ids.length} instance(s) use ${roleName}${ids.length ? `: ${ids.slice(0, 10).join(', ')}` : ''}${
            ids.length > 10 ? ', ...' : ''
          }`;
        },
      });
      if (answer.status !== 'found') return undefined;
      count += (answer.output.Reservations ?? []).reduce((sum, r) => sum + (r.Instances?.length ?? 0), 0);
      nextToken = answer.output.NextToken || undefined;
    } while (nextToken !== undefined);
  }
  return unknown ? undefined : count;
};

// ---------------------------------------------------------------------------------------------
// Inspection: shared by plan and execute
// ---------------------------------------------------------------------------------------------

/**
 * What to revoke, with the document of each policy that the revocation replaces (URL-encoded, as IAM
 * returned it; `undefined` when the role had no policy of that name), for the inverse to put back.
 */
type Revocation =
  | { scope: 'instance'; roleName: string; instances: (InstanceSessions & { previous?: string })[] }
  | { scope: 'role'; roleName: string; previous?: string };

/** Each instance's policy and the role-wide one are independent reads: they are asked at once. */
const inspectInstances = async (
  ctx: Context,
  session: Session,
  roleName: string,
  instances: InstanceSessions[],
): Promise<Inspection<Revocation>> => {
  const seen = lastUpdate(ctx.finding);
  const reads = await Promise.all([
    ...instances.map((instance) => {
      const name = instancePolicyName(instance.id);
      return readPolicy(ctx, session, roleName, name, (doc) =>
        sinceText(instanceRevokedBefore(doc, instance.arn), name),
      );
    }),
    readRoleWidePolicy(ctx, session, roleName),
  ]);
  const roleWide = reads.pop();
  const documents = reads;
  const pending: (InstanceSessions & { previous?: string })[] = [];
  const done: string[] = [];
  for (const [index, instance] of instances.entries()) {
    const document = documents[index];
    const before = instanceRevokedBefore(document, instance.arn);
    if (before !== undefined && !Number.isNaN(seen) && before >= seen) {
      done.push(`${instance.id} before ${new Date(before).toISOString()}`);
    } else {
      pending.push(document === undefined ? instance : { ...instance, previous: document });
    }
  }
  if (pending.length === 0) {
    return noOp(
      `sessions of ${roleName} issued to ${done.join(', ')} are already revoked, which covers the finding (updated ${new Date(seen).toISOString()})`,
    );
  }
  const reason = nothingToDo(ctx, roleName, roleRevokedBefore(roleWide));
  if (reason) return noOp(reason);
  return planned({ scope: 'instance', roleName, instances: pending });
};

const inspectRole = async (
  ctx: Context,
  session: Session,
  roleName: string,
): Promise<Inspection<Revocation>> => {
  const previous = await readRoleWidePolicy(ctx, session, roleName);
  const reason = nothingToDo(ctx, roleName, roleRevokedBefore(previous));
  if (reason) return noOp(reason);
  const count = await instancesUsingRole(ctx, session, roleName);
  const { maxTargets } = ctx.limits;
  if (count !== undefined && count > maxTargets) {
    const reason = `revoking every session of role ${roleName} would cut off ${count} instances that use it, more than limits.maxTargets (${maxTargets}); not changed (scope: instance revokes only the sessions of the instance the credentials were issued to)`;
    return refused(
      reason,
      new ActionExecutionError(BLAST_RADIUS_EXCEEDED, reason, {
        retryable: false,
        details: { roleName, instances: count, maxTargets },
      }),
    );
  }
  return planned(
    previous === undefined ? { scope: 'role', roleName } : { scope: 'role', roleName, previous },
  );
};

/** Which sessions to revoke, from the role's policies as IAM holds them now. */
const inspectRevocation = (
  ctx: Context,
  session: Session,
  roleName: string,
): Promise<Inspection<Revocation>> => {
  const ids = ctx.params.scope === 'role' ? [] : credentialInstances(ctx);
  if (ids.length === 0) return inspectRole(ctx, session, roleName);
  const instances = instanceArns(ctx, ids);
  if ('status' in instances) return Promise.resolve(instances);
  return inspectInstances(ctx, session, roleName, instances);
};

/**
 * Resolves the role, refuses protected roles and bad identifiers, and checks what is already revoked.
 * The protection check and the policy reads do not depend on each other, so once no rule refuses the
 * role unread they run at once; the policies count only when the role may be changed. They are read
 * by the name as given (IAM names ignore case) and revoked by the name IAM spells.
 */
const inspect = async (ctx: Context, session: Session): Promise<Inspection<Revocation>> => {
  const role = await roleOf(ctx, session);
  if ('status' in role) return role;
  if ('reason' in role) return noOp(role.reason);
  const { roleName } = role;
  // Offline, a role behind an instance profile is only a placeholder: execute resolves and checks it.
  if (!role.known) return inspectRevocation(ctx, session, roleName);
  const unread = refusedUnread(ctx, 'role', roleName);
  if (unread !== undefined) return unread;
  const [protection, revocation] = await Promise.allSettled([
    checkPrincipal(ctx, session, 'role', roleName),
    inspectRevocation(ctx, session, roleName),
  ]);
  // The protection verdict comes first, whatever the policy reads found or how they failed.
  if (protection.status === 'rejected') throw protection.reason;
  const check = protection.value;
  if (check.status === 'refused') return check;
  if (check.status === 'absent') return noOp(check.reason);
  if (revocation.status === 'rejected') throw revocation.reason;
  const found = revocation.value;
  if (found.status !== 'planned') return found;
  return planned({ ...found.state, roleName: check.principal.name });
};

/** Each policy the revocation puts: its name, its document, and the document it replaces (if any). */
const policiesOf = (
  ctx: Context,
  revocation: Revocation,
): { name: string; document: string; previous: string | undefined }[] =>
  revocation.scope === 'role'
    ? [{ name: REVOKE_POLICY_NAME, document: revokePolicyDocument(ctx.now), previous: revocation.previous }]
    : revocation.instances.map((instance) => ({
        name: instancePolicyName(instance.id),
        document: instanceRevokePolicyDocument(instance.arn, instance.id, ctx.now),
        previous: instance.previous,
      }));

const mutations = (ctx: Context, revocation: Revocation): Mutation[] =>
  policiesOf(ctx, revocation).map((policy) =>
    mutation(ctx, 'iam', 'PutRolePolicy', {
      RoleName: revocation.roleName,
      PolicyName: policy.name,
      PolicyDocument: policy.document,
    }),
  );

/** The document a recorded policy replaced, or `none` when the role had no policy of that name. */
type PreviousPolicy = 'none' | { document: string };

/** One inline policy Riposte put: its name, the document it put, and what was there before. */
type PutPolicy = { policyName: string; document: string; previous: PreviousPolicy };

/** What the inverse reads back: the role (as IAM spells it) and each inline policy the step put. */
export type RevokeRoleSessionsUndo = { roleName: string; policies: PutPolicy[] };

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, revocation: Revocation) => ({
    roleName: revocation.roleName,
    scope: revocation.scope,
    policyNames: policiesOf(ctx, revocation).map((policy) => policy.name),
    ...(revocation.scope === 'instance' ? { instanceIds: revocation.instances.map((i) => i.id) } : {}),
    revokedBefore: ctx.now.toISOString(),
  }),
  undo: (ctx: Context, revocation: Revocation): RevokeRoleSessionsUndo => ({
    roleName: revocation.roleName,
    policies: policiesOf(ctx, revocation).map((policy) => ({
      policyName: policy.name,
      document: policy.document,
      previous: policy.previous === undefined ? 'none' : { document: decoded(policy.previous) },
    })),
  }),
};

// ---------------------------------------------------------------------------------------------
// Undo: the role's inline policies as they were before the response
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<RevokeRoleSessionsUndo, AwsServices>;

/** PutRolePolicy's longest PolicyDocument (IAM API reference). */
const DOCUMENT_MAX_LENGTH = 131072;

const EC2_INSTANCE_ID = 'i-(?:[0-9a-f]{8}|[0-9a-f]{17})';

const documentSchema = { type: 'string', minLength: 1, maxLength: DOCUMENT_MAX_LENGTH };

/**
 * The recorded state as history holds it: read back from a table, so nothing else is accepted. Role
 * names follow `identifierProblem('iam-role-name')`, policy names are the two Riposte writes; the
 * inverse checks all of it again, and the documents too, before any call.
 */
const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    roleName: { type: 'string', pattern: '^[A-Za-z0-9_+=,.@-]{1,64}$' },
    policies: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          policyName: {
            type: 'string',
            pattern: `^(?:${REVOKE_POLICY_NAME}|RiposteRevokeInstance-${EC2_INSTANCE_ID})$`,
          },
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
        required: ['policyName', 'document', 'previous'],
      },
    },
  },
  required: ['roleName', 'policies'],
};

/** The policy names a step on this target can have put. */
const policyNameProblem = (target: ActionTarget, policyName: string): string | undefined => {
  if (policyName === REVOKE_POLICY_NAME) return undefined;
  const instanceId = policyName.slice(instancePolicyName('').length);
  if (!policyName.startsWith(instancePolicyName('')) || invalidEc2Id('instance', instanceId) !== undefined) {
    return `${shown(policyName)} is not a policy name Riposte writes`;
  }
  return target.kind === 'instance' && instanceId !== target.id
    ? `policy ${policyName} is not the one of the recorded instance ${target.id}`
    : undefined;
};

/** Why the recorded policy cannot be restored, or `undefined`. */
const policyProblem = (target: ActionTarget, policy: PutPolicy): string | undefined =>
  policyNameProblem(target, policy.policyName) ??
  (isRevocationDocument(policy.document)
    ? undefined
    : `the recorded document of ${policy.policyName} is not a revocation policy Riposte writes`) ??
  (policy.previous === 'none' || deniesOnly(policy.previous.document)
    ? undefined
    : `the recorded previous document of ${policy.policyName} is not a policy that only denies, so putting it back could grant permissions`);

/**
 * Why the recorded state cannot be acted on (checked again here, whoever validated it before), or
 * `undefined`. The role is the target's (a role target names it; an instance target's policies are
 * the instance's own or the role-wide one).
 */
const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'access-key' && target.kind !== 'instance') {
    return `the recorded target is a ${shown(target.kind)}, not a role or an instance`;
  }
  const invalid =
    identifierProblem('iam-role-name', state.roleName) ??
    identifierProblem('account-id', target.accountId) ??
    identifierProblem('region', target.region) ??
    (target.kind === 'instance' ? invalidEc2Id('instance', target.id) : undefined);
  if (invalid !== undefined) return invalid;
  if (target.kind === 'access-key' && state.roleName.toLowerCase() !== target.id.toLowerCase()) {
    return `the recorded role ${shown(state.roleName)} is not the recorded target ${shown(target.id)}`;
  }
  if (!Array.isArray(state.policies) || state.policies.length === 0) return 'no policy was recorded';
  const names = state.policies.map((policy) => policy.policyName);
  if (new Set(names).size !== names.length) return 'a policy is recorded twice';
  for (const policy of state.policies) {
    const problem = policyProblem(target, policy);
    if (problem !== undefined) return problem;
  }
  return undefined;
};

/** Same as in deactivate-access-key: `checkPrincipal` reads only the services, the target and the partition. */
const protectionContext = (ctx: UndoContext, partition: string): ActionContext<unknown, AwsServices> =>
  ({
    services: ctx.services,
    target: ctx.target,
    finding: { partition, accountId: ctx.target.accountId, region: ctx.target.region },
  }) as unknown as ActionContext<unknown, AwsServices>;

type PolicyNow = 'put' | 'restored' | 'deleted since' | 'changed since';

/** Where one recorded policy stands now: still Riposte's, already as before, or changed by someone since. */
const policyNow = (policy: PutPolicy, answer: Read<{ PolicyDocument?: string | undefined }>): PolicyNow => {
  // A plan made without credentials lists the restore; execute reads the policy again first.
  if (answer.status === 'unknown') return 'put';
  if (answer.status === 'absent') return policy.previous === 'none' ? 'restored' : 'deleted since';
  const current = decoded(answer.output.PolicyDocument ?? '');
  if (policy.previous !== 'none' && sameDocument(current, policy.previous.document)) return 'restored';
  return sameDocument(current, policy.document) ? 'put' : 'changed since';
};

const NOW_TEXT: Readonly<Record<PolicyNow, string>> = {
  put: 'is the document Riposte put',
  restored: 'is as it was before the response',
  'deleted since': 'was deleted since the response',
  'changed since': 'differs from the document Riposte put',
};

interface Restore {
  roleName: string;
  policies: PutPolicy[];
}

/**
 * Puts each recorded policy back only while it is exactly the document Riposte wrote: deleted when the
 * role had no policy of that name, else its previous document again. A policy someone changed or
 * deleted since refuses the whole undo (nothing is changed); one already as before is left alone. The
 * role must exist and not be protected, as for the action.
 */
const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<Restore>> => {
  const invalid = invalidUndo(ctx);
  const partition = regionPartition(ctx.target.region);
  if (invalid !== undefined || partition === undefined) {
    const why = invalid ?? `region ${shown(ctx.target.region)} is in no known partition`;
    return refused(`refused: ${why}; nothing was looked up or changed`);
  }
  const protection = await checkPrincipal(
    protectionContext(ctx, partition),
    session,
    'role',
    ctx.state.roleName,
  );
  if (protection.status === 'refused') return protection;
  if (protection.status === 'absent') return noOp(`${protection.reason}; nothing to restore`);
  const roleName = protection.principal.name;
  const now: { policy: PutPolicy; state: PolicyNow }[] = [];
  for (const policy of ctx.state.policies) {
    const input = { RoleName: roleName, PolicyName: policy.policyName };
    const answer = await session.read(read(ctx, 'iam', 'GetRolePolicy', input), {
      key: `${roleName} ${policy.policyName}`,
      found: (output) => `${policy.policyName} ${NOW_TEXT[policyNow(policy, { status: 'found', output })]}`,
      absent: { codes: NO_SUCH_ENTITY, summary: `role ${roleName} has no ${policy.policyName} policy` },
    });
    now.push({ policy, state: policyNow(policy, answer) });
  }
  const changed = now.filter((item) => item.state === 'deleted since' || item.state === 'changed since');
  if (changed.length > 0) {
    const which = changed.map((item) => `${item.policy.policyName} ${NOW_TEXT[item.state]}`).join('; ');
    return refused(
      `the inline policies of role ${roleName} changed since the response: ${which}; not restored`,
    );
  }
  const pending = now.filter((item) => item.state === 'put').map((item) => item.policy);
  if (pending.length === 0) {
    const names = now.map((item) => item.policy.policyName).join(', ');
    return noOp(`the inline policies ${names} of role ${roleName} are already as before the response`);
  }
  return planned({ roleName, policies: pending });
};

const undoMutations = (ctx: UndoContext, { roleName, policies }: Restore): Mutation[] =>
  policies.map(({ policyName, previous }) =>
    previous === 'none'
      ? mutation(ctx, 'iam', 'DeleteRolePolicy', { RoleName: roleName, PolicyName: policyName })
      : mutation(ctx, 'iam', 'PutRolePolicy', {
          RoleName: roleName,
          PolicyName: policyName,
          PolicyDocument: previous.document,
        }),
  );

/**
 * The protection check's reads, the policies, and their removal or restore, on roles of the deploying
 * account.
 */
const UNDO_GRANTS: PermissionGrant[] = [
  {
    actions: [
      'iam:DeleteRolePolicy',
      'iam:GetRole',
      'iam:GetRolePolicy',
      'iam:ListRoleTags',
      'iam:PutRolePolicy',
    ],
    resources: ['arn:{partition}:iam::{account}:role/*'],
  },
];

const undo = defineInverse<RevokeRoleSessionsUndo, AwsServices>({
  summary:
    'Remove each revocation policy Riposte put on the role (DeleteRolePolicy), or put back the policy of that name it replaced (PutRolePolicy), only while the role still holds exactly the document Riposte wrote; refuses protected roles as the action does.',
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: [
    'iam:DeleteRolePolicy',
    'iam:GetRole',
    'iam:GetRolePolicy',
    'iam:ListRoleTags',
    'iam:PutRolePolicy',
  ],
  grants: () => UNDO_GRANTS,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

const roleTargets = (finding: Finding): ActionTarget[] => {
  const roles = new Map<string, ActionTarget>();
  for (const key of resourcesOfKind(finding, 'access-key')) {
    if (key.userType !== 'AssumedRole' || key.roleName === undefined || roles.has(key.roleName)) continue;
    const credentials =
      key.accessKeyId === undefined ? 'assumed-role credentials' : `credentials ${key.accessKeyId}`;
    roles.set(
      key.roleName,
      targetOf(finding, 'access-key', key.roleName, `role ${key.roleName} (${credentials})`),
    );
  }
  // The assumed-role key of an InstanceCredentialExfiltration finding is the credential-source
  // instance's role session, so the role is targeted once, by name.
  if (roles.size > 0) return [...roles.values()];
  return resourcesOfKind(finding, 'instance')
    .filter((instance) => instance.role === 'credential-source')
    .map((instance) =>
      targetOf(
        finding,
        'instance',
        instance.instanceId,
        `role of the instance profile of instance ${instance.instanceId} (credential source)`,
      ),
    );
};

/**
 * Revokes the sessions behind the finding that were issued before now, with an inline deny-all
 * policy conditioned on `aws:TokenIssueTime` (as the IAM console's "Revoke active sessions" does).
 *
 * `scope: instance` (the default): when the credentials were issued to an EC2 instance (a
 * credential-source instance, or an assumed-role key whose session name is an instance id), only
 * that instance's sessions are denied, by `ec2:SourceInstanceARN`; other instances sharing the role
 * keep working. Assumed-role credentials not issued to an instance can only be revoked with the whole
 * role, so for them `instance` falls back to `role`.
 *
 * `scope: role`: every session of the role, refused when more instances than `limits.maxTargets` use
 * the role. Protected roles (see protection.ts) are refused; new sessions keep working either way.
 *
 * Undo: each policy it put is deleted, or the policy of that name it replaced is put back, while the
 * role still holds exactly the document Riposte wrote; the role's inline policies end as they were.
 */
export const revokeRoleSessions = defineAction<RevokeRoleSessionsParams, AwsServices>({
  name: 'revoke-role-sessions',
  summary:
    'Deny the sessions behind the finding issued before the response: only those of the EC2 instance the credentials were issued to (inline RiposteRevokeInstance-<instance id> policy), or every session of the role (inline AWSRevokeOlderSessions policy, within limits.maxTargets). Refuses protected roles.',
  phase: 'revoke',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      scope: {
        type: 'string',
        enum: ['instance', 'role'],
        default: 'instance',
        description:
          'instance: only sessions issued to the EC2 instance the credentials came from (other instances sharing the role keep working); credentials not issued to an instance can only be revoked with the whole role. role: every session of the role, refused when more instances than limits.maxTargets use it.',
      },
    },
    required: [],
  },
  permissions: [
    'ec2:DescribeIamInstanceProfileAssociations',
    'ec2:DescribeInstances',
    'iam:GetInstanceProfile',
    'iam:GetRole',
    'iam:GetRolePolicy',
    'iam:ListInstanceProfilesForRole',
    'iam:ListRoleTags',
    'iam:PutRolePolicy',
  ],
  grants: () => GRANTS,
  paramExamples: [{ scope: 'instance' }, { scope: 'role' }],
  resourceKinds: ['access-key', 'instance'],
  example: ['- action: revoke-role-sessions', '  params:', '    scope: instance'].join('\n'),
  idempotency:
    "Skipped when the instance's RiposteRevokeInstance-<instance id> policy (or the role's AWSRevokeOlderSessions policy) already denies sessions issued up to the finding's last update.",
  dryRun:
    'Refuses protected roles and invalid or foreign identifiers; looks up the role (via the instance profile for a credential-source instance), its tags and its revoke policies, and for a whole-role revocation the instances using the role; lists PutRolePolicy with the exact policy document.',

  targets: (finding) =>
    resolved(
      roleTargets(finding),
      'the finding names no assumed-role credentials or credential-source instance',
    ),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
