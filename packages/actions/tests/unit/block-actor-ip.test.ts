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
  UpdateIPSetCommand,
  WAFOptimisticLockException,
  WAFV2Client,
} from '@aws-sdk/client-wafv2';
import {
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
import { contextFor, NOW } from '../helpers/context.js';
import { commandAndControl, INSTANCE_ID } from '../helpers/findings.js';

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
const ipSet = (initial: string[]) => {
  let addresses = [...initial];
  let token = 1;
  waf.on(GetIPSetCommand).callsFake(() => ({
    IPSet: {
      Name: 'riposte-blocked',
      Id: IP_SET_ID,
      ARN: 'arn',
      IPAddressVersion: 'IPV4',
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

const undo = async (params: BlockActorIpParams, state: unknown) => {
  const ctx: InverseContext<UndoState, ReturnType<typeof createAwsServices>> = {
    findingId: commandAndControl().id,
    target: blockActorIp.targets(commandAndControl(), params).targets[0]!,
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
