import { ResponderPropsError } from './errors.js';

/** A value for one of the template's parameters: a list for `AllowedAccounts` and `ProtectedPrincipals`. */
export type ResponderParameterValue = string | number | string[];

/** A template parameter, as `riposte template` declares it. */
export interface TemplateParameter {
  Type: string;
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
  NoEcho?: boolean;
}

const describe = (value: unknown): string => JSON.stringify(value);

/** What is wrong with one value, checked as CloudFormation would check it at deploy time; or nothing. */
const problemOf = (
  name: string,
  value: ResponderParameterValue,
  parameter: TemplateParameter,
): string | undefined => {
  const pattern =
    parameter.AllowedPattern === undefined ? undefined : new RegExp(`^(?:${parameter.AllowedPattern})$`);
  const matches = (text: string) => pattern === undefined || pattern.test(text);
  if (parameter.Type === 'CommaDelimitedList') {
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      return `${name} is a list: give an array of strings, not ${describe(value)}`;
    }
    const bad = value.find((item) => !matches(item));
    return bad === undefined
      ? undefined
      : `${name}: ${describe(bad)} does not match ${parameter.AllowedPattern}`;
  }
  if (parameter.Type === 'Number') {
    if (typeof value !== 'number' || !Number.isFinite(value))
      return `${name} is a number, not ${describe(value)}`;
    if (parameter.MinValue !== undefined && value < parameter.MinValue) {
      return `${name} must be at least ${parameter.MinValue}, not ${value}`;
    }
    if (parameter.MaxValue !== undefined && value > parameter.MaxValue) {
      return `${name} must be at most ${parameter.MaxValue}, not ${value}`;
    }
    return undefined;
  }
  if (typeof value !== 'string') return `${name} is a string, not ${describe(value)}`;
  if (parameter.AllowedValues !== undefined && !parameter.AllowedValues.includes(value)) {
    return `${name} must be one of ${parameter.AllowedValues.join(', ')}, not ${describe(value)}`;
  }
  return matches(value)
    ? undefined
    : `${name}: ${describe(value)} does not match ${parameter.AllowedPattern}`;
};

/**
 * Checks the values given for the template's parameters: a value replaces its parameter, so
 * CloudFormation never checks it, and a typo (`Mode: 'enfroce'`) would reach the function.
 */
export const checkParameters = (
  given: Record<string, ResponderParameterValue>,
  declared: Record<string, TemplateParameter>,
): void => {
  const problems = Object.entries(given).flatMap(([name, value]) => {
    const parameter = declared[name];
    if (parameter === undefined) {
      return [`the template has no parameter ${name}; it has ${Object.keys(declared).join(', ')}`];
    }
    return problemOf(name, value, parameter) ?? [];
  });
  if (problems.length > 0) {
    throw new ResponderPropsError(
      `${problems.length} invalid parameter value(s):\n${problems.map((problem) => `  ${problem}`).join('\n')}`,
      { problems },
    );
  }
};
