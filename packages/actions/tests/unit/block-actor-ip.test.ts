import {
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclEntryCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  EC2Client,
  EC2ServiceException,
  type NetworkAclEntry,
} from '@aws-sdk/client-ec2';
import {
  GetIPSetCommand,
  type IPAddressVersion,
  UpdateIPSetCommand,
  WAFNonexistentItemException,
  WAFOptimisticLockException,
  WAFV2Client,
} from '@aws-sdk/client-wafv2';
import {
  type ActionTarget,
  type EngineMode,
  type Finding,
  hasInverse,
  type InverseContext,
  type UndoState,
} from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type BlockActorIpParams, blockActorIp, screenAddresses } from '../../src/actions/block-actor-ip.js';
import { createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import { commandAndControl, forgedInstance, INSTANCE_ID } from '../helpers/findings.js';

const ec2 = mockClient(EC2Client);
const waf = mockClient(WAFV2Client);
const IP = '81.2.69.144';
const IP_SET_ID = 'a1b2c3d4-5678-90ab-cdef-0123456789ab';
const WAF: BlockActorIpParams = { via: 'waf', ipSetName: 'riposte-blocked', ipSetId: IP_SET_ID };
const NACL: BlockActorIpParams = { via: 'nacl' };
const ACL = 'acl-0123456789abcdef0';
const SUBNET = 'subnet-0123456789abcdef0';

const withActor = (actor: Partial<NonNullable<Finding['actor']>>): Finding => {
  const finding = commandAndControl();
  return { ...finding, actor: { ...finding.actor, ...actor } };
};

/** An IP set whose addresses and lock token change as UpdateIPSet says (a stale token is refused). */
const ipSet = (initial: string[], version: IPAddressVersion = 'IPV4') => {
  let addresses = [...initial];
  let token = 1;
  waf.on(GetIPSetCommand).callsFake(() => ({
    IPSet: {
      Name: 'riposte-blocked',
      Id: IP_SET_ID,
      ARN: 'arn',
      IPAddressVersion: version,
      Addresses: [...addresses],
      Description: 'blocked',
    },
    LockToken: `token-${token}`,
  }));
  waf.on(UpdateIPSetCommand).callsFake((input: { Addresses: string[]; LockToken: string }) => {
    if (input.LockToken !== `token-${token}`)
      throw new WAFOptimisticLockException({ message: 'stale', $metadata: {} });
    addresses = [...input.Addresses];
    token += 1;
    return { NextLockToken: `token-${token}` };
  });
  return { now: () => addresses };
};

/** The instance's subnet's network ACL, whose entries change as the calls say. */
const acl = (initial: NetworkAclEntry[]) => {
  let entries = [...initial];
  ec2
    .on(DescribeInstancesCommand)
    .resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, SubnetId: SUBNET }] }] });
  ec2.on(DescribeNetworkAclsCommand).callsFake(() => ({
    NetworkAcls: [
      { NetworkAclId: ACL, Associations: [{ SubnetId: SUBNET, NetworkAclId: ACL }], Entries: [...entries] },
    ],
  }));
  ec2.on(CreateNetworkAclEntryCommand).callsFake((input: NetworkAclEntry) => {
    entries.push({ ...input });
    return {};
  });
  ec2.on(DeleteNetworkAclEntryCommand).callsFake((input: { RuleNumber: number; Egress: boolean }) => {
    entries = entries.filter(
      (entry) => !(entry.RuleNumber === input.RuleNumber && entry.Egress === input.Egress),
    );
    return {};
  });
  return { now: () => entries };
};

const DEFAULT_ENTRIES: NetworkAclEntry[] = [
  { RuleNumber: 100, Egress: false, RuleAction: 'allow', Protocol: '-1', CidrBlock: '0.0.0.0/0' },
  { RuleNumber: 100, Egress: true, RuleAction: 'allow', Protocol: '-1', CidrBlock: '0.0.0.0/0' },
  { RuleNumber: 50, Egress: false, RuleAction: 'deny', Protocol: '6', CidrBlock: '192.0.2.1/32' },
];

beforeEach(() => {
  ec2.reset();
  waf.reset();
});
afterAll(() => {
  ec2.restore();
  waf.restore();
});

const run = async (
  params: BlockActorIpParams,
  finding = commandAndControl(),
  mode: EngineMode = 'enforce',
) => {
  const ctx = contextFor(blockActorIp, finding, { params, mode });
  const plan = await blockActorIp.plan(ctx);
  return { plan, outcome: await blockActorIp.execute(ctx, plan) };
};

describe('block-actor-ip: which addresses', () => {
  it('never blocks private, loopback, link-local, CGNAT or ULA addresses', () => {
    const finding = withActor({
      remoteIp: '10.1.2.3',
      remoteIps: [
        '10.1.2.3',
        '127.0.0.1',
        '169.254.169.254',
        '100.64.0.1',
        'fd00::1',
        '192.168.1.1',
        '172.20.0.1',
        IP,
      ],
    });

    const { addresses, refused } = screenAddresses(finding, 5);

    expect(addresses.map((item) => item.cidr)).toEqual([`${IP}/32`]);
    expect(refused).toHaveLength(7);
  });

  it('never blocks an address GuardDuty puts in an Amazon ASN', () => {
    const { addresses, refused } = screenAddresses(withActor({ asn: '16509', asnOrg: 'AMAZON-02' }), 5);

    expect(addresses).toEqual([]);
    expect(refused[0]?.reason).toContain('AWS-owned');
  });

  it('refuses addresses beyond maxAddresses and reports them', async () => {
    ipSet([]);
    const finding = withActor({ remoteIps: [IP, '81.2.69.145', '2001:db8::1'] });

    const { plan } = await run({ ...WAF, maxAddresses: 1 }, finding);

    expect(plan.status).toBe('planned');
    expect(plan.reason).toContain('beyond maxAddresses (1)');
  });

  it('refuses the step when no address may be blocked', async () => {
    const { plan, outcome } = await run(WAF, withActor({ remoteIp: '10.0.0.1' }));

    expect(plan.status).toBe('refused');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(waf.calls()).toHaveLength(0);
  });
});

describe('block-actor-ip via waf', () => {
  it('plans UpdateIPSet with the address added, the lock token and the description kept', async () => {
    ipSet(['198.51.100.0/24']);

    const { plan } = await run(WAF, commandAndControl(), 'dry-run');

    expect(plan.calls).toEqual([
      {
        service: 'WAFV2',
        operation: 'UpdateIPSet',
        input: {
          Name: 'riposte-blocked',
          Scope: 'REGIONAL',
          Id: IP_SET_ID,
          Addresses: ['198.51.100.0/24', `${IP}/32`],
          LockToken: 'token-1',
          Description: 'blocked',
        },
        mutating: true,
      },
    ]);
  });

  it('skips when the address is already in the set', async () => {
    ipSet([`${IP}/32`]);

    const { plan, outcome } = await run(WAF);

    expect(plan.status).toBe('no-op');
    expect(outcome.status).toBe('skipped');
  });

  it('adds the address and records it', async () => {
    const set = ipSet([]);

    const { outcome } = await run(WAF);

    expect(outcome.status).toBe('applied');
    expect(set.now()).toEqual([`${IP}/32`]);
    expect(outcome.undo).toEqual({
      via: 'waf',
      scope: 'REGIONAL',
      ipSetName: 'riposte-blocked',
      ipSetId: IP_SET_ID,
      addresses: [`${IP}/32`],
    });
    expect(createRegistry().validateUndoState('block-actor-ip', outcome.undo)).toEqual([]);
  });

  it('maps a WAF error (stale lock token) to an execution error', async () => {
    ipSet([]);
    waf
      .on(UpdateIPSetCommand)
      .rejects(new WAFOptimisticLockException({ message: 'stale', $metadata: { httpStatusCode: 400 } }));

    const { outcome } = await run(WAF);

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'WAFOptimisticLockException' } });
  });

  it('makes no mutating call in dry-run', async () => {
    ipSet([]);

    const { outcome } = await run(WAF, commandAndControl(), 'dry-run');

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });
});

describe('block-actor-ip via nacl', () => {
  it('plans an inbound and an outbound deny at the first free rule number', async () => {
    acl(DEFAULT_ENTRIES);

    const { plan } = await run(NACL, commandAndControl(), 'dry-run');

    expect(plan.calls.map((call) => call.input)).toEqual([
      {
        NetworkAclId: ACL,
        RuleNumber: 51,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: `${IP}/32`,
      },
      {
        NetworkAclId: ACL,
        RuleNumber: 51,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress: true,
        CidrBlock: `${IP}/32`,
      },
    ]);
  });

  it('creates the entries, then skips the second time', async () => {
    const list = acl(DEFAULT_ENTRIES);

    const first = await run(NACL);
    const second = await run(NACL);

    expect(first.outcome.status).toBe('applied');
    expect(list.now()).toHaveLength(5);
    expect(second.outcome.status).toBe('skipped');
  });

  it('reports an address when the range has no free rule number', async () => {
    acl(DEFAULT_ENTRIES);

    const { plan } = await run({ via: 'nacl', ruleNumberRange: { from: 50, to: 50 } });

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('no free rule number in 50-50');
  });

  it('maps an EC2 error to an execution error', async () => {
    acl(DEFAULT_ENTRIES);
    ec2.on(CreateNetworkAclEntryCommand).rejects(
      new EC2ServiceException({
        name: 'NetworkAclEntryLimitExceeded',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'limit',
      }),
    );

    const { outcome } = await run(NACL);

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'NetworkAclEntryLimitExceeded' } });
  });
});

const inverse = (() => {
  const { undo } = blockActorIp;
  if (!hasInverse(undo)) throw new Error('no inverse');
  return undo;
})();

const undo = async (
  params: BlockActorIpParams,
  state: unknown,
  target: ActionTarget = blockActorIp.targets(commandAndControl(), params).targets[0]!,
) => {
  const ctx: InverseContext<UndoState, ReturnType<typeof createAwsServices>> = {
    findingId: commandAndControl().id,
    target,
    state: state as UndoState,
    services: createAwsServices({ env: {} }),
    mode: 'enforce',
    now: NOW,
  };
  const plan = await inverse.plan(ctx);
  return { plan, outcome: await inverse.execute(ctx, plan) };
};

describe('block-actor-ip undo', () => {
  it('removes exactly the address Riposte added to the IP set', async () => {
    const set = ipSet(['198.51.100.0/24']);
    const { outcome } = await run(WAF);

    const second = await undo(WAF, outcome.undo);

    expect(second.outcome.status).toBe('applied');
    expect(set.now()).toEqual(['198.51.100.0/24']);
  });

  it('skips when the address was removed since', async () => {
    ipSet([]);

    const { plan, outcome } = await undo(WAF, {
      via: 'waf',
      scope: 'REGIONAL',
      ipSetName: 'riposte-blocked',
      ipSetId: IP_SET_ID,
      addresses: [`${IP}/32`],
    });

    expect(plan.status).toBe('no-op');
    expect(outcome.status).toBe('skipped');
  });

  it('deletes exactly the network ACL entries Riposte created', async () => {
    const list = acl(DEFAULT_ENTRIES);
    const { outcome } = await run(NACL);

    const second = await undo(NACL, outcome.undo);

    expect(second.outcome.status).toBe('applied');
    expect(list.now()).toEqual(DEFAULT_ENTRIES);
  });

  it('refuses when an entry at its rule number changed since', async () => {
    acl([
      ...DEFAULT_ENTRIES,
      { RuleNumber: 51, Egress: false, RuleAction: 'allow', Protocol: '-1', CidrBlock: '0.0.0.0/0' },
    ]);

    const { plan, outcome } = await undo(NACL, {
      via: 'nacl',
      networkAclId: ACL,
      entries: [{ ruleNumber: 51, egress: false, cidr: `${IP}/32` }],
    });

    expect(plan.status).toBe('refused');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(ec2.commandCalls(DeleteNetworkAclEntryCommand)).toHaveLength(0);
  });

  it.each([
    [{ via: 'waf', scope: 'REGIONAL', ipSetName: 'x', ipSetId: 'not-an-id', addresses: [`${IP}/32`] }],
    [{ via: 'nacl', networkAclId: ACL, entries: [{ ruleNumber: 51, egress: false, cidr: '0.0.0.0/0' }] }],
    [{ via: 'nacl', networkAclId: ACL, entries: [] }],
    [{ via: 'waf', networkAclId: ACL }],
  ])('refuses an invalid recorded state: %j', (state) => {
    expect(createRegistry([blockActorIp]).validateUndoState('block-actor-ip', state).length).toBeGreaterThan(
      0,
    );
  });
});

const WAF_STATE = {
  via: 'waf',
  scope: 'REGIONAL',
  ipSetName: 'riposte-blocked',
  ipSetId: IP_SET_ID,
  addresses: [`${IP}/32`],
} as const;

const FINDING_TARGET = blockActorIp.targets(commandAndControl(), WAF).targets[0]!;
const INSTANCE_TARGET = blockActorIp.targets(commandAndControl(), NACL).targets[0]!;

/** The region the mocked client of a call was built for. */
const regionOf = (call: { thisValue: unknown }): Promise<string> =>
  (call.thisValue as WAFV2Client).config.region();

const awsError = (name: string) =>
  new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message: name });

describe('block-actor-ip: screening each kind of address', () => {
  it.each([
    ['loopback', '127.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['unspecified', '::'],
    ['"this network"', '0.1.2.3'],
    ['link-local', '169.254.169.254'],
    ['IPv6 link-local', 'fe80::1'],
    ['CGNAT', '100.127.255.254'],
    ['unique local (ULA)', 'fc00::1'],
    ['multicast', '224.0.0.251'],
    ['IPv6 multicast', 'ff02::1'],
    ['reserved', '240.0.0.1'],
    ['broadcast', '255.255.255.255'],
    ['IPv4-mapped private', '::ffff:10.0.0.1'],
  ])('refuses a %s address as not public', (_kind, address) => {
    const { addresses, refused } = screenAddresses(withActor({ remoteIp: address }), 5);

    expect(addresses).toEqual([]);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toContain('is not a public address');
  });

  it('refuses a value that is not an IP address, naming it', () => {
    const { addresses, refused } = screenAddresses(withActor({ remoteIp: 'evil.example.com' }), 5);

    expect(addresses).toEqual([]);
    expect(refused).toEqual([
      { address: 'evil.example.com', reason: expect.stringContaining('is not an IP address') },
    ]);
  });

  it('blocks a public IPv6 address as a lower-case /128', () => {
    const { addresses, refused } = screenAddresses(withActor({ remoteIp: '2001:DB8::1' }), 5);

    expect(addresses).toEqual([{ address: '2001:db8::1', cidr: '2001:db8::1/128', family: 'ipv6' }]);
    expect(refused).toEqual([]);
  });

  it('blocks an IPv4-mapped IPv6 address as its IPv4 /32', () => {
    const { addresses } = screenAddresses(withActor({ remoteIp: `::ffff:${IP}` }), 5);

    expect(addresses).toEqual([{ address: IP, cidr: `${IP}/32`, family: 'ipv4' }]);
  });

  it('blocks an address the finding names twice in different spellings once', () => {
    const finding = withActor({ remoteIp: IP, remoteIps: [`::ffff:${IP}`, '2001:DB8::1', '2001:db8::1'] });

    const { addresses, refused } = screenAddresses(finding, 5);

    expect(addresses.map((item) => item.cidr)).toEqual([`${IP}/32`, '2001:db8::1/128']);
    expect(refused).toEqual([]);
  });

  it('refuses an address whose organization GuardDuty names Amazon, whatever its ASN', () => {
    const { addresses, refused } = screenAddresses(withActor({ asn: '-1', asnOrg: 'Amazon.com, Inc.' }), 5);

    expect(addresses).toEqual([]);
    expect(refused[0]?.reason).toBe(
      `${IP} is AWS-owned (GuardDuty names its organization AS-1 Amazon.com, Inc.)`,
    );
  });

  it('refuses an address in an Amazon ASN with no organization named', () => {
    const { refused } = screenAddresses(withActor({ asn: ' 14618 ', asnOrg: undefined }), 5);

    expect(refused[0]?.reason).toBe(`${IP} is AWS-owned (GuardDuty names its organization AS14618)`);
  });

  it('refuses an Amazon organization with no ASN, naming the ASN unknown', () => {
    const { refused } = screenAddresses(withActor({ asn: undefined, asnOrg: 'AMAZON-02' }), 5);

    expect(refused[0]?.reason).toContain('organization AS? AMAZON-02');
  });

  it('keeps the first maxAddresses public addresses in the order the finding names them', () => {
    const finding = withActor({ remoteIp: IP, remoteIps: ['10.0.0.1', '81.2.69.145', '81.2.69.146'] });

    const { addresses, refused } = screenAddresses(finding, 2);

    expect(addresses.map((item) => item.address)).toEqual([IP, '81.2.69.145']);
    expect(refused.map((item) => item.reason)).toEqual([
      expect.stringContaining('10.0.0.1 is not a public address'),
      '81.2.69.146 is beyond maxAddresses (2)',
    ]);
  });
});

describe('block-actor-ip: targets and params', () => {
  it('has no target when the finding names no remote address', () => {
    const resolution = blockActorIp.targets(withActor({ remoteIp: undefined, remoteIps: [' '] }), WAF);

    expect(resolution).toEqual({ targets: [], reason: 'the finding names no remote IP address' });
  });

  it('has no nacl target when the finding names no instance', () => {
    const resolution = blockActorIp.targets({ ...commandAndControl(), resources: [] }, NACL);

    expect(resolution.targets).toEqual([]);
    expect(resolution.reason).toContain('names no EC2 instance');
  });

  it('skips, looking nothing up, when the finding it is given names no remote address', async () => {
    const finding = withActor({ remoteIp: undefined });
    const ctx = contextFor(blockActorIp, finding, { params: WAF, target: FINDING_TARGET });

    const plan = await blockActorIp.plan(ctx);

    expect(plan).toMatchObject({ status: 'no-op', reason: 'the finding names no remote IP address' });
    expect(sentCommands(waf, ec2)).toEqual([]);
  });

  it.each([
    [{ ...WAF, ipSetName: 'no spaces allowed' }, '"no spaces allowed" is not a WAF IP set name'],
    [{ ...WAF, ipSetName: undefined }, 'is not a WAF IP set name'],
    [{ ...WAF, ipSetId: 'A1B2C3D4-5678-90AB-CDEF-0123456789AB' }, 'is not a WAF IP set id'],
    [{ ...WAF, ipSetId: undefined }, 'is not a WAF IP set id'],
  ] as [BlockActorIpParams, string][])(
    'refuses malformed WAF params %j before any call',
    async (params, reason) => {
      const { plan, outcome } = await run(params);

      expect(plan.status).toBe('refused');
      expect(plan.reason).toContain(reason);
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
      expect(sentCommands(waf, ec2)).toEqual([]);
    },
  );

  it('refuses a CLOUDFRONT IP set outside the aws partition', async () => {
    const finding = { ...commandAndControl(), partition: 'aws-us-gov', region: 'us-gov-west-1' };

    const { plan } = await run({ ...WAF, scope: 'CLOUDFRONT' }, finding);

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('CLOUDFRONT IP sets are in the aws partition, not aws-us-gov');
    expect(sentCommands(waf)).toEqual([]);
  });

  it('grants only the named REGIONAL IP set', () => {
    expect(blockActorIp.grants(WAF)).toEqual([
      {
        actions: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'],
        resources: [`arn:{partition}:wafv2:{region}:{account}:regional/ipset/riposte-blocked/${IP_SET_ID}`],
      },
    ]);
  });

  it('grants only the named CLOUDFRONT IP set, in us-east-1', () => {
    expect(blockActorIp.grants({ ...WAF, scope: 'CLOUDFRONT' })[0]?.resources).toEqual([
      `arn:{partition}:wafv2:us-east-1:{account}:global/ipset/riposte-blocked/${IP_SET_ID}`,
    ]);
  });

  it('grants network ACL entry creation for nacl, and everything either may need without via', () => {
    const nacl = blockActorIp.grants(NACL).flatMap((grant) => grant.actions);
    const any = blockActorIp.grants({} as BlockActorIpParams).flatMap((grant) => grant.actions);

    expect(nacl).toEqual(['ec2:DescribeInstances', 'ec2:DescribeNetworkAcls', 'ec2:CreateNetworkAclEntry']);
    expect(any).toEqual(expect.arrayContaining(['wafv2:UpdateIPSet', 'ec2:CreateNetworkAclEntry']));
  });
});

describe('block-actor-ip via waf: more cases', () => {
  it('adds an IPv6 address as /128 to an IPV6 IP set and refuses the IPv4 one', async () => {
    const set = ipSet(['2001:db8::/64'], 'IPV6');
    const finding = withActor({ remoteIp: IP, remoteIps: ['2001:db9::1'] });

    const { plan, outcome } = await run(WAF, finding);

    expect(plan.reason).toBe(
      `not blocked: ${IP} is not an IPV6 address like those of IP set riposte-blocked`,
    );
    expect(outcome.status).toBe('applied');
    expect(set.now()).toEqual(['2001:db8::/64', '2001:db9::1/128']);
    expect(outcome.undo).toMatchObject({ addresses: ['2001:db9::1/128'] });
  });

  it('refuses when every address is of the other IP version than the set', async () => {
    ipSet([]);

    const { plan, outcome } = await run(WAF, withActor({ remoteIp: '2001:db9::1' }));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('2001:db9::1 is not an IPV4 address like those of IP set riposte-blocked');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });

  it('skips an address a range of the set covers, naming the refused ones', async () => {
    ipSet(['81.2.69.0/24']);

    const { plan, outcome } = await run(WAF, withActor({ remoteIps: ['10.0.0.1'] }));

    expect(plan.status).toBe('no-op');
    expect(plan.reason).toBe(
      `already blocked: ${IP}; not blocked: 10.0.0.1 is not a public address (private, loopback, link-local, CGNAT or reserved)`,
    );
    expect(outcome.status).toBe('skipped');
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });

  it('reads and updates a CLOUDFRONT IP set in us-east-1', async () => {
    const set = ipSet([]);

    const { outcome } = await run({ ...WAF, scope: 'CLOUDFRONT' });

    expect(outcome.status).toBe('applied');
    expect(set.now()).toEqual([`${IP}/32`]);
    const [get] = waf.commandCalls(GetIPSetCommand);
    const [update] = waf.commandCalls(UpdateIPSetCommand);
    expect(get?.args[0].input).toMatchObject({ Scope: 'CLOUDFRONT', Name: 'riposte-blocked' });
    expect(await regionOf(get!)).toBe('us-east-1');
    expect(await regionOf(update!)).toBe('us-east-1');
    expect(outcome.undo).toMatchObject({ scope: 'CLOUDFRONT' });
  });

  it("reads a REGIONAL IP set in the finding's region", async () => {
    ipSet([]);

    await run(WAF, commandAndControl(), 'dry-run');

    expect(await regionOf(waf.commandCalls(GetIPSetCommand)[0]!)).toBe('us-east-2');
  });

  it('refuses when the IP set does not exist', async () => {
    waf.on(GetIPSetCommand).rejects(new WAFNonexistentItemException({ message: 'gone', $metadata: {} }));

    const { plan, outcome } = await run(WAF);

    expect(plan.status).toBe('refused');
    expect(plan.reason).toBe(
      `refused: WAF IP set riposte-blocked (REGIONAL, ${IP_SET_ID}) does not exist; not changed`,
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });

  it('refuses when the IP set would hold more than 10,000 addresses', async () => {
    ipSet(Array.from({ length: 10000 }, (_, i) => `198.51.${Math.floor(i / 256)}.${i % 256}/32`));

    const { plan, outcome } = await run(WAF);

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('would hold more than 10000 addresses');
    expect(outcome.status).toBe('failed');
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });

  it('plans offline without credentials, with the lock token as a placeholder', async () => {
    waf.on(GetIPSetCommand).rejects(credentialsError());

    const plan = await blockActorIp.plan(contextFor(blockActorIp, commandAndControl(), { params: WAF }));

    expect(plan.status).toBe('planned');
    expect(plan.lookups).toMatchObject([{ status: 'unavailable' }]);
    expect(plan.calls[0]?.input).toMatchObject({
      Addresses: [`${IP}/32`],
      LockToken: '<LockToken from GetIPSet>',
    });
  });

  it('maps a failed GetIPSet to a failed plan and outcome with its code', async () => {
    waf.on(GetIPSetCommand).rejects(awsError('WAFInternalErrorException'));

    const { plan, outcome } = await run(WAF);

    expect(plan).toMatchObject({ status: 'failed', error: { code: 'WAFInternalErrorException' } });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'WAFInternalErrorException' } });
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });
});

describe('block-actor-ip via nacl: more cases', () => {
  it('denies an IPv6 address with Ipv6CidrBlock both ways', async () => {
    acl(DEFAULT_ENTRIES);

    const { plan } = await run(NACL, withActor({ remoteIp: '2001:db9::1' }), 'dry-run');

    expect(plan.calls.map((call) => call.input)).toEqual(
      [false, true].map((Egress) => ({
        NetworkAclId: ACL,
        RuleNumber: 51,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress,
        Ipv6CidrBlock: '2001:db9::1/128',
      })),
    );
  });

  it('skips when existing entries already deny the address both ways', async () => {
    acl([
      ...DEFAULT_ENTRIES,
      { RuleNumber: 60, Egress: false, RuleAction: 'deny', Protocol: '-1', Ipv6CidrBlock: '2001:DB9::1/128' },
      { RuleNumber: 61, Egress: true, RuleAction: 'deny', Protocol: '-1', Ipv6CidrBlock: '2001:db9::1/128' },
    ]);

    const { plan, outcome } = await run(NACL, withActor({ remoteIp: '2001:db9::1' }));

    expect(plan).toMatchObject({ status: 'no-op', reason: 'already blocked: 2001:db9::1' });
    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(CreateNetworkAclEntryCommand)).toHaveLength(0);
  });

  it('adds only the missing direction when an inbound deny exists', async () => {
    acl([
      ...DEFAULT_ENTRIES,
      { RuleNumber: 60, Egress: false, RuleAction: 'deny', Protocol: '-1', CidrBlock: `${IP}/32` },
    ]);

    const { outcome } = await run(NACL);

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(CreateNetworkAclEntryCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ RuleNumber: 51, Egress: true, CidrBlock: `${IP}/32` }),
    ]);
    expect(outcome.undo).toEqual({
      via: 'nacl',
      networkAclId: ACL,
      entries: [{ ruleNumber: 51, egress: true, cidr: `${IP}/32` }],
    });
  });

  it('blocks what fits in the range and reports the address left without a rule number', async () => {
    acl(DEFAULT_ENTRIES);
    const finding = withActor({ remoteIps: ['81.2.69.145'] });

    const { plan } = await run({ via: 'nacl', ruleNumberRange: { from: 50, to: 51 } }, finding, 'dry-run');

    expect(plan.status).toBe('planned');
    expect(plan.calls.map((call) => call.input.CidrBlock)).toEqual([`${IP}/32`, `${IP}/32`]);
    expect(plan.reason).toBe(`not blocked: 81.2.69.145: no free rule number in 50-51 of ${ACL}`);
  });

  it('refuses an empty rule number range before any call', async () => {
    const { plan } = await run({ via: 'nacl', ruleNumberRange: { from: 60, to: 50 } });

    expect(plan).toMatchObject({
      status: 'refused',
      reason: 'refused: ruleNumberRange 60-50 is empty; not changed',
    });
    expect(sentCommands(ec2)).toEqual([]);
  });

  it('refuses a forged instance id before any call', async () => {
    const { plan, outcome } = await run(NACL, forgedInstance('i-0123456789abcdef0/../x'));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('is not a valid EC2 instance id');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(sentCommands(ec2)).toEqual([]);
  });

  it('skips when the instance no longer exists', async () => {
    ec2.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));

    const { plan, outcome } = await run(NACL);

    expect(plan).toMatchObject({ status: 'no-op', reason: `instance ${INSTANCE_ID} no longer exists` });
    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(DescribeNetworkAclsCommand)).toHaveLength(0);
  });

  it('skips when the instance is in no subnet', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID }] }] });

    const { plan } = await run(NACL);

    expect(plan.status).toBe('no-op');
    expect(plan.reason).toContain('is in no subnet');
    expect(ec2.commandCalls(DescribeNetworkAclsCommand)).toHaveLength(0);
  });

  it('refuses a subnet id EC2 returns malformed', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, SubnetId: 'subnet-../x' }] }] });

    const { plan } = await run(NACL);

    expect(plan.status).toBe('refused');
    expect(ec2.commandCalls(DescribeNetworkAclsCommand)).toHaveLength(0);
  });

  it('skips when no network ACL returned is associated with the subnet', async () => {
    acl(DEFAULT_ENTRIES);
    ec2.on(DescribeNetworkAclsCommand).resolves({
      NetworkAcls: [
        { NetworkAclId: ACL, Associations: [{ SubnetId: 'subnet-0000000000000000f' }], Entries: [] },
      ],
    });

    const { plan, outcome } = await run(NACL);

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `no network ACL is associated with subnet ${SUBNET}`,
    });
    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(DescribeNetworkAclsCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'association.subnet-id', Values: [SUBNET] }],
    });
  });

  it('plans offline without credentials, with placeholders and rule numbers from the range', async () => {
    ec2.on(DescribeInstancesCommand).rejects(credentialsError());
    const finding = withActor({ remoteIps: ['81.2.69.145'] });
    const params: BlockActorIpParams = { via: 'nacl', ruleNumberRange: { from: 70, to: 80 } };

    const plan = await blockActorIp.plan(contextFor(blockActorIp, finding, { params }));

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => lookup.status)).toEqual(['unavailable', 'unavailable']);
    expect(
      plan.calls.map((call) => [call.input.NetworkAclId, call.input.RuleNumber, call.input.Egress]),
    ).toEqual([
      ['<NetworkAclId from DescribeNetworkAcls>', 70, false],
      ['<NetworkAclId from DescribeNetworkAcls>', 70, true],
      ['<NetworkAclId from DescribeNetworkAcls>', 71, false],
      ['<NetworkAclId from DescribeNetworkAcls>', 71, true],
    ]);
    expect(sentCommands(ec2)).toEqual(['DescribeInstancesCommand']);
  });

  it('makes no mutating call in dry-run', async () => {
    acl(DEFAULT_ENTRIES);

    const { outcome } = await run(NACL, commandAndControl(), 'dry-run');

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(ec2.commandCalls(CreateNetworkAclEntryCommand)).toHaveLength(0);
  });
});

describe('block-actor-ip undo: more cases', () => {
  it('removes only the recorded IPv6 address, whatever its case, keeping the rest and the token', async () => {
    const set = ipSet(['2001:DB9::1/128', '2001:db8::/64'], 'IPV6');

    const { outcome } = await undo(WAF, { ...WAF_STATE, addresses: ['2001:db9::1/128'] });

    expect(outcome.status).toBe('applied');
    expect(waf.commandCalls(UpdateIPSetCommand)[0]?.args[0].input).toEqual({
      Name: 'riposte-blocked',
      Scope: 'REGIONAL',
      Id: IP_SET_ID,
      Addresses: ['2001:db8::/64'],
      LockToken: 'token-1',
      Description: 'blocked',
    });
    expect(set.now()).toEqual(['2001:db8::/64']);
  });

  it('undoes a CLOUDFRONT IP set in us-east-1', async () => {
    const set = ipSet([`${IP}/32`]);

    const { outcome } = await undo(WAF, { ...WAF_STATE, scope: 'CLOUDFRONT' });

    expect(outcome.status).toBe('applied');
    expect(set.now()).toEqual([]);
    expect(await regionOf(waf.commandCalls(UpdateIPSetCommand)[0]!)).toBe('us-east-1');
  });

  it('skips when the IP set no longer exists', async () => {
    waf.on(GetIPSetCommand).rejects(new WAFNonexistentItemException({ message: 'gone', $metadata: {} }));

    const { plan, outcome } = await undo(WAF, WAF_STATE);

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: 'WAF IP set riposte-blocked no longer exists; nothing to remove',
    });
    expect(outcome.status).toBe('skipped');
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });

  it('fails with the WAF code when the lock token went stale', async () => {
    ipSet([`${IP}/32`]);
    waf.on(UpdateIPSetCommand).rejects(new WAFOptimisticLockException({ message: 'stale', $metadata: {} }));

    const { outcome } = await undo(WAF, WAF_STATE);

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'WAFOptimisticLockException' } });
  });

  it('plans the undo offline with the current addresses and lock token as placeholders', async () => {
    waf.on(GetIPSetCommand).rejects(credentialsError());
    const ctx = {
      findingId: commandAndControl().id,
      target: FINDING_TARGET,
      state: WAF_STATE as unknown as UndoState,
      services: createAwsServices({ env: {} }),
      mode: 'enforce' as const,
      now: NOW,
    };

    const plan = await inverse.plan(ctx);

    expect(plan.status).toBe('planned');
    expect(plan.calls[0]?.input).toMatchObject({
      Addresses: ['<Addresses from GetIPSet>'],
      LockToken: '<LockToken from GetIPSet>',
    });
  });

  it('skips when the network ACL no longer exists', async () => {
    ec2.on(DescribeNetworkAclsCommand).rejects(awsError('InvalidNetworkAclID.NotFound'));

    const { plan, outcome } = await undo(NACL, {
      via: 'nacl',
      networkAclId: ACL,
      entries: [{ ruleNumber: 51, egress: false, cidr: `${IP}/32` }],
    });

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `network ACL ${ACL} no longer exists; nothing to remove`,
    });
    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(DeleteNetworkAclEntryCommand)).toHaveLength(0);
  });

  it('skips when the entries Riposte added are gone', async () => {
    acl(DEFAULT_ENTRIES);

    const { plan, outcome } = await undo(NACL, {
      via: 'nacl',
      networkAclId: ACL,
      entries: [
        { ruleNumber: 51, egress: false, cidr: `${IP}/32` },
        { ruleNumber: 51, egress: true, cidr: `${IP}/32` },
      ],
    });

    expect(plan.status).toBe('no-op');
    expect(plan.reason).toContain('are gone: already as before the response');
    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(DeleteNetworkAclEntryCommand)).toHaveLength(0);
  });

  it('deletes only the recorded entries still there', async () => {
    const list = acl([
      ...DEFAULT_ENTRIES,
      { RuleNumber: 51, Egress: true, RuleAction: 'deny', Protocol: '-1', CidrBlock: `${IP}/32` },
    ]);

    const { outcome } = await undo(NACL, {
      via: 'nacl',
      networkAclId: ACL,
      entries: [
        { ruleNumber: 51, egress: false, cidr: `${IP}/32` },
        { ruleNumber: 51, egress: true, cidr: `${IP}/32` },
      ],
    });

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(DeleteNetworkAclEntryCommand).map((call) => call.args[0].input)).toEqual([
      { NetworkAclId: ACL, RuleNumber: 51, Egress: true },
    ]);
    expect(list.now()).toEqual(DEFAULT_ENTRIES);
  });

  it('plans the network ACL undo offline from the recorded entries', async () => {
    ec2.on(DescribeNetworkAclsCommand).rejects(credentialsError());
    const entries = [{ ruleNumber: 51, egress: false, cidr: `${IP}/32` }];
    const ctx = {
      findingId: commandAndControl().id,
      target: INSTANCE_TARGET,
      state: { via: 'nacl', networkAclId: ACL, entries } as unknown as UndoState,
      services: createAwsServices({ env: {} }),
      mode: 'enforce' as const,
      now: NOW,
    };

    const plan = await inverse.plan(ctx);

    expect(plan.status).toBe('planned');
    expect(plan.calls.map((call) => call.input)).toEqual([
      { NetworkAclId: ACL, RuleNumber: 51, Egress: false },
    ]);
  });

  const NACL_STATE = {
    via: 'nacl',
    networkAclId: ACL,
    entries: [{ ruleNumber: 51, egress: false, cidr: `${IP}/32` }],
  };

  it.each([
    ['a waf state recorded for an instance', WAF_STATE, INSTANCE_TARGET, 'not a finding'],
    ['a nacl state recorded for a finding', NACL_STATE, FINDING_TARGET, 'not an instance'],
    ['a recorded range', { ...WAF_STATE, addresses: ['81.2.69.0/24'] }, FINDING_TARGET, 'not a /32 or /128'],
    ['a malformed IP set id', { ...WAF_STATE, ipSetId: 'x' }, FINDING_TARGET, 'is not a WAF IP set id'],
    [
      'a malformed ACL id',
      { ...NACL_STATE, networkAclId: 'acl-../x' },
      INSTANCE_TARGET,
      'is not a network ACL id',
    ],
    [
      'a recorded entry that is not one address',
      { ...NACL_STATE, entries: [{ ruleNumber: 51, egress: false, cidr: '0.0.0.0/0' }] },
      INSTANCE_TARGET,
      'a recorded entry is not a /32 or /128',
    ],
    ['a forged instance id', NACL_STATE, { ...INSTANCE_TARGET, id: 'i-../x' }, 'instance id'],
    ['an unknown region', WAF_STATE, { ...FINDING_TARGET, region: 'mars-1' }, 'is in no known partition'],
    ['a malformed account id', WAF_STATE, { ...FINDING_TARGET, accountId: '12' }, 'account'],
    [
      'a CLOUDFRONT set outside the aws partition',
      { ...WAF_STATE, scope: 'CLOUDFRONT' },
      { ...FINDING_TARGET, region: 'cn-north-1' },
      'CLOUDFRONT IP sets are in the aws partition, not aws-cn',
    ],
  ] as [string, unknown, ActionTarget, string][])(
    'refuses %s before any call',
    async (_case, state, target, reason) => {
      const { plan, outcome } = await undo(WAF, state, target);

      expect(plan.status).toBe('refused');
      expect(plan.reason).toContain(reason);
      expect(plan.reason).toContain('nothing was looked up or changed');
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
      expect(sentCommands(waf, ec2)).toEqual([]);
    },
  );
});

describe('block-actor-ip: one address in two spellings', () => {
  it('denies it in the network ACL at one rule number only', async () => {
    acl(DEFAULT_ENTRIES);
    const finding = withActor({ remoteIp: IP, remoteIps: [`::FFFF:${IP}`] });

    const { plan } = await run(NACL, finding, 'dry-run');

    expect(plan.calls.map((call) => [call.input.RuleNumber, call.input.Egress])).toEqual([
      [51, false],
      [51, true],
    ]);
  });
});
