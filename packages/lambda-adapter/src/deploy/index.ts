/**
 * `@riposte/lambda-adapter/deploy`: the CloudFormation templates that deploy Riposte, derived from
 * the playbooks. Kept apart from the runtime entry, so the Lambda bundle never carries them.
 */
export { TemplateError } from '../errors.js';
export {
  EVENT_PATTERN_LIMIT,
  findingEventPattern,
  GUARDDUTY_PRODUCT_ARN_SUFFIX,
  securityHubEventPattern,
  securityHubLabelsFrom,
  severityFloor,
} from './event-patterns.js';
export { buildForwarderTemplate, type ForwarderTemplateOptions } from './forwarder-stack.js';
export {
  APPROVAL_ACTIONS,
  buildTemplate,
  DEFAULT_CODE_URI,
  type TemplateOptions,
  VPC_PLACEMENT_NOTE,
} from './function-stack.js';
export {
  buildMemberTemplate,
  DEFAULT_MEMBER_ROLE_NAME,
  DEFAULT_UNDO_ROLE_NAME,
  type MemberTemplateOptions,
  splitRoleName,
} from './member-stack.js';
export {
  type AllowStatementOptions,
  actionPermissions,
  allowStatements,
  BOUNDARY_RULE,
  boundaryStatements,
  IAM_POLICY_LIMITS,
  IAM_WRITE_ACTIONS,
  inverseGrants,
  NO_RESOURCE_LEVEL_ACTIONS,
  NOTIFICATION_TOPIC,
  PACKING_RULE,
  type PolicyEntry,
  type PolicyStatement,
  PROTECTED_ROLE_PATTERNS,
  packStatements,
  playbookGrants,
  policySize,
  type RolePolicyOptions,
  renderResource,
  rolePolicyResources,
  type SubstitutionLengths,
  statementOf,
  undoRolePolicy,
  wildcardActions,
} from './permissions.js';
export {
  type CloudFormationResource,
  type CloudFormationTemplate,
  PRINCIPAL_ARN_PARAMETER_PATTERN,
  TOPIC_PARAMETER_PATTERN,
  withParameterDefaults,
} from './shared.js';
