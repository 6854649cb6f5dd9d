import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  type Instance,
  type IpPermission,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { type EngineMode, hasInverse, type InverseContext, type UndoState } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { isolateInstance, previousGroupsTags } from '../../src/actions/isolate-instance.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import {
  contextFor,
  credentialsError,
  expectRefusedInstanceId,
  NOW,
  sentCommands,
} from '../helpers/context.js';
import {
  commandAndControl,
  forgedInstance,
  INSTANCE_ID,
  instanceCredentialExfiltration,
} from '../helpers/findings.js';

const ec2 = mockClient(EC2Client);

const VPC = 'vpc-06b1f2a3c4d5e6f70';
const QUARANTINE = 'sg-0aaaabbbbccccdddd';
const APP = 'sg-0123456789abcdef0';
const ADMIN = 'sg-0fedcba9876543210';
const SECOND_ENI = 'eni-0a1b2c3d4e5f60718';

const instance = (interfaces: [string, string[]][], tags: { Key: string; Value: string }[] = []) => ({
  Reservations: [
    {
      Instances: [
        {
          InstanceId: INSTANCE_ID,
          VpcId: VPC,
          State: { Name: 'running', Code: 16 },
          NetworkInterfaces: interfaces.map(([id, groups]) => ({
            NetworkInterfaceId: id,
            Groups: groups.map((GroupId) => ({ GroupId })),
          })),
          Tags: tags,
        } satisfies Instance,
      ],
    },
  ],
  $metadata: { requestId: 'describe-instances-1' },
});

const twoInterfaces = instance([
  ['eni-bfcffe88', [APP]],
  [SECOND_ENI, [APP, ADMIN]],
]);

const GROUP_NAME = `riposte-quarantine-${VPC}`;

const groupFilters = {
  Filters: [
    { Name: 'vpc-id', Values: [VPC] },
    { Name: 'group-name', Values: [GROUP_NAME] },
  ],
};

const ALLOW_ALL_EGRESS: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
const SSH_FROM_ANYWHERE: IpPermission = {
  IpProtocol: 'tcp',
  FromPort: 22,
  ToPort: 22,
  IpRanges: [{ CidrIp: '0.0.0.0/0' }],
};

/** A security group as DescribeSecurityGroups shows it; by default Riposte's own, tagged, with no rule. */
const group = (fields: Partial<SecurityGroup> = {}): SecurityGroup => ({
  GroupId: QUARANTINE,
  GroupName: GROUP_NAME,
  VpcId: VPC,
  OwnerId: '973743533182',
  IpPermissions: [],
  IpPermissionsEgress: [],
  Tags: [
    { Key: 'riposte:quarantine', Value: 'true' },
    { Key: 'Name', Value: GROUP_NAME },
  ],
  ...fields,
});

/** The VPC's quarantine group is found by name and, read by its id, is `verified` (no rule by default). */
const quarantineExists = (found: SecurityGroup = group(), verified: SecurityGroup = found) => {
  ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({ SecurityGroups: [found] });
  ec2
    .on(DescribeSecurityGroupsCommand, { GroupIds: [found.GroupId ?? ''] })
    .resolves({ SecurityGroups: [verified] });
};

const mutatingCommands = () => sentCommands(ec2).filter((name) => !name.startsWith('Describe'));

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE_ID] }).resolves(twoInterfaces);
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
});
afterAll(() => ec2.restore());

describe('isolate-instance targets', () => {
  it('targets an instance affected by the finding', () => {
    expect(isolateInstance.targets(commandAndControl(), {}).targets).toEqual([
      expect.objectContaining({ kind: 'instance', id: INSTANCE_ID }),
    ]);
  });

  it('leaves the credential-source instance alone unless asked', () => {
    const finding = instanceCredentialExfiltration();

    expect(isolateInstance.targets(finding, {})).toEqual({
      targets: [],
      reason: expect.stringContaining('includeCredentialSource: true'),
    });
    expect(isolateInstance.targets(finding, { includeCredentialSource: true }).targets).toHaveLength(1);
  });
});

describe('isolate-instance plan', () => {
  it('plans the quarantine group on first use, the record of the old groups, then each move', async () => {
    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan.status).toBe('planned');
    expect(plan.calls.map((call) => [call.operation, call.input])).toEqual([
      [
        'CreateSecurityGroup',
        {
          GroupName: GROUP_NAME,
          Description: 'Riposte quarantine: no inbound or outbound rules',
          VpcId: VPC,
          TagSpecifications: [
            {
              ResourceType: 'security-group',
              Tags: [
                { Key: 'riposte:quarantine', Value: 'true' },
                { Key: 'Name', Value: GROUP_NAME },
              ],
            },
          ],
        },
      ],
      [
        'RevokeSecurityGroupEgress',
        {
          GroupId: '<GroupId from CreateSecurityGroup>',
          IpPermissions: '<IpPermissionsEgress from DescribeSecurityGroups>',
        },
      ],
      [
        'CreateTags',
        {
          Resources: [INSTANCE_ID],
          Tags: [
            {
              Key: 'riposte:previous-security-groups',
              Value: `eni-bfcffe88=${APP};${SECOND_ENI}=${APP},${ADMIN}`,
            },
          ],
        },
      ],
      [
        'ModifyNetworkInterfaceAttribute',
        { NetworkInterfaceId: 'eni-bfcffe88', Groups: ['<GroupId from CreateSecurityGroup>'] },
      ],
      [
        'ModifyNetworkInterfaceAttribute',
        { NetworkInterfaceId: SECOND_ENI, Groups: ['<GroupId from CreateSecurityGroup>'] },
      ],
    ]);
  });

  it('reuses the quarantine group the VPC already has, once read by its id to have no rule', async () => {
    quarantineExists();

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan.lookups.map((lookup) => [lookup.call.operation, lookup.call.input, lookup.summary])).toEqual([
      [
        'DescribeInstances',
        { InstanceIds: [INSTANCE_ID] },
        expect.stringContaining(`${INSTANCE_ID} is running`),
      ],
      ['DescribeSecurityGroups', groupFilters, `${GROUP_NAME} is ${QUARANTINE}`],
      [
        'DescribeSecurityGroups',
        { GroupIds: [QUARANTINE] },
        `${QUARANTINE} in ${VPC}: 0 inbound, 0 outbound rule(s)`,
      ],
    ]);
    expect(plan.calls.map((call) => call.operation)).toEqual([
      'CreateTags',
      'ModifyNetworkInterfaceAttribute',
      'ModifyNetworkInterfaceAttribute',
    ]);
    expect(plan.calls[1]?.input).toEqual({ NetworkInterfaceId: 'eni-bfcffe88', Groups: [QUARANTINE] });
  });

  it('plans a no-op when every interface is already only in quarantine', async () => {
    quarantineExists();
    ec2.on(DescribeInstancesCommand).resolves(
      instance([
        ['eni-bfcffe88', [QUARANTINE]],
        [SECOND_ENI, [QUARANTINE]],
      ]),
    );

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan).toMatchObject({ status: 'no-op', calls: [] });
    expect(plan.reason).toBe(
      `every network interface of ${INSTANCE_ID} is already only in quarantine group ${QUARANTINE}`,
    );
  });

  it('plans a no-op for a terminated instance', async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Name: 'terminated', Code: 48 } }] }],
    });

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan).toMatchObject({ status: 'no-op', reason: `instance ${INSTANCE_ID} is terminated` });
  });

  it('plans offline from the interfaces the finding lists', async () => {
    ec2.on(DescribeInstancesCommand).rejects(credentialsError());

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan.lookups.map((lookup) => lookup.summary)).toEqual([
      `would look up DescribeInstances ${INSTANCE_ID}`,
      `would look up DescribeSecurityGroups ${VPC} ${GROUP_NAME}`,
    ]);
    expect(plan.calls.at(-1)?.input).toEqual({
      NetworkInterfaceId: 'eni-bfcffe88',
      Groups: ['<GroupId from CreateSecurityGroup>'],
    });
  });

  it('sends no mutating command while planning', async () => {
    await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(sentCommands(ec2)).toEqual(['DescribeInstancesCommand', 'DescribeSecurityGroupsCommand']);
  });
});

describe('isolate-instance execute', () => {
  it('creates a rule-less quarantine group, records the old groups, then moves every interface', async () => {
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: QUARANTINE });
    ec2
      .on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] })
      .resolvesOnce({ SecurityGroups: [group({ IpPermissionsEgress: [ALLOW_ALL_EGRESS] })] })
      .resolves({ SecurityGroups: [group()] });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)[0]?.args[0].input).toEqual({
      GroupId: QUARANTINE,
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    expect(
      ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((call) => call.args[0].input),
    ).toEqual([
      { NetworkInterfaceId: 'eni-bfcffe88', Groups: [QUARANTINE] },
      { NetworkInterfaceId: SECOND_ENI, Groups: [QUARANTINE] },
    ]);
    expect(outcome.calls.filter((call) => call.mutating).map((call) => call.operation)).toEqual([
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'CreateTags',
      'ModifyNetworkInterfaceAttribute',
      'ModifyNetworkInterfaceAttribute',
    ]);
    expect(outcome.calls.map((call) => [call.operation, call.input.GroupIds])).toContainEqual([
      'DescribeSecurityGroups',
      [QUARANTINE],
    ]);
    expect(outcome.calls.map((call) => call.operation).slice(2, 6)).toEqual([
      'CreateSecurityGroup',
      'DescribeSecurityGroups',
      'RevokeSecurityGroupEgress',
      'DescribeSecurityGroups',
    ]);
    expect(outcome.outputs).toEqual({
      quarantineGroupId: QUARANTINE,
      createdQuarantineGroup: true,
      previousSecurityGroups: { 'eni-bfcffe88': [APP], [SECOND_ENI]: [APP, ADMIN] },
    });
  });

  it('keeps what an interrupted run recorded for an interface already in quarantine', async () => {
    quarantineExists();
    ec2.on(DescribeInstancesCommand).resolves(
      instance(
        [
          ['eni-bfcffe88', [QUARANTINE]],
          [SECOND_ENI, [APP, ADMIN]],
        ],
        [
          {
            Key: 'riposte:previous-security-groups',
            Value: `eni-bfcffe88=${APP};${SECOND_ENI}=${APP},${ADMIN}`,
          },
        ],
      ),
    );
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input.Tags).toEqual([
      { Key: 'riposte:previous-security-groups', Value: `eni-bfcffe88=${APP};${SECOND_ENI}=${APP},${ADMIN}` },
    ]);
    expect(
      ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((call) => call.args[0].input),
    ).toEqual([{ NetworkInterfaceId: SECOND_ENI, Groups: [QUARANTINE] }]);
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
  });

  it('skips when the instance was isolated since planning', async () => {
    quarantineExists();
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce(twoInterfaces)
      .resolves(
        instance([
          ['eni-bfcffe88', [QUARANTINE]],
          [SECOND_ENI, [QUARANTINE]],
        ]),
      );
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).toHaveLength(0);
  });

  it('fails with the EC2 error code and lists the calls that did succeed', async () => {
    quarantineExists();
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).rejects(
      new EC2ServiceException({
        name: 'UnauthorizedOperation',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
        message: 'You are not authorized to perform this operation.',
      }),
    );
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'UnauthorizedOperation', retryable: false },
    });
    expect(outcome.calls.map((call) => [call.operation, call.errorCode])).toEqual([
      ['DescribeInstances', undefined],
      ['DescribeSecurityGroups', undefined],
      ['DescribeSecurityGroups', undefined],
      ['CreateTags', undefined],
      ['ModifyNetworkInterfaceAttribute', 'UnauthorizedOperation'],
    ]);
  });
});

describe('isolate-instance quarantine group', () => {
  it("refuses an allow-all group an attacker made and tagged like Riposte's, and changes nothing", async () => {
    quarantineExists(
      group({
        GroupId: 'sg-0bad0bad0bad0bad0',
        IpPermissions: [SSH_FROM_ANYWHERE],
        IpPermissionsEgress: [ALLOW_ALL_EGRESS],
      }),
    );
    const ctx = contextFor(isolateInstance, commandAndControl());

    const plan = await isolateInstance.plan(ctx);
    const outcome = await isolateInstance.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toBe(
      'quarantine group sg-0bad0bad0bad0bad0 has 1 inbound and 1 outbound rule(s); a quarantine group must have none, so it is not used (Riposte does not change its rules: remove them, or delete the group, and run again)',
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED', message: plan.reason } });
    expect(mutatingCommands()).toEqual([]);
  });

  it('refuses the group even when the interfaces are already in it', async () => {
    const open = group({ IpPermissionsEgress: [ALLOW_ALL_EGRESS] });
    quarantineExists(open);
    ec2.on(DescribeInstancesCommand).resolves(
      instance([
        ['eni-bfcffe88', [QUARANTINE]],
        [SECOND_ENI, [QUARANTINE]],
      ]),
    );

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('has 0 inbound and 1 outbound rule(s)');
  });

  it('uses an empty group an attacker made and tagged: it is harmless by construction', async () => {
    quarantineExists(group({ GroupId: 'sg-0bad0bad0bad0bad0' }));

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan.status).toBe('planned');
    expect(plan.calls.at(-1)?.input).toEqual({
      NetworkInterfaceId: SECOND_ENI,
      Groups: ['sg-0bad0bad0bad0bad0'],
    });
  });

  it('refuses a group of the quarantine name that does not carry the quarantine tag', async () => {
    quarantineExists(group({ Tags: [] }));

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain(`is named ${GROUP_NAME} but is not tagged riposte:quarantine=true`);
  });

  it('ignores tagged groups of another name or VPC, and creates its own', async () => {
    ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({
      SecurityGroups: [
        group({ GroupId: 'sg-0bad0bad0bad0bad0', GroupName: 'riposte-quarantine' }),
        group({ GroupId: 'sg-0bad0bad0bad0bad1', VpcId: 'vpc-0fedcba9876543210' }),
      ],
    });

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan.calls[0]?.operation).toBe('CreateSecurityGroup');
    expect(plan.lookups[1]?.summary).toBe(
      `no quarantine group ${GROUP_NAME} in ${VPC} yet; ignored 2 group(s) of another name or VPC: "sg-0bad0bad0bad0bad0", "sg-0bad0bad0bad0bad1"`,
    );
  });

  it('uses a pinned group once it is read by its id to be empty and in the instance VPC', async () => {
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [ADMIN] }).resolves({
      SecurityGroups: [group({ GroupId: ADMIN, GroupName: 'soc-quarantine', Tags: [] })],
    });
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const ctx = contextFor(isolateInstance, commandAndControl(), { params: { quarantineGroupId: ADMIN } });

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(outcome.outputs).toMatchObject({ quarantineGroupId: ADMIN, createdQuarantineGroup: false });
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand).map((call) => call.args[0].input)).toEqual([
      { GroupIds: [ADMIN] },
      { GroupIds: [ADMIN] },
    ]);
  });

  it.each([
    [
      'has rules',
      group({ GroupId: ADMIN, IpPermissionsEgress: [ALLOW_ALL_EGRESS] }),
      `pinned quarantine group ${ADMIN} has 0 inbound and 1 outbound rule(s)`,
    ],
    [
      'is in another VPC',
      group({ GroupId: ADMIN, VpcId: 'vpc-0fedcba9876543210' }),
      `pinned quarantine group ${ADMIN} is in "vpc-0fedcba9876543210", not the instance's VPC ${VPC}`,
    ],
    [
      'is not the group asked for',
      group({ GroupId: APP }),
      `pinned quarantine group ${ADMIN} does not exist`,
    ],
  ])('refuses a pinned group that %s', async (_, answer, reason) => {
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [ADMIN] }).resolves({ SecurityGroups: [answer] });
    const ctx = contextFor(isolateInstance, commandAndControl(), { params: { quarantineGroupId: ADMIN } });

    const plan = await isolateInstance.plan(ctx);
    const outcome = await isolateInstance.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain(reason);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(mutatingCommands()).toEqual([]);
  });

  it('refuses a pinned group that does not exist', async () => {
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [ADMIN] }).rejects(
      new EC2ServiceException({
        name: 'InvalidGroup.NotFound',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: `The security group '${ADMIN}' does not exist`,
      }),
    );
    const ctx = contextFor(isolateInstance, commandAndControl(), { params: { quarantineGroupId: ADMIN } });

    const plan = await isolateInstance.plan(ctx);

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `pinned quarantine group ${ADMIN} does not exist`,
    });
  });

  it('revokes every egress rule of the group it created, IPv6 included, and checks it is empty', async () => {
    const ipv6 = { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] };
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: QUARANTINE });
    ec2
      .on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] })
      .resolvesOnce({ SecurityGroups: [group({ IpPermissionsEgress: [ALLOW_ALL_EGRESS, ipv6] })] })
      .resolves({ SecurityGroups: [group()] });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)[0]?.args[0].input).toEqual({
      GroupId: QUARANTINE,
      IpPermissions: [ALLOW_ALL_EGRESS, ipv6],
    });
  });

  it('moves nothing when the group it created still has a rule after the revoke', async () => {
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: QUARANTINE });
    ec2
      .on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] })
      .resolves({ SecurityGroups: [group({ IpPermissionsEgress: [ALLOW_ALL_EGRESS] })] });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(outcome.error?.message).toContain(
      `new quarantine group ${QUARANTINE} has 0 inbound and 1 outbound`,
    );
    expect(mutatingCommands()).toEqual(['CreateSecurityGroupCommand', 'RevokeSecurityGroupEgressCommand']);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    const ctx = contextFor(isolateInstance, commandAndControl(), { mode: 'dry-run' });

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(mutatingCommands()).toEqual([]);
  });
});

describe('isolate-instance against a forged finding', () => {
  it.each([['*'], ['i-0*'], ['i-0a1b2c3d4e5f6789?'], [`${INSTANCE_ID}\u2028`]])(
    'refuses the instance id %j without any AWS call',
    async (instanceId) => {
      await expectRefusedInstanceId(isolateInstance, forgedInstance(instanceId), ec2);
    },
  );

  it('refuses a malformed pinned group id without any AWS call', async () => {
    const ctx = contextFor(isolateInstance, commandAndControl(), { params: { quarantineGroupId: 'sg-*' } });

    const plan = await isolateInstance.plan(ctx);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('is not a valid security group id');
    expect(sentCommands(ec2)).toEqual([]);
  });

  it('touches no interface of an instance the lookup returns in place of the target', async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              ...twoInterfaces.Reservations[0]!.Instances[0]!,
              InstanceId: 'i-0fedcba9876543210',
            },
          ],
        },
      ],
    });
    const ctx = contextFor(isolateInstance, commandAndControl());

    const plan = await isolateInstance.plan(ctx);
    const outcome = await isolateInstance.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'no-op', reason: `instance ${INSTANCE_ID} no longer exists` });
    expect(plan.lookups[0]?.summary).toContain('ignored 1 other instance(s): "i-0fedcba9876543210"');
    expect(outcome.status).toBe('skipped');
    expect(mutatingCommands()).toEqual([]);
  });

  it('refuses an instance with an interface in another VPC', async () => {
    const described = instance([['eni-bfcffe88', [APP]]]);
    const [eni] = described.Reservations[0]!.Instances[0]!.NetworkInterfaces!;
    (eni as { VpcId?: string }).VpcId = 'vpc-0fedcba9876543210';
    ec2.on(DescribeInstancesCommand).resolves(described);

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('isolate-instance quarantines one VPC per instance');
  });
});

describe('previousGroupsTags', () => {
  it('spreads a record longer than one tag value over numbered tags', () => {
    const groups = new Map(
      Array.from({ length: 6 }, (_, index) => [
        `eni-0a1b2c3d4e5f6071${index}`,
        [APP, ADMIN, 'sg-0bbbbccccddddeeee'].join(','),
      ]),
    );

    const tags = previousGroupsTags(groups);

    expect(tags.map((tag) => tag.Key)).toEqual([
      'riposte:previous-security-groups',
      'riposte:previous-security-groups:2',
    ]);
    expect(tags.every((tag) => tag.Value.length <= 256)).toBe(true);
    expect(
      tags
        .map((tag) => tag.Value)
        .join(';')
        .split(';'),
    ).toHaveLength(6);
  });
});

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = isolateInstance;
  if (!hasInverse(undo)) throw new Error('isolate-instance declares no inverse');
  return undo;
})();

/** What a step that created the quarantine group and moved both interfaces recorded. */
const recorded = {
  instanceId: INSTANCE_ID,
  quarantineGroupId: QUARANTINE,
  createdQuarantineGroup: true,
  interfaces: [
    { networkInterfaceId: 'eni-bfcffe88', previousGroupIds: [APP] },
    { networkInterfaceId: SECOND_ENI, previousGroupIds: [APP, ADMIN] },
  ],
};

const PREVIOUS_TAG = {
  Key: 'riposte:previous-security-groups',
  Value: `eni-bfcffe88=${APP};${SECOND_ENI}=${APP},${ADMIN}`,
};

/** The instance as the step left it: both interfaces only in quarantine, the previous groups in a tag. */
const isolated = instance(
  [
    ['eni-bfcffe88', [QUARANTINE]],
    [SECOND_ENI, [QUARANTINE]],
  ],
  [PREVIOUS_TAG],
);

const groupNotFound = () =>
  new EC2ServiceException({
    name: 'InvalidGroup.NotFound',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `The security group '${QUARANTINE}' does not exist`,
  });

const usersFilter = { Filters: [{ Name: 'group-id', Values: [QUARANTINE] }] };

/** DescribeNetworkInterfaces of the quarantine group: these interfaces use it. */
const usedBy = (...ids: string[]) => {
  ec2.on(DescribeNetworkInterfacesCommand, usersFilter).resolves({
    NetworkInterfaces: ids.map((NetworkInterfaceId) => ({
      NetworkInterfaceId,
      Groups: [{ GroupId: QUARANTINE }],
    })),
  });
};

/** The context `riposte undo` builds from a recorded step of the instance the finding names. */
const undoContext = (
  state: UndoState,
  options: { mode?: EngineMode } = {},
): InverseContext<UndoState, AwsServices> => {
  const ctx = contextFor(isolateInstance, commandAndControl());
  return {
    findingId: ctx.finding.id,
    target: ctx.target,
    state,
    services: ctx.services,
    mode: options.mode ?? 'enforce',
    now: NOW,
  };
};

/** The quarantine group the step created is still there, and used by the instance's two interfaces. */
const stillIsolated = () => {
  ec2.on(DescribeInstancesCommand).resolves(isolated);
  ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] }).resolves({ SecurityGroups: [group()] });
  usedBy('eni-bfcffe88', SECOND_ENI);
};

describe('isolate-instance records what undo needs', () => {
  it('records each interface, the quarantine group it created and the instance', async () => {
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: QUARANTINE });
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] }).resolves({ SecurityGroups: [group()] });
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(outcome.undo).toEqual(recorded);
    expect(createRegistry().validateUndoState('isolate-instance', outcome.undo)).toEqual([]);
  });

  it('records that the quarantine group was not created when it reused the VPC one', async () => {
    quarantineExists();
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.undo).toEqual({ ...recorded, createdQuarantineGroup: false });
  });

  it('records the undo state when a move fails after the tags were written', async () => {
    quarantineExists();
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).rejects(
      new EC2ServiceException({
        name: 'UnauthorizedOperation',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'You are not authorized to perform this operation.',
      }),
    );
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('failed');
    expect(outcome.undo).toEqual({ ...recorded, createdQuarantineGroup: false });
  });

  it('records the group it created when the step fails right after creating it', async () => {
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: QUARANTINE });
    ec2
      .on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] })
      .resolves({ SecurityGroups: [group({ IpPermissionsEgress: [ALLOW_ALL_EGRESS] })] });
    ec2.on(RevokeSecurityGroupEgressCommand).rejects(
      new EC2ServiceException({
        name: 'RequestLimitExceeded',
        $fault: 'client',
        $metadata: { httpStatusCode: 503 },
        message: 'Request limit exceeded.',
      }),
    );
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('failed');
    expect(outcome.undo).toMatchObject({ quarantineGroupId: QUARANTINE, createdQuarantineGroup: true });
  });

  it('records nothing when it refuses before any change', async () => {
    quarantineExists(group({ IpPermissionsEgress: [ALLOW_ALL_EGRESS] }));
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(outcome.status).toBe('failed');
    expect(outcome.undo).toBeUndefined();
  });

  it("carries over only well-formed ids from an earlier run's previous-groups tag", async () => {
    quarantineExists();
    ec2.on(DescribeInstancesCommand).resolves(
      instance(
        [
          ['eni-bfcffe88', [QUARANTINE]],
          [SECOND_ENI, [APP]],
        ],
        [{ Key: 'riposte:previous-security-groups', Value: 'eni-bfcffe88=sg-*,sg-0123456789abcdef0' }],
      ),
    );
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const ctx = contextFor(isolateInstance, commandAndControl());

    const outcome = await isolateInstance.execute(ctx, await isolateInstance.plan(ctx));

    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input.Tags).toEqual([
      { Key: 'riposte:previous-security-groups', Value: `${SECOND_ENI}=${APP}` },
    ]);
    expect(outcome.undo).toMatchObject({
      interfaces: [{ networkInterfaceId: SECOND_ENI, previousGroupIds: [APP] }],
    });
  });
});

describe('isolate-instance undo plan', () => {
  it('plans each interface back, the tag removed, then the quarantine group it created deleted', async () => {
    stillIsolated();

    const plan = await inverse.plan(undoContext(recorded));

    expect(plan.status).toBe('planned');
    expect(plan.reason).toBeUndefined();
    expect(plan.calls.map((call) => [call.operation, call.input])).toEqual([
      ['ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: 'eni-bfcffe88', Groups: [APP] }],
      ['ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: SECOND_ENI, Groups: [APP, ADMIN] }],
      ['DeleteTags', { Resources: [INSTANCE_ID], Tags: [PREVIOUS_TAG] }],
      ['DeleteSecurityGroup', { GroupId: QUARANTINE }],
    ]);
    expect(plan.lookups.map((lookup) => [lookup.call.operation, lookup.call.input, lookup.summary])).toEqual([
      [
        'DescribeInstances',
        { InstanceIds: [INSTANCE_ID] },
        expect.stringContaining(`eni-bfcffe88 in ${QUARANTINE}`),
      ],
      [
        'DescribeSecurityGroups',
        { GroupIds: [QUARANTINE] },
        `${QUARANTINE} in ${VPC}: 0 inbound, 0 outbound rule(s)`,
      ],
      ['DescribeNetworkInterfaces', usersFilter, `${QUARANTINE} is used by eni-bfcffe88, ${SECOND_ENI}`],
    ]);
  });

  it('plans a no-op when the interfaces are back, the tag gone and the group deleted', async () => {
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] }).rejects(groupNotFound());

    const plan = await inverse.plan(undoContext(recorded));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `${INSTANCE_ID} is restored already: its recorded network interfaces are in their previous groups, and the previous-groups tags are gone`,
      calls: [],
    });
  });

  it('keeps a quarantine group it reused: only one the step created is deleted', async () => {
    stillIsolated();

    const plan = await inverse.plan(undoContext({ ...recorded, createdQuarantineGroup: false }));

    expect(plan.calls.map((call) => call.operation)).toEqual([
      'ModifyNetworkInterfaceAttribute',
      'ModifyNetworkInterfaceAttribute',
      'DeleteTags',
    ]);
    expect(plan.lookups.map((lookup) => lookup.call.operation)).toEqual(['DescribeInstances']);
  });

  it('keeps the quarantine group while another interface uses it, and says which', async () => {
    stillIsolated();
    usedBy('eni-bfcffe88', SECOND_ENI, 'eni-0ffffeeeeddddcccc');

    const plan = await inverse.plan(undoContext(recorded));

    expect(plan.calls.map((call) => call.operation)).not.toContain('DeleteSecurityGroup');
    expect(plan.reason).toBe(
      `quarantine group ${QUARANTINE} is still used by "eni-0ffffeeeeddddcccc", so it is not deleted`,
    );
  });

  it('keeps the quarantine group when more interfaces use it than one page lists', async () => {
    stillIsolated();
    ec2.on(DescribeNetworkInterfacesCommand, usersFilter).resolves({
      NetworkInterfaces: [{ NetworkInterfaceId: 'eni-bfcffe88', Groups: [{ GroupId: QUARANTINE }] }],
      NextToken: 'page-2',
    });

    const plan = await inverse.plan(undoContext(recorded));

    expect(plan.calls.map((call) => call.operation)).not.toContain('DeleteSecurityGroup');
    expect(plan.reason).toBe(
      `quarantine group ${QUARANTINE} is still used by more network interfaces, so it is not deleted`,
    );
  });

  it('plans offline every recorded restore, listing the lookups it would make', async () => {
    ec2.on(DescribeInstancesCommand).rejects(credentialsError());

    const plan = await inverse.plan(undoContext(recorded));

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => [lookup.status, lookup.summary])).toEqual([
      ['unavailable', `would look up DescribeInstances ${INSTANCE_ID}`],
      ['unavailable', `would look up DescribeSecurityGroups ${QUARANTINE}`],
      ['unavailable', `would look up DescribeNetworkInterfaces ${QUARANTINE}`],
    ]);
    expect(plan.calls.map((call) => call.operation)).toEqual([
      'ModifyNetworkInterfaceAttribute',
      'ModifyNetworkInterfaceAttribute',
      'DeleteTags',
      'DeleteSecurityGroup',
    ]);
  });

  it('sends no mutating command while planning', async () => {
    stillIsolated();

    await inverse.plan(undoContext(recorded));

    expect(mutatingCommands()).toEqual([]);
  });
});

describe('isolate-instance undo execute', () => {
  it('moves the interfaces back, removes the tag, then deletes the group it created', async () => {
    stillIsolated();
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    ec2.on(DeleteSecurityGroupCommand).resolves({});
    const ctx = undoContext(recorded);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(mutatingCommands()).toEqual([
      'ModifyNetworkInterfaceAttributeCommand',
      'ModifyNetworkInterfaceAttributeCommand',
      'DeleteTagsCommand',
      'DeleteSecurityGroupCommand',
    ]);
    expect(
      ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((call) => call.args[0].input),
    ).toEqual([
      { NetworkInterfaceId: 'eni-bfcffe88', Groups: [APP] },
      { NetworkInterfaceId: SECOND_ENI, Groups: [APP, ADMIN] },
    ]);
    expect(ec2.commandCalls(DeleteTagsCommand)[0]?.args[0].input).toEqual({
      Resources: [INSTANCE_ID],
      Tags: [PREVIOUS_TAG],
    });
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)[0]?.args[0].input).toEqual({ GroupId: QUARANTINE });
  });

  it('skips when run again after it restored everything', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(isolated).resolvesOnce(isolated).resolves(twoInterfaces);
    ec2
      .on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] })
      .resolvesOnce({ SecurityGroups: [group()] })
      .resolvesOnce({ SecurityGroups: [group()] })
      .rejects(groupNotFound());
    usedBy('eni-bfcffe88', SECOND_ENI);
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    ec2.on(DeleteSecurityGroupCommand).resolves({});
    const ctx = undoContext(recorded);
    await inverse.execute(ctx, await inverse.plan(ctx));

    const again = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(again.status).toBe('skipped');
    expect(again.reason).toContain('is restored already');
    expect(mutatingCommands()).toHaveLength(4);
  });

  it('deletes only the quarantine group when the interfaces were restored by hand', async () => {
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] }).resolves({ SecurityGroups: [group()] });
    usedBy();
    ec2.on(DeleteSecurityGroupCommand).resolves({});
    const ctx = undoContext(recorded);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(mutatingCommands()).toEqual(['DeleteSecurityGroupCommand']);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    stillIsolated();
    const ctx = undoContext(recorded, { mode: 'dry-run' });

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(mutatingCommands()).toEqual([]);
  });

  it('fails with the EC2 error code when the group is still in use at deletion', async () => {
    stillIsolated();
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    ec2.on(DeleteSecurityGroupCommand).rejects(
      new EC2ServiceException({
        name: 'DependencyViolation',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'dependency-1' },
        message: 'resource sg-0aaaabbbbccccdddd has a dependent object',
      }),
    );
    const ctx = undoContext(recorded);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DependencyViolation' } });
    expect(
      outcome.calls.filter((call) => call.mutating).map((call) => [call.operation, call.errorCode]),
    ).toEqual([
      ['ModifyNetworkInterfaceAttribute', undefined],
      ['ModifyNetworkInterfaceAttribute', undefined],
      ['DeleteTags', undefined],
      ['DeleteSecurityGroup', 'DependencyViolation'],
    ]);
  });
});

describe('isolate-instance undo when the instance changed since', () => {
  it('restores the interfaces still in quarantine and names the one whose groups changed', async () => {
    stillIsolated();
    ec2.on(DescribeInstancesCommand).resolves(
      instance(
        [
          ['eni-bfcffe88', [QUARANTINE]],
          [SECOND_ENI, [ADMIN]],
        ],
        [PREVIOUS_TAG],
      ),
    );
    usedBy('eni-bfcffe88');

    const plan = await inverse.plan(undoContext(recorded));

    expect(plan.status).toBe('planned');
    expect(
      plan.calls.map((call) => [call.operation, call.input.NetworkInterfaceId ?? call.input.GroupId]),
    ).toEqual([
      ['ModifyNetworkInterfaceAttribute', 'eni-bfcffe88'],
      ['DeleteTags', undefined],
      ['DeleteSecurityGroup', QUARANTINE],
    ]);
    expect(plan.reason).toBe(
      `${SECOND_ENI} is in ${ADMIN} now, not only in quarantine group ${QUARANTINE}: changed since, so it is left as it is`,
    );
  });

  it('refuses when everything it would restore was changed since', async () => {
    ec2.on(DescribeInstancesCommand).resolves(
      instance(
        [
          ['eni-bfcffe88', [ADMIN]],
          [SECOND_ENI, [ADMIN]],
        ],
        [{ Key: 'riposte:previous-security-groups', Value: `eni-bfcffe88=${ADMIN}` }],
      ),
    );
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] }).rejects(groupNotFound());
    const ctx = undoContext(recorded);

    const plan = await inverse.plan(ctx);
    const outcome = await inverse.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toMatch(/^not restored: eni-bfcffe88 is in sg-0fedcba9876543210 now/);
    expect(plan.reason).toContain(
      `tag riposte:previous-security-groups of ${INSTANCE_ID} was rewritten since`,
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(mutatingCommands()).toEqual([]);
  });

  it('never touches an interface no longer attached to the instance, and keeps the group it is in', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance([['eni-bfcffe88', [QUARANTINE]]], [PREVIOUS_TAG]));
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] }).resolves({ SecurityGroups: [group()] });
    usedBy('eni-bfcffe88', SECOND_ENI);
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    const ctx = undoContext(recorded);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(
      ec2
        .commandCalls(ModifyNetworkInterfaceAttributeCommand)
        .map((call) => call.args[0].input.NetworkInterfaceId),
    ).toEqual(['eni-bfcffe88']);
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(0);
    expect(outcome.reason).toBe(
      `${SECOND_ENI} is no longer attached to ${INSTANCE_ID}, so it is not touched; quarantine group ${QUARANTINE} is still used by "${SECOND_ENI}", so it is not deleted`,
    );
  });

  it('deletes no group that does not carry the quarantine tag, whatever the record says', async () => {
    ec2
      .on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] })
      .resolves({ SecurityGroups: [group({ GroupName: 'payments-db', Tags: [] })] });

    const plan = await inverse.plan(undoContext(recorded));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toBe(
      `not restored: security group ${QUARANTINE} is not named riposte-quarantine-<vpc id> with the tag riposte:quarantine=true, so it is not deleted`,
    );
    expect(sentCommands(ec2)).not.toContain('DescribeNetworkInterfacesCommand');
  });

  it('deletes no tag and no group when the instance is gone', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [QUARANTINE] }).resolves({ SecurityGroups: [group()] });
    usedBy(SECOND_ENI);

    const plan = await inverse.plan(undoContext(recorded));

    expect(plan).toMatchObject({ status: 'no-op', calls: [] });
    expect(plan.reason).toBe(
      `nothing left to restore on ${INSTANCE_ID}: instance ${INSTANCE_ID} no longer exists; quarantine group ${QUARANTINE} is still used by "${SECOND_ENI}", so it is not deleted`,
    );
  });
});

describe('isolate-instance undo against a forged record', () => {
  const registry = createRegistry();

  it.each([
    [
      'a wildcard group id',
      { ...recorded, quarantineGroupId: 'sg-*' },
      '/quarantineGroupId',
      'must match pattern "^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$"',
    ],
    [
      'an interface with no previous group',
      { ...recorded, interfaces: [{ networkInterfaceId: 'eni-bfcffe88', previousGroupIds: [] }] },
      '/interfaces/0/previousGroupIds',
      'must not be empty',
    ],
    [
      'a malformed interface id',
      { ...recorded, interfaces: [{ networkInterfaceId: 'eni-BFCFFE88', previousGroupIds: [APP] }] },
      '/interfaces/0/networkInterfaceId',
      'must match pattern "^eni-(?:[0-9a-f]{8}|[0-9a-f]{17})$"',
    ],
    [
      'a created flag that is not a boolean',
      { ...recorded, createdQuarantineGroup: 'yes' },
      '/createdQuarantineGroup',
      'must be boolean',
    ],
    ['no instance', { ...recorded, instanceId: undefined }, '/instanceId', expect.any(String)],
    ['an unknown key', { ...recorded, vpcId: VPC }, '/vpcId', expect.any(String)],
  ])('refuses a recorded state with %s', (_, state, pointer, message) => {
    expect(registry.validateUndoState('isolate-instance', JSON.parse(JSON.stringify(state)))).toContainEqual({
      pointer,
      message,
    });
  });

  it('refuses, without any call, a record of another instance than the target', async () => {
    const plan = await inverse.plan(undoContext({ ...recorded, instanceId: 'i-0fedcba9876543210' }));

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toBe(
      `the recorded instance "i-0fedcba9876543210" is not the target ${INSTANCE_ID}; nothing was looked up or changed`,
    );
    expect(sentCommands(ec2)).toEqual([]);
  });

  it('refuses, without any call, a record that names an interface twice', async () => {
    const state = { ...recorded, interfaces: [recorded.interfaces[0], recorded.interfaces[0]] };

    const plan = await inverse.plan(undoContext(state));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('network interface eni-bfcffe88 is recorded twice');
    expect(sentCommands(ec2)).toEqual([]);
  });

  it('deletes tags and groups only under conditions that keep it to its own', () => {
    const grants = inverse.grants();

    expect(grants.find((grant) => grant.actions.includes('ec2:DeleteTags'))?.conditions).toEqual({
      'ForAllValues:StringLike': {
        'aws:TagKeys': ['riposte:previous-security-groups', 'riposte:previous-security-groups:*'],
      },
      Null: { 'aws:TagKeys': 'false' },
    });
    expect(grants.find((grant) => grant.actions.includes('ec2:DeleteSecurityGroup'))?.conditions).toEqual({
      StringEquals: { 'aws:ResourceTag/riposte:quarantine': 'true' },
    });
    expect([...new Set(grants.flatMap((grant) => grant.actions))].sort()).toEqual(
      [...inverse.permissions].sort(),
    );
  });
});
