import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlaybookValidationError } from '@riposte/core';
import type { CloudFormationTemplate } from '@riposte/lambda-adapter';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateTemplate } from '../../../../examples/05-deploy/generate-template.js';
import { runTemplate } from '../../src/commands/template.js';
import { EXIT, UsageError } from '../../src/io.js';
import { recordingIO } from '../helpers/io.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const template = async (args: string[], cwd = ROOT) => {
  const { io, out } = recordingIO(cwd);
  const code = await runTemplate(args, io);
  return { code, text: out.join('\n') };
};

describe('riposte template', () => {
  it('prints the YAML template for the shipped playbooks', async () => {
    const { code, text } = await template([]);

    const parsed = parse(text) as CloudFormationTemplate;
    expect(code).toBe(EXIT.ok);
    expect(parsed.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(parsed.Resources.RiposteFunction?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Code: 'packages/lambda-adapter/dist/handler.mjs',
    });
    expect(text).not.toMatch(/[&*]a\d/);
  });

  it('prints the same template as JSON with --format json', async () => {
    const yaml = parse((await template([])).text);

    const { text } = await template(['--format', 'json']);

    expect(JSON.parse(text)).toEqual(yaml);
  });

  it('points Code at the bundle relative to the current directory, or where --code says', async () => {
    const fromExamples = JSON.parse(
      (await template(['--format', 'json'], join(ROOT, 'examples', '05-deploy'))).text,
    );
    const given = JSON.parse((await template(['--format', 'json', '--code', 'build/handler.mjs'])).text);

    expect(fromExamples.Resources.RiposteFunction.Properties.Code).toBe(
      '../../packages/lambda-adapter/dist/handler.mjs',
    );
    expect(given.Resources.RiposteFunction.Properties.Code).toBe('build/handler.mjs');
  });

  it('sets the MemberRoleName default with --member-role', async () => {
    const parsed = JSON.parse(
      (await template(['--format', 'json', '--member-role', 'security/riposte-member'])).text,
    );

    expect(parsed.Parameters.MemberRoleName.Default).toBe('security/riposte-member');
  });

  it('derives the role and the rule from the playbooks given with --playbooks', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'riposte-template-'));
    await writeFile(
      join(directory, 'trail.yaml'),
      'name: trail\nmatch:\n  types: [Stealth:IAMUser/CloudTrailLoggingDisabled]\nactions:\n  - action: restart-cloudtrail-logging\n',
    );

    const parsed = JSON.parse((await template(['--format', 'json', '--playbooks', directory])).text);

    const [statement] = parsed.Resources.RiposteRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(statement.Sid).toBe('PlaybookActions');
    expect(statement.Action.every((action: string) => action.startsWith('cloudtrail:'))).toBe(true);
    expect(parsed.Resources.FindingRule.Properties.EventPattern.detail).toEqual({
      type: ['Stealth:IAMUser/CloudTrailLoggingDisabled'],
    });
  });

  it.each([
    [['--format', 'xml'], /--format must be yaml or json/],
    [['--member-role', 'arn:aws:iam::111122223333:role/riposte-member'], /must be an IAM role name/],
    [['--unknown'], /Unknown option/],
  ])('refuses %j as a usage error', async (args, message) => {
    await expect(template(args)).rejects.toThrow(UsageError);
    await expect(template(args)).rejects.toThrow(message);
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

  /** The shell lines of the README's sh blocks, in order. */
  const commands = async (): Promise<string[][]> => {
    const readme = await readFile(join(DEPLOY, 'README.md'), 'utf8');
    return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, block]) =>
      block!
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => line.trim().split(/\s+/)),
    );
  };
  const option = (words: string[], name: string): string | undefined => words[words.indexOf(name) + 1];

  it('generates, with the README commands, templates whose parameters its deploy commands set', async () => {
    const lines = await commands();
    const generate = lines.filter((words) => words.slice(0, 2).join(' ') === 'node packages/cli/dist/bin.js');
    const deploys = lines.filter(
      (words) =>
        words.slice(0, 2).join(' ') === 'sam deploy' ||
        words.slice(0, 3).join(' ') === 'aws cloudformation deploy',
    );
    expect(generate.length).toBeGreaterThanOrEqual(2);
    expect(deploys.length).toBeGreaterThanOrEqual(3);

    for (const words of generate) {
      const redirect = words.indexOf('>');
      expect(words[2]).toBe('template');
      expect(words[redirect + 1]).toBe('template.yaml');
      const { code, text } = await template(words.slice(3, redirect));
      expect(code).toBe(EXIT.ok);
      const parsed = parse(text) as CloudFormationTemplate;
      for (const deploy of deploys) {
        expect(option(deploy, '--capabilities')).toBe('CAPABILITY_IAM');
        const overrides = deploy.slice(deploy.indexOf('--parameter-overrides') + 1);
        for (const pair of overrides) {
          const [name, value] = pair.split('=') as [string, string];
          expect(parsed.Parameters[name]).toBeDefined();
          const allowed = parsed.Parameters[name]?.AllowedValues as string[] | undefined;
          if (allowed) expect(allowed).toContain(value);
        }
      }
      // An IAM role without a fixed name needs CAPABILITY_IAM only.
      expect(parsed.Resources.RiposteRole?.Properties.RoleName).toBeUndefined();
    }
  });

  it('deploys the file the README generates, and packages it before aws cloudformation deploy', async () => {
    const lines = await commands();
    const sam = lines.filter((words) => words.slice(0, 2).join(' ') === 'sam deploy');
    const pack = lines.find((words) => words.slice(0, 3).join(' ') === 'aws cloudformation package')!;
    const deploy = lines.find((words) => words.slice(0, 3).join(' ') === 'aws cloudformation deploy')!;

    for (const words of sam) expect(option(words, '--template-file')).toBe('template.yaml');
    expect(option(pack, '--template-file')).toBe('template.yaml');
    expect(option(deploy, '--template-file')).toBe(option(pack, '--output-template-file'));
  });

  it('tails the log group the template creates for the stack the README deploys', async () => {
    const lines = await commands();
    const stack = option(lines.find((words) => words[0] === 'sam')!, '--stack-name');
    const tail = lines.find((words) => words.slice(0, 3).join(' ') === 'aws logs tail')!;
    const parsed = parse((await template([])).text) as CloudFormationTemplate;

    const logGroup = parsed.Resources.RiposteLogGroup?.Properties.LogGroupName as { 'Fn::Sub': string };
    expect(tail[3]).toBe(logGroup['Fn::Sub'].replace(/\$\{AWS::StackName\}/, stack!));
  });

  it('names outputs the template has', async () => {
    const readme = await readFile(join(DEPLOY, 'README.md'), 'utf8');
    const parsed = parse((await template([])).text) as CloudFormationTemplate;

    for (const [, name] of readme.matchAll(/`(\w+(?:Arn|Url))` output/g))
      expect(parsed.Outputs[name!]).toBeDefined();
  });

  it('builds from code the same template the CLI prints', async () => {
    const fromCli = JSON.parse(
      (await template(['--format', 'json', '--member-role', 'riposte-member'])).text,
    );

    const fromCode = await generateTemplate({
      memberRoleName: 'riposte-member',
      codeUri: 'packages/lambda-adapter/dist/handler.mjs',
    });

    expect(fromCode).toEqual(fromCli);
  });
});
