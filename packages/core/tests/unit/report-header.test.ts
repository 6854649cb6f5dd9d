import { describe, expect, it } from 'vitest';
import { normalizeFinding } from '../../src/normalize/index.js';
import { describeResource, formatFindingHeader } from '../../src/report.js';
import { fixtureJson } from '../helpers/fixtures.js';

const described = (folder: string, number: string): string[] =>
  normalizeFinding(fixtureJson(folder, number)).resources.map(describeResource);

describe('describeResource for the resources of every kind', () => {
  it('describes a Kubernetes workload and user with their cluster and groups', () => {
    expect(described('cdk-eks-blueprints-patterns', '01')).toEqual([
      'EKS cluster guardduty-blueprint',
      'Kubernetes pods argocd/privileged-pod in guardduty-blueprint',
      'Kubernetes user system:serviceaccount:argocd:argocd-application-controller (system:serviceaccounts, system:serviceaccounts:argocd, system:authenticated)',
    ]);
  });

  it('describes an RDS shard group, its cluster and the database user', () => {
    expect(described('documented', '07')).toEqual([
      'RDS Limitless DB shard group orders-shard-group of cluster orders-limitless',
      'RDS cluster orders-limitless (aurora-postgresql)',
      'database user orders_app on orders (orders-limitless) via psql',
    ]);
  });

  it('describes an ECS task, a Lambda function and an S3 object', () => {
    expect(described('documented', '06')[1]).toBe(
      'ECS task arn:aws:ecs:us-east-1:123456789012:task/checkout/9b8a7c6d5e4f43a2b1c0d9e8f7a6b5c4 (FARGATE)',
    );
    expect(described('documented', '05')).toEqual([
      'Lambda function invoice-renderer:$LATEST, role arn:aws:iam::123456789012:role/invoice-renderer-execution',
    ]);
    expect(described('documented', '09')[1]).toBe(
      'S3 object s3://customer-uploads-prod/incoming/2025/02/invoice-7731.pdf.exe version KBy8_m1r2a3n4d5o6m7v8e9r0s1i2o3n',
    );
  });
});

describe('formatFindingHeader', () => {
  it('shows the process of a runtime finding with its parent', () => {
    expect(formatFindingHeader(normalizeFinding(fixtureJson('documented', '06')))).toContain(
      '  process bash /usr/bin/bash pid 7245 as root, parent sh',
    );
  });

  it('shows the attack sequence and every remote address', () => {
    const lines = formatFindingHeader(normalizeFinding(fixtureJson('documented', '01')));

    expect(lines).toContain('  actor 203.0.113.1; also 198.51.100.7');
    expect(lines).toContain(
      '  attack sequence 123456789012-184ec3b9-cf8d-452d-9aad-f5bdb7afb010: 3 signals, 1 actors, 2 endpoints, 4 resources',
    );
  });
});
