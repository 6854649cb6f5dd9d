import {
  DescribeClusterCommand,
  EKSClient,
  EKSServiceException,
  UpdateClusterConfigCommand,
} from '@aws-sdk/client-eks';
import { hasInverse, type InverseContext, type UndoState } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { restrictEksEndpoint } from '../../src/actions/restrict-eks-endpoint.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, NOW, sentCommands } from '../helpers/context.js';
import { CLUSTER, execInPod } from '../helpers/eks-findings.js';

const eks = mockClient(EKSClient);
beforeEach(() => eks.reset());
afterAll(() => eks.restore());

const cluster = (publicAccess: boolean, privateAccess: boolean, cidrs = ['0.0.0.0/0']) => ({
  cluster: {
    name: CLUSTER,
    status: 'ACTIVE' as const,
    resourcesVpcConfig: {
      endpointPublicAccess: publicAccess,
      endpointPrivateAccess: privateAccess,
      publicAccessCidrs: cidrs,
    },
  },
  $metadata: { requestId: 'describe-1' },
});

const inverse = () => {
  if (!hasInverse(restrictEksEndpoint.undo)) throw new Error('no inverse');
  return restrictEksEndpoint.undo;
};

const RECORDED = {
  clusterName: CLUSTER,
  previous: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
  applied: { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: [] },
};

const undoContext = (state: UndoState = RECORDED): InverseContext<UndoState, AwsServices> => {
  const ctx = contextFor(restrictEksEndpoint, execInPod());
  return {
    findingId: ctx.finding.id,
    target: ctx.target,
    state,
    services: ctx.services,
    mode: 'enforce',
    now: NOW,
  };
};

describe('restrict-eks-endpoint plan', () => {
  it('plans to turn the public endpoint off on a cluster whose private endpoint is on', async () => {
    eks.on(DescribeClusterCommand, { name: CLUSTER }).resolves(cluster(true, true));

    const plan = await restrictEksEndpoint.plan(contextFor(restrictEksEndpoint, execInPod()));

    expect(plan).toMatchObject({
      status: 'planned',
      calls: [
        {
          service: 'EKS',
          operation: 'UpdateClusterConfig',
          input: {
            name: CLUSTER,
            resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
          },
          mutating: true,
        },
      ],
    });
    expect(plan.lookups[0]).toMatchObject({ status: 'done', requestId: 'describe-1' });
  });

  it('plans a no-op when the public endpoint is already off', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster(false, true));

    const plan = await restrictEksEndpoint.plan(contextFor(restrictEksEndpoint, execInPod()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `the public endpoint of ${CLUSTER} is already off`,
    });
  });

  it('refuses to leave a cluster without any endpoint, unless asked to turn the private one on', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster(true, false));

    const refused = await restrictEksEndpoint.plan(contextFor(restrictEksEndpoint, execInPod()));
    const allowed = await restrictEksEndpoint.plan(
      contextFor(restrictEksEndpoint, execInPod(), { params: { enablePrivateAccess: true } }),
    );

    expect(refused.status).toBe('refused');
    expect(refused.reason).toContain('unmanageable');
    expect(allowed.calls[0]?.input).toMatchObject({
      resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
    });
  });

  it('keeps the endpoint public but limited to the CIDR blocks, and refuses 0.0.0.0/0', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster(true, false));
    const params = { publicAccessCidrs: ['203.0.113.0/24'] };

    const plan = await restrictEksEndpoint.plan(contextFor(restrictEksEndpoint, execInPod(), { params }));
    const open = await restrictEksEndpoint.plan(
      contextFor(restrictEksEndpoint, execInPod(), { params: { publicAccessCidrs: ['0.0.0.0/0'] } }),
    );

    expect(plan.calls[0]?.input).toEqual({
      name: CLUSTER,
      resourcesVpcConfig: {
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
        publicAccessCidrs: ['203.0.113.0/24'],
      },
    });
    expect(open).toMatchObject({ status: 'refused', lookups: [] });
    expect(
      createRegistry([restrictEksEndpoint]).validateParams('restrict-eks-endpoint', {
        publicAccessCidrs: ['0.0.0.0/0'],
      }),
    ).not.toEqual([]);
  });

  it('sends no mutating command while planning', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster(true, true));

    await restrictEksEndpoint.plan(contextFor(restrictEksEndpoint, execInPod(), { mode: 'dry-run' }));

    expect(sentCommands(eks)).toEqual(['DescribeClusterCommand']);
  });
});

describe('restrict-eks-endpoint execute', () => {
  it('updates the cluster and records the access from before', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster(true, true));
    eks
      .on(UpdateClusterConfigCommand)
      .resolves({ update: { id: 'update-1' }, $metadata: { requestId: 'update-1' } });
    const ctx = contextFor(restrictEksEndpoint, execInPod());

    const outcome = await restrictEksEndpoint.execute(ctx, await restrictEksEndpoint.plan(ctx));

    expect(outcome).toMatchObject({ status: 'applied', outputs: { updateId: 'update-1' } });
    expect(outcome.undo).toEqual(RECORDED);
    expect(
      createRegistry([restrictEksEndpoint]).validateUndoState('restrict-eks-endpoint', outcome.undo),
    ).toEqual([]);
  });

  it('skips when the endpoint was restricted since planning', async () => {
    eks.on(DescribeClusterCommand).resolvesOnce(cluster(true, true)).resolves(cluster(false, true));
    const ctx = contextFor(restrictEksEndpoint, execInPod());

    const outcome = await restrictEksEndpoint.execute(ctx, await restrictEksEndpoint.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
  });

  it('fails with the SDK error code when EKS refuses the update', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster(true, true));
    eks.on(UpdateClusterConfigCommand).rejects(
      new EKSServiceException({
        name: 'ResourceInUseException',
        $fault: 'client',
        $metadata: { httpStatusCode: 409 },
        message: 'Cluster is currently being updated',
      }),
    );
    const ctx = contextFor(restrictEksEndpoint, execInPod());

    const outcome = await restrictEksEndpoint.execute(ctx, await restrictEksEndpoint.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ResourceInUseException' } });
    expect(outcome.undo).toBeUndefined();
  });

  it('refuses to mutate in dry-run mode', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster(true, true));
    const ctx = contextFor(restrictEksEndpoint, execInPod(), { mode: 'dry-run' });

    const outcome = await restrictEksEndpoint.execute(ctx, await restrictEksEndpoint.plan(ctx));

    expect(outcome.error?.code).toBe('DRY_RUN_MUTATION');
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
  });
});

describe('restrict-eks-endpoint undo', () => {
  it('plans and applies the previous access while the cluster is as Riposte left it', async () => {
    eks
      .on(DescribeClusterCommand)
      .resolvesOnce(cluster(false, true))
      .resolvesOnce(cluster(false, true))
      .resolves(cluster(true, true));
    eks.on(UpdateClusterConfigCommand).resolves({});

    const plan = await inverse().plan(undoContext());
    const outcome = await inverse().execute(undoContext(), plan);
    const again = await inverse().execute(undoContext(), plan);

    expect(plan.calls[0]?.input).toEqual({
      name: CLUSTER,
      resourcesVpcConfig: {
        endpointPublicAccess: true,
        endpointPrivateAccess: true,
        publicAccessCidrs: ['0.0.0.0/0'],
      },
    });
    expect(outcome.status).toBe('applied');
    expect(again.status).toBe('skipped');
  });

  it('refuses when the access was changed since by someone else', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster(true, true, ['198.51.100.0/24']));

    const plan = await inverse().plan(undoContext());

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('changed since the response');
  });

  it('refuses a recorded state that does not validate', () => {
    const registry = createRegistry([restrictEksEndpoint]);

    expect(
      registry.validateUndoState('restrict-eks-endpoint', { ...RECORDED, clusterName: 'bad name' }),
    ).not.toEqual([]);
    expect(registry.validateUndoState('restrict-eks-endpoint', { clusterName: CLUSTER })).not.toEqual([]);
  });
});
