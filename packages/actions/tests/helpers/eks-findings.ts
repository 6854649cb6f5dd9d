import type { Finding } from '@riposte/core';

/**
 * EKS audit-log findings, from the shared samples 10-execution-kubernetes-execinkubesystempod.json
 * and 19-discovery-kubernetes-toripcaller.json (elastic-integrations) with their `GeneratedFinding*`
 * placeholders replaced by real-shaped values: cluster `prod-cluster`, a Pod `web-7d9f` in `payments`,
 * and the IAM-authenticated user of role `ci-deployer` (its username the STS session ARN, as EKS
 * reports IAM principals).
 */
export const EKS_ACCOUNT = '973743533182';
export const EKS_REGION = 'us-east-2';
export const CLUSTER = 'prod-cluster';
export const CLUSTER_ARN = `arn:aws:eks:${EKS_REGION}:${EKS_ACCOUNT}:cluster/${CLUSTER}`;
export const DEPLOYER_ROLE_ARN = `arn:aws:iam::${EKS_ACCOUNT}:role/ci-deployer`;
export const DEPLOYER_USERNAME = `arn:aws:sts::${EKS_ACCOUNT}:assumed-role/ci-deployer/gitlab-runner-42`;
export const POD_UID = '5c2a3f4e-8b1d-4e6f-9a0b-1c2d3e4f5a6b';
export const DETECTOR = '37da5a0204286ccd967d2395320d4dcd';

const base = (id: string, type: string, title: string): Omit<Finding, 'resources'> => {
  const [threatPurpose = '', rest = ''] = type.split(':');
  const [resourceType = '', family = ''] = rest.split('/');
  return {
    id,
    arn: `arn:aws:guardduty:${EKS_REGION}:${EKS_ACCOUNT}:detector/${DETECTOR}/finding/${id}`,
    type: { name: type, threatPurpose, resourceType, threatFamily: family },
    severity: 5,
    severityLabel: 'Medium',
    title,
    accountId: EKS_ACCOUNT,
    region: EKS_REGION,
    partition: 'aws',
    createdAt: '2021-11-11T10:15:55.218Z',
    updatedAt: '2021-11-11T10:15:55.218Z',
    count: 1,
    archived: false,
    sample: true,
    resourceRole: 'TARGET',
    resourceType: 'EKSCluster',
    techniques: [],
    tactics: [],
    source: 'guardduty',
    raw: { schemaVersion: '2.0', accountId: EKS_ACCOUNT, region: EKS_REGION, id, type, severity: 5 },
  };
};

const cluster = {
  kind: 'eks-cluster' as const,
  name: CLUSTER,
  arn: CLUSTER_ARN,
  vpcId: 'vpc-06b1f2a3c4d5e6f70',
  tags: { team: 'payments' },
};

const deployer = {
  kind: 'kubernetes-user' as const,
  clusterName: CLUSTER,
  username: DEPLOYER_USERNAME,
  uid: `aws-iam-authenticator:${EKS_ACCOUNT}:AROA6FLOREXAMPLEROLE9`,
  groups: ['system:authenticated'],
  sessionName: ['gitlab-runner-42'],
};

/** 10-execution-kubernetes-execinkubesystempod.json: a command executed in a pod, by the deployer. */
export const execInPod = (
  labels: Record<string, string> = { app: 'web', tier: 'frontend' },
  hostNetwork = false,
): Finding => ({
  ...base(
    '60bf27df0ab7e1d6a2e8f4e1b4c0a111',
    'Execution:Kubernetes/ExecInKubeSystemPod',
    'Command executed inside a pod in the payments namespace.',
  ),
  resources: [
    cluster,
    {
      kind: 'kubernetes-workload',
      clusterName: CLUSTER,
      namespace: 'payments',
      name: 'web-7d9f',
      type: 'Pods',
      uid: POD_UID,
      labels,
      hostNetwork,
      containers: [{ name: 'web', image: 'nginx:1.27', privileged: false }],
      volumes: [],
    },
    deployer,
  ],
});

/** 19-discovery-kubernetes-toripcaller.json: the Kubernetes API called from a Tor exit node, by the deployer. */
export const torIpCaller = (username = DEPLOYER_USERNAME): Finding => ({
  ...base(
    '5abf27df0ab6b7b0e6c1f0e3a1f0b222',
    'Discovery:Kubernetes/TorIPCaller',
    'The Kubernetes API was invoked from a Tor exit node.',
  ),
  resources: [
    cluster,
    { ...deployer, username },
    {
      kind: 'access-key',
      accessKeyId: 'ASIA6FLOREXAMPLEKEY9',
      principalId: 'AROA6FLOREXAMPLEROLE9:gitlab-runner-42',
      userType: 'Role',
      userName: 'ci-deployer',
    },
  ],
});
