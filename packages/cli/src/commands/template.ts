import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistry } from '@riposte/actions';
import { loadPlaybooks } from '@riposte/core';
import {
  buildForwarderTemplate,
  buildMemberTemplate,
  buildTemplate,
  type CloudFormationTemplate,
} from '@riposte/lambda-adapter/deploy';
import { stringify } from 'yaml';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import { playbookPaths } from '../load.js';

/** The Lambda bundle `pnpm build` writes, next to this checkout's CLI. */
const BUNDLE = fileURLToPath(new URL('../../../lambda-adapter/dist/handler.mjs', import.meta.url));

export const templateHelp = `riposte template [--playbooks <dir>]... [--format yaml|json] [--member-role <name>] [--code <path>]
riposte template --member [--playbooks <dir>]... [--format yaml|json] [--member-role <name>]
riposte template --forwarder --home-region <region> [--playbooks <dir>]... [--format yaml|json]
  Prints a CloudFormation template derived from the playbooks. --playbooks must be the playbooks the
  function runs (default: the shipped rules/, which the bundle embeds).
  Without --member or --forwarder: the function's stack (SAM-compatible; deploy with CAPABILITY_IAM):
  the function (nodejs22.x, arm64); its role, allowed exactly what the playbooks' actions are granted
  (resources and conditions), denied every IAM write on itself, the member role and protected roles,
  and capped by a permissions boundary; the EventBridge rule for the playbooks' finding types and
  severities (and a Security Hub rule with SubscribeSecurityHub=true); the idempotency table, the
  on-failure queue, alarms, optional KMS encryption. --member-role sets the MemberRoleName default;
  --code is the path of dist/handler.mjs as seen from where the template is packaged (default: relative
  to the current directory).
  --member: the member-account stack (deploy with CAPABILITY_NAMED_IAM, e.g. as a service-managed
  StackSet): the role the function assumes, trusting only FunctionRoleArn (with ExternalId when set),
  with the same derived policy, denies and boundary. --member-role sets its default name and path
  (default riposte-member).
  --forwarder --home-region <region>: the stack for each other region: a rule sending the same
  findings to the home region's default event bus.`;

const FORMATS = ['yaml', 'json'] as const;
const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

export const runTemplate = async (args: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    {
      playbooks: { type: 'string', multiple: true },
      format: { type: 'string', default: 'yaml' },
      'member-role': { type: 'string' },
      code: { type: 'string' },
      member: { type: 'boolean' },
      forwarder: { type: 'boolean' },
      'home-region': { type: 'string' },
    },
    false,
  );
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be yaml or json, not "${values.format}"`);
  const memberRole = values['member-role'];
  if (memberRole !== undefined && !ROLE_NAME.test(memberRole)) {
    throw new UsageError(`--member-role must be an IAM role name (not an ARN), not "${memberRole}"`);
  }
  const homeRegion = values['home-region'];
  if (values.member && values.forwarder) {
    throw new UsageError('--member and --forwarder print different stacks: give one of them');
  }
  if (values.forwarder) {
    if (homeRegion === undefined) {
      throw new UsageError('--forwarder needs --home-region <region>: where the function runs');
    }
    if (!REGION.test(homeRegion)) {
      throw new UsageError(`--home-region must be an AWS region such as us-east-1, not "${homeRegion}"`);
    }
    if (memberRole !== undefined) throw new UsageError('--member-role does not apply to --forwarder');
  } else if (homeRegion !== undefined) {
    throw new UsageError('--home-region applies only to --forwarder');
  }
  if (values.code !== undefined && (values.member || values.forwarder)) {
    throw new UsageError(
      `--code applies only to the function's stack, not to --${values.member ? 'member' : 'forwarder'}`,
    );
  }

  const registry = createRegistry();
  const playbooks = await loadPlaybooks(playbookPaths(values.playbooks, io), { registry });
  const withRole = memberRole === undefined ? {} : { memberRoleName: memberRole };
  let template: CloudFormationTemplate;
  if (values.member) template = buildMemberTemplate({ playbooks, registry, ...withRole });
  else if (values.forwarder) template = buildForwarderTemplate({ playbooks, homeRegion: homeRegion! });
  else {
    template = buildTemplate({
      playbooks,
      registry,
      codeUri: values.code ?? relative(io.cwd, BUNDLE),
      ...withRole,
    });
  }
  io.stdout(
    format === 'json'
      ? JSON.stringify(template, null, 2)
      : stringify(template, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd(),
  );
  return EXIT.ok;
};
