import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAwsServices, createRegistry } from '@riposte/actions';
import {
  type ActionRegistry,
  createEngine,
  type Finding,
  loadPlaybooks,
  normalize,
  type Playbook,
  parsePlaybooks,
} from '@riposte/core';
import { describe, expect, it } from 'vitest';
import {
  actionPermissions,
  buildTemplate,
  type CloudFormationTemplate,
  EVENT_PATTERN_LIMIT,
  findingEventPattern,
  TemplateError,
} from '../../src/index.js';
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

const registry = createRegistry();
const shipped = await loadPlaybooks([RULES], { registry });

const testRegistry = recordingRegistry(createRecorder());
const playbooksOf = (yaml: string): Playbook[] =>
  parsePlaybooks(yaml, 'test.yaml', { registry: testRegistry });
const playbook = (name: string, match: string, extra = '') =>
  `name: ${name}\n${extra}match:\n${match}\nactions:\n  - action: record-response\n`;

/** Every Ref, GetAtt, Sub placeholder and If condition in the template, with what it names. */
const references = (node: unknown, found: { kind: string; name: string }[] = []) => {
  if (Array.isArray(node)) for (const item of node) references(item, found);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref') found.push({ kind: 'Ref', name: value as string });
      else if (key === 'Fn::GetAtt') found.push({ kind: 'GetAtt', name: (value as string[])[0]! });
      else if (key === 'Fn::Sub') {
        for (const [, name] of (value as string).matchAll(/\$\{([\w:]+)(?:\.\w+)?\}/g))
          found.push({ kind: 'Sub', name: name! });
      } else if (key === 'Fn::If') found.push({ kind: 'If', name: (value as unknown[])[0] as string });
      references(value, found);
    }
  }
  return found;
};

const statements = (template: CloudFormationTemplate): Record<string, unknown>[] => {
  const policies = template.Resources.RiposteRole!.Properties.Policies as {
    PolicyDocument: { Statement: unknown[] };
  }[];
  return policies.flatMap((policy) =>
    policy.PolicyDocument.Statement.map((statement) => {
      const conditional = (statement as { 'Fn::If'?: unknown[] })['Fn::If'];
      return (conditional ? conditional[1] : statement) as Record<string, unknown>;
    }),
  );
};

const actionsOf = (statement: Record<string, unknown>): string[] =>
  ([] as string[]).concat(statement.Action as string | string[]);

describe('buildTemplate from the shipped playbooks', () => {
  const template = buildTemplate({ playbooks: shipped, registry });

  it('declares the function, its role, rule, permission, table, queue, destination and log group', () => {
    const types = Object.fromEntries(
      Object.entries(template.Resources).map(([name, resource]) => [name, resource.Type]),
    );

    expect(types).toEqual({
      RiposteFunction: 'AWS::Lambda::Function',
      RiposteRole: 'AWS::IAM::Role',
      RiposteLogGroup: 'AWS::Logs::LogGroup',
      IdempotencyTable: 'AWS::DynamoDB::Table',
      FailureQueue: 'AWS::SQS::Queue',
      RiposteEventInvokeConfig: 'AWS::Lambda::EventInvokeConfig',
      FindingRule: 'AWS::Events::Rule',
      FindingRulePermission: 'AWS::Lambda::Permission',
    });
  });

  it('runs the bundle on nodejs22.x arm64 with a timeout sized between one and five minutes', () => {
    const fn = template.Resources.RiposteFunction!.Properties;

    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'handler.handler',
      Code: 'packages/lambda-adapter/dist/handler.mjs',
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
      RIPOSTE_SNS_TOPIC_ARN: {
        'Fn::If': ['HasNotificationTopic', { Ref: 'NotificationTopicArn' }, { Ref: 'AWS::NoValue' }],
      },
      LOG_LEVEL: { Ref: 'LogLevel' },
      RIPOSTE_ACCOUNTS: { 'Fn::Join': [',', { Ref: 'AllowedAccounts' }] },
      RIPOSTE_ORGANIZATION_ID: { Ref: 'OrganizationId' },
      RIPOSTE_PROTECTED_PRINCIPALS: { 'Fn::Join': [',', { Ref: 'ProtectedPrincipals' }] },
      RIPOSTE_MAX_TARGETS_PER_HOUR: { Ref: 'MaxTargetsPerHour' },
    });
    expect(template.Resources.RiposteFunction!.Properties.ReservedConcurrentExecutions).toEqual({
      Ref: 'ReservedConcurrency',
    });
    expect(template.Parameters.Mode).toMatchObject({
      AllowedValues: ['dry-run', 'enforce'],
      Default: 'dry-run',
    });
  });

  it('refers only to resources, parameters, pseudo parameters and conditions it declares', () => {
    const found = references(template);
    const dangling = found.filter(({ kind, name }) =>
      kind === 'If'
        ? !(name in template.Conditions)
        : kind === 'GetAtt'
          ? !(name in template.Resources)
          : !(name in template.Resources) && !(name in template.Parameters) && !PSEUDO_PARAMETERS.has(name),
    );

    expect(found.length).toBeGreaterThan(10);
    expect(dangling).toEqual([]);
  });

  it('grants no wildcard action anywhere in the role', () => {
    const all = statements(template).flatMap(actionsOf);

    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('grants exactly the permissions the used actions declare, plus logs, the table and the queue', () => {
    const used = new Set(
      shipped.filter((p) => p.enabled).flatMap((p) => p.actions.map((step) => step.action)),
    );
    const declared = [
      ...new Set(
        registry
          .list()
          .filter((a) => used.has(a.name))
          .flatMap((a) => a.permissions),
      ),
    ].sort();
    const bySid = Object.fromEntries(statements(template).map((statement) => [statement.Sid, statement]));

    expect(bySid.PlaybookActions).toEqual({
      Sid: 'PlaybookActions',
      Effect: 'Allow',
      Action: declared,
      Resource: '*',
    });
    expect(bySid.Logs).toMatchObject({ Resource: { 'Fn::GetAtt': ['RiposteLogGroup', 'Arn'] } });
    expect(bySid.Idempotency).toEqual({
      Sid: 'Idempotency',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      Resource: { 'Fn::GetAtt': ['IdempotencyTable', 'Arn'] },
    });
    expect(bySid.OnFailureDestination).toMatchObject({ Action: ['sqs:SendMessage'] });
  });

  it('allows sts:AssumeRole only on the member role, and only when one is given', () => {
    const conditional = (
      template.Resources.RiposteRole!.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[]
    )[0]!.PolicyDocument.Statement.find(
      (statement) =>
        'Fn::If' in (statement as object) &&
        (statement as { 'Fn::If': unknown[] })['Fn::If'][0] === 'HasMemberRole',
    ) as {
      'Fn::If': unknown[];
    };

    expect(conditional['Fn::If']).toEqual([
      'HasMemberRole',
      {
        Sid: 'AssumeMemberRole',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::*:role/${MemberRoleName}' },
      },
      { Ref: 'AWS::NoValue' },
    ]);
    expect(template.Parameters.MemberRoleName!.Default).toBe('');
    expect(
      buildTemplate({ playbooks: shipped, registry, memberRoleName: 'riposte-member' }).Parameters
        .MemberRoleName!.Default,
    ).toBe('riposte-member');
  });

  it('keeps idempotency records with a TTL and failed events in a queue', () => {
    expect(template.Resources.IdempotencyTable!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(template.Resources.RiposteEventInvokeConfig!.Properties).toMatchObject({
      FunctionName: { Ref: 'RiposteFunction' },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['FailureQueue', 'Arn'] } } },
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
  });
});

describe('actionPermissions', () => {
  it('refuses a registry whose action declares a wildcard permission', () => {
    const notify = registry.get('notify')!;
    const wildcard: ActionRegistry<unknown> = {
      get: (name) => (name === 'notify' ? { ...notify, permissions: ['sns:*'] } : registry.get(name)),
      list: () => registry.list(),
      validateParams: (name, params) => registry.validateParams(name, params),
    };
    const playbooks = parsePlaybooks(
      "name: wild\nmatch:\n  types: ['Exfiltration:S3/*']\nactions:\n  - action: notify\n",
      'wild.yaml',
      {
        registry,
      },
    );

    expect(() => actionPermissions(playbooks, wildcard)).toThrow(/wildcard permission "sns:\*"/);
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
    expect((pattern.detail as { type?: unknown[] }).type).toEqual(
      expect.arrayContaining([
        { prefix: 'AttackSequence:' },
        { prefix: 'Stealth:IAMUser/' },
        { prefix: 'Exfiltration:' },
      ]),
    );
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
