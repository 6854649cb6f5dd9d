import { createRegistry } from '@riposte/actions';
import { loadPlaybooks } from '@riposte/core';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';

export const validateHelp = `riposte validate <files|dirs...>
  Loads playbooks (YAML) and checks every one: schema, patterns, techniques, tactics, actions and
  their params. Prints every problem as file:line:column. Exit 0 valid, 1 invalid, 2 usage.`;

export const runValidate = async (args: string[], io: CliIO): Promise<number> => {
  const { positionals } = parseCommandArgs(args, {});
  if (positionals.length === 0) throw new UsageError('validate needs at least one file or directory');
  const playbooks = await loadPlaybooks(positionals, { registry: createRegistry() });
  io.stdout(`${io.style('green', 'valid')}: ${playbooks.length} playbook(s)`);
  return EXIT.ok;
};
