/**
 * Checks a template against the CloudFormation resource specification that @aws-cdk/aws-service-spec
 * ships (the CDK's own database of every resource type, property and attribute): types, properties
 * (nested ones too, through the property types), required properties, value shapes, `Fn::GetAtt`
 * attributes; and that every reference names something the template declares.
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { Template } from './deploy.js';
import { intrinsicOf } from './resolve.js';

type SpecDatabase = Awaited<ReturnType<typeof loadAwsServiceSpec>>;

/** The parts of the spec's entities used here (the types package is not a direct dependency). */
type SpecType =
  | { type: 'ref'; reference: unknown }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'union'; types: SpecType[] }
  | { type: 'string'; allowedValues?: string[] }
  | { type: 'json' | 'tag' | 'number' | 'integer' | 'boolean' | 'date-time' | 'null' };
export interface SpecProperty {
  type: SpecType;
  required?: boolean;
}
export interface SpecResource {
  properties: Record<string, SpecProperty>;
  attributes: Record<string, unknown>;
}
interface SpecTypeDefinition {
  name: string;
  properties: Record<string, SpecProperty>;
}

export interface SpecProblem {
  logicalId: string;
  /** The property path inside the resource, e.g. `Properties.Environment.Variables`. */
  path: string;
  message: string;
}

export const formatProblem = (problem: SpecProblem): string =>
  `${problem.logicalId} ${problem.path}: ${problem.message}`;

let database: Promise<SpecDatabase> | undefined;
/** The spec database, loaded once per test file (about half a second). */
export const specDatabase = (): Promise<SpecDatabase> => {
  database ??= loadAwsServiceSpec();
  return database;
};

const requiredString: SpecProperty = { type: { type: 'string' }, required: true };

/**
 * Resource types CloudFormation has and the installed spec lacks, written out from the CloudFormation
 * template reference (the type's page: properties, Required, Fn::GetAtt) and checked against the
 * CDK's own class for the type in resource-spec.test.ts. Each is used only while the spec lacks it.
 */
export const SPEC_SUPPLEMENT: Record<string, SpecResource> = {
  // aws-resource-securityhub-actiontarget: Description, Id and Name, all required strings;
  // Fn::GetAtt ActionTargetArn (aws-cdk-lib's CfnActionTarget, attrActionTargetArn).
  'AWS::SecurityHub::ActionTarget': {
    properties: { Description: requiredString, Id: requiredString, Name: requiredString },
    attributes: { ActionTargetArn: {} },
  },
};

export const specResource = (db: SpecDatabase, type: string): SpecResource | undefined =>
  (db.lookup('resource', 'cloudFormationType', 'equals', type)[0] as unknown as SpecResource | undefined) ??
  SPEC_SUPPLEMENT[type];

/** Whether the installed spec itself has the type (not only the supplement). */
export const specHas = (db: SpecDatabase, type: string): boolean =>
  db.lookup('resource', 'cloudFormationType', 'equals', type).length > 0;

/** Keys a resource may carry besides its Type and Properties. */
const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'Metadata',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
]);

const isCustom = (type: string) =>
  type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

/** The properties `aws cloudformation package` (and `sam package`) replace with an S3 location. */
const PACKAGED: Record<string, Record<string, unknown>> = {
  'AWS::Lambda::Function': { Code: { S3Bucket: 'riposte-artifacts', S3Key: 'handler.zip' } },
  'AWS::Lambda::LayerVersion': { Content: { S3Bucket: 'riposte-artifacts', S3Key: 'layer.zip' } },
};

/**
 * The template as `aws cloudformation package` uploads it: a local path in a packaged property
 * becomes the S3 location CloudFormation receives. Returns the packaged template and the paths it
 * replaced, by logical id.
 */
export const packaged = (template: Template): { template: Template; localPaths: Record<string, string> } => {
  const localPaths: Record<string, string> = {};
  const resources = Object.fromEntries(
    Object.entries(template.Resources).map(([logicalId, resource]) => {
      const replace = PACKAGED[resource.Type];
      if (!replace || !resource.Properties) return [logicalId, resource];
      const properties = { ...resource.Properties };
      for (const [name, location] of Object.entries(replace)) {
        if (typeof properties[name] === 'string') {
          localPaths[`${logicalId}.${name}`] = properties[name] as string;
          properties[name] = location;
        }
      }
      return [logicalId, { ...resource, Properties: properties }];
    }),
  );
  return { template: { ...template, Resources: resources }, localPaths };
};

/** Checks every resource's type, properties and attributes used by `Fn::GetAtt` against the spec. */
export const checkAgainstSpec = (db: SpecDatabase, template: Template): SpecProblem[] => {
  const problems: SpecProblem[] = [];

  const checkObject = (
    properties: Record<string, SpecProperty>,
    value: unknown,
    logicalId: string,
    path: string,
    typeName: string,
  ): void => {
    const fn = intrinsicOf(value);
    if (fn === 'Fn::If') {
      const [, whenTrue, whenFalse] = (value as { 'Fn::If': unknown[] })['Fn::If'];
      checkObject(properties, whenTrue, logicalId, `${path}.Fn::If[1]`, typeName);
      checkObject(properties, whenFalse, logicalId, `${path}.Fn::If[2]`, typeName);
      return;
    }
    if (fn) return; // computed at deploy time: its shape is CloudFormation's to check
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({
        logicalId,
        path,
        message: `expected an object (${typeName}), got ${JSON.stringify(value)}`,
      });
      return;
    }
    for (const [key, inner] of Object.entries(value)) {
      const property = properties[key];
      if (!property) {
        problems.push({ logicalId, path: `${path}.${key}`, message: `${typeName} has no property ${key}` });
        continue;
      }
      checkValue(property.type, inner, logicalId, `${path}.${key}`);
    }
    for (const [key, property] of Object.entries(properties)) {
      if (property.required && !(key in value)) {
        problems.push({
          logicalId,
          path: `${path}.${key}`,
          message: `required property ${key} of ${typeName} is missing`,
        });
      }
    }
  };

  /** Problems a value has against a type, without recording them (to try the members of a union). */
  const problemsOf = (type: SpecType, value: unknown, logicalId: string, path: string): SpecProblem[] => {
    const before = problems.length;
    checkValue(type, value, logicalId, path);
    return problems.splice(before);
  };

  const checkValue = (type: SpecType, value: unknown, logicalId: string, path: string): void => {
    const fn = intrinsicOf(value);
    if (fn === 'Fn::If') {
      const [, whenTrue, whenFalse] = (value as { 'Fn::If': unknown[] })['Fn::If'];
      for (const [index, branch] of [whenTrue, whenFalse].entries()) {
        if (intrinsicOf(branch) === 'Ref' && (branch as { Ref: unknown }).Ref === 'AWS::NoValue') continue;
        checkValue(type, branch, logicalId, `${path}.Fn::If[${index + 1}]`);
      }
      return;
    }
    if (fn) return;
    const mismatch = (expected: string) => {
      problems.push({ logicalId, path, message: `expected ${expected}, got ${JSON.stringify(value)}` });
    };
    const isMap = typeof value === 'object' && value !== null && !Array.isArray(value);
    switch (type.type) {
      case 'ref': {
        const definition = db.get('typeDefinition', type.reference as never) as unknown as SpecTypeDefinition;
        checkObject(definition.properties, value, logicalId, path, definition.name);
        break;
      }
      case 'array':
        if (!Array.isArray(value)) mismatch('a list');
        else
          for (const [index, item] of value.entries())
            checkValue(type.element, item, logicalId, `${path}[${index}]`);
        break;
      case 'map':
        if (!isMap) mismatch('a map');
        else
          for (const [key, item] of Object.entries(value))
            checkValue(type.element, item, logicalId, `${path}.${key}`);
        break;
      case 'union': {
        const attempts = type.types.map((member) => problemsOf(member, value, logicalId, path));
        if (!attempts.some((attempt) => attempt.length === 0)) {
          problems.push(
            ...attempts.reduce((fewest, attempt) => (attempt.length < fewest.length ? attempt : fewest)),
          );
        }
        break;
      }
      case 'json':
        if (typeof value !== 'object' || value === null) mismatch('a JSON object');
        break;
      case 'tag':
        checkObject(
          {
            Key: { type: { type: 'string' }, required: true },
            Value: { type: { type: 'string' }, required: true },
          },
          value,
          logicalId,
          path,
          'Tag',
        );
        break;
      case 'string':
        if (typeof value === 'object') mismatch('a string');
        else if (type.allowedValues && !type.allowedValues.includes(String(value))) {
          mismatch(`one of ${type.allowedValues.join(', ')}`);
        }
        break;
      case 'integer':
      case 'number':
        if (!(typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)))) {
          mismatch('a number');
        }
        break;
      case 'boolean':
        if (!(typeof value === 'boolean' || value === 'true' || value === 'false')) mismatch('a boolean');
        break;
      default:
        break;
    }
  };

  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key))
        problems.push({ logicalId, path: key, message: `not a resource attribute` });
    }
    if (isCustom(resource.Type)) continue;
    const spec = specResource(db, resource.Type);
    if (!spec) {
      problems.push({
        logicalId,
        path: 'Type',
        message: `${resource.Type} is not a CloudFormation resource type`,
      });
      continue;
    }
    checkObject(spec.properties, resource.Properties ?? {}, logicalId, 'Properties', resource.Type);
  }

  for (const reference of references(template)) {
    if (reference.kind !== 'GetAtt' || !reference.attribute) continue;
    const target = template.Resources[reference.name];
    if (!target || isCustom(target.Type)) continue;
    const spec = specResource(db, target.Type);
    if (spec && !(reference.attribute in spec.attributes)) {
      problems.push({
        logicalId: reference.logicalId,
        path: reference.path,
        message: `Fn::GetAtt ${reference.name}.${reference.attribute}: ${target.Type} has no attribute ${reference.attribute} (it has ${Object.keys(spec.attributes).join(', ') || 'none'})`,
      });
    }
  }
  return problems;
};

export interface Reference {
  kind: 'Ref' | 'GetAtt' | 'Sub' | 'If' | 'Condition' | 'DependsOn';
  name: string;
  attribute?: string;
  /** The resource (or `Conditions`/`Outputs` entry) the reference is written in. */
  logicalId: string;
  path: string;
}

/** Every reference in the template: Ref, GetAtt, Sub placeholders, If and Condition names, DependsOn. */
export const references = (template: Template): Reference[] => {
  const found: Reference[] = [];
  const visit = (node: unknown, logicalId: string, path: string): void => {
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) visit(item, logicalId, `${path}[${index}]`);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const fn = intrinsicOf(node);
    const argument = fn ? (node as Record<string, unknown>)[fn] : undefined;
    if (fn === 'Ref' && typeof argument === 'string') {
      found.push({ kind: 'Ref', name: argument, logicalId, path });
    } else if (fn === 'Fn::GetAtt') {
      const [name, attribute] = Array.isArray(argument)
        ? [String(argument[0]), typeof argument[1] === 'string' ? argument[1] : undefined]
        : String(argument).split(/\.(.*)/s);
      found.push({ kind: 'GetAtt', name: name!, ...(attribute ? { attribute } : {}), logicalId, path });
    } else if (fn === 'Fn::Sub') {
      const [body, variables] = Array.isArray(argument) ? argument : [argument, {}];
      const locals = new Set(Object.keys((variables as Record<string, unknown>) ?? {}));
      for (const [, inner] of String(body).matchAll(/\$\{([^}!][^}]*)\}/g)) {
        if (locals.has(inner!)) continue;
        const dot = inner!.indexOf('.');
        if (dot > 0 && !inner!.startsWith('AWS::')) {
          found.push({
            kind: 'GetAtt',
            name: inner!.slice(0, dot),
            attribute: inner!.slice(dot + 1),
            logicalId,
            path,
          });
        } else found.push({ kind: 'Sub', name: inner!, logicalId, path });
      }
    } else if (fn === 'Fn::If' && Array.isArray(argument)) {
      found.push({ kind: 'If', name: String(argument[0]), logicalId, path });
    } else if (!fn && 'Condition' in node && typeof (node as { Condition: unknown }).Condition === 'string') {
      // `{ "Condition": "Name" }` inside a condition expression; IAM statements' Condition blocks are objects.
      found.push({ kind: 'Condition', name: (node as { Condition: string }).Condition, logicalId, path });
    }
    for (const [key, value] of Object.entries(node)) visit(value, logicalId, `${path}.${key}`);
  };
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    visit(resource.Properties ?? {}, logicalId, 'Properties');
    if (typeof resource.Condition === 'string') {
      found.push({ kind: 'Condition', name: resource.Condition, logicalId, path: 'Condition' });
    }
    for (const name of ([] as unknown[]).concat(resource.DependsOn ?? [])) {
      found.push({ kind: 'DependsOn', name: String(name), logicalId, path: 'DependsOn' });
    }
  }
  for (const [name, condition] of Object.entries(template.Conditions ?? {})) {
    visit(condition, `Conditions.${name}`, '');
  }
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    visit(output, `Outputs.${name}`, '');
  }
  return found;
};

export const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

/** The references that name nothing the template declares, as `<where> <path>: <what>`. */
export const danglingReferences = (template: Template): string[] =>
  references(template).flatMap((reference) => {
    const { kind, name } = reference;
    const declared =
      kind === 'If' || kind === 'Condition'
        ? name in (template.Conditions ?? {})
        : kind === 'GetAtt' || kind === 'DependsOn'
          ? name in template.Resources
          : name in template.Resources || name in (template.Parameters ?? {}) || PSEUDO_PARAMETERS.has(name);
    // A resource cannot Ref or GetAtt itself, and a list parameter cannot go into Fn::Sub.
    const self = (kind === 'Ref' || kind === 'GetAtt') && name === reference.logicalId;
    const listInSub =
      kind === 'Sub' && String(template.Parameters?.[name]?.Type ?? '').match(/^(CommaDelimitedList|List<)/);
    const where = `${reference.logicalId} ${reference.path}`.trim();
    if (!declared) return [`${where}: ${kind} ${name} names nothing the template declares`];
    if (self) return [`${where}: ${kind} ${name} refers to the resource itself`];
    if (listInSub) return [`${where}: Fn::Sub \${${name}} is a list parameter`];
    return [];
  });
