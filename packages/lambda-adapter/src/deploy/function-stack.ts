import type { ActionRegistry, EngineMode, PermissionGrant, Playbook } from '@riposte/core';
import { findingEventPattern, securityHubEventPattern } from './event-patterns.js';
import {
  allowStatements,
  denyIamWrites,
  denyProtectedPrincipals,
  IAM_WRITE_ACTIONS,
  NO_RESOURCE_LEVEL_REASON,
  NOTIFICATION_TOPIC,
  type PolicyEntry,
  PROTECTED_ROLE_PATTERNS,
  playbookGrants,
  policyDocument,
  protectedRoleArns,
  rolePolicy,
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
 * The roles and policies no IAM write may touch. `own` names the function's role and its boundary
 * (the identity policy can; the boundary cannot name the role it bounds, a circular dependency, so it
 * relies on `role/<stack>-RiposteRole-*`, the shape of the role's generated name).
 */
const denyStatements = (own: unknown[]): PolicyEntry[] => [
  denyIamWrites('DenyIamWritesOnProtectedRoles', [
    ...own,
    // CloudFormation names what it creates `<stack>-<logical id>-<suffix>`: these are the function's
    // role and its boundary, by name (a bare `<stack>-*` would also cover, say, a quarantine role).
    sub('arn:{AWS::Partition}:iam::{AWS::AccountId}:role/{AWS::StackName}-RiposteRole-*'),
    sub('arn:{AWS::Partition}:iam::{AWS::AccountId}:policy/{AWS::StackName}-RiposteBoundary-*'),
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
 * The deployable stack: the function (nodejs22.x, arm64); its role, whose policy is derived from the
 * grants of the actions the playbooks use (resources, conditions), denies every IAM write on protected
 * roles and is capped by a permissions boundary with the same allows and denies; the EventBridge rule
 * derived from the playbooks (and, with `SubscribeSecurityHub`, a Security Hub rule); the idempotency
 * table (TTL, point-in-time recovery); the on-failure queue and its own dead-letter queue; alarms on
 * failures, errors and throttles; optional KMS encryption. SAM-compatible: `sam deploy` and
 * `aws cloudformation package/deploy` upload `Code` from `codeUri`.
 */
export const buildTemplate = (options: TemplateOptions): CloudFormationTemplate => {
  const enabled = enabledOf(options.playbooks);
  const grants = [...playbookGrants(enabled, options.registry), ...FUNCTION_GRANTS];
  const topic = { topicCondition: 'HasNotificationTopic', topic: ref('NotificationTopicArn') };
  const allows = [...allowStatements(grants, topic), ...functionStatements()];
  const bounds = [...allowStatements(grants, { ...topic, withoutConditions: true }), ...functionStatements()];

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: describePlaybooks('Riposte: remediates GuardDuty findings with', enabled),
    Metadata: {
      'Riposte::Permissions': {
        Derivation:
          'Each Allow statement comes from grants(params) of the actions the enabled playbooks use, merged where resources and conditions are equal; {region} is "*" because the one role acts in every region findings come from.',
        NoResourceLevelPermissions: {
          Statement: 'NoResourceLevelPermissions',
          Reason: NO_RESOURCE_LEVEL_REASON,
          Actions: wildcardActions(grants),
        },
        DenyIamWrites: {
          Actions: [...IAM_WRITE_ACTIONS],
          On: [
            "the function's role and its permissions boundary",
            "the same by the shape of their generated names (role/<stack name>-RiposteRole-*, policy/<stack name>-RiposteBoundary-*): the boundary cannot name the role it bounds, so it relies on these; keep the stack name short (under about 30 characters) so CloudFormation's generated names keep it whole",
            'the member role (MemberRoleName) in every account',
            ...PROTECTED_ROLE_PATTERNS.map((pattern) => `role/${pattern} in every account`),
            'the ARN patterns of ProtectedPrincipals',
          ],
        },
        ProtectedPrincipals:
          'ARN patterns only: IAM can deny writes on ARNs, not on bare names. The function also refuses every ProtectedPrincipals entry, and principals tagged riposte:protected=true, at run time.',
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
    },
    Resources: {
      RiposteFunction: {
        Type: 'AWS::Lambda::Function',
        // Never runs, nor is invoked, before its permissions exist.
        DependsOn: 'RipostePolicy',
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
      RipostePolicy: rolePolicy('riposte', 'RiposteRole', 'RiposteBoundary', allows, denyStatements),
      RiposteBoundary: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          Description:
            "Riposte's permissions boundary: the actions and resources its policy allows (their conditions stay in the policy) and the same denies, so a policy added to the role later grants nothing more.",
          PolicyDocument: policyDocument([...bounds, ...denyStatements([])]),
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
          SSESpecification: {
            SSEEnabled: true,
            SSEType: when('HasKmsKey', 'KMS'),
            KMSMasterKeyId: when('HasKmsKey', ref('KmsKeyArn')),
          },
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
        DependsOn: 'RipostePolicy',
        Properties: {
          FunctionName: ref('RiposteFunction'),
          Qualifier: '$LATEST',
          MaximumRetryAttempts: 2,
          MaximumEventAgeInSeconds: 3600,
          DestinationConfig: { OnFailure: { Destination: getAtt('FailureQueue', 'Arn') } },
        },
      },
      FindingRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: 'GuardDuty findings some Riposte playbook may act on',
          State: 'ENABLED',
          EventPattern: findingEventPattern(enabled),
          Targets: [{ Id: 'riposte', Arn: getAtt('RiposteFunction', 'Arn') }],
        },
      },
      FindingRulePermission: {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          Action: 'lambda:InvokeFunction',
          FunctionName: ref('RiposteFunction'),
          Principal: 'events.amazonaws.com',
          SourceArn: getAtt('FindingRule', 'Arn'),
        },
      },
      SecurityHubRule: {
        Type: 'AWS::Events::Rule',
        Condition: 'SubscribesSecurityHub',
        Properties: {
          Description: "GuardDuty's findings as Security Hub imports them, at the severities Riposte acts on",
          State: 'ENABLED',
          EventPattern: securityHubEventPattern(enabled),
          Targets: [{ Id: 'riposte', Arn: getAtt('RiposteFunction', 'Arn') }],
        },
      },
      SecurityHubRulePermission: {
        Type: 'AWS::Lambda::Permission',
        Condition: 'SubscribesSecurityHub',
        Properties: {
          Action: 'lambda:InvokeFunction',
          FunctionName: ref('RiposteFunction'),
          Principal: 'events.amazonaws.com',
          SourceArn: getAtt('SecurityHubRule', 'Arn'),
        },
      },
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
    },
    Outputs: {
      FunctionArn: { Value: getAtt('RiposteFunction', 'Arn') },
      // Member accounts' roles trust this role.
      FunctionRoleArn: { Value: getAtt('RiposteRole', 'Arn') },
      BoundaryPolicyArn: { Value: ref('RiposteBoundary') },
      FailureQueueUrl: { Value: ref('FailureQueue') },
      FailureDeadLetterQueueUrl: { Value: ref('FailureDeadLetterQueue') },
      IdempotencyTableName: { Value: ref('IdempotencyTable') },
      FindingRuleArn: { Value: getAtt('FindingRule', 'Arn') },
      SecurityHubRuleArn: { Condition: 'SubscribesSecurityHub', Value: getAtt('SecurityHubRule', 'Arn') },
      AlarmTopicArn: { Value: ALARM_TARGET },
    },
  };
};
