/**
 * Extended Threat Detection: the attack sequence of an `AttackSequence:*` finding
 * (`service.detection.sequence`, Security Hub's `Detection.Sequence`). Field names are those of the
 * GuardDuty API (`Sequence`, `Signal`, `Actor`, `NetworkEndpoint`, `Indicator`, `ResourceV2`);
 * Security Hub's spellings (`Id`, `Title`, `ResourceIds`) are read too.
 *
 * Lists longer than the API allows are FindingFormatErrors. The sequence's resources become resources
 * of the finding when their kind is one the model has and their `uid` (or `name`) gives the
 * identifier that kind needs:
 *
 * | resourceType | resource | identifier |
 * | --- | --- | --- |
 * | EC2_INSTANCE, AWS::EC2::Instance | instance (its network interfaces from the sequence's EC2_NETWORK_INTERFACE resources) | `i-...` or its ARN |
 * | ACCESS_KEY, AWS::IAM::AccessKey | access-key | the key id, or the principal in `data.accessKey` |
 * | S3_BUCKET, AWS::S3::Bucket | s3-bucket | bucket name or ARN |
 * | S3_OBJECT | s3-object | `arn:aws:s3:::bucket/key` (the key also from `data.s3Object.key`) |
 * | EKS_CLUSTER, AWS::EKS::Cluster | eks-cluster | name or ARN |
 * | KUBERNETES_WORKLOAD | kubernetes-workload | `name` and `data.kubernetesWorkload.namespace` |
 * | CONTAINER | container | uid or name |
 * | ECS_CLUSTER, AWS::ECS::Cluster | ecs-cluster | ARN or name |
 * | ECS_TASK | ecs-task | task ARN (its cluster from the ARN, or the sequence's one ECS cluster) |
 *
 * Other resources (and those whose identifier cannot be read) stay in `sequence.resources` only. A
 * resource of another account or region keeps the ARN of that account or region, so the scope check
 * refuses to act on it.
 */
import { isIP } from 'node:net';
import { findTactic } from '../attack/tactics.js';
import { resourceIdentifiers } from '../engine/scope.js';
import type {
  AttackSequence,
  AttackSequenceActor,
  AttackSequenceEndpoint,
  AttackSequenceSignal,
  ContainerResource,
  EcsClusterResource,
  EcsTaskResource,
  EksClusterResource,
  InstanceResource,
  KubernetesWorkloadResource,
  Resource,
  S3BucketResource,
  S3ObjectResource,
} from '../finding.js';
import { techniqueFromIndicator } from './attack.js';
import {
  boundedArray,
  type JsonObject,
  type Located,
  missing,
  objectsOf,
  optionalInteger,
  optionalNumber,
  optionalObject,
  optionalString,
  optionalText,
  optionalTimestamp,
  parseArn,
  requiredString,
  stringsOf,
  tagsAt,
} from './read.js';
import {
  accessKeyOf,
  arnResourceName,
  bucketArn,
  bucketNameFromArn,
  instanceArn,
  type Scope,
} from './resources.js';
import { compact } from './runtime.js';

// The bounds of the GuardDuty API reference (`Sequence`, `Signal`, `Indicator`).
const MAX_SIGNALS = 100;
const MAX_ACTORS = 400;
const MAX_RESOURCES = 400;
const MAX_ENDPOINTS = 400;
const MAX_INDICATORS = 100;
const MAX_IDS = 400;
const MAX_VALUES = 400;

const stringList = (obj: JsonObject, path: string, key: string): string[] | undefined => {
  const list = boundedArray(obj, path, key, MAX_IDS);
  return list && stringsOf(list);
};

const indicatorsOf = (obj: JsonObject, path: string, key: string): AttackSequence['indicators'] =>
  objectsOf(boundedArray(obj, path, key, MAX_INDICATORS)).map(({ value, path: at }) => {
    const indicator: AttackSequence['indicators'][number] = {
      key: requiredString(value, at, 'key'),
      values: stringsOf(boundedArray(value, at, 'values', MAX_VALUES)),
    };
    const title = optionalString(value, at, 'title');
    if (title !== undefined) indicator.title = title;
    return indicator;
  });

const unique = <T>(items: T[]): T[] => [...new Set(items)];

/** The ATT&CK technique and tactic ids a list of indicators names. */
const attackIds = (indicators: AttackSequence['indicators']): { techniques: string[]; tactics: string[] } => {
  const techniques: string[] = [];
  const tactics: string[] = [];
  for (const { key, values } of indicators) {
    for (const text of values) {
      if (key === 'ATTACK_TECHNIQUE') {
        const technique = techniqueFromIndicator(text);
        if (technique) techniques.push(technique.id);
      } else if (key === 'ATTACK_TACTIC') {
        const tactic = findTactic(text.trim());
        if (tactic) tactics.push(tactic.id);
      }
    }
  }
  return { techniques: unique(techniques), tactics: unique(tactics) };
};

const signalOf = ({ value, path }: Located<JsonObject>): AttackSequenceSignal => {
  const uid = optionalString(value, path, 'uid') ?? optionalString(value, path, 'id');
  if (uid === undefined) throw missing(path, 'uid', 'non-empty string');
  const indicators = indicatorsOf(value, path, 'signalIndicators');
  const signal: AttackSequenceSignal = {
    uid,
    type: requiredString(value, path, 'type'),
    name: optionalString(value, path, 'name'),
    description: optionalString(value, path, 'description') ?? optionalString(value, path, 'title'),
    createdAt: optionalTimestamp(value, path, 'createdAt'),
    updatedAt: optionalTimestamp(value, path, 'updatedAt'),
    firstSeenAt: optionalTimestamp(value, path, 'firstSeenAt'),
    lastSeenAt: optionalTimestamp(value, path, 'lastSeenAt'),
    count: optionalInteger(value, path, 'count', 0, Number.MAX_SAFE_INTEGER),
    severity: optionalNumber(value, path, 'severity'),
    ...attackIds(indicators),
    actorIds: stringList(value, path, 'actorIds'),
    resourceUids: stringList(value, path, 'resourceUids') ?? stringList(value, path, 'resourceIds'),
    endpointIds: stringList(value, path, 'endpointIds'),
  };
  return compact(signal) ?? signal;
};

const actorOfSequence = ({ value, path }: Located<JsonObject>): AttackSequenceActor => {
  const actor: AttackSequenceActor = { id: requiredString(value, path, 'id') };
  const user = optionalObject(value, path, 'user');
  if (user) {
    const account = optionalObject(user.value, user.path, 'account');
    actor.user = compact({
      name: optionalString(user.value, user.path, 'name'),
      uid: optionalString(user.value, user.path, 'uid'),
      type: optionalString(user.value, user.path, 'type'),
      credentialUid: optionalString(user.value, user.path, 'credentialUid'),
      account: account && optionalText(account.value, account.path, 'uid'),
    });
  }
  const session = optionalObject(value, path, 'session');
  if (session) {
    actor.session = compact({
      uid: optionalString(session.value, session.path, 'uid'),
      // Security Hub's documented example spells it `MfAStatus`.
      mfaStatus:
        optionalString(session.value, session.path, 'mfaStatus') ??
        optionalString(session.value, session.path, 'MfAStatus'),
      createdTime: optionalTimestamp(session.value, session.path, 'createdTime'),
      issuer: optionalString(session.value, session.path, 'issuer'),
    });
  }
  const process = optionalObject(value, path, 'process');
  if (process) {
    actor.process = compact({
      name: optionalString(process.value, process.path, 'name'),
      path: optionalString(process.value, process.path, 'path'),
      sha256: optionalString(process.value, process.path, 'sha256'),
    });
  }
  return compact(actor) ?? actor;
};

const endpointOf = ({ value, path }: Located<JsonObject>): AttackSequenceEndpoint => {
  const endpoint: AttackSequenceEndpoint = {
    id: requiredString(value, path, 'id'),
    ip: optionalString(value, path, 'ip'),
    domain: optionalString(value, path, 'domain'),
  };
  const port = optionalInteger(value, path, 'port', 0, 65_535);
  if (port !== undefined) endpoint.port = port;
  const location = optionalObject(value, path, 'location');
  if (location) {
    endpoint.location = compact({
      city: optionalString(location.value, location.path, 'city'),
      country: optionalString(location.value, location.path, 'country'),
      lat: optionalNumber(location.value, location.path, 'lat'),
      lon: optionalNumber(location.value, location.path, 'lon'),
    });
  }
  const system = optionalObject(value, path, 'autonomousSystem');
  if (system) {
    endpoint.autonomousSystem = compact({
      name: optionalString(system.value, system.path, 'name'),
      number: optionalInteger(system.value, system.path, 'number', 0, 4_294_967_295),
    });
  }
  const connection = optionalObject(value, path, 'connection');
  endpoint.direction = connection && optionalString(connection.value, connection.path, 'direction');
  return compact(endpoint) ?? endpoint;
};

/** One entry of the sequence's resource list, as GuardDuty gives it, with its path. */
interface SequenceResource {
  uid: string;
  type?: string;
  name?: string;
  accountId?: string;
  region?: string;
  partition?: string;
  block: Located<JsonObject>;
}

const sequenceResourceOf = (block: Located<JsonObject>): SequenceResource => {
  const { value, path } = block;
  return {
    uid: requiredString(value, path, 'uid'),
    type: optionalString(value, path, 'resourceType'),
    name: optionalString(value, path, 'name'),
    accountId: optionalText(value, path, 'accountId'),
    region: optionalString(value, path, 'region'),
    partition: optionalString(value, path, 'cloudPartition'),
    block,
  };
};

const sequenceResourceList = (sequence: Located<JsonObject>): SequenceResource[] =>
  objectsOf(boundedArray(sequence.value, sequence.path, 'resources', MAX_RESOURCES)).map(sequenceResourceOf);

/** `service.detection.sequence` (or Security Hub's `Detection.Sequence`), read. */
export const attackSequenceOf = (sequence: Located<JsonObject>): AttackSequence => {
  const { value, path } = sequence;
  return {
    uid: requiredString(value, path, 'uid'),
    description: optionalString(value, path, 'description'),
    signals: objectsOf(boundedArray(value, path, 'signals', MAX_SIGNALS)).map(signalOf),
    actors: objectsOf(boundedArray(value, path, 'actors', MAX_ACTORS)).map(actorOfSequence),
    endpoints: objectsOf(boundedArray(value, path, 'endpoints', MAX_ENDPOINTS)).map(endpointOf),
    indicators: indicatorsOf(value, path, 'sequenceIndicators'),
    resources: sequenceResourceList(sequence).map(({ uid, type, name, accountId, region }) => {
      const entry: AttackSequence['resources'][number] = { uid };
      if (type !== undefined) entry.type = type;
      if (name !== undefined) entry.name = name;
      if (accountId !== undefined) entry.accountId = accountId;
      if (region !== undefined) entry.region = region;
      return entry;
    }),
  };
};

const IP_INDICATORS: ReadonlySet<string> = new Set(['MALICIOUS_IP', 'CRYPTOMINING_IP', 'TOR_IP']);

/**
 * Every IP address the sequence names: its endpoints' addresses and the values of its IP indicators
 * (MALICIOUS_IP, CRYPTOMINING_IP, TOR_IP), each once. Values that are not IP addresses are left out.
 */
export const sequenceRemoteIps = (sequence: AttackSequence): string[] => {
  const ips = [
    ...sequence.endpoints.map((endpoint) => endpoint.ip),
    ...sequence.indicators.filter(({ key }) => IP_INDICATORS.has(key)).flatMap(({ values }) => values),
  ];
  return unique(ips.filter((ip): ip is string => typeof ip === 'string' && isIP(ip) !== 0));
};

type SequenceKind =
  | 'instance'
  | 'network-interface'
  | 'access-key'
  | 's3-bucket'
  | 's3-object'
  | 'eks-cluster'
  | 'kubernetes-workload'
  | 'container'
  | 'ecs-cluster'
  | 'ecs-task';

const SEQUENCE_KINDS: ReadonlyMap<string, SequenceKind> = new Map([
  ['EC2_INSTANCE', 'instance'],
  ['AWS::EC2::Instance', 'instance'],
  ['EC2_NETWORK_INTERFACE', 'network-interface'],
  ['AWS::EC2::NetworkInterface', 'network-interface'],
  ['ACCESS_KEY', 'access-key'],
  ['AWS::IAM::AccessKey', 'access-key'],
  ['S3_BUCKET', 's3-bucket'],
  ['AWS::S3::Bucket', 's3-bucket'],
  ['S3_OBJECT', 's3-object'],
  ['EKS_CLUSTER', 'eks-cluster'],
  ['AWS::EKS::Cluster', 'eks-cluster'],
  ['KUBERNETES_WORKLOAD', 'kubernetes-workload'],
  ['CONTAINER', 'container'],
  ['ECS_CLUSTER', 'ecs-cluster'],
  ['AWS::ECS::Cluster', 'ecs-cluster'],
  ['ECS_TASK', 'ecs-task'],
]);

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const NETWORK_INTERFACE_ID = /^eni-[0-9a-f]{8,17}$/;
const ACCESS_KEY_ID = /^(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,124}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The part after `prefix` of an ARN of `service`, or of a bare id matching `pattern`. */
const idFrom = (
  text: string | undefined,
  service: string,
  prefix: string,
  pattern: RegExp,
): string | undefined => {
  if (text === undefined) return undefined;
  const arn = parseArn(text);
  const id = arn
    ? arn.service === service && arn.resource.startsWith(prefix)
      ? arn.resource.slice(prefix.length)
      : undefined
    : text;
  return id !== undefined && pattern.test(id) ? id : undefined;
};

const arnOf = (text: string | undefined, service: string, prefix: string): string | undefined => {
  const arn = text === undefined ? undefined : parseArn(text);
  return arn?.service === service && arn.resource.startsWith(prefix) ? text : undefined;
};

/** `data.<key>` of a sequence resource. */
const dataOf = (resource: SequenceResource, key: string): Located<JsonObject> | undefined => {
  const data = optionalObject(resource.block.value, resource.block.path, 'data');
  return data && optionalObject(data.value, data.path, key);
};

const text = (block: Located<JsonObject> | undefined, key: string): string | undefined =>
  block && optionalString(block.value, block.path, key);

const securityGroupsOf = (block: Located<JsonObject> | undefined): InstanceResource['securityGroups'] =>
  block
    ? objectsOf(boundedArray(block.value, block.path, 'securityGroups', MAX_IDS)).map(({ value, path }) => ({
        groupId: requiredString(value, path, 'groupId'),
        groupName: optionalString(value, path, 'groupName'),
      }))
    : [];

/** Reads the resources of one sequence; `others` finds the resources its entries point at by uid. */
class SequenceReader {
  private readonly byUid = new Map<string, SequenceResource>();

  constructor(
    private readonly entries: SequenceResource[],
    private readonly scope: Scope,
  ) {
    for (const entry of entries) if (!this.byUid.has(entry.uid)) this.byUid.set(entry.uid, entry);
  }

  private scopeOf(entry: SequenceResource): Scope {
    return {
      partition: entry.partition ?? this.scope.partition,
      region: entry.region ?? this.scope.region,
      accountId: entry.accountId ?? this.scope.accountId,
    };
  }

  private kindOf(entry: SequenceResource): SequenceKind | undefined {
    return entry.type === undefined ? undefined : SEQUENCE_KINDS.get(entry.type);
  }

  private only(kind: SequenceKind): SequenceResource | undefined {
    const matching = this.entries.filter((entry) => this.kindOf(entry) === kind);
    return matching.length === 1 ? matching[0] : undefined;
  }

  private referenced(uids: string[], kind: SequenceKind): SequenceResource[] {
    return uids
      .map((uid) => this.byUid.get(uid))
      .filter((entry): entry is SequenceResource => entry !== undefined && this.kindOf(entry) === kind);
  }

  private uidList(block: Located<JsonObject> | undefined, key: string): string[] {
    return block ? stringsOf(boundedArray(block.value, block.path, key, MAX_IDS)) : [];
  }

  private networkInterface(
    entry: SequenceResource,
  ): InstanceResource['networkInterfaces'][number] | undefined {
    const networkInterfaceId =
      idFrom(entry.uid, 'ec2', 'network-interface/', NETWORK_INTERFACE_ID) ??
      idFrom(entry.name, 'ec2', 'network-interface/', NETWORK_INTERFACE_ID);
    if (networkInterfaceId === undefined) return undefined;
    const data = dataOf(entry, 'ec2NetworkInterface');
    const [privateIp] = data
      ? objectsOf(boundedArray(data.value, data.path, 'privateIpAddresses', MAX_IDS))
      : [];
    return {
      networkInterfaceId,
      subnetId: text(data, 'subNetId') ?? text(data, 'subnetId'),
      vpcId: text(data, 'vpcId'),
      privateIpAddress: privateIp && optionalString(privateIp.value, privateIp.path, 'privateIpAddress'),
      publicIp: text(data, 'publicIp'),
      securityGroups: securityGroupsOf(data),
    };
  }

  private instance(entry: SequenceResource): InstanceResource | undefined {
    const instanceId =
      idFrom(entry.uid, 'ec2', 'instance/', INSTANCE_ID) ??
      idFrom(entry.name, 'ec2', 'instance/', INSTANCE_ID);
    if (instanceId === undefined) return undefined;
    const data = dataOf(entry, 'ec2Instance');
    const profile = data && optionalObject(data.value, data.path, 'iamInstanceProfile');
    const networkInterfaces = this.referenced(
      this.uidList(data, 'ec2NetworkInterfaceUids'),
      'network-interface',
    )
      .map((nic) => this.networkInterface(nic))
      .filter((nic) => nic !== undefined);
    const securityGroups = new Map<string, InstanceResource['securityGroups'][number]>();
    for (const nic of networkInterfaces)
      for (const group of nic.securityGroups)
        if (!securityGroups.has(group.groupId)) securityGroups.set(group.groupId, group);
    const [primary] = networkInterfaces;
    return {
      kind: 'instance',
      instanceId,
      arn: arnOf(entry.uid, 'ec2', 'instance/') ?? instanceArn(this.scopeOf(entry), instanceId),
      instanceProfile: profile && {
        arn: optionalString(profile.value, profile.path, 'arn'),
        id: optionalString(profile.value, profile.path, 'id'),
      },
      tags: tagsAt(entry.block.value, entry.block.path, 'tags'),
      vpcId: primary?.vpcId,
      subnetId: primary?.subnetId,
      securityGroups: [...securityGroups.values()],
      networkInterfaces,
      instanceType: text(data, 'instanceType'),
      availabilityZone: text(data, 'availabilityZone'),
      state: text(data, 'instanceState'),
      role: 'resource',
    };
  }

  private accessKey(entry: SequenceResource): Resource | undefined {
    const data = dataOf(entry, 'accessKey');
    const accessKeyId = ACCESS_KEY_ID.test(entry.uid) ? entry.uid : undefined;
    const principalId = text(data, 'principalId');
    const userName = text(data, 'userName') ?? (accessKeyId === entry.name ? undefined : entry.name);
    if (accessKeyId === undefined && principalId === undefined && userName === undefined) return undefined;
    return accessKeyOf(accessKeyId, principalId, text(data, 'userType'), userName);
  }

  private bucket(entry: SequenceResource): S3BucketResource | undefined {
    const arn = parseArn(entry.uid);
    const name = entry.name ?? (arn ? bucketNameFromArn(entry.uid) : entry.uid);
    if (name === undefined || name.includes('/')) return undefined;
    const data = dataOf(entry, 's3Bucket');
    const effectivePermission = text(data, 'effectivePermission');
    return {
      kind: 's3-bucket',
      name,
      arn:
        arn?.service === 's3' && !arn.resource.includes('/')
          ? entry.uid
          : bucketArn(this.scopeOf(entry), name),
      ownerId: text(data, 'ownerId'),
      createdAt: data && optionalTimestamp(data.value, data.path, 'createdAt'),
      tags: tagsAt(entry.block.value, entry.block.path, 'tags'),
      publicAccess: effectivePermission === undefined ? undefined : { effectivePermission },
      encryptionType: text(data, 'encryptionType'),
    };
  }

  private object(entry: SequenceResource): S3ObjectResource | undefined {
    const arn = parseArn(entry.uid);
    if (arn?.service !== 's3') return undefined;
    const slash = arn.resource.indexOf('/');
    if (slash <= 0) return undefined;
    const data = dataOf(entry, 's3Object');
    const key = text(data, 'key') ?? arn.resource.slice(slash + 1);
    if (key === '') return undefined;
    return compact<S3ObjectResource>({
      kind: 's3-object',
      bucket: arn.resource.slice(0, slash),
      key,
      arn: entry.uid,
      versionId: text(data, 'versionId'),
      eTag: text(data, 'eTag'),
    });
  }

  private eksCluster(entry: SequenceResource): EksClusterResource | undefined {
    const data = dataOf(entry, 'eksCluster');
    const arn = text(data, 'arn') ?? arnOf(entry.uid, 'eks', 'cluster/');
    const name = entry.name ?? (arn ? arnResourceName(arn) : parseArn(entry.uid) ? undefined : entry.uid);
    if (name === undefined) return undefined;
    return {
      kind: 'eks-cluster',
      name,
      arn,
      vpcId: text(data, 'vpcId'),
      tags: tagsAt(entry.block.value, entry.block.path, 'tags'),
    };
  }

  private container(entry: SequenceResource): ContainerResource {
    const data = dataOf(entry, 'container');
    return { kind: 'container', id: entry.uid, name: entry.name, image: text(data, 'image') };
  }

  private workload(entry: SequenceResource): KubernetesWorkloadResource | undefined {
    const data = dataOf(entry, 'kubernetesWorkload');
    const namespace = text(data, 'namespace');
    if (entry.name === undefined || namespace === undefined) return undefined;
    const cluster = this.only('eks-cluster');
    return {
      kind: 'kubernetes-workload',
      clusterName: cluster && this.eksCluster(cluster)?.name,
      namespace,
      name: entry.name,
      type: text(data, 'type') ?? 'Unknown',
      uid: UUID.test(entry.uid) ? entry.uid : undefined,
      labels: {},
      containers: this.referenced(this.uidList(data, 'containerUids'), 'container').map((container) => ({
        name: container.name,
        image: text(dataOf(container, 'container'), 'image'),
      })),
      volumes: [],
    };
  }

  private ecsCluster(entry: SequenceResource): EcsClusterResource | undefined {
    const arn = arnOf(entry.uid, 'ecs', 'cluster/');
    const name = entry.name ?? (arn ? arnResourceName(arn) : parseArn(entry.uid) ? undefined : entry.uid);
    if (arn === undefined && name === undefined) return undefined;
    const scope = this.scopeOf(entry);
    return {
      kind: 'ecs-cluster',
      name,
      arn: arn ?? `arn:${scope.partition}:ecs:${scope.region}:${scope.accountId}:cluster/${name}`,
      tags: tagsAt(entry.block.value, entry.block.path, 'tags'),
    };
  }

  private task(entry: SequenceResource): EcsTaskResource | undefined {
    const arn = arnOf(entry.uid, 'ecs', 'task/');
    if (arn === undefined) return undefined;
    const parts = parseArn(arn);
    const path = parts?.resource.split('/') ?? [];
    const cluster = this.only('ecs-cluster');
    const clusterArn =
      parts && path.length === 3
        ? `arn:${parts.partition}:ecs:${parts.region}:${parts.account}:cluster/${path[1]}`
        : cluster && this.ecsCluster(cluster)?.arn;
    if (clusterArn === undefined) return undefined;
    const data = dataOf(entry, 'ecsTask');
    return {
      kind: 'ecs-task',
      arn,
      clusterArn,
      definitionArn: text(data, 'taskDefinitionArn'),
      launchType: text(data, 'launchType'),
      containers: this.referenced(this.uidList(data, 'containerUids'), 'container').map((container) => ({
        name: container.name,
        image: text(dataOf(container, 'container'), 'image'),
        runtimeId: container.uid,
      })),
      tags: tagsAt(entry.block.value, entry.block.path, 'tags'),
    };
  }

  resourceOf(entry: SequenceResource): Resource | undefined {
    switch (this.kindOf(entry)) {
      case 'instance':
        return this.instance(entry);
      case 'access-key':
        return this.accessKey(entry);
      case 's3-bucket':
        return this.bucket(entry);
      case 's3-object':
        return this.object(entry);
      case 'eks-cluster':
        return this.eksCluster(entry);
      case 'kubernetes-workload':
        return this.workload(entry);
      case 'container':
        return this.container(entry);
      case 'ecs-cluster':
        return this.ecsCluster(entry);
      case 'ecs-task':
        return this.task(entry);
      default:
        // Network interfaces are read into their instance; other types have no kind in the model.
        return undefined;
    }
  }

  resources(): Resource[] {
    return this.entries.map((entry) => this.resourceOf(entry)).filter((resource) => resource !== undefined);
  }
}

/** Whether two resources are the same one: same kind, and an identifier in common. */
const sameResource = (a: Resource, b: Resource): boolean => {
  if (a.kind !== b.kind) return false;
  const ids = new Set(resourceIdentifiers(a));
  return resourceIdentifiers(b).some((id) => ids.has(id));
};

/**
 * The resources of an attack sequence (see the table at the top of this file) that `known` (the
 * finding's own resource blocks) does not already name, each once.
 */
export const sequenceResources = (
  sequence: Located<JsonObject>,
  scope: Scope,
  known: readonly Resource[],
): Resource[] => {
  const added: Resource[] = [];
  for (const resource of new SequenceReader(sequenceResourceList(sequence), scope).resources()) {
    if (![...known, ...added].some((other) => sameResource(other, resource))) added.push(resource);
  }
  return added;
};
