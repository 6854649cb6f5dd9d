import type { IamInstanceProfileAssociation } from '@aws-sdk/client-ec2';
import type { ActionContext } from '@riposte/core';
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
} from '../targets.js';

export type DetachInstanceProfileParams = {
  /** Swap in this instance profile (by name) instead of leaving the instance without one. */
  quarantineProfile?: string;
};

type Context = ActionContext<DetachInstanceProfileParams, AwsServices>;

const DESCRIBE = 'DescribeIamInstanceProfileAssociations';

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
          'Instance profile name to swap in instead of detaching (needs iam:PassRole on its role).',
        pattern: '^[\\w+=,.@-]{1,128}$',
      },
    },
  },
  permissions: [
    'ec2:DescribeIamInstanceProfileAssociations',
    'ec2:DisassociateIamInstanceProfile',
    'ec2:ReplaceIamInstanceProfileAssociation',
    'iam:PassRole',
  ],
  resourceKinds: ['instance'],
  example: [
    '- action: detach-instance-profile',
    '  # params: { quarantineProfile: quarantine-no-permissions }',
  ].join('\n'),
  idempotency:
    'Skipped when no instance profile (or only the quarantine profile) is associated with the instance.',
  dryRun:
    "Refuses an instance id that is not a well-formed EC2 id; looks up the instance's profile association (associations of other instances are reported and ignored); lists DisassociateIamInstanceProfile (or ReplaceIamInstanceProfileAssociation) with its AssociationId.",

  targets: (finding) => resolved(instanceTargets(finding), 'the finding names no EC2 instance'),

  plan: (ctx) =>
    planAction(async (session) => {
      const invalid = invalidTarget(ctx);
      if (invalid) return { status: 'refused', reason: invalid, calls: [] };
      const change = changes(ctx, await readAssociations(ctx, session));
      if ('reason' in change) return { status: 'no-op', reason: change.reason, calls: [] };
      return { status: 'planned', calls: change.mutations.map((item) => item.call) };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const invalid = invalidTarget(ctx);
      if (invalid) session.fail(refusal(invalid));
      const associations = await readAssociations(ctx, session);
      const change = changes(ctx, associations);
      if ('reason' in change) return { status: 'skipped', reason: change.reason };
      for (const item of change.mutations) await session.mutate(item);
      return {
        status: 'applied',
        outputs: {
          detachedProfiles: (associations ?? []).map((association) => association.IamInstanceProfile?.Arn),
        },
      };
    }),
};
