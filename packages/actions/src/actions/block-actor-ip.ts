import { BlockList, isIP } from 'node:net';
import type { NetworkAcl } from '@aws-sdk/client-ec2';
import {
  type ActionContext,
  type ActionPlan,
  type ActionTarget,
  defineAction,
  defineInverse,
  type Finding,
  type InverseContext,
  identifierProblem,
  type JsonSchema,
  type PermissionGrant,
  regionPartition,
} from '@riposte/core';
import { type CallContext, type Mutation, mutation, read } from '../call.js';
import type { AwsScope, AwsServices } from '../clients.js';
import { readTargetInstance } from '../instance-read.js';
import { readMemoOf } from '../read-memo.js';
import { placeholder, planAction, type Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, refused } from '../step.js';
import { instanceTargets, invalidEc2Id, resolved, shown, targetOf } from '../targets.js';

export type BlockActorIpParams = {
  /** `waf`: add the addresses to the operator's WAF IP set. `nacl`: deny them in the instance's subnet's network ACL. */
  via: 'waf' | 'nacl';
  /** The WAF IP set (`via: waf`): its name and id, as WAF gives them. */
  ipSetName?: string;
  ipSetId?: string;
  /** `REGIONAL` (default: an IP set of the finding's region) or `CLOUDFRONT` (us-east-1). */
  scope?: 'REGIONAL' | 'CLOUDFRONT';
  /** Rule numbers Riposte may use in a network ACL (`via: nacl`), default 50-89. */
  ruleNumberRange?: { from: number; to: number };
  /** At most this many addresses per step (default 5); the others are refused and reported. */
  maxAddresses?: number;
};

type Context = ActionContext<BlockActorIpParams, AwsServices>;

const DEFAULT_RANGE = { from: 50, to: 89 };
const DEFAULT_MAX_ADDRESSES = 5;
/** A WAF IP set holds at most 10,000 addresses (AWS WAF quotas). */
const IP_SET_MAX_ADDRESSES = 10000;

// ---------------------------------------------------------------------------------------------
// Which addresses may be blocked
// ---------------------------------------------------------------------------------------------

/**
 * Addresses that are never blocked: not public unicast (RFC 1918 private, loopback, link-local,
 * CGNAT 100.64.0.0/10 (RFC 6598), "this network", multicast and reserved; IPv6 unspecified, loopback,
 * link-local, unique local fc00::/7, multicast).
 */
const NOT_PUBLIC = (() => {
  const list = new BlockList();
  for (const [network, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const) {
    list.addSubnet(network, prefix, 'ipv4');
  }
  for (const [network, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['fe80::', 10],
    ['fc00::', 7],
    ['ff00::', 8],
  ] as const) {
    list.addSubnet(network, prefix, 'ipv6');
  }
  return list;
})();

/**
 * Amazon's autonomous systems, as their registrations name them (ARIN / RIPE / APNIC WHOIS):
 * AS16509 AMAZON-02, AS14618 AMAZON-AES, AS8987 AMAZON EXPANSION, AS7224 AMAZON-AS, AS38895
 * AMAZON-AS-AP, AS39111 AMAZON-DUB, AS10124 AMAZON-AP-RESOURCES, AS62785 AMAZON-IPV6. The function
 * has no internet access to read ip-ranges.json, so an address is AWS-owned when GuardDuty's own
 * `remoteIpDetails.organization` says so: its ASN is one of these, or its `asnOrg` starts with "Amazon".
 */
export const AMAZON_ASNS: readonly string[] = [
  '16509',
  '14618',
  '8987',
  '7224',
  '38895',
  '39111',
  '10124',
  '62785',
];

const isAmazon = (finding: Finding): string | undefined => {
  const asn = finding.actor?.asn?.trim();
  const org = finding.actor?.asnOrg?.trim() ?? '';
  if (asn !== undefined && AMAZON_ASNS.includes(asn)) return `AS${asn}${org ? ` ${org}` : ''}`;
  return /^amazon/i.test(org) ? `AS${asn ?? '?'} ${org}` : undefined;
};

/** An address to block: its CIDR as WAF and EC2 take it (`/32`, `/128`) and its family. */
export interface Address {
  address: string;
  cidr: string;
  family: 'ipv4' | 'ipv6';
}

/** An address of the finding that is not blocked, and why. */
export interface Refused {
  address: string;
  reason: string;
}

/** Every remote address the finding names, once: `actor.remoteIp`, then `actor.remoteIps`. */
const remoteAddresses = (finding: Finding): string[] => {
  const actor = finding.actor;
  const all = [actor?.remoteIp, ...(actor?.remoteIps ?? [])].filter(
    (value): value is string => typeof value === 'string' && value.trim() !== '',
  );
  return [...new Set(all.map((value) => value.trim()))];
};

/** `::ffff:1.2.3.4` is 1.2.3.4. */
const unmapped = (address: string): string => {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
};

/**
 * The finding's addresses, screened: never a non-public or AWS-owned address, and at most
 * `maxAddresses` of them (the rest refused, in the order the finding names them).
 */
export const screenAddresses = (
  finding: Finding,
  maxAddresses: number,
): { addresses: Address[]; refused: Refused[] } => {
  const addresses: Address[] = [];
  const refusedList: Refused[] = [];
  const amazon = isAmazon(finding);
  const seen = new Set<string>();
  for (const raw of remoteAddresses(finding)) {
    const address = unmapped(raw).toLowerCase();
    // One address in two spellings (`::ffff:1.2.3.4` and `1.2.3.4`, upper and lower case) is one address.
    if (seen.has(address)) continue;
    seen.add(address);
    const version = isIP(address);
    if (version === 0) {
      refusedList.push({ address: raw, reason: `${shown(raw)} is not an IP address` });
      continue;
    }
    const family = version === 4 ? 'ipv4' : 'ipv6';
    if (NOT_PUBLIC.check(address, family)) {
      refusedList.push({
        address,
        reason: `${address} is not a public address (private, loopback, link-local, CGNAT or reserved)`,
      });
    } else if (amazon !== undefined) {
      refusedList.push({
        address,
        reason: `${address} is AWS-owned (GuardDuty names its organization ${amazon})`,
      });
    } else if (addresses.length >= maxAddresses) {
      refusedList.push({ address, reason: `${address} is beyond maxAddresses (${maxAddresses})` });
    } else {
      addresses.push({ address, cidr: `${address}/${family === 'ipv4' ? 32 : 128}`, family });
    }
  }
  return { addresses, refused: refusedList };
};

const cidrParts = (
  cidr: string,
): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined => {
  const [network = '', prefixText = ''] = cidr.split('/');
  const version = isIP(network);
  const prefix = Number(prefixText);
  if (version === 0 || !Number.isInteger(prefix)) return undefined;
  return { network, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
};

/** Whether any of the CIDRs already covers the address. */
const coveredBy = (cidrs: readonly string[], address: Address): boolean => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parts = cidrParts(cidr);
    if (parts !== undefined && parts.family === address.family) {
      list.addSubnet(parts.network, parts.prefix, parts.family);
    }
  }
  return list.check(address.address, address.family);
};

const sameCidr = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();

// ---------------------------------------------------------------------------------------------
// WAF
// ---------------------------------------------------------------------------------------------

type WafScope = 'REGIONAL' | 'CLOUDFRONT';

interface IpSetRef {
  scope: WafScope;
  ipSetName: string;
  ipSetId: string;
}

/** CloudFront IP sets are managed in us-east-1 (AWS WAF Developer Guide); this covers the aws partition only. */
const wafScope = (target: AwsScope, scope: WafScope): AwsScope =>
  scope === 'CLOUDFRONT' ? { accountId: target.accountId, region: 'us-east-1' } : target;

const IP_SET_NAME = /^[\w-]{1,128}$/;
const IP_SET_ID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/;

const invalidIpSet = (ref: Partial<IpSetRef>, partition: string): string | undefined => {
  if (ref.ipSetName === undefined || !IP_SET_NAME.test(ref.ipSetName)) {
    return `${shown(ref.ipSetName)} is not a WAF IP set name`;
  }
  if (ref.ipSetId === undefined || !IP_SET_ID.test(ref.ipSetId))
    return `${shown(ref.ipSetId)} is not a WAF IP set id`;
  if (ref.scope === 'CLOUDFRONT' && partition !== 'aws') {
    return `CLOUDFRONT IP sets are in the aws partition, not ${partition}`;
  }
  return undefined;
};

interface IpSetNow {
  addresses: string[];
  version: string | undefined;
  lockToken: string;
  description: string | undefined;
}

const readIpSet = async (
  ctx: CallContext,
  session: Session,
  ref: IpSetRef,
): Promise<IpSetNow | 'absent' | 'unknown'> => {
  const input = { Name: ref.ipSetName, Scope: ref.scope, Id: ref.ipSetId };
  const answer = await session.read(
    read(ctx, 'wafv2', 'GetIPSet', input, { scope: wafScope(ctx.target, ref.scope) }),
    {
      key: `${ref.ipSetName} (${ref.scope})`,
      found: (output) =>
        `IP set ${ref.ipSetName} (${output.IPSet?.IPAddressVersion ?? '?'}) holds ${output.IPSet?.Addresses?.length ?? 0} address(es)`,
      absent: {
        codes: ['WAFNonexistentItemException'],
        summary: `WAF IP set ${ref.ipSetName} does not exist`,
      },
    },
  );
  if (answer.status !== 'found') return answer.status;
  return {
    addresses: answer.output.IPSet?.Addresses ?? [],
    version: answer.output.IPSet?.IPAddressVersion,
    lockToken: answer.output.LockToken ?? '',
    description: answer.output.IPSet?.Description,
  };
};

const updateIpSet = (ctx: CallContext, ref: IpSetRef, now: IpSetNow, addresses: string[]): Mutation =>
  mutation(
    ctx,
    'wafv2',
    'UpdateIPSet',
    {
      Name: ref.ipSetName,
      Scope: ref.scope,
      Id: ref.ipSetId,
      Addresses: addresses,
      LockToken: now.lockToken,
      ...(now.description === undefined ? {} : { Description: now.description }),
    },
    { scope: wafScope(ctx.target, ref.scope) },
  );

// ---------------------------------------------------------------------------------------------
// Network ACL
// ---------------------------------------------------------------------------------------------

const ACL_NOT_FOUND = ['InvalidNetworkAclID.NotFound'];

const isDenyOf = (
  entry: NonNullable<NetworkAcl['Entries']>[number],
  cidr: string,
  egress: boolean,
): boolean =>
  entry.Egress === egress &&
  entry.RuleAction === 'deny' &&
  entry.Protocol === '-1' &&
  (sameCidr(entry.CidrBlock, cidr) || sameCidr(entry.Ipv6CidrBlock, cidr));

/** One entry Riposte adds: a deny of all traffic from (ingress) or to (egress) one address. */
interface AclEntry {
  ruleNumber: number;
  egress: boolean;
  cidr: string;
}

const entryInput = (networkAclId: string, entry: AclEntry) => ({
  NetworkAclId: networkAclId,
  RuleNumber: entry.ruleNumber,
  Protocol: '-1',
  RuleAction: 'deny' as const,
  Egress: entry.egress,
  ...(entry.cidr.includes(':') ? { Ipv6CidrBlock: entry.cidr } : { CidrBlock: entry.cidr }),
});

// ---------------------------------------------------------------------------------------------
// Inspection
// ---------------------------------------------------------------------------------------------

type Block =
  | { via: 'waf'; ref: IpSetRef; now: IpSetNow; added: string[]; refused: Refused[] }
  | { via: 'nacl'; networkAclId: string; entries: AclEntry[]; refused: Refused[] };

const refusedText = (list: readonly Refused[]): string => list.map((item) => item.reason).join('; ');

const nothingLeft = (screened: Refused[], already: string[]): Inspection<Block> => {
  if (already.length > 0) {
    const more = screened.length > 0 ? `; not blocked: ${refusedText(screened)}` : '';
    return noOp(`already blocked: ${already.join(', ')}${more}`);
  }
  return refused(`refused: no address of the finding may be blocked: ${refusedText(screened)}; not changed`);
};

const inspectWaf = async (
  ctx: Context,
  session: Session,
  addresses: Address[],
  screened: Refused[],
): Promise<Inspection<Block>> => {
  const ref: IpSetRef = {
    scope: ctx.params.scope ?? 'REGIONAL',
    ipSetName: ctx.params.ipSetName ?? '',
    ipSetId: ctx.params.ipSetId ?? '',
  };
  const invalid = invalidIpSet(ref, ctx.finding.partition);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const now = await readIpSet(ctx, session, ref);
  if (now === 'absent') {
    return refused(
      `refused: WAF IP set ${ref.ipSetName} (${ref.scope}, ${ref.ipSetId}) does not exist; not changed`,
    );
  }
  if (now === 'unknown') {
    const unknown: IpSetNow = {
      addresses: [],
      version: undefined,
      lockToken: placeholder('LockToken', 'GetIPSet'),
      description: undefined,
    };
    return planned({ via: 'waf', ref, now: unknown, added: addresses.map((a) => a.cidr), refused: screened });
  }
  const family = now.version === 'IPV6' ? 'ipv6' : 'ipv4';
  const wrongVersion = addresses
    .filter((item) => item.family !== family)
    .map((item) => ({
      address: item.address,
      reason: `${item.address} is not an ${now.version ?? 'IPV4'} address like those of IP set ${ref.ipSetName}`,
    }));
  const fitting = addresses.filter((item) => item.family === family);
  const already = fitting.filter((item) => coveredBy(now.addresses, item)).map((item) => item.address);
  const added = fitting.filter((item) => !coveredBy(now.addresses, item)).map((item) => item.cidr);
  const notBlocked = [...screened, ...wrongVersion];
  if (added.length === 0) return nothingLeft(notBlocked, already);
  if (now.addresses.length + added.length > IP_SET_MAX_ADDRESSES) {
    return refused(
      `refused: IP set ${ref.ipSetName} would hold more than ${IP_SET_MAX_ADDRESSES} addresses; not changed`,
    );
  }
  return planned({ via: 'waf', ref, now, added, refused: notBlocked });
};

const inspectNacl = async (
  ctx: Context,
  session: Session,
  addresses: Address[],
  screened: Refused[],
): Promise<Inspection<Block>> => {
  const invalid = invalidEc2Id('instance', ctx.target.id);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const range = ctx.params.ruleNumberRange ?? DEFAULT_RANGE;
  if (range.from > range.to)
    return refused(`refused: ruleNumberRange ${range.from}-${range.to} is empty; not changed`);
  const instance = await readTargetInstance(
    ctx,
    session,
    (item) => `instance ${item.InstanceId} in subnet ${item.SubnetId ?? '(none)'}`,
  );
  if (instance.status === 'absent') return noOp(`instance ${ctx.target.id} no longer exists`);
  let subnetId = placeholder('SubnetId', 'DescribeInstances');
  if (instance.status === 'found') {
    const found = instance.instance?.SubnetId;
    if (found === undefined)
      return noOp(`instance ${ctx.target.id} is in no subnet (not returned, or not in a VPC)`);
    const problem = identifierProblem('subnet-id', found);
    if (problem !== undefined) return refused(`refused: ${problem}; not changed`);
    subnetId = found;
  }
  const answer = await session.read(
    read(ctx, 'ec2', 'DescribeNetworkAcls', {
      Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }],
    }),
    {
      key: subnetId,
      found: (output) =>
        (output.NetworkAcls ?? [])
          .map((acl) => `${acl.NetworkAclId} (${acl.Entries?.length ?? 0} entries)`)
          .join('; ') || `no network ACL is associated with ${subnetId}`,
    },
  );
  if (answer.status !== 'found') {
    const networkAclId = placeholder('NetworkAclId', 'DescribeNetworkAcls');
    const entries = addresses.flatMap((item, index) =>
      [false, true].map((egress) => ({ ruleNumber: range.from + index, egress, cidr: item.cidr })),
    );
    return planned({ via: 'nacl', networkAclId, entries, refused: screened });
  }
  // Only the ACL that is associated with this very subnet counts, whatever else the filter let through.
  const acl = (answer.output.NetworkAcls ?? []).find((item) =>
    (item.Associations ?? []).some((association) => association.SubnetId === subnetId),
  );
  if (acl?.NetworkAclId === undefined) return noOp(`no network ACL is associated with subnet ${subnetId}`);
  const current = acl.Entries ?? [];
  const used = new Set(current.map((entry) => entry.RuleNumber));
  const free: number[] = [];
  for (let number = range.from; number <= range.to; number += 1) if (!used.has(number)) free.push(number);
  const entries: AclEntry[] = [];
  const already: string[] = [];
  const notBlocked = [...screened];
  for (const item of addresses) {
    const missing = [false, true].filter(
      (egress) => !current.some((entry) => isDenyOf(entry, item.cidr, egress)),
    );
    if (missing.length === 0) {
      already.push(item.address);
      continue;
    }
    const ruleNumber = free.shift();
    if (ruleNumber === undefined) {
      notBlocked.push({
        address: item.address,
        reason: `${item.address}: no free rule number in ${range.from}-${range.to} of ${acl.NetworkAclId}`,
      });
      continue;
    }
    for (const egress of missing) entries.push({ ruleNumber, egress, cidr: item.cidr });
  }
  if (entries.length === 0) return nothingLeft(notBlocked, already);
  return planned({ via: 'nacl', networkAclId: acl.NetworkAclId, entries, refused: notBlocked });
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<Block>> => {
  const max = ctx.params.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  const { addresses, refused: screened } = screenAddresses(ctx.finding, max);
  if (addresses.length === 0) {
    return screened.length === 0
      ? noOp('the finding names no remote IP address')
      : refused(`refused: no address of the finding may be blocked: ${refusedText(screened)}; not changed`);
  }
  return ctx.params.via === 'waf'
    ? inspectWaf(ctx, session, addresses, screened)
    : inspectNacl(ctx, session, addresses, screened);
};

const mutations = (ctx: Context, block: Block): Mutation[] =>
  block.via === 'waf'
    ? [updateIpSet(ctx, block.ref, block.now, [...block.now.addresses, ...block.added])]
    : block.entries.map((entry) =>
        mutation(ctx, 'ec2', 'CreateNetworkAclEntry', entryInput(block.networkAclId, entry)),
      );

/** What the inverse reads back: exactly what Riposte added, and where. */
export type BlockActorIpUndo =
  | { via: 'waf'; scope: WafScope; ipSetName: string; ipSetId: string; addresses: string[] }
  | { via: 'nacl'; networkAclId: string; entries: AclEntry[] };

const blocked = (block: Block): string[] =>
  block.via === 'waf' ? block.added : [...new Set(block.entries.map((entry) => entry.cidr))];

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, block: Block) => ({
    via: block.via,
    blocked: blocked(block),
    ...(block.via === 'nacl' ? { networkAclId: block.networkAclId } : { ipSetName: block.ref.ipSetName }),
    ...(block.refused.length > 0 ? { refused: block.refused } : {}),
  }),
  undo: (_ctx: Context, block: Block): BlockActorIpUndo =>
    block.via === 'waf'
      ? { via: 'waf', ...block.ref, addresses: block.added }
      : { via: 'nacl', networkAclId: block.networkAclId, entries: block.entries },
};

/** Plan as `planWith` does, with the addresses that will not be blocked as the plan's reason. */
const plan = (ctx: Context): Promise<ActionPlan> =>
  planAction(async (session) => {
    const inspection = await inspect(ctx, session);
    if (inspection.status !== 'planned')
      return { status: inspection.status, reason: inspection.reason, calls: [] };
    const { state } = inspection;
    return {
      status: 'planned',
      ...(state.refused.length > 0 ? { reason: `not blocked: ${refusedText(state.refused)}` } : {}),
      calls: mutations(ctx, state).map((item) => item.call),
    };
  }, readMemoOf(ctx));

// ---------------------------------------------------------------------------------------------
// Grants
// ---------------------------------------------------------------------------------------------

const REGIONAL_IP_SETS = 'arn:{partition}:wafv2:{region}:{account}:regional/ipset/*/*';
const CLOUDFRONT_IP_SETS = 'arn:{partition}:wafv2:us-east-1:{account}:global/ipset/*/*';

const NACL_GRANTS = (change: string): PermissionGrant[] => [
  { actions: ['ec2:DescribeInstances', 'ec2:DescribeNetworkAcls'], resources: ['*'] },
  { actions: [change], resources: ['arn:{partition}:ec2:{region}:{account}:network-acl/*'] },
];

/** The one IP set the params name (`{region}` for REGIONAL, us-east-1 for CLOUDFRONT). */
const ipSetArn = (params: BlockActorIpParams): string =>
  (params.scope ?? 'REGIONAL') === 'CLOUDFRONT'
    ? `arn:{partition}:wafv2:us-east-1:{account}:global/ipset/${params.ipSetName}/${params.ipSetId}`
    : `arn:{partition}:wafv2:{region}:{account}:regional/ipset/${params.ipSetName}/${params.ipSetId}`;

const grants = (params: BlockActorIpParams): PermissionGrant[] => {
  const waf = (resources: string[]): PermissionGrant[] => [
    { actions: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'], resources },
  ];
  if (params.via === 'nacl') return NACL_GRANTS('ec2:CreateNetworkAclEntry');
  if (params.via === 'waf' && params.ipSetName !== undefined && params.ipSetId !== undefined) {
    return waf([ipSetArn(params)]);
  }
  // No `via` (the schema requires one): what either may need.
  return [...waf([REGIONAL_IP_SETS, CLOUDFRONT_IP_SETS]), ...NACL_GRANTS('ec2:CreateNetworkAclEntry')];
};

// ---------------------------------------------------------------------------------------------
// Undo: exactly the addresses and entries Riposte added, while they are still there
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<BlockActorIpUndo, AwsServices>;

const CIDR_PATTERN = '^(?:[0-9.]{7,15}/32|[0-9a-f:.]{2,45}/128)$';

const UNDO_PROPERTIES = {
  scope: { type: 'string', enum: ['REGIONAL', 'CLOUDFRONT'] },
  ipSetName: { type: 'string', pattern: '^[\\w-]{1,128}$' },
  ipSetId: { type: 'string', pattern: IP_SET_ID.source },
  addresses: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', pattern: CIDR_PATTERN } },
  networkAclId: { type: 'string', pattern: '^acl-(?:[0-9a-f]{8}|[0-9a-f]{17})$' },
  entries: {
    type: 'array',
    minItems: 1,
    maxItems: 100,
    items: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ruleNumber: { type: 'integer', minimum: 1, maximum: 32766 },
        egress: { type: 'boolean' },
        cidr: { type: 'string', pattern: CIDR_PATTERN },
      },
      required: ['ruleNumber', 'egress', 'cidr'],
    },
  },
};

const { scope, ipSetName, ipSetId, addresses, networkAclId, entries } = UNDO_PROPERTIES;

/** One closed shape per `via`; the top level names every property so that it is closed too. */
const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { via: { type: 'string', enum: ['waf', 'nacl'] }, ...UNDO_PROPERTIES },
  required: ['via'],
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      properties: { via: { type: 'string', const: 'waf' }, scope, ipSetName, ipSetId, addresses },
      required: ['via', 'scope', 'ipSetName', 'ipSetId', 'addresses'],
    },
    {
      type: 'object',
      additionalProperties: false,
      properties: { via: { type: 'string', const: 'nacl' }, networkAclId, entries },
      required: ['via', 'networkAclId', 'entries'],
    },
  ],
};

const validCidr = (cidr: string): boolean => {
  const parts = cidrParts(cidr);
  return parts !== undefined && parts.prefix === (parts.family === 'ipv4' ? 32 : 128);
};

const invalidUndo = ({ target, state }: UndoContext, partition: string): string | undefined => {
  const invalid =
    identifierProblem('account-id', target.accountId) ?? identifierProblem('region', target.region);
  if (invalid !== undefined) return invalid;
  if (state.via === 'waf') {
    if (target.kind !== 'finding') return `the recorded target is a ${shown(target.kind)}, not a finding`;
    const cidrs = state.addresses;
    return (
      invalidIpSet(state, partition) ??
      (cidrs.every(validCidr) ? undefined : 'a recorded address is not a /32 or /128')
    );
  }
  if (target.kind !== 'instance') return `the recorded target is a ${shown(target.kind)}, not an instance`;
  return (
    invalidEc2Id('instance', target.id) ??
    (/^acl-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(state.networkAclId)
      ? undefined
      : `${shown(state.networkAclId)} is not a network ACL id`) ??
    (state.entries.every((entry) => validCidr(entry.cidr))
      ? undefined
      : 'a recorded entry is not a /32 or /128')
  );
};

type Unblock =
  | { via: 'waf'; ref: IpSetRef; now: IpSetNow; keep: string[]; removed: string[] }
  | { via: 'nacl'; networkAclId: string; entries: AclEntry[] };

const inspectWafUndo = async (
  ctx: UndoContext,
  session: Session,
  state: Extract<BlockActorIpUndo, { via: 'waf' }>,
): Promise<Inspection<Unblock>> => {
  const ref: IpSetRef = { scope: state.scope, ipSetName: state.ipSetName, ipSetId: state.ipSetId };
  const now = await readIpSet(ctx, session, ref);
  if (now === 'absent') return noOp(`WAF IP set ${ref.ipSetName} no longer exists; nothing to remove`);
  if (now === 'unknown') {
    const unknown: IpSetNow = {
      addresses: [placeholder('Addresses', 'GetIPSet')],
      version: undefined,
      lockToken: placeholder('LockToken', 'GetIPSet'),
      description: undefined,
    };
    return planned({ via: 'waf', ref, now: unknown, keep: unknown.addresses, removed: state.addresses });
  }
  const ours = (address: string) => state.addresses.some((cidr) => sameCidr(address, cidr));
  const removed = now.addresses.filter(ours);
  if (removed.length === 0) {
    return noOp(
      `IP set ${ref.ipSetName} no longer holds ${state.addresses.join(', ')}: already as before the response`,
    );
  }
  return planned({ via: 'waf', ref, now, keep: now.addresses.filter((address) => !ours(address)), removed });
};

const inspectNaclUndo = async (
  ctx: UndoContext,
  session: Session,
  state: Extract<BlockActorIpUndo, { via: 'nacl' }>,
): Promise<Inspection<Unblock>> => {
  const { networkAclId } = state;
  const answer = await session.read(
    read(ctx, 'ec2', 'DescribeNetworkAcls', { NetworkAclIds: [networkAclId] }),
    {
      key: networkAclId,
      found: (output) => `${output.NetworkAcls?.[0]?.Entries?.length ?? 0} entries in ${networkAclId}`,
      absent: { codes: ACL_NOT_FOUND, summary: `network ACL ${networkAclId} does not exist` },
    },
  );
  if (answer.status === 'absent')
    return noOp(`network ACL ${networkAclId} no longer exists; nothing to remove`);
  if (answer.status === 'unknown') return planned({ via: 'nacl', networkAclId, entries: state.entries });
  const acl = (answer.output.NetworkAcls ?? []).find((item) => item.NetworkAclId === networkAclId);
  const current = acl?.Entries ?? [];
  const pending: AclEntry[] = [];
  const changed: string[] = [];
  for (const entry of state.entries) {
    const now = current.find((item) => item.RuleNumber === entry.ruleNumber && item.Egress === entry.egress);
    if (now === undefined) continue;
    if (isDenyOf(now, entry.cidr, entry.egress)) pending.push(entry);
    else changed.push(`${entry.egress ? 'egress' : 'ingress'} rule ${entry.ruleNumber}`);
  }
  if (changed.length > 0) {
    return refused(
      `the entries of ${networkAclId} changed since the response: ${changed.join(', ')} no longer deny what Riposte added; not restored`,
    );
  }
  if (pending.length === 0)
    return noOp(`the entries Riposte added to ${networkAclId} are gone: already as before the response`);
  return planned({ via: 'nacl', networkAclId, entries: pending });
};

const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<Unblock>> => {
  const partition = regionPartition(ctx.target.region);
  const invalid =
    partition === undefined
      ? `region ${shown(ctx.target.region)} is in no known partition`
      : invalidUndo(ctx, partition);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  return ctx.state.via === 'waf'
    ? inspectWafUndo(ctx, session, ctx.state)
    : inspectNaclUndo(ctx, session, ctx.state);
};

const undoMutations = (ctx: UndoContext, unblock: Unblock): Mutation[] =>
  unblock.via === 'waf'
    ? [updateIpSet(ctx, unblock.ref, unblock.now, unblock.keep)]
    : unblock.entries.map((entry) =>
        mutation(ctx, 'ec2', 'DeleteNetworkAclEntry', {
          NetworkAclId: unblock.networkAclId,
          RuleNumber: entry.ruleNumber,
          Egress: entry.egress,
        }),
      );

const UNDO_PERMISSIONS = [
  'ec2:DeleteNetworkAclEntry',
  'ec2:DescribeNetworkAcls',
  'wafv2:GetIPSet',
  'wafv2:UpdateIPSet',
];

const undo = defineInverse<BlockActorIpUndo, AwsServices>({
  summary:
    'Remove exactly the addresses Riposte added to the WAF IP set (UpdateIPSet with the current lock token), or delete exactly the network ACL entries it created (DeleteNetworkAclEntry), while they are still there; an entry changed since refuses the undo.',
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: UNDO_PERMISSIONS,
  grants: () => [
    { actions: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'], resources: [REGIONAL_IP_SETS, CLOUDFRONT_IP_SETS] },
    { actions: ['ec2:DescribeNetworkAcls'], resources: ['*'] },
    {
      actions: ['ec2:DeleteNetworkAclEntry'],
      resources: ['arn:{partition}:ec2:{region}:{account}:network-acl/*'],
    },
  ],
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations }),
});

// ---------------------------------------------------------------------------------------------
// The action
// ---------------------------------------------------------------------------------------------

const targetsOf = (finding: Finding, params: BlockActorIpParams): ActionTarget[] => {
  if (remoteAddresses(finding).length === 0) return [];
  if (params.via === 'nacl') return instanceTargets(finding);
  const scope = params.scope ?? 'REGIONAL';
  return [
    targetOf(
      finding,
      'finding',
      finding.id,
      `WAF IP set ${params.ipSetName ?? '?'} (${scope}) for finding ${finding.id}`,
    ),
  ];
};

/**
 * Blocks the remote addresses the finding names (`actor.remoteIp` and `actor.remoteIps`): in the
 * operator's WAF IP set (`via: waf`, read with GetIPSet for its lock token, then UpdateIPSet with the
 * /32 or /128 addresses added), or in the network ACL of the affected instance's subnet (`via: nacl`:
 * the instance's subnet as EC2 reports it, the ACL associated with it, and for each address a deny of
 * all traffic inbound from it and outbound to it (network ACLs are stateless, so both directions), at a
 * rule number of `ruleNumberRange` free in both directions). Entries are evaluated in rule order, so
 * the range must sit below the ACL's allow rules (the default ACL allows at 100).
 *
 * Never blocked, refused with the reason: non-public addresses (RFC 1918, loopback, link-local, CGNAT,
 * ULA, multicast, reserved), AWS-owned addresses (GuardDuty's `remoteIpDetails.organization` names an
 * Amazon ASN), and addresses beyond `maxAddresses`.
 *
 * Undo: the addresses and entries Riposte added are removed while they are still there.
 */
export const blockActorIp = defineAction<BlockActorIpParams, AwsServices>({
  name: 'block-actor-ip',
  summary:
    "Block the finding's remote IP addresses in the operator's WAF IP set or in the network ACL of the affected instance's subnet (deny inbound and outbound); never private or AWS-owned addresses, at most maxAddresses.",
  phase: 'contain',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      via: {
        type: 'string',
        enum: ['waf', 'nacl'],
        description:
          "waf: add the addresses to the WAF IP set named by ipSetName and ipSetId. nacl: deny them in the network ACL of the instance's subnet.",
      },
      ipSetName: {
        type: 'string',
        pattern: '^[\\w-]{1,128}$',
        description: 'The WAF IP set name (via: waf).',
      },
      ipSetId: { type: 'string', pattern: IP_SET_ID.source, description: 'The WAF IP set id (via: waf).' },
      scope: {
        type: 'string',
        enum: ['REGIONAL', 'CLOUDFRONT'],
        default: 'REGIONAL',
        description: "REGIONAL: an IP set in the finding's region. CLOUDFRONT: a global IP set (us-east-1).",
      },
      ruleNumberRange: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'integer', minimum: 1, maximum: 32766 },
          to: { type: 'integer', minimum: 1, maximum: 32766 },
        },
        required: ['from', 'to'],
        description:
          'Network ACL rule numbers Riposte may use (via: nacl), default 50-89; keep them below your allow rules.',
      },
      maxAddresses: {
        type: 'integer',
        minimum: 1,
        maximum: 50,
        default: DEFAULT_MAX_ADDRESSES,
        description: 'At most this many addresses are blocked; the others are refused and reported.',
      },
    },
    required: ['via'],
    if: { type: 'object', properties: { via: { type: 'string', const: 'waf' } }, required: ['via'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable.
    then: {
      type: 'object',
      properties: { ipSetName: { type: 'string' }, ipSetId: { type: 'string' } },
      required: ['ipSetName', 'ipSetId'],
    },
  } as never,
  permissions: [
    'ec2:CreateNetworkAclEntry',
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkAcls',
    'wafv2:GetIPSet',
    'wafv2:UpdateIPSet',
  ],
  grants,
  paramExamples: [
    {
      via: 'waf',
      ipSetName: 'riposte-blocked',
      ipSetId: 'a1b2c3d4-5678-90ab-cdef-0123456789ab',
      scope: 'REGIONAL',
    },
    { via: 'nacl', ruleNumberRange: { from: 50, to: 89 } },
  ],
  resourceKinds: ['finding', 'instance'],
  example: [
    '- action: block-actor-ip',
    '  params:',
    '    via: waf',
    '    ipSetName: riposte-blocked',
    '    ipSetId: a1b2c3d4-5678-90ab-cdef-0123456789ab',
  ].join('\n'),
  idempotency:
    'Skipped when every address is already in the IP set (or covered by a range in it), or already denied both ways by an entry of the network ACL.',
  dryRun:
    "Lists the addresses refused (private, AWS-owned, beyond maxAddresses) as the reason; looks up the IP set (GetIPSet), or the instance and its subnet's network ACL; lists UpdateIPSet with the full address list, or CreateNetworkAclEntry for each address and direction with its rule number.",

  targets: (finding, params) =>
    resolved(
      targetsOf(finding, params),
      remoteAddresses(finding).length === 0
        ? 'the finding names no remote IP address'
        : 'the finding names no EC2 instance whose subnet could block the address',
    ),

  plan,
  execute: executeWith(step),
  undo,
});
