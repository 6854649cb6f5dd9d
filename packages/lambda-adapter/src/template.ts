import {
  type ActionRegistry,
  CTID_FINDING_TYPES,
  compileTypePattern,
  type EngineMode,
  type Playbook,
  type SeverityLabel,
  techniqueMatches,
  techniquesForType,
  threatPurposesForTactic,
} from '@riposte/core';
import { TemplateError } from './errors.js';

/** A CloudFormation template as a plain object, ready for JSON or YAML. */
export interface CloudFormationTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters: Record<string, Record<string, unknown>>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; [key: string]: unknown }>;
  Outputs: Record<string, Record<string, unknown>>;
}

export interface TemplateOptions {
  /** The playbooks the function will run (the bundled ones): they decide the role and the rule. */
  playbooks: Playbook[];
  /** Where each action's IAM permissions come from. */
  registry: ActionRegistry<unknown>;
  /** Default of the `MemberRoleName` parameter: the role assumed in member accounts. Default: none. */
  memberRoleName?: string;
  /** Default of the `Mode` parameter. Default `dry-run`. */
  mode?: EngineMode;
  /** Path of the built `handler.mjs`, relative to where the template is packaged. */
  codeUri?: string;
  /** Default 512 MB. */
  memorySize?: number;
  /** Seconds; default sized from the number of steps the playbooks can run. */
  timeout?: number;
}

export const DEFAULT_CODE_URI = 'packages/lambda-adapter/dist/handler.mjs';

const ref = (name: string) => ({ Ref: name });
const getAtt = (resource: string, attribute: string) => ({ 'Fn::GetAtt': [resource, attribute] });
/** `Fn::Sub` over `${Name}` placeholders, written `{Name}` here so they never read as JavaScript's. */
const sub = (text: string) => ({
  'Fn::Sub': text.replace(/\{([\w:]+)\}/g, (_, name: string) => `\${${name}}`),
});

// The lowest severity each label admits: Low < 4 <= Medium < 7 <= High < 9 <= Critical.
const LABEL_FLOOR: Record<SeverityLabel, number> = { Low: 0, Medium: 4, High: 7, Critical: 9 };

/** The lowest severity a playbook can match; 0 when it does not limit severity. */
const severityFloor = (playbook: Playbook): number => {
  const severity = playbook.match.severity;
  if (!severity) return 0;
  const fromLabels = severity.labels?.length
    ? Math.min(...severity.labels.map((label) => LABEL_FLOOR[label]))
    : 0;
  return Math.max(severity.min ?? 0, fromLabels);
};

type TypeMatcher = string | { prefix: string } | { wildcard: string };

/**
 * One finding-type pattern as an EventBridge matcher: the type itself when exact, `prefix` when
 * everything after the literal prefix is wildcard, `wildcard` when literal text follows a wildcard
 * (EventBridge's `*` crosses `:` and `/`, so it admits a superset: the engine matches exactly).
 * `undefined` when the pattern admits every type.
 */
const typeMatcher = (pattern: string): TypeMatcher | undefined => {
  const compiled = compileTypePattern(pattern);
  if (compiled.exact) return pattern;
  const wildcard = pattern.replace(/\*+/g, '*');
  if (wildcard === '*') return undefined;
  const rest = wildcard.slice(compiled.literalPrefix.length);
  return /^\*+$/.test(rest) ? { prefix: compiled.literalPrefix } : { wildcard };
};

/** Drops exact types and prefixes another prefix already admits; sorts for a stable template. */
const simplify = (matchers: TypeMatcher[]): TypeMatcher[] => {
  const prefixes = matchers.flatMap((matcher) =>
    typeof matcher === 'object' && 'prefix' in matcher ? [matcher.prefix] : [],
  );
  const coveredBy = (text: string, self?: string) =>
    prefixes.some((prefix) => prefix !== self && text.startsWith(prefix));
  const kept = new Map<string, TypeMatcher>();
  for (const matcher of matchers) {
    if (typeof matcher === 'string') {
      if (!coveredBy(matcher)) kept.set(`=${matcher}`, matcher);
    } else if ('prefix' in matcher) {
      if (!coveredBy(matcher.prefix, matcher.prefix)) kept.set(`^${matcher.prefix}`, matcher);
    } else kept.set(`*${matcher.wildcard}`, matcher);
  }
  return [...kept.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, matcher]) => matcher);
};

const enabledOf = (playbooks: Playbook[]): Playbook[] => {
  const enabled = playbooks.filter((playbook) => playbook.enabled);
  if (enabled.length === 0) {
    throw new TemplateError('no enabled playbook: the deployed function would never act', {
      playbooks: playbooks.map((playbook) => playbook.name),
    });
  }
  return enabled;
};

/**
 * The EventBridge pattern that invokes the function only for findings some enabled playbook may want:
 * their finding types (prefix matching where possible) and the lowest severity any of them accepts.
 */
/** EventBridge's default limit on an event pattern's size, in characters. */
export const EVENT_PATTERN_LIMIT = 2048;

/** Attack-sequence findings carry their techniques in indicators, so any technique or tactic may come with them. */
const ATTACK_SEQUENCE: TypeMatcher = { prefix: 'AttackSequence:' };

/** `Exfiltration:S3/ObjectRead.Unusual` -> `Exfiltration:S3/`: the type's purpose and resource. */
const purposeAndResource = (type: string): TypeMatcher => ({ prefix: type.slice(0, type.indexOf('/') + 1) });

/**
 * The types a playbook can match: its type patterns; for a playbook that matches by ATT&CK instead,
 * the types the normalizer's mapping ties to its techniques or tactics (widened to their purpose and
 * resource, and attack sequences). `undefined` in the list means every type.
 */
const reachableTypes = (playbook: Playbook): (TypeMatcher | undefined)[] => {
  const { types, techniques, tactics } = playbook.match;
  if (types) return types.map(typeMatcher);
  if (techniques) {
    const mapped = CTID_FINDING_TYPES.filter((type) =>
      techniquesForType(type).some((technique) =>
        techniques.some((wanted) => techniqueMatches(wanted, technique.id)),
      ),
    );
    return [ATTACK_SEQUENCE, ...mapped.map(purposeAndResource)];
  }
  if (tactics) {
    const mapped = CTID_FINDING_TYPES.filter((type) =>
      techniquesForType(type).some((technique) =>
        technique.tactics.some((tactic) => tactics.includes(tactic.id)),
      ),
    );
    const purposes = tactics.flatMap(threatPurposesForTactic).map((purpose) => ({ prefix: `${purpose}:` }));
    return [ATTACK_SEQUENCE, ...purposes, ...mapped.map(purposeAndResource)];
  }
  return [undefined];
};

const threatPurposeOf = (matcher: TypeMatcher): TypeMatcher => {
  const text =
    typeof matcher === 'string' ? matcher : 'prefix' in matcher ? matcher.prefix : matcher.wildcard;
  const colon = text.indexOf(':');
  return colon > 0 && !text.slice(0, colon).includes('*') ? { prefix: text.slice(0, colon + 1) } : matcher;
};

/**
 * The EventBridge pattern: GuardDuty findings whose type some enabled playbook can match, at or above
 * the lowest severity any accepts, so findings no playbook wants never invoke the function. It only
 * ever admits more than the engine matches, never less. Over EventBridge's size limit, type matchers
 * widen to threat purposes, then to every type.
 */
export const findingEventPattern = (playbooks: Playbook[]): Record<string, unknown> => {
  const enabled = enabledOf(playbooks);
  const floor = Math.min(...enabled.map(severityFloor));
  const severity = floor > 0 ? { severity: [{ numeric: ['>=', floor] }] } : {};
  const patternWith = (type?: TypeMatcher[]) => {
    const detail = { ...(type ? { type } : {}), ...severity };
    return {
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      ...(Object.keys(detail).length > 0 ? { detail } : {}),
    };
  };
  const matchers = enabled.flatMap(reachableTypes);
  if (matchers.includes(undefined)) return patternWith();
  const exact = simplify(matchers.filter((matcher) => matcher !== undefined));
  const widened = simplify(exact.map(threatPurposeOf));
  const fits = (type: TypeMatcher[]) => JSON.stringify(patternWith(type)).length <= EVENT_PATTERN_LIMIT;
  return patternWith(fits(exact) ? exact : fits(widened) ? widened : undefined);
};

/** The IAM actions the playbooks' steps declare, sorted and without repeats. */
export const actionPermissions = (playbooks: Playbook[], registry: ActionRegistry<unknown>): string[] => {
  const permissions = new Set<string>();
  for (const playbook of enabledOf(playbooks)) {
    for (const step of playbook.actions) {
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
        permissions.add(permission);
      }
    }
  }
  return [...permissions].sort();
};

/**
 * Seconds: each step is a few API calls, each with the SDK's retries and backoff; a finding may match
 * every playbook. 30 s of headroom (cold start, member-role assumption) plus 10 s a step, within 1-5 min.
 */
const timeoutFor = (playbooks: Playbook[]): number => {
  const steps = playbooks.reduce((total, playbook) => total + playbook.actions.length, 0);
  return Math.min(300, Math.max(60, 30 + 10 * steps));
};

/**
 * The deployable stack: the function (nodejs22.x, arm64), its role with exactly the permissions the
 * used actions declare, the EventBridge rule derived from the playbooks, the idempotency table (TTL),
 * the on-failure queue, and parameters for mode, member role, notification topic and log level.
 * SAM-compatible: `sam deploy` and `aws cloudformation package/deploy` upload `Code` from `codeUri`.
 */
export const buildTemplate = (options: TemplateOptions): CloudFormationTemplate => {
  const enabled = enabledOf(options.playbooks);
  const permissions = actionPermissions(enabled, options.registry);
  const pattern = findingEventPattern(enabled);

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `Riposte: remediates GuardDuty findings with ${enabled.length} playbook(s): ${enabled
      .map((playbook) => playbook.name)
      .join(', ')}`.slice(0, 1024),
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
        Description: 'Role assumed in member accounts for their findings; empty acts in this account only.',
      },
      NotificationTopicArn: {
        Type: 'String',
        Default: '',
        Description: 'SNS topic notify publishes to when a playbook names none; empty for none.',
      },
      LogLevel: {
        Type: 'String',
        AllowedValues: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'],
        Default: 'info',
      },
      AllowedAccounts: {
        Type: 'CommaDelimitedList',
        Default: '',
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
        Description:
          'Extra principal names and ARN patterns no action may change (RIPOSTE_PROTECTED_PRINCIPALS), e.g. breakglass-admin.',
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
    },
    Conditions: {
      HasMemberRole: { 'Fn::Not': [{ 'Fn::Equals': [ref('MemberRoleName'), ''] }] },
      HasOrganization: { 'Fn::Not': [{ 'Fn::Equals': [ref('OrganizationId'), ''] }] },
      HasNotificationTopic: { 'Fn::Not': [{ 'Fn::Equals': [ref('NotificationTopicArn'), ''] }] },
    },
    Resources: {
      RiposteFunction: {
        Type: 'AWS::Lambda::Function',
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
              RIPOSTE_MEMBER_ROLE: {
                'Fn::If': ['HasMemberRole', ref('MemberRoleName'), ref('AWS::NoValue')],
              },
              RIPOSTE_SNS_TOPIC_ARN: {
                'Fn::If': ['HasNotificationTopic', ref('NotificationTopicArn'), ref('AWS::NoValue')],
              },
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
          Description: 'Riposte: the permissions its playbooks actions declare, and nothing else',
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
          Policies: [
            {
              PolicyName: 'riposte',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  // Actions act on the resources each finding names, unknown until it arrives.
                  { Sid: 'PlaybookActions', Effect: 'Allow', Action: permissions, Resource: '*' },
                  {
                    // Every finding is re-read from GuardDuty before anything is done about it.
                    Sid: 'VerifyFindings',
                    Effect: 'Allow',
                    Action: ['guardduty:GetFindings', 'guardduty:ListDetectors'],
                    Resource: '*',
                  },
                  {
                    'Fn::If': [
                      'HasOrganization',
                      {
                        Sid: 'CheckOrganizationMembership',
                        Effect: 'Allow',
                        Action: ['organizations:DescribeAccount'],
                        Resource: '*',
                      },
                      ref('AWS::NoValue'),
                    ],
                  },
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
                  {
                    'Fn::If': [
                      'HasMemberRole',
                      {
                        Sid: 'AssumeMemberRole',
                        Effect: 'Allow',
                        Action: ['sts:AssumeRole'],
                        Resource: sub('arn:{AWS::Partition}:iam::*:role/{MemberRoleName}'),
                      },
                      ref('AWS::NoValue'),
                    ],
                  },
                ],
              },
            },
          ],
        },
      },
      RiposteLogGroup: {
        Type: 'AWS::Logs::LogGroup',
        Properties: { LogGroupName: sub('/riposte/{AWS::StackName}'), RetentionInDays: 365 },
      },
      IdempotencyTable: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          SSESpecification: { SSEEnabled: true },
        },
      },
      FailureQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
      },
      RiposteEventInvokeConfig: {
        Type: 'AWS::Lambda::EventInvokeConfig',
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
          EventPattern: pattern,
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
    },
    Outputs: {
      FunctionArn: { Value: getAtt('RiposteFunction', 'Arn') },
      // Member accounts' roles trust this role.
      FunctionRoleArn: { Value: getAtt('RiposteRole', 'Arn') },
      FailureQueueUrl: { Value: ref('FailureQueue') },
      IdempotencyTableName: { Value: ref('IdempotencyTable') },
      FindingRuleArn: { Value: getAtt('FindingRule', 'Arn') },
    },
  };
};
