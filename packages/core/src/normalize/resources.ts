/**
 * The resources a GuardDuty finding is about.
 *
 * GuardDuty's `resource` object carries blocks that do not describe affected resources: sample
 * findings put a placeholder `instanceDetails` on every type, S3 policy findings arrive with
 * `resourceType: AccessKey`, and so on. So what counts is decided from `resource.resourceType` and the
 * finding type, never from the presence of a block:
 *
 * | resourceType | resources |
 * | --- | --- |
 * | Instance | the instance (role 'resource') |
 * | AccessKey | the access key and its principal; for `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*` also the instance whose credentials leaked (role 'credential-source'); for an S3 type also its buckets |
 * | S3Bucket, S3Object | the buckets and the objects they list (`s3ObjectDetails`: Malware Protection for S3), and the access key when the finding names one |
 * | EKSCluster | the cluster, its Kubernetes workload and user (`kubernetesDetails`), and the access key when the finding names one |
 * | ECSCluster | the cluster and its task (`taskDetails`) |
 * | Container | the container, the ECS/EKS cluster and ECS task when given, and the Kubernetes workload and user |
 * | Lambda | the function |
 * | RDSDBInstance | the DB instance, its Aurora cluster, and the database user (`rdsDbUserDetails`) |
 * | RDSLimitlessDB | the shard group, its Aurora cluster, and the database user |
 *
 * For Runtime Monitoring types the host instance (`instanceDetails`) is also a resource when the
 * resource is a container or cluster, and a malware scan of any of these compute resources adds the
 * EBS volumes it scanned. Every finding with an AWS API call adds the CloudTrail trails that
 * `awsApiCallAction.affectedResources` names. An attack sequence's resources are added by sequence.ts.
 */
import type {
  AccessKeyResource,
  ContainerResource,
  EbsVolumeResource,
  EcsClusterResource,
  EcsTaskResource,
  EksClusterResource,
  FindingType,
  InstanceResource,
  LambdaFunctionResource,
  PublicAccessBlockFlags,
  Resource,
  S3BucketResource,
  S3ObjectResource,
  TrailResource,
  UserType,
} from '../finding.js';
import { kubernetesResources } from './kubernetes.js';
import { rdsResources } from './rds.js';
import {
  boundedArray,
  field,
  type JsonObject,
  type Located,
  missing,
  objectsOf,
  optionalArray,
  optionalBoolean,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalTimestamp,
  parseArn,
  requiredString,
  stringsOf,
  tagsAt,
  wrongType,
} from './read.js';
import { compact } from './runtime.js';

/** Where the finding lives: used to build the ARNs a finding does not spell out. */
export interface Scope {
  partition: string;
  region: string;
  accountId: string;
}

const CREDENTIAL_EXFILTRATION_FAMILY = 'InstanceCredentialExfiltration';

/** `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*`: the instance is where the credentials leaked from. */
export const isInstanceCredentialExfiltration = (type: FindingType): boolean =>
  type.threatPurpose === 'UnauthorizedAccess' &&
  type.resourceType === 'IAMUser' &&
  type.threatFamily === CREDENTIAL_EXFILTRATION_FAMILY;

export const instanceArn = (scope: Scope, instanceId: string): string =>
  `arn:${scope.partition}:ec2:${scope.region}:${scope.accountId}:instance/${instanceId}`;

export const bucketArn = (scope: Scope, name: string): string => `arn:${scope.partition}:s3:::${name}`;

/** The last `/`- or `:`-separated part of an ARN's resource (`trail/org-audit-trail` -> `org-audit-trail`). */
export const arnResourceName = (arn: string): string | undefined => {
  const resource = parseArn(arn)?.resource;
  if (resource === undefined) return undefined;
  return resource.slice(Math.max(resource.lastIndexOf('/'), resource.lastIndexOf(':')) + 1) || undefined;
};

export const securityGroupsOf = (list: Located<unknown[]> | undefined): InstanceResource['securityGroups'] =>
  objectsOf(list).map(({ value, path }) => ({
    groupId: requiredString(value, path, 'groupId'),
    groupName: optionalString(value, path, 'groupName'),
  }));

const instanceOf = (
  { value, path }: Located<JsonObject>,
  scope: Scope,
  role: InstanceResource['role'],
): InstanceResource => {
  const instanceId = requiredString(value, path, 'instanceId');
  const networkInterfaces = objectsOf(optionalArray(value, path, 'networkInterfaces')).map((nic) => ({
    networkInterfaceId: requiredString(nic.value, nic.path, 'networkInterfaceId'),
    subnetId: optionalString(nic.value, nic.path, 'subnetId'),
    vpcId: optionalString(nic.value, nic.path, 'vpcId'),
    privateIpAddress: optionalString(nic.value, nic.path, 'privateIpAddress'),
    publicIp: optionalString(nic.value, nic.path, 'publicIp'),
    securityGroups: securityGroupsOf(optionalArray(nic.value, nic.path, 'securityGroups')),
  }));
  const securityGroups = new Map<string, InstanceResource['securityGroups'][number]>();
  for (const nic of networkInterfaces) {
    for (const group of nic.securityGroups)
      if (!securityGroups.has(group.groupId)) securityGroups.set(group.groupId, group);
  }
  const profile = optionalObject(value, path, 'iamInstanceProfile');
  const [primary] = networkInterfaces;
  return {
    kind: 'instance',
    instanceId,
    arn: instanceArn(scope, instanceId),
    instanceProfile: profile && {
      arn: optionalString(profile.value, profile.path, 'arn'),
      id: optionalString(profile.value, profile.path, 'id'),
    },
    tags: tagsAt(value, path, 'tags'),
    vpcId: primary?.vpcId,
    subnetId: primary?.subnetId,
    securityGroups: [...securityGroups.values()],
    networkInterfaces,
    imageId: optionalString(value, path, 'imageId'),
    instanceType: optionalString(value, path, 'instanceType'),
    availabilityZone: optionalString(value, path, 'availabilityZone'),
    state: optionalString(value, path, 'instanceState'),
    launchTime: optionalTimestamp(value, path, 'launchTime'),
    role,
  };
};

const USER_TYPES: ReadonlySet<string> = new Set<UserType>([
  'IAMUser',
  'AssumedRole',
  'Root',
  'FederatedUser',
  'AWSService',
  'AWSAccount',
  'Role',
]);

const userTypeOf = (text: string | undefined): UserType =>
  text !== undefined && USER_TYPES.has(text) ? (text as UserType) : 'Unknown';

/**
 * The role and session behind a role principal. An ARN (`...:assumed-role/Name/Session`,
 * `...:role/path/Name`) gives both; otherwise the role name is the user name GuardDuty reports and the
 * session is what follows the role id in `principalId` (`AROA...:session`). The `AROA...` part is the
 * role's unique id, not its name, so it never stands in for the name.
 */
const rolePrincipal = (
  userName: string | undefined,
  principalId: string | undefined,
): Pick<AccessKeyResource, 'roleName' | 'sessionName'> => {
  const arn = userName === undefined ? undefined : parseArn(userName);
  if (arn?.resource.startsWith('assumed-role/')) {
    const [, roleName, sessionName] = arn.resource.split('/');
    return { roleName, sessionName };
  }
  const colon = principalId?.indexOf(':') ?? -1;
  const sessionName =
    principalId !== undefined && colon >= 0 ? principalId.slice(colon + 1) || undefined : undefined;
  if (arn?.resource.startsWith('role/'))
    return { roleName: arn.resource.slice(arn.resource.lastIndexOf('/') + 1), sessionName };
  return { roleName: userName, sessionName };
};

export const accessKeyOf = (
  accessKeyId: string | undefined,
  principalId: string | undefined,
  userTypeText: string | undefined,
  userName: string | undefined,
): AccessKeyResource => {
  const userType = userTypeOf(userTypeText);
  const resource: AccessKeyResource = { kind: 'access-key', accessKeyId, principalId, userType, userName };
  // An ARN given as the user name stays on the resource: the role or user name taken from it is only
  // acted on when the scope check finds the ARN in the finding's partition and account.
  if (userName?.startsWith('arn:')) resource.principalArn = userName;
  return userType === 'AssumedRole' || userType === 'Role'
    ? { ...resource, ...rolePrincipal(userName, principalId) }
    : resource;
};

const guardDutyAccessKey = ({ value, path }: Located<JsonObject>): AccessKeyResource =>
  accessKeyOf(
    optionalString(value, path, 'accessKeyId'),
    optionalString(value, path, 'principalId'),
    optionalString(value, path, 'userType'),
    optionalString(value, path, 'userName'),
  );

const blockFlagsOf = (permissions: Located<JsonObject> | undefined): PublicAccessBlockFlags | undefined => {
  const block = permissions && optionalObject(permissions.value, permissions.path, 'blockPublicAccess');
  return block && blockFlags(block);
};

export const blockFlags = ({ value, path }: Located<JsonObject>): PublicAccessBlockFlags => ({
  blockPublicAcls: optionalBoolean(value, path, 'blockPublicAcls'),
  ignorePublicAcls: optionalBoolean(value, path, 'ignorePublicAcls'),
  blockPublicPolicy: optionalBoolean(value, path, 'blockPublicPolicy'),
  restrictPublicBuckets: optionalBoolean(value, path, 'restrictPublicBuckets'),
});

const publicAccessOf = (publicAccess: Located<JsonObject> | undefined): S3BucketResource['publicAccess'] => {
  if (!publicAccess) return undefined;
  const { value, path } = publicAccess;
  const configuration = optionalObject(value, path, 'permissionConfiguration');
  return {
    effectivePermission: optionalString(value, path, 'effectivePermission'),
    accountLevelBlock: blockFlagsOf(
      configuration && optionalObject(configuration.value, configuration.path, 'accountLevelPermissions'),
    ),
    bucketLevelBlock: blockFlagsOf(
      configuration && optionalObject(configuration.value, configuration.path, 'bucketLevelPermissions'),
    ),
  };
};

/** The bucket an S3 ARN names (`arn:aws:s3:::name` or `arn:aws:s3:::name/key`). */
export const bucketNameFromArn = (arn: string): string | undefined => {
  const parts = parseArn(arn);
  if (parts?.service !== 's3') return undefined;
  return parts.resource.split('/')[0] || undefined;
};

const bucketOf = ({ value, path }: Located<JsonObject>, scope: Scope): S3BucketResource => {
  const arn = optionalString(value, path, 'arn');
  const name =
    optionalString(value, path, 'name') ?? (arn === undefined ? undefined : bucketNameFromArn(arn));
  if (name === undefined) throw missing(path, 'name', 'bucket name (or an S3 "arn")');
  const owner = optionalObject(value, path, 'owner');
  const encryption = optionalObject(value, path, 'defaultServerSideEncryption');
  return {
    kind: 's3-bucket',
    name,
    arn: arn ?? bucketArn(scope, name),
    ownerId: owner && optionalString(owner.value, owner.path, 'id'),
    createdAt: optionalTimestamp(value, path, 'createdAt'),
    type: optionalString(value, path, 'type'),
    tags: tagsAt(value, path, 'tags'),
    publicAccess: publicAccessOf(optionalObject(value, path, 'publicAccess')),
    encryptionType: encryption && optionalString(encryption.value, encryption.path, 'encryptionType'),
  };
};

const eksClusterOf = ({ value, path }: Located<JsonObject>): EksClusterResource => ({
  kind: 'eks-cluster',
  name: requiredString(value, path, 'name'),
  arn: optionalString(value, path, 'arn'),
  vpcId: optionalString(value, path, 'vpcId'),
  tags: tagsAt(value, path, 'tags'),
});

const ecsClusterOf = ({ value, path }: Located<JsonObject>, scope: Scope): EcsClusterResource => {
  const name = optionalString(value, path, 'name');
  const arn = optionalString(value, path, 'arn');
  if (arn === undefined && name === undefined) throw missing(path, 'arn', 'cluster ARN (or "name")');
  const task = optionalObject(value, path, 'taskDetails');
  return {
    kind: 'ecs-cluster',
    name: name ?? (arn === undefined ? undefined : arnResourceName(arn)),
    arn: arn ?? `arn:${scope.partition}:ecs:${scope.region}:${scope.accountId}:cluster/${name}`,
    taskArn: task && optionalString(task.value, task.path, 'arn'),
    taskDefinitionArn: task && optionalString(task.value, task.path, 'definitionArn'),
    tags: tagsAt(value, path, 'tags'),
  };
};

/** A task has at most 10 containers (an ECS quota); this bound leaves room and caps the cost. */
const MAX_TASK_CONTAINERS = 100;

/** The task of `ecsClusterDetails.taskDetails`, when it gives its ARN. */
const ecsTaskOf = (cluster: EcsClusterResource, task: Located<JsonObject>): EcsTaskResource | undefined => {
  const { value, path } = task;
  const arn = optionalString(value, path, 'arn');
  if (arn === undefined) return undefined;
  return {
    kind: 'ecs-task',
    arn,
    clusterArn: cluster.arn,
    definitionArn: optionalString(value, path, 'definitionArn'),
    version: optionalString(value, path, 'version'),
    launchType: optionalString(value, path, 'launchType'),
    startedAt: optionalTimestamp(value, path, 'startedAt'),
    startedBy: optionalString(value, path, 'startedBy'),
    group: optionalString(value, path, 'group'),
    containers: objectsOf(boundedArray(value, path, 'containers', MAX_TASK_CONTAINERS)).map((container) => ({
      name: optionalString(container.value, container.path, 'name'),
      image: optionalString(container.value, container.path, 'image'),
      runtimeId: optionalString(container.value, container.path, 'id'),
    })),
    tags: tagsAt(value, path, 'tags'),
  };
};

/** The cluster of `ecsClusterDetails`, and its task when the block gives one. */
const ecsResources = (block: Located<JsonObject>, scope: Scope): Resource[] => {
  const cluster = ecsClusterOf(block, scope);
  const details = optionalObject(block.value, block.path, 'taskDetails');
  const task = details && ecsTaskOf(cluster, details);
  return task ? [cluster, task] : [cluster];
};

const containerOf = ({ value, path }: Located<JsonObject>): ContainerResource => ({
  kind: 'container',
  id: optionalString(value, path, 'id'),
  name: optionalString(value, path, 'name'),
  image: optionalString(value, path, 'image'),
  runtime: optionalString(value, path, 'containerRuntime'),
});

const lambdaOf = ({ value, path }: Located<JsonObject>): LambdaFunctionResource => {
  const arn = optionalString(value, path, 'functionArn');
  const name =
    optionalString(value, path, 'functionName') ?? (arn === undefined ? undefined : arnResourceName(arn));
  if (name === undefined) throw missing(path, 'functionName', 'function name (or "functionArn")');
  const vpc = optionalObject(value, path, 'vpcConfig');
  const subnetIds = vpc && stringsOf(optionalArray(vpc.value, vpc.path, 'subnetIds'));
  const securityGroups = vpc && securityGroupsOf(optionalArray(vpc.value, vpc.path, 'securityGroups'));
  return {
    kind: 'lambda-function',
    name,
    arn,
    version: optionalString(value, path, 'functionVersion'),
    role: optionalString(value, path, 'role'),
    vpcId: vpc && optionalString(vpc.value, vpc.path, 'vpcId'),
    subnetIds: subnetIds && subnetIds.length > 0 ? subnetIds : undefined,
    securityGroups: securityGroups && securityGroups.length > 0 ? securityGroups : undefined,
    tags: tagsAt(value, path, 'tags'),
  };
};

/** The volumes a malware scan read (`ebsVolumeDetails.scannedVolumeDetails`). */
const scannedVolumesOf = (details: Located<JsonObject> | undefined): EbsVolumeResource[] => {
  if (!details) return [];
  return objectsOf(optionalArray(details.value, details.path, 'scannedVolumeDetails')).map(
    ({ value, path }) => {
      const volumeArn = optionalString(value, path, 'volumeArn');
      return {
        kind: 'ebs-volume',
        volumeId: volumeArn === undefined ? undefined : arnResourceName(volumeArn),
        volumeArn,
        snapshotArn: optionalString(value, path, 'snapshotArn'),
        deviceName: optionalString(value, path, 'deviceName'),
        volumeType: optionalString(value, path, 'volumeType'),
        volumeSizeInGB: optionalInteger(value, path, 'volumeSizeInGB', 0, 1_000_000),
        encryptionType: optionalString(value, path, 'encryptionType'),
        kmsKeyArn: optionalString(value, path, 'kmsKeyArn'),
      };
    },
  );
};

/** Malware Protection for S3 names one object per finding; this bound leaves room and caps the cost. */
const MAX_OBJECTS = 1000;

/** The objects a bucket entry lists (`s3ObjectDetails`: Malware Protection for S3). */
const objectsOfBucket = (bucket: Located<JsonObject>, name: string): S3ObjectResource[] =>
  objectsOf(boundedArray(bucket.value, bucket.path, 's3ObjectDetails', MAX_OBJECTS)).map(
    ({ value, path }) => {
      const arn = optionalString(value, path, 'objectArn');
      const arnParts = arn === undefined ? undefined : parseArn(arn);
      const slash = arnParts?.resource.indexOf('/') ?? -1;
      const key =
        optionalString(value, path, 'key') ??
        (arnParts?.service === 's3' && slash > 0
          ? arnParts.resource.slice(slash + 1) || undefined
          : undefined);
      if (key === undefined) throw missing(path, 'key', 'object key (or an S3 "objectArn")');
      const object: S3ObjectResource = { kind: 's3-object', bucket: name, key };
      return (
        compact<S3ObjectResource>({
          ...object,
          arn,
          versionId: optionalString(value, path, 'versionId'),
          eTag: optionalString(value, path, 'eTag'),
          hash: optionalString(value, path, 'hash'),
        }) ?? object
      );
    },
  );

export const TRAIL_RESOURCE_TYPE = 'AWS::CloudTrail::Trail';

/** The trail an `AWS::CloudTrail::Trail` entry names, by name or ARN. */
export const trailsFrom = (trail: Located<unknown> | undefined): TrailResource[] => {
  if (!trail) return [];
  if (typeof trail.value !== 'string') throw wrongType(trail.path, 'a string', trail.value);
  if (trail.value === '') return [];
  const arn = parseArn(trail.value) ? trail.value : undefined;
  return [{ kind: 'cloudtrail-trail', name: (arn && arnResourceName(arn)) ?? trail.value, arn }];
};

/** The CloudTrail trails an API call touched (`affectedResources`: `{ "AWS::CloudTrail::Trail": name or ARN }`). */
export const affectedTrails = (affected: Located<JsonObject> | undefined): TrailResource[] =>
  trailsFrom(affected && field(affected.value, affected.path, TRAIL_RESOURCE_TYPE));

const COMPUTE_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'Instance',
  'EKSCluster',
  'ECSCluster',
  'Container',
]);

/**
 * The resources of a GuardDuty finding (see the table at the top of this file).
 * `action` is `service.action`, where the API call's affected resources sit.
 */
export const guardDutyResources = (
  resource: Located<JsonObject>,
  resourceType: string,
  type: FindingType,
  action: Located<JsonObject> | undefined,
  scope: Scope,
): Resource[] => {
  const { value, path } = resource;
  const block = (key: string) => optionalObject(value, path, key);
  const resources: Resource[] = [];
  const add = (found: Located<JsonObject> | undefined, read: (block: Located<JsonObject>) => Resource) => {
    if (found) resources.push(read(found));
  };
  const addBuckets = (withObjects: boolean) => {
    const seen = new Set<string>();
    const objects: S3ObjectResource[] = [];
    for (const block of objectsOf(optionalArray(value, path, 's3BucketDetails'))) {
      const bucket = bucketOf(block, scope);
      if (!seen.has(bucket.arn)) resources.push(bucket);
      seen.add(bucket.arn);
      if (withObjects) objects.push(...objectsOfBucket(block, bucket.name));
    }
    resources.push(...objects);
  };
  const addKubernetes = () => {
    const cluster = resources.find((known) => known.kind === 'eks-cluster');
    resources.push(...kubernetesResources(block('kubernetesDetails'), cluster?.name));
  };
  const runtime = type.resourceType === 'Runtime';

  switch (resourceType) {
    case 'Instance':
      add(block('instanceDetails'), (b) => instanceOf(b, scope, 'resource'));
      break;
    case 'AccessKey':
      add(block('accessKeyDetails'), guardDutyAccessKey);
      if (isInstanceCredentialExfiltration(type)) {
        add(block('instanceDetails'), (b) => instanceOf(b, scope, 'credential-source'));
      }
      if (type.resourceType === 'S3') addBuckets(false);
      break;
    case 'S3Bucket':
    case 'S3Object':
      addBuckets(true);
      add(block('accessKeyDetails'), guardDutyAccessKey);
      break;
    case 'EKSCluster':
      add(block('eksClusterDetails'), eksClusterOf);
      addKubernetes();
      add(block('accessKeyDetails'), guardDutyAccessKey);
      break;
    case 'ECSCluster': {
      const ecs = block('ecsClusterDetails');
      if (ecs) resources.push(...ecsResources(ecs, scope));
      break;
    }
    case 'Container': {
      add(block('containerDetails'), containerOf);
      const ecs = block('ecsClusterDetails');
      if (ecs) resources.push(...ecsResources(ecs, scope));
      add(block('eksClusterDetails'), eksClusterOf);
      addKubernetes();
      break;
    }
    case 'Lambda':
      add(block('lambdaDetails'), lambdaOf);
      break;
    case 'RDSDBInstance':
    case 'RDSLimitlessDB':
      resources.push(...rdsResources(resource, resourceType, scope));
      break;
  }
  if (runtime && resourceType !== 'Instance' && COMPUTE_RESOURCE_TYPES.has(resourceType)) {
    add(block('instanceDetails'), (b) => instanceOf(b, scope, 'resource'));
  }
  if (COMPUTE_RESOURCE_TYPES.has(resourceType))
    resources.push(...scannedVolumesOf(block('ebsVolumeDetails')));

  const apiCall = action && optionalObject(action.value, action.path, 'awsApiCallAction');
  if (apiCall)
    resources.push(...affectedTrails(optionalObject(apiCall.value, apiCall.path, 'affectedResources')));
  return resources;
};
