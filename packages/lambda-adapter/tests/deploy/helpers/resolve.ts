/**
 * Resolves a CloudFormation template for one deployment, as CloudFormation would when creating the
 * stack: parameter values (given, else their defaults), pseudo parameters, conditions, `Ref`,
 * `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`,
 * `Fn::Base64`, `Fn::ToJsonString` and `AWS::NoValue`, down to concrete values a policy simulator can
 * evaluate. Physical names are `<stack>-<logical id>-ABC123` unless the template names the resource
 * (`RoleName`, `LogGroupName`, ...) or the deployment pins one.
 *
 * What `Ref` and `Fn::GetAtt` return is written out per resource type from the CloudFormation
 * resource reference (the "Return values" section of each type's page). A type or attribute not in
 * the table below is an error naming it: add it here rather than guess.
 */

export interface Deployment {
  accountId: string;
  partition: string;
  region: string;
  stackName: string;
  /** Parameter values; a CommaDelimitedList parameter takes its comma-separated text. */
  parameters: Record<string, string | number>;
  /** Physical names CloudFormation generated, by logical id (e.g. the function's role). */
  physicalIds?: Record<string, string>;
  /** The organization the deployment's account belongs to, if any (for `aws:*OrgID` context keys). */
  organizationId?: string;
}

export interface ResolvedResource {
  Type: string;
  Properties: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ResolvedTemplate {
  deployment: Deployment;
  /** Parameter values as `Ref` returns them (lists for list parameters). */
  parameters: Record<string, string | string[]>;
  conditions: Record<string, boolean>;
  /** The resources whose `Condition` holds, with their properties resolved. */
  resources: Record<string, ResolvedResource>;
  /** What `Ref` returns for a resource. */
  ref(logicalId: string): string;
  /** What `Fn::GetAtt` returns for a resource's attribute. */
  getAtt(logicalId: string, attribute: string): string;
}

export class ResolveError extends Error {
  override name = 'ResolveError';
}

/** Stands for `AWS::NoValue` until the enclosing object or list drops it. */
const NO_VALUE = Symbol('AWS::NoValue');

const INTRINSICS = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::Join',
  'Fn::If',
  'Fn::Select',
  'Fn::Split',
  'Fn::FindInMap',
  'Fn::Base64',
  'Fn::ToJsonString',
  'Fn::Length',
  'Fn::GetAZs',
  'Fn::ImportValue',
  'Fn::Cidr',
  'Fn::Transform',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
]);

/** The single intrinsic function a node is, if it is one (`{ "Ref": ... }`, `{ "Fn::Sub": ... }`). */
export const intrinsicOf = (node: unknown): string | undefined => {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  const keys = Object.keys(node);
  return keys.length === 1 && INTRINSICS.has(keys[0]!) ? keys[0] : undefined;
};

/** What a resource type returns for `Ref` and `Fn::GetAtt`, from its resolved name and properties. */
interface TypeModel {
  /** The property that names the resource, when the template may set it. */
  nameProperty?: string;
  ref(resource: ModelInput): string;
  attributes: Record<string, (resource: ModelInput) => string>;
}

interface ModelInput {
  name: string;
  property(name: string): unknown;
  d: Deployment;
}

const pathOf = (resource: ModelInput): string => {
  const path = resource.property('Path');
  return typeof path === 'string' ? path : '/';
};
const arn = (d: Deployment, service: string, regional: boolean, rest: string) =>
  `arn:${d.partition}:${service}:${regional ? d.region : ''}:${d.accountId}:${rest}`;
const physicalId = (resource: ModelInput) => resource.name;
const idOnly: TypeModel = { ref: physicalId, attributes: { Id: physicalId } };

const roleArn = (r: ModelInput) => arn(r.d, 'iam', false, `role${pathOf(r)}${r.name}`);
const policyArn = (r: ModelInput) => arn(r.d, 'iam', false, `policy${pathOf(r)}${r.name}`);
const logGroupArn = (r: ModelInput) => arn(r.d, 'logs', true, `log-group:${r.name}`);
const queueArn = (r: ModelInput) => arn(r.d, 'sqs', true, r.name);
const queueUrl = (r: ModelInput) => `https://sqs.${r.d.region}.amazonaws.com/${r.d.accountId}/${r.name}`;
const topicArn = (r: ModelInput) => arn(r.d, 'sns', true, r.name);
const actionTargetArn = (r: ModelInput) =>
  arn(r.d, 'securityhub', true, `action/custom/${String(r.property('Id'))}`);
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const busName = (r: ModelInput): string | undefined => {
  const bus = r.property('EventBusName');
  return typeof bus === 'string' && bus !== 'default' ? bus : undefined;
};

const MODELS: Record<string, TypeModel> = {
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    ref: physicalId,
    attributes: { Arn: roleArn, RoleId: () => 'AROAEXAMPLEROLEID0001' },
  },
  'AWS::IAM::ManagedPolicy': {
    nameProperty: 'ManagedPolicyName',
    ref: policyArn,
    attributes: { PolicyArn: policyArn, PolicyId: () => 'ANPAEXAMPLEPOLICY0001' },
  },
  'AWS::IAM::Policy': idOnly,
  'AWS::IAM::RolePolicy': idOnly,
  'AWS::IAM::InstanceProfile': {
    nameProperty: 'InstanceProfileName',
    ref: physicalId,
    attributes: { Arn: (r) => arn(r.d, 'iam', false, `instance-profile${pathOf(r)}${r.name}`) },
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    ref: physicalId,
    attributes: { Arn: (r) => arn(r.d, 'lambda', true, `function:${r.name}`) },
  },
  'AWS::Lambda::Permission': idOnly,
  'AWS::Lambda::EventInvokeConfig': idOnly,
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    ref: physicalId,
    // The Arn attribute ends in `:*` ("arn:aws:logs:us-west-1:123456789012:log-group:/mystack-testgroup-12ABC1AHvp:*").
    attributes: { Arn: (r) => `${logGroupArn(r)}:*` },
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    ref: physicalId,
    attributes: {
      Arn: (r) => arn(r.d, 'dynamodb', true, `table/${r.name}`),
      StreamArn: (r) => arn(r.d, 'dynamodb', true, `table/${r.name}/stream/2026-01-01T00:00:00.000`),
    },
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    ref: queueUrl,
    attributes: { Arn: queueArn, QueueName: physicalId, QueueUrl: queueUrl },
  },
  'AWS::SQS::QueuePolicy': idOnly,
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    ref: topicArn,
    attributes: { TopicArn: topicArn, TopicName: physicalId },
  },
  'AWS::SNS::TopicPolicy': idOnly,
  'AWS::SNS::Subscription': {
    ref: (r) => `${topicArn(r)}:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`,
    attributes: {},
  },
  'AWS::KMS::Key': {
    ref: () => KEY_ID,
    attributes: { Arn: (r) => arn(r.d, 'kms', true, `key/${KEY_ID}`), KeyId: () => KEY_ID },
  },
  'AWS::KMS::Alias': { nameProperty: 'AliasName', ref: physicalId, attributes: {} },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    ref: (r) => (busName(r) ? `${busName(r)}|${r.name}` : r.name),
    attributes: {
      Arn: (r) => arn(r.d, 'events', true, `rule/${busName(r) ? `${busName(r)}/` : ''}${r.name}`),
    },
  },
  'AWS::Events::EventBus': {
    nameProperty: 'Name',
    ref: physicalId,
    attributes: { Arn: (r) => arn(r.d, 'events', true, `event-bus/${r.name}`), Name: physicalId },
  },
  'AWS::Events::EventBusPolicy': idOnly,
  'AWS::CloudFormation::WaitConditionHandle': idOnly,
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    ref: physicalId,
    attributes: { Arn: (r) => arn(r.d, 'cloudwatch', true, `alarm:${r.name}`) },
  },
  // Ref returns the dashboard's name; it has no attribute.
  'AWS::CloudWatch::Dashboard': { nameProperty: 'DashboardName', ref: physicalId, attributes: {} },
  // Ref and ActionTargetArn return the custom action's ARN, which ends in action/custom/<Id> (the
  // `resources` of a Security Hub Findings - Custom Action event).
  'AWS::SecurityHub::ActionTarget': {
    ref: (r) => actionTargetArn(r),
    attributes: { ActionTargetArn: (r) => actionTargetArn(r) },
  },
};

type Scalar = string | number | boolean;

const text = (value: unknown, where: string): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ResolveError(`${where}: expected a string, got ${JSON.stringify(value)}`);
};

const list = (value: unknown, where: string): unknown[] => {
  if (Array.isArray(value)) return value;
  throw new ResolveError(`${where}: expected a list, got ${JSON.stringify(value)}`);
};

/** Resolves `template` for `deployment`. Throws ResolveError naming what it cannot resolve. */
export const resolveTemplate = (
  template: {
    Parameters?: Record<string, Record<string, unknown>>;
    Conditions?: Record<string, unknown>;
    Mappings?: Record<string, unknown>;
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>;
  },
  deployment: Deployment,
): ResolvedTemplate => {
  const d = deployment;
  // Values for parameters a template does not declare are ignored: variants share deployments.
  const declared = template.Parameters ?? {};

  const parameters: Record<string, string | string[]> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const given = d.parameters[name];
    const raw = given ?? spec.Default;
    if (raw === undefined) {
      throw new ResolveError(`parameter ${name} has no default and the deployment gives no value for it`);
    }
    const value = String(raw);
    const type = String(spec.Type);
    const allowed = spec.AllowedValues as unknown[] | undefined;
    if (allowed && !allowed.map(String).includes(value)) {
      throw new ResolveError(`parameter ${name}: ${JSON.stringify(value)} is not one of its AllowedValues`);
    }
    if (typeof spec.AllowedPattern === 'string' && !new RegExp(`^(?:${spec.AllowedPattern})$`).test(value)) {
      throw new ResolveError(`parameter ${name}: ${JSON.stringify(value)} does not match its AllowedPattern`);
    }
    parameters[name] =
      type === 'CommaDelimitedList' || type.startsWith('List<')
        ? value.split(',').map((item) => item)
        : value;
  }

  const pseudo: Record<string, unknown> = {
    'AWS::AccountId': d.accountId,
    'AWS::Partition': d.partition,
    'AWS::Region': d.region,
    'AWS::StackName': d.stackName,
    'AWS::StackId': `arn:${d.partition}:cloudformation:${d.region}:${d.accountId}:stack/${d.stackName}/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::NotificationARNs': [],
    'AWS::NoValue': NO_VALUE,
  };

  const conditionCache = new Map<string, boolean>();
  const evaluating = new Set<string>();

  const condition = (name: string): boolean => {
    const cached = conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = template.Conditions?.[name];
    if (definition === undefined) throw new ResolveError(`condition ${name} is not defined`);
    if (evaluating.has(name)) throw new ResolveError(`condition ${name} refers to itself`);
    evaluating.add(name);
    const result = booleanOf(definition, `Conditions.${name}`);
    evaluating.delete(name);
    conditionCache.set(name, result);
    return result;
  };

  const booleanOf = (node: unknown, where: string): boolean => {
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      const [key, argument] = Object.entries(node)[0] ?? [];
      if (key === 'Condition') return condition(text(argument, where));
      if (key === 'Fn::Not') return !booleanOf(list(argument, where)[0], `${where}.Fn::Not`);
      if (key === 'Fn::And')
        return list(argument, where).every((item) => booleanOf(item, `${where}.Fn::And`));
      if (key === 'Fn::Or') return list(argument, where).some((item) => booleanOf(item, `${where}.Fn::Or`));
      if (key === 'Fn::Equals') {
        const [left, right] = list(argument, where).map((item) => resolve(item, `${where}.Fn::Equals`));
        return JSON.stringify(left) === JSON.stringify(right) || String(left) === String(right);
      }
    }
    throw new ResolveError(`${where}: not a condition expression: ${JSON.stringify(node)}`);
  };

  const resourceCondition = (logicalId: string): boolean => {
    const name = template.Resources[logicalId]?.Condition;
    return name === undefined ? true : condition(String(name));
  };

  const naming = new Set<string>();
  const nameCache = new Map<string, string>();

  const modelOf = (logicalId: string): TypeModel => {
    const resource = template.Resources[logicalId];
    if (!resource) throw new ResolveError(`resource ${logicalId} is not defined`);
    if (!resourceCondition(logicalId)) {
      throw new ResolveError(`resource ${logicalId} is referred to, but its condition is false`);
    }
    const model = MODELS[resource.Type];
    if (!model) {
      throw new ResolveError(
        `${logicalId}: what Ref and Fn::GetAtt return for ${resource.Type} is not written out in helpers/resolve.ts`,
      );
    }
    return model;
  };

  const inputOf = (logicalId: string): ModelInput => {
    const model = modelOf(logicalId);
    const resource = template.Resources[logicalId]!;
    let name = nameCache.get(logicalId);
    if (name === undefined) {
      if (naming.has(logicalId)) throw new ResolveError(`${logicalId}: its name refers to itself`);
      naming.add(logicalId);
      const named = model.nameProperty ? resource.Properties?.[model.nameProperty] : undefined;
      const resolved = named === undefined ? undefined : resolve(named, `${logicalId}.${model.nameProperty}`);
      name =
        resolved !== undefined && resolved !== NO_VALUE
          ? text(resolved, `${logicalId}.${model.nameProperty}`)
          : (d.physicalIds?.[logicalId] ?? `${d.stackName}-${logicalId}-ABC123`);
      naming.delete(logicalId);
      nameCache.set(logicalId, name);
    }
    return {
      name,
      d,
      property: (property) => {
        const raw = resource.Properties?.[property];
        return raw === undefined ? undefined : resolve(raw, `${logicalId}.${property}`);
      },
    };
  };

  const ref = (name: string, where: string): unknown => {
    if (name in pseudo) return pseudo[name];
    if (name in parameters) return parameters[name];
    if (name in template.Resources) return modelOf(name).ref(inputOf(name));
    throw new ResolveError(`${where}: Ref ${name} names no parameter, resource or pseudo parameter`);
  };

  const getAtt = (logicalId: string, attribute: string, where: string): string => {
    const model = modelOf(logicalId);
    const read = model.attributes[attribute];
    if (!read) {
      throw new ResolveError(
        `${where}: what Fn::GetAtt ${logicalId}.${attribute} returns for ${template.Resources[logicalId]?.Type} is not written out in helpers/resolve.ts`,
      );
    }
    return read(inputOf(logicalId));
  };

  const sub = (argument: unknown, where: string): string => {
    const [body, variables] = Array.isArray(argument) ? argument : [argument, {}];
    const locals = resolve(variables ?? {}, `${where}.variables`) as Record<string, unknown>;
    return text(body, where).replace(/\$\{([^}]+)\}/g, (_, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      if (inner in locals) return text(locals[inner], `${where} \${${inner}}`);
      const dot = inner.indexOf('.');
      if (dot > 0 && !inner.startsWith('AWS::')) {
        return getAtt(inner.slice(0, dot), inner.slice(dot + 1), where);
      }
      return text(ref(inner, where), `${where} \${${inner}}`);
    });
  };

  const intrinsic = (name: string, argument: unknown, where: string): unknown => {
    const at = `${where}.${name}`;
    switch (name) {
      case 'Ref':
        return ref(text(argument, at), at);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument)
          ? [argument[0], resolve(argument[1], at)]
          : text(argument, at).split(/\.(.*)/s);
        return getAtt(text(logicalId, at), text(attribute, at), at);
      }
      case 'Fn::Sub':
        return sub(argument, at);
      case 'Fn::Join': {
        const [delimiter, items] = list(argument, at);
        return list(resolve(items, at), at)
          .map((item) => text(item, at))
          .join(text(delimiter, at));
      }
      case 'Fn::If': {
        const [conditionName, whenTrue, whenFalse] = list(argument, at);
        return resolve(condition(text(conditionName, at)) ? whenTrue : whenFalse, at);
      }
      case 'Fn::Select': {
        const [index, items] = list(argument, at);
        const values = list(resolve(items, at), at);
        const position = Number(resolve(index, at));
        if (!(position in values)) throw new ResolveError(`${at}: index ${position} is out of range`);
        return values[position];
      }
      case 'Fn::Split': {
        const [delimiter, source] = list(argument, at);
        return text(resolve(source, at), at).split(text(delimiter, at));
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = list(resolve(argument, at), at).map((item) => text(item, at));
        const found = (template.Mappings?.[map!] as Record<string, Record<string, unknown>> | undefined)?.[
          top!
        ]?.[second!];
        if (found === undefined) throw new ResolveError(`${at}: no mapping ${map}.${top}.${second}`);
        return found;
      }
      case 'Fn::Base64':
        return Buffer.from(text(resolve(argument, at), at)).toString('base64');
      case 'Fn::ToJsonString':
        return JSON.stringify(resolve(argument, at));
      case 'Fn::Length':
        return list(resolve(argument, at), at).length;
      case 'Fn::Equals':
      case 'Fn::Not':
      case 'Fn::And':
      case 'Fn::Or':
        return booleanOf({ [name]: argument }, where);
      default:
        throw new ResolveError(`${at}: ${name} cannot be resolved offline`);
    }
  };

  const resolve = (node: unknown, where: string): unknown => {
    const fn = intrinsicOf(node);
    if (fn) return intrinsic(fn, (node as Record<string, unknown>)[fn], where);
    if (Array.isArray(node)) {
      return node
        .map((item, index) => resolve(item, `${where}[${index}]`))
        .filter((item) => item !== NO_VALUE);
    }
    if (typeof node === 'object' && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node)) {
        const resolved = resolve(value, `${where}.${key}`);
        if (resolved !== NO_VALUE) out[key] = resolved;
      }
      return out;
    }
    return node as Scalar;
  };

  const conditions = Object.fromEntries(
    Object.keys(template.Conditions ?? {}).map((name) => [name, condition(name)]),
  );
  const resources: Record<string, ResolvedResource> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!resourceCondition(logicalId)) continue;
    resources[logicalId] = {
      Type: resource.Type,
      Properties: resolve(resource.Properties ?? {}, logicalId) as Record<string, unknown>,
    };
  }

  return {
    deployment: d,
    parameters,
    conditions,
    resources,
    ref: (logicalId) => text(ref(logicalId, 'ref()'), logicalId),
    getAtt: (logicalId, attribute) => getAtt(logicalId, attribute, 'getAtt()'),
  };
};
