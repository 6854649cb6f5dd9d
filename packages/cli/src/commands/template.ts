import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistry } from '@riposte/actions';
import { loadPlaybooks } from '@riposte/core';
import { buildTemplate } from '@riposte/lambda-adapter';
import { stringify } from 'yaml';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import { playbookPaths } from '../load.js';

/** The Lambda bundle `pnpm build` writes, next to this checkout's CLI. */
const BUNDLE = fileURLToPath(new URL('../../../lambda-adapter/dist/handler.mjs', import.meta.url));

export const templateHelp = `riposte template [--playbooks <dir>]... [--format yaml|json] [--member-role <name>] [--code <path>]
  Prints the CloudFormation (SAM-compatible) template that deploys Riposte: the function (nodejs22.x,
  arm64), its role with exactly the IAM permissions the playbooks' actions declare, the EventBridge
  rule derived from the playbooks' finding types and severities, the idempotency table, the
  on-failure queue, and parameters for mode and member role. --playbooks must be the playbooks the
  function runs (default: the shipped rules/, which the bundle embeds). --member-role sets the
  MemberRoleName default; --code is the path of dist/handler.mjs as seen from where the template is
  packaged (default: relative to the current directory).`;

const FORMATS = ['yaml', 'json'] as const;

export const runTemplate = async (args: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    {
      playbooks: { type: 'string', multiple: true },
      format: { type: 'string', default: 'yaml' },
      'member-role': { type: 'string' },
      code: { type: 'string' },
    },
    false,
  );
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be yaml or json, not "${values.format}"`);
  const memberRole = values['member-role'];
  if (memberRole !== undefined && !/^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/.test(memberRole)) {
    throw new UsageError(`--member-role must be an IAM role name (not an ARN), not "${memberRole}"`);
  }
  const registry = createRegistry();
  const playbooks = await loadPlaybooks(playbookPaths(values.playbooks, io), { registry });
  const template = buildTemplate({
    playbooks,
    registry,
    codeUri: values.code ?? relative(io.cwd, BUNDLE),
    ...(memberRole === undefined ? {} : { memberRoleName: memberRole }),
  });
  io.stdout(
    format === 'json'
      ? JSON.stringify(template, null, 2)
      : stringify(template, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd(),
  );
  return EXIT.ok;
};
