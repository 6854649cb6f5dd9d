import { describe, expect, it } from 'vitest';
import { normalizeFinding } from '../../src/normalize/index.js';
import { fixtureJson, formatError, withValue } from '../helpers/fixtures.js';

/** CredentialAccess:RDS/MaliciousIPCaller.SuccessfulLogin on an Aurora Limitless Database shard group. */
const limitless = () => fixtureJson('documented', '07');
/** The ASFF form of an RDS login finding: AwsRdsDbInstance, the user flattened into Details.Other. */
const asffLogin = () => fixtureJson('documented', '13');

const LIMITLESS = ['resource', 'rdsLimitlessDbDetails'];
const USER = ['resource', 'rdsDbUserDetails'];

describe('RDS Limitless Database (rdsLimitlessDbDetails)', () => {
  it('gives the shard group, its Aurora cluster and the database user', () => {
    const finding = normalizeFinding(limitless());

    expect(finding.resourceType).toBe('RDSLimitlessDB');
    expect(finding.resources).toEqual([
      {
        kind: 'rds-limitless-db',
        dbShardGroupIdentifier: 'orders-shard-group',
        dbShardGroupArn:
          'arn:aws:rds:us-east-1:123456789012:shard-group:shardgroup-2f7a9c1e3b5d4f6a8c0e2b4d6f8a0c2e',
        dbShardGroupResourceId: 'shardgroup-2f7a9c1e3b5d4f6a8c0e2b4d6f8a0c2e',
        dbClusterIdentifier: 'orders-limitless',
        engine: 'aurora-postgresql',
        engineVersion: '16.6-limitless',
        tags: { app: 'orders' },
      },
      {
        kind: 'rds-cluster',
        dbClusterIdentifier: 'orders-limitless',
        arn: 'arn:aws:rds:us-east-1:123456789012:cluster:orders-limitless',
        engine: 'aurora-postgresql',
        tags: {},
      },
      {
        kind: 'rds-user',
        user: 'orders_app',
        application: 'psql',
        database: 'orders',
        ssl: 'TLSv1.3',
        authMethod: 'PASSWORD',
        engine: 'aurora-postgresql',
        dbClusterIdentifier: 'orders-limitless',
      },
    ]);
    expect(finding.actor).toMatchObject({
      actionType: 'RDS_LOGIN_ATTEMPT',
      remoteIp: '203.0.113.99',
      remoteIps: ['203.0.113.99'],
    });
  });

  it('gives no cluster when the shard group names none', () => {
    const finding = normalizeFinding(
      withValue(limitless(), [...LIMITLESS, 'dbClusterIdentifier'], undefined),
    );

    expect(finding.resources.map((resource) => resource.kind)).toEqual(['rds-limitless-db', 'rds-user']);
    expect(finding.resources[1]).not.toHaveProperty('dbClusterIdentifier', expect.anything());
  });

  it('gives the user alone when the finding has no database block', () => {
    const finding = normalizeFinding(withValue(limitless(), LIMITLESS, undefined));

    expect(finding.resources).toEqual([
      expect.objectContaining({ kind: 'rds-user', user: 'orders_app', engine: undefined }),
    ]);
  });
});

describe('RDS login in ASFF', () => {
  it('reads DBInstanceIdentifier as ASFF spells it, the cluster it names, and the user from Details.Other', () => {
    const finding = normalizeFinding(asffLogin());

    expect(finding.resources).toEqual([
      {
        kind: 'rds-instance',
        dbInstanceIdentifier: 'orders-primary',
        arn: 'arn:aws:rds:us-east-1:123456789012:db:orders-primary',
        engine: 'aurora-postgresql',
        dbClusterIdentifier: 'orders-aurora',
        tags: { app: 'orders' },
      },
      {
        kind: 'rds-cluster',
        dbClusterIdentifier: 'orders-aurora',
        arn: 'arn:aws:rds:us-east-1:123456789012:cluster:orders-aurora',
        engine: 'aurora-postgresql',
        tags: {},
      },
      {
        kind: 'rds-user',
        user: 'reporting',
        application: 'psql',
        database: 'orders',
        ssl: 'TLSv1.2',
        authMethod: 'PASSWORD',
        engine: 'aurora-postgresql',
        dbInstanceIdentifier: 'orders-primary',
        dbClusterIdentifier: 'orders-aurora',
      },
    ]);
    expect(finding.actor?.remoteIps).toEqual(['203.0.113.99']);
  });

  it('reads an AwsRdsDbCluster resource as the cluster, once', () => {
    const input = fixtureJson('documented', '13');
    const findingJson = input as { Resources: Record<string, unknown>[] };
    findingJson.Resources.push({
      Type: 'AwsRdsDbCluster',
      Id: 'arn:aws:rds:us-east-1:123456789012:cluster:orders-aurora',
      Details: { AwsRdsDbCluster: { DbClusterIdentifier: 'orders-aurora', Engine: 'aurora-postgresql' } },
    });

    const clusters = normalizeFinding(input).resources.filter((resource) => resource.kind === 'rds-cluster');

    expect(clusters).toHaveLength(1);
  });
});

describe('malformed RDS details', () => {
  it('refuses a shard group without its identifier', () => {
    const error = formatError(() =>
      normalizeFinding(withValue(limitless(), [...LIMITLESS, 'dbShardGroupIdentifier'], undefined)),
    );

    expect(error.path).toBe('/resource/rdsLimitlessDbDetails/dbShardGroupIdentifier');
  });

  it('refuses a database user without a user name', () => {
    expect(formatError(() => normalizeFinding(withValue(limitless(), [...USER, 'user'], ''))).path).toBe(
      '/resource/rdsDbUserDetails/user',
    );
  });

  it.each([
    [[...LIMITLESS, 'engine'], 16],
    [[...LIMITLESS, 'tags'], 'app=orders'],
    [[...USER, 'ssl'], true],
    [USER, ['orders_app']],
  ] as const)('refuses %j = %j at that node', (keys, value) => {
    expect(formatError(() => normalizeFinding(withValue(limitless(), [...keys], value))).path).toBe(
      `/${keys.join('/')}`,
    );
  });

  it('names the Details.Other key of a flattened user that is not text', () => {
    const input = withValue(asffLogin(), ['Resources', 0, 'Details', 'Other', 'rdsDbUserDetails/user'], 42);

    expect(formatError(() => normalizeFinding(input)).path).toBe(
      '/Resources/0/Details/Other/rdsDbUserDetails~1user',
    );
  });
});
