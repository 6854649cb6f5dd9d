import { describe, expect, it } from 'vitest';
import type { ActionTarget } from '../../src/action.js';
import { outOfScopeReason, resourceIdentifiers } from '../../src/engine/scope.js';
import type { Finding, Resource, ResourceKind } from '../../src/finding.js';
import { normalizeFinding } from '../../src/normalize/index.js';
import { fixtureJson, withValue } from '../helpers/fixtures.js';

const target = (finding: Finding, kind: ResourceKind, id: string, arn?: string): ActionTarget => ({
  kind,
  id,
  ...(arn === undefined ? {} : { arn }),
  accountId: finding.accountId,
  region: finding.region,
  label: `${kind} ${id}`,
});

const only = (finding: Finding, kind: ResourceKind): Resource => {
  const found = finding.resources.filter((resource) => resource.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('identifiers of the new resource kinds', () => {
  it.each([
    [
      'documented',
      '06',
      'ecs-task',
      [
        'arn:aws:ecs:us-east-1:123456789012:task/checkout/9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4',
        '9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4',
      ],
    ],
    [
      'cdk-eks-blueprints-patterns',
      '01',
      'kubernetes-workload',
      ['argocd/privileged-pod', '33a3c89e-3280-474d-b8cb-fdf03394fc15'],
    ],
    [
      'cdk-eks-blueprints-patterns',
      '01',
      'kubernetes-user',
      ['system:serviceaccount:argocd:argocd-application-controller', '1871d525-442e-487f-ae60-81336d1ff0cf'],
    ],
    [
      'documented',
      '07',
      'rds-limitless-db',
      [
        'orders-shard-group',
        'arn:aws:rds:us-east-1:123456789012:shard-group:shardgroup-2f7a9c1e3b5d4f6a8c0e2b4d6f8a0c2e',
      ],
    ],
    [
      'documented',
      '07',
      'rds-cluster',
      ['orders-limitless', 'arn:aws:rds:us-east-1:123456789012:cluster:orders-limitless'],
    ],
    ['documented', '07', 'rds-user', ['orders_app']],
    [
      'documented',
      '09',
      's3-object',
      [
        'customer-uploads-prod/incoming/2025/02/invoice-7731.pdf.exe',
        'arn:aws:s3:::customer-uploads-prod/incoming/2025/02/invoice-7731.pdf.exe',
      ],
    ],
  ] as const)('%s/%s names its %s by %j', (folder, number, kind, ids) => {
    expect(resourceIdentifiers(only(normalizeFinding(fixtureJson(folder, number)), kind))).toEqual(ids);
  });
});

describe('scope check over the new kinds', () => {
  it.each([
    [
      'documented',
      '06',
      'ecs-task',
      'arn:aws:ecs:us-east-1:123456789012:task/checkout/9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4',
    ],
    ['documented', '06', 'ecs-task', '9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4'],
    ['cdk-eks-blueprints-patterns', '01', 'kubernetes-workload', 'argocd/privileged-pod'],
    [
      'cdk-eks-blueprints-patterns',
      '01',
      'kubernetes-user',
      'system:serviceaccount:argocd:argocd-application-controller',
    ],
    ['documented', '07', 'rds-limitless-db', 'orders-shard-group'],
    ['documented', '07', 'rds-cluster', 'orders-limitless'],
    ['documented', '07', 'rds-user', 'orders_app'],
    ['documented', '09', 's3-object', 'customer-uploads-prod/incoming/2025/02/invoice-7731.pdf.exe'],
    ['documented', '05', 'lambda-function', 'invoice-renderer'],
  ] as const)('accepts %s/%s %s %s', (folder, number, kind, id) => {
    const finding = normalizeFinding(fixtureJson(folder, number));

    expect(outOfScopeReason(finding, target(finding, kind, id))).toBeUndefined();
  });

  it('refuses a workload the finding does not name', () => {
    const finding = normalizeFinding(fixtureJson('cdk-eks-blueprints-patterns', '01'));

    expect(
      outOfScopeReason(finding, target(finding, 'kubernetes-workload', 'kube-system/coredns')),
    ).toContain('names no kubernetes-workload');
  });

  it('refuses a workload whose name is not a Kubernetes name', () => {
    const input = withValue(
      fixtureJson('documented', '02'),
      ['resource', 'kubernetesDetails', 'kubernetesWorkloadDetails', 'name'],
      'a'.repeat(300),
    );
    const finding = normalizeFinding(input);

    expect(
      outOfScopeReason(finding, target(finding, 'kubernetes-workload', `payments/${'a'.repeat(300)}`)),
    ).toMatch(/not a valid Kubernetes/);
  });

  it('refuses an ECS task ARN of another account', () => {
    const finding = normalizeFinding(fixtureJson('documented', '06'));
    const arn = 'arn:aws:ecs:us-east-1:210987654321:task/checkout/9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4';

    expect(outOfScopeReason(finding, target(finding, 'ecs-task', arn))).toContain('210987654321');
  });

  it('refuses a database user name that could be SQL', () => {
    const input = withValue(
      fixtureJson('documented', '07'),
      ['resource', 'rdsDbUserDetails', 'user'],
      "x'; DROP ROLE admin; --",
    );
    const finding = normalizeFinding(input);

    expect(outOfScopeReason(finding, target(finding, 'rds-user', "x'; DROP ROLE admin; --"))).toMatch(
      /not a valid database user name/,
    );
  });

  it('refuses an object key with a wildcard', () => {
    const input = withValue(
      fixtureJson('documented', '09'),
      ['detail', 'resource', 's3BucketDetails', 0, 's3ObjectDetails', 0],
      {
        key: 'incoming/*',
      },
    );
    const finding = normalizeFinding(input);

    expect(
      outOfScopeReason(finding, target(finding, 's3-object', 'customer-uploads-prod/incoming/*')),
    ).toMatch(/wildcard/);
  });

  it('refuses a Lambda function whose execution role is in another account', () => {
    const input = withValue(
      fixtureJson('documented', '05'),
      ['resource', 'lambdaDetails', 'role'],
      'arn:aws:iam::210987654321:role/invoice-renderer-execution',
    );
    const finding = normalizeFinding(input);

    expect(outOfScopeReason(finding, target(finding, 'lambda-function', 'invoice-renderer'))).toContain(
      'role',
    );
  });

  it('allows an S3 object target of another region, as for buckets', () => {
    const finding = normalizeFinding(fixtureJson('documented', '09'));
    const elsewhere = {
      ...target(finding, 's3-object', 'customer-uploads-prod/incoming/2025/02/invoice-7731.pdf.exe'),
      region: 'eu-west-1',
    };

    expect(outOfScopeReason(finding, elsewhere)).toBeUndefined();
  });
});
