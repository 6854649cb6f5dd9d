import type { AccessEntry, AssociatedAccessPolicy } from '@aws-sdk/client-eks';
import {
  type ActionContext,
  defineAction,
  defineInverse,
  type Finding,
  type InverseContext,
  type JsonSchema,
  type KubernetesUserResource,
  type PermissionGrant,
  parseArn,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import {
  ACCESS_ENTRY_ARNS,
  CLUSTER_ARNS,
  clusterNameOf,
  describeCluster,
  EKS_NOT_FOUND,
  invalidClusterName,
} from '../eks.js';
import { checkPrincipal, type PrincipalKind } from '../protection.js';
import { placeholder, type Read, type Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { invalidAccount, invalidId, resolved, shown, targetOf } from '../targets.js';

export type RevokeEksAccessEntryParams = {
  /** `disassociate-policies` (default): remove the entry's access policies; `delete-entry`: delete the access entry. */
  mode?: 'disassociate-policies' | 'delete-entry';
};

type Context = ActionContext<RevokeEksAccessEntryParams, AwsServices>;

/** An access policy association as the step records it: the policy and the scope it was granted on. */
export interface RecordedPolicy {
  policyArn: string;
  accessScope: { type: 'cluster' | 'namespace'; namespaces: string[] };
}

/** The IAM principal behind the Kubernetes user, as its access entry names it. */
interface Principal {
  arn: string;
  kind: PrincipalKind;
  name: string;
}

interface Found {
  clusterName: string;
  principal: Principal;
  /** `undefined` in a plan made without credentials. */
  entry?: AccessEntry;
  policies?: RecordedPolicy[];
}

type State = Found;

const modeOf = (params: RevokeEksAccessEntryParams) => params.mode ?? 'disassociate-policies';

// ---------------------------------------------------------------------------------------------
// The principal the finding names
// ---------------------------------------------------------------------------------------------

const IAM_PRINCIPAL = /^arn:(aws(?:-[a-z]+){0,2}):(iam|sts)::(\d{12}):(role|user|assumed-role)\/(.+)$/;

/**
 * The IAM principal of an ARN the finding gives: a role or user ARN as it is (its path dropped: EKS
 * names a principal by account and name), an STS assumed-role session as its role.
 */
const principalOfArn = (arn: string): Principal | undefined => {
  const match = IAM_PRINCIPAL.exec(arn);
  if (!match) return undefined;
  const [, partition, service, account, type, rest = ''] = match;
  const parts = rest.split('/');
  if (service === 'sts' && type === 'assumed-role') {
    const [role] = parts;
    return role
      ? { arn: `arn:${partition}:iam::${account}:role/${role}`, kind: 'role', name: role }
      : undefined;
  }
  if (service !== 'iam' || type === 'assumed-role') return undefined;
  const name = parts.at(-1) ?? '';
  return name === ''
    ? undefined
    : { arn: `arn:${partition}:iam::${account}:${type}/${name}`, kind: type as PrincipalKind, name };
};

/**
 * The IAM principal GuardDuty names for a Kubernetes user. An IAM-authenticated user's `username`
 * is the caller's ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>` or `arn:aws:iam::...`),
 * and its uid `aws-iam-authenticator:<account>:<principal id>`; otherwise the finding's access key
 * details (`resource.accessKeyDetails`) name the role or user.
 */
export const principalOf = (finding: Finding, user: KubernetesUserResource): Principal | undefined => {
  const fromUser = principalOfArn(user.username);
  if (fromUser) return fromUser;
  if (!user.uid?.startsWith('aws-iam-authenticator:')) return undefined;
  for (const key of resourcesOfKind(finding, 'access-key')) {
    const fromKey = key.principalArn === undefined ? undefined : principalOfArn(key.principalArn);
    if (fromKey) return fromKey;
    const role =
      key.roleName ?? (key.userType === 'AssumedRole' || key.userType === 'Role' ? key.userName : undefined);
    if (role)
      return {
        arn: `arn:${finding.partition}:iam::${finding.accountId}:role/${role}`,
        kind: 'role',
        name: role,
      };
    if (key.userType === 'IAMUser' && key.userName) {
      return {
        arn: `arn:${finding.partition}:iam::${finding.accountId}:user/${key.userName}`,
        kind: 'user',
        name: key.userName,
      };
    }
  }
  return undefined;
};

const userOf = (ctx: Context): KubernetesUserResource | undefined =>
  resourcesOfKind(ctx.finding, 'kubernetes-user').find((user) => user.username === ctx.target.id);

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

const recordedOf = (policy: AssociatedAccessPolicy): RecordedPolicy => ({
  policyArn: policy.policyArn ?? '',
  accessScope: {
    type: policy.accessScope?.type === 'namespace' ? 'namespace' : 'cluster',
    namespaces: [...(policy.accessScope?.namespaces ?? [])].sort(),
  },
});

const describeEntry = (
  ctx: { services: AwsServices; target: { accountId: string; region: string } },
  session: Session,
  clusterName: string,
  principalArn: string,
): Promise<Read<AccessEntry>> =>
  session
    .read(read(ctx, 'eks', 'DescribeAccessEntry', { clusterName, principalArn }), {
      key: `${clusterName} ${principalArn}`,
      found: (output) =>
        `access entry of ${principalArn} (${output.accessEntry?.type ?? 'type unknown'}, groups: ${(output.accessEntry?.kubernetesGroups ?? []).join(', ') || 'none'})`,
      absent: {
        codes: EKS_NOT_FOUND,
        summary: `cluster ${clusterName} has no access entry for ${principalArn}`,
      },
    })
    .then((answer) =>
      answer.status === 'found' ? { status: 'found', output: answer.output.accessEntry ?? {} } : answer,
    );

/** The entry's associated policies; EKS answers up to 100 per page, and the API allows few more associations. */
const listPolicies = async (
  ctx: { services: AwsServices; target: { accountId: string; region: string } },
  session: Session,
  clusterName: string,
  principalArn: string,
): Promise<Read<RecordedPolicy[]>> => {
  const answer = await session.read(
    read(ctx, 'eks', 'ListAssociatedAccessPolicies', { clusterName, principalArn, maxResults: 100 }),
    {
      key: `${clusterName} ${principalArn}`,
      found: (output) => {
        const arns = (output.associatedAccessPolicies ?? []).map((policy) => policy.policyArn);
        return arns.length === 0 ? 'no access policy associated' : `associated: ${arns.join(', ')}`;
      },
      absent: {
        codes: EKS_NOT_FOUND,
        summary: `cluster ${clusterName} has no access entry for ${principalArn}`,
      },
    },
  );
  return answer.status === 'found'
    ? { status: 'found', output: (answer.output.associatedAccessPolicies ?? []).map(recordedOf) }
    : answer;
};

const invalidTarget = (ctx: Context, user: KubernetesUserResource | undefined): string | undefined => {
  if (user === undefined) return `the finding names no Kubernetes user ${shown(ctx.target.id)}`;
  const clusterName = clusterNameOf(ctx.finding, user.clusterName);
  if (clusterName === undefined)
    return `the finding names no EKS cluster for Kubernetes user ${shown(user.username)}`;
  return invalidClusterName(clusterName) ?? invalidAccount(ctx.target, ctx.finding);
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const user = userOf(ctx);
  const invalid = invalidTarget(ctx, user);
  if (invalid !== undefined || user === undefined)
    return refused(`${invalid}; nothing was looked up or changed`);
  const clusterName = clusterNameOf(ctx.finding, user.clusterName) as string;
  const principal = principalOf(ctx.finding, user);
  if (principal === undefined) {
    return refused(
      `Kubernetes user ${shown(user.username)} is not an IAM principal the finding names (no IAM ARN in its username, no access key details): only IAM principals have EKS access entries; not changed`,
    );
  }
  const arn = parseArn(principal.arn);
  if (arn?.account !== ctx.finding.accountId || arn.partition !== ctx.finding.partition) {
    return refused(
      `the principal ${shown(principal.arn)} is not of the finding's account ${ctx.finding.accountId}; not changed`,
    );
  }
  const cluster = await describeCluster(ctx, session, clusterName);
  if (cluster.status === 'absent') return noOp(`EKS cluster ${clusterName} no longer exists`);
  if (cluster.status === 'found') {
    if (cluster.output.accessConfig?.authenticationMode === 'CONFIG_MAP') {
      return refused(
        `cluster ${clusterName} authenticates only through the aws-auth ConfigMap (authentication mode CONFIG_MAP), which this action does not edit: ${principal.arn} has no access entry to revoke; not changed`,
      );
    }
    if (
      cluster.output.roleArn !== undefined &&
      parseArn(cluster.output.roleArn)?.resource.split('/').pop() === principal.name &&
      principal.kind === 'role'
    ) {
      return refused(`${principal.arn} is the IAM role of cluster ${clusterName} itself; not changed`);
    }
  }
  const protection = await checkPrincipal(
    ctx as ActionContext<unknown, AwsServices>,
    session,
    principal.kind,
    principal.name,
  );
  if (protection.status === 'refused') return refused(protection.reason, protection.error);
  const entry = await describeEntry(ctx, session, clusterName, principal.arn);
  if (entry.status === 'absent') {
    return refused(
      `cluster ${clusterName} has no access entry for ${principal.arn}: it is mapped through the aws-auth ConfigMap (or not at all), which this action does not edit; not changed`,
    );
  }
  if (entry.status === 'unknown') return planned({ clusterName, principal });
  const type = entry.output.type ?? 'STANDARD';
  if (type !== 'STANDARD') {
    return refused(
      `the access entry of ${principal.arn} is of type ${shown(type)} (nodes), not STANDARD: revoking it would cut nodes off the cluster; not changed`,
    );
  }
  const policies = await listPolicies(ctx, session, clusterName, principal.arn);
  if (policies.status === 'absent') return noOp(`the access entry of ${principal.arn} was deleted meanwhile`);
  if (policies.status === 'unknown') return planned({ clusterName, principal, entry: entry.output });
  if (modeOf(ctx.params) === 'disassociate-policies' && policies.output.length === 0) {
    return noOp(`no access policy is associated with the access entry of ${principal.arn} in ${clusterName}`);
  }
  return planned({ clusterName, principal, entry: entry.output, policies: policies.output });
};

const mutations = (ctx: Context, state: State): Mutation[] => {
  const { clusterName, principal } = state;
  if (modeOf(ctx.params) === 'delete-entry') {
    return [mutation(ctx, 'eks', 'DeleteAccessEntry', { clusterName, principalArn: principal.arn })];
  }
  const arns = state.policies?.map((policy) => policy.policyArn) ?? [
    placeholder('policyArn', 'ListAssociatedAccessPolicies'),
  ];
  return arns.map((policyArn) =>
    mutation(ctx, 'eks', 'DisassociateAccessPolicy', { clusterName, principalArn: principal.arn, policyArn }),
  );
};

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

/** What the step removed: the policies (with their scopes), and for a deleted entry the entry itself. */
export type RevokeEksAccessEntryUndo = {
  clusterName: string;
  principalArn: string;
  mode: 'disassociate-policies' | 'delete-entry';
  policies: RecordedPolicy[];
  entry?: { type: 'STANDARD'; username?: string; kubernetesGroups: string[]; tags: Record<string, string> };
};

const undoOf = (ctx: Context, state: State): RevokeEksAccessEntryUndo => {
  const mode = modeOf(ctx.params);
  const entry = state.entry;
  return {
    clusterName: state.clusterName,
    principalArn: state.principal.arn,
    mode,
    policies: state.policies ?? [],
    ...(mode === 'delete-entry' && entry !== undefined
      ? {
          entry: {
            type: 'STANDARD' as const,
            ...(entry.username === undefined ? {} : { username: entry.username }),
            kubernetesGroups: [...(entry.kubernetesGroups ?? [])],
            tags: { ...(entry.tags ?? {}) },
          },
        }
      : {}),
  };
};

const POLICY_ARN = '^arn:aws(?:-[a-z]+){0,2}:eks::aws:cluster-access-policy/[A-Za-z0-9]{1,128}$';
const PRINCIPAL_ARN = '^arn:aws(?:-[a-z]+){0,2}:iam::[0-9]{12}:(?:role|user)/[\\w+=,.@-]{1,128}$';
const NAMESPACE = '^[a-z0-9*](?:[a-z0-9*-]{0,61}[a-z0-9*])?$';

const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clusterName', 'principalArn', 'mode', 'policies'],
  properties: {
    clusterName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$' },
    principalArn: { type: 'string', maxLength: 2048, pattern: PRINCIPAL_ARN },
    mode: { type: 'string', enum: ['disassociate-policies', 'delete-entry'] },
    policies: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['policyArn', 'accessScope'],
        properties: {
          policyArn: { type: 'string', pattern: POLICY_ARN },
          accessScope: {
            type: 'object',
            additionalProperties: false,
            required: ['type', 'namespaces'],
            properties: {
              type: { type: 'string', enum: ['cluster', 'namespace'] },
              namespaces: { type: 'array', maxItems: 100, items: { type: 'string', pattern: NAMESPACE } },
            },
          },
        },
      },
    },
    entry: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'kubernetesGroups', 'tags'],
      properties: {
        type: { type: 'string', const: 'STANDARD' },
        username: { type: 'string', minLength: 1, maxLength: 512 },
        kubernetesGroups: {
          type: 'array',
          maxItems: 100,
          items: { type: 'string', minLength: 1, maxLength: 256 },
        },
        tags: {
          type: 'object',
          maxProperties: 50,
          propertyNames: { maxLength: 128 },
          additionalProperties: false,
          patternProperties: { '^.{1,128}$': { type: 'string', maxLength: 256 } },
        },
      },
    },
  },
};

type UndoContext = InverseContext<RevokeEksAccessEntryUndo, AwsServices>;

/** What the inverse puts back: the entry (when it is gone) and the recorded policies now missing. */
interface Restore {
  createEntry: boolean;
  policies: RecordedPolicy[];
}

const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'kubernetes-user')
    return `the recorded target is a ${shown(target.kind)}, not a Kubernetes user`;
  const invalid =
    invalidClusterName(state.clusterName) ??
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region);
  if (invalid !== undefined) return invalid;
  const principal = principalOfArn(state.principalArn);
  if (principal === undefined || parseArn(principal.arn)?.account !== target.accountId) {
    return `the recorded principal ${shown(state.principalArn)} is not an IAM role or user of account ${target.accountId}`;
  }
  if (state.mode === 'delete-entry' && state.entry === undefined)
    return 'a deleted access entry was recorded without its settings';
  return undefined;
};

const sameScope = (a: RecordedPolicy['accessScope'], b: RecordedPolicy['accessScope']): boolean =>
  a.type === b.type &&
  a.namespaces.length === b.namespaces.length &&
  [...a.namespaces].sort().every((ns, i) => ns === [...b.namespaces].sort()[i]);

const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<Restore>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const { clusterName, principalArn, mode, policies } = ctx.state;
  const entry = await describeEntry(ctx, session, clusterName, principalArn);
  if (entry.status === 'unknown') return planned({ createEntry: mode === 'delete-entry', policies });
  if (entry.status === 'absent') {
    if (mode === 'delete-entry') return planned({ createEntry: true, policies });
    return refused(
      `the access entry of ${principalArn} in ${clusterName} was deleted since the response; its policies are not restored`,
    );
  }
  const current = await listPolicies(ctx, session, clusterName, principalArn);
  if (mode === 'delete-entry') {
    const groups = [...(entry.output.kubernetesGroups ?? [])].sort();
    const restored =
      current.status === 'found' &&
      JSON.stringify(groups) === JSON.stringify([...(ctx.state.entry?.kubernetesGroups ?? [])].sort()) &&
      policies.every((policy) =>
        current.output.some(
          (now) => now.policyArn === policy.policyArn && sameScope(now.accessScope, policy.accessScope),
        ),
      );
    if (restored)
      return noOp(`the access entry of ${principalArn} is already back, with its groups and policies`);
    return refused(
      `an access entry for ${principalArn} was created again in ${clusterName} since the response, with other groups or policies; left as it is`,
    );
  }
  if (current.status === 'unknown') return planned({ createEntry: false, policies });
  if (current.status === 'absent') {
    return refused(
      `the access entry of ${principalArn} in ${clusterName} was deleted since the response; its policies are not restored`,
    );
  }
  const changed = policies.filter((policy) =>
    current.output.some(
      (now) => now.policyArn === policy.policyArn && !sameScope(now.accessScope, policy.accessScope),
    ),
  );
  if (changed.length > 0) {
    return refused(
      `${changed.map((policy) => policy.policyArn).join(', ')} was associated again with another scope since the response; not changed`,
    );
  }
  const missing = policies.filter(
    (policy) => !current.output.some((now) => now.policyArn === policy.policyArn),
  );
  if (missing.length === 0)
    return noOp(`every recorded access policy of ${principalArn} is associated again`);
  return planned({ createEntry: false, policies: missing });
};

const undoMutations = (ctx: UndoContext, restore: Restore): Mutation[] => {
  const { clusterName, principalArn, entry } = ctx.state;
  return [
    ...(restore.createEntry && entry !== undefined
      ? [
          mutation(ctx, 'eks', 'CreateAccessEntry', {
            clusterName,
            principalArn,
            type: entry.type,
            kubernetesGroups: entry.kubernetesGroups,
            ...(entry.username === undefined ? {} : { username: entry.username }),
            ...(Object.keys(entry.tags).length === 0 ? {} : { tags: entry.tags }),
          }),
        ]
      : []),
    ...restore.policies.map((policy) =>
      mutation(ctx, 'eks', 'AssociateAccessPolicy', {
        clusterName,
        principalArn,
        policyArn: policy.policyArn,
        accessScope: {
          type: policy.accessScope.type,
          ...(policy.accessScope.type === 'namespace' ? { namespaces: policy.accessScope.namespaces } : {}),
        },
      }),
    ),
  ];
};

const undo = defineInverse<RevokeEksAccessEntryUndo, AwsServices>({
  summary:
    'Associate again each access policy the step removed, with its access scope (AssociateAccessPolicy), and first create the deleted access entry again with its type, username, groups and tags (CreateAccessEntry).',
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: [
    'eks:DescribeAccessEntry',
    'eks:ListAssociatedAccessPolicies',
    'eks:AssociateAccessPolicy',
    'eks:CreateAccessEntry',
  ],
  grants: () => [
    {
      actions: ['eks:DescribeAccessEntry', 'eks:ListAssociatedAccessPolicies', 'eks:AssociateAccessPolicy'],
      resources: ACCESS_ENTRY_ARNS,
    },
    {
      actions: ['eks:CreateAccessEntry'],
      resources: CLUSTER_ARNS,
      conditions: { StringEquals: { 'eks:accessEntryType': 'STANDARD' } },
    },
  ],
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

/** The protection check reads the principal (GetRole/GetUser) and its tags, on roles and users of the account. */
const PROTECTION_GRANTS: PermissionGrant[] = [
  { actions: ['iam:GetRole', 'iam:ListRoleTags'], resources: ['arn:{partition}:iam::{account}:role/*'] },
  { actions: ['iam:GetUser', 'iam:ListUserTags'], resources: ['arn:{partition}:iam::{account}:user/*'] },
];

const grantsFor = (params: RevokeEksAccessEntryParams): PermissionGrant[] => [
  { actions: ['eks:DescribeCluster'], resources: CLUSTER_ARNS },
  {
    actions: [
      'eks:DescribeAccessEntry',
      'eks:ListAssociatedAccessPolicies',
      modeOf(params) === 'delete-entry' ? 'eks:DeleteAccessEntry' : 'eks:DisassociateAccessPolicy',
    ],
    resources: ACCESS_ENTRY_ARNS,
  },
  ...PROTECTION_GRANTS,
];

const step = {
  inspect,
  mutations,
  outputs: (ctx: Context, state: State) => ({
    clusterName: state.clusterName,
    principalArn: state.principal.arn,
    mode: modeOf(ctx.params),
    removedPolicies: state.policies?.map((policy) => policy.policyArn) ?? [],
  }),
  undo: undoOf,
};

/**
 * Takes the cluster access of the IAM principal behind the Kubernetes user a finding names away, in
 * EKS: its access entry's policies are disassociated (or, with `mode: delete-entry`, the entry is
 * deleted, which also drops its Kubernetes groups). Only access entries: a principal mapped only
 * through the aws-auth ConfigMap is refused with that reason, as are node entries (type other than
 * STANDARD), the cluster's own IAM role, and every protected principal (protection.ts: built-in roles,
 * the function's own role, `RIPOSTE_PROTECTED_PRINCIPALS`, the `riposte:protected` tag). EKS does not
 * tell who created a cluster: list the creator role in `RIPOSTE_PROTECTED_PRINCIPALS`.
 *
 * RBAC bindings to the entry's Kubernetes groups or username stay in the cluster; sessions already
 * authenticated keep their token until it expires (at most 15 minutes).
 */
export const revokeEksAccessEntry = defineAction<RevokeEksAccessEntryParams, AwsServices>({
  name: 'revoke-eks-access-entry',
  summary:
    'Remove the EKS access policies (or the access entry) of the IAM principal behind the Kubernetes user the finding names.',
  phase: 'revoke',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: {
        type: 'string',
        description:
          'disassociate-policies (default): disassociate every access policy of the entry; delete-entry: delete the access entry (its groups and username go too).',
        enum: ['disassociate-policies', 'delete-entry'],
      },
    },
    required: [],
  },
  permissions: [
    'eks:DescribeCluster',
    'eks:DescribeAccessEntry',
    'eks:ListAssociatedAccessPolicies',
    'eks:DisassociateAccessPolicy',
    'eks:DeleteAccessEntry',
    'iam:GetRole',
    'iam:ListRoleTags',
    'iam:GetUser',
    'iam:ListUserTags',
  ],
  grants: grantsFor,
  paramExamples: [{ mode: 'delete-entry' }],
  resourceKinds: ['kubernetes-user'],
  example: ['- action: revoke-eks-access-entry', '  # params: { mode: delete-entry }'].join('\n'),
  idempotency:
    'Skipped when the access entry has no access policy left (disassociate-policies), or no longer exists (delete-entry: refused with the aws-auth reason when there never was one).',
  dryRun:
    "Finds the IAM principal behind the Kubernetes user (its ARN, or the finding's access key details); looks up the cluster, the principal's protection (GetRole/GetUser, tags, Riposte's own identity), its access entry and associated policies; lists DisassociateAccessPolicy per policy (or DeleteAccessEntry).",

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 'kubernetes-user').map((user) =>
        targetOf(finding, 'kubernetes-user', user.username, `Kubernetes user ${user.username}`),
      ),
      'the finding names no Kubernetes user',
    ),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
