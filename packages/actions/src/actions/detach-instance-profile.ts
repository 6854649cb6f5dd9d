import type { IamInstanceProfileAssociation } from '@aws-sdk/client-ec2';
import { type ActionContext, defineAction, type PermissionGrant } from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { placeholder, type Session } from '../session.js';
import { executeWith, type Inspection, noOp, planned, planWith, refused } from '../step.js';
import {
  foreignNote,
  instanceTargets,
  invalidId,
  nameFromArn,
  ownedBy,
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

/** The target's usable associations; `undefined` when planning could not read them (no credentials). */
type State = IamInstanceProfileAssociation[] | undefined;

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
const readAssociations = async (ctx: Context, session: Session): Promise<State> => {
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
  const answer = await session.read(read(ctx, 'ec2', DESCRIBE, input), {
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
  return answer.status === 'found' ? split(answer.output).usable : undefined;
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
  const answer = await session.read(
    read(ctx, 'iam', 'GetInstanceProfile', { InstanceProfileName: profile }),
    {
      key: profile,
      found: (output) => {
        const roles = (output.InstanceProfile?.Roles ?? []).map((item) => item.RoleName);
        return `instance profile ${profile} holds ${roles.length === 0 ? 'no role' : `role ${roles.join(', ')}`}`;
      },
      absent: { codes: NO_SUCH_ENTITY, summary: `instance profile ${profile} does not exist` },
    },
  );
  if (answer.status === 'unknown') return undefined;
  if (answer.status === 'absent') {
    return `the quarantine profile ${shown(profile)} does not exist; not changed`;
  }
  const roles = (answer.output.InstanceProfile?.Roles ?? []).map((item) => item.RoleName ?? '');
  if (roles.length === 1 && roles[0] === role) return undefined;
  const holds = roles.length === 0 ? 'no role' : `role(s) ${roles.map(shown).join(', ')}`;
  return `the quarantine profile ${shown(profile)} holds ${holds}, not exactly quarantineRole ${shown(role)}; not changed`;
};

const isQuarantined = (association: IamInstanceProfileAssociation, profile: string): boolean =>
  association.IamInstanceProfile?.Arn !== undefined &&
  nameFromArn(association.IamInstanceProfile.Arn) === profile;

const nothingToDo = (ctx: Context, associations: State): string | undefined => {
  const profile = ctx.params.quarantineProfile;
  if (associations?.length === 0) return `no instance profile is associated with ${ctx.target.id}`;
  return profile !== undefined && associations?.every((association) => isQuarantined(association, profile))
    ? `${ctx.target.id} already carries the quarantine profile ${profile}`
    : undefined;
};

/**
 * The calls that leave the instance without its profile (or with the quarantine one). `undefined`
 * associations means planning could not read them (no credentials): the id is a placeholder then.
 */
const mutations = (ctx: Context, associations: State): Mutation[] => {
  const profile = ctx.params.quarantineProfile;
  // Only ids of associations that passed `readAssociations`' checks reach a mutation.
  const ids = associations?.flatMap((association) => association.AssociationId ?? []) ?? [
    placeholder('AssociationId', DESCRIBE),
  ];
  return ids.map((AssociationId) =>
    profile === undefined
      ? mutation(ctx, 'ec2', 'DisassociateIamInstanceProfile', { AssociationId })
      : mutation(ctx, 'ec2', 'ReplaceIamInstanceProfileAssociation', {
          AssociationId,
          IamInstanceProfile: { Name: profile },
        }),
  );
};

/** Why this target cannot be acted on at all: checked before any client is made or call is sent. */
const invalidTarget = (ctx: Context): string | undefined => {
  const invalid = invalidId('instance-id', ctx.target.id);
  return invalid === undefined ? undefined : `${invalid}; nothing was looked up or changed`;
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const associations = await readAssociations(ctx, session);
  const reason = nothingToDo(ctx, associations);
  if (reason) return noOp(reason);
  const problem = await quarantineProblem(ctx, session);
  return problem ? refused(problem) : planned(associations);
};

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, associations: State) => ({
    detachedProfiles: (associations ?? []).map((association) => association.IamInstanceProfile?.Arn),
  }),
};

/**
 * Detaches the IAM instance profile from each instance the finding names, so the stolen role's
 * credentials stop being refreshed on that instance. Only the association of that instance is
 * touched: the instance id must be a well-formed EC2 id (no wildcard reaches the lookup's filter), and
 * an association the lookup returns for any other instance is reported and never changed. Sessions
 * already issued stay valid until they expire: pair with revoke-role-sessions.
 */
export const detachInstanceProfile = defineAction<DetachInstanceProfileParams, AwsServices>({
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
    required: [],
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

  plan: planWith(step),
  execute: executeWith(step),
});
