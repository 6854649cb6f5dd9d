import { createHash, randomBytes } from 'node:crypto';
import { AwsFault, FakeAwsError } from '../errors.js';
import type { OperationContext } from '../protocols.js';
import { objectListParam, objectParam, type QueryParams, stringListParam, stringParam } from '../query.js';
import type { FakeAccountState } from '../state.js';
import type { XmlObject, XmlValue } from '../xml.js';

/**
 * EC2 network ACLs: DescribeNetworkAcls, CreateNetworkAclEntry, DeleteNetworkAclEntry, with the
 * element names of @aws-sdk/client-ec2's model (`networkAclSet`, `entrySet`, `associationSet`,
 * `default`, `portRange`/`icmpTypeCode`; requests `NetworkAclId.N`, `Filter.N`, `Icmp.Code`,
 * `PortRange.From`). Only types are imported from state.ts, which builds the ACLs with
 * `buildNetworkAcls`, so no module cycle forms.
 */

export interface NetworkAclEntrySeed {
  ruleNumber: number;
  egress: boolean;
  /** `-1` (all), or a protocol number as a string (`6` TCP, `17` UDP, `1` ICMP). */
  protocol: string;
  ruleAction: 'allow' | 'deny';
  cidrBlock?: string;
  ipv6CidrBlock?: string;
  portRange?: { from: number; to: number };
  icmpTypeCode?: { code: number; type: number };
}

export interface NetworkAclSeed {
  networkAclId: string;
  vpcId: string;
  /** Whether it is its VPC's default ACL (false). */
  isDefault?: boolean;
  /** Subnets associated with it; a subnet is associated with one ACL. */
  subnetIds?: string[];
  /**
   * Entries besides the `*` rules (32767, deny all, both directions), which every ACL has. Omitted: a
   * default ACL allows all traffic at rule 100 both ways, a custom one has no other entry.
   */
  entries?: NetworkAclEntrySeed[];
  tags?: Record<string, string>;
}

export type FakeNetworkAclEntry = NetworkAclEntrySeed;

export interface FakeNetworkAcl {
  networkAclId: string;
  vpcId: string;
  isDefault: boolean;
  ownerId: string;
  associations: Array<{ associationId: string; subnetId: string }>;
  entries: FakeNetworkAclEntry[];
  tags: Record<string, string>;
}

/** The `*` rule: the last rule of every ACL, in each direction; it cannot be changed or deleted. */
const LAST_RULE = 32767;

const lastRules = (): FakeNetworkAclEntry[] =>
  [false, true].map((egress) => ({
    ruleNumber: LAST_RULE,
    egress,
    protocol: '-1',
    ruleAction: 'deny',
    cidrBlock: '0.0.0.0/0',
  }));

/** A default ACL's entries: allow everything at rule 100, then the `*` rules, both directions. */
const defaultEntries = (): FakeNetworkAclEntry[] => [
  ...[false, true].map(
    (egress): FakeNetworkAclEntry => ({
      ruleNumber: 100,
      egress,
      protocol: '-1',
      ruleAction: 'allow',
      cidrBlock: '0.0.0.0/0',
    }),
  ),
  ...lastRules(),
];

const associationId = (): string => `aclassoc-0${randomBytes(8).toString('hex')}`;

/** A default ACL's id, derived from its VPC's so that it is the same on every run. */
export const defaultNetworkAclId = (vpcId: string): string =>
  `acl-0${createHash('sha256').update(vpcId).digest('hex').slice(0, 16)}`;

/**
 * The seeded ACLs, then a default ACL for each VPC of the account (instances' and security groups'
 * VPCs) that has none seeded, and each instance's subnet not yet associated is associated with its
 * VPC's default ACL, as a new subnet is.
 */
export const buildNetworkAcls = (seeds: NetworkAclSeed[] | undefined, state: FakeAccountState): void => {
  const taken = new Map<string, string>();
  for (const seed of seeds ?? []) {
    for (const subnetId of seed.subnetIds ?? []) {
      const other = taken.get(subnetId);
      if (other !== undefined) {
        throw new FakeAwsError(
          'SEED_INVALID',
          `subnet ${subnetId} is associated with both ${other} and ${seed.networkAclId}`,
          { subnetId, networkAcls: [other, seed.networkAclId] },
        );
      }
      taken.set(subnetId, seed.networkAclId);
    }
    const given = (seed.entries ?? []).map((entry) => structuredClone(entry));
    state.networkAcls.set(seed.networkAclId, {
      networkAclId: seed.networkAclId,
      vpcId: seed.vpcId,
      isDefault: seed.isDefault === true,
      ownerId: state.accountId,
      associations: (seed.subnetIds ?? []).map((subnetId) => ({ associationId: associationId(), subnetId })),
      entries:
        seed.entries === undefined && seed.isDefault === true
          ? defaultEntries()
          : [...given, ...lastRules().filter((last) => !given.some((entry) => sameSlot(entry, last)))],
      tags: { ...seed.tags },
    });
  }
  const vpcs = new Set([
    ...[...state.instances.values()].map((instance) => instance.vpcId),
    ...[...state.securityGroups.values()].map((group) => group.vpcId),
  ]);
  const acls = [...state.networkAcls.values()];
  for (const vpcId of vpcs) {
    if (acls.some((acl) => acl.vpcId === vpcId && acl.isDefault)) continue;
    const networkAclId = defaultNetworkAclId(vpcId);
    state.networkAcls.set(networkAclId, {
      networkAclId,
      vpcId,
      isDefault: true,
      ownerId: state.accountId,
      associations: [],
      entries: defaultEntries(),
      tags: {},
    });
  }
  for (const instance of state.instances.values()) {
    const associated = [...state.networkAcls.values()].some((acl) =>
      acl.associations.some((association) => association.subnetId === instance.subnetId),
    );
    const fallback = [...state.networkAcls.values()].find(
      (acl) => acl.vpcId === instance.vpcId && acl.isDefault,
    );
    if (!associated && fallback) {
      fallback.associations.push({ associationId: associationId(), subnetId: instance.subnetId });
    }
  }
};

const sameSlot = (left: FakeNetworkAclEntry, right: FakeNetworkAclEntry): boolean =>
  left.ruleNumber === right.ruleNumber && left.egress === right.egress;

// ---------------------------------------------------------------------------------------------
// Parameters and filters (EC2 Query: `Filter.N.Name`, `Filter.N.Value.M`)
// ---------------------------------------------------------------------------------------------

type Ec2Operation = (params: QueryParams, context: OperationContext) => XmlObject;

const missing = (name: string): AwsFault =>
  new AwsFault('MissingParameter', `The request must contain the parameter ${name}`);

const required = (params: QueryParams, name: string): string => {
  const value = stringParam(params, name);
  if (value === undefined || value === '') throw missing(name);
  return value;
};

const aclNotFound = (ids: string[]): AwsFault =>
  new AwsFault(
    'InvalidNetworkAclID.NotFound',
    ids.length === 1
      ? `The networkAcl ID '${ids[0]}' does not exist`
      : `The networkAcl IDs '${ids.join(', ')}' do not exist`,
  );

// EC2 filter values accept `*` and `?` wildcards (as services/ec2.ts models them).
const globMatches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

const filterValues = (acl: FakeNetworkAcl, name: string): string[] | undefined => {
  if (name.startsWith('tag:')) {
    const value = acl.tags[name.slice(4)];
    return value === undefined ? [] : [value];
  }
  const entries = acl.entries;
  const fields: Record<string, string[]> = {
    'network-acl-id': [acl.networkAclId],
    'vpc-id': [acl.vpcId],
    default: [String(acl.isDefault)],
    'owner-id': [acl.ownerId],
    'association.association-id': acl.associations.map((association) => association.associationId),
    'association.network-acl-id': acl.associations.length > 0 ? [acl.networkAclId] : [],
    'association.subnet-id': acl.associations.map((association) => association.subnetId),
    'entry.rule-number': entries.map((entry) => String(entry.ruleNumber)),
    'entry.rule-action': entries.map((entry) => entry.ruleAction),
    'entry.egress': entries.map((entry) => String(entry.egress)),
    'entry.protocol': entries.map((entry) => entry.protocol),
    'entry.cidr': entries.flatMap((entry) => (entry.cidrBlock === undefined ? [] : [entry.cidrBlock])),
    'entry.ipv6-cidr': entries.flatMap((entry) =>
      entry.ipv6CidrBlock === undefined ? [] : [entry.ipv6CidrBlock],
    ),
    'tag-key': Object.keys(acl.tags),
    'tag-value': Object.values(acl.tags),
  };
  return fields[name];
};

/** An unknown filter name is InvalidParameterValue, as EC2 answers it. */
const matchesFilters = (params: QueryParams, acl: FakeNetworkAcl): boolean =>
  objectListParam(params, 'Filter').every((filter) => {
    const name = stringParam(filter, 'Name') ?? '';
    const actual = filterValues(acl, name);
    if (actual === undefined) throw new AwsFault('InvalidParameterValue', `The filter '${name}' is invalid`);
    const patterns = stringListParam(filter, 'Value');
    return actual.some((value) => patterns.some((pattern) => globMatches(pattern, value)));
  });

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

const renderEntry = (entry: FakeNetworkAclEntry): XmlObject => ({
  ruleNumber: entry.ruleNumber,
  protocol: entry.protocol,
  ruleAction: entry.ruleAction,
  egress: entry.egress,
  cidrBlock: entry.cidrBlock,
  ipv6CidrBlock: entry.ipv6CidrBlock,
  icmpTypeCode: entry.icmpTypeCode,
  portRange: entry.portRange,
});

/** Entries as EC2 lists them: egress first, then ingress, each by rule number. */
const orderedEntries = (entries: FakeNetworkAclEntry[]): FakeNetworkAclEntry[] =>
  [...entries].sort((left, right) =>
    left.egress === right.egress ? left.ruleNumber - right.ruleNumber : left.egress ? -1 : 1,
  );

const renderAcl = (acl: FakeNetworkAcl): XmlObject => ({
  networkAclId: acl.networkAclId,
  vpcId: acl.vpcId,
  default: acl.isDefault,
  entrySet: orderedEntries(acl.entries).map(renderEntry) as XmlValue[],
  associationSet: acl.associations.map((association) => ({
    networkAclAssociationId: association.associationId,
    networkAclId: acl.networkAclId,
    subnetId: association.subnetId,
  })),
  tagSet: Object.entries(acl.tags).map(([key, value]) => ({ key, value })),
  ownerId: acl.ownerId,
});

/** NetworkAclIds and filters (see `filterValues`); ids and filters combine. */
const describeNetworkAcls: Ec2Operation = (params, { state }) => {
  const ids = stringListParam(params, 'NetworkAclId');
  const unknown = ids.filter((id) => !state.networkAcls.has(id));
  if (unknown.length > 0) throw aclNotFound(unknown);
  const acls = [...state.networkAcls.values()].filter(
    (acl) => (ids.length === 0 || ids.includes(acl.networkAclId)) && matchesFilters(params, acl),
  );
  return { networkAclSet: acls.map(renderAcl) };
};

const PROTOCOL_NUMBERS: Record<string, string> = { all: '-1', tcp: '6', udp: '17', icmp: '1', icmpv6: '58' };

const aclOrThrow = (state: FakeAccountState, params: QueryParams): FakeNetworkAcl => {
  const networkAclId = required(params, 'NetworkAclId');
  const acl = state.networkAcls.get(networkAclId);
  if (!acl) throw aclNotFound([networkAclId]);
  return acl;
};

const ruleNumberOrThrow = (params: QueryParams): number => {
  const text = required(params, 'RuleNumber');
  const ruleNumber = Number(text);
  if (!Number.isInteger(ruleNumber) || ruleNumber < 1 || ruleNumber > 32766) {
    throw new AwsFault(
      'InvalidParameterValue',
      `Value (${text}) for parameter ruleNumber is invalid. Rule number must be between 1 and 32766.`,
    );
  }
  return ruleNumber;
};

const integerParam = (params: QueryParams | undefined, name: string): number | undefined => {
  const text = params && stringParam(params, name);
  return text === undefined ? undefined : Number(text);
};

const createNetworkAclEntry: Ec2Operation = (params, { state }) => {
  const acl = aclOrThrow(state, params);
  const ruleNumber = ruleNumberOrThrow(params);
  const egress = stringParam(params, 'Egress') === 'true';
  const given = required(params, 'Protocol').toLowerCase();
  const protocol = PROTOCOL_NUMBERS[given] ?? given;
  if (!/^(?:-1|\d{1,3})$/.test(protocol)) {
    throw new AwsFault('InvalidParameterValue', `Invalid value '${given}' for protocol.`);
  }
  const ruleAction = required(params, 'RuleAction');
  if (ruleAction !== 'allow' && ruleAction !== 'deny') {
    throw new AwsFault(
      'InvalidParameterValue',
      `Value (${ruleAction}) for parameter ruleAction is invalid. Must be one of: allow, deny`,
    );
  }
  const cidrBlock = stringParam(params, 'CidrBlock');
  const ipv6CidrBlock = stringParam(params, 'Ipv6CidrBlock');
  if ((cidrBlock === undefined) === (ipv6CidrBlock === undefined)) {
    throw new AwsFault(
      'InvalidParameterCombination',
      'Either a CIDR block or an IPv6 CIDR block must be specified, but not both.',
    );
  }
  const ports = objectParam(params, 'PortRange');
  const icmp = objectParam(params, 'Icmp');
  if ((protocol === '6' || protocol === '17') && ports === undefined) throw missing('portRange');
  if ((protocol === '1' || protocol === '58') && icmp === undefined) throw missing('icmpTypeCode');
  if (acl.entries.some((entry) => entry.ruleNumber === ruleNumber && entry.egress === egress)) {
    throw new AwsFault(
      'NetworkAclEntryAlreadyExists',
      `The network acl entry identified by ${ruleNumber} already exists.`,
    );
  }
  const from = integerParam(ports, 'From');
  const to = integerParam(ports, 'To');
  const code = integerParam(icmp, 'Code');
  const type = integerParam(icmp, 'Type');
  acl.entries.push({
    ruleNumber,
    egress,
    protocol,
    ruleAction,
    ...(cidrBlock === undefined ? {} : { cidrBlock }),
    ...(ipv6CidrBlock === undefined ? {} : { ipv6CidrBlock }),
    ...((protocol === '6' || protocol === '17') && from !== undefined && to !== undefined
      ? { portRange: { from, to } }
      : {}),
    ...((protocol === '1' || protocol === '58') && code !== undefined && type !== undefined
      ? { icmpTypeCode: { code, type } }
      : {}),
  });
  return { return: true };
};

const deleteNetworkAclEntry: Ec2Operation = (params, { state }) => {
  const acl = aclOrThrow(state, params);
  const ruleNumber = ruleNumberOrThrow(params);
  const egress = required(params, 'Egress') === 'true';
  const index = acl.entries.findIndex((entry) => entry.ruleNumber === ruleNumber && entry.egress === egress);
  if (index === -1) {
    throw new AwsFault(
      'InvalidNetworkAclEntry.NotFound',
      `The network acl entry identified by ${ruleNumber} does not exist.`,
    );
  }
  acl.entries.splice(index, 1);
  return { return: true };
};

export const networkAclOperations: Record<string, Ec2Operation> = {
  DescribeNetworkAcls: describeNetworkAcls,
  CreateNetworkAclEntry: createNetworkAclEntry,
  DeleteNetworkAclEntry: deleteNetworkAclEntry,
};

// ---------------------------------------------------------------------------------------------
// Snapshot
// ---------------------------------------------------------------------------------------------

export interface NetworkAclSnapshot {
  vpcId: string;
  isDefault: boolean;
  /** Associated subnets, sorted (association ids are generated, so left out). */
  subnetIds: string[];
  /** Egress first, then ingress, each by rule number; members in a fixed order. */
  entries: FakeNetworkAclEntry[];
  tags: Record<string, string>;
}

const byKey = <T>(entries: Array<[string, T]>): Record<string, T> =>
  Object.fromEntries(entries.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));

export const networkAclSnapshot = (acls: Map<string, FakeNetworkAcl>): Record<string, NetworkAclSnapshot> =>
  byKey(
    [...acls.values()].map((acl) => [
      acl.networkAclId,
      {
        vpcId: acl.vpcId,
        isDefault: acl.isDefault,
        subnetIds: acl.associations.map((association) => association.subnetId).sort(),
        entries: orderedEntries(acl.entries).map(
          (entry) => byKey(Object.entries(entry)) as unknown as FakeNetworkAclEntry,
        ),
        tags: byKey(Object.entries(acl.tags)),
      },
    ]),
  );
