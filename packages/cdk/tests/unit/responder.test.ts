import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError } from '@riposte/core';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponderBuildError, ResponderPropsError } from '../../src/errors.js';
import { RiposteResponder, type RiposteResponderProps } from '../../src/responder.js';
import {
  acknowledgeTemplateWarnings,
  BROKEN_PLAYBOOK,
  type CfnTemplate,
  cliTemplate,
  ROOT,
  removeTemporaryDirectories,
  scaffold,
  temporaryDirectory,
} from '../helpers/project.js';

// Each synth runs `riposte build` (esbuild) in a child process: seconds, not milliseconds.
const SYNTH_TIMEOUT = 60_000;

afterAll(removeTemporaryDirectories);

interface Synthesized {
  app: App;
  stack: Stack;
  responder: RiposteResponder;
  template: Template;
  json: CfnTemplate;
}

const synthesize = async (props: RiposteResponderProps): Promise<Synthesized> => {
  const app = new App({ outdir: await temporaryDirectory('riposte-cdk-out') });
  const stack = new Stack(app, 'Riposte');
  acknowledgeTemplateWarnings(stack);
  if (props.parameters?.MemberRoleName !== undefined) {
    Validations.of(stack).acknowledge({
      id: 'CloudFormation-Validate::W8003',
      reason: 'MemberRoleName has a value here, so HasMemberRole and HasMemberExternalId are constant',
    });
  }
  const responder = new RiposteResponder(stack, 'Responder', props);
  const template = Template.fromStack(stack);
  return { app, stack, responder, template, json: template.toJSON() as CfnTemplate };
};

/**
 * A resource as CloudFormation reads it: DependsOn is a name or a list of names. Metadata aside: the
 * CDK CLI adds the asset's there.
 */
const comparable = (resource: CfnTemplate['Resources'][string]) => {
  const { Metadata: _metadata, DependsOn, ...rest } = resource;
  // CloudFormation gives DependsOn no order (CDK sorts it): compared as a set.
  return { ...rest, DependsOn: DependsOn === undefined ? undefined : [DependsOn].flat().sort() };
};

const withoutCode = (resource: CfnTemplate['Resources'][string]) => {
  const { Code: _code, ...properties } = resource.Properties ?? {};
  return { ...comparable(resource), Properties: properties };
};

/** The checks every configuration passes: the construct's stack is the CLI's template. */
const expectSameStack = (synthesized: Synthesized, expected: CfnTemplate) => {
  const { Resources: resources, Parameters, Conditions, Outputs } = synthesized.json;
  expect(Object.keys(resources).sort()).toEqual(Object.keys(expected.Resources).sort());
  for (const [id, resource] of Object.entries(expected.Resources)) {
    const actual = resources[id]!;
    if (id === 'RiposteFunction') expect(withoutCode(actual)).toEqual(withoutCode(resource));
    else expect({ id, ...comparable(actual) }).toEqual({ id, ...comparable(resource) });
  }
  expect(Parameters).toMatchObject(expected.Parameters);
  expect(Conditions).toEqual(expected.Conditions);
  expect(Outputs).toEqual(expected.Outputs);
};

describe('RiposteResponder for a project with a custom action', () => {
  let root: string;
  let synthesized: Synthesized;
  let expected: CfnTemplate;

  beforeAll(async () => {
    root = await scaffold();
    synthesized = await synthesize({ config: join(root, 'riposte.config.mjs'), outDir: join(root, 'out') });
    expected = cliTemplate(root, '--out', 'out');
  }, SYNTH_TIMEOUT);

  it('synthesizes every resource of riposte template with its logical id, type and properties', () => {
    expectSameStack(synthesized, expected);
  });

  it('deploys the built function.zip as an asset', async () => {
    const { responder, json, app } = synthesized;
    const code = json.Resources.RiposteFunction?.Properties?.Code as { S3Bucket: unknown; S3Key: string };
    expect(expected.Resources.RiposteFunction?.Properties?.Code).toBe('out/function.zip');
    expect(code.S3Bucket).toEqual({ 'Fn::Sub': expect.stringContaining('assets') });

    const assets = JSON.parse(await readFile(join(app.outdir, 'Riposte.assets.json'), 'utf8')) as {
      files: Record<
        string,
        { source: { path: string; packaging: string }; destinations: Record<string, { objectKey: string }> }
      >;
    };
    const asset = Object.values(assets.files).find((file) =>
      Object.values(file.destinations).some((destination) => destination.objectKey === code.S3Key),
    );
    expect(asset?.source.packaging).toBe('file');
    const staged = await readFile(join(app.outdir, asset!.source.path));
    expect(createHash('sha256').update(staged).digest('hex')).toBe(responder.manifest.zip.sha256);
    expect(staged.equals(await readFile(join(root, 'out', 'function.zip')))).toBe(true);
  });

  it("grants the custom action's permission in one of the role's managed policies, on its table only", () => {
    const onTable = Object.values(synthesized.json.Resources)
      // The role's policies (not its boundary).
      .filter(
        (resource) =>
          ['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy'].includes(resource.Type) &&
          JSON.stringify(resource.Properties?.Roles) === JSON.stringify([{ Ref: 'RiposteRole' }]),
      )
      .flatMap(
        (resource) =>
          (
            resource.Properties as {
              PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] };
            }
          ).PolicyDocument.Statement,
      )
      .filter(
        (statement) =>
          statement.Action?.includes('dynamodb:PutItem') && JSON.stringify(statement).includes('incidents'),
      );
    // Only there: no other statement names the table.
    expect(onTable).toHaveLength(1);
    synthesized.template.hasResource('AWS::IAM::ManagedPolicy', {
      Properties: {
        Roles: [{ Ref: 'RiposteRole' }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: Match.arrayEquals(['dynamodb:PutItem']),
              // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
              Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/incidents' },
            }),
          ]),
        },
      },
    });
  });

  it("passes CDK's CloudFormation validation but for the three misreadings the README acknowledges", async () => {
    const report = JSON.parse(
      await readFile(join(synthesized.app.outdir, 'validation-report.json'), 'utf8'),
    ) as {
      pluginReports: Array<{ violations: unknown[]; suppressedViolations?: Array<{ ruleName: string }> }>;
    };

    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
    const acknowledged = report.pluginReports.flatMap((plugin) => plugin.suppressedViolations ?? []);
    expect(new Set(acknowledged.map((violation) => violation.ruleName))).toEqual(new Set(['W1001', 'W1030']));
  });

  it("keeps the template's parameters, with the configuration's settings as defaults", () => {
    expect(synthesized.json.Parameters).toMatchObject({
      Mode: { Type: 'String', Default: 'dry-run' },
      NotificationTopicArn: { Default: 'arn:aws:sns:us-east-1:111122223333:security-alerts' },
      AllowedAccounts: { Type: 'CommaDelimitedList', Default: '111122223333,444455556666' },
      MaxTargetsPerHour: { Type: 'Number', Default: 20 },
    });
  });

  it('exposes the function, its role and policy, and what the build put in the function', () => {
    const { responder, stack } = synthesized;

    expect(stack.resolve(responder.function.logicalId)).toBe('RiposteFunction');
    expect(stack.resolve(responder.functionArn)).toEqual({ 'Fn::GetAtt': ['RiposteFunction', 'Arn'] });
    expect(stack.resolve(responder.role.logicalId)).toBe('RiposteRole');
    expect(stack.resolve(responder.policy.logicalId)).toBe('RipostePolicy');
    // The inline policy holds the denies only; the allows are in the managed policies.
    const inline = synthesized.json.Resources.RipostePolicy!.Properties as {
      PolicyDocument: {
        Statement: ({ Effect: string } | { 'Fn::If': [string, { Effect: string }, unknown] })[];
      };
    };
    const effects = inline.PolicyDocument.Statement.map((entry) =>
      'Fn::If' in entry ? entry['Fn::If'][1].Effect : entry.Effect,
    );
    expect(new Set(effects)).toEqual(new Set(['Deny']));
    const managed = responder.managedPolicies.map((policy) => stack.resolve(policy.logicalId));
    expect(managed.length).toBeGreaterThan(0);
    expect(managed).toEqual(managed.map((_, index) => `RipostePermissions${index + 1}`));
    expect(
      Object.entries(synthesized.json.Resources)
        .filter(([, resource]) => resource.Type === 'AWS::IAM::ManagedPolicy' && resource.Properties?.Roles)
        .map(([id]) => id)
        .sort(),
    ).toEqual([...managed].sort());
    expect(responder.outDir).toBe(join(root, 'out'));
    expect(responder.manifest.playbooks.map((playbook) => playbook.name)).toEqual(['c2-open-case']);
    expect(responder.manifest.actions).toContainEqual(
      expect.objectContaining({ name: 'open-case', origin: 'custom' }),
    );
  });
});

describe("RiposteResponder for the repository's configuration", () => {
  let outDir: string;
  let synthesized: Synthesized;

  beforeAll(async () => {
    outDir = await temporaryDirectory('riposte-cdk-repo');
    synthesized = await synthesize({ projectDir: ROOT, config: 'riposte.config.mjs', outDir });
  }, SYNTH_TIMEOUT);

  it('synthesizes every resource of riposte template, with the shipped playbooks', () => {
    expectSameStack(synthesized, cliTemplate(ROOT, '--out', outDir));
    expect(synthesized.responder.manifest.playbooks.length).toBeGreaterThanOrEqual(8);
  });
});

describe('RiposteResponder with playbooks and parameters', () => {
  let synthesized: Synthesized;

  beforeAll(async () => {
    const projectDir = await temporaryDirectory('riposte-cdk-playbooks');
    synthesized = await synthesize({
      projectDir,
      playbooks: [{ from: '@riposte/rules', include: ['root-credential-usage'] }],
      parameters: {
        Mode: 'enforce',
        AllowedAccounts: ['111122223333'],
        MaxTargetsPerHour: 10,
        MemberRoleName: 'riposte-member',
        MemberExternalId: 'riposte-2f6c1d',
      },
    });
  }, SYNTH_TIMEOUT);

  it('builds the function from the playbooks named, without a configuration file', () => {
    expect(synthesized.responder.manifest.playbooks.map((playbook) => playbook.name)).toEqual([
      'root-credential-usage',
    ]);
    expect(synthesized.responder.outDir).toMatch(/riposte-cdk-playbooks-\w+[\\/]dist[\\/]riposte$/);
  });

  it('replaces the parameters it is given with their values, and keeps the others', () => {
    const { json, template } = synthesized;

    expect(Object.keys(json.Parameters)).not.toEqual(expect.arrayContaining(['Mode']));
    expect(Object.keys(json.Parameters)).not.toEqual(expect.arrayContaining(['AllowedAccounts']));
    expect(json.Parameters).toHaveProperty('NotificationTopicArn');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          RIPOSTE_MODE: 'enforce',
          RIPOSTE_ACCOUNTS: { 'Fn::Join': [',', ['111122223333']] },
          RIPOSTE_MAX_TARGETS_PER_HOUR: '10',
        }),
      },
    });
  });

  it('warns that a NoEcho parameter given a value is written into the template', () => {
    Annotations.fromStack(synthesized.stack).hasWarning(
      '/Riposte/Responder',
      Match.stringLikeRegexp('^MemberExternalId is written into the synthesized template'),
    );
    expect(
      Annotations.fromStack(synthesized.stack).findWarning('*', Match.stringLikeRegexp('MemberRoleName')),
    ).toEqual([]);
  });
});

/** What a function throws; fails the test when it returns. */
const catching = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('RiposteResponder refusals', () => {
  it(
    'throws with file:line:column when a playbook is invalid',
    async () => {
      const root = await scaffold({ 'broken.yaml': BROKEN_PLAYBOOK });
      const stack = new Stack(new App({ outdir: await temporaryDirectory('riposte-cdk-out') }), 'Riposte');

      const thrown = catching(
        () => new RiposteResponder(stack, 'Responder', { projectDir: root, outDir: 'out' }),
      );

      expect(thrown).toBeInstanceOf(ResponderBuildError);
      expect(thrown).toBeInstanceOf(ConfigurationError);
      const error = thrown as ResponderBuildError;
      expect(error.code).toBe('RESPONDER_BUILD_FAILED');
      expect(error.message).toMatch(/^riposte build failed \(exit 1\): 1 problem\(s\)/);
      expect(error.message).toContain(
        `${join(root, 'playbooks', 'broken.yaml')}:5:13 /actions/0/action unknown action "open-cases"`,
      );
      expect(error.issues).toEqual([
        expect.objectContaining({ file: join(root, 'playbooks', 'broken.yaml'), line: 5, column: 13 }),
      ]);
      expect(error.details.stderr).toContain('playbooks/broken.yaml:5:13');
    },
    SYNTH_TIMEOUT,
  );

  it(
    'refuses parameter values CloudFormation would refuse, since a replaced parameter is never checked',
    async () => {
      const projectDir = await temporaryDirectory('riposte-cdk-parameters');
      const stack = new Stack(new App({ outdir: await temporaryDirectory('riposte-cdk-out') }), 'Riposte');

      const thrown = catching(
        () =>
          new RiposteResponder(stack, 'Responder', {
            projectDir,
            playbooks: ['@riposte/rules'],
            parameters: {
              Mode: 'enfroce',
              AllowedAccounts: '111122223333',
              ProtectedPrincipals: ['arn:aws:iam::*:role/breakglass-admin', 'breakglass'],
              MaxTargetsPerHour: 0,
              Modes: 'enforce',
            },
          }),
      );

      expect(thrown).toBeInstanceOf(ResponderPropsError);
      expect((thrown as ResponderPropsError).code).toBe('RESPONDER_PROPS_INVALID');
      expect((thrown as Error).message.split('\n')).toEqual([
        '5 invalid parameter value(s):',
        '  Mode must be one of dry-run, enforce, not "enfroce"',
        '  AllowedAccounts is a list: give an array of strings, not "111122223333"',
        expect.stringMatching(/^ {2}ProtectedPrincipals: "breakglass" does not match \^/),
        '  MaxTargetsPerHour must be at least 1, not 0',
        expect.stringMatching(/^ {2}the template has no parameter Modes; it has Mode, MemberRoleName, /),
      ]);
    },
    SYNTH_TIMEOUT,
  );

  it('refuses both a configuration and playbooks', async () => {
    const stack = new Stack(new App({ outdir: await temporaryDirectory('riposte-cdk-out') }), 'Riposte');

    expect(
      () =>
        new RiposteResponder(stack, 'Responder', {
          config: 'riposte.config.mjs',
          playbooks: ['./playbooks'],
        }),
    ).toThrow(ResponderPropsError);
  });
});
