import { formatFindingHeader } from '@riposte/core';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import { jsonOf, readFindings } from '../load.js';

export const normalizeHelp = `riposte normalize <finding.json|dir> [--json]
  Prints the normalized finding(s): type parts, severity, resources, principal, actor, ATT&CK.
  --json prints the Finding object (an array when the input holds several findings).`;

export const runNormalize = async (args: string[], io: CliIO): Promise<number> => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
  const [path, ...extra] = positionals;
  if (!path || extra.length > 0)
    throw new UsageError('normalize needs exactly one finding file or directory');
  const loaded = await readFindings(path, io);
  if (values.json) {
    io.stdout(jsonOf(loaded.map(({ finding }) => finding)));
  } else {
    for (const { file, finding } of loaded) {
      io.stdout([io.style('dim', file), ...formatFindingHeader(finding, io.style)].join('\n'));
    }
  }
  return EXIT.ok;
};
