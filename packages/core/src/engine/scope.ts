import type { ActionTarget } from '../action.js';
import type { Finding, Resource } from '../finding.js';
import {
  arnProblem,
  type ExpectedArn,
  type IdentifierKind,
  identifierProblem,
  parseArn,
  quoteIdentifier,
  regionPartition,
} from '../identifiers.js';

/** The task id at the end of an ECS task ARN (`task/ID` or `task/cluster/ID`). */
const ecsTaskId = (arn: string): string | undefined => {
  const resource = parseArn(arn)?.resource;
  return resource?.startsWith('task/') ? resource.slice(resource.lastIndexOf('/') + 1) : undefined;
};

/** Every identifier under which a finding names a resource: a target must use one of them. */
export const resourceIdentifiers = (resource: Resource): string[] => {
  const ids: (string | undefined)[] = (() => {
    switch (resource.kind) {
      case 'instance':
        return [resource.instanceId, resource.arn];
      case 'access-key':
        return [resource.accessKeyId, resource.principalId, resource.userName, resource.roleName];
      case 's3-bucket':
        return [resource.name, resource.arn];
      case 'cloudtrail-trail':
        return [resource.name, resource.arn];
      case 'eks-cluster':
        return [resource.name, resource.arn];
      case 'ecs-cluster':
        return [resource.name, resource.arn, resource.taskArn];
      case 'container':
        return [resource.id, resource.name];
      case 'lambda-function':
        return [resource.name, resource.arn];
      case 'rds-instance':
        return [resource.dbInstanceIdentifier, resource.arn];
      case 'ebs-volume':
        return [resource.volumeId, resource.volumeArn];
      case 'ecs-task':
        return [resource.arn, ecsTaskId(resource.arn)];
      case 'kubernetes-workload':
        return [`${resource.namespace}/${resource.name}`, resource.uid];
      case 'kubernetes-user':
        return [resource.username, resource.uid];
      case 'rds-cluster':
        return [resource.dbClusterIdentifier, resource.arn];
      case 'rds-limitless-db':
        return [resource.dbShardGroupIdentifier, resource.dbShardGroupArn];
      case 'rds-user':
        return [resource.user];
      case 's3-object':
        return [`${resource.bucket}/${resource.key}`, resource.arn];
    }
  })();
  return ids.filter((id): id is string => typeof id === 'string' && id.length > 0);
};

/** Why the finding's own account, region or partition cannot be trusted, or undefined. */
const findingProblem = (finding: Finding): string | undefined => {
  for (const [field, kind] of [
    ['accountId', 'account-id'],
    ['region', 'region'],
    ['partition', 'partition'],
  ] as const) {
    const problem = identifierProblem(kind, finding[field]);
    if (problem) return `finding ${field} ${problem}`;
  }
  const partition = regionPartition(finding.region);
  if (partition !== finding.partition) {
    return partition === undefined
      ? `the finding's region ${quoteIdentifier(finding.region)} is in no known partition`
      : `the finding's region "${finding.region}" is in partition "${partition}", not "${finding.partition}"`;
  }
  return undefined;
};

type ArnExpectation = Omit<ExpectedArn, 'partition' | 'accountId'>;

/**
 * One value to check: where it sits on the resource (for the message), how to check it, and, for an
 * ARN, the resource it must name exactly (`instance/i-...` for the instance's own ARN).
 */
type Check =
  | { field: string; value: string | undefined; kind: IdentifierKind }
  | { field: string; value: string | undefined; arn: ArnExpectation; names?: string };

const idCheck = (field: string, value: string | undefined, kind: IdentifierKind): Check => ({
  field,
  value,
  kind,
});

const arnCheck = (field: string, value: string | undefined, arn: ArnExpectation, names?: string): Check =>
  names === undefined ? { field, value, arn } : { field, value, arn, names };

const IAM_PRINCIPAL_PREFIXES = ['role/', 'user/', 'assumed-role/', 'federated-user/', 'root'];

/** A name, or an ARN when the value is one: `arn:` values are checked as ARNs, the rest as `kind`. */
const nameOrArn = (
  field: string,
  value: string | undefined,
  kind: IdentifierKind,
  arn: ArnExpectation,
): Check => (value?.startsWith('arn:') ? arnCheck(field, value, arn) : idCheck(field, value, kind));

/** Every identifier and ARN of a resource that an action may read from the finding and send to AWS. */
const resourceChecks = (resource: Resource, region: string): Check[] => {
  switch (resource.kind) {
    case 'instance': {
      const groups = (list: { groupId: string }[], at: string) =>
        list.map((group, index) =>
          idCheck(`${at}securityGroups[${index}].groupId`, group.groupId, 'security-group-id'),
        );
      return [
        idCheck('instanceId', resource.instanceId, 'instance-id'),
        arnCheck('arn', resource.arn, { service: 'ec2', region }, `instance/${resource.instanceId}`),
        arnCheck('iamInstanceProfile.arn', resource.instanceProfile?.arn, {
          service: 'iam',
          resourcePrefix: 'instance-profile/',
        }),
        idCheck('iamInstanceProfile.id', resource.instanceProfile?.id, 'iam-unique-id'),
        idCheck('vpcId', resource.vpcId, 'vpc-id'),
        idCheck('subnetId', resource.subnetId, 'subnet-id'),
        ...groups(resource.securityGroups, ''),
        ...resource.networkInterfaces.flatMap((nic, index) => {
          const at = `networkInterfaces[${index}].`;
          return [
            idCheck(`${at}networkInterfaceId`, nic.networkInterfaceId, 'network-interface-id'),
            idCheck(`${at}vpcId`, nic.vpcId, 'vpc-id'),
            idCheck(`${at}subnetId`, nic.subnetId, 'subnet-id'),
            ...groups(nic.securityGroups, at),
          ];
        }),
      ];
    }
    case 'access-key': {
      const principal = { service: ['iam', 'sts'], resourcePrefix: IAM_PRINCIPAL_PREFIXES };
      return [
        idCheck('accessKeyId', resource.accessKeyId, 'access-key-id'),
        idCheck('principalId', resource.principalId, 'principal-id'),
        nameOrArn('userName', resource.userName, 'iam-user-name', principal),
        arnCheck('principalArn', resource.principalArn, principal),
        idCheck('roleName', resource.roleName, 'iam-role-name'),
        idCheck('sessionName', resource.sessionName, 'role-session-name'),
      ];
    }
    case 's3-bucket':
      return [
        idCheck('name', resource.name, 's3-bucket-name'),
        arnCheck('arn', resource.arn, { service: 's3' }, resource.name),
      ];
    case 'cloudtrail-trail':
      return [
        idCheck('name', resource.name, 'cloudtrail-trail-name'),
        arnCheck('arn', resource.arn, { service: 'cloudtrail', region }, `trail/${resource.name}`),
      ];
    case 'eks-cluster':
      return [
        idCheck('name', resource.name, 'eks-cluster-name'),
        arnCheck('arn', resource.arn, { service: 'eks', region, resourcePrefix: 'cluster/' }),
        idCheck('vpcId', resource.vpcId, 'vpc-id'),
      ];
    case 'ecs-cluster':
      return [
        idCheck('name', resource.name, 'ecs-cluster-name'),
        arnCheck('arn', resource.arn, { service: 'ecs', region, resourcePrefix: 'cluster/' }),
        arnCheck('taskArn', resource.taskArn, { service: 'ecs', region, resourcePrefix: 'task/' }),
        arnCheck('taskDefinitionArn', resource.taskDefinitionArn, {
          service: 'ecs',
          region,
          resourcePrefix: 'task-definition/',
        }),
      ];
    case 'container':
      return [idCheck('id', resource.id, 'container'), idCheck('name', resource.name, 'container')];
    case 'lambda-function':
      return [
        idCheck('name', resource.name, 'lambda-function-name'),
        arnCheck('arn', resource.arn, { service: 'lambda', region, resourcePrefix: 'function:' }),
        idCheck('version', resource.version, 'lambda-version'),
        arnCheck('role', resource.role, { service: 'iam', resourcePrefix: 'role/' }),
        idCheck('vpcId', resource.vpcId, 'vpc-id'),
        ...(resource.subnetIds ?? []).map((id, index) => idCheck(`subnetIds[${index}]`, id, 'subnet-id')),
        ...(resource.securityGroups ?? []).map((group, index) =>
          idCheck(`securityGroups[${index}].groupId`, group.groupId, 'security-group-id'),
        ),
      ];
    case 'rds-instance':
      return [
        idCheck('dbInstanceIdentifier', resource.dbInstanceIdentifier, 'rds-instance-identifier'),
        arnCheck('arn', resource.arn, { service: 'rds', region, resourcePrefix: 'db:' }),
        idCheck('dbClusterIdentifier', resource.dbClusterIdentifier, 'rds-instance-identifier'),
      ];
    case 'rds-cluster':
      return [
        idCheck('dbClusterIdentifier', resource.dbClusterIdentifier, 'rds-instance-identifier'),
        arnCheck('arn', resource.arn, { service: 'rds', region }, `cluster:${resource.dbClusterIdentifier}`),
      ];
    case 'rds-limitless-db':
      return [
        idCheck('dbShardGroupIdentifier', resource.dbShardGroupIdentifier, 'rds-instance-identifier'),
        arnCheck('dbShardGroupArn', resource.dbShardGroupArn, {
          service: 'rds',
          region,
          resourcePrefix: 'shard-group:',
        }),
        idCheck('dbClusterIdentifier', resource.dbClusterIdentifier, 'rds-instance-identifier'),
      ];
    case 'rds-user':
      return [
        idCheck('user', resource.user, 'database-user-name'),
        idCheck('dbInstanceIdentifier', resource.dbInstanceIdentifier, 'rds-instance-identifier'),
        idCheck('dbClusterIdentifier', resource.dbClusterIdentifier, 'rds-instance-identifier'),
      ];
    case 'ecs-task':
      return [
        arnCheck('arn', resource.arn, { service: 'ecs', region, resourcePrefix: 'task/' }),
        arnCheck('clusterArn', resource.clusterArn, { service: 'ecs', region, resourcePrefix: 'cluster/' }),
        arnCheck('definitionArn', resource.definitionArn, {
          service: 'ecs',
          region,
          resourcePrefix: 'task-definition/',
        }),
        ...resource.containers.flatMap((container, index) => [
          idCheck(`containers[${index}].name`, container.name, 'container'),
          idCheck(`containers[${index}].runtimeId`, container.runtimeId, 'container'),
        ]),
      ];
    case 'kubernetes-workload':
      return [
        idCheck('clusterName', resource.clusterName, 'eks-cluster-name'),
        idCheck('namespace', resource.namespace, 'kubernetes-namespace'),
        idCheck('name', resource.name, 'kubernetes-name'),
        idCheck('uid', resource.uid, 'kubernetes-uid'),
      ];
    case 'kubernetes-user':
      return [
        idCheck('clusterName', resource.clusterName, 'eks-cluster-name'),
        idCheck('username', resource.username, 'kubernetes-username'),
        idCheck('uid', resource.uid, 'kubernetes-username'),
        ...resource.groups.map((group, index) => idCheck(`groups[${index}]`, group, 'kubernetes-username')),
      ];
    case 's3-object':
      return [
        idCheck('bucket', resource.bucket, 's3-bucket-name'),
        idCheck('key', resource.key, 's3-object-key'),
        arnCheck('arn', resource.arn, { service: 's3' }, `${resource.bucket}/${resource.key}`),
      ];
    case 'ebs-volume':
      return [
        idCheck('volumeId', resource.volumeId, 'volume-id'),
        arnCheck(
          'volumeArn',
          resource.volumeArn,
          { service: 'ec2', region },
          resource.volumeId === undefined ? 'volume/' : `volume/${resource.volumeId}`,
        ),
        arnCheck('snapshotArn', resource.snapshotArn, {
          service: 'ec2',
          region,
          resourcePrefix: 'snapshot/',
        }),
        arnCheck('kmsKeyArn', resource.kmsKeyArn, { service: 'kms', region, resourcePrefix: 'key/' }),
      ];
  }
};

const checkProblem = (check: Check, finding: Finding): string | undefined => {
  if ('kind' in check) return identifierProblem(check.kind, check.value);
  const problem = arnProblem(check.value, {
    ...check.arn,
    partition: finding.partition,
    accountId: finding.accountId,
  });
  if (problem || check.names === undefined) return problem;
  const resource = parseArn(check.value ?? '')?.resource;
  const exact = check.names.endsWith('/') ? resource?.startsWith(check.names) : resource === check.names;
  return exact ? undefined : `${quoteIdentifier(check.value)} does not name ${quoteIdentifier(check.names)}`;
};

/**
 * Why one value of the resource is not safe to act on, or undefined. Absent optional values pass; an
 * empty string does not (a present identifier must be a valid one).
 */
const resourceProblem = (resource: Resource, finding: Finding): string | undefined => {
  for (const check of resourceChecks(resource, finding.region)) {
    if (check.value === undefined) continue;
    const problem = checkProblem(check, finding);
    if (problem) return `${check.field} ${problem}`;
  }
  return undefined;
};

/** How a target of each kind may be named: the identifier kind of its id, and the ARN it may be instead. */
const TARGET_IDS: Record<
  Exclude<ActionTarget['kind'], 'finding' | 'access-key'>,
  { kind: IdentifierKind; arn?: (region: string) => ArnExpectation }
> = {
  instance: { kind: 'instance-id' },
  's3-bucket': { kind: 's3-bucket-name' },
  'cloudtrail-trail': {
    kind: 'cloudtrail-trail-name',
    arn: (region) => ({ service: 'cloudtrail', region, resourcePrefix: 'trail/' }),
  },
  'ebs-volume': {
    kind: 'volume-id',
    arn: (region) => ({ service: 'ec2', region, resourcePrefix: 'volume/' }),
  },
  'eks-cluster': {
    kind: 'eks-cluster-name',
    arn: (region) => ({ service: 'eks', region, resourcePrefix: 'cluster/' }),
  },
  'ecs-cluster': {
    kind: 'ecs-cluster-name',
    arn: (region) => ({ service: 'ecs', region, resourcePrefix: ['cluster/', 'task/'] }),
  },
  container: { kind: 'container' },
  'lambda-function': {
    kind: 'lambda-function-name',
    arn: (region) => ({ service: 'lambda', region, resourcePrefix: 'function:' }),
  },
  'rds-instance': {
    kind: 'rds-instance-identifier',
    arn: (region) => ({ service: 'rds', region, resourcePrefix: 'db:' }),
  },
  'rds-cluster': {
    kind: 'rds-instance-identifier',
    arn: (region) => ({ service: 'rds', region, resourcePrefix: 'cluster:' }),
  },
  'rds-limitless-db': {
    kind: 'rds-instance-identifier',
    arn: (region) => ({ service: 'rds', region, resourcePrefix: 'shard-group:' }),
  },
  'rds-user': { kind: 'database-user-name' },
  'ecs-task': {
    kind: 'ecs-task-id',
    arn: (region) => ({ service: 'ecs', region, resourcePrefix: 'task/' }),
  },
  'kubernetes-workload': { kind: 'kubernetes-workload' },
  'kubernetes-user': { kind: 'kubernetes-username' },
  's3-object': { kind: 's3-object', arn: () => ({ service: 's3' }) },
};

/**
 * Why the target's id is not an identifier of its kind, or undefined. An access-key target carries
 * the access key id (deactivate-access-key) or the IAM user or role NAME (revoke-role-sessions,
 * tag-resource); a trail, volume, cluster, function or DB target may carry its ARN instead of its name.
 */
const targetIdProblem = (finding: Finding, target: ActionTarget): string | undefined => {
  const expected = { partition: finding.partition, accountId: finding.accountId };
  switch (target.kind) {
    case 'finding':
      return identifierProblem('guardduty-finding-id', target.id);
    case 'access-key':
      return identifierProblem('access-key-id', target.id) === undefined ||
        identifierProblem('iam-role-name', target.id) === undefined
        ? undefined
        : `${quoteIdentifier(target.id)} is neither an access key id nor an IAM user or role name`;
    default: {
      const { kind, arn } = TARGET_IDS[target.kind];
      return arn && target.id.startsWith('arn:')
        ? arnProblem(target.id, { ...expected, ...arn(finding.region) })
        : identifierProblem(kind, target.id);
    }
  }
};

/** The ARN a target of this kind may carry. */
const targetArnExpectation = (kind: ActionTarget['kind'], region: string): ArnExpectation => {
  switch (kind) {
    // A finding's ARN is only quoted in notifications, never acted on, and real findings exist whose
    // ARN names another region than their `region` field (shared sample 51): any region goes.
    case 'finding':
      return { service: 'guardduty', resourcePrefix: 'detector/' };
    case 'instance':
      return { service: 'ec2', region, resourcePrefix: 'instance/' };
    case 'access-key':
      return { service: ['iam', 'sts'], resourcePrefix: IAM_PRINCIPAL_PREFIXES };
    case 's3-bucket':
      return { service: 's3' };
    default: {
      const arn = TARGET_IDS[kind].arn;
      return arn ? arn(region) : {};
    }
  }
};

/**
 * Whether a target is one the finding names, and safe to act on. Refused (the reason is returned) when:
 * - the finding's own account is not 12 digits, its region or partition is invalid, or its region is
 *   not in its partition;
 * - the target is in another account, or another region (S3 buckets and objects excepted);
 * - the target's id is not a valid identifier of its kind, or the finding names no resource of that
 *   kind under that id;
 * - any identifier of the resource the target comes from is invalid (instance profile ARN, network
 *   interface and security group ids, the key's user, role, session and principal, the bucket's ARN,
 *   ...): actions read those fields from the finding, not just the target id;
 * - any ARN of that resource, or the target's ARN, is not in the finding's partition and account (and
 *   region, for regional services). A mismatching ARN refuses the target; it is never reduced to a
 *   bare name.
 * Pure and cheap: it runs for every target.
 */
export const outOfScopeReason = (finding: Finding, target: ActionTarget): string | undefined => {
  const untrusted = findingProblem(finding);
  if (untrusted) return untrusted;
  if (target.accountId !== finding.accountId) {
    return `target account ${quoteIdentifier(target.accountId)} is not the finding's account ${finding.accountId}`;
  }
  if (target.region !== finding.region && target.kind !== 's3-bucket' && target.kind !== 's3-object') {
    return `target region ${quoteIdentifier(target.region)} is not the finding's region ${finding.region}`;
  }
  const idProblem = targetIdProblem(finding, target);
  if (idProblem) return `target ${target.kind} id ${idProblem}`;
  if (target.arn !== undefined) {
    const problem = arnProblem(target.arn, {
      partition: finding.partition,
      accountId: finding.accountId,
      ...targetArnExpectation(target.kind, finding.region),
    });
    if (problem) return `target ARN ${problem}`;
  }
  if (target.kind === 'finding') {
    if (target.id !== finding.id) return `target ${quoteIdentifier(target.id)} is not this finding`;
    if (target.arn !== undefined && target.arn !== finding.arn) {
      return `target ARN ${quoteIdentifier(target.arn)} is not this finding's ARN`;
    }
    return undefined;
  }
  const named = finding.resources.filter(
    (resource) => resource.kind === target.kind && resourceIdentifiers(resource).includes(target.id),
  );
  if (named.length === 0) return `the finding names no ${target.kind} ${quoteIdentifier(target.id)}`;
  for (const resource of named) {
    if (target.arn !== undefined && !resourceIdentifiers(resource).includes(target.arn)) {
      return `target ARN ${quoteIdentifier(target.arn)} is not one the finding gives for ${target.kind} ${quoteIdentifier(target.id)}`;
    }
    const problem = resourceProblem(resource, finding);
    if (problem) return `${target.kind} ${quoteIdentifier(target.id)}: ${problem}`;
  }
  return undefined;
};
