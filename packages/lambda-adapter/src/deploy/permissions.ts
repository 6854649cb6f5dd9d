import {
  type ActionDefinition,
  type ActionRegistry,
  hasInverse,
  type PermissionGrant,
  type Playbook,
} from '@riposte/core';
import { TemplateError } from '../errors.js';
import { type CloudFormationResource, enabledOf, getAtt, ref, sub, when } from './shared.js';

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
 * A role's policy, as a resource of its own rather than the role's inline Policies: it can then name
 * the role's ARN (and its boundary) in the stack's denies.
 */
export const rolePolicy = (
  policyName: string,
  role: string,
  boundary: string,
  allows: PolicyEntry[],
  denies: (own: unknown[]) => PolicyEntry[],
): CloudFormationResource => ({
  Type: 'AWS::IAM::Policy',
  Properties: {
    PolicyName: policyName,
    Roles: [ref(role)],
    PolicyDocument: policyDocument([...allows, ...denies([getAtt(role, 'Arn'), ref(boundary)])]),
  },
});

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
