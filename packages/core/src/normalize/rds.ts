/**
 * The RDS side of a finding: the DB instance (`rdsDbInstanceDetails`) or the Aurora Limitless Database
 * shard group (`rdsLimitlessDbDetails`) a login was seen on, the Aurora cluster either belongs to, and
 * the database user that logged in (`rdsDbUserDetails`). Field names are those of the GuardDuty API.
 */
import type {
  RdsClusterResource,
  RdsInstanceResource,
  RdsLimitlessDbResource,
  RdsUserResource,
  Resource,
} from '../finding.js';
import {
  type JsonObject,
  type Located,
  optionalObject,
  optionalString,
  requiredString,
  tagsAt,
} from './read.js';
import type { Scope } from './resources.js';

export const rdsClusterArn = (scope: Scope, dbClusterIdentifier: string): string =>
  `arn:${scope.partition}:rds:${scope.region}:${scope.accountId}:cluster:${dbClusterIdentifier}`;

export const rdsInstanceOf = ({ value, path }: Located<JsonObject>): RdsInstanceResource => ({
  kind: 'rds-instance',
  dbInstanceIdentifier: requiredString(value, path, 'dbInstanceIdentifier'),
  arn: optionalString(value, path, 'dbInstanceArn'),
  engine: optionalString(value, path, 'engine'),
  dbClusterIdentifier: optionalString(value, path, 'dbClusterIdentifier'),
  tags: tagsAt(value, path, 'tags'),
});

export const rdsLimitlessDbOf = ({ value, path }: Located<JsonObject>): RdsLimitlessDbResource => ({
  kind: 'rds-limitless-db',
  dbShardGroupIdentifier: requiredString(value, path, 'dbShardGroupIdentifier'),
  dbShardGroupArn: optionalString(value, path, 'dbShardGroupArn'),
  dbShardGroupResourceId: optionalString(value, path, 'dbShardGroupResourceId'),
  dbClusterIdentifier: optionalString(value, path, 'dbClusterIdentifier'),
  engine: optionalString(value, path, 'engine'),
  engineVersion: optionalString(value, path, 'engineVersion'),
  tags: tagsAt(value, path, 'tags'),
});

/** The Aurora cluster a DB instance or shard group names, with the ARN it has in the finding's account. */
export const rdsClusterOf = (
  dbClusterIdentifier: string,
  engine: string | undefined,
  scope: Scope,
): RdsClusterResource => ({
  kind: 'rds-cluster',
  dbClusterIdentifier,
  arn: rdsClusterArn(scope, dbClusterIdentifier),
  engine,
  tags: {},
});

/** `rdsDbUserDetails`, with the database it logged in to. */
export const rdsUserOf = (
  { value, path }: Located<JsonObject>,
  database: RdsInstanceResource | RdsLimitlessDbResource | undefined,
): RdsUserResource => ({
  kind: 'rds-user',
  user: requiredString(value, path, 'user'),
  application: optionalString(value, path, 'application'),
  database: optionalString(value, path, 'database'),
  ssl: optionalString(value, path, 'ssl'),
  authMethod: optionalString(value, path, 'authMethod'),
  engine: database?.engine,
  dbInstanceIdentifier: database?.kind === 'rds-instance' ? database.dbInstanceIdentifier : undefined,
  dbClusterIdentifier: database?.dbClusterIdentifier,
});

/**
 * The resources of an RDS finding: the DB instance (`RDSDBInstance`) or the shard group
 * (`RDSLimitlessDB`), the cluster it names, and the database user.
 */
export const rdsResources = (
  resource: Located<JsonObject>,
  resourceType: string,
  scope: Scope,
): Resource[] => {
  const { value, path } = resource;
  const block =
    resourceType === 'RDSLimitlessDB'
      ? optionalObject(value, path, 'rdsLimitlessDbDetails')
      : optionalObject(value, path, 'rdsDbInstanceDetails');
  const database =
    block && (resourceType === 'RDSLimitlessDB' ? rdsLimitlessDbOf(block) : rdsInstanceOf(block));
  const resources: Resource[] = [];
  if (database) {
    resources.push(database);
    if (database.dbClusterIdentifier !== undefined) {
      resources.push(rdsClusterOf(database.dbClusterIdentifier, database.engine, scope));
    }
  }
  const user = optionalObject(value, path, 'rdsDbUserDetails');
  if (user) resources.push(rdsUserOf(user, database));
  return resources;
};
