import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { PlaybookSource } from '@riposte/cli';
import { Annotations } from 'aws-cdk-lib';
import type { CfnManagedPolicy, CfnPolicy, CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { Construct } from 'constructs';
import { runCli } from './cli.js';
import { ResponderPropsError } from './errors.js';
import type { RiposteManifest } from './manifest.js';
import { checkParameters, type ResponderParameterValue, type TemplateParameter } from './parameters.js';

export interface RiposteResponderProps {
  /**
   * The project's `riposte.config.mjs` (from `projectDir`). Default: the nearest one from
   * `projectDir` upward, as every `riposte` command finds it; without one, the shipped playbooks.
   */
  config?: string;
  /**
   * Playbook sources (directories, files, globs, packages such as `@riposte/rules`), instead of a
   * configuration. Custom actions are code, which cannot be handed to the bundler from here: a
   * project with custom actions needs `config`.
   */
  playbooks?: PlaybookSource[];
  /** Where the configuration is looked for and relative paths start. Default: the working directory. */
  projectDir?: string;
  /**
   * Where the function is built (handler.mjs, function.zip, manifest.json) and the template written
   * (template.json). Default: as `riposte build`: the configuration's `outDir`, else `dist/riposte`
   * beside it (beside `projectDir` with `playbooks`).
   */
  outDir?: string;
  /**
   * Values for the template's parameters (`Mode: 'enforce'`, `AllowedAccounts: ['111122223333']`);
   * each given one is replaced by its value, the others stay parameters with the configuration's
   * settings as defaults. Checked here as CloudFormation checks a parameter (allowed values and
   * patterns, ranges), since a replaced parameter is never checked. See the parameter table of
   * examples/05-deploy.
   */
  parameters?: Record<string, ResponderParameterValue>;
}

// The logical ids of the template (packages/lambda-adapter/src/deploy/function-stack.ts).
const FUNCTION_ID = 'RiposteFunction';
const ROLE_ID = 'RiposteRole';
const POLICY_ID = 'RipostePolicy';
/** The role's managed policies: `RipostePermissions1`, `RipostePermissions2`, ... */
const PERMISSIONS_ID = /^RipostePermissions\d+$/;

const DEFAULT_OUT_DIR = 'dist/riposte';
const CONFIG_FILE = 'riposte.config.mjs';
const TEMPLATE_FILE = 'template.json';
const GLOB = /[*?[\]{}]/;

/** A path or glob from `projectDir`, made absolute; anything else is a package name, left as it is. */
const sourceFrom = (from: string, projectDir: string): string => {
  const local = resolve(projectDir, from);
  const isPath = isAbsolute(from) || from.startsWith('.') || existsSync(local) || GLOB.test(from);
  return isPath ? local.split(sep).join('/') : from;
};

/** The configuration written for `playbooks`: plain data, so it loads without any package installed. */
const generatedConfig = (playbooks: PlaybookSource[], projectDir: string): string => {
  const sources = playbooks.map((source) =>
    typeof source === 'string'
      ? sourceFrom(source, projectDir)
      : { ...source, from: sourceFrom(source.from, projectDir) },
  );
  return `// Written by @riposte/cdk for RiposteResponder's playbooks; rewritten at every synth.\nexport default ${JSON.stringify({ playbooks: sources }, null, 2)};\n`;
};

/**
 * Riposte as a CDK construct: the function built with the project's playbooks and custom actions by
 * `riposte build`, and the very stack `riposte template` prints for them (the function, its
 * least-privilege role, its policies and permissions boundary, the EventBridge rules, the idempotency
 * table, the queues, the alarms, their conditions and parameters), included with the template's
 * logical ids. Only the function's code changes: a CDK asset of the built function.zip.
 *
 * The build runs in a child process while the construct is created (a few seconds). One responder
 * per stack: its logical ids are the template's.
 */
export class RiposteResponder extends Construct {
  /** The included template: `getResource`, `getParameter`, `getCondition`, `getOutput` by logical id. */
  readonly template: CfnInclude;
  /** The function (`RiposteFunction`). */
  readonly function: CfnFunction;
  /** The function's ARN. */
  readonly functionArn: string;
  /** The function's role (`RiposteRole`). */
  readonly role: CfnRole;
  /**
   * The role's inline policy (`RipostePolicy`): its denies (every IAM write on protected roles and
   * principals). What the role is allowed is in `managedPolicies`.
   */
  readonly policy: CfnPolicy;
  /**
   * The role's least-privilege managed policies (`RipostePermissions1`, `RipostePermissions2`, ...):
   * the Allow statements derived from the playbooks' actions and the function's own needs, as many
   * policies as IAM's size limit needs.
   */
  readonly managedPolicies: CfnManagedPolicy[];
  /** The built function.zip, as the asset the function's code points at. */
  readonly code: Asset;
  /** What the build put in the function: packages, playbooks, actions, hashes. */
  readonly manifest: RiposteManifest;
  /** Where the function was built and the template written. */
  readonly outDir: string;

  constructor(scope: Construct, id: string, props: RiposteResponderProps = {}) {
    super(scope, id);
    const projectDir = resolve(props.projectDir ?? process.cwd());
    const given = props.outDir === undefined ? undefined : resolve(projectDir, props.outDir);

    let project: string[];
    let out: string[];
    if (props.playbooks !== undefined) {
      if (props.config !== undefined) {
        throw new ResponderPropsError('give config or playbooks, not both', { config: props.config });
      }
      if (props.playbooks.length === 0) {
        throw new ResponderPropsError(
          'playbooks must name at least one source: the function would never act',
        );
      }
      const dir = given ?? resolve(projectDir, DEFAULT_OUT_DIR);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, CONFIG_FILE);
      writeFileSync(file, generatedConfig(props.playbooks, projectDir));
      project = ['--config', file];
      out = ['--out', dir];
    } else {
      project = props.config === undefined ? [] : ['--config', resolve(projectDir, props.config)];
      out = given === undefined ? [] : ['--out', given];
    }

    const build = runCli(['build', ...project, ...out, '--json'], projectDir);
    for (const line of build.stderr.split('\n').filter((text) => text.trim() !== '')) {
      Annotations.of(this).addWarningV2('@riposte/cdk:build', line);
    }
    const { outDir, ...manifest } = JSON.parse(build.stdout) as RiposteManifest & { outDir: string };
    this.outDir = outDir;
    this.manifest = manifest;

    const template = runCli(['template', ...project, '--out', outDir, '--format', 'json'], projectDir);
    const printed = JSON.parse(template.stdout) as {
      Parameters: Record<string, TemplateParameter>;
      Resources: Record<string, unknown>;
    };
    if (props.parameters !== undefined) {
      const declared = printed.Parameters;
      checkParameters(props.parameters, declared);
      for (const name of Object.keys(props.parameters).filter((key) => declared[key]?.NoEcho)) {
        Annotations.of(this).addWarningV2(
          '@riposte/cdk:no-echo',
          `${name} is written into the synthesized template; give it at deploy time instead (cdk deploy --parameters ${name}=...)`,
        );
      }
    }
    const templateFile = join(outDir, TEMPLATE_FILE);
    writeFileSync(templateFile, template.stdout);
    this.template = new CfnInclude(this, 'Template', {
      templateFile,
      ...(props.parameters === undefined ? {} : { parameters: props.parameters }),
    });

    this.function = this.template.getResource(FUNCTION_ID) as CfnFunction;
    this.role = this.template.getResource(ROLE_ID) as CfnRole;
    this.policy = this.template.getResource(POLICY_ID) as CfnPolicy;
    this.managedPolicies = Object.keys(printed.Resources)
      .filter((logicalId) => PERMISSIONS_ID.test(logicalId))
      .sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')))
      .map((logicalId) => this.template.getResource(logicalId) as CfnManagedPolicy);
    this.functionArn = this.function.attrArn;

    // The template names function.zip by path, for `aws cloudformation package`; here it is an asset.
    this.code = new Asset(this, 'Code', { path: join(outDir, manifest.zip.file) });
    this.function.code = { s3Bucket: this.code.s3BucketName, s3Key: this.code.s3ObjectKey };
    this.code.addResourceMetadata(this.function, 'Code');
  }
}
