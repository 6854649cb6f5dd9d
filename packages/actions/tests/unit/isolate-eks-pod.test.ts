import { DescribeClusterCommand, EKSClient, EKSServiceException } from '@aws-sdk/client-eks';
import { hasInverse, type InverseContext, type UndoState } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeKubernetes, startFakeKubernetes } from '../../../../testing/fake-kubernetes/index.js';
import { isolateEksPod } from '../../src/actions/isolate-eks-pod.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { eksToken } from '../../src/kubernetes.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, NOW } from '../helpers/context.js';
import { CLUSTER, execInPod, POD_UID } from '../helpers/eks-findings.js';

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const POLICY = `payments/riposte-isolate-${POD_UID}`;

const eks = mockClient(EKSClient);
let kube: FakeKubernetes;
beforeAll(async () => {
  kube = await startFakeKubernetes({ clusterName: CLUSTER, credentials: CREDENTIALS });
});
afterAll(async () => {
  eks.restore();
  await kube.close();
});
beforeEach(() => {
  eks.reset();
  kube.policies.clear();
  kube.requests.length = 0;
  eks.on(DescribeClusterCommand).resolves({
    cluster: { name: CLUSTER, status: 'ACTIVE', endpoint: kube.url, certificateAuthority: { data: kube.ca } },
  });
});

const services = (): AwsServices =>
  createAwsServices({ env: {}, credentialsFor: () => async () => CREDENTIALS });
const params = { confirm: true };
const ctxFor = (finding = execInPod(), mode: 'enforce' | 'dry-run' = 'enforce') =>
  contextFor(isolateEksPod, finding, { params, services: services(), mode });

const inverse = () => {
  if (!hasInverse(isolateEksPod.undo)) throw new Error('no inverse');
  return isolateEksPod.undo;
};

describe('isolate-eks-pod', () => {
  it('refuses params without confirm: true', () => {
    const registry = createRegistry([isolateEksPod]);

    expect(registry.validateParams('isolate-eks-pod', {})).not.toEqual([]);
    expect(registry.validateParams('isolate-eks-pod', { confirm: false })).not.toEqual([]);
    expect(registry.validateParams('isolate-eks-pod', { confirm: true })).toEqual([]);
  });

  it('makes an EKS token: k8s-aws-v1. and a presigned STS GetCallerIdentity URL bound to the cluster', async () => {
    const token = await eksToken({
      clusterName: CLUSTER,
      region: 'us-east-2',
      partition: 'aws',
      credentials: CREDENTIALS,
      now: NOW,
    });
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));

    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(url.host).toBe('sts.us-east-2.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    });
  });

  it('plans the deny-all NetworkPolicy after looking the cluster and the policy up', async () => {
    const plan = await isolateEksPod.plan(ctxFor(execInPod(), 'dry-run'));

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => [lookup.call.operation, lookup.summary])).toEqual([
      ['DescribeCluster', expect.stringContaining(`cluster ${CLUSTER}`)],
      ['ReadNamespacedNetworkPolicy', `no NetworkPolicy ${POLICY}`],
    ]);
    expect(plan.calls).toEqual([
      expect.objectContaining({
        service: 'Kubernetes',
        operation: 'CreateNamespacedNetworkPolicy',
        mutating: true,
        input: expect.objectContaining({
          body: expect.objectContaining({
            spec: {
              podSelector: { matchLabels: { app: 'web', tier: 'frontend' } },
              policyTypes: ['Ingress', 'Egress'],
            },
          }),
        }),
      }),
    ]);
    expect(kube.requests.map((request) => request.method)).toEqual(['GET']);
  });

  it('creates the policy, records what undo needs, then skips the second time', async () => {
    const ctx = ctxFor();

    const outcome = await isolateEksPod.execute(ctx, await isolateEksPod.plan(ctx));
    const again = await isolateEksPod.execute(ctx, await isolateEksPod.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'applied',
      outputs: { networkPolicy: `riposte-isolate-${POD_UID}` },
    });
    expect(outcome.undo).toEqual({
      clusterName: CLUSTER,
      namespace: 'payments',
      policyName: `riposte-isolate-${POD_UID}`,
      findingId: ctx.finding.id,
      partition: 'aws',
    });
    expect(createRegistry([isolateEksPod]).validateUndoState('isolate-eks-pod', outcome.undo)).toEqual([]);
    expect(again.status).toBe('skipped');
    expect(kube.policies.has(POLICY)).toBe(true);
  });

  it('refuses a host-network workload and an unlabelled one, before any lookup', async () => {
    const host = await isolateEksPod.plan(ctxFor(execInPod({ app: 'web' }, true)));
    const bare = await isolateEksPod.plan(ctxFor(execInPod({})));

    expect(host).toMatchObject({ status: 'refused', lookups: [] });
    expect(host.reason).toContain('host network');
    expect(bare.reason).toContain('empty selector');
  });

  it('refuses a policy of that name with another spec', async () => {
    kube.policies.set(POLICY, { kind: 'NetworkPolicy', spec: { podSelector: {}, policyTypes: ['Ingress'] } });

    const plan = await isolateEksPod.plan(ctxFor());

    expect(plan.status).toBe('refused');
  });

  it('fails with the SDK error code when the cluster cannot be read', async () => {
    eks.on(DescribeClusterCommand).rejects(
      new EKSServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'denied',
      }),
    );
    const ctx = ctxFor();

    const outcome = await isolateEksPod.execute(ctx, await isolateEksPod.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AccessDeniedException' } });
  });

  it('refuses to mutate in dry-run mode', async () => {
    const ctx = ctxFor(execInPod(), 'dry-run');

    const outcome = await isolateEksPod.execute(ctx, await isolateEksPod.plan(ctx));

    expect(outcome.error?.code).toBe('DRY_RUN_MUTATION');
    expect(kube.policies.size).toBe(0);
  });

  it("undoes by deleting Riposte's policy, skips once it is gone, and refuses someone else's", async () => {
    const ctx = ctxFor();
    const outcome = await isolateEksPod.execute(ctx, await isolateEksPod.plan(ctx));
    const inverseCtx: InverseContext<UndoState, AwsServices> = {
      findingId: ctx.finding.id,
      target: ctx.target,
      state: outcome.undo as UndoState,
      services: ctx.services,
      mode: 'enforce',
      now: NOW,
    };

    const plan = await inverse().plan(inverseCtx);
    const undone = await inverse().execute(inverseCtx, plan);
    const again = await inverse().execute(inverseCtx, plan);
    kube.policies.set(POLICY, { metadata: { labels: { 'riposte/finding-id': 'another' } } });
    const foreign = await inverse().plan(inverseCtx);

    expect(plan.calls.map((call) => call.operation)).toEqual(['DeleteNamespacedNetworkPolicy']);
    expect(undone.status).toBe('applied');
    expect(again.status).toBe('skipped');
    expect(foreign.status).toBe('refused');
  });

  it('refuses a recorded state that does not validate', () => {
    const registry = createRegistry([isolateEksPod]);

    expect(
      registry.validateUndoState('isolate-eks-pod', {
        clusterName: CLUSTER,
        namespace: 'payments',
        policyName: 'kube-dns',
        findingId: 'x',
        partition: 'aws',
      }),
    ).not.toEqual([]);
  });
});
