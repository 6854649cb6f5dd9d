/**
 * Validators for every identifier an action may send to AWS, and for the ARNs a finding carries.
 *
 * A finding is hostile input: whoever can put a message in front of the function can write one. So an
 * identifier is used only when it has exactly the shape AWS gives that kind of identifier. Wildcards
 * (`*`, `?`), whitespace, control and non-ASCII characters, and anything else outside the grammar are
 * refused, even where an AWS API would accept them, so that no value can widen what a call or an IAM
 * policy condition reaches. The grammars follow the AWS API references:
 *
 * | kind | grammar |
 * | --- | --- |
 * | EC2 ids (`i-`, `vol-`, `sg-`, `eni-`, `snap-`, `vpc-`, `subnet-`, `iip-assoc-`) | prefix + 8 or 17 lowercase hex digits |
 * | access key id | `AKIA`, `ASIA`, `ABIA` or `ACCA` + upper-case letters and digits, 16-128 in all (IAM AccessKeyId) |
 * | IAM user / role name | `[\w+=,.@-]`, 1-64 (IAM UserName / RoleName) |
 * | instance profile name | `[\w+=,.@-]`, 1-128 |
 * | IAM path | `/`, or `/.../` of `!`-`~` (0x21-0x7E), up to 512, wildcards refused |
 * | S3 bucket name | general purpose bucket naming rules (3-63, lowercase letters, digits, `.`, `-`, ...) |
 * | CloudTrail trail name | 3-128 ASCII letters, digits, `.`, `_`, `-`; starts and ends with a letter or digit; no two of `._-` adjacent; not an IP address |
 * | account id | 12 digits |
 * | region, partition | as the AWS SDK's partition table spells them |
 * | GuardDuty finding / detector id | lowercase letters and digits, 1-300 |
 * | ECS task id | 32 lowercase hex digits, or a UUID (older tasks) |
 * | RDS DB instance / cluster / shard group identifier | a letter, then letters, digits and single hyphens, 1-63, not ending with `-` |
 * | Kubernetes namespace | RFC 1123 label: lowercase letters, digits and `-`, 1-63 |
 * | Kubernetes object name | RFC 1123 subdomain: lowercase letters, digits, `-` and `.`, 1-253 |
 * | Kubernetes workload | `namespace/name`, or the object's UID |
 * | Kubernetes user name | printable ASCII without whitespace or wildcards, 1-512 |
 * | database user name | a letter or `_`, then letters, digits and `_ $ . @ -`, 1-63 |
 * | S3 object | `bucket/key`: a bucket name and a key of 1-1024 printable ASCII characters without whitespace |
 *
 * Messages quote values with {@link quoteIdentifier}: truncated, JSON-escaped and ASCII-only, so a
 * hostile value can neither flood a report nor smuggle control characters into a log line.
 */
import { parseArn } from './normalize/read.js';

export { parseArn };

/** The parts of an ARN: `arn:partition:service:region:account:resource`. */
export type ArnParts = NonNullable<ReturnType<typeof parseArn>>;

const QUOTE_LIMIT = 64;

/**
 * A value as a message may show it: at most 64 characters, in double quotes, with control, non-ASCII
 * and quote characters escaped (`"i-0\nabc"`); longer values end with `...` and their length.
 */
export const quoteIdentifier = (value: unknown): string => {
  if (typeof value !== 'string') {
    return value === undefined ? 'undefined' : `a ${value === null ? 'null' : typeof value}`;
  }
  const shown = value.length > QUOTE_LIMIT ? value.slice(0, QUOTE_LIMIT) : value;
  const quoted = JSON.stringify(shown).replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return value.length > QUOTE_LIMIT ? `${quoted}... (${value.length} characters)` : quoted;
};

/** Why a value is not an identifier of a kind (without the value), or undefined when it is one. */
type Check = (value: string) => string | undefined;

export interface IdentifierKindSpec {
  /** What the identifier is, e.g. `EC2 instance id`. */
  description: string;
  check: Check;
}

const matches =
  (pattern: RegExp, expected: string): Check =>
  (value) =>
    pattern.test(value) ? undefined : `expected ${expected}`;

/** An EC2 resource id: the prefix and 8 (older resources) or 17 lowercase hex digits. */
const ec2Id = (prefix: string): Check =>
  matches(
    new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`),
    `"${prefix}-" and 8 or 17 lowercase hex digits`,
  );

const IAM_NAME_CHARS = /^[A-Za-z0-9_+=,.@-]+$/;

/** An IAM name (`[\w+=,.@-]`) of `min` to `max` characters. */
const iamName =
  (max: number, min = 1): Check =>
  (value) => {
    if (value.length < min || value.length > max) return `expected ${min}-${max} characters`;
    return IAM_NAME_CHARS.test(value) ? undefined : 'expected only letters, digits and _ + = , . @ -';
  };

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** S3 general purpose bucket naming rules (Amazon S3 User Guide, "General purpose bucket naming rules"). */
const bucketNameCheck: Check = (value) => {
  if (value.length < 3 || value.length > 63) return 'expected 3-63 characters';
  if (!/^[a-z0-9.-]+$/.test(value)) return 'expected only lowercase letters, digits, "." and "-"';
  if (!/^[a-z0-9]/.test(value) || !/[a-z0-9]$/.test(value)) {
    return 'must begin and end with a lowercase letter or digit';
  }
  if (value.includes('..')) return 'must not contain two adjacent periods';
  if (IPV4.test(value)) return 'must not be formatted as an IP address';
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) {
    if (value.startsWith(prefix)) return `must not start with the reserved prefix "${prefix}"`;
  }
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']) {
    if (value.endsWith(suffix)) return `must not end with the reserved suffix "${suffix}"`;
  }
  return undefined;
};

/** CloudTrail trail naming requirements (CloudTrail `InvalidTrailNameException`). */
const trailNameCheck: Check = (value) => {
  if (value.length < 3 || value.length > 128) return 'expected 3-128 characters';
  if (!/^[A-Za-z0-9._-]+$/.test(value)) return 'expected only ASCII letters, digits, ".", "_" and "-"';
  if (!/^[A-Za-z0-9]/.test(value) || !/[A-Za-z0-9]$/.test(value)) {
    return 'must start and end with a letter or digit';
  }
  if (/[._-]{2}/.test(value)) return 'must not have two adjacent periods, underscores or dashes';
  if (IPV4.test(value)) return 'must not be formatted as an IP address';
  return undefined;
};

/** An RFC 1123 DNS label, as Kubernetes names namespaces. */
const kubernetesLabel: Check = matches(
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
  'lowercase letters, digits and "-", 1-63, starting and ending with a letter or digit',
);

/** An RFC 1123 DNS subdomain, as Kubernetes names most objects. */
const kubernetesSubdomain: Check = (value) =>
  value.length <= 253 && /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(value) && !value.includes('..')
    ? undefined
    : 'expected lowercase letters, digits, "-" and ".", 1-253, starting and ending with a letter or digit';

const kubernetesWorkloadCheck: Check = (value) => {
  const slash = value.indexOf('/');
  if (slash < 0) {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)
      ? undefined
      : 'expected "namespace/name" or a UID';
  }
  const namespace = kubernetesLabel(value.slice(0, slash));
  if (namespace) return `namespace: ${namespace}`;
  const name = kubernetesSubdomain(value.slice(slash + 1));
  return name && `name: ${name}`;
};

/** An object key: 1-1024 printable ASCII characters (whitespace, control characters and wildcards refused). */
const s3KeyCheck: Check = (value) => {
  if (value.length > 1024) return 'expected at most 1024 characters';
  if (!/^[\x21-\x7e]+$/.test(value)) return 'expected printable ASCII characters without whitespace';
  if (/[*?]/.test(value)) return 'must not contain a wildcard';
  return undefined;
};

const s3ObjectCheck: Check = (value) => {
  const slash = value.indexOf('/');
  if (slash < 0) return 'expected "bucket/key"';
  const bucket = bucketNameCheck(value.slice(0, slash));
  if (bucket) return `bucket: ${bucket}`;
  const key = s3KeyCheck(value.slice(slash + 1));
  return key && `key: ${key}`;
};

/** `/`, or `/a/b/`: printable ASCII without wildcards, at most 512 characters. */
const iamPathCheck: Check = (value) => {
  if (value.length > 512) return 'expected at most 512 characters';
  if (!/^\/(?:[\x21-\x7e]+\/)?$/.test(value)) {
    return 'expected "/" or "/.../" of printable ASCII characters';
  }
  if (/[*?]/.test(value)) return 'must not contain a wildcard';
  return undefined;
};

/** EC2-style regions: `us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`, `eusc-de-east-1`. */
const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;

/** The AWS partitions (the AWS SDK's partition table). */
export const PARTITIONS: readonly string[] = [
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-e',
  'aws-iso-f',
  'aws-eusc',
];

/** Which regions belong to which partition, as the AWS SDK's partition table says (most specific first). */
const REGION_PARTITIONS: readonly [RegExp, string][] = [
  [/^us-gov-[a-z]+-\d+$/, 'aws-us-gov'],
  [/^us-iso-[a-z]+-\d+$/, 'aws-iso'],
  [/^us-isob-[a-z]+-\d+$/, 'aws-iso-b'],
  [/^eu-isoe-[a-z]+-\d+$/, 'aws-iso-e'],
  [/^us-isof-[a-z]+-\d+$/, 'aws-iso-f'],
  [/^eusc-de-[a-z]+-\d+$/, 'aws-eusc'],
  [/^cn-[a-z]+-\d+$/, 'aws-cn'],
  [/^(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d+$/, 'aws'],
];

/** The partition a region belongs to, or undefined when the region is in no partition known here. */
export const regionPartition = (region: string): string | undefined =>
  REGION_PARTITIONS.find(([pattern]) => pattern.test(region))?.[1];

/** The identifier kinds, what each is, and its grammar. */
export const IDENTIFIER_KINDS = {
  'instance-id': { description: 'EC2 instance id', check: ec2Id('i') },
  'volume-id': { description: 'EBS volume id', check: ec2Id('vol') },
  'snapshot-id': { description: 'EBS snapshot id', check: ec2Id('snap') },
  'security-group-id': { description: 'security group id', check: ec2Id('sg') },
  'network-interface-id': { description: 'network interface id', check: ec2Id('eni') },
  'vpc-id': { description: 'VPC id', check: ec2Id('vpc') },
  'subnet-id': { description: 'subnet id', check: ec2Id('subnet') },
  'instance-profile-association-id': {
    description: 'IAM instance profile association id',
    check: ec2Id('iip-assoc'),
  },
  /** IAM AccessKeyId: 16-128 characters; AWS issues them upper-case with these prefixes. */
  'access-key-id': {
    description: 'access key id',
    check: matches(
      /^(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,124}$/,
      'AKIA, ASIA, ABIA or ACCA and upper-case letters or digits, 16-128 characters',
    ),
  },
  /** The unique id IAM gives a user, role or instance profile (`AIDA...`, `AROA...`, `AIPA...`). */
  'iam-unique-id': {
    description: 'IAM unique id',
    check: matches(/^[A-Z0-9]{16,128}$/, '16-128 upper-case letters and digits'),
  },
  /**
   * What GuardDuty reports as `principalId`: a unique id, an account id (root), optionally followed by
   * `:` and a session or federated user name (`AROA...:i-0abc...`).
   */
  'principal-id': {
    description: 'principal id',
    check: matches(
      /^[A-Za-z0-9_]{1,128}(?::[A-Za-z0-9_+=,.@-]{1,64})?$/,
      'a unique id or account id, optionally ":" and a session name',
    ),
  },
  'iam-user-name': { description: 'IAM user name', check: iamName(64) },
  'iam-role-name': { description: 'IAM role name', check: iamName(64) },
  'role-session-name': { description: 'role session name', check: iamName(64, 2) },
  'instance-profile-name': { description: 'instance profile name', check: iamName(128) },
  'iam-path': { description: 'IAM path', check: iamPathCheck },
  's3-bucket-name': { description: 'S3 bucket name', check: bucketNameCheck },
  'cloudtrail-trail-name': { description: 'CloudTrail trail name', check: trailNameCheck },
  'account-id': { description: 'AWS account id', check: matches(/^\d{12}$/, '12 digits') },
  region: { description: 'AWS region', check: matches(REGION, 'a region such as "us-east-1"') },
  partition: {
    description: 'AWS partition',
    check: (value) => (PARTITIONS.includes(value) ? undefined : `expected one of ${PARTITIONS.join(', ')}`),
  },
  'guardduty-finding-id': {
    description: 'GuardDuty finding id',
    check: matches(/^[a-z0-9]{1,300}$/, '1-300 lowercase letters and digits'),
  },
  'guardduty-detector-id': {
    description: 'GuardDuty detector id',
    check: matches(/^[a-z0-9]{1,300}$/, '1-300 lowercase letters and digits'),
  },
  'eks-cluster-name': {
    description: 'EKS cluster name',
    check: matches(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/,
      'a letter or digit, then letters, digits, _ and -, 1-100',
    ),
  },
  'ecs-cluster-name': {
    description: 'ECS cluster name',
    check: matches(/^[A-Za-z0-9_-]{1,255}$/, '1-255 letters, digits, _ and -'),
  },
  'lambda-function-name': {
    description: 'Lambda function name',
    check: matches(/^[A-Za-z0-9_-]{1,64}$/, '1-64 letters, digits, _ and -'),
  },
  'rds-instance-identifier': {
    description: 'RDS DB instance or cluster identifier',
    check: (value) =>
      /^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){0,62}$/.test(value) && !value.endsWith('-')
        ? undefined
        : 'expected a letter, then letters, digits and single hyphens, 1-63, not ending with "-"',
  },
  'ecs-task-id': {
    description: 'ECS task id',
    check: matches(
      /^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
      '32 lowercase hex digits or a UUID',
    ),
  },
  'lambda-version': {
    description: 'Lambda function version',
    check: matches(/^(?:\$LATEST|[0-9]{1,10})$/, '"$LATEST" or a version number'),
  },
  'kubernetes-namespace': { description: 'Kubernetes namespace', check: kubernetesLabel },
  'kubernetes-name': { description: 'Kubernetes object name', check: kubernetesSubdomain },
  'kubernetes-uid': {
    description: 'Kubernetes UID',
    check: matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a lowercase UUID'),
  },
  /** A workload as a target names it: `namespace/name`, or its UID. */
  'kubernetes-workload': { description: 'Kubernetes workload', check: kubernetesWorkloadCheck },
  'kubernetes-username': {
    description: 'Kubernetes user name',
    check: (value) =>
      value.length > 512
        ? 'expected 1-512 characters'
        : !/^[\x21-\x7e]+$/.test(value)
          ? 'expected printable ASCII without whitespace'
          : /[*?]/.test(value)
            ? 'must not contain a wildcard'
            : undefined,
  },
  'database-user-name': {
    description: 'database user name',
    check: matches(
      /^[A-Za-z_][A-Za-z0-9_$.@-]{0,62}$/,
      'a letter or "_", then letters, digits and _ $ . @ -, 1-63',
    ),
  },
  /** An S3 object as a target names it: `bucket/key`. */
  's3-object': { description: 'S3 object (bucket/key)', check: s3ObjectCheck },
  's3-object-key': { description: 'S3 object key', check: s3KeyCheck },
  /** A container's runtime id or name. */
  container: {
    description: 'container id or name',
    check: matches(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/,
      'a letter or digit, then letters, digits, _ . and -',
    ),
  },
} satisfies Record<string, IdentifierKindSpec>;

export type IdentifierKind = keyof typeof IDENTIFIER_KINDS;

/**
 * Why `value` is not a valid identifier of `kind` (the message quotes the value safely), or undefined
 * when it is one. Anything that is not a non-empty string is refused.
 */
export const identifierProblem = (kind: IdentifierKind, value: unknown): string | undefined => {
  const { description, check } = IDENTIFIER_KINDS[kind];
  if (typeof value !== 'string') return `${quoteIdentifier(value)} is not a ${description} (not a string)`;
  if (value === '') return `the ${description} is empty`;
  const reason = check(value);
  return reason === undefined
    ? undefined
    : `${quoteIdentifier(value)} is not a valid ${description}: ${reason}`;
};

/** What an ARN must carry to belong to a finding. */
export interface ExpectedArn {
  /** The finding's partition. */
  partition: string;
  /** The finding's account (S3 bucket ARNs carry none; EC2 snapshot and image ARNs may carry none). */
  accountId: string;
  /** The finding's region, for regional services (IAM, STS and S3 ARNs carry none). */
  region?: string;
  /** The service(s) the ARN must name, e.g. `iam` or `['iam', 'sts']`. */
  service?: string | readonly string[];
  /** What the resource part must start with, e.g. `instance/` or `['role/', 'assumed-role/']`. */
  resourcePrefix?: string | readonly string[];
}

/** Services whose ARNs carry no region. */
const GLOBAL_SERVICES: ReadonlySet<string> = new Set([
  'iam',
  'sts',
  's3',
  'organizations',
  'cloudfront',
  'route53',
]);

const MAX_ARN_LENGTH = 2048;

/** `path/Name` after a resource type: the IAM path (`/` when absent) and the name. */
const iamPathAndName = (rest: string, nameKind: IdentifierKind): string | undefined => {
  const slash = rest.lastIndexOf('/');
  const path = slash === -1 ? '/' : `/${rest.slice(0, slash + 1)}`;
  return identifierProblem('iam-path', path) ?? identifierProblem(nameKind, rest.slice(slash + 1));
};

/** `Name/Session` of an assumed role. */
const assumedRole = (rest: string): string | undefined => {
  const [role, session, extra] = rest.split('/');
  if (session === undefined || extra !== undefined) return 'expected assumed-role/RoleName/SessionName';
  return identifierProblem('iam-role-name', role) ?? identifierProblem('role-session-name', session);
};

/** Resource shapes checked within ARNs of these services: resource type prefix -> check of the rest. */
const RESOURCE_SHAPES: Record<string, Record<string, (rest: string) => string | undefined>> = {
  iam: {
    'role/': (rest) => iamPathAndName(rest, 'iam-role-name'),
    'user/': (rest) => iamPathAndName(rest, 'iam-user-name'),
    'instance-profile/': (rest) => iamPathAndName(rest, 'instance-profile-name'),
  },
  sts: {
    'assumed-role/': assumedRole,
    'federated-user/': (rest) => identifierProblem('iam-user-name', rest),
  },
  ec2: {
    'instance/': (rest) => identifierProblem('instance-id', rest),
    'volume/': (rest) => identifierProblem('volume-id', rest),
    'snapshot/': (rest) => identifierProblem('snapshot-id', rest),
    'security-group/': (rest) => identifierProblem('security-group-id', rest),
    'network-interface/': (rest) => identifierProblem('network-interface-id', rest),
  },
  cloudtrail: { 'trail/': (rest) => identifierProblem('cloudtrail-trail-name', rest) },
  guardduty: {
    'detector/': (rest) => {
      const [detector, finding, id, extra] = rest.split('/');
      if (finding === undefined) return identifierProblem('guardduty-detector-id', detector);
      if (finding !== 'finding' || extra !== undefined)
        return 'expected detector/ID or detector/ID/finding/ID';
      return (
        identifierProblem('guardduty-detector-id', detector) ?? identifierProblem('guardduty-finding-id', id)
      );
    },
  },
  eks: { 'cluster/': (rest) => identifierProblem('eks-cluster-name', rest) },
  ecs: {
    'cluster/': (rest) => identifierProblem('ecs-cluster-name', rest),
    'task/': (rest) => {
      // task/ID (old format) or task/cluster/ID
      const [first, second, extra] = rest.split('/');
      if (extra !== undefined) return 'expected task/ID or task/cluster/ID';
      return second === undefined
        ? identifierProblem('ecs-task-id', first)
        : (identifierProblem('ecs-cluster-name', first) ?? identifierProblem('ecs-task-id', second));
    },
  },
  rds: {
    'db:': (rest) => identifierProblem('rds-instance-identifier', rest),
    'cluster:': (rest) => identifierProblem('rds-instance-identifier', rest),
  },
  lambda: {
    'function:': (rest) =>
      identifierProblem('lambda-function-name', rest.replace(/:[A-Za-z0-9$_-]{1,128}$/, '')),
  },
};

const asList = (value: string | readonly string[]): readonly string[] =>
  typeof value === 'string' ? [value] : value;

/** Why the resource part of a well-formed ARN is not what its service gives, or undefined. */
const resourceProblem = (service: string, resource: string): string | undefined => {
  if (service === 's3') {
    const slash = resource.indexOf('/');
    return identifierProblem('s3-bucket-name', slash === -1 ? resource : resource.slice(0, slash));
  }
  const shapes = RESOURCE_SHAPES[service];
  if (!shapes) return undefined;
  for (const [prefix, check] of Object.entries(shapes)) {
    if (resource.startsWith(prefix)) return check(resource.slice(prefix.length));
  }
  return undefined;
};

/**
 * Why `arn` does not belong to the finding that names it, or undefined when it does: it must be a
 * well-formed ARN (printable ASCII, no wildcard) in the finding's partition and account, in the
 * finding's region for regional services (IAM, STS and S3 ARNs carry no region; S3 bucket ARNs carry
 * no account), of the expected service and resource type, and with a resource of valid identifiers
 * where the shape is known (`instance/i-...`, `role/path/Name`, `trail/Name`, bucket names, ...).
 */
export const arnProblem = (arn: unknown, expected: ExpectedArn): string | undefined => {
  if (typeof arn !== 'string') return `${quoteIdentifier(arn)} is not an ARN (not a string)`;
  const quoted = quoteIdentifier(arn);
  if (arn.length > MAX_ARN_LENGTH) return `${quoted} is longer than ${MAX_ARN_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(arn)) {
    return `${quoted} is not an ARN: it contains whitespace, control or non-ASCII characters`;
  }
  if (/[*?]/.test(arn)) return `${quoted} contains a wildcard`;
  const parts = parseArn(arn);
  if (!parts) return `${quoted} is not an ARN (arn:partition:service:region:account:resource)`;
  const { partition, service, region, account, resource } = parts;

  if (partition !== expected.partition) {
    return `${quoted} is in partition "${partition}", not the finding's partition "${expected.partition}"`;
  }
  if (expected.service !== undefined && !asList(expected.service).includes(service)) {
    return `${quoted} is a "${service}" ARN, expected ${asList(expected.service)
      .map((name) => `"${name}"`)
      .join(' or ')}`;
  }
  if (!/^[a-z0-9-]+$/.test(service)) return `${quoted} names no valid service`;

  if (GLOBAL_SERVICES.has(service)) {
    if (region !== '') return `${quoted} carries region "${region}", but ${service} ARNs carry none`;
  } else if (!REGION.test(region)) {
    return `${quoted} carries no valid region`;
  } else if (expected.region !== undefined && region !== expected.region) {
    return `${quoted} is in region "${region}", not the finding's region "${expected.region}"`;
  }

  const accountless =
    service === 's3' || (service === 'ec2' && /^(?:snapshot|image)\//.test(resource) && account === '');
  if (service === 's3') {
    if (account !== '') return `${quoted} carries account "${account}", but S3 bucket ARNs carry none`;
  } else if (!accountless && account !== expected.accountId) {
    return account === ''
      ? `${quoted} carries no account, expected the finding's account ${expected.accountId}`
      : `${quoted} is in account "${account}", not the finding's account ${expected.accountId}`;
  }

  if (expected.resourcePrefix !== undefined) {
    const prefixes = asList(expected.resourcePrefix);
    if (!prefixes.some((prefix) => resource.startsWith(prefix))) {
      return `${quoted} names no ${prefixes.map((prefix) => `"${prefix}..."`).join(' or ')} resource`;
    }
  }
  const problem = resourceProblem(service, resource);
  return problem === undefined ? undefined : `${quoted} names an invalid resource: ${problem}`;
};
