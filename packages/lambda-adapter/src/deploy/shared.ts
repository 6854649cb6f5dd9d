import type { Playbook } from '@riposte/core';
import { TemplateError } from '../errors.js';

/** One resource of a template: its type, properties and CloudFormation's resource attributes. */
export interface CloudFormationResource {
  Type: string;
  Properties: Record<string, unknown>;
  Condition?: string;
  DependsOn?: string | string[];
  [attribute: string]: unknown;
}

/** A CloudFormation template as a plain object, ready for JSON or YAML. */
export interface CloudFormationTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  /** CloudFormation ignores it; the template explains itself to a reviewer here. */
  Metadata?: Record<string, unknown>;
  Parameters: Record<string, Record<string, unknown>>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, CloudFormationResource>;
  Outputs: Record<string, Record<string, unknown>>;
}

export const ref = (name: string) => ({ Ref: name });
export const getAtt = (resource: string, attribute: string) => ({ 'Fn::GetAtt': [resource, attribute] });
export const NO_VALUE = ref('AWS::NoValue');
/** `value` when the condition holds, else nothing (the property or list item disappears). */
export const when = (condition: string, value: unknown) => ({ 'Fn::If': [condition, value, NO_VALUE] });
export const condition = (name: string) => ({ Condition: name });
export const notEmpty = (parameter: string) => ({ 'Fn::Not': [{ 'Fn::Equals': [ref(parameter), ''] }] });
/** A `CommaDelimitedList` parameter holds something: its items joined are not empty. */
export const listNotEmpty = (parameter: string) => ({
  'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', ref(parameter)] }, ''] }],
});
/** `Fn::Sub` over `${Name}` placeholders, written `{Name}` here so they never read as JavaScript's. */
export const sub = (text: string) => ({
  'Fn::Sub': text.replace(/\{([\w:]+)\}/g, (_, name: string) => `\${${name}}`),
});

/** The enabled playbooks; none is a mistake: the deployed function would never act. */
export const enabledOf = (playbooks: Playbook[]): Playbook[] => {
  const enabled = playbooks.filter((playbook) => playbook.enabled);
  if (enabled.length === 0) {
    throw new TemplateError('no enabled playbook: the deployed function would never act', {
      playbooks: playbooks.map((playbook) => playbook.name),
    });
  }
  return enabled;
};

export const describePlaybooks = (prefix: string, playbooks: Playbook[]): string =>
  `${prefix} ${playbooks.length} playbook(s): ${playbooks.map((playbook) => playbook.name).join(', ')}`.slice(
    0,
    1024,
  );

/** An SNS topic ARN, or empty: the shape `NotificationTopicArn` takes (it ends up in policies). */
export const TOPIC_PARAMETER_PATTERN =
  '^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?)?$';

/** Each item an IAM role or user ARN pattern, or the list empty (a name cannot be written in a Deny). */
export const PRINCIPAL_ARN_PARAMETER_PATTERN =
  '^(arn:aws[a-z-]*:iam::(\\d{12}|\\*):(role|user)/[\\w+=,.@/*?-]{1,500})?$';

/** 2-1224 characters STS accepts in an external id; the parameter may also be empty (none). */
export const EXTERNAL_ID_PARAMETER_PATTERN = '^([\\w+=,.@:/-]{2,1224})?$';

/**
 * The template with other defaults for some of its parameters (a project's settings), each checked
 * against the parameter's own AllowedPattern or AllowedValues: a default CloudFormation would refuse
 * fails here instead.
 */
export const withParameterDefaults = (
  template: CloudFormationTemplate,
  defaults: Record<string, string | number>,
): CloudFormationTemplate => {
  const parameters = { ...template.Parameters };
  for (const [name, value] of Object.entries(defaults)) {
    const parameter = parameters[name];
    if (!parameter) throw new TemplateError(`the template has no parameter ${name}`, { parameter: name });
    const pattern =
      typeof parameter.AllowedPattern === 'string' ? new RegExp(parameter.AllowedPattern) : undefined;
    const items = parameter.Type === 'CommaDelimitedList' ? String(value).split(',') : [String(value)];
    const allowed = parameter.AllowedValues as unknown[] | undefined;
    if ((pattern && !items.every((item) => pattern.test(item))) || (allowed && !allowed.includes(value))) {
      throw new TemplateError(`${JSON.stringify(value)} is not a valid ${name}`, { parameter: name });
    }
    parameters[name] = { ...parameter, Default: value };
  }
  return { ...template, Parameters: parameters };
};
