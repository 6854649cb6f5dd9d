import type { ErrorObject } from 'ajv';
import type { JsonSchema } from '../action.js';
import type { ConfigurationIssue, PlaybookIssueCode } from '../errors.js';
import { type SchemaProblem, schemaProblems } from '../schema-problems.js';
import { closestNames, didYouMean } from '../suggest.js';
import { positioned, type SourceDocument } from './positions.js';
import { playbookValidator, schemaDefinition } from './schema.js';

/** What the schema's patterns mean, said the way a playbook author thinks of the value. */
const PATTERN_MESSAGES: Record<string, string> = {
  '^[a-z0-9]+(-[a-z0-9]+)*$': 'must be kebab-case: lowercase letters and digits joined by single hyphens',
  '^T\\d{4}(\\.\\d{3})?$': 'must be an ATT&CK technique id such as T1078 or T1078.004',
  '^\\d{12}$': 'must be a 12-digit AWS account id',
  '^[a-z]{2}(-[a-z]+)+-\\d+$': 'must be an AWS region such as us-east-1',
};

const jsonType = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const fitsType = (type: unknown, value: unknown): boolean =>
  type === jsonType(value) || (type === 'integer' && Number.isInteger(value));

const branchType = (branch: JsonSchema): unknown =>
  typeof branch.$ref === 'string' ? schemaDefinition(branch.$ref)?.type : branch.type;

/** The playbook author's wording, where it differs from the shared one. */
const wording = (error: ErrorObject): string | undefined => {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      // YAML reads 111122223333 or true as a number or a boolean; the fix is quotes.
      return params.type === 'string' && ['number', 'boolean'].includes(typeof error.data)
        ? 'must be string (quote the value)'
        : undefined;
    case 'pattern':
      return PATTERN_MESSAGES[String(params.pattern)] ?? `must match ${String(params.pattern)}`;
    case 'minProperties':
      return error.parentSchema === schemaDefinition('#/definitions/criteria')
        ? 'must name at least one criterion'
        : 'must not be empty';
    default:
      return undefined;
  }
};

/**
 * Each union in the schema (`anyOf`) offers branches of different JSON types, e.g. a string or a list.
 * Ajv reports every branch's failure; the author meant the branch whose type the value has, so only
 * that branch's errors are kept. A value of none of the types gets one "must be X or Y".
 */
const resolveUnions = (
  errors: ErrorObject[],
): { kept: ErrorObject[]; replaced: Map<ErrorObject, string> } => {
  const dropped = new Set<ErrorObject>();
  const replaced = new Map<ErrorObject, string>();
  for (const union of errors.filter((error) => error.keyword === 'anyOf')) {
    const branches = union.schema as JsonSchema[];
    const types = branches.map(branchType);
    const wrongBranches = types.flatMap((type, index) => (fitsType(type, union.data) ? [] : [index]));
    for (const error of errors) {
      if (error === union || error.instancePath !== union.instancePath) continue;
      const inWrongBranch = wrongBranches.some((index) =>
        error.schemaPath.startsWith(`${union.schemaPath}/${index}/`),
      );
      const wrongType = error.keyword === 'type' && !fitsType(error.params.type, union.data);
      if (inWrongBranch || wrongType) dropped.add(error);
    }
    if (wrongBranches.length === branches.length) {
      replaced.set(union, `must be ${[...new Set(types.map(String))].join(' or ')}`);
    } else {
      dropped.add(union);
    }
  }
  return { kept: errors.filter((error) => !dropped.has(error)), replaced };
};

const KEYWORD_CODES: Readonly<Record<string, PlaybookIssueCode>> = {
  required: 'KEY_MISSING',
  additionalProperties: 'KEY_UNKNOWN',
  propertyNames: 'KEY_INVALID',
};

/**
 * For an unknown key, the keys its mapping may hold that the key was likely meant to be; keys the
 * mapping already has are not offered.
 */
const keySuggestions = ({ error, key }: SchemaProblem): string[] => {
  if (error.keyword !== 'additionalProperties' || key === undefined) return [];
  const properties = (error.parentSchema as JsonSchema | undefined)?.properties;
  const present = error.data !== null && typeof error.data === 'object' ? Object.keys(error.data) : [];
  const allowed = properties !== null && typeof properties === 'object' ? Object.keys(properties) : [];
  return closestNames(
    key,
    allowed.filter((name) => !present.includes(name)),
  );
};

/** Validates one document against the playbook schema; each problem positioned at its YAML node. */
export const schemaIssues = (source: SourceDocument, data: unknown): ConfigurationIssue[] => {
  const validate = playbookValidator();
  if (validate(data)) return [];
  const { kept, replaced } = resolveUnions([...(validate.errors ?? [])]);
  return schemaProblems(kept, (error) => replaced.get(error) ?? wording(error)).map((problem) => {
    const suggestions = keySuggestions(problem);
    const issue = positioned(source)({ ...problem, message: didYouMean(problem.message, suggestions) });
    return {
      ...issue,
      code: KEYWORD_CODES[problem.error.keyword] ?? 'VALUE_INVALID',
      ...(suggestions.length > 0 ? { suggestions } : {}),
    };
  });
};
