import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsFault } from './errors.js';
import { type CallTarget, type FakeService, FaultQueue, type FaultRule, faultError } from './faults.js';
import {
  ec2Error,
  ec2Success,
  type HttpReply,
  jsonError,
  jsonSuccess,
  newS3RequestId,
  type OperationContext,
  queryError,
  querySuccess,
  restJsonError,
  restJsonSuccess,
  s3Error,
  s3Success,
  textReply,
} from './protocols.js';
import { decodeQuery, type QueryParams } from './query.js';
import { cloudTrailOperations, type JsonOperation } from './services/cloudtrail.js';
import { ec2Operations } from './services/ec2.js';
import { ecsOperations } from './services/ecs.js';
import { eksOperations } from './services/eks.js';
import { guardDutyOperations, type RestJsonOperation } from './services/guardduty.js';
import { iamOperations } from './services/iam.js';
import { lambdaOperations } from './services/lambda.js';
import { organizationsOperations } from './services/organizations.js';
import { rdsError, rdsOperations, rdsParams, rdsSuccess } from './services/rds.js';
import { s3Operations } from './services/s3.js';
import { s3ObjectRoute } from './services/s3-objects.js';
import { securityHubOperations } from './services/securityhub.js';
import { snsOperations } from './services/sns.js';
import { stsOperations } from './services/sts.js';
import { wafMessageMember, wafv2Operations } from './services/wafv2.js';
import { type AccountSnapshot, snapshotOf } from './snapshot.js';
import { createState, type FakeAccountSeed, type FakeAccountState } from './state.js';

export interface RecordedCall {
  service: FakeService;
  operation: string;
  /** The decoded input: Query parameters nested as the SDK serialised them, JSON input, S3 bucket + body. */
  params: Record<string, unknown>;
  /** HTTP status sent; 0 while pending and for a call held by a `timeout` fault. */
  status: number;
  requestId: string;
  /** ISO 8601 arrival time. */
  at: string;
  /** Arrival, in milliseconds since the epoch with sub-millisecond precision (comparable across processes). */
  receivedMs: number;
  /** When the answer was sent, as `receivedMs`; absent while pending and for a call held by a `timeout` fault. */
  answeredMs?: number;
  /** The error code sent, when the call failed. */
  errorCode?: string;
  /** The access key id in the request's SigV4 credential scope (tells base from assumed-role calls apart). */
  accessKeyId?: string;
}

/** The operations that change the account or the outside world, per service. */
export const MUTATING_OPERATIONS: Readonly<Record<FakeService, readonly string[]>> = {
  EC2: [
    'AssociateIamInstanceProfile',
    'DisassociateIamInstanceProfile',
    'ReplaceIamInstanceProfileAssociation',
    'CreateSecurityGroup',
    'DeleteSecurityGroup',
    'RevokeSecurityGroupEgress',
    'ModifyNetworkInterfaceAttribute',
    'CreateTags',
    'DeleteTags',
    'CreateSnapshots',
    'CreateNetworkAclEntry',
    'DeleteNetworkAclEntry',
  ],
  IAM: [
    'PutRolePolicy',
    'DeleteRolePolicy',
    'UpdateAccessKey',
    'TagRole',
    'TagUser',
    'UntagRole',
    'UntagUser',
    'PutUserPolicy',
    'DeleteUserPolicy',
    'AttachUserPolicy',
    'DetachUserPolicy',
  ],
  STS: [],
  SNS: ['Publish'],
  CloudTrail: ['StartLogging', 'StopLogging'],
  S3: [
    'PutPublicAccessBlock',
    'DeletePublicAccessBlock',
    'PutBucketTagging',
    'DeleteBucketTagging',
    'PutObjectTagging',
    'DeleteObjectTagging',
    'CopyObject',
    'PutObjectAcl',
    'DeleteObject',
  ],
  GuardDuty: ['ArchiveFindings', 'UnarchiveFindings'],
  SecurityHub: ['BatchUpdateFindings'],
  EKS: [
    'UpdateClusterConfig',
    'CreateAccessEntry',
    'DeleteAccessEntry',
    'AssociateAccessPolicy',
    'DisassociateAccessPolicy',
  ],
  Lambda: [
    'PutFunctionConcurrency',
    'DeleteFunctionConcurrency',
    'CreateFunctionUrlConfig',
    'DeleteFunctionUrlConfig',
    'AddPermission',
    'RemovePermission',
  ],
  ECS: ['StopTask', 'TagResource'],
  RDS: ['ModifyDBInstance', 'CreateDBSnapshot', 'CreateDBClusterSnapshot'],
  WAFV2: ['UpdateIPSet'],
  Organizations: [],
  Webhook: ['Post'],
  Unknown: [],
};

export interface LatencyFilter {
  service?: FakeService;
  operation?: string;
}

export interface FakeAws {
  /** `http://127.0.0.1:<port>` */
  url: string;
  calls: RecordedCall[];
  /** Calls to a mutating operation (EC2 `DryRun=true` requests excluded), answered or not. */
  mutatingCalls(): RecordedCall[];
  state: FakeAccountState;
  fail(rule: FaultRule): void;
  clearFaults(): void;
  /** Delay before answering matching calls; the most recent matching setting wins. */
  setLatency(ms: number, filter?: LatencyFilter): void;
  /**
   * The account's resources as a plain, deterministic value (sorted keys; no generated ids such as
   * association or rule ids), for comparing the account before and after: see `AccountSnapshot`.
   */
  snapshot(): AccountSnapshot;
  /** The environment a process needs to send its SDK clients here. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export interface StartFakeAwsOptions {
  /** Defaults to an empty account 111122223333. */
  seed?: FakeAccountSeed;
  latencyMs?: number;
}

/** AWS's documented example key pair: obviously not a credential. */
export const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
} as const;

const MAX_BODY_BYTES = 1024 * 1024;

const QUERY_VERSIONS: Record<string, FakeService> = {
  '2016-11-15': 'EC2',
  '2010-05-08': 'IAM',
  '2011-06-15': 'STS',
  '2010-03-31': 'SNS',
  '2014-10-31': 'RDS',
};

const SIGNING_SERVICES: Record<string, FakeService> = {
  ec2: 'EC2',
  iam: 'IAM',
  sts: 'STS',
  sns: 'SNS',
  cloudtrail: 'CloudTrail',
  s3: 'S3',
  guardduty: 'GuardDuty',
  securityhub: 'SecurityHub',
  organizations: 'Organizations',
  lambda: 'Lambda',
  ecs: 'ECS',
  eks: 'EKS',
  rds: 'RDS',
};

interface Route extends CallTarget {
  params: Record<string, unknown>;
  requestId: string;
  /** Runs the operation and renders its result or its refusal. */
  respond(context: OperationContext): HttpReply;
  /** Renders an injected fault in the service's wire format. */
  error(fault: AwsFault): HttpReply;
}

interface IncomingCall {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A handler that throws anything but an AwsFault is a defect of the fake: say so, as a 500. */
const guarded = (run: () => HttpReply, error: (fault: AwsFault) => HttpReply): HttpReply => {
  try {
    return run();
  } catch (caught) {
    if (caught instanceof AwsFault) return error(caught);
    const message = caught instanceof Error ? caught.message : String(caught);
    return error(new AwsFault('InternalError', `fake-aws defect: ${message}`, 500));
  }
};

const ec2Route = (action: string, params: QueryParams): Route => {
  const requestId = randomUUID();
  const operation = ec2Operations[action];
  const error = (fault: AwsFault) => ec2Error(fault, requestId);
  return {
    service: 'EC2',
    operation: action,
    params,
    requestId,
    error,
    respond: (context) =>
      guarded(() => {
        if (!operation)
          throw new AwsFault('InvalidAction', `The action ${action} is not valid for this web service.`);
        // EC2's DryRun answers "you could" without acting; the fake grants every permission.
        if (params.DryRun === 'true') {
          throw new AwsFault('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
        }
        return ec2Success(action, requestId, operation(params, context));
      }, error),
  };
};

const queryRoute = (
  service: 'IAM' | 'STS' | 'SNS',
  action: string,
  version: string,
  params: QueryParams,
): Route => {
  const requestId = randomUUID();
  const operations = { IAM: iamOperations, STS: stsOperations, SNS: snsOperations }[service];
  const operation = operations[action];
  const error = (fault: AwsFault) => queryError(service, fault, requestId);
  return {
    service,
    operation: action,
    params,
    requestId,
    error,
    respond: (context) =>
      guarded(() => {
        if (!operation) {
          throw new AwsFault('InvalidAction', `Could not find operation ${action} for version ${version}`);
        }
        return querySuccess(service, action, requestId, operation(params, context));
      }, error),
  };
};

/** A JSON object body (an empty body is `{}`); undefined when the body is anything else. */
const jsonObject = (body: string): Record<string, unknown> | undefined => {
  try {
    const parsed: unknown = JSON.parse(body === '' ? '{}' : body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The awsJson1_1 services: the operation is the `X-Amz-Target`'s last part; each names its error
 * message member as that service does.
 */
const JSON_SERVICES: {
  service: FakeService;
  target: RegExp;
  operations: Record<string, JsonOperation>;
  messageMember: (code: string) => 'message' | 'Message';
}[] = [
  {
    service: 'CloudTrail',
    target: /^(com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\./,
    operations: cloudTrailOperations,
    messageMember: () => 'message',
  },
  {
    service: 'Organizations',
    target: /^AWSOrganizationsV20161128\./,
    operations: organizationsOperations,
    messageMember: () => 'Message',
  },
  {
    service: 'ECS',
    target: /^AmazonEC2ContainerServiceV20141113\./,
    operations: ecsOperations,
    messageMember: () => 'message',
  },
  {
    service: 'WAFV2',
    target: /^AWSWAF_20190729\./,
    operations: wafv2Operations,
    messageMember: wafMessageMember,
  },
];

const jsonRoute = (spec: (typeof JSON_SERVICES)[number], target: string, call: IncomingCall): Route => {
  const requestId = randomUUID();
  const action = target.split('.').pop() ?? target;
  const operation = spec.operations[action];
  const input = jsonObject(call.body);
  const error = (fault: AwsFault) => jsonError(fault, requestId, spec.messageMember(fault.code));
  return {
    service: spec.service,
    operation: action,
    params: input ?? { Body: call.body },
    requestId,
    error,
    respond: (context) =>
      guarded(() => {
        if (!operation) throw new AwsFault('UnknownOperationException', `Unknown operation ${target}`);
        if (!input) throw new AwsFault('SerializationException', 'The request body is not a JSON object.');
        return jsonSuccess(requestId, operation(input, context));
      }, error),
  };
};

/** The SDK's input member for a restJson1 wire name: `findingIds` is `FindingIds`. */
const sdkNames = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sdkNames);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([name, member]) => [
      name.charAt(0).toUpperCase() + name.slice(1),
      sdkNames(member),
    ]),
  );
};

/** Matches a URI pattern (`/detector/{DetectorId}/findings/get`) and returns its decoded labels. */
const matchPath = (pattern: string, pathname: string): Record<string, string> | undefined => {
  const expected = pattern.split('/');
  const actual = pathname.split('/');
  if (expected.length !== actual.length) return undefined;
  const labels: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const value = actual[index] ?? '';
    const label = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (label === undefined) {
      if (segment !== value) return undefined;
    } else {
      if (value === '') return undefined;
      labels[label] = decodeURIComponent(value);
    }
  }
  return labels;
};

/**
 * The restJson1 services: the operation is the method and the URI. Each records its input as the SDK
 * names it (GuardDuty's lowerCamel wire names capitalised; Security Hub's are PascalCase already; EKS
 * and Lambda send the SDK's own member names), and answers an unknown path as that service does.
 */
const REST_JSON_SERVICES = {
  GuardDuty: {
    operations: guardDutyOperations,
    sdkNamed: true,
    errors: 'guardduty',
    unknown: ['UnknownOperationException', 400],
  },
  SecurityHub: {
    operations: securityHubOperations,
    sdkNamed: true,
    errors: 'securityhub',
    unknown: ['UnknownOperationException', 400],
  },
  EKS: {
    operations: eksOperations,
    sdkNamed: false,
    errors: 'guardduty',
    unknown: ['NotFoundException', 404],
  },
  Lambda: {
    operations: lambdaOperations,
    sdkNamed: false,
    errors: 'guardduty',
    unknown: ['UnknownOperationException', 404],
  },
} as const satisfies Record<
  string,
  {
    operations: Record<string, RestJsonOperation>;
    sdkNamed: boolean;
    errors: 'guardduty' | 'securityhub';
    unknown: readonly [string, number];
  }
>;

const restJsonRoute = (service: keyof typeof REST_JSON_SERVICES, call: IncomingCall): Route => {
  const spec = REST_JSON_SERVICES[service];
  const requestId = randomUUID();
  const pathname = call.url.pathname.replace(/\/+$/, '') || '/';
  const found = Object.entries(spec.operations as Record<string, RestJsonOperation>).flatMap(
    ([name, candidate]) => {
      const labels = candidate.method === call.method ? matchPath(candidate.path, pathname) : undefined;
      return labels ? [{ name, operation: candidate, labels }] : [];
    },
  )[0];
  const query = call.url.searchParams;
  const body = jsonObject(call.body);
  const recorded = (value: Record<string, unknown>) =>
    spec.sdkNamed ? (sdkNames(value) as Record<string, unknown>) : value;
  const error = (fault: AwsFault) => restJsonError(fault, requestId, spec.errors);
  return {
    service,
    operation: found?.name ?? `${call.method} ${call.url.pathname}`,
    params: {
      ...found?.labels,
      ...recorded(Object.fromEntries(query)),
      ...(body ? recorded(body) : { Body: call.body }),
    },
    requestId,
    error,
    respond: (context) =>
      guarded(() => {
        if (!found) {
          const [code, status] = spec.unknown;
          throw new AwsFault(code, `This fake does not serve ${call.method} ${call.url.pathname}`, status);
        }
        if (!body) throw new AwsFault('SerializationException', 'The request body is not a JSON object.');
        return restJsonSuccess(
          requestId,
          found.operation.run({ labels: found.labels, query, body }, context),
        );
      }, error),
  };
};

/** RDS (awsQuery, 2014-10-31): its lists name their items, so services/rds.ts renders its own documents. */
const rdsRoute = (action: string, params: QueryParams): Route => {
  const requestId = randomUUID();
  const operation = rdsOperations[action];
  const error = (fault: AwsFault) => rdsError(fault, requestId);
  return {
    service: 'RDS',
    operation: action,
    params,
    requestId,
    error,
    respond: (context) =>
      guarded(() => {
        if (!operation) {
          throw new AwsFault('InvalidAction', `Could not find operation ${action} for version 2014-10-31`);
        }
        return rdsSuccess(action, requestId, operation(params, context));
      }, error),
  };
};

const s3Route = (call: IncomingCall): Route => {
  const requestId = newS3RequestId();
  const [bucket = '', ...keyParts] = call.url.pathname.slice(1).split('/');
  const key = keyParts.join('/');
  const subresource = [...call.url.searchParams.keys()].find((name) => name !== 'x-id') ?? '';
  const entry = key === '' ? s3Operations[`${call.method} ?${subresource}`] : undefined;
  const expectedOwner = call.headers['x-amz-expected-bucket-owner'];
  const request = {
    bucket: decodeURIComponent(bucket),
    body: call.body,
    ...(typeof expectedOwner === 'string' ? { expectedBucketOwner: expectedOwner } : {}),
  };
  const error = (fault: AwsFault) => s3Error(fault, requestId);
  // Object paths (`/<bucket>/<key>`) are served by services/s3-objects.ts.
  const object = s3ObjectRoute(call);
  if (object) {
    return {
      service: 'S3',
      operation: object.operation,
      params: object.params,
      requestId,
      error,
      respond: (context) => guarded(() => object.run(context, requestId), error),
    };
  }
  const [name, operation] = entry ?? [`${call.method} ${call.url.pathname}${call.url.search}`, undefined];
  return {
    service: 'S3',
    operation: name,
    params: operation ? operation.params(request) : { Bucket: request.bucket, Body: call.body },
    requestId,
    error,
    respond: (context) =>
      guarded(() => {
        if (!operation) {
          throw new AwsFault(
            'NotImplemented',
            'A header you provided implies functionality that is not implemented',
            501,
          );
        }
        const result = operation.run(request, context);
        return s3Success(requestId, result.status, result.document);
      }, error),
  };
};

/** Records a Slack-compatible webhook POST and answers as Slack does. */
const webhookRoute = (call: IncomingCall): Route => {
  const requestId = randomUUID();
  let body: unknown = call.body;
  try {
    body = JSON.parse(call.body);
  } catch {
    body = call.body;
  }
  const contentType = call.headers['content-type'];
  return {
    service: 'Webhook',
    operation: 'Post',
    params: { path: call.url.pathname, body },
    requestId,
    error: (fault) => textReply(fault.status, requestId, fault.message, fault.code),
    respond: ({ state }) => {
      state.webhookPosts.push({
        path: call.url.pathname,
        body,
        at: new Date().toISOString(),
        ...(contentType === undefined ? {} : { contentType }),
      });
      return textReply(200, requestId, 'ok');
    },
  };
};

/**
 * A request for a service the fake does not serve (DynamoDB from an idempotency store, say): recorded,
 * and refused in JSON when the client speaks JSON so its SDK can still read the error.
 */
const unknownRoute = (call: IncomingCall, target: string | undefined): Route => {
  const requestId = randomUUID();
  const error = (fault: AwsFault) =>
    target === undefined
      ? textReply(fault.status, requestId, `${fault.code}: ${fault.message}`, fault.code)
      : jsonError(fault, requestId);
  return {
    service: 'Unknown',
    operation: target ?? `${call.method} ${call.url.pathname}`,
    params: { body: call.body },
    requestId,
    error,
    respond: () =>
      error(
        target === undefined
          ? new AwsFault('UnknownService', 'The request matches no service this fake serves.')
          : new AwsFault('UnknownOperationException', `This fake does not serve ${target}`),
      ),
  };
};

const resolveRoute = (call: IncomingCall): Route => {
  if (call.method === 'POST' && call.url.pathname.startsWith('/webhook/')) return webhookRoute(call);
  const target = call.headers['x-amz-target'];
  if (typeof target === 'string') {
    const json = JSON_SERVICES.find((candidate) => candidate.target.test(target));
    if (json) return jsonRoute(json, target, call);
    return unknownRoute(call, target);
  }
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(call.headers.authorization ?? '');
  const signingService = scope ? SIGNING_SERVICES[scope[1] ?? ''] : undefined;
  if (signingService !== undefined && signingService in REST_JSON_SERVICES)
    return restJsonRoute(signingService as keyof typeof REST_JSON_SERVICES, call);
  const isForm = (call.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  if (signingService === 'S3' || (!isForm && call.url.pathname !== '/')) return s3Route(call);
  if (call.method === 'POST' && isForm) {
    const { action, version, params } = decodeQuery(call.body);
    const service = signingService ?? QUERY_VERSIONS[version ?? ''];
    if (action !== undefined && service === 'EC2') return ec2Route(action, params);
    if (action !== undefined && service === 'RDS') return rdsRoute(action, rdsParams(params));
    if (action !== undefined && (service === 'IAM' || service === 'STS' || service === 'SNS')) {
      return queryRoute(service, action, version ?? '', params);
    }
  }
  return unknownRoute(call, undefined);
};

const readBody = (request: IncomingMessage): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

const sameFilter = (left: LatencyFilter, right: LatencyFilter): boolean =>
  left.service === right.service && left.operation === right.operation;

const matchesFilter = (filter: LatencyFilter, target: CallTarget): boolean =>
  (filter.service === undefined || filter.service === target.service) &&
  (filter.operation === undefined || filter.operation === target.operation);

const epochMs = (): number => performance.timeOrigin + performance.now();

/** Starts the fake on an ephemeral 127.0.0.1 port. */
export const startFakeAws = async (options: StartFakeAwsOptions = {}): Promise<FakeAws> => {
  const state = createState(options.seed ?? { accountId: '111122223333' });
  const calls: RecordedCall[] = [];
  const faults = new FaultQueue();
  const latencies: Array<LatencyFilter & { ms: number }> =
    options.latencyMs === undefined ? [] : [{ ms: options.latencyMs }];
  const timers = new Set<NodeJS.Timeout>();

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const send = (response: ServerResponse, reply: HttpReply, record: RecordedCall): void => {
    record.status = reply.status;
    record.answeredMs = epochMs();
    if (reply.errorCode !== undefined) record.errorCode = reply.errorCode;
    response.writeHead(reply.status, reply.headers);
    response.end(reply.body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (body === undefined) {
      response.writeHead(413, { 'content-type': 'text/plain' });
      response.end('request body too large');
      return;
    }
    const call: IncomingCall = { method: request.method ?? 'GET', url, headers: request.headers, body };
    const route = resolveRoute(call);
    const scope = /Credential=([^/]+)\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '');
    const accessKeyId = scope?.[1];
    const region = scope?.[2];
    const record: RecordedCall = {
      service: route.service,
      operation: route.operation,
      params: route.params,
      status: 0,
      requestId: route.requestId,
      at: new Date().toISOString(),
      receivedMs: epochMs(),
      ...(accessKeyId === undefined ? {} : { accessKeyId }),
    };
    calls.push(record);
    const fault = faults.take(route);
    const latency = latencies.findLast((setting) => matchesFilter(setting, route))?.ms ?? 0;
    if (latency > 0) await delay(latency);
    if (fault?.kind === 'timeout') {
      // Held open until the client gives up or the fake closes.
      record.errorCode = 'Timeout';
      return;
    }
    const context: OperationContext = {
      state,
      requestId: route.requestId,
      ...(accessKeyId === undefined ? {} : { accessKeyId }),
      ...(region === undefined ? {} : { region }),
    };
    const reply = fault ? route.error(faultError(fault.kind, route, fault.code)) : route.respond(context);
    send(response, reply, record);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((caught: unknown) => {
      if (response.headersSent) return;
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`fake-aws defect: ${caught instanceof Error ? caught.message : String(caught)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    calls,
    state,
    mutatingCalls: () =>
      calls.filter(
        (call) => MUTATING_OPERATIONS[call.service].includes(call.operation) && call.params.DryRun !== 'true',
      ),
    fail: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    snapshot: () => snapshotOf(state),
    setLatency: (ms, filter = {}) => {
      const kept = latencies.filter((setting) => !sameFilter(setting, filter));
      latencies.splice(0, latencies.length, ...kept, { ...filter, ms });
    },
    env: () => ({
      AWS_ENDPOINT_URL: url,
      AWS_REGION: state.region,
      AWS_DEFAULT_REGION: state.region,
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};
