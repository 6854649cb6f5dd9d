import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/**
 * A fake Kubernetes API server for isolate-eks-pod: HTTPS on 127.0.0.1 with a self-signed certificate
 * (`cert.pem`/`key.pem`, generated once with `openssl req -x509 -newkey ec ... -days 36500
 * -addext subjectAltName=IP:127.0.0.1`: Node has no API to issue a certificate, and the fixture keeps
 * tests free of a certificate library). It serves GET/POST/DELETE of networking.k8s.io/v1
 * NetworkPolicies and nothing else, and authenticates every request as EKS would hand it to STS: the
 * bearer token must be `k8s-aws-v1.` + base64url of an STS GetCallerIdentity URL presigned for 60 s
 * with `x-k8s-aws-id` signed in; with `credentials` given, the signature is recomputed, so the token
 * must be signed with them for `clusterName`.
 *
 * The key is a test fixture, valid only for 127.0.0.1: it protects nothing.
 */

const requireFromActions = createRequire(new URL('../../packages/actions/package.json', import.meta.url));
type SignatureV4Module =
  typeof import('../../packages/actions/node_modules/@smithy/signature-v4/dist-types/index.js');
type HashModule = typeof import('../../packages/actions/node_modules/@smithy/hash-node/dist-types/index.js');
const { SignatureV4 } = requireFromActions('@smithy/signature-v4') as SignatureV4Module;
const { Hash } = requireFromActions('@smithy/hash-node') as HashModule;

const CERT = readFileSync(new URL('./cert.pem', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('./key.pem', import.meta.url), 'utf8');

/** The CA as DescribeCluster's `certificateAuthority.data` carries it: base64 of the PEM. */
export const FAKE_KUBERNETES_CA = Buffer.from(CERT, 'utf8').toString('base64');

export interface KubernetesRequestRecord {
  method: string;
  path: string;
  /** Why the request was refused (401), when it was. */
  refused?: string;
  status: number;
  body?: unknown;
}

export interface FakeKubernetes {
  /** `https://127.0.0.1:<port>`: DescribeCluster's `endpoint`. */
  url: string;
  ca: string;
  /** NetworkPolicies by `namespace/name`, as stored (with the metadata the server adds). */
  policies: Map<string, Record<string, unknown>>;
  requests: KubernetesRequestRecord[];
  close(): Promise<void>;
}

export interface FakeKubernetesOptions {
  clusterName: string;
  /** When given, the token's signature is recomputed with these and must match. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: code < 300 ? 'Success' : 'Failure',
  message,
  reason,
  code,
});

/** Why the bearer token is not an EKS token for the cluster, or `undefined`. */
const tokenProblem = async (
  header: string | undefined,
  options: FakeKubernetesOptions,
): Promise<string | undefined> => {
  const token = /^Bearer (k8s-aws-v1\.[A-Za-z0-9_-]+)$/.exec(header ?? '')?.[1];
  if (token === undefined) return 'no bearer token of the form k8s-aws-v1.<base64url>';
  let url: URL;
  try {
    url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
  } catch {
    return 'the token is not a base64url URL';
  }
  const query = url.searchParams;
  const region = /^sts\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname)?.[1];
  if (url.protocol !== 'https:' || region === undefined || url.pathname !== '/')
    return `not a regional STS URL: ${url.origin}`;
  if (query.get('Action') !== 'GetCallerIdentity' || query.get('Version') !== '2011-06-15')
    return 'not GetCallerIdentity';
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'not SigV4';
  if (query.get('X-Amz-Expires') !== '60') return `expires in ${query.get('X-Amz-Expires')} s, not 60`;
  const signedHeaders = (query.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-k8s-aws-id'))
    return 'x-k8s-aws-id is not signed';
  const credential = query.get('X-Amz-Credential') ?? '';
  if (!new RegExp(`^[A-Z0-9]+/\\d{8}/${region}/sts/aws4_request$`).test(credential))
    return `bad credential scope ${credential}`;
  if (!/^[0-9a-f]{64}$/.test(query.get('X-Amz-Signature') ?? '')) return 'no signature';
  if (options.credentials !== undefined) {
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
    if (!date) return 'no X-Amz-Date';
    const [, y, mo, d, h, mi, s] = date;
    const signingDate = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
    const signer = new SignatureV4({
      credentials: options.credentials,
      region,
      service: 'sts',
      sha256: Hash.bind(null, 'sha256'),
    });
    const expected = await signer.presign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: url.hostname,
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host: url.hostname, 'x-k8s-aws-id': options.clusterName },
      },
      { expiresIn: 60, signingDate },
    );
    if (expected.query?.['X-Amz-Signature'] !== query.get('X-Amz-Signature')) {
      return `the signature is not that of a token for cluster ${options.clusterName}`;
    }
  }
  return undefined;
};

const POLICIES =
  /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/([a-z0-9-]+)\/networkpolicies(?:\/([a-z0-9.-]+))?$/;

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

/** Starts the fake API server on an ephemeral 127.0.0.1 port. */
export const startFakeKubernetes = async (options: FakeKubernetesOptions): Promise<FakeKubernetes> => {
  const policies = new Map<string, Record<string, unknown>>();
  const requests: KubernetesRequestRecord[] = [];
  let generation = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readBody(request);
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'https://127.0.0.1').pathname;
    const record: KubernetesRequestRecord = { method, path, status: 0 };
    requests.push(record);
    const reply = (code: number, body: unknown) => {
      record.status = code;
      response.writeHead(code, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const problem = await tokenProblem(request.headers.authorization, options);
    if (problem !== undefined) {
      record.refused = problem;
      reply(401, status(401, 'Unauthorized', `Unauthorized: ${problem}`));
      return;
    }
    const match = POLICIES.exec(path);
    if (!match) {
      reply(
        404,
        status(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`),
      );
      return;
    }
    const [, namespace, name] = match;
    const key = `${namespace}/${name}`;
    if (method === 'GET' && name !== undefined) {
      const policy = policies.get(key);
      reply(
        policy ? 200 : 404,
        policy ?? status(404, 'NotFound', `networkpolicies.networking.k8s.io "${name}" not found`),
      );
      return;
    }
    if (method === 'DELETE' && name !== undefined) {
      if (!policies.delete(key)) {
        reply(404, status(404, 'NotFound', `networkpolicies.networking.k8s.io "${name}" not found`));
        return;
      }
      reply(200, status(200, '', 'deleted'));
      return;
    }
    if (method === 'POST' && name === undefined) {
      const body = JSON.parse(text) as { kind?: string; metadata?: { name?: string; namespace?: string } };
      record.body = body;
      const created = body.metadata?.name;
      if (
        body.kind !== 'NetworkPolicy' ||
        created === undefined ||
        (body.metadata?.namespace ?? namespace) !== namespace
      ) {
        reply(422, status(422, 'Invalid', 'NetworkPolicy needs a kind, a name and this namespace'));
        return;
      }
      if (policies.has(`${namespace}/${created}`)) {
        reply(
          409,
          status(409, 'AlreadyExists', `networkpolicies.networking.k8s.io "${created}" already exists`),
        );
        return;
      }
      generation += 1;
      const stored = {
        ...body,
        metadata: {
          ...body.metadata,
          namespace,
          uid: `00000000-0000-4000-8000-${String(generation).padStart(12, '0')}`,
          resourceVersion: String(generation),
        },
      };
      policies.set(`${namespace}/${created}`, stored);
      reply(201, stored);
      return;
    }
    reply(405, status(405, 'MethodNotAllowed', `${method} is not served here`));
  };

  const server = createServer({ cert: CERT, key: KEY }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status(500, 'InternalError', String(error))));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: FAKE_KUBERNETES_CA,
    policies,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};
