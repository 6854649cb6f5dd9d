import { AwsFault } from '../errors.js';
import type { QueryOperation } from '../protocols.js';
import { type QueryParams, stringParam } from '../query.js';
import type { FakeAccountState, FakeUser } from '../state.js';

/**
 * IAM users' inline policies (Put/Get/Delete/ListUserPolicies) and attached managed policies
 * (Attach/Detach/ListAttachedUserPolicies), as @aws-sdk/client-iam's model spells them: inputs
 * `UserName`, `PolicyName`, `PolicyDocument`, `PolicyArn`; outputs `PolicyNames` and `AttachedPolicies`
 * (`PolicyName`, `PolicyArn`) as `<member>` lists with `IsTruncated`; errors NoSuchEntity 404,
 * MalformedPolicyDocument 400, LimitExceeded 409, InvalidInput 400 (their `awsQueryError` codes).
 * Self-contained (iam.ts spreads its operations), so it never imports iam.ts.
 */

/**
 * AWS managed policies the account can attach (any partition): the compromised-key quarantine
 * versions AWS attaches itself, and a few common job-function policies. Any other ARN is NoSuchEntity,
 * unless a user of the account has it attached already (seeded).
 */
export const AWS_MANAGED_POLICY_NAMES: readonly string[] = [
  'AWSCompromisedKeyQuarantine',
  'AWSCompromisedKeyQuarantineV2',
  'AWSCompromisedKeyQuarantineV3',
  'AdministratorAccess',
  'PowerUserAccess',
  'ReadOnlyAccess',
  'SecurityAudit',
  'IAMUserChangePassword',
];

/** IAM's default quota of managed policies attached to one user (PoliciesPerUser). */
const ATTACHED_PER_USER = 10;
/** IAM's quota on the aggregate size of a user's inline policies, whitespace not counted. */
const INLINE_BYTES_PER_USER = 2048;

const POLICY_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):iam::(aws|\d{12}):policy\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,128})$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

const validation = (member: string, value: string | undefined, constraint: string): AwsFault =>
  new AwsFault(
    'ValidationError',
    `1 validation error detected: Value ${value === undefined ? 'null' : `'${value}'`} at '${member}' failed to satisfy constraint: ${constraint}`,
  );

const required = (params: QueryParams, name: string): string => {
  const value = stringParam(params, name);
  const member = name.charAt(0).toLowerCase() + name.slice(1);
  if (value === undefined) throw validation(member, undefined, 'Member must not be null');
  return value;
};

const noSuchEntity = (message: string): AwsFault => new AwsFault('NoSuchEntity', message, 404);

const userOrThrow = (state: FakeAccountState, params: QueryParams): FakeUser => {
  const userName = required(params, 'UserName');
  const user = state.users.get(userName);
  if (!user) throw noSuchEntity(`The user with name ${userName} cannot be found.`);
  return user;
};

const policyNameOrThrow = (params: QueryParams): string => {
  const name = required(params, 'PolicyName');
  if (!POLICY_NAME.test(name)) {
    throw validation('policyName', name, 'Member must satisfy regular expression pattern: [\\w+=,.@-]+');
  }
  return name;
};

/** IAM returns policy documents URL-encoded (RFC 3986); the SDK hands them over still encoded. */
const encodePolicy = (document: string): string => encodeURIComponent(document);

const inlineBytes = (documents: Iterable<string>): number =>
  [...documents].reduce((total, document) => total + document.replace(/\s/g, '').length, 0);

const putUserPolicy: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, params);
  const policyName = policyNameOrThrow(params);
  const document = required(params, 'PolicyDocument');
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw new AwsFault('MalformedPolicyDocument', 'Syntax errors in policy.');
  }
  if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed)) {
    throw new AwsFault('MalformedPolicyDocument', 'Syntax errors in policy.');
  }
  const others = Object.entries(user.inlinePolicies).filter(([name]) => name !== policyName);
  if (inlineBytes([...others.map(([, text]) => text), document]) > INLINE_BYTES_PER_USER) {
    throw new AwsFault(
      'LimitExceeded',
      `Maximum policy size of ${INLINE_BYTES_PER_USER} bytes exceeded for user ${user.userName}`,
      409,
    );
  }
  user.inlinePolicies[policyName] = document;
  return undefined;
};

const inlineOrThrow = (user: FakeUser, policyName: string): string => {
  const document = user.inlinePolicies[policyName];
  if (document === undefined) throw noSuchEntity(`The user policy with name ${policyName} cannot be found.`);
  return document;
};

const getUserPolicy: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, params);
  const policyName = policyNameOrThrow(params);
  const document = inlineOrThrow(user, policyName);
  return { UserName: user.userName, PolicyName: policyName, PolicyDocument: encodePolicy(document) };
};

const deleteUserPolicy: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, params);
  const policyName = policyNameOrThrow(params);
  inlineOrThrow(user, policyName);
  delete user.inlinePolicies[policyName];
  return undefined;
};

const listUserPolicies: QueryOperation = (params, { state }) => ({
  PolicyNames: Object.keys(userOrThrow(state, params).inlinePolicies).sort(),
  IsTruncated: false,
});

/** `arn:<partition>:iam::aws:policy/<name>` of the list, or one a user of the account has attached. */
const policyExists = (state: FakeAccountState, arn: string, account: string, name: string): boolean =>
  (account === 'aws' && AWS_MANAGED_POLICY_NAMES.includes(name)) ||
  [...state.users.values()].some((user) => user.attachedPolicyArns.includes(arn));

const policyArnOrThrow = (params: QueryParams): { arn: string; account: string; name: string } => {
  const arn = required(params, 'PolicyArn');
  const match = POLICY_ARN.exec(arn);
  if (!match) throw new AwsFault('InvalidInput', `ARN ${arn} is not valid.`);
  return { arn, account: match[2] ?? '', name: match[3] ?? '' };
};

const attachUserPolicy: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, params);
  const { arn, account, name } = policyArnOrThrow(params);
  if (!policyExists(state, arn, account, name)) {
    throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
  }
  // Attaching a policy that is attached already succeeds and changes nothing.
  if (user.attachedPolicyArns.includes(arn)) return undefined;
  if (user.attachedPolicyArns.length >= ATTACHED_PER_USER) {
    throw new AwsFault('LimitExceeded', `Cannot exceed quota for PoliciesPerUser: ${ATTACHED_PER_USER}`, 409);
  }
  user.attachedPolicyArns.push(arn);
  return undefined;
};

const detachUserPolicy: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, params);
  const { arn } = policyArnOrThrow(params);
  if (!user.attachedPolicyArns.includes(arn)) throw noSuchEntity(`Policy ${arn} was not found.`);
  user.attachedPolicyArns = user.attachedPolicyArns.filter((attached) => attached !== arn);
  return undefined;
};

/** `PathPrefix`: the policies listed here all have the path `/`. No paging. */
const listAttachedUserPolicies: QueryOperation = (params, { state }) => {
  const user = userOrThrow(state, params);
  const prefix = stringParam(params, 'PathPrefix') ?? '/';
  return {
    AttachedPolicies: '/'.startsWith(prefix)
      ? user.attachedPolicyArns.map((arn) => ({
          PolicyName: arn.slice(arn.lastIndexOf('/') + 1),
          PolicyArn: arn,
        }))
      : [],
    IsTruncated: false,
  };
};

export const userPolicyOperations: Record<string, QueryOperation> = {
  PutUserPolicy: putUserPolicy,
  GetUserPolicy: getUserPolicy,
  DeleteUserPolicy: deleteUserPolicy,
  ListUserPolicies: listUserPolicies,
  AttachUserPolicy: attachUserPolicy,
  DetachUserPolicy: detachUserPolicy,
  ListAttachedUserPolicies: listAttachedUserPolicies,
};

/** Each user's inline policies (the JSON text as put) and attached policy ARNs (sorted). */
export const userPoliciesSnapshot = (
  users: Map<string, FakeUser>,
): Record<string, { inlinePolicies: Record<string, string>; attachedPolicyArns: string[] }> =>
  Object.fromEntries(
    [...users.values()]
      .sort((left, right) => (left.userName < right.userName ? -1 : left.userName > right.userName ? 1 : 0))
      .map((user) => [
        user.userName,
        {
          inlinePolicies: Object.fromEntries(
            Object.entries(user.inlinePolicies).sort(([left], [right]) =>
              left < right ? -1 : left > right ? 1 : 0,
            ),
          ),
          attachedPolicyArns: [...user.attachedPolicyArns].sort(),
        },
      ]),
  );
