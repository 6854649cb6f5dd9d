import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  type Instance,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { isolateInstance, previousGroupsTags } from '../../src/actions/isolate-instance.js';
import { contextFor, credentialsError, sentCommands } from '../helpers/context.js';
import { commandAndControl, INSTANCE_ID, instanceCredentialExfiltration } from '../helpers/findings.js';

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

const groupFilters = {
  Filters: [
    { Name: 'vpc-id', Values: [VPC] },
    { Name: 'tag:riposte:quarantine', Values: ['true'] },
  ],
};

const quarantineExists = () =>
  ec2
    .on(DescribeSecurityGroupsCommand, groupFilters)
    .resolves({ SecurityGroups: [{ GroupId: QUARANTINE, VpcId: VPC }] });

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
          GroupName: 'riposte-quarantine',
          Description: 'Riposte quarantine: no inbound or outbound rules',
          VpcId: VPC,
          TagSpecifications: [
            {
              ResourceType: 'security-group',
              Tags: [
                { Key: 'riposte:quarantine', Value: 'true' },
                { Key: 'Name', Value: 'riposte-quarantine' },
              ],
            },
          ],
        },
      ],
      [
        'RevokeSecurityGroupEgress',
        {
          GroupId: '<GroupId from CreateSecurityGroup>',
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
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

  it('reuses the quarantine group the VPC already has', async () => {
    quarantineExists();

    const plan = await isolateInstance.plan(contextFor(isolateInstance, commandAndControl()));

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
      `would look up DescribeSecurityGroups ${VPC}`,
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
    expect(outcome.outputs).toEqual({
      quarantineGroupId: QUARANTINE,
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
      ['CreateTags', undefined],
      ['ModifyNetworkInterfaceAttribute', 'UnauthorizedOperation'],
    ]);
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
