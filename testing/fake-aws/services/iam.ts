import { AwsFault } from '../errors.js';
import type { QueryOperation } from '../protocols.js';
import { type QueryParams, stringListParam, stringParam, tagsParam } from '../query.js';
import type { FakeAccountState, FakeInstanceProfile, FakeRole, FakeUser } from '../state.js';
import type { XmlObject } from '../xml.js';
import { userPolicyOperations } from './iam-user-policies.js';

/** IAM's wording when a required member is absent (the SDK does not check required members). */
const required = (params: QueryParams, name: string): string => {
  const value = stringParam(params, name);
  if (value === undefined) {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    throw new AwsFault(
      'ValidationError',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
};

const noSuchEntity = (message: string): AwsFault => new AwsFault('NoSuchEntity', message, 404);

const roleOrThrow = (state: FakeAccountState, roleName: string): FakeRole => {
  const role = state.roles.get(roleName);
  if (!role) throw noSuchEntity(`The role with name ${roleName} cannot be found.`);
  return role;
};

const userOrThrow = (state: FakeAccountState, userName: string): FakeUser => {
  const user = state.users.get(userName);
  if (!user) throw noSuchEntity(`The user with name ${userName} cannot be found.`);
  return user;
};

const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** IAM returns policy documents URL-encoded (RFC 3986); the SDK hands them over still encoded. */
const encodePolicy = (document: string): string => encodeURIComponent(document);

const renderRole = (role: FakeRole): XmlObject => ({
  Path: role.path,
  RoleName: role.roleName,
  RoleId: role.roleId,
  Arn: role.arn,
  CreateDate: role.createDate,
  AssumeRolePolicyDocument: encodePolicy(role.assumeRolePolicyDocument),
  Description: role.description,
  MaxSessionDuration: role.maxSessionDuration,
  Tags: Object.keys(role.tags).length === 0 ? undefined : tagList(role.tags),
});

/**
 * Service-linked roles (`/aws-service-role/`) and IAM Identity Center roles (`/aws-reserved/`) are
 * protected: only AWS may change them.
 */
const isProtected = (role: FakeRole): boolean =>
  role.path.startsWith('/aws-service-role/') || role.path.startsWith('/aws-reserved/');

const refuseProtected = (role: FakeRole): void => {
  if (isProtected(role)) {
    throw new AwsFault(
      'UnmodifiableEntity',
      `Cannot perform the operation on the protected role '${role.roleName}' - this role is only modifiable by AWS`,
    );
  }
};

const renderInstanceProfile = (state: FakeAccountState, profile: FakeInstanceProfile): XmlObject => ({
  Path: profile.path,
  InstanceProfileName: profile.instanceProfileName,
  InstanceProfileId: profile.instanceProfileId,
  Arn: profile.arn,
  CreateDate: profile.createDate,
  Roles: profile.roleNames.flatMap((roleName) => {
    const role = state.roles.get(roleName);
    return role ? [renderRole(role)] : [];
  }),
});

const getInstanceProfile: QueryOperation = (params, { state }) => {
  const name = required(params, 'InstanceProfileName');
  const profile = state.instanceProfiles.get(name);
  if (!profile) throw noSuchEntity(`Instance Profile ${name} cannot be found.`);
  return { InstanceProfile: renderInstanceProfile(state, profile) };
};

const listInstanceProfilesForRole: QueryOperation = (params, { state }) => {
  const role = roleOrThrow(state, required(params, 'RoleName'));
  return {
    InstanceProfiles: [...state.instanceProfiles.values()]
      .filter((profile) => profile.roleNames.includes(role.roleName))
      .map((profile) => renderInstanceProfile(state, profile)),
    IsTruncated: false,
  };
};

const getRole: QueryOperation = (params, { state }) => ({
  Role: renderRole(roleOrThrow(state, required(params, 'RoleName'))),
});

const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

const putRolePolicy: QueryOperation = (params, { state }) => {
  const role = roleOrThrow(state, required(params, 'RoleName'));
  const policyName = required(params, 'PolicyName');
  const document = required(params, 'PolicyDocument');
  if (!POLICY_NAME.test(policyName)) {
    throw new AwsFault(
      'ValidationError',
      `1 validation error detected: Value '${policyName}' at 'policyName' failed to satisfy constraint: ` +
        'Member must satisfy regular expression pattern: [\\w+=,.@-]+',
    );
  }
  refuseProtected(role);
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw new AwsFault('MalformedPolicyDocument', 'Syntax errors in policy.');
  }
  if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed)) {
    throw new AwsFault('MalformedPolicyDocument', 'Syntax errors in policy.');
  }
  role.inlinePolicies[policyName] = document;
  return undefined;
};

const getRolePolicy: QueryOperation = (params, { state }) => {
  const role = roleOrThrow(state, required(params, 'RoleName'));
  const policyName = required(params, 'PolicyName');
  const document = role.inlinePolicies[policyName];
  if (document === undefined) throw noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
  return { RoleName: role.roleName, PolicyName: policyName, PolicyDocument: encodePolicy(document) };
};

const deleteRolePolicy: QueryOperation = (params, { state }) => {
  const role = roleOrThrow(state, required(params, 'RoleName'));
  const policyName = required(params, 'PolicyName');
  refuseProtected(role);
  if (role.inlinePolicies[policyName] === undefined) {
    throw noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
  }
  delete role.inlinePolicies[policyName];
  return undefined;
};

/** The fake's callers sign as a role session, so IAM cannot infer a user from the credentials. */
const userNameOrThrow = (params: QueryParams): string => {
  const userName = stringParam(params, 'UserName');
  if (userName === undefined) {
    throw new AwsFault('ValidationError', 'Must specify userName when calling with non-User credentials');
  }
  return userName;
};

const getUser: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, userNameOrThrow(params));
  return {
    User: {
      Path: user.path,
      UserName: user.userName,
      UserId: user.userId,
      Arn: user.arn,
      CreateDate: user.createDate,
      Tags: Object.keys(user.tags).length === 0 ? undefined : tagList(user.tags),
    },
  };
};

const listAccessKeys: QueryOperation = (params, { state }) => {
  const userName = userNameOrThrow(params);
  userOrThrow(state, userName);
  return {
    AccessKeyMetadata: [...state.accessKeys.values()]
      .filter((key) => key.userName === userName)
      .map((key) => ({
        UserName: key.userName,
        AccessKeyId: key.accessKeyId,
        Status: key.status,
        CreateDate: key.createDate,
      })),
    IsTruncated: false,
  };
};

const updateAccessKey: QueryOperation = (params, { state }) => {
  const accessKeyId = required(params, 'AccessKeyId');
  const status = required(params, 'Status');
  if (status !== 'Active' && status !== 'Inactive') {
    throw new AwsFault(
      'ValidationError',
      `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: ` +
        'Member must satisfy enum value set: [Active, Inactive]',
    );
  }
  const userName = stringParam(params, 'UserName');
  if (userName !== undefined) userOrThrow(state, userName);
  const key = state.accessKeys.get(accessKeyId);
  if (!key || (userName !== undefined && key.userName !== userName)) {
    throw noSuchEntity(`The Access Key with id ${accessKeyId} cannot be found.`);
  }
  key.status = status;
  return undefined;
};

const tagsOrThrow = (params: QueryParams) => {
  const tags = tagsParam(params, 'Tags');
  if (tags.length === 0) {
    throw new AwsFault(
      'ValidationError',
      "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
    );
  }
  return tags;
};

const tagRole: QueryOperation = (params, { state }) => {
  const role = roleOrThrow(state, required(params, 'RoleName'));
  for (const tag of tagsOrThrow(params)) role.tags[tag.key] = tag.value;
  return undefined;
};

const tagUser: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, required(params, 'UserName'));
  for (const tag of tagsOrThrow(params)) user.tags[tag.key] = tag.value;
  return undefined;
};

/** `TagKeys`: IAM requires at least one; keys the entity does not carry are ignored. */
const tagKeysOrThrow = (params: QueryParams): string[] => {
  const keys = stringListParam(params, 'TagKeys');
  if (keys.length === 0) {
    throw new AwsFault(
      'ValidationError',
      "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    );
  }
  return keys;
};

const untagRole: QueryOperation = (params, { state }) => {
  const role = roleOrThrow(state, required(params, 'RoleName'));
  for (const key of tagKeysOrThrow(params)) delete role.tags[key];
  return undefined;
};

const untagUser: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, required(params, 'UserName'));
  for (const key of tagKeysOrThrow(params)) delete user.tags[key];
  return undefined;
};

const listRoleTags: QueryOperation = (params, { state }) => ({
  Tags: tagList(roleOrThrow(state, required(params, 'RoleName')).tags),
  IsTruncated: false,
});

const listUserTags: QueryOperation = (params, { state }) => ({
  Tags: tagList(userOrThrow(state, required(params, 'UserName')).tags),
  IsTruncated: false,
});

export const iamOperations: Record<string, QueryOperation> = {
  GetInstanceProfile: getInstanceProfile,
  ListInstanceProfilesForRole: listInstanceProfilesForRole,
  GetRole: getRole,
  PutRolePolicy: putRolePolicy,
  GetRolePolicy: getRolePolicy,
  DeleteRolePolicy: deleteRolePolicy,
  GetUser: getUser,
  ListAccessKeys: listAccessKeys,
  UpdateAccessKey: updateAccessKey,
  TagRole: tagRole,
  TagUser: tagUser,
  UntagRole: untagRole,
  UntagUser: untagUser,
  ListRoleTags: listRoleTags,
  ListUserTags: listUserTags,
  ...userPolicyOperations,
};
