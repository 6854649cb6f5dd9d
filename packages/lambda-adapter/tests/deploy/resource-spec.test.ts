import { App, Stack } from 'aws-cdk-lib';
import { CfnActionTarget } from 'aws-cdk-lib/aws-securityhub';
import { describe, expect, it } from 'vitest';
import {
  checkAgainstSpec,
  danglingReferences,
  formatProblem,
  packaged,
  SPEC_SUPPLEMENT,
  specDatabase,
  specHas,
} from './helpers/cfn-spec.js';
import { allVariants, buildForwarderTemplate, buildMemberTemplate, type Template } from './helpers/deploy.js';
import { resolveTemplate } from './helpers/resolve.js';

/**
 * Every generated template against the CloudFormation resource specification of
 * @aws-cdk/aws-service-spec: the types, properties (nested ones too), required properties and value
 * shapes CloudFormation would accept, the attributes `Fn::GetAtt` reads, and the names references use.
 */

const db = await specDatabase();
const variants = allVariants();

describe('the deploy module', () => {
  it('builds the member-account and forwarder templates as well as the function template', () => {
    expect({
      buildMemberTemplate: typeof buildMemberTemplate,
      buildForwarderTemplate: typeof buildForwarderTemplate,
    }).toEqual({ buildMemberTemplate: 'function', buildForwarderTemplate: 'function' });
  });
});

describe.each(variants)('the $name template', ({ template, deployment }) => {
  it('uses only resource types, properties and attributes the CloudFormation spec has, with every required property', () => {
    // Arrange: as `aws cloudformation package` uploads it (the function's Code is a local path until then).
    const { template: uploaded, localPaths } = packaged(template);

    // Act
    const problems = checkAgainstSpec(db, uploaded).map(formatProblem);

    // Assert
    expect(Object.keys(template.Resources).length).toBeGreaterThan(0);
    for (const path of Object.values(localPaths)) expect(path).toMatch(/^dist\/riposte\/function\.zip$/);
    expect(problems).toEqual([]);
  });

  it('refers only to parameters, resources, pseudo parameters and conditions it declares', () => {
    expect(danglingReferences(template)).toEqual([]);
  });

  it('resolves for its deployment: every parameter has a value its constraints accept', () => {
    const resolved = resolveTemplate(template, deployment);

    expect(Object.keys(resolved.resources).length).toBeGreaterThan(0);
  });
});

describe('the spec supplement', () => {
  it('holds only types the installed spec lacks: once it has one, the supplement goes', () => {
    expect(Object.keys(SPEC_SUPPLEMENT).filter((type) => specHas(db, type))).toEqual([]);
  });

  it("describes AWS::SecurityHub::ActionTarget as the CDK's CfnActionTarget writes it", () => {
    // Arrange: the CDK's generated class for the type, synthesized.
    const app = new App();
    const stack = new Stack(app, 'Supplement');
    const target = new CfnActionTarget(stack, 'Target', {
      name: 'Riposte: approve',
      id: 'RiposteApprove',
      description: 'approve',
    });

    // Act
    const synthesized = app.synth().getStackArtifact(stack.artifactId).template as Template;
    const supplement = SPEC_SUPPLEMENT['AWS::SecurityHub::ActionTarget']!;

    // Assert
    expect(synthesized.Resources.Target).toEqual({
      Type: 'AWS::SecurityHub::ActionTarget',
      Properties: { Name: 'Riposte: approve', Id: 'RiposteApprove', Description: 'approve' },
    });
    expect(Object.keys(supplement.properties).sort()).toEqual(
      Object.keys(synthesized.Resources.Target!.Properties!).sort(),
    );
    expect(Object.values(supplement.properties).every((property) => property.required)).toBe(true);
    expect(stack.resolve(target.attrActionTargetArn)).toEqual({
      'Fn::GetAtt': ['Target', 'ActionTargetArn'],
    });
    expect(Object.keys(supplement.attributes)).toEqual(['ActionTargetArn']);
  });
});

describe('the spec check', () => {
  const broken: Template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Parameters: { Name: { Type: 'String' } },
    Conditions: {},
    Resources: {
      Table: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S', Extra: true }],
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: 'yes' },
        },
      },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Code: { ZipFile: 'exports.handler = async () => {}' },
          Role: { 'Fn::GetAtt': ['Table', 'RoleArn'] },
          Environment: { Varables: { A: { Ref: 'Missing' } } },
          Timeout: { 'Fn::If': ['NoSuchCondition', 10, 20] },
        },
      },
      Thing: { Type: 'AWS::Nowhere::Thing', Properties: {}, Conditon: 'Typo' },
    },
  };

  it('names the resource and the property path of each mistake', () => {
    const problems = checkAgainstSpec(db, broken).map(formatProblem);

    expect(problems).toEqual([
      'Table Properties.AttributeDefinitions[0].Extra: AttributeDefinition has no property Extra',
      'Table Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: expected a boolean, got "yes"',
      'Table Properties.KeySchema: required property KeySchema of AWS::DynamoDB::Table is missing',
      'Fn Properties.Environment.Varables: Environment has no property Varables',
      'Thing Conditon: not a resource attribute',
      'Thing Type: AWS::Nowhere::Thing is not a CloudFormation resource type',
      'Fn Properties.Role: Fn::GetAtt Table.RoleArn: AWS::DynamoDB::Table has no attribute RoleArn (it has Arn, StreamArn)',
    ]);
  });

  it('names references to things the template does not declare', () => {
    expect(danglingReferences(broken)).toEqual([
      'Fn Properties.Environment.Varables.A: Ref Missing names nothing the template declares',
      'Fn Properties.Timeout: If NoSuchCondition names nothing the template declares',
    ]);
  });
});
