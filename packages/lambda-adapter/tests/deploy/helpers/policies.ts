/**
 * The IAM policies in a template: every statement as written (both branches of each `Fn::If`), for
 * the catalog check; and, from a resolved template, the policies a role actually carries (inline,
 * attached managed policies, policy resources naming the role) with its permissions boundary and
 * trust policy, for simulation.
 */
import type { Template } from './deploy.js';
import { intrinsicOf, type ResolvedTemplate } from './resolve.js';

export interface WrittenStatement {
  /** `<logical id>.<property path>`, with the statement's Sid when it has one. */
  where: string;
  effect: unknown;
  /** `Action` and `NotAction` entries that are literal strings, both branches of an `Fn::If`. */
  actions: string[];
  notActions: string[];
  /** Where an action is computed by an intrinsic function other than `Fn::If` (cannot be checked). */
  computed: string[];
}

/** The alternatives a node can take: both branches of `Fn::If`, nothing for `AWS::NoValue`, items of lists. */
const alternatives = (node: unknown): unknown[] => {
  if (Array.isArray(node)) return node.flatMap(alternatives);
  const fn = intrinsicOf(node);
  if (fn === 'Fn::If') {
    const [, whenTrue, whenFalse] = (node as { 'Fn::If': unknown[] })['Fn::If'];
    return [...alternatives(whenTrue), ...alternatives(whenFalse)];
  }
  if (fn === 'Ref' && (node as { Ref: unknown }).Ref === 'AWS::NoValue') return [];
  return [node];
};

/** Each node a (possibly conditional) list can hold, with its path: both branches of `Fn::If`, items of lists. */
const branches = (node: unknown, where: string): { node: unknown; where: string }[] => {
  if (Array.isArray(node)) return node.flatMap((item, index) => branches(item, `${where}[${index}]`));
  const fn = intrinsicOf(node);
  if (fn === 'Fn::If') {
    const [, whenTrue, whenFalse] = (node as { 'Fn::If': unknown[] })['Fn::If'];
    return [...branches(whenTrue, `${where}.Fn::If[1]`), ...branches(whenFalse, `${where}.Fn::If[2]`)];
  }
  if (fn === 'Ref' && (node as { Ref: unknown }).Ref === 'AWS::NoValue') return [];
  return [{ node, where }];
};

const statementsOf = (document: Record<string, unknown>, where: string): WrittenStatement[] =>
  branches(document.Statement, `${where}.Statement`).flatMap(({ node: statement, where: path }) => {
    if (typeof statement !== 'object' || statement === null) return [];
    const fields = statement as Record<string, unknown>;
    const at = `${path}${typeof fields.Sid === 'string' ? `(${fields.Sid})` : ''}`;
    const computed: string[] = [];
    const literal = (key: string) =>
      alternatives(fields[key]).flatMap((action) => {
        if (typeof action === 'string') return [action];
        if (action !== undefined) computed.push(`${at}.${key}`);
        return [];
      });
    return [
      {
        where: at,
        effect: fields.Effect,
        actions: literal('Action'),
        notActions: literal('NotAction'),
        computed,
      },
    ];
  });

/** Every policy statement the template writes, in any resource (identity, boundary, trust and resource policies). */
export const writtenStatements = (template: Template): WrittenStatement[] => {
  const found: WrittenStatement[] = [];
  const visit = (node: unknown, where: string): void => {
    for (const { node: option, where: at } of branches(node, where)) {
      if (typeof option !== 'object' || option === null) continue;
      const fields = option as Record<string, unknown>;
      if ('Statement' in fields) {
        found.push(...statementsOf(fields, at));
        continue;
      }
      for (const [key, value] of Object.entries(fields)) visit(value, `${at}.${key}`);
    }
  };
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::Lambda::Permission') {
      // A resource policy statement written as properties: its Action is an IAM action too.
      const action = resource.Properties?.Action;
      found.push({
        where: `${logicalId}.Properties.Action`,
        effect: 'Allow',
        actions: typeof action === 'string' ? [action] : [],
        notActions: [],
        computed: typeof action === 'string' ? [] : [`${logicalId}.Properties.Action`],
      });
      continue;
    }
    visit(resource.Properties ?? {}, `${logicalId}.Properties`);
  }
  return found;
};

export interface NamedPolicy {
  name: string;
  policy: PolicyDocument;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Record<string, unknown>[] | Record<string, unknown>;
}

export interface RolePolicies {
  logicalId: string;
  roleName: string;
  roleArn: string;
  /** Inline policies, managed policies of the stack attached to the role, policy resources naming it. */
  identity: NamedPolicy[];
  /** The permissions boundary, when the role has one (a managed policy of the same stack). */
  boundary?: NamedPolicy;
  trust: PolicyDocument;
}

const documentOf = (value: unknown, where: string): PolicyDocument => {
  const document = typeof value === 'string' ? JSON.parse(value) : value;
  if (typeof document !== 'object' || document === null || !('Statement' in document)) {
    throw new Error(`${where} is not a policy document`);
  }
  return document as PolicyDocument;
};

const namesRole = (value: unknown, roleName: string): boolean =>
  Array.isArray(value) ? value.includes(roleName) : value === roleName;

/** The policies the role `logicalId` carries once deployed. A policy kept outside the stack is an error. */
export const rolePolicies = (resolved: ResolvedTemplate, logicalId: string): RolePolicies => {
  const role = resolved.resources[logicalId];
  if (role?.Type !== 'AWS::IAM::Role')
    throw new Error(`${logicalId} is not an AWS::IAM::Role of the template`);
  const roleName = resolved.ref(logicalId);
  const props = role.Properties;

  const managed = new Map<string, { logicalId: string; document: PolicyDocument }>();
  for (const [id, resource] of Object.entries(resolved.resources)) {
    if (resource.Type === 'AWS::IAM::ManagedPolicy') {
      managed.set(resolved.ref(id), {
        logicalId: id,
        document: documentOf(resource.Properties.PolicyDocument, `${id}.PolicyDocument`),
      });
    }
  }
  const stackPolicy = (arn: unknown, where: string) => {
    const found = managed.get(String(arn));
    if (!found) {
      throw new Error(
        `${logicalId}.${where} is ${JSON.stringify(arn)}, not a managed policy of the stack: it cannot be simulated`,
      );
    }
    return { name: found.logicalId, policy: found.document };
  };

  const identity: NamedPolicy[] = [
    ...((props.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? []).map(
      (policy, index) => ({
        name: String(policy.PolicyName),
        policy: documentOf(policy.PolicyDocument, `${logicalId}.Policies[${index}]`),
      }),
    ),
    ...((props.ManagedPolicyArns as unknown[] | undefined) ?? []).map((arn, index) =>
      stackPolicy(arn, `ManagedPolicyArns[${index}]`),
    ),
  ];
  const attached = new Set(identity.map((policy) => policy.name));
  for (const [id, resource] of Object.entries(resolved.resources)) {
    const p = resource.Properties;
    const attaches =
      (resource.Type === 'AWS::IAM::Policy' && namesRole(p.Roles, roleName)) ||
      (resource.Type === 'AWS::IAM::RolePolicy' && p.RoleName === roleName) ||
      (resource.Type === 'AWS::IAM::ManagedPolicy' && namesRole(p.Roles, roleName));
    if (attaches && !attached.has(id)) {
      identity.push({ name: id, policy: documentOf(p.PolicyDocument, `${id}.PolicyDocument`) });
    }
  }

  return {
    logicalId,
    roleName,
    roleArn: resolved.getAtt(logicalId, 'Arn'),
    identity,
    ...(props.PermissionsBoundary !== undefined
      ? { boundary: stackPolicy(props.PermissionsBoundary, 'PermissionsBoundary') }
      : {}),
    trust: documentOf(props.AssumeRolePolicyDocument, `${logicalId}.AssumeRolePolicyDocument`),
  };
};

/** The logical ids of the template's IAM roles. */
export const roleIds = (template: { Resources: Record<string, { Type: string }> }): string[] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
    .map(([id]) => id);
