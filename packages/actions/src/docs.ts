import { type ActionDefinition, type ActionRegistry, hasInverse, type PermissionGrant } from '@riposte/core';

interface ParamSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  default?: unknown;
}

/** Table-cell text: pipes escaped, one line, and `<host>` shown rather than read as HTML. */
const cell = (text: string): string =>
  text
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\s*\n\s*/g, ' ');

const typeOf = (schema: ParamSchema): string =>
  schema.enum
    ? schema.enum.map((value) => JSON.stringify(value)).join(' \\| ')
    : [schema.type ?? 'any'].flat().join(' \\| ');

const paramsCell = (action: ActionDefinition<object, unknown>): string => {
  const schema = action.paramsSchema as { properties?: Record<string, ParamSchema>; required?: string[] };
  const entries = Object.entries(schema.properties ?? {});
  if (entries.length === 0) return 'none';
  return entries
    .map(([name, param]) => {
      const required = schema.required?.includes(name) ? ', required' : '';
      const fallback = param.default === undefined ? '' : ` (default ${JSON.stringify(param.default)})`;
      return `\`${name}\` (${typeOf(param)}${required})${fallback}: ${cell(param.description ?? '')}`;
    })
    .join('<br>');
};

const conditionText = (conditions: PermissionGrant['conditions']): string =>
  Object.entries(conditions ?? {})
    .flatMap(([operator, keys]) =>
      Object.entries(keys).map(
        ([key, value]) =>
          `${operator} \`${key}\` ${[value]
            .flat()
            .map((item) => `\`${item}\``)
            .join(', ')}`,
      ),
    )
    .join('; ');

const grantText = (grant: PermissionGrant): string => {
  const conditions = conditionText(grant.conditions);
  return `${grant.actions.map((action) => `\`${action}\``).join(', ')} on ${grant.resources
    .map((resource) => `\`${resource}\``)
    .join(', ')}${conditions ? ` if ${conditions}` : ''}`;
};

/**
 * Where the permissions apply: the grants of a step without params (`not with quarantineGroupId` when
 * a documented example drops one), then those each documented example adds (`with topicArn: ...`).
 */
const grantsCell = (action: ActionDefinition<object, unknown>): string => {
  const examples = (action.paramExamples ?? []).map((params) => ({
    names: Object.keys(params)
      .map((name) => `\`${name}\``)
      .join(', '),
    grants: action.grants(params).map(grantText),
  }));
  const base = action.grants({}).map(grantText);
  const lines = base.map((text) => {
    const dropped = examples
      .filter((example) => !example.grants.includes(text))
      .map((example) => example.names);
    return dropped.length === 0 ? text : `${text} (not with ${dropped.join('; ')})`;
  });
  const shown = new Set(base);
  for (const example of examples) {
    for (const text of example.grants.filter((item) => !shown.has(item))) {
      shown.add(text);
      lines.push(`with ${example.names}: ${text}`);
    }
  }
  return lines.map(cell).join('<br>');
};

/**
 * How a step of the action is undone: the inverse's summary and the IAM permissions of the undo role
 * (with the resources and conditions they are granted on), or why there is no inverse.
 */
const undoCell = (action: ActionDefinition<object, unknown>): string => {
  const { undo } = action;
  if (undo === undefined) return 'declares no inverse: `riposte undo` leaves its steps as they are';
  if (!hasInverse(undo)) return cell(`No inverse: ${undo.none}`);
  const grants = undo.grants();
  const granted = new Set(grants.flatMap((grant) => grant.actions));
  const ungranted = undo.permissions
    .filter((permission) => !granted.has(permission))
    .map((permission) => `\`${permission}\` (no grant)`);
  return [undo.summary, `Undo role: ${[...grants.map(grantText), ...ungranted].join('; ')}`]
    .map(cell)
    .join('<br>');
};

/**
 * The Markdown action reference: one row per action with its params, IAM permissions and the resources
 * and conditions they are granted on, what a dry run reports, its idempotency rule, and how a step of
 * it is undone. The package README embeds it; a test keeps the two equal.
 */
export const renderActionTable = (registry: ActionRegistry<unknown>): string => {
  const rows = registry
    .list()
    .map((action) => {
      const dryRun = action.dryRun ?? 'The lookups and calls its plan() lists.';
      return [
        `\`${action.name}\``,
        action.phase,
        cell(action.summary),
        paramsCell(action),
        action.permissions.map((permission) => `\`${permission}\``).join('<br>'),
        grantsCell(action),
        cell(dryRun),
        cell(action.idempotency),
        undoCell(action),
      ];
    })
    .map((cells) => `| ${cells.join(' | ')} |`);
  return [
    '| Action | Phase | What it does | Params | IAM permissions | IAM grants (resources, conditions) | Dry-run output | Idempotency | Undo |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
};
