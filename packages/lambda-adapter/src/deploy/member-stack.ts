import type { ActionRegistry, PermissionGrant, Playbook } from '@riposte/core';
import { TemplateError } from '../errors.js';
import {
  allowStatements,
  BOUNDARY_RULE,
  boundaryDocument,
  boundaryStatements,
  denyIamWrites,
  denyProtectedPrincipals,
  IAM_POLICY_LIMITS,
  IAM_WRITE_ACTIONS,
  NO_RESOURCE_LEVEL_REASON,
  narrowDenies,
  PACKING_RULE,
  type PolicyEntry,
  PROTECTED_ROLE_PATTERNS,
  playbookGrants,
  policySize,
  protectedRoleArns,
  rolePolicyResources,
  type SubstitutionLengths,
  undoRolePolicy,
  wildcardActions,
} from './permissions.js';
import {
  type CloudFormationTemplate,
  describePlaybooks,
  EXTERNAL_ID_PARAMETER_PATTERN,
  enabledOf,
  getAtt,
  listNotEmpty,
  notEmpty,
  PRINCIPAL_ARN_PARAMETER_PATTERN,
  ref,
  sub,
  TOPIC_PARAMETER_PATTERN,
  when,
} from './shared.js';

export interface MemberTemplateOptions {
  /** The playbooks the function runs: the member role gets what their actions are granted. */
  playbooks: Playbook[];
  registry: ActionRegistry<unknown>;
  /**
   * Default of the role's name, with its path if any (`security/riposte-member`): the function
   * stack's `MemberRoleName`. Default `riposte-member`.
   */
  memberRoleName?: string;
  /** Default of the `UndoRoleName` parameter: the role people assume to undo a response. Default `RiposteUndo`. */
  undoRoleName?: string;
}

export const DEFAULT_MEMBER_ROLE_NAME = 'riposte-member';
export const DEFAULT_UNDO_ROLE_NAME = 'RiposteUndo';

const ROLE_WITH_PATH = /^((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** `security/riposte-member` -> path `/security/`, name `riposte-member`, as IAM takes them. */
export const splitRoleName = (roleName: string): { path: string; name: string } => {
  const match = ROLE_WITH_PATH.exec(roleName);
  if (!match || roleName.startsWith('arn:')) {
    throw new TemplateError(`"${roleName}" is not an IAM role name (with an optional path)`, { roleName });
  }
  return { path: `/${match[1]}`, name: match[2]! };
};

/**
 * The verifier's second route: when the function's own detector (a GuardDuty administrator's) does not
 * hold a member's finding, it asks the member's detector through this role (SECURITY.md, step 3).
 * Read-only, and IAM scopes neither action to a resource.
 */
const MEMBER_GRANTS: PermissionGrant[] = [
  { actions: ['guardduty:GetFindings', 'guardduty:ListDetectors'], resources: ['*'] },
];

const OWN_ROLE_ARN = 'arn:{AWS::Partition}:iam::{AWS::AccountId}:role{MemberRolePath}{MemberRoleName}';
const BOUNDARY_ARN =
  'arn:{AWS::Partition}:iam::{AWS::AccountId}:policy{MemberRolePath}{MemberRoleName}-boundary';
const UNDO_ROLE_ARN = 'arn:{AWS::Partition}:iam::{AWS::AccountId}:role/{UndoRoleName}';
/** The member role's and the undo role's managed policies, `<role name>-permissions-<n>`, by name. */
const MEMBER_POLICIES_ARN =
  'arn:{AWS::Partition}:iam::{AWS::AccountId}:policy{MemberRolePath}{MemberRoleName}-permissions-*';
const UNDO_POLICIES_ARN = 'arn:{AWS::Partition}:iam::{AWS::AccountId}:policy/{UndoRoleName}-permissions-*';

/**
 * The longest the member stack's own substitutions in its policies can be (the rest count as
 * `policySize` says): role names, a path, the topic ARN its pattern admits; up to 1,024 characters of
 * FunctionRoleArn ARNs and of ProtectedPrincipals patterns.
 */
const SUBSTITUTION_LENGTHS: SubstitutionLengths = {
  MemberRoleName: 64,
  UndoRoleName: 64,
  MemberRolePath: 128,
  NotificationTopicArn: 80,
  FunctionRoleArn: 128,
  ProtectedPrincipals: 128,
};

/**
 * The function's account, from the first `FunctionRoleArn` (`arn:<partition>:iam::<account>:role/...`):
 * the undo role trusts that account, whose own IAM policies then decide who may assume it.
 */
const FUNCTION_ACCOUNT_ROOT = {
  'Fn::Sub': [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
    'arn:${AWS::Partition}:iam::${FunctionAccount}:root',
    {
      FunctionAccount: {
        'Fn::Select': [4, { 'Fn::Split': [':', { 'Fn::Select': [0, ref('FunctionRoleArn')] }] }],
      },
    },
  ],
};

/**
 * The member role, its boundary, the undo role, both roles' managed policies, the function's roles,
 * the built-in protected roles, and the parameter's: no role of this stack may change another's
 * permissions (the undo role passes roles to EC2, so it may pass neither these nor the protected roles).
 */
const denyStatements = (own: unknown[]): PolicyEntry[] => [
  denyIamWrites('DenyIamWritesOnProtectedRoles', [
    ...own,
    sub(UNDO_ROLE_ARN),
    sub(MEMBER_POLICIES_ARN),
    sub(UNDO_POLICIES_ARN),
    ...protectedRoleArns(),
  ]),
  // Where the function's account also holds a member role, that role must not reach the function's.
  denyIamWrites('DenyIamWritesOnFunctionRoles', ref('FunctionRoleArn')),
  denyProtectedPrincipals(),
];

/**
 * The member-account stack: the role the function assumes in a finding's account. It trusts only the
 * function's role (`FunctionRoleArn`), with `sts:ExternalId` when `ExternalId` is set, and holds what
 * the playbooks' actions are granted in that account and the verifier's read of the member's own
 * GuardDuty detector (never the function's own logs, table, queue or STS), in managed policies
 * (`<role name>-permissions-<n>`) beside an inline policy of denies, capped by a boundary with the
 * same actions and resources and the same denies. Beside it, the undo role (`UndoRoleName`): people of the function's
 * account assume it to undo a response here (`riposte undo`); it trusts that account (the account of
 * `FunctionRoleArn`), so that account's IAM policies decide who may, and holds what every action's
 * inverse is granted: the function's role never gets those. It names no account, so one template
 * deploys everywhere as a service-managed StackSet; its roles and boundary have fixed names, so
 * deploying needs CAPABILITY_NAMED_IAM.
 */
export const buildMemberTemplate = (options: MemberTemplateOptions): CloudFormationTemplate => {
  const enabled = enabledOf(options.playbooks);
  const role = splitRoleName(options.memberRoleName ?? DEFAULT_MEMBER_ROLE_NAME);
  const grants = [...playbookGrants(enabled, options.registry), ...MEMBER_GRANTS];
  const topic = { topicCondition: 'HasNotificationTopic', topic: ref('NotificationTopicArn') };
  const allows = allowStatements(grants, topic);
  const boundaryOf = (statements: PolicyEntry[]) =>
    boundaryDocument([
      ...statements,
      ...narrowDenies(denyStatements([sub(OWN_ROLE_ARN), sub(BOUNDARY_ARN)]), statements),
    ]);
  const boundarySize = (statements: PolicyEntry[]) =>
    policySize(boundaryOf(statements), SUBSTITUTION_LENGTHS);
  const bounds = boundaryStatements(
    grants,
    topic,
    (statements) => boundarySize(statements) <= IAM_POLICY_LIMITS.managedPolicy,
  );
  if (boundarySize(bounds) > IAM_POLICY_LIMITS.managedPolicy) {
    throw new TemplateError(
      `the member role's permissions boundary takes ${boundarySize(bounds)} characters even with each service's actions merged, over IAM's ${IAM_POLICY_LIMITS.managedPolicy} for a managed policy: enable fewer playbooks or actions`,
      { size: boundarySize(bounds), limit: IAM_POLICY_LIMITS.managedPolicy },
    );
  }
  const undoRoleName = options.undoRoleName ?? DEFAULT_UNDO_ROLE_NAME;
  if (!ROLE_NAME.test(undoRoleName)) {
    throw new TemplateError(`"${undoRoleName}" is not an IAM role name (no path)`, {
      roleName: undoRoleName,
    });
  }
  const undoAllows = undoRolePolicy(options.registry.list(), topic);
  const memberPolicies = rolePolicyResources({
    role: 'MemberRole',
    denyPolicy: { id: 'MemberPolicy', name: 'riposte-member' },
    managedPrefix: 'MemberPermissions',
    managedProperties: (index) => ({
      ManagedPolicyName: sub(`{MemberRoleName}-permissions-${index}`),
      Path: ref('MemberRolePath'),
    }),
    description: "Riposte member role: what the playbooks' actions are granted in this account",
    allows,
    denies: () => denyStatements([getAtt('MemberRole', 'Arn'), ref('MemberBoundary')]),
    lengths: SUBSTITUTION_LENGTHS,
    subject: 'the member role',
  });
  const undoPolicies = rolePolicyResources({
    role: 'UndoRole',
    denyPolicy: { id: 'UndoPolicy', name: 'riposte-undo' },
    managedPrefix: 'UndoPermissions',
    managedProperties: (index) => ({ ManagedPolicyName: sub(`{UndoRoleName}-permissions-${index}`) }),
    description: "Riposte undo role: what every action's inverse is granted in this account",
    allows: undoAllows,
    denies: () => denyStatements([sub(OWN_ROLE_ARN), sub(BOUNDARY_ARN)]),
    lengths: SUBSTITUTION_LENGTHS,
    subject: 'the undo role',
  });

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: describePlaybooks('Riposte member role: acts on findings of this account with', enabled),
    Metadata: {
      'Riposte::Permissions': {
        Derivation:
          "Each Allow statement comes from grants(params) of the actions the enabled playbooks use, as in the function stack, minus what only the function does (logs, idempotency table, on-failure queue, STS, Organizations); guardduty:GetFindings and ListDetectors stay, for the verifier's member-role route (the finding read from this account's own detector when the administrator's does not hold it); {region} is \"*\" because the role acts in every region findings come from.",
        NoResourceLevelPermissions: {
          Statement: 'NoResourceLevelPermissions',
          Reason: NO_RESOURCE_LEVEL_REASON,
          Actions: wildcardActions(grants),
        },
        DenyIamWrites: {
          Actions: [...IAM_WRITE_ACTIONS],
          On: [
            'this role and its permissions boundary',
            "the function's roles (FunctionRoleArn), in case this account also holds the function",
            ...PROTECTED_ROLE_PATTERNS.map((pattern) => `role/${pattern} in every account`),
            'the ARN patterns of ProtectedPrincipals',
          ],
        },
        Undo: {
          Role: 'UndoRole (UndoRoleName)',
          Trust:
            "The account of FunctionRoleArn, as a whole: that account's IAM policies decide who may assume the role (allow sts:AssumeRole on it only to the people who may undo a response, with MFA if you require it there).",
          Derivation:
            "Each Allow statement comes from grants() of the inverse of every registered action that has one (reads included), rendered as the member role's are; the function's and the member role's policies never hold them. It is denied every IAM write on the protected roles, this stack's roles and ProtectedPrincipals, as the member role is.",
        },
        Packing: PACKING_RULE,
        Boundary: BOUNDARY_RULE,
        Capabilities:
          'CAPABILITY_NAMED_IAM: the roles, the boundary and the managed policies (<role name>-permissions-<n>) have fixed names.',
      },
    },
    Parameters: {
      FunctionRoleArn: {
        Type: 'CommaDelimitedList',
        AllowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$',
        Description:
          "The Riposte function's role ARN (the function stack's FunctionRoleArn output): the only principal this role trusts. Several, comma-separated, when one function runs per region.",
      },
      MemberRoleName: {
        Type: 'String',
        Default: role.name,
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
        Description: "The role's name, without its path: the function stack's MemberRoleName after the path.",
      },
      MemberRolePath: {
        Type: 'String',
        Default: role.path,
        AllowedPattern: '^/(?:[\\w+=,.@-]+/)*$',
        Description:
          "The role's path, / for none: security/riposte-member is path /security/, name riposte-member.",
      },
      ExternalId: {
        Type: 'String',
        Default: '',
        NoEcho: true,
        AllowedPattern: EXTERNAL_ID_PARAMETER_PATTERN,
        Description:
          "sts:ExternalId the function must present (the function stack's MemberExternalId); empty for none.",
      },
      NotificationTopicArn: {
        Type: 'String',
        Default: '',
        AllowedPattern: TOPIC_PARAMETER_PATTERN,
        Description:
          "The function stack's NotificationTopicArn: notify publishes there with this role for this account's findings (the topic's policy must let this account publish).",
      },
      ProtectedPrincipals: {
        Type: 'CommaDelimitedList',
        Default: '',
        AllowedPattern: PRINCIPAL_ARN_PARAMETER_PATTERN,
        Description:
          'IAM role and user ARN patterns this role is denied every IAM write on (as in the function stack).',
      },
      UndoRoleName: {
        Type: 'String',
        Default: undoRoleName,
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
        Description:
          "The undo role's name: people of the function's account assume it to undo a response in this account (riposte undo).",
      },
    },
    Conditions: {
      HasExternalId: notEmpty('ExternalId'),
      HasNotificationTopic: notEmpty('NotificationTopicArn'),
      HasProtectedPrincipals: listNotEmpty('ProtectedPrincipals'),
    },
    Resources: {
      MemberRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: ref('MemberRoleName'),
          Path: ref('MemberRolePath'),
          Description: 'Riposte: acts on GuardDuty findings of this account for the Riposte function',
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'TrustTheRiposteFunction',
                Effect: 'Allow',
                Principal: { AWS: ref('FunctionRoleArn') },
                Action: 'sts:AssumeRole',
                Condition: when('HasExternalId', { StringEquals: { 'sts:ExternalId': ref('ExternalId') } }),
              },
            ],
          },
          PermissionsBoundary: ref('MemberBoundary'),
        },
      },
      ...memberPolicies,
      MemberBoundary: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          ManagedPolicyName: sub('{MemberRoleName}-boundary'),
          Path: ref('MemberRolePath'),
          Description:
            "Riposte member role's permissions boundary: the actions and resources its policies allow (their conditions stay in the policies) and the same denies.",
          PolicyDocument: boundaryOf(bounds),
        },
      },
      UndoRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: ref('UndoRoleName'),
          Description:
            "Riposte: undoes a response in this account (riposte undo); assumed by people of the function's account",
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'TrustTheFunctionAccount',
                Effect: 'Allow',
                Principal: { AWS: FUNCTION_ACCOUNT_ROOT },
                Action: 'sts:AssumeRole',
              },
            ],
          },
        },
      },
      ...undoPolicies,
    },
    Outputs: {
      MemberRoleArn: { Value: getAtt('MemberRole', 'Arn') },
      MemberRoleName: { Value: ref('MemberRole') },
      UndoRoleArn: { Value: getAtt('UndoRole', 'Arn') },
    },
  };
};
