import type { Cluster } from '@aws-sdk/client-eks';
import { type Finding, resourcesOfKind } from '@riposte/core';
import { type CallContext, read } from './call.js';
import type { Read, Session } from './session.js';
import { invalidId } from './targets.js';

/** What EKS answers when the cluster, access entry or association does not exist. */
export const EKS_NOT_FOUND = ['ResourceNotFoundException'];

/** An EKS cluster of the deploying account, in any region: what every EKS action reads. */
export const CLUSTER_ARNS = ['arn:{partition}:eks:*:{account}:cluster/*'];

/** Any access entry of any cluster of the deploying account (cluster/type/account/name/uuid). */
export const ACCESS_ENTRY_ARNS = ['arn:{partition}:eks:*:{account}:access-entry/*/*/*/*/*'];

/**
 * The EKS cluster a Kubernetes resource of the finding belongs to: its own `clusterName`, else the one
 * cluster the finding names (`eksClusterDetails`). `undefined` when neither says.
 */
export const clusterNameOf = (finding: Finding, own: string | undefined): string | undefined => {
  if (own !== undefined && own !== '') return own;
  const clusters = resourcesOfKind(finding, 'eks-cluster');
  return clusters.length === 1 ? clusters[0]?.name : undefined;
};

/** Why `name` cannot be sent to EKS as a cluster name, or `undefined`. */
export const invalidClusterName = (name: unknown): string | undefined => invalidId('eks-cluster-name', name);

/** DescribeCluster, reported as the endpoint's access; absent when the cluster is gone. */
export const describeCluster = (ctx: CallContext, session: Session, name: string): Promise<Read<Cluster>> =>
  session
    .read(read(ctx, 'eks', 'DescribeCluster', { name }), {
      key: name,
      found: (output) => {
        const vpc = output.cluster?.resourcesVpcConfig;
        const cidrs = vpc?.publicAccessCidrs ?? [];
        return `cluster ${name} (${output.cluster?.status ?? 'status unknown'}): public endpoint ${
          vpc?.endpointPublicAccess === true ? `on (${cidrs.join(', ') || 'no CIDRs'})` : 'off'
        }, private endpoint ${vpc?.endpointPrivateAccess === true ? 'on' : 'off'}`;
      },
      absent: { codes: EKS_NOT_FOUND, summary: `EKS cluster ${name} does not exist` },
    })
    .then((answer) =>
      answer.status === 'found' ? { status: 'found', output: answer.output.cluster ?? {} } : answer,
    );
