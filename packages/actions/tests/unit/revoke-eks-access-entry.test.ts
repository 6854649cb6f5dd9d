import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  EKSServiceException,
  ListAssociatedAccessPoliciesCommand,
} from '@aws-sdk/client-eks';
import { GetRoleCommand, IAMClient, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { hasInverse, type InverseContext, type UndoState } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { revokeEksAccessEntry } from '../../src/actions/revoke-eks-access-entry.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, NOW, sentCommands } from '../helpers/context.js';
import { CLUSTER, DEPLOYER_ROLE_ARN, EKS_ACCOUNT, torIpCaller } from '../helpers/eks-findings.js';

const eks = mockClient(EKSClient);
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
afterAll(() => {
  eks.restore();
  iam.restore();
  sts.restore();
});

const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const VIEW = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const POLICIES = [
  { policyArn: ADMIN, accessScope: { type: 'cluster' as const, namespaces: [] } },
  { policyArn: VIEW, accessScope: { type: 'namespace' as const, namespaces: ['payments'] } },
];
const notFound = () =>
  new EKSServiceException({
    name: 'ResourceNotFoundException',
    $fault: 'client',
    $metadata: { httpStatusCode: 404 },
    message: 'not found',
  });

beforeEach(() => {
  eks.reset();
  iam.reset();
  sts.reset();
  eks.on(DescribeClusterCommand).resolves({
    cluster: {
      name: CLUSTER,
      roleArn: `arn:aws:iam::${EKS_ACCOUNT}:role/eks-cluster-role`,
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    },
  });
  iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => ({
    Role: { RoleName: input.RoleName, Path: '/', Arn: `arn:aws:iam::${EKS_ACCOUNT}:role/${input.RoleName}` },
  }));
  iam.on(ListRoleTagsCommand).resolves({ Tags: [] });
  sts.on(GetCallerIdentityCommand).resolves({
    Account: EKS_ACCOUNT,
    Arn: `arn:aws:sts::${EKS_ACCOUNT}:assumed-role/riposte-responder/riposte`,
  });
  eks.on(DescribeAccessEntryCommand).resolves({
    accessEntry: {
      principalArn: DEPLOYER_ROLE_ARN,
      type: 'STANDARD',
      username: 'deployer',
      kubernetesGroups: ['deployers'],
      tags: { owner: 'platform' },
    },
  });
  eks
    .on(ListAssociatedAccessPoliciesCommand)
    .resolves({ associatedAccessPolicies: POLICIES, $metadata: { requestId: 'list-1' } });
  eks.on(DisassociateAccessPolicyCommand).resolves({});
  eks.on(DeleteAccessEntryCommand).resolves({});
});

const inverse = () => {
  if (!hasInverse(revokeEksAccessEntry.undo)) throw new Error('no inverse');
  return revokeEksAccessEntry.undo;
};

const undoContext = (state: UndoState): InverseContext<UndoState, AwsServices> => {
  const ctx = contextFor(revokeEksAccessEntry, torIpCaller());
  return {
    findingId: ctx.finding.id,
    target: ctx.target,
    state,
    services: ctx.services,
    mode: 'enforce',
    now: NOW,
  };
};

describe('revoke-eks-access-entry plan', () => {
  it('plans to disassociate each policy of the role behind the Kubernetes user', async () => {
    const plan = await revokeEksAccessEntry.plan(contextFor(revokeEksAccessEntry, torIpCaller()));

    expect(plan.status).toBe('planned');
    expect(plan.calls.map((call) => [call.operation, call.input])).toEqual([
      [
        'DisassociateAccessPolicy',
        { clusterName: CLUSTER, principalArn: DEPLOYER_ROLE_ARN, policyArn: ADMIN },
      ],
      [
        'DisassociateAccessPolicy',
        { clusterName: CLUSTER, principalArn: DEPLOYER_ROLE_ARN, policyArn: VIEW },
      ],
    ]);
    expect(sentCommands(eks)).not.toContain('DisassociateAccessPolicyCommand');
  });

  it('plans to delete the entry in delete-entry mode', async () => {
    const plan = await revokeEksAccessEntry.plan(
      contextFor(revokeEksAccessEntry, torIpCaller(), { params: { mode: 'delete-entry' } }),
    );

    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'DeleteAccessEntry',
        input: { clusterName: CLUSTER, principalArn: DEPLOYER_ROLE_ARN },
      }),
    ]);
  });

  it('plans a no-op when no policy is left', async () => {
    eks.on(ListAssociatedAccessPoliciesCommand).resolves({ associatedAccessPolicies: [] });

    const plan = await revokeEksAccessEntry.plan(contextFor(revokeEksAccessEntry, torIpCaller()));

    expect(plan.status).toBe('no-op');
  });

  it('refuses a principal mapped only through the aws-auth ConfigMap', async () => {
    eks.on(DescribeAccessEntryCommand).rejects(notFound());

    const plan = await revokeEksAccessEntry.plan(contextFor(revokeEksAccessEntry, torIpCaller()));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('aws-auth ConfigMap');
  });

  it('refuses a cluster that authenticates through the ConfigMap only', async () => {
    eks
      .on(DescribeClusterCommand)
      .resolves({ cluster: { name: CLUSTER, accessConfig: { authenticationMode: 'CONFIG_MAP' } } });

    const plan = await revokeEksAccessEntry.plan(contextFor(revokeEksAccessEntry, torIpCaller()));

    expect(plan.reason).toContain('CONFIG_MAP');
  });

  it("refuses the function's own role and a protected role", async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Arn: `arn:aws:sts::${EKS_ACCOUNT}:assumed-role/ci-deployer/riposte` });
    const own = await revokeEksAccessEntry.plan(contextFor(revokeEksAccessEntry, torIpCaller()));
    const sso = await revokeEksAccessEntry.plan(
      contextFor(
        revokeEksAccessEntry,
        torIpCaller(`arn:aws:sts::${EKS_ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice`),
      ),
    );

    expect(own).toMatchObject({ status: 'refused' });
    expect(own.reason).toContain('Riposte runs as it');
    expect(sso.reason).toContain('protected');
  });

  it('refuses a node access entry', async () => {
    eks
      .on(DescribeAccessEntryCommand)
      .resolves({ accessEntry: { principalArn: DEPLOYER_ROLE_ARN, type: 'EC2_LINUX' } });

    const plan = await revokeEksAccessEntry.plan(contextFor(revokeEksAccessEntry, torIpCaller()));

    expect(plan.reason).toContain('EC2_LINUX');
  });
});

describe('revoke-eks-access-entry execute', () => {
  it('disassociates each policy and records them with their scopes', async () => {
    const ctx = contextFor(revokeEksAccessEntry, torIpCaller());

    const outcome = await revokeEksAccessEntry.execute(ctx, await revokeEksAccessEntry.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(eks.commandCalls(DisassociateAccessPolicyCommand)).toHaveLength(2);
    expect(outcome.undo).toEqual({
      clusterName: CLUSTER,
      principalArn: DEPLOYER_ROLE_ARN,
      mode: 'disassociate-policies',
      policies: POLICIES,
    });
  });

  it('deletes the entry and records its settings', async () => {
    const ctx = contextFor(revokeEksAccessEntry, torIpCaller(), { params: { mode: 'delete-entry' } });

    const outcome = await revokeEksAccessEntry.execute(ctx, await revokeEksAccessEntry.plan(ctx));

    expect(outcome.undo).toMatchObject({
      mode: 'delete-entry',
      entry: {
        type: 'STANDARD',
        username: 'deployer',
        kubernetesGroups: ['deployers'],
        tags: { owner: 'platform' },
      },
    });
    expect(
      createRegistry([revokeEksAccessEntry]).validateUndoState('revoke-eks-access-entry', outcome.undo),
    ).toEqual([]);
  });

  it('skips when the policies were removed since planning', async () => {
    eks
      .on(ListAssociatedAccessPoliciesCommand)
      .resolvesOnce({ associatedAccessPolicies: POLICIES })
      .resolves({ associatedAccessPolicies: [] });
    const ctx = contextFor(revokeEksAccessEntry, torIpCaller());

    const outcome = await revokeEksAccessEntry.execute(ctx, await revokeEksAccessEntry.plan(ctx));

    expect(outcome.status).toBe('skipped');
  });

  it('fails with the SDK error code, recording what it removed before', async () => {
    eks
      .on(DisassociateAccessPolicyCommand)
      .resolvesOnce({})
      .rejects(
        new EKSServiceException({
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
          message: 'denied',
        }),
      );
    const ctx = contextFor(revokeEksAccessEntry, torIpCaller());

    const outcome = await revokeEksAccessEntry.execute(ctx, await revokeEksAccessEntry.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AccessDeniedException' } });
    expect(outcome.undo).toBeDefined();
  });

  it('refuses to mutate in dry-run mode', async () => {
    const ctx = contextFor(revokeEksAccessEntry, torIpCaller(), { mode: 'dry-run' });

    const outcome = await revokeEksAccessEntry.execute(ctx, await revokeEksAccessEntry.plan(ctx));

    expect(outcome.error?.code).toBe('DRY_RUN_MUTATION');
    expect(eks.commandCalls(DisassociateAccessPolicyCommand)).toHaveLength(0);
  });
});

describe('revoke-eks-access-entry undo', () => {
  const disassociated = {
    clusterName: CLUSTER,
    principalArn: DEPLOYER_ROLE_ARN,
    mode: 'disassociate-policies',
    policies: POLICIES,
  };
  const deleted = {
    ...disassociated,
    mode: 'delete-entry',
    entry: {
      type: 'STANDARD',
      username: 'deployer',
      kubernetesGroups: ['deployers'],
      tags: { owner: 'platform' },
    },
  };

  it('associates each missing policy again with its scope', async () => {
    eks.on(ListAssociatedAccessPoliciesCommand).resolves({ associatedAccessPolicies: [] });
    eks.on(AssociateAccessPolicyCommand).resolves({});

    const plan = await inverse().plan(undoContext(disassociated));
    const outcome = await inverse().execute(undoContext(disassociated), plan);

    expect(plan.calls.map((call) => call.input)).toEqual([
      {
        clusterName: CLUSTER,
        principalArn: DEPLOYER_ROLE_ARN,
        policyArn: ADMIN,
        accessScope: { type: 'cluster' },
      },
      {
        clusterName: CLUSTER,
        principalArn: DEPLOYER_ROLE_ARN,
        policyArn: VIEW,
        accessScope: { type: 'namespace', namespaces: ['payments'] },
      },
    ]);
    expect(outcome.status).toBe('applied');
  });

  it('creates the deleted entry again, then its policies', async () => {
    eks.on(DescribeAccessEntryCommand).rejects(notFound());

    const plan = await inverse().plan(undoContext(deleted));

    expect(plan.calls.map((call) => call.operation)).toEqual([
      'CreateAccessEntry',
      'AssociateAccessPolicy',
      'AssociateAccessPolicy',
    ]);
    expect(plan.calls[0]?.input).toEqual({
      clusterName: CLUSTER,
      principalArn: DEPLOYER_ROLE_ARN,
      type: 'STANDARD',
      kubernetesGroups: ['deployers'],
      username: 'deployer',
      tags: { owner: 'platform' },
    });
    expect(eks.commandCalls(CreateAccessEntryCommand)).toHaveLength(0);
  });

  it('skips when every policy is associated again', async () => {
    const outcome = await inverse().execute(
      undoContext(disassociated),
      await inverse().plan(undoContext(disassociated)),
    );

    expect(outcome.status).toBe('skipped');
  });

  it('refuses when a policy came back with another scope', async () => {
    eks.on(ListAssociatedAccessPoliciesCommand).resolves({
      associatedAccessPolicies: [{ policyArn: VIEW, accessScope: { type: 'cluster', namespaces: [] } }],
    });

    const plan = await inverse().plan(undoContext(disassociated));

    expect(plan.status).toBe('refused');
  });

  it('refuses a recorded state that does not validate', () => {
    const registry = createRegistry([revokeEksAccessEntry]);

    expect(
      registry.validateUndoState('revoke-eks-access-entry', {
        ...disassociated,
        principalArn: 'arn:aws:iam::1:role/*',
      }),
    ).not.toEqual([]);
    expect(
      registry.validateUndoState('revoke-eks-access-entry', {
        ...disassociated,
        policies: [{ policyArn: 'x' }],
      }),
    ).not.toEqual([]);
  });
});
