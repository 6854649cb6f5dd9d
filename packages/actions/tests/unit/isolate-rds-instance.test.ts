import {
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  RevokeSecurityGroupEgressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import {
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { hasInverse, type InverseContext } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { isolateRdsInstance } from '../../src/actions/isolate-rds-instance.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import { DB_ID, rdsSuccessfulLogin } from '../helpers/rds-s3-findings.js';

const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const VPC = 'vpc-06b1f2a3c4d5e6f70';
const QUARANTINE = 'sg-0fedcba9876543210';
const APP = 'sg-0123456789abcdef0';

const db = (groups: string[], publiclyAccessible: boolean, extra: object = {}) => ({
  DBInstances: [
    {
      DBInstanceIdentifier: DB_ID,
      DBInstanceStatus: 'available',
      DBSubnetGroup: { VpcId: VPC },
      VpcSecurityGroups: groups.map((id) => ({ VpcSecurityGroupId: id, Status: 'active' })),
      PubliclyAccessible: publiclyAccessible,
      ...extra,
    },
  ],
});

const params = { quarantineGroupId: QUARANTINE };

beforeEach(() => {
  rds.reset();
  ec2.reset();
  rds.on(DescribeDBInstancesCommand).resolves(db([APP], true));
  rds.on(ModifyDBInstanceCommand).resolves({});
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [{ GroupId: QUARANTINE, VpcId: VPC, IpPermissions: [], IpPermissionsEgress: [] }],
  });
});
afterAll(() => {
  rds.restore();
  ec2.restore();
});

const modifyInput = {
  DBInstanceIdentifier: DB_ID,
  VpcSecurityGroupIds: [QUARANTINE],
  PubliclyAccessible: false,
  ApplyImmediately: true,
};

describe('isolate-rds-instance', () => {
  it('plans ModifyDBInstance into the verified quarantine group, not publicly accessible', async () => {
    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      { service: 'RDS', operation: 'ModifyDBInstance', input: modifyInput, mutating: true },
    ]);
  });

  it("plans creating Riposte's group when none is pinned and none exists", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });

    const plan = await isolateRdsInstance.plan(contextFor(isolateRdsInstance, rdsSuccessfulLogin()));

    expect(plan.calls.map((call) => call.operation)).toEqual([
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'ModifyDBInstance',
    ]);
  });

  it('plans a no-op when the DB is already isolated', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([QUARANTINE], false));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan.status).toBe('no-op');
  });

  it('refuses an Aurora cluster member, saying why', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([APP], false, { DBClusterIdentifier: 'orders-aurora' }));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({ status: 'refused', reason: expect.stringContaining('set on the cluster') });
  });

  it('refuses a pinned group with rules', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: QUARANTINE, VpcId: VPC, IpPermissions: [{ IpProtocol: '-1' }] }],
    });

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan.status).toBe('refused');
  });

  it('applies, records the previous groups and public accessibility, and skips when run again', async () => {
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params });
    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));
    rds.on(DescribeDBInstancesCommand).resolves(db([QUARANTINE], false));
    const again = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(outcome.undo).toEqual({
      dbInstanceIdentifier: DB_ID,
      quarantineGroupId: QUARANTINE,
      previousGroupIds: [APP],
      previousPubliclyAccessible: true,
    });
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0]?.args[0].input).toEqual(modifyInput);
    expect(again.status).toBe('skipped');
  });

  it('maps an SDK error to an execution error', async () => {
    rds.on(ModifyDBInstanceCommand).rejects(
      new RDSServiceException({
        name: 'InvalidDBInstanceStateFault',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not available',
      }),
    );
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params });

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: expect.any(String) } });
    expect(outcome.undo).toBeUndefined();
  });

  it('makes no mutating call in dry-run', async () => {
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params, mode: 'dry-run' });

    await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });
});

describe('isolate-rds-instance undo', () => {
  const inverse = isolateRdsInstance.undo;
  if (!hasInverse(inverse)) throw new Error('isolate-rds-instance has an inverse');
  const finding = rdsSuccessfulLogin();
  const target = isolateRdsInstance.targets(finding, {}).targets[0]!;
  const state = {
    dbInstanceIdentifier: DB_ID,
    quarantineGroupId: QUARANTINE,
    previousGroupIds: [APP],
    previousPubliclyAccessible: true,
  };
  const inverseCtx = (recorded: object = state): InverseContext<Record<string, unknown>, AwsServices> => ({
    findingId: finding.id,
    target,
    state: recorded as Record<string, unknown>,
    services: contextFor(isolateRdsInstance, finding).services,
    mode: 'enforce',
    now: NOW,
  });

  it('plans putting the recorded groups and public accessibility back', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([QUARANTINE], false));

    const plan = await inverse.plan(inverseCtx());

    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'ModifyDBInstance',
        input: {
          DBInstanceIdentifier: DB_ID,
          VpcSecurityGroupIds: [APP],
          PubliclyAccessible: true,
          ApplyImmediately: true,
        },
      }),
    ]);
  });

  it('applies, then skips when the DB is as before', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([QUARANTINE], false));
    const applied = await inverse.execute(inverseCtx(), await inverse.plan(inverseCtx()));
    rds.on(DescribeDBInstancesCommand).resolves(db([APP], true));
    const skipped = await inverse.execute(inverseCtx(), await inverse.plan(inverseCtx()));

    expect(applied.status).toBe('applied');
    expect(skipped.status).toBe('skipped');
  });

  it('refuses when the DB was changed since', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([QUARANTINE, 'sg-0aaaaaaaaaaaaaaaa'], false));

    const plan = await inverse.plan(inverseCtx());

    expect(plan).toMatchObject({ status: 'refused', reason: expect.stringContaining('changed since') });
  });

  it('plans a no-op when the DB no longer exists', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(rdsError('DBInstanceNotFound', 404));

    const plan = await inverse.plan(inverseCtx());

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `DB instance ${DB_ID} no longer exists`,
      calls: [],
    });
  });

  it('plans a no-op naming the groups when the DB is restored already', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([APP], true));

    const plan = await inverse.plan(inverseCtx());

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `DB instance ${DB_ID} is restored already: it is in ${APP} as before`,
      calls: [],
    });
  });

  it('refuses when the DB is only in the quarantine group but was made public again, and changes nothing', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([QUARANTINE], true));

    const plan = await inverse.plan(inverseCtx());
    const outcome = await inverse.execute(inverseCtx(), plan);

    expect(plan.reason).toBe(
      `not restored: DB instance ${DB_ID} is in ${QUARANTINE} and publicly accessible now, not only in quarantine group ${QUARANTINE} as Riposte left it: changed since, so it is left as it is`,
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });

  it('refuses when the DB is in no security group at all now', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([], false));

    const plan = await inverse.plan(inverseCtx());

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain(`DB instance ${DB_ID} is in (none) now`);
  });

  it('plans offline the recorded ModifyDBInstance when there are no credentials', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(credentialsError());

    const plan = await inverse.plan(inverseCtx());

    expect(plan.status).toBe('planned');
    expect(plan.lookups).toEqual([expect.objectContaining({ status: 'unavailable' })]);
    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'ModifyDBInstance',
        input: expect.objectContaining({ VpcSecurityGroupIds: [APP] }),
      }),
    ]);
  });

  it('refuses a recorded target that is not a DB instance, looking nothing up', async () => {
    const plan = await inverse.plan({ ...inverseCtx(), target: { ...target, kind: 'instance' } });

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(plan.reason).toContain('not a DB instance; nothing was looked up or changed');
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(0);
  });

  it('refuses a recorded state naming another DB instance than the target', async () => {
    const plan = await inverse.plan(inverseCtx({ ...state, dbInstanceIdentifier: 'billing-db' }));

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(plan.reason).toBe(
      `the recorded DB instance "billing-db" is not the target ${DB_ID}; nothing was looked up or changed`,
    );
  });

  it('refuses a malformed recorded group id even when handed to the inverse directly', async () => {
    const ctx = inverseCtx({ ...state, previousGroupIds: [APP, 'sg-*'] });

    const plan = await inverse.plan(ctx);
    const outcome = await inverse.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(sentCommands(rds, ec2)).toEqual([]);
  });

  it('fails retryable when ModifyDBInstance answers a 5xx while restoring', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([QUARANTINE], false));
    rds.on(ModifyDBInstanceCommand).rejects(rdsError('InternalFailure', 500));

    const outcome = await inverse.execute(inverseCtx(), await inverse.plan(inverseCtx()));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'InternalFailure', retryable: true } });
  });

  it('refuses an invalid recorded state in validateUndoState', () => {
    const registry = createRegistry([isolateRdsInstance]);

    expect(
      registry.validateUndoState('isolate-rds-instance', { ...state, previousGroupIds: ['*'] }),
    ).not.toEqual([]);
    expect(registry.validateUndoState('isolate-rds-instance', state)).toEqual([]);
  });
});

const GROUP_NAME = `riposte-quarantine-${VPC}`;
const OWN_GROUP = 'sg-0aaaabbbbccccdddd';
const OTHER_VPC = 'vpc-0abcdef0123456789';

const groupFilters = {
  Filters: [
    { Name: 'vpc-id', Values: [VPC] },
    { Name: 'group-name', Values: [GROUP_NAME] },
  ],
};

/** Riposte's own quarantine group of the VPC as DescribeSecurityGroups shows it: tagged, no rule by default. */
const ownGroup = (fields: Partial<SecurityGroup> = {}): SecurityGroup => ({
  GroupId: OWN_GROUP,
  GroupName: GROUP_NAME,
  VpcId: VPC,
  IpPermissions: [],
  IpPermissionsEgress: [],
  Tags: [
    { Key: 'riposte:quarantine', Value: 'true' },
    { Key: 'Name', Value: GROUP_NAME },
  ],
  ...fields,
});

/** Riposte's group is found by name and, read by its id, is `verified`. */
const ownGroupExists = (found: SecurityGroup = ownGroup(), verified: SecurityGroup = found) => {
  ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({ SecurityGroups: [found] });
  ec2
    .on(DescribeSecurityGroupsCommand, { GroupIds: [found.GroupId ?? ''] })
    .resolves({ SecurityGroups: [verified] });
};

const rdsError = (name: string, httpStatusCode: number) =>
  new RDSServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: name,
  });

const ec2Error = (name: string) =>
  new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message: name });

const mutatingCommands = () => sentCommands(rds, ec2).filter((name) => !name.startsWith('Describe'));

describe('isolate-rds-instance targets', () => {
  it('targets the DB instance the finding names, with its ARN', () => {
    const finding = rdsSuccessfulLogin();

    expect(isolateRdsInstance.targets(finding, {}).targets).toEqual([
      expect.objectContaining({
        kind: 'rds-instance',
        id: DB_ID,
        arn: `arn:aws:rds:${finding.region}:${finding.accountId}:db:${DB_ID}`,
      }),
    ]);
  });

  it('gives a reason when the finding names no DB instance', () => {
    const finding = { ...rdsSuccessfulLogin(), resources: [] };

    expect(isolateRdsInstance.targets(finding, {})).toEqual({
      targets: [],
      reason: 'the finding names no RDS DB instance',
    });
  });

  it('grants the quarantine-group permissions only when no group is pinned', () => {
    const own = isolateRdsInstance.grants?.({}) ?? [];
    const pinned = isolateRdsInstance.grants?.(params) ?? [];

    expect(own.flatMap((grant) => grant.actions)).toContain('ec2:CreateSecurityGroup');
    expect(pinned.flatMap((grant) => grant.actions)).toEqual([
      'rds:DescribeDBInstances',
      'rds:ModifyDBInstance',
      'ec2:DescribeSecurityGroups',
    ]);
  });
});

describe('isolate-rds-instance plan: the DB instance', () => {
  it('refuses a malformed DB identifier before any lookup', async () => {
    const finding = rdsSuccessfulLogin();
    const target = { ...isolateRdsInstance.targets(finding, {}).targets[0]!, id: 'orders-*' };
    const ctx = contextFor(isolateRdsInstance, finding, { params, target });

    const plan = await isolateRdsInstance.plan(ctx);
    const outcome = await isolateRdsInstance.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toContain('nothing was looked up or changed');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' }, calls: [] });
  });

  it('refuses a malformed pinned quarantineGroupId before any lookup', async () => {
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), {
      params: { quarantineGroupId: 'sg-*' },
    });

    const plan = await isolateRdsInstance.plan(ctx);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(sentCommands(rds, ec2)).toEqual([]);
  });

  it('plans a no-op when DescribeDBInstances says the DB does not exist', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(rdsError('DBInstanceNotFoundFault', 404));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `DB instance ${DB_ID} no longer exists`,
      calls: [],
    });
    expect(plan.lookups.map((lookup) => lookup.summary)).toEqual([`DB instance ${DB_ID} does not exist`]);
  });

  it('skips when DescribeDBInstances answers without the DB', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'another-db' }] });
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params });

    const plan = await isolateRdsInstance.plan(ctx);
    const outcome = await isolateRdsInstance.execute(ctx, plan);

    expect(plan.lookups[0]?.summary).toBe(`DB instance ${DB_ID} was not returned`);
    expect(outcome).toMatchObject({ status: 'skipped', reason: `DB instance ${DB_ID} no longer exists` });
    expect(mutatingCommands()).toEqual([]);
  });

  it('plans a no-op when the DB is being deleted', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([APP], true, { DBInstanceStatus: 'deleting' }));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({ status: 'no-op', reason: `DB instance ${DB_ID} is being deleted` });
  });

  it('refuses an Aurora cluster member when executed, sending no ModifyDBInstance', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([APP], true, { DBClusterIdentifier: 'orders-aurora' }));
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params });

    const plan = await isolateRdsInstance.plan(ctx);
    const outcome = await isolateRdsInstance.execute(ctx, plan);

    expect(plan.lookups[0]?.summary).toContain('a member of cluster orders-aurora');
    expect(plan.reason).toContain('"orders-aurora"');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED', message: plan.reason } });
    expect(mutatingCommands()).toEqual([]);
  });

  it('refuses a DB outside a VPC', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([], true, { DBSubnetGroup: undefined }));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `DB instance ${DB_ID} is not in a VPC (EC2-Classic DB security groups are not supported)`,
      calls: [],
    });
    expect(plan.lookups[0]?.summary).toContain('in no VPC, security groups (none)');
  });

  it('refuses a malformed VPC id in the answer, looking up no security group', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([APP], true, { DBSubnetGroup: { VpcId: 'vpc-*' } }));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan.status).toBe('refused');
    expect(plan.reason).toMatch(new RegExp(`^DB instance ${DB_ID}: `));
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(0);
  });

  it('refuses a malformed security group id in the answer', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([APP, 'sg-*'], true));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan.status).toBe('refused');
    expect(plan.reason).toMatch(new RegExp(`^DB instance ${DB_ID}: `));
  });

  it('leaves out groups being removed, so a DB already only in the quarantine group is a no-op', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: DB_ID,
          DBInstanceStatus: 'modifying',
          DBSubnetGroup: { VpcId: VPC },
          VpcSecurityGroups: [
            { VpcSecurityGroupId: APP, Status: 'removing' },
            { VpcSecurityGroupId: 'sg-0aaaaaaaaaaaaaaaa', Status: 'inactive' },
            { VpcSecurityGroupId: QUARANTINE, Status: 'adding' },
          ],
          PubliclyAccessible: false,
        },
      ],
    });

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `DB instance ${DB_ID} is already only in quarantine group ${QUARANTINE} and not publicly accessible`,
    });
  });

  it('still plans ModifyDBInstance when the DB is only in the quarantine group but publicly accessible', async () => {
    rds.on(DescribeDBInstancesCommand).resolves(db([QUARANTINE], true));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({
      status: 'planned',
      calls: [expect.objectContaining({ input: modifyInput })],
    });
  });

  it('plans offline with placeholders when there are no credentials', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(credentialsError());

    const plan = await isolateRdsInstance.plan(contextFor(isolateRdsInstance, rdsSuccessfulLogin()));

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => [lookup.status, lookup.summary])).toEqual([
      ['unavailable', `would look up DescribeDBInstances ${DB_ID}`],
      [
        'unavailable',
        'would look up DescribeSecurityGroups <VpcId from DescribeDBInstances> riposte-quarantine-<VpcId from DescribeDBInstances>',
      ],
    ]);
    expect(plan.calls.map((call) => call.operation)).toEqual([
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'ModifyDBInstance',
    ]);
    expect(plan.calls.at(-1)?.input).toEqual({
      ...modifyInput,
      VpcSecurityGroupIds: ['<GroupId from CreateSecurityGroup>'],
    });
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(0);
  });

  it('plans offline into a pinned group without verifying it', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(credentialsError());

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan.calls).toEqual([
      expect.objectContaining({ operation: 'ModifyDBInstance', input: modifyInput }),
    ]);
    expect(plan.lookups.at(-1)).toMatchObject({
      status: 'unavailable',
      summary: `would look up DescribeSecurityGroups ${QUARANTINE}`,
    });
  });

  it('fails the plan with the RDS error code when DescribeDBInstances is denied', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(rdsError('AccessDenied', 403));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({
      status: 'failed',
      calls: [],
      error: { code: 'AccessDenied', retryable: false },
    });
    expect(plan.lookups).toEqual([expect.objectContaining({ status: 'failed' })]);
  });
});

describe('isolate-rds-instance plan: a pinned quarantine group', () => {
  it('refuses a pinned group that does not exist', async () => {
    ec2.on(DescribeSecurityGroupsCommand).rejects(ec2Error('InvalidGroup.NotFound'));

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `pinned quarantine group ${QUARANTINE} does not exist`,
      calls: [],
    });
    expect(plan.lookups.at(-1)?.summary).toBe(`security group ${QUARANTINE} does not exist`);
  });

  it('refuses a pinned group DescribeSecurityGroups does not return', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `pinned quarantine group ${QUARANTINE} does not exist`,
    });
    expect(plan.lookups.at(-1)?.summary).toBe(`security group ${QUARANTINE} was not returned`);
  });

  it("refuses a pinned group in another VPC than the DB's", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: QUARANTINE, VpcId: OTHER_VPC, IpPermissions: [], IpPermissionsEgress: [] }],
    });
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params });

    const plan = await isolateRdsInstance.plan(ctx);
    const outcome = await isolateRdsInstance.execute(ctx, plan);

    expect(plan.reason).toBe(
      `pinned quarantine group ${QUARANTINE} is in "${OTHER_VPC}", not the DB's VPC ${VPC}`,
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(mutatingCommands()).toEqual([]);
  });

  it('counts inbound and outbound rules of a pinned group it refuses', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: QUARANTINE,
          VpcId: VPC,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 }],
          IpPermissionsEgress: [{ IpProtocol: '-1' }],
        },
      ],
    });

    const plan = await isolateRdsInstance.plan(
      contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params }),
    );

    expect(plan.reason).toBe(
      `pinned quarantine group ${QUARANTINE} has 2 rule(s); a quarantine group must have none, so it is not used (Riposte does not change its rules)`,
    );
    expect(plan.lookups.at(-1)?.summary).toBe(`${QUARANTINE} in ${VPC}: 2 rule(s)`);
  });
});

describe("isolate-rds-instance: Riposte's own quarantine group", () => {
  it("reuses Riposte's existing group of the VPC and creates nothing", async () => {
    ownGroupExists();
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin());

    const plan = await isolateRdsInstance.plan(ctx);
    const outcome = await isolateRdsInstance.execute(ctx, plan);

    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'ModifyDBInstance',
        input: { ...modifyInput, VpcSecurityGroupIds: [OWN_GROUP] },
      }),
    ]);
    expect(plan.lookups.map((lookup) => lookup.summary).slice(1)).toEqual([
      `${GROUP_NAME} is ${OWN_GROUP}`,
      `${OWN_GROUP} in ${VPC}: 0 rule(s)`,
    ]);
    expect(outcome).toMatchObject({
      status: 'applied',
      outputs: {
        quarantineGroupId: OWN_GROUP,
        createdQuarantineGroup: false,
        previousSecurityGroups: [APP],
        previousPubliclyAccessible: true,
      },
    });
    expect(mutatingCommands()).toEqual(['ModifyDBInstanceCommand']);
  });

  it("ignores a group of that name in another VPC and plans creating Riposte's", async () => {
    ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({
      SecurityGroups: [ownGroup({ VpcId: OTHER_VPC })],
    });

    const plan = await isolateRdsInstance.plan(contextFor(isolateRdsInstance, rdsSuccessfulLogin()));

    expect(plan.lookups.at(-1)?.summary).toBe(`no quarantine group ${GROUP_NAME} in ${VPC} yet`);
    expect(plan.calls[0]).toMatchObject({
      operation: 'CreateSecurityGroup',
      input: expect.objectContaining({ VpcId: VPC, GroupName: GROUP_NAME }),
    });
  });

  it('refuses a group with the quarantine name that is not tagged riposte:quarantine=true', async () => {
    ownGroupExists(ownGroup({ Tags: [{ Key: 'riposte:quarantine', Value: 'false' }] }));
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin());

    const plan = await isolateRdsInstance.plan(ctx);
    const outcome = await isolateRdsInstance.execute(ctx, plan);

    expect(plan.reason).toBe(
      `security group ${OWN_GROUP} is named ${GROUP_NAME} but is not tagged riposte:quarantine=true, so Riposte does not use it`,
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(mutatingCommands()).toEqual([]);
  });

  it('refuses a group with the quarantine name and no valid id', async () => {
    ownGroupExists(ownGroup({ GroupId: 'sg-*' }));

    const plan = await isolateRdsInstance.plan(contextFor(isolateRdsInstance, rdsSuccessfulLogin()));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toMatch(new RegExp(`^quarantine group ${GROUP_NAME}: `));
  });

  it("refuses Riposte's group when someone added rules to it", async () => {
    ownGroupExists(ownGroup({ IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 }] }));

    const plan = await isolateRdsInstance.plan(contextFor(isolateRdsInstance, rdsSuccessfulLogin()));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain(`quarantine group ${OWN_GROUP} has 1 rule(s)`);
  });

  it('creates the group, revokes its default egress, verifies it empty, then moves the DB into it', async () => {
    ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({ SecurityGroups: [] });
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: OWN_GROUP });
    ec2
      .on(DescribeSecurityGroupsCommand, { GroupIds: [OWN_GROUP] })
      .resolvesOnce({
        SecurityGroups: [
          ownGroup({
            IpPermissionsEgress: [
              {
                IpProtocol: '-1',
                IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'default' }],
                Ipv6Ranges: [],
                UserIdGroupPairs: [],
              },
              {
                IpProtocol: 'tcp',
                FromPort: 443,
                ToPort: 443,
                Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'https' }],
              },
            ],
          }),
        ],
      })
      .resolves({ SecurityGroups: [ownGroup()] });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin());

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'applied',
      outputs: { quarantineGroupId: OWN_GROUP, createdQuarantineGroup: true },
      undo: {
        dbInstanceIdentifier: DB_ID,
        quarantineGroupId: OWN_GROUP,
        previousGroupIds: [APP],
        previousPubliclyAccessible: true,
      },
    });
    expect(outcome.calls.filter((call) => call.mutating).map((call) => call.operation)).toEqual([
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'ModifyDBInstance',
    ]);
    expect(ec2.commandCalls(CreateSecurityGroupCommand)[0]?.args[0].input).toMatchObject({
      GroupName: GROUP_NAME,
      VpcId: VPC,
      TagSpecifications: [
        expect.objectContaining({
          Tags: expect.arrayContaining([{ Key: 'riposte:quarantine', Value: 'true' }]),
        }),
      ],
    });
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)[0]?.args[0].input).toEqual({
      GroupId: OWN_GROUP,
      IpPermissions: [
        { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ],
    });
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0]?.args[0].input).toEqual({
      ...modifyInput,
      VpcSecurityGroupIds: [OWN_GROUP],
    });
  });

  it('revokes nothing when the new group comes without egress', async () => {
    ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({ SecurityGroups: [] });
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: OWN_GROUP });
    ec2
      .on(DescribeSecurityGroupsCommand, { GroupIds: [OWN_GROUP] })
      .resolves({ SecurityGroups: [ownGroup()] });
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin());

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(outcome.calls.filter((call) => call.mutating).map((call) => call.operation)).toEqual([
      'CreateSecurityGroup',
      'ModifyDBInstance',
    ]);
  });

  it('fails, moving nothing, when CreateSecurityGroup answers no valid group id', async () => {
    ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({ SecurityGroups: [] });
    ec2.on(CreateSecurityGroupCommand).resolves({});
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin());

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(outcome.error?.message).toMatch(/^CreateSecurityGroup answered /);
    expect(outcome.undo).toBeUndefined();
    expect(mutatingCommands()).toEqual(['CreateSecurityGroupCommand']);
  });

  it('fails, moving nothing, when the new group still has a rule after the egress is revoked', async () => {
    ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({ SecurityGroups: [] });
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: OWN_GROUP });
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [OWN_GROUP] }).resolves({
      SecurityGroups: [
        ownGroup({ IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
      ],
    });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin());

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: {
        code: 'REFUSED',
        message: expect.stringContaining(`new quarantine group ${OWN_GROUP} has 1 rule(s)`),
      },
    });
    expect(outcome.undo).toBeUndefined();
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });

  it('refuses to create the group in dry-run', async () => {
    ec2.on(DescribeSecurityGroupsCommand, groupFilters).resolves({ SecurityGroups: [] });
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { mode: 'dry-run' });

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(mutatingCommands()).toEqual([]);
  });
});

describe('isolate-rds-instance SDK errors', () => {
  it('fails retryable when ModifyDBInstance is throttled, recording no undo', async () => {
    rds.on(ModifyDBInstanceCommand).rejects(rdsError('Throttling', 400));
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params });

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'Throttling', retryable: true } });
    expect(outcome.undo).toBeUndefined();
    expect(outcome.calls.map((call) => [call.operation, call.errorCode])).toEqual([
      ['DescribeDBInstances', undefined],
      ['DescribeSecurityGroups', undefined],
      ['ModifyDBInstance', 'Throttling'],
    ]);
  });

  it('fails not retryable with the RDS code when the DB is in a state that refuses changes', async () => {
    rds.on(ModifyDBInstanceCommand).rejects(rdsError('InvalidDBInstanceStateFault', 400));
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params });

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'InvalidDBInstanceStateFault', retryable: false },
    });
  });

  it('fails retryable when DescribeSecurityGroups answers a 5xx while executing', async () => {
    ec2.on(DescribeSecurityGroupsCommand).rejects(
      new EC2ServiceException({
        name: 'InternalError',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
        message: 'x',
      }),
    );
    const ctx = contextFor(isolateRdsInstance, rdsSuccessfulLogin(), { params });

    const outcome = await isolateRdsInstance.execute(ctx, await isolateRdsInstance.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'InternalError', retryable: true } });
    expect(mutatingCommands()).toEqual([]);
  });
});
