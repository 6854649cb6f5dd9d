import { readdirSync, readFileSync } from 'node:fs';
import {
  arnProblem,
  IDENTIFIER_KINDS,
  type IdentifierKind,
  identifierProblem,
  normalize,
  PARTITIONS,
  parseArn,
  quoteIdentifier,
  regionPartition,
} from '@riposte/core';
import { describe, expect, it } from 'vitest';

const FIXTURES = new URL('../fixtures/findings/', import.meta.url);
const SCENARIO = new URL('../../../../examples/scenario/findings/', import.meta.url);

/** Every finding of the shared real-shaped samples and of the scenario, normalized. */
const realFindings = () =>
  [
    ...['cloud-custodian', 'elastic-integrations'].map((folder) => new URL(`${folder}/`, FIXTURES)),
    SCENARIO,
  ].flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .flatMap((name) => normalize(JSON.parse(readFileSync(new URL(name, dir), 'utf8')))),
  );

/** Values taken from the real samples (tests/fixtures/findings, examples/scenario) and AWS documentation. */
const VALID: Record<IdentifierKind, string[]> = {
  'instance-id': ['i-0a1b2c3d4e5f67890', 'i-99999999', 'i-abcd1234'],
  'volume-id': ['vol-0123456789abcdef0', 'vol-12345678'],
  'snapshot-id': ['snap-0123456789abcdef0', 'snap-1234abcd'],
  'security-group-id': ['sg-0abc1234def567892', 'sg-abcd1234'],
  'network-interface-id': ['eni-0f1e2d3c4b5a69788', 'eni-abcd1234', 'eni-bfcffe88'],
  'vpc-id': ['vpc-0abc1234def567890', 'vpc-abcd1234'],
  'subnet-id': ['subnet-0abc1234def567891', 'subnet-abcd1234'],
  'instance-profile-association-id': ['iip-assoc-0e7736511a163c209', 'iip-assoc-12345678'],
  'access-key-id': [
    'ASIAEXAMPLEKEY123456',
    'ASIAEXAMPLEROOT12345',
    'AKIAIPRJCJL6BOF6DPMA',
    'ASIAIVZZF5WVGTXTJ2TQ',
    'ASIAJZ3DXJKMP7MG3EKA',
    'ASIASZ4SI7REEEXAMPLE',
    `AKIA${'A'.repeat(124)}`,
  ],
  'iam-unique-id': ['AIPAEXAMPLEPROFILE123', 'AROAEXAMPLEROLEID1234', 'AIDACKCEVSQ6C2EXAMPLE'],
  'principal-id': ['AROAEXAMPLEROLEID1234:i-0a1b2c3d4e5f67890', 'AIDACKCEVSQ6C2EXAMPLE', '973743533182'],
  'iam-user-name': [
    'brent.clements',
    'kapil',
    'testuser',
    'Root',
    'jane+ops=x,y@example.com',
    'a'.repeat(64),
  ],
  'iam-role-name': ['app-server-s3-full', 'ci-deployer', 'AWSReservedSSO_Admin_0123456789abcdef'],
  'role-session-name': ['i-0a1b2c3d4e5f67890', 'build-42'],
  'instance-profile-name': ['app-server-profile', 'buildserver_profile', 'p'.repeat(128)],
  'iam-path': ['/', '/division_abc/subdivision_xyz/', '/service-role/'],
  's3-bucket-name': [
    'acme-customer-exports',
    'docexamplebucket1',
    'my.example.bucket',
    'abc',
    'a'.repeat(63),
  ],
  'cloudtrail-trail-name': ['org-audit-trail', 'GeneratedFindingTrailName', 'My_Trail.2', 'abc'],
  'account-id': ['111122223333', '973743533182', '123456789012'],
  region: ['us-east-1', 'us-gov-west-1', 'cn-north-1', 'eu-central-2', 'us-isob-east-1', 'eusc-de-east-1'],
  partition: [...PARTITIONS],
  'guardduty-finding-id': ['7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01', '1ab92989eaf0e742df4a014d5example', '1234'],
  'guardduty-detector-id': ['12abc34d567e8fa901bc2d34e56789f0', 'd4b040365221be2b54a6264dcexample'],
  'eks-cluster-name': ['cleanroom-test-eks', 'GeneratedFindingEKSClusterName'],
  'ecs-cluster-name': ['default', 'prod_cluster-1'],
  'lambda-function-name': ['riposte', 'my-function_1'],
  'rds-instance-identifier': ['GeneratedFindingDBInstanceId', 'database-1'],
  container: ['abcd1234', 'ecs-agent', 'k8s_app.1'],
  'ecs-task-id': ['1234567890abcdef1234567890abcdef', '0a1b2c3d-4e5f-6789-abcd-ef0123456789'],
  'lambda-version': ['$LATEST', '1', '42'],
  'kubernetes-namespace': ['default', 'kube-system', 'argocd', 'a'.repeat(63)],
  'kubernetes-name': ['privileged-pod', 'coredns-7f6b8c9d4-abcde', 'app.v1', 'a'.repeat(253)],
  'kubernetes-uid': ['33a3c89e-3280-474d-b8cb-fdf03394fc15'],
  'kubernetes-workload': ['argocd/privileged-pod', 'default/web.v2', '33a3c89e-3280-474d-b8cb-fdf03394fc15'],
  'kubernetes-username': [
    'system:serviceaccount:argocd:argocd-application-controller',
    'kubernetes-admin',
    'arn:aws:sts::123456789012:assumed-role/eks-admin/session',
    'system:masters',
  ],
  'database-user-name': ['postgres', 'app_user', 'rdsadmin', 'svc.reporting@corp'],
  's3-object': ['acme-uploads/incoming/invoice.pdf', 'acme-uploads/a'],
  's3-object-key': ['incoming/invoice.pdf', 'eicar.com', 'a'.repeat(1024)],
};

/** Refused for every kind: wildcards, whitespace, control characters, look-alike unicode, empty. */
const REFUSED_EVERYWHERE = [
  '*',
  '?',
  'i-0*',
  ' ',
  'a b',
  'a\nb',
  'a\u0000b',
  '\u0456-0a1b2c3d',
  'snap\u2028',
  '',
];

/** Refused per kind, beyond the above. */
const INVALID: Record<IdentifierKind, string[]> = {
  'instance-id': [
    'i-0*',
    'i-*',
    'i-0A1B2C3D4E5F67890',
    'i-0a1b2c3d4e5f6789',
    'i-1234567',
    'i-0a1b2c3d ',
    ' i-0a1b2c3d',
    'i-0a1b2c3d\n',
    'vol-0a1b2c3d',
    'i-0a1b2c3d,i-0a1b2c3e',
    'GeneratedFindingInstanceId',
  ],
  'volume-id': ['vol-*', 'vol-0123456789abcdef', 'i-12345678'],
  'snapshot-id': ['snap-*', 'snap-123'],
  'security-group-id': ['GeneratedFindingSecurityId', 'sg-*', 'sg-abcd123'],
  'network-interface-id': ['eni-abcdef888', 'eni-*'],
  'vpc-id': ['GeneratedFindingVPCId', 'vpc-*'],
  'subnet-id': ['GeneratedFindingSubnetId', 'subnet-'],
  'instance-profile-association-id': ['iip-assoc-*', 'iip-assoc-zzzzzzzz'],
  'access-key-id': [
    'GeneratedFindingAccessKeyId',
    'AKIA*',
    'ASIAexamplekey123456',
    'ASIA12345678901',
    `AKIA${'A'.repeat(125)}`,
    'AIDACKCEVSQ6C2EXAMPLE',
  ],
  'iam-unique-id': ['GeneratedFindingInstanceProfileId', 'AIPA123'],
  'principal-id': ['AROA:*', 'AROAEXAMPLE:a b'],
  'iam-user-name': ['a'.repeat(65), 'arn:aws:iam::111122223333:user/x', 'user/x', 'ex*'],
  'iam-role-name': ['role*', 'a'.repeat(65), 'arn:aws:iam::999999999999:role/X', 'X/Y'],
  'role-session-name': ['a', 'a b', 'x'.repeat(65)],
  'instance-profile-name': ['p'.repeat(129), 'a/b'],
  'iam-path': ['a/', '/a', '//', '/a*/', '/a?/', `/${'a'.repeat(511)}/`, '/a b/'],
  's3-bucket-name': [
    'bucketName',
    'ab',
    'a'.repeat(64),
    '-bucket',
    'bucket-',
    'my..bucket',
    '192.168.5.4',
    'xn--bucket',
    'sthree-bucket',
    'amzn-s3-demo-bucket',
    'bucket-s3alias',
    'bucket--ol-s3',
    'bucket.mrap',
    'my_bucket',
    'bucket,other',
  ],
  'cloudtrail-trail-name': [
    'ab',
    'a'.repeat(129),
    'my--trail',
    'my-_trail',
    'my._trail',
    'my..trail',
    '_trail',
    'trail-',
    '192.168.5.4',
    'my trail',
    'trail/x',
  ],
  'account-id': ['123456789', '0123456789101', '11112222333a', '*'],
  region: ['US-EAST-1', 'us-east', 'useast1', 'us-east-123', 'us-*-1'],
  partition: ['aws-moon', 'AWS', 'aws*'],
  'guardduty-finding-id': ['7EC8A2F6', 'a'.repeat(301), 'abc-def'],
  'guardduty-detector-id': ['abc/def', 'a'.repeat(301)],
  'eks-cluster-name': ['-cluster', 'a'.repeat(101)],
  'ecs-cluster-name': ['a'.repeat(256), 'a.b'],
  'lambda-function-name': ['a'.repeat(65), 'fn.1'],
  'rds-instance-identifier': ['1db', 'db--1', 'db-', 'a'.repeat(64)],
  container: ['-x', 'a/b'],
  'ecs-task-id': ['1234567890ABCDEF1234567890ABCDEF', 'abc', 'task/abc'],
  'lambda-version': ['latest', '$LATEST1', '1.0'],
  'kubernetes-namespace': ['Default', '-ns', 'ns-', 'a'.repeat(64), 'a.b'],
  'kubernetes-name': ['Pod', '-pod', 'pod-', 'a..b', 'a'.repeat(254)],
  'kubernetes-uid': ['33A3C89E-3280-474D-B8CB-FDF03394FC15', 'GeneratedFindingUID'],
  'kubernetes-workload': ['privileged-pod', 'Argocd/pod', 'argocd/Pod', '/pod', 'argocd/'],
  'kubernetes-username': ['a'.repeat(513)],
  'database-user-name': ['1user', 'user;drop', 'a'.repeat(64), "o'brien"],
  's3-object': ['no-key', 'Bucket/key', 'acme-uploads/'],
  's3-object-key': ['a'.repeat(1025)],
};

const KINDS = Object.keys(IDENTIFIER_KINDS) as IdentifierKind[];

describe('identifierProblem', () => {
  it.each(KINDS.flatMap((kind) => VALID[kind].map((value) => [kind, value] as const)))(
    'accepts the %s %j',
    (kind, value) => {
      expect(identifierProblem(kind, value)).toBeUndefined();
    },
  );

  it.each(
    KINDS.flatMap((kind) => [...INVALID[kind], ...REFUSED_EVERYWHERE].map((value) => [kind, value] as const)),
  )('refuses as %s the value %j', (kind, value) => {
    expect(identifierProblem(kind, value)).toEqual(expect.any(String));
  });

  it.each([42, null, undefined, {}, ['i-12345678']])('refuses a value that is not a string: %j', (value) => {
    expect(identifierProblem('instance-id', value)).toContain('not a string');
  });

  it('says which kind and why, quoting the value', () => {
    expect(identifierProblem('instance-id', 'i-0*')).toBe(
      '"i-0*" is not a valid EC2 instance id: expected "i-" and 8 or 17 lowercase hex digits',
    );
    expect(identifierProblem('account-id', '')).toBe('the AWS account id is empty');
  });

  it('quotes a hostile value escaped, truncated and on one line', () => {
    const hostile = `i-\u001b[31m\n${'x'.repeat(500)}\u202e`;

    const problem = identifierProblem('instance-id', hostile)!;

    expect(problem).toMatch(/^[\x20-\x7e]*$/);
    expect(problem).toContain('\\u001b[31m\\n');
    expect(problem).toContain('(509 characters)');
    expect(problem.length).toBeLessThan(250);
  });

  it('keeps every id of the real samples and the scenario valid', () => {
    const findings = realFindings();
    expect(findings.length).toBeGreaterThan(50);

    for (const finding of findings) {
      expect(identifierProblem('guardduty-finding-id', finding.id)).toBeUndefined();
      const detector = finding.arn && /detector\/([^/]+)/.exec(finding.arn)?.[1];
      if (detector) expect(identifierProblem('guardduty-detector-id', detector)).toBeUndefined();
      expect(identifierProblem('region', finding.region)).toBeUndefined();
      expect(identifierProblem('partition', finding.partition)).toBeUndefined();
    }
  });
});

describe('quoteIdentifier', () => {
  it('shows short values whole, JSON-quoted', () => {
    expect(quoteIdentifier('i-0abc')).toBe('"i-0abc"');
    expect(quoteIdentifier('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('escapes control and non-ASCII characters', () => {
    expect(quoteIdentifier('a\nb\u0000\u00e9\u202e')).toBe('"a\\nb\\u0000\\u00e9\\u202e"');
  });

  it('cuts values after 64 characters and says how long they were', () => {
    expect(quoteIdentifier('a'.repeat(100))).toBe(`"${'a'.repeat(64)}"... (100 characters)`);
  });
});

describe('regionPartition', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    ['mx-central-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['us-isof-south-1', 'aws-iso-f'],
    ['eusc-de-east-1', 'aws-eusc'],
    ['zz-moon-1', undefined],
  ])('puts %s in %s', (region, partition) => {
    expect(regionPartition(region)).toBe(partition);
  });
});

describe('parseArn', () => {
  it('splits an ARN into its parts', () => {
    expect(parseArn('arn:aws:iam::111122223333:instance-profile/app-server-profile')).toEqual({
      partition: 'aws',
      service: 'iam',
      region: '',
      account: '111122223333',
      resource: 'instance-profile/app-server-profile',
    });
  });
});

describe('arnProblem', () => {
  const finding = { partition: 'aws', accountId: '111122223333', region: 'us-east-1' };

  it.each([
    [
      'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f67890',
      { service: 'ec2', resourcePrefix: 'instance/' },
    ],
    ['arn:aws:iam::111122223333:instance-profile/app-server-profile', { service: 'iam' }],
    ['arn:aws:iam::111122223333:role/service-role/ci-deployer', { service: 'iam', resourcePrefix: 'role/' }],
    [
      'arn:aws:sts::111122223333:assumed-role/app-server-s3-full/i-0a1b2c3d4e5f67890',
      { service: ['iam', 'sts'] },
    ],
    ['arn:aws:s3:::acme-customer-exports', { service: 's3' }],
    ['arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit-trail', { service: 'cloudtrail' }],
    ['arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0', { service: 'ec2' }],
    [
      'arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01',
      { service: 'guardduty' },
    ],
  ])('accepts %s', (arn, expected) => {
    expect(arnProblem(arn, { ...finding, ...expected })).toBeUndefined();
  });

  it.each([
    [
      'arn:aws:iam::999999999999:role/X',
      'is in account "999999999999", not the finding\'s account 111122223333',
    ],
    ['arn:aws-cn:iam::111122223333:role/X', 'is in partition "aws-cn", not the finding\'s partition "aws"'],
    [
      'arn:aws:ec2:us-west-2:111122223333:instance/i-12345678',
      'is in region "us-west-2", not the finding\'s region "us-east-1"',
    ],
    ['arn:aws:iam:us-east-1:111122223333:role/X', 'carries region "us-east-1", but iam ARNs carry none'],
    ['arn:aws:s3::111122223333:bucket-name', 'carries account "111122223333", but S3 bucket ARNs carry none'],
    ['arn:aws:iam:::role/X', 'carries no account'],
    ['arn:aws:iam::111122223333:role/*', 'contains a wildcard'],
    ['arn:aws:iam::111122223333:role/a b', 'whitespace, control or non-ASCII'],
    ['arn:aws:iam::111122223333:role/X\n', 'whitespace, control or non-ASCII'],
    ['arn:aws:ec2:us-east-1:111122223333:instance/i-0*', 'contains a wildcard'],
    ['arn:aws:ec2:us-east-1:111122223333:instance/I-12345678', 'not a valid EC2 instance id'],
    ['arn:aws:sts::111122223333:assumed-role/X', 'expected assumed-role/RoleName/SessionName'],
    ['arn:aws:s3:::Bucket', 'not a valid S3 bucket name'],
    ['not-an-arn', 'is not an ARN'],
    ['GeneratedFindingInstanceProfileArn', 'is not an ARN'],
    [`arn:aws:s3:::${'a'.repeat(3000)}`, 'longer than 2048'],
  ])('refuses %j: %s', (arn, reason) => {
    expect(arnProblem(arn, finding)).toContain(reason);
  });

  it('refuses another service or resource type than expected', () => {
    expect(arnProblem('arn:aws:iam::111122223333:user/x', { ...finding, service: 'sts' })).toContain(
      'is a "iam" ARN, expected "sts"',
    );
    expect(
      arnProblem('arn:aws:iam::111122223333:example/instance/profile', {
        ...finding,
        resourcePrefix: 'instance-profile/',
      }),
    ).toContain('names no "instance-profile/..." resource');
  });

  it('refuses what is not a string', () => {
    expect(arnProblem(42, finding)).toContain('not a string');
  });
});
