import { AwsFault } from '../errors.js';
import type { OperationContext } from '../protocols.js';
import {
  objectListParam,
  objectParam,
  type QueryParams,
  stringListParam,
  stringParam,
  type TagParam,
  tagsParam,
} from '../query.js';
import {
  allowAllEgress,
  type FakeAccountState,
  type FakeAssociation,
  type FakeInstance,
  type FakeNetworkInterface,
  type FakeSecurityGroupRule,
  type FakeSnapshot,
  newEc2Id,
} from '../state.js';
import type { XmlObject, XmlValue } from '../xml.js';
import { networkAclOperations } from './network-acls.js';

export type Ec2Operation = (params: QueryParams, context: OperationContext) => XmlObject;

// ---------------------------------------------------------------------------------------------
// Shared helpers: parameters, filters, tags
// ---------------------------------------------------------------------------------------------

const missing = (name: string): AwsFault =>
  new AwsFault('MissingParameter', `The request must contain the parameter ${name}`);

const required = (params: QueryParams, name: string): string => {
  const value = stringParam(params, name);
  if (value === undefined || value === '') throw missing(name);
  return value;
};

const notFound = (code: string, what: string, ids: string[]): AwsFault =>
  ids.length === 1
    ? new AwsFault(code, `The ${what} '${ids[0]}' does not exist`)
    : new AwsFault(code, `The ${what}s '${ids.join(', ')}' do not exist`);

interface Filter {
  name: string;
  values: string[];
}

const filtersParam = (params: QueryParams): Filter[] =>
  objectListParam(params, 'Filter').map((filter) => ({
    name: stringParam(filter, 'Name') ?? '',
    values: stringListParam(filter, 'Value'),
  }));

// EC2 filter values accept `*` and `?` wildcards.
const globMatches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

type FieldLookup = (name: string) => string[] | undefined;

const tagFields =
  (tags: Record<string, string>, fields: Record<string, string[]>): FieldLookup =>
  (name) => {
    if (name.startsWith('tag:')) {
      const value = tags[name.slice(4)];
      return value === undefined ? [] : [value];
    }
    if (name === 'tag-key') return Object.keys(tags);
    if (name === 'tag-value') return Object.values(tags);
    return fields[name];
  };

/** An unknown filter name is an error, as EC2 answers it: it catches a misspelt filter in an action. */
const matchesFilters = (filters: Filter[], lookup: FieldLookup): boolean =>
  filters.every((filter) => {
    const actual = lookup(filter.name);
    if (actual === undefined) {
      throw new AwsFault('InvalidParameterValue', `The filter '${filter.name}' is invalid`);
    }
    return actual.some((value) => filter.values.some((pattern) => globMatches(pattern, value)));
  });

const tagSet = (tags: Record<string, string>): XmlValue[] =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

/** Tags a TagSpecification list assigns to a resource of the given type. */
const specifiedTags = (params: QueryParams, resourceType: string): TagParam[] =>
  objectListParam(params, 'TagSpecification').flatMap((specification) => {
    const type = stringParam(specification, 'ResourceType');
    if (type !== resourceType) {
      throw new AwsFault(
        'InvalidParameterValue',
        `'${type ?? ''}' is not a valid taggable resource type for this operation.`,
      );
    }
    return tagsParam(specification, 'Tag');
  });

const applyTags = (target: Record<string, string>, tags: TagParam[]): void => {
  for (const tag of tags) target[tag.key] = tag.value;
};

interface Taggable {
  resourceType: string;
  tags: Record<string, string>;
}

const taggables = (state: FakeAccountState): Map<string, Taggable> => {
  const all = new Map<string, Taggable>();
  const add = (resourceType: string, entries: Iterable<[string, { tags: Record<string, string> }]>) => {
    for (const [id, resource] of entries) all.set(id, { resourceType, tags: resource.tags });
  };
  add('instance', state.instances);
  add('volume', state.volumes);
  add('network-interface', state.networkInterfaces);
  add('security-group', state.securityGroups);
  add('snapshot', state.snapshots);
  return all;
};

const NOT_FOUND_BY_PREFIX: Record<string, [code: string, what: string]> = {
  i: ['InvalidInstanceID.NotFound', 'instance ID'],
  vol: ['InvalidVolume.NotFound', 'volume'],
  eni: ['InvalidNetworkInterfaceID.NotFound', 'networkInterface ID'],
  sg: ['InvalidGroup.NotFound', 'security group'],
  snap: ['InvalidSnapshot.NotFound', 'snapshot'],
};

const knownVpcs = (state: FakeAccountState): Set<string> =>
  new Set([
    ...[...state.instances.values()].map((instance) => instance.vpcId),
    ...[...state.securityGroups.values()].map((group) => group.vpcId),
  ]);

// ---------------------------------------------------------------------------------------------
// Instance profile associations
// ---------------------------------------------------------------------------------------------

const isActive = (association: FakeAssociation): boolean =>
  association.state === 'associated' || association.state === 'associating';

const renderAssociation = (association: FakeAssociation, state = association.state): XmlObject => ({
  associationId: association.associationId,
  instanceId: association.instanceId,
  iamInstanceProfile: { arn: association.instanceProfileArn, id: association.instanceProfileId },
  state,
  timestamp: association.timestamp,
});

const resolveProfile = (params: QueryParams, context: OperationContext) => {
  const specification = objectParam(params, 'IamInstanceProfile');
  const name = specification && stringParam(specification, 'Name');
  const arn = specification && stringParam(specification, 'Arn');
  if (name === undefined && arn === undefined) throw missing('IamInstanceProfile');
  const profiles = [...context.state.instanceProfiles.values()];
  const profile =
    name === undefined
      ? profiles.find((candidate) => candidate.arn === arn)
      : profiles.find((candidate) => candidate.instanceProfileName === name);
  if (!profile) {
    throw name === undefined
      ? new AwsFault(
          'InvalidParameterValue',
          `Value (${arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`,
        )
      : new AwsFault(
          'InvalidParameterValue',
          `Value (${name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
        );
  }
  return profile;
};

const activeAssociation = (state: FakeAccountState, associationId: string): FakeAssociation => {
  const association = state.associations.get(associationId);
  if (!association || !isActive(association)) {
    throw new AwsFault(
      'InvalidAssociationID.NotFound',
      `The association ID '${associationId}' does not exist`,
    );
  }
  return association;
};

const instanceOrThrow = (state: FakeAccountState, instanceId: string): FakeInstance => {
  const instance = state.instances.get(instanceId);
  if (!instance) throw notFound('InvalidInstanceID.NotFound', 'instance ID', [instanceId]);
  return instance;
};

/** Associations settle at once: the response shows the transitional state, the account the final one. */
const describeIamInstanceProfileAssociations: Ec2Operation = (params, { state }) => {
  const ids = stringListParam(params, 'AssociationId');
  const unknown = ids.filter((id) => !state.associations.has(id));
  if (unknown.length > 0) {
    throw new AwsFault(
      'InvalidAssociationID.NotFound',
      `The association ID '${unknown.join(', ')}' does not exist`,
    );
  }
  const filters = filtersParam(params);
  const byState = filters.some((filter) => filter.name === 'state');
  const associations = [...state.associations.values()].filter(
    (association) =>
      (ids.length === 0 || ids.includes(association.associationId)) &&
      (byState || ids.length > 0 || association.state !== 'disassociated') &&
      matchesFilters(filters, (name) =>
        name === 'instance-id'
          ? [association.instanceId]
          : name === 'state'
            ? [association.state]
            : undefined,
      ),
  );
  return {
    iamInstanceProfileAssociationSet: associations.map((association) => renderAssociation(association)),
  };
};

const associateIamInstanceProfile: Ec2Operation = (params, context) => {
  const { state } = context;
  const instanceId = required(params, 'InstanceId');
  instanceOrThrow(state, instanceId);
  const profile = resolveProfile(params, context);
  if ([...state.associations.values()].some((a) => a.instanceId === instanceId && isActive(a))) {
    throw new AwsFault('IncorrectState', `There is an existing association for instance ${instanceId}`);
  }
  const association: FakeAssociation = {
    associationId: newEc2Id('iip-assoc'),
    instanceId,
    instanceProfileArn: profile.arn,
    instanceProfileId: profile.instanceProfileId,
    state: 'associated',
    timestamp: new Date().toISOString(),
  };
  state.associations.set(association.associationId, association);
  return { iamInstanceProfileAssociation: renderAssociation(association, 'associating') };
};

const disassociateIamInstanceProfile: Ec2Operation = (params, { state }) => {
  const association = activeAssociation(state, required(params, 'AssociationId'));
  association.state = 'disassociated';
  return { iamInstanceProfileAssociation: renderAssociation(association, 'disassociating') };
};

const replaceIamInstanceProfileAssociation: Ec2Operation = (params, context) => {
  const { state } = context;
  const previous = activeAssociation(state, required(params, 'AssociationId'));
  const profile = resolveProfile(params, context);
  previous.state = 'disassociated';
  const association: FakeAssociation = {
    associationId: newEc2Id('iip-assoc'),
    instanceId: previous.instanceId,
    instanceProfileArn: profile.arn,
    instanceProfileId: profile.instanceProfileId,
    state: 'associated',
    timestamp: new Date().toISOString(),
  };
  state.associations.set(association.associationId, association);
  return { iamInstanceProfileAssociation: renderAssociation(association, 'associating') };
};

// ---------------------------------------------------------------------------------------------
// Instances
// ---------------------------------------------------------------------------------------------

const INSTANCE_STATE_CODES = { pending: 0, running: 16, stopping: 64, stopped: 80 } as const;

const groupIdentifiers = (state: FakeAccountState, groupIds: string[]): XmlValue[] =>
  groupIds.map((groupId) => ({ groupId, groupName: state.securityGroups.get(groupId)?.groupName }));

const activeAssociationOf = (state: FakeAccountState, instanceId: string): FakeAssociation | undefined =>
  [...state.associations.values()].find(
    (candidate) => candidate.instanceId === instanceId && isActive(candidate),
  );

/** The ARN of the profile associated with an instance, for the `iam-instance-profile.arn` filter. */
const profileArns = (state: FakeAccountState, instanceId: string): string[] => {
  const association = activeAssociationOf(state, instanceId);
  return association ? [association.instanceProfileArn] : [];
};

const renderInstance = (state: FakeAccountState, instance: FakeInstance): XmlObject => {
  const association = activeAssociationOf(state, instance.instanceId);
  const interfaces = instance.networkInterfaceIds.flatMap((id) => {
    const eni = state.networkInterfaces.get(id);
    return eni ? [eni] : [];
  });
  return {
    instanceId: instance.instanceId,
    imageId: instance.imageId,
    instanceState: { code: INSTANCE_STATE_CODES[instance.state], name: instance.state },
    privateDnsName: `ip-${instance.privateIpAddress.replaceAll('.', '-')}.ec2.internal`,
    instanceType: instance.instanceType,
    launchTime: instance.launchTime,
    placement: { availabilityZone: instance.availabilityZone, tenancy: 'default' },
    subnetId: instance.subnetId,
    vpcId: instance.vpcId,
    privateIpAddress: instance.privateIpAddress,
    groupSet: groupIdentifiers(state, interfaces[0]?.groupIds ?? []),
    iamInstanceProfile: association && {
      arn: association.instanceProfileArn,
      id: association.instanceProfileId,
    },
    rootDeviceName: instance.rootDeviceName,
    rootDeviceType: 'ebs',
    blockDeviceMapping: instance.volumeIds.flatMap((volumeId) => {
      const volume = state.volumes.get(volumeId);
      return volume
        ? [
            {
              deviceName: volume.deviceName,
              ebs: { volumeId, status: 'attached', attachTime: volume.attachTime, deleteOnTermination: true },
            },
          ]
        : [];
    }),
    networkInterfaceSet: interfaces.map((eni) => ({
      networkInterfaceId: eni.networkInterfaceId,
      subnetId: eni.subnetId,
      vpcId: eni.vpcId,
      ownerId: state.accountId,
      status: 'in-use',
      privateIpAddress: eni.privateIpAddress,
      groupSet: groupIdentifiers(state, eni.groupIds),
      attachment: {
        attachmentId: eni.attachmentId,
        deviceIndex: eni.deviceIndex,
        status: 'attached',
        attachTime: instance.launchTime,
        deleteOnTermination: true,
      },
    })),
    tagSet: tagSet(instance.tags),
  };
};

const describeInstances: Ec2Operation = (params, { state }) => {
  const ids = stringListParam(params, 'InstanceId');
  const unknown = ids.filter((id) => !state.instances.has(id));
  if (unknown.length > 0) throw notFound('InvalidInstanceID.NotFound', 'instance ID', unknown);
  const filters = filtersParam(params);
  const instances = [...state.instances.values()].filter(
    (instance) =>
      (ids.length === 0 || ids.includes(instance.instanceId)) &&
      matchesFilters(
        filters,
        tagFields(instance.tags, {
          'instance-id': [instance.instanceId],
          'vpc-id': [instance.vpcId],
          'subnet-id': [instance.subnetId],
          'instance-state-name': [instance.state],
          'instance-type': [instance.instanceType],
          'iam-instance-profile.arn': profileArns(state, instance.instanceId),
        }),
      ),
  );
  return {
    reservationSet: instances.map((instance) => ({
      reservationId: instance.reservationId,
      ownerId: state.accountId,
      groupSet: [],
      instancesSet: [renderInstance(state, instance)],
    })),
  };
};

// ---------------------------------------------------------------------------------------------
// Security groups and network interfaces
// ---------------------------------------------------------------------------------------------

const PROTOCOL_NAMES: Record<string, string> = { all: '-1', '6': 'tcp', '17': 'udp', '1': 'icmp' };
const normalizeProtocol = (protocol: string): string =>
  PROTOCOL_NAMES[protocol.toLowerCase()] ?? protocol.toLowerCase();

/** Rules are stored one destination each (as AWS's rule ids are) and shown grouped as IpPermissions. */
const renderPermissions = (rules: FakeSecurityGroupRule[], ownerId: string): XmlValue[] => {
  const permissions = new Map<string, FakeSecurityGroupRule[]>();
  for (const rule of rules) {
    const key = `${rule.ipProtocol}|${rule.fromPort ?? ''}|${rule.toPort ?? ''}`;
    permissions.set(key, [...(permissions.get(key) ?? []), rule]);
  }
  return [...permissions.values()].map((group) => {
    const [first] = group as [FakeSecurityGroupRule];
    return {
      ipProtocol: first.ipProtocol,
      fromPort: first.fromPort,
      toPort: first.toPort,
      groups: group
        .filter((rule) => rule.referencedGroupId !== undefined)
        .map((rule) => ({ groupId: rule.referencedGroupId, userId: ownerId, description: rule.description })),
      ipRanges: group
        .filter((rule) => rule.cidrIpv4 !== undefined)
        .map((rule) => ({ cidrIp: rule.cidrIpv4, description: rule.description })),
      ipv6Ranges: group
        .filter((rule) => rule.cidrIpv6 !== undefined)
        .map((rule) => ({ cidrIpv6: rule.cidrIpv6, description: rule.description })),
      prefixListIds: [],
    };
  });
};

const securityGroupArn = (state: FakeAccountState, groupId: string): string =>
  `arn:aws:ec2:${state.region}:${state.accountId}:security-group/${groupId}`;

const describeSecurityGroups: Ec2Operation = (params, { state }) => {
  const ids = stringListParam(params, 'GroupId');
  const unknown = ids.filter((id) => !state.securityGroups.has(id));
  if (unknown.length > 0) throw notFound('InvalidGroup.NotFound', 'security group', unknown);
  const names = stringListParam(params, 'GroupName');
  const filters = filtersParam(params);
  const groups = [...state.securityGroups.values()].filter(
    (group) =>
      (ids.length === 0 || ids.includes(group.groupId)) &&
      (names.length === 0 || names.includes(group.groupName)) &&
      matchesFilters(
        filters,
        tagFields(group.tags, {
          'group-id': [group.groupId],
          'group-name': [group.groupName],
          'vpc-id': [group.vpcId],
          'owner-id': [group.ownerId],
          description: [group.description],
        }),
      ),
  );
  return {
    securityGroupInfo: groups.map((group) => ({
      ownerId: group.ownerId,
      groupId: group.groupId,
      groupName: group.groupName,
      groupDescription: group.description,
      vpcId: group.vpcId,
      securityGroupArn: securityGroupArn(state, group.groupId),
      ipPermissions: renderPermissions(group.ingress, group.ownerId),
      ipPermissionsEgress: renderPermissions(group.egress, group.ownerId),
      tagSet: tagSet(group.tags),
    })),
  };
};

const createSecurityGroup: Ec2Operation = (params, { state }) => {
  const groupName = required(params, 'GroupName');
  const description = required(params, 'GroupDescription');
  const vpcId = stringParam(params, 'VpcId');
  if (vpcId === undefined) throw new AwsFault('VPCIdNotSpecified', 'No default VPC for this user');
  if (!knownVpcs(state).has(vpcId)) throw notFound('InvalidVpcID.NotFound', 'vpc ID', [vpcId]);
  if ([...state.securityGroups.values()].some((g) => g.vpcId === vpcId && g.groupName === groupName)) {
    throw new AwsFault(
      'InvalidGroup.Duplicate',
      `The security group '${groupName}' already exists for VPC '${vpcId}'`,
    );
  }
  const tags: Record<string, string> = {};
  applyTags(tags, specifiedTags(params, 'security-group'));
  const groupId = newEc2Id('sg');
  // A new VPC security group allows all outbound traffic until that rule is revoked.
  state.securityGroups.set(groupId, {
    groupId,
    groupName,
    description,
    vpcId,
    ownerId: state.accountId,
    ingress: [],
    egress: [allowAllEgress()],
    tags,
  });
  return { groupId, tagSet: tagSet(tags), securityGroupArn: securityGroupArn(state, groupId) };
};

interface RequestedRule {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  referencedGroupId?: string;
}

const requestedRules = (permission: QueryParams): RequestedRule[] => {
  const ipProtocol = normalizeProtocol(stringParam(permission, 'IpProtocol') ?? '-1');
  const from = stringParam(permission, 'FromPort');
  const to = stringParam(permission, 'ToPort');
  const base: RequestedRule = {
    ipProtocol,
    ...(from === undefined ? {} : { fromPort: Number(from) }),
    ...(to === undefined ? {} : { toPort: Number(to) }),
  };
  return [
    ...objectListParam(permission, 'IpRanges').map((range) => ({
      ...base,
      cidrIpv4: stringParam(range, 'CidrIp'),
    })),
    ...objectListParam(permission, 'Ipv6Ranges').map((range) => ({
      ...base,
      cidrIpv6: stringParam(range, 'CidrIpv6'),
    })),
    ...objectListParam(permission, 'Groups').map((pair) => ({
      ...base,
      referencedGroupId: stringParam(pair, 'GroupId'),
    })),
  ];
};

const ruleMatches = (rule: FakeSecurityGroupRule, requested: RequestedRule): boolean =>
  normalizeProtocol(rule.ipProtocol) === requested.ipProtocol &&
  (requested.ipProtocol === '-1' ||
    (rule.fromPort === requested.fromPort && rule.toPort === requested.toPort)) &&
  rule.cidrIpv4 === requested.cidrIpv4 &&
  rule.cidrIpv6 === requested.cidrIpv6 &&
  rule.referencedGroupId === requested.referencedGroupId;

const revokeSecurityGroupEgress: Ec2Operation = (params, { state }) => {
  const groupId = required(params, 'GroupId');
  const group = state.securityGroups.get(groupId);
  if (!group) throw notFound('InvalidGroup.NotFound', 'security group', [groupId]);
  const ruleIds = stringListParam(params, 'SecurityGroupRuleId');
  const permissions = objectListParam(params, 'IpPermissions');
  if (ruleIds.length === 0 && permissions.length === 0) throw missing('IpPermissions');
  const revoked = group.egress.filter((rule) => ruleIds.includes(rule.ruleId));
  const unknownPermissions: QueryParams[] = [];
  for (const permission of permissions) {
    const requested = requestedRules(permission);
    const matched = group.egress.filter((rule) => requested.some((wanted) => ruleMatches(rule, wanted)));
    if (matched.length === 0) unknownPermissions.push(permission);
    revoked.push(...matched);
  }
  if (revoked.length === 0) {
    throw new AwsFault(
      'InvalidPermission.NotFound',
      'The specified rule does not exist in this security group.',
    );
  }
  group.egress = group.egress.filter((rule) => !revoked.includes(rule));
  return {
    return: true,
    unknownIpPermissionSet: unknownPermissions.map((permission) => ({
      ipProtocol: stringParam(permission, 'IpProtocol'),
      fromPort: stringParam(permission, 'FromPort'),
      toPort: stringParam(permission, 'ToPort'),
      ipRanges: objectListParam(permission, 'IpRanges').map((range) => ({
        cidrIp: stringParam(range, 'CidrIp'),
      })),
    })),
    revokedSecurityGroupRuleSet: revoked.map((rule) => ({
      securityGroupRuleId: rule.ruleId,
      groupId,
      isEgress: true,
      ipProtocol: rule.ipProtocol,
      fromPort: rule.fromPort,
      toPort: rule.toPort,
      cidrIpv4: rule.cidrIpv4,
      cidrIpv6: rule.cidrIpv6,
      referencedGroupId: rule.referencedGroupId,
    })),
  };
};

const modifyNetworkInterfaceAttribute: Ec2Operation = (params, { state }) => {
  const networkInterfaceId = required(params, 'NetworkInterfaceId');
  const eni = state.networkInterfaces.get(networkInterfaceId);
  if (!eni) throw notFound('InvalidNetworkInterfaceID.NotFound', 'networkInterface ID', [networkInterfaceId]);
  const groupIds = stringListParam(params, 'SecurityGroupId');
  if (groupIds.length === 0) {
    throw new AwsFault(
      'InvalidParameterCombination',
      'No attributes specified. The fake supports the SecurityGroupId (Groups) attribute only.',
    );
  }
  const unknown = groupIds.filter((id) => !state.securityGroups.has(id));
  if (unknown.length > 0) throw notFound('InvalidGroup.NotFound', 'security group', unknown);
  const foreign = groupIds.find((id) => state.securityGroups.get(id)?.vpcId !== eni.vpcId);
  if (foreign !== undefined) {
    throw new AwsFault(
      'InvalidParameter',
      `Security group ${foreign} and subnet ${eni.subnetId} belong to different networks.`,
    );
  }
  eni.groupIds = [...groupIds];
  return { return: true };
};

const groupOrThrow = (state: FakeAccountState, params: QueryParams) => {
  const groupId = stringParam(params, 'GroupId');
  const groupName = stringParam(params, 'GroupName');
  if (groupId === undefined && groupName === undefined) throw missing('GroupId');
  const group =
    groupId === undefined
      ? [...state.securityGroups.values()].find((candidate) => candidate.groupName === groupName)
      : state.securityGroups.get(groupId);
  if (!group) {
    throw groupId === undefined
      ? new AwsFault(
          'InvalidGroup.NotFound',
          `The security group '${groupName}' does not exist in default VPC`,
        )
      : notFound('InvalidGroup.NotFound', 'security group', [groupId]);
  }
  return group;
};

/**
 * Deletes a security group no network interface uses and no other group's rule references; EC2
 * answers DependencyViolation otherwise, and changes nothing.
 */
const deleteSecurityGroup: Ec2Operation = (params, { state }) => {
  const group = groupOrThrow(state, params);
  const used = [...state.networkInterfaces.values()].some((eni) => eni.groupIds.includes(group.groupId));
  const referenced = [...state.securityGroups.values()].some(
    (other) =>
      other.groupId !== group.groupId &&
      [...other.ingress, ...other.egress].some((rule) => rule.referencedGroupId === group.groupId),
  );
  if (used || referenced) {
    throw new AwsFault('DependencyViolation', `resource ${group.groupId} has a dependent object`);
  }
  state.securityGroups.delete(group.groupId);
  return { return: true, groupId: group.groupId };
};

const renderNetworkInterface = (state: FakeAccountState, eni: FakeNetworkInterface): XmlObject => {
  const instance = state.instances.get(eni.instanceId);
  return {
    networkInterfaceId: eni.networkInterfaceId,
    subnetId: eni.subnetId,
    vpcId: eni.vpcId,
    availabilityZone: instance?.availabilityZone,
    description: '',
    ownerId: state.accountId,
    requesterManaged: false,
    status: 'in-use',
    privateIpAddress: eni.privateIpAddress,
    privateDnsName: `ip-${eni.privateIpAddress.replaceAll('.', '-')}.ec2.internal`,
    sourceDestCheck: true,
    interfaceType: 'interface',
    groupSet: groupIdentifiers(state, eni.groupIds),
    attachment: {
      attachmentId: eni.attachmentId,
      instanceId: eni.instanceId,
      instanceOwnerId: state.accountId,
      deviceIndex: eni.deviceIndex,
      networkCardIndex: 0,
      status: 'attached',
      attachTime: instance?.launchTime,
      deleteOnTermination: true,
    },
    tagSet: tagSet(eni.tags),
  };
};

/**
 * NetworkInterfaceIds and filters `network-interface-id`, `group-id`, `attachment.instance-id`,
 * `attachment.attachment-id`, `vpc-id`, `subnet-id`, `status`, `owner-id` and tags. Every interface is
 * attached to its instance.
 */
const describeNetworkInterfaces: Ec2Operation = (params, { state }) => {
  const ids = stringListParam(params, 'NetworkInterfaceId');
  const unknown = ids.filter((id) => !state.networkInterfaces.has(id));
  if (unknown.length > 0)
    throw notFound('InvalidNetworkInterfaceID.NotFound', 'networkInterface ID', unknown);
  const filters = filtersParam(params);
  const interfaces = [...state.networkInterfaces.values()].filter(
    (eni) =>
      (ids.length === 0 || ids.includes(eni.networkInterfaceId)) &&
      matchesFilters(
        filters,
        tagFields(eni.tags, {
          'network-interface-id': [eni.networkInterfaceId],
          'group-id': eni.groupIds,
          'attachment.instance-id': [eni.instanceId],
          'attachment.attachment-id': [eni.attachmentId],
          'vpc-id': [eni.vpcId],
          'subnet-id': [eni.subnetId],
          status: ['in-use'],
          'owner-id': [state.accountId],
        }),
      ),
  );
  return { networkInterfaceSet: interfaces.map((eni) => renderNetworkInterface(state, eni)) };
};

// ---------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------

const createTags: Ec2Operation = (params, { state }) => {
  const resourceIds = stringListParam(params, 'ResourceId');
  if (resourceIds.length === 0) throw missing('ResourceId');
  const tags = tagsParam(params, 'Tag');
  if (tags.length === 0) throw missing('Tag');
  const resources = taggables(state);
  for (const id of resourceIds) {
    if (!resources.has(id)) {
      const known = NOT_FOUND_BY_PREFIX[id.split('-')[0] ?? ''];
      throw known
        ? notFound(known[0], known[1], [id])
        : new AwsFault('InvalidID', `The ID '${id}' is not valid`);
    }
  }
  for (const id of resourceIds) applyTags(resources.get(id)?.tags ?? {}, tags);
  return { return: true };
};

/** The resources named, each one the account holds (the error CreateTags gives otherwise). */
const taggedResources = (state: FakeAccountState, resourceIds: string[]) => {
  const resources = taggables(state);
  for (const id of resourceIds) {
    if (!resources.has(id)) {
      const known = NOT_FOUND_BY_PREFIX[id.split('-')[0] ?? ''];
      throw known
        ? notFound(known[0], known[1], [id])
        : new AwsFault('InvalidID', `The ID '${id}' is not valid`);
    }
  }
  return resourceIds.map((id) => resources.get(id)!);
};

/**
 * Deletes the tags named from each resource: a tag given without a value goes whatever its value, one
 * with a value only if it has that value; no tags at all deletes every tag, as EC2 does.
 */
const deleteTags: Ec2Operation = (params, { state }) => {
  const resourceIds = stringListParam(params, 'ResourceId');
  if (resourceIds.length === 0) throw missing('ResourceId');
  const wanted = objectListParam(params, 'Tag').map((tag) => ({
    key: stringParam(tag, 'Key') ?? '',
    value: stringParam(tag, 'Value'),
  }));
  for (const resource of taggedResources(state, resourceIds)) {
    for (const key of Object.keys(resource.tags)) {
      const matches =
        wanted.length === 0 ||
        wanted.some(
          (tag) => tag.key === key && (tag.value === undefined || tag.value === resource.tags[key]),
        );
      if (matches) delete resource.tags[key];
    }
  }
  return { return: true };
};

const describeTags: Ec2Operation = (params, { state }) => {
  const filters = filtersParam(params);
  const rows = [...taggables(state)].flatMap(([resourceId, resource]) =>
    Object.entries(resource.tags).map(([key, value]) => ({
      resourceId,
      resourceType: resource.resourceType,
      key,
      value,
    })),
  );
  return {
    tagSet: rows.filter((row) =>
      matchesFilters(filters, (name) =>
        name === 'resource-id'
          ? [row.resourceId]
          : name === 'resource-type'
            ? [row.resourceType]
            : name === 'key'
              ? [row.key]
              : name === 'value'
                ? [row.value]
                : undefined,
      ),
    ),
  };
};

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

const renderSnapshot = (
  snapshot: FakeSnapshot,
  stateElement: 'state' | 'status',
  state = snapshot.state,
) => ({
  snapshotId: snapshot.snapshotId,
  volumeId: snapshot.volumeId,
  [stateElement]: state,
  startTime: snapshot.startTime,
  progress: state === 'pending' ? '' : snapshot.progress,
  ownerId: snapshot.ownerId,
  volumeSize: snapshot.volumeSizeGiB,
  description: snapshot.description,
  encrypted: snapshot.encrypted,
  tagSet: tagSet(snapshot.tags),
});

/** Snapshots complete at once: the response says `pending`, later reads see `completed`. */
const createSnapshots: Ec2Operation = (params, { state }) => {
  const specification = objectParam(params, 'InstanceSpecification');
  const instanceId = specification && stringParam(specification, 'InstanceId');
  if (specification === undefined || instanceId === undefined)
    throw missing('InstanceSpecification.InstanceId');
  const instance = instanceOrThrow(state, instanceId);
  const excludeBoot = stringParam(specification, 'ExcludeBootVolume') === 'true';
  const excluded = stringListParam(specification, 'ExcludeDataVolumeId');
  const specified = specifiedTags(params, 'snapshot');
  const copyVolumeTags = stringParam(params, 'CopyTagsFromSource') === 'volume';
  const startTime = new Date().toISOString();
  const created = instance.volumeIds.flatMap((volumeId) => {
    const volume = state.volumes.get(volumeId);
    if (!volume || excluded.includes(volumeId)) return [];
    if (excludeBoot && volume.deviceName === instance.rootDeviceName) return [];
    const tags: Record<string, string> = copyVolumeTags ? { ...volume.tags } : {};
    applyTags(tags, specified);
    const snapshot: FakeSnapshot = {
      snapshotId: newEc2Id('snap'),
      volumeId,
      ownerId: state.accountId,
      state: 'completed',
      progress: '100%',
      startTime,
      description: stringParam(params, 'Description') ?? '',
      volumeSizeGiB: volume.sizeGiB,
      encrypted: false,
      tags,
    };
    state.snapshots.set(snapshot.snapshotId, snapshot);
    return [snapshot];
  });
  return { snapshotSet: created.map((snapshot) => renderSnapshot(snapshot, 'state', 'pending')) };
};

const describeSnapshots: Ec2Operation = (params, { state }) => {
  const ids = stringListParam(params, 'SnapshotId');
  const unknown = ids.filter((id) => !state.snapshots.has(id));
  if (unknown.length > 0) throw notFound('InvalidSnapshot.NotFound', 'snapshot', unknown);
  const owners = stringListParam(params, 'Owner').map((owner) =>
    owner === 'self' ? state.accountId : owner,
  );
  const filters = filtersParam(params);
  const snapshots = [...state.snapshots.values()].filter(
    (snapshot) =>
      (ids.length === 0 || ids.includes(snapshot.snapshotId)) &&
      (owners.length === 0 || owners.includes(snapshot.ownerId)) &&
      matchesFilters(
        filters,
        tagFields(snapshot.tags, {
          'snapshot-id': [snapshot.snapshotId],
          'volume-id': [snapshot.volumeId],
          'owner-id': [snapshot.ownerId],
          status: [snapshot.state],
          description: [snapshot.description],
        }),
      ),
  );
  return { snapshotSet: snapshots.map((snapshot) => renderSnapshot(snapshot, 'status')) };
};

export const ec2Operations: Record<string, Ec2Operation> = {
  DescribeIamInstanceProfileAssociations: describeIamInstanceProfileAssociations,
  AssociateIamInstanceProfile: associateIamInstanceProfile,
  DisassociateIamInstanceProfile: disassociateIamInstanceProfile,
  ReplaceIamInstanceProfileAssociation: replaceIamInstanceProfileAssociation,
  DescribeInstances: describeInstances,
  DescribeSecurityGroups: describeSecurityGroups,
  CreateSecurityGroup: createSecurityGroup,
  DeleteSecurityGroup: deleteSecurityGroup,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  RevokeSecurityGroupEgress: revokeSecurityGroupEgress,
  ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
  CreateSnapshots: createSnapshots,
  DescribeSnapshots: describeSnapshots,
  ...networkAclOperations,
};
