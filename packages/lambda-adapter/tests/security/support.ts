/**
 * The security suite's shared parts: the canonical scenario's findings as mutable copies, the
 * envelopes an attacker can wrap them in (SQS, SNS), and readers of what reached fake-aws.
 *
 * Every test runs the BUILT bundle (dist/handler.mjs) in a child node, in enforce mode, against
 * fake-aws: what the fake recorded is exactly what the function sent to AWS.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeAll } from 'vitest';
import {
  type FakeAccountSeed,
  type FakeAws,
  holdFindings,
  type PublishedMessage,
  type RecordedCall,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import type { FindingResult, HandlerResult } from '../../src/index.js';
import {
  type BundleRun,
  type Invocation,
  type InvocationOutcome,
  requireFreshBundle,
} from '../helpers/bundle-runner.js';

export { SCENARIO };

// ---- findings --------------------------------------------------------------------------------------

export interface AccessKeyDetails {
  accessKeyId: string;
  principalId: string;
  userType: string;
  userName: string;
}

export interface NetworkInterfaceDetails {
  networkInterfaceId: string;
  subnetId: string;
  vpcId: string;
  securityGroups: { groupName: string; groupId: string }[];
  [key: string]: unknown;
}

export interface InstanceDetails {
  instanceId: string;
  iamInstanceProfile?: { arn: string; id: string };
  networkInterfaces: NetworkInterfaceDetails[];
  tags?: { key: string; value: string }[];
  [key: string]: unknown;
}

/** A GuardDuty finding as EventBridge carries it in `detail` (the fields the tests change). */
export interface FindingDetail {
  schemaVersion: string;
  accountId: string;
  region: string;
  partition: string;
  id: string;
  arn: string;
  type: string;
  resource: {
    resourceType: string;
    accessKeyDetails?: AccessKeyDetails;
    instanceDetails?: InstanceDetails;
    s3BucketDetails?: Record<string, unknown>[];
    [key: string]: unknown;
  };
  service: {
    detectorId: string;
    action: Record<string, unknown>;
    additionalInfo?: Record<string, unknown>;
    [key: string]: unknown;
  };
  severity: number;
  createdAt: string;
  updatedAt: string;
  title: string;
  description: string;
  [key: string]: unknown;
}

export interface GuardDutyEvent {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: FindingDetail;
}

const SCENARIO_DIR = new URL('../../../../examples/scenario/findings/', import.meta.url);
const SCENARIO_FILES = readdirSync(SCENARIO_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort();

/** The canonical scenario's four events (instance credential exfiltration, S3 exfiltration, trail, root). */
const scenarioEvents = (): GuardDutyEvent[] =>
  SCENARIO_FILES.map(
    (name) => JSON.parse(readFileSync(new URL(name, SCENARIO_DIR), 'utf8')) as GuardDutyEvent,
  );

/** A fresh copy of scenario event `number` (1-4), to mutate. */
export const scenarioEvent = (number: 1 | 2 | 3 | 4): GuardDutyEvent => scenarioEvents()[number - 1]!;

/** A GuardDuty-shaped finding id (32 lowercase hex digits), stable for a label. */
const findingIdFor = (label: string): string => createHash('md5').update(label).digest('hex');

/** A deterministic EventBridge event id for a label. */
const eventIdFor = (label: string): string => {
  const hex = createHash('sha1').update(label).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

export const findingArn = (finding: Pick<FindingDetail, 'region' | 'accountId' | 'id'>, detectorId: string) =>
  `arn:aws:guardduty:${finding.region}:${finding.accountId}:detector/${detectorId}/finding/${finding.id}`;

/**
 * The event with its finding re-identified (id, ARN, EventBridge id), and optionally moved to another
 * account, region or detector: everything that names the finding stays consistent, as GuardDuty
 * would write it.
 */
export const reidentified = (
  event: GuardDutyEvent,
  label: string,
  where: { accountId?: string; region?: string; detectorId?: string } = {},
): GuardDutyEvent => {
  const copy = structuredClone(event);
  const { detail } = copy;
  detail.id = findingIdFor(label);
  if (where.accountId) detail.accountId = where.accountId;
  if (where.region) detail.region = where.region;
  const detectorId = where.detectorId ?? detail.service.detectorId;
  detail.service.detectorId = detectorId;
  detail.arn = findingArn(detail, detectorId);
  copy.id = eventIdFor(label);
  copy.account = detail.accountId;
  copy.region = detail.region;
  return copy;
};

/** The fake's second instance, as GuardDuty describes an instance (from the scenario's own description). */
const instanceDetailsOf = (base: InstanceDetails, which: 'first' | 'second'): InstanceDetails => {
  const details = structuredClone(base);
  const second = which === 'second';
  details.instanceId = second ? SCENARIO.secondInstanceId : SCENARIO.instanceId;
  const [eni] = details.networkInterfaces;
  if (eni) {
    eni.networkInterfaceId = second ? SCENARIO.secondNetworkInterfaceId : SCENARIO.networkInterfaceId;
    eni.subnetId = SCENARIO.subnetId;
    eni.vpcId = SCENARIO.vpcId;
    eni.securityGroups = [{ groupName: 'app-server-sg', groupId: SCENARIO.appSecurityGroupId }];
  }
  details.tags = [{ key: 'Name', value: second ? 'batch-worker' : 'app-server' }];
  return details;
};

/**
 * A `Backdoor:EC2/C&CActivity.B` finding (High) on one of the scenario's instances, written the way
 * GuardDuty writes it (network connection action, threat list evidence), starting from the scenario's
 * own instance description. The shipped playbook `ec2-compromised-instance` answers it with
 * snapshot-volumes, tag-resource, isolate-instance, detach-instance-profile and notify.
 */
export const backdoorEvent = (which: 'first' | 'second', label: string): GuardDutyEvent => {
  const event = reidentified(scenarioEvent(1), label);
  const { detail } = event;
  const instance = instanceDetailsOf(detail.resource.instanceDetails!, which);
  detail.type = 'Backdoor:EC2/C&CActivity.B';
  detail.resource = { resourceType: 'Instance', instanceDetails: instance };
  detail.service.action = {
    actionType: 'NETWORK_CONNECTION',
    networkConnectionAction: {
      connectionDirection: 'OUTBOUND',
      localIpDetails: { ipAddressV4: which === 'second' ? '10.0.1.26' : '10.0.1.25' },
      remoteIpDetails: {
        ipAddressV4: '203.0.113.77',
        organization: {
          asn: '64500',
          asnOrg: 'EXAMPLE-HOSTING-AS',
          isp: 'Example Hosting B.V.',
          org: 'Example Hosting B.V.',
        },
        country: { countryName: 'Netherlands' },
        city: { cityName: 'Amsterdam' },
        geoLocation: { lat: 52.3759, lon: 4.8975 },
      },
      remotePortDetails: { port: 443, portName: 'HTTPS' },
      localPortDetails: { port: 49152, portName: 'Unknown' },
      protocol: 'TCP',
      blocked: false,
    },
  };
  detail.service.additionalInfo = { threatListName: 'ProofPoint' };
  detail.service.evidence = {
    threatIntelligenceDetails: [{ threatNames: ['Known malicious IP'], threatListName: 'ProofPoint' }],
  };
  detail.severity = 8;
  detail.title = `EC2 instance ${instance.instanceId} communicating outbound with C&C Server.`;
  detail.description = `EC2 instance ${instance.instanceId} is communicating outbound with a known Command & Control Server 203.0.113.77 located in Netherlands.`;
  return event;
};

// ---- envelopes ---------------------------------------------------------------------------------------

const QUEUE_ARN = `arn:aws:sqs:${SCENARIO.region}:${SCENARIO.accountId}:riposte-findings`;
const FINDINGS_TOPIC_ARN = `arn:aws:sns:${SCENARIO.region}:${SCENARIO.accountId}:guardduty-findings`;

/** An SQS batch as Lambda's event source mapping delivers it, one record per body. */
export const sqsEvent = (bodies: string[]): { Records: Record<string, unknown>[] } => ({
  Records: bodies.map((body, index) => ({
    messageId: eventIdFor(`sqs-${index}-${body.length}`),
    receiptHandle: `AQEB${createHash('sha256').update(body).digest('base64')}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1748959633000',
      SenderId: 'AROAEXAMPLESENDER123:attacker',
      ApproximateFirstReceiveTimestamp: '1748959633010',
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: SCENARIO.region,
  })),
});

/** An SNS notification (the JSON an SQS subscription without raw delivery receives). */
export const snsNotification = (message: unknown): Record<string, unknown> => ({
  Type: 'Notification',
  MessageId: eventIdFor(`sns-${JSON.stringify(message).length}`),
  TopicArn: FINDINGS_TOPIC_ARN,
  Message: JSON.stringify(message),
  Timestamp: '2025-06-03T14:07:13.512Z',
  SignatureVersion: '1',
  Signature:
    'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
  SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
  UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${FINDINGS_TOPIC_ARN}:0b5e1d2c`,
});

/** An SNS-to-Lambda event, one record per message. */
export const snsEvent = (messages: unknown[]): { Records: Record<string, unknown>[] } => ({
  Records: messages.map((message) => ({
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: `${FINDINGS_TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
    Sns: { ...snsNotification(message), Subject: null, MessageAttributes: {} },
  })),
});

/** GuardDuty's own product in Security Hub. */
export const GUARDDUTY_PRODUCT_ARN = `arn:aws:securityhub:${SCENARIO.region}::product/aws/guardduty`;

/**
 * A `Security Hub Findings - Imported` event carrying the finding of a GuardDuty event in the AWS
 * Security Finding Format, as Security Hub's GuardDuty integration writes it, under `productArn`.
 */
export const securityHubEvent = (event: GuardDutyEvent, productArn: string): Record<string, unknown> => {
  const { detail } = event;
  const asff = {
    SchemaVersion: '2018-10-08',
    Id: detail.arn,
    ProductArn: productArn,
    ProductName: 'GuardDuty',
    CompanyName: 'Amazon',
    Region: detail.region,
    GeneratorId: `arn:aws:guardduty:${detail.region}:${detail.accountId}:detector/${detail.service.detectorId}`,
    AwsAccountId: detail.accountId,
    Types: [`TTPs/Initial Access/${detail.type.replace('/', '-')}`],
    FirstObservedAt: '2025-06-03T14:02:31.000Z',
    LastObservedAt: '2025-06-03T14:02:31.000Z',
    CreatedAt: detail.createdAt,
    UpdatedAt: detail.updatedAt,
    Severity: { Product: 8, Label: 'HIGH', Normalized: 80 },
    Title: detail.title,
    Description: detail.description,
    ProductFields: {
      'aws/guardduty/service/archived': 'false',
      'aws/guardduty/service/count': '1',
      'aws/guardduty/service/detectorId': detail.service.detectorId,
      'aws/guardduty/service/action/actionType': 'AWS_API_CALL',
      'aws/guardduty/service/action/awsApiCallAction/api': 'ListBuckets',
      'aws/guardduty/service/action/awsApiCallAction/serviceName': 's3.amazonaws.com',
      'aws/guardduty/service/action/awsApiCallAction/remoteIpDetails/ipAddressV4': '203.0.113.77',
      'aws/guardduty/service/resourceRole': 'TARGET',
      'aws/securityhub/FindingId': `${productArn}/${detail.arn}`,
      'aws/securityhub/ProductName': 'GuardDuty',
      'aws/securityhub/CompanyName': 'Amazon',
    },
    Resources: [
      {
        Type: 'AwsIamAccessKey',
        Id: `AWS::IAM::AccessKey:${detail.resource.accessKeyDetails!.accessKeyId}`,
        Partition: 'aws',
        Region: detail.region,
        Details: {
          AwsIamAccessKey: {
            PrincipalId: detail.resource.accessKeyDetails!.principalId,
            PrincipalType: 'AssumedRole',
            PrincipalName: detail.resource.accessKeyDetails!.userName,
          },
        },
      },
      {
        Type: 'AwsEc2Instance',
        Id: `arn:aws:ec2:${detail.region}:${detail.accountId}:instance/${SCENARIO.instanceId}`,
        Partition: 'aws',
        Region: detail.region,
        Details: {
          AwsEc2Instance: {
            Type: 't3.medium',
            ImageId: 'ami-0abcdef1234567890',
            IamInstanceProfileArn: SCENARIO.instanceProfileArn,
            VpcId: SCENARIO.vpcId,
            SubnetId: SCENARIO.subnetId,
            LaunchedAt: '2025-05-19T08:41:07.000Z',
          },
        },
      },
    ],
    WorkflowState: 'NEW',
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
  };
  return {
    version: '0',
    id: '3d1f6c0e-2b7a-4c8e-9f10-5a6b7c8d9e01',
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: SCENARIO.accountId,
    time: '2025-06-03T14:08:02Z',
    region: SCENARIO.region,
    resources: [`${productArn}/${detail.arn}`],
    detail: { findings: [asff] },
  };
};

// ---- the fake and the function ------------------------------------------------------------------------

/**
 * fake-aws holding the scenario's account (`seed` may add to it), whose GuardDuty holds exactly
 * `genuine` (as last updated `at`): anything else a test delivers is a forgery.
 */
const running = new Set<FakeAws>();

/**
 * Every suite of this folder runs the built bundle against fakes: the bundle must be fresh, and each
 * test's fakes are closed after it.
 */
export const bundleSuite = (): void => {
  beforeAll(() => {
    requireFreshBundle();
  });
  afterEach(async () => {
    await Promise.all([...running].map((fake) => fake.close()));
    running.clear();
  });
};

export const scenarioFake = async (
  options: { genuine?: unknown[]; at?: Date; seed?: (seed: FakeAccountSeed) => void } = {},
): Promise<FakeAws> => {
  const seed = scenarioSeed();
  options.seed?.(seed);
  const fake = await startFakeAws({ seed });
  running.add(fake);
  if (options.genuine?.length) holdFindings(fake.state, options.genuine, options.at ?? new Date());
  return fake;
};

/** The function's environment: enforce mode, alerts and notifications to the scenario's topic. */
export const enforceEnv = (fake: FakeAws, extra: Record<string, string> = {}): Record<string, string> => ({
  ...fake.env(),
  RIPOSTE_MODE: 'enforce',
  RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn,
  ...extra,
});

const FUNCTION_ARN = `arn:aws:lambda:${SCENARIO.region}:${SCENARIO.accountId}:function:riposte`;

/** One invocation per event, each with its own request id, as Lambda gives them. */
export const invocations = (events: unknown[], label = 'security'): Invocation[] =>
  events.map((event, index) => ({
    event,
    context: { invokedFunctionArn: FUNCTION_ARN, awsRequestId: eventIdFor(`${label}-${index}`) },
  }));

/** The results an invocation answered with: direct and SNS invocations, and each record of an SQS batch. */
export const resultsOf = (outcome: InvocationOutcome | undefined): FindingResult[] => {
  if (!outcome?.ok) return [];
  const response: HandlerResult = outcome.response;
  return 'results' in response ? response.results : response.records.flatMap((record) => record.results);
};

/** Each invocation's result codes. */
export const codesOf = (run: BundleRun): string[][] =>
  run.results.map((outcome) => resultsOf(outcome).map((result) => result.code));

// ---- what reached AWS -----------------------------------------------------------------------------------

/** `service operation`. */
export const operationOf = (call: RecordedCall): string => `${call.service} ${call.operation}`;

/** Every string anywhere in a value (keys included). */
export const stringsIn = (value: unknown): string[] => {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([key, inner]) => [key, ...stringsIn(inner)]);
  return [];
};

/** The mutating calls other than SNS Publish: what changed the account. */
export const resourceMutations = (fake: FakeAws): RecordedCall[] =>
  fake.mutatingCalls().filter((call) => call.service !== 'SNS');

/** Calls whose parameters mention `text` anywhere (a resource id, name or ARN). */
export const callsMentioning = (calls: RecordedCall[], text: string): RecordedCall[] =>
  calls.filter((call) => stringsIn(call.params).some((value) => value.includes(text)));

const ALERT_SUBJECT = 'Riposte: refused an unverified finding';

/** What was published to the scenario's topic. */
export const published = (fake: FakeAws): PublishedMessage[] =>
  fake.state.topics.get(SCENARIO.topicArn)?.messages ?? [];

/** The unverified-finding alerts published to the topic. */
export const forgeryAlerts = (fake: FakeAws): PublishedMessage[] =>
  published(fake).filter((message) => message.subject === ALERT_SUBJECT);

/** The playbook notifications about one finding (by its id). */
export const notificationsAbout = (fake: FakeAws, findingId: string): PublishedMessage[] =>
  published(fake).filter(
    (message) => message.subject !== ALERT_SUBJECT && message.message.includes(findingId),
  );
