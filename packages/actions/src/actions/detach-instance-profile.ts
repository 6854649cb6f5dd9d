import type { IamInstanceProfileAssociation } from '@aws-sdk/client-ec2';
import {
  type ActionContext,
  type ActionTarget,
  arnProblem,
  defineAction,
  defineInverse,
  type InverseContext,
  type PermissionGrant,
  regionPartition,
  type UndoState,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { placeholder, type Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
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

/** What reading associations needs: the service bag and the instance (an action's or an inverse's context). */
type ReadContext = { services: AwsServices; target: ActionTarget };

/**
 * The target's active associations as AWS answered. The read can only filter by instance id (the API
 * has no instance-id parameter), so the id is validated before it goes into the filter, and every
 * association that is not exactly the target's, or not `associated`, or has no usable id, is dropped
 * and named in the lookup summary: nothing but the target's own association is ever changed.
 */
const readAssociations = async (ctx: ReadContext, session: Session): Promise<State> => {
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

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

/**
 * What a step records before it detaches or replaces anything: the instance, and for each association
 * it ends the instance profile it held (its ARN as EC2 answered), with the quarantine profile swapped
 * in, if one was.
 */
export interface DetachInstanceProfileUndo {
  instanceId: string;
  associations: { instanceProfileArn: string; quarantineProfile?: string }[];
}

const INSTANCE_ID = '^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$';
const PROFILE_NAME = '^[\\w+=,.@-]{1,128}$';
/** `arn:<partition>:iam::<account>:instance-profile/<path/>name`; the path is printable ASCII without `*` or `?`. */
const PROFILE_ARN =
  '^arn:aws(?:-[a-z]+){0,2}:iam::[0-9]{12}:instance-profile/(?:[\\x21-\\x29\\x2b-\\x3e\\x40-\\x7e]{1,510}/)?[\\w+=,.@-]{1,128}$';

/** History is read back from a table: every field is checked before the inverse reads it. */
const undoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['instanceId', 'associations'],
  properties: {
    instanceId: { type: 'string', pattern: INSTANCE_ID },
    associations: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['instanceProfileArn'],
        properties: {
          instanceProfileArn: { type: 'string', maxLength: 1024, pattern: PROFILE_ARN },
          quarantineProfile: { type: 'string', pattern: PROFILE_NAME },
        },
      },
    },
  },
};

/** Recorded from the associations as inspected, before the first one is changed. */
const undoOf = (ctx: Context, associations: State): UndoState => {
  const profile = ctx.params.quarantineProfile;
  return {
    instanceId: ctx.target.id,
    associations: (associations ?? []).map((association) => ({
      instanceProfileArn: association.IamInstanceProfile?.Arn ?? '',
      ...(profile === undefined ? {} : { quarantineProfile: profile }),
    })),
  } satisfies DetachInstanceProfileUndo;
};

type InverseCtx = InverseContext<DetachInstanceProfileUndo, AwsServices>;

/** How the recorded profile goes back: associated anew, or swapped back in for the quarantine profile. */
type Restore = { kind: 'associate' } | { kind: 'replace'; associationId: string };

/**
 * Why the recorded state cannot be acted on, checked again before any call (the schema checked it
 * once): the instance must be the recorded target, and the profile a valid ARN of the target's
 * partition and account.
 */
const invalidUndo = (ctx: InverseCtx): string | undefined => {
  const { target, state } = ctx;
  const invalid = invalidId('instance-id', target.id);
  if (invalid !== undefined) return invalid;
  if (state.instanceId !== target.id)
    return `the recorded instance ${shown(state.instanceId)} is not the target ${target.id}`;
  const [recorded, ...more] = state.associations;
  if (recorded === undefined || more.length > 0)
    return `${state.associations.length} instance profiles were recorded for ${target.id}; one was expected`;
  const partition = regionPartition(target.region);
  if (partition === undefined) return `the target region ${shown(target.region)} is in no known partition`;
  const arn = arnProblem(recorded.instanceProfileArn, {
    partition,
    accountId: target.accountId,
    service: 'iam',
    resourcePrefix: 'instance-profile/',
  });
  if (arn !== undefined) return `the recorded instance profile ${arn}`;
  const quarantine = recorded.quarantineProfile;
  return quarantine === undefined ? undefined : invalidId('instance-profile-name', quarantine);
};

/**
 * The instance's association now, read as the action reads it (only the target's own, in state
 * `associated`): none means the recorded profile is associated again; the quarantine profile the step
 * swapped in is replaced by it; the recorded profile itself means it is already restored. Any other
 * profile was put there since, by someone else: refused, and left as it is.
 */
const inspectUndo = async (ctx: InverseCtx, session: Session): Promise<Inspection<Restore>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`${invalid}; nothing was looked up or changed`);
  const instanceId = ctx.target.id;
  const [recorded] = ctx.state.associations as [DetachInstanceProfileUndo['associations'][number]];
  const { instanceProfileArn: arn, quarantineProfile: quarantine } = recorded;
  const current = await readAssociations(ctx, session);
  if (current === undefined) {
    // Planning offline: the association id of the quarantine profile is only known from the lookup.
    return planned(
      quarantine === undefined
        ? { kind: 'associate' }
        : { kind: 'replace', associationId: placeholder('AssociationId', DESCRIBE) },
    );
  }
  const [association, ...others] = current;
  if (association === undefined) return planned({ kind: 'associate' });
  if (others.length > 0) {
    return refused(
      `${instanceId} has ${current.length} instance profile associations; cannot tell which to restore, not changed`,
    );
  }
  const held = association.IamInstanceProfile?.Arn;
  if (held === arn) return noOp(`${instanceId} already carries instance profile ${arn}`);
  if (quarantine !== undefined && held !== undefined && nameFromArn(held) === quarantine) {
    // `readAssociations` kept only associations with a valid id.
    return planned({ kind: 'replace', associationId: association.AssociationId ?? '' });
  }
  const expected =
    quarantine === undefined ? 'no profile (the step detached it)' : `the quarantine profile ${quarantine}`;
  return refused(
    `${instanceId} carries instance profile ${shown(held ?? '(none)')}, not ${expected}: it was changed since, so it is left as it is`,
  );
};

const undoMutations = (ctx: InverseCtx, restore: Restore): Mutation[] => {
  const [recorded] = ctx.state.associations;
  const IamInstanceProfile = { Arn: recorded?.instanceProfileArn ?? '' };
  return [
    restore.kind === 'associate'
      ? mutation(ctx, 'ec2', 'AssociateIamInstanceProfile', { IamInstanceProfile, InstanceId: ctx.target.id })
      : mutation(ctx, 'ec2', 'ReplaceIamInstanceProfileAssociation', {
          AssociationId: restore.associationId,
          IamInstanceProfile,
        }),
  ];
};

/**
 * The undo role's grants, never the function's: the function only ever detaches or swaps in the one
 * quarantine profile, while restoring passes whatever role the recorded profile holds (to EC2 only).
 * They go to the separate role people assume to run `riposte undo`.
 */
const undoGrants = (): PermissionGrant[] => [
  { actions: ['ec2:DescribeIamInstanceProfileAssociations'], resources: ['*'] },
  {
    actions: ['ec2:AssociateIamInstanceProfile', 'ec2:ReplaceIamInstanceProfileAssociation'],
    resources: ['arn:{partition}:ec2:*:{account}:instance/*'],
  },
  {
    actions: ['iam:PassRole'],
    resources: ['arn:{partition}:iam::{account}:role/*'],
    conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
  },
];

const undo = defineInverse<DetachInstanceProfileUndo, AwsServices>({
  summary:
    'Associate the instance profile the step detached again, or swap it back in for the quarantine profile; refused when another profile was associated since.',
  stateSchema: undoSchema,
  permissions: [
    'ec2:DescribeIamInstanceProfileAssociations',
    'ec2:AssociateIamInstanceProfile',
    'ec2:ReplaceIamInstanceProfileAssociation',
    'iam:PassRole',
  ],
  grants: undoGrants,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, associations: State) => ({
    detachedProfiles: (associations ?? []).map((association) => association.IamInstanceProfile?.Arn),
  }),
  undo: undoOf,
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
  undo,
});
