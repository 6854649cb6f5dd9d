import type { IamInstanceProfileAssociation } from '@aws-sdk/client-ec2';
import type { ActionContext, PermissionGrant } from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { executeAction, placeholder, planAction, type Session, scopeOf } from '../session.js';
import {
  foreignNote,
  instanceTargets,
  invalidId,
  nameFromArn,
  ownedBy,
  refusal,
  resolved,
  shown,
} from '../targets.js';

export type DetachInstanceProfileParams = {
  /** Swap in this instance profile (by name) instead of leaving the instance without one. */
  quarantineProfile?: string;
  /** The one role the quarantine profile holds (by name); given with `quarantineProfile`, and only with it. */
  quarantineRole?: string;
};

type Context = ActionContext<DetachInstanceProfileParams, AwsServices>;

const DESCRIBE = 'DescribeIamInstanceProfileAssociations';
const NO_SUCH_ENTITY = ['NoSuchEntityException', 'NoSuchEntity'];

/** An IAM entity of the deploying account by name, whatever its path (names are unique in an account). */
const iamArns = (type: 'role' | 'instance-profile', name: string): string[] => [
  `arn:{partition}:iam::{account}:${type}/${name}`,
  `arn:{partition}:iam::{account}:${type}/*/${name}`,
];

/**
 * Detaching needs only the association read (no resource-level permissions) and the instance. A
 * quarantine profile adds the replacement, the read of that one profile, and iam:PassRole on its one
 * role, to EC2 only: without `quarantineProfile` and `quarantineRole`, none of them is granted.
 */
const grantsFor = (params: DetachInstanceProfileParams): PermissionGrant[] => {
  const instances = ['arn:{partition}:ec2:*:{account}:instance/*'];
  const { quarantineProfile: profile, quarantineRole: role } = params;
  if (profile === undefined || role === undefined) {
    return [
      { actions: ['ec2:DescribeIamInstanceProfileAssociations'], resources: ['*'] },
      { actions: ['ec2:DisassociateIamInstanceProfile'], resources: instances },
    ];
  }
  return [
    { actions: ['ec2:DescribeIamInstanceProfileAssociations'], resources: ['*'] },
    { actions: ['ec2:ReplaceIamInstanceProfileAssociation'], resources: instances },
    {
      actions: ['iam:GetInstanceProfile'],
      resources: iamArns('instance-profile', profile),
    },
    {
      actions: ['iam:PassRole'],
      resources: iamArns('role', role),
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    },
  ];
};

const instanceOf = (association: IamInstanceProfileAssociation): string | undefined => association.InstanceId;

/**
 * The target's active associations as AWS answered. The read can only filter by instance id (the API
 * has no instance-id parameter), so the id is validated before it goes into the filter, and every
 * association that is not exactly the target's, or not `associated`, or has no usable id, is dropped
 * and named in the lookup summary: nothing but the target's own association is ever changed.
 */
const readAssociations = async (ctx: Context, session: Session) => {
  const ec2 = await ctx.services.ec2(scopeOf(ctx.target));
  const { DescribeIamInstanceProfileAssociationsCommand } = await import('@aws-sdk/client-ec2');
  const instanceId = ctx.target.id;
  const input = {
    Filters: [
      { Name: 'instance-id', Values: [instanceId] },
      { Name: 'state', Values: ['associated'] },
    ],
  };
  const split = (output: { IamInstanceProfileAssociations?: IamInstanceProfileAssociation[] }) => {
    const { owned, foreign } = ownedBy(output.IamInstanceProfileAssociations ?? [], instanceOf, instanceId);
    const usable = owned.filter(
      (a) =>
        a.State === 'associated' &&
        invalidId('instance-profile-association-id', a.AssociationId) === undefined,
    );
    return { usable, foreign, unusable: owned.filter((a) => !usable.includes(a)) };
  };
  const read = await session.read({
    call: awsCall('EC2', DESCRIBE, input),
    send: () => ec2.send(new DescribeIamInstanceProfileAssociationsCommand(input)),
    key: instanceId,
    found: (output) => {
      const { usable, foreign, unusable } = split(output);
      const found =
        usable.length === 0
          ? `no instance profile is associated with ${instanceId}`
          : usable.map((a) => `${a.AssociationId} associates ${a.IamInstanceProfile?.Arn}`).join('; ');
      return `${found}${foreignNote(foreign, instanceOf, 'association(s) of other instances')}${foreignNote(
        unusable,
        (a) => a.AssociationId,
        'association(s) not in state associated or without a valid id',
      )}`;
    },
  });
  return read.status === 'found' ? split(read.output).usable : undefined;
};

/**
 * Whether the quarantine profile holds exactly `quarantineRole`, the one role the deployed policy lets
 * Riposte pass to EC2: a profile that holds another role, or none, is refused with what it holds.
 * `undefined` when it does and may be swapped in, or when a plan could not read it (execute reads it
 * again). A profile named without its role (params not validated by the registry) is refused unread.
 */
const quarantineProblem = async (ctx: Context, session: Session): Promise<string | undefined> => {
  const { quarantineProfile: profile, quarantineRole: role } = ctx.params;
  if (profile === undefined) return undefined;
  if (role === undefined) {
    return `quarantineProfile ${shown(profile)} is given without quarantineRole, the one role it may hold; not changed`;
  }
  const iam = await ctx.services.iam(scopeOf(ctx.target));
  const { GetInstanceProfileCommand } = await import('@aws-sdk/client-iam');
  const input = { InstanceProfileName: profile };
  const read = await session.read({
    call: awsCall('IAM', 'GetInstanceProfile', input),
    send: () => iam.send(new GetInstanceProfileCommand(input)),
    key: profile,
    found: (output) => {
      const roles = (output.InstanceProfile?.Roles ?? []).map((item) => item.RoleName);
      return `instance profile ${profile} holds ${roles.length === 0 ? 'no role' : `role ${roles.join(', ')}`}`;
    },
    absent: { codes: NO_SUCH_ENTITY, summary: `instance profile ${profile} does not exist` },
  });
  if (read.status === 'unknown') return undefined;
  if (read.status === 'absent') {
    return `the quarantine profile ${shown(profile)} does not exist; not changed`;
  }
  const roles = (read.output.InstanceProfile?.Roles ?? []).map((item) => item.RoleName ?? '');
  if (roles.length === 1 && roles[0] === role) return undefined;
  const holds = roles.length === 0 ? 'no role' : `role(s) ${roles.map(shown).join(', ')}`;
  return `the quarantine profile ${shown(profile)} holds ${holds}, not exactly quarantineRole ${shown(role)}; not changed`;
};

const isQuarantined = (association: IamInstanceProfileAssociation, profile: string): boolean =>
  association.IamInstanceProfile?.Arn !== undefined &&
  nameFromArn(association.IamInstanceProfile.Arn) === profile;

const disassociate = (ctx: Context, AssociationId: string): Mutation => {
  const input = { AssociationId };
  return mutation('EC2', 'DisassociateIamInstanceProfile', input, async () => {
    const { DisassociateIamInstanceProfileCommand } = await import('@aws-sdk/client-ec2');
    return (await ctx.services.ec2(scopeOf(ctx.target))).send(
      new DisassociateIamInstanceProfileCommand(input),
    );
  });
};

const replace = (ctx: Context, AssociationId: string, profile: string): Mutation => {
  const input = { AssociationId, IamInstanceProfile: { Name: profile } };
  return mutation('EC2', 'ReplaceIamInstanceProfileAssociation', input, async () => {
    const { ReplaceIamInstanceProfileAssociationCommand } = await import('@aws-sdk/client-ec2');
    return (await ctx.services.ec2(scopeOf(ctx.target))).send(
      new ReplaceIamInstanceProfileAssociationCommand(input),
    );
  });
};

/**
 * The calls that leave the instance without its profile (or with the quarantine one), or why none
 * are needed. `undefined` associations means planning could not read them (no credentials).
 */
const changes = (
  ctx: Context,
  associations: IamInstanceProfileAssociation[] | undefined,
): { mutations: Mutation[] } | { reason: string } => {
  const profile = ctx.params.quarantineProfile;
  if (associations?.length === 0)
    return { reason: `no instance profile is associated with ${ctx.target.id}` };
  if (profile !== undefined && associations?.every((association) => isQuarantined(association, profile))) {
    return { reason: `${ctx.target.id} already carries the quarantine profile ${profile}` };
  }
  // Only ids of associations that passed `readAssociations`' checks reach a mutation.
  const ids = associations?.flatMap((association) => association.AssociationId ?? []) ?? [
    placeholder('AssociationId', DESCRIBE),
  ];
  return {
    mutations: ids.map((id) => (profile === undefined ? disassociate(ctx, id) : replace(ctx, id, profile))),
  };
};

/** Why this target cannot be acted on at all: checked before any client is made or call is sent. */
const invalidTarget = (ctx: Context): string | undefined => {
  const invalid = invalidId('instance-id', ctx.target.id);
  return invalid === undefined ? undefined : `${invalid}; nothing was looked up or changed`;
};

/**
 * Detaches the IAM instance profile from each instance the finding names, so the stolen role's
 * credentials stop being refreshed on that instance. Only the association of that instance is
 * touched: the instance id must be a well-formed EC2 id (no wildcard reaches the lookup's filter), and
 * an association the lookup returns for any other instance is reported and never changed. Sessions
 * already issued stay valid until they expire: pair with revoke-role-sessions.
 */
export const detachInstanceProfile: DocumentedAction<DetachInstanceProfileParams, AwsServices> = {
  name: 'detach-instance-profile',
  summary:
    'Detach the IAM instance profile from each instance the finding names (or replace it with a quarantine profile).',
  phase: 'contain',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      quarantineProfile: {
        type: 'string',
        description:
          'Instance profile name to swap in instead of detaching; needs quarantineRole, and is refused unless it holds exactly that role.',
        pattern: '^[\\w+=,.@-]{1,128}$',
      },
      quarantineRole: {
        type: 'string',
        description:
          'Name of the one role the quarantine profile holds: the only role the deployed policy lets Riposte pass (iam:PassRole, to EC2 only). Only with quarantineProfile.',
        pattern: '^[\\w+=,.@-]{1,64}$',
      },
    },
    // draft-07 `dependencies` (what `dependentRequired` means in later drafts): both or neither.
    dependencies: { quarantineProfile: ['quarantineRole'], quarantineRole: ['quarantineProfile'] },
  },
  permissions: [
    'ec2:DescribeIamInstanceProfileAssociations',
    'ec2:DisassociateIamInstanceProfile',
    'ec2:ReplaceIamInstanceProfileAssociation',
    'iam:GetInstanceProfile',
    'iam:PassRole',
  ],
  grants: grantsFor,
  paramExamples: [
    { quarantineProfile: 'quarantine-no-permissions', quarantineRole: 'quarantine-no-permissions' },
  ],
  resourceKinds: ['instance'],
  example: [
    '- action: detach-instance-profile',
    '  # params: { quarantineProfile: quarantine-no-permissions, quarantineRole: quarantine-no-permissions }',
  ].join('\n'),
  idempotency:
    'Skipped when no instance profile (or only the quarantine profile) is associated with the instance.',
  dryRun:
    "Refuses an instance id that is not a well-formed EC2 id; looks up the instance's profile association (associations of other instances are reported and ignored) and the quarantine profile's role, refusing a profile that does not hold exactly quarantineRole; lists DisassociateIamInstanceProfile (or ReplaceIamInstanceProfileAssociation) with its AssociationId.",

  targets: (finding) => resolved(instanceTargets(finding), 'the finding names no EC2 instance'),

  plan: (ctx) =>
    planAction(async (session) => {
      const invalid = invalidTarget(ctx);
      if (invalid) return { status: 'refused', reason: invalid, calls: [] };
      const change = changes(ctx, await readAssociations(ctx, session));
      if ('reason' in change) return { status: 'no-op', reason: change.reason, calls: [] };
      const problem = await quarantineProblem(ctx, session);
      if (problem) return { status: 'refused', reason: problem, calls: [] };
      return { status: 'planned', calls: change.mutations.map((item) => item.call) };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const invalid = invalidTarget(ctx);
      if (invalid) session.fail(refusal(invalid));
      const associations = await readAssociations(ctx, session);
      const change = changes(ctx, associations);
      if ('reason' in change) return { status: 'skipped', reason: change.reason };
      const problem = await quarantineProblem(ctx, session);
      if (problem) session.fail(refusal(problem));
      for (const item of change.mutations) await session.mutate(item);
      return {
        status: 'applied',
        outputs: {
          detachedProfiles: (associations ?? []).map((association) => association.IamInstanceProfile?.Arn),
        },
      };
    }),
};
