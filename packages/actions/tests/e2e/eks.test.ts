import {
  type ActionContext,
  type ActionDefinition,
  type Finding,
  hasInverse,
  type InverseContext,
  type UndoState,
} from '@riposte/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAccountSeed,
  type FakeAws,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import { type FakeKubernetes, startFakeKubernetes } from '../../../../testing/fake-kubernetes/index.js';
import { isolateEksPod } from '../../src/actions/isolate-eks-pod.js';
import { restrictEksEndpoint } from '../../src/actions/restrict-eks-endpoint.js';
import { revokeEksAccessEntry } from '../../src/actions/revoke-eks-access-entry.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import {
  CLUSTER,
  DEPLOYER_ROLE_ARN,
  EKS_ACCOUNT,
  EKS_REGION,
  execInPod,
  POD_UID,
  torIpCaller,
} from '../helpers/eks-findings.js';

/**
 * The EKS actions end to end: the real EKS and STS clients against the local endpoint (which serves
 * EKS's REST-JSON API), the pod isolation against a fake Kubernetes API server over HTTPS that checks
 * the EKS token; each action applied, then undone, and the account as it was.
 */

const NOW = new Date('2026-11-27T18:30:00.000Z');
const ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const VIEW_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';

let fake: FakeAws | undefined;
let kube: FakeKubernetes | undefined;
afterEach(async () => {
  await fake?.close();
  await kube?.close();
  fake = undefined;
  kube = undefined;
});

const seed = (kubernetes?: FakeKubernetes): FakeAccountSeed => ({
  accountId: EKS_ACCOUNT,
  region: EKS_REGION,
  roles: [{ name: 'ci-deployer' }, { name: 'riposte-responder' }],
  eksClusters: [
    {
      name: CLUSTER,
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: ['0.0.0.0/0'],
      ...(kubernetes ? { endpoint: kubernetes.url, certificateAuthority: kubernetes.ca } : {}),
      accessEntries: [
        {
          principalArn: DEPLOYER_ROLE_ARN,
          kubernetesGroups: ['deployers'],
          tags: { owner: 'platform' },
          policies: [
            { policyArn: ADMIN_POLICY, accessScope: { type: 'cluster' } },
            { policyArn: VIEW_POLICY, accessScope: { type: 'namespace', namespaces: ['payments'] } },
          ],
        },
      ],
    },
  ],
});

const servicesFor = (aws: FakeAws): AwsServices =>
  createAwsServices({
    clientConfig: { endpoint: aws.url, maxAttempts: 1 },
    credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
    env: {},
  });

const contextOf = <P>(
  action: ActionDefinition<P, AwsServices>,
  finding: Finding,
  services: AwsServices,
  params: P,
) => {
  const target = action.targets(finding, params).targets[0];
  if (!target) throw new Error(`${action.name} has no target`);
  return {
    finding,
    target,
    params,
    services,
    mode: 'enforce',
    now: NOW,
    playbook: 'eks',
    stepId: action.name,
    previous: new Map(),
    limits: { maxTargets: 5 },
  } satisfies ActionContext<P, AwsServices>;
};

/** Applies the action, then undoes it from what its step recorded (checked by the registry first). */
const applyThenUndo = async <P>(
  action: ActionDefinition<P, AwsServices>,
  finding: Finding,
  params: P,
  aws: FakeAws,
) => {
  const services = servicesFor(aws);
  const ctx = contextOf(action, finding, services, params);
  const outcome = await action.execute(ctx, await action.plan(ctx));
  const state = outcome.undo as UndoState;
  const problems = createRegistry([action as never]).validateUndoState(action.name, state);
  const middle = aws.snapshot();
  if (!hasInverse(action.undo)) throw new Error('no inverse');
  const inverseCtx: InverseContext<UndoState, AwsServices> = {
    findingId: finding.id,
    target: ctx.target,
    state,
    services,
    mode: 'enforce',
    now: NOW,
  };
  const undoPlan = await action.undo.plan(inverseCtx);
  const undone = await action.undo.execute(inverseCtx, undoPlan);
  const again = await action.undo.execute(inverseCtx, undoPlan);
  return { outcome, problems, middle, undoPlan, undone, again };
};

describe('restrict-eks-endpoint against the local endpoint', () => {
  it('turns the public endpoint off with the private one on, then puts both back', async () => {
    fake = await startFakeAws({ seed: seed() });
    const before = fake.snapshot();

    const run = await applyThenUndo(restrictEksEndpoint, execInPod(), { enablePrivateAccess: true }, fake);

    expect(run.outcome.status).toBe('applied');
    expect(run.problems).toEqual([]);
    expect(run.middle.eks[CLUSTER]).toMatchObject({
      endpointPublicAccess: false,
      endpointPrivateAccess: true,
    });
    expect(fake.calls.find((call) => call.operation === 'UpdateClusterConfig')?.params).toMatchObject({
      name: CLUSTER,
      resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
    });
    expect(run.undone.status).toBe('applied');
    expect(run.again.status).toBe('skipped');
    expect(fake.snapshot()).toEqual(before);
  });

  it('limits the public endpoint to CIDR blocks, then opens it again', async () => {
    fake = await startFakeAws({ seed: seed() });
    const before = fake.snapshot();

    const run = await applyThenUndo(
      restrictEksEndpoint,
      execInPod(),
      { publicAccessCidrs: ['203.0.113.0/24'] },
      fake,
    );

    expect(run.middle.eks[CLUSTER]).toMatchObject({
      endpointPublicAccess: true,
      publicAccessCidrs: ['203.0.113.0/24'],
    });
    expect(run.undone.status).toBe('applied');
    expect(fake.snapshot()).toEqual(before);
  });
});

describe('revoke-eks-access-entry against the local endpoint', () => {
  it.each([['disassociate-policies'], ['delete-entry']] as const)(
    'revokes the deployer (%s), then restores its entry and both policies with their scopes',
    async (mode) => {
      fake = await startFakeAws({ seed: seed() });
      const before = fake.snapshot();

      const run = await applyThenUndo(revokeEksAccessEntry, torIpCaller(), { mode }, fake);

      expect(run.outcome.status).toBe('applied');
      expect(run.problems).toEqual([]);
      const entries = run.middle.eks[CLUSTER]?.accessEntries ?? {};
      if (mode === 'delete-entry') expect(entries[DEPLOYER_ROLE_ARN]).toBeUndefined();
      else expect(entries[DEPLOYER_ROLE_ARN]?.policies).toEqual({});
      expect(run.undone.status).toBe('applied');
      expect(run.again.status).toBe('skipped');
      expect(fake.snapshot()).toEqual(before);
    },
  );

  it('refuses a principal that has no access entry (aws-auth only), with the reason', async () => {
    fake = await startFakeAws({ seed: { ...seed(), roles: [{ name: 'legacy-admin' }] } });
    const finding = torIpCaller(`arn:aws:sts::${EKS_ACCOUNT}:assumed-role/legacy-admin/ops`);
    const ctx = contextOf(revokeEksAccessEntry, finding, servicesFor(fake), {});

    const plan = await revokeEksAccessEntry.plan(ctx);

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('aws-auth ConfigMap');
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it("refuses the function's own role", async () => {
    fake = await startFakeAws({
      seed: { ...seed(), callerArn: `arn:aws:sts::${EKS_ACCOUNT}:assumed-role/ci-deployer/riposte` },
    });
    const ctx = contextOf(revokeEksAccessEntry, torIpCaller(), servicesFor(fake), {});

    const outcome = await revokeEksAccessEntry.execute(ctx, await revokeEksAccessEntry.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PRINCIPAL_PROTECTED' } });
    expect(fake.mutatingCalls()).toEqual([]);
  });
});

describe('isolate-eks-pod against the local endpoint and a fake Kubernetes API', () => {
  it('creates the deny-all NetworkPolicy with an EKS token, then deletes it', async () => {
    kube = await startFakeKubernetes({ clusterName: CLUSTER, credentials: FAKE_CREDENTIALS });
    fake = await startFakeAws({ seed: seed(kube) });
    const before = fake.snapshot();

    const run = await applyThenUndo(isolateEksPod, execInPod(), { confirm: true }, fake);

    expect(run.outcome.status).toBe('applied');
    expect(run.problems).toEqual([]);
    expect(kube.requests.filter((request) => request.refused !== undefined)).toEqual([]);
    const created = kube.requests.find((request) => request.method === 'POST')?.body;
    expect(created).toMatchObject({
      kind: 'NetworkPolicy',
      metadata: {
        name: `riposte-isolate-${POD_UID}`,
        namespace: 'payments',
        labels: { 'riposte/finding-id': execInPod().id },
      },
      spec: {
        podSelector: { matchLabels: { app: 'web', tier: 'frontend' } },
        policyTypes: ['Ingress', 'Egress'],
      },
    });
    expect(run.undone.status).toBe('applied');
    expect(run.again.status).toBe('skipped');
    expect(kube.policies.size).toBe(0);
    expect(kube.requests.map((request) => `${request.method} ${request.status}`)).toEqual([
      'GET 404',
      'GET 404',
      'POST 201',
      'GET 200',
      'GET 200',
      'DELETE 200',
      'GET 404',
    ]);
    expect(fake.snapshot()).toEqual(before);
  });

  it("skips a second isolation, and leaves a policy that is no longer Riposte's", async () => {
    kube = await startFakeKubernetes({ clusterName: CLUSTER, credentials: FAKE_CREDENTIALS });
    fake = await startFakeAws({ seed: seed(kube) });
    const services = servicesFor(fake);
    const ctx = contextOf(isolateEksPod, execInPod(), services, { confirm: true });
    const first = await isolateEksPod.execute(ctx, await isolateEksPod.plan(ctx));

    const second = await isolateEksPod.execute(ctx, await isolateEksPod.plan(ctx));
    const stored = kube.policies.get(`payments/riposte-isolate-${POD_UID}`) as {
      metadata: { labels: Record<string, string> };
    };
    stored.metadata.labels['riposte/finding-id'] = 'someone-else';
    const inverse = isolateEksPod.undo as Exclude<typeof isolateEksPod.undo, { none: string } | undefined>;
    const undo = await inverse.plan({
      findingId: execInPod().id,
      target: ctx.target,
      state: first.undo as UndoState,
      services,
      mode: 'enforce',
      now: NOW,
    });

    expect(second.status).toBe('skipped');
    expect(undo.status).toBe('refused');
    expect(kube.policies.size).toBe(1);
  });

  it('refuses a token signed for another cluster', async () => {
    kube = await startFakeKubernetes({ clusterName: 'other-cluster', credentials: FAKE_CREDENTIALS });
    fake = await startFakeAws({ seed: seed(kube) });
    const ctx = contextOf(isolateEksPod, execInPod(), servicesFor(fake), { confirm: true });

    const outcome = await isolateEksPod.execute(ctx, await isolateEksPod.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'Unauthorized' } });
    expect(kube.requests[0]?.refused).toContain('not that of a token for cluster other-cluster');
  });
});
