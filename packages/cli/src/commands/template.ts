import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { Playbook } from '@riposte/core';
import {
  buildForwarderTemplate,
  buildMemberTemplate,
  buildTemplate,
  type CloudFormationTemplate,
  withParameterDefaults,
} from '@riposte/lambda-adapter/deploy';
import { stringify } from 'yaml';
import { parseCommandArgs } from '../args.js';
import {
  driftOf,
  fingerprintOf,
  hashFiles,
  MANIFEST_FILE,
  type Manifest,
  riposteVersions,
} from '../build/manifest.js';
import type { Project } from '../config/load.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import { CONFIG_OPTION, commandPlaybooks, projectOf } from '../load.js';
import { outDirOf } from './build.js';

export const templateHelp = `riposte template [--config <file>] [--out <dir>] [--playbooks <dir>]... [--format yaml|json] [--member-role <name>] [--code <path>]
riposte template --member [--config <file>] [--playbooks <dir>]... [--format yaml|json] [--member-role <name>]
riposte template --forwarder --home-region <region> [--config <file>] [--playbooks <dir>]... [--format yaml|json]
  Prints a CloudFormation template derived from the project's playbooks and actions (riposte.config.mjs,
  else the shipped @riposte/rules; --playbooks overrides the playbooks), with the configuration's
  settings (mode, topicArn, accounts, organizationId, protectedPrincipals, memberRole, limits) as
  parameter defaults.
  Without --member or --forwarder: the function's stack (SAM-compatible; deploy with CAPABILITY_IAM).
  It reads the manifest riposte build wrote in --out (default: the configuration's outDir, else
  dist/riposte) and refuses (exit 1, the differences listed) when the built function and the project
  disagree: playbooks, custom actions, their source files or the Riposte packages. Code names that
  build's function.zip, relative to the current directory (--code overrides), so aws cloudformation
  package and sam deploy upload it. The stack holds:
  the function (nodejs22.x, arm64); its role, allowed exactly what the playbooks' actions are granted
  (resources and conditions), denied every IAM write on itself, the member role and protected roles,
  and capped by a permissions boundary; the EventBridge rule for the playbooks' finding types and
  severities (and a Security Hub rule with SubscribeSecurityHub=true); the idempotency table, the
  history table (and the S3 copy's grant with HistoryBucket), the Security Hub custom actions
  "Riposte: approve" and "Riposte: reject" with their rule (SecurityHubIntegration), the CloudWatch
  dashboard, the on-failure queue, alarms, optional KMS encryption. --member-role sets the
  MemberRoleName default.
  --member: the member-account stack (deploy with CAPABILITY_NAMED_IAM, e.g. as a service-managed
  StackSet): the role the function assumes, trusting only FunctionRoleArn (with ExternalId when set),
  with the same derived policy, denies and boundary; and the undo role (UndoRoleName, default
  RiposteUndo) that people in the function's account assume for riposte undo, holding only the
  actions' inverse permissions. --member-role sets the member role's default name and path
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
      out: { type: 'string' },
      ...CONFIG_OPTION,
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
  for (const option of ['code', 'out'] as const) {
    if (values[option] !== undefined && (values.member || values.forwarder)) {
      throw new UsageError(
        `--${option} applies only to the function's stack, not to --${values.member ? 'member' : 'forwarder'}`,
      );
    }
  }

  const project = await projectOf(io, values.config);
  const playbooks = await commandPlaybooks(project, values.playbooks, io);
  const { registry, config } = project;
  const roleName = memberRole ?? config.memberRole;
  const withRole = roleName === undefined ? {} : { memberRoleName: roleName };
  let template: CloudFormationTemplate;
  if (values.member) {
    template = withParameterDefaults(buildMemberTemplate({ playbooks, registry, ...withRole }), {
      ...(config.topicArn ? { NotificationTopicArn: config.topicArn } : {}),
      ...(config.protectedPrincipals ? { ProtectedPrincipals: config.protectedPrincipals.join(',') } : {}),
    });
  } else if (values.forwarder) template = buildForwarderTemplate({ playbooks, homeRegion: homeRegion! });
  else {
    const outDir = outDirOf(project, values.out, io);
    const drift = await driftFromBuild(project, playbooks, outDir);
    if (drift.length > 0) {
      const shown = relative(io.cwd, outDir) || '.';
      io.stderr(
        `${io.style('red', 'refused')}: the function built in ${shown} is not the project's; run riposte build`,
      );
      for (const line of drift) io.stderr(`  ${line}`);
      return EXIT.failed;
    }
    template = withParameterDefaults(
      buildTemplate({
        playbooks,
        registry,
        codeUri: values.code ?? relative(io.cwd, join(outDir, 'function.zip')),
        ...(config.mode ? { mode: config.mode } : {}),
        ...withRole,
      }),
      settingsDefaults(project),
    );
  }
  io.stdout(
    format === 'json'
      ? JSON.stringify(template, null, 2)
      : stringify(template, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd(),
  );
  return EXIT.ok;
};

/** The configuration's settings, as the function stack's parameter defaults. */
const settingsDefaults = ({ config }: Project): Record<string, string | number> => ({
  ...(config.topicArn ? { NotificationTopicArn: config.topicArn } : {}),
  ...(config.accounts ? { AllowedAccounts: config.accounts.join(',') } : {}),
  ...(config.organizationId ? { OrganizationId: config.organizationId } : {}),
  ...(config.protectedPrincipals ? { ProtectedPrincipals: config.protectedPrincipals.join(',') } : {}),
  ...(config.limits?.maxTargetsPerHour ? { MaxTargetsPerHour: config.limits.maxTargetsPerHour } : {}),
});

/**
 * How the function built in `outDir` differs from what the template would be derived from; a
 * missing or unreadable manifest is a difference too: there is nothing to deploy.
 */
const driftFromBuild = async (project: Project, playbooks: Playbook[], outDir: string): Promise<string[]> => {
  let built: Manifest;
  try {
    built = JSON.parse(await readFile(join(outDir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch (error) {
    return [`no readable ${MANIFEST_FILE} (${(error as Error).message.split('\n')[0]})`];
  }
  if (built?.manifestVersion !== 1 || !Array.isArray(built.playbooks) || !Array.isArray(built.sources)) {
    return [`${MANIFEST_FILE} is not a manifest riposte build wrote`];
  }
  const inside = (path: unknown): path is string =>
    typeof path === 'string' && !isAbsolute(path) && !path.split(/[\\/]/).includes('..');
  const outside = built.sources.filter((source) => !inside(source?.path));
  if (outside.length > 0) return [`${MANIFEST_FILE} names sources outside the project`];
  const now = fingerprintOf(project, playbooks, await riposteVersions());
  const sources = await hashFiles(
    project.root,
    built.sources.map((source) => source.path),
  );
  const zip = (await hashFiles(outDir, ['function.zip'])).get('function.zip');
  const zipDrift =
    zip !== undefined && zip === built.zip?.sha256
      ? []
      : ['~ function.zip: missing, or not the one this manifest describes'];
  return [...driftOf(built, now, sources), ...zipDrift];
};
