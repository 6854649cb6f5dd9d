import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
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
import { contextFor, NOW } from '../helpers/context.js';
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

  it('refuses an invalid recorded state in validateUndoState', () => {
    const registry = createRegistry([isolateRdsInstance]);

    expect(
      registry.validateUndoState('isolate-rds-instance', { ...state, previousGroupIds: ['*'] }),
    ).not.toEqual([]);
    expect(registry.validateUndoState('isolate-rds-instance', state)).toEqual([]);
  });
});
