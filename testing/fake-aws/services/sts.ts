import { randomBytes } from 'node:crypto';
import { AwsFault } from '../errors.js';
import type { QueryOperation } from '../protocols.js';
import { stringParam } from '../query.js';
import { derivedIamId, randomIamId } from '../state.js';

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

const validation = (member: string, value: string | undefined, constraint: string): AwsFault =>
  new AwsFault(
    'ValidationError',
    `1 validation error detected: Value ${value === undefined ? 'null' : `'${value}'`} at '${member}' ` +
      `failed to satisfy constraint: ${constraint}`,
  );

/**
 * Answers for the identity that signed the request: a session AssumeRole issued earlier (the SDK signs
 * follow-up calls with its credentials), otherwise the seeded caller.
 */
const getCallerIdentity: QueryOperation = (_params, { state, accessKeyId }) => {
  const session = state.assumedRoleSessions.find((candidate) => candidate.accessKeyId === accessKeyId);
  if (session) {
    const [, account = state.accountId, roleName = ''] = ROLE_ARN.exec(session.roleArn) ?? [];
    return {
      UserId: `${derivedIamId('AROA', `${account}:role:${roleName}`)}:${session.roleSessionName}`,
      Account: account,
      Arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${session.roleSessionName}`,
    };
  }
  const assumed = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(state.callerArn);
  const userId = assumed
    ? `${derivedIamId('AROA', `${assumed[1]}:role:${assumed[2]}`)}:${assumed[3]}`
    : derivedIamId('AIDA', state.callerArn);
  return { UserId: userId, Account: state.accountId, Arn: state.callerArn };
};

/**
 * Roles in the seeded account must exist (AccessDenied otherwise, as STS answers); roles in other
 * accounts are trusted, so cross-account assumption can be exercised against one fake.
 */
const assumeRole: QueryOperation = (params, { state }) => {
  const roleArn = stringParam(params, 'RoleArn');
  const match = roleArn === undefined ? null : ROLE_ARN.exec(roleArn);
  if (roleArn === undefined || !match) {
    throw validation('roleArn', roleArn, 'Member must be a valid IAM role ARN');
  }
  const roleSessionName = stringParam(params, 'RoleSessionName');
  if (roleSessionName === undefined || !SESSION_NAME.test(roleSessionName)) {
    throw validation(
      'roleSessionName',
      roleSessionName,
      'Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}',
    );
  }
  const durationSeconds = Number(stringParam(params, 'DurationSeconds') ?? '3600');
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200) {
    throw validation(
      'durationSeconds',
      String(durationSeconds),
      'Member must have value greater than or equal to 900 and less than or equal to 43200',
    );
  }
  const [, account = '', roleName = ''] = match;
  const localRole =
    account === state.accountId ? [...state.roles.values()].find((r) => r.arn === roleArn) : undefined;
  if (account === state.accountId && !localRole) {
    throw new AwsFault(
      'AccessDenied',
      `User: ${state.callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      403,
    );
  }
  const accessKeyId = randomIamId('ASIA', 16);
  const expiration = new Date(Date.now() + durationSeconds * 1000).toISOString();
  const externalId = stringParam(params, 'ExternalId');
  state.assumedRoleSessions.push({
    roleArn,
    roleSessionName,
    durationSeconds,
    accessKeyId,
    expiration,
    ...(externalId === undefined ? {} : { externalId }),
  });
  const roleId = localRole?.roleId ?? derivedIamId('AROA', `${account}:role:${roleName}`);
  return {
    Credentials: {
      AccessKeyId: accessKeyId,
      SecretAccessKey: randomBytes(30).toString('base64'),
      SessionToken: randomBytes(96).toString('base64'),
      Expiration: expiration,
    },
    AssumedRoleUser: {
      AssumedRoleId: `${roleId}:${roleSessionName}`,
      Arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${roleSessionName}`,
    },
  };
};

export const stsOperations: Record<string, QueryOperation> = {
  GetCallerIdentity: getCallerIdentity,
  AssumeRole: assumeRole,
};
