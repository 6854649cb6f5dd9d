import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlaybookValidationError } from '@riposte/core';
import type { CloudFormationTemplate } from '@riposte/lambda-adapter/deploy';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runTemplate } from '../../src/commands/template.js';
import { EXIT, UsageError } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const template = async (args: string[], cwd = ROOT) => {
  const { io, out } = recordingIO(cwd);
  const code = await runTemplate(args, io);
  return { code, text: out.join('\n') };
};
const json = async (args: string[]) =>
  JSON.parse((await template(['--format', 'json', ...args])).text) as CloudFormationTemplate;

describe('riposte template', () => {
  it('prints the YAML template for the shipped playbooks', async () => {
    const { code, text } = await template([]);

    const parsed = parse(text) as CloudFormationTemplate;
    expect(code).toBe(EXIT.ok);
    expect(parsed.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(parsed.Resources.RiposteFunction?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Code: 'dist/riposte/function.zip',
    });
    expect(text).not.toMatch(/[&*]a\d/);
  });

  it('prints the same template as JSON with --format json', async () => {
    const yaml = parse((await template([])).text);

    const { text } = await template(['--format', 'json']);

    expect(JSON.parse(text)).toEqual(yaml);
  });

  it("points Code at the build's function.zip relative to the current directory, or where --code says", async () => {
    const fromExamples = JSON.parse(
      (await template(['--format', 'json'], join(ROOT, 'examples', '05-deploy'))).text,
    );
    const given = await json(['--code', 'build/function.zip']);

    expect(fromExamples.Resources.RiposteFunction.Properties.Code).toBe('../../dist/riposte/function.zip');
    expect(given.Resources.RiposteFunction!.Properties.Code).toBe('build/function.zip');
  });

  it('sets the MemberRoleName default with --member-role', async () => {
    const parsed = await json(['--member-role', 'security/riposte-member']);

    expect(parsed.Parameters.MemberRoleName!.Default).toBe('security/riposte-member');
  });

  it('prints the member-account stack with --member: a named role trusting FunctionRoleArn, and the undo role', async () => {
    const parsed = await json(['--member']);

    const resources = Object.keys(parsed.Resources);
    // The roles' allows in managed policies, MemberPermissions1 and UndoPermissions1 on.
    const numbered = (prefix: string) =>
      resources.filter((id) => new RegExp(`^${prefix}\\d+$`).test(id)).sort();
    expect(numbered('MemberPermissions')[0]).toBe('MemberPermissions1');
    expect(numbered('UndoPermissions')[0]).toBe('UndoPermissions1');
    expect(resources.filter((id) => !/^(Member|Undo)Permissions\d+$/.test(id)).sort()).toEqual([
      'MemberBoundary',
      'MemberPolicy',
      'MemberRole',
      'UndoPolicy',
      'UndoRole',
    ]);
    for (const id of [...numbered('MemberPermissions'), ...numbered('UndoPermissions')]) {
      expect(parsed.Resources[id]!.Type).toBe('AWS::IAM::ManagedPolicy');
    }
    expect(parsed.Parameters.UndoRoleName!.Default).toBe('RiposteUndo');
    expect(parsed.Parameters.MemberRoleName!.Default).toBe('riposte-member');
    expect(parsed.Resources.MemberRole!.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Principal: { AWS: { Ref: 'FunctionRoleArn' } }, Action: 'sts:AssumeRole' }],
    });
  });

  it('takes the member role name and path from --member-role with --member', async () => {
    const parsed = await json(['--member', '--member-role', 'security/responder']);

    expect(parsed.Parameters.MemberRoleName!.Default).toBe('responder');
    expect(parsed.Parameters.MemberRolePath!.Default).toBe('/security/');
  });

  it('prints the forwarder stack with --forwarder --home-region', async () => {
    const parsed = await json(['--forwarder', '--home-region', 'eu-west-1']);
    const functionRule = (await json([])).Resources.FindingRule!.Properties.EventPattern;

    expect(parsed.Parameters.HomeRegion!.Default).toBe('eu-west-1');
    expect(parsed.Resources.ForwardingRule!.Properties.EventPattern).toEqual(functionRule);
    expect(parsed.Resources.ForwardingRule!.Properties.Targets).toEqual([
      expect.objectContaining({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        Arn: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${HomeRegion}:${AWS::AccountId}:event-bus/default' },
      }),
    ]);
  });

  it.each([
    [['--format', 'xml'], /--format must be yaml or json/],
    [['--member-role', 'arn:aws:iam::111122223333:role/riposte-member'], /must be an IAM role name/],
    [['--unknown'], /Unknown option/],
    [['--member', '--forwarder', '--home-region', 'us-east-1'], /give one of them/],
    [['--forwarder'], /--forwarder needs --home-region/],
    [['--forwarder', '--home-region', 'us-east'], /--home-region must be an AWS region/],
    [['--forwarder', '--home-region', 'us-east-1', '--member-role', 'x'], /does not apply to --forwarder/],
    [['--home-region', 'us-east-1'], /applies only to --forwarder/],
    [['--member', '--code', 'build/handler.mjs'], /--code applies only to the function's stack/],
    [['--forwarder', '--home-region', 'us-east-1', '--code', 'x.mjs'], /not to --forwarder/],
  ])('refuses %j as a usage error', async (args, message) => {
    await expect(template(args)).rejects.toThrow(UsageError);
    await expect(template(args)).rejects.toThrow(message);
  });

  it('exits 2 with the usage on a usage error', async () => {
    const { io, err } = recordingIO(ROOT);

    const code = await main(['template', '--forwarder'], io);

    expect(code).toBe(EXIT.usage);
    expect(err.join('\n')).toMatch(
      /--forwarder needs --home-region[\s\S]*riposte template --forwarder --home-region/,
    );
  });

  it('fails with every problem when a playbook is invalid', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'riposte-template-'));
    await writeFile(
      join(directory, 'bad.yaml'),
      'name: bad\nmatch:\n  types: [Backdoor:EC2/*]\nactions:\n  - action: nope\n',
    );

    await expect(template(['--playbooks', directory])).rejects.toBeInstanceOf(PlaybookValidationError);
  });
});

describe('examples/05-deploy', () => {
  const DEPLOY = join(ROOT, 'examples', '05-deploy');

  /** The shell commands of the README's sh blocks, in order: continuation lines joined, comments dropped. */
  const commands = async (): Promise<string[][]> => {
    const readme = await readFile(join(DEPLOY, 'README.md'), 'utf8');
    return [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].flatMap(([, block]) =>
      block!
        .replace(/\\\n/g, ' ')
        .split('\n')
        .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
        .filter((line) => line !== '')
        .map((line) => line.split(/\s+/)),
    );
  };
  const option = (words: string[], name: string): string | undefined =>
    words.includes(name) ? words[words.indexOf(name) + 1] : undefined;
  /** The values after an option, up to the next option. */
  const values = (words: string[], name: string): string[] => {
    if (!words.includes(name)) return [];
    const rest = words.slice(words.indexOf(name) + 1);
    const end = rest.findIndex((word) => word.startsWith('--'));
    return end === -1 ? rest : rest.slice(0, end);
  };
  const startsWith = (words: string[], ...prefix: string[]) =>
    prefix.every((word, index) => words[index] === word);

  /**
   * What each deploy command of the README deploys: the template the README generated into that file
   * (through `aws cloudformation package` when it packages it first), with the parameters it sets.
   */
  const deployments = async () => {
    const generated = new Map<string, CloudFormationTemplate>();
    const packaged = new Map<string, string>();
    const found: {
      words: string[];
      file: string;
      template: CloudFormationTemplate | undefined;
      parameters: [string, string][];
    }[] = [];
    for (const words of await commands()) {
      if (startsWith(words, 'node', 'packages/cli/dist/bin.js', 'template')) {
        const redirect = words.indexOf('>');
        const { code, text } = await template(words.slice(3, redirect));
        expect(code).toBe(EXIT.ok);
        generated.set(words[redirect + 1]!, parse(text) as CloudFormationTemplate);
      } else if (startsWith(words, 'aws', 'cloudformation', 'package')) {
        packaged.set(option(words, '--output-template-file')!, option(words, '--template-file')!);
      } else if (
        startsWith(words, 'sam', 'deploy') ||
        startsWith(words, 'aws', 'cloudformation', 'deploy') ||
        startsWith(words, 'aws', 'cloudformation', 'create-stack') ||
        startsWith(words, 'aws', 'cloudformation', 'create-stack-set')
      ) {
        const given =
          option(words, '--template-file') ?? option(words, '--template-body')?.replace(/^file:\/\//, '');
        const file = packaged.get(given!) ?? given!;
        const parameters = [
          ...values(words, '--parameter-overrides').map((pair) => pair.split('=') as [string, string]),
          ...values(words, '--parameters').map((pair) => {
            const fields = Object.fromEntries(pair.split(',').map((field) => field.split('=')));
            return [fields.ParameterKey, fields.ParameterValue] as [string, string];
          }),
        ];
        found.push({ words, file, template: generated.get(file), parameters });
      }
    }
    return { generated, found };
  };

  it('generates, with the README commands, templates whose parameters its deploy commands set', async () => {
    const { generated, found } = await deployments();
    expect(generated.size).toBeGreaterThanOrEqual(1);
    expect(found.length).toBeGreaterThanOrEqual(3);

    for (const { words, file, template: deployed, parameters } of found) {
      expect(deployed, `${words.join(' ')}: ${file} is not a template the README generates`).toBeDefined();
      for (const [name, value] of parameters) {
        expect(deployed!.Parameters[name], `${file} has no parameter ${name}`).toBeDefined();
        const allowed = deployed!.Parameters[name]?.AllowedValues as string[] | undefined;
        if (allowed) expect(allowed).toContain(value);
      }
      const given = new Set(parameters.map(([name]) => name));
      const required = Object.entries(deployed!.Parameters).filter(
        ([, parameter]) => !('Default' in parameter),
      );
      for (const [name] of required)
        expect(given.has(name), `${words.join(' ')} must set ${name}`).toBe(true);
    }
  });

  it('deploys each stack with the capability its IAM resources need', async () => {
    const { found } = await deployments();

    for (const { words, template: deployed } of found) {
      const named = Object.values(deployed!.Resources).some(
        (resource) =>
          resource.Type.startsWith('AWS::IAM::') &&
          ('RoleName' in resource.Properties || 'ManagedPolicyName' in resource.Properties),
      );
      const capabilities = values(words, '--capabilities');
      if (named) expect(capabilities, words.join(' ')).toContain('CAPABILITY_NAMED_IAM');
      else
        expect(
          capabilities.some((capability) => capability.endsWith('IAM')),
          words.join(' '),
        ).toBe(true);
    }
  });

  it('deploys the files the README generates, and packages them before aws cloudformation deploy', async () => {
    const lines = await commands();
    const sam = lines.filter((words) => startsWith(words, 'sam', 'deploy'));
    const packs = lines.filter((words) => startsWith(words, 'aws', 'cloudformation', 'package'));
    const deploys = lines.filter(
      (words) =>
        startsWith(words, 'aws', 'cloudformation', 'deploy') &&
        option(words, '--template-file') !== undefined,
    );
    const outputs = new Set(packs.map((words) => option(words, '--output-template-file')));
    const { generated } = await deployments();

    for (const words of sam) expect(generated.has(option(words, '--template-file')!)).toBe(true);
    for (const words of packs) expect(generated.has(option(words, '--template-file')!)).toBe(true);
    // The function's Code is a local path until `aws cloudformation package` uploads it.
    for (const words of deploys) {
      const file = option(words, '--template-file')!;
      if (generated.get(file)?.Resources.RiposteFunction)
        expect(outputs.has(file), words.join(' ')).toBe(true);
    }
  });

  it('tails the log group the template creates for the stack the README deploys', async () => {
    const lines = await commands();
    const stack = option(lines.find((words) => words[0] === 'sam')!, '--stack-name');
    const tail = lines.find((words) => startsWith(words, 'aws', 'logs', 'tail'))!;
    const parsed = parse((await template([])).text) as CloudFormationTemplate;

    const logGroup = parsed.Resources.RiposteLogGroup?.Properties.LogGroupName as { 'Fn::Sub': string };
    expect(tail[3]).toBe(logGroup['Fn::Sub'].replace(/\$\{AWS::StackName\}/, stack!));
  });

  it('names outputs the templates have', async () => {
    const readme = await readFile(join(DEPLOY, 'README.md'), 'utf8');
    const outputs = new Set(
      [
        await json([]),
        await json(['--member']),
        await json(['--forwarder', '--home-region', 'us-east-1']),
      ].flatMap((parsed) => Object.keys(parsed.Outputs)),
    );

    for (const [, name] of readme.matchAll(/`(\w+(?:Arn|Url|Name))` output/g))
      expect(outputs.has(name!), name).toBe(true);
  });

  it('builds from code the same template the CLI prints', async () => {
    const { generateTemplate } = await import('../../../../examples/05-deploy/generate-template.js');
    const fromCli = await json(['--member-role', 'riposte-member']);

    const fromCode = await generateTemplate({
      memberRoleName: 'riposte-member',
      codeUri: 'dist/riposte/function.zip',
    });

    expect(fromCode).toEqual(fromCli);
  });
});
