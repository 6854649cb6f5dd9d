import { randomUUID } from 'node:crypto';
import { AwsFault } from '../errors.js';
import type { OperationContext } from '../protocols.js';

/**
 * Amazon EKS (restJson1, signing name `eks`): clusters' endpoint access and access entries with their
 * access policies. Paths, methods and members are those of @aws-sdk/client-eks's schemas
 * (dist-cjs/index.js: `DescribeCluster$` GET /clusters/{name}, `UpdateClusterConfig$` POST
 * /clusters/{name}/update-config, `DescribeUpdate$` GET /clusters/{name}/updates/{updateId},
 * `CreateAccessEntry$` POST /clusters/{clusterName}/access-entries, `DescribeAccessEntry$` GET and
 * `DeleteAccessEntry$` DELETE /clusters/{clusterName}/access-entries/{principalArn},
 * `ListAssociatedAccessPolicies$` GET and `AssociateAccessPolicy$` POST .../{principalArn}/access-policies,
 * `DisassociateAccessPolicy$` DELETE .../access-policies/{policyArn}). Members are lowerCamel on the
 * wire and in the SDK alike; timestamps are epoch seconds. Updates complete at once.
 */

export interface EksAccessEntrySeed {
  principalArn: string;
  /** Defaults to STANDARD. */
  type?: string;
  username?: string;
  kubernetesGroups?: string[];
  tags?: Record<string, string>;
  policies?: Array<{
    policyArn: string;
    accessScope?: { type: 'cluster' | 'namespace'; namespaces?: string[] };
  }>;
}

export interface EksClusterSeed {
  name: string;
  /** The cluster's IAM role (its service role). */
  roleArn?: string;
  /** Defaults to API_AND_CONFIG_MAP. */
  authenticationMode?: 'API' | 'API_AND_CONFIG_MAP' | 'CONFIG_MAP';
  endpointPublicAccess?: boolean;
  endpointPrivateAccess?: boolean;
  publicAccessCidrs?: string[];
  /** The API server (the fake Kubernetes server's URL) and its CA (base64 PEM). */
  endpoint?: string;
  certificateAuthority?: string;
  tags?: Record<string, string>;
  accessEntries?: EksAccessEntrySeed[];
}

export interface FakeEksAccessEntry {
  principalArn: string;
  type: string;
  username: string;
  kubernetesGroups: string[];
  tags: Record<string, string>;
  createdAt: number;
  /** By policy ARN. */
  policies: Map<string, { type: 'cluster' | 'namespace'; namespaces: string[]; associatedAt: number }>;
}

export interface FakeEksCluster {
  name: string;
  arn: string;
  roleArn: string;
  authenticationMode: string;
  endpointPublicAccess: boolean;
  endpointPrivateAccess: boolean;
  publicAccessCidrs: string[];
  endpoint: string;
  certificateAuthority: string;
  tags: Record<string, string>;
  createdAt: number;
  /** By principal ARN. */
  accessEntries: Map<string, FakeEksAccessEntry>;
  updates: Map<string, Record<string, unknown>>;
}

const SEEDED_AT = Date.parse('2024-03-01T12:00:00.000Z') / 1000;

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The username EKS gives an access entry of a role or user when none is given. */
const defaultUsername = (principalArn: string): string => {
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principalArn);
  return role ? `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/{{SessionName}}` : principalArn;
};

const entryOf = (seed: EksAccessEntrySeed, at: number): FakeEksAccessEntry => ({
  principalArn: seed.principalArn,
  type: seed.type ?? 'STANDARD',
  username: seed.username ?? defaultUsername(seed.principalArn),
  kubernetesGroups: [...(seed.kubernetesGroups ?? [])],
  tags: { ...seed.tags },
  createdAt: at,
  policies: new Map(
    (seed.policies ?? []).map((policy) => [
      policy.policyArn,
      {
        type: policy.accessScope?.type ?? 'cluster',
        namespaces: [...(policy.accessScope?.namespaces ?? [])],
        associatedAt: at,
      },
    ]),
  ),
});

export const buildEksClusters = (
  seeds: EksClusterSeed[] | undefined,
  accountId: string,
  region: string,
): Map<string, FakeEksCluster> =>
  new Map(
    (seeds ?? []).map((seed) => [
      seed.name,
      {
        name: seed.name,
        arn: `arn:aws:eks:${region}:${accountId}:cluster/${seed.name}`,
        roleArn: seed.roleArn ?? `arn:aws:iam::${accountId}:role/eks-cluster-role`,
        authenticationMode: seed.authenticationMode ?? 'API_AND_CONFIG_MAP',
        endpointPublicAccess: seed.endpointPublicAccess ?? true,
        endpointPrivateAccess: seed.endpointPrivateAccess ?? false,
        publicAccessCidrs: [...(seed.publicAccessCidrs ?? ['0.0.0.0/0'])],
        endpoint: seed.endpoint ?? `https://${seed.name.toLowerCase()}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority:
          seed.certificateAuthority ?? Buffer.from('not a certificate').toString('base64'),
        tags: { ...seed.tags },
        createdAt: SEEDED_AT,
        accessEntries: new Map(
          (seed.accessEntries ?? []).map((entry) => [entry.principalArn, entryOf(entry, SEEDED_AT)]),
        ),
        updates: new Map(),
      },
    ]),
  );

export interface EksRequest {
  labels: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

export interface EksOperation {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  run(request: EksRequest, context: OperationContext): Record<string, unknown>;
}

const notFound = (message: string): AwsFault => new AwsFault('ResourceNotFoundException', message, 404);
const invalidParameter = (message: string): AwsFault =>
  new AwsFault('InvalidParameterException', message, 400);

const clusterOf = (context: OperationContext, name: string | undefined): FakeEksCluster => {
  const cluster = name === undefined ? undefined : context.state.eksClusters.get(name);
  if (!cluster) throw notFound(`No cluster found for name: ${name}.`);
  return cluster;
};

const entryIn = (cluster: FakeEksCluster, principalArn: string | undefined): FakeEksAccessEntry => {
  const entry = principalArn === undefined ? undefined : cluster.accessEntries.get(principalArn);
  if (!entry)
    throw notFound(
      `The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`,
    );
  return entry;
};

const requireApi = (cluster: FakeEksCluster): void => {
  if (cluster.authenticationMode === 'CONFIG_MAP') {
    throw new AwsFault(
      'InvalidRequestException',
      'The cluster authentication mode must be set to API or API_AND_CONFIG_MAP.',
      400,
    );
  }
};

const renderCluster = (cluster: FakeEksCluster) => ({
  name: cluster.name,
  arn: cluster.arn,
  createdAt: cluster.createdAt,
  version: '1.31',
  endpoint: cluster.endpoint,
  roleArn: cluster.roleArn,
  resourcesVpcConfig: {
    subnetIds: ['subnet-0a9b8c7d6e5f40312'],
    securityGroupIds: [],
    vpcId: 'vpc-06b1f2a3c4d5e6f70',
    endpointPublicAccess: cluster.endpointPublicAccess,
    endpointPrivateAccess: cluster.endpointPrivateAccess,
    publicAccessCidrs: cluster.publicAccessCidrs,
  },
  status: 'ACTIVE',
  certificateAuthority: { data: cluster.certificateAuthority },
  platformVersion: 'eks.1',
  tags: cluster.tags,
  accessConfig: { authenticationMode: cluster.authenticationMode },
});

const renderEntry = (cluster: FakeEksCluster, entry: FakeEksAccessEntry) => ({
  clusterName: cluster.name,
  principalArn: entry.principalArn,
  kubernetesGroups: entry.kubernetesGroups,
  accessEntryArn: `${cluster.arn.replace(':cluster/', ':access-entry/')}/role/${entry.principalArn.split(':')[4]}/${entry.principalArn.split('/').pop()}/00000000-0000-0000-0000-000000000000`,
  createdAt: entry.createdAt,
  modifiedAt: entry.createdAt,
  tags: entry.tags,
  username: entry.username,
  type: entry.type,
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringList = (value: unknown, member: string): string[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalidParameter(`${member} must be a list of strings`);
  }
  return value as string[];
};

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

const updateClusterConfig: EksOperation = {
  method: 'POST',
  path: '/clusters/{name}/update-config',
  run: ({ labels, body }, context) => {
    const cluster = clusterOf(context, labels.name);
    const vpc = body.resourcesVpcConfig;
    if (!isObject(vpc)) throw invalidParameter('fake-aws updates only resourcesVpcConfig');
    const publicAccess =
      typeof vpc.endpointPublicAccess === 'boolean' ? vpc.endpointPublicAccess : cluster.endpointPublicAccess;
    const privateAccess =
      typeof vpc.endpointPrivateAccess === 'boolean'
        ? vpc.endpointPrivateAccess
        : cluster.endpointPrivateAccess;
    if (!publicAccess && !privateAccess) {
      throw invalidParameter('Cluster must have either private or public endpoint access or both');
    }
    const cidrs =
      vpc.publicAccessCidrs === undefined
        ? undefined
        : stringList(vpc.publicAccessCidrs, 'publicAccessCidrs');
    if (cidrs?.some((cidr) => !CIDR.test(cidr)))
      throw invalidParameter('publicAccessCidrs holds an invalid CIDR block');
    const params = [
      { type: 'EndpointPublicAccess', value: String(publicAccess) },
      { type: 'EndpointPrivateAccess', value: String(privateAccess) },
      ...(cidrs === undefined ? [] : [{ type: 'PublicAccessCidrs', value: JSON.stringify(cidrs) }]),
    ];
    cluster.endpointPublicAccess = publicAccess;
    cluster.endpointPrivateAccess = privateAccess;
    if (cidrs !== undefined) cluster.publicAccessCidrs = cidrs;
    const update = {
      id: randomUUID(),
      status: 'Successful',
      type: 'EndpointAccessUpdate',
      params,
      createdAt: nowSeconds(),
      errors: [],
    };
    cluster.updates.set(update.id, update);
    return { update: { ...update, status: 'InProgress' } };
  },
};

const describeUpdate: EksOperation = {
  method: 'GET',
  path: '/clusters/{name}/updates/{updateId}',
  run: ({ labels }, context) => {
    const update = clusterOf(context, labels.name).updates.get(labels.updateId ?? '');
    if (!update) throw notFound(`No update found for ID: ${labels.updateId}`);
    return { update };
  },
};

const createAccessEntry: EksOperation = {
  method: 'POST',
  path: '/clusters/{clusterName}/access-entries',
  run: ({ labels, body }, context) => {
    const cluster = clusterOf(context, labels.clusterName);
    requireApi(cluster);
    const principalArn = body.principalArn;
    if (typeof principalArn !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\//.test(principalArn)) {
      throw invalidParameter('principalArn must be the ARN of an IAM role or user');
    }
    if (cluster.accessEntries.has(principalArn)) {
      throw new AwsFault(
        'ResourceInUseException',
        'The specified access entry resource is already in use on this cluster.',
        409,
      );
    }
    const tags = body.tags ?? {};
    if (!isObject(tags) || Object.values(tags).some((value) => typeof value !== 'string')) {
      throw invalidParameter('tags must map keys to strings');
    }
    const entry = entryOf(
      {
        principalArn,
        type: typeof body.type === 'string' ? body.type : 'STANDARD',
        ...(typeof body.username === 'string' ? { username: body.username } : {}),
        kubernetesGroups: stringList(body.kubernetesGroups, 'kubernetesGroups'),
        tags: tags as Record<string, string>,
      },
      nowSeconds(),
    );
    cluster.accessEntries.set(principalArn, entry);
    return { accessEntry: renderEntry(cluster, entry) };
  },
};

const describeAccessEntry: EksOperation = {
  method: 'GET',
  path: '/clusters/{clusterName}/access-entries/{principalArn}',
  run: ({ labels }, context) => {
    const cluster = clusterOf(context, labels.clusterName);
    return { accessEntry: renderEntry(cluster, entryIn(cluster, labels.principalArn)) };
  },
};

const deleteAccessEntry: EksOperation = {
  method: 'DELETE',
  path: '/clusters/{clusterName}/access-entries/{principalArn}',
  run: ({ labels }, context) => {
    const cluster = clusterOf(context, labels.clusterName);
    cluster.accessEntries.delete(entryIn(cluster, labels.principalArn).principalArn);
    return {};
  },
};

const listAssociatedAccessPolicies: EksOperation = {
  method: 'GET',
  path: '/clusters/{clusterName}/access-entries/{principalArn}/access-policies',
  run: ({ labels }, context) => {
    const cluster = clusterOf(context, labels.clusterName);
    const entry = entryIn(cluster, labels.principalArn);
    return {
      clusterName: cluster.name,
      principalArn: entry.principalArn,
      associatedAccessPolicies: [...entry.policies.entries()].map(([policyArn, scope]) => ({
        policyArn,
        accessScope: { type: scope.type, namespaces: scope.namespaces },
        associatedAt: scope.associatedAt,
        modifiedAt: scope.associatedAt,
      })),
    };
  },
};

const POLICY_ARN = /^arn:aws[a-z-]*:eks::aws:cluster-access-policy\/[A-Za-z0-9]+$/;

const associateAccessPolicy: EksOperation = {
  method: 'POST',
  path: '/clusters/{clusterName}/access-entries/{principalArn}/access-policies',
  run: ({ labels, body }, context) => {
    const cluster = clusterOf(context, labels.clusterName);
    const entry = entryIn(cluster, labels.principalArn);
    const policyArn = body.policyArn;
    if (typeof policyArn !== 'string' || !POLICY_ARN.test(policyArn))
      throw invalidParameter('policyArn is not an EKS access policy');
    const scope = body.accessScope;
    if (!isObject(scope) || (scope.type !== 'cluster' && scope.type !== 'namespace')) {
      throw invalidParameter('accessScope.type must be cluster or namespace');
    }
    const namespaces = stringList(scope.namespaces, 'accessScope.namespaces');
    if (scope.type === 'namespace' && namespaces.length === 0)
      throw invalidParameter('a namespace scope needs namespaces');
    const associatedAt = nowSeconds();
    entry.policies.set(policyArn, { type: scope.type, namespaces, associatedAt });
    return {
      clusterName: cluster.name,
      principalArn: entry.principalArn,
      associatedAccessPolicy: {
        policyArn,
        accessScope: { type: scope.type, namespaces },
        associatedAt,
        modifiedAt: associatedAt,
      },
    };
  },
};

const disassociateAccessPolicy: EksOperation = {
  method: 'DELETE',
  path: '/clusters/{clusterName}/access-entries/{principalArn}/access-policies/{policyArn}',
  run: ({ labels }, context) => {
    const cluster = clusterOf(context, labels.clusterName);
    const entry = entryIn(cluster, labels.principalArn);
    if (!entry.policies.delete(labels.policyArn ?? '')) {
      throw notFound(`The specified policyArn ${labels.policyArn} is not associated with this access entry.`);
    }
    return {};
  },
};

const describeCluster: EksOperation = {
  method: 'GET',
  path: '/clusters/{name}',
  run: ({ labels }, context) => ({ cluster: renderCluster(clusterOf(context, labels.name)) }),
};

export const eksOperations: Record<string, EksOperation> = {
  DescribeCluster: describeCluster,
  UpdateClusterConfig: updateClusterConfig,
  DescribeUpdate: describeUpdate,
  CreateAccessEntry: createAccessEntry,
  DescribeAccessEntry: describeAccessEntry,
  DeleteAccessEntry: deleteAccessEntry,
  ListAssociatedAccessPolicies: listAssociatedAccessPolicies,
  AssociateAccessPolicy: associateAccessPolicy,
  DisassociateAccessPolicy: disassociateAccessPolicy,
};

/** The snapshot of the clusters: endpoint access, and each access entry with its policies. */
export const eksSnapshot = (clusters: Map<string, FakeEksCluster>) =>
  Object.fromEntries(
    [...clusters.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((cluster) => [
        cluster.name,
        {
          endpointPublicAccess: cluster.endpointPublicAccess,
          endpointPrivateAccess: cluster.endpointPrivateAccess,
          publicAccessCidrs: [...cluster.publicAccessCidrs].sort(),
          accessEntries: Object.fromEntries(
            [...cluster.accessEntries.values()]
              .sort((a, b) => a.principalArn.localeCompare(b.principalArn))
              .map((entry) => [
                entry.principalArn,
                {
                  type: entry.type,
                  username: entry.username,
                  kubernetesGroups: [...entry.kubernetesGroups].sort(),
                  tags: Object.fromEntries(Object.entries(entry.tags).sort()),
                  policies: Object.fromEntries(
                    [...entry.policies.entries()]
                      .sort(([a], [b]) => a.localeCompare(b))
                      .map(([arn, scope]) => [
                        arn,
                        { type: scope.type, namespaces: [...scope.namespaces].sort() },
                      ]),
                  ),
                },
              ]),
          ),
        },
      ]),
  );

export type EksSnapshot = ReturnType<typeof eksSnapshot>;
