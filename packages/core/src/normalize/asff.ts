/**
 * GuardDuty findings in the AWS Security Finding Format (Security Hub): the elements of
 * `detail.findings` in `Security Hub Findings - Imported` / `- Custom Action` events, or bare.
 *
 * Security Hub keeps GuardDuty's own fields in `ProductFields`, flattened to text: older findings as
 * `action/actionType`, current ones as `aws/guardduty/service/action/actionType`. Both are read.
 */

import { resourceIdentifiers } from '../engine/scope.js';
import { FindingFormatError } from '../errors.js';
import {
  type Actor,
  type EcsTaskResource,
  type Finding,
  type FindingType,
  type RdsInstanceResource,
  type Resource,
  severityLabel,
} from '../finding.js';
import { actorOf, checkedPort, ipAddresses, withoutEmpty, withRemoteIps } from './actor.js';
import { attackOf } from './attack.js';
import { parseFindingType } from './finding-type.js';
import { readFlattened } from './flattened.js';
import { checkedCount, checkedSeverity, isSampleInfo } from './guardduty.js';
import { kubernetesResources } from './kubernetes.js';
import { rdsClusterOf, rdsLimitlessDbOf, rdsUserOf } from './rds.js';
import {
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
  pointer,
  requiredString,
  stringsOf,
  tagsAt,
  toBoolean,
  toNumber,
  wrongType,
} from './read.js';
import {
  accessKeyOf,
  affectedTrails,
  arnResourceName,
  blockFlags,
  bucketArn,
  bucketNameFromArn,
  instanceArn,
  isInstanceCredentialExfiltration,
  type Scope,
  TRAIL_RESOURCE_TYPE,
  trailsFrom,
} from './resources.js';
import { runtimeDetailsOf } from './runtime.js';
import { attackSequenceOf, sequenceRemoteIps, sequenceResources } from './sequence.js';

// GuardDuty's own product in Security Hub. A custom integration can call itself GuardDuty in
// ProductName or ProductFields, but it cannot import findings under this ARN.
const GUARDDUTY_PRODUCT_ARN = /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+::product\/aws\/guardduty$/;

/** Whether an object is an ASFF finding (GuardDuty's own format has neither field). */
export const isAsffFinding = (finding: JsonObject): boolean =>
  'AwsAccountId' in finding || 'ProductArn' in finding;

/** Whether an ASFF finding comes from GuardDuty. */
export const isGuardDutyAsff = (finding: JsonObject): boolean =>
  typeof finding.ProductArn === 'string' && GUARDDUTY_PRODUCT_ARN.test(finding.ProductArn);

/**
 * ASFF `Types` entries whose GuardDuty type cannot be read back from the text, from the GuardDuty ->
 * ASFF table of the Security Hub integration page (the `asffTypes` of shared/data/guardduty-finding-types.json).
 */
const ASFF_TYPE_EXCEPTIONS: ReadonlyMap<string, string> = new Map([
  [
    'TTPs/AnomalousBehavior/CredentialAccess:Kubernetes-SecretsAccessed',
    'CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed',
  ],
  ['TTPs/DefenseEvasion/EC2:Unusual-DNS-Resolver', 'DefenseEvasion:EC2/UnusualDNSResolver'],
  ['TTPs/DefenseEvasion/EC2:Unusual-DoH-Activity', 'DefenseEvasion:EC2/UnusualDoHActivity'],
  ['TTPs/DefenseEvasion/EC2:Unusual-DoT-Activity', 'DefenseEvasion:EC2/UnusualDoTActivity'],
  [
    'TTPs/AnomalousBehavior/Discovery:Kubernetes-PermissionChecked',
    'Discovery:Kubernetes/AnomalousBehavior.PermissionChecked',
  ],
  [
    'TTPs/AnomalousBehavior/Execution:Kubernetes-ExecInPod',
    'Execution:Kubernetes/AnomalousBehavior.ExecInPod',
  ],
  [
    'TTPs/AnomalousBehavior/Execution:Kubernetes-WorkloadDeployed',
    'Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed',
  ],
  [
    'TTPs/Impact/Impact:Runtime-SuspiciousDomainRequest.Reputatio',
    'Impact:Runtime/SuspiciousDomainRequest.Reputation',
  ],
  [
    'TTPs/AnomalousBehavior/Persistence:Kubernetes-WorkloadDeployed!ContainerWithSensitiveMount',
    'Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount',
  ],
  [
    'TTPs/AnomalousBehavior/PrivilegeEscalation:Kubernetes-RoleBindingCreated',
    'PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated',
  ],
  [
    'TTPs/AnomalousBehavior/PrivilegeEscalation:Kubernetes-RoleCreated',
    'PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated',
  ],
  [
    'TTPs/AnomalousBehavior/PrivilegeEscalation:Kubernetes-WorkloadDeployed!PrivilegedContainer',
    'PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer',
  ],
]);

const FINDING_TYPE_TEXT = /^[A-Za-z0-9]+:[A-Za-z0-9]+\/./;

/**
 * The GuardDuty type an ASFF `Types` entry stands for. Security Hub writes the type as the last part
 * of `namespace/category/classifier` with its `/` turned into `-`
 * (`TTPs/Discovery/Recon:IAMUser-ResourcePermissions`), sometimes keeps the `/`
 * (`TTPs/PenTest:IAMUser/KaliLinux`), and for some IAM types moves the threat purpose into the category
 * (`TTPs/Credential Access/IAMUser-AnomalousBehavior`).
 */
export const findingTypeFromAsffType = (asffType: string): string | undefined => {
  const known = ASFF_TYPE_EXCEPTIONS.get(asffType);
  if (known) return known;
  const parts = asffType.split('/');
  const typed = parts.findIndex((part) => part.includes(':'));
  let candidate: string;
  if (typed >= 0) {
    candidate = parts.slice(typed).join('/');
    if (typed === parts.length - 1) {
      const colon = candidate.indexOf(':');
      candidate = candidate.slice(0, colon + 1) + candidate.slice(colon + 1).replace('-', '/');
    }
  } else {
    const classifier = parts.at(-1) ?? '';
    const purpose = (parts.at(-2) ?? '').replaceAll(' ', '');
    candidate = `${purpose}:${classifier.replace('-', '/')}`;
  }
  return FINDING_TYPE_TEXT.test(candidate) ? candidate : undefined;
};

const typeOf = (finding: JsonObject, path: string): FindingType => {
  const lists = [optionalArray(finding, path, 'Types')];
  const providerFields = optionalObject(finding, path, 'FindingProviderFields');
  if (providerFields) lists.push(optionalArray(providerFields.value, providerFields.path, 'Types'));
  for (const list of lists) {
    if (!list) continue;
    for (const [index, asffType] of stringsOf(list).entries()) {
      const typeName = findingTypeFromAsffType(asffType);
      if (typeName) return parseFindingType(typeName, pointer(list.path, index));
    }
  }
  throw new FindingFormatError(
    'no GuardDuty finding type in "Types" (e.g. "TTPs/Discovery/Recon:IAMUser-ResourcePermissions")',
    pointer(path, 'Types'),
  );
};

// Security Hub labels, as GuardDuty severities inside each label's range.
const SEVERITY_BY_LABEL: ReadonlyMap<string, number> = new Map([
  ['INFORMATIONAL', 0],
  ['LOW', 2],
  ['MEDIUM', 5],
  ['HIGH', 8],
  ['CRITICAL', 9],
]);

/** The GuardDuty severity: `Severity.Product`, else `Original`, else the label, else `Normalized / 10`. */
const severityOf = (finding: JsonObject, path: string): number => {
  const candidates = [optionalObject(finding, path, 'Severity')];
  const providerFields = optionalObject(finding, path, 'FindingProviderFields');
  if (providerFields) candidates.push(optionalObject(providerFields.value, providerFields.path, 'Severity'));
  for (const severity of candidates) {
    if (!severity) continue;
    const { value, path: at } = severity;
    const exact = field(value, at, 'Product') ?? field(value, at, 'Original');
    if (exact) return checkedSeverity(toNumber(exact.value, exact.path), exact.path, exact.value);
    const label = field(value, at, 'Label');
    if (label) {
      const mapped = typeof label.value === 'string' ? SEVERITY_BY_LABEL.get(label.value) : undefined;
      if (mapped === undefined)
        throw wrongType(label.path, 'a severity label (LOW, MEDIUM, HIGH, CRITICAL)', label.value);
      return mapped;
    }
    const normalized = field(value, at, 'Normalized');
    if (normalized) {
      const score = toNumber(normalized.value, normalized.path);
      if (score < 0 || score > 100)
        throw wrongType(normalized.path, 'a normalized severity from 0 to 100', normalized.value);
      return score / 10;
    }
  }
  throw missing(path, 'Severity', 'object with Product, Original, Label or Normalized');
};

const PRODUCT_FIELD_PREFIX = 'aws/guardduty/service/';

/** A GuardDuty field from `ProductFields`, under its current (`aws/guardduty/service/...`) or older name. */
const productField = (fields: Located<JsonObject> | undefined, key: string): Located<unknown> | undefined => {
  if (!fields) return undefined;
  const current = fields.value[PRODUCT_FIELD_PREFIX + key];
  if (current !== undefined && current !== null)
    return { value: current, path: pointer(fields.path, PRODUCT_FIELD_PREFIX + key) };
  const older = fields.value[key];
  return older === undefined || older === null
    ? undefined
    : { value: older, path: pointer(fields.path, key) };
};

const productText = (fields: Located<JsonObject> | undefined, key: string): string | undefined => {
  const found = productField(fields, key);
  if (!found) return undefined;
  if (typeof found.value !== 'string') throw wrongType(found.path, 'a string', found.value);
  return found.value === '' ? undefined : found.value;
};

// Actor fields by where an action kind keeps them, relative to `action/<kind>/`.
const TEXT_LEAVES: ReadonlyMap<
  string,
  Exclude<keyof Actor, 'localPort' | 'remotePort' | 'remoteIps'>
> = new Map([
  ['api', 'api'],
  ['verb', 'api'],
  ['serviceName', 'serviceName'],
  ['callerType', 'callerType'],
  ['userAgent', 'userAgent'],
  ['errorCode', 'errorCode'],
  ['domain', 'domain'],
  ['domainDetails/domain', 'domain'],
  ['protocol', 'protocol'],
  ['remoteIpDetails/ipAddressV4', 'remoteIp'],
  ['remoteIpDetails/ipAddressV6', 'remoteIp'],
  ['remoteIpDetails/country/countryName', 'country'],
  ['remoteIpDetails/city/cityName', 'city'],
  ['remoteIpDetails/organization/asn', 'asn'],
  ['remoteIpDetails/organization/asnOrg', 'asnOrg'],
  ['remoteIpDetails/organization/isp', 'isp'],
  ['remoteIpDetails/organization/org', 'org'],
]);

const PORT_LEAVES: ReadonlyMap<string, 'localPort' | 'remotePort'> = new Map([
  ['localPortDetails/port', 'localPort'],
  ['remotePortDetails/port', 'remotePort'],
]);

const ACTION_PREFIX = 'action/';

/** The actor from flattened `ProductFields` (findings that carry no structured `Action`), in one pass. */
const SOURCE_IP_LEAF = /^sourceIPs\.\d+_$/;

const productFieldsActor = (fields: Located<JsonObject> | undefined): Actor | undefined => {
  if (!fields) return undefined;
  const actor: Actor = {};
  const ips: string[] = [];
  for (const [key, value] of Object.entries(fields.value)) {
    const name = key.startsWith(PRODUCT_FIELD_PREFIX) ? key.slice(PRODUCT_FIELD_PREFIX.length) : key;
    if (!name.startsWith(ACTION_PREFIX) || value === null || value === '') continue;
    const path = pointer(fields.path, key);
    const kindEnd = name.indexOf('/', ACTION_PREFIX.length);
    const leaf = kindEnd < 0 ? name.slice(ACTION_PREFIX.length) : name.slice(kindEnd + 1);
    const textField =
      kindEnd < 0 ? (leaf === 'actionType' ? 'actionType' : undefined) : TEXT_LEAVES.get(leaf);
    const portField = kindEnd < 0 ? undefined : PORT_LEAVES.get(leaf);
    if (kindEnd >= 0 && SOURCE_IP_LEAF.test(leaf)) {
      if (typeof value !== 'string') throw wrongType(path, 'a string', value);
      ips.push(value);
    } else if (textField !== undefined && actor[textField] === undefined) {
      if (typeof value !== 'string') throw wrongType(path, 'a string', value);
      actor[textField] = value;
    } else if (portField !== undefined && actor[portField] === undefined) {
      actor[portField] = checkedPort(toNumber(value, path), path, value);
    }
  }
  return withRemoteIps(withoutEmpty(actor), ipAddresses(ips));
};

const productFlag = (fields: Located<JsonObject> | undefined, key: string): boolean => {
  const found = productField(fields, key);
  return found ? toBoolean(found.value, found.path) : false;
};

const isSampleAsff = (
  finding: JsonObject,
  path: string,
  fields: Located<JsonObject> | undefined,
): boolean => {
  if (optionalBoolean(finding, path, 'Sample')) return true;
  if (productFlag(fields, 'additionalInfo/sample')) return true;
  return isSampleInfo(productField(fields, 'additionalInfo') ?? productField(fields, 'additionalInfo/value'));
};

// Security Hub resource types, as GuardDuty's `resource.resourceType` names them.
const GUARDDUTY_RESOURCE_TYPES: ReadonlyMap<string, string> = new Map([
  ['AwsEc2Instance', 'Instance'],
  ['AwsIamAccessKey', 'AccessKey'],
  ['AwsS3Bucket', 'S3Bucket'],
  ['AwsEksCluster', 'EKSCluster'],
  ['AwsEcsCluster', 'ECSCluster'],
  ['Container', 'Container'],
  ['AwsLambdaFunction', 'Lambda'],
  ['AwsRdsDbInstance', 'RDSDBInstance'],
  ['AwsS3Object', 'S3Object'],
]);

const ACCESS_KEY_ID_PREFIX = 'AWS::IAM::AccessKey:';

/** Whether two resources are the same one: same kind, and an identifier in common. */
const sameResource = (a: Resource, b: Resource): boolean => {
  if (a.kind !== b.kind) return false;
  const ids = new Set(resourceIdentifiers(a));
  return resourceIdentifiers(b).some((id) => ids.has(id));
};

/** An ASFF list of ids (`SubnetIds`, `SecurityGroupIds`), or undefined when absent or empty. */
const idList = (details: Located<JsonObject> | undefined, key: string): string[] | undefined => {
  const ids = details ? stringsOf(optionalArray(details.value, details.path, key)) : [];
  return ids.length > 0 ? ids : undefined;
};

const asffResource = (
  resource: Located<JsonObject>,
  type: FindingType,
  scope: Scope,
): Resource | undefined => {
  const { value, path } = resource;
  const resourceType = requiredString(value, path, 'Type');
  const id = requiredString(value, path, 'Id');
  const arn = parseArn(id) ? id : undefined;
  const detailsBlock = optionalObject(value, path, 'Details');
  const details = detailsBlock && optionalObject(detailsBlock.value, detailsBlock.path, resourceType);
  const detail = (key: string) => (details ? optionalString(details.value, details.path, key) : undefined);
  const tags = tagsAt(value, path, 'Tags');
  switch (resourceType) {
    case 'AwsEc2Instance': {
      const instanceId = arn ? arnResourceName(arn) : id;
      if (!instanceId) throw wrongType(pointer(path, 'Id'), 'an instance id or ARN', id);
      const profileArn = detail('IamInstanceProfileArn');
      const nics = details ? objectsOf(optionalArray(details.value, details.path, 'NetworkInterfaces')) : [];
      return {
        kind: 'instance',
        instanceId,
        arn: arn ?? instanceArn(scope, instanceId),
        instanceProfile: profileArn === undefined ? undefined : { arn: profileArn },
        tags,
        vpcId: detail('VpcId'),
        subnetId: detail('SubnetId'),
        securityGroups: [],
        networkInterfaces: nics.map((nic) => ({
          networkInterfaceId: requiredString(nic.value, nic.path, 'NetworkInterfaceId'),
          securityGroups: [],
        })),
        imageId: detail('ImageId'),
        instanceType: detail('Type'),
        launchTime: details && optionalTimestamp(details.value, details.path, 'LaunchedAt'),
        role: isInstanceCredentialExfiltration(type) ? 'credential-source' : 'resource',
      };
    }
    case 'AwsIamAccessKey': {
      // Security Hub writes "AWS::IAM::AccessKey:null" when GuardDuty gave no key id.
      const keyId = id.startsWith(ACCESS_KEY_ID_PREFIX) ? id.slice(ACCESS_KEY_ID_PREFIX.length) : undefined;
      return accessKeyOf(
        detail('AccessKeyId') ?? (keyId === 'null' ? undefined : keyId),
        detail('PrincipalId'),
        detail('PrincipalType'),
        detail('PrincipalName') ?? detail('UserName'),
      );
    }
    case 'AwsS3Bucket': {
      const name = detail('Name') ?? (arn ? bucketNameFromArn(arn) : id);
      if (!name) throw wrongType(pointer(path, 'Id'), 'a bucket name or ARN', id);
      const block = details && optionalObject(details.value, details.path, 'PublicAccessBlockConfiguration');
      return {
        kind: 's3-bucket',
        name,
        arn: arn ?? bucketArn(scope, name),
        ownerId: detail('OwnerId'),
        createdAt: details && optionalTimestamp(details.value, details.path, 'CreatedAt'),
        tags,
        publicAccess: block && { bucketLevelBlock: blockFlags(block) },
      };
    }
    case 'AwsS3Object': {
      // The Id is the object's ARN: arn:aws:s3:::bucket/key.
      const parts = arn ? parseArn(arn) : undefined;
      const slash = parts?.service === 's3' ? parts.resource.indexOf('/') : -1;
      if (!parts || slash <= 0 || slash === parts.resource.length - 1) {
        throw wrongType(pointer(path, 'Id'), 'an S3 object ARN (arn:aws:s3:::bucket/key)', id);
      }
      return {
        kind: 's3-object',
        bucket: parts.resource.slice(0, slash),
        key: parts.resource.slice(slash + 1),
        arn,
        versionId: detail('VersionId'),
        eTag: detail('ETag'),
      };
    }
    case 'AwsEksCluster':
      return {
        kind: 'eks-cluster',
        name: detail('Name') ?? (arn ? arnResourceName(arn) : id) ?? id,
        arn,
        tags,
      };
    case 'AwsEcsCluster':
      return {
        kind: 'ecs-cluster',
        name: detail('ClusterName') ?? (arn ? arnResourceName(arn) : id),
        arn: arn ?? `arn:${scope.partition}:ecs:${scope.region}:${scope.accountId}:cluster/${id}`,
        tags,
      };
    case 'AwsEcsTask': {
      const clusterArn = detail('ClusterArn');
      // A task is named by its ARN; without it, or without its cluster, there is nothing to act on.
      if (!arn || clusterArn === undefined) return undefined;
      const containers: EcsTaskResource['containers'] = details
        ? objectsOf(optionalArray(details.value, details.path, 'Containers')).map((container) => ({
            name: optionalString(container.value, container.path, 'Name'),
            image: optionalString(container.value, container.path, 'Image'),
          }))
        : [];
      return {
        kind: 'ecs-task',
        arn,
        clusterArn,
        definitionArn: detail('TaskDefinitionArn'),
        version: detail('Version'),
        startedAt: details && optionalTimestamp(details.value, details.path, 'StartedAt'),
        startedBy: detail('StartedBy'),
        group: detail('Group'),
        containers,
        tags,
      };
    }
    case 'Container':
      return {
        kind: 'container',
        id,
        name: detail('Name'),
        image: detail('ImageName') ?? detail('ImageId'),
        runtime: detail('ContainerRuntime'),
      };
    case 'AwsLambdaFunction': {
      const vpc = details && optionalObject(details.value, details.path, 'VpcConfig');
      const groupIds = idList(vpc, 'SecurityGroupIds');
      return {
        kind: 'lambda-function',
        name: detail('FunctionName') ?? (arn ? arnResourceName(arn) : id) ?? id,
        arn,
        version: detail('Version'),
        role: detail('Role'),
        vpcId: vpc && optionalString(vpc.value, vpc.path, 'VpcId'),
        subnetIds: idList(vpc, 'SubnetIds'),
        securityGroups: groupIds?.map((groupId) => ({ groupId })),
        tags,
      };
    }
    case 'AwsRdsDbInstance':
      return {
        kind: 'rds-instance',
        // The ASFF spelling is DBInstanceIdentifier; older findings were read with DbInstanceIdentifier.
        dbInstanceIdentifier:
          detail('DBInstanceIdentifier') ??
          detail('DbInstanceIdentifier') ??
          (arn ? arnResourceName(arn) : id) ??
          id,
        arn,
        engine: detail('Engine'),
        dbClusterIdentifier: detail('DBClusterIdentifier') ?? detail('DbClusterIdentifier'),
        tags,
      };
    case 'AwsRdsDbCluster':
      return {
        kind: 'rds-cluster',
        dbClusterIdentifier: detail('DbClusterIdentifier') ?? (arn ? arnResourceName(arn) : id) ?? id,
        arn,
        engine: detail('Engine'),
        tags,
      };
    case 'AwsEc2Volume':
      return {
        kind: 'ebs-volume',
        volumeId: detail('VolumeId') ?? (arn ? arnResourceName(arn) : id),
        volumeArn: arn,
        deviceName: detail('DeviceName'),
        volumeType: detail('VolumeType'),
        volumeSizeInGB: details && optionalInteger(details.value, details.path, 'Size', 0, 1_000_000),
        kmsKeyArn: detail('KmsKeyId')?.startsWith('arn:') ? detail('KmsKeyId') : undefined,
      };
    case 'AwsCloudTrailTrail':
      return { kind: 'cloudtrail-trail', name: (arn ? arnResourceName(arn) : id) ?? id, arn };
    default:
      // Other resource types stay in `raw`.
      return undefined;
  }
};

/**
 * The resources one ASFF resource stands for: itself, the Aurora cluster a DB instance names, and the
 * GuardDuty blocks Security Hub flattened into `Details.Other` (`kubernetesDetails/...`,
 * `rdsDbUserDetails/...`, `rdsLimitlessDbDetails/...`).
 */
const asffResources = (resource: Located<JsonObject>, type: FindingType, scope: Scope): Resource[] => {
  const own = asffResource(resource, type, scope);
  const resources: Resource[] = own ? [own] : [];
  const details = optionalObject(resource.value, resource.path, 'Details');
  const other = details && optionalObject(details.value, details.path, 'Other');
  const limitless = readFlattened(other, 'rdsLimitlessDbDetails/', rdsLimitlessDbOf);
  if (limitless) resources.push(limitless);
  const database: RdsInstanceResource | typeof limitless = own?.kind === 'rds-instance' ? own : limitless;
  if (database?.dbClusterIdentifier !== undefined) {
    resources.push(rdsClusterOf(database.dbClusterIdentifier, database.engine, scope));
  }
  const user = readFlattened(other, 'rdsDbUserDetails/', (block) => rdsUserOf(block, database));
  if (user) resources.push(user);
  const clusterName = own?.kind === 'eks-cluster' ? own.name : undefined;
  resources.push(
    ...(readFlattened(other, 'kubernetesDetails/', (block) => kubernetesResources(block, clusterName)) ?? []),
  );
  return resources;
};

const FINDING_ID_MARKER = '/finding/';

export const normalizeAsffFinding = (finding: JsonObject, path: string): Finding => {
  const findingId = requiredString(finding, path, 'Id');
  const idArn = parseArn(findingId);
  const marker = findingId.lastIndexOf(FINDING_ID_MARKER);
  // The ASFF Id of a GuardDuty finding is the GuardDuty finding ARN; the model keeps GuardDuty's own id.
  const id = idArn && marker >= 0 ? findingId.slice(marker + FINDING_ID_MARKER.length) : findingId;
  const accountId = requiredString(finding, path, 'AwsAccountId');
  const type = typeOf(finding, path);
  const severity = severityOf(finding, path);

  const resourceList = objectsOf(optionalArray(finding, path, 'Resources'));
  const [first] = resourceList;
  if (!first) throw missing(path, 'Resources', 'non-empty array');
  const region =
    optionalString(finding, path, 'Region') ||
    idArn?.region ||
    optionalString(first.value, first.path, 'Region');
  if (!region) throw missing(path, 'Region', 'non-empty string');
  const partition = idArn?.partition ?? optionalString(first.value, first.path, 'Partition') ?? 'aws';
  const scope: Scope = { partition, region, accountId };

  const fields = optionalObject(finding, path, 'ProductFields');
  const action = optionalObject(finding, path, 'Action');
  const resources: Resource[] = [];
  for (const resource of resourceList) {
    for (const normalized of asffResources(resource, type, scope)) {
      if (!resources.some((known) => sameResource(known, normalized))) resources.push(normalized);
    }
  }
  const apiCall = action && optionalObject(action.value, action.path, 'awsApiCallAction');
  const affected = apiCall && optionalObject(apiCall.value, apiCall.path, 'affectedResources');
  const trails = affected
    ? affectedTrails(affected)
    : trailsFrom(productField(fields, `action/awsApiCallAction/affectedResources/${TRAIL_RESOURCE_TYPE}`));
  for (const trail of trails) {
    if (!resources.some((known) => known.kind === 'cloudtrail-trail' && known.name === trail.name))
      resources.push(trail);
  }

  const detection = optionalObject(finding, path, 'Detection');
  const sequenceBlock = detection && optionalObject(detection.value, detection.path, 'Sequence');
  const sequence = sequenceBlock && attackSequenceOf(sequenceBlock);
  if (sequenceBlock) resources.push(...sequenceResources(sequenceBlock, scope, resources));
  const { techniques, tactics } = attackOf(type, sequenceBlock);
  const firstResourceType = requiredString(first.value, first.path, 'Type');
  const runtime =
    readFlattened(fields, `${PRODUCT_FIELD_PREFIX}runtimeDetails/`, runtimeDetailsOf) ??
    readFlattened(fields, 'runtimeDetails/', runtimeDetailsOf) ??
    {};
  const actor = (action && actorOf(action)) ?? productFieldsActor(fields);

  return {
    id,
    arn: idArn ? findingId : undefined,
    type,
    severity,
    severityLabel: severityLabel(severity),
    title: optionalString(finding, path, 'Title'),
    description: optionalString(finding, path, 'Description'),
    accountId,
    region,
    partition,
    createdAt: optionalTimestamp(finding, path, 'CreatedAt'),
    updatedAt: optionalTimestamp(finding, path, 'UpdatedAt'),
    firstSeen: optionalTimestamp(finding, path, 'FirstObservedAt'),
    lastSeen: optionalTimestamp(finding, path, 'LastObservedAt'),
    count: checkedCount(productField(fields, 'count')),
    archived: optionalString(finding, path, 'RecordState') === 'ARCHIVED' || productFlag(fields, 'archived'),
    sample: isSampleAsff(finding, path, fields),
    resourceRole: productText(fields, 'resourceRole'),
    resourceType: GUARDDUTY_RESOURCE_TYPES.get(firstResourceType) ?? firstResourceType,
    resources,
    actor: withRemoteIps(actor, sequence ? sequenceRemoteIps(sequence) : []),
    process: runtime.process,
    runtimeContext: runtime.runtimeContext,
    sequence,
    techniques,
    tactics,
    source: 'securityhub-asff',
    raw: finding,
  };
};
