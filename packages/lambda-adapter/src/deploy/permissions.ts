import {
  type ActionDefinition,
  type ActionRegistry,
  hasInverse,
  type PermissionGrant,
  type Playbook,
} from '@riposte/core';
import { TemplateError } from '../errors.js';
import { type CloudFormationResource, enabledOf, ref, sub, when } from './shared.js';

/** An IAM policy statement as a template writes it: values may be CloudFormation intrinsic functions. */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** A statement, or a statement CloudFormation keeps only while a template condition holds. */
export type PolicyEntry = PolicyStatement | { 'Fn::If': [string, PolicyStatement, { Ref: string }] };

/** In a grant's resources, the whole string that stands for the deployment's notification topic. */
export const NOTIFICATION_TOPIC = '{notification-topic}';

/**
 * IAM actions the Service Authorization Reference lists with no resource type: a policy can grant
 * them only on `"*"`. A grant may put these, and only these, on `"*"`.
 */
export const NO_RESOURCE_LEVEL_ACTIONS: readonly string[] = [
  'cloudtrail:DescribeTrails',
  'cloudtrail:LookupEvents',
  'ec2:DescribeAddresses',
  'ec2:DescribeIamInstanceProfileAssociations',
  'ec2:DescribeImages',
  'ec2:DescribeInstances',
  'ec2:DescribeNetworkAcls',
  'ec2:DescribeNetworkInterfaceAttribute',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSnapshots',
  'ec2:DescribeSubnets',
  'ec2:DescribeTags',
  'ec2:DescribeVolumes',
  'ec2:DescribeVpcs',
  'guardduty:ArchiveFindings',
  'guardduty:GetFindings',
  'guardduty:ListDetectors',
  'guardduty:ListFindings',
  'guardduty:UnarchiveFindings',
  'organizations:DescribeOrganization',
  's3:GetAccountPublicAccessBlock',
  's3:ListAllMyBuckets',
  'sns:ListTopics',
  'sts:GetCallerIdentity',
  'tag:GetResources',
];

export const NO_RESOURCE_LEVEL_REASON =
  'IAM documents no resource type for these actions (Service Authorization Reference), so a policy can grant them only on "*"';

/**
 * Every IAM write, by verb: each action IAM classes as Write, Permissions management or Tagging on a
 * role, user or policy starts with one of these, and so does any IAM adds later under the same verbs.
 * `iam:PassRole` is a write by delegation: passing a protected role hands its permissions on.
 */
export const IAM_WRITE_ACTIONS: readonly string[] = [
  'iam:Add*',
  'iam:Attach*',
  'iam:Change*',
  'iam:Create*',
  'iam:Deactivate*',
  'iam:Delete*',
  'iam:Detach*',
  'iam:Enable*',
  'iam:PassRole',
  'iam:Put*',
  'iam:Remove*',
  'iam:Reset*',
  'iam:Resync*',
  'iam:Set*',
  'iam:Tag*',
  'iam:Untag*',
  'iam:Update*',
  'iam:Upload*',
];

/**
 * The protected roles SECURITY.md lists that an ARN pattern can name, in any account: service-linked
 * roles, `/aws-reserved/` (every `AWSReservedSSO_*` role lives there), the organization's and Control
 * Tower's access roles and the StackSet execution roles.
 */
export const PROTECTED_ROLE_PATTERNS: readonly string[] = [
  'aws-service-role/*',
  'aws-reserved/*',
  'OrganizationAccountAccessRole',
  'AWSControlTowerExecution',
  'stacksets-exec-*',
  'AWSCloudFormationStackSetExecutionRole',
];

export const protectedRoleArns = (): unknown[] =>
  PROTECTED_ROLE_PATTERNS.map((pattern) => sub(`arn:{AWS::Partition}:iam::*:role/${pattern}`));

export const denyIamWrites = (Sid: string, Resource: unknown): PolicyStatement => ({
  Sid,
  Effect: 'Deny',
  Action: [...IAM_WRITE_ACTIONS],
  Resource,
});

const PLACEHOLDER = /\{([\w-]+)\}/g;
const SUBSTITUTES: Record<string, string> = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
  partition: '${AWS::Partition}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
  account: '${AWS::AccountId}',
};

/**
 * A grant's resource (or condition value) as the template writes it: `{partition}` and `{account}`
 * become the stack's own through `Fn::Sub`, and `{region}` becomes `*`, because one role acts in every
 * region a finding comes from (GuardDuty is regional, IAM is not). Text without placeholders stays a
 * plain string, a lone placeholder a `Ref`; a literal `${` (an IAM policy variable) is escaped for
 * `Fn::Sub`.
 */
export const renderResource = (text: string): unknown => {
  const regional = text.replaceAll('{region}', '*');
  if (!/\{(?:partition|account)\}/.test(regional)) return regional;
  if (regional === '{account}') return { Ref: 'AWS::AccountId' };
  if (regional === '{partition}') return { Ref: 'AWS::Partition' };
  return {
    'Fn::Sub': regional
      .replaceAll('${', '${!')
      .replace(/\{(partition|account)\}/g, (_, name: string) => SUBSTITUTES[name]!),
  };
};

interface Origin {
  playbook?: string;
  step?: string;
  action: string;
  /** The grant is the action's inverse's (the undo role's), not the action's own. */
  inverse?: true;
}

const subjectOf = (origin: Origin): string =>
  origin.inverse ? `the inverse of action "${origin.action}"` : `action "${origin.action}"`;

const checkText = (text: string, origin: Origin, where: string): void => {
  for (const [, name] of text.matchAll(PLACEHOLDER)) {
    if (name === 'partition' || name === 'account' || name === 'region') continue;
    const message =
      `{${name}}` === NOTIFICATION_TOPIC
        ? `${NOTIFICATION_TOPIC} must be a whole resource, not part of "${text}"`
        : `unknown placeholder {${name}} in "${text}"`;
    throw new TemplateError(`${subjectOf(origin)} grants ${where}: ${message}`, { ...origin, text });
  }
};

const checkGrant = (grant: PermissionGrant, permissions: readonly string[], origin: Origin): void => {
  if (!Array.isArray(grant?.actions) || grant.actions.length === 0) {
    throw new TemplateError(`${subjectOf(origin)} returned a grant without actions`, { ...origin });
  }
  if (!Array.isArray(grant.resources) || grant.resources.length === 0) {
    throw new TemplateError(`${subjectOf(origin)} returned a grant without resources`, {
      ...origin,
      actions: grant.actions,
    });
  }
  for (const action of grant.actions) {
    if (action.includes('*') || !permissions.includes(action)) {
      throw new TemplateError(
        `${subjectOf(origin)} grants "${action}", which is not one of its declared permissions`,
        { ...origin, permission: action },
      );
    }
  }
  if (grant.resources.includes('*')) {
    const scoped = grant.actions.filter((action) => !NO_RESOURCE_LEVEL_ACTIONS.includes(action));
    if (scoped.length > 0) {
      throw new TemplateError(
        `${subjectOf(origin)} grants ${scoped.join(', ')} on "*", but IAM scopes ${scoped.length === 1 ? 'it' : 'them'} to resources: name the resources`,
        { ...origin, actions: scoped },
      );
    }
  }
  for (const resource of grant.resources) {
    if (resource !== NOTIFICATION_TOPIC) checkText(resource, origin, 'a resource');
  }
  for (const values of Object.values(grant.conditions ?? {})) {
    for (const value of Object.values(values).flat()) checkText(value, origin, 'a condition');
  }
};

/**
 * The grants of every step of the enabled playbooks: `registry.get(step.action).grants(step.params)`,
 * checked: each action a declared permission, no wildcard action, `*` only for the actions IAM scopes
 * to no resource, known placeholders only.
 */
export const playbookGrants = (
  playbooks: Playbook[],
  registry: ActionRegistry<unknown>,
): PermissionGrant[] => {
  const grants: PermissionGrant[] = [];
  for (const playbook of enabledOf(playbooks)) {
    for (const step of playbook.actions) {
      const origin = { playbook: playbook.name, step: step.id, action: step.action };
      const action = registry.get(step.action);
      if (!action) {
        throw new TemplateError(`playbook "${playbook.name}" uses unknown action "${step.action}"`, {
          playbook: playbook.name,
          action: step.action,
        });
      }
      for (const permission of action.permissions) {
        if (permission.includes('*')) {
          throw new TemplateError(`action "${action.name}" declares a wildcard permission "${permission}"`, {
            action: action.name,
            permission,
          });
        }
      }
      if (typeof action.grants !== 'function') {
        throw new TemplateError(
          `action "${action.name}" declares no grants(params): the template cannot tell which resources its permissions need`,
          origin,
        );
      }
      let granted: PermissionGrant[];
      try {
        granted = action.grants(step.params);
      } catch (error) {
        throw new TemplateError(`action "${action.name}" failed to list its grants for step "${step.id}"`, {
          ...origin,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      for (const grant of granted) checkGrant(grant, action.permissions, origin);
      grants.push(...granted);
    }
  }
  return grants;
};

/** The IAM actions the enabled playbooks' steps are granted, sorted and without repeats. */
export const actionPermissions = (playbooks: Playbook[], registry: ActionRegistry<unknown>): string[] =>
  [...new Set(playbookGrants(playbooks, registry).flatMap((grant) => grant.actions))].sort();

/** The actions these grants leave on `"*"` (each one IAM scopes to no resource), sorted. */
export const wildcardActions = (grants: PermissionGrant[]): string[] =>
  [
    ...new Set(grants.filter((grant) => grant.resources.includes('*')).flatMap((grant) => grant.actions)),
  ].sort();

type Conditions = NonNullable<PermissionGrant['conditions']>;

/** Conditions with operators, keys and values sorted, so equal blocks compare equal. */
const canonical = (conditions: Conditions | undefined): Conditions | undefined => {
  if (!conditions || Object.keys(conditions).length === 0) return undefined;
  return Object.fromEntries(
    Object.keys(conditions)
      .sort()
      .map((operator) => {
        const block = conditions[operator]!;
        return [
          operator,
          Object.fromEntries(
            Object.keys(block)
              .sort()
              .map((key) => {
                const value = block[key]!;
                return [key, Array.isArray(value) ? [...new Set(value)].sort() : value];
              }),
          ),
        ];
      }),
  );
};

const pascal = (text: string): string =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');

// What a resource is called when its ARN has no type before the name.
const NAMED_BY_SERVICE: Record<string, string> = { s3: 'Bucket', sns: 'Topic', sqs: 'Queue' };

/** `arn:{partition}:ec2:{region}:{account}:security-group/*` -> `SecurityGroup`, for statement ids. */
const resourceKind = (resource: string): string => {
  if (resource === NOTIFICATION_TOPIC) return 'NotificationTopic';
  const parts = resource.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return 'Resource';
  const service = parts[2]!;
  const rest = parts.slice(5).join(':');
  const [first = ''] = rest.split(/[:/]/);
  if (first === rest) return NAMED_BY_SERVICE[service] ?? 'Resource';
  if (service === 's3') return 'Object';
  return pascal(first) || 'Resource';
};

/**
 * A readable, stable statement id: the services, `On` the kinds of resource, `If` the condition keys,
 * e.g. `IamOnRoleIfResourceAccount`; `NoResourceLevelPermissions` for the statement on `"*"`.
 */
const statementId = (actions: string[], resources: string[], conditions: Conditions | undefined): string => {
  const keys = [
    ...new Set(
      Object.values(conditions ?? {}).flatMap((block) =>
        Object.keys(block).map((key) => key.slice(key.indexOf(':') + 1)),
      ),
    ),
  ].sort();
  const suffix = keys.length > 0 ? `If${keys.map(pascal).join('')}` : '';
  if (resources.includes('*')) return `NoResourceLevelPermissions${suffix}`;
  const services = [...new Set(actions.map((action) => action.split(':')[0]!))].sort().map(pascal).join('');
  const kinds = [...new Set(resources.map(resourceKind))].sort().join('');
  return `${services}On${kinds}${suffix}`;
};

const renderConditions = (conditions: Conditions): PolicyStatement['Condition'] =>
  Object.fromEntries(
    Object.entries(conditions).map(([operator, block]) => [
      operator,
      Object.fromEntries(
        Object.entries(block).map(([key, value]) => [
          key,
          Array.isArray(value) ? value.map(renderResource) : renderResource(value),
        ]),
      ),
    ]),
  );

export interface AllowStatementOptions {
  /** The template condition under which the notification topic is set. */
  topicCondition: string;
  /** What stands for the topic: `{ Ref: 'NotificationTopicArn' }`. */
  topic: unknown;
  /**
   * Merge on resources alone and leave conditions out (but `iam:PassRole`'s): a permissions
   * boundary's form, which caps actions and resources (the identity policy keeps the conditions)
   * within IAM's 6,144-character limit for managed policies.
   */
  withoutConditions?: boolean;
}

/**
 * Allow statements from grants: resources rendered for the stack, `{notification-topic}` as the topic
 * parameter in a statement of its own that exists only while a topic is set (so an empty topic drops
 * the grant instead of writing an invalid resource). Grants with the same resources and conditions
 * merge into one statement, actions sorted; statements come sorted by id.
 */
export const allowStatements = (grants: PermissionGrant[], options: AllowStatementOptions): PolicyEntry[] => {
  const merged = new Map<string, { resources: string[]; conditions?: Conditions; actions: Set<string> }>();
  const add = (resources: string[], conditions: Conditions | undefined, actions: string[]) => {
    const sorted = [...new Set(resources)].sort();
    const key = JSON.stringify([sorted, conditions ?? null]);
    const entry = merged.get(key) ?? {
      resources: sorted,
      ...(conditions ? { conditions } : {}),
      actions: new Set<string>(),
    };
    for (const action of actions) entry.actions.add(action);
    merged.set(key, entry);
  };
  for (const grant of grants) {
    // iam:PassRole keeps its conditions (iam:PassedToService) even in a boundary: it is how a role
    // hands its permissions to a service, so the boundary caps where it may go too.
    const keep = !options.withoutConditions || grant.actions.includes('iam:PassRole');
    const conditions = keep ? canonical(grant.conditions) : undefined;
    const plain = grant.resources.filter((resource) => resource !== NOTIFICATION_TOPIC);
    if (plain.length > 0) add(plain.includes('*') ? ['*'] : plain, conditions, grant.actions);
    if (plain.length < grant.resources.length) add([NOTIFICATION_TOPIC], conditions, grant.actions);
  }

  // Sorted by id, then by resources and conditions: the same grants give the same statements.
  const drafts = [...merged.entries()]
    .map(([key, entry]) => {
      const actions = [...entry.actions].sort();
      return { ...entry, key, actions, sid: statementId(actions, entry.resources, entry.conditions) };
    })
    .sort((a, b) => (a.sid === b.sid ? (a.key < b.key ? -1 : 1) : a.sid < b.sid ? -1 : 1));
  const seen = new Map<string, number>();
  return drafts.map((draft) => {
    const count = (seen.get(draft.sid) ?? 0) + 1;
    seen.set(draft.sid, count);
    const topic = draft.resources[0] === NOTIFICATION_TOPIC;
    const resources = topic ? [options.topic] : draft.resources.map(renderResource);
    const statement: PolicyStatement = {
      Sid: count === 1 ? draft.sid : `${draft.sid}${count}`,
      Effect: 'Allow',
      Action: draft.actions,
      Resource: resources.length === 1 ? resources[0] : resources,
      ...(draft.conditions ? { Condition: renderConditions(draft.conditions) } : {}),
    };
    return topic ? (when(options.topicCondition, statement) as PolicyEntry) : statement;
  });
};

/** The statement itself, whether or not a condition guards it. */
export const statementOf = (entry: PolicyEntry): PolicyStatement =>
  'Fn::If' in entry ? entry['Fn::If'][1] : entry;

/**
 * A boundary's document: its statements without ids. IAM needs no Sid, and a boundary that caps every
 * action of every playbook has none of its 6,144 characters to spare for them.
 */
export const boundaryDocument = (statements: PolicyEntry[]) => ({
  Version: '2012-10-17',
  Statement: statements.map((entry) => {
    const { Sid: _sid, ...rest } = statementOf(entry);
    return 'Fn::If' in entry ? when(entry['Fn::If'][0], rest) : rest;
  }),
});

/** An IAM policy document of these statements. */
export const policyDocument = (statements: PolicyEntry[]) => ({
  Version: '2012-10-17',
  Statement: statements,
});

/** Denies every IAM write on the ARN patterns of the `ProtectedPrincipals` parameter, when it has any. */
export const denyProtectedPrincipals = (): PolicyEntry =>
  when(
    'HasProtectedPrincipals',
    denyIamWrites('DenyIamWritesOnProtectedPrincipals', ref('ProtectedPrincipals')),
  ) as PolicyEntry;

/**
 * The grants of every action's inverse (`hasInverse(action.undo) ? action.undo.grants() : []`): what
 * undoing any step of these actions needs, reads included. Checked as a step's grants are, against the
 * inverse's own `permissions`; and every permission an inverse declares must be granted, so the undo
 * role can make each read and call its inverse makes. Actions without an inverse add nothing.
 */
export const inverseGrants = (
  actions: readonly Pick<ActionDefinition<Record<string, unknown>, unknown>, 'name' | 'undo'>[],
): PermissionGrant[] => {
  const grants: PermissionGrant[] = [];
  for (const action of [...actions].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!hasInverse(action.undo)) continue;
    const inverse = action.undo;
    const origin: Origin = { action: action.name, inverse: true };
    for (const permission of inverse.permissions) {
      if (permission.includes('*')) {
        throw new TemplateError(`${subjectOf(origin)} declares a wildcard permission "${permission}"`, {
          ...origin,
          permission,
        });
      }
    }
    let granted: PermissionGrant[];
    try {
      granted = inverse.grants();
    } catch (error) {
      throw new TemplateError(`${subjectOf(origin)} failed to list its grants`, {
        ...origin,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    for (const grant of granted) checkGrant(grant, inverse.permissions, origin);
    const ungranted = inverse.permissions.filter(
      (permission) => !granted.some((grant) => grant.actions.includes(permission)),
    );
    if (ungranted.length > 0) {
      throw new TemplateError(
        `${subjectOf(origin)} declares ${ungranted.join(', ')} but grants ${ungranted.length === 1 ? 'it' : 'them'} on no resource`,
        { ...origin, permissions: ungranted },
      );
    }
    grants.push(...granted);
  }
  return grants;
};

/**
 * The undo role's Allow statements: the inverses' grants of these actions (every action of the
 * registry, used by a playbook or not: history may hold steps of any of them), rendered and merged as
 * the function's are, `{region}` as `*`. The function's own role never gets them.
 */
export const undoRolePolicy = (
  actions: readonly Pick<ActionDefinition<Record<string, unknown>, unknown>, 'name' | 'undo'>[],
  options: AllowStatementOptions,
): PolicyEntry[] => allowStatements(inverseGrants(actions), options);

/** How a role's statements are spread over its policies, for a template's Metadata. */
export const PACKING_RULE =
  "Allow statements in managed policies of at most 6,144 characters each (IAM's limit, counted with every substitution at its longest: partition aws-us-gov, a 128-character stack name), filled first fit in statement order, at most 10 (IAM's default quota of managed policies per role); the denies in one inline policy, within the role's 10,240 characters of inline policy. A Deny applies whichever policy carries it.";

/** How a permissions boundary is made from the policy's grants, for a template's Metadata. */
export const BOUNDARY_RULE =
  "One managed policy of at most 6,144 characters: the policy's actions on the policy's resources, conditions left out (but iam:PassRole's), resources with the same actions in one statement. When that does not fit, services one at a time (most pairs first) get one statement of all their granted actions on all their granted resources: wider than the policy within a service, never beyond its granted actions and resources, no wildcard action.";

/** IAM's quotas a role's policies must keep (IAM and AWS STS quotas; white space is not counted). */
export const IAM_POLICY_LIMITS = {
  /** Characters of all of a role's inline policies together. */
  inlinePerRole: 10_240,
  /** Characters of one managed policy (a permissions boundary is one). */
  managedPolicy: 6_144,
  /** Managed policies attached to one role: the default quota (adjustable up to 20). */
  managedPoliciesPerRole: 10,
} as const;

/**
 * The longest text a substitution can put into a policy, in characters: the longest partition
 * (`aws-us-gov`), an account id, the longest region name, the longest stack name. Any other `Ref`,
 * `Fn::GetAtt` or `${Name}` counts `SUBSTITUTION_DEFAULT` unless the stack says otherwise.
 */
const PSEUDO_PARAMETER_LENGTHS: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::AccountId': 12,
  'AWS::Region': 14,
  'AWS::StackName': 128,
  'AWS::URLSuffix': 16,
};
const SUBSTITUTION_DEFAULT = 80;

/** How long a stack's own substitutions can be: by parameter name, or `Resource.Attribute`. */
export type SubstitutionLengths = Readonly<Record<string, number>>;

const NO_VALUE_REF = 'AWS::NoValue';
const isNoValue = (node: unknown): boolean =>
  typeof node === 'object' && node !== null && (node as { Ref?: unknown }).Ref === NO_VALUE_REF;

/**
 * The node as the longest text CloudFormation could make of it: every substitution the longest it can
 * be, each `Fn::If` its longer branch (a branch of `AWS::NoValue` drops the item).
 */
const longest = (node: unknown, lengths: SubstitutionLengths): unknown => {
  if (Array.isArray(node))
    return node.filter((item) => !isNoValue(item)).map((item) => longest(item, lengths));
  if (typeof node !== 'object' || node === null) return node;
  const object = node as Record<string, unknown>;
  const lengthOf = (name: string) => lengths[name] ?? PSEUDO_PARAMETER_LENGTHS[name] ?? SUBSTITUTION_DEFAULT;
  if ('Ref' in object) return 'x'.repeat(lengthOf(String(object.Ref)));
  if ('Fn::GetAtt' in object) return 'x'.repeat(lengthOf((object['Fn::GetAtt'] as string[]).join('.')));
  if ('Fn::Sub' in object) {
    const value = object['Fn::Sub'];
    const text = Array.isArray(value) ? String(value[0]) : String(value);
    // `${!Literal}` is written `${Literal}`; every other `${Name}` is a substitution.
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) =>
      literal ? `\${${name}}` : 'x'.repeat(lengthOf(name)),
    );
  }
  if ('Fn::Join' in object) {
    const [separator, items] = object['Fn::Join'] as [string, unknown];
    const parts = Array.isArray(items)
      ? items.map((item) => longest(item, lengths))
      : [longest(items, lengths)];
    return parts.map(String).join(separator);
  }
  if ('Fn::If' in object) {
    const [, whenTrue, whenFalse] = object['Fn::If'] as [string, unknown, unknown];
    const options = [whenTrue, whenFalse]
      .filter((branch) => !isNoValue(branch))
      .map((branch) => longest(branch, lengths));
    return options.sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0] ?? '';
  }
  if (Object.keys(object).length === 1 && Object.keys(object)[0]!.startsWith('Fn::')) {
    return 'x'.repeat(SUBSTITUTION_DEFAULT);
  }
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, longest(value, lengths)]));
};

/**
 * The size IAM counts for a policy document (its JSON without white space) once CloudFormation has
 * substituted everything in it, at the longest the substitutions can be: a template measured this
 * way fits in every partition, account and stack name.
 */
export const policySize = (document: unknown, lengths: SubstitutionLengths = {}): number =>
  JSON.stringify(longest(document, lengths)).length;

/**
 * The statement split by its actions into the fewest parts that each fit `limit` alone (`<Sid>Part1`,
 * `<Sid>Part2`, ...), the actions kept in order; the statement itself when it fits.
 */
const splitToFit = (entry: PolicyEntry, limit: number, lengths: SubstitutionLengths): PolicyEntry[] => {
  const fits = (entries: PolicyEntry[]) => policySize(policyDocument(entries), lengths) <= limit;
  if (fits([entry])) return [entry];
  const statement = statementOf(entry);
  const guard = 'Fn::If' in entry ? entry['Fn::If'][0] : undefined;
  for (let parts = 2; parts <= statement.Action.length; parts += 1) {
    const size = Math.ceil(statement.Action.length / parts);
    const pieces = Array.from({ length: parts }, (_, index) => {
      const piece: PolicyStatement = {
        ...statement,
        Sid: `${statement.Sid}Part${index + 1}`,
        Action: statement.Action.slice(index * size, (index + 1) * size),
      };
      return guard ? (when(guard, piece) as PolicyEntry) : piece;
    }).filter((piece) => statementOf(piece).Action.length > 0);
    if (pieces.every((piece) => fits([piece]))) return pieces;
  }
  throw new TemplateError(
    `statement ${statement.Sid} does not fit a managed policy's ${limit} characters even with one action`,
    { sid: statement.Sid, limit },
  );
};

const isConditional = (entry: PolicyEntry): boolean => 'Fn::If' in entry;

/**
 * Allow statements packed into as few policy documents as first fit gives, each at most `limit`
 * characters as `policySize` counts them: statements in the order given, each into the first
 * document it still fits, a new document when none has room; a statement too big alone is split by
 * its actions. Every document keeps a statement no condition removes: CloudFormation refuses a
 * managed policy whose conditions leave it no statement (a single-account stack drops the member
 * role's AssumeRole). The same statements always give the same documents.
 */
export const packStatements = (
  entries: PolicyEntry[],
  limit: number,
  lengths: SubstitutionLengths = {},
): PolicyEntry[][] => {
  const fits = (document: PolicyEntry[]) => policySize(policyDocument(document), lengths) <= limit;
  const documents: PolicyEntry[][] = [];
  for (const entry of entries.flatMap((item) => splitToFit(item, limit, lengths))) {
    const room = documents.find((document) => fits([...document, entry]));
    if (room) room.push(entry);
    else documents.push([entry]);
  }
  for (const document of documents.filter((candidate) => candidate.every(isConditional))) {
    // The last unconditional statement of a document that keeps another one, and fits here.
    const donor = documents
      .filter((other) => other.filter((entry) => !isConditional(entry)).length > 1)
      .flatMap((other) => other.filter((entry) => !isConditional(entry)).map((entry) => ({ other, entry })))
      .reverse()
      .find(({ entry }) => fits([entry, ...document]));
    if (donor === undefined) {
      throw new TemplateError(
        'a managed policy would hold only conditional statements, and be empty when their conditions are false',
        { statements: document.length },
      );
    }
    donor.other.splice(donor.other.indexOf(donor.entry), 1);
    document.unshift(donor.entry);
  }
  return documents;
};

export interface RolePolicyOptions {
  /** The role's logical id. */
  role: string;
  /** Logical id of the inline policy (the denies) and its `PolicyName`. */
  denyPolicy: { id: string; name: string };
  /** Logical id of the managed policies: `<prefix>1`, `<prefix>2`, ... */
  managedPrefix: string;
  /** Extra properties of the n-th managed policy (1-based): a fixed name, a path. */
  managedProperties?: (index: number) => Record<string, unknown>;
  description: string;
  allows: PolicyEntry[];
  /** The denies, given the Refs of the role's managed policies. */
  denies: (managed: unknown[]) => PolicyEntry[];
  lengths?: SubstitutionLengths;
  /** What the role is, for errors: `the function's role`. */
  subject: string;
}

/**
 * A role's policies: its Allow statements packed into `AWS::IAM::ManagedPolicy` resources of at most
 * 6,144 characters each, attached by their `Roles` (which keeps the role's ARN out of a circular
 * dependency), and its denies in one `AWS::IAM::Policy` (a Deny applies whichever policy carries it),
 * within the role's 10,240 characters of inline policy. More managed policies than IAM attaches to a
 * role by default (10) is an error.
 */
export const rolePolicyResources = (options: RolePolicyOptions): Record<string, CloudFormationResource> => {
  const lengths = options.lengths ?? {};
  const documents = packStatements(options.allows, IAM_POLICY_LIMITS.managedPolicy, lengths);
  if (documents.length > IAM_POLICY_LIMITS.managedPoliciesPerRole) {
    throw new TemplateError(
      `${options.subject} needs ${documents.length} managed policies of at most ${IAM_POLICY_LIMITS.managedPolicy} characters for its permissions, more than the ${IAM_POLICY_LIMITS.managedPoliciesPerRole} IAM attaches to a role by default: enable fewer playbooks or actions, or split them between deployments`,
      {
        role: options.role,
        managedPolicies: documents.length,
        limit: IAM_POLICY_LIMITS.managedPoliciesPerRole,
      },
    );
  }
  const ids = documents.map((_, index) => `${options.managedPrefix}${index + 1}`);
  const denies = policyDocument(options.denies(ids.map(ref)));
  const denySize = policySize(denies, lengths);
  if (denySize > IAM_POLICY_LIMITS.inlinePerRole) {
    throw new TemplateError(
      `${options.subject}'s denies take ${denySize} characters, over IAM's ${IAM_POLICY_LIMITS.inlinePerRole} for a role's inline policies`,
      { role: options.role, size: denySize, limit: IAM_POLICY_LIMITS.inlinePerRole },
    );
  }
  return {
    [options.denyPolicy.id]: {
      Type: 'AWS::IAM::Policy',
      Properties: { PolicyName: options.denyPolicy.name, Roles: [ref(options.role)], PolicyDocument: denies },
    },
    ...Object.fromEntries(
      documents.map((statements, index) => [
        ids[index]!,
        {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            ...options.managedProperties?.(index + 1),
            // No count in it: a description changes only by replacing the policy.
            Description: `${options.description} (${index + 1})`,
            Roles: [ref(options.role)],
            PolicyDocument: policyDocument(statements),
          },
        },
      ]),
    ),
  };
};

/** Statement ids made unique in order: the second `S3OnObject` becomes `S3OnObject2`. */
const numbered = <T extends { sid: string }>(drafts: T[]): (T & { unique: string })[] => {
  const seen = new Map<string, number>();
  return drafts.map((draft) => {
    const count = (seen.get(draft.sid) ?? 0) + 1;
    seen.set(draft.sid, count);
    return { ...draft, unique: count === 1 ? draft.sid : `${draft.sid}${count}` };
  });
};

const serviceOf = (action: string): string => action.split(':')[0]!;

/**
 * (action, resource) pairs as statements, exactly: each resource's actions, and resources with the
 * same actions in one statement. With `merged` services, each such service instead gets one
 * statement: every action of the service the pairs hold, on every resource they hold it on.
 */
/** A resource pattern's glob (`*` and `?`) as a regular expression over resource patterns. */
const globOf = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/**
 * The resources no other one of the list already covers (`instance-profile/riposte-quarantine` under
 * `instance-profile/*`): for one statement's actions, the same resources in fewer characters.
 */
const uncovered = (resources: string[]): string[] =>
  resources.filter(
    (resource) =>
      !resources.some((other) => other !== resource && other.includes('*') && globOf(other).test(resource)),
  );

const pairStatements = (
  pairs: [string, string][],
  merged: ReadonlySet<string>,
  together = false,
): PolicyStatement[] => {
  const drafts: { actions: string[]; resources: string[]; service?: string }[] = [];
  const byResource = new Map<string, Set<string>>();
  const byService = new Map<string, { actions: Set<string>; resources: Set<string> }>();
  for (const [action, resource] of pairs) {
    const service = serviceOf(action);
    if (merged.has(service)) {
      const key = together ? 'services' : service;
      const entry = byService.get(key) ?? { actions: new Set<string>(), resources: new Set<string>() };
      entry.actions.add(action);
      entry.resources.add(resource);
      byService.set(key, entry);
    } else {
      byResource.set(resource, (byResource.get(resource) ?? new Set<string>()).add(action));
    }
  }
  const byActions = new Map<string, { actions: string[]; resources: string[] }>();
  for (const [resource, actions] of byResource) {
    const sorted = [...actions].sort();
    const key = JSON.stringify(sorted);
    const entry = byActions.get(key) ?? { actions: sorted, resources: [] };
    entry.resources.push(resource);
    byActions.set(key, entry);
  }
  drafts.push(...byActions.values());
  for (const [service, entry] of byService) {
    drafts.push({ actions: [...entry.actions].sort(), resources: uncovered([...entry.resources]), service });
  }
  const sorted = drafts
    .map((draft) => {
      const resources = [...draft.resources].sort();
      return {
        actions: draft.actions,
        resources,
        key: JSON.stringify([resources, draft.actions]),
        // A service's one statement is named after the service alone: `Ec2`, `S3`.
        sid: draft.service ? pascal(draft.service) : statementId(draft.actions, resources, undefined),
      };
    })
    .sort((a, b) => (a.sid === b.sid ? (a.key < b.key ? -1 : 1) : a.sid < b.sid ? -1 : 1));
  return numbered(sorted).map((draft) => {
    const resources = draft.resources.map(renderResource);
    return {
      Sid: draft.unique,
      Effect: 'Allow',
      Action: draft.actions,
      Resource: resources.length === 1 ? resources[0] : resources,
    };
  });
};

/**
 * A permissions boundary's Allow statements for these grants: the policy's actions on the policy's
 * resources, small enough that `fits` holds. The rule, soundest first:
 *
 * 1. Exact: conditions left out (the policy keeps them), but those of grants with `iam:PassRole`,
 *    which keep their own statements, as do the actions on `"*"` (IAM scopes them to no resource) and
 *    the notification topic's; the other (action, resource) pairs regrouped, resources with the same
 *    actions in one statement. The boundary then allows exactly the pairs the policy allows.
 * 2. While that does not fit, services one at a time (most pairs first, then by name) get one
 *    statement each: every action of the service the policy grants, on every resource it grants any
 *    of them on (less those another of them already covers). Wider than the policy within the
 *    service (an action on another action's resource), never beyond the service's granted actions
 *    and resources: no wildcard action, no resource the policy does not name, nothing added on `"*"`.
 * 3. If it still does not fit, the merged services share one statement: an action of one service
 *    never matches another service's resource ARN, so this allows nothing more.
 *
 * The same grants always give the same statements. Whether the result fits is the caller's to check.
 */
export const boundaryStatements = (
  grants: PermissionGrant[],
  options: AllowStatementOptions,
  fits: (statements: PolicyEntry[]) => boolean,
): PolicyEntry[] => {
  const kept: PermissionGrant[] = [];
  const pairs = new Map<string, [string, string]>();
  for (const grant of grants) {
    const plain = grant.resources.filter((resource) => resource !== NOTIFICATION_TOPIC);
    const passes = grant.actions.includes('iam:PassRole');
    if (passes || plain.includes('*') || plain.length < grant.resources.length) {
      // Its own statements, as the policy has them: on "*", to the topic, or with PassRole's conditions.
      const own = passes || plain.includes('*') ? grant.resources : [NOTIFICATION_TOPIC];
      kept.push({ ...grant, resources: own });
      if (passes || plain.includes('*')) continue;
    }
    for (const action of grant.actions) {
      for (const resource of plain) pairs.set(`${action} ${resource}`, [action, resource]);
    }
  }
  const ownStatements = allowStatements(kept, { ...options, withoutConditions: true });
  const sortedPairs = [...pairs.values()].sort((a, b) => (a.join(' ') < b.join(' ') ? -1 : 1));
  const counts = new Map<string, number>();
  for (const [action] of sortedPairs) counts.set(serviceOf(action), (counts.get(serviceOf(action)) ?? 0) + 1);
  const order = [...counts.entries()]
    .sort((a, b) => (a[1] === b[1] ? (a[0] < b[0] ? -1 : 1) : b[1] - a[1]))
    .map(([service]) => service);

  const merged = new Set<string>();
  let together = false;
  const draft = () => {
    const statements: PolicyEntry[] = [...ownStatements, ...pairStatements(sortedPairs, merged, together)];
    statements.sort((a, b) => (statementOf(a).Sid < statementOf(b).Sid ? -1 : 1));
    // Ids unique across both kinds: a PassRole grant without conditions could share one.
    return numbered(statements.map((entry) => ({ entry, sid: statementOf(entry).Sid }))).map(
      ({ entry, unique: Sid }) =>
        'Fn::If' in entry
          ? (when(entry['Fn::If'][0], { ...entry['Fn::If'][1], Sid }) as PolicyEntry)
          : { ...entry, Sid },
    );
  };
  let statements = draft();
  for (const service of order) {
    if (fits(statements)) break;
    merged.add(service);
    statements = draft();
  }
  if (!fits(statements)) {
    // Last, the merged services share one statement: no wider in effect, since an action of one
    // service never matches another service's resource ARN.
    together = true;
    statements = draft();
  }
  return statements;
};

const matches = (pattern: string, action: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action);

/**
 * A boundary's denies, each narrowed to the actions the boundary allows at all (the rest it already
 * refuses, by allowing them nowhere); a deny left with no action goes. Same effect, fewer characters.
 */
export const narrowDenies = (denies: PolicyEntry[], allows: PolicyEntry[]): PolicyEntry[] => {
  const allowed = allows.map(statementOf).flatMap((statement) => statement.Action);
  return denies.flatMap((entry) => {
    const statement = statementOf(entry);
    const Action = statement.Action.filter((pattern) => allowed.some((action) => matches(pattern, action)));
    if (Action.length === 0) return [];
    const narrowed = { ...statement, Action };
    return ['Fn::If' in entry ? (when(entry['Fn::If'][0], narrowed) as PolicyEntry) : narrowed];
  });
};
