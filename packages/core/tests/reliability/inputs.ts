/**
 * Inputs for the reliability suites: the real samples (fixtures, unchanged) and ways of breaking them
 * that keep their real shape everywhere else.
 */
import { readFileSync } from 'node:fs';

const fixture = (path: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/findings/${path}`, import.meta.url), 'utf8'));

/** One sample of every shape normalize accepts: bare finding, EventBridge event, ASFF in Security Hub, bare ASFF. */
export const SAMPLES: Record<string, unknown> = {
  'bare GuardDuty finding (instance credential exfiltration)': fixture(
    'elastic-integrations/39-unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.json',
  ),
  'bare GuardDuty finding (S3 exfiltration)': fixture(
    'elastic-integrations/43-exfiltration-s3-maliciousipcaller.json',
  ),
  'bare GuardDuty finding (Kubernetes)': fixture(
    'elastic-integrations/10-execution-kubernetes-execinkubesystempod.json',
  ),
  'EventBridge GuardDuty Finding event': fixture('cloud-custodian/01-backdoor-ec2-c-cactivity-b-dns.json'),
  'Security Hub Custom Action event (ASFF)': fixture(
    'cloud-custodian/03-asff-securityhub-custom-action-unauthorizedaccess-iamuser-consolelogin.json',
  ),
  'bare ASFF finding': fixture('cloud-custodian/04-asff-recon-iamuser-resourcepermissions.json'),
  'EventBridge attack sequence event (IAM)': fixture(
    'documented/01-attacksequence-iam-compromisedcredentials.json',
  ),
  'bare attack sequence finding (EKS, Kubernetes workload)': fixture(
    'documented/02-attacksequence-eks-compromisedcluster.json',
  ),
  'EventBridge Runtime event (ECS task, process lineage)': fixture(
    'documented/06-execution-runtime-reverseshell-ecs.json',
  ),
  'GetFindings response in PascalCase (Kubernetes)': fixture(
    'cdk-eks-blueprints-patterns/01-privilegeescalation-kubernetes-privilegedcontainer.json',
  ),
  'Security Hub event (ASFF, Kubernetes user in Details.Other)': fixture(
    'aws-solutions-library-samples/01-asff-discovery-kubernetes-maliciousipcaller.json',
  ),
  'Security Hub event (ASFF, runtime details in ProductFields)': fixture(
    'documented/12-asff-execution-runtime-reverseshell-ecs.json',
  ),
};

export type JsonPath = (string | number)[];

/** Every node of a JSON value (the root excluded), depth first, as key paths. */
export const jsonPaths = (value: unknown, prefix: JsonPath = []): JsonPath[] => {
  if (typeof value !== 'object' || value === null) return [];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...jsonPaths(child, [...prefix, key])]);
};

/** A copy of `value` with the node at `path` replaced. */
export const replaceAt = (value: unknown, path: JsonPath, replacement: unknown): unknown => {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1) as string | number] = replacement;
  return copy;
};

/** A value of every JSON type, each wrong somewhere in a finding. */
export const WRONG_TYPES: readonly unknown[] = [null, 0, -1.5, '', 'x', true, [], {}, [{}], { a: 1 }];

/**
 * The parsed prefix of a document cut after `budget` scalar values, depth first: what a reader that
 * stopped mid-stream would have built (arrays and objects closed early, later keys missing).
 */
export const truncated = (value: unknown, budget: number): unknown => {
  let left = budget;
  const cut = (node: unknown): unknown => {
    if (typeof node !== 'object' || node === null) {
      left -= 1;
      return node;
    }
    if (Array.isArray(node)) {
      const items: unknown[] = [];
      for (const item of node) {
        if (left <= 0) break;
        items.push(cut(item));
      }
      return items;
    }
    const object: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(node)) {
      if (left <= 0) break;
      object[key] = cut(item);
    }
    return object;
  };
  return cut(value);
};

export const scalarCount = (value: unknown): number =>
  typeof value !== 'object' || value === null
    ? 1
    : Object.values(value).reduce<number>((total, item) => total + scalarCount(item), 0);

/** `depth` levels of `{ nested: ... }` (or `[...]`) around `leaf`. */
export const nested = (depth: number, leaf: unknown, kind: 'object' | 'array' = 'object'): unknown => {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = kind === 'array' ? [value] : { nested: value };
  return value;
};

/** Real EventBridge events of other AWS services, and things that are not events at all. */
export const NON_GUARDDUTY_EVENTS: Record<string, unknown> = {
  'EC2 Instance State-change Notification': {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '123456789012',
    time: '2019-11-11T21:29:54Z',
    region: 'us-east-1',
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
    detail: { 'instance-id': 'i-abcd1111', state: 'pending' },
  },
  'S3 Object Created': {
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '111122223333',
    time: '2021-11-12T00:00:00Z',
    region: 'ca-central-1',
    resources: ['arn:aws:s3:::example-bucket'],
    detail: {
      version: '0',
      bucket: { name: 'example-bucket' },
      object: {
        key: 'example-key',
        size: 5,
        etag: 'b1946ac92492d2347c6235b4d2611184',
        sequencer: '617f08299329d189',
      },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      'source-ip-address': '1.2.3.4',
      reason: 'PutObject',
    },
  },
  'Scheduled Event': {
    version: '0',
    id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: '2016-12-30T18:44:49Z',
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/SampleRule'],
    detail: {},
  },
  'Security Hub Findings - Imported (Inspector)': {
    version: '0',
    id: '8e5622f9-d81c-4d81-612a-9319e7ee2506',
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: '123456789012',
    time: '2019-04-11T21:52:17Z',
    region: 'us-west-2',
    resources: [],
    detail: {
      findings: [
        {
          SchemaVersion: '2018-10-08',
          Id: 'arn:aws:inspector2:us-west-2:123456789012:finding/0e436649379db5f327e3cf5bb4421d76',
          ProductArn: 'arn:aws:securityhub:us-west-2::product/aws/inspector',
          GeneratorId: 'AWSInspector',
          AwsAccountId: '123456789012',
          Types: ['Software and Configuration Checks/Vulnerabilities/CVE'],
          CreatedAt: '2019-04-11T21:52:15Z',
          UpdatedAt: '2019-04-11T21:52:15Z',
          Severity: { Label: 'HIGH', Normalized: 70 },
          Title: 'CVE-2022-1234 - openssl',
          Description: 'A vulnerability in openssl.',
          Resources: [{ Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:us-west-2:123456789012:instance/i-0abc' }],
        },
      ],
    },
  },
  'CloudTrail API call via EventBridge': {
    version: '0',
    id: '36eb8523-97d0-4518-b33d-ee3579ff19f0',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.s3',
    account: '123456789012',
    time: '2016-02-20T01:09:13Z',
    region: 'us-east-1',
    resources: [],
    detail: { eventSource: 's3.amazonaws.com', eventName: 'CreateBucket', awsRegion: 'us-east-1' },
  },
  'an empty object': {},
  'an empty array': [],
  'a string': 'GuardDuty Finding',
  'a number': 42,
  null: null,
  'an array of numbers': [1, 2, 3],
};
