import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  type Instance,
  type IpPermission,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { isolateInstance, previousGroupsTags } from '../../src/actions/isolate-instance.js';
import { contextFor, credentialsError, expectRefusedInstanceId, sentCommands } from '../helpers/context.js';
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
