import type { ActionRegistry, EngineMode, PermissionGrant, Playbook } from '@riposte/core';
import { TemplateError } from '../errors.js';
import { HISTORY_BY_DAY_INDEX, HISTORY_TABLE_SCHEMA } from '../history/schema.js';
import { findingEventPattern, securityHubEventPattern } from './event-patterns.js';
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
  NOTIFICATION_TOPIC,
  narrowDenies,
  PACKING_RULE,
  type PolicyEntry,
  PROTECTED_ROLE_PATTERNS,
  playbookGrants,
  policySize,
  protectedRoleArns,
  rolePolicyResources,
  type SubstitutionLengths,
  statementOf,
  wildcardActions,
} from './permissions.js';
import {
  type CloudFormationResource,
  type CloudFormationTemplate,
  condition,
  describePlaybooks,
  EXTERNAL_ID_PARAMETER_PATTERN,
  enabledOf,
  getAtt,
  listNotEmpty,
  NO_VALUE,
  notEmpty,
  PRINCIPAL_ARN_PARAMETER_PATTERN,
  ref,
  sub,
  TOPIC_PARAMETER_PATTERN,
  when,
} from './shared.js';

export interface TemplateOptions {
  /** The playbooks the function will run (the bundled ones): they decide the role and the rules. */
  playbooks: Playbook[];
  /** Where each action's IAM permissions and their resources (`grants(params)`) come from. */
  registry: ActionRegistry<unknown>;
  /** Default of the `MemberRoleName` parameter: the role assumed in member accounts. Default: none. */
  memberRoleName?: string;
  /** Default of the `Mode` parameter. Default `dry-run`. */
  mode?: EngineMode;
  /** Path of the `function.zip` `riposte build` writes, relative to where the template is packaged. */
  codeUri?: string;
  /** Default 512 MB. */
  memorySize?: number;
  /** Seconds; default sized from the number of steps the playbooks can run. */
  timeout?: number;
}

export const DEFAULT_CODE_URI = 'dist/riposte/function.zip';

/** What the function needs besides the playbooks' actions, in the same grant form. */
const FUNCTION_GRANTS: PermissionGrant[] = [
  // Every finding is re-read from GuardDuty before anything is done about it.
  { actions: ['guardduty:GetFindings', 'guardduty:ListDetectors'], resources: ['*'] },
  // Refused forgeries are reported to the notification topic.
  { actions: ['sns:Publish'], resources: [NOTIFICATION_TOPIC] },
];

/**
 * Seconds: each step is a few API calls, each with the SDK's retries and backoff; a finding may match
 * every playbook. 30 s of headroom (cold start, member-role assumption) plus 10 s a step, within 1-5 min.
 */
const timeoutFor = (playbooks: Playbook[]): number => {
  const steps = playbooks.reduce((total, playbook) => total + playbook.actions.length, 0);
  return Math.min(300, Math.max(60, 30 + 10 * steps));
};

const MEMBER_ROLE_ARN = 'arn:{AWS::Partition}:iam::*:role/{MemberRoleName}';

/**
 * The Security Hub custom actions people choose on a finding whose response holds steps for approval
 * (`riposte approve` does the same from a terminal). Security Hub sends the choice to EventBridge as a
 * `Security Hub Findings - Custom Action` event whose `resources` hold the action's ARN,
 * `arn:<partition>:securityhub:<region>:<account>:action/custom/<Id>`. Security Hub takes a name of at
 * most 20 characters and an Id of at most 20 letters and digits.
 */
export const APPROVAL_ACTIONS = {
  approve: {
    Id: 'RiposteApprove',
    Name: 'Riposte: approve',
    Description:
      "Riposte: run the steps of the selected findings' responses that wait for a person's approval (playbooks with approval: required).",
  },
  reject: {
    Id: 'RiposteReject',
    Name: 'Riposte: reject',
    Description:
      "Riposte: reject the steps of the selected findings' responses that wait for approval; they do not run, and the decision is recorded.",
  },
} as const;

/** Where the history writer puts each record in the HistoryBucket (its default prefix). */
const HISTORY_OBJECTS = 'arn:{AWS::Partition}:s3:::{HistoryBucket}/riposte/history/*';

/** Encryption at rest of a table: the KMS key when one is given, else DynamoDB's own. */
const tableEncryption = {
  SSEEnabled: true,
  SSEType: when('HasKmsKey', 'KMS'),
  KMSMasterKeyId: when('HasKmsKey', ref('KmsKeyArn')),
};

/** The function's own statements: membership checks, logs, table, queue, member roles, the KMS key. */
const functionStatements = (): PolicyEntry[] => [
  when('HasOrganization', {
    Sid: 'CheckOrganizationMembership',
    Effect: 'Allow',
    Action: ['organizations:DescribeAccount'],
    Resource: sub('arn:{AWS::Partition}:organizations::*:account/{OrganizationId}/*'),
  }) as PolicyEntry,
  {
    Sid: 'Logs',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: getAtt('RiposteLogGroup', 'Arn'),
  },
  {
    Sid: 'Idempotency',
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    Resource: getAtt('IdempotencyTable', 'Arn'),
  },
  {
    // The history store: records put, read back and listed by day; nothing deleted or scanned.
    Sid: 'History',
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
    Resource: [
      getAtt('HistoryTable', 'Arn'),
      {
        'Fn::Join': ['', [getAtt('HistoryTable', 'Arn'), `/index/${HISTORY_BY_DAY_INDEX}`]],
      },
    ],
  },
  when('HasHistoryBucket', {
    Sid: 'HistoryObjects',
    Effect: 'Allow',
    Action: ['s3:PutObject'],
    Resource: sub(HISTORY_OBJECTS),
  }) as PolicyEntry,
  {
    Sid: 'OnFailureDestination',
    Effect: 'Allow',
    Action: ['sqs:SendMessage'],
    Resource: getAtt('FailureQueue', 'Arn'),
  },
  when('AssumesInAllowedAccounts', {
    Sid: 'AssumeMemberRoleInAllowedAccounts',
    Effect: 'Allow',
    Action: ['sts:AssumeRole'],
    Resource: sub(MEMBER_ROLE_ARN),
    Condition: { StringEquals: { 'aws:ResourceAccount': ref('AllowedAccounts') } },
  }) as PolicyEntry,
  when('AssumesInOrganization', {
    Sid: 'AssumeMemberRoleInOrganization',
    Effect: 'Allow',
    Action: ['sts:AssumeRole'],
    Resource: sub(MEMBER_ROLE_ARN),
    Condition: { StringEquals: { 'aws:ResourceOrgID': ref('OrganizationId') } },
  }) as PolicyEntry,
  when('HasKmsKey', {
    // The on-failure queue and the table are encrypted with the key: sending and reading need it.
    Sid: 'UseKmsKeyThroughQueueAndTable',
    Effect: 'Allow',
    Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    Resource: ref('KmsKeyArn'),
    Condition: {
      StringEquals: {
        'kms:ViaService': [
          sub('sqs.{AWS::Region}.amazonaws.com'),
          sub('dynamodb.{AWS::Region}.amazonaws.com'),
        ],
      },
    },
  }) as PolicyEntry,
];

/**
 * The function's own statements as its boundary caps them: the same actions on the same resources,
 * without conditions (the policy keeps them), so both ways of assuming the member role are one.
 */
const functionBounds = (): PolicyEntry[] => {
  const bounds: PolicyEntry[] = [];
  for (const entry of functionStatements()) {
    const { Condition: _, ...statement } = statementOf(entry);
    if (statement.Sid === 'AssumeMemberRoleInOrganization') continue;
    if (statement.Sid === 'AssumeMemberRoleInAllowedAccounts') {
      bounds.push(when('HasMemberRole', { ...statement, Sid: 'AssumeMemberRole' }) as PolicyEntry);
    } else bounds.push('Fn::If' in entry ? (when(entry['Fn::If'][0], statement) as PolicyEntry) : statement);
  }
  return bounds;
};

/** The logical ids of the role's managed policies, `RipostePermissions1` on. */
const PERMISSIONS_PREFIX = 'RipostePermissions';

/**
 * The longest the function stack's own substitutions in its policies can be (the rest count as
 * `policySize` says): the topic ARN its pattern admits, a role name, an organization id, a bucket
 * name; up to 68 AllowedAccounts and 1,024 characters of ProtectedPrincipals patterns.
 */
const SUBSTITUTION_LENGTHS: SubstitutionLengths = {
  NotificationTopicArn: 80,
  MemberRoleName: 64,
  OrganizationId: 34,
  HistoryBucket: 63,
  KmsKeyArn: 80,
  AllowedAccounts: 1_024,
  ProtectedPrincipals: 128,
};

/** The function's own role, boundary and managed policies, by the shape of their generated names. */
export const OWN_IAM_PATTERN = 'arn:{AWS::Partition}:iam::{AWS::AccountId}:*/{AWS::StackName}-Riposte*';

/**
 * The roles and policies no IAM write may touch. `own` names the function's role, its boundary and
 * its managed policies (the identity policy can; the boundary cannot name the role it bounds nor the
 * policies attached to it, a circular dependency, so it relies on OWN_IAM_PATTERN, the shape of their
 * generated names).
 */
const denyStatements = (own: unknown[]): PolicyEntry[] => [
  denyIamWrites('DenyIamWritesOnProtectedRoles', [
    ...own,
    // CloudFormation names what it creates `<stack>-<logical id>-<suffix>`: the function's role
    // (RiposteRole), its boundary (RiposteBoundary) and its policies (RipostePermissions<n>), by that
    // shape, in one pattern for roles and policies alike, since the boundary has no characters to
    // spare (a bare `<stack>-*` would also cover, say, a quarantine role).
    sub(OWN_IAM_PATTERN),
    when('HasMemberRole', sub(MEMBER_ROLE_ARN)),
    ...protectedRoleArns(),
  ]),
  denyProtectedPrincipals(),
];

const ALARM_TARGET = { 'Fn::If': ['HasNotificationTopic', ref('NotificationTopicArn'), ref('AlarmTopic')] };

const alarm = (
  description: string,
  namespace: string,
  metric: string,
  dimension: { Name: string; Value: unknown },
  statistic: 'Sum' | 'Maximum',
): CloudFormationResource => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    AlarmDescription: description,
    Namespace: namespace,
    MetricName: metric,
    Dimensions: [dimension],
    Statistic: statistic,
    Period: 300,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [ALARM_TARGET],
  },
});

/** Encryption at rest of a queue: the KMS key when one is given, else SQS-managed keys. */
const queueEncryption = {
  KmsMasterKeyId: when('HasKmsKey', ref('KmsKeyArn')),
  SqsManagedSseEnabled: { 'Fn::If': ['HasKmsKey', NO_VALUE, true] },
};

export const VPC_PLACEMENT_NOTE =
  'Not in a VPC, deliberately: the function accepts no connection and only calls AWS APIs over TLS with SigV4. In a VPC it would need a NAT gateway or an interface endpoint per service (EC2, IAM, STS, GuardDuty, SNS, SQS, DynamoDB, Organizations, CloudTrail, S3, CloudWatch Logs) in every region it acts in, and webhooks need internet egress anyway: more cost and more ways to fail during an incident, with no data kept from the internet.';

/**
 * The metrics the function emits in CloudWatch Embedded Metric Format (`createResponseMetrics`), in
 * namespace `Riposte`, each with the dimension `service` (the function's name) and:
 * `FindingsHandled` by `Outcome`, `Steps` by `Action` and `Status` (also by `Status` alone),
 * `Refusals` by `Reason`, and `TimeToFirstContainment` and `ResponseDuration` (milliseconds) alone.
 */
const METRICS_NAMESPACE = 'Riposte';
const FUNCTION_NAME = '{RiposteFunction}';

/** Every series of `metric` in the namespace by `dimension`, whatever its values: one line each. */
const searchBy = (metric: string, dimension: string, id: string) => ({
  expression: `SEARCH('{${METRICS_NAMESPACE},${dimension},service} MetricName="${metric}" service="${FUNCTION_NAME}"', 'Sum', 300)`,
  id,
});

const percentiles = (metric: string, stats: [stat: string, label: string][]) =>
  stats.map(([stat, label]) => [METRICS_NAMESPACE, metric, 'service', FUNCTION_NAME, { stat, label }]);

const metricWidget = (
  position: { x: number; y: number },
  title: string,
  metrics: unknown[],
  extra: Record<string, unknown> = {},
) => ({
  type: 'metric',
  ...position,
  width: 12,
  height: 6,
  properties: { title, region: '{AWS::Region}', view: 'timeSeries', period: 300, metrics, ...extra },
});

/**
 * The dashboard body: what the function did with findings (by outcome, steps by status, refusals by
 * reason), how fast it contained (p50, p90, max from the report's start to the first successful
 * mutating call of a contain or revoke step), how long responses took, and the function's errors and
 * throttles. `Fn::Sub` puts in the region and the function's name.
 */
const dashboardBody = () =>
  sub(
    JSON.stringify({
      widgets: [
        metricWidget(
          { x: 0, y: 0 },
          'Findings handled, by outcome',
          [[searchBy('FindingsHandled', 'Outcome', 'outcomes')]],
          {
            stacked: true,
            stat: 'Sum',
          },
        ),
        metricWidget({ x: 12, y: 0 }, 'Refusals, by reason', [[searchBy('Refusals', 'Reason', 'reasons')]], {
          stacked: true,
          stat: 'Sum',
        }),
        metricWidget({ x: 0, y: 6 }, 'Steps, by status', [[searchBy('Steps', 'Status', 'statuses')]], {
          stacked: true,
          stat: 'Sum',
        }),
        metricWidget(
          { x: 12, y: 6 },
          'Time to first containment (ms)',
          percentiles('TimeToFirstContainment', [
            ['p50', 'p50'],
            ['p90', 'p90'],
            ['Maximum', 'max'],
          ]),
        ),
        metricWidget(
          { x: 0, y: 12 },
          'Response duration (ms)',
          percentiles('ResponseDuration', [
            ['p50', 'p50'],
            ['p90', 'p90'],
          ]),
        ),
        metricWidget(
          { x: 12, y: 12 },
          'Function errors and throttles',
          [
            ['AWS/Lambda', 'Errors', 'FunctionName', FUNCTION_NAME, { stat: 'Sum', label: 'errors' }],
            ['AWS/Lambda', 'Throttles', 'FunctionName', FUNCTION_NAME, { stat: 'Sum', label: 'throttles' }],
          ],
          { stat: 'Sum' },
        ),
      ],
    }),
  );

/** A rule on the default bus that invokes the function, and EventBridge's permission to, for that rule only. */
const invokingRule = (
  rule: string,
  condition: string | undefined,
  description: string,
  pattern: Record<string, unknown>,
): Record<string, CloudFormationResource> => ({
  [rule]: {
    Type: 'AWS::Events::Rule',
    ...(condition ? { Condition: condition } : {}),
    Properties: {
      Description: description,
      State: 'ENABLED',
      EventPattern: pattern,
      Targets: [{ Id: 'riposte', Arn: getAtt('RiposteFunction', 'Arn') }],
    },
  },
  [`${rule}Permission`]: {
    Type: 'AWS::Lambda::Permission',
    ...(condition ? { Condition: condition } : {}),
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: ref('RiposteFunction'),
      Principal: 'events.amazonaws.com',
      SourceArn: getAtt(rule, 'Arn'),
    },
  },
});

const actionTarget = (
  action: (typeof APPROVAL_ACTIONS)[keyof typeof APPROVAL_ACTIONS],
): CloudFormationResource => ({
  Type: 'AWS::SecurityHub::ActionTarget',
  Condition: 'IntegratesSecurityHub',
  Properties: { Name: action.Name, Id: action.Id, Description: action.Description },
});

/**
 * The deployable stack: the function (nodejs22.x, arm64); its role, whose Allow statements are derived
 * from the grants of the actions the playbooks use (resources, conditions) and packed into as many
 * managed policies as IAM's size limit needs (`RipostePermissions1`, ...), whose inline policy
 * (`RipostePolicy`) denies every IAM write on protected roles, and which is capped by a permissions
 * boundary with the same actions and resources and the same denies; the EventBridge rule
 * derived from the playbooks (and, with `SubscribeSecurityHub`, a Security Hub rule); the idempotency
 * table (TTL, point-in-time recovery); the history table (kept on deletion; optionally copied to an S3
 * bucket); with `SecurityHubIntegration`, the "Riposte: approve" and "Riposte: reject" custom actions
 * and their rule; the on-failure queue and its own dead-letter queue; alarms on failures, errors and
 * throttles; a dashboard of the response metrics; optional KMS encryption. SAM-compatible:
 * `sam deploy` and `aws cloudformation package/deploy` upload `Code` from `codeUri`.
 */
export const buildTemplate = (options: TemplateOptions): CloudFormationTemplate => {
  const enabled = enabledOf(options.playbooks);
  const grants = [...playbookGrants(enabled, options.registry), ...FUNCTION_GRANTS];
  const topic = { topicCondition: 'HasNotificationTopic', topic: ref('NotificationTopicArn') };
  const allows = [...allowStatements(grants, topic), ...functionStatements()];
  const boundaryOf = (statements: PolicyEntry[]) =>
    boundaryDocument([
      ...statements,
      ...functionBounds(),
      ...narrowDenies(denyStatements([]), [...statements, ...functionBounds()]),
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
      `the function's permissions boundary takes ${boundarySize(bounds)} characters even with each service's actions merged, over IAM's ${IAM_POLICY_LIMITS.managedPolicy} for a managed policy: enable fewer playbooks or actions`,
      { size: boundarySize(bounds), limit: IAM_POLICY_LIMITS.managedPolicy },
    );
  }
  const rolePolicies = rolePolicyResources({
    role: 'RiposteRole',
    denyPolicy: { id: 'RipostePolicy', name: 'riposte' },
    managedPrefix: PERMISSIONS_PREFIX,
    description: "Riposte: what its playbooks' actions are granted, and what the function itself needs",
    allows,
    denies: (managed) => denyStatements([getAtt('RiposteRole', 'Arn'), ref('RiposteBoundary'), ...managed]),
    lengths: SUBSTITUTION_LENGTHS,
    subject: "the function's role",
  });
  const policyIds = Object.keys(rolePolicies);

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: describePlaybooks('Riposte: remediates GuardDuty findings with', enabled),
    Metadata: {
      'Riposte::Permissions': {
        Derivation:
          'Each Allow statement comes from grants(params) of the actions the enabled playbooks use, merged where resources and conditions are equal; {region} is "*" because the one role acts in every region findings come from. The Allow statements are in the managed policies RipostePermissions1, 2, ...; the denies in the inline policy RipostePolicy.',
        NoResourceLevelPermissions: {
          Statement: 'NoResourceLevelPermissions',
          Reason: NO_RESOURCE_LEVEL_REASON,
          Actions: wildcardActions(grants),
        },
        DenyIamWrites: {
          Actions: [...IAM_WRITE_ACTIONS],
          On: [
            "the function's role, its permissions boundary and its managed policies",
            "the same by the shape of their generated names (*/<stack name>-Riposte*: role RiposteRole, policies RiposteBoundary and RipostePermissions<n>): the boundary cannot name the role it bounds nor the policies attached to it, so it relies on these; keep the stack name short (under about 30 characters) so CloudFormation's generated names keep it whole",
            'the member role (MemberRoleName) in every account',
            ...PROTECTED_ROLE_PATTERNS.map((pattern) => `role/${pattern} in every account`),
            'the ARN patterns of ProtectedPrincipals',
          ],
        },
        ProtectedPrincipals:
          'ARN patterns only: IAM can deny writes on ARNs, not on bare names. The function also refuses every ProtectedPrincipals entry, and principals tagged riposte:protected=true, at run time.',
        Undo: "No inverse permission: the role only responds. Undoing a response (riposte undo) runs with the member stack's UndoRole in a member account, and with people's own credentials in this one.",
        Packing: PACKING_RULE,
        Boundary: BOUNDARY_RULE,
        VpcPlacement: VPC_PLACEMENT_NOTE,
      },
    },
    Parameters: {
      Mode: {
        Type: 'String',
        AllowedValues: ['dry-run', 'enforce'],
        Default: options.mode ?? 'dry-run',
        Description: 'dry-run plans and reports without changing anything; enforce remediates.',
      },
      MemberRoleName: {
        Type: 'String',
        Default: options.memberRoleName ?? '',
        AllowedPattern: '^((?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64})?$',
        Description:
          'Role (name, with its path if any) assumed in member accounts for their findings; empty acts in this account only.',
      },
      MemberExternalId: {
        Type: 'String',
        Default: '',
        NoEcho: true,
        AllowedPattern: EXTERNAL_ID_PARAMETER_PATTERN,
        Description:
          "sts:ExternalId sent when assuming the member role (the member stack's ExternalId); empty sends none.",
      },
      NotificationTopicArn: {
        Type: 'String',
        Default: '',
        AllowedPattern: TOPIC_PARAMETER_PATTERN,
        Description:
          'SNS topic notify publishes to when a playbook names none, forgeries are reported to and alarms go to; empty for none (alarms then go to the AlarmTopic this stack creates).',
      },
      LogLevel: {
        Type: 'String',
        AllowedValues: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'],
        Default: 'info',
      },
      AllowedAccounts: {
        Type: 'CommaDelimitedList',
        Default: '',
        AllowedPattern: '^(\\d{12})?$',
        Description:
          'Account ids the function may act in (RIPOSTE_ACCOUNTS); with neither this nor OrganizationId, only its own.',
      },
      OrganizationId: {
        Type: 'String',
        Default: '',
        AllowedPattern: '^(o-[a-z0-9]{10,32})?$',
        Description: 'Every account of this organization may be acted in (RIPOSTE_ORGANIZATION_ID).',
      },
      ProtectedPrincipals: {
        Type: 'CommaDelimitedList',
        Default: '',
        AllowedPattern: PRINCIPAL_ARN_PARAMETER_PATTERN,
        Description:
          'IAM role and user ARN patterns no action may change (RIPOSTE_PROTECTED_PRINCIPALS), e.g. arn:aws:iam::*:role/breakglass-*; the role is also denied every IAM write on them.',
      },
      MaxTargetsPerHour: {
        Type: 'Number',
        Default: 50,
        MinValue: 1,
        MaxValue: 10000,
        Description:
          'Circuit breaker: resources changed per account over a rolling hour before steps are held.',
      },
      ReservedConcurrency: {
        Type: 'Number',
        Default: 5,
        MinValue: 1,
        Description: 'Concurrent executions reserved (and capped) for the function: a flood cannot fan out.',
      },
      SubscribeSecurityHub: {
        Type: 'String',
        AllowedValues: ['true', 'false'],
        Default: 'false',
        Description:
          "Also invoke the function for GuardDuty's findings as Security Hub imports them (Security Hub Findings - Imported).",
      },
      HistoryRetentionDays: {
        Type: 'Number',
        Default: 400,
        MinValue: 1,
        MaxValue: 3650,
        Description:
          'Days the history table keeps each response, approval and undo record (RIPOSTE_HISTORY_TTL_DAYS, DynamoDB TTL).',
      },
      HistoryBucket: {
        Type: 'String',
        Default: '',
        AllowedPattern: '^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$',
        Description:
          'An existing S3 bucket that also receives every history record under riposte/history/ (for Athena; RIPOSTE_HISTORY_BUCKET); empty for none.',
      },
      ApprovalTimeout: {
        Type: 'Number',
        Default: 24,
        MinValue: 1,
        MaxValue: 720,
        Description:
          'Hours held steps wait for approval before they expire unapproved (RIPOSTE_APPROVAL_TIMEOUT_HOURS).',
      },
      SecurityHubIntegration: {
        Type: 'String',
        AllowedValues: ['Enabled', 'Disabled'],
        Default: 'Enabled',
        Description:
          'Enabled creates the Security Hub custom actions "Riposte: approve" and "Riposte: reject" and the rule sending their use to the function. Security Hub must be enabled in this account and region; choose Disabled where it is not.',
      },
      KmsKeyArn: {
        Type: 'String',
        Default: '',
        AllowedPattern: '^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+)?$',
        Description:
          'Customer managed KMS key for the log group, both queues, the table and the alarm topic; empty uses AWS-managed encryption. Its key policy must let CloudWatch Logs and CloudWatch use it.',
      },
    },
    Conditions: {
      HasMemberRole: notEmpty('MemberRoleName'),
      HasMemberExternalId: { 'Fn::And': [condition('HasMemberRole'), notEmpty('MemberExternalId')] },
      HasOrganization: notEmpty('OrganizationId'),
      HasAllowedAccounts: listNotEmpty('AllowedAccounts'),
      AssumesInAllowedAccounts: { 'Fn::And': [condition('HasMemberRole'), condition('HasAllowedAccounts')] },
      AssumesInOrganization: { 'Fn::And': [condition('HasMemberRole'), condition('HasOrganization')] },
      HasNotificationTopic: notEmpty('NotificationTopicArn'),
      LacksNotificationTopic: { 'Fn::Not': [condition('HasNotificationTopic')] },
      HasProtectedPrincipals: listNotEmpty('ProtectedPrincipals'),
      HasKmsKey: notEmpty('KmsKeyArn'),
      SubscribesSecurityHub: { 'Fn::Equals': [ref('SubscribeSecurityHub'), 'true'] },
      HasHistoryBucket: notEmpty('HistoryBucket'),
      IntegratesSecurityHub: { 'Fn::Equals': [ref('SecurityHubIntegration'), 'Enabled'] },
    },
    Resources: {
      RiposteFunction: {
        Type: 'AWS::Lambda::Function',
        // Never runs, nor is invoked, before its permissions exist.
        DependsOn: policyIds,
        Properties: {
          Description: 'Riposte: GuardDuty finding remediation',
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'handler.handler',
          Code: options.codeUri ?? DEFAULT_CODE_URI,
          MemorySize: options.memorySize ?? 512,
          Timeout: options.timeout ?? timeoutFor(enabled),
          Role: getAtt('RiposteRole', 'Arn'),
          ReservedConcurrentExecutions: ref('ReservedConcurrency'),
          LoggingConfig: { LogGroup: ref('RiposteLogGroup') },
          Environment: {
            Variables: {
              RIPOSTE_MODE: ref('Mode'),
              RIPOSTE_IDEMPOTENCY_TABLE: ref('IdempotencyTable'),
              RIPOSTE_MEMBER_ROLE: when('HasMemberRole', ref('MemberRoleName')),
              RIPOSTE_MEMBER_EXTERNAL_ID: when('HasMemberExternalId', ref('MemberExternalId')),
              RIPOSTE_SNS_TOPIC_ARN: when('HasNotificationTopic', ref('NotificationTopicArn')),
              LOG_LEVEL: ref('LogLevel'),
              RIPOSTE_ACCOUNTS: { 'Fn::Join': [',', ref('AllowedAccounts')] },
              RIPOSTE_ORGANIZATION_ID: ref('OrganizationId'),
              RIPOSTE_PROTECTED_PRINCIPALS: { 'Fn::Join': [',', ref('ProtectedPrincipals')] },
              RIPOSTE_MAX_TARGETS_PER_HOUR: ref('MaxTargetsPerHour'),
              RIPOSTE_HISTORY_TABLE: ref('HistoryTable'),
              RIPOSTE_HISTORY_TTL_DAYS: ref('HistoryRetentionDays'),
              RIPOSTE_HISTORY_BUCKET: when('HasHistoryBucket', ref('HistoryBucket')),
              RIPOSTE_APPROVAL_TIMEOUT_HOURS: ref('ApprovalTimeout'),
            },
          },
        },
      },
      RiposteRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Description: "Riposte: the permissions its playbooks' actions are granted, and nothing else",
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
          PermissionsBoundary: ref('RiposteBoundary'),
        },
      },
      ...rolePolicies,
      RiposteBoundary: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          Description:
            "Riposte's permissions boundary: the actions and resources its policies allow (their conditions stay in the policies) and the same denies, so a policy added to the role later grants nothing more.",
          PolicyDocument: boundaryOf(bounds),
        },
      },
      RiposteLogGroup: {
        Type: 'AWS::Logs::LogGroup',
        Properties: {
          LogGroupName: sub('/riposte/{AWS::StackName}'),
          RetentionInDays: 365,
          KmsKeyId: when('HasKmsKey', ref('KmsKeyArn')),
        },
      },
      IdempotencyTable: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: tableEncryption,
        },
      },
      HistoryTable: {
        Type: 'AWS::DynamoDB::Table',
        // Every response, approval and undo: evidence, kept when the stack goes or the table is replaced.
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          ...HISTORY_TABLE_SCHEMA,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: tableEncryption,
        },
      },
      FailureQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          MessageRetentionPeriod: 1_209_600,
          ...queueEncryption,
          // Lambda's on-failure destination never redrives; this moves a message that whoever
          // replays the queue keeps failing on aside after 5 receives, instead of cycling forever.
          RedrivePolicy: { deadLetterTargetArn: getAtt('FailureDeadLetterQueue', 'Arn'), maxReceiveCount: 5 },
        },
      },
      FailureDeadLetterQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          MessageRetentionPeriod: 1_209_600,
          ...queueEncryption,
          RedriveAllowPolicy: { redrivePermission: 'allowAll' },
        },
      },
      RiposteEventInvokeConfig: {
        Type: 'AWS::Lambda::EventInvokeConfig',
        // Lambda checks that the role may send to the destination when the configuration is created.
        DependsOn: policyIds,
        Properties: {
          FunctionName: ref('RiposteFunction'),
          Qualifier: '$LATEST',
          MaximumRetryAttempts: 2,
          MaximumEventAgeInSeconds: 3600,
          DestinationConfig: { OnFailure: { Destination: getAtt('FailureQueue', 'Arn') } },
        },
      },
      ...invokingRule(
        'FindingRule',
        undefined,
        'GuardDuty findings some Riposte playbook may act on',
        findingEventPattern(enabled),
      ),
      ...invokingRule(
        'SecurityHubRule',
        'SubscribesSecurityHub',
        "GuardDuty's findings as Security Hub imports them, at the severities Riposte acts on",
        securityHubEventPattern(enabled),
      ),
      ApproveActionTarget: actionTarget(APPROVAL_ACTIONS.approve),
      RejectActionTarget: actionTarget(APPROVAL_ACTIONS.reject),
      ...invokingRule(
        'ApprovalRule',
        'IntegratesSecurityHub',
        'Riposte: approve or reject held steps, chosen on findings in Security Hub',
        {
          source: ['aws.securityhub'],
          'detail-type': ['Security Hub Findings - Custom Action'],
          resources: [
            getAtt('ApproveActionTarget', 'ActionTargetArn'),
            getAtt('RejectActionTarget', 'ActionTargetArn'),
          ],
        },
      ),
      AlarmTopic: {
        Type: 'AWS::SNS::Topic',
        Condition: 'LacksNotificationTopic',
        Properties: {
          DisplayName: 'Riposte alarms',
          KmsMasterKeyId: when('HasKmsKey', ref('KmsKeyArn')),
        },
      },
      FailureQueueAlarm: alarm(
        'Riposte: an event failed every attempt and waits in the on-failure queue (FailureQueueUrl output)',
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        { Name: 'QueueName', Value: getAtt('FailureQueue', 'QueueName') },
        'Maximum',
      ),
      FailureDeadLetterQueueAlarm: alarm(
        "Riposte: a failed event was received 5 times from the on-failure queue without being deleted and moved to the queue's dead-letter queue",
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        { Name: 'QueueName', Value: getAtt('FailureDeadLetterQueue', 'QueueName') },
        'Maximum',
      ),
      FunctionErrorsAlarm: alarm(
        'Riposte: the function failed an invocation (configuration, verification or an AWS error; Lambda retries twice)',
        'AWS/Lambda',
        'Errors',
        { Name: 'FunctionName', Value: ref('RiposteFunction') },
        'Sum',
      ),
      FunctionThrottlesAlarm: alarm(
        'Riposte: invocations were throttled at the reserved concurrency (ReservedConcurrency)',
        'AWS/Lambda',
        'Throttles',
        { Name: 'FunctionName', Value: ref('RiposteFunction') },
        'Sum',
      ),
      RiposteDashboard: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          // Dashboards are global: the region keeps one stack's name usable in every region.
          DashboardName: sub('Riposte-{AWS::StackName}-{AWS::Region}'),
          DashboardBody: dashboardBody(),
        },
      },
    },
    Outputs: {
      FunctionArn: { Value: getAtt('RiposteFunction', 'Arn') },
      // Member accounts' roles trust this role.
      FunctionRoleArn: { Value: getAtt('RiposteRole', 'Arn') },
      BoundaryPolicyArn: { Value: ref('RiposteBoundary') },
      FailureQueueUrl: { Value: ref('FailureQueue') },
      FailureDeadLetterQueueUrl: { Value: ref('FailureDeadLetterQueue') },
      IdempotencyTableName: { Value: ref('IdempotencyTable') },
      HistoryTableName: { Value: ref('HistoryTable') },
      DashboardName: { Value: ref('RiposteDashboard') },
      ApproveActionArn: {
        Condition: 'IntegratesSecurityHub',
        Value: getAtt('ApproveActionTarget', 'ActionTargetArn'),
      },
      RejectActionArn: {
        Condition: 'IntegratesSecurityHub',
        Value: getAtt('RejectActionTarget', 'ActionTargetArn'),
      },
      FindingRuleArn: { Value: getAtt('FindingRule', 'Arn') },
      SecurityHubRuleArn: { Condition: 'SubscribesSecurityHub', Value: getAtt('SecurityHubRule', 'Arn') },
      AlarmTopicArn: { Value: ALARM_TARGET },
    },
  };
};
