import { createHash } from 'node:crypto';
import { AwsFault, FakeAwsError } from '../errors.js';
import type { HttpReply, OperationContext } from '../protocols.js';
import {
  objectListParam,
  type QueryParams,
  type QueryValue,
  stringListParam,
  stringParam,
  tagsParam,
} from '../query.js';
import type { FakeSecurityGroup } from '../state.js';
import { escapeXml, XML_DECLARATION } from '../xml.js';

/*
 * RDS (awsQuery, Version 2014-10-31). Element names, list item names and error codes are the ones
 * @aws-sdk/client-rds's schemas declare: lists are wrapped and name their items (`<DBInstances>
 * <DBInstance>`, `<VpcSecurityGroups><VpcSecurityGroupMembership>`, `<TagList><Tag>`), and the request
 * names them too (`VpcSecurityGroupIds.VpcSecurityGroupId.1`, `Tags.Tag.1.Key`), not `member`. Errors
 * are awsQuery's `<ErrorResponse><Error><Code>` with the shape's awsQueryError code
 * (`DBInstanceNotFound` 404, `DBClusterNotFoundFault` 404, `DBSnapshotAlreadyExists` 400, ...).
 */

// ---------------------------------------------------------------------------------------------
// Seed and state
// ---------------------------------------------------------------------------------------------

export interface RdsInstanceSeed {
  /** The DB instance identifier (RDS keeps identifiers lower-case). */
  id: string;
  /** Defaults to postgres (a cluster member: its cluster's engine). */
  engine?: string;
  engineVersion?: string;
  /** Defaults to available. */
  status?: string;
  instanceClass?: string;
  /** The VPC of its DB subnet group; a cluster member's defaults to its cluster's. */
  vpcId?: string;
  /** Its VPC security groups (seeded EC2 groups); a cluster member's are its cluster's. */
  securityGroupIds?: string[];
  /** Defaults to false. */
  publiclyAccessible?: boolean;
  /** The cluster (seeded in `rdsClusters`) it is a member of. */
  clusterId?: string;
  tags?: Record<string, string>;
}

export interface RdsClusterSeed {
  id: string;
  /** Defaults to aurora-postgresql. */
  engine?: string;
  engineVersion?: string;
  status?: string;
  vpcId: string;
  securityGroupIds: string[];
  tags?: Record<string, string>;
}

export interface FakeRdsInstance {
  id: string;
  arn: string;
  resourceId: string;
  engine: string;
  engineVersion: string;
  status: string;
  instanceClass: string;
  vpcId: string;
  /** Its own VPC security groups (a cluster member shows its cluster's). */
  groupIds: string[];
  publiclyAccessible: boolean;
  clusterId?: string;
  tags: Record<string, string>;
  createTime: string;
}

export interface FakeRdsCluster {
  id: string;
  arn: string;
  resourceId: string;
  engine: string;
  engineVersion: string;
  status: string;
  vpcId: string;
  groupIds: string[];
  tags: Record<string, string>;
  createTime: string;
}

export interface FakeDbSnapshot {
  id: string;
  arn: string;
  /** The DB instance, or the cluster for a cluster snapshot. */
  sourceId: string;
  engine: string;
  engineVersion: string;
  type: 'manual' | 'automated';
  vpcId: string;
  tags: Record<string, string>;
  createTime: string;
}

export interface FakeRds {
  /** By identifier (lower-case). */
  instances: Map<string, FakeRdsInstance>;
  clusters: Map<string, FakeRdsCluster>;
  /** DB snapshots by identifier. */
  snapshots: Map<string, FakeDbSnapshot>;
  /** DB cluster snapshots by identifier. */
  clusterSnapshots: Map<string, FakeDbSnapshot>;
}

const SEEDED_AT = '2024-03-01T12:00:00.000Z';

const resourceIdOf = (prefix: string, source: string): string =>
  `${prefix}-${createHash('sha256').update(source).digest('hex').slice(0, 26).toUpperCase()}`;

const seedError = (message: string, details: Record<string, unknown>): FakeAwsError =>
  new FakeAwsError('SEED_INVALID', message, details);

const checkGroups = (owner: string, groupIds: string[], groups: Map<string, FakeSecurityGroup>): void => {
  const unknown = groupIds.filter((groupId) => !groups.has(groupId));
  if (unknown.length > 0)
    throw seedError(`${owner} names unseeded security groups`, { owner, groups: unknown });
};

/** The RDS part of an account: clusters first, so that members take their VPC, groups and engine. */
export const rdsOf = (
  seed: { rdsInstances?: RdsInstanceSeed[]; rdsClusters?: RdsClusterSeed[] },
  accountId: string,
  region: string,
  groups: Map<string, FakeSecurityGroup>,
): FakeRds => {
  const rds: FakeRds = {
    instances: new Map(),
    clusters: new Map(),
    snapshots: new Map(),
    clusterSnapshots: new Map(),
  };
  for (const cluster of seed.rdsClusters ?? []) {
    const id = cluster.id.toLowerCase();
    checkGroups(`DB cluster ${id}`, cluster.securityGroupIds, groups);
    rds.clusters.set(id, {
      id,
      arn: `arn:aws:rds:${region}:${accountId}:cluster:${id}`,
      resourceId: resourceIdOf('cluster', `${accountId}:${id}`),
      engine: cluster.engine ?? 'aurora-postgresql',
      engineVersion: cluster.engineVersion ?? '16.4',
      status: cluster.status ?? 'available',
      vpcId: cluster.vpcId,
      groupIds: [...cluster.securityGroupIds],
      tags: { ...cluster.tags },
      createTime: SEEDED_AT,
    });
  }
  for (const instance of seed.rdsInstances ?? []) {
    const id = instance.id.toLowerCase();
    const cluster =
      instance.clusterId === undefined ? undefined : rds.clusters.get(instance.clusterId.toLowerCase());
    if (instance.clusterId !== undefined && !cluster) {
      throw seedError(`DB instance ${id} names cluster ${instance.clusterId}, which is not seeded`, {
        instance: id,
        cluster: instance.clusterId,
      });
    }
    const vpcId = instance.vpcId ?? cluster?.vpcId;
    if (vpcId === undefined) throw seedError(`DB instance ${id} needs a vpcId`, { instance: id });
    const groupIds = instance.securityGroupIds ?? cluster?.groupIds ?? [];
    checkGroups(`DB instance ${id}`, groupIds, groups);
    rds.instances.set(id, {
      id,
      arn: `arn:aws:rds:${region}:${accountId}:db:${id}`,
      resourceId: resourceIdOf('db', `${accountId}:${id}`),
      engine: instance.engine ?? cluster?.engine ?? 'postgres',
      engineVersion: instance.engineVersion ?? cluster?.engineVersion ?? '16.4',
      status: instance.status ?? 'available',
      instanceClass: instance.instanceClass ?? 'db.t3.micro',
      vpcId,
      groupIds: [...groupIds],
      publiclyAccessible: instance.publiclyAccessible ?? false,
      ...(cluster ? { clusterId: cluster.id } : {}),
      tags: { ...instance.tags },
      createTime: SEEDED_AT,
    });
  }
  return rds;
};

const sortedEntries = <T>(map: Map<string, T>): Array<[string, T]> =>
  [...map.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));

const sortedTags = (tags: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(tags).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)),
  );

/** The snapshot's view: each instance's groups, public flag and status; clusters' groups; snapshots with their source and tags. */
export const rdsSnapshot = (rds: FakeRds) => ({
  instances: Object.fromEntries(
    sortedEntries(rds.instances).map(([id, instance]) => [
      id,
      {
        status: instance.status,
        groupIds: [...instance.groupIds].sort(),
        publiclyAccessible: instance.publiclyAccessible,
        clusterId: instance.clusterId ?? null,
        tags: sortedTags(instance.tags),
      },
    ]),
  ),
  clusters: Object.fromEntries(
    sortedEntries(rds.clusters).map(([id, cluster]) => [
      id,
      { status: cluster.status, groupIds: [...cluster.groupIds].sort(), tags: sortedTags(cluster.tags) },
    ]),
  ),
  snapshots: Object.fromEntries(
    sortedEntries(rds.snapshots).map(([id, snapshot]) => [
      id,
      { dbInstanceIdentifier: snapshot.sourceId, type: snapshot.type, tags: sortedTags(snapshot.tags) },
    ]),
  ),
  clusterSnapshots: Object.fromEntries(
    sortedEntries(rds.clusterSnapshots).map(([id, snapshot]) => [
      id,
      { dbClusterIdentifier: snapshot.sourceId, type: snapshot.type, tags: sortedTags(snapshot.tags) },
    ]),
  ),
});

// ---------------------------------------------------------------------------------------------
// Wire format
// ---------------------------------------------------------------------------------------------

/** A wrapped list whose entries are `<item>` elements, as each RDS list names its own. */
class XmlList {
  constructor(
    readonly item: string,
    readonly items: RdsXml[],
  ) {}
}
type RdsXml = string | number | boolean | undefined | XmlList | { [name: string]: RdsXml };

const list = (item: string, items: RdsXml[]): XmlList => new XmlList(item, items);

const render = (name: string, value: RdsXml): string => {
  if (value === undefined) return '';
  if (value instanceof XmlList) {
    const items = value.items.map((item) => render(value.item, item)).join('');
    return items === '' ? `<${name}/>` : `<${name}>${items}</${name}>`;
  }
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value)
      .map(([child, childValue]) => render(child, childValue))
      .join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
};

const NAMESPACE = 'http://rds.amazonaws.com/doc/2014-10-31/';

const reply = (status: number, requestId: string, body: string, errorCode?: string): HttpReply => ({
  status,
  headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-RequestId': requestId },
  body,
  ...(errorCode === undefined ? {} : { errorCode }),
});

export const rdsSuccess = (action: string, requestId: string, result: Record<string, RdsXml>): HttpReply =>
  reply(
    200,
    requestId,
    `${XML_DECLARATION}<${action}Response xmlns="${NAMESPACE}">${render(`${action}Result`, result)}` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  );

export const rdsError = (fault: AwsFault, requestId: string): HttpReply =>
  reply(
    fault.status,
    requestId,
    `${XML_DECLARATION}<ErrorResponse xmlns="${NAMESPACE}"><Error>` +
      `<Type>${fault.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(fault.code)}</Code>` +
      `<Message>${escapeXml(fault.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    fault.code,
  );

/** The list item markers RDS's requests carry (`VpcSecurityGroupIds.VpcSecurityGroupId.1`). */
const ITEM_MARKERS = new Set(['VpcSecurityGroupId', 'DBSecurityGroupName', 'Tag', 'Filter', 'Value']);

/** The decoded request with RDS's list item markers dropped, as `member` is for other Query services. */
export const rdsParams = (params: QueryParams): QueryParams => {
  const unwrap = (value: QueryValue): QueryValue => {
    if (Array.isArray(value)) return value.map(unwrap);
    if (typeof value === 'string') return value;
    const keys = Object.keys(value);
    const only =
      keys.length === 1 && ITEM_MARKERS.has(keys[0] as string) ? value[keys[0] as string] : undefined;
    if (Array.isArray(only)) return only.map(unwrap);
    return Object.fromEntries(keys.map((key) => [key, unwrap(value[key] as QueryValue)]));
  };
  return unwrap(params) as QueryParams;
};

export type RdsOperation = (params: QueryParams, context: OperationContext) => Record<string, RdsXml>;

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

const rdsIn = (context: OperationContext): FakeRds => context.state.rds;

const required = (params: QueryParams, name: string): string => {
  const value = stringParam(params, name);
  if (value === undefined || value === '') {
    throw new AwsFault('MissingParameter', `The request must contain the parameter ${name}`);
  }
  return value;
};

/** RDS's identifier rule: a letter first, ASCII letters, digits and single hyphens, no trailing hyphen. */
const IDENTIFIER = /^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){0,254}$/;

const validIdentifier = (name: string, value: string): string => {
  if (!IDENTIFIER.test(value) || value.endsWith('-')) {
    throw new AwsFault(
      'InvalidParameterValue',
      `The parameter ${name} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.`,
    );
  }
  return value.toLowerCase();
};

const instanceOrThrow = (context: OperationContext, id: string): FakeRdsInstance => {
  const instance = rdsIn(context).instances.get(id.toLowerCase());
  if (!instance) throw new AwsFault('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);
  return instance;
};

const clusterOrThrow = (context: OperationContext, id: string): FakeRdsCluster => {
  const cluster = rdsIn(context).clusters.get(id.toLowerCase());
  if (!cluster) throw new AwsFault('DBClusterNotFoundFault', `DBCluster ${id} not found.`, 404);
  return cluster;
};

const checkMaxRecords = (params: QueryParams): void => {
  const max = stringParam(params, 'MaxRecords');
  if (max !== undefined && !(Number(max) >= 20 && Number(max) <= 100)) {
    throw new AwsFault(
      'InvalidParameterValue',
      `Invalid value ${max} for MaxRecords. Must be between 20 and 100`,
    );
  }
};

/** `Filters` as name -> accepted values; a filter RDS does not know for the call is InvalidParameterValue. */
const filtersOf = (params: QueryParams, known: readonly string[]): Map<string, string[]> => {
  const filters = new Map<string, string[]>();
  for (const filter of objectListParam(params, 'Filters')) {
    const name = stringParam(filter, 'Name') ?? '';
    if (!known.includes(name))
      throw new AwsFault('InvalidParameterValue', `Unrecognized filter name: ${name}.`);
    filters.set(name, stringListParam(filter, 'Values'));
  }
  return filters;
};

const passes = (filters: Map<string, string[]>, values: Record<string, string | undefined>): boolean =>
  [...filters].every(([name, accepted]) => {
    const value = values[name];
    return (
      value !== undefined && accepted.some((candidate) => candidate.toLowerCase() === value.toLowerCase())
    );
  });

const tagList = (tags: Record<string, string>): XmlList =>
  list(
    'Tag',
    Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  );

const groupsOf = (context: OperationContext, instance: FakeRdsInstance): string[] =>
  instance.clusterId === undefined
    ? instance.groupIds
    : (rdsIn(context).clusters.get(instance.clusterId)?.groupIds ?? instance.groupIds);

const renderInstance = (
  context: OperationContext,
  instance: FakeRdsInstance,
  groups: Array<{ id: string; status: string }> = groupsOf(context, instance).map((id) => ({
    id,
    status: 'active',
  })),
): RdsXml => ({
  DBInstanceIdentifier: instance.id,
  DBInstanceClass: instance.instanceClass,
  Engine: instance.engine,
  DBInstanceStatus: instance.status,
  MasterUsername: 'postgres',
  Endpoint: {
    Address: `${instance.id}.c0abcdefghij.${context.state.region}.rds.amazonaws.com`,
    Port: 5432,
    HostedZoneId: 'Z2R2ITUGPM61AM',
  },
  AllocatedStorage: 20,
  InstanceCreateTime: instance.createTime,
  DBSecurityGroups: list('DBSecurityGroup', []),
  VpcSecurityGroups: list(
    'VpcSecurityGroupMembership',
    groups.map((group) => ({ VpcSecurityGroupId: group.id, Status: group.status })),
  ),
  AvailabilityZone: `${context.state.region}a`,
  DBSubnetGroup: {
    DBSubnetGroupName: `default-${instance.vpcId}`,
    DBSubnetGroupDescription: `Created from the RDS Management Console`,
    VpcId: instance.vpcId,
    SubnetGroupStatus: 'Complete',
    Subnets: list('Subnet', []),
  },
  MultiAZ: false,
  EngineVersion: instance.engineVersion,
  AutoMinorVersionUpgrade: true,
  PubliclyAccessible: instance.publiclyAccessible,
  StorageType: 'gp3',
  DbInstancePort: 0,
  DBClusterIdentifier: instance.clusterId,
  StorageEncrypted: true,
  DbiResourceId: instance.resourceId,
  DBInstanceArn: instance.arn,
  TagList: tagList(instance.tags),
});

const renderCluster = (context: OperationContext, cluster: FakeRdsCluster): RdsXml => ({
  DBClusterIdentifier: cluster.id,
  Status: cluster.status,
  Engine: cluster.engine,
  EngineVersion: cluster.engineVersion,
  DBSubnetGroup: `default-${cluster.vpcId}`,
  Port: 5432,
  DBClusterMembers: list(
    'DBClusterMember',
    [...rdsIn(context).instances.values()]
      .filter((instance) => instance.clusterId === cluster.id)
      .map((instance, index) => ({ DBInstanceIdentifier: instance.id, IsClusterWriter: index === 0 })),
  ),
  VpcSecurityGroups: list(
    'VpcSecurityGroupMembership',
    cluster.groupIds.map((id) => ({ VpcSecurityGroupId: id, Status: 'active' })),
  ),
  StorageEncrypted: true,
  DbClusterResourceId: cluster.resourceId,
  DBClusterArn: cluster.arn,
  ClusterCreateTime: cluster.createTime,
  TagList: tagList(cluster.tags),
});

const renderSnapshot = (
  snapshot: FakeDbSnapshot,
  context: OperationContext,
  status = 'available',
): RdsXml => ({
  DBSnapshotIdentifier: snapshot.id,
  DBInstanceIdentifier: snapshot.sourceId,
  SnapshotCreateTime: snapshot.createTime,
  Engine: snapshot.engine,
  AllocatedStorage: 20,
  Status: status,
  Port: 5432,
  AvailabilityZone: `${context.state.region}a`,
  VpcId: snapshot.vpcId,
  EngineVersion: snapshot.engineVersion,
  SnapshotType: snapshot.type,
  PercentProgress: status === 'available' ? 100 : 0,
  Encrypted: true,
  DBSnapshotArn: snapshot.arn,
  TagList: tagList(snapshot.tags),
});

const renderClusterSnapshot = (snapshot: FakeDbSnapshot, status = 'available'): RdsXml => ({
  DBClusterSnapshotIdentifier: snapshot.id,
  DBClusterIdentifier: snapshot.sourceId,
  SnapshotCreateTime: snapshot.createTime,
  Engine: snapshot.engine,
  Status: status,
  Port: 5432,
  VpcId: snapshot.vpcId,
  EngineVersion: snapshot.engineVersion,
  SnapshotType: snapshot.type,
  PercentProgress: status === 'available' ? 100 : 0,
  StorageEncrypted: true,
  DBClusterSnapshotArn: snapshot.arn,
  TagList: tagList(snapshot.tags),
});

const describeDBInstances: RdsOperation = (params, context) => {
  checkMaxRecords(params);
  const filters = filtersOf(params, ['db-instance-id', 'db-cluster-id', 'dbi-resource-id', 'engine']);
  const id = stringParam(params, 'DBInstanceIdentifier');
  const instances =
    id === undefined ? [...rdsIn(context).instances.values()] : [instanceOrThrow(context, id)];
  return {
    DBInstances: list(
      'DBInstance',
      instances
        .filter((instance) =>
          passes(filters, {
            'db-instance-id': instance.id,
            'db-cluster-id': instance.clusterId,
            'dbi-resource-id': instance.resourceId,
            engine: instance.engine,
          }),
        )
        .map((instance) => renderInstance(context, instance)),
    ),
  };
};

const describeDBClusters: RdsOperation = (params, context) => {
  checkMaxRecords(params);
  const filters = filtersOf(params, ['db-cluster-id', 'engine']);
  const id = stringParam(params, 'DBClusterIdentifier');
  const clusters = id === undefined ? [...rdsIn(context).clusters.values()] : [clusterOrThrow(context, id)];
  return {
    DBClusters: list(
      'DBCluster',
      clusters
        .filter((cluster) => passes(filters, { 'db-cluster-id': cluster.id, engine: cluster.engine }))
        .map((cluster) => renderCluster(context, cluster)),
    ),
  };
};

/**
 * VPC security groups and PubliclyAccessible take effect at once whatever ApplyImmediately says (as RDS
 * documents for both); the answer shows groups being added and removed, the next read the result.
 */
const modifyDBInstance: RdsOperation = (params, context) => {
  const instance = instanceOrThrow(context, required(params, 'DBInstanceIdentifier'));
  if (instance.status !== 'available') {
    throw new AwsFault('InvalidDBInstanceState', 'Database instance is not in available state.');
  }
  const requested =
    params.VpcSecurityGroupIds === undefined ? undefined : stringListParam(params, 'VpcSecurityGroupIds');
  let shown: Array<{ id: string; status: string }> | undefined;
  if (requested !== undefined) {
    if (instance.clusterId !== undefined) {
      throw new AwsFault(
        'InvalidParameterCombination',
        'The requested DB Instance will be a member of a DB Cluster. Set VPC security group for the DB Cluster.',
      );
    }
    for (const groupId of requested) {
      const group = context.state.securityGroups.get(groupId);
      if (!group) {
        throw new AwsFault(
          'InvalidParameterValue',
          `Invalid security group , groupId= ${groupId}, groupName=.`,
        );
      }
      if (group.vpcId !== instance.vpcId) {
        throw new AwsFault(
          'InvalidParameterCombination',
          `The DB instance and EC2 security group are in different VPCs. The DB instance is in ${instance.vpcId} and the EC2 security group is in ${group.vpcId}`,
        );
      }
    }
    const next = [...new Set(requested)];
    shown = [
      ...next.map((id) => ({ id, status: instance.groupIds.includes(id) ? 'active' : 'adding' })),
      ...instance.groupIds.filter((id) => !next.includes(id)).map((id) => ({ id, status: 'removing' })),
    ];
    instance.groupIds = next;
  }
  const flag = stringParam(params, 'PubliclyAccessible');
  if (flag !== undefined) instance.publiclyAccessible = flag === 'true';
  return { DBInstance: renderInstance(context, instance, shown) };
};

const tagsOf = (params: QueryParams): Record<string, string> =>
  Object.fromEntries(tagsParam(params, 'Tags').map((tag) => [tag.key, tag.value]));

const createDBSnapshot: RdsOperation = (params, context) => {
  const snapshotId = validIdentifier('DBSnapshotIdentifier', required(params, 'DBSnapshotIdentifier'));
  const instance = instanceOrThrow(context, required(params, 'DBInstanceIdentifier'));
  if (instance.clusterId !== undefined) {
    throw new AwsFault(
      'InvalidParameterValue',
      'The specified instance is a member of a cluster and a snapshot cannot be created directly. Please use the CreateDBClusterSnapshot API instead.',
    );
  }
  if (instance.status !== 'available') {
    throw new AwsFault(
      'InvalidDBInstanceState',
      `Cannot create a snapshot because the database instance ${instance.id} is not currently in the available state.`,
    );
  }
  const { snapshots } = rdsIn(context);
  if (snapshots.has(snapshotId)) {
    throw new AwsFault(
      'DBSnapshotAlreadyExists',
      `Cannot create the snapshot because a snapshot with the identifier ${snapshotId} already exists.`,
    );
  }
  const snapshot: FakeDbSnapshot = {
    id: snapshotId,
    arn: `arn:aws:rds:${context.state.region}:${context.state.accountId}:snapshot:${snapshotId}`,
    sourceId: instance.id,
    engine: instance.engine,
    engineVersion: instance.engineVersion,
    type: 'manual',
    vpcId: instance.vpcId,
    tags: tagsOf(params),
    createTime: new Date().toISOString(),
  };
  snapshots.set(snapshotId, snapshot);
  return { DBSnapshot: renderSnapshot(snapshot, context, 'creating') };
};

const createDBClusterSnapshot: RdsOperation = (params, context) => {
  const snapshotId = validIdentifier(
    'DBClusterSnapshotIdentifier',
    required(params, 'DBClusterSnapshotIdentifier'),
  );
  const cluster = clusterOrThrow(context, required(params, 'DBClusterIdentifier'));
  if (cluster.status !== 'available') {
    throw new AwsFault('InvalidDBClusterStateFault', `DBCluster ${cluster.id} is not in an available state.`);
  }
  const { clusterSnapshots } = rdsIn(context);
  if (clusterSnapshots.has(snapshotId)) {
    throw new AwsFault(
      'DBClusterSnapshotAlreadyExistsFault',
      `Cannot create the cluster snapshot because one with the identifier ${snapshotId} already exists.`,
    );
  }
  const snapshot: FakeDbSnapshot = {
    id: snapshotId,
    arn: `arn:aws:rds:${context.state.region}:${context.state.accountId}:cluster-snapshot:${snapshotId}`,
    sourceId: cluster.id,
    engine: cluster.engine,
    engineVersion: cluster.engineVersion,
    type: 'manual',
    vpcId: cluster.vpcId,
    tags: tagsOf(params),
    createTime: new Date().toISOString(),
  };
  clusterSnapshots.set(snapshotId, snapshot);
  return { DBClusterSnapshot: renderClusterSnapshot(snapshot, 'creating') };
};

/** Snapshots of a source (an unknown source simply has none) and of a type, or the one named. */
const selectSnapshots = (
  params: QueryParams,
  all: Map<string, FakeDbSnapshot>,
  names: { source: string; snapshot: string; sourceFilter: string; snapshotFilter: string },
  notFound: (id: string) => AwsFault,
): FakeDbSnapshot[] => {
  checkMaxRecords(params);
  const filters = filtersOf(params, [names.sourceFilter, names.snapshotFilter, 'snapshot-type', 'engine']);
  const source = stringParam(params, names.source)?.toLowerCase();
  const id = stringParam(params, names.snapshot)?.toLowerCase();
  const type = stringParam(params, 'SnapshotType');
  if (id !== undefined && !all.has(id)) throw notFound(id);
  return [...all.values()].filter(
    (snapshot) =>
      (id === undefined || snapshot.id === id) &&
      (source === undefined || snapshot.sourceId === source) &&
      (type === undefined || snapshot.type === type) &&
      passes(filters, {
        [names.sourceFilter]: snapshot.sourceId,
        [names.snapshotFilter]: snapshot.id,
        'snapshot-type': snapshot.type,
        engine: snapshot.engine,
      }),
  );
};

const describeDBSnapshots: RdsOperation = (params, context) => ({
  DBSnapshots: list(
    'DBSnapshot',
    selectSnapshots(
      params,
      rdsIn(context).snapshots,
      {
        source: 'DBInstanceIdentifier',
        snapshot: 'DBSnapshotIdentifier',
        sourceFilter: 'db-instance-id',
        snapshotFilter: 'db-snapshot-id',
      },
      (id) => new AwsFault('DBSnapshotNotFound', `DBSnapshot ${id} not found.`, 404),
    ).map((snapshot) => renderSnapshot(snapshot, context)),
  ),
});

const describeDBClusterSnapshots: RdsOperation = (params, context) => ({
  DBClusterSnapshots: list(
    'DBClusterSnapshot',
    selectSnapshots(
      params,
      rdsIn(context).clusterSnapshots,
      {
        source: 'DBClusterIdentifier',
        snapshot: 'DBClusterSnapshotIdentifier',
        sourceFilter: 'db-cluster-id',
        snapshotFilter: 'db-cluster-snapshot-id',
      },
      (id) => new AwsFault('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${id} not found.`, 404),
    ).map((snapshot) => renderClusterSnapshot(snapshot)),
  ),
});

export const rdsOperations: Record<string, RdsOperation> = {
  DescribeDBInstances: describeDBInstances,
  DescribeDBClusters: describeDBClusters,
  ModifyDBInstance: modifyDBInstance,
  CreateDBSnapshot: createDBSnapshot,
  CreateDBClusterSnapshot: createDBClusterSnapshot,
  DescribeDBSnapshots: describeDBSnapshots,
  DescribeDBClusterSnapshots: describeDBClusterSnapshots,
};
