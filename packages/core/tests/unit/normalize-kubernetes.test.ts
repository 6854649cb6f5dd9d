import { describe, expect, it } from 'vitest';
import { resourcesOfKind } from '../../src/finding.js';
import { normalizeFinding } from '../../src/normalize/index.js';
import { fixtureJson, formatError, withValue } from '../helpers/fixtures.js';

/** A real PrivilegeEscalation:Kubernetes/PrivilegedContainer GetFindings response (PascalCase). */
const privilegedContainer = () => fixtureJson('cdk-eks-blueprints-patterns', '01');
/** AttackSequence:EKS/CompromisedCluster, with every field of the workload block. */
const eksSequence = () => fixtureJson('documented', '02');
/** A real Security Hub event whose Kubernetes user details are flattened into Details.Other. */
const asffEks = () => fixtureJson('aws-solutions-library-samples', '01');

const WORKLOAD = ['resource', 'kubernetesDetails', 'kubernetesWorkloadDetails'];
const FINDING = ['Findings', 0];

describe('Kubernetes workload and user (kubernetesDetails)', () => {
  it('reads the workload and the user of a real finding, with the cluster name', () => {
    // Act
    const finding = normalizeFinding(privilegedContainer());

    // Assert
    expect(finding.resources.map((resource) => resource.kind)).toEqual([
      'eks-cluster',
      'kubernetes-workload',
      'kubernetes-user',
    ]);
    expect(resourcesOfKind(finding, 'kubernetes-workload')).toEqual([
      {
        kind: 'kubernetes-workload',
        clusterName: 'guardduty-blueprint',
        namespace: 'argocd',
        name: 'privileged-pod',
        type: 'pods',
        uid: '33a3c89e-3280-474d-b8cb-fdf03394fc15',
        labels: {},
        hostNetwork: false,
        containers: [{ name: 'app', image: 'centos', privileged: true }],
        volumes: [],
      },
    ]);
    expect(resourcesOfKind(finding, 'kubernetes-user')).toEqual([
      {
        kind: 'kubernetes-user',
        clusterName: 'guardduty-blueprint',
        username: 'system:serviceaccount:argocd:argocd-application-controller',
        uid: '1871d525-442e-487f-ae60-81336d1ff0cf',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'],
      },
    ]);
  });

  it('reads host namespaces, the service account, security contexts and host-path volumes', () => {
    const [workload] = resourcesOfKind(normalizeFinding(eksSequence()), 'kubernetes-workload');

    expect(workload).toEqual({
      kind: 'kubernetes-workload',
      clusterName: 'payments-prod',
      namespace: 'payments',
      name: 'build-runner-6d9f7c8b5d-x2k4p',
      type: 'pods',
      uid: '7d3c5e9a-1b2f-4c6d-8e0a-9f1b2c3d4e5f',
      labels: {},
      serviceAccountName: 'build-runner',
      hostNetwork: true,
      hostPID: true,
      hostIPC: false,
      containers: [
        {
          name: 'runner',
          image: 'public.ecr.aws/example/build-runner:2.4.1',
          privileged: true,
          allowPrivilegeEscalation: true,
        },
      ],
      volumes: [{ name: 'host-root', hostPath: '/' }],
    });
  });

  it('keeps an empty session name list out and reads the groups', () => {
    const [user] = resourcesOfKind(normalizeFinding(eksSequence()), 'kubernetes-user');

    expect(user).toEqual({
      kind: 'kubernetes-user',
      clusterName: 'payments-prod',
      username: 'system:serviceaccount:payments:build-runner',
      uid: '0f4b8e2a-6c1d-4e3f-9a7b-5c8d2e1f0a3b',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:payments', 'system:authenticated'],
    });
  });

  it('reads session names and the impersonated user when the finding gives them', () => {
    const input = withValue(eksSequence(), ['resource', 'kubernetesDetails', 'kubernetesUserDetails'], {
      username: 'kubernetes-admin',
      uid: 'aws-iam-authenticator:123456789012:AROA987654321EXAMPLE',
      groups: ['system:masters'],
      sessionName: ['alice'],
      impersonatedUser: {
        username: 'system:serviceaccount:kube-system:default',
        groups: ['system:serviceaccounts'],
      },
    });

    expect(resourcesOfKind(normalizeFinding(input), 'kubernetes-user')[0]).toMatchObject({
      sessionName: ['alice'],
      impersonatedUser: {
        username: 'system:serviceaccount:kube-system:default',
        groups: ['system:serviceaccounts'],
      },
    });
  });

  it('reads the workload of a GuardDuty sample finding', () => {
    expect(
      resourcesOfKind(normalizeFinding(fixtureJson('elastic-integrations', '10')), 'kubernetes-workload'),
    ).toEqual([
      {
        kind: 'kubernetes-workload',
        clusterName: 'GeneratedFindingEKSClusterName',
        namespace: 'GeneratedFindingKubernetesWorkloadNamespace',
        name: 'GeneratedFindingKubernetesWorkloadName',
        type: 'GeneratedFindingKubernetesWorkloadType',
        labels: {},
        containers: [],
        volumes: [],
      },
    ]);
  });

  it('gives no workload when GuardDuty writes it as null', () => {
    const finding = normalizeFinding(fixtureJson('elastic-integrations', '18'));

    expect(finding.resources.map((resource) => resource.kind)).toEqual(['eks-cluster', 'kubernetes-user']);
  });

  it('reads the user Security Hub flattened into Details.Other', () => {
    const finding = normalizeFinding(asffEks());

    expect(resourcesOfKind(finding, 'kubernetes-user')).toEqual([
      {
        kind: 'kubernetes-user',
        clusterName: 'cleanroom-test-eks',
        username: 'system:anonymous',
        groups: ['system:unauthenticated'],
      },
    ]);
    expect(resourcesOfKind(finding, 'kubernetes-workload')).toEqual([]);
  });
});

describe('malformed Kubernetes details', () => {
  it.each(['namespace', 'name', 'type'])('refuses a workload without its %s, naming the field', (key) => {
    const error = formatError(() =>
      normalizeFinding(withValue(eksSequence(), [...WORKLOAD, key], undefined)),
    );

    expect(error.path).toBe(`/resource/kubernetesDetails/kubernetesWorkloadDetails/${key}`);
  });

  it('refuses a user without a user name', () => {
    const input = withValue(
      privilegedContainer(),
      [...FINDING, 'Resource', 'KubernetesDetails', 'KubernetesUserDetails', 'Username'],
      '',
    );

    // A missing field is named as the API spells it (camelCase), like every other missing field.
    expect(formatError(() => normalizeFinding(input)).path).toBe(
      '/Findings/0/Resource/KubernetesDetails/KubernetesUserDetails/username',
    );
  });

  it.each([
    [[...WORKLOAD, 'hostNetwork'], 'yes'],
    [[...WORKLOAD, 'containers'], {}],
    [[...WORKLOAD, 'containers', 0, 'securityContext', 'privileged'], 1],
    [[...WORKLOAD, 'volumes', 0, 'hostPath'], '/'],
    [['resource', 'kubernetesDetails', 'kubernetesUserDetails', 'groups'], 'system:masters'],
  ] as const)('refuses %j = %j with a typed error at that node', (keys, value) => {
    const error = formatError(() => normalizeFinding(withValue(eksSequence(), [...keys], value)));

    expect(error.code).toBe('FINDING_INVALID');
    expect(error.path).toBe(`/${keys.join('/')}`);
  });

  it('refuses a workload with more containers than any pod has', () => {
    const containers = Array.from({ length: 501 }, (_, index) => ({ name: `c${index}` }));

    const error = formatError(() =>
      normalizeFinding(withValue(eksSequence(), [...WORKLOAD, 'containers'], containers)),
    );

    expect(error.path).toBe('/resource/kubernetesDetails/kubernetesWorkloadDetails/containers');
    expect(error.message).toContain('at most 500 items');
  });

  it('keeps an over-long name as given: the scope check, not the reader, refuses to act on it', () => {
    const name = `${'a'.repeat(300)}`;

    const [workload] = resourcesOfKind(
      normalizeFinding(withValue(eksSequence(), [...WORKLOAD, 'name'], name)),
      'kubernetes-workload',
    );

    expect(workload?.name).toBe(name);
  });

  it('names the flattened key of a bad value in Details.Other', () => {
    const input = withValue(
      asffEks(),
      [
        'detail',
        'findings',
        0,
        'Resources',
        0,
        'Details',
        'Other',
        'kubernetesDetails/kubernetesUserDetails/groups',
      ],
      'x',
    );

    expect(formatError(() => normalizeFinding(input)).path).toBe(
      '/detail/findings/0/Resources/0/Details/Other/kubernetesDetails~1kubernetesUserDetails~1groups',
    );
  });

  it('points at Details.Other when a flattened block misses a required field', () => {
    const input = withValue(
      asffEks(),
      [
        'detail',
        'findings',
        0,
        'Resources',
        0,
        'Details',
        'Other',
        'kubernetesDetails/kubernetesUserDetails/username',
      ],
      '',
    );

    const error = formatError(() => normalizeFinding(input));

    expect(error.path).toBe('/detail/findings/0/Resources/0/Details/Other');
    expect(error.message).toContain('"username"');
  });

  it('refuses a flattened key that is both a value and an object', () => {
    const input = withValue(
      asffEks(),
      [
        'detail',
        'findings',
        0,
        'Resources',
        0,
        'Details',
        'Other',
        'kubernetesDetails/kubernetesUserDetails/username/first',
      ],
      'x',
    );

    const error = formatError(() => normalizeFinding(input));

    expect(error.path).toMatch(
      /^\/detail\/findings\/0\/Resources\/0\/Details\/Other\/kubernetesDetails~1kubernetesUserDetails~1username/,
    );
  });
});
