import type { ActionDefinition, ActionRegistry } from '@riposte/core';

/** An action that also says, for the reference table, what a dry run of it reports. */
export interface DocumentedAction<P = Record<string, unknown>, S = unknown> extends ActionDefinition<P, S> {
  dryRun?: string;
}

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

const paramsCell = (action: ActionDefinition<Record<string, unknown>, unknown>): string => {
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

/**
 * The Markdown action reference: one row per action with its params, IAM permissions, what a dry run
 * reports and its idempotency rule. The package README embeds it; a test keeps the two equal.
 */
export const renderActionTable = (registry: ActionRegistry<unknown>): string => {
  const rows = registry
    .list()
    .map((action) => {
      const dryRun = (action as DocumentedAction).dryRun ?? 'The lookups and calls its plan() lists.';
      return [
        `\`${action.name}\``,
        action.phase,
        cell(action.summary),
        paramsCell(action),
        action.permissions.map((permission) => `\`${permission}\``).join('<br>'),
        cell(dryRun),
        cell(action.idempotency),
      ];
    })
    .map((cells) => `| ${cells.join(' | ')} |`);
  return [
    '| Action | Phase | What it does | Params | IAM permissions | Dry-run output | Idempotency |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
};
