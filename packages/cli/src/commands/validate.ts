import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT } from '../io.js';
import { CONFIG_OPTION, commandPlaybooks, projectOf } from '../load.js';

export const validateHelp = `riposte validate [files|dirs...] [--config <file>]
  Loads playbooks (YAML) and checks every one: schema, patterns, techniques, tactics, actions and
  their params. Without paths: the project's playbooks and custom actions (riposte.config.mjs, found
  from the working directory upward or named by --config; without one, the shipped @riposte/rules).
  Prints every problem as file:line:column. Exit 0 valid, 1 invalid, 2 usage.`;

export const runValidate = async (args: string[], io: CliIO): Promise<number> => {
  const { values, positionals } = parseCommandArgs(args, { ...CONFIG_OPTION });
  const project = await projectOf(io, values.config);
  const playbooks = await commandPlaybooks(project, positionals, io);
  const custom = project.customActions.length;
  io.stdout(
    `${io.style('green', 'valid')}: ${playbooks.length} playbook(s)${custom > 0 ? `, ${custom} custom action(s)` : ''}`,
  );
  return EXIT.ok;
};
