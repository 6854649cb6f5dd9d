import { type ActionContext, type ActionTarget, resourcesOfKind } from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { executeAction, placeholder, planAction, type Session, scopeOf } from '../session.js';
import { nameFromArn, resolved, targetOf } from '../targets.js';

export type RevokeRoleSessionsParams = Record<string, never>;

type Context = ActionContext<RevokeRoleSessionsParams, AwsServices>;

/** The inline policy name and shape the IAM console's "Revoke active sessions" writes. */
export const REVOKE_POLICY_NAME = 'AWSRevokeOlderSessions';

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

const NO_SUCH_ENTITY = ['NoSuchEntityException', 'NoSuchEntity'];

type RoleResolution = { roleName: string } | { reason: string };

/** The instance profile of a credential-source instance: from the finding's ARN, else from EC2. */
const instanceProfileName = async (
  ctx: Context,
  session: Session,
): Promise<{ name: string } | { reason: string }> => {
  const instance = resourcesOfKind(ctx.finding, 'instance').find((item) => item.instanceId === ctx.target.id);
  const fromFinding = instance?.instanceProfile?.arn ? nameFromArn(instance.instanceProfile.arn) : undefined;
  if (fromFinding !== undefined) return { name: fromFinding };
  const ec2 = await ctx.services.ec2(scopeOf(ctx.target));
  const { DescribeIamInstanceProfileAssociationsCommand } = await import('@aws-sdk/client-ec2');
  // No state filter: after detach-instance-profile ran, the association is `disassociated` for a while
  // and still names the profile whose role must be revoked.
  const input = { Filters: [{ Name: 'instance-id', Values: [ctx.target.id] }] };
  const read = await session.read({
    call: awsCall('EC2', 'DescribeIamInstanceProfileAssociations', input),
    send: () => ec2.send(new DescribeIamInstanceProfileAssociationsCommand(input)),
    key: ctx.target.id,
    found: (output) =>
      (output.IamInstanceProfileAssociations ?? [])
        .map((a) => `${a.IamInstanceProfile?.Arn} (${a.State})`)
        .join('; ') || `no instance profile association for ${ctx.target.id}`,
  });
  if (read.status !== 'found') {
    return { name: placeholder('InstanceProfileName', 'DescribeIamInstanceProfileAssociations') };
  }
  const associations = read.output.IamInstanceProfileAssociations ?? [];
  const association = associations.find((a) => a.State === 'associated') ?? associations[0];
  const name = association?.IamInstanceProfile?.Arn
    ? nameFromArn(association.IamInstanceProfile.Arn)
    : undefined;
  return name === undefined
    ? { reason: `no instance profile is or was associated with ${ctx.target.id}, so no role to revoke` }
    : { name };
};

const roleOf = async (ctx: Context, session: Session): Promise<RoleResolution> => {
  if (ctx.target.kind === 'access-key') return { roleName: ctx.target.id };
  const profile = await instanceProfileName(ctx, session);
  if ('reason' in profile) return profile;
  const iam = await ctx.services.iam(scopeOf(ctx.target));
  const { GetInstanceProfileCommand } = await import('@aws-sdk/client-iam');
  const input = { InstanceProfileName: profile.name };
  const read = await session.read({
    call: awsCall('IAM', 'GetInstanceProfile', input),
    send: () => iam.send(new GetInstanceProfileCommand(input)),
    key: profile.name,
    found: (output) =>
      `instance profile ${profile.name} holds role ${output.InstanceProfile?.Roles?.[0]?.RoleName ?? '(none)'}`,
    absent: { codes: NO_SUCH_ENTITY, summary: `instance profile ${profile.name} does not exist` },
  });
  if (read.status === 'unknown') return { roleName: placeholder('RoleName', 'GetInstanceProfile') };
  if (read.status === 'absent') return { reason: `instance profile ${profile.name} no longer exists` };
  const roleName = read.output.InstanceProfile?.Roles?.[0]?.RoleName;
  return roleName === undefined ? { reason: `instance profile ${profile.name} holds no role` } : { roleName };
};

/** `arn:aws:sts::111122223333:assumed-role/riposte-responder/session` -> `riposte-responder`. */
const assumedRoleName = (arn: string | undefined): string | undefined => {
  const match = arn?.match(/^arn:[^:]+:sts::\d+:assumed-role\/([^/]+)\//);
  return match?.[1];
};

/** The time before which the existing revoke policy denies sessions, if the role has one. */
const revokedBefore = (encodedDocument: string | undefined): number | undefined => {
  if (encodedDocument === undefined) return undefined;
  try {
    // IAM returns policy documents URL-encoded (RFC 3986).
    const document = JSON.parse(decodeURIComponent(encodedDocument)) as {
      Statement?: { Condition?: { DateLessThan?: Record<string, string> } }[];
    };
    const times = (document.Statement ?? [])
      .map((statement) => Date.parse(statement.Condition?.DateLessThan?.['aws:TokenIssueTime'] ?? ''))
      .filter((time) => !Number.isNaN(time));
    return times.length === 0 ? undefined : Math.max(...times);
  } catch {
    return undefined;
  }
};

type Inspection = { status: 'planned'; roleName: string } | { status: 'no-op' | 'refused'; reason: string };

/** Resolves the role, refuses roles Riposte must not touch, and checks whether sessions are already revoked. */
const inspect = async (ctx: Context, session: Session): Promise<Inspection> => {
  const role = await roleOf(ctx, session);
  if ('reason' in role) return { status: 'no-op', reason: role.reason };
  const { roleName } = role;
  const iam = await ctx.services.iam(scopeOf(ctx.target));
  const { GetRoleCommand, GetRolePolicyCommand } = await import('@aws-sdk/client-iam');

  const getRole = await session.read({
    call: awsCall('IAM', 'GetRole', { RoleName: roleName }),
    send: () => iam.send(new GetRoleCommand({ RoleName: roleName })),
    key: roleName,
    found: (output) => `role ${output.Role?.Arn ?? roleName} (path ${output.Role?.Path ?? '/'})`,
    absent: { codes: NO_SUCH_ENTITY, summary: `role ${roleName} does not exist` },
  });
  if (getRole.status === 'absent') return { status: 'no-op', reason: `role ${roleName} no longer exists` };
  if (getRole.status === 'found') {
    if (getRole.output.Role?.Path?.startsWith('/aws-service-role/')) {
      return { status: 'refused', reason: `${roleName} is a service-linked role; AWS manages its sessions` };
    }
    const identity = await ctx.services.callerIdentity(scopeOf(ctx.target));
    if (assumedRoleName(identity?.arn) === roleName && identity?.account === ctx.target.accountId) {
      return {
        status: 'refused',
        reason: `${roleName} is the role Riposte runs as; revoking it would cut off this response`,
      };
    }
  }

  const policyInput = { RoleName: roleName, PolicyName: REVOKE_POLICY_NAME };
  const getPolicy = await session.read({
    call: awsCall('IAM', 'GetRolePolicy', policyInput),
    send: () => iam.send(new GetRolePolicyCommand(policyInput)),
    key: `${roleName} ${REVOKE_POLICY_NAME}`,
    found: (output) => {
      const before = revokedBefore(output.PolicyDocument);
      return before === undefined
        ? `${REVOKE_POLICY_NAME} has no token-issue-time condition`
        : `${REVOKE_POLICY_NAME} denies sessions issued before ${new Date(before).toISOString()}`;
    },
    absent: { codes: NO_SUCH_ENTITY, summary: `role ${roleName} has no ${REVOKE_POLICY_NAME} policy yet` },
  });
  const before = getPolicy.status === 'found' ? revokedBefore(getPolicy.output.PolicyDocument) : undefined;
  const seen = Date.parse(ctx.finding.updatedAt ?? ctx.finding.lastSeen ?? ctx.finding.createdAt ?? '');
  if (before !== undefined && !Number.isNaN(seen) && before >= seen) {
    return {
      status: 'no-op',
      reason: `sessions of ${roleName} issued before ${new Date(before).toISOString()} are already revoked, which covers the finding (updated ${new Date(seen).toISOString()})`,
    };
  }
  return { status: 'planned', roleName };
};

const putPolicy = (ctx: Context, roleName: string): Mutation => {
  const input = {
    RoleName: roleName,
    PolicyName: REVOKE_POLICY_NAME,
    PolicyDocument: revokePolicyDocument(ctx.now),
  };
  return mutation('IAM', 'PutRolePolicy', input, async () => {
    const { PutRolePolicyCommand } = await import('@aws-sdk/client-iam');
    return (await ctx.services.iam(scopeOf(ctx.target))).send(new PutRolePolicyCommand(input));
  });
};

const roleTargets = (finding: Parameters<typeof resourcesOfKind>[0]): ActionTarget[] => {
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
 * Revokes every session of the role behind the finding that was issued before now, the way the IAM
 * console's "Revoke active sessions" does: an inline deny-all policy conditioned on
 * `aws:TokenIssueTime`. New sessions (after the instance profile is fixed) keep working.
 */
export const revokeRoleSessions: DocumentedAction<RevokeRoleSessionsParams, AwsServices> = {
  name: 'revoke-role-sessions',
  summary:
    'Deny every session of the role behind the finding issued before the response (inline AWSRevokeOlderSessions policy).',
  phase: 'revoke',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
  permissions: [
    'ec2:DescribeIamInstanceProfileAssociations',
    'iam:GetInstanceProfile',
    'iam:GetRole',
    'iam:GetRolePolicy',
    'iam:PutRolePolicy',
  ],
  resourceKinds: ['access-key', 'instance'],
  example: '- action: revoke-role-sessions',
  idempotency:
    "Skipped when the role's AWSRevokeOlderSessions policy already denies sessions issued up to the finding's last update.",
  dryRun:
    'Looks up the role (via the instance profile for a credential-source instance) and its AWSRevokeOlderSessions policy; lists PutRolePolicy with the exact policy document.',

  targets: (finding) =>
    resolved(
      roleTargets(finding),
      'the finding names no assumed-role credentials or credential-source instance',
    ),

  plan: (ctx) =>
    planAction(async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status !== 'planned')
        return { status: inspection.status, reason: inspection.reason, calls: [] };
      return { status: 'planned', calls: [putPolicy(ctx, inspection.roleName).call] };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const inspection = await inspect(ctx, session);
      if (inspection.status !== 'planned') return { status: 'skipped', reason: inspection.reason };
      await session.mutate(putPolicy(ctx, inspection.roleName));
      return {
        status: 'applied',
        outputs: { roleName: inspection.roleName, revokedBefore: ctx.now.toISOString() },
      };
    }),
};
