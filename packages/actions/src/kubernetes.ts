import { request as httpsRequest } from 'node:https';
import type { AwsCall } from '@riposte/core';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SdkCall } from './call.js';
import type { AwsCredentials } from './clients.js';

/**
 * The little of the Kubernetes API isolate-eks-pod needs: GET, POST and DELETE of one
 * networking.k8s.io/v1 NetworkPolicy, over HTTPS to the cluster's endpoint, trusting only the
 * cluster's own CA, with an EKS bearer token.
 *
 * Why not @kubernetes/client-node: its 2.x requires Node 22.19 (Riposte supports 20.12), and it would
 * add megabytes (and its whole dependency tree) to the Lambda bundle for three requests. `node:https`
 * with the cluster CA is all three need.
 */

/** The EKS token's prefix, as aws-iam-authenticator and `aws eks get-token` write it. */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

/** The header that binds a token to one cluster: the presigned URL signs it, so the token is only good there. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/** How long the presigned URL (and so the token) is valid: EKS accepts at most 15 minutes; one call needs one. */
export const TOKEN_EXPIRY_SECONDS = 60;

const STS_DOMAINS: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-us-gov': 'amazonaws.com',
};

/**
 * An EKS bearer token: `k8s-aws-v1.` and the base64url (unpadded) of an STS GetCallerIdentity URL
 * presigned for 60 seconds with the header `x-k8s-aws-id: <cluster name>` signed in. The API server
 * hands it to STS, which answers with the caller's identity: the IAM principal the cluster maps.
 */
export const eksToken = async (options: {
  clusterName: string;
  region: string;
  partition: string;
  credentials: AwsCredentials;
  now: Date;
}): Promise<string> => {
  const hostname = `sts.${options.region}.${STS_DOMAINS[options.partition] ?? 'amazonaws.com'}`;
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: options.clusterName },
    },
    { expiresIn: TOKEN_EXPIRY_SECONDS, signingDate: options.now },
  );
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(signed.query ?? {})) {
    for (const item of [value].flat()) if (typeof item === 'string') query.append(name, item);
  }
  const url = `https://${hostname}/?${query.toString()}`;
  return `${EKS_TOKEN_PREFIX}${Buffer.from(url, 'utf8').toString('base64url')}`;
};

/** Where the cluster's API server is and how to trust it (DescribeCluster's `endpoint` and `certificateAuthority.data`). */
export interface KubernetesEndpoint {
  /** `https://<id>.<zone>.<region>.eks.amazonaws.com` */
  endpoint: string;
  /** The cluster CA as DescribeCluster gives it: base64 of the PEM. */
  caData: string;
  token: string;
  /** Socket timeout of one request, in milliseconds. */
  timeoutMs?: number;
}

/** A Kubernetes API error, named after its `Status.reason` (`NotFound`, `Forbidden`, `AlreadyExists`...). */
export class KubernetesApiError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly $metadata: { httpStatusCode: number },
  ) {
    super(message);
  }
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'AlreadyExists',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

const errorOf = (status: number, text: string): KubernetesApiError => {
  let reason = REASONS[status] ?? (status >= 500 ? 'InternalError' : 'BadRequest');
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { reason?: unknown; message?: unknown };
    if (typeof parsed.reason === 'string' && /^[A-Za-z]{1,64}$/.test(parsed.reason)) reason = parsed.reason;
    if (typeof parsed.message === 'string') message = parsed.message.slice(0, 500);
  } catch {
    // Not a Status object: the status code names it.
  }
  return new KubernetesApiError(reason, message, { httpStatusCode: status });
};

const MAX_RESPONSE_BYTES = 1024 * 1024;

/** One request to the API server; resolves with the parsed JSON answer, rejects with a `KubernetesApiError`. */
export const kubernetesRequest = (
  api: KubernetesEndpoint,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: object,
): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const url = new URL(path, api.endpoint);
    if (url.protocol !== 'https:') {
      reject(new TypeError(`the cluster endpoint ${api.endpoint} is not https`));
      return;
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      url,
      {
        method,
        // Only the cluster's CA is trusted, not the system's: the endpoint must prove it is that cluster.
        ca: Buffer.from(api.caData, 'base64').toString('utf8'),
        headers: {
          authorization: `Bearer ${api.token}`,
          accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: api.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(errorOf(status, text));
            return;
          }
          try {
            resolve(text === '' ? {} : (JSON.parse(text) as Record<string, unknown>));
          } catch {
            reject(errorOf(502, 'the API server answered with something that is not JSON'));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('request timed out'), { name: 'TimeoutError' })),
    );
    req.on('error', reject);
    req.end(payload);
  });

/** A Kubernetes call as reports list it (service `Kubernetes`), and the function that makes exactly that call. */
export const kubernetesCall = (
  operation: string,
  input: Record<string, unknown>,
  mutating: boolean,
  send: () => Promise<Record<string, unknown>>,
): SdkCall<Record<string, unknown>> => {
  const call: AwsCall = { service: 'Kubernetes', operation, input, mutating };
  return { call, send };
};
